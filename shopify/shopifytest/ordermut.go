package shopifytest

import (
	"fmt"
	"strconv"
	"strings"
)

// fulfillmentCreate fulfils fulfillment order lines (all remaining ones
// when a fulfillment order lists none) with tracking info.
func (s *Server) fulfillmentCreate(args map[string]any) (any, error) {
	st := s.st
	now := s.now()
	in := asMap(args["fulfillment"])
	fail := func(errs ...any) (any, error) { return object{"fulfillment": nil, "userErrors": errs}, nil }
	type take struct {
		fl *foLine
		q  int
	}
	var takes []take
	var ord *order
	var loc int64
	groups := asList(in["lineItemsByFulfillmentOrder"])
	if len(groups) == 0 {
		return fail(userErr(path("fulfillment", "lineItemsByFulfillmentOrder"), "Line items by fulfillment order can't be blank.", ""))
	}
	for i, g := range groups {
		gm := asMap(g)
		field := path("fulfillment", "lineItemsByFulfillmentOrder", i)
		fo := st.fulfOrders[idOf(gm["fulfillmentOrderId"], "FulfillmentOrder")]
		if fo == nil {
			return fail(userErr(append(field, "fulfillmentOrderId"), "Fulfillment order does not exist.", ""))
		}
		if fo.status != "OPEN" && fo.status != "IN_PROGRESS" {
			return fail(userErr(append(field, "fulfillmentOrderId"), fmt.Sprintf("Fulfillment order %s has an unfulfillable status= %s.", gid("FulfillmentOrder", fo.id), strings.ToLower(fo.status)), ""))
		}
		if ord != nil && (fo.order != ord || fo.locationID != loc) {
			return fail(userErr(field, "All fulfillment orders must belong to the same order and be assigned to the same location.", ""))
		}
		ord, loc = fo.order, fo.locationID
		lines := asList(gm["fulfillmentOrderLineItems"])
		if _, given := gm["fulfillmentOrderLineItems"]; !given || lines == nil {
			for _, fl := range fo.lines {
				if fl.remaining > 0 {
					takes = append(takes, take{fl, fl.remaining})
				}
			}
			continue
		}
		for j, l := range lines {
			lm := asMap(l)
			fl := st.fulfLines[idOf(lm["id"], "FulfillmentOrderLineItem")]
			q, _ := toInt(lm["quantity"])
			if fl == nil || fl.fo != fo {
				return fail(userErr(append(field, "fulfillmentOrderLineItems", j, "id"), "Fulfillment order line item does not exist.", ""))
			}
			if q <= 0 || q > fl.remaining {
				return fail(userErr(append(field, "fulfillmentOrderLineItems", j, "quantity"), "Invalid fulfillment order line item quantity requested.", ""))
			}
			takes = append(takes, take{fl, q})
		}
	}
	if len(takes) == 0 {
		return fail(userErr(path("fulfillment", "lineItemsByFulfillmentOrder"), "There are no line items left to fulfill.", ""))
	}
	f := &fulfillment{id: st.id(), order: ord, status: "SUCCESS", locationID: loc, createdAt: now, updatedAt: now}
	f.name = ord.name + "-F" + strconv.Itoa(len(ord.fulfillments)+1)
	if b, ok := in["notifyCustomer"].(bool); ok {
		f.notifyCustomer = b
	}
	if t := asMap(in["trackingInfo"]); t != nil {
		company := str(t["company"])
		if n := str(t["number"]); n != "" || str(t["url"]) != "" {
			f.tracking = append(f.tracking, Tracking{Number: n, URL: str(t["url"]), Company: company})
		}
		urls := asList(t["urls"])
		for i, n := range asList(t["numbers"]) {
			tr := Tracking{Number: str(n), Company: company}
			if i < len(urls) {
				tr.URL = str(urls[i])
			}
			f.tracking = append(f.tracking, tr)
		}
	}
	touched := map[*fulfillmentOrder]bool{}
	for _, t := range takes {
		t.fl.remaining -= t.q
		touched[t.fl.fo] = true
		f.lines = append(f.lines, fulfillmentLine{id: st.id(), line: t.fl.line, quantity: t.q})
	}
	for fo := range touched {
		fo.updatedAt = now
		fo.status = "CLOSED"
		for _, fl := range fo.lines {
			if fl.remaining > 0 {
				fo.status = "IN_PROGRESS"
			}
		}
	}
	st.fulfs[f.id] = f
	ord.fulfillments = append(ord.fulfillments, f)
	ord.updatedAt = now
	s.emitLocked("fulfillments/create", s.fulfillmentPayload(f))
	if ord.fulfillmentStatus() == "FULFILLED" {
		s.emitLocked("orders/fulfilled", s.orderPayload(ord))
	} else {
		s.emitLocked("orders/partially_fulfilled", s.orderPayload(ord))
	}
	s.emitLocked("orders/updated", s.orderPayload(ord))
	return object{"fulfillment": s.fulfillmentObj(f), "userErrors": []any{}}, nil
}

// orderCancel cancels an order. Shopify runs it as a job; the fake applies
// it at once and reports the job as not done in the mutation's answer and
// done when queried.
func (s *Server) orderCancel(args map[string]any) (any, error) {
	st := s.st
	now := s.now()
	fail := func(field []any, msg, code string) (any, error) {
		e := userErr(field, msg, code)
		return object{"job": nil, "jobResult": nil, "orderCancelUserErrors": []any{e}, "userErrors": []any{object{"field": field, "message": msg}}}, nil
	}
	o := st.orders[idOf(args["orderId"], "Order")]
	if o == nil {
		return fail(path("orderId"), "Order does not exist", "NOT_FOUND")
	}
	if o.cancelledAt != nil {
		return fail(path("orderId"), "Cannot cancel an order that has already been cancelled.", "INVALID")
	}
	if len(o.fulfillments) > 0 {
		return fail(path("orderId"), "Cannot cancel an order with fulfillments. Cancel the fulfillments first.", "INVALID")
	}
	for _, r := range o.returns {
		if r.status == "OPEN" || r.status == "REQUESTED" {
			return fail(path("orderId"), "Cannot cancel an order with an active return.", "INVALID")
		}
	}
	doRefund, _ := args["refund"].(bool)
	if rm := asMap(args["refundMethod"]); rm != nil {
		if b, _ := rm["originalPaymentMethodsRefund"].(bool); b {
			doRefund = true
		}
		if rm["storeCreditRefund"] != nil && o.customer == nil {
			return fail(path("refundMethod", "storeCreditRefund"), "Cannot refund to store credit without a customer.", "STORE_CREDIT_REFUND_MISSING_CUSTOMER")
		}
	}
	restock, _ := args["restock"].(bool)
	reason := str(args["reason"])
	o.cancelledAt, o.cancelReason = &now, reason
	o.closedAt = &now
	o.updatedAt = now
	for _, fo := range o.fulfillmentOrders {
		fo.status = "CLOSED"
		fo.updatedAt = now
	}
	// An authorized-only payment hold is released on cancel, refund or not.
	for _, tx := range o.txs {
		if tx.kind == "AUTHORIZATION" && tx.status == "SUCCESS" {
			if left := tx.capturableAmount(o); left.IsPositive() {
				st.addTx(o, &transaction{kind: "VOID", status: "SUCCESS", gateway: tx.gateway, amount: left, parent: tx, createdAt: now, processedAt: now, test: tx.test})
			}
		}
	}
	if doRefund {
		if due := o.received().Sub(o.refunded()); due.IsPositive() {
			r := &refund{id: st.id(), order: o, note: "Order cancelled", createdAt: now, processedAt: now, updatedAt: now, totalRefunded: due}
			for _, l := range o.lines {
				if q := l.currentQuantity(); q > 0 {
					rt := "CANCEL"
					if !restock {
						rt = "NO_RESTOCK"
					}
					r.lines = append(r.lines, refundLine{id: st.id(), line: l, quantity: q, restockType: rt, locationID: o.lineLocation(l), subtotal: scaled(l.originalTotal().Sub(l.discountTotal()), q, l.quantity), tax: scaled(l.taxTotal(), q, l.quantity)})
					l.refundedQuantity += q
				}
			}
			gw := ""
			var parent *transaction
			for _, tx := range o.txs {
				if (tx.kind == "SALE" || tx.kind == "CAPTURE") && tx.status == "SUCCESS" {
					gw, parent = tx.gateway, tx
				}
			}
			rtx := &transaction{kind: "REFUND", status: "SUCCESS", gateway: gw, amount: due, parent: parent, createdAt: now, processedAt: now}
			st.addTx(o, rtx)
			r.txs = []*transaction{rtx}
			st.refunds[r.id] = r
			o.refunds = append(o.refunds, r)
			s.emitLocked("refunds/create", s.refundPayload(r))
		}
	}
	if restock {
		for _, l := range o.lines {
			if v, loc := st.variants[l.variantID], o.lineLocation(l); v != nil && loc != 0 {
				if lv := st.level(v.itemID, loc, false, now); lv != nil {
					setQuantity(lv, "available", lv.quantities["available"]+l.quantity)
					lv.updatedAt = now
				}
			}
		}
	}
	j := &job{id: st.id(), orderID: o.id, status: "SUCCEEDED"}
	st.jobs[j.id] = j
	s.emitLocked("orders/cancelled", s.orderPayload(o))
	s.emitLocked("orders/updated", s.orderPayload(o))
	started := s.cancelJobResultObj(j)
	started["done"], started["status"] = false, "STARTED"
	jobObj := s.jobObj(j)
	jobObj["done"] = false
	j.done = true
	return object{"job": jobObj, "jobResult": started, "orderCancelUserErrors": []any{}, "userErrors": []any{}}, nil
}

// lineLocation is where a line is fulfilled from: the location of the
// first fulfillment order holding it, else the order's.
func (o *order) lineLocation(l *lineItem) int64 {
	for _, fo := range o.fulfillmentOrders {
		for _, fl := range fo.lines {
			if fl.line == l {
				return fo.locationID
			}
		}
	}
	return o.fulfillmentLocation()
}

func (o *order) fulfillmentLocation() int64 {
	if len(o.fulfillmentOrders) > 0 {
		return o.fulfillmentOrders[0].locationID
	}
	return 0
}

func (s *Server) jobObj(j *job) object {
	return object{"__typename": "Job", "id": gid("Job", j.id), "done": j.done, "query": s.queryRoot()}
}

func (s *Server) cancelJobResultObj(j *job) object {
	return object{
		"__typename": "OrderCancelJobResult",
		"id":         gid("OrderCancelJobResult", j.id),
		"done":       j.done,
		"status":     j.status,
		"errors":     []any{},
		"order": lazy(func(map[string]any) (any, error) {
			if o := s.st.orders[j.orderID]; o != nil {
				return s.orderObj(o), nil
			}
			return nil, nil
		}),
	}
}

func (st *state) addTx(o *order, tx *transaction) {
	tx.id = st.id()
	tx.order = o
	st.txs[tx.id] = tx
	o.txs = append(o.txs, tx)
}

// orderMarkAsPaid records a manual payment of the outstanding amount.
func (s *Server) orderMarkAsPaid(args map[string]any) (any, error) {
	st := s.st
	now := s.now()
	in := asMap(args["input"])
	o := st.orders[idOf(in["id"], "Order")]
	if o == nil {
		return object{"order": nil, "userErrors": []any{userErr(path("id"), "Order does not exist", "")}}, nil
	}
	fin := o.financialStatus()
	if o.cancelledAt != nil || (fin != "PENDING" && fin != "PARTIALLY_PAID" && fin != "AUTHORIZED") {
		return object{"order": s.orderObj(o), "userErrors": []any{userErr(path("id"), "Order cannot be marked as paid.", "")}}, nil
	}
	due := o.totals(true).total.Sub(o.received())
	if due.IsPositive() {
		st.addTx(o, &transaction{kind: "SALE", status: "SUCCESS", gateway: "manual", amount: due, createdAt: now, processedAt: now})
	}
	o.updatedAt = now
	s.emitLocked("orders/paid", s.orderPayload(o))
	s.emitLocked("orders/updated", s.orderPayload(o))
	return object{"order": s.orderObj(o), "userErrors": []any{}}, nil
}

// orderCapture captures (part of) an authorization. With a presentment
// currency other than the shop's, currency is required and must be the
// presentment currency; the amount may not exceed what is capturable.
func (s *Server) orderCapture(args map[string]any) (any, error) {
	st := s.st
	now := s.now()
	in := asMap(args["input"])
	fail := func(field []any, msg string) (any, error) {
		return object{"transaction": nil, "userErrors": []any{userErr(field, msg, "")}}, nil
	}
	o := st.orders[idOf(in["id"], "Order")]
	if o == nil {
		return fail(path("id"), "Order does not exist")
	}
	parent := st.txs[idOf(in["parentTransactionId"], "OrderTransaction")]
	if parent == nil || parent.order != o {
		return fail(path("parentTransactionId"), "Parent transaction does not exist")
	}
	if parent.kind != "AUTHORIZATION" || parent.status != "SUCCESS" {
		return fail(path("parentTransactionId"), "Parent transaction must be a successful authorization")
	}
	if o.cancelledAt != nil {
		return fail(path("id"), "Cannot capture payment on a cancelled order")
	}
	cur := str(in["currency"])
	if o.presentment != o.currency && cur == "" {
		return fail(path("currency"), "Currency is required when the presentment currency differs from the shop currency")
	}
	if cur != "" && cur != o.presentment {
		return fail(path("currency"), fmt.Sprintf("Currency must be the presentment currency %s", o.presentment))
	}
	amt, ok := parseMoneyInput(in["amount"])
	if !ok || !amt.IsPositive() {
		return fail(path("amount"), "Amount must be greater than 0")
	}
	if amt.Exponent() < -2 && !amt.Equal(amt.Round(2)) {
		return fail(path("amount"), "Amount has too many decimal places")
	}
	if parent.authorizationUntil != nil && now.After(*parent.authorizationUntil) {
		return fail(path("parentTransactionId"), "Authorization has expired")
	}
	left := parent.capturableAmount(o)
	if !left.IsPositive() {
		return fail(path("parentTransactionId"), "Authorization has already been captured or voided")
	}
	if amt.GreaterThan(left) {
		return fail(path("amount"), fmt.Sprintf("Amount %s exceeds the capturable amount %s", amountString(amt), amountString(left)))
	}
	tx := &transaction{kind: "CAPTURE", status: "SUCCESS", gateway: parent.gateway, amount: amt, parent: parent, createdAt: now, processedAt: now, test: parent.test, paymentID: parent.paymentID}
	st.addTx(o, tx)
	if final, _ := in["finalCapture"].(bool); final && parent.multiCapturable {
		if rest := parent.capturableAmount(o); rest.IsPositive() {
			st.addTx(o, &transaction{kind: "VOID", status: "SUCCESS", gateway: parent.gateway, amount: rest, parent: parent, createdAt: now, processedAt: now})
		}
	}
	o.updatedAt = now
	if o.financialStatus() == "PAID" {
		s.emitLocked("orders/paid", s.orderPayload(o))
	}
	s.emitLocked("orders/updated", s.orderPayload(o))
	return object{"transaction": s.transactionObj(tx), "userErrors": []any{}}, nil
}

func (s *Server) orderClose(args map[string]any) (any, error) {
	o := s.st.orders[idOf(asMap(args["input"])["id"], "Order")]
	if o == nil {
		return object{"order": nil, "userErrors": []any{userErr(path("id"), "Order does not exist", "")}}, nil
	}
	now := s.now()
	if o.closedAt == nil {
		o.closedAt = &now
		o.updatedAt = now
		s.emitLocked("orders/updated", s.orderPayload(o))
	}
	return object{"order": s.orderObj(o), "userErrors": []any{}}, nil
}

func (s *Server) bulkOperationCancel(args map[string]any) (any, error) {
	b := s.st.bulkOps[idOf(args["id"], "BulkOperation")]
	if b == nil {
		return object{"bulkOperation": nil, "userErrors": []any{userErr(path("id"), "Bulk operation does not exist", "")}}, nil
	}
	if st := b.statusAt(s.now(), s.opts.bulkDelay); st != "RUNNING" && st != "CREATED" {
		return object{"bulkOperation": s.bulkOpObj(b), "userErrors": []any{userErr(path("id"), "A bulk operation cannot be canceled when it is "+strings.ToLower(st), "")}}, nil
	}
	b.status = "CANCELED"
	return object{"bulkOperation": s.bulkOpObj(b), "userErrors": []any{}}, nil
}

func (s *Server) webhookSubscriptionCreate(args map[string]any) (any, error) {
	in := asMap(args["webhookSubscription"])
	uri := str(in["uri"])
	if uri == "" {
		uri = str(in["callbackUrl"])
	}
	if uri == "" {
		return object{"webhookSubscription": nil, "userErrors": []any{userErr(path("webhookSubscription", "uri"), "Address can't be blank", "")}}, nil
	}
	topic := topicFromEnum(str(args["topic"]))
	for _, w := range s.st.webhookSubs {
		if w.topic == topic && w.uri == uri {
			return object{"webhookSubscription": nil, "userErrors": []any{userErr(path("webhookSubscription", "uri"), "Address for this topic has already been taken", "")}}, nil
		}
	}
	w := &webhookSub{id: s.st.id(), topic: topic, uri: uri, createdAt: s.now()}
	s.st.webhookSubs[w.id] = w
	return object{"webhookSubscription": webhookSubObj(w), "userErrors": []any{}}, nil
}

func (s *Server) webhookSubscriptionDelete(args map[string]any) (any, error) {
	id := idOf(args["id"], "WebhookSubscription")
	if s.st.webhookSubs[id] == nil {
		return object{"deletedWebhookSubscriptionId": nil, "userErrors": []any{userErr(path("id"), "Webhook subscription does not exist", "")}}, nil
	}
	delete(s.st.webhookSubs, id)
	return object{"deletedWebhookSubscriptionId": gid("WebhookSubscription", id), "userErrors": []any{}}, nil
}

// REST-shaped webhook payloads (snake_case, numeric ids, money as strings).

func (s *Server) productPayload(p *product) map[string]any {
	vs := []any{}
	for _, v := range p.variants {
		var cmp any
		if v.compareAt != nil {
			cmp = v.compareAt.StringFixed(2)
		}
		vs = append(vs, map[string]any{
			"id": v.id, "admin_graphql_api_id": gid("ProductVariant", v.id), "product_id": p.id,
			"title": v.title, "sku": v.sku, "price": v.price.StringFixed(2), "compare_at_price": cmp,
			"inventory_item_id": v.itemID, "taxable": v.taxable, "barcode": nilIfEmpty(v.barcode),
			"created_at": restTime(v.createdAt), "updated_at": restTime(v.updatedAt),
		})
	}
	return map[string]any{
		"id": p.id, "admin_graphql_api_id": gid("Product", p.id), "title": p.title, "handle": p.handle,
		"status": strings.ToLower(p.status), "vendor": p.vendor, "product_type": p.ptype,
		"body_html": p.descriptionHTML, "tags": strings.Join(p.tags, ", "),
		"created_at": restTime(p.createdAt), "updated_at": restTime(p.updatedAt), "variants": vs,
	}
}

func (s *Server) orderPayload(o *order) map[string]any {
	t := o.totals(false)
	lines := []any{}
	for _, l := range o.lines {
		var vid any
		if l.variantID != 0 {
			vid = l.variantID
		}
		lines = append(lines, map[string]any{
			"id": l.id, "admin_graphql_api_id": gid("LineItem", l.id), "sku": l.sku, "title": l.title,
			"quantity": l.quantity, "price": l.unitPrice.StringFixed(2), "variant_id": vid,
		})
	}
	var cancelled, closed any
	if o.cancelledAt != nil {
		cancelled = restTime(*o.cancelledAt)
	}
	if o.closedAt != nil {
		closed = restTime(*o.closedAt)
	}
	fs := strings.ToLower(o.fulfillmentStatus())
	var fsv any = fs
	if fs == "unfulfilled" {
		fsv = nil
	} else if fs == "partially_fulfilled" {
		fsv = "partial"
	}
	return map[string]any{
		"id": o.id, "admin_graphql_api_id": gid("Order", o.id), "name": o.name, "order_number": o.number,
		"email": o.email, "currency": o.currency, "presentment_currency": o.presentment,
		"subtotal_price": t.subtotal.StringFixed(2), "total_tax": t.tax.StringFixed(2),
		"total_price": t.total.StringFixed(2), "taxes_included": o.taxesIncluded,
		"financial_status": strings.ToLower(o.financialStatus()), "fulfillment_status": fsv,
		"cancelled_at": cancelled, "cancel_reason": nilIfEmpty(strings.ToLower(o.cancelReason)), "closed_at": closed,
		"created_at": restTime(o.createdAt), "updated_at": restTime(o.updatedAt),
		"processed_at": restTime(o.processedAt), "line_items": lines, "test": o.test,
	}
}

func (s *Server) fulfillmentPayload(f *fulfillment) map[string]any {
	var number, url, company any
	nums, urls := []any{}, []any{}
	for i, t := range f.tracking {
		if i == 0 {
			number, url, company = nilIfEmpty(t.Number), nilIfEmpty(t.URL), nilIfEmpty(t.Company)
		}
		nums = append(nums, t.Number)
		urls = append(urls, t.URL)
	}
	lines := []any{}
	for _, l := range f.lines {
		lines = append(lines, map[string]any{"id": l.line.id, "sku": l.line.sku, "quantity": l.quantity})
	}
	return map[string]any{
		"id": f.id, "admin_graphql_api_id": gid("Fulfillment", f.id), "order_id": f.order.id, "name": f.name,
		"status": "success", "tracking_number": number, "tracking_numbers": nums, "tracking_url": url,
		"tracking_urls": urls, "tracking_company": company, "notify_customer": f.notifyCustomer,
		"location_id": f.locationID, "line_items": lines,
		"created_at": restTime(f.createdAt), "updated_at": restTime(f.updatedAt),
	}
}

func (s *Server) refundPayload(r *refund) map[string]any {
	lines := []any{}
	for _, l := range r.lines {
		sub, _ := l.subtotal.Float64()
		tax, _ := l.tax.Float64()
		// Shopify sends these two as JSON numbers, the rest as strings.
		lines = append(lines, map[string]any{"id": l.id, "line_item_id": l.line.id, "quantity": l.quantity, "restock_type": strings.ToLower(l.restockType), "subtotal": sub, "total_tax": tax})
	}
	txs := []any{}
	for _, t := range r.txs {
		txs = append(txs, map[string]any{"id": t.id, "admin_graphql_api_id": gid("OrderTransaction", t.id), "kind": strings.ToLower(t.kind), "status": strings.ToLower(t.status), "amount": t.amount.StringFixed(2), "gateway": t.gateway, "currency": r.order.presentment})
	}
	return map[string]any{
		"id": r.id, "admin_graphql_api_id": gid("Refund", r.id), "order_id": r.order.id, "note": nilIfEmpty(r.note),
		"created_at": restTime(r.createdAt), "processed_at": restTime(r.processedAt),
		"refund_line_items": lines, "transactions": txs,
	}
}
