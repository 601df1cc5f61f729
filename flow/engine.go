package flow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/connector"
)

// Systems are the connectors the engine composes: the ERP, the shops by
// their configured id, and the payment providers by their configured name.
// A shop connector may also be listed as a provider (Shopify Payments
// captures through the shop). The engine finds each system's capabilities
// by asserting the connector interfaces.
type Systems struct {
	ERP       connector.System
	Shops     map[string]connector.System
	Providers map[string]connector.System
}

type options struct {
	store      Store
	logger     *slog.Logger
	now        func() time.Time
	hooks      []registeredHook
	reconciler Reconciler
	jitter     func() float64
}

// Option configures an Engine.
type Option func(*options)

// WithStore sets the state store (default: a new MemoryStore, which loses
// everything on exit — use flow/sqlitestore in production).
func WithStore(s Store) Option { return func(o *options) { o.store = s } }

// WithLogger sets the structured logger (default: slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithClock replaces time.Now, for tests.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithReconciler hands fetched payouts to r (see Reconciler).
func WithReconciler(r Reconciler) Option { return func(o *options) { o.reconciler = r } }

type shopRT struct {
	cfg  ShopConfig
	path string // "shops[i]", for errors
	sys  connector.System
	sem  chan struct{}
}

type providerRT struct {
	cfg ProviderConfig
	sys connector.System
	sem chan struct{}
}

// Engine runs the flows. Create it with New; drive it with Run (polling and
// webhooks) or SyncOnce (one pass, for jobs and tests). It is safe for
// concurrent use.
type Engine struct {
	cfg        Config // with defaults applied
	store      Store
	log        *slog.Logger
	now        func() time.Time
	jitter     func() float64
	hooks      []registeredHook
	reconciler Reconciler

	erp       connector.System
	erpSem    chan struct{}
	shops     map[string]*shopRT
	shopList  []*shopRT
	providers []*providerRT

	handlers map[string]stepHandler
	locks    keyedMutex
	counters counters
	feedMu   keyedMutex // one pull per feed at a time

	runMu   sync.Mutex
	running bool
	wake    map[string]chan struct{}
}

// New checks the configuration and the systems against it — every system
// configured is given, and has the capabilities its rules need — and
// returns an engine. Nothing is called before this succeeds.
func New(cfg Config, sys Systems, opts ...Option) (*Engine, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	o := options{logger: slog.Default(), now: time.Now, jitter: rand.Float64}
	for _, fn := range opts {
		fn(&o)
	}
	if o.store == nil {
		o.store = NewMemoryStore()
	}
	c := cfg.withDefaults()
	e := &Engine{
		cfg: c, store: o.store, log: o.logger, now: o.now, jitter: o.jitter,
		hooks: o.hooks, reconciler: o.reconciler,
		erp: sys.ERP, erpSem: make(chan struct{}, c.ERP.Concurrency),
		shops: map[string]*shopRT{},
	}
	var p problems
	checkSystem(&p, "erp", sys.ERP, c.ERP.System, c.ERP.Account)
	for i, sc := range c.Shops {
		path := fmt.Sprintf("shops[%d]", i)
		s := sys.Shops[sc.ID]
		checkSystem(&p, path, s, sc.System, sc.Account)
		rt := &shopRT{cfg: sc, path: path, sys: s, sem: make(chan struct{}, sc.Concurrency)}
		e.shops[sc.ID] = rt
		e.shopList = append(e.shopList, rt)
	}
	for id := range sys.Shops {
		if _, ok := e.shops[id]; !ok {
			p.add("shops", "a system is given for shop %q, which is not configured", id)
		}
	}
	for i, pc := range c.Providers {
		path := fmt.Sprintf("providers[%d]", i)
		s := sys.Providers[pc.Name]
		checkSystem(&p, path, s, pc.System, pc.Account)
		e.providers = append(e.providers, &providerRT{cfg: pc, sys: s, sem: make(chan struct{}, pc.Concurrency)})
	}
	for name := range sys.Providers {
		if !slices.ContainsFunc(c.Providers, func(pc ProviderConfig) bool { return pc.Name == name }) {
			p.add("providers", "a system is given for provider %q, which is not configured", name)
		}
	}
	if len(p) == 0 {
		e.checkCapabilities(&p)
	}
	if err := p.err(); err != nil {
		return nil, err
	}
	e.registerHandlers()
	return e, nil
}

func checkSystem(p *problems, path string, s connector.System, system, account string) {
	if s == nil || (reflect.ValueOf(s).Kind() == reflect.Pointer && reflect.ValueOf(s).IsNil()) {
		p.add(path, "no connector given")
		return
	}
	if s.System() != system {
		p.add(path+".system", "configured as %q but the connector is %q", system, s.System())
	}
	if account != "" && s.Account() != account {
		p.add(path+".account", "configured as %q but the connector's account is %q", account, s.Account())
	}
}

// need records a problem unless v implements T.
func need[T any](p *problems, path string, v any, why string) bool {
	if _, ok := v.(T); !ok {
		p.add(path, "the connector does not implement %s (needed %s)", reflect.TypeFor[T]().String(), why)
		return false
	}
	return true
}

func (e *Engine) checkCapabilities(p *problems) {
	for _, s := range e.shopList {
		c := s.cfg
		need[connector.OrderSource](p, s.path, s.sys, "to read orders")
		if c.Orders.As == "invoice" {
			need[connector.InvoiceSink](p, "erp", e.erp, "by "+s.path+".orders.as invoice")
		} else {
			need[connector.OrderSink](p, "erp", e.erp, "to create orders")
		}
		if c.Orders.Articles != "connector" {
			need[connector.ProductLookup](p, "erp", e.erp, "by "+s.path+".orders.articles "+c.Orders.Articles+" (use \"connector\" for an ERP without lookup)")
		}
		if c.Orders.Articles == "ensure" {
			need[connector.ProductSink](p, "erp", e.erp, "by "+s.path+".orders.articles ensure")
		}
		anyStatus := false
		for ev, actions := range c.Status {
			for _, a := range actions {
				anyStatus = true
				why := fmt.Sprintf("by %s.status.%s %s", s.path, ev, a)
				switch a {
				case ActionFulfill:
					need[connector.Fulfiller](p, s.path, s.sys, why)
				case ActionMarkPaid:
					need[connector.PaidMarker](p, s.path, s.sys, why)
				case ActionCancel:
					need[connector.OrderCanceller](p, s.path, s.sys, why)
				}
			}
		}
		if anyStatus {
			need[connector.OrderEventSource](p, "erp", e.erp, "by "+s.path+".status")
		}
		_, returns := s.sys.(connector.ReturnSource)
		_, refunds := s.sys.(connector.RefundSource)
		if (returns || refunds) && c.Returns.Credit == "erp" {
			need[connector.CreditSink](p, "erp", e.erp, "by "+s.path+".returns.credit erp")
		}
		switch c.Mode {
		case ShopLeads:
			need[connector.ProductSource](p, s.path, s.sys, "by mode shop_leads")
			need[connector.ProductSink](p, "erp", e.erp, "by "+s.path+".mode shop_leads")
		case ERPLeads:
			need[connector.ProductSource](p, "erp", e.erp, "by "+s.path+".mode erp_leads")
			need[connector.ProductSink](p, s.path, s.sys, "by mode erp_leads")
			need[connector.StockSource](p, "erp", e.erp, "by "+s.path+".mode erp_leads")
			need[connector.StockSink](p, s.path, s.sys, "by mode erp_leads")
		case Combined:
			need[connector.ProductSource](p, s.path, s.sys, "by mode combined")
			need[connector.ProductSink](p, "erp", e.erp, "by "+s.path+".mode combined")
			need[connector.ProductSource](p, "erp", e.erp, "by "+s.path+".mode combined (prices)")
			need[connector.PriceSink](p, s.path, s.sys, "by mode combined")
			need[connector.StockSource](p, "erp", e.erp, "by "+s.path+".mode combined")
			need[connector.StockSink](p, s.path, s.sys, "by mode combined")
		}
		if len(c.Catalog.PriceLists) > 0 {
			need[connector.PriceListSource](p, "erp", e.erp, "by "+s.path+".catalog.price_lists")
			need[connector.PriceListSink](p, s.path, s.sys, "by catalog.price_lists")
		}
	}
	for i, pr := range e.providers {
		if e.reconciler != nil {
			need[connector.PayoutSource](p, fmt.Sprintf("providers[%d]", i), pr.sys, "for reconciliation (WithReconciler)")
		}
	}
}

// Store returns the engine's state store.
func (e *Engine) Store() Store { return e.store }

// Config returns the configuration in effect, defaults applied.
func (e *Engine) Config() Config { return e.cfg }

// ---- steps ----

type stepHandler struct {
	run func(ctx context.Context, st *Step) (commerce.Ref, error)
	sem func(st *Step) chan struct{} // the target system's concurrency limit
}

// deadError dead-letters a step at once with a reason.
type deadError struct{ reason string }

func (e *deadError) Error() string { return e.reason }

func deadf(format string, args ...any) error { return &deadError{reason: fmt.Sprintf(format, args...)} }

// retryError asks for a retry although the cause would not say so (an
// order whose data another step has not produced yet).
type retryError struct{ err error }

func (e *retryError) Error() string { return e.err.Error() }
func (e *retryError) Unwrap() error { return e.err }

type outcome int

const (
	outDone outcome = iota
	outSkipped
	outRetry
	outDead
	outAbandon
)

func classify(ctx context.Context, err error) outcome {
	var (
		se *SkipError
		re *RejectError
		de *deadError
		rt *retryError
	)
	switch {
	case err == nil:
		return outDone
	case ctx.Err() != nil:
		return outAbandon
	case errors.As(err, &se):
		return outSkipped
	case errors.As(err, &rt):
		return outRetry
	case errors.As(err, &re):
		if retryableHookError(err) {
			return outRetry
		}
		return outDead
	case errors.As(err, &de):
		return outDead
	case errors.Is(err, commerce.ErrInvalid):
		return outDead
	}
	switch connector.KindOf(err) {
	case connector.KindRateLimited, connector.KindTemporary, connector.KindAuth, connector.KindUnknown:
		// Unknown covers the store and anything unexpected: retried,
		// then dead-lettered after MaxAttempts.
		return outRetry
	}
	return outDead
}

// backoff is the wait before attempt n+1: exponential from MinBackoff,
// capped at MaxBackoff, with ±20 % jitter, and never shorter than what the
// system asked for.
func (e *Engine) backoff(attempts int, err error) time.Duration {
	lo, hi := time.Duration(e.cfg.Retry.MinBackoff), time.Duration(e.cfg.Retry.MaxBackoff)
	d := lo
	for i := 1; i < attempts && d < hi; i++ {
		d *= 2
	}
	d = min(d, hi)
	d = time.Duration(float64(d) * (0.8 + 0.4*e.jitter()))
	if ra := connector.RetryAfterOf(err); ra > d {
		d = ra
	}
	return d
}

// newStep builds a pending step with its idempotency key derived from the
// key.
func (e *Engine) newStep(key, kind, subject, shop string, payload any) (Step, error) {
	b, err := json.Marshal(payload)
	if err != nil {
		return Step{}, fmt.Errorf("flow: step %s: encode payload: %w", key, err)
	}
	now := e.now().UTC()
	return Step{Key: key, Kind: kind, Subject: subject, Shop: shop, IdempotencyKey: connector.IdempotencyKey(key),
		State: StepPending, Payload: b, CreatedAt: now, UpdatedAt: now}, nil
}

// enqueue creates a step unless it exists and reports whether it needs to
// run (new, or still pending).
func (e *Engine) enqueue(ctx context.Context, st Step) (Step, bool, error) {
	got, _, err := e.store.CreateStep(ctx, st)
	if err != nil {
		return Step{}, false, err
	}
	return got, got.State == StepPending, nil
}

// runSteps runs steps concurrently, each within its target's limit, and
// waits for them.
func (e *Engine) runSteps(ctx context.Context, steps []Step) {
	var wg sync.WaitGroup
	for _, st := range steps {
		wg.Go(func() { e.runStep(ctx, st.Key) })
	}
	wg.Wait()
}

// runStep executes one step if it is pending and due, records the outcome
// and reports it.
func (e *Engine) runStep(ctx context.Context, key string) (Step, error) {
	unlock := e.locks.lock(key)
	defer unlock()
	st, ok, err := e.store.Step(ctx, key)
	if err != nil {
		return Step{}, err
	}
	if !ok {
		return Step{}, fmt.Errorf("flow: run step %q: %w", key, ErrStepNotFound)
	}
	if st.State != StepPending {
		return st, nil
	}
	h, ok := e.handlers[st.Kind]
	if !ok {
		st.State, st.Reason = StepDead, fmt.Sprintf("no handler for step kind %q", st.Kind)
		st.UpdatedAt = e.now().UTC()
		e.counters.add(st.Kind, func(c *Counters) { c.DeadLettered++ })
		return st, e.store.SaveStep(ctx, st)
	}
	if sem := h.sem(&st); sem != nil {
		select {
		case sem <- struct{}{}:
			defer func() { <-sem }()
		case <-ctx.Done():
			return st, ctx.Err()
		}
	}
	ref, err := safeRun(ctx, h.run, &st)
	now := e.now().UTC()
	st.UpdatedAt = now
	log := e.log.With(slog.String("step", st.Key), slog.String("kind", st.Kind))
	switch classify(ctx, err) {
	case outDone:
		st.State, st.Result, st.Reason, st.NextAt = StepDone, ref, "", time.Time{}
		st.Attempts++
		e.counters.add(st.Kind, func(c *Counters) { c.Synced++ })
		log.LogAttrs(ctx, slog.LevelDebug, "flow: step done", slog.String("result", ref.String()))
	case outSkipped:
		var se *SkipError
		errors.As(err, &se)
		st.State, st.Reason, st.Plugin = StepSkipped, se.Reason, se.Plugin
		e.counters.add(st.Kind, func(c *Counters) { c.Skipped++ })
		log.LogAttrs(ctx, slog.LevelInfo, "flow: step skipped", slog.String("reason", se.Reason), slog.String("plugin", se.Plugin))
	case outRetry:
		st.Attempts++
		st.Reason = err.Error()
		if st.Attempts >= e.cfg.Retry.MaxAttempts {
			st.State = StepDead
			st.Reason = fmt.Sprintf("gave up after %d attempts: %v", st.Attempts, err)
			e.counters.add(st.Kind, func(c *Counters) { c.DeadLettered++ })
			log.LogAttrs(ctx, slog.LevelError, "flow: step dead-lettered", slog.String("reason", st.Reason))
		} else {
			st.NextAt = now.Add(e.backoff(st.Attempts, err))
			e.counters.add(st.Kind, func(c *Counters) { c.Retried++ })
			log.LogAttrs(ctx, slog.LevelWarn, "flow: step will be retried", slog.Int("attempt", st.Attempts), slog.Time("next", st.NextAt), slog.String("error", err.Error()))
		}
	case outDead:
		st.Attempts++
		st.State, st.Reason = StepDead, err.Error()
		var re *RejectError
		if errors.As(err, &re) {
			st.Plugin = re.Plugin
		}
		e.counters.add(st.Kind, func(c *Counters) { c.DeadLettered++ })
		log.LogAttrs(ctx, slog.LevelError, "flow: step dead-lettered", slog.String("reason", st.Reason), slog.String("plugin", st.Plugin))
	case outAbandon:
		// Shutting down: the step stays pending with its key and resumes
		// on the next start; whatever it sent is repeated with the same
		// idempotency key.
		log.LogAttrs(context.Background(), slog.LevelInfo, "flow: step abandoned at shutdown")
		return st, ctx.Err()
	}
	// Record the outcome even if the caller's context ends now: the write
	// already happened.
	if serr := e.store.SaveStep(context.WithoutCancel(ctx), st); serr != nil {
		return st, serr
	}
	return st, nil
}

// safeRun runs a handler, turning a panic (in the engine or a connector)
// into a dead letter instead of a crash.
func safeRun(ctx context.Context, fn func(context.Context, *Step) (commerce.Ref, error), st *Step) (ref commerce.Ref, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = deadf("panic: %v", r)
		}
	}()
	return fn(ctx, st)
}

// RunDue runs the pending steps whose retry time has come and returns how
// many it ran.
func (e *Engine) RunDue(ctx context.Context) (int, error) {
	n := 0
	after := ""
	for {
		steps, err := e.store.Steps(ctx, StepFilter{DueBy: e.now().UTC(), After: after, Limit: 200})
		if err != nil {
			return n, err
		}
		if len(steps) == 0 {
			return n, nil
		}
		e.runSteps(ctx, steps)
		n += len(steps)
		after = steps[len(steps)-1].Key
		if err := ctx.Err(); err != nil {
			return n, err
		}
	}
}

// ---- dead letters ----

// DeadLetter is a step that could not be done, with why.
type DeadLetter struct {
	Key      string          `json:"key"`
	Kind     string          `json:"kind"`
	Subject  string          `json:"subject,omitempty"`
	Shop     string          `json:"shop,omitempty"`
	Reason   string          `json:"reason"`
	Plugin   string          `json:"plugin,omitempty"`
	Attempts int             `json:"attempts"`
	Payload  json.RawMessage `json:"payload,omitempty"`
	At       time.Time       `json:"at"`
}

func deadLetterOf(s Step) DeadLetter {
	return DeadLetter{Key: s.Key, Kind: s.Kind, Subject: s.Subject, Shop: s.Shop, Reason: s.Reason, Plugin: s.Plugin,
		Attempts: s.Attempts, Payload: s.Payload, At: s.UpdatedAt}
}

// DeadLetters lists dead letters in key order, after the given key, at most
// limit (0: all).
func (e *Engine) DeadLetters(ctx context.Context, after string, limit int) ([]DeadLetter, error) {
	steps, err := e.store.Steps(ctx, StepFilter{State: StepDead, After: after, Limit: limit})
	if err != nil {
		return nil, err
	}
	out := make([]DeadLetter, len(steps))
	for i, s := range steps {
		out[i] = deadLetterOf(s)
	}
	return out, nil
}

// DeadLetter returns one dead letter for inspection.
func (e *Engine) DeadLetter(ctx context.Context, key string) (DeadLetter, error) {
	s, ok, err := e.store.Step(ctx, key)
	if err != nil {
		return DeadLetter{}, err
	}
	if !ok || s.State != StepDead {
		return DeadLetter{}, fmt.Errorf("flow: dead letter %q: %w", key, ErrStepNotFound)
	}
	return deadLetterOf(s), nil
}

// Replay makes a dead letter pending again (attempts reset, same
// idempotency key) and runs it now, returning its new state. Fix the cause
// first: create the missing article, correct the plugin.
func (e *Engine) Replay(ctx context.Context, key string) (StepState, error) {
	if err := e.reset(ctx, key, StepPending, ""); err != nil {
		return "", err
	}
	st, err := e.runStep(ctx, key)
	return st.State, err
}

// Discard gives up a dead letter for good: it is kept, as discarded with
// the reason, so the same event arriving again is not redone.
func (e *Engine) Discard(ctx context.Context, key, reason string) error {
	return e.reset(ctx, key, StepDiscarded, reason)
}

func (e *Engine) reset(ctx context.Context, key string, to StepState, reason string) error {
	unlock := e.locks.lock(key)
	defer unlock()
	s, ok, err := e.store.Step(ctx, key)
	if err != nil {
		return err
	}
	if !ok || s.State != StepDead {
		return fmt.Errorf("flow: dead letter %q: %w", key, ErrStepNotFound)
	}
	s.State, s.NextAt, s.UpdatedAt = to, time.Time{}, e.now().UTC()
	if to == StepPending {
		s.Attempts, s.Plugin = 0, ""
	} else {
		s.Reason = strings.TrimSpace("discarded: " + reason + " (was: " + s.Reason + ")")
	}
	return e.store.SaveStep(ctx, s)
}

// ---- counters ----

// Counters count step outcomes since the engine started (they are not
// persisted; the journal is the durable record).
type Counters struct {
	Synced       int64 `json:"synced"`
	Skipped      int64 `json:"skipped"`
	Retried      int64 `json:"retried"`
	DeadLettered int64 `json:"dead_lettered"`
}

// CountersSnapshot is the counters in total and per kind of work
// ("order.create", "delivery.capture", "product.push", …).
type CountersSnapshot struct {
	Total  Counters            `json:"total"`
	ByKind map[string]Counters `json:"by_kind"`
}

type counters struct {
	mu     sync.Mutex
	byKind map[string]*Counters
}

func (c *counters) add(kind string, fn func(*Counters)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byKind == nil {
		c.byKind = map[string]*Counters{}
	}
	k := c.byKind[kind]
	if k == nil {
		k = &Counters{}
		c.byKind[kind] = k
	}
	fn(k)
}

// Counters returns a snapshot of the counters.
func (e *Engine) Counters() CountersSnapshot {
	e.counters.mu.Lock()
	defer e.counters.mu.Unlock()
	s := CountersSnapshot{ByKind: map[string]Counters{}}
	for k, v := range e.counters.byKind {
		s.ByKind[k] = *v
		s.Total.Synced += v.Synced
		s.Total.Skipped += v.Skipped
		s.Total.Retried += v.Retried
		s.Total.DeadLettered += v.DeadLettered
	}
	return s
}

// ---- keyed mutex ----

// keyedMutex serializes work per key (a step, an order) within the process.
type keyedMutex struct {
	mu    sync.Mutex
	locks map[string]*keyLock
}

type keyLock struct {
	mu   sync.Mutex
	refs int
}

func (k *keyedMutex) lock(key string) func() {
	k.mu.Lock()
	if k.locks == nil {
		k.locks = map[string]*keyLock{}
	}
	l := k.locks[key]
	if l == nil {
		l = &keyLock{}
		k.locks[key] = l
	}
	l.refs++
	k.mu.Unlock()
	l.mu.Lock()
	return func() {
		l.mu.Unlock()
		k.mu.Lock()
		l.refs--
		if l.refs == 0 {
			delete(k.locks, key)
		}
		k.mu.Unlock()
	}
}
