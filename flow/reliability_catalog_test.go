package flow_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/connector"
	"github.com/knyt/knyt/connector/fault"
	"github.com/knyt/knyt/flow"
	"github.com/knyt/knyt/flow/sqlitestore"
	"github.com/knyt/knyt/shopify"
	"github.com/knyt/knyt/shopify/shopifytest"
	"github.com/knyt/knyt/specter"
	"github.com/knyt/knyt/specter/spectertest"
	"github.com/knyt/knyt/vat"
)

// TestReliabilityCatalog runs the ERP-leads catalogue flow (articles and
// stock from Specter to Shopify) through the same chaos and kills as
// TestReliability, while prices and stock change in the ERP, and then
// checks that every shop variant has the ERP's price converted to
// including VAT and every stock level equals the ERP's.
func TestReliabilityCatalog(t *testing.T) {
	if testing.Short() {
		t.Skip("the reliability harness runs the real connectors against their fakes")
	}
	for seed := 1; seed <= *relSeeds; seed++ {
		t.Run(fmt.Sprintf("seed%d", seed), func(t *testing.T) { runCatalogReliability(t, uint64(seed)) })
	}
}

func runCatalogReliability(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 7))
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	shopSrv := shopifytest.NewServer(shopifytest.WithTimeScale(1000), shopifytest.WithCurrency("SEK"))
	erpSrv := spectertest.NewServer()
	t.Cleanup(func() { shopSrv.Close(); erpSrv.Close() })
	loc := try[shopifytest.Location](t)(shopSrv.AddLocation(shopifytest.Location{Name: "Lager"}))
	kill := &fault.Crash{Next: http.DefaultTransport.(*http.Transport).Clone()}
	hc := &http.Client{Transport: kill, Timeout: 5 * time.Second}
	acc := erpSrv.Default()
	price := map[string]decimal.Decimal{}
	stock := map[string]int{}
	for i := range 8 {
		sku := fmt.Sprintf("ART-%d", i)
		price[sku] = decimal.New(int64(1000+rng.IntN(90000)), -2)
		stock[sku] = rng.IntN(50)
		if err := acc.AddArticle(spectertest.Article{No: sku, Name: "Artikel " + sku, PriceExclVAT: price[sku], VATPercent: 25,
			Stock: map[string]int{"1": stock[sku]}}); err != nil {
			t.Fatal(err)
		}
	}
	faults := []*fault.Injector{shopSrv.Faults(), erpSrv.Faults()}
	for _, f := range faults {
		f.Chaos(*relChaos, seed)
	}
	db := filepath.Join(t.TempDir(), "knyt.db")
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	cfg := flow.Config{
		ERP: flow.ERPConfig{System: "specter"},
		Shops: []flow.ShopConfig{{ID: "se", System: "shopify", Currency: "SEK", Mode: flow.ERPLeads, Status: map[string][]string{},
			Orders: flow.OrderRules{Articles: "connector"}, Returns: flow.ReturnRules{Credit: "none", Refund: "none"},
			Catalog: flow.CatalogRules{Locations: map[string]string{"1": "Lager"}, BatchSize: 3}}},
		Retry: flow.RetryConfig{MaxAttempts: 1000, MinBackoff: flow.Duration(time.Second), MaxBackoff: flow.Duration(time.Minute)},
	}
	live := func(calls int) (flow.Counters, error) {
		st := try[*sqlitestore.Store](t)(sqlitestore.Open(context.Background(), db))
		defer st.Close()
		sh := try[*shopify.Client](t)(shopify.New(shopSrv.Shop(), shopify.StaticToken(shopSrv.AccessToken()), shopify.WithBaseURL(shopSrv.URL()),
			shopify.WithHTTPClient(hc), shopify.WithRetry(3, time.Millisecond, 5*time.Millisecond), shopify.WithLogger(quiet)))
		sp := try[*specter.Connector](t)(specter.New(acc.V2(), specter.WithBaseURL(erpSrv.URL()), specter.WithHTTPClient(hc),
			specter.WithPace(0), specter.WithRetry(3, time.Millisecond, 5*time.Millisecond), specter.WithLogger(quiet)))
		at := now
		e := try[*flow.Engine](t)(flow.New(cfg, flow.Systems{ERP: sp, Shops: map[string]connector.System{"se": sh}},
			flow.WithStore(st), flow.WithClock(func() time.Time { return at }), flow.WithLogger(quiet)))
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		if calls > 0 {
			kill.Arm(calls, cancel)
		}
		err := e.SyncOnce(ctx)
		kill.Disarm()
		now = now.Add(2 * time.Minute)
		shopSrv.Advance(2 * time.Minute)
		return e.Counters().Total, err
	}
	for range 10 {
		_, _ = live(3 + rng.IntN(30))
		for range 3 {
			sku := fmt.Sprintf("ART-%d", rng.IntN(8))
			if rng.IntN(2) == 0 {
				price[sku] = decimal.New(int64(1000+rng.IntN(90000)), -2)
				if err := acc.SetArticlePrice(sku, price[sku]); err != nil {
					t.Fatal(err)
				}
			} else {
				stock[sku] = rng.IntN(50)
				if err := acc.SetStock(sku, "1", stock[sku]); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	for _, f := range faults {
		f.Reset()
	}
	for round := 0; ; round++ {
		c, err := live(0)
		st := try[*sqlitestore.Store](t)(sqlitestore.Open(context.Background(), db))
		pending := try[[]flow.Step](t)(st.Steps(context.Background(), flow.StepFilter{State: flow.StepPending}))
		dead := try[[]flow.Step](t)(st.Steps(context.Background(), flow.StepFilter{State: flow.StepDead}))
		st.Close()
		for _, d := range dead {
			t.Errorf("dead letter %s: %s", d.Key, d.Reason)
		}
		// Converged: a pass without errors that had nothing to do (a
		// queue feed may hold more than its last batch said).
		if err == nil && len(pending) == 0 && c.Synced == 0 && c.Retried == 0 {
			break
		}
		if round == 30 {
			t.Fatalf("no convergence: %v, %d pending", err, len(pending))
		}
	}
	// Nothing is left in Specter's queues: every change was read and
	// acknowledged.
	for _, q := range []specter.Queue{specter.QueueArticles, specter.QueueStock} {
		if b, open := acc.OpenBatch("1", q); open || acc.Pending("1", q) > 0 {
			t.Errorf("queue %s: open batch %q, %d pending", q, b, acc.Pending("1", q))
		}
	}
	for sku, net := range price {
		v, ok := shopSrv.VariantBySKU(sku)
		want := try[vat.Amounts](t)(vat.FromNet(commerce.NewMoney(net, commerce.SEK), decimal.NewFromInt(25))).Gross.Amount
		if !ok || !decimal.RequireFromString(v.Price).Equal(want) {
			t.Errorf("%s: shop price %q (found %v), ERP %s excl. VAT → want %s", sku, v.Price, ok, net, want)
		}
		if n, ok := shopSrv.InventoryLevel(sku, loc.ID); !ok || n != stock[sku] {
			t.Errorf("%s: shop stock %d (stocked %v), ERP %d", sku, n, ok, stock[sku])
		}
	}
}
