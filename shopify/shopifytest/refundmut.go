package shopifytest

import (
	"fmt"
	"time"

	"github.com/shopspring/decimal"
)

// refundCreate refunds an order, all or nothing: line items (recorded, and
// restocked with restockType RETURN or CANCEL), shipping, and REFUND
// transactions on the order's successful captures and sales, each at most
// what earlier refunds left of its parent. The money refunded is the sum
// of the transactions (Refund.totalRefundedSet), never computed from the
// lines. The texts of the user errors are the fake's own; Shopify
// documents the rules, not the wording. refundDuties and refundMethods
// (store credit) are not modelled and answer NOT_IMPLEMENTED.
func (s *Server) refundCreate(args map[string]any) (any, error) {
	st := s.st
	now := s.now()
	in := asMap(args["input"])
	fail := func(field []any, format string, a ...any) (any, error) {
		return object{"order": nil, "refund": nil, "userErrors": []any{userErr(field, fmt.Sprintf(format, a...), "")}}, nil
	}
	o := st.orders[idOf(in["orderId"], "Order")]
	if o == nil {
		return fail(path("orderId"), "Order does not exist")
	}
	if len(asList(in["refundDuties"])) > 0 || len(asList(in["refundMethods"])) > 0 {
		return nil, errf("NOT_IMPLEMENTED", "shopifytest: refundCreate with refundDuties or refundMethods is not implemented by the fake")
	}
	cur := str(in["currency"])
	if o.presentment != o.currency && cur == "" {
		return fail(path("currency"), "Currency is required when the presentment currency differs from the shop currency")
	}
	if cur != "" && cur != o.presentment {
		return fail(path("currency"), "Currency must be the presentment currency %s", o.presentment)
	}
	processed := now
	if p := str(in["processedAt"]); p != "" {
		t, err := time.Parse(time.RFC3339, p)
		if err != nil {
			return fail(path("processedAt"), "Processed at is not a date and time")
		}
		processed = t.UTC()
	}

	type take struct {
		line    *lineItem
		qty     int
		restock string
		loc     int64
	}
	var takes []take
	wanted := map[*lineItem]int{}
	for i, v := range asList(in["refundLineItems"]) {
		m := asMap(v)
		field := path("refundLineItems", i)
		l := st.lineItems[idOf(m["lineItemId"], "LineItem")]
		if l == nil || l.order != o {
			return fail(append(field, "lineItemId"), "Line item does not exist on the order")
		}
		q, _ := toInt(m["quantity"])
		if q <= 0 {
			return fail(append(field, "quantity"), "Quantity must be greater than 0")
		}
		wanted[l] += q
		if wanted[l] > l.currentQuantity() {
			return fail(append(field, "quantity"), "Quantity %d of line item %s exceeds its refundable quantity %d", wanted[l], gid("LineItem", l.id), l.currentQuantity())
		}
		rt := orDefault(str(m["restockType"]), "NO_RESTOCK")
		var loc int64
		switch rt {
		case "NO_RESTOCK":
		case "RETURN", "CANCEL":
			loc = o.fulfillmentLocation()
			if m["locationId"] != nil {
				loc = idOf(m["locationId"], "Location")
			}
			if st.locations[loc] == nil {
				return fail(append(field, "locationId"), "Location does not exist")
			}
		default:
			return fail(append(field, "restockType"), "Restock type %s is not accepted when creating a refund", rt)
		}
		takes = append(takes, take{line: l, qty: q, restock: rt, loc: loc})
	}

	var ship *refundShipping
	if sh := asMap(in["shipping"]); sh != nil {
		price, tax := decimal.Zero, decimal.Zero
		for _, sl := range o.shippingLines {
			price = price.Add(sl.price.Sub(sumDiscounts(sl.discounts)))
			tax = tax.Add(sumTax(sl.taxLines))
		}
		for _, r := range o.refunds {
			for _, rs := range r.shipping {
				price, tax = price.Sub(rs.subtotal), tax.Sub(rs.tax)
			}
		}
		full, _ := sh["fullRefund"].(bool)
		amt, given := parseMoneyInput(sh["amount"])
		switch {
		case given:
			if amt.IsNegative() || amt.GreaterThan(price) {
				return fail(path("shipping", "amount"), "Shipping refund amount %s exceeds the refundable shipping %s", amountString(amt), amountString(price))
			}
			if price.IsPositive() {
				tax = tax.Mul(amt).Div(price).Round(2)
			}
		case full:
			amt = price
		}
		if amt.IsPositive() {
			var line *shippingLine
			if len(o.shippingLines) > 0 {
				line = o.shippingLines[0]
			} else {
				line = &shippingLine{id: st.id(), title: "Shipping"}
			}
			ship = &refundShipping{line: line, subtotal: amt, tax: tax}
		}
	}

	type refundTx struct {
		parent  *transaction
		gateway string
		amount  decimal.Decimal
	}
	var txs []refundTx
	used := map[*transaction]decimal.Decimal{}
	total := decimal.Zero
	for i, v := range asList(in["transactions"]) {
		m := asMap(v)
		field := path("transactions", i)
		if idOf(m["orderId"], "Order") != o.id {
			return fail(append(field, "orderId"), "Transaction must belong to the order being refunded")
		}
		if k := str(m["kind"]); k != "REFUND" {
			return fail(append(field, "kind"), "A refund's transactions must be of kind REFUND, not %s", k)
		}
		amt, ok := parseMoneyInput(m["amount"])
		if !ok || !amt.IsPositive() {
			return fail(append(field, "amount"), "Amount must be greater than 0")
		}
		if !amt.Equal(amt.Round(2)) {
			return fail(append(field, "amount"), "Amount has too many decimal places")
		}
		gw := str(m["gateway"])
		var parent *transaction
		if m["parentId"] != nil {
			parent = st.txs[idOf(m["parentId"], "OrderTransaction")]
			if parent == nil || parent.order != o {
				return fail(append(field, "parentId"), "Parent transaction does not exist on the order")
			}
			if !parent.refundable() {
				return fail(append(field, "parentId"), "Parent transaction must be a successful capture or sale")
			}
		} else {
			for _, t := range o.txs {
				if t.refundable() && t.gateway == gw && !amt.GreaterThan(t.refundableAmount().Sub(used[t])) {
					parent = t
					break
				}
			}
			if parent == nil {
				return fail(field, "No capture or sale of gateway %s can refund %s", gw, amountString(amt))
			}
		}
		if gw != parent.gateway {
			return fail(append(field, "gateway"), "Gateway must be the parent transaction's gateway %s", parent.gateway)
		}
		left := parent.refundableAmount().Sub(used[parent])
		if amt.GreaterThan(left) {
			return fail(append(field, "amount"), "Amount %s exceeds the refundable amount %s of transaction %s", amountString(amt), amountString(left), gid("OrderTransaction", parent.id))
		}
		used[parent] = used[parent].Add(amt)
		total = total.Add(amt)
		txs = append(txs, refundTx{parent: parent, gateway: gw, amount: amt})
	}
	if over, _ := in["allowOverRefunding"].(bool); !over && o.refunded().Add(total).GreaterThan(o.received()) {
		return fail(path("transactions"), "Refund amount %s exceeds the amount paid", amountString(total))
	}
	if len(takes) == 0 && ship == nil && len(txs) == 0 {
		return fail(nil, "A refund needs line items, shipping or transactions")
	}

	r := &refund{id: st.id(), order: o, note: str(in["note"]), createdAt: now, processedAt: processed, updatedAt: now}
	for _, t := range takes {
		l := t.line
		r.lines = append(r.lines, refundLine{id: st.id(), line: l, quantity: t.qty, restockType: t.restock, locationID: t.loc,
			subtotal: scaled(l.originalTotal().Sub(l.discountTotal()), t.qty, l.quantity), tax: scaled(l.taxTotal(), t.qty, l.quantity)})
		l.refundedQuantity += t.qty
		o.trimFulfillmentOrders(l, now)
		if t.restock != "NO_RESTOCK" {
			if v := st.variants[l.variantID]; v != nil {
				lv := st.level(v.itemID, t.loc, true, now)
				setQuantity(lv, "available", lv.quantities["available"]+t.qty)
				lv.updatedAt = now
			}
		}
	}
	if ship != nil {
		ship.id = st.id()
		r.shipping = append(r.shipping, *ship)
	}
	for _, t := range txs {
		tx := &transaction{kind: "REFUND", status: "SUCCESS", gateway: t.gateway, amount: t.amount, parent: t.parent,
			createdAt: now, processedAt: now, test: t.parent.test, paymentID: t.parent.paymentID}
		st.addTx(o, tx)
		r.txs = append(r.txs, tx)
		r.totalRefunded = r.totalRefunded.Add(t.amount)
		if tx.gateway == paymentsGateway {
			st.addBalanceTx(&balanceTx{typ: "REFUND", test: tx.test, amount: t.amount.Mul(o.rate).Round(2).Neg(), currency: o.currency,
				date: now, sourceID: r.id, sourceType: "REFUND", sourceOrderTxID: tx.id, orderID: o.id, orderName: o.name, payoutStatus: "PENDING"})
		}
	}
	st.refunds[r.id] = r
	o.refunds = append(o.refunds, r)
	o.updatedAt = now
	s.emitLocked("refunds/create", s.refundPayload(r))
	s.emitLocked("orders/updated", s.orderPayload(o))
	return object{"order": s.orderObj(o), "refund": s.refundObj(r), "userErrors": []any{}}, nil
}

// paymentsGateway is Shopify Payments' gateway name; its refunds come
// out of the merchant's Shopify Payments balance.
const paymentsGateway = "shopify_payments"

// refundable reports whether a transaction can be the parent of a refund.
func (tx *transaction) refundable() bool {
	return (tx.kind == "CAPTURE" || tx.kind == "SALE") && tx.status == "SUCCESS"
}

// refundableAmount is what is left of a capture or sale after the refunds
// drawn on it (successful or pending).
func (tx *transaction) refundableAmount() decimal.Decimal {
	left := tx.amount
	for _, c := range tx.order.txs {
		if c.parent == tx && c.kind == "REFUND" && (c.status == "SUCCESS" || c.status == "PENDING") {
			left = left.Sub(c.amount)
		}
	}
	return left
}

// trimFulfillmentOrders takes refunded units out of the open fulfillment
// order lines (their total and remaining quantities): what still needs
// fulfilling is the line's current quantity less what was fulfilled.
func (o *order) trimFulfillmentOrders(l *lineItem, now time.Time) {
	fulfilled, open := 0, 0
	for _, fo := range o.fulfillmentOrders {
		for _, fl := range fo.lines {
			if fl.line == l {
				fulfilled += fl.total - fl.remaining
				open += fl.remaining
			}
		}
	}
	excess := open - max(0, l.currentQuantity()-fulfilled)
	for i := len(o.fulfillmentOrders) - 1; i >= 0 && excess > 0; i-- {
		fo := o.fulfillmentOrders[i]
		for _, fl := range fo.lines {
			if fl.line != l || fl.remaining == 0 {
				continue
			}
			n := min(fl.remaining, excess)
			fl.remaining -= n
			fl.total -= n
			excess -= n
			fo.updatedAt = now
		}
		if fo.status == "OPEN" || fo.status == "IN_PROGRESS" {
			closed := true
			for _, fl := range fo.lines {
				if fl.remaining > 0 {
					closed = false
				}
			}
			if closed {
				fo.status = "CLOSED"
			}
		}
	}
}

// addBalanceTx records a Shopify Payments balance transaction that no
// payout has settled yet.
func (st *state) addBalanceTx(bt *balanceTx) {
	bt.id = st.id()
	bt.net = bt.amount.Sub(bt.fee)
	st.balanceTxs[bt.id] = bt
}
