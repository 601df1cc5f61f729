package specter_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/connector/connectortest"
	"github.com/knyt/knyt/specter"
	"github.com/knyt/knyt/specter/spectertest"
)

const conformancePage = 5

func TestConformance(t *testing.T) {
	connectortest.Run(t, func(t *testing.T) *connectortest.Harness {
		srv := spectertest.NewServer(spectertest.WithPageLimit(conformancePage))
		t.Cleanup(srv.Close)
		acc := srv.Default()
		log := connectortest.NewLogBuffer()
		c, err := specter.New(acc.V2(), append(fast(srv, log), specter.WithCallbackToken("conformance-callback-token"))...)
		if err != nil {
			t.Fatal(err)
		}
		var seq atomic.Int64
		next := func() int64 { return seq.Add(1) }
		return &connectortest.Harness{
			Connector: c,
			Log:       log,
			Secrets:   append(acc.Secrets(), "conformance-callback-token"),
			Faults:    srv.Faults(),
			Probe: func(ctx context.Context) error {
				_, err := c.Stock().Next(ctx, "")
				return err
			},
			Products: sampleProducts(),
			Feeds: []connectortest.FeedCase{
				{
					Name: "stock",
					Seed: func(_ context.Context, n int) ([]string, error) {
						var keys []string
						for range n {
							no := fmt.Sprintf("CS-%d", next())
							if err := acc.AddArticle(spectertest.Article{No: no, Name: "Lagervara " + no, Stock: map[string]int{"2": 3}}); err != nil {
								return nil, err
							}
							keys = append(keys, no+"@2")
						}
						return keys, nil
					},
					Feed:     connectortest.FeedOf(c.Stock(), func(l commerce.StockLevel) string { return l.SKU + "@" + l.Location }),
					PageSize: conformancePage,
				},
				{
					Name: "products",
					Seed: func(_ context.Context, n int) ([]string, error) {
						var keys []string
						for range n {
							no := fmt.Sprintf("CP-%d", next())
							if err := acc.AddArticle(spectertest.Article{No: no, Name: "Vara " + no, PriceExclVAT: dec("10")}); err != nil {
								return nil, err
							}
							keys = append(keys, no)
						}
						return keys, nil
					},
					Feed:     connectortest.FeedOf(c.Products(), func(p commerce.Product) string { return p.Variants[0].SKU }),
					PageSize: conformancePage,
				},
				{
					Name: "order events",
					Seed: func(ctx context.Context, n int) ([]string, error) {
						var keys []string
						for range n {
							res, err := c.CreateOrder(ctx, sampleOrder(fmt.Sprintf("#C%d", next())))
							if err != nil {
								return nil, err
							}
							var no int
							fmt.Sscan(res.Ref.ID, &no)
							if err := acc.RemoveOrder(no); err != nil {
								return nil, err
							}
							keys = append(keys, "order/"+res.Ref.ID+"/cancelled")
						}
						return keys, nil
					},
					Feed:     connectortest.FeedOf(c.OrderEvents(), func(e commerce.OrderEvent) string { return e.ID }),
					PageSize: conformancePage,
				},
			},
		}
	})
}
