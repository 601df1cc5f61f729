package connector

import (
	"context"
	"errors"
)

// errNoProgress guards Drain against a feed that says More without moving.
var errNoProgress = errors.New("connector: feed reported more items but did not advance its cursor")

// Cursor is an opaque position in a feed, safe to store as a string. The
// empty cursor means the beginning.
type Cursor string

// Batch is one page of a feed: the items, the cursor to store once they are
// processed, and whether more is waiting right now.
type Batch[T any] struct {
	Items  []T
	Cursor Cursor
	More   bool
}

// Feed reads changes in order. Next returns the items after a cursor; it
// never skips an item and, across pages, never repeats one (items with
// equal timestamps are ordered by a tie-breaking id). Commit acknowledges
// everything up to a cursor once the items are processed: watermark systems
// (Shopify's updated_at, provider date windows) treat it as a no-op because
// the cursor itself is the state; queue systems (Specter's change batches)
// acknowledge the batch, and until then Next from the same cursor returns
// the same items again. Commit must be idempotent: committing a cursor
// twice, or the unchanged cursor of an empty page, is harmless.
type Feed[T any] interface {
	Next(ctx context.Context, after Cursor) (Batch[T], error)
	Commit(ctx context.Context, c Cursor) error
}

// Drain reads a feed from after to its current end, calling fn for each
// batch and committing after fn succeeds. It returns the last cursor, which
// the caller stores. On error it returns the last committed cursor, so a
// restart resumes where processing stopped.
func Drain[T any](ctx context.Context, f Feed[T], after Cursor, fn func(context.Context, []T) error) (Cursor, error) {
	for {
		prev := after
		b, err := f.Next(ctx, after)
		if err != nil {
			return after, err
		}
		if len(b.Items) > 0 {
			if err := fn(ctx, b.Items); err != nil {
				return after, err
			}
		}
		if b.Cursor != "" && (b.Cursor != after || len(b.Items) > 0) {
			if err := f.Commit(ctx, b.Cursor); err != nil {
				return after, err
			}
			after = b.Cursor
		}
		if !b.More {
			return after, nil
		}
		if len(b.Items) == 0 && b.Cursor == prev {
			return after, errNoProgress
		}
	}
}
