package reconcile

import (
	"context"
	"sync"

	"github.com/knyt/knyt/commerce"
)

// KeyKind says what a ledger Key identifies.
type KeyKind uint8

// Ledger key kinds.
const (
	// KeyTransaction: a provider transaction was booked (Scope = provider,
	// ID = transaction id); Entry.VoucherID is its voucher.
	KeyTransaction KeyKind = iota + 1
	// KeyPayout: a payout was booked (Scope = provider, ID = payout id);
	// Entry.VoucherID is its latest voucher, Entry.Amount what has been
	// posted to the bank for it, in the book currency.
	KeyPayout
	// KeyPayoutRest: the part of a payout its transactions did not explain
	// that was booked as rounding (Scope = provider, ID = payout id), in
	// the payout's currency.
	KeyPayoutRest
	// KeyDocument: what providers have settled on a document so far
	// (Scope = document kind, ID = number), signed, in its currency.
	KeyDocument
	// KeyGiftCard: the gift-card part of a document was moved off the
	// receivable (WithGiftCardClearing; Scope = kind, ID = number).
	KeyGiftCard
	// KeySale: a document's sale voucher was booked (BookSales; Scope =
	// kind, ID = number).
	KeySale
)

// Key identifies one fact the ledger remembers. It is comparable, for use
// as a map key.
type Key struct {
	Kind  KeyKind
	Scope string
	ID    string
}

// Entry is the state stored under a Key: the voucher that booked it and,
// for payouts and documents, an amount (see KeyKind).
type Entry struct {
	Key       Key
	VoucherID string
	Amount    commerce.Money
}

// Ledger remembers what has been booked, so that booking the same payout
// twice produces nothing new and a payout that comes back with more
// transactions books only the difference. The engine persists it next to
// the vouchers it exports; NewMemoryLedger keeps it in memory.
//
// Lookup returns the entries stored for the keys that have one. Commit
// stores entries, replacing those with the same key; it must be atomic (all
// or nothing), since a partial commit would book part of a run twice.
type Ledger interface {
	Lookup(ctx context.Context, keys []Key) (map[Key]Entry, error)
	Commit(ctx context.Context, entries []Entry) error
}

// MemoryLedger is a Ledger in memory, safe for concurrent use.
type MemoryLedger struct {
	mu      sync.RWMutex
	entries map[Key]Entry
}

// NewMemoryLedger returns an empty ledger.
func NewMemoryLedger() *MemoryLedger { return &MemoryLedger{entries: map[Key]Entry{}} }

// Lookup implements Ledger.
func (l *MemoryLedger) Lookup(ctx context.Context, keys []Key) (map[Key]Entry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	out := map[Key]Entry{}
	for _, k := range keys {
		if e, ok := l.entries[k]; ok {
			out[k] = e
		}
	}
	return out, nil
}

// Commit implements Ledger.
func (l *MemoryLedger) Commit(ctx context.Context, entries []Entry) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range entries {
		l.entries[e.Key] = e
	}
	return nil
}

// Len is the number of entries stored.
func (l *MemoryLedger) Len() int {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return len(l.entries)
}
