package flow_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/connector"
	"github.com/knyt/knyt/specter"
)

// creditLedger stands in for the ERP's credit invoices in the reliability
// harness: Specter has no known credit-invoice operation
// (specter.AssumeNoCreditInvoiceAPI), yet the chain return → credit
// invoice → refund must hold under faults and restarts. It applies a
// credit once per idempotency key, as an ERP with idempotent writes would,
// and fails at random, before applying or after (the answer lost), with
// its own seeded chaos.
type creditLedger struct {
	mu     sync.Mutex
	rng    *rand.Rand
	chaos  float64
	byKey  map[string]connector.CreditRequest
	faults int
}

func newCreditLedger(seed uint64, chaos float64) *creditLedger {
	return &creditLedger{rng: rand.New(rand.NewPCG(seed, 7)), chaos: chaos, byKey: map[string]connector.CreditRequest{}}
}

func (l *creditLedger) create(req connector.CreditRequest, key string) (connector.UpsertResult, error) {
	const op = "CreateCreditInvoice"
	if key == "" {
		return connector.UpsertResult{}, connector.NewError("ledger", op, connector.KindValidation, "no idempotency key")
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	fail := l.rng.Float64() < l.chaos
	lost := fail && l.rng.IntN(2) == 0
	if fail && !lost {
		l.faults++
		return connector.UpsertResult{}, connector.NewError("ledger", op, connector.KindTemporary, "injected failure")
	}
	_, seen := l.byKey[key]
	if !seen {
		l.byKey[key] = req
	}
	if lost {
		l.faults++
		return connector.UpsertResult{}, connector.NewError("ledger", op, connector.KindTemporary, "injected failure after the write")
	}
	return connector.UpsertResult{Key: req.OrderNumber, Ref: commerce.Ref{System: "ledger", ID: "K-" + key[:8]}, Created: !seen}, nil
}

func (l *creditLedger) calm() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.chaos = 0
}

// returnsCredited lists the return ids credited, one entry per credit
// invoice, sorted.
func (l *creditLedger) returnsCredited() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var ids []string
	for _, r := range l.byKey {
		id := "(no return)"
		if r.Return != nil {
			id = r.Return.ID
		}
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// creditingERP is the Specter connector with its credit invoices in the
// ledger.
type creditingERP struct {
	*specter.Connector
	ledger *creditLedger
}

func (e creditingERP) CreateCreditInvoice(_ context.Context, req connector.CreditRequest, opts ...connector.CallOption) (connector.UpsertResult, error) {
	return e.ledger.create(req, connector.ApplyCallOptions(opts).IdempotencyKey)
}

// checkCredits: every return has exactly one credit invoice.
func (w *world) checkCredits() {
	var want []string
	for _, o := range w.orders {
		want = append(want, o.returnIDs...)
	}
	slices.Sort(want)
	if got := w.ledger.returnsCredited(); !slices.Equal(got, want) {
		w.t.Errorf("credit invoices by return: %v; returns: %v", got, want)
	}
}

func (l *creditLedger) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return fmt.Sprintf("%d credits, %d failures injected", len(l.byKey), l.faults)
}
