package paypal

import (
	"context"
	"encoding/json"
	"time"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/connector"
)

// The authorization rules of PayPal's "authorization and honor period"
// page: funds are honoured for three days; from day four to day 29 an
// authorization can be reauthorized once (a new id with a new three-day
// honour period, never beyond day 29); after day 29 it cannot be captured.
const (
	HonorPeriod      = 3 * 24 * time.Hour
	AuthorizationTTL = 29 * 24 * time.Hour
)

// Compile-time checks of the capabilities Client offers.
var (
	_ connector.System                = (*Client)(nil)
	_ connector.Capturer              = (*Client)(nil)
	_ connector.Refunder              = (*Client)(nil)
	_ connector.CaptureScopedRefunder = (*Client)(nil)
	_ connector.Releaser              = (*Client)(nil)
	_ connector.PaymentReader         = (*Client)(nil)
	_ connector.PayoutSource          = (*Client)(nil)
)

// Capture captures req.Amount of the authorization req.PaymentReference
// (the whole authorization when req.Amount has no currency). The
// idempotency key is required: it becomes PayPal-Request-Id, so a repeat
// with the same key, even after a crash, returns the first capture instead
// of capturing again. req.Reference, when set, is sent as invoice_id and
// reappears in Transaction Search; leave it empty to keep the order's own
// invoice id (PayPal refuses a second capture with the same invoice_id when
// the account blocks duplicates, so partial captures need distinct
// references). req.Final sets final_capture, releasing the rest.
//
// An authorization past its three-day honour period is reauthorized first
// (once, up to day 29), and the new authorization is captured. The
// reauthorization is keyed by the original authorization, so a retried
// capture finds the same new authorization again instead of failing.
func (c *Client) Capture(ctx context.Context, req connector.CaptureRequest, opts ...connector.CallOption) (commerce.Capture, error) {
	const op = "Capture"
	o := connector.ApplyCallOptions(opts)
	if o.IdempotencyKey == "" {
		return commerce.Capture{}, &connector.Error{System: System, Op: op, Kind: connector.KindValidation, Field: "idempotency_key", Message: "capture refused without an idempotency key: derive one from the delivery (connector.IdempotencyKey) so a retry cannot capture twice"}
	}
	body := CaptureRequest{InvoiceID: req.Reference, FinalCapture: req.Final}
	if !req.Amount.Currency.IsZero() {
		if !req.Amount.IsPositive() {
			return commerce.Capture{}, &connector.Error{System: System, Op: op, Kind: connector.KindValidation, Field: "amount", Message: "capture amount must be positive"}
		}
		a, err := FromMoney(req.Amount)
		if err != nil {
			return commerce.Capture{}, &connector.Error{System: System, Op: op, Kind: connector.KindValidation, Field: "amount", Err: err}
		}
		body.Amount = &a
	}
	if len(body.InvoiceID) > 127 {
		return commerce.Capture{}, &connector.Error{System: System, Op: op, Kind: connector.KindValidation, Field: "reference", Message: "invoice_id longer than 127 characters"}
	}
	out := commerce.Capture{
		Origin:           commerce.Origin{Source: commerce.Ref{System: System, Account: c.account}},
		Provider:         System,
		PaymentReference: req.PaymentReference,
		OrderNumber:      req.OrderNumber,
		Amount:           req.Amount,
		Lines:            req.Lines,
		Reference:        req.Reference,
		IdempotencyKey:   o.IdempotencyKey,
	}
	if o.DryRun {
		if _, err := pathID(op, "payment_reference", req.PaymentReference); err != nil {
			return commerce.Capture{}, err
		}
		return out, nil
	}
	target, err := c.captureTarget(ctx, req.PaymentReference)
	if err != nil {
		return commerce.Capture{}, connector.Wrap(System, op, err)
	}
	capt, raw, err := c.captureAuthorization(ctx, target, body, o.IdempotencyKey)
	if err != nil {
		return commerce.Capture{}, err
	}
	switch capt.Status {
	case CaptureDeclined, CaptureFailed:
		return commerce.Capture{}, &connector.Error{System: System, Op: op, Kind: connector.KindPermanent, Code: capt.Status, Message: "PayPal " + capt.Status + " the capture " + capt.ID}
	}
	if err := fillCapture(&out, capt, raw); err != nil {
		return commerce.Capture{}, &connector.Error{System: System, Op: op, Kind: connector.KindPermanent, Message: "capture answer unreadable", Err: err}
	}
	return out, nil
}

// captureTarget decides which authorization to capture: id itself, or the
// authorization that reauthorizing id gives when its honour period is over.
func (c *Client) captureTarget(ctx context.Context, id string) (string, error) {
	if !c.reauth {
		return id, nil
	}
	a, _, err := c.getAuthorization(ctx, id)
	if err != nil {
		return "", err
	}
	created, err := ParseTime(a.CreateTime)
	if err != nil {
		return "", &connector.Error{System: System, Op: "Capture", Kind: connector.KindPermanent, Field: "create_time", Err: err}
	}
	age := c.now().Sub(created)
	switch {
	case a.Status == AuthCreated && age > HonorPeriod && age < AuthorizationTTL:
	case a.Status == AuthVoided:
		// Either voided for good, or superseded by a reauthorization an
		// earlier attempt of this capture made. Repeating that
		// reauthorization with its key finds the new authorization; on a
		// plain void PayPal refuses it and the capture fails as it should.
	default:
		return id, nil
	}
	na, err := c.ReauthorizeAuthorization(ctx, id, ReauthorizeRequest{}, reauthorizeKey(id))
	if err != nil {
		return "", err
	}
	if na.ID == "" {
		return "", &connector.Error{System: System, Op: "ReauthorizeAuthorization", Kind: connector.KindPermanent, Message: "reauthorization answered without an id"}
	}
	return na.ID, nil
}

// reauthorizeKey is the request id of the one reauthorization PayPal
// allows per authorization.
func reauthorizeKey(authorizationID string) string {
	return connector.IdempotencyKey(System, "reauthorize", authorizationID)
}

func fillCapture(out *commerce.Capture, capt *Capture, raw []byte) error {
	out.ID = capt.ID
	out.Source.ID = capt.ID
	out.Raw = append(json.RawMessage(nil), raw...)
	if capt.Amount != nil {
		m, err := ToMoney(*capt.Amount)
		if err != nil {
			return err
		}
		out.Amount = m
	}
	if capt.InvoiceID != "" {
		out.Reference = capt.InvoiceID
	}
	if capt.CreateTime != "" {
		t, err := ParseTime(capt.CreateTime)
		if err != nil {
			return err
		}
		out.CreatedAt = t
	}
	return nil
}

// RefundsPerCapture reports true: a PayPal refund draws on one capture
// (connector.CaptureScopedRefunder).
func (c *Client) RefundsPerCapture() bool { return true }

// Refund refunds req.Amount of the capture req.CaptureID (what remains of
// it when req.Amount has no currency), keyed by the required idempotency
// key like Capture. invoice_id is req.Reference (a credit note number, say)
// and custom_id the order number, both reappearing in Transaction Search
// for matching; req.Reason becomes note_to_payer. Without a CaptureID, the
// payment's only capture is refunded; a payment with several captures
// needs the CaptureID.
func (c *Client) Refund(ctx context.Context, req connector.RefundRequest, opts ...connector.CallOption) (commerce.Refund, error) {
	const op = "Refund"
	o := connector.ApplyCallOptions(opts)
	if o.IdempotencyKey == "" {
		return commerce.Refund{}, &connector.Error{System: System, Op: op, Kind: connector.KindValidation, Field: "idempotency_key", Message: "refund refused without an idempotency key: derive one from the return so a retry cannot refund twice"}
	}
	body := RefundRequest{InvoiceID: req.Reference, CustomID: req.OrderNumber, NoteToPayer: truncateRunes(req.Reason, 255)}
	if !req.Amount.Currency.IsZero() {
		if !req.Amount.IsPositive() {
			return commerce.Refund{}, &connector.Error{System: System, Op: op, Kind: connector.KindValidation, Field: "amount", Message: "refund amount must be positive"}
		}
		a, err := FromMoney(req.Amount)
		if err != nil {
			return commerce.Refund{}, &connector.Error{System: System, Op: op, Kind: connector.KindValidation, Field: "amount", Err: err}
		}
		body.Amount = &a
	}
	if len(body.InvoiceID) > 127 || len(body.CustomID) > 127 {
		return commerce.Refund{}, &connector.Error{System: System, Op: op, Kind: connector.KindValidation, Field: "reference", Message: "invoice_id or custom_id longer than 127 characters"}
	}
	out := commerce.Refund{
		Origin:           commerce.Origin{Source: commerce.Ref{System: System, Account: c.account}},
		OrderNumber:      req.OrderNumber,
		Provider:         System,
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
	if out.CaptureID == "" {
		id, err := c.onlyCapture(ctx, req.PaymentReference)
		if err != nil {
			return commerce.Refund{}, connector.Wrap(System, op, err)
		}
		out.CaptureID = id
	}
	r, raw, err := c.refundCapture(ctx, out.CaptureID, body, o.IdempotencyKey)
	if err != nil {
		return commerce.Refund{}, err
	}
	switch r.Status {
	case RefundFailed, RefundCancelled:
		return commerce.Refund{}, &connector.Error{System: System, Op: op, Kind: connector.KindPermanent, Code: r.Status, Message: "PayPal " + r.Status + " the refund " + r.ID}
	}
	if err := fillRefund(&out, r, raw); err != nil {
		return commerce.Refund{}, &connector.Error{System: System, Op: op, Kind: connector.KindPermanent, Message: "refund answer unreadable", Err: err}
	}
	return out, nil
}

func fillRefund(out *commerce.Refund, r *Refund, raw []byte) error {
	out.ID = r.ID
	out.Source.ID = r.ID
	out.Raw = append(json.RawMessage(nil), raw...)
	out.Note = r.NoteToPayer
	if r.Amount != nil {
		m, err := ToMoney(*r.Amount)
		if err != nil {
			return err
		}
		out.Amount = m
	}
	if r.CreateTime != "" {
		t, err := ParseTime(r.CreateTime)
		if err != nil {
			return err
		}
		out.CreatedAt = t
	}
	return nil
}

// onlyCapture finds the single capture of a payment.
func (c *Client) onlyCapture(ctx context.Context, authorizationID string) (string, error) {
	if authorizationID == "" {
		return "", &connector.Error{System: System, Op: "Refund", Kind: connector.KindValidation, Field: "capture_id", Message: "refund needs a capture id or a payment reference"}
	}
	_, unit, err := c.unitOf(ctx, authorizationID)
	if err != nil {
		return "", err
	}
	if unit == nil || unit.Payments == nil || len(unit.Payments.Captures) != 1 {
		return "", &connector.Error{System: System, Op: "Refund", Kind: connector.KindValidation, Field: "capture_id", Message: "the payment has no single capture; name the capture to refund"}
	}
	return unit.Payments.Captures[0].ID, nil
}

// ReleaseRemaining voids what is left of an authorization. A payment
// already voided counts as released. The request id is derived from the
// authorization unless one is given: voiding twice is voiding once.
func (c *Client) ReleaseRemaining(ctx context.Context, paymentReference string, opts ...connector.CallOption) error {
	o := connector.ApplyCallOptions(opts)
	if o.DryRun {
		_, err := pathID("ReleaseRemaining", "payment_reference", paymentReference)
		return err
	}
	key := o.IdempotencyKey
	if key == "" {
		key = connector.IdempotencyKey(System, "void", paymentReference)
	}
	err := c.VoidAuthorization(ctx, paymentReference, key)
	if Issue(err) == "PREVIOUSLY_VOIDED" {
		return nil
	}
	return err
}

// unitOf finds the order and purchase unit an authorization belongs to.
// Authorizations that did not come from an Orders v2 order have none; then
// unit is nil and a holds the authorization alone.
func (c *Client) unitOf(ctx context.Context, authorizationID string) (*Authorization, *PurchaseUnit, error) {
	a, _, err := c.getAuthorization(ctx, authorizationID)
	if err != nil {
		return nil, nil, err
	}
	if a.SupplementaryData == nil || a.SupplementaryData.RelatedIDs.OrderID == "" {
		return a, nil, nil
	}
	o, _, err := c.getOrder(ctx, a.SupplementaryData.RelatedIDs.OrderID)
	if err != nil {
		return nil, nil, err
	}
	for i := range o.PurchaseUnits {
		u := &o.PurchaseUnits[i]
		if u.Payments == nil {
			continue
		}
		for _, ua := range u.Payments.Authorizations {
			if ua.ID == authorizationID {
				return a, u, nil
			}
		}
	}
	return a, nil, nil
}

// Payment reads the state of the authorization reference with the
// captures and refunds made against it (and against any reauthorization of
// it), from the Orders v2 order it belongs to. The status is derived:
//
//	refunds: refunded in full → refunded, in part → partially_refunded;
//	else captured in full → captured;
//	captured in part, the rest still open → partially_captured;
//	captured in part, the rest voided or final → captured;
//	nothing captured: open → authorized (expired after its expiration_time),
//	voided → cancelled, denied → cancelled.
//
// OrderNumber is the purchase unit's invoice_id, where shops put their
// order number. An authorization without an order (not made through Orders
// v2) reports only its own status and amount.
func (c *Client) Payment(ctx context.Context, reference string) (commerce.Payment, error) {
	const op = "Payment"
	a, unit, err := c.unitOf(ctx, reference)
	if err != nil {
		return commerce.Payment{}, connector.Wrap(System, op, err)
	}
	p, err := c.mapPayment(reference, a, unit)
	if err != nil {
		return commerce.Payment{}, &connector.Error{System: System, Op: op, Kind: connector.KindPermanent, Message: "payment unreadable", Err: err}
	}
	return p, nil
}

func (c *Client) mapPayment(reference string, a *Authorization, unit *PurchaseUnit) (commerce.Payment, error) {
	authorized, err := toMoneyPtr(a.Amount)
	if err != nil {
		return commerce.Payment{}, err
	}
	cur := authorized.Currency
	p := commerce.Payment{
		Origin:     commerce.Origin{Source: commerce.Ref{System: System, Account: c.account, ID: reference}},
		Provider:   System,
		Reference:  reference,
		Authorized: authorized,
		Captured:   commerce.Zero(cur),
		Refunded:   commerce.Zero(cur),
	}
	raw, err := json.Marshal(struct {
		Authorization *Authorization `json:"authorization"`
		PurchaseUnit  *PurchaseUnit  `json:"purchase_unit,omitempty"`
	}{a, unit})
	if err != nil {
		return commerce.Payment{}, err
	}
	p.Raw = raw
	auths := []Authorization{*a}
	if unit != nil {
		// Shops put their order number in the purchase unit's invoice_id.
		p.OrderNumber = unit.InvoiceID
		if unit.Payments != nil {
			auths = unit.Payments.Authorizations
			for i := range unit.Payments.Captures {
				wc := &unit.Payments.Captures[i]
				cc := commerce.Capture{Origin: commerce.Origin{Source: commerce.Ref{System: System, Account: c.account}}, Provider: System, PaymentReference: reference, OrderNumber: p.OrderNumber}
				wraw, err := json.Marshal(wc)
				if err != nil {
					return commerce.Payment{}, err
				}
				if err := fillCapture(&cc, wc, wraw); err != nil {
					return commerce.Payment{}, err
				}
				p.Captures = append(p.Captures, cc)
				switch wc.Status {
				case CaptureCompleted, CapturePartiallyRefunded, CaptureRefunded, CapturePending:
					if p.Captured, err = p.Captured.Add(cc.Amount); err != nil {
						return commerce.Payment{}, err
					}
				}
			}
			for i := range unit.Payments.Refunds {
				wr := &unit.Payments.Refunds[i]
				rr := commerce.Refund{Origin: commerce.Origin{Source: commerce.Ref{System: System, Account: c.account}}, Provider: System, PaymentReference: reference, OrderNumber: p.OrderNumber}
				wraw, err := json.Marshal(wr)
				if err != nil {
					return commerce.Payment{}, err
				}
				if err := fillRefund(&rr, wr, wraw); err != nil {
					return commerce.Payment{}, err
				}
				p.Refunds = append(p.Refunds, rr)
				if wr.Status == RefundCompleted || wr.Status == RefundPending {
					if p.Refunded, err = p.Refunded.Add(rr.Amount); err != nil {
						return commerce.Payment{}, err
					}
				}
			}
		}
	}
	// The open authorization, if any, gives the expiry.
	open := false
	for _, wa := range auths {
		if wa.Status == AuthCreated || wa.Status == AuthPartiallyCaptured || wa.Status == AuthPending {
			open = true
			if wa.ExpirationTime != "" {
				t, err := ParseTime(wa.ExpirationTime)
				if err != nil {
					return commerce.Payment{}, err
				}
				p.ExpiresAt = &t
			}
		}
	}
	if unit == nil {
		// Without the order, the authorization's own status is all there is.
		switch a.Status {
		case AuthCaptured:
			p.Captured = authorized
		}
	}
	switch {
	case p.Refunded.IsPositive() && p.Refunded.Amount.GreaterThanOrEqual(p.Captured.Amount):
		p.Status = commerce.PaymentRefunded
	case p.Refunded.IsPositive():
		p.Status = commerce.PaymentPartiallyRefunded
	case p.Captured.IsPositive() && (p.Captured.Amount.GreaterThanOrEqual(authorized.Amount) || !open):
		p.Status = commerce.PaymentCaptured
	case p.Captured.IsPositive():
		p.Status = commerce.PaymentPartiallyCaptured
	case open && p.ExpiresAt != nil && !c.now().Before(*p.ExpiresAt):
		p.Status = commerce.PaymentExpired
	case open:
		p.Status = commerce.PaymentAuthorized
	default:
		p.Status = commerce.PaymentCancelled
	}
	return p, nil
}

// truncateRunes cuts s to at most n characters without splitting one.
func truncateRunes(s string, n int) string {
	i := 0
	for pos := range s {
		if i == n {
			return s[:pos]
		}
		i++
	}
	return s
}
