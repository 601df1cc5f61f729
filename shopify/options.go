package shopify

import (
	"context"
	"time"

	"github.com/knyt/knyt/commerce"
)

// MoneyKind selects which side of Shopify's MoneyBag orders are mapped
// from: the shop's currency or the currency the buyer saw.
type MoneyKind int

// Money kinds.
const (
	// ShopMoney maps order amounts in the shop's currency (the default):
	// what the shop books.
	ShopMoney MoneyKind = iota
	// PresentmentMoney maps order amounts in the buyer's currency: what
	// the buyer was invoiced.
	PresentmentMoney
)

// WithOrderMoney selects the currency orders, refunds and captures are
// mapped in (default ShopMoney). The other side stays in Origin.Raw.
func WithOrderMoney(k MoneyKind) Option { return func(c *config) { c.money = k } }

// Invalid is an item a feed could not map: Shopify sent data the canonical
// model refuses (a variant without SKU, an amount with more decimals than
// its currency, an unknown currency).
type Invalid struct {
	Entity string       // "product", "order", "refund", "return"
	Ref    commerce.Ref // the item's Shopify id
	Err    error        // why; a *connector.Error of KindValidation
}

// WithInvalidHandler decides what a feed does with an item it cannot map.
// By default the item is one of the batch's Problems
// (connector.ItemProblem): nothing is silently dropped, and one bad item
// does not block the items behind it. With a handler, the handler is told,
// and the item is skipped if it returns nil or the feed fails with the
// error it returns. The bulk export, which has no batches, fails with the
// error unless the handler skips the item.
func WithInvalidHandler(fn func(ctx context.Context, item Invalid) error) Option {
	return func(c *config) { c.onInvalid = fn }
}

// WithTotalsMismatchHandler is called for each order whose parts do not
// add up to the totals Shopify reports (currentTotalPriceSet and the other
// current* sums), with the *commerce.TotalsMismatchError list from
// Order.CheckTotals. Returning nil delivers the order as mapped (its Totals
// are Shopify's figures, so the difference stays visible downstream); an
// error stops the feed with it. Without a handler the mismatch is logged at
// warning level and the order delivered.
func WithTotalsMismatchHandler(fn func(ctx context.Context, o commerce.Order, err error) error) Option {
	return func(c *config) { c.onMismatch = fn }
}

// CancelPolicy says how CancelOrder cancels: the reason when the caller's
// does not name one of Shopify's (CUSTOMER, DECLINED, FRAUD, INVENTORY,
// STAFF, OTHER), whether to restock, refund the payment, and notify.
type CancelPolicy struct {
	Reason         string
	Restock        bool
	Refund         bool
	NotifyCustomer bool
}

// WithCancelPolicy sets how orders are cancelled (default: reason OTHER,
// restock, no refund, no notification — refunds are made explicitly).
func WithCancelPolicy(p CancelPolicy) Option { return func(c *config) { c.cancel = p } }

// WithStockReason sets the reason recorded with stock changes (default
// "correction"; Shopify accepts a fixed list, see
// InventorySetQuantitiesInput.reason).
func WithStockReason(reason string) Option { return func(c *config) { c.stockReason = reason } }

// WithBulkPollInterval sets how often a running bulk operation is polled
// (default 2 s); a bulk_operations/finish webhook passed to the export
// wakes it at once.
func WithBulkPollInterval(d time.Duration) Option { return func(c *config) { c.pollInterval = d } }

// WithConcurrency lets batch writes (UpsertProducts, SetPrices) send up to
// n requests at once (default 1). They share the cost bucket, so more
// concurrency only helps while latency, not the bucket, is the limit.
func WithConcurrency(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.concurrency = n
		}
	}
}

// WithPageSize caps the number of items per feed page (default 250, the
// API's maximum); pages also shrink to keep each request under the cost
// limit.
func WithPageSize(n int) Option {
	return func(c *config) {
		if n > 0 && n <= 250 {
			c.pageLimit = n
		}
	}
}
