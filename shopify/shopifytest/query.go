package shopifytest

import (
	"slices"
	"strconv"
	"strings"
	"time"
)

// queryRoot is the QueryRoot object; its fields resolve against the state.
func (s *Server) queryRoot() object {
	st := s.st
	return object{
		"shop": lazy(func(map[string]any) (any, error) { return s.shopObj(), nil }),
		"node": lazy(func(args map[string]any) (any, error) { return s.nodeByID(args["id"]) }),
		"nodes": lazy(func(args map[string]any) (any, error) {
			ids, _ := args["ids"].([]any)
			if len(ids) > maxPageSize {
				return nil, errf("", "The maximum number of ids is %d.", maxPageSize)
			}
			out := make([]any, len(ids))
			for i, id := range ids {
				n, err := s.nodeByID(id)
				if err != nil {
					return nil, err
				}
				out[i] = n
			}
			return out, nil
		}),
		"product": lazy(func(args map[string]any) (any, error) {
			if p := st.products[idOf(args["id"], "Product")]; p != nil {
				return s.productObj(p), nil
			}
			return nil, nil
		}),
		"productByIdentifier": lazy(func(args map[string]any) (any, error) {
			ident, _ := args["identifier"].(map[string]any)
			if p := st.findProduct(ident); p != nil {
				return s.productObj(p), nil
			}
			return nil, nil
		}),
		"products": lazy(func(args map[string]any) (any, error) { return s.productsConn(args), nil }),
		"productVariant": lazy(func(args map[string]any) (any, error) {
			if v := st.variants[idOf(args["id"], "ProductVariant")]; v != nil {
				return s.variantObj(v), nil
			}
			return nil, nil
		}),
		"productOperation": lazy(func(args map[string]any) (any, error) {
			id := idOf(args["id"], "ProductSetOperation")
			pid, ok := st.productOps[id]
			if !ok {
				return nil, nil
			}
			var prod any
			if p := st.products[pid]; p != nil {
				prod = s.productObj(p)
			}
			return object{"__typename": "ProductSetOperation", "id": gid("ProductSetOperation", id), "status": "COMPLETE", "product": prod, "userErrors": []any{}}, nil
		}),
		"productVariants": lazy(func(args map[string]any) (any, error) { return s.variantsConn(args), nil }),
		"productsCount": lazy(func(args map[string]any) (any, error) {
			return count(len(s.productsConn(args).items)), nil
		}),
		"inventoryItem": lazy(func(args map[string]any) (any, error) {
			if v := st.items[idOf(args["id"], "InventoryItem")]; v != nil {
				return s.itemObj(v), nil
			}
			return nil, nil
		}),
		"inventoryItems": lazy(func(args map[string]any) (any, error) {
			q := parseSearch(str(args["query"]))
			c := &conn{}
			ids := sortedKeys(st.items)
			if vs, ok := st.skuCandidates(q); ok {
				ids = idsOf(vs, func(v *variant) int64 { return v.itemID })
			}
			for _, id := range ids {
				st.visited++
				v := st.items[id]
				if q.match(variantFields(v)) {
					c.add(sortID(id), thunk(func() any { return s.itemObj(v) }))
				}
			}
			return c, nil
		}),
		"inventoryLevel": lazy(func(args map[string]any) (any, error) {
			id := idOf(args["id"], "InventoryLevel")
			for _, lv := range st.levels {
				if lv.id == id {
					return s.levelObj(lv), nil
				}
			}
			return nil, nil
		}),
		"location": lazy(func(args map[string]any) (any, error) {
			if args["id"] == nil {
				for _, id := range sortedKeys(st.locations) {
					if st.locations[id].active {
						return s.locationObj(st.locations[id]), nil
					}
				}
				return nil, nil
			}
			if l := st.locations[idOf(args["id"], "Location")]; l != nil {
				return s.locationObj(l), nil
			}
			return nil, nil
		}),
		"locations": lazy(func(args map[string]any) (any, error) {
			incl, _ := args["includeInactive"].(bool)
			q := parseSearch(str(args["query"]))
			c := &conn{}
			for _, id := range sortedKeys(st.locations) {
				l := st.locations[id]
				if !l.active && !incl {
					continue
				}
				fields := func(f string) ([]string, bool) {
					switch f {
					case "", "name":
						return []string{l.name}, true
					case "id":
						return []string{legacy(l.id)}, true
					case "active":
						return []string{strconv.FormatBool(l.active)}, true
					}
					return nil, false
				}
				if !q.match(fields) {
					continue
				}
				key := sortID(id)
				if str(args["sortKey"]) == "NAME" {
					key = strings.ToLower(l.name) + "|" + key
				}
				c.add(key, s.locationObj(l))
			}
			c.sortByKey()
			return c, nil
		}),
		"priceList": lazy(func(args map[string]any) (any, error) {
			if pl := st.priceLists[idOf(args["id"], "PriceList")]; pl != nil {
				return s.priceListObj(pl), nil
			}
			return nil, nil
		}),
		"priceLists": lazy(func(args map[string]any) (any, error) {
			c := &conn{}
			for _, id := range sortedKeys(st.priceLists) {
				pl := st.priceLists[id]
				key := sortID(id)
				if str(args["sortKey"]) == "NAME" {
					key = strings.ToLower(pl.name) + "|" + key
				}
				c.add(key, s.priceListObj(pl))
			}
			c.sortByKey()
			return c, nil
		}),
		"order": lazy(func(args map[string]any) (any, error) {
			if o := st.orders[idOf(args["id"], "Order")]; o != nil {
				return s.orderObj(o), nil
			}
			return nil, nil
		}),
		"orders": lazy(func(args map[string]any) (any, error) { return s.ordersConn(args), nil }),
		"ordersCount": lazy(func(args map[string]any) (any, error) {
			return count(len(s.ordersConn(args).items)), nil
		}),
		"fulfillmentOrder": lazy(func(args map[string]any) (any, error) {
			if fo := st.fulfOrders[idOf(args["id"], "FulfillmentOrder")]; fo != nil {
				return s.fulfillmentOrderObj(fo), nil
			}
			return nil, nil
		}),
		"fulfillmentOrders": lazy(func(args map[string]any) (any, error) {
			incl, _ := args["includeClosed"].(bool)
			c := &conn{}
			for _, id := range sortedKeys(st.fulfOrders) {
				fo := st.fulfOrders[id]
				if !incl && (fo.status == "CLOSED" || fo.status == "CANCELLED") {
					continue
				}
				c.add(sortID(id), s.fulfillmentOrderObj(fo))
			}
			return c, nil
		}),
		"fulfillment": lazy(func(args map[string]any) (any, error) {
			if f := st.fulfs[idOf(args["id"], "Fulfillment")]; f != nil {
				return s.fulfillmentObj(f), nil
			}
			return nil, nil
		}),
		"refund": lazy(func(args map[string]any) (any, error) {
			if r := st.refunds[idOf(args["id"], "Refund")]; r != nil {
				return s.refundObj(r), nil
			}
			return nil, nil
		}),
		"return": lazy(func(args map[string]any) (any, error) {
			if r := st.returns[idOf(args["id"], "Return")]; r != nil {
				return s.returnObj(r), nil
			}
			return nil, nil
		}),
		"shopifyPaymentsAccount": lazy(func(map[string]any) (any, error) { return s.paymentsAccountObj(), nil }),
		"bulkOperation": lazy(func(args map[string]any) (any, error) {
			if op := st.bulkOps[idOf(args["id"], "BulkOperation")]; op != nil {
				return s.bulkOpObj(op), nil
			}
			return nil, nil
		}),
		"bulkOperations": lazy(func(args map[string]any) (any, error) { return s.bulkOpsConn(args), nil }),
		"currentBulkOperation": lazy(func(args map[string]any) (any, error) {
			typ := str(args["type"])
			if typ == "" {
				typ = "QUERY"
			}
			var cur *bulkOp
			for _, id := range sortedKeys(st.bulkOps) {
				if op := st.bulkOps[id]; op.typ == typ {
					cur = op
				}
			}
			if cur == nil {
				return nil, nil
			}
			return s.bulkOpObj(cur), nil
		}),
		"job": lazy(func(args map[string]any) (any, error) {
			if j := st.jobs[idOf(args["id"], "Job")]; j != nil {
				return s.jobObj(j), nil
			}
			return nil, nil
		}),
		"webhookSubscriptions": lazy(func(args map[string]any) (any, error) {
			c := &conn{}
			for _, id := range sortedKeys(st.webhookSubs) {
				c.add(sortID(id), webhookSubObj(st.webhookSubs[id]))
			}
			return c, nil
		}),
		"publicApiVersions": []any{object{"handle": APIVersion, "displayName": APIVersion + " (Latest)", "supported": true}},
	}
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func (s *Server) shopObj() object {
	return object{
		"__typename":                           "Shop",
		"id":                                   gid("Shop", idBase+1),
		"name":                                 s.opts.shop,
		"myshopifyDomain":                      s.Shop(),
		"email":                                "shop@" + s.Shop(),
		"contactEmail":                         "shop@" + s.Shop(),
		"currencyCode":                         s.st.shopCurrency,
		"ianaTimezone":                         "Europe/Stockholm",
		"taxesIncluded":                        true,
		"taxShipping":                          true,
		"enabledPresentmentCurrencies":         []any{s.st.shopCurrency},
		"url":                                  "https://" + s.Shop(),
		"plan":                                 object{"partnerDevelopment": false, "shopifyPlus": s.opts.profile.Name == Plus.Name, "displayName": s.opts.profile.Name, "publicDisplayName": s.opts.profile.Name},
		"createdAt":                            ts(time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)),
		"updatedAt":                            ts(time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)),
		"weightUnit":                           "KILOGRAMS",
		"unitSystem":                           "METRIC_SYSTEM",
		"timezoneOffset":                       "+0100",
		"timezoneOffsetMinutes":                60,
		"timezoneAbbreviation":                 "CET",
		"orderNumberFormatPrefix":              "#",
		"orderNumberFormatSuffix":              "",
		"setupRequired":                        false,
		"checkoutApiSupported":                 true,
		"transactionalSmsDisabled":             false,
		"marketingSmsConsentEnabledAtCheckout": false,
		"shipsToCountries":                     []any{"SE"},
		"description":                          nil,
	}
}

// nodeByID resolves node(id:) for the types the fake stores.
func (s *Server) nodeByID(v any) (any, error) {
	id, _ := v.(string)
	typ, n, ok := parseGID(id)
	if !ok {
		return nil, errf("", "Invalid global id '%s'", id)
	}
	st := s.st
	switch typ {
	case "Product":
		if p := st.products[n]; p != nil {
			return s.productObj(p), nil
		}
	case "ProductVariant":
		if x := st.variants[n]; x != nil {
			return s.variantObj(x), nil
		}
	case "InventoryItem":
		if x := st.items[n]; x != nil {
			return s.itemObj(x), nil
		}
	case "Location":
		if x := st.locations[n]; x != nil {
			return s.locationObj(x), nil
		}
	case "PriceList":
		if x := st.priceLists[n]; x != nil {
			return s.priceListObj(x), nil
		}
	case "Order":
		if x := st.orders[n]; x != nil {
			return s.orderObj(x), nil
		}
	case "LineItem":
		if x := st.lineItems[n]; x != nil {
			return s.lineItemObj(x), nil
		}
	case "FulfillmentOrder":
		if x := st.fulfOrders[n]; x != nil {
			return s.fulfillmentOrderObj(x), nil
		}
	case "FulfillmentOrderLineItem":
		if x := st.fulfLines[n]; x != nil {
			return s.foLineObj(x), nil
		}
	case "Fulfillment":
		if x := st.fulfs[n]; x != nil {
			return s.fulfillmentObj(x), nil
		}
	case "OrderTransaction":
		if x := st.txs[n]; x != nil {
			return s.transactionObj(x), nil
		}
	case "Refund":
		if x := st.refunds[n]; x != nil {
			return s.refundObj(x), nil
		}
	case "Return":
		if x := st.returns[n]; x != nil {
			return s.returnObj(x), nil
		}
	case "ShopifyPaymentsPayout":
		if x := st.payouts[n]; x != nil {
			return s.payoutObj(x), nil
		}
	case "ShopifyPaymentsBalanceTransaction":
		if x := st.balanceTxs[n]; x != nil {
			return s.balanceTxObj(x), nil
		}
	case "BulkOperation":
		if x := st.bulkOps[n]; x != nil {
			return s.bulkOpObj(x), nil
		}
	case "InventoryLevel":
		for _, lv := range st.levels {
			if lv.id == n {
				return s.levelObj(lv), nil
			}
		}
	case "InventoryAdjustmentGroup":
		if x := st.adjGroups[n]; x != nil {
			return x, nil
		}
	case "OrderCancelJobResult":
		if j := st.jobs[n]; j != nil {
			return s.cancelJobResultObj(j), nil
		}
	}
	return nil, nil
}

// skuCandidates returns, from the SKU index, the only variants a query can
// match when it pins the SKU: a sku:value term (not a prefix, time or
// number, which compare otherwise), an OR of such terms, or an AND with
// one. ok is false when every variant must be checked. The query is still
// matched against each candidate.
func (st *state) skuCandidates(n searchNode) ([]*variant, bool) {
	switch n := n.(type) {
	case termNode:
		if n.field != "sku" || n.op != ":" || n.value == "" || n.isTime || n.isNum || strings.HasSuffix(n.lower, "*") {
			return nil, false
		}
		return st.bySKU[n.lower], true
	case andNode:
		for _, c := range n {
			if vs, ok := st.skuCandidates(c); ok {
				return vs, true
			}
		}
	case orNode:
		if len(n) == 0 {
			return nil, false
		}
		var out []*variant
		for _, c := range n {
			vs, ok := st.skuCandidates(c)
			if !ok {
				return nil, false
			}
			out = append(out, vs...)
		}
		return out, true
	}
	return nil, false
}

// idsOf returns the distinct ids of the variants (by id), sorted.
func idsOf(vs []*variant, id func(*variant) int64) []int64 {
	out := make([]int64, 0, len(vs))
	for _, v := range vs {
		out = append(out, id(v))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func productFields(p *product) searchFields {
	return func(f string) ([]string, bool) {
		switch f {
		case "", "title":
			return []string{p.title}, true
		case "id":
			return []string{legacy(p.id)}, true
		case "handle":
			return []string{p.handle}, true
		case "status":
			return []string{p.status}, true
		case "vendor":
			return []string{p.vendor}, true
		case "product_type":
			return []string{p.ptype}, true
		case "tag":
			return p.tags, true
		case "updated_at":
			return []string{ts(p.updatedAt)}, true
		case "created_at":
			return []string{ts(p.createdAt)}, true
		case "sku":
			var out []string
			for _, v := range p.variants {
				out = append(out, v.sku)
			}
			return out, true
		case "barcode":
			var out []string
			for _, v := range p.variants {
				out = append(out, v.barcode)
			}
			return out, true
		}
		return nil, false
	}
}

func variantFields(v *variant) searchFields {
	return func(f string) ([]string, bool) {
		switch f {
		case "", "title":
			return []string{v.title, v.product.title}, true
		case "id":
			return []string{legacy(v.id)}, true
		case "sku":
			return []string{v.sku}, true
		case "barcode":
			return []string{v.barcode}, true
		case "product_id":
			return []string{legacy(v.product.id)}, true
		case "updated_at":
			return []string{ts(v.updatedAt)}, true
		case "created_at":
			return []string{ts(v.createdAt)}, true
		}
		return nil, false
	}
}

func (s *Server) productsConn(args map[string]any) *conn {
	q := parseSearch(str(args["query"]))
	c := &conn{}
	ids := sortedKeys(s.st.products)
	if vs, ok := s.st.skuCandidates(q); ok {
		ids = idsOf(vs, func(v *variant) int64 { return v.product.id })
	}
	for _, id := range ids {
		s.st.visited++
		p := s.st.products[id]
		if !q.match(productFields(p)) {
			continue
		}
		key := sortID(id)
		switch str(args["sortKey"]) {
		case "UPDATED_AT":
			key = sortTime(p.updatedAt) + "|" + key
		case "CREATED_AT":
			key = sortTime(p.createdAt) + "|" + key
		case "TITLE":
			key = strings.ToLower(p.title) + "|" + key
		case "VENDOR":
			key = strings.ToLower(p.vendor) + "|" + key
		case "PRODUCT_TYPE":
			key = strings.ToLower(p.ptype) + "|" + key
		}
		c.add(key, thunk(func() any { return s.productObj(p) }))
	}
	c.sortByKey()
	return c
}

func (s *Server) variantsConn(args map[string]any) *conn {
	q := parseSearch(str(args["query"]))
	c := &conn{}
	ids := sortedKeys(s.st.variants)
	if vs, ok := s.st.skuCandidates(q); ok {
		ids = idsOf(vs, func(v *variant) int64 { return v.id })
	}
	for _, id := range ids {
		s.st.visited++
		v := s.st.variants[id]
		if !q.match(variantFields(v)) {
			continue
		}
		key := sortID(id)
		switch str(args["sortKey"]) {
		case "SKU":
			key = v.sku + "|" + key
		case "TITLE", "NAME", "FULL_TITLE":
			key = strings.ToLower(v.product.title+" "+v.title) + "|" + key
		case "POSITION":
			key = sortID(v.product.id) + "|" + sortID(int64(v.position)) + "|" + key
		}
		c.add(key, thunk(func() any { return s.variantObj(v) }))
	}
	c.sortByKey()
	return c
}

func orderFields(o *order) searchFields {
	return func(f string) ([]string, bool) {
		switch f {
		case "", "name":
			return []string{o.name, strings.TrimPrefix(o.name, "#")}, true
		case "id":
			return []string{legacy(o.id)}, true
		case "updated_at":
			return []string{ts(o.updatedAt)}, true
		case "created_at":
			return []string{ts(o.createdAt)}, true
		case "processed_at":
			return []string{ts(o.processedAt)}, true
		case "email":
			return []string{o.email}, true
		case "tag":
			return o.tags, true
		case "test":
			return []string{strconv.FormatBool(o.test)}, true
		case "financial_status":
			return []string{strings.ToLower(o.financialStatus())}, true
		case "fulfillment_status":
			fs := strings.ToLower(o.fulfillmentStatus())
			out := []string{fs}
			switch fs {
			case "unfulfilled":
				out = append(out, "unshipped")
			case "fulfilled":
				out = append(out, "shipped")
			case "partially_fulfilled":
				out = append(out, "partial")
			}
			return out, true
		case "status":
			st := []string{"any"}
			switch {
			case o.cancelledAt != nil:
				st = append(st, "cancelled")
			case o.closedAt != nil:
				st = append(st, "closed")
			default:
				st = append(st, "open")
			}
			return st, true
		case "sku":
			var out []string
			for _, l := range o.lines {
				out = append(out, l.sku)
			}
			return out, true
		}
		return nil, false
	}
}

func (s *Server) ordersConn(args map[string]any) *conn {
	q := parseSearch(str(args["query"]))
	c := &conn{}
	for _, id := range sortedKeys(s.st.orders) {
		o := s.st.orders[id]
		if !q.match(orderFields(o)) {
			continue
		}
		key := sortID(id)
		switch sk := str(args["sortKey"]); sk {
		case "UPDATED_AT":
			key = sortTime(o.updatedAt) + "|" + key
		case "CREATED_AT":
			key = sortTime(o.createdAt) + "|" + key
		case "ORDER_NUMBER":
			key = sortID(int64(o.number)) + "|" + key
		case "ID":
		default: // PROCESSED_AT, the default, and sort keys the fake does not model
			key = sortTime(o.processedAt) + "|" + key
		}
		c.add(key, thunk(func() any { return s.orderObj(o) }))
	}
	c.sortByKey()
	return c
}
