package paypaltest_test

import (
	"context"
	"fmt"
	"time"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/connector"
	"github.com/knyt/knyt/paypal"
	"github.com/knyt/knyt/paypal/paypaltest"
)

// Point the client at the fake: its URL, its credentials and its clock.
func Example() {
	fake, err := paypaltest.NewServer(paypaltest.WithStartTime(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)))
	if err != nil {
		panic(err)
	}
	defer fake.Close()

	id, secret := fake.Credentials()
	client, err := paypal.New(id, secret, paypal.WithBaseURL(fake.URL()), paypal.WithClock(fake.Now))
	if err != nil {
		panic(err)
	}

	auth, _ := fake.AddAuthorization(paypaltest.Authorization{Currency: "JPY", Value: "5000", InvoiceID: "1001"})
	fake.Advance(4 * 24 * time.Hour) // past the honour period
	amount, _ := commerce.ParseMoney("5000", "JPY")
	c, err := client.Capture(context.Background(), connector.CaptureRequest{PaymentReference: auth.ID, Amount: amount},
		connector.WithIdempotencyKey("delivery-1"))
	if err != nil {
		panic(err)
	}
	state, _ := fake.AuthorizationState(auth.ID)
	fmt.Println("captured", c.Amount, "reauthorized:", state.ReauthorizedAs != "")

	for _, cp := range fake.Captures() {
		fmt.Println(cp.Value, cp.Currency, "fee", cp.Fee, cp.Status)
	}
	fake.Advance(paypaltest.DefaultSearchLag)
	fmt.Println("balance", fake.Balance("JPY"))
	// Output:
	// captured 5000 JPY reauthorized: true
	// 5000 JPY fee 175 COMPLETED
	// balance 4825
}
