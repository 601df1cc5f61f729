package connector

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/knyt/knyt/commerce"
)

// errNoProgress guards Drain against a feed that says More without moving.
var errNoProgress = errors.New("connector: feed reported more items but did not advance its cursor")

// Cursor is an opaque position in a feed, safe to store as a string. The
// empty cursor means the beginning.
type Cursor string

// Batch is one page of a feed: the items, the cursor to store once they are
// processed, and whether more is waiting right now. Problems are the items
// of the page the connector read but could not map (a shop order whose
// totals do not add up, say): reported instead of failing the page, so one
// bad item does not hold up every item behind it. The cursor moves past
// them; an item comes back through the feed when it changes in its system.
type Batch[T any] struct {
	Items    []T
	Problems []ItemProblem
	Cursor   Cursor
	More     bool
}

// ItemProblem is a feed item that could not be mapped.
type ItemProblem struct {
	Entity string       // "order", "product", …
	Ref    commerce.Ref // the item in its system, as far as it is known
	Err    error
}

func (p ItemProblem) Error() string {
	return fmt.Sprintf("%s %s: %v", p.Entity, p.Ref, p.Err)
}

func (p ItemProblem) Unwrap() error { return p.Err }

// ProblemsError is what Drain returns when a page had problems and no
// DrainOption took them: the items around them were processed and
// committed, and the returned cursor is past them.
type ProblemsError struct {
	Problems []ItemProblem
}

func (e *ProblemsError) Error() string {
	msgs := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		msgs[i] = p.Error()
	}
	return fmt.Sprintf("connector: %d feed item(s) could not be mapped: %s", len(e.Problems), strings.Join(msgs, "; "))
}

// Unwrap gives errors.Is and errors.As the single problems.
func (e *ProblemsError) Unwrap() []error {
	errs := make([]error, len(e.Problems))
	for i, p := range e.Problems {
		errs[i] = p
	}
	return errs
}

// DrainOption adjusts Drain.
type DrainOption func(*drainConfig)

type drainConfig struct {
	problems func(context.Context, []ItemProblem) error
}

// WithProblems hands each page's problems to fn (to dead-letter them, say)
// before the page is committed; an error from fn stops Drain there.
func WithProblems(fn func(context.Context, []ItemProblem) error) DrainOption {
	return func(c *drainConfig) { c.problems = fn }
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
// restart resumes where processing stopped. Problems go to WithProblems'
// function; without one, Drain stops after the first page that has any
// and returns them as a *ProblemsError with the cursor past that page.
func Drain[T any](ctx context.Context, f Feed[T], after Cursor, fn func(context.Context, []T) error, opts ...DrainOption) (Cursor, error) {
	var cfg drainConfig
	for _, o := range opts {
		o(&cfg)
	}
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
		var unhandled error
		if len(b.Problems) > 0 {
			if cfg.problems == nil {
				unhandled = &ProblemsError{Problems: b.Problems}
			} else if err := cfg.problems(ctx, b.Problems); err != nil {
				return after, err
			}
		}
		if b.Cursor != "" && (b.Cursor != after || len(b.Items) > 0 || len(b.Problems) > 0) {
			if err := f.Commit(ctx, b.Cursor); err != nil {
				return after, err
			}
			after = b.Cursor
		}
		if unhandled != nil {
			return after, unhandled
		}
		if !b.More {
			return after, nil
		}
		if len(b.Items) == 0 && len(b.Problems) == 0 && b.Cursor == prev {
			return after, errNoProgress
		}
	}
}
