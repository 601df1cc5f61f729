package shopifytest

import (
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// Views: the schema-shaped objects the executor walks. Each is built on
// demand from the state; fields that take arguments or reach other records
// are lazy, so a query pays only for what it selects.

func legacy(id int64) string { return strconv.FormatInt(id, 10) }

func count(n int) object { return object{"count": n, "precision": "EXACT"} }

func (s *Server) productObj(p *product) object {
	st := s.st
	minP, maxP := decimal.Zero, decimal.Zero
	var minC, maxC *decimal.Decimal
	for i, v := range p.variants {
		if i == 0 || v.price.LessThan(minP) {
			minP = v.price
		}
		if i == 0 || v.price.GreaterThan(maxP) {
			maxP = v.price
		}
		if v.compareAt != nil {
			if minC == nil || v.compareAt.LessThan(*minC) {
				minC = v.compareAt
			}
			if maxC == nil || v.compareAt.GreaterThan(*maxC) {
				maxC = v.compareAt
			}
		}
	}
	total := 0
	for _, v := range p.variants {
		total += st.available(v.itemID)
	}
	o := object{
		"__typename":                        "Product",
		"id":                                gid("Product", p.id),
		"legacyResourceId":                  legacy(p.id),
		"title":                             p.title,
		"handle":                            p.handle,
		"vendor":                            p.vendor,
		"productType":                       p.ptype,
		"descriptionHtml":                   p.descriptionHTML,
		"description":                       lazy(func(map[string]any) (any, error) { return stripTags(p.descriptionHTML), nil }),
		"status":                            p.status,
		"tags":                              p.tags,
		"createdAt":                         ts(p.createdAt),
		"updatedAt":                         ts(p.updatedAt),
		"publishedAt":                       ts(p.createdAt),
		"totalInventory":                    total,
		"tracksInventory":                   true,
		"isGiftCard":                        false,
		"hasOnlyDefaultVariant":             len(p.variants) == 1 && len(p.options) <= 1 && (len(p.options) == 0 || p.options[0].Name == "Title"),
		"hasOutOfStockVariants":             false,
		"requiresSellingPlan":               false,
		"hasVariantsThatRequiresComponents": false,
		"defaultCursor":                     lazy(func(map[string]any) (any, error) { return encodeCursor(sortID(p.id)), nil }),
		"seo":                               object{"title": nil, "description": nil},
		"templateSuffix":                    nil,
		"variantsCount":                     count(len(p.variants)),
		"priceRangeV2": object{
			"minVariantPrice": money(minP, st.shopCurrency),
			"maxVariantPrice": money(maxP, st.shopCurrency),
		},
		"onlineStoreUrl": nil,
	}
	if minC != nil {
		o["compareAtPriceRange"] = object{"minVariantCompareAtPrice": money(*minC, st.shopCurrency), "maxVariantCompareAtPrice": money(*maxC, st.shopCurrency)}
	}
	o["options"] = lazy(func(args map[string]any) (any, error) {
		var out []any
		for i, opt := range p.options {
			vals := make([]any, len(opt.Values))
			for j, v := range opt.Values {
				vals[j] = object{"__typename": "ProductOptionValue", "id": gid("ProductOptionValue", p.id*100+int64(i*10+j)), "name": v, "hasVariants": true, "linkedMetafieldValue": nil, "swatch": nil}
			}
			out = append(out, object{"__typename": "ProductOption", "id": gid("ProductOption", p.id*10+int64(i)), "name": opt.Name, "position": i + 1, "values": opt.Values, "optionValues": vals, "linkedMetafield": nil})
		}
		if n, ok := argInt(args, "first"); ok && int(n) < len(out) {
			out = out[:n]
		}
		return out, nil
	})
	o["variants"] = lazy(func(args map[string]any) (any, error) {
		c := &conn{}
		for _, v := range p.variants {
			c.add(sortID(int64(v.position))+"|"+sortID(v.id), thunk(func() any { return s.variantObj(v) }))
		}
		return c, nil
	})
	o["metafield"] = lazy(func(args map[string]any) (any, error) {
		ns, _ := args["namespace"].(string)
		key, _ := args["key"].(string)
		for _, m := range p.metafields {
			if m.Key == key && (ns == "" || m.Namespace == ns) {
				return metafieldObj(p.id, m), nil
			}
		}
		return nil, nil
	})
	o["metafields"] = lazy(func(args map[string]any) (any, error) {
		ns, _ := args["namespace"].(string)
		c := &conn{}
		for i, m := range p.metafields {
			if ns == "" || m.Namespace == ns {
				c.add(sortID(int64(i)), metafieldObj(p.id, m))
			}
		}
		return c, nil
	})
	return o
}

func metafieldObj(owner int64, m Metafield) object {
	return object{"__typename": "Metafield", "id": gid("Metafield", owner*7+int64(len(m.Key))), "namespace": m.Namespace, "key": m.Key, "type": m.Type, "value": m.Value, "jsonValue": m.Value}
}

func stripTags(h string) string {
	var b strings.Builder
	in := false
	for _, r := range h {
		switch {
		case r == '<':
			in = true
		case r == '>':
			in = false
		case !in:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func (s *Server) variantObj(v *variant) object {
	avail := s.st.available(v.itemID)
	o := object{
		"__typename":        "ProductVariant",
		"id":                gid("ProductVariant", v.id),
		"legacyResourceId":  legacy(v.id),
		"sku":               v.sku,
		"barcode":           nilIfEmpty(v.barcode),
		"title":             v.title,
		"displayName":       v.product.title + " - " + v.title,
		"price":             amountString(v.price),
		"compareAtPrice":    nil,
		"taxable":           v.taxable,
		"inventoryPolicy":   v.policy,
		"inventoryQuantity": avail,
		"availableForSale":  v.policy == "CONTINUE" || avail > 0,
		"position":          v.position,
		"selectedOptions": lazy(func(map[string]any) (any, error) {
			opts := make([]any, len(v.options))
			for i, so := range v.options {
				opts[i] = object{"name": so.Name, "value": so.Value, "optionValue": object{"__typename": "ProductOptionValue", "id": gid("ProductOptionValue", v.id*10+int64(i)), "name": so.Value, "hasVariants": true, "linkedMetafieldValue": nil, "swatch": nil}}
			}
			return opts, nil
		}),
		"createdAt":              ts(v.createdAt),
		"updatedAt":              ts(v.updatedAt),
		"requiresComponents":     false,
		"showUnitPrice":          false,
		"sellableOnlineQuantity": avail,
		"defaultCursor":          lazy(func(map[string]any) (any, error) { return encodeCursor(sortID(v.id)), nil }),
		"unitPrice":              nil,
		"product":                lazy(func(map[string]any) (any, error) { return s.productObj(v.product), nil }),
		"inventoryItem":          lazy(func(map[string]any) (any, error) { return s.itemObj(v), nil }),
	}
	if v.compareAt != nil {
		o["compareAtPrice"] = amountString(*v.compareAt)
	}
	return o
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (s *Server) itemObj(v *variant) object {
	o := object{
		"__typename":           "InventoryItem",
		"id":                   gid("InventoryItem", v.itemID),
		"legacyResourceId":     legacy(v.itemID),
		"sku":                  v.sku,
		"tracked":              v.tracked,
		"requiresShipping":     v.requiresShipping,
		"createdAt":            ts(v.createdAt),
		"updatedAt":            ts(v.updatedAt),
		"duplicateSkuCount":    s.st.duplicateSKUs(v),
		"unitCost":             nil,
		"countryCodeOfOrigin":  nil,
		"harmonizedSystemCode": nil,
		"provinceCodeOfOrigin": nil,
		"inventoryHistoryUrl":  nil,
		"measurement":          object{"__typename": "InventoryItemMeasurement", "id": gid("InventoryItemMeasurement", v.itemID), "weight": object{"unit": "KILOGRAMS", "value": 0.0}},
		"trackedEditable":      object{"locked": false, "reason": nil},
		"variant":              lazy(func(map[string]any) (any, error) { return s.variantObj(v), nil }),
		"variants": lazy(func(map[string]any) (any, error) {
			c := &conn{}
			c.add(sortID(v.id), s.variantObj(v))
			return c, nil
		}),
		"locationsCount": lazy(func(map[string]any) (any, error) { return count(len(s.st.itemLevels(v.itemID))), nil }),
		"inventoryLevel": lazy(func(args map[string]any) (any, error) {
			lv := s.st.levels[[2]int64{v.itemID, idOf(args["locationId"], "Location")}]
			if lv == nil {
				return nil, nil
			}
			return s.levelObj(lv), nil
		}),
		"inventoryLevels": lazy(func(args map[string]any) (any, error) {
			c := &conn{}
			for _, lv := range s.st.itemLevels(v.itemID) {
				c.add(sortID(lv.id), thunk(func() any { return s.levelObj(lv) }))
			}
			return c, nil
		}),
	}
	if v.cost != nil {
		o["unitCost"] = money(*v.cost, s.st.shopCurrency)
	}
	return o
}

func (s *Server) levelObj(lv *level) object {
	return object{
		"__typename":        "InventoryLevel",
		"id":                gid("InventoryLevel", lv.id) + "?inventory_item_id=" + legacy(lv.itemID),
		"isActive":          true,
		"canDeactivate":     true,
		"deactivationAlert": nil,
		"createdAt":         ts(lv.createdAt),
		"updatedAt":         ts(lv.updatedAt),
		"item":              lazy(func(map[string]any) (any, error) { return s.itemObj(s.st.items[lv.itemID]), nil }),
		"location":          lazy(func(map[string]any) (any, error) { return s.locationObj(s.st.locations[lv.locationID]), nil }),
		"quantities": lazy(func(args map[string]any) (any, error) {
			names, _ := args["names"].([]any)
			out := make([]any, 0, len(names))
			for _, n := range names {
				name, _ := n.(string)
				if !knownQuantityName(name) {
					return nil, errf("", "Invalid quantity name: %s", name)
				}
				out = append(out, object{"__typename": "InventoryQuantity", "id": gid("InventoryQuantity", lv.id) + "?name=" + name, "name": name, "quantity": lv.quantities[name], "updatedAt": ts(lv.updatedAt)})
			}
			return out, nil
		}),
	}
}

func knownQuantityName(n string) bool {
	for _, k := range inventoryNames {
		if k == n {
			return true
		}
	}
	return false
}

func (s *Server) locationObj(l *location) object {
	if l == nil {
		return nil
	}
	a := l.address
	return object{
		"__typename":           "Location",
		"id":                   gid("Location", l.id),
		"legacyResourceId":     legacy(l.id),
		"name":                 l.name,
		"isActive":             l.active,
		"activatable":          !l.active,
		"deactivatable":        l.active,
		"deletable":            false,
		"fulfillsOnlineOrders": l.fulfillsOnlineOrders,
		"hasActiveInventory":   len(s.st.locationLevels(l.id)) > 0,
		"hasUnfulfilledOrders": false,
		"isFulfillmentService": false,
		"shipsInventory":       true,
		"addressVerified":      true,
		"deactivatedAt":        nil,
		"fulfillmentService":   nil,
		"createdAt":            ts(l.createdAt),
		"updatedAt":            ts(l.createdAt),
		"suggestedAddresses":   []any{},
		"address": object{
			"address1": nilIfEmpty(a.Address1), "address2": nilIfEmpty(a.Address2), "city": nilIfEmpty(a.City),
			"zip": nilIfEmpty(a.Zip), "province": nilIfEmpty(a.Province), "provinceCode": nilIfEmpty(a.ProvinceCode),
			"country": nilIfEmpty(a.Country), "countryCode": nilIfEmpty(a.CountryCode), "phone": nilIfEmpty(a.Phone),
			"formatted": formatAddress(a), "latitude": nil, "longitude": nil,
		},
		"inventoryLevel": lazy(func(args map[string]any) (any, error) {
			lv := s.st.levels[[2]int64{idOf(args["inventoryItemId"], "InventoryItem"), l.id}]
			if lv == nil {
				return nil, nil
			}
			return s.levelObj(lv), nil
		}),
		"inventoryLevels": lazy(func(args map[string]any) (any, error) {
			c := &conn{}
			for _, lv := range s.st.locationLevels(l.id) {
				c.add(sortID(lv.id), thunk(func() any { return s.levelObj(lv) }))
			}
			return c, nil
		}),
	}
}

func formatAddress(a Address) []any {
	var out []any
	for _, p := range []string{a.Address1, a.Address2, strings.TrimSpace(a.Zip + " " + a.City), a.Country} {
		if strings.TrimSpace(p) != "" {
			out = append(out, p)
		}
	}
	if out == nil {
		out = []any{}
	}
	return out
}

func addressObj(a *Address) any {
	if a == nil {
		return nil
	}
	name := strings.TrimSpace(a.FirstName + " " + a.LastName)
	return object{
		"__typename": "MailingAddress",
		"id":         gid("MailingAddress", int64(len(name)+len(a.Address1))+idBase) + "?model_name=Address",
		"firstName":  nilIfEmpty(a.FirstName), "lastName": nilIfEmpty(a.LastName), "name": nilIfEmpty(name),
		"company":  nilIfEmpty(a.Company),
		"address1": nilIfEmpty(a.Address1), "address2": nilIfEmpty(a.Address2),
		"city": nilIfEmpty(a.City), "zip": nilIfEmpty(a.Zip),
		"province": nilIfEmpty(a.Province), "provinceCode": nilIfEmpty(a.ProvinceCode),
		"country": nilIfEmpty(a.Country), "countryCodeV2": nilIfEmpty(a.CountryCode),
		"phone":                nilIfEmpty(a.Phone),
		"formatted":            lazy(func(map[string]any) (any, error) { return formatAddress(*a), nil }),
		"formattedArea":        nilIfEmpty(strings.TrimSpace(a.City + " " + a.Country)),
		"coordinatesValidated": false,
		"latitude":             nil, "longitude": nil, "timeZone": nil, "validationResultSummary": nil,
	}
}

func (s *Server) priceListObj(pl *priceList) object {
	return object{
		"__typename":       "PriceList",
		"id":               gid("PriceList", pl.id),
		"name":             pl.name,
		"currency":         pl.currency,
		"fixedPricesCount": len(pl.prices),
		"catalog":          nil,
		"parent":           nil,
		"prices": lazy(func(args map[string]any) (any, error) {
			origin, _ := args["originType"].(string)
			c := &conn{}
			if origin == "" || origin == "FIXED" {
				for _, vid := range sortedKeys(pl.prices) {
					if v := s.st.variants[vid]; v != nil {
						c.add(sortID(vid), thunk(func() any { return s.priceListPriceObj(pl, v, pl.prices[vid]) }))
					}
				}
			}
			return c, nil
		}),
	}
}

func (s *Server) priceListPriceObj(pl *priceList, v *variant, fp fixedPrice) object {
	o := object{
		"originType":     "FIXED",
		"price":          money(fp.price, pl.currency),
		"compareAtPrice": nil,
		"variant":        lazy(func(map[string]any) (any, error) { return s.variantObj(v), nil }),
	}
	if fp.compareAt != nil {
		o["compareAtPrice"] = money(*fp.compareAt, pl.currency)
	}
	return o
}

// levels helpers

func (st *state) itemLevels(itemID int64) []*level { return st.byItem[itemID] }

func (st *state) locationLevels(locID int64) []*level { return st.byLoc[locID] }

func (st *state) available(itemID int64) int {
	n := 0
	for _, lv := range st.byItem[itemID] {
		n += lv.quantities["available"]
	}
	return n
}

// level returns the inventory level of an item at a location, creating it
// (inactive stock of zero) when create is set.
func (st *state) level(itemID, locID int64, create bool, now time.Time) *level {
	k := [2]int64{itemID, locID}
	if lv := st.levels[k]; lv != nil || !create {
		return lv
	}
	lv := &level{id: st.id(), itemID: itemID, locationID: locID, quantities: map[string]int{}, createdAt: now, updatedAt: now}
	st.levels[k] = lv
	st.byItem[itemID] = append(st.byItem[itemID], lv)
	st.byLoc[locID] = append(st.byLoc[locID], lv)
	return lv
}
