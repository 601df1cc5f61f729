package reconcile

import (
	"bytes"
	"context"
	"encoding/csv"
	"slices"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/vat"
)

// A shape is one run over payouts as a connector produces them, booked and
// compared with golden files (testdata/shapes/<name>.json, .csv, .txt).
type shape struct {
	name string
	opts []Option
	in   func(t *testing.T) Input
}

func shapes() []shape {
	return []shape{
		{name: "klarna_settlement", in: klarnaShape},
		{name: "klarna_per_transaction", opts: []Option{WithGranularity(PerTransaction)}, in: klarnaShape},
		{name: "stripe_balance_transactions", in: stripeShape},
		{name: "paypal_tcodes", in: paypalShape},
		{name: "shopify_payments", opts: []Option{WithAccountPlan(multishopPlan())}, in: shopifyShape},
		{name: "gift_card", in: giftCardShape},
		{name: "gift_card_clearing", opts: []Option{WithGiftCardClearing()}, in: giftCardShape},
		{name: "fx_eur_payout", opts: []Option{WithFXRates(testRates()), WithAccountPlan(eurBankPlan())}, in: fxShape},
		{name: "fx_per_transaction", opts: []Option{WithFXRates(testRates()), WithGranularity(PerTransaction)}, in: fxShape},
		{name: "rounding", in: roundingShape},
		{name: "amount_date", in: amountDateShape},
		{name: "bad_input", in: badShape},
		{name: "hold_unmatched", opts: []Option{WithHoldUnmatched()}, in: holdShape},
	}
}

func multishopPlan() AccountPlan {
	p := DefaultAccountPlan()
	p.ResultUnits = map[string]string{"butik-se": "WEB1", "butik-no": "WEB2"}
	return p
}

func eurBankPlan() AccountPlan {
	p := DefaultAccountPlan()
	p.BankByCurrency = map[string]string{"EUR": "1980"}
	return p
}

// testRates are ECB-style rates (units per EUR) for the FX shapes.
func testRates() *vat.ECBRates {
	r := &vat.ECBRates{}
	for _, x := range []struct{ d, c, v string }{
		{"2026-11-02", "SEK", "11.00"}, {"2026-11-03", "SEK", "11.05"}, {"2026-11-10", "SEK", "11.20"},
		{"2026-11-02", "NOK", "11.60"}, {"2026-11-10", "NOK", "11.70"},
	} {
		if err := r.Add(date(x.d), x.c, dec(x.v)); err != nil {
			panic(err)
		}
	}
	return r
}

func credit(inv commerce.Invoice, credits string) commerce.Invoice {
	inv.Credits = credits
	return inv
}

// klarnaShape: a Klarna settlement as the klarna connector maps it. Sales
// with order id, capture id and merchant_reference1 (the order number); fee
// rows with vat_amount; two partial captures of one invoice; a RETURN to a
// credit invoice with a FEE_REFUND; a sale and its REVERSAL (a dispute the
// merchant lost); HOLDBACK and RELEASE; a COMMISSION, the REPAY row the
// connector adds from totals.repay_amount, and a type it did not know.
func klarnaShape(t *testing.T) Input {
	ref := func(order, capture string) commerce.TxReferences {
		return commerce.TxReferences{OrderID: "kl-" + order, CaptureID: capture, OrderNumber: order, PaymentReference: "KLP001"}
	}
	rate := decimal.NewFromInt(25)
	withRate := func(x commerce.Transaction) commerce.Transaction { x.FeeVATRatePercent = &rate; return x }
	ret := tx(t, "KLP001-return", commerce.TxRefund, "RETURN", "SEK", "-300.00", "", "",
		commerce.TxReferences{OrderID: "kl-7001", RefundID: "rf-1", OrderNumber: "7001", MerchantReference: "return-7001-1", PaymentReference: "KLP001"})
	p := payout(t, "klarna", "KLP001", "2026-11-15",
		tx(t, "KLP001-s1", commerce.TxSale, "SALE", "SEK", "1000.00", "", "", ref("7001", "cap-1")),
		withRate(tx(t, "KLP001-f1", commerce.TxFee, "FEE", "SEK", "0.00", "20.00", "5.00", ref("7001", "cap-1"))),
		tx(t, "KLP001-s2a", commerce.TxSale, "SALE", "SEK", "1500.00", "", "", ref("7002", "cap-2a")),
		tx(t, "KLP001-s2b", commerce.TxSale, "SALE", "SEK", "1000.00", "", "", ref("7002", "cap-2b")),
		withRate(tx(t, "KLP001-f2", commerce.TxFee, "FEE", "SEK", "0.00", "50.00", "12.50", ref("7002", "cap-2a"))),
		ret,
		withRate(tx(t, "KLP001-fr", commerce.TxFeeRefund, "FEE_REFUND", "SEK", "0.00", "-4.00", "-1.00", ref("7001", "cap-1"))),
		tx(t, "KLP001-s3", commerce.TxSale, "SALE", "SEK", "800.00", "", "", ref("7003", "cap-3")),
		tx(t, "KLP001-rv", commerce.TxReversal, "REVERSAL", "SEK", "-800.00", "", "",
			commerce.TxReferences{OrderID: "kl-7003", OrderNumber: "7003", CustomID: "KRN-77", PaymentReference: "KLP001"}),
		tx(t, "KLP001-hb", commerce.TxHoldback, "HOLDBACK", "SEK", "-200.00", "", "", commerce.TxReferences{PaymentReference: "KLP001"}),
		tx(t, "KLP001-rl", commerce.TxRelease, "RELEASE", "SEK", "150.00", "", "", commerce.TxReferences{PaymentReference: "KLP001"}),
		tx(t, "KLP001-cm", commerce.TxAdjustment, "COMMISSION", "SEK", "10.00", "", "", commerce.TxReferences{PaymentReference: "KLP001"}),
		tx(t, "KLP001-repay", commerce.TxAdjustment, "REPAY", "SEK", "-50.00", "", "", commerce.TxReferences{PaymentReference: "KLP001"}),
		tx(t, "KLP001-x", commerce.TxOther, "LOAN_PAYOUT", "SEK", "100.00", "", "", commerce.TxReferences{PaymentReference: "KLP001"}),
	)
	return Input{
		Payouts: []commerce.Payout{p},
		Invoices: []commerce.Invoice{
			invoice(t, commerce.KindInvoice, "2001", "7001", "SEK", "1000.00", "25", "2026-11-10"),
			invoice(t, commerce.KindInvoice, "2002", "7002", "SEK", "2500.00", "25", "2026-11-10"),
			invoice(t, commerce.KindInvoice, "2003", "7003", "SEK", "800.00", "25", "2026-11-10"),
			credit(invoice(t, commerce.KindCreditInvoice, "K2001", "7001", "SEK", "300.00", "25", "2026-11-12"), "2001"),
		},
	}
}

// stripeShape: balance transactions of an automatic payout, classified by
// reporting_category as the stripe connector does, with fee_details
// without tax (reverse charge). One charge is found by its PaymentIntent
// stored on the order, one by metadata order number; a refund to a credit
// invoice; a dispute with its fee and the dispute won back; a monthly fee
// row; risk reserve held and released; another adjustment; a charge whose
// source is on no document, matched by amount and date.
func stripeShape(t *testing.T) Input {
	p := payout(t, "stripe", "po_1", "2026-11-16",
		tx(t, "txn_c1", commerce.TxSale, "charge", "SEK", "1000.00", "29.00", "0.00",
			commerce.TxReferences{SourceID: "ch_1", CaptureID: "ch_1", PaymentReference: "pi_A"}),
		tx(t, "txn_c2", commerce.TxSale, "charge", "SEK", "500.00", "14.50", "0.00",
			commerce.TxReferences{SourceID: "ch_2", CaptureID: "ch_2", PaymentReference: "pi_B", OrderNumber: "8002"}),
		tx(t, "txn_r1", commerce.TxRefund, "refund", "SEK", "-200.00", "0.00", "0.00",
			commerce.TxReferences{SourceID: "re_1", RefundID: "re_1", CaptureID: "ch_1", PaymentReference: "pi_A"}),
		tx(t, "txn_d1", commerce.TxChargeback, "dispute", "SEK", "-500.00", "150.00", "0.00",
			commerce.TxReferences{SourceID: "dp_1", CaptureID: "ch_2", PaymentReference: "pi_B", OrderNumber: "8002"}),
		tx(t, "txn_d2", commerce.TxReversal, "dispute_reversal", "SEK", "500.00", "0.00", "0.00",
			commerce.TxReferences{SourceID: "dp_1", CaptureID: "ch_2", PaymentReference: "pi_B", OrderNumber: "8002"}),
		tx(t, "txn_fee", commerce.TxFee, "fee", "SEK", "0.00", "25.00", "0.00", commerce.TxReferences{SourceID: "fee_1"}),
		tx(t, "txn_rr", commerce.TxHoldback, "risk_reserved_funds", "SEK", "-100.00", "0.00", "0.00", commerce.TxReferences{}),
		tx(t, "txn_rl", commerce.TxRelease, "risk_reserved_funds", "SEK", "60.00", "0.00", "0.00", commerce.TxReferences{}),
		tx(t, "txn_adj", commerce.TxAdjustment, "other_adjustment", "SEK", "3.00", "0.00", "0.00", commerce.TxReferences{SourceID: "adj_1"}),
		tx(t, "txn_c3", commerce.TxSale, "charge", "SEK", "750.00", "22.00", "0.00", commerce.TxReferences{SourceID: "ch_3", CaptureID: "ch_3"}),
	)
	return Input{
		Payouts: []commerce.Payout{p},
		Invoices: []commerce.Invoice{
			invoice(t, commerce.KindInvoice, "3001", "8001", "SEK", "1000.00", "25", "2026-11-11"),
			credit(invoice(t, commerce.KindCreditInvoice, "K3001", "8001", "SEK", "200.00", "25", "2026-11-12"), "3001"),
			invoice(t, commerce.KindInvoice, "3002", "8002", "SEK", "500.00", "25", "2026-11-11"),
			invoice(t, commerce.KindInvoice, "3004", "8004", "SEK", "750.00", "25", "2026-11-12"),
		},
		Orders: []commerce.Order{
			{Number: "8001", Currency: commerce.SEK, Totals: commerce.Totals{Total: sek(t, "1000.00")},
				Payments: []commerce.PaymentRef{{Provider: "stripe", Reference: "pi_A", Amount: sek(t, "1000.00")}}},
		},
	}
}

// paypalShape: the rows between two T0400 withdrawals, as the paypal
// connector groups them: T0006 sales with invoice_id or custom_id, a T1107
// refund with part of the fee returned (and no credit invoice), a T0106
// chargeback fee, a T1110 hold and its T1111 release, an unknown code, and
// the T0400 withdrawal itself (kind payout).
func paypalShape(t *testing.T) Input {
	wd := tx(t, "WD1", commerce.TxPayout, "T0400", "SEK", "-1300.52", "", "", commerce.TxReferences{})
	p := payout(t, "paypal", "WD1.20261118T090000Z", "2026-11-18",
		tx(t, "PP1", commerce.TxSale, "T0006", "SEK", "1200.00", "41.10", "", commerce.TxReferences{InvoiceNumber: "4001", CustomID: "9001", CaptureID: "PP1"}),
		tx(t, "PP2", commerce.TxSale, "T0006", "SEK", "300.00", "12.60", "", commerce.TxReferences{CustomID: "9002", CaptureID: "PP2"}),
		tx(t, "PP3", commerce.TxRefund, "T1107", "SEK", "-100.00", "-2.94", "", commerce.TxReferences{InvoiceNumber: "4001", RefundID: "PP3", CaptureID: "PP1"}),
		tx(t, "PP4", commerce.TxFee, "T0106", "SEK", "0.00", "50.00", "", commerce.TxReferences{SourceID: "PP1"}),
		tx(t, "PP5", commerce.TxHoldback, "T1110", "SEK", "-300.00", "", "", commerce.TxReferences{SourceID: "PP2"}),
		tx(t, "PP6", commerce.TxRelease, "T1111", "SEK", "300.00", "", "", commerce.TxReferences{SourceID: "PP2"}),
		tx(t, "PP7", commerce.TxOther, "T9701", "SEK", "1.28", "", "", commerce.TxReferences{}),
		wd,
	)
	return Input{
		Payouts: []commerce.Payout{p},
		Invoices: []commerce.Invoice{
			invoice(t, commerce.KindInvoice, "4001", "9001", "SEK", "1200.00", "25", "2026-11-14"),
			invoice(t, commerce.KindInvoice, "4002", "9002", "SEK", "300.00", "25", "2026-11-14"),
		},
	}
}

// shopifyShape: a Shopify Payments payout of shop butik-se (multishop,
// result unit WEB1): CHARGE rows with the order name ("#1101") and fee,
// one order without an invoice (matched as the order), a REFUND of it, a
// CHARGEBACK_FEE, RESERVED_FUNDS, an ADJUSTMENT and the payout's own
// TRANSFER row.
func shopifyShape(t *testing.T) Input {
	order := func(n, shop, total string) commerce.Order {
		return commerce.Order{Number: "#" + n, Shop: shop, Currency: commerce.SEK, Totals: commerce.Totals{Total: sek(t, total)},
			CreatedAt: at("2026-11-13T10:00:00Z"),
			Payments:  []commerce.PaymentRef{{Provider: "shopify_payments", Reference: "gid://shopify/OrderTransaction/" + n, Amount: sek(t, total)}}}
	}
	charge := func(id, n, amount, fee string) commerce.Transaction {
		return tx(t, id, commerce.TxSale, "CHARGE", "SEK", amount, fee, "0.00",
			commerce.TxReferences{OrderID: "gid://shopify/Order/" + n, OrderNumber: "#" + n, SourceID: id + "-src"})
	}
	p := payout(t, "shopify_payments", "gid://shopify/ShopifyPaymentsPayout/55", "2026-11-17",
		charge("bt1", "1101", "599.00", "17.67"),
		charge("bt2", "1102", "1299.00", "38.37"),
		tx(t, "bt3", commerce.TxRefund, "REFUND", "SEK", "-599.00", "0.00", "0.00",
			commerce.TxReferences{OrderID: "gid://shopify/Order/1101", OrderNumber: "#1101"}),
		tx(t, "bt4", commerce.TxFee, "CHARGEBACK_FEE", "SEK", "0.00", "150.00", "0.00", commerce.TxReferences{OrderNumber: "#1102"}),
		tx(t, "bt5", commerce.TxHoldback, "RESERVED_FUNDS", "SEK", "-100.00", "0.00", "0.00", commerce.TxReferences{}),
		tx(t, "bt6", commerce.TxAdjustment, "ADJUSTMENT", "SEK", "5.00", "0.00", "0.00", commerce.TxReferences{}),
		tx(t, "bt7", commerce.TxPayout, "TRANSFER", "SEK", "-997.96", "0.00", "0.00", commerce.TxReferences{}),
	)
	p.Source = commerce.Ref{System: "shopify", Account: "butik-se", ID: p.ID}
	return Input{
		Payouts:  []commerce.Payout{p},
		Invoices: []commerce.Invoice{invoice(t, commerce.KindInvoice, "5102", "1102", "SEK", "1299.00", "25", "2026-11-14")},
		Orders:   []commerce.Order{order("1101", "butik-se", "599.00"), order("1102", "butik-se", "1299.00")},
	}
}

// giftCardShape: an order of 1000.00 paid 300.00 with a gift card and
// 700.00 through Klarna: the Klarna sale settles the invoice in full.
func giftCardShape(t *testing.T) Input {
	p := payout(t, "klarna", "KLP-GC", "2026-11-15",
		tx(t, "gc-s", commerce.TxSale, "SALE", "SEK", "700.00", "", "", commerce.TxReferences{OrderID: "kl-7100", OrderNumber: "7100"}),
		tx(t, "gc-f", commerce.TxFee, "FEE", "SEK", "0.00", "14.00", "3.50", commerce.TxReferences{OrderID: "kl-7100", OrderNumber: "7100"}),
	)
	return Input{
		Payouts:  []commerce.Payout{p},
		Invoices: []commerce.Invoice{invoice(t, commerce.KindInvoice, "2100", "7100", "SEK", "1000.00", "25", "2026-11-10")},
		Orders: []commerce.Order{{Number: "7100", Currency: commerce.SEK, Totals: commerce.Totals{Total: sek(t, "1000.00")},
			Payments: []commerce.PaymentRef{
				{Provider: "klarna", Reference: "kl-7100", Amount: sek(t, "700.00")},
				{Provider: "gift_card", Reference: "gc-xyz", Amount: sek(t, "300.00")},
			}}},
	}
}

// fxShape: a Stripe payout in EUR to a EUR bank account, books in SEK. A
// charge settles a EUR invoice (booked at 11.00 SEK/EUR on its date, paid
// out at 11.20: an exchange gain), another settles a SEK invoice (converted
// at the payout's rate; the rest within 5 % closes as an exchange loss).
func fxShape(t *testing.T) Input {
	p := payout(t, "stripe", "po_eur", "2026-11-10",
		tx(t, "txn_e1", commerce.TxSale, "charge", "EUR", "100.00", "2.90", "0.00", commerce.TxReferences{SourceID: "ch_e1", OrderNumber: "8101"}),
		tx(t, "txn_e2", commerce.TxSale, "charge", "EUR", "50.00", "1.45", "0.00", commerce.TxReferences{SourceID: "ch_e2", OrderNumber: "8102"}),
	)
	eurInv := invoice(t, commerce.KindInvoice, "3101", "8101", "EUR", "100.00", "25", "2026-11-02")
	return Input{
		Payouts:  []commerce.Payout{p},
		Invoices: []commerce.Invoice{eurInv, invoice(t, commerce.KindInvoice, "3102", "8102", "SEK", "565.00", "25", "2026-11-03")},
	}
}

// roundingShape: a payment öre short of the invoice (closed on 3740), and
// a payout 0.30 more than its transactions (within the tolerance: 3740).
func roundingShape(t *testing.T) Input {
	p := payout(t, "klarna", "KLP-R", "2026-11-15",
		tx(t, "r-s", commerce.TxSale, "SALE", "SEK", "1249.60", "", "", commerce.TxReferences{OrderNumber: "7200"}),
	)
	p.Amount = sek(t, "1249.90")
	return Input{
		Payouts:  []commerce.Payout{p},
		Invoices: []commerce.Invoice{invoice(t, commerce.KindInvoice, "2200", "7200", "SEK", "1250.00", "25", "2026-11-10")},
	}
}

// amountDateShape: sales without keys. One fits exactly one invoice's
// amount within the date window; one fits two (ambiguous); one fits none
// (the nearest are listed); one fits an invoice outside the window; a
// refund without keys finds its credit invoice by amount.
func amountDateShape(t *testing.T) Input {
	nokey := func(id, kind, amount string) commerce.Transaction {
		k := commerce.TxSale
		if kind == "refund" {
			k = commerce.TxRefund
		}
		x := tx(t, id, k, kind, "SEK", amount, "", "", commerce.TxReferences{})
		x.At = at("2026-11-12T12:00:00Z")
		return x
	}
	p := payout(t, "klarna", "KLP-AD", "2026-11-15",
		nokey("ad-1", "sale", "499.00"),
		nokey("ad-2", "sale", "299.00"),
		nokey("ad-3", "sale", "123.45"),
		nokey("ad-4", "sale", "777.00"),
		nokey("ad-5", "refund", "-99.00"),
	)
	return Input{
		Payouts: []commerce.Payout{p},
		Invoices: []commerce.Invoice{
			invoice(t, commerce.KindInvoice, "6001", "", "SEK", "499.00", "25", "2026-11-11"),
			invoice(t, commerce.KindInvoice, "6002", "", "SEK", "299.00", "25", "2026-11-10"),
			invoice(t, commerce.KindInvoice, "6003", "", "SEK", "299.00", "25", "2026-11-13"),
			invoice(t, commerce.KindInvoice, "6004", "", "SEK", "120.00", "25", "2026-11-12"),
			invoice(t, commerce.KindInvoice, "6005", "", "SEK", "125.00", "25", "2026-11-12"),
			invoice(t, commerce.KindInvoice, "6006", "", "SEK", "777.00", "25", "2026-10-01"),
			credit(invoice(t, commerce.KindCreditInvoice, "K6007", "", "SEK", "99.00", "25", "2026-11-12"), "6000"),
		},
	}
}

// badShape: payouts and documents that cannot be booked as given.
func badShape(t *testing.T) Input {
	ok := payout(t, "klarna", "KLP-OK", "2026-11-15",
		tx(t, "ok-s", commerce.TxSale, "SALE", "SEK", "100.00", "", "", commerce.TxReferences{OrderNumber: "7300"}))
	notSumming := payout(t, "klarna", "KLP-SUM", "2026-11-15",
		tx(t, "sum-s", commerce.TxSale, "SALE", "SEK", "100.00", "", "", commerce.TxReferences{OrderNumber: "7301"}))
	notSumming.Amount = sek(t, "150.00")
	foreign := payout(t, "klarna", "KLP-CUR", "2026-11-15",
		tx(t, "cur-s", commerce.TxSale, "SALE", "SEK", "100.00", "", "", commerce.TxReferences{OrderNumber: "7302"}))
	foreign.Transactions = append(foreign.Transactions, tx(t, "cur-e", commerce.TxSale, "SALE", "EUR", "10.00", "", "", commerce.TxReferences{}))
	// Returns and fees exceeding sales: Klarna debits the merchant.
	negative := payout(t, "klarna", "KLP-NEG", "2026-11-16",
		tx(t, "neg-r", commerce.TxRefund, "RETURN", "SEK", "-400.00", "", "", commerce.TxReferences{OrderNumber: "7303"}),
		tx(t, "neg-f", commerce.TxFee, "FEE", "SEK", "0.00", "10.00", "2.50", commerce.TxReferences{}))
	inTransit := payout(t, "klarna", "KLP-LATER", "2026-11-30",
		tx(t, "later-s", commerce.TxSale, "SALE", "SEK", "100.00", "", "", commerce.TxReferences{OrderNumber: "7300"}))
	inTransit.Status = commerce.PayoutInTransit
	unknownProvider := payout(t, "acme_pay", "AC-1", "2026-11-15",
		tx(t, "ac-s", commerce.TxSale, "charge", "SEK", "100.00", "3.00", "", commerce.TxReferences{OrderNumber: "7300"}))
	netWrong := payout(t, "klarna", "KLP-NET", "2026-11-15",
		tx(t, "net-s", commerce.TxSale, "SALE", "SEK", "100.00", "", "", commerce.TxReferences{OrderNumber: "7300"}))
	netWrong.Transactions[0].Net = sek(t, "90.00")
	netWrong.Amount = sek(t, "90.00")
	negInv := invoice(t, commerce.KindInvoice, "2399", "", "SEK", "100.00", "25", "2026-11-10")
	negInv.Gross = sek(t, "-100.00")
	return Input{
		Payouts: []commerce.Payout{ok, notSumming, foreign, negative, inTransit, ok, unknownProvider, netWrong},
		Invoices: []commerce.Invoice{
			invoice(t, commerce.KindInvoice, "2300", "7300", "SEK", "100.00", "25", "2026-11-10"),
			invoice(t, commerce.KindInvoice, "2300", "7399", "SEK", "55.00", "25", "2026-11-10"),
			credit(invoice(t, commerce.KindCreditInvoice, "K2303", "7303", "SEK", "400.00", "25", "2026-11-12"), "2303"),
			negInv,
		},
	}
}

// holdShape: with WithHoldUnmatched, a payout with an unmatched sale waits;
// the other is booked.
func holdShape(t *testing.T) Input {
	return Input{
		Payouts: []commerce.Payout{
			payout(t, "klarna", "KLP-H1", "2026-11-15",
				tx(t, "h1-s", commerce.TxSale, "SALE", "SEK", "100.00", "", "", commerce.TxReferences{OrderNumber: "7400"}),
				tx(t, "h1-u", commerce.TxSale, "SALE", "SEK", "55.00", "", "", commerce.TxReferences{OrderNumber: "7499"})),
			payout(t, "klarna", "KLP-H2", "2026-11-16",
				tx(t, "h2-s", commerce.TxSale, "SALE", "SEK", "200.00", "", "", commerce.TxReferences{OrderNumber: "7401"})),
		},
		Invoices: []commerce.Invoice{
			invoice(t, commerce.KindInvoice, "2400", "7400", "SEK", "100.00", "25", "2026-11-10"),
			invoice(t, commerce.KindInvoice, "2401", "7401", "SEK", "200.00", "25", "2026-11-10"),
		},
	}
}

func TestPayoutShapes(t *testing.T) {
	for _, sh := range shapes() {
		t.Run(sh.name, func(t *testing.T) {
			r, err := New(sh.opts...)
			if err != nil {
				t.Fatal(err)
			}
			in := sh.in(t)
			res, err := r.Run(context.Background(), in)
			if err != nil {
				t.Fatal(err)
			}
			checkInvariants(t, r, in, res)
			var js, cs bytes.Buffer
			if err := res.WriteJSON(&js); err != nil {
				t.Fatal(err)
			}
			if err := res.WriteCSV(&cs); err != nil {
				t.Fatal(err)
			}
			golden(t, "shapes/"+sh.name+".json", js.Bytes())
			golden(t, "shapes/"+sh.name+".csv", cs.Bytes())
			golden(t, "shapes/"+sh.name+".txt", []byte(res.SummaryText()))
		})
	}
}

// checkInvariants holds for every run: every voucher balances, nothing is
// dropped (every transaction has a status and every unmatched one is
// listed), the bank lines of a booked payout sum to its amount, and the
// same input gives the same output byte for byte.
func checkInvariants(t *testing.T, r *Reconciler, in Input, res *Result) {
	t.Helper()
	bank := map[string]int64{}
	for _, vo := range res.Vouchers {
		if err := vo.Validate(); err != nil {
			t.Errorf("voucher %s: %v", vo.ID, err)
		}
		if vo.Postings[0].Amount.Currency != res.BookCurrency {
			t.Errorf("voucher %s not in the book currency", vo.ID)
		}
		if n := len([]rune(vo.Text)); n > maxText {
			t.Errorf("voucher %s text of %d characters", vo.ID, n)
		}
		for _, p := range vo.Postings {
			if p.Account == r.plan.Bank || p.Account == r.plan.bank(commerce.EUR) {
				v, _ := minorIn(p.Amount, res.BookCurrency)
				bank[vo.Sources[0]] += v
			}
		}
	}
	var cs bytes.Buffer
	if err := res.WriteCSV(&cs); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&cs).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, p := range in.Payouts {
		total += len(p.Transactions)
	}
	if len(rows)-1 != total {
		t.Errorf("the CSV has %d rows for %d transactions", len(rows)-1, total)
	}
	unmatched := 0
	for _, row := range rows[1:] {
		switch row[11] {
		case "":
			t.Errorf("transaction %s has no status", row[3])
		case string(TxUnmatched):
			unmatched++
		}
	}
	if unmatched != len(res.Unmatched) {
		t.Errorf("%d unmatched rows, %d listed", unmatched, len(res.Unmatched))
	}
	for i, pr := range res.Payouts {
		if pr.Status != PayoutBooked || pr.Amount.Currency != res.BookCurrency {
			continue
		}
		want, _ := minorIn(in.Payouts[i].Amount, res.BookCurrency)
		if bank[pr.ID] != want {
			t.Errorf("payout %s: bank lines sum to %d, payout is %d", pr.ID, bank[pr.ID], want)
		}
	}
	again, err := r.Run(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	var a, b bytes.Buffer
	if err := res.WriteJSON(&a); err != nil {
		t.Fatal(err)
	}
	if err := again.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("the same input gave a different result")
	}
	if slices.ContainsFunc(res.Problems, func(p Problem) bool { return strings.TrimSpace(p.Detail) == "" }) {
		t.Error("a problem without a detail")
	}
}
