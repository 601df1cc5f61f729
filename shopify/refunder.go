package shopify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/connector"
)

// refundPart is the share of a refund drawn on one capture or sale.
type refundPart struct {
	parent wireTransaction
	amount commerce.Money
}

// refundLineItem is one entry of RefundInput.refundLineItems.
type refundLineItem struct {
	id       string // LineItem GID
	quantity int
}

// refundAttempt is what the client remembers of a Refund made with an
// idempotency key: the request, the variables sent for it, what the refund
// it made looks like, and its id once an answer named it.
type refundAttempt struct {
	order   string // the order's GID
	request string // refundFingerprint of the request
	vars    map[string]any
	note    string
	amount  commerce.Money // presentment currency
	lines   []refundLineItem
	parents []string // the transactions drawn on, in the order sent
	gateway string   // the first one's gateway
	refund  string   // the Refund GID
}

// refundCreateShippingLines sizes the shipping lines of the refund in
// RefundCreate's answer: the request refunds no shipping.
const refundCreateShippingLines = 1

// Refund refunds money captured on a Shopify order with refundCreate: for
// orders whose payment Shopify took itself (Shopify Payments, or another
// gateway Shopify refunds through). The order is req.OrderNumber (a name
// or an Order GID); req.PaymentReference, when given, limits the refund to
// that payment's captures and sales (it may name the authorization or the
// sale by transaction GID, payment id or authorization code).
//
// The money, req.Amount in the order's presentment currency (named in the
// request when it differs from the shop currency), goes out as REFUND
// transactions on the order's successful captures and sales: the one
// req.CaptureID names first, then the others oldest first, each up to what
// earlier refunds on it left — one refundCreate with one transaction per
// capture drawn on. More than the captures hold is refused with
// KindValidation and nothing is sent.
//
// Each req.Lines entry with a LineID (a LineItem GID) is recorded as a
// refunded line item of its quantity; an entry without is matched by SKU to
// the order's only line item with that SKU and left out when none or
// several have it (its money is refunded all the same). Line items go with
// restockType NO_RESTOCK: restocking belongs to the return's processing.
// More than 50 line items in one refund (what the Refunds feed reads of a
// refund) are refused with KindUnsupported.
// In the 2026-10 schema a refund's money is the sum of its transactions
// (Refund.totalRefundedSet); refundLineItems only record what is refunded,
// a difference to Shopify's suggested amount being kept as a refund
// discrepancy. The request carries no shipping and no refundMethods, so
// nothing is refunded beyond the transactions. The refund's note is
// req.Reason followed by req.Reference in brackets (refundCreate has no
// field for a merchant reference; the note keeps it, and makes the refund
// of each return recognisable after a restart, see below); Shopify
// documents no length limit. The customer is not notified (notify false).
//
// refundCreate requires @idempotent since 2026-04, so Refund refuses to
// run without connector.WithIdempotencyKey (KindValidation); the key sent
// to Shopify is derived from it, the shop and the mutation. The client
// remembers what it sent per key: a repeat in the same process sends the
// same variables again, which Shopify answers with the first result, or,
// once the first answer arrived, reads that refund. After a restart the
// request is built again from the order; when the refund already made
// changes it (the capture it drew on is used up), Shopify answers
// IDEMPOTENCY_KEY_PARAMETER_MISMATCH or the amount no longer fits, and the
// order's newest refund with the same note, amount and line items that no
// other key of this client made is returned as the one the key made.
// Shopify forgets keys after a retention window the reference does not
// give (unverified): a repeat later than that is a new refund.
//
// Shopify's idempotency errors are IDEMPOTENCY_CONCURRENT_REQUEST
// (KindTemporary: the same call later gets the result),
// IDEMPOTENCY_KEY_PARAMETER_MISMATCH (KindConflict) and
// IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED (KindPermanent). A refund transaction
// the gateway failed is KindPermanent.
//
// The result is the refund mapped as the Refunds feed maps it (amounts in
// the WithOrderMoney currency), with IdempotencyKey and Reason set; the
// feed delivers it with the same ID. With connector.WithDryRun the request
// is built and checked against the order, nothing is sent, and the result
// has no ID.
func (c *Client) Refund(ctx context.Context, req connector.RefundRequest, opts ...connector.CallOption) (commerce.Refund, error) {
	const op = "Refund"
	co := connector.ApplyCallOptions(opts)
	key := co.IdempotencyKey
	if strings.TrimSpace(key) == "" {
		return commerce.Refund{}, &connector.Error{System: systemName, Op: op, Kind: connector.KindValidation, Field: "idempotency_key",
			Message: "refund refused without an idempotency key: Shopify requires one on refundCreate; derive it from the return (connector.IdempotencyKey) so a retry cannot refund twice"}
	}
	if err := checkRefundRequest(req); err != nil {
		return commerce.Refund{}, err
	}
	head, err := c.findOrder(ctx, op, req.OrderNumber)
	if err != nil {
		return commerce.Refund{}, err
	}
	if cur := req.Amount.Currency.Code(); cur != head.PresentmentCurrencyCode {
		return commerce.Refund{}, &connector.Error{System: systemName, Op: op, Kind: connector.KindValidation, Field: "amount",
			Message: fmt.Sprintf("in %s, but the order is refunded in its presentment currency %s", cur, head.PresentmentCurrencyCode)}
	}
	fp := refundFingerprint(req)
	if prev, ok := c.refundKeys.load(key); ok && !co.DryRun && prev.order == head.ID && prev.request == fp {
		if prev.refund != "" {
			return c.readRefundResult(ctx, prev, req, key)
		}
		return c.createRefund(ctx, prev, req, key)
	}

	lines, included, err := c.refundLines(ctx, head.ID, req.Lines)
	if err != nil {
		return commerce.Refund{}, err
	}
	if len(lines) > refundLines {
		// Neither the answer nor the Refunds feed would hold them all.
		return commerce.Refund{}, &connector.Error{System: systemName, Op: op, Kind: connector.KindUnsupported, Field: "lines",
			Message: fmt.Sprintf("%d line items in one refund; at most %d are supported; nothing sent", len(lines), refundLines)}
	}
	txs, err := c.allTransactions(ctx, head)
	if err != nil {
		return commerce.Refund{}, err
	}
	a := refundAttempt{order: head.ID, request: fp, note: refundNote(req), amount: req.Amount, lines: lines}
	parts, short, err := allocateRefund(head, txs, req)
	if err != nil {
		return commerce.Refund{}, err
	}
	if short.IsPositive() {
		if !co.DryRun {
			// The refund this key made may be what used the captures up.
			if r, found, err := c.earlierRefund(ctx, a, req, key); err != nil || found {
				return r, err
			}
		}
		return commerce.Refund{}, &connector.Error{System: systemName, Op: op, Kind: connector.KindValidation, Field: "amount",
			Message: fmt.Sprintf("refund of %s exceeds what the order's captures hold by %s; nothing sent", req.Amount, short)}
	}
	for _, p := range parts {
		a.parents = append(a.parents, p.parent.ID)
	}
	a.gateway = parts[0].parent.Gateway
	a.vars = c.refundVars(head, parts, lines, a.note, key)
	if co.DryRun {
		first := parts[0].parent
		return commerce.Refund{
			OrderNumber:      head.Name,
			Provider:         provider(first.Gateway),
			PaymentReference: paymentReferenceOf(first),
			CaptureID:        first.ID,
			Amount:           req.Amount,
			Lines:            included,
			Reason:           req.Reason,
			IdempotencyKey:   key,
		}, nil
	}
	return c.createRefund(ctx, a, req, key)
}

// refundNote is the refund's note: the reason, and the merchant's reference
// in brackets.
func refundNote(req connector.RefundRequest) string {
	if req.Reference == "" {
		return req.Reason
	}
	return strings.TrimSpace(req.Reason + " [" + req.Reference + "]")
}

// checkRefundRequest checks what can be checked without the order.
func checkRefundRequest(req connector.RefundRequest) error {
	if err := req.Amount.Validate(); err != nil || !req.Amount.IsPositive() || !req.Amount.IsExact() {
		return &connector.Error{System: systemName, Op: "Refund", Kind: connector.KindValidation, Field: "amount", Message: "must be a positive amount exact in its currency", Err: err}
	}
	for i, l := range req.Lines {
		if l.Quantity <= 0 {
			return &connector.Error{System: systemName, Op: "Refund", Kind: connector.KindValidation, Field: fmt.Sprintf("lines[%d].quantity", i), Message: "must be positive"}
		}
		if l.LineID == "" && l.SKU == "" {
			return &connector.Error{System: systemName, Op: "Refund", Kind: connector.KindValidation, Field: fmt.Sprintf("lines[%d]", i), Message: "needs a line id or a SKU"}
		}
	}
	return nil
}

// refundFingerprint is the part of a request that decides what is sent: a
// repeat with the key is only a repeat if it is the same.
func refundFingerprint(req connector.RefundRequest) string {
	parts := []string{req.OrderNumber, req.PaymentReference, req.CaptureID, req.Amount.String(), req.Reason, req.Reference}
	for _, l := range req.Lines {
		parts = append(parts, l.LineID, l.SKU, strconv.Itoa(l.Quantity))
	}
	for i, p := range parts {
		parts[i] = strconv.Quote(p)
	}
	return strings.Join(parts, ",")
}

// paymentReferenceOf is how the Refunds feed names the payment a refund
// transaction's parent belongs to.
func paymentReferenceOf(parent wireTransaction) string {
	if parent.PaymentID != "" {
		return parent.PaymentID
	}
	return parent.ID
}

// refundLines turns the request's lines into refundLineItems, one per line
// item with the quantities of its entries summed, and returns the lines
// that made it in (with their LineID set). A line item that still has
// unfulfilled units is left out: refunding units of such a line item tells
// Shopify nothing about which units, and it may take them from the open
// ones and cancel their fulfillment, while the refunds the engine makes are
// for returned, fulfilled goods. Its money goes through all the same.
func (c *Client) refundLines(ctx context.Context, orderID string, lines []commerce.RefundLine) ([]refundLineItem, []commerce.RefundLine, error) {
	if len(lines) == 0 {
		return nil, nil, nil
	}
	items, err := c.orderLineItems(ctx, orderID)
	if err != nil {
		return nil, nil, err
	}
	bySKU := map[string][]string{}
	for id, it := range items {
		if it.SKU != "" {
			bySKU[it.SKU] = append(bySKU[it.SKU], id)
		}
	}
	var out []refundLineItem
	var included []commerce.RefundLine
	index := map[string]int{}
	for _, l := range lines {
		id := ""
		if isGIDOf(l.LineID, "LineItem") {
			id = l.LineID
		} else if ids := bySKU[l.SKU]; l.SKU != "" && len(ids) == 1 {
			id = ids[0]
		}
		if it, known := items[id]; !known || it.UnfulfilledQuantity > 0 {
			continue // unknown, ambiguous or partly open: the money goes through without it
		}
		if i, ok := index[id]; ok {
			out[i].quantity += l.Quantity
		} else {
			index[id] = len(out)
			out = append(out, refundLineItem{id: id, quantity: l.Quantity})
		}
		l.LineID = id
		included = append(included, l)
	}
	return out, included, nil
}

// orderLineItem is what refundLines needs of a line item.
type orderLineItem struct {
	SKU                 string `json:"sku"`
	UnfulfilledQuantity int    `json:"unfulfilledQuantity"`
}

// orderLineItems reads an order's line items by id.
func (c *Client) orderLineItems(ctx context.Context, orderID string) (map[string]orderLineItem, error) {
	out := map[string]orderLineItem{}
	vars := map[string]any{"id": orderID}
	for {
		c.pageSize(docOrderLineSKUs, vars, "first", 250)
		var page struct {
			Order *struct {
				LineItems struct {
					PageInfo pageInfo `json:"pageInfo"`
					Nodes    []struct {
						ID string `json:"id"`
						orderLineItem
					} `json:"nodes"`
				} `json:"lineItems"`
			} `json:"order"`
		}
		if _, err := c.Execute(ctx, docOrderLineSKUs, vars, &page); err != nil {
			return nil, err
		}
		if page.Order == nil {
			return nil, &connector.Error{System: systemName, Op: "OrderLineSKUs", Kind: connector.KindNotFound, Message: "no order " + orderID}
		}
		for _, n := range page.Order.LineItems.Nodes {
			out[n.ID] = n.orderLineItem
		}
		pi := page.Order.LineItems.PageInfo
		if !pi.HasNextPage || pi.EndCursor == "" {
			return out, nil
		}
		vars["after"] = pi.EndCursor
	}
}

// allTransactions returns all of the order's transactions: findOrder reads
// the first headTransactions, and a remainder computed from a cut list
// would be wrong.
func (c *Client) allTransactions(ctx context.Context, head orderHead) ([]wireTransaction, error) {
	if len(head.Transactions) < headTransactions {
		return head.Transactions, nil
	}
	var out struct {
		Order *orderHead `json:"order"`
	}
	if _, err := c.Execute(ctx, docOrderTransactions, map[string]any{"id": head.ID, "transactions": maxOrderTransactions}, &out); err != nil {
		return nil, err
	}
	if out.Order == nil {
		return nil, &connector.Error{System: systemName, Op: "OrderTransactions", Kind: connector.KindNotFound, Message: "no order " + head.ID}
	}
	if len(out.Order.Transactions) >= maxOrderTransactions {
		return nil, &connector.Error{System: systemName, Op: "Refund", Kind: connector.KindUnsupported,
			Message: fmt.Sprintf("order %s has %d or more transactions", head.Name, maxOrderTransactions)}
	}
	return out.Order.Transactions, nil
}

// allocateRefund spreads the amount over the payment's successful captures
// and sales: the one req.CaptureID names first, then oldest first, each up
// to what the refunds on it (successful or pending) left. short is what
// does not fit.
func allocateRefund(head orderHead, txs []wireTransaction, req connector.RefundRequest) (parts []refundPart, short commerce.Money, err error) {
	const op = "Refund"
	byID := make(map[string]wireTransaction, len(txs))
	for _, t := range txs {
		byID[t.ID] = t
	}
	ref := req.PaymentReference
	names := func(t wireTransaction) bool {
		return ref == "" || t.ID == ref || t.PaymentID == ref || t.AuthorizationCode == ref
	}
	var caps []wireTransaction
	for _, t := range txs {
		if (t.Kind != "CAPTURE" && t.Kind != "SALE") || t.Status != "SUCCESS" {
			continue
		}
		if !names(t) {
			// A capture belongs to the payment its authorization is.
			if t.ParentTransaction == nil {
				continue
			}
			if auth, ok := byID[t.ParentTransaction.ID]; !ok || !names(auth) {
				continue
			}
		}
		caps = append(caps, t)
	}
	if len(caps) == 0 {
		if ref != "" {
			return nil, short, &connector.Error{System: systemName, Op: op, Kind: connector.KindNotFound, Field: "payment_reference",
				Message: fmt.Sprintf("order %s has no successful capture or sale of payment %q", head.Name, ref)}
		}
		return nil, short, &connector.Error{System: systemName, Op: op, Kind: connector.KindValidation, Field: "amount",
			Message: fmt.Sprintf("order %s has no successful capture or sale to refund", head.Name)}
	}
	slices.SortStableFunc(caps, func(a, b wireTransaction) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return compareIDs(a.ID, b.ID)
	})
	if i := slices.IndexFunc(caps, func(t wireTransaction) bool { return t.ID == req.CaptureID }); i > 0 {
		named := caps[i]
		caps = append([]wireTransaction{named}, slices.Delete(caps, i, i+1)...)
	}
	left := make(map[string]commerce.Money, len(caps))
	for _, t := range caps {
		amt, err := t.AmountSet.PresentmentMoney.money()
		if err != nil {
			return nil, short, invalid(op, "transactions.amountSet", err)
		}
		left[t.ID] = amt
	}
	for _, t := range txs {
		if t.Kind != "REFUND" || (t.Status != "SUCCESS" && t.Status != "PENDING") || t.ParentTransaction == nil {
			continue
		}
		l, ok := left[t.ParentTransaction.ID]
		if !ok {
			continue
		}
		amt, err := t.AmountSet.PresentmentMoney.money()
		if err != nil {
			return nil, short, invalid(op, "transactions.amountSet", err)
		}
		if left[t.ParentTransaction.ID], err = l.Sub(amt); err != nil {
			return nil, short, invalid(op, "transactions.amountSet", err)
		}
	}
	need := req.Amount
	for _, t := range caps {
		if !need.IsPositive() {
			break
		}
		l := left[t.ID]
		if !l.IsPositive() {
			continue
		}
		take := need
		if cmp, err := l.Cmp(need); err != nil {
			return nil, short, invalid(op, "transactions.amountSet", err)
		} else if cmp < 0 {
			take = l
		}
		parts = append(parts, refundPart{parent: t, amount: take})
		if need, err = need.Sub(take); err != nil {
			return nil, short, invalid(op, "transactions.amountSet", err)
		}
	}
	return parts, need, nil
}

// refundVars builds RefundCreate's variables. The selection sizes follow
// from the request alone, never from the cost bucket, so a repeat sends
// exactly the same variables; they are capped as the Refund query's are.
func (c *Client) refundVars(head orderHead, parts []refundPart, lines []refundLineItem, note, key string) map[string]any {
	txs := make([]map[string]any, len(parts))
	for i, p := range parts {
		txs[i] = map[string]any{
			"orderId":  head.ID,
			"parentId": p.parent.ID,
			"amount":   p.amount.Amount.StringFixed(p.amount.Currency.Digits()),
			"gateway":  p.parent.Gateway,
			"kind":     "REFUND",
		}
	}
	input := map[string]any{"orderId": head.ID, "notify": false, "transactions": txs}
	if len(lines) > 0 {
		items := make([]map[string]any, len(lines))
		for i, l := range lines {
			items[i] = map[string]any{"lineItemId": l.id, "quantity": l.quantity, "restockType": "NO_RESTOCK"}
		}
		input["refundLineItems"] = items
	}
	if note != "" {
		input["note"] = note
	}
	if head.PresentmentCurrencyCode != head.CurrencyCode {
		input["currency"] = head.PresentmentCurrencyCode
	}
	return map[string]any{
		"input":          input,
		"idempotencyKey": connector.IdempotencyKey(systemName, c.shop, "refundCreate", key),
		"lines":          max(1, len(lines)),
		"shippingLines":  refundCreateShippingLines,
		"transactions":   min(len(parts), refundTransactions),
	}
}

// createRefund sends the attempt's refundCreate and maps the refund it
// answers with.
func (c *Client) createRefund(ctx context.Context, a refundAttempt, req connector.RefundRequest, key string) (commerce.Refund, error) {
	c.refundKeys.store(key, a)
	var out struct {
		RefundCreate *struct {
			Refund     json.RawMessage `json:"refund"`
			UserErrors []userError     `json:"userErrors"`
		} `json:"refundCreate"`
	}
	if _, err := c.Execute(ctx, docRefundCreate, a.vars, &out); err != nil {
		var ce *connector.Error
		if errors.As(err, &ce) {
			switch ce.Code {
			case "IDEMPOTENCY_KEY_PARAMETER_MISMATCH":
				// Shopify knows the key: a refund made with it is on the
				// order, built from a state the order no longer has.
				if r, found, ferr := c.earlierRefund(ctx, a, req, key); ferr == nil && found {
					return r, nil
				}
			case "IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED":
				ce.Message = "an earlier refundCreate with this idempotency key failed and Shopify will not run it again under the key; " +
					"check the order's refunds and refund with a new key if nothing was refunded: " + ce.Message
			}
		}
		return commerce.Refund{}, err
	}
	if out.RefundCreate == nil {
		return commerce.Refund{}, &connector.Error{System: systemName, Op: "RefundCreate", Kind: connector.KindPermanent, Message: "no refundCreate in the answer"}
	}
	if err := c.userErrorsErr("RefundCreate", out.RefundCreate.UserErrors); err != nil {
		return commerce.Refund{}, err
	}
	raw := out.RefundCreate.Refund
	if len(raw) == 0 || string(raw) == "null" {
		return commerce.Refund{}, &connector.Error{System: systemName, Op: "RefundCreate", Kind: connector.KindPermanent, Message: "no refund in the answer"}
	}
	var w wireRefund
	if err := json.Unmarshal(raw, &w); err != nil {
		return commerce.Refund{}, invalid("MapRefund", "", err)
	}
	a.refund = w.ID
	c.refundKeys.store(key, a)
	for _, t := range w.Transactions.Nodes {
		if t.Kind == "REFUND" && (t.Status == "FAILURE" || t.Status == "ERROR") {
			return commerce.Refund{}, &connector.Error{System: systemName, Op: "Refund", Kind: connector.KindPermanent, Code: t.Status,
				Message: fmt.Sprintf("the gateway did not refund transaction %s of refund %s", t.ID, w.ID)}
		}
	}
	return c.refundResult(ctx, raw, w, a, req, key), nil
}

// readRefundResult reads the refund an earlier call with the key made.
func (c *Client) readRefundResult(ctx context.Context, a refundAttempt, req connector.RefundRequest, key string) (commerce.Refund, error) {
	raw, w, err := c.readRefund(ctx, a.refund)
	if err != nil {
		return commerce.Refund{}, err
	}
	return c.refundResult(ctx, raw, w, a, req, key), nil
}

// refundResult maps a refund Shopify made for the attempt. Shopify made it,
// so a refund the model refuses — line amounts Shopify computed to more
// than the money refunded, or no money yet while its transactions are
// pending — is still returned, without its lines and with the amount sent,
// and the refusal logged.
func (c *Client) refundResult(ctx context.Context, raw json.RawMessage, w wireRefund, a refundAttempt, req connector.RefundRequest, key string) commerce.Refund {
	r, ok, err := c.mapRefund(raw, w)
	if err != nil || !ok {
		c.logger.LogAttrs(ctx, slog.LevelWarn, "shopify refund made, but its lines or amount do not map; returned without them",
			slog.String("refund", w.ID), slog.Any("error", err))
		fb := c.refundHead(raw, w)
		fb.Amount = a.amount
		if r.Amount.IsPositive() && r.Amount.IsExact() {
			fb.Amount = r.Amount
		}
		r = fb
	}
	if r.Provider == "" && a.gateway != "" {
		r.Provider = provider(a.gateway)
	}
	if r.CaptureID == "" && len(a.parents) > 0 {
		r.CaptureID = a.parents[0]
		r.PaymentReference = a.parents[0]
	}
	r.Reason = req.Reason
	r.IdempotencyKey = key
	return r
}

// Size of OrderRefunds: refunds per order it reads (an order rarely has
// more; an earlier refund beyond them is not found).
const orderRefundsMax = 50

// earlierRefund finds the refund an earlier call with the key made: the
// order's newest refund with the attempt's note, amount (presentment) and
// line items that no other key of this client made. With a reference, the
// note holds it and names the refund: the line items are not compared, as
// which ones a request sends depends on what is shipped at the time.
func (c *Client) earlierRefund(ctx context.Context, a refundAttempt, req connector.RefundRequest, key string) (commerce.Refund, bool, error) {
	vars := map[string]any{"id": a.order, "lines": len(a.lines) + 1}
	c.pageSize(docOrderRefunds, vars, "refunds", orderRefundsMax)
	var out struct {
		Order *struct {
			Refunds []struct {
				ID               string     `json:"id"`
				Note             string     `json:"note"`
				CreatedAt        *time.Time `json:"createdAt"`
				TotalRefundedSet moneyBag   `json:"totalRefundedSet"`
				RefundLineItems  struct {
					PageInfo pageInfo `json:"pageInfo"`
					Nodes    []struct {
						Quantity int `json:"quantity"`
						LineItem struct {
							ID string `json:"id"`
						} `json:"lineItem"`
					} `json:"nodes"`
				} `json:"refundLineItems"`
			} `json:"refunds"`
		} `json:"order"`
	}
	if _, err := c.Execute(ctx, docOrderRefunds, vars, &out); err != nil {
		return commerce.Refund{}, false, err
	}
	if out.Order == nil {
		return commerce.Refund{}, false, nil
	}
	want := map[string]int{}
	for _, l := range a.lines {
		want[l.id] += l.quantity
	}
	best, bestAt := "", time.Time{}
	for _, r := range out.Order.Refunds {
		amt, err := r.TotalRefundedSet.PresentmentMoney.money()
		if err != nil || !amt.Equal(a.amount) || r.Note != a.note {
			continue
		}
		if req.Reference == "" {
			have := map[string]int{}
			for _, n := range r.RefundLineItems.Nodes {
				have[n.LineItem.ID] += n.Quantity
			}
			if r.RefundLineItems.PageInfo.HasNextPage || !maps.Equal(have, want) {
				continue
			}
		}
		if c.refundKeys.anyOther(key, func(o refundAttempt) bool { return o.refund == r.ID }) {
			continue // made by another key
		}
		var at time.Time
		if r.CreatedAt != nil {
			at = *r.CreatedAt
		}
		if best == "" || at.After(bestAt) || at.Equal(bestAt) && compareIDs(r.ID, best) > 0 {
			best, bestAt = r.ID, at
		}
	}
	if best == "" {
		return commerce.Refund{}, false, nil
	}
	a.refund = best
	c.refundKeys.store(key, a)
	r, err := c.readRefundResult(ctx, a, req, key)
	return r, err == nil, err
}
