package shopify_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/connector/connectortest"
	"github.com/knyt/knyt/shopify"
	"github.com/knyt/knyt/shopify/shopifytest"
)

var seq atomic.Int64

func TestConformance(t *testing.T) {
	connectortest.Run(t, func(t *testing.T) *connectortest.Harness {
		log := connectortest.NewLogBuffer()
		srv := shopifytest.NewServer(shopifytest.WithTimeScale(1000))
		t.Cleanup(srv.Close)
		c, err := shopify.New(srv.Shop(), shopify.StaticToken(srv.AccessToken()),
			shopify.WithBaseURL(srv.URL()), shopify.WithHTTPClient(srv.Client()),
			shopify.WithRetry(3, time.Millisecond, 5*time.Millisecond), shopify.WithThrottleRetries(20),
			shopify.WithLogger(log.Logger()), shopify.WithPageSize(5))
		if err != nil {
			t.Fatal(err)
		}
		newOrder := func(at time.Time, o shopifytest.Order) (shopifytest.Order, error) {
			n := seq.Add(1)
			if o.Name == "" {
				o.Name = fmt.Sprintf("#CT%d", n)
			}
			if o.Lines == nil {
				o.Lines = []shopifytest.LineItem{{SKU: fmt.Sprintf("CT-%d", n), Title: "Vara", Quantity: 1, UnitPrice: "100.00"}}
			}
			if o.Transactions == nil {
				o.Transactions = []shopifytest.Transaction{{Kind: "SALE", Gateway: "shopify_payments", Amount: "100.00"}}
			}
			o.CreatedAt, o.UpdatedAt = at, at
			return srv.AddOrder(o)
		}
		// seedChildren seeds n orders an hour old, each with one refund or
		// return made now by add, and returns what add made.
		seedChildren := func(add func(o shopifytest.Order, at time.Time) (string, error)) func(context.Context, int) ([]string, error) {
			return func(_ context.Context, n int) ([]string, error) {
				at := srv.Now().Truncate(time.Second)
				var keys []string
				for range n {
					o, err := newOrder(at.Add(-time.Hour), shopifytest.Order{})
					if err != nil {
						return nil, err
					}
					id, err := add(o, at)
					if err != nil {
						return nil, err
					}
					keys = append(keys, id)
				}
				return keys, nil
			}
		}
		return &connectortest.Harness{
			Connector: c,
			Log:       log,
			Secrets:   []string{srv.AccessToken()},
			Faults:    srv.Faults(),
			Probe:     c.Ping,
			Products:  []commerce.Product{sampleProduct(1), sampleProduct(2)},
			Feeds: []connectortest.FeedCase{
				{
					Name:     "orders",
					PageSize: 5,
					Feed:     connectortest.FeedOf(c.Orders(), func(o commerce.Order) string { return o.Number }),
					Seed: func(ctx context.Context, n int) ([]string, error) {
						at := srv.Now().Truncate(time.Second)
						var keys []string
						for range n {
							o, err := newOrder(at, shopifytest.Order{})
							if err != nil {
								return nil, err
							}
							keys = append(keys, o.Name)
						}
						return keys, nil
					},
				},
				{
					Name:     "products",
					PageSize: 5,
					Feed:     connectortest.FeedOf(c.Products(), func(p commerce.Product) string { return p.Variants[0].SKU }),
					Seed: func(ctx context.Context, n int) ([]string, error) {
						at := srv.Now().Truncate(time.Second)
						var keys []string
						for range n {
							sku := fmt.Sprintf("FEED-%d", seq.Add(1))
							if _, err := srv.AddProduct(shopifytest.Product{Title: "Vara " + sku, CreatedAt: at, UpdatedAt: at,
								Variants: []shopifytest.Variant{{SKU: sku, Price: "99.00"}}}); err != nil {
								return nil, err
							}
							keys = append(keys, sku)
						}
						return keys, nil
					},
				},
				{
					Name:     "refunds",
					PageSize: 5,
					Feed:     connectortest.FeedOf(c.Refunds(), func(r commerce.Refund) string { return r.ID }),
					Seed: seedChildren(func(o shopifytest.Order, at time.Time) (string, error) {
						r, err := srv.AddRefund(o.ID, shopifytest.Refund{CreatedAt: at, Lines: []shopifytest.RefundLine{{SKU: o.Lines[0].SKU, Quantity: 1}}})
						return r.ID, err
					}),
				},
				{
					Name:     "returns",
					PageSize: 5,
					Feed:     connectortest.FeedOf(c.Returns(), func(r commerce.Return) string { return r.ID }),
					Seed: seedChildren(func(o shopifytest.Order, at time.Time) (string, error) {
						r, err := srv.AddReturn(o.ID, shopifytest.Return{CreatedAt: at, Lines: []shopifytest.ReturnLine{{SKU: o.Lines[0].SKU, Quantity: 1}}})
						return r.ID, err
					}),
				},
			},
			Payment: &connectortest.PaymentCase{
				Amount: sek("100.00"),
				Authorize: func(ctx context.Context, amount commerce.Money) (string, error) {
					ref := fmt.Sprintf("auth-%d", seq.Add(1))
					_, err := newOrder(srv.Now(), shopifytest.Order{
						Name:  "CT-" + ref,
						Lines: []shopifytest.LineItem{{SKU: "CT-AUTH", Title: "Vara", Quantity: 1, UnitPrice: amount.Amount.StringFixed(2)}},
						Transactions: []shopifytest.Transaction{{Kind: "AUTHORIZATION", Gateway: "shopify_payments", Amount: amount.Amount.StringFixed(2),
							AuthorizationCode: ref, MultiCapturable: true}},
					})
					return ref, err
				},
			},
			Payouts: &connectortest.PayoutCase{
				Seed: func(ctx context.Context) (time.Time, time.Time, error) {
					at := srv.Now().Truncate(time.Second)
					_, _, err := srv.AddPayout(shopifytest.Payout{Net: "95.10", IssuedAt: at},
						shopifytest.BalanceTransaction{Type: "CHARGE", Amount: "100.00", Fee: "2.90"},
						shopifytest.BalanceTransaction{Type: "CHARGEBACK_FEE", Amount: "-2.00"},
						shopifytest.BalanceTransaction{Type: "TRANSFER", Amount: "-95.10"})
					return at.Add(-time.Minute), at.Add(time.Minute), err
				},
			},
		}
	})
}
