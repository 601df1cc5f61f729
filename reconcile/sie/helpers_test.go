package sie

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/text/encoding/charmap"

	"github.com/knyt/knyt/commerce"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func sek(t testing.TB, amount string) commerce.Money {
	t.Helper()
	m, err := commerce.ParseMoney(amount, "SEK")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func row(t testing.TB, account, amount string, dims ...commerce.Dimension) commerce.Posting {
	t.Helper()
	return commerce.Posting{Account: account, Amount: sek(t, amount), Dimensions: dims}
}

func dim(d int, object string) commerce.Dimension { return commerce.Dimension{Dim: d, Object: object} }

// workedVouchers are the worked vouchers of the reference
// (shared/reference/bookkeeping-sie.md §4 and §9.2).
func workedVouchers(t testing.TB) []commerce.Voucher {
	t.Helper()
	return []commerce.Voucher{
		{
			ID: "klarna-sale-1001", Date: commerce.NewDate(2026, 11, 10), Text: "Klarna försäljning order 1001",
			Postings: []commerce.Posting{
				row(t, "1686", "1250.00"),
				row(t, "3001", "-1000.00"),
				row(t, "2611", "-250.00"),
			},
		},
		{
			ID: "klarna-payout-2026-11-15", Date: commerce.NewDate(2026, 11, 15), Text: "Klarna utbetalning 2026-11-15",
			Postings: []commerce.Posting{
				row(t, "1930", "1218.75"),
				row(t, "6064", "25.00"),
				row(t, "2641", "6.25"),
				row(t, "1686", "-1250.00"),
			},
		},
		{
			ID: "stripe-po_123", Date: commerce.NewDate(2026, 11, 16), Text: "Stripe utbetalning po_123",
			Postings: []commerce.Posting{
				row(t, "1930", "982.00"),
				row(t, "6040", "18.00"),
				row(t, "1686", "-1000.00"),
				{Account: "2645", Amount: sek(t, "4.50"), Text: "Omvänd moms avgift 18.00"},
				{Account: "2614", Amount: sek(t, "-4.50"), Text: "Omvänd moms avgift 18.00"},
			},
		},
		{
			ID: "oss-sale-1002", Date: commerce.NewDate(2026, 11, 17), Text: "OSS försäljning order 1002 DE",
			Postings: []commerce.Posting{
				row(t, "1686", "1190.00"),
				{Account: "3106", Amount: sek(t, "-1000.00"), Text: "DE"},
				{Account: "2670", Amount: sek(t, "-190.00"), Text: "DE 19 %"},
			},
		},
	}
}

func testHeader() Header {
	return Header{
		Program: "knyt", Version: "1.0",
		Generated: commerce.NewDate(2026, 11, 22),
		Company:   "Exempel AB", OrgNumber: "556677-8899",
	}
}

// golden compares got with testdata/name, or rewrites it under -update.
// Both are shown decoded from code page 437, line by line, on a mismatch.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (-want +got):\n%s", name, cmp.Diff(cp437Lines(t, want), cp437Lines(t, got)))
	}
}

func cp437Lines(t *testing.T, b []byte) []string {
	t.Helper()
	s, err := charmap.CodePage437.NewDecoder().String(string(b))
	if err != nil {
		t.Fatal(err)
	}
	return strings.SplitAfter(s, "\n")
}
