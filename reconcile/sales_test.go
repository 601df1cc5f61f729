package reconcile

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/vat"
)

// lineInvoice builds an invoice from net lines at their rates.
func lineInvoice(t *testing.T, kind commerce.InvoiceKind, number, cur, issued string, lines ...[2]string) commerce.Invoice {
	t.Helper()
	inv := commerce.Invoice{Kind: kind, Number: number, Currency: commerce.MustCurrency(cur), IssueDate: date(issued),
		VATScheme: commerce.SchemeDomestic, VATCountry: "SE"}
	net, tax := commerce.Zero(inv.Currency), commerce.Zero(inv.Currency)
	for _, l := range lines {
		n := m(t, l[0], cur)
		a, err := vat.FromNet(n, dec(l[1]))
		if err != nil {
			t.Fatal(err)
		}
		inv.Lines = append(inv.Lines, commerce.InvoiceLine{Description: "x", Quantity: decimal.NewFromInt(1), UnitPrice: n,
			VATRatePercent: dec(l[1]), Net: n, VAT: a.VAT})
		net, _ = net.Add(n)
		tax, _ = tax.Add(a.VAT)
	}
	inv.Net, inv.VAT = net, tax
	inv.Gross, _ = net.Add(tax)
	if kind == commerce.KindCreditInvoice {
		inv.Credits = "1"
	}
	return inv
}

func TestBookSales(t *testing.T) {
	oss := lineInvoice(t, commerce.KindInvoice, "O1", "SEK", "2026-11-17", [2]string{"1000.00", "19"}, [2]string{"100.00", "7"})
	oss.VATScheme, oss.VATCountry = commerce.SchemeOSSUnion, "DE"
	ossCredit := lineInvoice(t, commerce.KindCreditInvoice, "OK1", "SEK", "2026-11-18", [2]string{"100.00", "19"})
	ossCredit.VATScheme, ossCredit.VATCountry = commerce.SchemeOSSUnion, "DE"
	// The engine's öre rounding row: a negative line at 0 % on an invoice.
	ossRounded := lineInvoice(t, commerce.KindInvoice, "O2", "SEK", "2026-11-17", [2]string{"1000.00", "19"}, [2]string{"-0.01", "0"})
	ossRounded.VATScheme, ossRounded.VATCountry = commerce.SchemeOSSUnion, "DE"
	rc := lineInvoice(t, commerce.KindInvoice, "B1", "SEK", "2026-11-17", [2]string{"500.00", "0"})
	rc.VATScheme, rc.VATCountry = commerce.SchemeReverseCharge, "de"
	export := lineInvoice(t, commerce.KindInvoice, "X1", "SEK", "2026-11-17", [2]string{"800.00", "0"})
	export.VATScheme, export.VATCountry = commerce.SchemeExport, "US"
	gift := lineInvoice(t, commerce.KindInvoice, "G1", "SEK", "2026-11-17", [2]string{"800.00", "25"})
	gift.OrderNumber = "7100"
	eur := lineInvoice(t, commerce.KindInvoice, "E1", "EUR", "2026-11-03", [2]string{"10.10", "25"})
	tests := []struct {
		name string
		inv  commerce.Invoice
		want []posting
	}{
		{"domestic, three rates", lineInvoice(t, commerce.KindInvoice, "D1", "SEK", "2026-11-17",
			[2]string{"100.00", "25"}, [2]string{"100.00", "12"}, [2]string{"100.00", "6"}, [2]string{"50.00", "0"}),
			[]posting{{"1686", "393.00"}, {"3004", "-50.00"}, {"3003", "-100.00"}, {"2631", "-6.00"}, {"3002", "-100.00"}, {"2621", "-12.00"}, {"3001", "-100.00"}, {"2611", "-25.00"}}},
		{"a credit invoice mirrors it", lineInvoice(t, commerce.KindCreditInvoice, "C1", "SEK", "2026-11-18", [2]string{"100.00", "25"}),
			[]posting{{"1686", "-125.00"}, {"3001", "100.00"}, {"2611", "25.00"}}},
		{"OSS, two rates", oss,
			[]posting{{"1686", "1297.00"}, {"3106", "-100.00"}, {"2670", "-7.00"}, {"3106", "-1000.00"}, {"2670", "-190.00"}}},
		{"OSS with a negative rounding row", ossRounded,
			[]posting{{"1686", "1189.99"}, {"3106", "0.01"}, {"3106", "-1000.00"}, {"2670", "-190.00"}}},
		{"an OSS credit", ossCredit, []posting{{"1686", "-119.00"}, {"3106", "100.00"}, {"2670", "19.00"}}},
		{"intra-EU B2B under reverse charge", rc, []posting{{"1686", "500.00"}, {"3108", "-500.00"}}},
		{"export", export, []posting{{"1686", "800.00"}, {"3105", "-800.00"}}},
		{"part paid with a gift card", gift, []posting{{"1686", "700.00"}, {"2421", "300.00"}, {"3001", "-800.00"}, {"2611", "-200.00"}}},
		{"in EUR, converted at the issue date", eur,
			[]posting{{"1686", "139.56"}, {"3001", "-111.61"}, {"2611", "-27.96"}, {"3740", "0.01"}}},
	}
	orders := []commerce.Order{{Number: "7100", Currency: commerce.SEK, Totals: commerce.Totals{Total: sek(t, "1000.00")},
		Payments: []commerce.PaymentRef{{Provider: "klarna", Reference: "kl", Amount: sek(t, "700.00")}, {Provider: "gift_card", Amount: sek(t, "300.00")}}}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := New(WithFXRates(testRates()))
			if err != nil {
				t.Fatal(err)
			}
			res, err := r.BookSales(context.Background(), []commerce.Invoice{tc.inv}, orders)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Vouchers) != 1 {
				t.Fatalf("problems: %+v", res.Problems)
			}
			vo := res.Vouchers[0]
			if err := vo.Validate(); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, postingsOf(vo)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestBookSalesProblemsAndIdempotency(t *testing.T) {
	r, err := New()
	if err != nil {
		t.Fatal(err)
	}
	local := lineInvoice(t, commerce.KindInvoice, "L1", "SEK", "2026-11-17", [2]string{"100.00", "19"})
	local.VATScheme, local.VATCountry = commerce.SchemeDestinationLocal, "DE"
	odd := lineInvoice(t, commerce.KindInvoice, "R1", "SEK", "2026-11-17", [2]string{"100.00", "10"})
	wrongRate := lineInvoice(t, commerce.KindInvoice, "W1", "SEK", "2026-11-17", [2]string{"100.00", "25"})
	wrongRate.VATScheme, wrongRate.VATCountry = commerce.SchemeOSSUnion, "DE"
	export := lineInvoice(t, commerce.KindInvoice, "X2", "SEK", "2026-11-17", [2]string{"100.00", "25"})
	export.VATScheme = commerce.SchemeExport
	broken := lineInvoice(t, commerce.KindInvoice, "Z1", "SEK", "2026-11-17", [2]string{"100.00", "25"})
	broken.Gross = sek(t, "1.00")
	good := lineInvoice(t, commerce.KindInvoice, "OK", "SEK", "2026-11-17", [2]string{"100.00", "25"})
	invs := []commerce.Invoice{local, odd, wrongRate, export, broken, good}
	res, err := r.BookSales(context.Background(), invs, nil)
	if err != nil {
		t.Fatal(err)
	}
	var subjects []string
	for _, p := range res.Problems {
		subjects = append(subjects, p.Subject)
	}
	want := []string{"invoice L1", "invoice R1", "invoice W1", "invoice X2", "invoice Z1"}
	if diff := cmp.Diff(want, subjects); diff != "" {
		t.Errorf("problems (-want +got):\n%s\n%+v", diff, res.Problems)
	}
	if len(res.Vouchers) != 2 || res.Vouchers[0].ID != "sale:invoice:W1" || res.Vouchers[1].ID != "sale:invoice:OK" {
		t.Errorf("vouchers %v", voucherIDs(&Result{Vouchers: res.Vouchers}))
	}
	if !strings.Contains(res.Problems[2].Detail, "not a rate of DE") {
		t.Errorf("the OSS rate notice: %q", res.Problems[2].Detail)
	}
	if err := r.CommitSales(context.Background(), res); err != nil {
		t.Fatal(err)
	}
	again, err := r.BookSales(context.Background(), []commerce.Invoice{good, wrongRate}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(again.Vouchers) != 0 || len(again.Skipped) != 2 {
		t.Errorf("booked again: %d vouchers, %d skipped", len(again.Vouchers), len(again.Skipped))
	}
	if _, err := New(WithLedger(failingLedger{})); err != nil {
		t.Fatal(err)
	}
	rf, _ := New(WithLedger(failingLedger{}))
	if _, err := rf.BookSales(context.Background(), invs, nil); !errors.Is(err, errLedger) {
		t.Errorf("failing ledger: %v", err)
	}
}

// OSSQuarter gives vat.BuildOSSReturn the quarter's lines; a credit of an
// earlier quarter's invoice becomes a correction of that quarter.
func TestOSSQuarter(t *testing.T) {
	ossInv := func(kind commerce.InvoiceKind, number, issued, net, rate, country string) commerce.Invoice {
		inv := lineInvoice(t, kind, number, "EUR", issued, [2]string{net, rate})
		inv.VATScheme, inv.VATCountry = commerce.SchemeOSSUnion, country
		return inv
	}
	summer := ossInv(commerce.KindInvoice, "S1", "2026-08-10", "200.00", "19", "DE")
	autumn := ossInv(commerce.KindInvoice, "A1", "2026-11-10", "100.00", "19", "DE")
	fr := ossInv(commerce.KindInvoice, "A2", "2026-12-01", "50.00", "20", "FR")
	late := ossInv(commerce.KindCreditInvoice, "K1", "2026-11-20", "40.00", "19", "DE")
	late.Credits = "S1"
	domestic := lineInvoice(t, commerce.KindInvoice, "D1", "EUR", "2026-11-10", [2]string{"10.00", "25"})
	q4 := vat.Quarter{Year: 2026, Quarter: 4}
	sales, err := OSSQuarter([]commerce.Invoice{summer, autumn, fr, late, domestic}, q4)
	if err != nil {
		t.Fatal(err)
	}
	ret, err := vat.BuildOSSReturn("SE556677889901", q4, sales, testRates())
	if err != nil {
		t.Fatal(err)
	}
	type line struct{ Country, Rate, Taxable, VAT string }
	var lines []line
	for _, l := range ret.Lines {
		lines = append(lines, line{l.Country, l.RatePercent.String(), l.Taxable.String(), l.VAT.String()})
	}
	want := []line{{"DE", "19", "100.00 EUR", "19.00 EUR"}, {"FR", "20", "50.00 EUR", "10.00 EUR"}}
	if diff := cmp.Diff(want, lines); diff != "" {
		t.Errorf("lines (-want +got):\n%s", diff)
	}
	if len(ret.Corrections) != 1 || ret.Corrections[0].Period.String() != "2026Q3" || ret.Corrections[0].VAT.String() != "-7.60 EUR" {
		t.Errorf("corrections %+v", ret.Corrections)
	}
}

// Sub-accounts per provider and per OSS member state and rate, and the OSS
// dimension, when the plan asks for them.
func TestPlanSubAccounts(t *testing.T) {
	plan := DefaultAccountPlan()
	plan.ProviderReceivables = map[string]string{"klarna": "1687"}
	plan.OSSSalesByCountry = map[string]string{"DE": "3107"}
	plan.OSSVATByCountryRate = map[string]string{"DE-19": "2671"}
	plan.OSSDimension = 20
	r, err := New(WithAccountPlan(plan))
	if err != nil {
		t.Fatal(err)
	}
	inv := lineInvoice(t, commerce.KindInvoice, "O1", "SEK", "2026-11-17", [2]string{"1000.00", "19"}, [2]string{"100.00", "7"})
	inv.VATScheme, inv.VATCountry, inv.OrderNumber = commerce.SchemeOSSUnion, "DE", "5002"
	orders := []commerce.Order{{Number: "5002", Currency: commerce.SEK, Totals: commerce.Totals{Total: sek(t, "1297.00")},
		Payments: []commerce.PaymentRef{{Provider: "klarna", Reference: "kl-5002"}}}}
	res, err := r.BookSales(context.Background(), []commerce.Invoice{inv}, orders)
	if err != nil || len(res.Vouchers) != 1 {
		t.Fatalf("%v %+v", err, res.Problems)
	}
	type row struct{ Account, Amount, Dims string }
	var got []row
	for _, p := range res.Vouchers[0].Postings {
		var dims []string
		for _, d := range p.Dimensions {
			dims = append(dims, fmt.Sprintf("%d:%s", d.Dim, d.Object))
		}
		got = append(got, row{p.Account, p.Amount.Amount.StringFixed(2), strings.Join(dims, " ")})
	}
	want := []row{
		{"1687", "1297.00", ""},
		{"3107", "-100.00", "20:DE"}, {"2670", "-7.00", "20:DE-7"},
		{"3107", "-1000.00", "20:DE"}, {"2671", "-190.00", "20:DE-19"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	p := payout(t, "klarna", "P", "2026-11-20", tx(t, "s", commerce.TxSale, "SALE", "SEK", "1297.00", "", "", commerce.TxReferences{OrderID: "kl-5002"}))
	run := mustRun(t, r, Input{Payouts: []commerce.Payout{p}, Invoices: []commerce.Invoice{inv}, Orders: orders})
	if got := postingsOf(run.Vouchers[0]); !cmp.Equal(got, []posting{{"1930", "1297.00"}, {"1687", "-1297.00"}}) {
		t.Errorf("the payout clears the provider's sub-account: %v", got)
	}
}
