package flow

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/connector"
)

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type rig struct {
	t     *testing.T
	e     *Engine
	shop  *memShop
	erp   *memERP
	psp   *memPSP
	clock *testClock
	store Store
	cfg   Config
	sys   Systems
	opts  []Option
}

func baseConfig() Config {
	return Config{
		ERP: ERPConfig{System: "memerp", Currencies: []string{"SEK"}, RoundingSKU: "ORESAVR"},
		Shops: []ShopConfig{{ID: "se", System: "memshop", Currency: "SEK", Mode: ShopLeads,
			Orders: OrderRules{Trigger: []string{"paid", "authorized"}}}},
		Providers: []ProviderConfig{{Name: "mempsp", System: "mempsp"}},
		Retry:     RetryConfig{MaxAttempts: 4, MinBackoff: Duration(time.Second), MaxBackoff: Duration(time.Minute)},
	}
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// newRig builds an engine over fresh doubles; mod adjusts the config.
func newRig(t *testing.T, mod func(*Config), opts ...Option) *rig {
	t.Helper()
	return newRigShops(t, nil, mod, opts...)
}

// newRigShops is newRig with more shops than "se".
func newRigShops(t *testing.T, more map[string]*memShop, mod func(*Config), opts ...Option) *rig {
	t.Helper()
	r := &rig{t: t, shop: newMemShop("se.example"), erp: newMemERP(), psp: newMemPSP("mempsp"),
		clock: &testClock{t: time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)}, store: NewMemoryStore(), cfg: baseConfig()}
	if mod != nil {
		mod(&r.cfg)
	}
	r.sys = Systems{ERP: r.erp, Shops: map[string]connector.System{"se": r.shop}, Providers: map[string]connector.System{"mempsp": r.psp}}
	for id, s := range more {
		r.sys.Shops[id] = s
	}
	r.opts = opts
	r.restart()
	return r
}

// restart builds a new engine on the same store and systems: what a
// process restart does.
func (r *rig) restart() {
	r.t.Helper()
	opts := append([]Option{WithStore(r.store), WithClock(r.clock.now), WithLogger(quietLogger())}, r.opts...)
	e, err := New(r.cfg, r.sys, opts...)
	if err != nil {
		r.t.Fatal(err)
	}
	e.jitter = func() float64 { return 0.5 }
	r.e = e
}

func (r *rig) sync() {
	r.t.Helper()
	if err := r.e.SyncOnce(context.Background()); err != nil {
		r.t.Fatalf("SyncOnce: %v", err)
	}
}

func (r *rig) step(key string) Step {
	r.t.Helper()
	st, ok, err := r.store.Step(context.Background(), key)
	if err != nil || !ok {
		r.t.Fatalf("step %s: ok %v err %v", key, ok, err)
	}
	return st
}

func TestOrderTransferredOnceWithCustomerAndArticles(t *testing.T) {
	r := newRig(t, nil)
	r.erp.addArticle("A-1", "80.00", 25)
	r.shop.catalog["B-2"] = commerce.Product{Title: "Tröja", Variants: []commerce.Variant{{SKU: "B-2", Price: sek("199.00"), PricesIncludeTax: true, VATRatePercent: &twentyFive, Active: true}}}
	paid := newOrder("1001", commerce.FinancialPaid, grossLine("l1", "A-1", 2, "100.00", ""), grossLine("l2", "B-2", 1, "199.00", "19.90"))
	pending := newOrder("1002", commerce.FinancialPending, grossLine("l1", "A-1", 1, "100.00", ""))
	r.shop.addOrders(paid, pending)
	r.sync()

	if creates, _ := r.erp.counts(); creates != 1 {
		t.Fatalf("ERP creates = %d, want 1", creates)
	}
	got, ok := r.erp.order("1001")
	if !ok {
		t.Fatal("order 1001 not in the ERP")
	}
	if got.PricesIncludeTax {
		t.Error("the ERP order still includes VAT")
	}
	if !got.Totals.Total.Equal(paid.Totals.Total) {
		t.Errorf("ERP total %s, shop total %s", got.Totals.Total, paid.Totals.Total)
	}
	if _, ok := r.erp.customers[paid.Customer.Email]; !ok {
		t.Error("customer not ensured in the ERP")
	}
	art, ok := r.erp.article("B-2")
	if !ok {
		t.Fatal("missing article B-2 was not created")
	}
	if v := art.Variants[0]; v.PricesIncludeTax || !v.Price.Equal(sek("159.20")) {
		t.Errorf("article B-2 price %s incl %v; want 159.20 excluding VAT", v.Price, v.PricesIncludeTax)
	}
	st := r.step(OrderStepKey("se", "1001"))
	if st.State != StepDone || st.Result.ID != "E1001" {
		t.Errorf("step = %s %v", st.State, st.Result)
	}
	if n, err := r.e.ShopOrderNumber(context.Background(), "E1001"); err != nil || n != "1001" {
		t.Errorf("ShopOrderNumber(E1001) = %q, %v", n, err)
	}
	if _, err := r.e.ShopOrderNumber(context.Background(), "E9"); !errors.Is(err, connector.ErrNotFound) {
		t.Errorf("ShopOrderNumber of an unknown id = %v", err)
	}
	if keys := r.erp.orderKeys["1001"]; len(keys) != 1 || keys[0] != connector.IdempotencyKey(OrderStepKey("se", "1001")) {
		t.Errorf("idempotency keys sent: %v", keys)
	}

	// The pending order is paid later: the shop's feed shows it again.
	pending.FinancialStatus = commerce.FinancialPaid
	r.shop.addOrders(pending, paid) // and the paid one once more (an edit)
	r.sync()
	r.sync()
	creates, calls := r.erp.counts()
	if creates != 2 || calls != 2 {
		t.Errorf("after the second order: %d creates in %d calls, want 2 in 2", creates, calls)
	}
	c := r.e.Counters()
	if c.ByKind[KindOrderCreate].Synced != 2 {
		t.Errorf("counters: %+v", c.ByKind[KindOrderCreate])
	}
}

func TestOrderAsInvoiceAndMultishop(t *testing.T) {
	fi := newMemShop("fi.example")
	r := newRigShops(t, map[string]*memShop{"fi": fi}, func(c *Config) {
		c.Shops[0].WebshopID, c.Shops[0].ResultUnit = "1", "100"
		c.Shops = append(c.Shops, ShopConfig{ID: "fi", System: "memshop", Currency: "EUR", Mode: ShopLeads, WebshopID: "2",
			Orders: OrderRules{As: "invoice", Articles: "connector"}})
		c.ERP.Currencies = []string{"SEK", "EUR"}
	})
	r.erp.addArticle("A-1", "80.00", 25)
	r.shop.addOrders(newOrder("SE-1", commerce.FinancialPaid, grossLine("l1", "A-1", 1, "100.00", "")))
	eur := newOrder("FI-1", commerce.FinancialAuthorized, grossLine("l1", "A-1", 1, "100.00", ""))
	eur = reprice(eur, commerce.EUR)
	fi.addOrders(eur)
	// The same number in both shops is refused for the second.
	fi.addOrders(reprice(newOrder("SE-1", commerce.FinancialPaid, grossLine("l1", "A-1", 1, "100.00", "")), commerce.EUR))
	r.sync()

	se, ok := r.erp.order("SE-1")
	if !ok || se.Shop != "se" || !hasAttr(se, AttrWebshopID, "1") || !hasAttr(se, AttrResultUnit, "100") {
		t.Errorf("SE order: ok %v shop %q attrs %v", ok, se.Shop, se.Attributes)
	}
	inv, ok := r.erp.invoices["FI-1"]
	if !ok || inv.Shop != "fi" || !hasAttr(inv, AttrWebshopID, "2") || inv.Currency != commerce.EUR {
		t.Errorf("FI invoice: ok %v %+v", ok, inv.Attributes)
	}
	dl, err := r.e.DeadLetter(context.Background(), OrderStepKey("fi", "SE-1"))
	if err != nil || !strings.Contains(dl.Reason, `already used by shop "se"`) {
		t.Errorf("collision dead letter = %+v, %v", dl, err)
	}
}

func reprice(o commerce.Order, c commerce.Currency) commerce.Order {
	conv := func(m commerce.Money) commerce.Money { m.Currency = c; return m }
	o.Currency = c
	for i := range o.Lines {
		o.Lines[i].UnitPrice = conv(o.Lines[i].UnitPrice)
		for j := range o.Lines[i].TaxLines {
			o.Lines[i].TaxLines[j].Amount = conv(o.Lines[i].TaxLines[j].Amount)
		}
	}
	for i := range o.ShippingLines {
		o.ShippingLines[i].Price = conv(o.ShippingLines[i].Price)
		for j := range o.ShippingLines[i].TaxLines {
			o.ShippingLines[i].TaxLines[j].Amount = conv(o.ShippingLines[i].TaxLines[j].Amount)
		}
	}
	t, _ := o.ComputeTotals()
	o.Totals = t
	for i := range o.Payments {
		o.Payments[i].Amount = t.Total
	}
	return o
}

func hasAttr(o commerce.Order, k, v string) bool {
	for _, a := range o.Attributes {
		if a.Key == k && a.Value == v {
			return true
		}
	}
	return false
}

func TestBadOrdersAreDeadLettered(t *testing.T) {
	r := newRig(t, func(c *Config) { c.Shops[0].Orders.Articles = "require" },
		WithHook(ShopToERP, HookFunc("block-test", func(_ context.Context, o *commerce.Order, _ HookInfo) error {
			if o.Note == "reject me" {
				return errors.New("test orders are not booked")
			}
			if o.Note == "panic" {
				panic("index out of range [3] with length 2") // a plugin bug
			}
			if o.Note == "skip" {
				return Skip("internal order")
			}
			return nil
		})))
	r.erp.addArticle("A-1", "80.00", 25)
	good := newOrder("1", commerce.FinancialPaid, grossLine("l1", "A-1", 1, "100.00", ""))
	unknownSKU := newOrder("2", commerce.FinancialPaid, grossLine("l1", "NOPE", 1, "100.00", ""))
	noEmail := newOrder("3", commerce.FinancialPaid, grossLine("l1", "A-1", 1, "100.00", ""))
	noEmail.Customer.Email = ""
	euro := reprice(newOrder("4", commerce.FinancialPaid, grossLine("l1", "A-1", 1, "100.00", "")), commerce.EUR)
	rejected := newOrder("5", commerce.FinancialPaid, grossLine("l1", "A-1", 1, "100.00", ""))
	rejected.Note = "reject me"
	panicking := newOrder("6", commerce.FinancialPaid, grossLine("l1", "A-1", 1, "100.00", ""))
	panicking.Note = "panic"
	skipped := newOrder("7", commerce.FinancialPaid, grossLine("l1", "A-1", 1, "100.00", ""))
	skipped.Note = "skip"
	after := newOrder("8", commerce.FinancialPaid, grossLine("l1", "A-1", 1, "100.00", ""))
	r.shop.addOrders(good, unknownSKU, noEmail, euro, rejected, panicking, skipped, after)
	r.sync()

	for _, n := range []string{"1", "8"} {
		if _, ok := r.erp.order(n); !ok {
			t.Errorf("good order %s did not flow", n)
		}
	}
	dls, err := r.e.DeadLetters(context.Background(), "", 0)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"2": "unknown SKU NOPE",
		"3": "no e-mail",
		"4": "currency EUR is not enabled",
		"5": "rejected by plugin block-test: test orders are not booked",
		"6": "plugin block-test panicked",
	}
	got := map[string]string{}
	for _, d := range dls {
		got[d.Subject] = d.Reason
		if d.Subject == "5" || d.Subject == "6" {
			if d.Plugin != "block-test" {
				t.Errorf("dead letter %s names plugin %q", d.Key, d.Plugin)
			}
		}
		if len(d.Payload) == 0 {
			t.Errorf("dead letter %s has no payload to inspect", d.Key)
		}
	}
	for n, frag := range want {
		if !strings.Contains(got[n], frag) {
			t.Errorf("order %s: reason %q, want it to contain %q", n, got[n], frag)
		}
	}
	if len(got) != len(want) {
		t.Errorf("dead letters for %v, want %v", got, want)
	}
	if st := r.step(OrderStepKey("se", "7")); st.State != StepSkipped || st.Reason != "internal order" || st.Plugin != "block-test" {
		t.Errorf("skipped step: %+v", st)
	}

	// Fix the cause and replay; discard another.
	r.erp.addArticle("NOPE", "80.00", 25)
	state, err := r.e.Replay(context.Background(), OrderStepKey("se", "2"))
	if err != nil || state != StepDone {
		t.Fatalf("Replay = %s, %v", state, err)
	}
	if _, ok := r.erp.order("2"); !ok {
		t.Error("replayed order not in the ERP")
	}
	if err := r.e.Discard(context.Background(), OrderStepKey("se", "3"), "guest order, booked by hand"); err != nil {
		t.Fatal(err)
	}
	if st := r.step(OrderStepKey("se", "3")); st.State != StepDiscarded || !strings.Contains(st.Reason, "booked by hand") {
		t.Errorf("discarded step: %+v", st)
	}
	if _, err := r.e.Replay(context.Background(), OrderStepKey("se", "1")); !errors.Is(err, ErrStepNotFound) {
		t.Errorf("Replay of a done step = %v, want ErrStepNotFound", err)
	}
	// A discarded order seen again is not redone.
	r.shop.addOrders(noEmail)
	r.sync()
	if _, ok := r.erp.order("3"); ok {
		t.Error("a discarded order was transferred")
	}
}

func TestRetriesAndLostAnswers(t *testing.T) {
	r := newRig(t, nil)
	r.erp.addArticle("A-1", "80.00", 25)
	r.erp.faults.add("CreateOrder", 2, temporary("memerp", "CreateOrder"), false)
	r.erp.faults.add("CreateOrder", 1, lostAnswer("memerp", "CreateOrder"), true)
	r.shop.addOrders(newOrder("1", commerce.FinancialPaid, grossLine("l1", "A-1", 1, "100.00", "")))
	r.sync()
	st := r.step(OrderStepKey("se", "1"))
	if st.State != StepPending || st.Attempts != 1 || st.NextAt.IsZero() {
		t.Fatalf("after a temporary failure: %+v", st)
	}
	// Not due yet: nothing happens.
	r.sync()
	if st := r.step(OrderStepKey("se", "1")); st.Attempts != 1 {
		t.Errorf("a step ran before its retry time: %+v", st)
	}
	for range 3 {
		r.clock.advance(time.Minute)
		r.sync()
	}
	st = r.step(OrderStepKey("se", "1"))
	if st.State != StepDone || st.Attempts != 4 {
		t.Fatalf("after retries: %s attempts %d (%s)", st.State, st.Attempts, st.Reason)
	}
	creates, calls := r.erp.counts()
	if creates != 1 || calls != 2 {
		t.Errorf("ERP saw %d creates in %d calls; want 1 create in 2 (the lost answer applied once)", creates, calls)
	}
	keys := r.erp.orderKeys["1"]
	if len(keys) != 2 || keys[0] != keys[1] {
		t.Errorf("the retry after a lost answer used keys %v", keys)
	}
	if c := r.e.Counters().ByKind[KindOrderCreate]; c.Retried != 3 || c.Synced != 1 {
		t.Errorf("counters %+v", c)
	}

	// A step that keeps failing ends as a dead letter after MaxAttempts.
	r.erp.faults.add("CreateOrder", 10, temporary("memerp", "CreateOrder"), false)
	r.shop.addOrders(newOrder("2", commerce.FinancialPaid, grossLine("l1", "A-1", 1, "100.00", "")))
	for range 6 {
		r.sync()
		r.clock.advance(time.Hour)
	}
	st = r.step(OrderStepKey("se", "2"))
	if st.State != StepDead || !strings.Contains(st.Reason, "gave up after 4 attempts") {
		t.Errorf("persistent failure: %s %q", st.State, st.Reason)
	}
}

func TestCrashBetweenWriteAndJournalResumes(t *testing.T) {
	r := newRig(t, nil)
	r.erp.addArticle("A-1", "80.00", 25)
	// The ERP applies the order, then the process "dies": the handler's
	// context is cancelled before the engine records the outcome.
	ctx, cancel := context.WithCancel(context.Background())
	r.erp.faults.add("CreateOrder", 1, context.Canceled, true)
	r.erp.afterCreate = cancel
	r.shop.addOrders(newOrder("1", commerce.FinancialPaid, grossLine("l1", "A-1", 1, "100.00", "")))
	_ = r.e.SyncOnce(ctx)
	r.erp.afterCreate = nil
	if st := r.step(OrderStepKey("se", "1")); st.State != StepPending {
		t.Fatalf("after the crash: %s", st.State)
	}
	r.restart()
	r.sync()
	if st := r.step(OrderStepKey("se", "1")); st.State != StepDone {
		t.Fatalf("after restart: %s %s", st.State, st.Reason)
	}
	if creates, _ := r.erp.counts(); creates != 1 {
		t.Errorf("creates = %d", creates)
	}
	keys := r.erp.orderKeys["1"]
	if len(keys) != 2 || keys[0] != keys[1] {
		t.Errorf("keys across the restart: %v", keys)
	}
}

func TestNewChecksSystemsAndCapabilities(t *testing.T) {
	shop := newMemShop("se.example")
	erp := newMemERP()
	tests := []struct {
		name string
		mod  func(*Config, *Systems)
		want []string
	}{
		{"no ERP", func(c *Config, s *Systems) { s.ERP = nil }, []string{"erp"}},
		{"wrong system", func(c *Config, s *Systems) { c.ERP.System = "fortnox" }, []string{"erp.system"}},
		{"wrong account", func(c *Config, s *Systems) { c.Shops[0].Account = "other" }, []string{"shops[0].account"}},
		{"missing shop", func(c *Config, s *Systems) { s.Shops = nil }, []string{"shops[0]"}},
		{"unconfigured shop", func(c *Config, s *Systems) { s.Shops["xx"] = shop }, []string{"shops"}},
		{"missing capability", func(c *Config, s *Systems) { s.ERP = orderOnlyERP{erp} }, []string{"erp", "erp", "erp", "erp"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := baseConfig()
			c.Providers = nil
			s := Systems{ERP: erp, Shops: map[string]connector.System{"se": shop}}
			tt.mod(&c, &s)
			_, err := New(c, s, WithLogger(quietLogger()))
			if diff := cmp.Diff(tt.want, problemPaths(t, err)); diff != "" {
				t.Errorf("(-want +got):\n%s\n%v", diff, err)
			}
		})
	}
}

// orderOnlyERP hides every capability but orders and the lookup.
type orderOnlyERP struct{ e *memERP }

func (o orderOnlyERP) System() string  { return "memerp" }
func (o orderOnlyERP) Account() string { return "acme" }
func (o orderOnlyERP) CreateOrder(ctx context.Context, ord commerce.Order, opts ...connector.CallOption) (connector.UpsertResult, error) {
	return o.e.CreateOrder(ctx, ord, opts...)
}
func (o orderOnlyERP) ProductBySKU(ctx context.Context, sku string) (commerce.Product, error) {
	return o.e.ProductBySKU(ctx, sku)
}

func TestRunnerPollsWebhooksAndShutsDown(t *testing.T) {
	r := newRig(t, func(c *Config) {
		c.Runner.OrdersInterval = Duration(time.Hour) // only webhooks wake it
		c.Runner.ShutdownGrace = Duration(time.Second)
	})
	r.erp.addArticle("A-1", "80.00", 25)
	r.e.now = time.Now
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.e.Run(ctx) }()
	waitFor(t, "the first poll", func() bool { return r.e.Counters().Total.Synced == 0 && r.e.runningNow() })

	dec := &testDecoder{}
	h := r.e.WebhookHandler(dec)
	post := func(account, id, topic string) int {
		dec.next = connector.WebhookEvent{System: "memshop", Account: account, ID: id, Topic: topic}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("POST", "/hooks/shop", strings.NewReader("{}")))
		return rec.Code
	}
	r.shop.addOrders(newOrder("1", commerce.FinancialPaid, grossLine("l1", "A-1", 1, "100.00", "")))
	if code := post("se.example", "w1", "orders/create"); code != 200 {
		t.Fatalf("webhook answered %d", code)
	}
	waitFor(t, "the webhook-triggered pull", func() bool { _, ok := r.erp.order("1"); return ok })
	if code := post("se.example", "w1", "orders/create"); code != 200 {
		t.Errorf("duplicate webhook answered %d", code)
	}
	if code := post("unknown.example", "w2", "orders/create"); code != 404 {
		t.Errorf("webhook of an unknown shop answered %d, want 404", code)
	}
	dec.err = fmt.Errorf("bad: %w", connector.ErrWebhookSignature)
	if code := post("se.example", "w3", "orders/create"); code != 401 {
		t.Errorf("forged webhook answered %d, want 401", code)
	}
	if c := r.e.Counters().ByKind["webhook"]; c.Synced != 1 || c.Skipped != 3 {
		t.Errorf("webhook counters %+v", c)
	}
	if err := r.e.Run(ctx); err == nil {
		t.Error("a second Run started")
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not stop")
	}
}

// testDecoder accepts every request as the event it is told to.
type testDecoder struct {
	next connector.WebhookEvent
	err  error
}

func (d *testDecoder) DecodeWebhook(*http.Request) (connector.WebhookEvent, error) {
	if d.err != nil {
		return connector.WebhookEvent{}, d.err
	}
	return d.next, nil
}

func (e *Engine) runningNow() bool {
	e.runMu.Lock()
	defer e.runMu.Unlock()
	return e.running
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// An order its connector cannot read is a dead letter of its own; the
// orders around it and after it flow.
func TestUnreadableFeedItemsAreDeadLettered(t *testing.T) {
	r := newRig(t, func(c *Config) { c.Shops[0].Orders.Articles = "connector" })
	r.shop.orders.unreadable = func(o commerce.Order) (commerce.Ref, error) {
		if o.Note != "garbled" {
			return commerce.Ref{}, nil
		}
		return o.Source, fmt.Errorf("totals: %w", commerce.ErrInvalid)
	}
	bad := newOrder("2", commerce.FinancialPaid, grossLine("l1", "A-1", 1, "100.00", ""))
	bad.Note = "garbled"
	r.shop.addOrders(newOrder("1", commerce.FinancialPaid, grossLine("l1", "A-1", 1, "100.00", "")), bad,
		newOrder("3", commerce.FinancialPaid, grossLine("l1", "A-1", 1, "100.00", "")),
		newOrder("4", commerce.FinancialPaid, grossLine("l1", "A-1", 1, "100.00", "")))
	r.sync()
	r.sync() // a second pass over the same feed adds no second dead letter
	for _, n := range []string{"1", "3", "4"} {
		if _, ok := r.erp.order(n); !ok {
			t.Errorf("order %s did not flow", n)
		}
	}
	dls, err := r.e.DeadLetters(context.Background(), "", 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range dls {
		got = append(got, d.Kind+" "+d.Shop+" "+d.Subject+" "+d.Reason)
	}
	if diff := cmp.Diff([]string{"feed.problem se gid-2 item memshop/gid-2: totals: invalid"}, got); diff != "" {
		t.Errorf("dead letters (-want +got):\n%s", diff)
	}
	if c := r.e.Counters().ByKind[KindFeedProblem]; c.DeadLettered != 1 {
		t.Errorf("counters %+v", c)
	}
	state, err := r.e.Replay(context.Background(), dls[0].Key)
	if st := r.step(dls[0].Key); err != nil || state != StepDead || !strings.Contains(st.Reason, "correct it in memshop") {
		t.Errorf("Replay = %s, %v; reason %q", state, err, st.Reason)
	}
}

// cancellingERP is the ERP double with order cancellation.
type cancellingERP struct {
	*memERP
	mu        sync.Mutex
	cancelled []string
}

func (e *cancellingERP) CancelOrder(_ context.Context, number, _ string, _ ...connector.CallOption) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.cancelled = append(e.cancelled, number)
	return nil
}

// Orders cancelled in the shop: before their transfer they are not
// transferred; after it, the ERP cancels them where its connector can, and
// otherwise a dead letter asks for it by hand. The shop's echo of a
// cancellation the ERP started is no new cancellation.
func TestOrdersCancelledInTheShop(t *testing.T) {
	cancelled := func(o commerce.Order) commerce.Order {
		at := time.Date(2026, 11, 22, 11, 0, 0, 0, time.UTC)
		o.State, o.CancelledAt = commerce.OrderCancelled, &at
		return o
	}
	for _, canCancel := range []bool{false, true} {
		t.Run(fmt.Sprintf("the ERP cancels: %v", canCancel), func(t *testing.T) {
			r := newRig(t, func(c *Config) {
				c.Shops[0].Orders.Articles = "connector"
				c.Shops[0].Status = map[string][]string{"cancelled": {"cancel"}}
			})
			erp := &cancellingERP{memERP: r.erp}
			if canCancel {
				r.sys.ERP = erp
				r.restart()
			}
			line := grossLine("l1", "A-1", 1, "100.00", "")
			shipped, late, echoed := newOrder("1", commerce.FinancialPaid, line), newOrder("2", commerce.FinancialPaid, line), newOrder("3", commerce.FinancialPaid, line)
			// Order 2's transfer fails for now: it is still pending when the
			// shop cancels it.
			r.erp.faults.add("CreateOrder", 1, connector.NewError("memerp", "CreateOrder", connector.KindTemporary, "busy"), false)
			r.shop.addOrders(late)
			r.sync()
			r.shop.addOrders(shipped, echoed)
			r.sync()
			// The ERP cancels order 3; the engine cancels it in the shop.
			r.erp.events.add(commerce.OrderEvent{ID: "c3", Kind: commerce.EventCancelled, OrderNumber: "3"})
			r.sync()
			r.shop.addOrders(cancelled(shipped), cancelled(late), cancelled(echoed))
			r.clock.advance(time.Hour)
			r.sync()
			r.sync()

			if _, ok := r.erp.order("2"); ok {
				t.Error("an order cancelled before its transfer reached the ERP")
			}
			if st := r.step(OrderStepKey("se", "2")); st.State != StepSkipped || !strings.Contains(st.Reason, "cancelled in the shop before") {
				t.Errorf("transfer of order 2: %s %q", st.State, st.Reason)
			}
			if st := r.step("order:se:3:shop-cancel"); st.State != StepSkipped || !strings.Contains(st.Reason, "after the ERP cancelled") {
				t.Errorf("echo of order 3's cancellation: %s %q", st.State, st.Reason)
			}
			st := r.step("order:se:1:shop-cancel")
			if canCancel {
				if st.State != StepDone || !slices.Equal(erp.cancelled, []string{"1"}) {
					t.Errorf("order 1: step %s %q, the ERP cancelled %v", st.State, st.Reason, erp.cancelled)
				}
			} else if st.State != StepDead || !strings.Contains(st.Reason, "cancel it in the ERP before it ships") {
				t.Errorf("order 1: step %s %q", st.State, st.Reason)
			}
		})
	}
}
