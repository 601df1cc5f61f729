package stripetest_test

import (
	"context"
	"fmt"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/connector"
	"github.com/knyt/knyt/stripe"
	"github.com/knyt/knyt/stripe/stripetest"
)

// Point the stripe client at the fake, seed an authorization, capture it
// and read the payout it ends up in.
func Example() {
	fake := stripetest.NewServer()
	defer fake.Close()
	pi, _ := fake.AddAuthorization(stripetest.Authorization{Amount: 20000, Currency: "sek"})

	c, _ := stripe.New(fake.SecretKey(), stripe.WithBaseURL(fake.URL()))
	ctx := context.Background()
	amount, _ := commerce.ParseMoney("200.00", "SEK")
	if _, err := c.Capture(ctx, connector.CaptureRequest{PaymentReference: pi, Amount: amount, Final: true},
		connector.WithIdempotencyKey("capture-1")); err != nil {
		panic(err)
	}
	po, _ := fake.CreatePayout("sek", stripetest.PayoutOptions{})
	for tx, err := range c.PayoutTransactions(ctx, po) {
		if err != nil {
			panic(err)
		}
		fmt.Println(tx.Kind, tx.Amount, "fee", tx.Fee, "net", tx.Net)
	}
	// Output: sale 200.00 SEK fee 3.25 SEK net 196.75 SEK
}
