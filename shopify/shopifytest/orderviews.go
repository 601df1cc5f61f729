package shopifytest

import (
	"strings"

	"github.com/shopspring/decimal"
)

func (s *Server) orderObj(o *order) object {
	orig, cur := o.totals(false), o.totals(true)
	received, refunded := o.received(), o.refunded()
	outstanding := cur.total.Sub(received).Add(refunded)
	if outstanding.IsNegative() {
		outstanding = decimal.Zero
	}
	var cancelledAt, closedAt, cancelReason any
	if o.cancelledAt != nil {
		cancelledAt = ts(*o.cancelledAt)
		cancelReason = o.cancelReason
	}
	if o.closedAt != nil {
		closedAt = ts(*o.closedAt)
	}
	qty, curQty := 0, 0
	for _, l := range o.lines {
		qty += l.quantity
		curQty += l.currentQuantity()
	}
	gateways := []any{}
	seen := map[string]bool{}
	for _, tx := range o.txs {
		if tx.gateway != "" && !seen[tx.gateway] {
			seen[tx.gateway] = true
			gateways = append(gateways, tx.gateway)
		}
	}
	fin := o.financialStatus()
	obj := object{
		"__typename":                           "Order",
		"id":                                   gid("Order", o.id),
		"legacyResourceId":                     legacy(o.id),
		"name":                                 o.name,
		"number":                               o.number,
		"email":                                nilIfEmpty(o.email),
		"phone":                                nilIfEmpty(o.phone),
		"note":                                 nilIfEmpty(o.note),
		"createdAt":                            ts(o.createdAt),
		"updatedAt":                            ts(o.updatedAt),
		"processedAt":                          ts(o.processedAt),
		"cancelledAt":                          cancelledAt,
		"cancelReason":                         cancelReason,
		"closed":                               o.closedAt != nil,
		"closedAt":                             closedAt,
		"confirmed":                            true,
		"test":                                 o.test,
		"currencyCode":                         o.currency,
		"presentmentCurrencyCode":              o.presentment,
		"taxesIncluded":                        o.taxesIncluded,
		"taxExempt":                            false,
		"dutiesIncluded":                       false,
		"estimatedTaxes":                       false,
		"edited":                               false,
		"tags":                                 nonNilStrings(o.tags),
		"discountCodes":                        nonNilStrings(o.discountCodes),
		"discountCode":                         firstOrNil(o.discountCodes),
		"sourceName":                           nilIfEmpty(o.sourceName),
		"paymentGatewayNames":                  gateways,
		"displayFinancialStatus":               fin,
		"displayFulfillmentStatus":             o.fulfillmentStatus(),
		"fullyPaid":                            fin == "PAID" || fin == "PARTIALLY_REFUNDED" || fin == "REFUNDED",
		"unpaid":                               fin == "PENDING" || fin == "AUTHORIZED",
		"canMarkAsPaid":                        o.cancelledAt == nil && (fin == "PENDING" || fin == "PARTIALLY_PAID"),
		"capturable":                           o.capturable().IsPositive(),
		"refundable":                           received.GreaterThan(refunded),
		"requiresShipping":                     len(o.fulfillmentOrders) > 0,
		"fulfillable":                          o.cancelledAt == nil && o.fulfillmentStatus() != "FULFILLED",
		"restockable":                          false,
		"subtotalLineItemsQuantity":            qty,
		"currentSubtotalLineItemsQuantity":     curQty,
		"returnStatus":                         returnStatus(o),
		"customAttributes":                     attributes(o.customAttributes),
		"billingAddress":                       addressObj(o.billing),
		"shippingAddress":                      addressObj(o.shipping),
		"displayAddress":                       addressObj(firstAddress(o.billing, o.shipping)),
		"billingAddressMatchesShippingAddress": o.billing != nil && o.shipping != nil && *o.billing == *o.shipping,
		"subtotalPriceSet":                     o.bag(orig.subtotal),
		"totalDiscountsSet":                    o.bag(orig.discounts),
		"cartDiscountAmountSet":                nil,
		"totalShippingPriceSet":                o.bag(orig.shipping),
		"totalTaxSet":                          o.bag(orig.tax),
		"totalPriceSet":                        o.bag(orig.total),
		"originalTotalPriceSet":                o.bag(orig.total),
		"currentSubtotalPriceSet":              o.bag(cur.subtotal),
		"currentTotalDiscountsSet":             o.bag(cur.discounts),
		"currentCartDiscountAmountSet":         o.bag(decimal.Zero),
		"currentShippingPriceSet":              o.bag(cur.shipping),
		"currentTotalTaxSet":                   o.bag(cur.tax),
		"currentTotalPriceSet":                 o.bag(cur.total),
		"totalReceivedSet":                     o.bag(received),
		"totalRefundedSet":                     o.bag(refunded),
		"totalRefundedShippingSet":             o.bag(refundedShipping(o)),
		"totalOutstandingSet":                  o.bag(outstanding),
		"totalCapturableSet":                   o.bag(o.capturable()),
		"netPaymentSet":                        o.bag(received.Sub(refunded)),
		"totalTipReceivedSet":                  o.bag(decimal.Zero),
		"refundDiscrepancySet":                 o.bag(decimal.Zero),
		"originalTotalDutiesSet":               nil,
		"currentTotalDutiesSet":                nil,
		"totalCashRoundingAdjustment":          object{"paymentSet": o.bag(decimal.Zero), "refundSet": o.bag(decimal.Zero)},
		"taxLines":                             taxLineObjs(o, mergeTaxLines(o, false)),
		"currentTaxLines":                      taxLineObjs(o, mergeTaxLines(o, true)),
		"purchasingEntity":                     nil,
		"customer":                             nil,
		"statusPageUrl":                        "https://" + s.Shop() + "/orders/" + legacy(o.id) + "/authenticate",
		"merchantEditable":                     o.cancelledAt == nil,
		"merchantEditableErrors":               []any{},
		"disputes":                             []any{},
		"additionalFees":                       []any{},
		"alerts":                               []any{},
		"risk":                                 object{"recommendation": "ACCEPT", "assessments": []any{}},
		"channel":                              nil,
		"lineItems": lazy(func(map[string]any) (any, error) {
			c := &conn{}
			for i, l := range o.lines {
				c.add(sortID(int64(i)), s.lineItemObj(l))
			}
			return c, nil
		}),
		"shippingLines": lazy(func(map[string]any) (any, error) {
			c := &conn{}
			for i, sl := range o.shippingLines {
				c.add(sortID(int64(i)), shippingLineObj(o, sl))
			}
			return c, nil
		}),
		"shippingLine": lazy(func(map[string]any) (any, error) {
			if len(o.shippingLines) == 0 {
				return nil, nil
			}
			return shippingLineObj(o, o.shippingLines[0]), nil
		}),
		"transactions": lazy(func(args map[string]any) (any, error) {
			out := []any{}
			capOnly, _ := args["capturable"].(bool)
			for _, tx := range o.txs {
				if capOnly && !(tx.kind == "AUTHORIZATION" && tx.capturableAmount(o).IsPositive()) {
					continue
				}
				out = append(out, s.transactionObj(tx))
			}
			if n, ok := argInt(args, "first"); ok && int(n) < len(out) {
				out = out[:n]
			}
			return out, nil
		}),
		"refunds": lazy(func(args map[string]any) (any, error) {
			out := []any{}
			for _, r := range o.refunds {
				out = append(out, s.refundObj(r))
			}
			if n, ok := argInt(args, "first"); ok && int(n) < len(out) {
				out = out[:n]
			}
			return out, nil
		}),
		"returns": lazy(func(map[string]any) (any, error) {
			c := &conn{}
			for _, r := range o.returns {
				c.add(sortID(r.id), s.returnObj(r))
			}
			return c, nil
		}),
		"fulfillmentOrders": lazy(func(map[string]any) (any, error) {
			c := &conn{}
			for _, fo := range o.fulfillmentOrders {
				c.add(sortID(fo.id), s.fulfillmentOrderObj(fo))
			}
			return c, nil
		}),
		"fulfillments": lazy(func(args map[string]any) (any, error) {
			out := []any{}
			for _, f := range o.fulfillments {
				out = append(out, s.fulfillmentObj(f))
			}
			if n, ok := argInt(args, "first"); ok && int(n) < len(out) {
				out = out[:n]
			}
			return out, nil
		}),
		"fulfillmentsCount":        count(len(o.fulfillments)),
		"canNotifyCustomer":        o.email != "",
		"customerAcceptsMarketing": false,
		"hasTimelineComment":       false,
		"productNetwork":           false,
		"currentTotalWeight":       "0",
		"totalWeight":              "0",
		"merchantBusinessEntity":   s.businessEntityObj(),
		"paymentCollectionDetails": object{"additionalPaymentCollectionUrl": nil, "vaultedPaymentMethods": []any{}},
	}
	if o.customer != nil {
		obj["customer"] = customerObj(o.customerID, o.customer)
		obj["purchasingEntity"] = customerObj(o.customerID, o.customer)
	}
	return obj
}

func nonNilStrings(ss []string) []string {
	if ss == nil {
		return []string{}
	}
	return ss
}

func firstOrNil(ss []string) any {
	if len(ss) == 0 {
		return nil
	}
	return ss[0]
}

func firstAddress(as ...*Address) *Address {
	for _, a := range as {
		if a != nil {
			return a
		}
	}
	return nil
}

func attributes(as []Attribute) []any {
	out := []any{}
	for _, a := range as {
		out = append(out, object{"key": a.Key, "value": a.Value})
	}
	return out
}

func returnStatus(o *order) string {
	if len(o.returns) == 0 {
		return "NO_RETURN"
	}
	for _, r := range o.returns {
		if r.status == "OPEN" || r.status == "REQUESTED" {
			return "IN_PROGRESS"
		}
	}
	return "RETURNED"
}

func refundedShipping(o *order) decimal.Decimal {
	sum := decimal.Zero
	for _, r := range o.refunds {
		for _, rs := range r.shipping {
			sum = sum.Add(rs.subtotal)
		}
	}
	return sum
}

func customerObj(id int64, c *Customer) object {
	o := object{
		"__typename":          "Customer",
		"id":                  gid("Customer", id),
		"legacyResourceId":    legacy(id),
		"firstName":           nilIfEmpty(c.FirstName),
		"lastName":            nilIfEmpty(c.LastName),
		"displayName":         strings.TrimSpace(c.FirstName + " " + c.LastName),
		"email":               nilIfEmpty(c.Email),
		"phone":               nilIfEmpty(c.Phone),
		"note":                nil,
		"tags":                []string{},
		"taxExempt":           false,
		"verifiedEmail":       c.Email != "",
		"state":               "ENABLED",
		"locale":              "sv",
		"defaultAddress":      addressObj(c.Address),
		"defaultEmailAddress": nil,
		"defaultPhoneNumber":  nil,
	}
	if c.Email != "" {
		o["defaultEmailAddress"] = object{"emailAddress": c.Email, "marketingState": "NOT_SUBSCRIBED", "validFormat": true}
	}
	if c.Phone != "" {
		o["defaultPhoneNumber"] = object{"phoneNumber": c.Phone}
	}
	return o
}

// mergeTaxLines sums an order's tax lines by title and rate.
func mergeTaxLines(o *order, current bool) []TaxLine {
	type key struct{ title, rate string }
	sums := map[key]decimal.Decimal{}
	var order []key
	add := func(ts []TaxLine, part, whole int) {
		for _, t := range ts {
			k := key{t.Title, t.Rate}
			if _, ok := sums[k]; !ok {
				order = append(order, k)
			}
			sums[k] = sums[k].Add(scaled(decOrZero(t.Amount), part, whole))
		}
	}
	for _, l := range o.lines {
		q := l.quantity
		if current {
			q = l.currentQuantity()
		}
		add(l.taxLines, q, l.quantity)
	}
	for _, sl := range o.shippingLines {
		add(sl.taxLines, 1, 1)
	}
	out := make([]TaxLine, len(order))
	for i, k := range order {
		out[i] = TaxLine{Title: k.title, Rate: k.rate, Amount: sums[k].String()}
	}
	return out
}

func taxLineObjs(o *order, ts []TaxLine) []any {
	out := []any{}
	for _, t := range ts {
		rate := decOrZero(t.Rate)
		r, _ := rate.Float64()
		pct, _ := rate.Mul(decimal.NewFromInt(100)).Float64()
		out = append(out, object{"title": t.Title, "rate": r, "ratePercentage": pct, "priceSet": o.bag(decOrZero(t.Amount)), "channelLiable": t.ChannelLiable, "source": nil})
	}
	return out
}

func discountObjs(o *order, ds []Discount) []any {
	out := []any{}
	for i, d := range ds {
		amt := decOrZero(d.Amount)
		var app object
		if d.Code != "" {
			app = object{"__typename": "DiscountCodeApplication", "code": d.Code}
		} else {
			app = object{"__typename": "ManualDiscountApplication", "title": "Discount", "description": nil}
		}
		app["allocationMethod"] = "ACROSS"
		app["index"] = i
		app["targetSelection"] = "ALL"
		app["targetType"] = "LINE_ITEM"
		app["value"] = object{"__typename": "MoneyV2", "amount": amountString(amt), "currencyCode": o.presentment}
		out = append(out, object{"allocatedAmountSet": o.bag(amt), "discountApplication": app})
	}
	return out
}

func (s *Server) lineItemObj(l *lineItem) object {
	o := l.order
	q := decimal.NewFromInt(int64(l.quantity))
	disc := l.discountTotal()
	discounted := l.originalTotal().Sub(disc)
	unitAfter := decimal.Zero
	if l.quantity > 0 {
		unitAfter = discounted.Div(q).Round(2)
	}
	fulfilled := 0
	for _, fo := range o.fulfillmentOrders {
		for _, fl := range fo.lines {
			if fl.line == l {
				fulfilled += fl.total - fl.remaining
			}
		}
	}
	unfulfilled := l.currentQuantity() - fulfilled
	if unfulfilled < 0 {
		unfulfilled = 0
	}
	obj := object{
		"__typename":             "LineItem",
		"id":                     gid("LineItem", l.id),
		"sku":                    nilIfEmpty(l.sku),
		"name":                   strings.TrimSpace(l.title + " - " + l.variantTitle),
		"title":                  l.title,
		"variantTitle":           nilIfEmpty(l.variantTitle),
		"vendor":                 nilIfEmpty(l.vendor),
		"quantity":               l.quantity,
		"currentQuantity":        l.currentQuantity(),
		"refundableQuantity":     l.currentQuantity(),
		"unfulfilledQuantity":    unfulfilled,
		"nonFulfillableQuantity": 0,
		"taxable":                l.taxable,
		"requiresShipping":       l.requiresShipping,
		"isGiftCard":             false,
		"merchantEditable":       true,
		"restockable":            true,
		"customAttributes":       []any{},
		"duties":                 []any{},
		"originalUnitPriceSet":   o.bag(l.unitPrice),
		"discountedUnitPriceSet": o.bag(unitAfter),
		"discountedUnitPriceAfterAllDiscountsSet": o.bag(unitAfter),
		"originalTotalSet":                        o.bag(l.originalTotal()),
		"discountedTotalSet":                      o.bag(discounted),
		"totalDiscountSet":                        o.bag(disc),
		"priceAfterAllDiscountsBeforeTaxesSet":    o.bag(discounted),
		"unfulfilledOriginalTotalSet":             o.bag(l.unitPrice.Mul(decimal.NewFromInt(int64(unfulfilled)))),
		"unfulfilledDiscountedTotalSet":           o.bag(unitAfter.Mul(decimal.NewFromInt(int64(unfulfilled)))),
		"discountAllocations":                     discountObjs(o, l.discounts),
		"taxLines": lazy(func(args map[string]any) (any, error) {
			out := taxLineObjs(o, l.taxLines)
			if n, ok := argInt(args, "first"); ok && int(n) < len(out) {
				out = out[:n]
			}
			return out, nil
		}),
		"variant": nil,
		"product": nil,
	}
	if v := s.st.variants[l.variantID]; v != nil {
		obj["variant"] = lazy(func(map[string]any) (any, error) { return s.variantObj(v), nil })
		obj["product"] = lazy(func(map[string]any) (any, error) { return s.productObj(v.product), nil })
	}
	return obj
}

func shippingLineObj(o *order, sl *shippingLine) object {
	disc := sumDiscounts(sl.discounts)
	return object{
		"id":                        gid("ShippingLine", sl.id),
		"title":                     sl.title,
		"code":                      nilIfEmpty(sl.code),
		"source":                    nilIfEmpty(sl.source),
		"custom":                    false,
		"isRemoved":                 false,
		"carrierIdentifier":         nil,
		"deliveryCategory":          nil,
		"phone":                     nil,
		"shippingRateHandle":        nil,
		"originalPriceSet":          o.bag(sl.price),
		"discountedPriceSet":        o.bag(sl.price.Sub(disc)),
		"currentDiscountedPriceSet": o.bag(sl.price.Sub(disc)),
		"taxLines":                  taxLineObjs(o, sl.taxLines),
		"discountAllocations":       discountObjs(o, sl.discounts),
	}
}

func (s *Server) transactionObj(tx *transaction) object {
	o := tx.order
	obj := object{
		"__typename":             "OrderTransaction",
		"id":                     gid("OrderTransaction", tx.id),
		"kind":                   tx.kind,
		"status":                 tx.status,
		"gateway":                nilIfEmpty(tx.gateway),
		"formattedGateway":       nilIfEmpty(formatGateway(tx.gateway)),
		"manualPaymentGateway":   tx.gateway == "manual",
		"test":                   tx.test,
		"createdAt":              ts(tx.createdAt),
		"processedAt":            ts(tx.processedAt),
		"amountSet":              o.bag(tx.amount),
		"amountRoundingSet":      nil,
		"authorizationCode":      nilIfEmpty(tx.authorizationCode),
		"paymentId":              nilIfEmpty(tx.paymentID),
		"errorCode":              nilIfEmpty(tx.errorCode),
		"multiCapturable":        tx.multiCapturable,
		"manuallyCapturable":     tx.kind == "AUTHORIZATION" && tx.capturableAmount(o).IsPositive(),
		"authorizationExpiresAt": nil,
		"fees":                   []any{},
		"receiptJson":            "{}",
		"settlementCurrency":     nil,
		"settlementCurrencyRate": nil,
		"paymentDetails":         nil,
		"parentTransaction":      nil,
		"order":                  lazy(func(map[string]any) (any, error) { return s.orderObj(o), nil }),
		"totalUnsettledSet":      nil,
		"maximumRefundableV2":    nil,
	}
	if tx.kind == "AUTHORIZATION" {
		obj["totalUnsettledSet"] = o.bag(tx.capturableAmount(o))
	}
	if tx.authorizationUntil != nil {
		obj["authorizationExpiresAt"] = ts(*tx.authorizationUntil)
	}
	if tx.parent != nil {
		p := tx.parent
		obj["parentTransaction"] = lazy(func(map[string]any) (any, error) { return s.transactionObj(p), nil })
	}
	return obj
}

func formatGateway(g string) string {
	switch g {
	case "shopify_payments":
		return "Shopify Payments"
	case "manual":
		return "Manual"
	case "":
		return ""
	}
	return strings.ToUpper(g[:1]) + strings.ReplaceAll(g[1:], "_", " ")
}

func (s *Server) fulfillmentOrderObj(fo *fulfillmentOrder) object {
	loc := s.st.locations[fo.locationID]
	var actions []any
	if fo.status == "OPEN" || fo.status == "IN_PROGRESS" {
		actions = []any{object{"action": "CREATE_FULFILLMENT", "externalUrl": nil}, object{"action": "HOLD", "externalUrl": nil}, object{"action": "MOVE", "externalUrl": nil}}
	} else {
		actions = []any{}
	}
	assigned := object{"name": "", "countryCode": "SE", "location": nil, "address1": nil, "address2": nil, "city": nil, "province": nil, "zip": nil, "phone": nil}
	if loc != nil {
		assigned["name"] = loc.name
		if loc.address.CountryCode != "" {
			assigned["countryCode"] = loc.address.CountryCode
		}
		assigned["location"] = s.locationObj(loc)
		assigned["city"] = nilIfEmpty(loc.address.City)
	}
	return object{
		"__typename":       "FulfillmentOrder",
		"id":               gid("FulfillmentOrder", fo.id),
		"status":           fo.status,
		"requestStatus":    "UNSUBMITTED",
		"createdAt":        ts(fo.createdAt),
		"updatedAt":        ts(fo.updatedAt),
		"orderId":          gid("Order", fo.order.id),
		"orderName":        fo.order.name,
		"orderProcessedAt": ts(fo.order.processedAt),
		"fulfillAt":        nil,
		"fulfillBy":        nil,
		"fulfillmentHolds": []any{},
		"supportedActions": actions,
		"assignedLocation": assigned,
		"destination":      nil,
		"deliveryMethod":   nil,
		"order":            lazy(func(map[string]any) (any, error) { return s.orderObj(fo.order), nil }),
		"lineItems": lazy(func(map[string]any) (any, error) {
			c := &conn{}
			for _, fl := range fo.lines {
				c.add(sortID(fl.id), s.foLineObj(fl))
			}
			return c, nil
		}),
		"fulfillments": lazy(func(map[string]any) (any, error) {
			c := &conn{}
			for _, f := range fo.order.fulfillments {
				c.add(sortID(f.id), s.fulfillmentObj(f))
			}
			return c, nil
		}),
	}
}

func (s *Server) foLineObj(fl *foLine) object {
	l := fl.line
	o := object{
		"__typename":         "FulfillmentOrderLineItem",
		"id":                 gid("FulfillmentOrderLineItem", fl.id),
		"remainingQuantity":  fl.remaining,
		"totalQuantity":      fl.total,
		"requiresShipping":   l.requiresShipping,
		"sku":                nilIfEmpty(l.sku),
		"productTitle":       l.title,
		"variantTitle":       nilIfEmpty(l.variantTitle),
		"vendor":             nilIfEmpty(l.vendor),
		"warnings":           []any{},
		"financialSummaries": []any{},
		"inventoryItemId":    nil,
		"lineItem":           lazy(func(map[string]any) (any, error) { return s.lineItemObj(l), nil }),
		"variant":            nil,
	}
	if v := s.st.variants[l.variantID]; v != nil {
		o["inventoryItemId"] = gid("InventoryItem", v.itemID)
		o["variant"] = lazy(func(map[string]any) (any, error) { return s.variantObj(v), nil })
	}
	return o
}

func (s *Server) fulfillmentObj(f *fulfillment) object {
	total := 0
	for _, l := range f.lines {
		total += l.quantity
	}
	return object{
		"__typename":          "Fulfillment",
		"id":                  gid("Fulfillment", f.id),
		"legacyResourceId":    legacy(f.id),
		"name":                f.name,
		"status":              f.status,
		"displayStatus":       "FULFILLED",
		"createdAt":           ts(f.createdAt),
		"updatedAt":           ts(f.updatedAt),
		"deliveredAt":         nil,
		"inTransitAt":         nil,
		"estimatedDeliveryAt": nil,
		"requiresShipping":    true,
		"totalQuantity":       total,
		"originAddress":       nil,
		"service":             nil,
		"location":            lazy(func(map[string]any) (any, error) { return s.locationObj(s.st.locations[f.locationID]), nil }),
		"order":               lazy(func(map[string]any) (any, error) { return s.orderObj(f.order), nil }),
		"trackingInfo": lazy(func(args map[string]any) (any, error) {
			out := []any{}
			for _, t := range f.tracking {
				out = append(out, object{"number": nilIfEmpty(t.Number), "url": nilIfEmpty(t.URL), "company": nilIfEmpty(t.Company)})
			}
			if n, ok := argInt(args, "first"); ok && int(n) < len(out) {
				out = out[:n]
			}
			return out, nil
		}),
		"fulfillmentLineItems": lazy(func(map[string]any) (any, error) {
			c := &conn{}
			for _, fl := range f.lines {
				c.add(sortID(fl.id), s.fulfillmentLineObj(f.order, fl))
			}
			return c, nil
		}),
	}
}

func (s *Server) fulfillmentLineObj(o *order, fl fulfillmentLine) object {
	l := fl.line
	q := decimal.NewFromInt(int64(fl.quantity))
	return object{
		"__typename":         "FulfillmentLineItem",
		"id":                 gid("FulfillmentLineItem", fl.id),
		"quantity":           fl.quantity,
		"originalTotalSet":   o.bag(l.unitPrice.Mul(q)),
		"discountedTotalSet": o.bag(l.unitPrice.Mul(q).Sub(scaled(l.discountTotal(), fl.quantity, l.quantity))),
		"lineItem":           lazy(func(map[string]any) (any, error) { return s.lineItemObj(l), nil }),
	}
}

func (s *Server) refundObj(r *refund) object {
	o := r.order
	obj := object{
		"__typename":       "Refund",
		"id":               gid("Refund", r.id),
		"legacyResourceId": legacy(r.id),
		"note":             nilIfEmpty(r.note),
		"createdAt":        ts(r.createdAt),
		"processedAt":      ts(r.processedAt),
		"updatedAt":        ts(r.updatedAt),
		"totalRefundedSet": o.bag(r.totalRefunded),
		"duties":           []any{},
		"staffMember":      nil,
		"order":            lazy(func(map[string]any) (any, error) { return s.orderObj(o), nil }),
		"return":           nil,
		"refundLineItems": lazy(func(map[string]any) (any, error) {
			c := &conn{}
			for _, rl := range r.lines {
				rl := rl
				c.add(sortID(rl.id), object{
					"id":          gid("RefundLineItem", rl.id),
					"quantity":    rl.quantity,
					"restockType": rl.restockType,
					"restocked":   rl.restockType == "RETURN" || rl.restockType == "CANCEL" || rl.restockType == "LEGACY_RESTOCK",
					"location":    lazy(func(map[string]any) (any, error) { return s.locationObj(s.st.locations[rl.locationID]), nil }),
					"priceSet":    o.bag(rl.line.unitPrice),
					"subtotalSet": o.bag(rl.subtotal),
					"totalTaxSet": o.bag(rl.tax),
					"lineItem":    lazy(func(map[string]any) (any, error) { return s.lineItemObj(rl.line), nil }),
				})
			}
			return c, nil
		}),
		"refundShippingLines": lazy(func(map[string]any) (any, error) {
			c := &conn{}
			for _, rs := range r.shipping {
				rs := rs
				c.add(sortID(rs.id), object{
					"__typename":        "RefundShippingLine",
					"id":                gid("RefundShippingLine", rs.id),
					"subtotalAmountSet": o.bag(rs.subtotal),
					"taxAmountSet":      o.bag(rs.tax),
					"shippingLine":      shippingLineObj(o, rs.line),
				})
			}
			return c, nil
		}),
		"transactions": lazy(func(map[string]any) (any, error) {
			c := &conn{}
			for _, tx := range r.txs {
				c.add(sortID(tx.id), s.transactionObj(tx))
			}
			return c, nil
		}),
		"orderAdjustments": lazy(func(map[string]any) (any, error) { return &conn{}, nil }),
	}
	if r.ret != nil {
		rr := r.ret
		obj["return"] = lazy(func(map[string]any) (any, error) { return s.returnObj(rr), nil })
	}
	return obj
}

func (s *Server) returnObj(r *ret) object {
	o := r.order
	total := 0
	for _, l := range r.lines {
		total += l.quantity
	}
	var closedAt, decline any
	if r.closedAt != nil {
		closedAt = ts(*r.closedAt)
	}
	if r.status == "DECLINED" {
		decline = object{"reason": nilIfEmpty(r.declineReason), "note": nilIfEmpty(r.declineNote)}
	}
	return object{
		"__typename":         "Return",
		"id":                 gid("Return", r.id),
		"name":               r.name,
		"status":             r.status,
		"totalQuantity":      total,
		"createdAt":          ts(r.createdAt),
		"closedAt":           closedAt,
		"decline":            decline,
		"requestApprovedAt":  nil,
		"returnShippingFees": []any{},
		"order":              lazy(func(map[string]any) (any, error) { return s.orderObj(o), nil }),
		"returnLineItems": lazy(func(map[string]any) (any, error) {
			c := &conn{}
			for _, rl := range r.lines {
				rl := rl
				q := decimal.NewFromInt(int64(rl.quantity))
				unit := rl.line.originalTotal().Sub(rl.line.discountTotal())
				if rl.line.quantity > 0 {
					unit = unit.Div(decimal.NewFromInt(int64(rl.line.quantity)))
				}
				reason := any(nil)
				if rl.reason != "" {
					reason = object{"__typename": "ReturnReasonDefinition", "id": gid("ReturnReasonDefinition", int64(len(rl.reason))), "handle": rl.reason, "name": reasonName(rl.reason), "deleted": false}
				}
				c.add(sortID(rl.id), object{
					"__typename":                      "ReturnLineItem",
					"id":                              gid("ReturnLineItem", rl.id),
					"quantity":                        rl.quantity,
					"refundableQuantity":              rl.quantity - rl.refunded,
					"refundedQuantity":                rl.refunded,
					"processableQuantity":             rl.quantity - rl.refunded,
					"processedQuantity":               rl.refunded,
					"unprocessedQuantity":             rl.quantity - rl.refunded,
					"returnReasonNote":                rl.reasonNote,
					"customerNote":                    nil,
					"returnReasonDefinition":          reason,
					"restockingFee":                   nil,
					"totalWeight":                     nil,
					"withCodeDiscountedTotalPriceSet": o.bag(unit.Mul(q).Round(2)),
					"fulfillmentLineItem": object{
						"__typename":         "FulfillmentLineItem",
						"id":                 gid("FulfillmentLineItem", rl.fulfLineID),
						"quantity":           rl.quantity,
						"originalTotalSet":   o.bag(rl.line.unitPrice.Mul(q)),
						"discountedTotalSet": o.bag(unit.Mul(q).Round(2)),
						"lineItem":           lazy(func(map[string]any) (any, error) { return s.lineItemObj(rl.line), nil }),
					},
				})
			}
			return c, nil
		}),
		"refunds": lazy(func(map[string]any) (any, error) {
			c := &conn{}
			for _, rf := range o.refunds {
				if rf.ret == r {
					c.add(sortID(rf.id), s.refundObj(rf))
				}
			}
			return c, nil
		}),
	}
}

func reasonName(handle string) string {
	s := strings.ReplaceAll(handle, "_", " ")
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
