package vat

import (
	"errors"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/knyt/knyt/commerce"
)

func TestDecide(t *testing.T) {
	base := Sale{SellerCountry: "SE", Buyer: commerce.Consumer, Supply: Goods, Category: Standard, Date: date("2026-11-22"), OSSRegistered: true}
	with := func(f func(*Sale)) Sale { s := base; f(&s); return s }
	tests := []struct {
		name    string
		sale    Sale
		scheme  commerce.VATScheme
		country string
		rate    string
		wording string
	}{
		{"domestic consumer", with(func(s *Sale) { s.BuyerCountry = "SE" }), commerce.SchemeDomestic, "SE", "25", ""},
		{"domestic business with VAT number", with(func(s *Sale) {
			s.BuyerCountry, s.Buyer, s.BuyerVATNumberValid = "SE", commerce.Business, true
		}), commerce.SchemeDomestic, "SE", "25", ""},
		{"domestic food after the cut", with(func(s *Sale) { s.BuyerCountry, s.Category = "SE", Foodstuffs }), commerce.SchemeDomestic, "SE", "6", ""},
		{"OSS to a German consumer", with(func(s *Sale) { s.BuyerCountry, s.ThresholdExceeded = "DE", true }), commerce.SchemeOSSUnion, "DE", "19", ""},
		{"OSS to a Finnish consumer, food", with(func(s *Sale) {
			s.BuyerCountry, s.ThresholdExceeded, s.Category = "FI", true, Foodstuffs
		}), commerce.SchemeOSSUnion, "FI", "13.5", ""},
		{"OSS by option under the threshold", with(func(s *Sale) { s.BuyerCountry, s.OptedForDestination = "GR", true }), commerce.SchemeOSSUnion, "GR", "24", ""},
		{"OSS to Northern Ireland (goods)", with(func(s *Sale) { s.BuyerCountry, s.ThresholdExceeded = "XI", true }), commerce.SchemeOSSUnion, "XI", "20", ""},
		{"e-book to a Danish consumer", with(func(s *Sale) {
			s.BuyerCountry, s.ThresholdExceeded, s.Supply, s.Category, s.Date = "DK", true, DigitalService, EBooks, date("2025-06-01")
		}), commerce.SchemeOSSUnion, "DK", "25", ""},
		{"business without a valid number is a consumer", with(func(s *Sale) {
			s.BuyerCountry, s.Buyer, s.ThresholdExceeded = "FR", commerce.Business, true
		}), commerce.SchemeOSSUnion, "FR", "20", ""},
		{"destination without OSS", with(func(s *Sale) {
			s.BuyerCountry, s.ThresholdExceeded, s.OSSRegistered = "NL", true, false
		}), commerce.SchemeDestinationLocal, "NL", "21", ""},
		{"under the threshold", with(func(s *Sale) { s.BuyerCountry = "DE" }), commerce.SchemeDomestic, "SE", "25", ""},
		{"under the threshold, food", with(func(s *Sale) { s.BuyerCountry, s.Category = "FI", Foodstuffs }), commerce.SchemeDomestic, "SE", "6", ""},
		{"B2B goods to Germany", with(func(s *Sale) {
			s.BuyerCountry, s.Buyer, s.BuyerVATNumberValid, s.BuyerVATNumber = "DE", commerce.Business, true, "DE136695976"
		}), commerce.SchemeReverseCharge, "DE", "0", "Article 138"},
		{"B2B goods to Greece", with(func(s *Sale) {
			s.BuyerCountry, s.Buyer, s.BuyerVATNumberValid, s.BuyerVATNumber = "EL", commerce.Business, true, "EL094259216"
		}), commerce.SchemeReverseCharge, "GR", "0", "EL094259216"},
		{"B2B service to Ireland", with(func(s *Sale) {
			s.BuyerCountry, s.Buyer, s.BuyerVATNumberValid, s.Supply = "IE", commerce.Business, true, DigitalService
		}), commerce.SchemeReverseCharge, "IE", "0", "Article 196"},
		{"export to Norway", with(func(s *Sale) { s.BuyerCountry = "NO" }), commerce.SchemeExport, "SE", "0", "Article 146"},
		{"export to a US business", with(func(s *Sale) { s.BuyerCountry, s.Buyer = "US", commerce.Business }), commerce.SchemeExport, "SE", "0", "Article 146"},
		{"export to Great Britain", with(func(s *Sale) { s.BuyerCountry, s.ThresholdExceeded = "GB", true }), commerce.SchemeExport, "SE", "0", "Article 146"},
		{"service to Northern Ireland is outside the EU", with(func(s *Sale) {
			s.BuyerCountry, s.Supply, s.ThresholdExceeded = "XI", DigitalService, true
		}), commerce.SchemeExport, "SE", "0", "outside the EU"},
		{"seller in Germany", with(func(s *Sale) { s.SellerCountry, s.BuyerCountry = "DE", "AT" }), commerce.SchemeDomestic, "DE", "19", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Decide(tt.sale)
			if err != nil {
				t.Fatal(err)
			}
			if d.Scheme != tt.scheme || d.Country != tt.country || !d.RatePercent.Equal(dec(tt.rate)) {
				t.Errorf("got %s %s %s%%, want %s %s %s%%", d.Scheme, d.Country, d.RatePercent, tt.scheme, tt.country, tt.rate)
			}
			if !strings.Contains(d.Wording.EN, tt.wording) || (tt.wording == "") != (d.Wording.EN == "") || (d.Wording.EN == "") != (d.Wording.SV == "") {
				t.Errorf("wording %+v, want one containing %q", d.Wording, tt.wording)
			}
			if d.Reason == "" {
				t.Error("no reason")
			}
		})
	}
	// Each scheme is covered at least twice.
	count := map[commerce.VATScheme]int{}
	for _, tt := range tests {
		count[tt.scheme]++
	}
	for _, s := range []commerce.VATScheme{commerce.SchemeDomestic, commerce.SchemeOSSUnion, commerce.SchemeReverseCharge, commerce.SchemeExport} {
		if count[s] < 2 {
			t.Errorf("scheme %s covered %d times", s, count[s])
		}
	}
}

func TestDecideErrors(t *testing.T) {
	ok := Sale{SellerCountry: "SE", BuyerCountry: "DE", Buyer: commerce.Consumer, Supply: Goods, Date: date("2026-11-22"), ThresholdExceeded: true, OSSRegistered: true}
	tests := []struct {
		name string
		f    func(*Sale)
		is   error
	}{
		{"seller outside the EU", func(s *Sale) { s.SellerCountry = "NO" }, ErrInvalid},
		{"seller in XI", func(s *Sale) { s.SellerCountry = "XI" }, ErrInvalid},
		{"no supply kind", func(s *Sale) { s.Supply = 0 }, ErrInvalid},
		{"no buyer type", func(s *Sale) { s.Buyer = "" }, ErrInvalid},
		{"no date", func(s *Sale) { s.Date = commerce.Date{} }, ErrInvalid},
		{"unknown buyer country", func(s *Sale) { s.BuyerCountry = "QQ" }, ErrUnknownCountry},
		{"category without data", func(s *Sale) { s.BuyerCountry, s.Category = "BE", PrintedBooks }, ErrNoRate},
		{"before coverage", func(s *Sale) { s.Date = date("2019-06-01") }, ErrBeforeCoverage},
	}
	for _, tt := range tests {
		s := ok
		tt.f(&s)
		if _, err := Decide(s); !errors.Is(err, tt.is) {
			t.Errorf("%s: err %v, want %v", tt.name, err, tt.is)
		}
	}
}

func TestThresholdTracker(t *testing.T) {
	tr := NewThresholdTracker()
	type step struct {
		date     string
		eur      string
		exceeded bool
		crossed  bool
	}
	steps := []step{
		{"2026-01-10", "6000", false, false},
		{"2026-03-01", "4000", false, false},  // exactly 10,000 does not exceed
		{"2026-03-02", "0.01", true, true},    // the crossing sale is taxed at destination
		{"2026-03-03", "-500", true, false},   // a credit does not undo the crossing
		{"2026-03-04", "10", true, false},     // nor do later sales fall back
		{"2027-01-05", "100", false, false},   // 2026 ended at 9,510.01: not exceeded
		{"2027-06-01", "9900.01", true, true}, // 10,000.01
		{"2028-01-02", "1", true, false},      // the previous year exceeded
	}
	for _, s := range steps {
		st, err := tr.Add(date(s.date), dec(s.eur))
		if err != nil {
			t.Fatal(err)
		}
		if st.Exceeded != s.exceeded || st.CrossedByThis != s.crossed {
			t.Errorf("%s +%s: %s crossed=%t; want exceeded=%t crossed=%t", s.date, s.eur, st, st.CrossedByThis, s.exceeded, s.crossed)
		}
	}
	if st := tr.Status(2027); !st.Exceeded || !st.CurrentYear.Equal(dec("10000.01")) || !st.PreviousYear.Equal(dec("9510.01")) {
		t.Errorf("status 2027 = %s", st)
	}
	seeded := NewThresholdTracker()
	if err := seeded.SetYearTotal(2025, dec("12000")); err != nil {
		t.Fatal(err)
	}
	if st, _ := seeded.Add(date("2026-01-01"), dec("1")); !st.Exceeded || st.CrossedByThis {
		t.Errorf("previous year over the threshold: %s", st)
	}
	if err := seeded.SetYearTotal(2025, dec("-1")); !errors.Is(err, ErrInvalid) {
		t.Errorf("negative total: %v", err)
	}
	if _, err := seeded.Add(commerce.Date{}, decimal.Zero); !errors.Is(err, ErrInvalid) {
		t.Errorf("zero date: %v", err)
	}
	// The tracker's answer feeds Decide.
	st, _ := NewThresholdTracker().Add(date("2026-05-01"), dec("10000.50"))
	d, err := Decide(Sale{SellerCountry: "SE", BuyerCountry: "IT", Buyer: commerce.Consumer, Supply: Goods, Date: date("2026-05-01"),
		OSSRegistered: true, ThresholdExceeded: st.Exceeded})
	if err != nil || d.Scheme != commerce.SchemeOSSUnion || !d.RatePercent.Equal(dec("22")) {
		t.Errorf("crossing sale: %+v %v", d, err)
	}
}
