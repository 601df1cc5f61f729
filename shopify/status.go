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

type wireFulfillmentOrders struct {
	Order *struct {
		ID           string `json:"id"`
		Name         string `json:"name"`
		Fulfillments []struct {
			ID string `json:"id"`
		} `json:"fulfillments"`
		FulfillmentOrders struct {
			Nodes []struct {
				ID               string `json:"id"`
				Status           string `json:"status"`
				SupportedActions []struct {
					Action string `json:"action"`
				} `json:"supportedActions"`
				LineItems struct {
					Nodes []struct {
						ID                string `json:"id"`
						RemainingQuantity int    `json:"remainingQuantity"`
						SKU               string `json:"sku"`
						LineItem          struct {
							ID  string `json:"id"`
							SKU string `json:"sku"`
						} `json:"lineItem"`
					} `json:"nodes"`
				} `json:"lineItems"`
			} `json:"nodes"`
		} `json:"fulfillmentOrders"`
	} `json:"order"`
}

func (c *Client) fulfillmentOrders(ctx context.Context, orderID string) (wireFulfillmentOrders, error) {
	vars := map[string]any{"id": orderID, "lines": 50}
	c.pageSize(docFulfillmentOrders, vars, "first", 25)
	var out wireFulfillmentOrders
	if _, err := c.Execute(ctx, docFulfillmentOrders, vars, &out); err != nil {
		return out, err
	}
	if out.Order == nil {
		return out, &connector.Error{System: systemName, Op: "FulfillmentOrders", Kind: connector.KindNotFound, Message: "no order " + orderID}
	}
	return out, nil
}

// wireFulfillment is a fulfillment as OrderFulfillments reads it.
type wireFulfillment struct {
	ID           string `json:"id"`
	Status       string `json:"status"`
	TrackingInfo []struct {
		Number string `json:"number"`
	} `json:"trackingInfo"`
	FulfillmentLineItems struct {
		PageInfo pageInfo `json:"pageInfo"`
		Nodes    []struct {
			Quantity int `json:"quantity"`
			LineItem struct {
				ID  string `json:"id"`
				SKU string `json:"sku"`
			} `json:"lineItem"`
		} `json:"nodes"`
	} `json:"fulfillmentLineItems"`
}

// Sizes of OrderFulfillments: the fulfillments of one order (as many as
// the cost limit allows, at most maxFulfillments) and the lines of each.
// An order with more fulfillments than one read holds may hide the one
// looked for; a fulfillment with more lines than fulfillmentLines is never
// taken for a repeat.
const (
	maxFulfillments  = 20
	fulfillmentLines = 25
)

func (c *Client) orderFulfillments(ctx context.Context, orderID string) ([]wireFulfillment, error) {
	vars := map[string]any{"id": orderID, "lines": fulfillmentLines}
	c.pageSize(docOrderFulfillments, vars, "first", maxFulfillments)
	var out struct {
		Order *struct {
			Fulfillments []wireFulfillment `json:"fulfillments"`
		} `json:"order"`
	}
	if _, err := c.Execute(ctx, docOrderFulfillments, vars, &out); err != nil {
		return nil, err
	}
	if out.Order == nil {
		return nil, &connector.Error{System: systemName, Op: "OrderFulfillments", Kind: connector.KindNotFound, Message: "no order " + orderID}
	}
	return out.Order.Fulfillments, nil
}

// sameShipment finds a fulfillment that is the shipment f describes: not
// cancelled or failed, not one of those in skip, with exactly f's lines
// and quantities (a line by LineID or, without one, by SKU) and, when f
// has tracking numbers, all of them.
func sameShipment(fs []wireFulfillment, f commerce.Fulfillment, skip map[string]bool) (string, bool) {
	for _, x := range fs {
		if skip[x.ID] || x.Status == "CANCELLED" || x.Status == "ERROR" || x.Status == "FAILURE" {
			continue
		}
		if x.FulfillmentLineItems.PageInfo.HasNextPage || !hasTracking(x, f.Tracking) || !sameLines(x, f.Lines) {
			continue
		}
		return x.ID, true
	}
	return "", false
}

func hasTracking(x wireFulfillment, ts []commerce.Tracking) bool {
	for _, t := range ts {
		if t.Number == "" {
			continue
		}
		if !slices.ContainsFunc(x.TrackingInfo, func(ti struct {
			Number string `json:"number"`
		}) bool {
			return ti.Number == t.Number
		}) {
			return false
		}
	}
	return true
}

// sameLines reports whether the fulfillment holds exactly the lines: each
// line by LineID takes its quantity from that line item, each line by SKU
// from the line items with the SKU, and nothing may be left over.
func sameLines(x wireFulfillment, lines []commerce.FulfillmentLine) bool {
	have := map[string]int{}
	var ids []string
	sku := map[string]string{}
	for _, n := range x.FulfillmentLineItems.Nodes {
		if _, ok := have[n.LineItem.ID]; !ok {
			ids = append(ids, n.LineItem.ID)
		}
		have[n.LineItem.ID] += n.Quantity
		sku[n.LineItem.ID] = n.LineItem.SKU
	}
	for _, l := range lines {
		if l.LineID != "" {
			if have[l.LineID] < l.Quantity {
				return false
			}
			have[l.LineID] -= l.Quantity
		}
	}
	for _, l := range lines {
		if l.LineID != "" {
			continue
		}
		need := l.Quantity
		for _, id := range ids {
			if sku[id] == l.SKU {
				q := min(have[id], need)
				have[id] -= q
				need -= q
			}
		}
		if need > 0 {
			return false
		}
	}
	for _, q := range have {
		if q != 0 {
			return false
		}
	}
	return true
}

// fulfilAttempt is what the client remembers of a Fulfill made with an
// idempotency key: the fulfillments the order had before it sent
// fulfillmentCreate, so that a repeat with the key can tell the
// fulfillment that call made (and perhaps never heard of) from older ones.
type fulfilAttempt struct {
	before map[string]bool
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

// Fulfill records a shipment through the order's fulfillment orders: each
// line (by LineID — a LineItem GID — or SKU) takes its quantity from the
// open fulfillment order lines that still have it, and one fulfillmentCreate
// sends them with the tracking (number, URL, company; several parcels as
// numbers and URLs) and notifyCustomer.
//
// fulfillmentCreate takes no idempotency key (its 2026-10 description
// documents none, and @idempotent is refused on mutations that do not), so
// Fulfill is made idempotent by recognising the fulfillment a previous
// call made: one with exactly the same lines and quantities and, when
// tracking is given, the same tracking numbers. Such a fulfillment's ref is
// returned and nothing is written
//   - when tracking is given (a tracking number identifies the shipment);
//   - when the lines are no longer open for fulfillment (a repeat after
//     the first call's answer was lost), instead of a KindConflict error;
//   - after an ambiguous failure or a user error of fulfillmentCreate,
//     when a fulfillment made since the call began matches;
//   - on a repeat with the same idempotency key (connector.WithIdempotencyKey)
//     in the same process, when a fulfillment made since the first call
//     began matches — this also covers a partial shipment without tracking
//     whose lines are still partly open.
//
// Not covered: a repeat without tracking, after a restart, of a partial
// shipment whose lines are still partly open looks like a new shipment and
// is fulfilled again. Lines that cannot be fulfilled and match no earlier
// fulfillment fail with KindConflict.
func (c *Client) Fulfill(ctx context.Context, f commerce.Fulfillment, opts ...connector.CallOption) (commerce.Ref, error) {
	const op = "Fulfill"
	co := connector.ApplyCallOptions(opts)
	if err := f.Validate(); err != nil {
		return commerce.Ref{}, &connector.Error{System: systemName, Op: op, Kind: connector.KindValidation, Message: "invalid fulfillment; nothing written", Err: err}
	}
	orderID := ""
	if f.OrderRef.System == systemName && isGIDOf(f.OrderRef.ID, "Order") {
		orderID = f.OrderRef.ID
	} else {
		head, err := c.findOrder(ctx, op, f.OrderNumber)
		if err != nil {
			return commerce.Ref{}, err
		}
		orderID = head.ID
	}
	fo, err := c.fulfillmentOrders(ctx, orderID)
	if err != nil {
		return commerce.Ref{}, err
	}
	// made finds a fulfillment for f among the order's current ones, not
	// counting those in skip; it reads them at most once.
	var current []wireFulfillment
	made := func(skip map[string]bool) (string, bool, error) {
		if current == nil {
			fs, err := c.orderFulfillments(ctx, orderID)
			if err != nil {
				return "", false, err
			}
			current = fs
		}
		id, ok := sameShipment(current, f, skip)
		return id, ok, nil
	}
	prior, repeat := c.fulfilKeys.load(co.IdempotencyKey)
	if repeat {
		if id, ok, err := made(prior.before); err != nil {
			return commerce.Ref{}, err
		} else if ok {
			return c.ref(id), nil
		}
	}
	if len(f.Tracking) > 0 {
		if id, ok, err := made(nil); err != nil {
			return commerce.Ref{}, err
		} else if ok {
			return c.ref(id), nil
		}
	}
	groups, err := fulfillmentGroups(fo, f)
	if err != nil {
		// The lines are not open (any more): an earlier call may have
		// fulfilled them and never heard back.
		if id, ok, rerr := made(nil); rerr != nil {
			return commerce.Ref{}, rerr // not known yet whether it is a repeat
		} else if ok {
			return c.ref(id), nil
		}
		return commerce.Ref{}, err
	}
	input := map[string]any{"lineItemsByFulfillmentOrder": groups, "notifyCustomer": f.NotifyCustomer}
	if len(f.Tracking) > 0 {
		input["trackingInfo"] = trackingInput(f.Tracking)
	}
	if co.DryRun {
		return commerce.Ref{}, nil
	}
	before := map[string]bool{}
	for _, x := range fo.Order.Fulfillments {
		before[x.ID] = true
	}
	if co.IdempotencyKey != "" && !repeat {
		c.fulfilKeys.store(co.IdempotencyKey, fulfilAttempt{before: before})
	}
	// afterFailure looks for the fulfillment this call may have made.
	afterFailure := func(failure error) (commerce.Ref, error) {
		current = nil
		if id, ok, err := made(before); err == nil && ok {
			return c.ref(id), nil
		}
		return commerce.Ref{}, failure
	}
	var out struct {
		FulfillmentCreate struct {
			Fulfillment *struct {
				ID string `json:"id"`
			} `json:"fulfillment"`
			UserErrors []userError `json:"userErrors"`
		} `json:"fulfillmentCreate"`
	}
	if _, err := c.Execute(ctx, docFulfillmentCreate, map[string]any{"fulfillment": input}, &out); err != nil {
		var ce *connector.Error
		if errors.As(err, &ce) && ce.MaybeApplied {
			return afterFailure(err)
		}
		return commerce.Ref{}, err
	}
	if err := c.userErrorsErr("FulfillmentCreate", out.FulfillmentCreate.UserErrors); err != nil {
		// Refused, typically because the lines were fulfilled meanwhile:
		// by a concurrent repeat of this call, the result is the same.
		return afterFailure(err)
	}
	if out.FulfillmentCreate.Fulfillment == nil {
		return commerce.Ref{}, &connector.Error{System: systemName, Op: op, Kind: connector.KindPermanent, Message: "no fulfillment in the answer"}
	}
	return c.ref(out.FulfillmentCreate.Fulfillment.ID), nil
}

// fulfillmentGroups takes each line's quantity from the open fulfillment
// order lines that still have it, grouped by fulfillment order as
// fulfillmentCreate wants them. A line that cannot be fully taken is a
// KindConflict error.
func fulfillmentGroups(fo wireFulfillmentOrders, f commerce.Fulfillment) ([]map[string]any, error) {
	type take struct {
		fo, item string
		qty      int
	}
	var takes []take
	used := map[string]int{}
	for i, l := range f.Lines {
		need := l.Quantity
		for _, o := range fo.Order.FulfillmentOrders.Nodes {
			if need == 0 {
				break
			}
			if o.Status != "OPEN" && o.Status != "IN_PROGRESS" {
				continue
			}
			if !slices.ContainsFunc(o.SupportedActions, func(a struct {
				Action string `json:"action"`
			}) bool {
				return a.Action == "CREATE_FULFILLMENT"
			}) {
				continue
			}
			for _, li := range o.LineItems.Nodes {
				match := (l.LineID != "" && li.LineItem.ID == l.LineID) || (l.LineID == "" && (li.LineItem.SKU == l.SKU || li.SKU == l.SKU))
				if !match {
					continue
				}
				avail := li.RemainingQuantity - used[li.ID]
				if avail <= 0 {
					continue
				}
				q := min(avail, need)
				takes = append(takes, take{o.ID, li.ID, q})
				used[li.ID] += q
				need -= q
				if need == 0 {
					break
				}
			}
		}
		if need > 0 {
			key := l.SKU
			if l.LineID != "" {
				key = l.LineID
			}
			return nil, &connector.Error{System: systemName, Op: "Fulfill", Kind: connector.KindConflict, Field: fmt.Sprintf("lines[%d]", i),
				Message: fmt.Sprintf("%d of %q cannot be fulfilled: not open for fulfillment (already fulfilled, cancelled or on hold)", need, key)}
		}
	}
	var groups []map[string]any
	index := map[string]int{}
	for _, t := range takes {
		g, ok := index[t.fo]
		if !ok {
			g = len(groups)
			index[t.fo] = g
			groups = append(groups, map[string]any{"fulfillmentOrderId": t.fo, "fulfillmentOrderLineItems": []map[string]any{}})
		}
		groups[g]["fulfillmentOrderLineItems"] = append(groups[g]["fulfillmentOrderLineItems"].([]map[string]any), map[string]any{"id": t.item, "quantity": t.qty})
	}
	return groups, nil
}

func trackingInput(ts []commerce.Tracking) map[string]any {
	in := map[string]any{}
	if ts[0].Company != "" {
		in["company"] = ts[0].Company
	}
	if len(ts) == 1 {
		in["number"] = ts[0].Number
		if ts[0].URL != "" {
			in["url"] = ts[0].URL
		}
		return in
	}
	numbers := make([]string, len(ts))
	var urls []string
	for i, t := range ts {
		numbers[i] = t.Number
		if t.URL != "" {
			urls = append(urls, t.URL)
		}
	}
	in["numbers"] = numbers
	if len(urls) > 0 {
		in["urls"] = urls
	}
	return in
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
// seen (after a restart) is matched to a successful capture of the same
// amount on the same authorization that no other key produced, which is
// returned without capturing again — so after a restart, a second partial
// capture of an amount equal to an earlier one is taken for a repeat;
// capture the sum instead, or use distinct amounts. After an ambiguous
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
		for _, t := range captured {
			if c.claimed(t.ID) {
				continue // produced under another key
			}
			if amt, err := t.AmountSet.PresentmentMoney.money(); err == nil && amt.Equal(req.Amount) {
				c.captureKeys.Store(co.IdempotencyKey, t.ID)
				return c.captureResult(head, auth, t, req, co.IdempotencyKey)
			}
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
