package commerce

import (
	"fmt"
	"time"

	"github.com/shopspring/decimal"
)

// PaymentStatus is the state of an authorization at a provider.
type PaymentStatus string

// Payment states.
const (
	PaymentPending           PaymentStatus = "pending" // not yet authorized (customer action, processing)
	PaymentAuthorized        PaymentStatus = "authorized"
	PaymentPartiallyCaptured PaymentStatus = "partially_captured"
	PaymentCaptured          PaymentStatus = "captured"
	PaymentPartiallyRefunded PaymentStatus = "partially_refunded"
	PaymentRefunded          PaymentStatus = "refunded"
	PaymentReleased          PaymentStatus = "released" // remaining authorization given back
	PaymentCancelled         PaymentStatus = "cancelled"
	PaymentExpired           PaymentStatus = "expired"
)

// Payment is an authorization at a provider with what has happened to it.
// Reference is the provider's id (Klarna order id, Stripe PaymentIntent id,
// PayPal authorization id).
type Payment struct {
	Origin
	Provider    string        `json:"provider"`
	Reference   string        `json:"reference"`
	OrderNumber string        `json:"order_number,omitempty"`
	Status      PaymentStatus `json:"status"`
	Authorized  Money         `json:"authorized"`
	Captured    Money         `json:"captured"`
	Refunded    Money         `json:"refunded"`
	ExpiresAt   *time.Time    `json:"expires_at,omitempty"`
	Captures    []Capture     `json:"captures,omitempty"`
	Refunds     []Refund      `json:"refunds,omitempty"`
}

// Remaining is what can still be captured: authorized less captured.
func (p *Payment) Remaining() (Money, error) { return p.Authorized.Sub(p.Captured) }

// Validate requires provider, reference and exact amounts in one currency.
func (p *Payment) Validate() error {
	var v validator
	if p.Provider == "" {
		v.add("provider", "", "missing")
	}
	if p.Reference == "" {
		v.add("reference", "", "missing")
	}
	c := p.Authorized.Currency
	checkMoney(&v, "authorized", p.Authorized, Currency{}, true)
	checkMoney(&v, "captured", p.Captured, c, true)
	checkMoney(&v, "refunded", p.Refunded, c, true)
	return v.err()
}

// Capture is money taken from an authorization.
type Capture struct {
	Origin
	ID               string    `json:"id"`
	Provider         string    `json:"provider"`
	PaymentReference string    `json:"payment_reference"`
	OrderNumber      string    `json:"order_number,omitempty"`
	Amount           Money     `json:"amount"`
	Lines            []Line    `json:"lines,omitempty"`
	Reference        string    `json:"reference,omitempty"` // merchant reference that reappears in settlements
	IdempotencyKey   string    `json:"idempotency_key,omitempty"`
	CreatedAt        time.Time `json:"created_at,omitzero"`
}

// Validate requires the payment reference and a positive exact amount.
func (c *Capture) Validate() error {
	var v validator
	if c.PaymentReference == "" {
		v.add("payment_reference", "", "missing")
	}
	checkMoney(&v, "amount", c.Amount, Currency{}, true)
	if !c.Amount.IsPositive() {
		v.add("amount", c.Amount.Amount.String(), "must be positive")
	}
	return v.err()
}

// Refund is money given back, in the shop or at a provider. Amount is
// positive. Lines and Shipping say what is refunded, so BNPL providers that
// need order lines get them and partial refunds keep their detail.
type Refund struct {
	Origin
	ID               string       `json:"id"`
	OrderNumber      string       `json:"order_number"`
	Provider         string       `json:"provider,omitempty"`
	PaymentReference string       `json:"payment_reference,omitempty"`
	CaptureID        string       `json:"capture_id,omitempty"`
	Amount           Money        `json:"amount"`
	Lines            []RefundLine `json:"lines,omitempty"`
	Shipping         Money        `json:"shipping,omitzero"`
	// Discrepancy is what the refund pays back less than its lines and
	// shipping are worth (a restocking fee, a line refunded in part):
	// Shopify records such refunds with the lines' full value and the
	// difference as a refund discrepancy. Zero when none.
	Discrepancy    Money     `json:"discrepancy,omitzero"`
	Reason         string    `json:"reason,omitempty"`
	Note           string    `json:"note,omitempty"`
	ReturnID       string    `json:"return_id,omitempty"`
	IdempotencyKey string    `json:"idempotency_key,omitempty"`
	CreatedAt      time.Time `json:"created_at,omitzero"`
}

// RefundLine is a quantity of one order line refunded.
type RefundLine struct {
	LineID   string `json:"line_id,omitempty"`
	SKU      string `json:"sku"`
	Quantity int    `json:"quantity"`
	Amount   Money  `json:"amount"`
	Restock  bool   `json:"restock,omitempty"`
}

// Validate requires the order, a positive exact amount, and lines and
// shipping in the refund's currency that do not exceed it.
func (r *Refund) Validate() error {
	var v validator
	if r.OrderNumber == "" && r.PaymentReference == "" {
		v.add("order_number", "", "missing (and no payment_reference)")
	}
	checkMoney(&v, "amount", r.Amount, Currency{}, true)
	if !r.Amount.IsPositive() {
		v.add("amount", r.Amount.Amount.String(), "must be positive")
	}
	c := r.Amount.Currency
	parts := Zero(c)
	for i, l := range r.Lines {
		f := fmt.Sprintf("lines[%d]", i)
		checkLineRef(&v, f, l.SKU, l.LineID, l.Quantity, true)
		checkMoney(&v, f+".amount", l.Amount, c, true)
		if s, err := parts.Add(l.Amount); err == nil {
			parts = s
		}
	}
	if !r.Shipping.Currency.IsZero() {
		checkMoney(&v, "shipping", r.Shipping, c, true)
		if s, err := parts.Add(r.Shipping); err == nil {
			parts = s
		}
	}
	if !r.Discrepancy.Currency.IsZero() {
		checkMoney(&v, "discrepancy", r.Discrepancy, c, true)
		if d, err := parts.Sub(r.Discrepancy); err == nil {
			parts = d
		}
	}
	if cmp, err := parts.Cmp(r.Amount); err == nil && cmp > 0 {
		v.add("amount", r.Amount.Amount.String(), "less than its lines and shipping ("+parts.amountString()+") less any discrepancy")
	}
	return v.err()
}

// ReturnStatus is the state of a return.
type ReturnStatus string

// Return states.
const (
	ReturnRequested ReturnStatus = "requested"
	ReturnOpen      ReturnStatus = "open"
	ReturnClosed    ReturnStatus = "closed"
	ReturnDeclined  ReturnStatus = "declined"
	ReturnCancelled ReturnStatus = "cancelled"
)

// Return is goods coming back, linked to the original order.
type Return struct {
	Origin
	ID          string       `json:"id"`
	OrderNumber string       `json:"order_number"`
	OrderRef    Ref          `json:"order_ref,omitzero"`
	Status      ReturnStatus `json:"status"`
	Lines       []ReturnLine `json:"lines"`
	CreatedAt   time.Time    `json:"created_at,omitzero"`
}

// ReturnLine is a quantity of one order line returned.
type ReturnLine struct {
	LineID   string `json:"line_id,omitempty"`
	SKU      string `json:"sku"`
	Quantity int    `json:"quantity"`
	Reason   string `json:"reason,omitempty"`
}

// Validate requires the order and lines with positive quantities.
func (r *Return) Validate() error {
	var v validator
	if r.ID == "" {
		v.add("id", "", "missing")
	}
	if r.OrderNumber == "" && r.OrderRef.IsZero() {
		v.add("order_number", "", "missing (and no order_ref)")
	}
	if len(r.Lines) == 0 {
		v.add("lines", "", "nothing returned")
	}
	for i, l := range r.Lines {
		checkLineRef(&v, fmt.Sprintf("lines[%d]", i), l.SKU, l.LineID, l.Quantity, false)
	}
	return v.err()
}

// PayoutStatus is the state of a payout.
type PayoutStatus string

// Payout states.
const (
	PayoutPending   PayoutStatus = "pending"
	PayoutInTransit PayoutStatus = "in_transit"
	PayoutPaid      PayoutStatus = "paid"
	PayoutFailed    PayoutStatus = "failed"
	PayoutCancelled PayoutStatus = "cancelled"
)

// Payout is one bank deposit (or debit) from a provider and the
// transactions it settles. Amount is from the merchant's view: positive is
// money paid to the merchant, negative a debit (debt carried over).
type Payout struct {
	Origin
	ID           string        `json:"id"`
	Provider     string        `json:"provider"`
	Amount       Money         `json:"amount"`
	Status       PayoutStatus  `json:"status"`
	ArrivalDate  Date          `json:"arrival_date"`
	CreatedAt    time.Time     `json:"created_at,omitzero"`
	Reference    string        `json:"reference,omitempty"` // the text on the bank statement
	Transactions []Transaction `json:"transactions,omitempty"`
}

// TransactionKind classifies a transaction in a payout.
type TransactionKind string

// Transaction kinds. KindOther keeps a provider type the connector does not
// know: never dropped, always reported.
const (
	TxSale         TransactionKind = "sale"
	TxRefund       TransactionKind = "refund"
	TxFee          TransactionKind = "fee"
	TxFeeRefund    TransactionKind = "fee_refund"
	TxChargeback   TransactionKind = "chargeback"
	TxReversal     TransactionKind = "reversal"
	TxAdjustment   TransactionKind = "adjustment"
	TxHoldback     TransactionKind = "holdback"
	TxRelease      TransactionKind = "release"
	TxPayout       TransactionKind = "payout"
	TxCurrencyConv TransactionKind = "currency_conversion"
	TxOther        TransactionKind = "other"
)

// Transaction is one row a payout settles.
//
// Sign convention, merchant view: Amount is positive for money in (a sale, a
// release) and negative for money out (a refund, a chargeback, a holdback).
// Fee is the provider's fee excluding VAT as a cost: positive when charged,
// negative when given back (a fee refund, a fee returned with a refund).
// FeeVAT is the VAT on it with the same sign (zero when the provider charges
// none, e.g. reverse charge). Net is what the row adds to the payout:
// Amount − Fee − FeeVAT. A pure fee row has a zero Amount and its cost in Fee.
type Transaction struct {
	ID                string           `json:"id"`
	PayoutID          string           `json:"payout_id,omitempty"`
	Provider          string           `json:"provider"`
	Kind              TransactionKind  `json:"kind"`
	ProviderType      string           `json:"provider_type"`              // the provider's own type, verbatim
	ProviderSubtype   string           `json:"provider_subtype,omitempty"` // a finer provider type where one exists (Klarna's detailed_type)
	Amount            Money            `json:"amount"`
	Fee               Money            `json:"fee,omitzero"`
	FeeVAT            Money            `json:"fee_vat,omitzero"`
	FeeVATRatePercent *decimal.Decimal `json:"fee_vat_rate_percent,omitempty"`
	Net               Money            `json:"net"`
	At                time.Time        `json:"at,omitzero"`
	References        TxReferences     `json:"references,omitzero"`
	Description       string           `json:"description,omitempty"`
}

// TxReferences are every key a provider gives for matching a transaction to
// a document, kept as sent.
type TxReferences struct {
	OrderID            string `json:"order_id,omitempty"` // provider's order id (Klarna order id)
	ShortOrderID       string `json:"short_order_id,omitempty"`
	OrderNumber        string `json:"order_number,omitempty"` // the shop's order number
	PaymentReference   string `json:"payment_reference,omitempty"`
	CaptureID          string `json:"capture_id,omitempty"`
	RefundID           string `json:"refund_id,omitempty"`
	MerchantReference  string `json:"merchant_reference,omitempty"`
	MerchantReference2 string `json:"merchant_reference2,omitempty"`
	InvoiceNumber      string `json:"invoice_number,omitempty"`
	CustomID           string `json:"custom_id,omitempty"`
	SourceID           string `json:"source_id,omitempty"` // e.g. Stripe charge or refund id
}

// ComputeNet is Amount − Fee − FeeVAT.
func (t *Transaction) ComputeNet() (Money, error) {
	net := t.Amount
	var err error
	if !t.Fee.Currency.IsZero() {
		if net, err = net.Sub(t.Fee); err != nil {
			return Money{}, err
		}
	}
	if !t.FeeVAT.Currency.IsZero() {
		if net, err = net.Sub(t.FeeVAT); err != nil {
			return Money{}, err
		}
	}
	return net, nil
}

// Validate checks kind, exact amounts in one currency, and that
// Net = Amount − Fee − FeeVAT.
func (t *Transaction) Validate() error {
	var v validator
	if t.ID == "" {
		v.add("id", "", "missing")
	}
	switch t.Kind {
	case TxSale, TxRefund, TxFee, TxFeeRefund, TxChargeback, TxReversal, TxAdjustment, TxHoldback, TxRelease, TxPayout, TxCurrencyConv, TxOther:
	default:
		v.add("kind", string(t.Kind), "unknown transaction kind")
	}
	c := t.Amount.Currency
	checkMoney(&v, "amount", t.Amount, Currency{}, true)
	for _, p := range []struct {
		name string
		m    Money
	}{{"fee", t.Fee}, {"fee_vat", t.FeeVAT}} {
		if p.m.Currency.IsZero() {
			continue
		}
		checkMoney(&v, p.name, p.m, c, true)
	}
	checkMoney(&v, "net", t.Net, c, true)
	if len(v.errs) > 0 {
		return v.err()
	}
	if net, err := t.ComputeNet(); err == nil && !net.Equal(t.Net) {
		v.add("net", t.Net.Amount.String(), "amount − fee − fee_vat is "+net.amountString())
	}
	return v.err()
}

// Validate checks the payout and its transactions, and that the
// transactions' nets sum to the payout amount when transactions are present.
func (p *Payout) Validate() error {
	var v validator
	if p.ID == "" {
		v.add("id", "", "missing")
	}
	if p.Provider == "" {
		v.add("provider", "", "missing")
	}
	checkMoney(&v, "amount", p.Amount, Currency{}, true)
	for i := range p.Transactions {
		v.nest(fmt.Sprintf("transactions[%d]", i), p.Transactions[i].Validate())
	}
	if len(v.errs) > 0 || len(p.Transactions) == 0 {
		return v.err()
	}
	if diff, err := p.Difference(); err != nil {
		v.nest("transactions", err)
	} else if !diff.IsZero() {
		v.add("amount", p.Amount.Amount.String(), "transactions differ from the payout by "+diff.amountString())
	}
	return v.err()
}

// Difference is the payout amount less the sum of its transactions' nets;
// zero when they agree. Rows of kind payout (the provider's own row for the
// payout itself) are not counted.
func (p *Payout) Difference() (Money, error) {
	sum := Zero(p.Amount.Currency)
	for i, t := range p.Transactions {
		if t.Kind == TxPayout {
			continue
		}
		var err error
		if sum, err = sum.Add(t.Net); err != nil {
			return Money{}, fmt.Errorf("transactions[%d]: %w", i, err)
		}
	}
	return p.Amount.Sub(sum)
}
