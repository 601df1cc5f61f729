package shopify

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/connector"
)

// orderHead is what the status writers need of an order.
type orderHead struct {
	ID                      string            `json:"id"`
	Name                    string            `json:"name"`
	CancelledAt             *time.Time        `json:"cancelledAt"`
	Closed                  bool              `json:"closed"`
	DisplayFinancialStatus  *string           `json:"displayFinancialStatus"`
	CurrencyCode            string            `json:"currencyCode"`
	PresentmentCurrencyCode string            `json:"presentmentCurrencyCode"`
	TotalCapturableSet      moneyBag          `json:"totalCapturableSet"`
	Transactions            []wireTransaction `json:"transactions"`
}

const headTransactions = 50

// findOrder finds an order by its name ("#1001" or "1001") or its GID.
func (c *Client) findOrder(ctx context.Context, op, number string) (orderHead, error) {
	if number == "" {
		return orderHead{}, &connector.Error{System: systemName, Op: op, Kind: connector.KindValidation, Field: "order_number", Message: "missing"}
	}
	if isGIDOf(number, "Order") {
		var out struct {
			Order *orderHead `json:"order"`
		}
		if _, err := c.Execute(ctx, docOrderTransactions, map[string]any{"id": number, "transactions": headTransactions}, &out); err != nil {
			return orderHead{}, err
		}
		if out.Order == nil {
			return orderHead{}, &connector.Error{System: systemName, Op: op, Kind: connector.KindNotFound, Message: "no order " + number}
		}
		return *out.Order, nil
	}
	names := []string{number}
	if !strings.HasPrefix(number, "#") {
		names = append(names, "#"+number)
	}
	terms := make([]string, len(names))
	for i, n := range names {
		terms[i] = "name:" + searchValue(n)
	}
	var out struct {
		Orders struct {
			Nodes []orderHead `json:"nodes"`
		} `json:"orders"`
	}
	if _, err := c.Execute(ctx, docOrderByName, map[string]any{"query": strings.Join(terms, " OR "), "transactions": headTransactions}, &out); err != nil {
		return orderHead{}, err
	}
	var found []orderHead
	for _, o := range out.Orders.Nodes {
		if slices.Contains(names, o.Name) {
			found = append(found, o)
		}
	}
	switch len(found) {
	case 0:
		return orderHead{}, &connector.Error{System: systemName, Op: op, Kind: connector.KindNotFound, Field: "order_number", Message: fmt.Sprintf("no order %q", number)}
	case 1:
		return found[0], nil
	}
	return orderHead{}, &connector.Error{System: systemName, Op: op, Kind: connector.KindConflict, Field: "order_number", Message: fmt.Sprintf("several orders named %q", number)}
}

// keyMemory is a bounded map from idempotency keys to what the client
// remembers of the call made with each (fulfilAttempt, refundAttempt); the
// oldest keys are forgotten first.
type keyMemory[V any] struct {
	mu    sync.Mutex
	byKey map[string]V
	order []string
}

const keyMemorySize = 4096

func (m *keyMemory[V]) load(key string) (V, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	a, ok := m.byKey[key]
	return a, ok
}

// anyOther reports whether some key other than key holds a value for
// which match is true.
func (m *keyMemory[V]) anyOther(key string, match func(V) bool) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k, v := range m.byKey {
		if k != key && match(v) {
			return true
		}
	}
	return false
}

func (m *keyMemory[V]) store(key string, a V) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.byKey == nil {
		m.byKey = map[string]V{}
	}
	if _, ok := m.byKey[key]; !ok {
		if len(m.order) == keyMemorySize {
			delete(m.byKey, m.order[0])
			m.order = m.order[1:]
		}
		m.order = append(m.order, key)
	}
	m.byKey[key] = a
}

var cancelReasons = []string{"CUSTOMER", "DECLINED", "FRAUD", "INVENTORY", "STAFF", "OTHER"}

// CancelOrder cancels an order with orderCancel, as the CancelPolicy says
// (restock, refund, notify). reason may be one of Shopify's reasons
// (customer, declined, fraud, inventory, staff, other); any other text is
// kept as the staff note with the policy's reason. Cancelling a cancelled
// order does nothing. Shopify finishes the cancellation asynchronously.
func (c *Client) CancelOrder(ctx context.Context, orderNumber, reason string, opts ...connector.CallOption) error {
	const op = "CancelOrder"
	co := connector.ApplyCallOptions(opts)
	head, err := c.findOrder(ctx, op, orderNumber)
	if err != nil {
		return err
	}
	if head.CancelledAt != nil {
		return nil
	}
	code := strings.ToUpper(strings.TrimSpace(reason))
	vars := map[string]any{
		"orderId":        head.ID,
		"restock":        c.cfg.cancel.Restock,
		"refund":         c.cfg.cancel.Refund,
		"notifyCustomer": c.cfg.cancel.NotifyCustomer,
	}
	if slices.Contains(cancelReasons, code) {
		vars["reason"] = code
	} else {
		vars["reason"] = c.cfg.cancel.Reason
		if !slices.Contains(cancelReasons, c.cfg.cancel.Reason) {
			vars["reason"] = "OTHER"
		}
		if reason != "" {
			vars["staffNote"] = reason
		}
	}
	if co.DryRun {
		return nil
	}
	var out struct {
		OrderCancel struct {
			UserErrors []userError `json:"orderCancelUserErrors"`
		} `json:"orderCancel"`
	}
	if _, err := c.Execute(ctx, docOrderCancel, vars, &out); err != nil {
		var ce *connector.Error
		if errors.As(err, &ce) && ce.MaybeApplied {
			if again, rerr := c.findOrder(ctx, op, head.ID); rerr == nil && again.CancelledAt != nil {
				return nil
			}
		}
		return err
	}
	return c.userErrorsErr("OrderCancel", out.OrderCancel.UserErrors)
}

// MarkPaid marks an order with a pending or manual payment as paid with
// orderMarkAsPaid. An order already paid is left as it is.
func (c *Client) MarkPaid(ctx context.Context, orderNumber string, opts ...connector.CallOption) error {
	const op = "MarkPaid"
	co := connector.ApplyCallOptions(opts)
	head, err := c.findOrder(ctx, op, orderNumber)
	if err != nil {
		return err
	}
	if head.DisplayFinancialStatus != nil && *head.DisplayFinancialStatus == "PAID" {
		return nil
	}
	if co.DryRun {
		return nil
	}
	var out struct {
		OrderMarkAsPaid struct {
			UserErrors []userError `json:"userErrors"`
		} `json:"orderMarkAsPaid"`
	}
	if _, err := c.Execute(ctx, docOrderMarkAsPaid, map[string]any{"input": map[string]any{"id": head.ID}}, &out); err != nil {
		var ce *connector.Error
		if errors.As(err, &ce) && ce.MaybeApplied {
			if again, rerr := c.findOrder(ctx, op, head.ID); rerr == nil && again.DisplayFinancialStatus != nil && *again.DisplayFinancialStatus == "PAID" {
				return nil
			}
		}
		return err
	}
	return c.userErrorsErr("OrderMarkAsPaid", out.OrderMarkAsPaid.UserErrors)
}

// Capture captures an authorization with orderCapture, for gateways that
// Shopify captures itself (Shopify Payments and others whose authorization
// is manuallyCapturable); others fail with KindUnsupported. The order is
// req.OrderNumber (a name or an Order GID); req.PaymentReference selects
// the authorization (an OrderTransaction GID or the gateway's
// authorization code) and may be empty when the order has one.
//
// Amounts are in the presentment currency, named in the request when it
// differs from the shop's (multi-currency); an amount in the shop's
// currency on such an order is refused. Final marks the last capture of a
// multi-capturable authorization.
//
// orderCapture takes no idempotency key, so with WithIdempotencyKey the
// connector looks before it writes. The client remembers which capture
// each key produced and returns it for a repeated key. A key it has not
// seen (after a restart) is decided by req.CapturedBefore when the caller
// gives it (the sync engine does): the authorization's captures sum to it,
// and the capture is made; or to it plus this amount, and the newest
// capture of this amount is returned; anything else is a KindConflict.
// Without it, a successful capture of the same amount on the same
// authorization that no other key produced is returned without capturing
// again — so a second partial capture of an amount equal to an earlier one
// is taken for a repeat. After an ambiguous
// failure the order is read again and a capture of the amount that was
// not there before is returned as the result.
func (c *Client) Capture(ctx context.Context, req connector.CaptureRequest, opts ...connector.CallOption) (commerce.Capture, error) {
	const op = "Capture"
	co := connector.ApplyCallOptions(opts)
	if err := req.Amount.Validate(); err != nil || !req.Amount.IsPositive() || !req.Amount.IsExact() {
		return commerce.Capture{}, &connector.Error{System: systemName, Op: op, Kind: connector.KindValidation, Field: "amount", Message: "must be a positive amount exact in its currency", Err: err}
	}
	head, err := c.findOrder(ctx, op, req.OrderNumber)
	if err != nil {
		return commerce.Capture{}, err
	}
	auth, err := pickAuthorization(head, req.PaymentReference)
	if err != nil {
		return commerce.Capture{}, err
	}
	pres := head.PresentmentCurrencyCode
	if req.Amount.Currency.Code() != pres {
		return commerce.Capture{}, &connector.Error{System: systemName, Op: op, Kind: connector.KindValidation, Field: "amount",
			Message: fmt.Sprintf("in %s, but the order is captured in its presentment currency %s", req.Amount.Currency.Code(), pres)}
	}
	captured := capturesOf(head, auth.ID)
	if co.IdempotencyKey != "" {
		if prev, ok := c.captureKeys.Load(co.IdempotencyKey); ok {
			for _, t := range captured {
				if t.ID == prev.(string) {
					return c.captureResult(head, auth, t, req, co.IdempotencyKey)
				}
			}
		}
		t, made, err := c.earlierCapture(captured, req)
		if err != nil {
			return commerce.Capture{}, err
		}
		if made {
			c.captureKeys.Store(co.IdempotencyKey, t.ID)
			return c.captureResult(head, auth, t, req, co.IdempotencyKey)
		}
	}
	if !auth.ManuallyCapturable {
		return commerce.Capture{}, &connector.Error{System: systemName, Op: op, Kind: connector.KindUnsupported,
			Message: fmt.Sprintf("the authorization by gateway %q cannot be captured through Shopify (capture it at the provider)", auth.Gateway)}
	}
	input := map[string]any{"id": head.ID, "parentTransactionId": auth.ID, "amount": req.Amount.Amount.StringFixed(req.Amount.Currency.Digits())}
	if pres != head.CurrencyCode {
		input["currency"] = pres
	}
	if auth.MultiCapturable {
		input["finalCapture"] = req.Final
	}
	if co.DryRun {
		return commerce.Capture{PaymentReference: auth.ID, OrderNumber: head.Name, Amount: req.Amount, Reference: req.Reference, IdempotencyKey: co.IdempotencyKey}, nil
	}
	var out struct {
		OrderCapture struct {
			Transaction *wireTransaction `json:"transaction"`
			UserErrors  []userError      `json:"userErrors"`
		} `json:"orderCapture"`
	}
	if _, err := c.Execute(ctx, docOrderCapture, map[string]any{"input": input}, &out); err != nil {
		var ce *connector.Error
		if errors.As(err, &ce) && ce.MaybeApplied {
			if t, ok := c.newCapture(ctx, head, auth.ID, captured, req.Amount); ok {
				if co.IdempotencyKey != "" {
					c.captureKeys.Store(co.IdempotencyKey, t.ID)
				}
				return c.captureResult(head, auth, t, req, co.IdempotencyKey)
			}
		}
		return commerce.Capture{}, err
	}
	if err := c.userErrorsErr("OrderCapture", out.OrderCapture.UserErrors); err != nil {
		return commerce.Capture{}, err
	}
	t := out.OrderCapture.Transaction
	if t == nil {
		return commerce.Capture{}, &connector.Error{System: systemName, Op: op, Kind: connector.KindPermanent, Message: "no transaction in the answer"}
	}
	if t.Status == "FAILURE" || t.Status == "ERROR" {
		return commerce.Capture{}, &connector.Error{System: systemName, Op: op, Kind: connector.KindPermanent, Code: t.Status, Message: "the gateway refused the capture"}
	}
	if co.IdempotencyKey != "" {
		c.captureKeys.Store(co.IdempotencyKey, t.ID)
	}
	return c.captureResult(head, auth, *t, req, co.IdempotencyKey)
}

// earlierCapture finds the capture a call with an idempotency key this
// client has not seen made before (a restart after a lost answer). With
// req.CapturedBefore it is exact: the authorization's captures sum to it
// (nothing made yet), or to it plus req.Amount (made: the newest capture of
// that amount), or the request is a KindConflict. Without it, a capture of
// the same amount that no other key produced is taken for the one.
func (c *Client) earlierCapture(captured []wireTransaction, req connector.CaptureRequest) (wireTransaction, bool, error) {
	if req.CapturedBefore == nil {
		for _, t := range captured {
			if c.claimed(t.ID) {
				continue // produced under another key
			}
			if amt, err := t.AmountSet.PresentmentMoney.money(); err == nil && amt.Equal(req.Amount) {
				return t, true, nil
			}
		}
		return wireTransaction{}, false, nil
	}
	sum := commerce.Zero(req.Amount.Currency)
	var newest *wireTransaction
	for i, t := range captured {
		amt, err := t.AmountSet.PresentmentMoney.money()
		if err != nil {
			return wireTransaction{}, false, invalid("Capture", "amountSet", err)
		}
		if sum, err = sum.Add(amt); err != nil {
			return wireTransaction{}, false, invalid("Capture", "amountSet", err)
		}
		if amt.Equal(req.Amount) && (newest == nil || !t.CreatedAt.Before(newest.CreatedAt)) {
			newest = &captured[i]
		}
	}
	after, err := req.CapturedBefore.Add(req.Amount)
	if err != nil {
		return wireTransaction{}, false, &connector.Error{System: systemName, Op: "Capture", Kind: connector.KindValidation, Field: "captured_before", Err: err}
	}
	switch {
	case sum.Equal(*req.CapturedBefore):
		return wireTransaction{}, false, nil
	case sum.Equal(after) && newest != nil:
		return *newest, true, nil
	}
	return wireTransaction{}, false, &connector.Error{System: systemName, Op: "Capture", Kind: connector.KindConflict,
		Message: fmt.Sprintf("the authorization has %s captured; the caller counts %s before this capture of %s (captured outside this client?); nothing captured", sum, req.CapturedBefore, req.Amount)}
}

// claimed reports whether a capture is known to belong to some key.
func (c *Client) claimed(id string) bool {
	found := false
	c.captureKeys.Range(func(_, v any) bool {
		found = v.(string) == id
		return !found
	})
	return found
}

// pickAuthorization finds the successful authorization to capture.
func pickAuthorization(head orderHead, ref string) (wireTransaction, error) {
	var auths []wireTransaction
	for _, t := range head.Transactions {
		if (t.Kind == "AUTHORIZATION" || t.Kind == "EMV_AUTHORIZATION") && t.Status == "SUCCESS" {
			if ref == "" || t.ID == ref || t.AuthorizationCode == ref || t.PaymentID == ref {
				auths = append(auths, t)
			}
		}
	}
	switch len(auths) {
	case 1:
		return auths[0], nil
	case 0:
		return wireTransaction{}, &connector.Error{System: systemName, Op: "Capture", Kind: connector.KindNotFound, Field: "payment_reference",
			Message: fmt.Sprintf("order %s has no successful authorization %q", head.Name, ref)}
	}
	return wireTransaction{}, &connector.Error{System: systemName, Op: "Capture", Kind: connector.KindConflict, Field: "payment_reference",
		Message: fmt.Sprintf("order %s has %d authorizations; name one", head.Name, len(auths))}
}

func capturesOf(head orderHead, authID string) []wireTransaction {
	var out []wireTransaction
	for _, t := range head.Transactions {
		if t.Kind == "CAPTURE" && (t.Status == "SUCCESS" || t.Status == "PENDING") && t.ParentTransaction != nil && t.ParentTransaction.ID == authID {
			out = append(out, t)
		}
	}
	return out
}

// newCapture re-reads the order after an ambiguous failure and returns a
// capture of amount that was not there before.
func (c *Client) newCapture(ctx context.Context, head orderHead, authID string, before []wireTransaction, amount commerce.Money) (wireTransaction, bool) {
	again, err := c.findOrder(ctx, "Capture", head.ID)
	if err != nil {
		return wireTransaction{}, false
	}
	for _, t := range capturesOf(again, authID) {
		if slices.ContainsFunc(before, func(b wireTransaction) bool { return b.ID == t.ID }) {
			continue
		}
		if amt, err := t.AmountSet.PresentmentMoney.money(); err == nil && amt.Equal(amount) {
			return t, true
		}
	}
	return wireTransaction{}, false
}

func (c *Client) captureResult(head orderHead, auth, t wireTransaction, req connector.CaptureRequest, key string) (commerce.Capture, error) {
	amt, err := t.AmountSet.PresentmentMoney.money()
	if err != nil {
		return commerce.Capture{}, invalid("Capture", "amountSet", err)
	}
	return commerce.Capture{
		Origin:           commerce.Origin{Source: c.ref(t.ID)},
		ID:               t.ID,
		Provider:         provider(auth.Gateway),
		PaymentReference: auth.ID,
		OrderNumber:      head.Name,
		Amount:           amt,
		Lines:            req.Lines,
		Reference:        req.Reference,
		IdempotencyKey:   key,
		CreatedAt:        t.CreatedAt,
	}, nil
}
