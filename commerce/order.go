package commerce

import (
	"fmt"
	"time"

	"github.com/shopspring/decimal"
)

// FinancialStatus is an order's payment state, kept apart from its
// fulfillment and lifecycle states.
type FinancialStatus string

// Financial states.
const (
	FinancialPending           FinancialStatus = "pending"
	FinancialAuthorized        FinancialStatus = "authorized"
	FinancialPartiallyPaid     FinancialStatus = "partially_paid"
	FinancialPaid              FinancialStatus = "paid"
	FinancialPartiallyRefunded FinancialStatus = "partially_refunded"
	FinancialRefunded          FinancialStatus = "refunded"
	FinancialVoided            FinancialStatus = "voided"
	FinancialExpired           FinancialStatus = "expired" // the authorization lapsed uncaptured
)

// FulfillmentStatus is an order's delivery state.
type FulfillmentStatus string

// Fulfillment states.
const (
	FulfillmentUnfulfilled FulfillmentStatus = "unfulfilled"
	FulfillmentPartial     FulfillmentStatus = "partial"
	FulfillmentFulfilled   FulfillmentStatus = "fulfilled"
)

// OrderState is an order's lifecycle state.
type OrderState string

// Lifecycle states.
const (
	OrderOpen      OrderState = "open"
	OrderClosed    OrderState = "closed"
	OrderCancelled OrderState = "cancelled"
)

// Order is a shop order. Amounts are in the order's Currency (the shop
// currency); PresentmentCurrency is what the buyer saw, when different.
type Order struct {
	Origin
	Number              string            `json:"number"`
	CreatedAt           time.Time         `json:"created_at"`
	UpdatedAt           time.Time         `json:"updated_at"`
	Currency            Currency          `json:"currency"`
	PresentmentCurrency Currency          `json:"presentment_currency,omitzero"`
	Customer            Customer          `json:"customer"`
	BillingAddress      *Address          `json:"billing_address,omitempty"`
	ShippingAddress     *Address          `json:"shipping_address,omitempty"`
	Lines               []Line            `json:"lines"`
	ShippingLines       []ShippingLine    `json:"shipping_lines,omitempty"`
	PricesIncludeTax    bool              `json:"prices_include_tax"`
	Totals              Totals            `json:"totals"`
	FinancialStatus     FinancialStatus   `json:"financial_status"`
	FulfillmentStatus   FulfillmentStatus `json:"fulfillment_status"`
	State               OrderState        `json:"state"`
	CancelledAt         *time.Time        `json:"cancelled_at,omitempty"`
	Payments            []PaymentRef      `json:"payments,omitempty"`
	Shop                string            `json:"shop,omitempty"`
	Market              string            `json:"market,omitempty"`
	Note                string            `json:"note,omitempty"`
	Tags                []string          `json:"tags,omitempty"`
	Attributes          []Attribute       `json:"attributes,omitempty"`
}

// Line is an order line. UnitPrice is before discounts, including or
// excluding tax as the order's PricesIncludeTax says.
type Line struct {
	ID         string               `json:"id,omitempty"`
	SKU        string               `json:"sku"`
	Title      string               `json:"title"`
	VariantRef Ref                  `json:"variant_ref,omitzero"`
	Quantity   int                  `json:"quantity"`
	UnitPrice  Money                `json:"unit_price"`
	Discounts  []DiscountAllocation `json:"discounts,omitempty"`
	TaxLines   []TaxLine            `json:"tax_lines,omitempty"`
	GiftCard   bool                 `json:"gift_card,omitempty"`
	NotShipped bool                 `json:"not_shipped,omitempty"`
	Attributes []Attribute          `json:"attributes,omitempty"`
}

// DiscountAllocation is the part of a discount that falls on one line.
type DiscountAllocation struct {
	Amount Money  `json:"amount"`
	Code   string `json:"code,omitempty"`
	Title  string `json:"title,omitempty"`
}

// TaxLine is a tax charged on a line or shipping line. RatePercent is a
// percentage: 25 means 25 %.
type TaxLine struct {
	Title       string          `json:"title,omitempty"`
	RatePercent decimal.Decimal `json:"rate_percent"`
	Amount      Money           `json:"amount"`
}

// ShippingLine is a shipping charge.
type ShippingLine struct {
	Code      string               `json:"code,omitempty"`
	Title     string               `json:"title"`
	Price     Money                `json:"price"`
	Discounts []DiscountAllocation `json:"discounts,omitempty"`
	TaxLines  []TaxLine            `json:"tax_lines,omitempty"`
}

// Totals are an order's sums. Subtotal is Σ quantity × unit price of the
// lines; Discounts the line discounts; Shipping the shipping prices less their
// discounts; Tax all tax lines; Total what the buyer pays: Subtotal −
// Discounts + Shipping, plus Tax when prices exclude tax.
type Totals struct {
	Subtotal  Money `json:"subtotal"`
	Discounts Money `json:"discounts"`
	Shipping  Money `json:"shipping"`
	Tax       Money `json:"tax"`
	Total     Money `json:"total"`
}

// PaymentRef links an order to a payment at a provider.
type PaymentRef struct {
	Provider  string `json:"provider"`          // "klarna", "stripe", "paypal", "shopify_payments", "gift_card", …
	Gateway   string `json:"gateway,omitempty"` // the shop's gateway name, verbatim
	Reference string `json:"reference"`         // the provider's id: Klarna order id, PaymentIntent id, PayPal authorization id
	Amount    Money  `json:"amount,omitzero"`   // the amount authorized or paid through this payment
	Kind      string `json:"kind,omitempty"`    // "authorization" or "sale", as the shop reports it
}

// LineTotal is quantity × unit price less the line's discounts, rounded to
// the minor unit.
func (l Line) LineTotal() (Money, error) {
	gross := l.UnitPrice.MulInt(int64(l.Quantity)).Round()
	disc, err := sumDiscounts(l.UnitPrice.Currency, l.Discounts)
	if err != nil {
		return Money{}, err
	}
	return gross.Sub(disc)
}

func sumDiscounts(c Currency, ds []DiscountAllocation) (Money, error) {
	total := Zero(c)
	for _, d := range ds {
		var err error
		if total, err = total.Add(d.Amount); err != nil {
			return Money{}, err
		}
	}
	return total, nil
}

func sumTax(c Currency, ts []TaxLine) (Money, error) {
	total := Zero(c)
	for _, t := range ts {
		var err error
		if total, err = total.Add(t.Amount); err != nil {
			return Money{}, err
		}
	}
	return total, nil
}

// ComputeTotals derives the totals from the lines, discounts, shipping and
// tax lines, each line rounded to the minor unit before summing (the way
// shops and ERPs print them).
func (o *Order) ComputeTotals() (Totals, error) {
	c := o.Currency
	t := Totals{Subtotal: Zero(c), Discounts: Zero(c), Shipping: Zero(c), Tax: Zero(c)}
	add := func(dst *Money, m Money) error {
		sum, err := dst.Add(m)
		if err != nil {
			return err
		}
		*dst = sum
		return nil
	}
	for i, l := range o.Lines {
		disc, err := sumDiscounts(c, l.Discounts)
		if err == nil {
			err = add(&t.Subtotal, l.UnitPrice.MulInt(int64(l.Quantity)).Round())
		}
		if err == nil {
			err = add(&t.Discounts, disc)
		}
		if err == nil {
			var tax Money
			if tax, err = sumTax(c, l.TaxLines); err == nil {
				err = add(&t.Tax, tax)
			}
		}
		if err != nil {
			return Totals{}, fmt.Errorf("commerce: order %s: lines[%d]: %w", o.Number, i, err)
		}
	}
	for i, s := range o.ShippingLines {
		disc, err := sumDiscounts(c, s.Discounts)
		var net, tax Money
		if err == nil {
			net, err = s.Price.Round().Sub(disc)
		}
		if err == nil {
			err = add(&t.Shipping, net)
		}
		if err == nil {
			if tax, err = sumTax(c, s.TaxLines); err == nil {
				err = add(&t.Tax, tax)
			}
		}
		if err != nil {
			return Totals{}, fmt.Errorf("commerce: order %s: shipping_lines[%d]: %w", o.Number, i, err)
		}
	}
	total, err := t.Subtotal.Sub(t.Discounts)
	if err == nil {
		total, err = total.Add(t.Shipping)
	}
	if err == nil && !o.PricesIncludeTax {
		total, err = total.Add(t.Tax)
	}
	if err != nil {
		return Totals{}, fmt.Errorf("commerce: order %s: %w", o.Number, err)
	}
	t.Total = total
	return t, nil
}

// TotalsMismatchError reports a difference between the totals a system
// reported and those computed from the order's parts. It is never hidden:
// the caller decides whether to book the difference or stop.
type TotalsMismatchError struct {
	Order      string
	Field      string
	Reported   Money
	Computed   Money
	Difference Money // Reported − Computed
}

func (e *TotalsMismatchError) Error() string {
	return fmt.Sprintf("commerce: order %s: %s reported %s, computed %s (difference %s)", e.Order, e.Field, e.Reported, e.Computed, e.Difference)
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *TotalsMismatchError) Is(target error) bool { return target == ErrInvalid }

// CheckTotals computes the totals and compares each with o.Totals; every
// field that differs is returned as a *TotalsMismatchError (joined). Fields
// left zero-valued in o.Totals (no currency) are not compared.
func (o *Order) CheckTotals() error {
	computed, err := o.ComputeTotals()
	if err != nil {
		return err
	}
	var v validator
	pairs := []struct {
		name          string
		reported, got Money
	}{
		{"subtotal", o.Totals.Subtotal, computed.Subtotal},
		{"discounts", o.Totals.Discounts, computed.Discounts},
		{"shipping", o.Totals.Shipping, computed.Shipping},
		{"tax", o.Totals.Tax, computed.Tax},
		{"total", o.Totals.Total, computed.Total},
	}
	for _, p := range pairs {
		if p.reported.Currency.IsZero() {
			continue
		}
		diff, err := p.reported.Sub(p.got)
		if err != nil {
			v.errs = append(v.errs, fmt.Errorf("commerce: order %s: totals.%s: %w", o.Number, p.name, err))
			continue
		}
		if !diff.IsZero() {
			v.errs = append(v.errs, &TotalsMismatchError{Order: o.Number, Field: p.name, Reported: p.reported, Computed: p.got, Difference: diff})
		}
	}
	return v.err()
}

// Validate checks everything an order needs to be transferred: number,
// currency, lines with SKU and non-negative quantity, amounts in the order's
// currency, exact totals, known countries.
func (o *Order) Validate() error {
	var v validator
	if o.Number == "" {
		v.add("number", "", "missing")
	}
	if o.Currency.IsZero() {
		v.add("currency", "", "missing")
	}
	if len(o.Lines) == 0 {
		v.add("lines", "", "an order needs at least one line")
	}
	v.nest("customer", o.Customer.Validate())
	if o.BillingAddress != nil {
		v.nest("billing_address", o.BillingAddress.Validate())
	}
	if o.ShippingAddress != nil {
		v.nest("shipping_address", o.ShippingAddress.Validate())
	}
	for i, l := range o.Lines {
		v.nest(fmt.Sprintf("lines[%d]", i), l.validate(o.Currency))
	}
	for i, s := range o.ShippingLines {
		f := fmt.Sprintf("shipping_lines[%d]", i)
		checkMoney(&v, f+".price", s.Price, o.Currency, false)
		checkDiscounts(&v, f, s.Discounts, o.Currency)
		checkTaxLines(&v, f, s.TaxLines, o.Currency)
	}
	for _, p := range []struct {
		name string
		m    Money
	}{{"subtotal", o.Totals.Subtotal}, {"discounts", o.Totals.Discounts}, {"shipping", o.Totals.Shipping}, {"tax", o.Totals.Tax}, {"total", o.Totals.Total}} {
		if !p.m.Currency.IsZero() {
			checkMoney(&v, "totals."+p.name, p.m, o.Currency, true)
		}
	}
	for i, p := range o.Payments {
		f := fmt.Sprintf("payments[%d]", i)
		if p.Provider == "" {
			v.add(f+".provider", "", "missing")
		}
		if !p.Amount.Currency.IsZero() {
			checkMoney(&v, f+".amount", p.Amount, Currency{}, true)
		}
	}
	return v.err()
}

func (l Line) validate(c Currency) error {
	var v validator
	if l.SKU == "" && !l.GiftCard {
		v.add("sku", "", "missing")
	}
	validateQuantity(&v, "quantity", l.Quantity)
	checkMoney(&v, "unit_price", l.UnitPrice, c, false)
	checkDiscounts(&v, "", l.Discounts, c)
	checkTaxLines(&v, "", l.TaxLines, c)
	return v.err()
}

// checkMoney validates m and, when want is set, that it is in want.
func checkMoney(v *validator, field string, m Money, want Currency, exact bool) {
	if m.Currency.IsZero() {
		v.add(field+".currency", "", "missing")
		return
	}
	if !want.IsZero() && m.Currency != want {
		v.add(field+".currency", m.Currency.code, "differs from the document currency "+want.code)
	}
	if exact && !m.IsExact() {
		v.errs = append(v.errs, &FieldError{Field: v.path(field), Value: m.Amount.String(), Reason: fmt.Sprintf("more than %d decimals for %s", m.Currency.digits, m.Currency.code), Err: ErrInexact})
	}
}

func joinPath(parent, child string) string {
	if parent == "" {
		return child
	}
	return parent + "." + child
}

func checkDiscounts(v *validator, parent string, ds []DiscountAllocation, c Currency) {
	for i, d := range ds {
		f := joinPath(parent, fmt.Sprintf("discounts[%d].amount", i))
		checkMoney(v, f, d.Amount, c, true)
		if d.Amount.IsNegative() {
			v.add(f, d.Amount.Amount.String(), "negative discount")
		}
	}
}

func checkTaxLines(v *validator, parent string, ts []TaxLine, c Currency) {
	for i, t := range ts {
		f := joinPath(parent, fmt.Sprintf("tax_lines[%d]", i))
		if t.RatePercent.IsNegative() {
			v.add(f+".rate_percent", t.RatePercent.String(), "negative rate")
		}
		checkMoney(v, f+".amount", t.Amount, c, true)
	}
}
