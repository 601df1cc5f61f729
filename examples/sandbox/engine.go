package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/connector"
	"github.com/knyt/knyt/flow"
	"github.com/knyt/knyt/flow/sqlitestore"
	"github.com/knyt/knyt/paypal"
	"github.com/knyt/knyt/vat"
)

// attrVATNumber is the order attribute the checkout stores a business
// buyer's VAT number in (Shopify's order model has no field for it).
const attrVATNumber = "vat_number"

// config is the engine's configuration for the chosen flow: one shop,
// Specter, the three providers; retries fast enough for simulated time.
func (s *sandbox) config() flow.Config {
	rate := decimal.NewFromInt(25)
	mode := map[string]flow.Mode{"combined": flow.Combined, "shop": flow.ShopLeads, "erp": flow.ERPLeads}[s.opts.flow]
	provider := func(name string) flow.ProviderConfig {
		pc := flow.ProviderConfig{Name: name, System: name, Gateways: []string{name},
			PayoutInterval: flow.Duration(time.Hour), PayoutLookback: flow.Duration(30 * 24 * time.Hour)}
		if name == "paypal" {
			// Transaction Search is final only after its delay; PayPal
			// reports its refresh time to the minute, so stay a minute more.
			pc.PayoutDelay = flow.Duration(paypal.DefaultSearchDelay + time.Minute)
		}
		return pc
	}
	return flow.Config{
		ERP: flow.ERPConfig{System: "specter", Currencies: []string{"SEK", "EUR"}, PriceDecimals: 3,
			RoundingSKU: roundingSKU, DefaultVATRate: &rate},
		Shops: []flow.ShopConfig{{ID: shopID, System: "shopify", Currency: "SEK", Mode: mode, NotifyCustomer: true,
			Orders:  flow.OrderRules{Articles: "connector"},
			Returns: flow.ReturnRules{Credit: "erp", Refund: "provider"},
			Catalog: flow.CatalogRules{Locations: map[string]string{stockSite: locationName}, BatchSize: 25}}},
		Providers: []flow.ProviderConfig{provider("klarna"), provider("stripe"), provider("paypal")},
		Retry:     flow.RetryConfig{MaxAttempts: 200, MinBackoff: flow.Duration(time.Second), MaxBackoff: flow.Duration(time.Minute)},
	}
}

// vatNumberHook is a plugin: it takes a business buyer's VAT number from
// the order attribute the checkout wrote, checks it, and makes the
// customer a business with that number on its way to the ERP. A number
// that fails the check rejects the order (a dead letter naming the hook).
var vatNumberHook = flow.HookFunc("b2b-vat-number", func(_ context.Context, o *commerce.Order, _ flow.HookInfo) error {
	for _, a := range o.Attributes {
		if a.Key != attrVATNumber || strings.TrimSpace(a.Value) == "" {
			continue
		}
		n, err := vat.NormalizeNumber(a.Value)
		if err != nil {
			return fmt.Errorf("order %s: VAT number %q: %w", o.Number, a.Value, err)
		}
		o.Customer.Type = commerce.Business
		o.Customer.VATNumber = n
		if o.Customer.Company == "" && o.BillingAddress != nil {
			o.Customer.Company = o.BillingAddress.Company
		}
	}
	return nil
})

// chargeArticles are Specter articles that are charges on orders, not
// goods: the shop has no variants for them.
var chargeArticles = []string{shippingSKU, discountSKU, roundingSKU}

// chargeFilter is a plugin that keeps Specter's charge articles out of the
// price and stock flows to the shop, which would otherwise dead-letter
// them for want of a variant.
func chargeFilter[T any](sku func(*T) string) flow.Hook[T] {
	return flow.HookFunc("charge-articles", func(_ context.Context, v *T, _ flow.HookInfo) error {
		if slices.Contains(chargeArticles, sku(v)) {
			return flow.Skip(sku(v) + " is a charge article, not sold in the shop")
		}
		return nil
	})
}

// life runs one life of the engine — open the state, build the
// connectors and the engine as a freshly started process does, do the
// work — cut short after killAfter HTTP calls when killAfter > 0.
func (s *sandbox) life(ctx context.Context, killAfter int, work func(context.Context, *flow.Engine) error) (flow.CountersSnapshot, error) {
	st, err := sqlitestore.Open(ctx, s.statePath)
	if err != nil {
		return flow.CountersSnapshot{}, err
	}
	defer st.Close()
	c, err := s.w.connect()
	if err != nil {
		return flow.CountersSnapshot{}, err
	}
	s.payouts.learn(c)
	erp := &creditingERP{Connector: c.erp, book: s.credits}
	eng, err := flow.New(s.config(), flow.Systems{ERP: erp, Shops: map[string]connector.System{shopID: c.shop}, Providers: c.providers()},
		flow.WithStore(st), flow.WithClock(s.w.clock.Now), flow.WithLogger(s.log), flow.WithReconciler(s.payouts),
		flow.WithHook(flow.ShopToERP, vatNumberHook),
		flow.WithHook(flow.ERPToShop, chargeFilter(func(p *commerce.FixedPrice) string { return p.SKU })),
		flow.WithHook(flow.ERPToShop, chargeFilter(func(l *commerce.StockLevel) string { return l.SKU })),
		flow.WithHook(flow.ERPToShop, chargeFilter(func(p *commerce.Product) string {
			if len(p.Variants) == 1 {
				return p.Variants[0].SKU
			}
			return ""
		})))
	if err != nil {
		return flow.CountersSnapshot{}, err
	}
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if killAfter > 0 {
		s.w.kill.Arm(killAfter, cancel)
	}
	err = work(lctx, eng)
	s.w.kill.Disarm()
	s.lives++
	cs := eng.Counters()
	s.counters.add(cs)
	s.progress.counters(s.counters.total)
	if ctx.Err() != nil {
		return cs, ctx.Err()
	}
	return cs, err
}

func syncOnce(ctx context.Context, e *flow.Engine) error { return e.SyncOnce(ctx) }

// storm is the chaos before each calm: faults injected at every fake and
// the engine killed at random points, a few lives long.
func (s *sandbox) storm(ctx context.Context, work func(context.Context, *flow.Engine) error) error {
	if !s.opts.chaos {
		return nil
	}
	s.phase++
	for name, f := range s.w.faults() {
		f.Chaos(chaosRate, s.opts.seed*1000+uint64(s.phase)*10+uint64(len(name)))
	}
	defer func() {
		for _, f := range s.w.faults() {
			f.Reset()
		}
	}()
	for range 4 {
		// Errors are the storm's point: killed lives, feeds that failed
		// under injected faults. What they left undone, the calm after
		// finishes, and the checks look at the end state only.
		if _, _ = s.life(ctx, 3+s.chaos.IntN(50), work); ctx.Err() != nil {
			return ctx.Err()
		}
		s.w.skip(2 * time.Minute)
	}
	return nil
}

// chaosRate is the probability of a fault per request with -chaos.
const chaosRate = 0.08

// converge runs the engine until a whole pass finds nothing to do and
// nothing is pending: the fixed point the invariants are checked at.
func (s *sandbox) converge(ctx context.Context) error {
	if err := s.storm(ctx, syncOnce); err != nil {
		return err
	}
	var last error
	for round := range 60 {
		c, err := s.life(ctx, 0, syncOnce)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		pending, perr := s.pending(ctx)
		if perr != nil {
			return perr
		}
		s.w.skip(2 * time.Minute)
		if err == nil && pending == 0 && c.Total.Synced == 0 && c.Total.Retried == 0 {
			return nil
		}
		last = err
		if round > 3 && err != nil {
			s.progress.note("still converging: %v", firstLine(err))
		}
	}
	return fmt.Errorf("the engine did not settle: %v", last)
}

// pending counts the journal's pending steps.
func (s *sandbox) pending(ctx context.Context) (int, error) {
	st, err := sqlitestore.Open(ctx, s.statePath)
	if err != nil {
		return 0, err
	}
	defer st.Close()
	steps, err := st.Steps(ctx, flow.StepFilter{State: flow.StepPending})
	return len(steps), err
}

// initialSync copies the catalogue in the flow's direction, resuming
// after kills and passing failures until it completes.
func (s *sandbox) initialSync(ctx context.Context) error {
	dir := flow.ShopToERP
	if s.opts.flow == "erp" {
		dir = flow.ERPToShop
	}
	req := flow.InitialSyncRequest{Direction: dir, Progress: func(p flow.Progress) { s.progress.initial(p) }}
	if dir == flow.ShopToERP {
		req.Shop = shopID
	}
	work := func(ctx context.Context, e *flow.Engine) error {
		p, err := e.InitialSync(ctx, req)
		s.initialProgress = p
		return err
	}
	if err := s.storm(ctx, work); err != nil {
		return err
	}
	var last error
	for range 20 {
		_, err := s.life(ctx, 0, work)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err == nil {
			return nil
		}
		last = err
		s.w.skip(2 * time.Minute)
	}
	return fmt.Errorf("initial sync: %w", last)
}

// counterSet sums the engine's counters over its lives.
type counterSet struct {
	total  flow.Counters
	byKind map[string]flow.Counters
}

func (c *counterSet) add(s flow.CountersSnapshot) {
	if c.byKind == nil {
		c.byKind = map[string]flow.Counters{}
	}
	for k, v := range s.ByKind {
		a := c.byKind[k]
		a.Synced += v.Synced
		a.Skipped += v.Skipped
		a.Retried += v.Retried
		a.DeadLettered += v.DeadLettered
		c.byKind[k] = a
	}
	c.total.Synced += s.Total.Synced
	c.total.Skipped += s.Total.Skipped
	c.total.Retried += s.Total.Retried
	c.total.DeadLettered += s.Total.DeadLettered
}

func firstLine(err error) string {
	msg := err.Error()
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i] + " …"
	}
	return msg
}

var errInvariants = errors.New("invariants failed")
