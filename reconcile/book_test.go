package reconcile

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"

	"github.com/knyt/knyt/commerce"
)

// Fee VAT per provider and fee type: the rule of the transaction's
// provider type, the provider's own VAT figure, a rate on the transaction,
// and VAT a foreign provider charged.
func TestFeeTreatments(t *testing.T) {
	twenty := decimal.NewFromInt(20)
	withRate := func(x commerce.Transaction, r decimal.Decimal) commerce.Transaction {
		x.FeeVATRatePercent = &r
		return x
	}
	tests := []struct {
		name string
		opts []Option
		prov string
		txs  []commerce.Transaction
		want []posting
	}{
		{
			name: "a fee type with its own rule: VAT charged, split from the fee the provider deducted",
			opts: []Option{WithFeePolicy("paypal", FeePolicy{
				Default: FeeRule{Treatment: Exempt, Account: BankFees},
				ByType:  map[string]FeeRule{"T0106": {Treatment: VATCharged, RatePercent: decimal.NewFromInt(25), Account: CardFees}},
			})},
			prov: "paypal",
			txs: []commerce.Transaction{
				tx(t, "f1", commerce.TxFee, "T0106", "SEK", "0.00", "125.00", "", commerce.TxReferences{}),
				tx(t, "f2", commerce.TxFee, "T0107", "SEK", "0.00", "10.00", "", commerce.TxReferences{}),
			},
			want: []posting{{"1930", "-135.00"}, {"6040", "100.00"}, {"6570", "10.00"}, {"2641", "25.00"}},
		},
		{
			name: "the rate on the transaction (Klarna vat_rate) splits the fee",
			prov: "klarna",
			txs:  []commerce.Transaction{withRate(tx(t, "f", commerce.TxFee, "FEE", "SEK", "0.00", "120.00", "", commerce.TxReferences{}), twenty)},
			want: []posting{{"1930", "-120.00"}, {"6064", "100.00"}, {"2641", "20.00"}},
		},
		{
			name: "VAT a foreign provider charged is not deductible and not reverse charged",
			prov: "stripe",
			txs: []commerce.Transaction{
				tx(t, "f1", commerce.TxFee, "fee", "SEK", "0.00", "100.00", "23.00", commerce.TxReferences{}),
				tx(t, "f2", commerce.TxFee, "fee", "SEK", "0.00", "10.00", "0.00", commerce.TxReferences{}),
			},
			want: []posting{{"1930", "-133.00"}, {"6040", "110.00"}, {"6998", "23.00"}, {"2645", "2.50"}, {"2614", "-2.50"}},
		},
		{
			name: "a fee refund under reverse charge reverses the pair",
			prov: "stripe",
			txs:  []commerce.Transaction{tx(t, "fr", commerce.TxFeeRefund, "fee", "SEK", "0.00", "-18.00", "0.00", commerce.TxReferences{})},
			want: []posting{{"1930", "18.00"}, {"6040", "-18.00"}, {"2645", "-4.50"}, {"2614", "4.50"}},
		},
		{
			name: "reverse-charge VAT is rounded half up on the voucher's fees",
			prov: "stripe",
			txs: []commerce.Transaction{
				tx(t, "f1", commerce.TxFee, "fee", "SEK", "0.00", "0.05", "0.00", commerce.TxReferences{}),
				tx(t, "f2", commerce.TxFee, "fee", "SEK", "0.00", "0.05", "0.00", commerce.TxReferences{}),
			},
			want: []posting{{"1930", "-0.10"}, {"6040", "0.10"}, {"2645", "0.03"}, {"2614", "-0.03"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := New(tc.opts...)
			if err != nil {
				t.Fatal(err)
			}
			res := mustRun(t, r, Input{Payouts: []commerce.Payout{payout(t, tc.prov, "P", "2026-11-15", tc.txs...)}})
			if len(res.Vouchers) != 1 {
				t.Fatalf("%d vouchers: %+v", len(res.Vouchers), res.Payouts)
			}
			if diff := cmp.Diff(tc.want, postingsOf(res.Vouchers[0])); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// The series and result units reach the vouchers; an order's shop gives
// the receivable and the fee its unit, the payout's shop the rest.
func TestSeriesAndResultUnits(t *testing.T) {
	plan := DefaultAccountPlan()
	plan.ResultUnits = map[string]string{"se": "WEB1", "no": "WEB2"}
	plan.DefaultResultUnit = "WEB0"
	r, err := New(WithAccountPlan(plan), WithSeries("K"))
	if err != nil {
		t.Fatal(err)
	}
	p := payout(t, "stripe", "po", "2026-11-15",
		tx(t, "a", commerce.TxSale, "charge", "SEK", "100.00", "2.00", "0.00", commerce.TxReferences{OrderNumber: "1"}),
		tx(t, "b", commerce.TxAdjustment, "other_adjustment", "SEK", "1.00", "0.00", "0.00", commerce.TxReferences{}))
	p.Source.Account = "no"
	res := mustRun(t, r, Input{Payouts: []commerce.Payout{p},
		Invoices: []commerce.Invoice{invoice(t, commerce.KindInvoice, "10", "1", "SEK", "100.00", "25", "2026-11-10")},
		Orders:   []commerce.Order{{Number: "1", Shop: "se", Currency: commerce.SEK, Totals: commerce.Totals{Total: sek(t, "100.00")}}}})
	vo := res.Vouchers[0]
	if vo.Series != "K" {
		t.Errorf("series %q", vo.Series)
	}
	units := map[string]string{}
	for _, p := range vo.Postings {
		if len(p.Dimensions) > 0 {
			units[p.Account+" "+p.Text] = p.Dimensions[0].Object
		}
	}
	want := map[string]string{"6040 Avgifter Stripe": "WEB1", "1686 Faktura 10": "WEB1", "1686 Ej avstämd b": "WEB2"}
	if diff := cmp.Diff(want, units); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
