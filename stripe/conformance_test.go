package stripe_test

import (
	"context"
	"testing"
	"time"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/connector/connectortest"
	"github.com/knyt/knyt/stripe"
	"github.com/knyt/knyt/stripe/stripetest"
)

func TestConformance(t *testing.T) {
	connectortest.Run(t, func(t *testing.T) *connectortest.Harness {
		e := newEnv(t, stripe.WithMulticapture())
		return &connectortest.Harness{
			Connector: e.client,
			Log:       e.log,
			Secrets:   []string{e.fake.SecretKey(), e.fake.WebhookSecret()},
			Faults:    e.fake.Faults(),
			Probe: func(ctx context.Context) error {
				for _, err := range e.client.ListPayouts(ctx, stripe.Params{"limit": 1}) {
					return err
				}
				return nil
			},
			Payment: &connectortest.PaymentCase{
				Amount: money(t, "1000.00", "SEK"),
				Authorize: func(_ context.Context, amount commerce.Money) (string, error) {
					minor, err := stripe.ToMinor(amount)
					if err != nil {
						return "", err
					}
					return e.fake.AddAuthorization(stripetest.Authorization{Amount: minor, Currency: amount.Currency.Code(), Multicapture: true})
				},
			},
			Payouts: &connectortest.PayoutCase{
				Seed: func(context.Context) (time.Time, time.Time, error) {
					from := e.fake.Now()
					for _, amt := range []int64{125000, 9900} {
						if _, err := e.fake.AddCharge(stripetest.Authorization{Amount: amt, Currency: "sek"}); err != nil {
							return from, from, err
						}
					}
					if _, err := e.fake.CreatePayout("sek", stripetest.PayoutOptions{}); err != nil {
						return from, from, err
					}
					e.fake.Advance(time.Second)
					return from, e.fake.Now(), nil
				},
			},
		}
	})
}
