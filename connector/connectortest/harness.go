package connectortest

import (
	"bytes"
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/connector"
	"github.com/knyt/knyt/connector/fault"
)

// Harness is one connector under test, freshly built against a fresh fake.
// Run asks for a new Harness per subtest so that subtests cannot disturb
// each other.
type Harness struct {
	// Connector is the connector under test. It should be configured with
	// short retry waits (milliseconds) so the fault tests run quickly.
	Connector connector.System
	// Log must receive everything the connector logs: pass Log.Logger() to
	// it. The suite scans it for secrets.
	Log *LogBuffer
	// Secrets are the credentials the connector was given. None may appear
	// in a log line or an error message.
	Secrets []string
	// Faults is the fake's fault injector; nil skips the fault tests.
	Faults *fault.Injector
	// Probe performs a cheap read through the connector (fetch one
	// product, list one payout). It is what the fault tests call.
	Probe func(ctx context.Context) error
	// Products is a valid sample for a ProductSink; nil skips the upsert
	// tests.
	Products []commerce.Product
	// Feeds are the connector's feeds with a way to seed each.
	Feeds []FeedCase
	// Payment enables the capture/refund tests for a Capturer.
	Payment *PaymentCase
	// Payouts enables the payout tests for a PayoutSource.
	Payouts *PayoutCase
}

// FeedCase is one feed and how to put items into it.
type FeedCase struct {
	Name string
	// Seed creates n new items the feed will return, all with the same
	// timestamp where the system has one (the hard case for watermark
	// cursors), and returns their keys as Feed reports them.
	Seed func(ctx context.Context, n int) ([]string, error)
	// Feed is the feed under test; build it with FeedOf.
	Feed ErasedFeed
	// PageSize is the connector's page size for this feed, so the suite can
	// seed more than two pages. 0 means 5.
	PageSize int
}

// PaymentCase says how to create an authorization in the fake.
type PaymentCase struct {
	// Authorize creates an authorized, uncaptured payment of amount and
	// returns the provider's reference for it.
	Authorize func(ctx context.Context, amount commerce.Money) (string, error)
	// Amount is what to authorize; it must split into two whole parts.
	Amount commerce.Money
}

// PayoutCase says how to create payouts in the fake.
type PayoutCase struct {
	// Seed creates at least one payout with transactions and returns a
	// window that contains it.
	Seed func(ctx context.Context) (from, to time.Time, err error)
}

// ErasedFeed is a Feed with its item type reduced to keys, so feeds of
// different entities fit in one slice.
type ErasedFeed interface {
	next(ctx context.Context, after connector.Cursor) ([]string, connector.Cursor, bool, error)
	commit(ctx context.Context, c connector.Cursor) error
}

// FeedOf wraps a typed feed for a FeedCase; key returns an item's business
// key (order number, SKU, event id).
func FeedOf[T any](f connector.Feed[T], key func(T) string) ErasedFeed {
	return erased[T]{f: f, key: key}
}

type erased[T any] struct {
	f   connector.Feed[T]
	key func(T) string
}

func (e erased[T]) next(ctx context.Context, after connector.Cursor) ([]string, connector.Cursor, bool, error) {
	b, err := e.f.Next(ctx, after)
	if err != nil {
		return nil, after, false, err
	}
	keys := make([]string, len(b.Items))
	for i, it := range b.Items {
		keys[i] = e.key(it)
	}
	return keys, b.Cursor, b.More, nil
}

func (e erased[T]) commit(ctx context.Context, c connector.Cursor) error { return e.f.Commit(ctx, c) }

// LogBuffer collects a connector's log output for inspection; safe for
// concurrent use.
type LogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// NewLogBuffer returns an empty buffer.
func NewLogBuffer() *LogBuffer { return &LogBuffer{} }

// Write appends p.
func (b *LogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written so far.
func (b *LogBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Logger returns a debug-level JSON logger writing to b.
func (b *LogBuffer) Logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
