package vat

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/knyt/knyt/commerce"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func TestQuarter(t *testing.T) {
	tests := []struct {
		q                Quarter
		first, last, due string
		ecb              string // the publication day the fixture's rule gives
	}{
		{Quarter{2026, 4}, "2026-10-01", "2026-12-31", "2027-01-31", ""},
		{Quarter{2027, 1}, "2027-01-01", "2027-03-31", "2027-04-30", ""},
		{Quarter{2024, 2}, "2024-04-01", "2024-06-30", "2024-07-31", ""},
		{Quarter{2026, 3}, "2026-07-01", "2026-09-30", "2026-10-31", ""},
		{Quarter{2024, 1}, "2024-01-01", "2024-03-31", "2024-04-30", "2024-04-02"},
	}
	ecb := loadECB(t, "eurofxref-hist-2024q1.xml")
	for _, tt := range tests {
		if got := [3]commerce.Date{tt.q.First(), tt.q.Last(), tt.q.Due()}; got != [3]commerce.Date{date(tt.first), date(tt.last), date(tt.due)} {
			t.Errorf("%s: first/last/due %v", tt.q, got)
		}
		if QuarterOf(date(tt.last)) != tt.q || QuarterOf(date(tt.first)) != tt.q {
			t.Errorf("%s: QuarterOf", tt.q)
		}
		if p, err := ParseQuarter(tt.q.String()); err != nil || p != tt.q {
			t.Errorf("%s: ParseQuarter %v %v", tt.q, p, err)
		}
		if tt.ecb != "" {
			if _, pub, err := ecb.EURRate("SEK", tt.q.Last()); err != nil || pub != date(tt.ecb) {
				t.Errorf("%s: ECB publication %s %v, want %s", tt.q, pub, err, tt.ecb)
			}
		}
	}
	for _, bad := range []string{"2026Q5", "2026q1", "26Q1", "2026-Q1", ""} {
		if _, err := ParseQuarter(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseQuarter(%q): %v", bad, err)
		}
	}
}

func ossInvoice(kind commerce.InvoiceKind, number, credits, issued, country string, cur commerce.Currency, lines ...commerce.InvoiceLine) commerce.Invoice {
	inv := commerce.Invoice{Kind: kind, Number: number, Credits: credits, IssueDate: date(issued), Currency: cur,
		Lines: lines, VATCountry: country, VATScheme: commerce.SchemeOSSUnion}
	return inv
}

func invLine(cur commerce.Currency, rate, net, vat string) commerce.InvoiceLine {
	return commerce.InvoiceLine{VATRatePercent: dec(rate), Net: commerce.NewMoney(dec(net), cur), VAT: commerce.NewMoney(dec(vat), cur)}
}

// ossFixture is a first quarter of 2024 for a Swedish seller: sales in SEK
// and EUR to four member states, a credit within the quarter, a credit of
// a sale declared in 2023Q4 (a correction), a domestic invoice that is not
// OSS, and a TBE service row.
func ossFixture(t *testing.T) []OSSSale {
	t.Helper()
	eur, sekc := commerce.EUR, commerce.SEK
	withGroups := ossInvoice(commerce.KindInvoice, "INV-1001", "", "2024-02-10", "DE", sekc, invLine(sekc, "19", "1000.00", "190.00"))
	withGroups.VATByRate = []commerce.VATAmount{{RatePercent: dec("19"), Taxable: commerce.NewMoney(dec("1000.00"), sekc), VAT: commerce.NewMoney(dec("190.00"), sekc)}}
	domestic := ossInvoice(commerce.KindInvoice, "INV-1006", "", "2024-03-01", "SE", sekc, invLine(sekc, "25", "100.00", "25.00"))
	domestic.VATScheme = commerce.SchemeDomestic
	invs := []commerce.Invoice{
		withGroups,
		ossInvoice(commerce.KindInvoice, "INV-1002", "", "2024-03-05", "DE", eur, invLine(eur, "19", "50.00", "9.50"), invLine(eur, "7", "20.00", "1.40")),
		ossInvoice(commerce.KindInvoice, "INV-1003", "", "2024-03-20", "FI", sekc, invLine(sekc, "24", "800.00", "192.00"), invLine(sekc, "14", "100.00", "14.00")),
		ossInvoice(commerce.KindInvoice, "INV-1004", "", "2024-01-15", "GR", sekc, invLine(sekc, "24", "500.00", "120.00")),
		ossInvoice(commerce.KindCreditInvoice, "CR-2001", "INV-0990", "2024-02-01", "DE", sekc, invLine(sekc, "19", "200.00", "38.00")),
		ossInvoice(commerce.KindCreditInvoice, "CR-2002", "INV-1001", "2024-03-25", "DE", sekc, invLine(sekc, "19", "100.00", "19.00")),
		domestic,
	}
	issued := map[string]string{"INV-0990": "2023-11-30", "INV-1001": "2024-02-10"}
	sales, err := OSSSalesFromInvoices(invs, func(inv *commerce.Invoice) Quarter {
		if inv.IsCredit() {
			return QuarterOf(date(issued[inv.Credits]))
		}
		return QuarterOf(inv.IssueDate)
	})
	if err != nil {
		t.Fatal(err)
	}
	return append(sales, OSSSale{Country: "IE", RatePercent: dec("23"), Taxable: commerce.NewMoney(dec("10.00"), eur),
		VAT: commerce.NewMoney(dec("2.30"), eur), Period: Quarter{2024, 1}, Services: true, Reference: "SUB-77"})
}

func TestOSSReturnGolden(t *testing.T) {
	sales := ossFixture(t)
	if len(sales) != 9 {
		t.Fatalf("%d sales from the fixture, want 9 (the domestic invoice skipped)", len(sales))
	}
	ret, err := BuildOSSReturn("SE 556737-0431 01", Quarter{2024, 1}, sales, loadECB(t, "eurofxref-hist-2024q1.xml"))
	if err != nil {
		t.Fatal(err)
	}
	// Hand-checked figures: DE 19 % = (1000 − 100) SEK / 11.5870 + 50.00 EUR.
	if de := ret.Lines[0]; de.Country != "DE" || !de.Taxable.Equal(commerce.NewMoney(dec("127.67"), commerce.EUR)) || !de.VAT.Equal(commerce.NewMoney(dec("24.26"), commerce.EUR)) {
		t.Errorf("DE 19 %% line = %+v", de)
	}
	if c := ret.Corrections; len(c) != 1 || c[0].Period != (Quarter{2023, 4}) || !c[0].VAT.Equal(commerce.NewMoney(dec("-3.41"), commerce.EUR)) {
		t.Errorf("corrections = %+v (−38 SEK at the 2023Q4 rate 11.1325)", c)
	}
	for name, render := range map[string]func() ([]byte, error){"oss_2024q1.csv": ret.CSV, "oss_2024q1.json": ret.JSON} {
		got, err := render()
		if err != nil {
			t.Fatal(err)
		}
		again, _ := render()
		if !bytes.Equal(got, again) {
			t.Errorf("%s: output not deterministic", name)
		}
		path := filepath.Join("testdata", name)
		if *update {
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test -update)", err)
		}
		if diff := cmp.Diff(string(want), string(got)); diff != "" {
			t.Errorf("%s (-golden +got):\n%s", name, diff)
		}
	}
	// Order of the input does not matter.
	reversed := make([]OSSSale, len(sales))
	for i, s := range sales {
		reversed[len(sales)-1-i] = s
	}
	ret2, err := BuildOSSReturn("SE556737043101", Quarter{2024, 1}, reversed, loadECB(t, "eurofxref-hist-2024q1.xml"))
	if err != nil {
		t.Fatal(err)
	}
	a, _ := ret.JSON()
	b, _ := ret2.JSON()
	if !bytes.Equal(a, b) {
		t.Error("input order changes the return")
	}
}

func TestOSSReturnNil(t *testing.T) {
	ret, err := BuildOSSReturn("SE556737043101", Quarter{2026, 4}, nil, &ECBRates{})
	if err != nil {
		t.Fatal(err)
	}
	if len(ret.Lines) != 0 || len(ret.Corrections) != 0 || !ret.TotalVAT.IsZero() || ret.Due != date("2027-01-31") {
		t.Errorf("nil return = %+v", ret)
	}
	csv, _ := ret.CSV()
	if want := "kind,vat_number,period,country,supply,rate_type,rate,taxable_eur,vat_eur\ntotal,SE556737043101,2026Q4,,,,,,0.00\n"; string(csv) != want {
		t.Errorf("csv = %q", csv)
	}
}

func TestOSSReturnErrors(t *testing.T) {
	q := Quarter{2024, 1}
	ecb := loadECB(t, "eurofxref-hist-2024q1.xml")
	sale := func(f func(*OSSSale)) []OSSSale {
		s := OSSSale{Country: "DE", RatePercent: dec("19"), Taxable: sek("100.00"), VAT: sek("19.00"), Period: q}
		f(&s)
		return []OSSSale{s}
	}
	tests := []struct {
		name   string
		number string
		q      Quarter
		sales  []OSSSale
		is     error
	}{
		{"bad id", "SE556737043201", q, nil, ErrChecksum},
		{"bad period", "SE556737043101", Quarter{2024, 5}, nil, ErrInvalid},
		{"home country", "SE556737043101", q, sale(func(s *OSSSale) { s.Country = "SE" }), ErrInvalid},
		{"unknown country", "SE556737043101", q, sale(func(s *OSSSale) { s.Country = "NO" }), ErrUnknownCountry},
		{"later quarter", "SE556737043101", q, sale(func(s *OSSSale) { s.Period = Quarter{2024, 2} }), ErrInvalid},
		{"negative rate", "SE556737043101", q, sale(func(s *OSSSale) { s.RatePercent = dec("-19") }), ErrInvalid},
		{"mixed currency", "SE556737043101", q, sale(func(s *OSSSale) { s.VAT = commerce.NewMoney(dec("1"), commerce.EUR) }), ErrInvalid},
		{"missing FX rate", "SE556737043101", q, sale(func(s *OSSSale) {
			s.Taxable, s.VAT = commerce.NewMoney(dec("100"), commerce.NOK), commerce.NewMoney(dec("19"), commerce.NOK)
		}), ErrMissingFXRate},
		{"missing FX rate for a correction", "SE556737043101", q, sale(func(s *OSSSale) { s.Period = Quarter{2023, 3} }), ErrMissingFXRate},
	}
	for _, tt := range tests {
		if _, err := BuildOSSReturn(tt.number, tt.q, tt.sales, ecb); !errors.Is(err, tt.is) {
			t.Errorf("%s: err %v, want %v", tt.name, err, tt.is)
		}
	}
	bad := []commerce.Invoice{{Kind: commerce.KindInvoice, Number: "X", VATScheme: commerce.SchemeOSSUnion, Currency: commerce.SEK}}
	if _, err := OSSSalesFromInvoices(bad, nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("OSS invoice without country: %v", err)
	}
}
