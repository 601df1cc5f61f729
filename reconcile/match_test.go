package reconcile

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/vat"
)

// outcome is what became of one transaction: "invoice 2001 by
// order_number", or "unmatched: not_found".
func outcomes(t *testing.T, res *Result) map[string]string {
	t.Helper()
	out := map[string]string{}
	for m := range res.Matched() {
		out[m.Transaction] = m.Document.String() + " by " + string(m.Method)
	}
	for _, u := range res.Unmatched {
		out[u.Transaction] = "unmatched: " + string(u.Reason)
	}
	return out
}

func TestMatching(t *testing.T) {
	inv := func(number, order, gross string) commerce.Invoice {
		return invoice(t, commerce.KindInvoice, number, order, "SEK", gross, "25", "2026-11-10")
	}
	cred := func(number, order, gross, credits string) commerce.Invoice {
		return credit(invoice(t, commerce.KindCreditInvoice, number, order, "SEK", gross, "25", "2026-11-11"), credits)
	}
	sale := func(id, amount string, refs commerce.TxReferences) commerce.Transaction {
		return tx(t, id, commerce.TxSale, "SALE", "SEK", amount, "", "", refs)
	}
	refund := func(id, amount string, refs commerce.TxReferences) commerce.Transaction {
		return tx(t, id, commerce.TxRefund, "RETURN", "SEK", amount, "", "", refs)
	}
	tests := []struct {
		name   string
		opts   []Option
		invs   []commerce.Invoice
		orders []commerce.Order
		txs    []commerce.Transaction
		want   map[string]string
	}{
		{
			name: "the invoice number outranks the order number",
			invs: []commerce.Invoice{inv("1001", "7001", "100.00"), inv("1002", "7002", "100.00")},
			txs:  []commerce.Transaction{sale("a", "100.00", commerce.TxReferences{InvoiceNumber: "1002", OrderNumber: "7001"})},
			want: map[string]string{"a": "invoice 1002 by invoice_number"},
		},
		{
			name: "a PSP reference stored on the invoice",
			invs: func() []commerce.Invoice {
				i := inv("1001", "", "100.00")
				i.PaymentReference = "pi_9"
				return []commerce.Invoice{i}
			}(),
			txs:  []commerce.Transaction{sale("a", "100.00", commerce.TxReferences{SourceID: "ch_9", PaymentReference: "pi_9"})},
			want: map[string]string{"a": "invoice 1001 by psp_reference"},
		},
		{
			name: "Shopify order names match order numbers",
			invs: []commerce.Invoice{inv("1001", "1101", "100.00")},
			txs:  []commerce.Transaction{sale("a", "100.00", commerce.TxReferences{OrderNumber: "#1101"})},
			want: map[string]string{"a": "invoice 1001 by order_number"},
		},
		{
			name: "a merchant reference holding the invoice number",
			invs: []commerce.Invoice{inv("1001", "7001", "100.00")},
			txs:  []commerce.Transaction{sale("a", "100.00", commerce.TxReferences{MerchantReference2: "1001"})},
			want: map[string]string{"a": "invoice 1001 by merchant_reference"},
		},
		{
			name: "two invoices of one order (partial deliveries): each capture finds its amount",
			invs: []commerce.Invoice{inv("1001", "7001", "600.00"), inv("1002", "7001", "400.00")},
			txs: []commerce.Transaction{
				sale("a", "400.00", commerce.TxReferences{OrderNumber: "7001"}),
				sale("b", "600.00", commerce.TxReferences{OrderNumber: "7001"}),
			},
			want: map[string]string{"a": "invoice 1002 by order_number", "b": "invoice 1001 by order_number"},
		},
		{
			name: "several captures of one invoice",
			invs: []commerce.Invoice{inv("1001", "7001", "1000.00"), inv("1002", "7002", "50.00")},
			txs: []commerce.Transaction{
				sale("a", "300.00", commerce.TxReferences{OrderNumber: "7001"}),
				sale("b", "300.00", commerce.TxReferences{OrderNumber: "7001"}),
				sale("c", "400.00", commerce.TxReferences{OrderNumber: "7001"}),
			},
			want: map[string]string{"a": "invoice 1001 by order_number", "b": "invoice 1001 by order_number", "c": "invoice 1001 by order_number"},
		},
		{
			name: "a refund finds the credit invoice through the invoice it credits",
			invs: []commerce.Invoice{inv("1001", "", "100.00"), cred("K1", "", "40.00", "1001")},
			txs:  []commerce.Transaction{refund("r", "-40.00", commerce.TxReferences{InvoiceNumber: "1001"})},
			want: map[string]string{"r": "credit K1 by invoice_number"},
		},
		{
			name: "of two credit invoices the refund takes the one with its amount",
			invs: []commerce.Invoice{inv("1001", "7001", "100.00"), cred("K1", "7001", "60.00", "1001"), cred("K2", "7001", "40.00", "1001")},
			txs:  []commerce.Transaction{refund("r", "-40.00", commerce.TxReferences{OrderNumber: "7001"})},
			want: map[string]string{"r": "credit K2 by order_number"},
		},
		{
			name: "a sale whose key is only on a credit invoice",
			invs: []commerce.Invoice{cred("K1", "7001", "60.00", "1001")},
			txs:  []commerce.Transaction{sale("a", "60.00", commerce.TxReferences{OrderNumber: "7001"})},
			want: map[string]string{"a": "unmatched: wrong_kind"},
		},
		{
			name: "an order without an invoice is the document",
			orders: []commerce.Order{{Number: "#1101", Currency: commerce.SEK, Totals: commerce.Totals{Total: sek(t, "80.00")},
				Payments: []commerce.PaymentRef{{Provider: "stripe", Reference: "pi_7"}}}},
			txs:  []commerce.Transaction{sale("a", "80.00", commerce.TxReferences{PaymentReference: "pi_7"})},
			want: map[string]string{"a": "order 1101 by psp_reference"},
		},
		{
			name: "a document in another currency without exchange rates",
			invs: []commerce.Invoice{invoice(t, commerce.KindInvoice, "1001", "7001", "EUR", "10.00", "25", "2026-11-10")},
			txs:  []commerce.Transaction{sale("a", "110.00", commerce.TxReferences{OrderNumber: "7001"})},
			want: map[string]string{"a": "unmatched: currency"},
		},
		{
			name: "an amount window of 1.00 and a date window of 2 days",
			opts: []Option{WithTolerance(Tolerance{Days: 2, Amount: dec("1"), Rounding: dec("1"), FXPercent: dec("5")})},
			invs: []commerce.Invoice{inv("1001", "", "100.50"), inv("1002", "", "300.00")},
			txs: func() []commerce.Transaction {
				a := sale("a", "100.00", commerce.TxReferences{})
				b := sale("b", "300.00", commerce.TxReferences{})
				a.At, b.At = at("2026-11-12T10:00:00Z"), at("2026-11-13T10:00:00Z")
				return []commerce.Transaction{a, b}
			}(),
			want: map[string]string{"a": "invoice 1001 by amount_date", "b": "unmatched: no_reference"},
		},
		{
			name: "a chargeback reopens the invoice it names",
			invs: []commerce.Invoice{inv("1001", "7001", "100.00")},
			txs:  []commerce.Transaction{tx(t, "cb", commerce.TxChargeback, "dispute", "SEK", "-100.00", "", "", commerce.TxReferences{OrderNumber: "7001"})},
			want: map[string]string{"cb": "invoice 1001 by order_number"},
		},
		{
			name: "a chargeback without keys is not guessed",
			invs: []commerce.Invoice{inv("1001", "7001", "100.00")},
			txs:  []commerce.Transaction{tx(t, "cb", commerce.TxChargeback, "dispute", "SEK", "-100.00", "", "", commerce.TxReferences{})},
			want: map[string]string{"cb": "unmatched: no_reference"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := New(tc.opts...)
			if err != nil {
				t.Fatal(err)
			}
			p := payout(t, "klarna", "P", "2026-11-15", tc.txs...)
			res := mustRun(t, r, Input{Payouts: []commerce.Payout{p}, Invoices: tc.invs, Orders: tc.orders})
			if diff := cmp.Diff(tc.want, outcomes(t, res)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestDifferences(t *testing.T) {
	inv := invoice(t, commerce.KindInvoice, "1001", "7001", "SEK", "100.00", "25", "2026-11-10")
	paid := inv
	paid.Number, paid.OrderNumber, paid.Paid = "1002", "7002", true
	r, err := New()
	if err != nil {
		t.Fatal(err)
	}
	p := payout(t, "klarna", "P", "2026-11-15",
		tx(t, "over", commerce.TxSale, "SALE", "SEK", "130.00", "", "", commerce.TxReferences{OrderNumber: "7001"}),
		tx(t, "again", commerce.TxSale, "SALE", "SEK", "100.00", "", "", commerce.TxReferences{OrderNumber: "7002"}),
	)
	res := mustRun(t, r, Input{Payouts: []commerce.Payout{p}, Invoices: []commerce.Invoice{inv, paid}})
	type d struct {
		Kind   DifferenceKind
		Doc    string
		Amount string
		Owed   Party
	}
	var got []d
	for _, x := range res.Differences {
		got = append(got, d{x.Kind, x.Document.String(), x.Amount.String(), x.OwedBy})
	}
	want := []d{
		{DiffOverpaid, "invoice 1001", "-30.00 SEK", OwedByMerchant},
		{DiffOverpaid, "invoice 1002", "-100.00 SEK", OwedByMerchant},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestDocumentsTheBatchRefuses(t *testing.T) {
	r, err := New()
	if err != nil {
		t.Fatal(err)
	}
	b := r.NewBatch()
	bad := []commerce.Invoice{
		{Kind: "proforma", Number: "1", Currency: commerce.SEK},
		{Kind: commerce.KindInvoice, Number: " ", Currency: commerce.SEK},
		{Kind: commerce.KindInvoice, Number: "2"},
		{Kind: commerce.KindInvoice, Number: "3", Currency: commerce.SEK, Gross: m(t, "1.00", "EUR")},
		{Kind: commerce.KindInvoice, Number: "4", Currency: commerce.SEK, Gross: commerce.NewMoney(dec("1.005"), commerce.SEK)},
	}
	for i := range bad {
		if err := b.AddInvoice(&bad[i]); !errors.Is(err, ErrInvalidInput) {
			t.Errorf("invoice %d: %v", i, err)
		}
	}
	orders := []commerce.Order{
		{Number: ""},
		{Number: "5", Currency: commerce.SEK, Totals: commerce.Totals{Total: sek(t, "10.00")},
			Payments: []commerce.PaymentRef{{Provider: "gift_card", Amount: sek(t, "20.00")}}},
		{Number: "6", Currency: commerce.SEK, Totals: commerce.Totals{Total: sek(t, "-10.00")}},
	}
	for i := range orders {
		if err := b.AddOrder(&orders[i]); !errors.Is(err, ErrInvalidInput) {
			t.Errorf("order %d: %v", i, err)
		}
	}
	dup := commerce.Order{Number: "7", Currency: commerce.SEK, Totals: commerce.Totals{Total: sek(t, "10.00")}}
	for range 2 {
		if err := b.AddOrder(&dup); err != nil {
			t.Fatal(err)
		}
	}
	res, err := b.Reconcile(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if n := len(bad) + len(orders) + 1; len(res.Problems) != n {
		t.Errorf("%d problems, want %d: %+v", len(res.Problems), n, res.Problems)
	}
}

func TestFXNeedsRates(t *testing.T) {
	r, err := New()
	if err != nil {
		t.Fatal(err)
	}
	p := payout(t, "stripe", "po_eur", "2026-11-10", tx(t, "e", commerce.TxSale, "charge", "EUR", "10.00", "", "", commerce.TxReferences{}))
	res := mustRun(t, r, Input{Payouts: []commerce.Payout{p}})
	if res.Payouts[0].Status != PayoutRejected || len(res.Vouchers) != 0 {
		t.Errorf("an EUR payout without rates: %+v", res.Payouts[0])
	}
	r2, err := New(WithFXRates(&vat.ECBRates{}))
	if err != nil {
		t.Fatal(err)
	}
	if res := mustRun(t, r2, Input{Payouts: []commerce.Payout{p}}); res.Payouts[0].Status != PayoutRejected {
		t.Errorf("an EUR payout without a rate for its day: %+v", res.Payouts[0])
	}
}
