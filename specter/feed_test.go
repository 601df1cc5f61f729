package specter_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/connector"
	"github.com/knyt/knyt/connector/connectortest"
	"github.com/knyt/knyt/connector/fault"
	"github.com/knyt/knyt/specter"
	"github.com/knyt/knyt/specter/spectertest"
)

var ignoreObserved = cmpopts.IgnoreFields(commerce.StockLevel{}, "ObservedAt")

func addArticles(t testing.TB, acc *spectertest.Account, nos ...string) {
	t.Helper()
	for _, no := range nos {
		if err := acc.AddArticle(spectertest.Article{No: no, Name: "Vara " + no, PriceExclVAT: dec("100")}); err != nil {
			t.Fatal(err)
		}
	}
}

// drainAll reads a feed to its end, committing, and returns the items.
func drainAll[T any](t testing.TB, ctx context.Context, feed connector.Feed[T]) []T {
	t.Helper()
	var all []T
	if _, err := connector.Drain(ctx, feed, "", func(_ context.Context, items []T) error {
		all = append(all, items...)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return all
}

func TestStockFeed(t *testing.T) {
	f := newFixture(t, specter.WithStockLocations(map[string]string{"1": "Lager Västerås"}))
	ctx := t.Context()
	addArticles(t, f.acc, "A-1", "B-2")
	drainAll(t, ctx, f.c.Products()) // the articles' own changes are not under test
	for _, s := range []struct {
		no, site string
		n        int
	}{{"A-1", "1", 5}, {"A-1", "2", 0}, {"B-2", "1", 3}, {"A-1", "1", 7}} {
		if err := f.acc.SetStock(s.no, s.site, s.n); err != nil {
			t.Fatal(err)
		}
	}
	got := drainAll(t, ctx, f.c.Stock())
	want := []commerce.StockLevel{
		{SKU: "A-1", Location: "Lager Västerås", Available: 7}, // changed twice, reported once at its latest
		{SKU: "B-2", Location: "Lager Västerås", Available: 3},
		{SKU: "A-1", Location: "2", Available: 0}, // "noItemsAvailable"
	}
	if diff := cmp.Diff(want, got, ignoreObserved, cmpopts.SortSlices(func(a, b commerce.StockLevel) bool { return a.SKU+a.Location < b.SKU+b.Location })); diff != "" {
		t.Errorf("stock (-want +got):\n%s", diff)
	}
	if _, open := f.acc.OpenBatch("1", specter.QueueStock); open {
		t.Error("a batch is still open after Drain")
	}
	if again := drainAll(t, ctx, f.c.Stock()); len(again) != 0 {
		t.Errorf("committed items came again: %v", again)
	}
}

func TestStockFeedTextRows(t *testing.T) {
	f := newFixture(t, specter.WithSingleStockSite("huvudlager"))
	addArticles(t, f.acc, "A-1")
	if err := f.acc.SetStock("A-1", "1", 4); err != nil {
		t.Fatal(err)
	}
	got := drainAll(t, t.Context(), f.c.Stock())
	if diff := cmp.Diff([]commerce.StockLevel{{SKU: "A-1", Location: "huvudlager", Available: 4}}, got, ignoreObserved); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestOrdersReserveStock(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	if _, err := f.c.UpsertProducts(ctx, sampleProducts()); err != nil {
		t.Fatal(err)
	}
	seedOrder(t, ctx, f.c, "#1")
	got := drainAll(t, ctx, f.c.Stock())
	want := []commerce.StockLevel{{SKU: "TROJA-M", Location: "1", Available: 2}, {SKU: "BOK-1", Location: "1", Available: -1}}
	if diff := cmp.Diff(want, got, ignoreObserved); diff != "" {
		t.Errorf("stock after an order (-want +got):\n%s", diff)
	}
}

func TestProductsFeed(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	if err := f.acc.AddArticle(spectertest.Article{No: "ALG-1", Name: "Älgskylt, stor", PriceExclVAT: dec("159.20"), VATPercent: 25, BuyPrice: dec("40.5"), BarCode: "7350000000024", WeightKg: dec("1.25")}); err != nil {
		t.Fatal(err)
	}
	if err := f.acc.SetArticlePrice("ALG-1", dec("199.6")); err != nil {
		t.Fatal(err)
	}
	got := drainAll(t, ctx, f.c.Products())
	ref := commerce.Ref{System: "specter", Account: "4711", ID: "ALG-1"}
	cost := sek(4050)
	want := []commerce.Product{{
		Origin: commerce.Origin{Source: ref}, Title: "Älgskylt, stor", Status: commerce.ProductActive,
		Variants: []commerce.Variant{{Origin: commerce.Origin{Source: ref}, SKU: "ALG-1", Title: "Älgskylt, stor", Barcode: "7350000000024",
			Price: sek(19960), Cost: &cost, VATRatePercent: pct(25), Weight: &commerce.Weight{Value: dec("1.25"), Unit: commerce.Kilograms}, Active: true}},
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("products (-want +got):\n%s", diff)
	}
}

func TestOrderEventsFeed(t *testing.T) {
	f := newFixture(t, specter.WithOrderNumberPrefix("web-"))
	ctx := t.Context()
	a := seedOrder(t, ctx, f.c, "#1")
	b := seedOrder(t, ctx, f.c, "#2")
	if _, err := f.acc.MarkDelivered(a, "SE123456789", spectertest.DeliveredRow{ArticleNo: "TROJA-M", Quantity: dec("1")}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.acc.MarkDelivered(a, "SE987654321"); err != nil {
		t.Fatal(err)
	}
	if err := f.acc.RemoveOrder(b); err != nil {
		t.Fatal(err)
	}
	// A restarted connector finds the shop's order numbers in the queue
	// items (externalOrderNo, with the prefix removed).
	got := drainAll(t, ctx, f.connect(t, f.acc.V2(), specter.WithOrderNumberPrefix("web-")).OrderEvents())
	src := func(no int) commerce.Origin {
		return commerce.Origin{Source: commerce.Ref{System: "specter", Account: "4711", ID: fmt.Sprint(no)}}
	}
	loc := stockholmLoc()
	today, _ := time.ParseInLocation(specter.DateLayout, f.srv.Now().In(loc).Format(specter.DateLayout), loc)
	want := []commerce.OrderEvent{
		{Origin: src(a), ID: "order/5001/delivery/9001", Kind: commerce.EventDelivered, OrderNumber: "#1", At: today,
			Lines: []commerce.FulfillmentLine{{SKU: "TROJA-M", Quantity: 1}}, Tracking: []commerce.Tracking{{Number: "SE123456789"}}},
		{Origin: src(a), ID: "order/5001/delivery/9002", Kind: commerce.EventDelivered, OrderNumber: "#1", At: today,
			Lines:    []commerce.FulfillmentLine{{SKU: "TROJA-M", Quantity: 1}, {SKU: "BOK-1", Quantity: 1}}, // not the discount and shipping rows
			Tracking: []commerce.Tracking{{Number: "SE987654321"}}},
		{Origin: src(b), ID: "order/5002/cancelled", Kind: commerce.EventCancelled, OrderNumber: "#2"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

func TestFeedPaging(t *testing.T) {
	srv := spectertest.NewServer(spectertest.WithPageLimit(2))
	t.Cleanup(srv.Close)
	acc := srv.Default()
	c, err := specter.New(acc.V2(), fast(srv, connectortest.NewLogBuffer())...)
	if err != nil {
		t.Fatal(err)
	}
	addArticles(t, acc, "P1", "P2", "P3", "P4", "P5")
	var pages [][]string
	if _, err := connector.Drain(t.Context(), c.Products(), "", func(_ context.Context, ps []commerce.Product) error {
		var skus []string
		for _, p := range ps {
			skus = append(skus, p.Variants[0].SKU)
		}
		pages = append(pages, skus)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([][]string{{"P1", "P2"}, {"P3", "P4"}, {"P5"}}, pages); diff != "" {
		t.Errorf("pages (-want +got):\n%s", diff)
	}
}

// TestBatchLeftOpen is the crash between "pulled" and "acknowledged": the
// next reader meets code 99, reads the open batch again, gets the same
// items, and processing them twice changes nothing.
func TestBatchLeftOpen(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	addArticles(t, f.acc, "A", "B")
	drainAll(t, ctx, f.c.Products())
	f.acc.SetStock("A", "1", 3)
	f.acc.SetStock("B", "2", 8)

	shop := map[string]int{} // what a shop would hold: setting a level is idempotent
	apply := func(levels []commerce.StockLevel) {
		for _, l := range levels {
			shop[l.SKU+"@"+l.Location] = l.Available
		}
	}
	first, err := f.c.Stock().Next(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	apply(first.Items)
	state := fmt.Sprint(shop)
	open, ok := f.acc.OpenBatch("1", specter.QueueStock)
	if !ok || open != string(first.Cursor) {
		t.Fatalf("open batch %q %v, want %q", open, ok, first.Cursor)
	}
	// Crash: no Commit. A new change arrives meanwhile.
	f.acc.SetStock("A", "1", 1)

	restarted := f.connect(t, f.acc.V2())
	again, err := restarted.Stock().Next(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if again.Cursor != first.Cursor {
		t.Errorf("re-read cursor %q, want the open batch %q", again.Cursor, first.Cursor)
	}
	if !again.More {
		t.Error("the recovered batch says nothing more is waiting, but a change arrived after it was taken")
	}
	if diff := cmp.Diff(first.Items, again.Items, ignoreObserved); diff != "" {
		t.Errorf("the open batch came back different (-first +again):\n%s", diff)
	}
	apply(again.Items)
	if fmt.Sprint(shop) != state {
		t.Errorf("processing the batch twice changed the result: %s, then %s", state, fmt.Sprint(shop))
	}
	if err := restarted.Stock().Commit(ctx, again.Cursor); err != nil {
		t.Fatal(err)
	}
	// The later change was not lost.
	rest := drainAll(t, ctx, restarted.Stock())
	if diff := cmp.Diff([]commerce.StockLevel{{SKU: "A", Location: "1", Available: 1}}, rest, ignoreObserved); diff != "" {
		t.Errorf("after the recovered batch (-want +got):\n%s", diff)
	}
}

func TestCode99Error(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	addArticles(t, f.acc, "A")
	cl := f.c.Client()
	if _, err := cl.Read(ctx, specter.QueueArticles, "batch-one"); err != nil {
		t.Fatal(err)
	}
	for name, call := range map[string]func() error{
		"read": func() error { _, err := cl.Read(ctx, specter.QueueArticles, "batch-two"); return err },
		"ack":  func() error { return cl.Ack(ctx, specter.QueueArticles, "batch-two") },
	} {
		err := call()
		var boe *specter.BatchOpenError
		var ce *connector.Error
		if !errors.As(err, &boe) || boe.Batch != "batch-one" || boe.Queue == "" || !errors.As(err, &ce) || ce.Code != "99" || !errors.Is(err, connector.ErrConflict) {
			t.Errorf("%s while batch-one is open: %v", name, err)
		}
	}
	// Re-reading the open batch by its number works; acknowledging closes
	// it, twice harmlessly.
	if _, err := cl.Read(ctx, specter.QueueArticles, "batch-one"); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := cl.Ack(ctx, specter.QueueArticles, "batch-one"); err != nil {
			t.Fatal(err)
		}
	}
	if err := cl.Ack(ctx, specter.QueueArticles, "never-opened"); !errors.Is(err, connector.ErrNotFound) {
		t.Errorf("ack of an unknown batch: %v", err)
	}
}

// TestUnknownArticleInQueue: a stock change for an article the shop does
// not know fails the processing; the batch is not acknowledged, and the
// items come again once the cause is fixed.
func TestUnknownArticleInQueue(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	f.acc.InjectStockChange("GHOST-1", "1", "4")
	known := map[string]bool{"A": true}
	process := func(_ context.Context, levels []commerce.StockLevel) error {
		for _, l := range levels {
			if !known[l.SKU] {
				return connector.NewError("shop", "SetStock", connector.KindNotFound, "no variant with SKU %s", l.SKU)
			}
		}
		return nil
	}
	if _, err := connector.Drain(ctx, f.c.Stock(), "", process); !errors.Is(err, connector.ErrNotFound) {
		t.Fatalf("drain: %v, want not found", err)
	}
	if _, open := f.acc.OpenBatch("1", specter.QueueStock); !open {
		t.Fatal("the batch was acknowledged although processing failed")
	}
	known["GHOST-1"] = true
	var got []commerce.StockLevel
	if _, err := connector.Drain(ctx, f.connect(t, f.acc.V2()).Stock(), "", func(ctx context.Context, l []commerce.StockLevel) error {
		got = append(got, l...)
		return process(ctx, l)
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].SKU != "GHOST-1" || got[0].Available != 4 {
		t.Errorf("after the fix: %v", got)
	}
}

func TestUnreadableQueueItems(t *testing.T) {
	cases := []struct {
		name   string
		inject func(*spectertest.Account)
		opts   []specter.Option
		feed   func(*specter.Connector) error
		want   error
	}{
		{
			name:   "stock quantity that is not a number",
			inject: func(a *spectertest.Account) { a.InjectStockChange("A", "1", "många") },
			feed:   func(c *specter.Connector) error { _, err := c.Stock().Next(context.Background(), ""); return err },
			want:   connector.ErrPermanent,
		},
		{
			name: "order of unknown shop number",
			inject: func(a *spectertest.Account) {
				a.InjectOrderChange(specter.OrderChange{OrderNo: "7777", Status: specter.OrderStatus{StatusID: "5"}})
			},
			feed: func(c *specter.Connector) error { _, err := c.OrderEvents().Next(context.Background(), ""); return err },
			want: connector.ErrNotFound,
		},
		{
			name: "resolver that does not know it",
			inject: func(a *spectertest.Account) {
				a.InjectOrderChange(specter.OrderChange{OrderNo: "7777", Status: specter.OrderStatus{StatusID: "5"}})
			},
			opts: []specter.Option{specter.WithOrderResolver(func(context.Context, string) (string, error) {
				return "", connector.NewError("engine", "lookup", connector.KindNotFound, "no such order")
			})},
			feed: func(c *specter.Connector) error { _, err := c.OrderEvents().Next(context.Background(), ""); return err },
			want: connector.ErrNotFound,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, c.opts...)
			c.inject(f.acc)
			for range 2 { // the same failure again: nothing lost, nothing skipped
				if err := c.feed(f.c); !errors.Is(err, c.want) {
					t.Fatalf("got %v, want %v", err, c.want)
				}
			}
			open := false
			for _, q := range []specter.Queue{specter.QueueStock, specter.QueueOrders} {
				_, ok := f.acc.OpenBatch("1", q)
				open = open || ok
			}
			if !open {
				t.Error("the batch was acknowledged")
			}
		})
	}
}

func TestOrderResolver(t *testing.T) {
	f := newFixture(t, specter.WithOrderResolver(func(_ context.Context, no string) (string, error) {
		return "#shop-" + no, nil
	}))
	f.acc.InjectOrderChange(specter.OrderChange{OrderNo: "7777", Status: specter.OrderStatus{DeliveryStatus: "D"}})
	got := drainAll(t, t.Context(), f.c.OrderEvents())
	if len(got) != 1 || got[0].OrderNumber != "#shop-7777" || got[0].ID != "order/7777/delivered" {
		t.Errorf("events %+v", got)
	}
}

func TestResetStock(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	if err := f.acc.AddArticle(spectertest.Article{No: "A", Name: "A", Stock: map[string]int{"1": 2, "2": 3}}); err != nil {
		t.Fatal(err)
	}
	if first := drainAll(t, ctx, f.c.Stock()); len(first) != 2 {
		t.Fatalf("first read %v", first)
	}
	if err := f.c.ResetStock(ctx); err != nil {
		t.Fatal(err)
	}
	if again := drainAll(t, ctx, f.c.Stock()); len(again) != 2 {
		t.Errorf("after a reset: %v, want every article at every site", again)
	}
}

// TestAnswersLost: a queue read or acknowledgement applied by Specter whose
// answer is lost is retried with the same batch number, which re-reads the
// batch or finds it closed: nothing is skipped or delivered twice.
func TestAnswersLost(t *testing.T) {
	for _, action := range []specter.Action{specter.ActionStockQueue, specter.ActionStockAck} {
		t.Run(string(action), func(t *testing.T) {
			f := newFixture(t)
			addArticles(t, f.acc, "A", "B")
			f.acc.SetStock("A", "1", 1)
			f.acc.SetStock("B", "1", 2)
			f.srv.Faults().Inject(fault.Fault{Kind: fault.LostAnswer, Match: func(r *http.Request) bool {
				return r.URL.Query().Get("action") == string(action)
			}})
			got := drainAll(t, t.Context(), f.c.Stock())
			if len(got) != 2 {
				t.Errorf("got %v, want A and B once", got)
			}
			if f.srv.Faults().Injected(fault.LostAnswer) != 1 {
				t.Error("no answer was lost")
			}
			if _, open := f.acc.OpenBatch("1", specter.QueueStock); open || f.acc.Pending("1", specter.QueueStock) != 0 {
				t.Error("the queue is not empty")
			}
		})
	}
}
