package shopifytest

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// Seeding types. They are the fake's own, in Shopify's vocabulary; amounts
// are decimal strings ("199.00") as Shopify's Money and Decimal scalars are.
// IDs are GIDs; leave them empty and the fake assigns them (above 2^53).

// ProductOption is a product option with its values, e.g. Size: S, M, L.
type ProductOption struct {
	Name   string
	Values []string
}

// SelectedOption is a variant's value for one option.
type SelectedOption struct {
	Name  string
	Value string
}

// Metafield is a namespaced value on a product; productSet can upsert by a
// unique metafield (identifier.customId).
type Metafield struct {
	Namespace, Key, Type, Value string
}

// Product is a product with its variants.
type Product struct {
	ID              string
	Title           string
	Handle          string // derived from the title when empty
	Vendor          string
	ProductType     string
	DescriptionHTML string
	Status          string // ACTIVE (default), ARCHIVED, DRAFT, UNLISTED
	Tags            []string
	Options         []ProductOption
	Variants        []Variant
	Metafields      []Metafield
	CreatedAt       time.Time // the fake's clock when zero
	UpdatedAt       time.Time // CreatedAt when zero
}

// Variant is a product variant and its inventory item.
type Variant struct {
	ID               string
	InventoryItemID  string
	SKU              string
	Barcode          string
	Title            string // joined option values when empty
	Price            string
	CompareAtPrice   string // "" = none
	Cost             string // "" = none
	Taxable          *bool  // default true
	InventoryPolicy  string // DENY (default) or CONTINUE
	Options          []SelectedOption
	Tracked          *bool // default true
	RequiresShipping *bool // default true
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

// Address is a mailing address; CountryCode is ISO 3166 alpha-2.
type Address struct {
	FirstName, LastName, Company string
	Address1, Address2           string
	City, Zip                    string
	Province, ProvinceCode       string
	Country, CountryCode         string
	Phone                        string
}

// Location is a place that stocks inventory.
type Location struct {
	ID                   string
	Name                 string
	Inactive             bool
	FulfillsOnlineOrders *bool // default true
	Address              Address
}

// Customer is an order's customer.
type Customer struct {
	ID        string
	FirstName string
	LastName  string
	Email     string
	Phone     string
	Address   *Address
}

// TaxLine is a tax on a line or shipping line; Rate is a fraction ("0.25").
type TaxLine struct {
	Title  string
	Rate   string
	Amount string // presentment currency
	// ChannelLiable marks tax the sales channel remits (default false).
	ChannelLiable bool
}

// Discount is a discount allocated to a line (amount for the whole line).
type Discount struct {
	Amount string
	Code   string // discount code, shown as the application's title
}

// LineItem is an order line. UnitPrice is in the presentment currency.
type LineItem struct {
	ID                  string
	SKU                 string
	Title               string
	VariantTitle        string
	Vendor              string
	VariantID           string // linked to a seeded variant with the same SKU when empty
	Quantity            int
	UnitPrice           string
	Taxable             *bool // default true
	RequiresShipping    *bool // default true
	TaxLines            []TaxLine
	DiscountAllocations []Discount
	// LocationID is where the line is fulfilled from (a Location GID);
	// the order's LocationID when empty. Lines at different locations get
	// a fulfillment order each, as Shopify's order routing makes them.
	LocationID string
}

// ShippingLine is a shipping charge on an order.
type ShippingLine struct {
	Title               string
	Code                string
	Price               string
	TaxLines            []TaxLine
	DiscountAllocations []Discount
}

// Transaction is a payment transaction on an order.
type Transaction struct {
	ID                string
	Kind              string // AUTHORIZATION, CAPTURE, SALE, REFUND, VOID
	Status            string // SUCCESS (default), PENDING, FAILURE, ERROR
	Gateway           string // e.g. shopify_payments, manual, bogus
	Amount            string // presentment currency
	ParentID          string
	PaymentID         string
	AuthorizationCode string
	// AuthorizationExpiresAt is shown for AUTHORIZATION transactions.
	AuthorizationExpiresAt *time.Time
	MultiCapturable        bool
	Test                   bool
	CreatedAt              time.Time
}

// Attribute is a custom key/value on an order.
type Attribute struct {
	Key, Value string
}

// Order is a placed order. All amounts are in the presentment currency;
// shop money is presentment money times ExchangeRate, rounded to cents.
type Order struct {
	ID                  string
	Name                string // "#1001" from Number when empty
	Number              int    // assigned when zero
	Email, Phone, Note  string
	Currency            string // shop currency; the server's when empty
	PresentmentCurrency string // Currency when empty
	ExchangeRate        string // presentment → shop; "1" when empty
	TaxesIncluded       bool
	Customer            *Customer
	BillingAddress      *Address
	ShippingAddress     *Address
	Lines               []LineItem
	ShippingLines       []ShippingLine
	Transactions        []Transaction
	Tags                []string
	DiscountCodes       []string
	CustomAttributes    []Attribute
	SourceName          string
	Test                bool
	// LocationID is where the order's lines are fulfilled from unless a
	// line names its own (LineItem.LocationID); the first active location
	// when empty. There is one fulfillment order per location.
	LocationID   string
	CreatedAt    time.Time
	UpdatedAt    time.Time
	ProcessedAt  time.Time
	CancelledAt  *time.Time
	CancelReason string
	ClosedAt     *time.Time
}

// Tracking is the tracking information of a fulfillment.
type Tracking struct {
	Number, URL, Company string
}

// FulfillmentOrder is a fulfillment order of an order, for inspection.
type FulfillmentOrder struct {
	ID         string
	LocationID string
	Status     string // OPEN, IN_PROGRESS, CLOSED, …
	Lines      []FulfillmentOrderLine
}

// FulfillmentOrderLine is a line item's quantities in a fulfillment order.
type FulfillmentOrderLine struct {
	ID         string
	LineItemID string
	SKU        string
	Total      int
	Remaining  int
}

// Fulfillment is what fulfillmentCreate recorded, for inspection.
type Fulfillment struct {
	ID             string
	OrderID        string
	Status         string
	LocationID     string
	Tracking       []Tracking
	NotifyCustomer bool
	Lines          []FulfillmentLine
	CreatedAt      time.Time
}

// FulfillmentLine is a line item and quantity in a fulfillment.
type FulfillmentLine struct {
	LineItemID string
	SKU        string
	Quantity   int
}

// RefundLine refunds a quantity of an order line.
type RefundLine struct {
	LineItemID  string // or SKU
	SKU         string
	Quantity    int
	RestockType string // NO_RESTOCK (default), CANCEL, RETURN, LEGACY_RESTOCK
	Subtotal    string // computed from the line when empty
	Tax         string // computed from the line's tax when empty
}

// Refund is a refund on an order.
type Refund struct {
	ID           string
	Note         string
	Lines        []RefundLine
	Shipping     string // refunded shipping amount excl. tax
	ShippingTax  string
	Transactions []Transaction // REFUND transactions; one for the total on the first gateway when empty
	ReturnID     string
	CreatedAt    time.Time
}

// ReturnLine is a returned quantity of an order line.
type ReturnLine struct {
	LineItemID string // or SKU
	SKU        string
	Quantity   int
	Reason     string // return reason handle, e.g. size_too_small
	ReasonNote string
}

// Return is a return on an order.
type Return struct {
	ID        string
	Name      string // "#1001-R1" when empty
	Status    string // OPEN (default), REQUESTED, CLOSED, DECLINED, CANCELED
	Lines     []ReturnLine
	CreatedAt time.Time
}

// PayoutSummary breaks a payout down; empty amounts are zero.
type PayoutSummary struct {
	ChargesGross, ChargesFee               string
	RefundsFeeGross, RefundsFee            string
	AdjustmentsGross, AdjustmentsFee       string
	ReservedFundsGross, ReservedFundsFee   string
	RetriedPayoutsGross, RetriedPayoutsFee string
}

// Payout is a Shopify Payments payout.
type Payout struct {
	ID              string
	Status          string // PAID (default), SCHEDULED, FAILED, CANCELED
	IssuedAt        time.Time
	Net             string
	Currency        string
	TransactionType string // DEPOSIT (default) or WITHDRAWAL
	ExternalTraceID string
	Summary         PayoutSummary
}

// BalanceTransaction is a Shopify Payments balance transaction. Amount is
// signed from the merchant's view, Fee positive; Net = Amount − Fee when
// empty.
type BalanceTransaction struct {
	ID                       string
	Type                     string // CHARGE, REFUND, ADJUSTMENT, …
	Test                     bool
	Amount, Fee, Net         string
	Currency                 string // the payout's when empty
	TransactionDate          time.Time
	SourceID                 int64
	SourceType               string
	SourceOrderTransactionID int64
	OrderID                  string
	AdjustmentReason         string
}

// PriceList is a price list with fixed prices by variant id.
type PriceList struct {
	ID       string
	Name     string
	Currency string
	Prices   map[string]FixedPrice // variant GID → price
}

// FixedPrice is a price list's price for one variant.
type FixedPrice struct {
	Price          string
	CompareAtPrice string
}

// ErrSeed reports invalid seed data.
var ErrSeed = errors.New("shopifytest: invalid seed")

func seedErr(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrSeed}, a...)...)
}

func parseDec(field, s string) (decimal.Decimal, error) {
	d, err := decimal.NewFromString(strings.TrimSpace(s))
	if err != nil {
		return decimal.Decimal{}, seedErr("%s %q is not a decimal", field, s)
	}
	return d, nil
}

func parseOptDec(field, s string) (*decimal.Decimal, error) {
	if s == "" {
		return nil, nil
	}
	d, err := parseDec(field, s)
	if err != nil {
		return nil, err
	}
	return &d, nil
}

func decOrZero(s string) decimal.Decimal {
	d, err := decimal.NewFromString(s)
	if err != nil {
		return decimal.Zero
	}
	return d
}

func boolOr(p *bool, def bool) bool {
	if p == nil {
		return def
	}
	return *p
}

// handleize lower-cases and hyphenates a title, like Shopify's handles.
func handleize(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		switch r {
		case 'å', 'ä', 'à', 'á', 'â':
			r = 'a'
		case 'ö', 'ø', 'ó', 'ò', 'ô':
			r = 'o'
		case 'é', 'è', 'ê', 'ë':
			r = 'e'
		case 'ü', 'ú':
			r = 'u'
		}
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}
