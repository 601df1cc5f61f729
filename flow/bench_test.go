package flow_test

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/connector"
	"github.com/knyt/knyt/flow"
	"github.com/knyt/knyt/flow/sqlitestore"
	"github.com/knyt/knyt/shopify"
	"github.com/knyt/knyt/shopify/shopifytest"
	"github.com/knyt/knyt/specter"
	"github.com/knyt/knyt/specter/spectertest"
)

var benchBurst = flag.Int("flow.burst", 10000, "orders per burst in BenchmarkOrderFlow")

// timedERP records when each order reached the ERP.
type timedERP struct {
	*specter.Connector
	mu   sync.Mutex
	done map[string]time.Time
}

func (t *timedERP) CreateOrder(ctx context.Context, o commerce.Order, opts ...connector.CallOption) (connector.UpsertResult, error) {
	res, err := t.Connector.CreateOrder(ctx, o, opts...)
	if err == nil {
		t.mu.Lock()
		if _, seen := t.done[o.Number]; !seen {
			t.done[o.Number] = time.Now()
		}
		t.mu.Unlock()
	}
	return res, err
}

// BenchmarkOrderFlow measures orders from "appeared in the shop" to
// "created in the ERP": a burst of -flow.burst orders placed in the
// Shopify fake at once, moved by one engine pass (shop feed → journal in
// SQLite → customer, articles and order in the Specter fake) with no
// artificial latency. It reports orders/s and the p50/p99 of the latency
// of an order of the burst. Specter serialises the requests of an account,
// so the ERP's protocol — three form posts per order — sets the pace;
// BenchmarkEngineOrderStep (package flow) shows the engine's own cost per
// order against in-memory systems.
func BenchmarkOrderFlow(b *testing.B) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	burst := *benchBurst
	var lat []time.Duration
	var total time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		shop := shopifytest.NewServer(shopifytest.WithProfile(shopifytest.Plus), shopifytest.WithTimeScale(1000), shopifytest.WithCurrency("SEK"))
		erp := spectertest.NewServer(spectertest.WithPageLimit(500))
		hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
		for n := range burst {
			addBenchOrder(b, shop, 10001+n)
		}
		sh, err := shopify.New(shop.Shop(), shopify.StaticToken(shop.AccessToken()), shopify.WithBaseURL(shop.URL()),
			shopify.WithHTTPClient(hc), shopify.WithLogger(quiet))
		if err != nil {
			b.Fatal(err)
		}
		sp, err := specter.New(erp.Default().V2(), specter.WithBaseURL(erp.URL()), specter.WithHTTPClient(hc), specter.WithPace(0), specter.WithLogger(quiet))
		if err != nil {
			b.Fatal(err)
		}
		timed := &timedERP{Connector: sp, done: map[string]time.Time{}}
		st, err := sqlitestore.Open(context.Background(), filepath.Join(b.TempDir(), fmt.Sprintf("bench%d.db", i)))
		if err != nil {
			b.Fatal(err)
		}
		cfg := flow.Config{
			ERP: flow.ERPConfig{System: "specter", PriceDecimals: 3, RoundingSKU: "ORESAVR", Concurrency: 4},
			Shops: []flow.ShopConfig{{ID: "se", System: "shopify", Currency: "SEK", Mode: flow.ShopLeads, Status: map[string][]string{},
				Orders: flow.OrderRules{Articles: "connector"}, Returns: flow.ReturnRules{Credit: "none", Refund: "none"}}},
		}
		eng, err := flow.New(cfg, flow.Systems{ERP: timed, Shops: map[string]connector.System{"se": sh}}, flow.WithStore(st), flow.WithLogger(quiet))
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		if err := eng.SyncOnce(context.Background()); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if len(timed.done) != burst {
			dls, _ := eng.DeadLetters(context.Background(), "", 3)
			b.Fatalf("%d of %d orders reached the ERP; dead letters %+v", len(timed.done), burst, dls)
		}
		var last time.Duration
		for _, t := range timed.done {
			d := t.Sub(start)
			lat = append(lat, d)
			last = max(last, d)
		}
		total += last
		st.Close()
		shop.Close()
		erp.Close()
	}
	slices.Sort(lat)
	b.ReportMetric(float64(burst*b.N)/total.Seconds(), "orders/s")
	b.ReportMetric(float64(lat[len(lat)/2].Milliseconds()), "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Milliseconds()), "p99-ms")
	b.ReportMetric(0, "ns/op")
}

var benchPrices = []string{"99.00", "149.50", "33.33", "249.00"}

func addBenchOrder(b *testing.B, shop *shopifytest.Server, number int) {
	sku := fmt.Sprintf("SKU-%d", number%40)
	price := benchPrices[number%len(benchPrices)]
	gross := decimal.RequireFromString(price).Mul(decimal.NewFromInt(2))
	tax := gross.Mul(decimal.NewFromInt(25)).DivRound(decimal.NewFromInt(125), 2)
	email := fmt.Sprintf("kund%d@example.se", number%500)
	_, err := shop.AddOrder(shopifytest.Order{
		Number: number, Email: email, TaxesIncluded: true,
		Customer:       &shopifytest.Customer{FirstName: "Kim", LastName: "Lund", Email: email},
		BillingAddress: &shopifytest.Address{FirstName: "Kim", LastName: "Lund", Address1: "Storgatan 1", City: "Umea", Zip: "90326", CountryCode: "SE"},
		Lines:          []shopifytest.LineItem{{SKU: sku, Title: "Artikel " + sku, Quantity: 2, UnitPrice: price, TaxLines: []shopifytest.TaxLine{{Title: "Moms", Rate: "0.25", Amount: tax.StringFixed(2)}}}},
		Transactions:   []shopifytest.Transaction{{Kind: "AUTHORIZATION", Gateway: "manual", Amount: gross.StringFixed(2)}},
	})
	if err != nil {
		b.Fatal(err)
	}
}
