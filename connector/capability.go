package connector

import (
	"context"
	"iter"
	"time"

	"github.com/knyt/knyt/commerce"
)

// System is implemented by every connector: which system it speaks to and
// which account (shop, company, merchant id) within it. The engine discovers
// everything else by asserting the capability interfaces below.
type System interface {
	System() string
	Account() string
}

// ProductSource reads product changes (shops, or ERPs that lead the
// catalogue).
type ProductSource interface {
	Products() Feed[commerce.Product]
}

// ProductLookup finds the product that has a variant with the SKU; a
// missing SKU is an error matching ErrNotFound.
type ProductLookup interface {
	ProductBySKU(ctx context.Context, sku string) (commerce.Product, error)
}

// UpsertResult says what an upsert did to one item.
type UpsertResult struct {
	Key     string       // the business key: SKU, order number, e-mail
	Ref     commerce.Ref // the item's id in the target system
	Created bool         // false when an existing item was updated or left as it was
}

// ProductSink writes products with their variants, keyed by SKU. Writing the
// same batch twice leaves one copy of each.
type ProductSink interface {
	UpsertProducts(ctx context.Context, products []commerce.Product, opts ...CallOption) ([]UpsertResult, error)
}

// PriceSink sets variant prices (and compare-at prices) by SKU.
type PriceSink interface {
	SetPrices(ctx context.Context, prices []commerce.FixedPrice, opts ...CallOption) error
}

// PriceListSource reads price lists that changed (ERPs that keep price
// lists per customer group or market). Each item is a whole list as it
// stands now, so a reader can replace its copy.
type PriceListSource interface {
	PriceLists() Feed[commerce.PriceList]
}

// PriceListSink writes fixed prices per SKU into a price list.
type PriceListSink interface {
	SetPriceList(ctx context.Context, list commerce.PriceList, opts ...CallOption) error
}

// StockSource reads stock changes.
type StockSource interface {
	Stock() Feed[commerce.StockLevel]
}

// StockChange is a stock level to write, optionally with the level the
// writer last saw so systems with compare-and-set refuse a stale write.
type StockChange struct {
	Level    commerce.StockLevel
	Previous *int
}

// StockSink sets available quantities per SKU and location. Idempotent: the
// same levels twice change nothing.
type StockSink interface {
	SetStock(ctx context.Context, changes []StockChange, opts ...CallOption) error
}

// CustomerSink creates or updates a customer, matched by the system's rule
// (e-mail, organisation number).
type CustomerSink interface {
	UpsertCustomer(ctx context.Context, c commerce.Customer, opts ...CallOption) (UpsertResult, error)
}

// OrderSource reads orders (shops).
type OrderSource interface {
	Orders() Feed[commerce.Order]
}

// OrderSink creates an order in an ERP, idempotent on the shop's order
// number: creating the same order again returns the existing one with
// Created false.
type OrderSink interface {
	CreateOrder(ctx context.Context, o commerce.Order, opts ...CallOption) (UpsertResult, error)
}

// InvoiceSink creates an invoice directly from a shop order (ERPs that
// invoice at once), idempotent on the order number.
type InvoiceSink interface {
	CreateInvoice(ctx context.Context, o commerce.Order, opts ...CallOption) (UpsertResult, error)
}

// CreditRequest asks for a credit invoice for returned or refunded goods.
type CreditRequest struct {
	OrderNumber string
	Return      *commerce.Return
	Refund      *commerce.Refund
	Reason      string
}

// CreditSink creates a credit invoice linked to the original order or
// invoice, idempotent on the return or refund id.
type CreditSink interface {
	CreateCreditInvoice(ctx context.Context, req CreditRequest, opts ...CallOption) (UpsertResult, error)
}

// OrderEventSource reads what an ERP did with orders: delivered with
// tracking, invoiced, paid, cancelled.
type OrderEventSource interface {
	OrderEvents() Feed[commerce.OrderEvent]
}

// Fulfiller records a shipment: in a shop, a fulfillment with tracking; in
// an ERP, a delivery report for the shipped lines.
type Fulfiller interface {
	Fulfill(ctx context.Context, f commerce.Fulfillment, opts ...CallOption) (commerce.Ref, error)
}

// OrderCanceller cancels an order in the shop.
type OrderCanceller interface {
	CancelOrder(ctx context.Context, orderNumber, reason string, opts ...CallOption) error
}

// PaidMarker marks an order paid in the shop (invoice and bank payments).
type PaidMarker interface {
	MarkPaid(ctx context.Context, orderNumber string, opts ...CallOption) error
}

// RefundSource reads refunds made in the shop.
type RefundSource interface {
	Refunds() Feed[commerce.Refund]
}

// ReturnSource reads returns registered in the shop.
type ReturnSource interface {
	Returns() Feed[commerce.Return]
}

// CaptureRequest asks a provider to capture part or all of an authorization.
type CaptureRequest struct {
	PaymentReference string         // the provider's payment id
	OrderNumber      string         // the shop order, for references in settlements
	Amount           commerce.Money // what to capture
	// Lines are the captured order lines, unit prices including VAT (what
	// BNPL providers print on the buyer's invoice).
	Lines     []commerce.Line
	Final     bool   // no further captures will follow; release the rest where the provider supports it
	Reference string // merchant reference that reappears in settlements
	// CapturedBefore, when set, is what the caller has captured of the
	// payment before this capture: the sum of its earlier captures. A
	// provider that takes no idempotency key for captures (Shopify's
	// orderCapture) cannot tell a repeat after a restart from a new capture
	// of the same amount; with it the connector compares: the payment holds
	// CapturedBefore → capture; CapturedBefore plus this amount → the
	// capture was made already and is returned; anything else → a
	// KindConflict error and nothing captured.
	CapturedBefore *commerce.Money
}

// Capturer captures authorized payments. The idempotency key (WithIdempotencyKey)
// must be derived from the business event, e.g. the delivery id, so that a
// retry after a crash can never capture twice.
type Capturer interface {
	Capture(ctx context.Context, req CaptureRequest, opts ...CallOption) (commerce.Capture, error)
}

// RefundRequest asks a provider to refund part or all of a capture.
type RefundRequest struct {
	PaymentReference string
	CaptureID        string
	OrderNumber      string
	Amount           commerce.Money
	Lines            []commerce.RefundLine
	Reason           string
	Reference        string
}

// Refunder refunds captured payments, keyed like Capturer.
type Refunder interface {
	Refund(ctx context.Context, req RefundRequest, opts ...CallOption) (commerce.Refund, error)
}

// CaptureScopedRefunder is implemented by providers whose refunds each draw
// on a single capture (PayPal refunds POST /v2/payments/captures/{id}/refund
// and refuses more than that capture's remainder). A caller refunding an
// amount that spans several captures sends one RefundRequest per capture,
// each with its own CaptureID and idempotency key. Providers that refund
// against the payment as a whole (Stripe's PaymentIntent, Klarna's order)
// do not implement it.
type CaptureScopedRefunder interface {
	Refunder
	RefundsPerCapture() bool
}

// Releaser gives back the part of an authorization that will not be captured.
type Releaser interface {
	ReleaseRemaining(ctx context.Context, paymentReference string, opts ...CallOption) error
}

// PaymentReader reads a payment's current state at the provider.
type PaymentReader interface {
	Payment(ctx context.Context, reference string) (commerce.Payment, error)
}

// PayoutSource lists payouts and the transactions each settles.
type PayoutSource interface {
	Payouts(ctx context.Context, from, to time.Time) iter.Seq2[commerce.Payout, error]
	PayoutTransactions(ctx context.Context, payoutID string) iter.Seq2[commerce.Transaction, error]
}
