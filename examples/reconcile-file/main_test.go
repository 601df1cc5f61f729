package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/connector"
	"github.com/knyt/knyt/klarna"
	"github.com/knyt/knyt/klarna/klarnatest"
	"github.com/knyt/knyt/reconcile/sie"
)

var update = flag.Bool("update", false, "regenerate testdata (from the Klarna fake) and the golden files")

// TestGenerateTestdata rebuilds testdata/settlement.csv, bank.csv and
// invoices.csv from the Klarna fake: six orders captured (one in two parts),
// one partly refunded, settled into one payout. The ERP invoiced five of
// them; the sixth order is the unmatched sale the report shows. Run it
// with -update; TestGolden, which runs after it, then rebuilds the
// golden files.
func TestGenerateTestdata(t *testing.T) {
	if !*update {
		t.Skip("regenerates testdata only with -update")
	}
	start := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	fake := klarnatest.NewServer(klarnatest.WithStartTime(start))
	defer fake.Close()
	c, err := klarna.New(klarnatest.DefaultUsername, klarnatest.DefaultPassword, klarna.WithBaseURL(fake.URL()))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	orders := []struct {
		number   string
		captures []int64
		refund   int64
	}{
		{"2001", []int64{125000}, 0},
		{"2002", []int64{49900}, 0},
		{"2003", []int64{100000, 139800}, 0},
		{"2004", []int64{8950}, 0},
		{"2005", []int64{312000}, 62400},
		{"2006", []int64{15000}, 0},
	}
	ids := map[string]string{}
	for i, o := range orders {
		total := int64(0)
		for _, c := range o.captures {
			total += c
		}
		id, err := fake.AddOrder(klarnatest.NewOrder{ID: fmt.Sprintf("5f0e3c1a-%s-4b7e-9a11-%012d", o.number, i+1), Currency: "SEK",
			Amount: total, MerchantReference1: "#" + o.number})
		if err != nil {
			t.Fatal(err)
		}
		ids[o.number] = id
		for k, amt := range o.captures {
			fake.Advance(time.Hour)
			if _, err := c.Capture(ctx, connector.CaptureRequest{PaymentReference: id, Amount: commerce.FromMinor(amt, commerce.SEK),
				Reference: fmt.Sprintf("#%s-%d", o.number, k+1)}, connector.WithIdempotencyKey(connector.IdempotencyKey("capture", o.number, fmt.Sprint(k)))); err != nil {
				t.Fatal(err)
			}
		}
		if o.refund > 0 {
			fake.Advance(24 * time.Hour)
			if _, err := c.Refund(ctx, connector.RefundRequest{PaymentReference: id, Amount: commerce.FromMinor(o.refund, commerce.SEK),
				Reason: "retur", Reference: "K70105"}, connector.WithIdempotencyKey(connector.IdempotencyKey("refund", o.number))); err != nil {
				t.Fatal(err)
			}
		}
	}
	fake.Advance(48 * time.Hour)
	refs := fake.Settle()
	if len(refs) != 1 {
		t.Fatalf("%d payouts", len(refs))
	}
	p, rows, _ := fake.Payout(refs[0])
	var csvOut bytes.Buffer
	if err := klarna.WritePayoutReport(&csvOut, rows); err != nil {
		t.Fatal(err)
	}
	bank := fmt.Sprintf("payment_reference,date,amount\n%s,%s,%s\n", p.PaymentReference, p.PayoutDate.AddDate(0, 0, 1).Format("2006-01-02"),
		commerce.FromMinor(p.Totals.SettlementAmount, commerce.SEK).Amount.StringFixed(2))
	invoices := "number,kind,credits,order,date,currency,vat_rate,net,vat,reference,customer,country,scheme\n" +
		"70101,invoice,,#2001,2026-11-02,SEK,25,1000.00,250.00,,,SE,domestic\n" +
		"70102,invoice,,#2002,2026-11-02,SEK,25,399.20,99.80," + ids["2002"] + ",,SE,domestic\n" +
		"70103,invoice,,#2003,2026-11-02,SEK,25,1918.40,479.60,,Fjällstugan Åre AB,SE,domestic\n" +
		"70104,invoice,,#2004,2026-11-02,SEK,6,50.00,3.00,,,SE,domestic\n" +
		"70104,invoice,,#2004,2026-11-02,SEK,25,29.20,7.30,,,SE,domestic\n" +
		"70105,invoice,,#2005,2026-11-02,SEK,25,2496.00,624.00,,,SE,domestic\n" +
		"K70105,credit,70105,#2005,2026-11-03,SEK,25,499.20,124.80,,,SE,domestic\n"
	for name, body := range map[string][]byte{"settlement.csv": csvOut.Bytes(), "bank.csv": []byte(bank), "invoices.csv": []byte(invoices)} {
		if err := os.WriteFile(filepath.Join("testdata", name), body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestGolden reconciles the committed settlement report against the
// committed invoices and compares every output with the golden files.
func TestGolden(t *testing.T) {
	out := t.TempDir()
	var stdout bytes.Buffer
	err := run(context.Background(), []string{"-klarna", "testdata/settlement.csv", "-invoices", "testdata/invoices.csv",
		"-bank", "testdata/bank.csv", "-out", out, "-company", "Ullbod i Åre AB", "-orgnr", "559123-4561"}, &stdout)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, stdout.String())
	}
	for _, name := range []string{"summary.txt", "reconciliation.csv", "reconciliation.json", "vouchers.si"} {
		got, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		golden := filepath.Join("testdata", "golden", name)
		if *update {
			if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(golden, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run with -update to create it)", err)
		}
		if diff := cmp.Diff(string(want), string(got)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", name, diff)
		}
	}
	// The SIE file reads back with balanced vouchers.
	raw, _ := os.ReadFile(filepath.Join(out, "vouchers.si"))
	f, err := sie.Read(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Vouchers) != 1 {
		t.Fatalf("%d vouchers, want the one payout", len(f.Vouchers))
	}
	if b, err := f.Vouchers[0].Balance(); err != nil || !b.IsZero() {
		t.Errorf("voucher balances to %v (%v)", b, err)
	}
	// The order without an invoice is reported, not dropped.
	if !strings.Contains(stdout.String(), "unmatched") {
		t.Errorf("summary does not mention the unmatched sale:\n%s", stdout.String())
	}
}

// TestWithoutBank books the payout as the rows' sum and says it assumed
// the date; a deposit that differs from the rows is reported.
func TestWithoutBank(t *testing.T) {
	out := t.TempDir()
	var stdout bytes.Buffer
	if err := run(context.Background(), []string{"-klarna", "testdata/settlement.csv", "-invoices", "testdata/invoices.csv", "-out", out,
		"-receivable", "1580"}, &stdout); err != nil {
		t.Fatalf("run: %v\n%s", err, stdout.String())
	}
	if !strings.Contains(stdout.String(), "(assumed)") {
		t.Errorf("no note on the assumed payout:\n%s", stdout.String())
	}
	raw, _ := os.ReadFile(filepath.Join(out, "vouchers.si"))
	if !bytes.Contains(raw, []byte("#TRANS 1580")) {
		t.Error("-receivable 1580 not used in vouchers.si")
	}

	bank := filepath.Join(t.TempDir(), "bank.csv")
	b, _ := os.ReadFile("testdata/bank.csv")
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	fields := strings.Split(lines[1], ",")
	if err := os.WriteFile(bank, []byte(lines[0]+"\n"+fields[0]+","+fields[1]+",1.00\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout.Reset()
	err := run(context.Background(), []string{"-klarna", "testdata/settlement.csv", "-invoices", "testdata/invoices.csv", "-out", out, "-bank", bank}, &stdout)
	if err == nil || !strings.Contains(stdout.String(), "differs from the rows' sum") {
		t.Errorf("a deposit of 1.00: err %v\n%s", err, stdout.String())
	}
}

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := "testdata/invoices.csv"
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no files", nil, "required"},
		{"amounts", []string{"-klarna", "testdata/settlement.csv", "-invoices", good, "-amounts", "cents"}, "-amounts"},
		{"missing column", []string{"-klarna", "testdata/settlement.csv", "-invoices", write("a.csv", "number,date\n1,2026-11-01\n")}, `no "currency" column`},
		{"bad rate", []string{"-klarna", "testdata/settlement.csv", "-invoices", write("b.csv", "number,date,currency,vat_rate,net\n1,2026-11-01,SEK,x,10\n")}, "vat_rate"},
		{"inexact net", []string{"-klarna", "testdata/settlement.csv", "-invoices", write("c.csv", "number,date,currency,vat_rate,net\n1,2026-11-01,SEK,25,10.001\n")}, ":2: net"},
		{"bad kind", []string{"-klarna", "testdata/settlement.csv", "-invoices", write("d.csv", "number,kind,date,currency,vat_rate,net\n1,debit,2026-11-01,SEK,25,10\n")}, "kind"},
		{"credit without invoice", []string{"-klarna", "testdata/settlement.csv", "-invoices", write("e.csv", "number,kind,date,currency,vat_rate,net\n1,credit,2026-11-01,SEK,25,10\n")}, "credits"},
		{"bad report", []string{"-klarna", write("k.csv", "type;amount\nSALE;12\n"), "-invoices", good}, "currency"},
		{"bad bank", []string{"-klarna", "testdata/settlement.csv", "-invoices", good, "-bank", write("bank.csv", "payment_reference,date,amount\nX,2026-13-01,1\n")}, "date"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := run(context.Background(), append(tc.args, "-out", t.TempDir()), &bytes.Buffer{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

// FuzzInvoices feeds the invoices reader anything: it must return invoices
// that validate, or an error, never panic.
func FuzzInvoices(f *testing.F) {
	seed, err := os.ReadFile("testdata/invoices.csv")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(seed))
	f.Add("number,date,currency,vat_rate,net\n1,2026-11-01,SEK,25,10\n1,2026-11-01,EUR,25,10\n")
	f.Add("number,kind,credits,date,currency,vat_rate,net,vat\nK1,credit,1,2026-11-01,JPY,10,100,10\n")
	f.Add("\ufeffnumber,date,currency,vat_rate,net\n,2026-02-30,SEK,-1,1e3\n")
	f.Fuzz(func(t *testing.T, in string) {
		invs, err := parseInvoices(strings.NewReader(in), "fuzz.csv")
		if err != nil {
			return
		}
		for i := range invs {
			if err := invs[i].Validate(); err != nil {
				t.Fatalf("invoice %q passed the reader but not Validate: %v", invs[i].Number, err)
			}
		}
	})
}

// FuzzBank does the same for the bank deposits reader.
func FuzzBank(f *testing.F) {
	f.Add("payment_reference,date,amount\nX,2026-11-06,6642.85\n")
	f.Add("payment_reference,date,amount\nX,2026-11-06,1\nX,2026-11-07,2\n")
	f.Add("amount\n")
	f.Fuzz(func(t *testing.T, in string) {
		got, err := parseBank(strings.NewReader(in), "fuzz.csv")
		if err != nil {
			return
		}
		for ref := range got {
			if ref == "" {
				t.Fatal("a deposit without payment reference")
			}
		}
	})
}
