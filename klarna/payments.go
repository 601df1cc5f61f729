package klarna

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"unicode/utf8"

	"github.com/shopspring/decimal"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/connector"
)

// Compile-time checks of the capabilities the Client implements.
var (
	_ connector.System        = (*Client)(nil)
	_ connector.PaymentReader = (*Client)(nil)
	_ connector.Capturer      = (*Client)(nil)
	_ connector.Refunder      = (*Client)(nil)
	_ connector.Releaser      = (*Client)(nil)
	_ connector.PayoutSource  = (*Client)(nil)
)

// Payment reads a Klarna order as a canonical payment. Authorized is what
// can still be captured plus what has been captured (Klarna's
// captured_amount + remaining_authorized_amount), so Remaining() equals
// Klarna's remaining_authorized_amount. Status follows Klarna's status and
// amounts: refunded or partially refunded once anything is refunded;
// released when Klarna reports the order captured (or closed) for less than
// its order amount, i.e. the rest was given back.
func (c *Client) Payment(ctx context.Context, reference string) (commerce.Payment, error) {
	const op = "Payment"
	o, raw, err := c.getOrder(ctx, op, reference)
	if err != nil {
		return commerce.Payment{}, err
	}
	p, err := c.mapPayment(o, raw)
	if err != nil {
		return commerce.Payment{}, malformed(op, err)
	}
	return p, nil
}

func (c *Client) mapPayment(o *Order, raw []byte) (commerce.Payment, error) {
	cur, err := commerce.ParseCurrency(o.PurchaseCurrency)
	if err != nil {
		return commerce.Payment{}, fmt.Errorf("order %s: purchase_currency: %w", o.OrderID, err)
	}
	m := func(n int64) commerce.Money { return commerce.FromMinor(n, cur) }
	p := commerce.Payment{
		Origin:      commerce.Origin{Source: commerce.Ref{System: SystemName, Account: c.merchantID, ID: o.OrderID}, Raw: raw},
		Provider:    SystemName,
		Reference:   o.OrderID,
		OrderNumber: o.MerchantReference1,
		Status:      paymentStatus(o),
		Authorized:  m(o.CapturedAmount + o.RemainingAuthorizedAmount),
		Captured:    m(o.CapturedAmount),
		Refunded:    m(o.RefundedAmount),
		ExpiresAt:   o.ExpiresAt,
	}
	for _, k := range o.Captures {
		p.Captures = append(p.Captures, c.mapCapture(o, &k, cur))
	}
	for _, r := range o.Refunds {
		p.Refunds = append(p.Refunds, c.mapRefund(o, &r, cur))
	}
	return p, nil
}

func paymentStatus(o *Order) commerce.PaymentStatus {
	switch {
	case o.Status == StatusCancelled:
		return commerce.PaymentCancelled
	case o.Status == StatusExpired:
		return commerce.PaymentExpired
	case o.RefundedAmount > 0 && o.RefundedAmount >= o.CapturedAmount:
		return commerce.PaymentRefunded
	case o.RefundedAmount > 0:
		return commerce.PaymentPartiallyRefunded
	case o.CapturedAmount > 0 && o.RemainingAuthorizedAmount == 0 && o.CapturedAmount < o.OrderAmount &&
		(o.Status == StatusCaptured || o.Status == StatusClosed):
		return commerce.PaymentReleased
	case o.Status == StatusCaptured || o.Status == StatusClosed:
		return commerce.PaymentCaptured
	case o.Status == StatusPartCaptured || o.CapturedAmount > 0:
		return commerce.PaymentPartiallyCaptured
	}
	return commerce.PaymentAuthorized
}

func (c *Client) mapCapture(o *Order, k *Capture, cur commerce.Currency) commerce.Capture {
	cp := commerce.Capture{
		Origin:           commerce.Origin{Source: commerce.Ref{System: SystemName, Account: c.merchantID, ID: k.CaptureID}},
		ID:               k.CaptureID,
		Provider:         SystemName,
		PaymentReference: o.OrderID,
		OrderNumber:      o.MerchantReference1,
		Amount:           commerce.FromMinor(k.CapturedAmount, cur),
		Reference:        k.Reference,
	}
	if k.CapturedAt != nil {
		cp.CreatedAt = *k.CapturedAt
	}
	for _, l := range k.OrderLines {
		cp.Lines = append(cp.Lines, lineFromWire(l, cur))
	}
	return cp
}

func (c *Client) mapRefund(o *Order, r *Refund, cur commerce.Currency) commerce.Refund {
	out := commerce.Refund{
		Origin:           commerce.Origin{Source: commerce.Ref{System: SystemName, Account: c.merchantID, ID: r.RefundID}},
		ID:               r.RefundID,
		OrderNumber:      o.MerchantReference1,
		Provider:         SystemName,
		PaymentReference: o.OrderID,
		Amount:           commerce.FromMinor(r.RefundedAmount, cur),
		Reason:           r.Description,
		Note:             r.Reference,
	}
	if r.RefundedAt != nil {
		out.CreatedAt = *r.RefundedAt
	}
	for _, l := range r.OrderLines {
		out.Lines = append(out.Lines, commerce.RefundLine{SKU: l.Reference, Quantity: int(l.Quantity), Amount: commerce.FromMinor(l.TotalAmount, cur)})
	}
	return out
}

// lineFromWire maps a Klarna order line back to a canonical line: unit
// price including tax, the discount as one allocation, the tax as one tax
// line at the line's rate.
func lineFromWire(l OrderLine, cur commerce.Currency) commerce.Line {
	out := commerce.Line{
		SKU: l.Reference, Title: l.Name, Quantity: int(l.Quantity),
		UnitPrice: commerce.FromMinor(l.UnitPrice, cur), GiftCard: l.Type == LineGiftCard,
	}
	if l.TotalDiscountAmount != 0 {
		out.Discounts = []commerce.DiscountAllocation{{Amount: commerce.FromMinor(l.TotalDiscountAmount, cur)}}
	}
	if l.TotalTaxAmount != 0 || l.TaxRate != 0 {
		out.TaxLines = []commerce.TaxLine{{RatePercent: decimal.New(l.TaxRate, -2), Amount: commerce.FromMinor(l.TotalTaxAmount, cur)}}
	}
	return out
}

// minorOf converts an amount of the order's currency to minor units,
// refusing another currency or an amount that is not a whole number of
// minor units, with errors that say which.
func minorOf(op, field string, m commerce.Money, cur commerce.Currency, what string) (int64, error) {
	if m.Currency != cur {
		return 0, invalid(op, field, &commerce.CurrencyMismatchError{Op: op, A: cur, B: m.Currency},
			"%s is in %s but the Klarna order is in %s", what, currencyCode(m.Currency), cur.Code())
	}
	n, err := m.Minor()
	if err != nil {
		return 0, invalid(op, field, err, "%s %s is not a whole number of minor units", what, m.Amount.String())
	}
	return n, nil
}

func currencyCode(c commerce.Currency) string {
	if c.IsZero() {
		return "no currency"
	}
	return c.Code()
}

// captureLines maps the lines of a capture. Klarna's lines carry prices
// including tax, so the canonical lines must too. Lines that sum to less
// than the amount (shipping or a fee not given as a line) get one more line
// for the rest; lines summing to more are refused.
func captureLines(op string, lines []commerce.Line, cur commerce.Currency, amount int64) ([]OrderLine, error) {
	if len(lines) == 0 {
		return nil, nil
	}
	out := make([]OrderLine, 0, len(lines)+1)
	var sum int64
	for i, l := range lines {
		f := fmt.Sprintf("lines[%d]", i)
		unit, err := minorOf(op, f+".unit_price", l.UnitPrice, cur, "unit price")
		if err != nil {
			return nil, err
		}
		var disc, tax int64
		for j, d := range l.Discounts {
			n, err := minorOf(op, fmt.Sprintf("%s.discounts[%d]", f, j), d.Amount, cur, "discount")
			if err != nil {
				return nil, err
			}
			disc += n
		}
		var rate int64
		for j, t := range l.TaxLines {
			n, err := minorOf(op, fmt.Sprintf("%s.tax_lines[%d]", f, j), t.Amount, cur, "tax")
			if err != nil {
				return nil, err
			}
			tax += n
			bp := t.RatePercent.Shift(2)
			if !bp.IsInteger() || bp.IsNegative() {
				return nil, invalid(op, fmt.Sprintf("%s.tax_lines[%d].rate_percent", f, j), nil, "tax rate %s%% has more than two decimals", t.RatePercent)
			}
			if j == 0 {
				rate = bp.IntPart()
			}
		}
		if l.Quantity < 0 {
			return nil, invalid(op, f+".quantity", nil, "negative quantity %d", l.Quantity)
		}
		total := unit*int64(l.Quantity) - disc
		name := l.Title
		if name == "" {
			name = l.SKU
		}
		typ := LinePhysical
		if l.GiftCard {
			typ = LineGiftCard
		}
		out = append(out, OrderLine{
			Type: typ, Reference: l.SKU, Name: name, Quantity: int64(l.Quantity), UnitPrice: unit,
			TaxRate: rate, TotalAmount: total, TotalDiscountAmount: disc, TotalTaxAmount: tax,
		})
		sum += total
	}
	return completeLines(op, out, sum, amount)
}

// completeLines adds a line for the part of amount the lines do not cover.
func completeLines(op string, lines []OrderLine, sum, amount int64) ([]OrderLine, error) {
	switch {
	case sum > amount:
		return nil, invalid(op, "lines", nil, "the lines total %d minor units, more than the amount %d", sum, amount)
	case sum < amount:
		rest := amount - sum
		lines = append(lines, OrderLine{Type: LineSurcharge, Name: "Other charges", Quantity: 1, UnitPrice: rest, TotalAmount: rest})
	}
	return lines, nil
}

// refundLines maps refund lines. A canonical refund line has a total, not
// a unit price; when it does not divide by the quantity the unit price is
// rounded up and the difference given as discount, so Klarna's identity
// total = quantity × unit price − discount holds exactly.
func refundLines(op string, lines []commerce.RefundLine, cur commerce.Currency, amount int64) ([]OrderLine, error) {
	if len(lines) == 0 {
		return nil, nil
	}
	out := make([]OrderLine, 0, len(lines)+1)
	var sum int64
	for i, l := range lines {
		f := fmt.Sprintf("lines[%d]", i)
		total, err := minorOf(op, f+".amount", l.Amount, cur, "refund line amount")
		if err != nil {
			return nil, err
		}
		if l.Quantity <= 0 || total < 0 {
			return nil, invalid(op, f, nil, "a refund line needs a positive quantity and a non-negative amount")
		}
		q := int64(l.Quantity)
		unit := (total + q - 1) / q
		name := l.SKU
		if name == "" {
			name = l.LineID
		}
		out = append(out, OrderLine{
			Type: LinePhysical, Reference: l.SKU, Name: name, Quantity: q, UnitPrice: unit,
			TotalAmount: total, TotalDiscountAmount: unit*q - total,
		})
		sum += total
	}
	return completeLines(op, out, sum, amount)
}

// truncRunes cuts s to n characters, for Klarna's 255-character text fields.
func truncRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n])
}

// keyed returns the idempotency key of a write, or an error: captures,
// refunds and releases are only sent with a key (see
// ErrIdempotencyKeyRequired).
func keyed(op string, o connector.CallOptions) error {
	if o.IdempotencyKey == "" && !o.DryRun {
		return invalid(op, "idempotency_key", ErrIdempotencyKeyRequired, "pass connector.WithIdempotencyKey derived from the business event")
	}
	return nil
}

// Capture captures req.Amount of the Klarna order req.PaymentReference.
//
// It reads the order first: Klarna's capture takes an integer amount
// without a currency, so the amount's currency must be checked against the
// order's (a mismatch is a KindValidation error matching
// commerce.ErrCurrencyMismatch). The capture carries the caller's
// idempotency key (required; Klarna applies a key once within 24 hours and
// answers a repeat with the first capture), req.Reference (or the order
// number) as the reference that reappears in settlements, and the lines if
// given. The capture is then read back by its Capture-Id; if the key had
// already been used for a capture of another amount, the result is that
// capture together with a KindConflict error.
//
// Klarna's refusal (403 CAPTURE_NOT_ALLOWED) becomes a KindConflict error
// that says why: the order is cancelled, its authorization expired at
// expires_at, or the amount exceeds the remaining authorization.
//
// With req.Final the remaining authorization is released after the capture,
// under a key derived from the capture's.
func (c *Client) Capture(ctx context.Context, req connector.CaptureRequest, opts ...connector.CallOption) (commerce.Capture, error) {
	const op = "Capture"
	o := connector.ApplyCallOptions(opts)
	order, cur, minor, err := c.prepareMove(ctx, op, "capture", req.PaymentReference, req.Amount, req.Reference, o)
	if err != nil {
		return commerce.Capture{}, err
	}
	lines, err := captureLines(op, req.Lines, cur, minor)
	if err != nil {
		return commerce.Capture{}, err
	}
	ref := req.Reference
	if ref == "" {
		ref = truncRunes(req.OrderNumber, 255)
	}
	orderNumber := req.OrderNumber
	if orderNumber == "" {
		orderNumber = order.MerchantReference1
	}
	out := commerce.Capture{
		Provider: SystemName, PaymentReference: order.OrderID, OrderNumber: orderNumber,
		Amount: req.Amount, Lines: req.Lines, Reference: ref, IdempotencyKey: o.IdempotencyKey,
	}
	if o.DryRun {
		return out, nil
	}
	id, err := c.CreateCapture(ctx, order.OrderID, CaptureObject{CapturedAmount: minor, Reference: ref, OrderLines: lines}, o.IdempotencyKey)
	if err != nil {
		return commerce.Capture{}, c.explainCapture(err, order, minor, cur)
	}
	out.ID = id
	out.Origin.Source = commerce.Ref{System: SystemName, Account: c.merchantID, ID: id}
	if got, err := c.GetCapture(ctx, order.OrderID, id); err != nil {
		// The capture is made; only its details are missing. Report it
		// rather than fail: a retry with the same key would return the
		// same capture anyway.
		c.t.Logger().LogAttrs(ctx, slog.LevelWarn, "klarna: capture made but not read back",
			slog.String("order_id", order.OrderID), slog.String("capture_id", id), slog.String("error", err.Error()))
	} else {
		read := c.mapCapture(order, got, cur)
		out.CreatedAt, out.Reference = read.CreatedAt, read.Reference
		if got.CapturedAmount != minor {
			out.Amount = read.Amount
			return out, &connector.Error{System: SystemName, Op: op, Kind: connector.KindConflict, Field: "idempotency_key",
				Message: fmt.Sprintf("the idempotency key was already used for capture %s of %s on order %s; this request asked for %s — derive a distinct key per capture",
					id, read.Amount, order.OrderID, req.Amount)}
		}
	}
	if req.Final {
		if err := c.releaseAfter(ctx, order.OrderID, o.IdempotencyKey); err != nil {
			return out, fmt.Errorf("klarna: capture %s made, releasing the rest of the authorization failed (retry with the same key): %w", id, err)
		}
	}
	return out, nil
}

// releaseAfter releases what a final capture left of the authorization.
func (c *Client) releaseAfter(ctx context.Context, orderID, captureKey string) error {
	o, _, err := c.getOrder(ctx, "Capture", orderID)
	if err != nil {
		return err
	}
	if o.RemainingAuthorizedAmount == 0 {
		return nil
	}
	return c.ReleaseRemaining(ctx, orderID, connector.WithIdempotencyKey(connector.IdempotencyKey(captureKey, "klarna", "release-remaining")))
}

// explainCapture turns Klarna's bare "capture not allowed" into the reason,
// read from the order as it was just before the capture.
func (c *Client) explainCapture(err error, o *Order, minor int64, cur commerce.Currency) error {
	var ce *connector.Error
	if !errors.As(err, &ce) || ce.Kind != connector.KindConflict {
		return err
	}
	m := func(n int64) commerce.Money { return commerce.FromMinor(n, cur) }
	var reason, field string
	switch {
	case o.Status == StatusCancelled:
		reason = fmt.Sprintf("order %s is cancelled", o.OrderID)
	case o.Status == StatusExpired || (o.ExpiresAt != nil && !c.now().Before(*o.ExpiresAt)):
		reason = fmt.Sprintf("the authorization of order %s expired", o.OrderID)
		if o.ExpiresAt != nil {
			reason += " at " + o.ExpiresAt.UTC().Format("2006-01-02T15:04:05Z")
		}
	case minor > o.RemainingAuthorizedAmount:
		field = "amount"
		reason = fmt.Sprintf("capture of %s exceeds the remaining authorized %s on order %s (captured %s of %s)",
			m(minor), m(o.RemainingAuthorizedAmount), o.OrderID, m(o.CapturedAmount), m(o.OrderAmount))
	default:
		reason = fmt.Sprintf("Klarna refused to capture order %s (status %s)", o.OrderID, o.Status)
	}
	return explained(ce, "Capture", field, reason)
}

func explained(ce *connector.Error, op, field, reason string) error {
	out := *ce
	out.Op, out.Field = op, field
	if ce.Message != "" {
		reason += " (Klarna: " + ce.Message + ")"
	}
	out.Message = reason
	return &out
}

// prepareMove checks what a capture or refund (what) needs before anything
// is sent — the order id, the idempotency key, a positive amount, a
// reference Klarna accepts — and reads the order, because Klarna's own
// requests carry no currency: the amount must be exact in the order's.
func (c *Client) prepareMove(ctx context.Context, op, what, paymentRef string, amount commerce.Money, reference string, o connector.CallOptions) (*Order, commerce.Currency, int64, error) {
	fail := func(err error) (*Order, commerce.Currency, int64, error) { return nil, commerce.Currency{}, 0, err }
	if err := checkID(op, "payment_reference", paymentRef); err != nil {
		return fail(err)
	}
	if err := keyed(op, o); err != nil {
		return fail(err)
	}
	if !amount.IsPositive() {
		return fail(invalid(op, "amount", commerce.ErrInvalid, "%s amount %s must be positive", what, amount.Amount))
	}
	if len(reference) > 255 {
		return fail(invalid(op, "reference", commerce.ErrInvalid, "reference longer than 255 characters"))
	}
	order, _, err := c.getOrder(ctx, op, paymentRef)
	if err != nil {
		return fail(err)
	}
	cur, err := commerce.ParseCurrency(order.PurchaseCurrency)
	if err != nil {
		return fail(malformed(op, err))
	}
	minor, err := minorOf(op, "amount", amount, cur, what+" amount")
	if err != nil {
		return fail(err)
	}
	return order, cur, minor, nil
}

// Refund refunds req.Amount of the Klarna order req.PaymentReference, with
// the caller's idempotency key (required), req.Reference as the reference
// that reappears in settlements, req.Reason as the description shown to the
// customer and the lines if given. Klarna refunds an order, not a capture:
// req.CaptureID is kept in the result but not sent. A refund above what is
// captured and not yet refunded is refused by Klarna (403
// REFUND_NOT_ALLOWED) and reported as a KindConflict error saying so.
func (c *Client) Refund(ctx context.Context, req connector.RefundRequest, opts ...connector.CallOption) (commerce.Refund, error) {
	const op = "Refund"
	o := connector.ApplyCallOptions(opts)
	order, cur, minor, err := c.prepareMove(ctx, op, "refund", req.PaymentReference, req.Amount, req.Reference, o)
	if err != nil {
		return commerce.Refund{}, err
	}
	lines, err := refundLines(op, req.Lines, cur, minor)
	if err != nil {
		return commerce.Refund{}, err
	}
	orderNumber := req.OrderNumber
	if orderNumber == "" {
		orderNumber = order.MerchantReference1
	}
	out := commerce.Refund{
		OrderNumber: orderNumber, Provider: SystemName, PaymentReference: order.OrderID, CaptureID: req.CaptureID,
		Amount: req.Amount, Lines: req.Lines, Reason: req.Reason, Note: req.Reference, IdempotencyKey: o.IdempotencyKey,
	}
	if o.DryRun {
		return out, nil
	}
	body := RefundObject{RefundedAmount: minor, Description: truncRunes(req.Reason, 255), Reference: req.Reference, OrderLines: lines}
	id, err := c.CreateRefund(ctx, order.OrderID, body, o.IdempotencyKey)
	if err != nil {
		return commerce.Refund{}, c.explainRefund(err, order, minor, cur)
	}
	out.ID = id
	out.Origin.Source = commerce.Ref{System: SystemName, Account: c.merchantID, ID: id}
	if got, err := c.GetRefund(ctx, order.OrderID, id); err != nil {
		c.t.Logger().LogAttrs(ctx, slog.LevelWarn, "klarna: refund made but not read back",
			slog.String("order_id", order.OrderID), slog.String("refund_id", id), slog.String("error", err.Error()))
	} else {
		if got.RefundedAt != nil {
			out.CreatedAt = *got.RefundedAt
		}
		if got.RefundedAmount != minor {
			out.Amount = commerce.FromMinor(got.RefundedAmount, cur)
			return out, &connector.Error{System: SystemName, Op: op, Kind: connector.KindConflict, Field: "idempotency_key",
				Message: fmt.Sprintf("the idempotency key was already used for refund %s of %s on order %s; this request asked for %s — derive a distinct key per refund",
					id, out.Amount, order.OrderID, req.Amount)}
		}
	}
	return out, nil
}

func (c *Client) explainRefund(err error, o *Order, minor int64, cur commerce.Currency) error {
	var ce *connector.Error
	if !errors.As(err, &ce) || ce.Kind != connector.KindConflict {
		return err
	}
	m := func(n int64) commerce.Money { return commerce.FromMinor(n, cur) }
	refundable := o.CapturedAmount - o.RefundedAmount
	var reason, field string
	switch {
	case o.CapturedAmount == 0:
		reason = fmt.Sprintf("order %s has no captures to refund", o.OrderID)
	case minor > refundable:
		field = "amount"
		reason = fmt.Sprintf("refund of %s exceeds the %s captured and not yet refunded on order %s (captured %s, refunded %s)",
			m(minor), m(refundable), o.OrderID, m(o.CapturedAmount), m(o.RefundedAmount))
	default:
		reason = fmt.Sprintf("Klarna refused to refund order %s (status %s)", o.OrderID, o.Status)
	}
	return explained(ce, "Refund", field, reason)
}

// ReleaseRemaining releases what is left of an order's authorization, with
// the caller's idempotency key (required). Klarna refuses (403) when the
// order is cancelled or has no captures, reported as a KindConflict error
// saying which (an order without captures is cancelled, not released).
// When nothing is left to release — the order is fully captured or was
// released before — the call succeeds, since the state asked for holds.
func (c *Client) ReleaseRemaining(ctx context.Context, paymentReference string, opts ...connector.CallOption) error {
	const op = "ReleaseRemaining"
	o := connector.ApplyCallOptions(opts)
	if err := checkID(op, "payment_reference", paymentReference); err != nil {
		return err
	}
	if err := keyed(op, o); err != nil {
		return err
	}
	if o.DryRun {
		_, _, err := c.getOrder(ctx, op, paymentReference)
		return err
	}
	err := c.ReleaseRemainingAuthorization(ctx, paymentReference, o.IdempotencyKey)
	var ce *connector.Error
	if err == nil || !errors.As(err, &ce) || ce.Kind != connector.KindConflict {
		return err
	}
	order, _, gerr := c.getOrder(ctx, op, paymentReference)
	if gerr != nil {
		return err
	}
	switch {
	case order.Status == StatusCancelled:
		return explained(ce, op, "", fmt.Sprintf("order %s is cancelled", order.OrderID))
	case order.CapturedAmount == 0:
		return explained(ce, op, "", fmt.Sprintf("order %s has no captures; cancel it instead of releasing", order.OrderID))
	case order.RemainingAuthorizedAmount == 0:
		return nil
	}
	return explained(ce, op, "", fmt.Sprintf("Klarna refused to release the rest of order %s (status %s)", order.OrderID, order.Status))
}
