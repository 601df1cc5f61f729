package klarna_test

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/connector"
	"github.com/knyt/knyt/klarna"
	"github.com/knyt/knyt/klarna/klarnatest"
)

// Capture on delivery against the fake: the key is derived from the
// delivery, so running this again after a crash captures nothing twice.
func ExampleClient_Capture() {
	fake := klarnatest.NewServer()
	defer fake.Close()
	orderID, _ := fake.AddOrder(klarnatest.NewOrder{Amount: 129900, Currency: "SEK", MerchantReference1: "1001"})

	c, err := klarna.New(klarnatest.DefaultUsername, klarnatest.DefaultPassword, klarna.WithBaseURL(fake.URL()))
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	key := connector.IdempotencyKey("klarna", "capture", orderID, "delivery-1")
	cp, err := c.Capture(ctx, connector.CaptureRequest{
		PaymentReference: orderID, OrderNumber: "1001", Reference: "delivery-1",
		Amount: commerce.FromMinor(99900, commerce.SEK),
	}, connector.WithIdempotencyKey(key))
	if err != nil {
		panic(err)
	}
	p, _ := c.Payment(ctx, orderID)
	rest, _ := p.Remaining()
	fmt.Println("captured", cp.Amount, "for order", cp.OrderNumber)
	fmt.Println("payment", p.Status, "remaining", rest)

	// Asking for more than is left is refused with the reason.
	_, err = c.Capture(ctx, connector.CaptureRequest{PaymentReference: orderID, Amount: commerce.FromMinor(50000, commerce.SEK)},
		connector.WithIdempotencyKey(connector.IdempotencyKey("klarna", "capture", orderID, "delivery-2")))
	fmt.Println(connector.KindOf(err), strings.Contains(err.Error(), "exceeds the remaining authorized 300.00 SEK"))
	// Output:
	// captured 999.00 SEK for order 1001
	// payment partially_captured remaining 300.00 SEK
	// conflict true
}

// Reconcile a payout: its transactions, normalised, sum to the amount paid.
func ExampleClient_PayoutTransactions() {
	fake := klarnatest.NewServer(klarnatest.WithStartTime(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)))
	defer fake.Close()
	c, _ := klarna.New(klarnatest.DefaultUsername, klarnatest.DefaultPassword, klarna.WithBaseURL(fake.URL()))
	ctx := context.Background()
	orderID, _ := fake.AddOrder(klarnatest.NewOrder{Amount: 100000, MerchantReference1: "1002"})
	if _, err := c.Capture(ctx, connector.CaptureRequest{PaymentReference: orderID, Amount: commerce.FromMinor(100000, commerce.SEK)},
		connector.WithIdempotencyKey(connector.IdempotencyKey("klarna", "capture", orderID))); err != nil {
		panic(err)
	}
	fake.Advance(24 * time.Hour)
	refs := fake.Settle()

	for p, err := range c.Payouts(ctx, fake.Now().Add(-time.Hour), fake.Now().Add(time.Hour)) {
		if err != nil {
			panic(err)
		}
		fmt.Println("payout", p.Amount, p.ArrivalDate, p.ID == refs[0])
		total := commerce.Zero(commerce.SEK)
		for tx, err := range c.PayoutTransactions(ctx, p.ID) {
			if err != nil {
				panic(err) // a *klarna.SettlementMismatchError when the rows do not add up
			}
			line := fmt.Sprintf("%-4s %-23s net %12s", tx.ProviderType, tx.Description, tx.Net)
			if tx.Kind == commerce.TxFee {
				line += fmt.Sprintf(" = fee %s + VAT %s (%s %%)", tx.Fee, tx.FeeVAT, tx.FeeVATRatePercent)
			}
			fmt.Println(line)
			total, _ = total.Add(tx.Net)
		}
		fmt.Println("sum", total)
	}
	// Output:
	// payout 965.24 SEK 2026-03-03 true
	// SALE PURCHASE                net  1000.00 SEK
	// FEE  PURCHASE_FEE_PERCENTAGE net   -31.13 SEK = fee 24.90 SEK + VAT 6.23 SEK (25 %)
	// FEE  PURCHASE_FEE_FIXED      net    -3.63 SEK = fee 2.90 SEK + VAT 0.73 SEK (25 %)
	// sum 965.24 SEK
}

// Parse the semicolon-separated payout report.
func ExampleParsePayoutReport() {
	report := "payment_reference;type;amount;currency_code;vat_rate;vat_amount;merchant_reference1\n" +
		"XISA93DJ;SALE;100000;SEK;;;1001\n" +
		"XISA93DJ;FEE;2490;SEK;2500;623;1001\n"
	rows, err := klarna.ParsePayoutReport(strings.NewReader(report))
	if err != nil {
		panic(err)
	}
	for _, r := range rows {
		tx, _, _ := klarna.MapTransaction(r.PaymentReference, r)
		fmt.Println(tx.Kind, tx.Amount, tx.Fee, tx.FeeVAT, tx.Net, tx.References.OrderNumber)
	}
	// Output:
	// sale 1000.00 SEK 0 (none) 0 (none) 1000.00 SEK 1001
	// fee 0.00 SEK 24.90 SEK 6.23 SEK -31.13 SEK 1001
}
