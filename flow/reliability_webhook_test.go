package flow_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/knyt/knyt/flow"
	"github.com/knyt/knyt/flow/sqlitestore"
	"github.com/knyt/knyt/shopify"
	"github.com/knyt/knyt/shopify/shopifytest"
)

// TestReliabilityWebhooks runs the engine's runner, which polls only once
// an hour here, so that Shopify's orders/create webhooks are what moves
// orders to Specter — delivered twice, out of order and as a late retry of
// an earlier delivery, as Shopify documents it may. Every order arrives in
// Specter once, every delivery is answered 200, the duplicates are
// recognised, and after a final pass the world checks out as in
// TestReliability.
func TestReliabilityWebhooks(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the real connectors against their fakes")
	}
	w := newWorld(t, 1)
	cfg := w.config()
	hour := flow.Duration(time.Hour)
	cfg.Runner = flow.RunnerConfig{OrdersInterval: hour, EventsInterval: hour, ReturnsInterval: hour, CatalogInterval: hour, StockInterval: hour,
		ShutdownGrace: flow.Duration(5 * time.Second)}
	st := try[*sqlitestore.Store](t)(sqlitestore.Open(context.Background(), w.dbPath))
	e := try[*flow.Engine](t)(flow.New(cfg, w.systems(), flow.WithStore(st), flow.WithLogger(w.log)))
	hooks := httptest.NewServer(e.WebhookHandler(&shopify.WebhookDecoder{Secrets: [][]byte{[]byte(w.shop.WebhookSecret())}}))
	defer hooks.Close()
	w.shop.Subscribe("orders/create", hooks.URL)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	// The first order comes with Run's first poll; once it is in Specter,
	// that poll has passed and only webhooks bring the others.
	w.addOrder(1001)
	go func() { done <- e.Run(ctx) }()
	w.waitInSpecter("the first poll")
	faults := []shopifytest.WebhookFault{shopifytest.WebhookDuplicate, shopifytest.WebhookOutOfOrder, shopifytest.WebhookStaleRetry}
	for i := range 6 {
		if i%2 == 0 {
			w.shop.InjectWebhookFault(faults[i/2])
		}
		w.addOrder(1002 + i)
	}
	if err := w.shop.FlushWebhooks(ctx); err != nil {
		t.Fatal(err)
	}
	w.waitInSpecter("their webhooks")
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run = %v", err)
	}
	st.Close()

	ids := map[string]int{}
	for _, d := range w.shop.Deliveries() {
		if d.Status != http.StatusOK {
			t.Errorf("delivery %s (attempt %d) answered %d %v", d.WebhookID, d.Attempt, d.Status, d.Err)
		}
		ids[d.WebhookID]++
	}
	repeats := 0
	for _, n := range ids {
		repeats += n - 1
	}
	if c := e.Counters().ByKind["webhook"]; repeats < 2 || c.Skipped != int64(repeats) {
		t.Errorf("%d repeated deliveries, %d skipped by the engine (counters %+v)", repeats, c.Skipped, c)
	}
	w.converge()
	w.check()
}

// waitInSpecter waits until every order of the world is in Specter.
func (w *world) waitInSpecter(after string) {
	w.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var missing []string
		for _, o := range w.orders {
			if _, ok := w.specterOrder(o); !ok {
				missing = append(missing, o.name)
			}
		}
		if len(missing) == 0 {
			return
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("orders %v not in Specter 30 s after %s", missing, after)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
