package stripe_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/connector"
	"github.com/knyt/knyt/stripe"
	"github.com/knyt/knyt/stripe/stripetest"
)

// Capture on delivery, then refund part of it, against the fake.
func Example() {
	fake := stripetest.NewServer()
	defer fake.Close()
	pi, _ := fake.AddAuthorization(stripetest.Authorization{Amount: 49900, Currency: "sek"})

	c, err := stripe.New(fake.SecretKey(), stripe.WithBaseURL(fake.URL()))
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	amount, _ := commerce.ParseMoney("499.00", "SEK")
	_, err = c.Capture(ctx, connector.CaptureRequest{PaymentReference: pi, OrderNumber: "1001", Amount: amount, Final: true},
		connector.WithIdempotencyKey(connector.IdempotencyKey("stripe", "capture", "1001", "delivery-1")))
	if err != nil {
		panic(err)
	}
	part, _ := commerce.ParseMoney("99.00", "SEK")
	_, err = c.Refund(ctx, connector.RefundRequest{PaymentReference: pi, OrderNumber: "1001", Amount: part, Reason: "requested_by_customer"},
		connector.WithIdempotencyKey(connector.IdempotencyKey("stripe", "refund", "1001", "return-1")))
	if err != nil {
		panic(err)
	}
	p, _ := c.Payment(ctx, pi)
	fmt.Println(p.Status, p.Captured, p.Refunded)
	// Output: partially_refunded 499.00 SEK 99.00 SEK
}

// Amounts convert exactly to Stripe's minor units, or not at all.
func ExampleToMinor() {
	for _, a := range []struct{ amount, currency string }{{"12.50", "SEK"}, {"500", "JPY"}, {"5.120", "KWD"}, {"5.125", "KWD"}, {"40", "ISK"}} {
		m, _ := commerce.ParsePrice(a.amount, a.currency)
		n, err := stripe.ToMinor(m)
		fmt.Println(m, n, errors.Is(err, commerce.ErrInexact))
	}
	// Output:
	// 12.50 SEK 1250 false
	// 500 JPY 500 false
	// 5.120 KWD 5120 false
	// 5.125 KWD 0 true
	// 40 ISK 4000 false
}

// Verify a webhook with the test vector of Stripe's libraries.
func ExampleVerifyWebhook() {
	payload := []byte(`{"id":"evt_test_webhook","object":"event"}`)
	header := "t=1700000000,v1=d95c6b7477fbd7e9f90b1b0ef5f9c7ac25abca5382460e0d988c2b2a5b71b990"
	signedAt := time.Unix(1700000000, 0)

	fmt.Println(stripe.VerifyWebhook(payload, header, "whsec_test_secret", signedAt.Add(time.Minute), 5*time.Minute))
	err := stripe.VerifyWebhook(payload, header, "whsec_test_secret", signedAt.Add(time.Hour), 5*time.Minute)
	fmt.Println(errors.Is(err, connector.ErrWebhookStale))
	err = stripe.VerifyWebhook(payload, header, "whsec_wrong", signedAt, 5*time.Minute)
	fmt.Println(errors.Is(err, connector.ErrWebhookSignature))
	// Output:
	// <nil>
	// true
	// true
}

// Sign a payload for a test of your own webhook handler.
func ExampleSignWebhook() {
	payload := []byte(`{"id":"evt_1","object":"event","type":"payout.paid"}`)
	header := stripe.SignWebhook(payload, "whsec_test_secret", time.Unix(1700000000, 0))
	fmt.Println(stripe.VerifyWebhook(payload, header, "whsec_test_secret", time.Unix(1700000000, 0), 0))
	// Output: <nil>
}

// Read a payout's transactions; problems arrive at the reporter.
func ExampleClient_PayoutTransactions() {
	fake := stripetest.NewServer()
	defer fake.Close()
	fake.AddCharge(stripetest.Authorization{Amount: 100000, Currency: "sek", Metadata: map[string]string{"order_number": "1001"}})
	fake.AddBalanceTransaction(stripetest.BalanceTransaction{Amount: -500, Currency: "sek", Type: "climate_order_purchase", ReportingCategory: "climate_order_purchase"})
	po, _ := fake.CreatePayout("sek", stripetest.PayoutOptions{})

	c, _ := stripe.New(fake.SecretKey(), stripe.WithBaseURL(fake.URL()),
		stripe.WithReporter(func(_ context.Context, notice error) {
			var u *stripe.UnmappedCategoryError
			if errors.As(notice, &u) {
				fmt.Println("report:", u.ReportingCategory)
			}
		}))
	for tx, err := range c.PayoutTransactions(context.Background(), po) {
		if err != nil {
			fmt.Println("error:", err)
			return
		}
		fmt.Printf("%s %s fee %s net %s order %q\n", tx.Kind, tx.Amount, tx.Fee, tx.Net, tx.References.OrderNumber)
	}
	// Output:
	// report: climate_order_purchase
	// other -5.00 SEK fee 0.00 SEK net -5.00 SEK order ""
	// sale 1000.00 SEK fee 15.25 SEK net 984.75 SEK order "1001"
}

// Build form parameters in Stripe's bracket notation.
func ExampleParams() {
	p := stripe.Params{
		"created":  stripe.Params{"gte": int64(1700000000)},
		"expand":   []string{"data.source"},
		"metadata": map[string]string{"order_number": "1001"},
	}
	s, _ := p.Encode()
	fmt.Println(s)
	// Output: created[gte]=1700000000&expand[]=data.source&metadata[order_number]=1001
}
