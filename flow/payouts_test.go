package flow

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/knyt/knyt/commerce"
)

type testReconciler struct {
	seen  []string
	fail  map[string]bool
	links []commerce.Ref
}

func (r *testReconciler) ReconcilePayout(ctx context.Context, provider string, p commerce.Payout, links Links) error {
	if r.fail[p.ID] {
		delete(r.fail, p.ID)
		return errors.New("ledger locked")
	}
	r.seen = append(r.seen, provider+"/"+p.ID+"/"+p.Transactions[0].References.OrderNumber)
	if ref, ok, _ := links.ERPOrder(ctx, p.Transactions[0].References.OrderNumber); ok {
		r.links = append(r.links, ref)
	}
	return nil
}

func TestPayoutsAreReconciledOnce(t *testing.T) {
	rec := &testReconciler{fail: map[string]bool{"po2": true}}
	r := newRig(t, func(c *Config) { c.Shops[0].Orders.Articles = "connector" }, WithReconciler(rec))
	r.shop.addOrders(newOrder("1001", commerce.FinancialPaid, grossLine("l1", "A", 1, "100.00", "")))
	now := r.clock.now()
	tx := func(order string) []commerce.Transaction {
		return []commerce.Transaction{{ID: "tx-" + order, Kind: commerce.TxSale, Amount: sek("149.00"), Net: sek("149.00"),
			References: commerce.TxReferences{OrderNumber: order}}}
	}
	r.psp.payouts = []commerce.Payout{
		{ID: "po1", Status: commerce.PayoutPaid, Amount: sek("149.00"), CreatedAt: now.Add(-time.Hour), Transactions: tx("1001")},
		{ID: "po2", Status: commerce.PayoutPaid, Amount: sek("149.00"), CreatedAt: now.Add(-2 * time.Hour), Transactions: tx("1002")},
		{ID: "po3", Status: commerce.PayoutInTransit, Amount: sek("149.00"), CreatedAt: now.Add(-time.Hour), Transactions: tx("1003")},
	}
	if err := r.e.SyncOnce(context.Background()); err == nil {
		t.Error("a failed reconciliation was not reported")
	}
	r.sync()
	r.sync()
	if diff := cmp.Diff([]string{"mempsp/po1/1001", "mempsp/po2/1002"}, rec.seen); diff != "" {
		t.Errorf("reconciled (-want +got):\n%s", diff)
	}
	if len(rec.links) != 1 || rec.links[0].ID != "E1001" {
		t.Errorf("links = %v", rec.links)
	}
	if c := r.e.Counters().ByKind["payout.reconcile"]; c.Synced != 2 || c.Retried != 1 {
		t.Errorf("counters %+v", c)
	}
}

// A provider whose history is final only some hours back (PayPal) is asked
// only for that part: a payout younger than the delay waits for a later pass.
func TestPayoutDelay(t *testing.T) {
	rec := &testReconciler{}
	r := newRig(t, func(c *Config) { c.Providers[0].PayoutDelay = Duration(3 * time.Hour) }, WithReconciler(rec))
	now := r.clock.now()
	r.psp.payouts = []commerce.Payout{{ID: "po1", Status: commerce.PayoutPaid, Amount: sek("149.00"), CreatedAt: now.Add(-time.Hour),
		Transactions: []commerce.Transaction{{ID: "tx1", Kind: commerce.TxSale, Amount: sek("149.00"), Net: sek("149.00"),
			References: commerce.TxReferences{OrderNumber: "1001"}}}}}
	r.sync()
	if len(rec.seen) != 0 {
		t.Fatalf("a payout inside the provider's delay was reconciled: %v", rec.seen)
	}
	r.clock.advance(3 * time.Hour)
	r.sync()
	if diff := cmp.Diff([]string{"mempsp/po1/1001"}, rec.seen); diff != "" {
		t.Errorf("after the delay (-want +got):\n%s", diff)
	}
	bad := baseConfig()
	bad.Providers[0].PayoutDelay = Duration(-time.Hour)
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "delay") {
		t.Errorf("a negative payout delay: %v", err)
	}
}
