package klarna_test

import (
	"context"
	"encoding/base64"
	"testing"
	"time"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/connector"
	"github.com/knyt/knyt/connector/connectortest"
	"github.com/knyt/knyt/klarna"
	"github.com/knyt/knyt/klarna/klarnatest"
)

func TestConformance(t *testing.T) {
	connectortest.Run(t, func(t *testing.T) *connectortest.Harness {
		f := newFixture(t, nil)
		probeOrder := f.order(t, 1000, "probe")
		return &connectortest.Harness{
			Connector: f.c,
			Log:       f.log,
			Secrets: []string{klarnatest.DefaultUsername, klarnatest.DefaultPassword,
				base64.StdEncoding.EncodeToString([]byte(klarnatest.DefaultUsername + ":" + klarnatest.DefaultPassword))},
			Faults: f.srv.Faults(),
			Probe: func(ctx context.Context) error {
				_, err := f.c.Payment(ctx, probeOrder)
				return err
			},
			Payment: &connectortest.PaymentCase{
				Amount: commerce.FromMinor(129900, commerce.SEK),
				Authorize: func(_ context.Context, amount commerce.Money) (string, error) {
					minor, err := amount.Minor()
					if err != nil {
						return "", err
					}
					return f.srv.AddOrder(klarnatest.NewOrder{Amount: minor, Currency: amount.Currency.Code()})
				},
			},
			Payouts: &connectortest.PayoutCase{
				Seed: func(ctx context.Context) (time.Time, time.Time, error) {
					from := f.srv.Now()
					for i, amount := range []int64{50000, 12345} {
						id := f.order(t, amount, "payout")
						if _, err := f.c.Capture(ctx, connector.CaptureRequest{PaymentReference: id, Amount: sek(amount)},
							connector.WithIdempotencyKey(connector.IdempotencyKey("seed", id))); err != nil {
							return from, from, err
						}
						if i == 1 {
							if _, err := f.c.Refund(ctx, connector.RefundRequest{PaymentReference: id, Amount: sek(2345)},
								connector.WithIdempotencyKey(connector.IdempotencyKey("seed-refund", id))); err != nil {
								return from, from, err
							}
						}
					}
					f.srv.Advance(time.Hour)
					f.srv.Settle()
					return from, f.srv.Now().Add(time.Second), nil
				},
			},
		}
	})
}

// The connector is a klarna.Client; keep the assertion next to the suite
// that relies on it.
var _ connector.System = (*klarna.Client)(nil)
