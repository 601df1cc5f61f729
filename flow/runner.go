package flow

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/connector"
)

// errNoProgress guards against a feed that says More without moving.
var errNoProgress = errors.New("flow: feed reported more items but did not advance its cursor")

// Reconciler books payouts: the seam to the reconcile package, which
// matches a payout's transactions to invoices and credit invoices and
// books sales, fees, fee VAT, refunds and rounding. The engine fetches paid
// payouts on each provider's schedule (ProviderConfig.PayoutInterval) with
// their transactions, and calls ReconcilePayout once per payout; an error
// makes it try again on the next round. Links answers what the engine
// knows: which ERP order an order number became, and which credit invoice
// a refund belongs to.
type Reconciler interface {
	ReconcilePayout(ctx context.Context, provider string, p commerce.Payout, links Links) error
}

// Links is what the engine tells a Reconciler about the documents it made.
type Links interface {
	// ERPOrder is the ERP order or invoice of a shop order number.
	ERPOrder(ctx context.Context, orderNumber string) (commerce.Ref, bool, error)
	// CreditForRefund is the credit invoice of a refund, by the refund's
	// ref at the provider (Refund made by the engine) or in the shop.
	CreditForRefund(ctx context.Context, refund commerce.Ref) (commerce.Ref, bool, error)
}

// ERPOrder implements Links.
func (e *Engine) ERPOrder(ctx context.Context, number string) (commerce.Ref, bool, error) {
	return e.store.Ref(ctx, e.erpKey(mapOrder, number))
}

// CreditForRefund implements Links.
func (e *Engine) CreditForRefund(ctx context.Context, refund commerce.Ref) (commerce.Ref, bool, error) {
	return e.store.Ref(ctx, MapKey{Kind: mapRefundCredit, Key: refund.ID, System: refund.System, Account: refund.Account})
}

// feedRT is one feed the runner polls.
type feedRT struct {
	name     string
	owner    string   // "erp", "shop:{id}" or "provider:{name}", for webhook routing
	words    []string // topic words that trigger it
	interval time.Duration
	pull     func(ctx context.Context) error
}

// pullFeed reads a feed from its stored cursor to its current end: each
// batch's items are journalled (or, for catalogue feeds, written), then
// the batch is committed and the cursor stored, then the batch's steps
// run — while the next batch is fetched, so a feed's paging and the
// targets' work overlap (one batch runs while the next is read). A crash
// anywhere repeats at most the last batch, whose steps the journal
// already knows.
func pullFeed[T any](ctx context.Context, e *Engine, name string, f connector.Feed[T], intake func(context.Context, []T) ([]Step, error)) error {
	unlock := e.feedMu.lock(name)
	defer unlock()
	running := make(chan struct{})
	close(running)
	defer func() { <-running }()
	cur, err := e.store.Cursor(ctx, name)
	if err != nil {
		return err
	}
	for {
		b, err := f.Next(ctx, cur)
		if err != nil {
			return fmt.Errorf("flow: feed %s: %w", name, err)
		}
		steps, err := intake(ctx, b.Items)
		if err == nil {
			err = e.deadLetterProblems(ctx, name, b.Problems)
		}
		if err != nil {
			return fmt.Errorf("flow: feed %s: %w", name, err)
		}
		prev := cur
		if b.Cursor != "" && (b.Cursor != cur || len(b.Items) > 0 || len(b.Problems) > 0) {
			if err := f.Commit(ctx, b.Cursor); err != nil {
				return fmt.Errorf("flow: feed %s: commit: %w", name, err)
			}
			if err := e.store.SetCursor(ctx, name, b.Cursor); err != nil {
				return err
			}
			cur = b.Cursor
		}
		<-running
		if len(steps) > 0 {
			done := make(chan struct{})
			go func() {
				defer close(done)
				e.runSteps(ctx, steps)
			}()
			running = done
		}
		if !b.More {
			return nil
		}
		if len(b.Items) == 0 && len(b.Problems) == 0 && b.Cursor == prev {
			return fmt.Errorf("flow: feed %s: %w", name, errNoProgress)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

// KindFeedProblem is the dead letter of a feed item its connector could
// not map (connector.ItemProblem).
const KindFeedProblem = "feed.problem"

// feedProblem is the payload of a KindFeedProblem dead letter.
type feedProblem struct {
	Feed   string       `json:"feed"`
	Entity string       `json:"entity"`
	Ref    commerce.Ref `json:"ref"`
}

// deadLetterProblems journals the items a feed's connector could not map,
// one dead letter per item and error, so the feed moves on and the
// merchant sees what to fix.
func (e *Engine) deadLetterProblems(ctx context.Context, feed string, problems []connector.ItemProblem) error {
	for _, p := range problems {
		reason := p.Error()
		st, err := e.newStep("problem:"+feed+":"+p.Ref.ID+":"+contentHash(reason)[:12], KindFeedProblem, p.Ref.ID, feedShop(feed),
			feedProblem{Feed: feed, Entity: p.Entity, Ref: p.Ref})
		if err != nil {
			return err
		}
		if err := e.journalDead(ctx, st, reason, "flow: feed item could not be read"); err != nil {
			return err
		}
	}
	return nil
}

// feedShop is the shop id of a feed named "shop:<id>:…", else "".
func feedShop(feed string) string {
	rest, ok := strings.CutPrefix(feed, "shop:")
	if !ok {
		return ""
	}
	id, _, _ := strings.Cut(rest, ":")
	return id
}

// handleFeedProblem answers a replay of a feed problem: the engine never
// had the item, so it cannot run it again; the item comes back through its
// feed once it is corrected in its system.
func (e *Engine) handleFeedProblem(_ context.Context, st *Step) (commerce.Ref, error) {
	p, err := decodePayload[feedProblem](st)
	if err != nil {
		return commerce.Ref{}, err
	}
	return commerce.Ref{}, deadf("%s %s could not be read from feed %s; correct it in %s and it comes back through the feed (discard this dead letter then)",
		p.Entity, p.Ref.ID, p.Feed, p.Ref.System)
}

func noSteps[T any](fn func(context.Context, []T) error) func(context.Context, []T) ([]Step, error) {
	return func(ctx context.Context, items []T) ([]Step, error) { return nil, fn(ctx, items) }
}

// feeds lists every feed the configuration reads, in the order SyncOnce
// pulls them: orders before the events about them, catalogue last.
func (e *Engine) feeds() []feedRT {
	r := e.cfg.Runner
	var out []feedRT
	for _, s := range e.shopList {
		owner := "shop:" + s.cfg.ID
		out = append(out, feedRT{name: owner + ":orders", owner: owner, words: []string{"order", "checkout"}, interval: time.Duration(r.OrdersInterval),
			pull: func(ctx context.Context) error {
				return pullFeed(ctx, e, owner+":orders", s.sys.(connector.OrderSource).Orders(),
					func(ctx context.Context, os []commerce.Order) ([]Step, error) { return e.intakeOrders(ctx, s, os) })
			}})
	}
	if src, ok := e.erp.(connector.OrderEventSource); ok && e.wantsEvents() {
		out = append(out, feedRT{name: "erp:events", owner: "erp", words: []string{"order", "invoice", "deliver", "payment"}, interval: time.Duration(r.EventsInterval),
			pull: func(ctx context.Context) error {
				return pullFeed(ctx, e, "erp:events", src.OrderEvents(), e.intakeEvents)
			}})
	}
	for _, s := range e.shopList {
		owner := "shop:" + s.cfg.ID
		if src, ok := s.sys.(connector.ReturnSource); ok && (s.cfg.Returns.Credit == "erp" || s.cfg.Returns.Refund == "provider") {
			out = append(out, feedRT{name: owner + ":returns", owner: owner, words: []string{"return"}, interval: time.Duration(r.ReturnsInterval),
				pull: func(ctx context.Context) error {
					return pullFeed(ctx, e, owner+":returns", src.Returns(),
						func(ctx context.Context, rs []commerce.Return) ([]Step, error) { return e.intakeReturns(ctx, s, rs) })
				}})
		}
		if src, ok := s.sys.(connector.RefundSource); ok && (s.cfg.Returns.Credit == "erp" || s.cfg.Returns.Refund == "provider") {
			out = append(out, feedRT{name: owner + ":refunds", owner: owner, words: []string{"refund"}, interval: time.Duration(r.ReturnsInterval),
				pull: func(ctx context.Context) error {
					return pullFeed(ctx, e, owner+":refunds", src.Refunds(),
						func(ctx context.Context, rs []commerce.Refund) ([]Step, error) { return e.intakeRefunds(ctx, s, rs) })
				}})
		}
		if s.cfg.Mode == ShopLeads || s.cfg.Mode == Combined {
			src := s.sys.(connector.ProductSource)
			out = append(out, feedRT{name: owner + ":products", owner: owner, words: []string{"product", "variant", "collection"}, interval: time.Duration(r.CatalogInterval),
				pull: func(ctx context.Context) error {
					return pullFeed(ctx, e, owner+":products", src.Products(),
						noSteps(func(ctx context.Context, ps []commerce.Product) error { return e.syncShopProducts(ctx, s, ps) }))
				}})
		}
	}
	if e.firstShop(func(s *shopRT) bool { return s.cfg.Mode == ERPLeads || s.cfg.Mode == Combined }) != nil {
		ps := e.erp.(connector.ProductSource)
		out = append(out, feedRT{name: "erp:products", owner: "erp", words: []string{"article", "product", "price"}, interval: time.Duration(r.CatalogInterval),
			pull: func(ctx context.Context) error {
				return pullFeed(ctx, e, "erp:products", ps.Products(), noSteps(e.syncERPProducts))
			}})
		ss := e.erp.(connector.StockSource)
		out = append(out, feedRT{name: "erp:stock", owner: "erp", words: []string{"stock", "inventory"}, interval: time.Duration(r.StockInterval),
			pull: func(ctx context.Context) error {
				return pullFeed(ctx, e, "erp:stock", ss.Stock(), noSteps(e.syncERPStock))
			}})
	}
	if e.firstShop(func(s *shopRT) bool { return len(s.cfg.Catalog.PriceLists) > 0 }) != nil {
		ls := e.erp.(connector.PriceListSource)
		out = append(out, feedRT{name: "erp:pricelists", owner: "erp", words: []string{"pricelist", "price_list", "price"}, interval: time.Duration(r.CatalogInterval),
			pull: func(ctx context.Context) error {
				return pullFeed(ctx, e, "erp:pricelists", ls.PriceLists(), noSteps(e.syncERPPriceLists))
			}})
	}
	if e.reconciler != nil {
		for _, pr := range e.providers {
			owner := "provider:" + pr.cfg.Name
			out = append(out, feedRT{name: owner + ":payouts", owner: owner, words: []string{"payout", "balance", "settlement"}, interval: time.Duration(pr.cfg.PayoutInterval),
				pull: func(ctx context.Context) error { return e.pullPayouts(ctx, pr) }})
		}
	}
	return out
}

func (e *Engine) wantsEvents() bool {
	for _, s := range e.shopList {
		for _, as := range s.cfg.Status {
			if len(as) > 0 {
				return true
			}
		}
	}
	return false
}

// SyncOnce pulls every feed once, to its current end, and runs the steps
// that are due. Errors of single feeds are joined; the other feeds still
// run. It is what Run does on each tick, for batch jobs and tests.
func (e *Engine) SyncOnce(ctx context.Context) error {
	var errs []error
	for _, f := range e.feeds() {
		if err := f.pull(ctx); err != nil {
			errs = append(errs, err)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	if _, err := e.RunDue(ctx); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Trigger asks Run to pull the named feed now (feed names are listed by
// Feeds). Webhook handlers call it; it never blocks.
func (e *Engine) Trigger(feed string) {
	e.runMu.Lock()
	ch := e.wake[feed]
	e.runMu.Unlock()
	if ch != nil {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// Feeds names the feeds the engine reads: "shop:{id}:orders",
// "shop:{id}:returns", "shop:{id}:refunds", "shop:{id}:products",
// "erp:events", "erp:products", "erp:stock", "provider:{name}:payouts".
func (e *Engine) Feeds() []string {
	var out []string
	for _, f := range e.feeds() {
		out = append(out, f.name)
	}
	return out
}

// Run polls every feed on its interval, runs due retries, fetches payouts
// on each provider's schedule and prunes the processed-event log, until ctx
// is cancelled. Then it stops starting work and gives in-flight steps
// Runner.ShutdownGrace to finish; steps still running after that are
// abandoned safely — they stay pending in the journal and resume, with
// the same idempotency keys, on the next start. Run returns nil after a
// clean shutdown; only one Run may be active per engine.
func (e *Engine) Run(ctx context.Context) error {
	feeds := e.feeds()
	e.runMu.Lock()
	if e.running {
		e.runMu.Unlock()
		return errors.New("flow: Run is already active")
	}
	e.running = true
	e.wake = map[string]chan struct{}{}
	for _, f := range feeds {
		e.wake[f.name] = make(chan struct{}, 1)
	}
	e.runMu.Unlock()
	defer func() {
		e.runMu.Lock()
		e.running, e.wake = false, nil
		e.runMu.Unlock()
	}()

	work, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()
	stop := context.AfterFunc(ctx, func() {
		time.AfterFunc(time.Duration(e.cfg.Runner.ShutdownGrace), cancelWork)
	})
	defer stop()
	e.log.LogAttrs(ctx, slog.LevelInfo, "flow: engine started", slog.Int("feeds", len(feeds)))

	var wg sync.WaitGroup
	loop := func(name string, every time.Duration, wake <-chan struct{}, fn func(context.Context) error) {
		wg.Go(func() {
			t := time.NewTicker(every)
			defer t.Stop()
			for {
				if err := fn(work); err != nil && ctx.Err() == nil {
					e.log.LogAttrs(ctx, slog.LevelWarn, "flow: "+name+" failed", attrErr(err))
				}
				select {
				case <-ctx.Done():
					return
				case <-t.C:
				case <-wake:
				}
			}
		})
	}
	for _, f := range feeds {
		loop("feed "+f.name, f.interval, e.wake[f.name], f.pull)
	}
	due := max(min(time.Duration(e.cfg.Retry.MinBackoff), 30*time.Second), 100*time.Millisecond)
	loop("retries", due, nil, func(ctx context.Context) error { _, err := e.RunDue(ctx); return err })
	loop("processed-log pruning", time.Hour, nil, func(ctx context.Context) error {
		_, err := e.store.ForgetProcessed(ctx, e.now().Add(-time.Duration(e.cfg.Runner.ProcessedRetention)))
		return err
	})
	wg.Wait()
	e.log.LogAttrs(context.Background(), slog.LevelInfo, "flow: engine stopped")
	return nil
}

// ---- payouts ----

func (e *Engine) pullPayouts(ctx context.Context, pr *providerRT) error {
	src, ok := pr.sys.(connector.PayoutSource)
	if !ok || e.reconciler == nil {
		return nil
	}
	name := "provider:" + pr.cfg.Name + ":payouts"
	unlock := e.feedMu.lock(name)
	defer unlock()
	// Only the final part of the provider's history is asked for, so a
	// lagging provider (PayPal) never ends the listing with "not final
	// yet" and the cursor can move.
	to := e.now().UTC().Add(-time.Duration(pr.cfg.PayoutDelay))
	from := to.Add(-time.Duration(pr.cfg.PayoutLookback))
	if c, err := e.store.Cursor(ctx, name); err != nil {
		return err
	} else if t, err := time.Parse(time.RFC3339Nano, string(c)); err == nil {
		from = t.Add(-time.Duration(pr.cfg.PayoutLookback))
	}
	var errs []error
	for p, err := range src.Payouts(ctx, from, to) {
		if err != nil {
			return fmt.Errorf("flow: payouts of %s: %w", pr.cfg.Name, err)
		}
		if p.Status != commerce.PayoutPaid {
			continue // reconciled once it has arrived
		}
		k := MapKey{Kind: "payout", Key: p.ID, System: pr.sys.System(), Account: pr.sys.Account()}
		if _, done, err := e.store.Ref(ctx, k); err != nil {
			return err
		} else if done {
			continue
		}
		p.Transactions = p.Transactions[:0]
		for tx, err := range src.PayoutTransactions(ctx, p.ID) {
			if err != nil {
				return fmt.Errorf("flow: payout %s of %s: %w", p.ID, pr.cfg.Name, err)
			}
			p.Transactions = append(p.Transactions, tx)
		}
		if err := e.reconciler.ReconcilePayout(ctx, pr.cfg.Name, p, e); err != nil {
			e.counters.add("payout.reconcile", func(c *Counters) { c.Retried++ })
			errs = append(errs, fmt.Errorf("flow: reconcile payout %s of %s: %w", p.ID, pr.cfg.Name, err))
			continue
		}
		if err := e.store.SetRef(ctx, k, commerce.Ref{System: pr.sys.System(), Account: pr.sys.Account(), ID: p.ID}); err != nil {
			return err
		}
		e.counters.add("payout.reconcile", func(c *Counters) { c.Synced++ })
	}
	if len(errs) == 0 {
		if err := e.store.SetCursor(ctx, name, connector.Cursor(to.Format(time.RFC3339Nano))); err != nil {
			return err
		}
	}
	return errors.Join(errs...)
}

// ---- webhooks ----

// WebhookOption configures a webhook handler.
type WebhookOption func(*webhookOptions)

type webhookOptions struct {
	contentType, body string
}

// WithWebhookAnswer sets what the handler answers to an accepted webhook
// (Specter's callbacks expect "1;Done" as text/plain).
func WithWebhookAnswer(contentType, body string) WebhookOption {
	return func(o *webhookOptions) { o.contentType, o.body = contentType, body }
}

// WebhookHandler serves a system's webhooks or callbacks: it verifies and
// decodes each request with dec (the connector's WebhookDecoder), rejects
// one from an account the configuration does not know (404), answers a
// duplicate delivery without acting on it again (the processed-event log),
// and triggers the pull of the matching feeds — webhooks are hints, the
// feeds are the truth. A bad signature is answered 401, an oversized body
// 413, a malformed or stale one 400.
func (e *Engine) WebhookHandler(dec connector.WebhookDecoder, opts ...WebhookOption) http.Handler {
	o := webhookOptions{contentType: "text/plain; charset=utf-8", body: "ok"}
	for _, fn := range opts {
		fn(&o)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		ev, err := dec.DecodeWebhook(r)
		if err != nil {
			status := http.StatusBadRequest
			switch {
			case errors.Is(err, connector.ErrWebhookSignature):
				status = http.StatusUnauthorized
			case errors.Is(err, connector.ErrWebhookTooLarge):
				status = http.StatusRequestEntityTooLarge
			}
			e.counters.add("webhook", func(c *Counters) { c.Skipped++ })
			e.log.LogAttrs(ctx, slog.LevelWarn, "flow: webhook refused", slog.Int("status", status), attrErr(err))
			http.Error(w, http.StatusText(status), status)
			return
		}
		owners := e.webhookOwners(ev)
		if len(owners) == 0 {
			e.counters.add("webhook", func(c *Counters) { c.Skipped++ })
			e.log.LogAttrs(ctx, slog.LevelWarn, "flow: webhook for an unknown account refused",
				slog.String("system", ev.System), slog.String("account", ev.Account), slog.String("topic", ev.Topic))
			http.Error(w, "unknown account", http.StatusNotFound)
			return
		}
		id := ev.EventID
		if id == "" {
			id = ev.ID
		}
		if id != "" {
			fresh, err := e.store.MarkProcessed(ctx, "webhook:"+ev.System+"/"+ev.Account, id, e.now().UTC())
			if err != nil {
				http.Error(w, "try again", http.StatusServiceUnavailable)
				return
			}
			if !fresh {
				e.counters.add("webhook", func(c *Counters) { c.Skipped++ })
				w.Header().Set("Content-Type", o.contentType)
				fmt.Fprint(w, o.body)
				return
			}
		}
		feeds := e.feedsFor(owners, ev.Topic)
		for _, f := range feeds {
			e.Trigger(f)
		}
		e.counters.add("webhook", func(c *Counters) { c.Synced++ })
		e.log.LogAttrs(ctx, slog.LevelDebug, "flow: webhook accepted", slog.String("topic", ev.Topic), slog.Any("feeds", feeds))
		w.Header().Set("Content-Type", o.contentType)
		fmt.Fprint(w, o.body)
	})
}

// webhookOwners finds the configured systems a webhook belongs to.
func (e *Engine) webhookOwners(ev connector.WebhookEvent) []string {
	match := func(s connector.System) bool {
		return s.System() == ev.System && (ev.Account == "" || strings.EqualFold(s.Account(), ev.Account))
	}
	var out []string
	if match(e.erp) {
		out = append(out, "erp")
	}
	for _, s := range e.shopList {
		if match(s.sys) || (s.sys.System() == ev.System && ev.Account != "" && strings.EqualFold(s.cfg.Account, ev.Account)) {
			out = append(out, "shop:"+s.cfg.ID)
		}
	}
	for _, p := range e.providers {
		if match(p.sys) {
			out = append(out, "provider:"+p.cfg.Name)
		}
	}
	return out
}

// feedsFor picks the owners' feeds whose words appear in the topic, or all
// of them when none does.
func (e *Engine) feedsFor(owners []string, topic string) []string {
	topic = strings.ToLower(topic)
	var all, hit []string
	for _, f := range e.feeds() {
		if !slices.Contains(owners, f.owner) {
			continue
		}
		all = append(all, f.name)
		for _, w := range f.words {
			if strings.Contains(topic, w) {
				hit = append(hit, f.name)
				break
			}
		}
	}
	if len(hit) == 0 {
		return all
	}
	return hit
}
