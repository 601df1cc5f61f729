package shopifytest

import (
	"strings"

	"github.com/shopspring/decimal"
)

// amountString prints a decimal the way Shopify's Decimal and Money scalars
// come out of the API: no trailing zeros beyond the first decimal ("199.0",
// "12.5", "29.99", "0.125"). Clients must not assume two decimals.
func amountString(d decimal.Decimal) string {
	s := d.String()
	if !strings.Contains(s, ".") {
		return s + ".0"
	}
	return s
}

func money(d decimal.Decimal, currency string) object {
	return object{"amount": amountString(d), "currencyCode": currency}
}

// bag is a MoneyBag for an amount in the order's presentment currency;
// shop money is converted at the order's rate and rounded to cents.
func (o *order) bag(presentment decimal.Decimal) object {
	return object{
		"presentmentMoney": money(presentment, o.presentment),
		"shopMoney":        money(presentment.Mul(o.rate).Round(2), o.currency),
	}
}

func sumTax(ts []TaxLine) decimal.Decimal {
	sum := decimal.Zero
	for _, t := range ts {
		sum = sum.Add(decOrZero(t.Amount))
	}
	return sum
}

func sumDiscounts(ds []Discount) decimal.Decimal {
	sum := decimal.Zero
	for _, d := range ds {
		sum = sum.Add(decOrZero(d.Amount))
	}
	return sum
}

// scaled is part/whole of d rounded to cents: a line's tax or discount for
// its current quantity.
func scaled(d decimal.Decimal, part, whole int) decimal.Decimal {
	if whole == 0 || part == whole {
		return d
	}
	return d.Mul(decimal.NewFromInt(int64(part))).Div(decimal.NewFromInt(int64(whole))).Round(2)
}

func (l *lineItem) currentQuantity() int {
	q := l.quantity - l.refundedQuantity
	if q < 0 {
		return 0
	}
	return q
}

func (l *lineItem) originalTotal() decimal.Decimal {
	return l.unitPrice.Mul(decimal.NewFromInt(int64(l.quantity)))
}

func (l *lineItem) discountTotal() decimal.Decimal { return sumDiscounts(l.discounts) }
func (l *lineItem) taxTotal() decimal.Decimal      { return sumTax(l.taxLines) }

// orderTotals are an order's money figures in presentment currency.
type orderTotals struct {
	subtotal, discounts, shipping, tax, total decimal.Decimal
}

func (o *order) totals(current bool) orderTotals {
	var t orderTotals
	for _, l := range o.lines {
		q := l.quantity
		if current {
			q = l.currentQuantity()
		}
		orig := l.unitPrice.Mul(decimal.NewFromInt(int64(q)))
		disc := scaled(l.discountTotal(), q, l.quantity)
		t.subtotal = t.subtotal.Add(orig.Sub(disc))
		t.discounts = t.discounts.Add(disc)
		t.tax = t.tax.Add(scaled(l.taxTotal(), q, l.quantity))
	}
	for _, s := range o.shippingLines {
		disc := sumDiscounts(s.discounts)
		t.shipping = t.shipping.Add(s.price.Sub(disc))
		t.discounts = t.discounts.Add(disc)
		t.tax = t.tax.Add(sumTax(s.taxLines))
	}
	if current {
		for _, r := range o.refunds {
			for _, rs := range r.shipping {
				t.shipping = t.shipping.Sub(rs.subtotal)
				t.tax = t.tax.Sub(rs.tax)
			}
		}
	}
	t.total = t.subtotal.Add(t.shipping)
	if !o.taxesIncluded {
		t.total = t.total.Add(t.tax)
	}
	return t
}

// received is what successful sales and captures brought in.
func (o *order) received() decimal.Decimal {
	sum := decimal.Zero
	for _, tx := range o.txs {
		if tx.status == "SUCCESS" && (tx.kind == "SALE" || tx.kind == "CAPTURE") {
			sum = sum.Add(tx.amount)
		}
	}
	return sum
}

func (o *order) refunded() decimal.Decimal {
	sum := decimal.Zero
	for _, tx := range o.txs {
		if tx.status == "SUCCESS" && tx.kind == "REFUND" {
			sum = sum.Add(tx.amount)
		}
	}
	return sum
}

// capturable is what is authorized and neither captured nor voided.
func (o *order) capturable() decimal.Decimal {
	sum := decimal.Zero
	for _, tx := range o.txs {
		if tx.kind == "AUTHORIZATION" && tx.status == "SUCCESS" {
			sum = sum.Add(tx.capturableAmount(o))
		}
	}
	return sum
}

func (tx *transaction) capturableAmount(o *order) decimal.Decimal {
	left := tx.amount
	for _, c := range o.txs {
		if c.parent == tx && c.status == "SUCCESS" {
			switch c.kind {
			case "CAPTURE":
				left = left.Sub(c.amount)
				if !tx.multiCapturable {
					return decimal.Zero
				}
			case "VOID":
				return decimal.Zero
			}
		}
	}
	if left.IsNegative() {
		return decimal.Zero
	}
	return left
}

func (o *order) financialStatus() string {
	total := o.totals(false).total
	received, refunded := o.received(), o.refunded()
	switch {
	case refunded.IsPositive() && refunded.GreaterThanOrEqual(received):
		return "REFUNDED"
	case refunded.IsPositive():
		return "PARTIALLY_REFUNDED"
	case received.IsPositive() && received.GreaterThanOrEqual(total):
		return "PAID"
	case received.IsPositive():
		return "PARTIALLY_PAID"
	case o.capturable().IsPositive():
		return "AUTHORIZED"
	}
	for _, tx := range o.txs {
		if tx.kind == "AUTHORIZATION" && tx.status == "SUCCESS" {
			return "VOIDED"
		}
	}
	return "PENDING"
}

func (o *order) fulfillmentStatus() string {
	total, done := 0, 0
	for _, fo := range o.fulfillmentOrders {
		for _, l := range fo.lines {
			total += l.total
			done += l.total - l.remaining
		}
	}
	switch {
	case total == 0:
		return "FULFILLED"
	case done == 0:
		return "UNFULFILLED"
	case done < total:
		return "PARTIALLY_FULFILLED"
	}
	return "FULFILLED"
}
