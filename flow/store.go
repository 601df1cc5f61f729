package flow

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/connector"
)

// ErrStepNotFound is returned by Store.SaveStep and the dead-letter
// operations for a key the journal does not hold.
var ErrStepNotFound = errors.New("flow: step not found")

// StepState is where a step stands in the journal.
type StepState string

// Step states. Pending steps are retried until they are done, skipped or
// dead; done, skipped, dead and discarded are final (a dead step becomes
// pending again only when it is replayed).
const (
	StepPending   StepState = "pending"
	StepDone      StepState = "done"
	StepSkipped   StepState = "skipped"
	StepDead      StepState = "dead"
	StepDiscarded StepState = "discarded"
)

// Final reports whether s needs no more work.
func (s StepState) Final() bool { return s != StepPending }

// Step is one unit of work in the journal, the engine's outbox. Its Key is
// derived from the business event (order:{shop}:{number}:create,
// delivery:{eventID}:capture, …), so the same event always finds the same
// step, and its IdempotencyKey is fixed when the step is created and sent
// with every attempt, so a retry after a crash repeats the same key and the
// target system applies the write once.
type Step struct {
	Key            string          `json:"key"`
	Kind           string          `json:"kind"`              // the handler: "order.create", "delivery.capture", …
	Subject        string          `json:"subject,omitempty"` // the business key it is about: order number, SKU, return id
	Shop           string          `json:"shop,omitempty"`    // the configured shop id, when the step belongs to one
	IdempotencyKey string          `json:"idempotency_key"`
	State          StepState       `json:"state"`
	Attempts       int             `json:"attempts"`
	Payload        json.RawMessage `json:"payload,omitempty"` // the input, kept for retries and replays
	Result         commerce.Ref    `json:"result,omitzero"`   // what the step created, once done
	Reason         string          `json:"reason,omitempty"`  // why it was skipped or is dead, or the last retryable error
	Plugin         string          `json:"plugin,omitempty"`  // the plugin that rejected it, if one did
	NextAt         time.Time       `json:"next_at,omitzero"`  // a pending step is not retried before this time
	CreatedAt      time.Time       `json:"created_at"`
	UpdatedAt      time.Time       `json:"updated_at"`
}

// StepFilter selects steps from the journal. Zero fields do not filter.
type StepFilter struct {
	State   StepState
	Kind    string
	Subject string
	Shop    string
	// DueBy selects pending steps whose NextAt is not after it.
	DueBy time.Time
	// After continues a listing after this key (steps come in key order).
	After string
	// Limit bounds the result; 0 means no bound.
	Limit int
}

// Matches reports whether s passes the filter (After and Limit aside); a
// helper for Store implementations.
func (f StepFilter) Matches(s Step) bool {
	switch {
	case f.State != "" && s.State != f.State,
		f.Kind != "" && s.Kind != f.Kind,
		f.Subject != "" && s.Subject != f.Subject,
		f.Shop != "" && s.Shop != f.Shop,
		!f.DueBy.IsZero() && (s.State != StepPending || s.NextAt.After(f.DueBy)),
		f.After != "" && s.Key <= f.After:
		return false
	}
	return true
}

// MapKey names an entry of the ID map and of the loop guard: an entity kind
// ("order", "product", "price", …), its business key (order number, SKU),
// and the system and account it lives in.
type MapKey struct {
	Kind    string `json:"kind"`
	Key     string `json:"key"`
	System  string `json:"system"`
	Account string `json:"account,omitempty"`
}

// Store is the engine's durable state. Implementations must be safe for
// concurrent use by the goroutines of one process; every method takes the
// context first and returns promptly when it is cancelled.
//
// NewMemoryStore is the in-memory implementation for tests;
// flow/sqlitestore the embedded default that survives restarts. The shared
// conformance suite is flowtest.TestStore.
type Store interface {
	// Ref reads the ID map: the id of an entity in a system.
	Ref(ctx context.Context, k MapKey) (commerce.Ref, bool, error)
	// SetRef records (or replaces) an ID map entry.
	SetRef(ctx context.Context, k MapKey, ref commerce.Ref) error

	// Cursor returns a feed's stored position ("" when none).
	Cursor(ctx context.Context, feed string) (connector.Cursor, error)
	// SetCursor stores a feed's position.
	SetCursor(ctx context.Context, feed string, c connector.Cursor) error

	// MarkProcessed records an event (webhook delivery, queue item) as
	// seen and reports whether it was new: true the first time, false for
	// every duplicate, even across restarts.
	MarkProcessed(ctx context.Context, source, id string, at time.Time) (bool, error)
	// ForgetProcessed drops processed-log entries recorded before t and
	// returns how many, so the log does not grow without bound.
	ForgetProcessed(ctx context.Context, before time.Time) (int, error)

	// CreateStep adds s to the journal unless a step with its key exists;
	// it returns the stored step and whether it was created. An existing
	// step is returned unchanged: its idempotency key wins.
	CreateStep(ctx context.Context, s Step) (Step, bool, error)
	// Step reads one step.
	Step(ctx context.Context, key string) (Step, bool, error)
	// SaveStep replaces a stored step (state, attempts, result, reason);
	// ErrStepNotFound if there is none with its key.
	SaveStep(ctx context.Context, s Step) error
	// Steps lists steps in key order.
	Steps(ctx context.Context, f StepFilter) ([]Step, error)

	// LastWrite returns the content hash the engine last wrote for an
	// entity to a system (the loop guard).
	LastWrite(ctx context.Context, k MapKey) (string, bool, error)
	// SetLastWrite records it.
	SetLastWrite(ctx context.Context, k MapKey, hash string) error

	// Close releases the store.
	Close() error
}
