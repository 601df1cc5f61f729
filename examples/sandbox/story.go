package main

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/shopspring/decimal"

	"github.com/knyt/knyt/flow"
	"github.com/knyt/knyt/shopify/shopifytest"
	"github.com/knyt/knyt/specter/spectertest"
	"github.com/knyt/knyt/stripe/stripetest"
)

// sandbox is one run: the fakes, the plan, the engine's state and what
// was observed.
type sandbox struct {
	opts      options
	w         *world
	rng       *rand.Rand // the story's choices
	chaos     *rand.Rand // where the engine is killed, apart so -chaos tells the same story
	log       *slog.Logger
	statePath string
	start     time.Time // when the simulated week begins
	// resumed is set when the state file held a finished run: then this
	// run must change nothing.
	resumed       bool
	journalBefore map[string]flow.StepState
	customers     []customer
	orders        []*order
	credits       *creditBook
	payouts       *payoutBook
	progress      *progress

	counters        counterSet
	lives           int
	phase           int
	initialProgress flow.Progress
	sellerOrg       string // 559123-4567 form, for the SIE header
	sellerVAT       string

	// What the story did in the ERP and the shop, for the checks.
	priceChanges map[string]decimal.Decimal // SKU → new price excl. VAT
	returned     *returnFact
	payoutRefs   map[string][]string // provider → payouts made in the fakes
}

// returnFact is the return the story registered.
type returnFact struct {
	order *order
	line  line
	qty   int
	id    string
}

// play tells the week: catalogue, orders, price and stock from the ERP,
// deliveries, a return, payouts. After each chapter the engine runs until
// it has nothing left to do.
func (s *sandbox) play(ctx context.Context) error {
	w := s.w
	s.progress.begin("catalogue → initial sync")
	switch {
	case s.opts.flow != "erp":
		if err := w.seedShopCatalogue(); err != nil {
			return err
		}
	case !s.resumed:
		// The ERP's catalogue is the ERP's own state, which the finished
		// run synchronised; replaying its first version would be a change.
		if err := w.seedERPCatalogue(); err != nil {
			return err
		}
	}
	if s.resumed {
		// Onboarding happened in the finished run; a new initial sync
		// would be a new full pass (flow.Engine.InitialSync).
		s.progress.note("initial sync done in the finished run; not repeated")
	} else if err := s.initialSync(ctx); err != nil {
		return err
	}
	if err := s.converge(ctx); err != nil {
		return err
	}

	s.progress.begin(fmt.Sprintf("%d orders → Specter", len(s.orders)))
	w.skip(34 * time.Hour) // Tuesday evening: the orders are in
	for _, o := range s.orders {
		if err := w.placeOrder(o); err != nil {
			return err
		}
	}
	if err := s.converge(ctx); err != nil {
		return err
	}

	if s.opts.flow != "shop" {
		s.progress.begin("prices and stock ← Specter")
		w.skip(13 * time.Hour) // Wednesday morning: the ERP is updated
		if err := s.changeERPCatalogue(); err != nil {
			return err
		}
		if err := s.converge(ctx); err != nil {
			return err
		}
	}

	s.progress.begin("deliveries → fulfillments, captures")
	w.skip(8 * time.Hour)
	if err := s.deliver(true); err != nil {
		return err
	}
	if err := s.converge(ctx); err != nil {
		return err
	}
	w.skip(24 * time.Hour) // Thursday: the rest of the part-delivered order
	if err := s.deliver(false); err != nil {
		return err
	}
	if err := s.converge(ctx); err != nil {
		return err
	}

	s.progress.begin("return → credit invoice → refund")
	w.skip(19 * time.Hour) // Friday: a parcel comes back
	if err := s.returnOne(); err != nil {
		return err
	}
	if err := s.converge(ctx); err != nil {
		return err
	}

	s.progress.begin("payouts → reconciliation")
	w.skip(68 * time.Hour) // Monday: the providers pay out
	if err := s.payOut(); err != nil {
		return err
	}
	// Transaction Search shows PayPal's rows hours later.
	w.skip(7 * time.Hour)
	if err := s.converge(ctx); err != nil {
		return err
	}
	s.progress.end()
	return nil
}

// changeERPCatalogue is the purchaser at work in Specter: new prices for
// a few articles and a stock count of everything.
func (s *sandbox) changeERPCatalogue() error {
	acc := s.w.erp.Default()
	s.priceChanges = map[string]decimal.Decimal{}
	arts := acc.Articles()
	for i, a := range arts {
		if !a.Stocked {
			continue
		}
		if i%4 == 1 {
			// A price rise of about ten percent, to a round price
			// including VAT.
			gross := a.PriceExclVAT.Mul(decimal.RequireFromString("1.375")).Round(0).Sub(decimal.RequireFromString("1"))
			net := gross.Div(decimal.RequireFromString("1.25")).Round(3)
			if err := acc.SetArticlePrice(a.No, net); err != nil {
				return fmt.Errorf("price of %s in Specter: %w", a.No, err)
			}
			s.priceChanges[a.No] = net
		}
		if err := acc.SetStock(a.No, stockSite, 5+s.rng.IntN(60)); err != nil {
			return fmt.Errorf("stock of %s in Specter: %w", a.No, err)
		}
	}
	return nil
}

// goods reports whether an article is one of the catalogue's (not
// shipping, rounding or discount).
func goods(sku string) bool {
	for _, p := range catalogue {
		for _, v := range p.Variants {
			if v.SKU == sku {
				return true
			}
		}
	}
	return false
}

// tracking is a PostNord-style tracking number per delivery.
func tracking(orderNo, delivery int) string {
	return fmt.Sprintf("RR%09dSE", 100000000+orderNo*10+delivery)
}

// deliver is the warehouse at work in Specter. On the first day every
// order in Specter ships, except that the first order with more than one
// unit ships one unit now and the rest on the next day; an order that is
// fully delivered is invoiced.
func (s *sandbox) deliver(first bool) error {
	acc := s.w.erp.Default()
	split := false
	for _, o := range s.orders {
		so, ok := acc.OrderByExternalNo(o.Name)
		if !ok || so.Removed || so.Delivered() {
			continue
		}
		n := len(so.Deliveries) + 1
		if first && !split && units(o) > 1 {
			split = true
			for _, r := range so.Rows {
				if goods(r.ArticleNo) {
					if _, err := acc.MarkDelivered(so.No, tracking(so.No, n), spectertest.DeliveredRow{ArticleNo: r.ArticleNo, Quantity: decimal.NewFromInt(1)}); err != nil {
						return fmt.Errorf("deliver part of %s: %w", o.Name, err)
					}
					break
				}
			}
			continue
		}
		if _, err := acc.MarkDelivered(so.No, tracking(so.No, n)); err != nil {
			return fmt.Errorf("deliver %s: %w", o.Name, err)
		}
		if _, err := acc.InvoiceOrder(so.No); err != nil {
			return fmt.Errorf("invoice %s: %w", o.Name, err)
		}
	}
	return nil
}

func units(o *order) int {
	n := 0
	for _, l := range o.Lines {
		n += l.Qty
	}
	return n
}

// returnOne has a consumer send back one unit of a delivered order; the
// shop closes the return once the parcel is in.
func (s *sandbox) returnOne() error {
	acc := s.w.erp.Default()
	var candidates []*order
	for _, o := range s.orders {
		if so, ok := acc.OrderByExternalNo(o.Name); ok && so.Delivered() && !o.Customer.business() {
			candidates = append(candidates, o)
		}
	}
	if len(candidates) == 0 {
		return nil // nothing delivered (a run on finished state)
	}
	o := candidates[s.rng.IntN(len(candidates))]
	l := o.Lines[0]
	r, err := s.w.shop.AddReturn(o.ShopID, shopifytest.Return{Status: "CLOSED", CreatedAt: s.w.clock.Now(),
		Lines: []shopifytest.ReturnLine{{SKU: l.SKU, Quantity: 1, Reason: "size_too_small", ReasonNote: "För liten"}}})
	if err != nil {
		return fmt.Errorf("return on %s: %w", o.Name, err)
	}
	s.returned = &returnFact{order: o, line: l, qty: 1, id: r.ID}
	return nil
}

// payOut has each provider pay out what it settled: Klarna's settlement
// per currency, Stripe's automatic payout per currency, PayPal's
// withdrawal of each balance.
func (s *sandbox) payOut() error {
	w := s.w
	s.payoutRefs = map[string][]string{}
	s.payoutRefs["klarna"] = w.klarna.Settle()
	currencies := map[string][]string{}
	for _, o := range s.orders {
		if so, ok := w.erp.Default().OrderByExternalNo(o.Name); ok && len(so.Deliveries) > 0 && !slices.Contains(currencies[o.Provider], o.Currency.Code()) {
			currencies[o.Provider] = append(currencies[o.Provider], o.Currency.Code())
		}
	}
	for _, cur := range sorted(currencies["stripe"]) {
		id, err := w.stripe.CreatePayout(cur, stripetest.PayoutOptions{TraceID: "SE" + cur + "STRIPE1", StatementDescriptor: "STRIPE"})
		if err != nil {
			return fmt.Errorf("payout in %s at Stripe: %w", cur, err)
		}
		s.payoutRefs["stripe"] = append(s.payoutRefs["stripe"], id)
	}
	for _, cur := range sorted(currencies["paypal"]) {
		t, err := w.paypal.Withdraw(cur)
		if err != nil {
			return fmt.Errorf("withdrawal in %s at PayPal: %w", cur, err)
		}
		s.payoutRefs["paypal"] = append(s.payoutRefs["paypal"], t.ID)
	}
	return nil
}

func sorted(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}
