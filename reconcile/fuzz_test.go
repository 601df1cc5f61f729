package reconcile

import (
	"context"
	"fmt"
	"testing"

	"github.com/knyt/knyt/commerce"
)

// FuzzReconcile builds payouts and documents from arbitrary bytes and
// checks what must hold for any input: the run does not fail, every
// voucher balances to exactly zero in the book currency, every transaction
// is accounted for, a booked payout's bank lines sum to it, and after
// Commit a rerun books nothing.
func FuzzReconcile(f *testing.F) {
	for _, seed := range [][]byte{
		{0, 1, 10, 2, 20, 3, 30, 4, 40},
		{1, 0, 255, 7, 128, 9, 3, 200, 1, 50, 6, 6, 6, 6},
		{2, 5, 5, 5, 5, 5, 5, 5, 5, 11, 12, 13},
		{3, 250, 251, 252, 253, 254, 255, 0, 1},
		{4, 8, 100, 9, 100, 10, 100, 12, 1},
	} {
		f.Add(seed)
	}
	kinds := []commerce.TransactionKind{commerce.TxSale, commerce.TxRefund, commerce.TxFee, commerce.TxFeeRefund, commerce.TxChargeback,
		commerce.TxReversal, commerce.TxAdjustment, commerce.TxHoldback, commerce.TxRelease, commerce.TxPayout, commerce.TxCurrencyConv, commerce.TxOther}
	providers := []string{"klarna", "stripe", "paypal", "shopify_payments"}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < 2 || len(data) > 400 {
			return
		}
		var opts []Option
		mode := data[0]
		if mode&1 != 0 {
			opts = append(opts, WithGranularity(PerTransaction))
		}
		if mode&2 != 0 {
			opts = append(opts, WithHoldUnmatched())
		}
		if mode&4 != 0 {
			opts = append(opts, WithGiftCardClearing())
		}
		r, err := New(opts...)
		if err != nil {
			t.Fatal(err)
		}
		var in Input
		for i := range 6 {
			in.Invoices = append(in.Invoices, invoice(t, commerce.KindInvoice, fmt.Sprint(100+i), fmt.Sprint(700+i), "SEK",
				fmt.Sprintf("%d.%02d", 100*(i+1), i*7), "25", "2026-11-10"))
		}
		in.Invoices = append(in.Invoices, credit(invoice(t, commerce.KindCreditInvoice, "K100", "700", "SEK", "40.00", "25", "2026-11-11"), "100"))
		in.Orders = []commerce.Order{{Number: "701", Currency: commerce.SEK, Totals: commerce.Totals{Total: sek(t, "200.07")},
			Payments: []commerce.PaymentRef{{Provider: "klarna", Reference: "kl-701"}, {Provider: "gift_card", Amount: sek(t, "50.00")}}}}
		data = data[1:]
		var p *commerce.Payout
		n := 0
		for len(data) >= 2 {
			op, v := data[0], data[1]
			data = data[2:]
			if p == nil || op%16 == 15 {
				in.Payouts = append(in.Payouts, commerce.Payout{ID: fmt.Sprint("P", len(in.Payouts)), Provider: providers[int(op)%len(providers)],
					Status: commerce.PayoutPaid, ArrivalDate: date("2026-11-15"), Amount: commerce.Zero(commerce.SEK)})
				p = &in.Payouts[len(in.Payouts)-1]
				if op%16 == 15 {
					continue
				}
			}
			kind := kinds[int(op)%len(kinds)]
			amount := int64(v) * 137
			if kind == commerce.TxRefund || kind == commerce.TxChargeback || kind == commerce.TxHoldback || (kind == commerce.TxReversal && v%2 == 0) {
				amount = -amount
			}
			x := commerce.Transaction{ID: fmt.Sprint("t", n), Provider: p.Provider, Kind: kind, ProviderType: string(kind),
				Amount: commerce.FromMinor(amount, commerce.SEK)}
			n++
			if kind == commerce.TxFee || kind == commerce.TxFeeRefund {
				fee := int64(v) * 3
				if kind == commerce.TxFeeRefund {
					fee = -fee
				}
				x.Amount = commerce.Zero(commerce.SEK)
				x.Fee = commerce.FromMinor(fee, commerce.SEK)
				if op&32 != 0 {
					x.FeeVAT = commerce.FromMinor(fee/4, commerce.SEK)
				}
			} else if op&64 != 0 {
				x.Fee = commerce.FromMinor(int64(v)%50, commerce.SEK)
			}
			switch (op >> 4) % 4 {
			case 1:
				x.References.OrderNumber = fmt.Sprint(700 + int(v)%7)
			case 2:
				x.References.InvoiceNumber = fmt.Sprint(100 + int(v)%7)
			case 3:
				x.References.OrderID = "kl-701"
			}
			x.Net, _ = x.ComputeNet()
			p.Transactions = append(p.Transactions, x)
			if kind != commerce.TxPayout {
				p.Amount, _ = p.Amount.Add(x.Net)
			}
			if op&128 != 0 && v%5 == 0 {
				p.Amount, _ = p.Amount.Add(commerce.FromMinor(int64(v%3)*37-37, commerce.SEK))
			}
		}
		res, err := r.Run(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		checkInvariants(t, r, in, res)
		if err := r.Commit(context.Background(), res); err != nil {
			t.Fatal(err)
		}
		again, err := r.Run(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		if len(again.Vouchers) != 0 {
			t.Fatalf("booked again after Commit: %v", voucherIDs(again))
		}
	})
}
