package flow_test

// The reliability harness: the engine against the fakes of Shopify
// (shopifytest), Specter (spectertest) and the payment providers Stripe
// (stripetest), Klarna (klarnatest) and PayPal (paypaltest), with chaos
// fault injection on every fake (5xx, 429, dropped connections, answers
// lost after the write was applied, hangs that end in the client's
// timeout) and the engine killed at random points
// — after a random number of HTTP calls, with the last call's answer lost —
// and restarted (a new engine, new connectors, the same SQLite file). While
// it runs, the ERP delivers orders (in parts and in full) and the shop
// registers returns. After convergence the fakes' own state is checked,
// independently of the engine's counters:
//
//   - every shop order exists exactly once in Specter, with the same
//     articles and quantities and a total equal to the shop's to the öre;
//   - every product of the shop (which leads the catalogue) is an article
//     in Specter with its price converted to excluding VAT;
//   - every delivery in Specter is one fulfillment in Shopify with its
//     tracking number and quantities;
//   - every order's payment, at the provider that authorized it (orders
//     take turns: Stripe, Klarna, PayPal, Shopify Payments), has captured exactly the
//     delivered amount (the cumulative shares of the delivered units,
//     shipping with the first delivery, everything once the order is
//     complete);
//   - every return has one credit invoice (in a ledger standing in for the
//     ERP's, with faults of its own: Specter has no known credit-invoice
//     operation) and is refunded once, for the returned units' share, at
//     the same provider;
//   - the journal holds no pending step and no dead letter, and Specter's
//     order queue is empty.
//
// TestReliabilityWebhooks (reliability_webhook_test.go) drives the runner
// with Shopify's webhooks, duplicated, reordered and retried late.
//
// TestReliabilityCatalog (reliability_catalog_test.go) does the same for
// the ERP-leads catalogue: articles, price changes and stock from Specter
// to Shopify.
//
// go test runs a few seeds; -reliability.seeds and -reliability.orders run
// more, e.g. go test ./flow -run Reliability -reliability.seeds=200.
//
// A seed fixes the world — orders, deliveries, returns, when the engine is
// killed, the faults' random streams — but not the interleaving: the
// engine runs steps concurrently and the Shopify fake's clock follows wall
// time, so which request a fault hits can differ between runs of a seed. A
// failure found once may need several runs (-count) to show again; the
// journal is logged with -v.

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/knyt/knyt/connector"
	"github.com/knyt/knyt/connector/fault"
	"github.com/knyt/knyt/flow"
	"github.com/knyt/knyt/flow/sqlitestore"
	"github.com/knyt/knyt/klarna"
	"github.com/knyt/knyt/klarna/klarnatest"
	"github.com/knyt/knyt/paypal"
	"github.com/knyt/knyt/paypal/paypaltest"
	"github.com/knyt/knyt/shopify"
	"github.com/knyt/knyt/shopify/shopifytest"
	"github.com/knyt/knyt/specter"
	"github.com/knyt/knyt/specter/spectertest"
	"github.com/knyt/knyt/stripe"
	"github.com/knyt/knyt/stripe/stripetest"
)

var (
	relSeeds  = flag.Int("reliability.seeds", 3, "seeds the reliability harness runs")
	relOrders = flag.Int("reliability.orders", 6, "orders per seed in the reliability harness")
	relChaos  = flag.Float64("reliability.chaos", 0.08, "probability of an injected fault per request")
	// The providers see a few calls per order, against hundreds for the
	// shop and the ERP: at the shop's rate most seeds would fault none.
	relPSPChaos = flag.Float64("reliability.pspchaos", 0.25, "probability of an injected fault per request to a payment provider")
)

// clientTimeout is the connectors' HTTP timeout in the harness: short, so
// that a hung request (fault.Hang) becomes a timeout quickly.
const clientTimeout = 500 * time.Millisecond

// chaosKinds are the faults the harness injects: error answers (5xx, 429
// throttling), dropped connections, answers lost after the request was
// applied, and hangs that end in the client's timeout.
var chaosKinds = []fault.Fault{
	{Kind: fault.Status, Status: http.StatusInternalServerError},
	{Kind: fault.Status, Status: http.StatusServiceUnavailable},
	{Kind: fault.Status, Status: http.StatusTooManyRequests, RetryAfter: time.Millisecond},
	{Kind: fault.Drop},
	{Kind: fault.LostAnswer},
	{Kind: fault.LostAnswer},
	{Kind: fault.Hang},
}

func TestReliability(t *testing.T) {
	if testing.Short() {
		t.Skip("the reliability harness runs the real connectors against their fakes")
	}
	for seed := 1; seed <= *relSeeds; seed++ {
		t.Run(fmt.Sprintf("seed%d", seed), func(t *testing.T) { runReliability(t, uint64(seed), *relOrders) })
	}
}

// catalogue is the shop's assortment: SKU and gross unit price.
var catalogue = []struct{ sku, gross string }{
	{"SOCK-1", "99.00"}, {"SOCK-2", "149.50"}, {"MUG-3", "33.33"}, {"CAP-4", "249.00"}, {"PIN-5", "19.95"},
}

type wline struct {
	sku   string
	qty   int
	gross decimal.Decimal // the line's total including VAT
}

// providers are the payment providers orders are paid with, in turn: the
// Shopify gateway names, which are also the flow provider names.
// Shopify Payments is the shop itself: captures and refunds go through
// the Shopify connector (orderCapture, refundCreate).
var providers = []string{"stripe", "klarna", "paypal", "shopify_payments"}

type worldOrder struct {
	id, name string
	provider string // one of providers
	ref      string // the provider's payment reference
	lines    []wline
	total    decimal.Decimal
	returns  map[string]int // SKU → units returned
	// returnIDs are the shop's ids of the order's returns.
	returnIDs []string
}

type world struct {
	t      *testing.T
	rng    *rand.Rand
	shop   *shopifytest.Server
	erp    *spectertest.Server
	psp    *stripetest.Server
	klarna *klarnatest.Server
	paypal *paypaltest.Server
	kill   *fault.Crash // kills the engine after a number of calls
	http   *http.Client
	dbPath string
	now    time.Time
	orders []*worldOrder
	log    *slog.Logger
	ledger *creditLedger
}

func runReliability(t *testing.T, seed uint64, nOrders int) {
	w := newWorld(t, seed)
	for i := range nOrders {
		w.addOrder(1001 + i)
	}
	for i, f := range w.faults() {
		p := *relChaos
		if i >= 2 {
			p = *relPSPChaos
		}
		f.Chaos(p, seed+uint64(i), chaosKinds...)
	}

	// Lives of the engine, with the world moving between them.
	for range 12 {
		_, _ = w.live(3 + w.rng.IntN(40))
		w.deliverSome()
		w.returnSome()
	}
	// Convergence: no more faults or kills; retries become due.
	w.calm()
	w.converge()
	w.deliverAll()
	w.converge()
	w.check()
	t.Logf("seed %d: %d kills, %d drops, %d lost answers, %d hangs, %d 5xx/429 injected; ledger: %v", seed, w.kill.Crashes(),
		w.injected(fault.Drop), w.injected(fault.LostAnswer), w.injected(fault.Hang), w.injected(fault.Status), w.ledger)
}

// calm stops faults and kills.
func (w *world) calm() {
	for _, f := range w.faults() {
		f.Reset()
	}
	w.ledger.calm()
	w.kill.Disarm()
}

// newWorld starts the fakes, a shop with a location and the catalogue.
func newWorld(t *testing.T, seed uint64) *world {
	w := &world{t: t, rng: rand.New(rand.NewPCG(seed, 99)), dbPath: filepath.Join(t.TempDir(), "knyt.db"),
		now: time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC), log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	w.shop = shopifytest.NewServer(shopifytest.WithTimeScale(1000), shopifytest.WithCurrency("SEK"))
	w.erp = spectertest.NewServer()
	w.psp = stripetest.NewServer()
	w.klarna = klarnatest.NewServer(klarnatest.WithStartTime(w.now))
	w.paypal = try[*paypaltest.Server](t)(paypaltest.NewServer(paypaltest.WithStartTime(w.now), paypaltest.WithSeed(seed)))
	t.Cleanup(func() { w.shop.Close(); w.erp.Close(); w.psp.Close(); w.klarna.Close(); w.paypal.Close() })
	w.ledger = newCreditLedger(seed, *relPSPChaos)
	w.kill = &fault.Crash{Next: http.DefaultTransport.(*http.Transport).Clone()}
	w.http = &http.Client{Transport: w.kill, Timeout: clientTimeout}

	if _, err := w.shop.AddLocation(shopifytest.Location{Name: "Lager"}); err != nil {
		t.Fatal(err)
	}
	for _, c := range catalogue {
		if _, err := w.shop.AddProduct(shopifytest.Product{Title: "Produkt " + c.sku, Variants: []shopifytest.Variant{{SKU: c.sku, Price: c.gross}}}); err != nil {
			t.Fatal(err)
		}
	}
	return w
}

// faults are the fakes' injectors: the shop's and the ERP's, then the
// payment providers'.
func (w *world) faults() []*fault.Injector {
	return []*fault.Injector{w.shop.Faults(), w.erp.Faults(), w.psp.Faults(), w.klarna.Faults(), w.paypal.Faults()}
}

func (w *world) injected(k fault.Kind) int {
	n := 0
	for _, f := range w.faults() {
		n += f.Injected(k)
	}
	return n
}

// try returns v, failing the test on err: try(t)(f()) keeps set-up lines
// short.
func try[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

var hundred = decimal.NewFromInt(100)

func vatOf(gross decimal.Decimal) decimal.Decimal {
	return gross.Mul(decimal.NewFromInt(25)).DivRound(decimal.NewFromInt(125), 2)
}

// addOrder places an order in the shop, authorized for its total at the
// provider whose turn it is.
func (w *world) addOrder(number int) {
	o := &worldOrder{returns: map[string]int{}, provider: providers[number%len(providers)]}
	var lines []shopifytest.LineItem
	for _, i := range w.rng.Perm(len(catalogue))[:1+w.rng.IntN(3)] {
		c := catalogue[i]
		qty := 1 + w.rng.IntN(3)
		gross := decimal.RequireFromString(c.gross).Mul(decimal.NewFromInt(int64(qty)))
		o.lines = append(o.lines, wline{sku: c.sku, qty: qty, gross: gross})
		o.total = o.total.Add(gross)
		lines = append(lines, shopifytest.LineItem{SKU: c.sku, Quantity: qty, UnitPrice: c.gross,
			TaxLines: []shopifytest.TaxLine{{Title: "Moms", Rate: "0.25", Amount: vatOf(gross).StringFixed(2)}}})
	}
	o.total = o.total.Add(decimal.RequireFromString("49.00"))
	minor := o.total.Shift(2).IntPart()
	switch o.provider {
	case "stripe":
		o.ref = try[string](w.t)(w.psp.AddAuthorization(stripetest.Authorization{Amount: minor, Currency: "sek", Multicapture: true}))
	case "klarna":
		o.ref = try[string](w.t)(w.klarna.AddOrder(klarnatest.NewOrder{Currency: "SEK", Country: "SE", Amount: minor,
			MerchantReference1: fmt.Sprintf("#%d", number)}))
	case "paypal":
		o.ref = try[paypaltest.Authorization](w.t)(w.paypal.AddAuthorization(paypaltest.Authorization{Currency: "SEK",
			Value: o.total.StringFixed(2), InvoiceID: fmt.Sprintf("#%d", number)})).ID
	}
	auth := shopifytest.Transaction{Kind: "AUTHORIZATION", Gateway: o.provider, Amount: o.total.StringFixed(2), AuthorizationCode: o.ref}
	if o.provider == "shopify_payments" {
		auth.AuthorizationCode, auth.MultiCapturable = "", true
	}
	email := fmt.Sprintf("kund%d@example.se", number)
	addr := &shopifytest.Address{FirstName: "Kim", LastName: "Lund", Address1: "Storgatan 1", City: "Umea", Zip: "90326", Country: "Sweden", CountryCode: "SE"}
	got := try[shopifytest.Order](w.t)(w.shop.AddOrder(shopifytest.Order{
		Number: number, Email: email, TaxesIncluded: true,
		Customer:       &shopifytest.Customer{FirstName: "Kim", LastName: "Lund", Email: email},
		BillingAddress: addr, ShippingAddress: addr,
		Lines:         lines,
		ShippingLines: []shopifytest.ShippingLine{{Title: "PostNord", Price: "49.00", TaxLines: []shopifytest.TaxLine{{Title: "Moms", Rate: "0.25", Amount: "9.80"}}}},
		Transactions:  []shopifytest.Transaction{auth},
	}))
	o.id, o.name = got.ID, got.Name
	w.orders = append(w.orders, o)
}

func (w *world) config() flow.Config {
	rate := decimal.NewFromInt(25)
	return flow.Config{
		ERP: flow.ERPConfig{System: "specter", Currencies: []string{"SEK"}, PriceDecimals: 3, RoundingSKU: "ORESAVR", DefaultVATRate: &rate},
		Shops: []flow.ShopConfig{{ID: "se", System: "shopify", Currency: "SEK", Mode: flow.ShopLeads,
			Orders:  flow.OrderRules{Articles: "connector"},
			Returns: flow.ReturnRules{Credit: "erp", Refund: "provider"},
			Catalog: flow.CatalogRules{BatchSize: 10}}},
		Providers: []flow.ProviderConfig{{Name: "stripe", System: "stripe"}, {Name: "klarna", System: "klarna"},
			// The harness fetches no payouts (no reconciler), but PayPal's
			// configuration is what a deployment would have: its
			// Transaction Search is final only three hours late.
			{Name: "paypal", System: "paypal", PayoutDelay: flow.Duration(3 * time.Hour)},
			{Name: "shopify_payments", System: "shopify"}},
		Retry: flow.RetryConfig{MaxAttempts: 1000, MinBackoff: flow.Duration(time.Second), MaxBackoff: flow.Duration(time.Minute)},
	}
}

// systems builds fresh connectors, as a restarted process would.
func (w *world) systems() flow.Systems {
	now := w.now
	clock := func() time.Time { return now }
	fast := func() (int, time.Duration, time.Duration) { return 3, time.Millisecond, 5 * time.Millisecond }
	a, lo, hi := fast()
	sh := try[*shopify.Client](w.t)(shopify.New(w.shop.Shop(), shopify.StaticToken(w.shop.AccessToken()), shopify.WithBaseURL(w.shop.URL()),
		shopify.WithHTTPClient(w.http), shopify.WithRetry(a, lo, hi), shopify.WithLogger(w.log)))
	sp := try[*specter.Connector](w.t)(specter.New(w.erp.Default().V2(), specter.WithBaseURL(w.erp.URL()), specter.WithHTTPClient(w.http),
		specter.WithPace(0), specter.WithRetry(a, lo, hi), specter.WithLogger(w.log)))
	st := try[*stripe.Client](w.t)(stripe.New(w.psp.SecretKey(), stripe.WithBaseURL(w.psp.URL()), stripe.WithHTTPClient(w.http),
		stripe.WithRetry(a, lo, hi), stripe.WithLogger(w.log), stripe.WithMulticapture()))
	kl := try[*klarna.Client](w.t)(klarna.New(klarnatest.DefaultUsername, klarnatest.DefaultPassword, klarna.WithBaseURL(w.klarna.URL()),
		klarna.WithHTTPClient(w.http), klarna.WithRetry(a, lo, hi), klarna.WithLogger(w.log), klarna.WithClock(clock)))
	id, secret := w.paypal.Credentials()
	pp := try[*paypal.Client](w.t)(paypal.New(id, secret, paypal.WithBaseURL(w.paypal.URL()), paypal.WithHTTPClient(w.http),
		paypal.WithRetry(a, lo, hi), paypal.WithLogger(w.log), paypal.WithClock(clock)))
	return flow.Systems{ERP: creditingERP{Connector: sp, ledger: w.ledger}, Shops: map[string]connector.System{"se": sh},
		Providers: map[string]connector.System{"stripe": st, "klarna": kl, "paypal": pp, "shopify_payments": sh}}
}

// live runs one life of the engine: open the store, build the engine, pull
// everything once unless killed after calls HTTP calls.
func (w *world) live(calls int) (flow.Counters, error) {
	st := try[*sqlitestore.Store](w.t)(sqlitestore.Open(context.Background(), w.dbPath))
	defer st.Close()
	now := w.now
	e := try[*flow.Engine](w.t)(flow.New(w.config(), w.systems(), flow.WithStore(st), flow.WithClock(func() time.Time { return now }), flow.WithLogger(w.log)))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if calls > 0 {
		w.kill.Arm(calls, cancel)
	}
	err := e.SyncOnce(ctx)
	w.kill.Disarm()
	// Time passes between lives, in the engine and in the shop (whose
	// feeds tell apart two changes of an order only by their second).
	w.now = w.now.Add(2 * time.Minute)
	w.shop.Advance(2 * time.Minute)
	w.klarna.Advance(2 * time.Minute)
	w.paypal.Advance(2 * time.Minute)
	return e.Counters().Total, err
}

func (w *world) specterOrder(o *worldOrder) (spectertest.Order, bool) {
	return w.erp.Default().OrderByExternalNo(o.name)
}

func isGoods(sku string) bool {
	for _, c := range catalogue {
		if c.sku == sku {
			return true
		}
	}
	return false
}

// deliverSome has the warehouse ship some orders, one unit or everything.
func (w *world) deliverSome() {
	acc := w.erp.Default()
	for _, o := range w.orders {
		so, ok := w.specterOrder(o)
		if !ok || so.Delivered() || w.rng.Float64() > 0.4 {
			continue
		}
		tracking := fmt.Sprintf("TRK-%d-%d", so.No, len(so.Deliveries)+1)
		if w.rng.IntN(2) == 0 {
			for _, r := range so.Rows {
				if isGoods(r.ArticleNo) && r.Delivered.LessThan(r.Quantity) {
					try[int](w.t)(acc.MarkDelivered(so.No, tracking, spectertest.DeliveredRow{ArticleNo: r.ArticleNo, Quantity: decimal.NewFromInt(1)}))
					break
				}
			}
			continue
		}
		try[int](w.t)(acc.MarkDelivered(so.No, tracking))
	}
}

func (w *world) deliverAll() {
	for _, o := range w.orders {
		if so, ok := w.specterOrder(o); ok && !so.Delivered() {
			try[int](w.t)(w.erp.Default().MarkDelivered(so.No, fmt.Sprintf("TRK-%d-%d", so.No, len(so.Deliveries)+1)))
		}
	}
}

// returnSome has customers send back one unit of delivered orders.
func (w *world) returnSome() {
	for _, o := range w.orders {
		so, ok := w.specterOrder(o)
		if !ok || !so.Delivered() || len(o.returns) > 0 || w.rng.Float64() > 0.3 {
			continue
		}
		// Shopify takes returns of fulfilled units only (a return line
		// names a fulfillment line item).
		fulfilled := map[string]int{}
		for _, f := range w.shop.Fulfillments(o.id) {
			for _, fl := range f.Lines {
				fulfilled[fl.SKU] += fl.Quantity
			}
		}
		l := o.lines[w.rng.IntN(len(o.lines))]
		if fulfilled[l.sku] == 0 {
			continue
		}
		r := try[shopifytest.Return](w.t)(w.shop.AddReturn(o.id, shopifytest.Return{Status: "CLOSED", Lines: []shopifytest.ReturnLine{{SKU: l.sku, Quantity: 1, Reason: "size_too_small"}}}))
		o.returns[l.sku]++
		o.returnIDs = append(o.returnIDs, r.ID)
	}
}

// converge runs the engine without faults until a pass has nothing to do
// and nothing is pending.
func (w *world) converge() {
	for round := 0; round < 40; round++ {
		c, err := w.live(0)
		st := try[*sqlitestore.Store](w.t)(sqlitestore.Open(context.Background(), w.dbPath))
		pending := try[[]flow.Step](w.t)(st.Steps(context.Background(), flow.StepFilter{State: flow.StepPending}))
		st.Close()
		if err == nil && len(pending) == 0 && c.Synced == 0 && c.Retried == 0 {
			return
		}
		if round == 39 {
			w.t.Fatalf("no convergence: %v; %d steps pending, the first %+v", err, len(pending), first(pending))
		}
	}
}

func first(s []flow.Step) any {
	if len(s) == 0 {
		return nil
	}
	return s[0]
}

// share is round(gross × k / q), what k of q units carry.
func share(gross decimal.Decimal, k, q int) decimal.Decimal {
	if k >= q {
		return gross
	}
	return gross.Mul(decimal.NewFromInt(int64(k))).DivRound(decimal.NewFromInt(int64(q)), 2)
}

// specterTotal is what Specter books for an order: rows rounded to the öre,
// VAT per rate on the rows' sum.
func specterTotal(rows []spectertest.OrderRow) decimal.Decimal {
	net := map[int]decimal.Decimal{}
	for _, r := range rows {
		net[r.VATPercent] = net[r.VATPercent].Add(r.PriceExclVAT.Mul(r.Quantity).Round(2))
	}
	total := decimal.Zero
	for pct, n := range net {
		total = total.Add(n).Add(n.Mul(decimal.NewFromInt(int64(pct))).Div(hundred).Round(2))
	}
	return total
}

// moved reads what the provider that authorized o has captured and
// refunded for it, from the fake's own state.
func (w *world) moved(o *worldOrder) (captured, refunded decimal.Decimal) {
	t := w.t
	switch o.provider {
	case "stripe":
		pi, _ := w.psp.PaymentIntent(o.ref)
		return decimal.New(pi.AmountReceived, -2), decimal.New(pi.AmountRefunded, -2)
	case "klarna":
		ko, ok := w.klarna.Order(o.ref)
		if !ok {
			t.Errorf("order %s: Klarna order %s is gone", o.name, o.ref)
		}
		return decimal.New(ko.CapturedAmount, -2), decimal.New(ko.RefundedAmount, -2)
	case "paypal":
		// The authorization and any reauthorization of it: a capture may
		// have been made on either.
		auths := map[string]bool{}
		for id := o.ref; id != "" && !auths[id]; {
			auths[id] = true
			a, ok := w.paypal.AuthorizationState(id)
			if !ok {
				t.Errorf("order %s: PayPal authorization %s is gone", o.name, id)
				break
			}
			id = a.ReauthorizedAs
		}
		captures := map[string]bool{}
		for _, c := range w.paypal.Captures() {
			if auths[c.AuthorizationID] {
				captures[c.ID] = true
				captured = captured.Add(decimal.RequireFromString(c.Value))
			}
		}
		for _, r := range w.paypal.Refunds() {
			if captures[r.CaptureID] {
				refunded = refunded.Add(decimal.RequireFromString(r.Value))
			}
		}
		// The authorization's own account of its captures agrees.
		if a, _ := w.paypal.AuthorizationState(o.ref); a.ReauthorizedAs == "" && !decimal.RequireFromString(a.Captured).Equal(captured) {
			t.Errorf("order %s: PayPal authorization %s reports %s captured, its captures sum to %s", o.name, o.ref, a.Captured, captured)
		}
		return captured, refunded
	case "shopify_payments":
		os, ok := w.shop.OrderState(o.id)
		if !ok {
			t.Errorf("order %s: gone from the shop", o.name)
		}
		for _, tx := range os.Transactions {
			if tx.Status != "" && tx.Status != "SUCCESS" {
				continue
			}
			switch tx.Kind {
			case "CAPTURE":
				captured = captured.Add(decimal.RequireFromString(tx.Amount))
			case "REFUND":
				refunded = refunded.Add(decimal.RequireFromString(tx.Amount))
			}
		}
		return captured, refunded
	}
	t.Fatalf("order %s: unknown provider %q", o.name, o.provider)
	return
}

func (w *world) check() {
	t := w.t
	w.checkCredits()
	acc := w.erp.Default()
	byExt := map[string]int{}
	for _, so := range acc.Orders() {
		byExt[so.ExternalOrderNo]++
	}
	for _, c := range catalogue {
		a, ok := acc.Article(c.sku)
		want := decimal.RequireFromString(c.gross).Sub(vatOf(decimal.RequireFromString(c.gross)))
		if !ok || !a.PriceExclVAT.Equal(want) {
			t.Errorf("article %s in Specter: %v, price %s; want %s excluding VAT", c.sku, ok, a.PriceExclVAT, want)
		}
	}
	for _, o := range w.orders {
		if byExt[o.name] != 1 {
			t.Errorf("order %s is in Specter %d times", o.name, byExt[o.name])
			continue
		}
		so, _ := w.specterOrder(o)
		goods := map[string]decimal.Decimal{}
		delivered := map[string]int{}
		for _, r := range so.Rows {
			if isGoods(r.ArticleNo) {
				goods[r.ArticleNo] = goods[r.ArticleNo].Add(r.Quantity)
				delivered[r.ArticleNo] += int(r.Delivered.IntPart())
			}
		}
		for _, l := range o.lines {
			if !goods[l.sku].Equal(decimal.NewFromInt(int64(l.qty))) {
				t.Errorf("order %s: %s × %s in Specter, want %d", o.name, goods[l.sku], l.sku, l.qty)
			}
		}
		if len(goods) != len(o.lines) {
			t.Errorf("order %s: %d articles in Specter, want %d", o.name, len(goods), len(o.lines))
		}
		if got := specterTotal(so.Rows); !got.Equal(o.total) {
			t.Errorf("order %s: Specter total %s, shop total %s", o.name, got, o.total)
		}

		// Deliveries ↔ fulfillments.
		fulfilled := map[string]int{}
		fs := w.shop.Fulfillments(o.id)
		shipments := 0
		for _, d := range so.Deliveries {
			for _, r := range d.Rows {
				if isGoods(r.ArticleNo) {
					shipments++
					break
				}
			}
		}
		for _, f := range fs {
			for _, l := range f.Lines {
				fulfilled[l.SKU] += l.Quantity
			}
		}
		if len(fs) != shipments {
			t.Errorf("order %s: %d fulfillments for %d deliveries", o.name, len(fs), shipments)
		}
		for sku, n := range delivered {
			if fulfilled[sku] != n {
				t.Errorf("order %s: %d × %s fulfilled, %d delivered", o.name, fulfilled[sku], sku, n)
			}
		}

		// Captured: the delivered amount, exactly once.
		want := decimal.Zero
		all, any := true, false
		for _, l := range o.lines {
			want = want.Add(share(l.gross, delivered[l.sku], l.qty))
			all = all && delivered[l.sku] == l.qty
			any = any || delivered[l.sku] > 0
		}
		if any {
			want = want.Add(decimal.RequireFromString("49.00"))
		}
		if all {
			want = o.total
		}
		captured, refunded := w.moved(o)
		if !captured.Equal(want) {
			t.Errorf("order %s: captured %s at %s, delivered %s", o.name, captured, o.provider, want)
		}
		refund := decimal.Zero
		for _, l := range o.lines {
			refund = refund.Add(share(l.gross, o.returns[l.sku], l.qty))
		}
		if !refunded.Equal(refund) {
			t.Errorf("order %s: refunded %s at %s, returned %s", o.name, refunded, o.provider, refund)
		}
	}
	for _, q := range []specter.Queue{specter.QueueOrders} {
		if b, open := acc.OpenBatch("1", q); open || acc.Pending("1", q) > 0 {
			t.Errorf("Specter queue %s: open batch %q, %d pending", q, b, acc.Pending("1", q))
		}
	}
	st := try[*sqlitestore.Store](t)(sqlitestore.Open(context.Background(), w.dbPath))
	defer st.Close()
	if testing.Verbose() {
		for _, s := range try[[]flow.Step](t)(st.Steps(context.Background(), flow.StepFilter{})) {
			t.Logf("journal: %s %s %s", s.Key, s.State, s.Reason)
		}
	}
	for _, state := range []flow.StepState{flow.StepPending, flow.StepDead} {
		for _, s := range try[[]flow.Step](t)(st.Steps(context.Background(), flow.StepFilter{State: state})) {
			t.Errorf("%s step %s: %s", state, s.Key, s.Reason)
		}
	}
}
