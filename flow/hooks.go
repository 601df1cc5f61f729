package flow

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"

	"github.com/knyt/knyt/connector"
)

// Direction is the way an entity travels through the engine.
type Direction string

// Directions of hooks.
const (
	ShopToERP  Direction = "shop_to_erp"
	ERPToShop  Direction = "erp_to_shop"
	ToProvider Direction = "to_provider"
)

// HookInfo tells a hook where the entity is going.
type HookInfo struct {
	Direction Direction
	Shop      string // the configured shop id
	Step      string // the journal key of the step, when the entity travels in one
}

// Hook is a plugin that sees an entity on its way and may change it
// (map fields, enrich), skip it (return Skip), or reject it (return any
// other error: the entity is dead-lettered with the hook's name and error).
// Hooks run in the order they were registered, each seeing the previous
// one's changes. A panic is recovered and treated as a rejection.
//
// The engine calls hooks for these types and directions:
//
//	commerce.Order           ShopToERP   before an order is created in the ERP
//	commerce.Customer        ShopToERP   before the order's customer is written
//	commerce.Product         ShopToERP   products shop → ERP (and articles created for orders)
//	commerce.Product         ERPToShop   products ERP → shop
//	commerce.FixedPrice      ERPToShop   prices ERP → shop (combined mode)
//	commerce.StockLevel      ERPToShop   stock ERP → shop
//	commerce.Fulfillment     ERPToShop   fulfillments from delivery events
//	connector.CreditRequest  ShopToERP   credit invoices for returns and refunds
//	connector.CaptureRequest ToProvider  captures on delivery
//	connector.RefundRequest  ToProvider  refunds of returns
//
// A hook that returns a retryable connector error (connector.IsRetryable:
// an enrichment service that is down) makes the step retry instead.
type Hook[T any] interface {
	Name() string
	Apply(ctx context.Context, v *T, info HookInfo) error
}

type hookFunc[T any] struct {
	name string
	fn   func(context.Context, *T, HookInfo) error
}

func (h hookFunc[T]) Name() string { return h.name }
func (h hookFunc[T]) Apply(ctx context.Context, v *T, info HookInfo) error {
	return h.fn(ctx, v, info)
}

// HookFunc makes a Hook of a function.
func HookFunc[T any](name string, fn func(ctx context.Context, v *T, info HookInfo) error) Hook[T] {
	return hookFunc[T]{name: name, fn: fn}
}

// SkipError is what a hook returns to leave an entity out on purpose; the
// reason is recorded (the step ends as skipped, or the item is counted as
// skipped in catalogue flows).
type SkipError struct {
	Plugin string
	Reason string
}

func (e *SkipError) Error() string {
	if e.Plugin == "" {
		return "skipped: " + e.Reason
	}
	return fmt.Sprintf("skipped by plugin %s: %s", e.Plugin, e.Reason)
}

// Skip returns the error a hook returns to skip an entity.
func Skip(reason string) error { return &SkipError{Reason: reason} }

// RejectError is a hook's rejection (or panic): the step is dead-lettered
// with Plugin and Err.
type RejectError struct {
	Plugin string
	Err    error
	Panic  bool
}

func (e *RejectError) Error() string {
	if e.Panic {
		return fmt.Sprintf("plugin %s panicked: %v", e.Plugin, e.Err)
	}
	return fmt.Sprintf("rejected by plugin %s: %v", e.Plugin, e.Err)
}

func (e *RejectError) Unwrap() error { return e.Err }

type registeredHook struct {
	dir  Direction
	hook any // a Hook[T]
}

// WithHook registers a hook for entities of type T travelling in dir.
func WithHook[T any](dir Direction, h Hook[T]) Option {
	return func(o *options) { o.hooks = append(o.hooks, registeredHook{dir: dir, hook: h}) }
}

// runHooks applies the hooks registered for T and dir to v, in order.
func runHooks[T any](ctx context.Context, e *Engine, dir Direction, v *T, info HookInfo) error {
	info.Direction = dir
	for _, rh := range e.hooks {
		if rh.dir != dir {
			continue
		}
		h, ok := rh.hook.(Hook[T])
		if !ok {
			continue
		}
		if err := callHook(ctx, h, v, info); err != nil {
			return err
		}
	}
	return nil
}

func callHook[T any](ctx context.Context, h Hook[T], v *T, info HookInfo) (err error) {
	name := h.Name()
	defer func() {
		if r := recover(); r != nil {
			err = &RejectError{Plugin: name, Err: fmt.Errorf("%v\n%s", r, firstFrames(debug.Stack())), Panic: true}
		}
	}()
	err = h.Apply(ctx, v, info)
	if err == nil {
		return nil
	}
	var se *SkipError
	if errors.As(err, &se) {
		return &SkipError{Plugin: name, Reason: se.Reason}
	}
	return &RejectError{Plugin: name, Err: err}
}

// firstFrames keeps the top of a panic's stack: enough to find the line in
// the plugin, short enough for a dead letter's reason.
func firstFrames(stack []byte) string {
	const max = 1500
	if len(stack) > max {
		return string(stack[:max]) + "…"
	}
	return string(stack)
}

// retryableHookError reports whether a hook's rejection wraps an error that
// is worth retrying.
func retryableHookError(err error) bool {
	var re *RejectError
	return errors.As(err, &re) && !re.Panic && connector.IsRetryable(re.Err)
}
