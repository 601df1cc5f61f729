package stripe

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/connector"
)

// Compile-time checks of the capabilities the Client implements.
var (
	_ connector.System         = (*Client)(nil)
	_ connector.Capturer       = (*Client)(nil)
	_ connector.Refunder       = (*Client)(nil)
	_ connector.Releaser       = (*Client)(nil)
	_ connector.PaymentReader  = (*Client)(nil)
	_ connector.PayoutSource   = (*Client)(nil)
	_ connector.WebhookDecoder = (*Client)(nil)
)

// GetPaymentIntent reads a PaymentIntent; expand names fields to expand
// ("latest_charge").
func (c *Client) GetPaymentIntent(ctx context.Context, id string, expand ...string) (*PaymentIntent, error) {
	pi, _, err := c.getPaymentIntent(ctx, "GetPaymentIntent", id, expand...)
	return pi, err
}

func (c *Client) getPaymentIntent(ctx context.Context, op, id string, expand ...string) (*PaymentIntent, []byte, error) {
	if err := checkID(op, "id", id); err != nil {
		return nil, nil, err
	}
	var q Params
	if len(expand) > 0 {
		q = Params{"expand": expand}
	}
	var pi PaymentIntent
	resp, err := c.get(ctx, op, objectPath("payment_intents", id), q, &pi)
	if err != nil {
		return nil, nil, err
	}
	return &pi, resp.Body, nil
}

// CapturePaymentIntent captures a PaymentIntent in requires_capture with
// params such as amount_to_capture and final_capture. key is the
// Idempotency-Key and is required.
func (c *Client) CapturePaymentIntent(ctx context.Context, id string, params Params, key string) (*PaymentIntent, []byte, error) {
	const op = "CapturePaymentIntent"
	if err := checkID(op, "id", id); err != nil {
		return nil, nil, err
	}
	var pi PaymentIntent
	resp, err := c.post(ctx, op, objectPath("payment_intents", id, "capture"), params, key, &pi)
	if err != nil {
		return nil, nil, err
	}
	return &pi, resp.Body, nil
}

// CancelPaymentIntent cancels a PaymentIntent, releasing what is still
// authorized. key is required.
func (c *Client) CancelPaymentIntent(ctx context.Context, id string, params Params, key string) (*PaymentIntent, error) {
	const op = "CancelPaymentIntent"
	if err := checkID(op, "id", id); err != nil {
		return nil, err
	}
	var pi PaymentIntent
	if _, err := c.post(ctx, op, objectPath("payment_intents", id, "cancel"), params, key, &pi); err != nil {
		return nil, err
	}
	return &pi, nil
}

// CreateRefund creates a refund (params: payment_intent or charge, amount,
// reason, metadata). key is required.
func (c *Client) CreateRefund(ctx context.Context, params Params, key string) (*Refund, []byte, error) {
	var r Refund
	resp, err := c.post(ctx, "CreateRefund", "/v1/refunds", params, key, &r)
	if err != nil {
		return nil, nil, err
	}
	return &r, resp.Body, nil
}

// GetPayout reads a payout.
func (c *Client) GetPayout(ctx context.Context, id string) (*Payout, []byte, error) {
	const op = "GetPayout"
	if err := checkID(op, "id", id); err != nil {
		return nil, nil, err
	}
	var p Payout
	resp, err := c.get(ctx, op, objectPath("payouts", id), nil, &p)
	if err != nil {
		return nil, nil, err
	}
	return &p, resp.Body, nil
}

func invalid(op, field string, err error) error {
	return &connector.Error{System: SystemName, Op: op, Kind: connector.KindValidation, Field: field, Err: err}
}

func (c *Client) ref(id string) commerce.Ref {
	return commerce.Ref{System: SystemName, Account: c.account, ID: id}
}

// Capture captures req.Amount of the PaymentIntent req.PaymentReference.
// The idempotency key (connector.WithIdempotencyKey) is required: derive it
// from the delivery, so a retry after a crash captures once. Final maps to
// final_capture only with WithMulticapture (see there). The Capture's ID is
// the PaymentIntent's charge (ch_…), the id balance transactions refer to.
// WithDryRun checks and converts the request without sending it.
func (c *Client) Capture(ctx context.Context, req connector.CaptureRequest, opts ...connector.CallOption) (commerce.Capture, error) {
	const op = "Capture"
	o := connector.ApplyCallOptions(opts)
	if err := checkID(op, "payment_reference", req.PaymentReference); err != nil {
		return commerce.Capture{}, err
	}
	minor, err := ToMinor(req.Amount)
	if err != nil {
		return commerce.Capture{}, invalid(op, "amount", err)
	}
	if minor <= 0 {
		return commerce.Capture{}, invalid(op, "amount", fmt.Errorf("must be positive, is %s", req.Amount))
	}
	if err := checkKey(op, o.IdempotencyKey); err != nil {
		return commerce.Capture{}, err
	}
	params := Params{"amount_to_capture": minor}
	if c.multicapture {
		params["final_capture"] = req.Final
	}
	out := commerce.Capture{
		Provider:         SystemName,
		PaymentReference: req.PaymentReference,
		OrderNumber:      req.OrderNumber,
		Amount:           req.Amount,
		Lines:            req.Lines,
		Reference:        req.Reference,
		IdempotencyKey:   o.IdempotencyKey,
	}
	if o.DryRun {
		return out, nil
	}
	pi, raw, err := c.CapturePaymentIntent(ctx, req.PaymentReference, params, o.IdempotencyKey)
	if err != nil {
		return commerce.Capture{}, err
	}
	if pi.Currency != "" && pi.Currency != currencyParam(req.Amount.Currency) {
		return commerce.Capture{}, &connector.Error{System: SystemName, Op: op, Kind: connector.KindPermanent,
			Message: fmt.Sprintf("captured in %s, asked for %s", pi.Currency, req.Amount.Currency)}
	}
	out.ID = pi.LatestCharge.ID
	if out.ID == "" {
		out.ID = pi.ID
	}
	out.Source = c.ref(out.ID)
	out.Raw = json.RawMessage(raw)
	out.CreatedAt = c.now().UTC()
	return out, nil
}

// refundReasons are the reasons Stripe accepts; any other text travels in
// metadata[reason].
var refundReasons = map[string]bool{"duplicate": true, "fraudulent": true, "requested_by_customer": true}

// Refund refunds req.Amount of req.PaymentReference (a PaymentIntent), or of
// req.CaptureID when it is a charge (ch_…) and no PaymentIntent is given.
// The order number and merchant reference go into the refund's metadata so
// that the refund links back to the order in payouts. The idempotency key is
// required; WithDryRun checks and converts without sending. A refund Stripe
// reports as failed or canceled is an error of kind permanent.
func (c *Client) Refund(ctx context.Context, req connector.RefundRequest, opts ...connector.CallOption) (commerce.Refund, error) {
	const op = "Refund"
	o := connector.ApplyCallOptions(opts)
	params := Params{}
	switch {
	case req.PaymentReference != "":
		if err := checkID(op, "payment_reference", req.PaymentReference); err != nil {
			return commerce.Refund{}, err
		}
		params["payment_intent"] = req.PaymentReference
	case len(req.CaptureID) > 3 && req.CaptureID[:3] == "ch_":
		if err := checkID(op, "capture_id", req.CaptureID); err != nil {
			return commerce.Refund{}, err
		}
		params["charge"] = req.CaptureID
	default:
		return commerce.Refund{}, invalid(op, "payment_reference", fmt.Errorf("missing (and no charge id in capture_id)"))
	}
	minor, err := ToMinor(req.Amount)
	if err != nil {
		return commerce.Refund{}, invalid(op, "amount", err)
	}
	if minor <= 0 {
		return commerce.Refund{}, invalid(op, "amount", fmt.Errorf("must be positive, is %s", req.Amount))
	}
	if err := checkKey(op, o.IdempotencyKey); err != nil {
		return commerce.Refund{}, err
	}
	params["amount"] = minor
	meta := map[string]string{}
	if req.OrderNumber != "" {
		meta[c.orderKeys[0]] = req.OrderNumber
	}
	if req.Reference != "" {
		meta["merchant_reference"] = req.Reference
	}
	if refundReasons[req.Reason] {
		params["reason"] = req.Reason
	} else if req.Reason != "" {
		meta["reason"] = req.Reason
	}
	if len(meta) > 0 {
		params["metadata"] = meta
	}
	out := commerce.Refund{
		OrderNumber:      req.OrderNumber,
		Provider:         SystemName,
		PaymentReference: req.PaymentReference,
		CaptureID:        req.CaptureID,
		Amount:           req.Amount,
		Lines:            req.Lines,
		Reason:           req.Reason,
		IdempotencyKey:   o.IdempotencyKey,
	}
	if o.DryRun {
		return out, nil
	}
	r, raw, err := c.CreateRefund(ctx, params, o.IdempotencyKey)
	if err != nil {
		return commerce.Refund{}, err
	}
	switch r.Status {
	case "failed", "canceled":
		return commerce.Refund{}, &connector.Error{System: SystemName, Op: op, Kind: connector.KindPermanent,
			Code: r.FailureReason, Message: fmt.Sprintf("refund %s is %s", r.ID, r.Status)}
	}
	amount, err := FromMinor(r.Amount, r.Currency)
	if err != nil {
		return commerce.Refund{}, &connector.Error{System: SystemName, Op: op, Kind: connector.KindPermanent, Err: err}
	}
	out.ID = r.ID
	out.Amount = amount
	if out.PaymentReference == "" {
		out.PaymentReference = r.PaymentIntent.ID
	}
	if r.Charge.ID != "" {
		out.CaptureID = r.Charge.ID
	}
	out.Source = c.ref(r.ID)
	out.Raw = json.RawMessage(raw)
	out.CreatedAt = time.Unix(r.Created, 0).UTC()
	return out, nil
}

// ReleaseRemaining cancels a PaymentIntent that still holds an
// authorization (requires_capture), giving back what was not captured. A
// PaymentIntent that already succeeded or was canceled has nothing left to
// release, and that is not an error. The idempotency key is required.
func (c *Client) ReleaseRemaining(ctx context.Context, paymentReference string, opts ...connector.CallOption) error {
	const op = "ReleaseRemaining"
	o := connector.ApplyCallOptions(opts)
	if err := checkKey(op, o.IdempotencyKey); err != nil {
		return err
	}
	pi, _, err := c.getPaymentIntent(ctx, op, paymentReference)
	if err != nil {
		return err
	}
	switch pi.Status {
	case "succeeded", "canceled":
		return nil
	case "requires_capture":
	default:
		return &connector.Error{System: SystemName, Op: op, Kind: connector.KindConflict, Code: CodePaymentIntentUnexpectedState,
			Message: fmt.Sprintf("payment intent %s is %s, not authorized", pi.ID, pi.Status)}
	}
	if o.DryRun {
		return nil
	}
	_, err = c.CancelPaymentIntent(ctx, paymentReference, nil, o.IdempotencyKey)
	return err
}

// Payment reads a PaymentIntent with its charge and refunds. A
// PaymentIntent that has not reached an authorization yet
// (requires_payment_method, requires_confirmation, requires_action,
// processing) has no canonical status and is an error of kind conflict.
func (c *Client) Payment(ctx context.Context, reference string) (commerce.Payment, error) {
	const op = "Payment"
	pi, raw, err := c.getPaymentIntent(ctx, op, reference, "latest_charge")
	if err != nil {
		return commerce.Payment{}, err
	}
	fail := func(err error) (commerce.Payment, error) {
		return commerce.Payment{}, &connector.Error{System: SystemName, Op: op, Kind: connector.KindPermanent, Err: err}
	}
	authorized, err := FromMinor(pi.Amount, pi.Currency)
	if err != nil {
		return fail(err)
	}
	captured, err := FromMinor(pi.AmountReceived, pi.Currency)
	if err != nil {
		return fail(err)
	}
	p := commerce.Payment{
		Origin:      commerce.Origin{Source: c.ref(pi.ID)},
		Provider:    SystemName,
		Reference:   pi.ID,
		OrderNumber: c.orderNumber(pi.Metadata),
		Authorized:  authorized,
		Captured:    captured,
		Refunded:    commerce.Zero(authorized.Currency),
	}
	p.Raw = json.RawMessage(raw)
	ch := pi.LatestCharge.Object
	if ch != nil && ch.AmountCaptured > 0 {
		amt, err := FromMinor(ch.AmountCaptured, ch.Currency)
		if err != nil {
			return fail(err)
		}
		p.Captures = []commerce.Capture{{
			Origin: commerce.Origin{Source: c.ref(ch.ID)}, ID: ch.ID, Provider: SystemName,
			PaymentReference: pi.ID, OrderNumber: p.OrderNumber, Amount: amt,
			CreatedAt: time.Unix(ch.Created, 0).UTC(),
		}}
	}
	refunded := int64(0)
	for r, err := range c.ListRefunds(ctx, Params{"payment_intent": pi.ID}) {
		if err != nil {
			return commerce.Payment{}, err
		}
		if r.Status == "failed" || r.Status == "canceled" {
			continue
		}
		amt, err := FromMinor(r.Amount, r.Currency)
		if err != nil {
			return fail(err)
		}
		refunded += r.Amount
		p.Refunds = append(p.Refunds, commerce.Refund{
			Origin: commerce.Origin{Source: c.ref(r.ID)}, ID: r.ID, OrderNumber: c.orderNumber(r.Metadata),
			Provider: SystemName, PaymentReference: pi.ID, CaptureID: r.Charge.ID, Amount: amt,
			Reason: r.Reason, CreatedAt: time.Unix(r.Created, 0).UTC(),
		})
	}
	if p.Refunded, err = FromMinor(refunded, pi.Currency); err != nil {
		return fail(err)
	}
	switch pi.Status {
	case "requires_capture":
		p.Status = commerce.PaymentAuthorized
		if pi.AmountReceived > 0 {
			p.Status = commerce.PaymentPartiallyCaptured
		}
		if ch != nil && ch.PaymentMethodDetails != nil && ch.PaymentMethodDetails.Card != nil && ch.PaymentMethodDetails.Card.CaptureBefore > 0 {
			t := time.Unix(ch.PaymentMethodDetails.Card.CaptureBefore, 0).UTC()
			p.ExpiresAt = &t
		}
	case "succeeded":
		switch {
		case refunded == 0:
			p.Status = commerce.PaymentCaptured
		case refunded >= pi.AmountReceived:
			p.Status = commerce.PaymentRefunded
		default:
			p.Status = commerce.PaymentPartiallyRefunded
		}
	case "canceled":
		switch {
		case pi.AmountReceived > 0:
			p.Status = commerce.PaymentReleased
		case pi.CancellationReason == "expired" || pi.CancellationReason == "automatic":
			p.Status = commerce.PaymentExpired
		default:
			p.Status = commerce.PaymentCancelled
		}
	default:
		return commerce.Payment{}, &connector.Error{System: SystemName, Op: op, Kind: connector.KindConflict,
			Code: CodePaymentIntentUnexpectedState, Message: fmt.Sprintf("payment intent %s is %s, not authorized yet", pi.ID, pi.Status)}
	}
	return p, nil
}

// orderNumber finds the shop's order number in metadata.
func (c *Client) orderNumber(meta map[string]string) string {
	for _, k := range c.orderKeys {
		if v := meta[k]; v != "" {
			return v
		}
	}
	return ""
}
