package shopifytest

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"github.com/vektah/gqlparser/v2/ast"
)

// mutationImpls maps the implemented mutations to their resolvers, which
// run over the state with s.mu held.
func (s *Server) mutationImpls() map[string]func(args map[string]any) (any, error) {
	return map[string]func(args map[string]any) (any, error){
		"productSet":                 s.productSet,
		"productVariantsBulkUpdate":  s.productVariantsBulkUpdate,
		"priceListFixedPricesAdd":    s.priceListFixedPricesAdd,
		"priceListFixedPricesUpdate": s.priceListFixedPricesUpdate,
		"inventorySetQuantities":     s.inventorySetQuantities,
		"inventoryActivate":          s.inventoryActivate,
		"fulfillmentCreate":          s.fulfillmentCreate,
		"orderCancel":                s.orderCancel,
		"orderMarkAsPaid":            s.orderMarkAsPaid,
		"orderCapture":               s.orderCapture,
		"refundCreate":               s.refundCreate,
		"orderClose":                 s.orderClose,
		"bulkOperationRunQuery":      s.bulkRunQuery,
		"bulkOperationCancel":        s.bulkOperationCancel,
		"webhookSubscriptionCreate":  s.webhookSubscriptionCreate,
		"webhookSubscriptionDelete":  s.webhookSubscriptionDelete,
	}
}

// mutationRoot is the Mutation object: every field of the schema's
// Mutation type, the implemented ones resolving over the state and the
// others answering NOT_IMPLEMENTED, all behind the @idempotent handling.
func (s *Server) mutationRoot(ex *executor) object {
	impl := s.mutationImpls()
	root := object{}
	for _, f := range ex.schema.Mutation.Fields {
		name := f.Name
		fn := impl[name]
		root[name] = lazyField(func(field *ast.Field, args map[string]any) (any, error) {
			if err := checkInputSizes(field, args); err != nil {
				return nil, err
			}
			return s.idempotent(name, field, ex.vars, args, fn)
		})
	}
	return root
}

// ImplementedMutations lists the mutations the fake executes; every other
// mutation of the schema validates but answers NOT_IMPLEMENTED.
func ImplementedMutations() []string {
	var out []string
	for name := range (&Server{}).mutationImpls() {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// Mutations whose 2026-10 description documents @idempotent support, and
// those where the key is mandatory since 2026-04.
var (
	idempotentSupported = map[string]bool{
		"appUsageRecordCreate": true, "inventoryActivate": true, "inventoryAdjustQuantities": true,
		"inventoryMoveQuantities": true, "inventorySetOnHandQuantities": true, "inventorySetQuantities": true,
		"inventoryShipmentAddItems": true, "inventoryShipmentCreate": true, "inventoryShipmentCreateInTransit": true,
		"inventoryShipmentReceive": true, "inventoryTransferCreate": true, "inventoryTransferCreateAsReadyToShip": true,
		"inventoryTransferDuplicate": true, "inventoryTransferSetItems": true, "locationActivate": true,
		"locationDeactivate": true, "orderCreateMandatePayment": true, "refundCreate": true,
		"subscriptionBillingAttemptCreate": true,
	}
	idempotentRequired = map[string]bool{
		"inventorySetQuantities": true, "inventoryAdjustQuantities": true, "inventoryMoveQuantities": true,
		"inventorySetOnHandQuantities": true, "refundCreate": true,
	}
)

// idempotent applies the @idempotent(key:) directive around a mutation:
// the first call with a key runs and its result is remembered; a repeat
// with the same key and the same arguments returns the remembered result
// without running again; the same key with other arguments is
// IDEMPOTENCY_KEY_PARAMETER_MISMATCH: a user error where the mutation's
// userErrors have a code field (inventorySetQuantities), a top-level error
// with that extensions.code where they have none (refundCreate,
// inventoryActivate: where Shopify reports it for these is not documented;
// the code must reach the client somehow). The wording of the top-level
// errors for a missing, empty or unsupported key is the fake's own
// (Shopify documents that these fail, not the text).
func (s *Server) idempotent(name string, f *ast.Field, vars, args map[string]any, fn func(map[string]any) (any, error)) (any, error) {
	const mismatch = "The same idempotency key was used with different parameters."
	var key string
	var has bool
	if d := f.Directives.ForName("idempotent"); d != nil {
		has = true
		key, _ = d.ArgumentMap(vars)["key"].(string)
	}
	if has && !idempotentSupported[name] {
		return nil, errf("BAD_REQUEST", "The @idempotent directive is not supported on the %s mutation.", name)
	}
	if idempotentRequired[name] && !has {
		return nil, errf("BAD_REQUEST", "The %s mutation requires an idempotency key: add @idempotent(key: \"…\").", name)
	}
	if has && strings.TrimSpace(key) == "" {
		return nil, errf("BAD_REQUEST", "The idempotency key cannot be empty or blank.")
	}
	if fn == nil {
		return nil, errf("NOT_IMPLEMENTED", "shopifytest: mutation %s is not implemented by the fake", name)
	}
	if !has {
		return fn(args)
	}
	fp, _ := json.Marshal(args)
	if rec := s.st.idem[key]; rec != nil {
		if rec.field != name || rec.fingerprint != string(fp) {
			if !userErrorsHaveCode(f) {
				return nil, errf("IDEMPOTENCY_KEY_PARAMETER_MISMATCH", mismatch)
			}
			return object{"userErrors": []any{object{
				"field":   nil,
				"message": mismatch,
				"code":    "IDEMPOTENCY_KEY_PARAMETER_MISMATCH",
			}}}, nil
		}
		s.count(func(st *Stats) { st.IdempotentReplays++ })
		return rec.result, nil
	}
	res, err := fn(args)
	if err != nil {
		return nil, err
	}
	s.st.idem[key] = &idemRecord{field: name, fingerprint: string(fp), result: res}
	return res, nil
}

// userErrorsHaveCode reports whether the userErrors of a mutation field's
// payload carry a code.
func userErrorsHaveCode(f *ast.Field) bool {
	payload := mustSchema().Types[f.Definition.Type.Name()]
	if payload == nil {
		return false
	}
	ue := payload.Fields.ForName("userErrors")
	if ue == nil {
		return false
	}
	t := mustSchema().Types[ue.Type.Name()]
	return t != nil && t.Fields.ForName("code") != nil
}

// maxInputArray is Shopify's limit on input list lengths.
const maxInputArray = 250

// checkInputSizes enforces the 250-item limit on input lists
// (MAX_INPUT_SIZE_EXCEEDED).
func checkInputSizes(f *ast.Field, args map[string]any) error {
	var check func(v any) int
	check = func(v any) int {
		switch x := v.(type) {
		case []any:
			if len(x) > maxInputArray {
				return len(x)
			}
			for _, it := range x {
				if n := check(it); n > 0 {
					return n
				}
			}
		case map[string]any:
			for _, it := range x {
				if n := check(it); n > 0 {
					return n
				}
			}
		}
		return 0
	}
	for _, a := range f.Definition.Arguments {
		if n := check(args[a.Name]); n > 0 {
			return errf("MAX_INPUT_SIZE_EXCEEDED", "The input array size of %d is greater than the maximum allowed of %d.", n, maxInputArray)
		}
	}
	return nil
}

func userErr(field []any, msg, code string) object {
	o := object{"field": field, "message": msg}
	if code != "" {
		o["code"] = code
	}
	return o
}

func path(parts ...any) []any {
	out := make([]any, len(parts))
	for i, p := range parts {
		if n, ok := p.(int); ok {
			out[i] = strconv.Itoa(n)
		} else {
			out[i] = p
		}
	}
	return out
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

func toInt(v any) (int, bool) {
	n, ok := asInt64(v)
	return int(n), ok
}

// parseMoneyInput reads a Money or Decimal input value.
func parseMoneyInput(v any) (decimal.Decimal, bool) {
	switch x := v.(type) {
	case string:
		d, err := decimal.NewFromString(strings.TrimSpace(x))
		return d, err == nil
	case json.Number:
		d, err := decimal.NewFromString(x.String())
		return d, err == nil
	case float64:
		return decimal.NewFromFloat(x), true
	case int64:
		return decimal.NewFromInt(x), true
	}
	return decimal.Decimal{}, false
}

// findProduct resolves a ProductSetIdentifiers value.
func (st *state) findProduct(ident map[string]any) *product {
	if ident == nil {
		return nil
	}
	if id, ok := ident["id"]; ok && id != nil {
		return st.products[idOf(id, "Product")]
	}
	if h := str(ident["handle"]); h != "" {
		return st.byHandle[h]
	}
	if c := asMap(ident["customId"]); c != nil {
		ns := str(c["namespace"])
		if ns == "" {
			ns = "custom"
		}
		return st.byMeta[metaKey(ns, str(c["key"]), str(c["value"]))]
	}
	return nil
}

// productSet implements productSet: an upsert by identifier with list
// replace semantics for variants (variants matched by id, else by option
// values; existing variants not in the input are deleted; omitted scalar
// fields stay as they are).
func (s *Server) productSet(args map[string]any) (any, error) {
	st := s.st
	now := s.now()
	in := asMap(args["input"])
	ident := asMap(args["identifier"])
	sync := true
	if b, ok := args["synchronous"].(bool); ok {
		sync = b
	}
	fail := func(errs ...any) (any, error) {
		return object{"product": nil, "productSetOperation": nil, "userErrors": errs}, nil
	}
	if ident == nil && in["id"] != nil {
		ident = map[string]any{"id": in["id"]}
	}
	p := st.findProduct(ident)
	if ident != nil && ident["id"] != nil && p == nil {
		return fail(userErr(path("identifier", "id"), "Product does not exist", "PRODUCT_DOES_NOT_EXIST"))
	}
	creating := p == nil
	title, hasTitle := in["title"].(string)
	if creating && strings.TrimSpace(title) == "" || hasTitle && strings.TrimSpace(title) == "" {
		return fail(userErr(path("input", "title"), "Title can't be blank", "INVALID_INPUT"))
	}
	handle := str(in["handle"])
	if handle == "" && ident != nil {
		handle = str(ident["handle"])
	}
	if o := st.byHandle[handle]; handle != "" && o != nil && o != p {
		return fail(userErr(path("input", "handle"), fmt.Sprintf("Handle '%s' already in use. Please provide a new handle.", handle), "HANDLE_NOT_UNIQUE"))
	}
	// Options.
	var options []ProductOption
	optsIn, hasOpts := in["productOptions"]
	if hasOpts {
		for i, o := range asList(optsIn) {
			om := asMap(o)
			name := str(om["name"])
			if name == "" {
				return fail(userErr(path("input", "productOptions", i, "name"), "Option name can't be blank", "INVALID_INPUT"))
			}
			opt := ProductOption{Name: name}
			for _, v := range asList(om["values"]) {
				opt.Values = append(opt.Values, str(asMap(v)["name"]))
			}
			for _, prev := range options {
				if strings.EqualFold(prev.Name, name) {
					return fail(userErr(path("input", "productOptions", i, "name"), "Duplicated option name.", "DUPLICATED_OPTION_NAME"))
				}
			}
			options = append(options, opt)
		}
		if len(options) > 3 {
			return fail(userErr(path("input", "productOptions"), "Can only specify a maximum of 3 options", "OPTIONS_OVER_LIMIT"))
		}
	} else if p != nil {
		options = p.options
	}
	variantsIn, hasVariants := in["variants"]
	if hasVariants && !hasOpts && creating {
		return fail(userErr(path("input", "productOptions"), "Product options input is required when updating variants.", "PRODUCT_OPTIONS_INPUT_MISSING"))
	}
	if creating && !hasVariants {
		// A product always has at least its default variant.
		if !hasOpts {
			options = []ProductOption{{Name: "Title", Values: []string{"Default Title"}}}
		}
	}
	type vin struct {
		m        map[string]any
		existing *variant
		opts     []SelectedOption
		price    *decimal.Decimal
		compare  *decimal.Decimal
		clearCmp bool
		cost     *decimal.Decimal
	}
	var vins []vin
	if hasVariants {
		seen := map[string]bool{}
		for i, v := range asList(variantsIn) {
			vm := asMap(v)
			x := vin{m: vm}
			for j, ov := range asList(vm["optionValues"]) {
				om := asMap(ov)
				oname := str(om["optionName"])
				val := str(om["name"])
				var opt *ProductOption
				for k := range options {
					if strings.EqualFold(options[k].Name, oname) {
						opt = &options[k]
					}
				}
				if opt == nil {
					return fail(userErr(path("input", "variants", i, "optionValues", j, "optionName"), fmt.Sprintf("Option '%s' does not exist.", oname), "OPTION_DOES_NOT_EXIST"))
				}
				found := false
				for _, ev := range opt.Values {
					found = found || ev == val
				}
				if !found {
					return fail(userErr(path("input", "variants", i, "optionValues", j, "name"), fmt.Sprintf("Option value '%s' does not exist for option '%s'.", val, opt.Name), "OPTION_VALUE_DOES_NOT_EXIST"))
				}
				x.opts = append(x.opts, SelectedOption{Name: opt.Name, Value: val})
			}
			if len(x.opts) != len(options) {
				return fail(userErr(path("input", "variants", i, "optionValues"), "Variant must have a value for every product option.", "OPTION_VALUES_MISSING"))
			}
			combo := optionKey(x.opts)
			if seen[combo] {
				return fail(userErr(path("input", "variants", i), "The variant '"+strings.ReplaceAll(combo, "\x00", " / ")+"' already exists.", "DUPLICATED_OPTION_VALUE"))
			}
			seen[combo] = true
			if raw, ok := vm["price"]; ok && raw != nil {
				d, ok := parseMoneyInput(raw)
				if !ok || d.IsNegative() {
					return fail(userErr(path("input", "variants", i, "price"), "Price must be a non-negative amount", "INVALID_VARIANT"))
				}
				x.price = &d
			}
			if raw, ok := vm["compareAtPrice"]; ok {
				if raw == nil {
					x.clearCmp = true
				} else if d, ok := parseMoneyInput(raw); ok && !d.IsNegative() {
					x.compare = &d
				} else {
					return fail(userErr(path("input", "variants", i, "compareAtPrice"), "Compare at price must be a non-negative amount", "INVALID_VARIANT"))
				}
			}
			if ii := asMap(vm["inventoryItem"]); ii != nil && ii["cost"] != nil {
				d, ok := parseMoneyInput(ii["cost"])
				if !ok || d.IsNegative() {
					return fail(userErr(path("input", "variants", i, "inventoryItem", "cost"), "Cost must be a non-negative amount", "INVALID_VARIANT"))
				}
				x.cost = &d
			}
			if id := vm["id"]; id != nil {
				ev := st.variants[idOf(id, "ProductVariant")]
				if ev == nil || p == nil || ev.product != p {
					return fail(userErr(path("input", "variants", i, "id"), "Product variant does not exist", "PRODUCT_VARIANT_DOES_NOT_EXIST"))
				}
				x.existing = ev
			} else if p != nil {
				for _, ev := range p.variants {
					if optionKey(ev.options) == combo {
						x.existing = ev
					}
				}
			}
			for j, iq := range asList(vm["inventoryQuantities"]) {
				qm := asMap(iq)
				if st.locations[idOf(qm["locationId"], "Location")] == nil {
					return fail(userErr(path("input", "variants", i, "inventoryQuantities", j, "locationId"), "Location does not exist", "INVALID_INPUT"))
				}
				if n := str(qm["name"]); n != "available" && n != "on_hand" {
					return fail(userErr(path("input", "variants", i, "inventoryQuantities", j, "name"), "Quantity name must be available or on_hand", "INVALID_INPUT"))
				}
			}
			vins = append(vins, x)
		}
		if len(vins) > 2048 {
			return fail(userErr(path("input", "variants"), "Exceeded the maximum of 2048 variants", "VARIANTS_OVER_LIMIT"))
		}
	}

	// Apply.
	if creating {
		p = &product{id: st.id(), status: "ACTIVE", createdAt: now, tags: []string{}}
		st.products[p.id] = p
		if ident != nil {
			if c := asMap(ident["customId"]); c != nil {
				ns := str(c["namespace"])
				if ns == "" {
					ns = "custom"
				}
				st.setMetafield(p, Metafield{Namespace: ns, Key: str(c["key"]), Type: "single_line_text_field", Value: str(c["value"])})
			}
		}
	}
	if hasTitle {
		p.title = title
	}
	if handle != "" {
		st.setHandle(p, handle)
	} else if creating {
		st.setHandle(p, s.uniqueHandle(handleize(p.title), p))
	}
	if v, ok := in["vendor"].(string); ok {
		p.vendor = v
	}
	if v, ok := in["productType"].(string); ok {
		p.ptype = v
	}
	if v, ok := in["descriptionHtml"].(string); ok {
		p.descriptionHTML = v
	}
	if v, ok := in["status"].(string); ok {
		p.status = v
	}
	if tags, ok := in["tags"]; ok {
		p.tags = []string{}
		for _, t := range asList(tags) {
			p.tags = append(p.tags, str(t))
		}
	}
	for _, m := range asList(in["metafields"]) {
		mm := asMap(m)
		st.setMetafield(p, Metafield{Namespace: str(mm["namespace"]), Key: str(mm["key"]), Type: str(mm["type"]), Value: str(mm["value"])})
	}
	p.options = options
	if hasVariants {
		kept := map[*variant]bool{}
		var next []*variant
		for i, x := range vins {
			v := x.existing
			if v == nil {
				v = s.newVariant(p, now)
			}
			kept[v] = true
			v.options = x.opts
			v.title = variantTitle(x.opts)
			v.position = i + 1
			if x.price != nil {
				v.price = *x.price
			}
			if x.compare != nil {
				v.compareAt = x.compare
			} else if x.clearCmp {
				v.compareAt = nil
			}
			if sku, ok := x.m["sku"].(string); ok {
				st.setSKU(v, sku)
			}
			if ii := asMap(x.m["inventoryItem"]); ii != nil {
				if sku, ok := ii["sku"].(string); ok {
					st.setSKU(v, sku)
				}
				if b, ok := ii["tracked"].(bool); ok {
					v.tracked = b
				}
				if b, ok := ii["requiresShipping"].(bool); ok {
					v.requiresShipping = b
				}
				if x.cost != nil {
					v.cost = x.cost
				}
			}
			if b, ok := x.m["barcode"].(string); ok {
				v.barcode = b
			}
			if b, ok := x.m["taxable"].(bool); ok {
				v.taxable = b
			}
			if pol, ok := x.m["inventoryPolicy"].(string); ok {
				v.policy = pol
			}
			for _, iq := range asList(x.m["inventoryQuantities"]) {
				qm := asMap(iq)
				q, _ := toInt(qm["quantity"])
				lv := st.level(v.itemID, idOf(qm["locationId"], "Location"), true, now)
				setQuantity(lv, str(qm["name"]), q)
				lv.updatedAt = now
			}
			v.updatedAt = now
			next = append(next, v)
		}
		for _, old := range p.variants {
			if !kept[old] {
				s.deleteVariant(old)
			}
		}
		p.variants = next
	} else if creating {
		v := s.newVariant(p, now)
		v.options = []SelectedOption{{Name: options[0].Name, Value: options[0].Values[0]}}
		v.title = "Default Title"
		v.position = 1
		p.variants = []*variant{v}
	}
	p.updatedAt = now
	topic := "products/update"
	if creating {
		topic = "products/create"
	}
	s.emitLocked(topic, s.productPayload(p))
	if !sync {
		opID := st.id()
		pid := p.id
		st.productOps[opID] = pid
		return object{"product": nil, "userErrors": []any{}, "productSetOperation": object{
			"__typename": "ProductSetOperation", "id": gid("ProductSetOperation", opID), "status": "CREATED",
			"product": nil, "userErrors": []any{},
		}}, nil
	}
	return object{"product": s.productObj(p), "productSetOperation": nil, "userErrors": []any{}}, nil
}

func optionKey(os []SelectedOption) string {
	parts := make([]string, len(os))
	for i, o := range os {
		parts[i] = strings.ToLower(o.Name) + "=" + o.Value
	}
	sort.Strings(parts)
	return strings.Join(parts, "\x00")
}

func variantTitle(os []SelectedOption) string {
	vals := make([]string, len(os))
	for i, o := range os {
		vals[i] = o.Value
	}
	if len(vals) == 0 {
		return "Default Title"
	}
	return strings.Join(vals, " / ")
}

func (s *Server) uniqueHandle(base string, p *product) string {
	if base == "" {
		base = "product"
	}
	h := base
	for n := 1; ; n++ {
		if o := s.st.byHandle[h]; o == nil || o == p {
			return h
		}
		h = base + "-" + strconv.Itoa(n)
	}
}

func (s *Server) newVariant(p *product, now time.Time) *variant {
	st := s.st
	v := &variant{id: st.id(), itemID: st.id(), product: p, taxable: true, policy: "DENY", tracked: true, requiresShipping: true, createdAt: now, updatedAt: now, price: decimal.Zero}
	st.variants[v.id] = v
	st.items[v.itemID] = v
	return v
}

func (s *Server) deleteVariant(v *variant) {
	st := s.st
	st.unindexSKU(v)
	delete(st.variants, v.id)
	delete(st.items, v.itemID)
	for _, lv := range st.byItem[v.itemID] {
		delete(st.levels, [2]int64{lv.itemID, lv.locationID})
		locs := st.byLoc[lv.locationID]
		for i, x := range locs {
			if x == lv {
				st.byLoc[lv.locationID] = append(locs[:i:i], locs[i+1:]...)
				break
			}
		}
	}
	delete(st.byItem, v.itemID)
	for _, pl := range st.priceLists {
		delete(pl.prices, v.id)
	}
}

// setQuantity sets a named quantity, keeping available and on_hand in
// step as Shopify does (on_hand = available + committed + unavailable).
func setQuantity(lv *level, name string, q int) (deltaAvail, deltaOnHand int) {
	switch name {
	case "available":
		d := q - lv.quantities["available"]
		lv.quantities["available"] = q
		lv.quantities["on_hand"] += d
		return d, d
	case "on_hand":
		d := q - lv.quantities["on_hand"]
		lv.quantities["on_hand"] = q
		lv.quantities["available"] += d
		return d, d
	}
	lv.quantities[name] = q
	return 0, 0
}

// productVariantsBulkUpdate updates prices and other fields of existing
// variants of one product.
func (s *Server) productVariantsBulkUpdate(args map[string]any) (any, error) {
	st := s.st
	now := s.now()
	p := st.products[idOf(args["productId"], "Product")]
	if p == nil {
		return object{"product": nil, "productVariants": nil, "userErrors": []any{userErr(path("productId"), "Product does not exist", "PRODUCT_DOES_NOT_EXIST")}}, nil
	}
	partial, _ := args["allowPartialUpdates"].(bool)
	type upd struct {
		v        *variant
		m        map[string]any
		price    *decimal.Decimal
		compare  *decimal.Decimal
		clearCmp bool
	}
	var ups []upd
	errs := []any{}
	for i, raw := range asList(args["variants"]) {
		m := asMap(raw)
		if m["id"] == nil {
			errs = append(errs, userErr(path("variants", i, "id"), "Product variant is missing ID attribute", "PRODUCT_VARIANT_ID_MISSING"))
			continue
		}
		v := st.variants[idOf(m["id"], "ProductVariant")]
		if v == nil || v.product != p {
			errs = append(errs, userErr(path("variants", i, "id"), "Product variant does not exist", "PRODUCT_VARIANT_DOES_NOT_EXIST"))
			continue
		}
		if _, ok := m["inventoryQuantities"]; ok {
			errs = append(errs, userErr(path("variants", i, "inventoryQuantities"), "Inventory quantities can only be provided during create. To update inventory for existing variants, use inventoryAdjustQuantities.", "NO_INVENTORY_QUANTITIES_ON_VARIANTS_UPDATE"))
			continue
		}
		u := upd{v: v, m: m}
		if raw, ok := m["price"]; ok && raw != nil {
			d, ok := parseMoneyInput(raw)
			if !ok {
				errs = append(errs, userErr(path("variants", i, "price"), "Price is invalid", "INVALID_INPUT"))
				continue
			}
			if d.IsNegative() {
				errs = append(errs, userErr(path("variants", i, "price"), "Price must be greater than or equal to 0", "GREATER_THAN_OR_EQUAL_TO"))
				continue
			}
			u.price = &d
		}
		if raw, ok := m["compareAtPrice"]; ok {
			if raw == nil {
				u.clearCmp = true
			} else if d, ok := parseMoneyInput(raw); ok && !d.IsNegative() {
				u.compare = &d
			} else {
				errs = append(errs, userErr(path("variants", i, "compareAtPrice"), "Compare at price must be greater than or equal to 0", "GREATER_THAN_OR_EQUAL_TO"))
				continue
			}
		}
		ups = append(ups, u)
	}
	if len(errs) > 0 && !partial {
		return object{"product": s.productObj(p), "productVariants": nil, "userErrors": errs}, nil
	}
	out := []any{}
	for _, u := range ups {
		v := u.v
		if u.price != nil {
			v.price = *u.price
		}
		if u.compare != nil {
			v.compareAt = u.compare
		} else if u.clearCmp {
			v.compareAt = nil
		}
		if b, ok := u.m["barcode"].(string); ok {
			v.barcode = b
		}
		if b, ok := u.m["taxable"].(bool); ok {
			v.taxable = b
		}
		if pol, ok := u.m["inventoryPolicy"].(string); ok {
			v.policy = pol
		}
		if ii := asMap(u.m["inventoryItem"]); ii != nil {
			if sku, ok := ii["sku"].(string); ok {
				st.setSKU(v, sku)
			}
			if b, ok := ii["tracked"].(bool); ok {
				v.tracked = b
			}
			if c, ok := parseMoneyInput(ii["cost"]); ok {
				v.cost = &c
			}
		}
		v.updatedAt = now
		out = append(out, s.variantObj(v))
	}
	if len(ups) > 0 {
		p.updatedAt = now
		s.emitLocked("products/update", s.productPayload(p))
	}
	return object{"product": s.productObj(p), "productVariants": out, "userErrors": errs}, nil
}

// priceInput validates a PriceListPriceInput against the list's currency.
func (s *Server) priceInput(pl *priceList, raw any, field []any) (int64, fixedPrice, object) {
	m := asMap(raw)
	vid := idOf(m["variantId"], "ProductVariant")
	if s.st.variants[vid] == nil {
		return 0, fixedPrice{}, userErr(append(field, "variantId"), "Variant not found.", "VARIANT_NOT_FOUND")
	}
	pm := asMap(m["price"])
	amt, ok := parseMoneyInput(pm["amount"])
	if !ok {
		return 0, fixedPrice{}, userErr(append(field, "price", "amount"), "Price is invalid.", "BLANK")
	}
	if str(pm["currencyCode"]) != pl.currency {
		return 0, fixedPrice{}, userErr(append(field, "price", "currencyCode"), "The specified currency doesn't match the price list's currency.", "PRICE_LIST_CURRENCY_MISMATCH")
	}
	fp := fixedPrice{price: amt}
	if cm := asMap(m["compareAtPrice"]); cm != nil {
		c, ok := parseMoneyInput(cm["amount"])
		if !ok || str(cm["currencyCode"]) != pl.currency {
			return 0, fixedPrice{}, userErr(append(field, "compareAtPrice", "currencyCode"), "The specified currency doesn't match the price list's currency.", "PRICE_LIST_CURRENCY_MISMATCH")
		}
		fp.compareAt = &c
	}
	return vid, fp, nil
}

func (s *Server) priceListFixedPricesAdd(args map[string]any) (any, error) {
	pl := s.st.priceLists[idOf(args["priceListId"], "PriceList")]
	if pl == nil {
		return object{"prices": nil, "userErrors": []any{userErr(path("priceListId"), "Price list not found.", "PRICE_LIST_NOT_FOUND")}}, nil
	}
	type pend struct {
		vid int64
		fp  fixedPrice
	}
	var ps []pend
	errs := []any{}
	for i, raw := range asList(args["prices"]) {
		vid, fp, e := s.priceInput(pl, raw, path("prices", i))
		if e != nil {
			errs = append(errs, e)
			continue
		}
		ps = append(ps, pend{vid, fp})
	}
	if len(errs) > 0 {
		return object{"prices": nil, "userErrors": errs}, nil
	}
	out := []any{}
	for _, p := range ps {
		pl.prices[p.vid] = p.fp
		out = append(out, s.priceListPriceObj(pl, s.st.variants[p.vid], p.fp))
	}
	return object{"prices": out, "userErrors": []any{}}, nil
}

func (s *Server) priceListFixedPricesUpdate(args map[string]any) (any, error) {
	pl := s.st.priceLists[idOf(args["priceListId"], "PriceList")]
	fail := func(errs ...any) (any, error) {
		return object{"priceList": nil, "pricesAdded": nil, "deletedFixedPriceVariantIds": nil, "userErrors": errs}, nil
	}
	if pl == nil {
		return fail(userErr(path("priceListId"), "Price list not found.", "PRICE_LIST_NOT_FOUND"))
	}
	type pend struct {
		vid int64
		fp  fixedPrice
	}
	var ps []pend
	errs := []any{}
	for i, raw := range asList(args["pricesToAdd"]) {
		vid, fp, e := s.priceInput(pl, raw, path("pricesToAdd", i))
		if e != nil {
			errs = append(errs, e)
			continue
		}
		ps = append(ps, pend{vid, fp})
	}
	var dels []int64
	for i, raw := range asList(args["variantIdsToDelete"]) {
		vid := idOf(raw, "ProductVariant")
		if _, ok := pl.prices[vid]; !ok {
			errs = append(errs, userErr(path("variantIdsToDelete", i), "Price is not fixed.", "PRICE_NOT_FIXED"))
			continue
		}
		dels = append(dels, vid)
	}
	if len(errs) > 0 {
		return fail(errs...)
	}
	added := []any{}
	for _, p := range ps {
		pl.prices[p.vid] = p.fp
		added = append(added, s.priceListPriceObj(pl, s.st.variants[p.vid], p.fp))
	}
	deleted := []any{}
	for _, vid := range dels {
		delete(pl.prices, vid)
		deleted = append(deleted, gid("ProductVariant", vid))
	}
	return object{"priceList": s.priceListObj(pl), "pricesAdded": added, "deletedFixedPriceVariantIds": deleted, "userErrors": []any{}}, nil
}

// validReasons are the inventory adjustment reasons Shopify accepts.
var validReasons = map[string]bool{
	"correction": true, "cycle_count_available": true, "damaged": true, "movement_created": true,
	"movement_updated": true, "movement_received": true, "movement_canceled": true, "other": true,
	"promotion": true, "quality_control": true, "received": true, "reservation_created": true,
	"reservation_deleted": true, "reservation_updated": true, "restock": true, "safety_stock": true,
	"shrinkage": true,
}

// inventorySetQuantities sets absolute quantities, all or nothing, with
// changeFromQuantity compare-and-set: every quantity must carry the field
// (null skips the check, as of 2026-04); a value that differs from the
// current quantity is CHANGE_FROM_QUANTITY_STALE and nothing is written.
func (s *Server) inventorySetQuantities(args map[string]any) (any, error) {
	st := s.st
	now := s.now()
	in := asMap(args["input"])
	fail := func(errs ...any) (any, error) {
		return object{"inventoryAdjustmentGroup": nil, "userErrors": errs}, nil
	}
	name := str(in["name"])
	if name != "available" && name != "on_hand" {
		return fail(userErr(path("input", "name"), "The quantity name must be either 'available' or 'on_hand'.", "INVALID_NAME"))
	}
	if !validReasons[str(in["reason"])] {
		return fail(userErr(path("input", "reason"), "The specified reason is invalid.", "INVALID_REASON"))
	}
	type set struct {
		lv *level
		q  int
	}
	var sets []set
	errs := []any{}
	seen := map[[2]int64]bool{}
	for i, raw := range asList(in["quantities"]) {
		m := asMap(raw)
		field := path("input", "quantities", i)
		item := idOf(m["inventoryItemId"], "InventoryItem")
		loc := idOf(m["locationId"], "Location")
		q, _ := toInt(m["quantity"])
		cf, hasCF := m["changeFromQuantity"]
		switch {
		case st.items[item] == nil:
			errs = append(errs, userErr(append(field, "inventoryItemId"), "The specified inventory item could not be found.", "INVALID_INVENTORY_ITEM"))
			continue
		case st.locations[loc] == nil:
			errs = append(errs, userErr(append(field, "locationId"), "The specified location could not be found.", "INVALID_LOCATION"))
			continue
		case seen[[2]int64{item, loc}]:
			errs = append(errs, userErr(field, "The combination of inventoryItemId and locationId must be unique.", "NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR"))
			continue
		case !hasCF:
			errs = append(errs, userErr(append(field, "changeFromQuantity"), "The changeFromQuantity field is required. Pass null to skip the compare check.", "COMPARE_QUANTITY_REQUIRED"))
			continue
		case q < 0 && name == "on_hand":
			errs = append(errs, userErr(append(field, "quantity"), "The quantity can't be negative.", "INVALID_QUANTITY_NEGATIVE"))
			continue
		case q > 1_000_000_000:
			errs = append(errs, userErr(append(field, "quantity"), "The quantity can't be higher than 1,000,000,000.", "INVALID_QUANTITY_TOO_HIGH"))
			continue
		case q < -1_000_000_000:
			errs = append(errs, userErr(append(field, "quantity"), "The quantity can't be lower than -1,000,000,000.", "INVALID_QUANTITY_TOO_LOW"))
			continue
		}
		seen[[2]int64{item, loc}] = true
		lv := st.level(item, loc, false, now)
		if lv == nil {
			errs = append(errs, userErr(append(field, "locationId"), "The specified inventory item is not stocked at the location.", "INVALID_LOCATION"))
			continue
		}
		if cf != nil {
			want, _ := toInt(cf)
			if have := lv.quantities[name]; have != want {
				errs = append(errs, userErr(append(field, "changeFromQuantity"), fmt.Sprintf("The quantity %d does not match the current %s quantity %d; it has changed since it was read.", want, name, have), "CHANGE_FROM_QUANTITY_STALE"))
				continue
			}
		}
		sets = append(sets, set{lv, q})
	}
	if len(errs) > 0 {
		s.count(func(st *Stats) { st.StaleQuantities += countCode(errs, "CHANGE_FROM_QUANTITY_STALE") })
		return fail(errs...)
	}
	var changes []object
	for _, x := range sets {
		dA, dO := setQuantity(x.lv, name, x.q)
		x.lv.updatedAt = now
		item, loc := x.lv.itemID, x.lv.locationID
		changes = append(changes,
			object{"name": "available", "delta": dA, "quantityAfterChange": x.lv.quantities["available"], "ledgerDocumentUri": nil, "_item": item, "_loc": loc},
			object{"name": "on_hand", "delta": dO, "quantityAfterChange": x.lv.quantities["on_hand"], "ledgerDocumentUri": nil, "_item": item, "_loc": loc},
		)
		s.emitLocked("inventory_levels/update", map[string]any{
			"inventory_item_id":    item,
			"location_id":          loc,
			"available":            x.lv.quantities["available"],
			"updated_at":           restTime(now),
			"admin_graphql_api_id": gid("InventoryLevel", x.lv.id) + "?inventory_item_id=" + legacy(item),
		})
	}
	group := s.adjustmentGroup(str(in["reason"]), in["referenceDocumentUri"], changes, now)
	return object{"inventoryAdjustmentGroup": group, "userErrors": []any{}}, nil
}

func countCode(errs []any, code string) int {
	n := 0
	for _, e := range errs {
		if o, ok := e.(object); ok && o["code"] == code {
			n++
		}
	}
	return n
}

// adjustmentGroup records an InventoryAdjustmentGroup; its changes field
// filters by item, location and quantity name.
func (s *Server) adjustmentGroup(reason string, ref any, changes []object, now time.Time) object {
	id := s.st.id()
	g := object{
		"__typename":           "InventoryAdjustmentGroup",
		"id":                   gid("InventoryAdjustmentGroup", id),
		"createdAt":            ts(now),
		"reason":               reason,
		"referenceDocumentUri": ref,
		"app":                  nil,
		"staffMember":          nil,
	}
	g["changes"] = lazy(func(args map[string]any) (any, error) {
		items, locs, names := idSet(args["inventoryItemIds"], "InventoryItem"), idSet(args["locationIds"], "Location"), nameSet(args["quantityNames"])
		out := []any{}
		for _, c := range changes {
			item, loc := c["_item"].(int64), c["_loc"].(int64)
			if items != nil && !items[item] || locs != nil && !locs[loc] || names != nil && !names[c["name"].(string)] {
				continue
			}
			o := object{}
			for k, v := range c {
				if !strings.HasPrefix(k, "_") {
					o[k] = v
				}
			}
			if v := s.st.items[item]; v != nil {
				o["item"] = s.itemObj(v)
			}
			o["location"] = s.locationObj(s.st.locations[loc])
			out = append(out, o)
		}
		return out, nil
	})
	s.st.adjGroups[id] = g
	return g
}

func idSet(v any, typ string) map[int64]bool {
	l, ok := v.([]any)
	if !ok {
		return nil
	}
	m := map[int64]bool{}
	for _, x := range l {
		m[idOf(x, typ)] = true
	}
	return m
}

func nameSet(v any) map[string]bool {
	l, ok := v.([]any)
	if !ok {
		return nil
	}
	m := map[string]bool{}
	for _, x := range l {
		m[str(x)] = true
	}
	return m
}

// inventoryActivate stocks an item at a location (idempotent by nature:
// activating an active level returns it unchanged).
func (s *Server) inventoryActivate(args map[string]any) (any, error) {
	st := s.st
	now := s.now()
	item := idOf(args["inventoryItemId"], "InventoryItem")
	loc := idOf(args["locationId"], "Location")
	if st.items[item] == nil {
		return object{"inventoryLevel": nil, "userErrors": []any{userErr(path("inventoryItemId"), "Inventory item does not exist", "")}}, nil
	}
	l := st.locations[loc]
	if l == nil {
		return object{"inventoryLevel": nil, "userErrors": []any{userErr(path("locationId"), "Location does not exist", "")}}, nil
	}
	if !l.active {
		return object{"inventoryLevel": nil, "userErrors": []any{userErr(path("locationId"), "Location is not active", "")}}, nil
	}
	lv := st.level(item, loc, false, now)
	if lv == nil {
		lv = st.level(item, loc, true, now)
		if a, ok := toInt(args["available"]); ok && args["available"] != nil {
			setQuantity(lv, "available", a)
		}
		if o, ok := toInt(args["onHand"]); ok && args["onHand"] != nil {
			setQuantity(lv, "on_hand", o)
		}
	}
	return object{"inventoryLevel": s.levelObj(lv), "userErrors": []any{}}, nil
}
