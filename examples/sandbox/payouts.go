package main

import (
	"context"
	"slices"
	"sync"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/flow"
)

// payoutBook is the engine's Reconciler: the engine hands it every paid
// payout it fetches, with its transactions, once (it remembers what was
// handed over in its state). The book links each refund to the credit
// invoice the engine made for it (flow.Links) and keeps the payouts for
// the reconciliation run at the end, which needs the ERP's invoices as
// well.
type payoutBook struct {
	mu      sync.Mutex
	systems map[string]commerce.Ref // provider name → its connector's system and account
	got     map[string]commerce.Payout
	order   []string
	calls   int
}

func newPayoutBook() *payoutBook {
	return &payoutBook{systems: map[string]commerce.Ref{}, got: map[string]commerce.Payout{}}
}

// learn records the system and account of each provider's connector, which
// the engine keys refunds by.
func (b *payoutBook) learn(c *connectors) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for name, sys := range c.providers() {
		b.systems[name] = commerce.Ref{System: sys.System(), Account: sys.Account()}
	}
}

// ReconcilePayout implements flow.Reconciler.
func (b *payoutBook) ReconcilePayout(ctx context.Context, provider string, p commerce.Payout, links flow.Links) error {
	p.Transactions = slices.Clone(p.Transactions)
	b.mu.Lock()
	sys := b.systems[provider]
	b.mu.Unlock()
	for i, tx := range p.Transactions {
		if tx.Kind != commerce.TxRefund || tx.References.RefundID == "" || tx.References.InvoiceNumber != "" {
			continue
		}
		ref := sys
		ref.ID = tx.References.RefundID
		credit, ok, err := links.CreditForRefund(ctx, ref)
		if err != nil {
			return err
		}
		if ok {
			// The credit invoice's number is the strongest key
			// reconciliation matches a refund by.
			p.Transactions[i].References.InvoiceNumber = credit.ID
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.calls++
	key := provider + "/" + p.ID
	if _, ok := b.got[key]; !ok {
		b.order = append(b.order, key)
	}
	b.got[key] = p
	return nil
}

// payouts returns the payouts in the order they were first handed over.
func (b *payoutBook) payouts() []commerce.Payout {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]commerce.Payout, 0, len(b.order))
	for _, k := range b.order {
		out = append(out, b.got[k])
	}
	return out
}
