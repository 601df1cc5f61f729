package reconcile

import (
	"bytes"
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/reconcile/sie"
)

// The worked vouchers of the reference (shared/reference/bookkeeping-sie.md
// §4), each booked by the package from the canonical data a connector and
// the ERP give, and compared row by row with the reference's table.

func klarnaOrder(t testing.TB, number string, ref string) commerce.Order {
	return commerce.Order{Number: number, Currency: commerce.SEK, Totals: commerce.Totals{Total: sek(t, "1250.00")},
		Payments: []commerce.PaymentRef{{Provider: "klarna", Reference: ref, Amount: sek(t, "1250.00")}}}
}

// workedVouchers books the four worked vouchers: the Klarna sale, the
// Klarna payout, the Stripe payout with reverse charge and the OSS sale.
func workedVouchers(t *testing.T) []commerce.Voucher {
	t.Helper()
	ctx := context.Background()
	r, err := New()
	if err != nil {
		t.Fatal(err)
	}
	klarnaInv := invoice(t, commerce.KindInvoice, "1001", "5001", "SEK", "1250.00", "25", "2026-11-10")
	stripeInv := invoice(t, commerce.KindInvoice, "1003", "5003", "SEK", "1000.00", "25", "2026-11-12")
	ossInv := invoice(t, commerce.KindInvoice, "1002", "5002", "SEK", "1190.00", "19", "2026-11-17")
	ossInv.VATScheme, ossInv.VATCountry = commerce.SchemeOSSUnion, "DE"
	orders := []commerce.Order{
		klarnaOrder(t, "5001", "ce17b4cb-147f-48b7-b8e6-dde2fa397f04"),
		{Number: "5002", Currency: commerce.SEK, Totals: commerce.Totals{Total: sek(t, "1190.00")},
			Payments: []commerce.PaymentRef{{Provider: "stripe", Reference: "pi_oss", Amount: sek(t, "1190.00")}}},
	}
	sales, err := r.BookSales(ctx, []commerce.Invoice{klarnaInv, ossInv}, orders)
	if err != nil {
		t.Fatal(err)
	}
	if len(sales.Problems) != 0 || len(sales.Vouchers) != 2 {
		t.Fatalf("sales: %d vouchers, problems %v", len(sales.Vouchers), sales.Problems)
	}
	// Klarna settlement rows as the klarna connector maps them: a SALE
	// with the order id, capture id and merchant_reference1, and a FEE row
	// (fee 25.00, vat_amount 6.25 at vat_rate 2500).
	rate := decimal.NewFromInt(25)
	fee := tx(t, "XISA93DJ-fee", commerce.TxFee, "FEE", "SEK", "0.00", "25.00", "6.25",
		commerce.TxReferences{OrderID: "ce17b4cb-147f-48b7-b8e6-dde2fa397f04", CaptureID: "33db6f16", OrderNumber: "5001", PaymentReference: "XISA93DJ"})
	fee.FeeVATRatePercent = &rate
	klarna := payout(t, "klarna", "XISA93DJ", "2026-11-15",
		tx(t, "XISA93DJ-sale", commerce.TxSale, "SALE", "SEK", "1250.00", "", "",
			commerce.TxReferences{OrderID: "ce17b4cb-147f-48b7-b8e6-dde2fa397f04", CaptureID: "33db6f16", OrderNumber: "5001", PaymentReference: "XISA93DJ"}),
		fee)
	// A Stripe charge balance transaction: amount 1000.00, fee 18.00 with
	// no tax in fee_details, source ch_… of PaymentIntent pi_….
	stripe := payout(t, "stripe", "po_123", "2026-11-16",
		tx(t, "txn_1", commerce.TxSale, "charge", "SEK", "1000.00", "18.00", "0.00",
			commerce.TxReferences{SourceID: "ch_1", CaptureID: "ch_1", PaymentReference: "pi_1003", OrderNumber: "5003"}))
	res, err := r.Run(ctx, Input{Payouts: []commerce.Payout{klarna, stripe}, Invoices: []commerce.Invoice{klarnaInv, stripeInv}, Orders: orders[:1]})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Vouchers) != 2 || res.Summary.TransactionsOpen != 0 || len(res.Differences) != 0 {
		t.Fatalf("payouts: %s", res.SummaryText())
	}
	return []commerce.Voucher{sales.Vouchers[0], res.Vouchers[0], res.Vouchers[1], sales.Vouchers[1]}
}

func TestWorkedVouchers(t *testing.T) {
	vs := workedVouchers(t)
	want := [][]posting{
		{{"1686", "1250.00"}, {"3001", "-1000.00"}, {"2611", "-250.00"}},
		{{"1930", "1218.75"}, {"6064", "25.00"}, {"2641", "6.25"}, {"1686", "-1250.00"}},
		{{"1930", "982.00"}, {"6040", "18.00"}, {"1686", "-1000.00"}, {"2645", "4.50"}, {"2614", "-4.50"}},
		{{"1686", "1190.00"}, {"3106", "-1000.00"}, {"2670", "-190.00"}},
	}
	names := []string{"Klarna sale", "Klarna payout", "Stripe payout, reverse charge", "OSS sale"}
	for i, vo := range vs {
		if diff := cmp.Diff(want[i], postingsOf(vo)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", names[i], diff)
		}
		if err := vo.Validate(); err != nil {
			t.Errorf("%s: %v", names[i], err)
		}
	}
	oss := vs[3]
	if got := []string{oss.Postings[1].Text, oss.Postings[2].Text}; !cmp.Equal(got, []string{"DE", "DE 19 %"}) {
		t.Errorf("OSS rows carry %q, want the member state and the member state and rate", got)
	}
}

// TestWorkedVouchersSIE writes the worked vouchers as an SIE 4I file: the
// full path from payouts to the file an ERP imports.
func TestWorkedVouchersSIE(t *testing.T) {
	vs := workedVouchers(t)
	w := sie.NewWriter(sie.BAS2026(), sie.WithDefaultSeries("K"))
	var buf bytes.Buffer
	rep, err := w.Write(&buf, sie.Header{Program: "knyt", Version: "1.0", Generated: date("2026-11-22"), Company: "Exempel AB", OrgNumber: "556677-8899"}, vs)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Vouchers != 4 {
		t.Errorf("wrote %d vouchers", rep.Vouchers)
	}
	golden(t, "worked.si", buf.Bytes())
	back, err := sie.Read(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	for i := range vs {
		if diff := cmp.Diff(postingsOf(vs[i]), postingsOf(back.Vouchers[i])); diff != "" {
			t.Errorf("voucher %d read back (-booked +read):\n%s", i, diff)
		}
	}
}
