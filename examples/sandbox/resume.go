package main

import (
	"context"
	"fmt"

	"github.com/shopspring/decimal"
)

// checkResumed checks a run on the state of a finished run. Its fakes start
// empty again — only the engine's state carries over — so the engine must
// recognise everything the story replays (the same catalogue, the same
// orders) as done and write nothing anywhere.
func (s *sandbox) checkResumed(ctx context.Context) []check {
	// The story runs a week after the finished one (see journal), so the
	// feeds bring the replayed catalogue and orders again.
	w, acc := s.w, s.w.erp.Default()
	synced := &checker{name: "the engine found nothing new to do"}
	if t := s.counters.total; t.Synced != 0 || t.DeadLettered != 0 {
		synced.failf("%d steps synced and %d dead-lettered in this run", t.Synced, t.DeadLettered)
	}
	for kind, c := range s.counters.byKind {
		if c.Synced != 0 {
			synced.failf("%s: %d synced", kind, c.Synced)
		}
	}
	writes := &checker{name: "no write reached Specter, Shopify or a payment provider"}
	if n := len(acc.Orders()); n != 0 {
		writes.failf("%d orders created in Specter", n)
	}
	if n := len(acc.Customers()); n != 0 {
		writes.failf("%d customers created in Specter", n)
	}
	if n, seeded := len(acc.Articles()), len(chargeArticles); n != seeded {
		writes.failf("Specter has %d articles, the story seeded %d", n, seeded)
	}
	fulfilled := 0
	for _, o := range s.orders {
		fulfilled += len(w.shop.Fulfillments(o.ShopID))
		if p := w.payments(o); len(p.captures)+len(p.refunds) > 0 {
			writes.failf("%s: %d captures and %d refunds at %s", o.Name, len(p.captures), len(p.refunds), o.Provider)
		}
	}
	if fulfilled > 0 {
		writes.failf("%d fulfillments in Shopify", fulfilled)
	}
	if s.opts.flow == "erp" {
		if n := len(w.shop.Products()); n != 0 {
			writes.failf("%d products created in Shopify", n)
		}
	} else {
		for _, p := range catalogue {
			for _, v := range p.Variants {
				sv, ok := w.shop.VariantBySKU(v.SKU)
				if !ok || !decimal.RequireFromString(sv.Price).Equal(decimal.RequireFromString(p.Gross)) {
					writes.failf("%s: shop price changed to %s", v.SKU, sv.Price)
				}
				if n, _ := w.shop.InventoryLevel(v.SKU, w.location.ID); n != initialShopStock {
					writes.failf("%s: shop stock changed to %d", v.SKU, n)
				}
			}
		}
	}
	if n := len(s.payouts.payouts()); n != 0 {
		writes.failf("%d payouts handed to reconciliation", n)
	}
	journalled := &checker{name: "the journal is as the finished run left it: no step added or changed"}
	after, _, err := journal(ctx, s.statePath)
	if err != nil {
		journalled.failf("%v", err)
	}
	for k, st := range after {
		if before, ok := s.journalBefore[k]; !ok {
			journalled.failf("new step %s (%s)", k, st)
		} else if before != st {
			journalled.failf("step %s went from %s to %s", k, before, st)
		}
	}
	return []check{
		journalled.result(fmt.Sprintf("%d steps", len(after))),
		synced.result(fmt.Sprintf("%d engine lives", s.lives)),
		writes.result(fmt.Sprintf("%d orders replayed in the shop", len(s.orders))),
	}
}
