package paypal_test

import (
	"context"
	"testing"
	"time"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/connector/connectortest"
	"github.com/knyt/knyt/paypal"
	"github.com/knyt/knyt/paypal/paypaltest"
)

func TestConformance(t *testing.T) {
	connectortest.Run(t, func(t *testing.T) *connectortest.Harness {
		fake, err := paypaltest.NewServer(paypaltest.WithStartTime(start))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(fake.Close)
		id, secret := fake.Credentials()
		log := connectortest.NewLogBuffer()
		c, err := paypal.New(id, secret,
			paypal.WithBaseURL(fake.URL()),
			paypal.WithClock(fake.Now),
			paypal.WithRetry(3, time.Millisecond, 5*time.Millisecond),
			paypal.WithLogger(log.Logger()))
		if err != nil {
			t.Fatal(err)
		}
		probeAuth, err := fake.AddAuthorization(paypaltest.Authorization{Currency: "SEK", Value: "1.00"})
		if err != nil {
			t.Fatal(err)
		}
		probe := func(ctx context.Context) error {
			_, err := c.GetAuthorization(ctx, probeAuth.ID)
			return err
		}
		// Fetch the token now, so that injected faults meet the API rather
		// than the token endpoint.
		if err := probe(t.Context()); err != nil {
			t.Fatal(err)
		}
		return &connectortest.Harness{
			Connector: c,
			Log:       log,
			Secrets:   []string{id, secret},
			Faults:    fake.Faults(),
			Probe:     probe,
			Payment: &connectortest.PaymentCase{
				Authorize: func(ctx context.Context, amount commerce.Money) (string, error) {
					w, err := paypal.FromMoney(amount)
					if err != nil {
						return "", err
					}
					a, err := fake.AddAuthorization(paypaltest.Authorization{Currency: w.CurrencyCode, Value: w.Value})
					return a.ID, err
				},
				Amount: commerce.FromMinor(49900, commerce.SEK),
			},
			Payouts: &connectortest.PayoutCase{
				Seed: func(ctx context.Context) (time.Time, time.Time, error) {
					from := fake.Now()
					for _, gross := range []string{"120.00", "80.50"} {
						if _, err := fake.AddTransaction(paypaltest.Transaction{EventCode: "T0006", Currency: "SEK", Gross: gross, Fee: "-4.19"}); err != nil {
							return from, from, err
						}
						fake.Advance(time.Minute)
					}
					if _, err := fake.AddTransaction(paypaltest.Transaction{EventCode: "T1107", Currency: "SEK", Gross: "-20.00", Fee: "0.70"}); err != nil {
						return from, from, err
					}
					fake.Advance(time.Minute)
					if _, err := fake.Withdraw("SEK"); err != nil {
						return from, from, err
					}
					to := fake.Now().Add(time.Minute)
					fake.Advance(paypal.DefaultSearchDelay + time.Hour)
					return from, to, nil
				},
			},
		}
	})
}
