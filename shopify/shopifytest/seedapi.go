package shopifytest

import (
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// Seeding and inspection. Add* store records as if they had been created
// in the shop (no webhooks are sent for seeded records, except AddOrder,
// which emits orders/create like a checkout does); they return the record
// with the ids the fake assigned. Inspection methods return copies.

func (s *Server) stamp(t time.Time) time.Time {
	if t.IsZero() {
		return s.now()
	}
	return t.UTC()
}

// newID returns the numeric id of a given GID of type typ, or a new one.
func (s *Server) newID(given, typ string) (int64, error) {
	if given == "" {
		return s.st.id(), nil
	}
	id := idOf(given, typ)
	if id == 0 {
		return 0, seedErr("%q is not a %s GID", given, typ)
	}
	if id > s.st.nextID {
		s.st.nextID = id
	}
	return id, nil
}

// AddLocation adds a location. The first location added is where orders
// are fulfilled from by default.
func (s *Server) AddLocation(l Location) (Location, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, err := s.newID(l.ID, "Location")
	if err != nil {
		return Location{}, err
	}
	if l.Name == "" {
		return Location{}, seedErr("location name is empty")
	}
	s.st.locations[id] = &location{id: id, name: l.Name, active: !l.Inactive, fulfillsOnlineOrders: boolOr(l.FulfillsOnlineOrders, true), address: l.Address, createdAt: s.now()}
	l.ID = gid("Location", id)
	return l, nil
}

// AddProduct adds a product with its variants (a product without variants
// gets Shopify's default variant).
func (s *Server) AddProduct(p Product) (Product, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if strings.TrimSpace(p.Title) == "" {
		return Product{}, seedErr("product title is empty")
	}
	id, err := s.newID(p.ID, "Product")
	if err != nil {
		return Product{}, err
	}
	created := s.stamp(p.CreatedAt)
	pr := &product{id: id, title: p.Title, handle: p.Handle, vendor: p.Vendor, ptype: p.ProductType, descriptionHTML: p.DescriptionHTML, status: p.Status, tags: nonNilStrings(append([]string(nil), p.Tags...)), options: p.Options, metafields: p.Metafields, createdAt: created, updatedAt: created}
	if !p.UpdatedAt.IsZero() {
		pr.updatedAt = p.UpdatedAt.UTC()
	}
	if pr.status == "" {
		pr.status = "ACTIVE"
	}
	if pr.handle == "" {
		pr.handle = s.uniqueHandle(handleize(p.Title), pr)
	} else if o := s.st.byHandle[pr.handle]; o != nil {
		return Product{}, seedErr("handle %q is taken", pr.handle)
	}
	vs := p.Variants
	if len(vs) == 0 {
		vs = []Variant{{Price: "0"}}
	}
	if len(pr.options) == 0 {
		if len(vs) == 1 && len(vs[0].Options) == 0 {
			pr.options = []ProductOption{{Name: "Title", Values: []string{"Default Title"}}}
		} else {
			seen := map[string]int{}
			for _, v := range vs {
				for _, o := range v.Options {
					i, ok := seen[o.Name]
					if !ok {
						i = len(pr.options)
						seen[o.Name] = i
						pr.options = append(pr.options, ProductOption{Name: o.Name})
					}
					if !contains(pr.options[i].Values, o.Value) {
						pr.options[i].Values = append(pr.options[i].Values, o.Value)
					}
				}
			}
		}
	}
	var built []*variant
	for i, v := range vs {
		price, err := parseDec("variant price", orDefault(v.Price, "0"))
		if err != nil {
			return Product{}, err
		}
		cmp, err := parseOptDec("variant compare-at price", v.CompareAtPrice)
		if err != nil {
			return Product{}, err
		}
		cost, err := parseOptDec("variant cost", v.Cost)
		if err != nil {
			return Product{}, err
		}
		vid, err := s.newID(v.ID, "ProductVariant")
		if err != nil {
			return Product{}, err
		}
		iid, err := s.newID(v.InventoryItemID, "InventoryItem")
		if err != nil {
			return Product{}, err
		}
		opts := v.Options
		if len(opts) == 0 && len(pr.options) == 1 && pr.options[0].Name == "Title" {
			opts = []SelectedOption{{Name: "Title", Value: "Default Title"}}
		}
		vc := s.stamp(v.CreatedAt)
		if v.CreatedAt.IsZero() {
			vc = created
		}
		nv := &variant{id: vid, itemID: iid, product: pr, sku: v.SKU, barcode: v.Barcode, title: v.Title, price: price, compareAt: cmp, cost: cost,
			taxable: boolOr(v.Taxable, true), policy: orDefault(v.InventoryPolicy, "DENY"), options: opts, tracked: boolOr(v.Tracked, true),
			requiresShipping: boolOr(v.RequiresShipping, true), position: i + 1, createdAt: vc, updatedAt: pr.updatedAt}
		if !v.UpdatedAt.IsZero() {
			nv.updatedAt = v.UpdatedAt.UTC()
		}
		if nv.title == "" {
			nv.title = variantTitle(opts)
		}
		built = append(built, nv)
	}
	pr.variants = built
	s.st.products[id] = pr
	s.st.setHandle(pr, pr.handle)
	mfs := pr.metafields
	pr.metafields = nil
	for _, m := range mfs {
		s.st.setMetafield(pr, m)
	}
	for _, v := range built {
		s.st.variants[v.id] = v
		s.st.items[v.itemID] = v
		sku := v.sku
		v.sku = ""
		s.st.setSKU(v, sku)
	}
	return s.exportProduct(pr), nil
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func (s *Server) exportProduct(p *product) Product {
	out := Product{ID: gid("Product", p.id), Title: p.title, Handle: p.handle, Vendor: p.vendor, ProductType: p.ptype, DescriptionHTML: p.descriptionHTML,
		Status: p.status, Tags: append([]string(nil), p.tags...), Options: p.options, Metafields: append([]Metafield(nil), p.metafields...), CreatedAt: p.createdAt, UpdatedAt: p.updatedAt}
	for _, v := range p.variants {
		t, r, tr := v.taxable, v.requiresShipping, v.tracked
		ev := Variant{ID: gid("ProductVariant", v.id), InventoryItemID: gid("InventoryItem", v.itemID), SKU: v.sku, Barcode: v.barcode, Title: v.title,
			Price: amountString(v.price), Taxable: &t, InventoryPolicy: v.policy, Options: append([]SelectedOption(nil), v.options...), Tracked: &tr, RequiresShipping: &r,
			CreatedAt: v.createdAt, UpdatedAt: v.updatedAt}
		if v.compareAt != nil {
			ev.CompareAtPrice = amountString(*v.compareAt)
		}
		if v.cost != nil {
			ev.Cost = amountString(*v.cost)
		}
		out.Variants = append(out.Variants, ev)
	}
	return out
}

// Products returns every product, ordered by id.
func (s *Server) Products() []Product {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Product
	for _, id := range sortedKeys(s.st.products) {
		out = append(out, s.exportProduct(s.st.products[id]))
	}
	return out
}

// VariantBySKU returns the first variant (by id) with the SKU.
func (s *Server) VariantBySKU(sku string) (Variant, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.st.variantBySKU(sku)
	if v == nil {
		return Variant{}, false
	}
	p := s.exportProduct(v.product)
	for _, ev := range p.Variants {
		if ev.ID == gid("ProductVariant", v.id) {
			return ev, true
		}
	}
	return Variant{}, false
}

func (st *state) variantBySKU(sku string) *variant {
	var best *variant
	for _, v := range st.bySKU[skuKey(sku)] {
		if v.sku == sku && (best == nil || v.id < best.id) {
			best = v
		}
	}
	return best
}

// SetInventory stocks the variant with the SKU at a location (by GID) with
// an available quantity, activating the level if needed.
func (s *Server) SetInventory(sku, locationID string, available int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.st.variantBySKU(sku)
	if v == nil {
		return seedErr("no variant with SKU %q", sku)
	}
	loc := idOf(locationID, "Location")
	if s.st.locations[loc] == nil {
		return seedErr("no location %q", locationID)
	}
	lv := s.st.level(v.itemID, loc, true, s.now())
	setQuantity(lv, "available", available)
	lv.updatedAt = s.now()
	return nil
}

// InventoryLevel returns the available quantity of the SKU at a location;
// ok is false when the item is not stocked there.
func (s *Server) InventoryLevel(sku, locationID string) (available int, ok bool) {
	q, ok := s.InventoryQuantities(sku, locationID)
	return q["available"], ok
}

// InventoryQuantities returns all named quantities of the SKU at a location.
func (s *Server) InventoryQuantities(sku, locationID string) (map[string]int, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.st.variantBySKU(sku)
	if v == nil {
		return nil, false
	}
	lv := s.st.levels[[2]int64{v.itemID, idOf(locationID, "Location")}]
	if lv == nil {
		return nil, false
	}
	out := map[string]int{}
	for k, n := range lv.quantities {
		out[k] = n
	}
	return out, true
}

// AddPriceList adds a price list (Prices keyed by variant GID).
func (s *Server) AddPriceList(pl PriceList) (PriceList, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, err := s.newID(pl.ID, "PriceList")
	if err != nil {
		return PriceList{}, err
	}
	if pl.Name == "" || len(pl.Currency) != 3 {
		return PriceList{}, seedErr("price list needs a name and an ISO currency")
	}
	x := &priceList{id: id, name: pl.Name, currency: pl.Currency, prices: map[int64]fixedPrice{}}
	for vid, fp := range pl.Prices {
		v := idOf(vid, "ProductVariant")
		if s.st.variants[v] == nil {
			return PriceList{}, seedErr("price list price for unknown variant %q", vid)
		}
		price, err := parseDec("price list price", fp.Price)
		if err != nil {
			return PriceList{}, err
		}
		cmp, err := parseOptDec("price list compare-at price", fp.CompareAtPrice)
		if err != nil {
			return PriceList{}, err
		}
		x.prices[v] = fixedPrice{price: price, compareAt: cmp}
	}
	s.st.priceLists[id] = x
	pl.ID = gid("PriceList", id)
	return pl, nil
}

// PriceListPrices returns a price list's fixed prices by variant GID.
func (s *Server) PriceListPrices(priceListID string) map[string]FixedPrice {
	s.mu.Lock()
	defer s.mu.Unlock()
	pl := s.st.priceLists[idOf(priceListID, "PriceList")]
	if pl == nil {
		return nil
	}
	out := map[string]FixedPrice{}
	for vid, fp := range pl.prices {
		x := FixedPrice{Price: amountString(fp.price)}
		if fp.compareAt != nil {
			x.CompareAtPrice = amountString(*fp.compareAt)
		}
		out[gid("ProductVariant", vid)] = x
	}
	return out
}

// AddOrder adds an order as a checkout would: it gets a number and name,
// line items linked to variants by SKU, a fulfillment order for each
// location its lines are fulfilled from (Order.LocationID,
// LineItem.LocationID) covering the lines there that require shipping,
// and an orders/create webhook. The returned order carries the ids and
// locations assigned.
func (s *Server) AddOrder(o Order) (Order, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.st
	id, err := s.newID(o.ID, "Order")
	if err != nil {
		return Order{}, err
	}
	if len(o.Lines) == 0 {
		return Order{}, seedErr("order has no lines")
	}
	for i, l := range o.Lines {
		if l.LocationID != "" && st.locations[idOf(l.LocationID, "Location")] == nil {
			return Order{}, seedErr("line %d: no location %q", i, l.LocationID)
		}
	}
	cur := orDefault(o.Currency, st.shopCurrency)
	pres := orDefault(o.PresentmentCurrency, cur)
	rate, err := parseDec("exchange rate", orDefault(o.ExchangeRate, "1"))
	if err != nil || !rate.IsPositive() {
		return Order{}, seedErr("exchange rate %q must be a positive decimal", o.ExchangeRate)
	}
	if pres == cur && !rate.Equal(decimal.NewFromInt(1)) {
		return Order{}, seedErr("exchange rate must be 1 when presentment and shop currency agree")
	}
	created := s.stamp(o.CreatedAt)
	ord := &order{id: id, email: o.Email, phone: o.Phone, note: o.Note, currency: cur, presentment: pres, rate: rate, taxesIncluded: o.TaxesIncluded,
		billing: o.BillingAddress, shipping: o.ShippingAddress, tags: append([]string(nil), o.Tags...), test: o.Test, createdAt: created,
		updatedAt: created, processedAt: created, discountCodes: o.DiscountCodes, customAttributes: o.CustomAttributes, sourceName: orDefault(o.SourceName, "web"),
		cancelledAt: o.CancelledAt, cancelReason: o.CancelReason, closedAt: o.ClosedAt}
	if !o.UpdatedAt.IsZero() {
		ord.updatedAt = o.UpdatedAt.UTC()
	}
	if !o.ProcessedAt.IsZero() {
		ord.processedAt = o.ProcessedAt.UTC()
	}
	if o.Number == 0 {
		st.orderNumber++
		o.Number = st.orderNumber
	} else if o.Number > st.orderNumber {
		st.orderNumber = o.Number
	}
	ord.number = o.Number
	ord.name = orDefault(o.Name, "#"+strconv.Itoa(o.Number))
	if o.Customer != nil {
		c := *o.Customer
		cid, err := s.newID(c.ID, "Customer")
		if err != nil {
			return Order{}, err
		}
		c.ID = gid("Customer", cid)
		ord.customer, ord.customerID = &c, cid
		o.Customer = &c
	}
	for i, l := range o.Lines {
		if l.Quantity <= 0 {
			return Order{}, seedErr("line %d: quantity must be positive", i)
		}
		price, err := parseDec("line unit price", l.UnitPrice)
		if err != nil {
			return Order{}, err
		}
		for _, t := range l.TaxLines {
			if _, err := parseDec("tax amount", t.Amount); err != nil {
				return Order{}, err
			}
		}
		for _, d := range l.DiscountAllocations {
			if _, err := parseDec("discount amount", d.Amount); err != nil {
				return Order{}, err
			}
		}
		lid, err := s.newID(l.ID, "LineItem")
		if err != nil {
			return Order{}, err
		}
		li := &lineItem{id: lid, order: ord, sku: l.SKU, title: l.Title, variantTitle: l.VariantTitle, vendor: l.Vendor, quantity: l.Quantity, unitPrice: price,
			taxable: boolOr(l.Taxable, true), requiresShipping: boolOr(l.RequiresShipping, true), taxLines: l.TaxLines, discounts: l.DiscountAllocations}
		if l.VariantID != "" {
			li.variantID = idOf(l.VariantID, "ProductVariant")
		} else if v := st.variantBySKU(l.SKU); v != nil {
			li.variantID = v.id
		}
		if v := st.variants[li.variantID]; v != nil && li.title == "" {
			li.title = v.product.title
			if v.title != "Default Title" {
				li.variantTitle = v.title
			}
		}
		ord.lines = append(ord.lines, li)
		st.lineItems[lid] = li
		o.Lines[i].ID = gid("LineItem", lid)
		if li.variantID != 0 {
			o.Lines[i].VariantID = gid("ProductVariant", li.variantID)
		}
	}
	for _, sl := range o.ShippingLines {
		price, err := parseDec("shipping price", sl.Price)
		if err != nil {
			return Order{}, err
		}
		ord.shippingLines = append(ord.shippingLines, &shippingLine{id: st.id(), title: sl.Title, code: sl.Code, source: "shopify", price: price, taxLines: sl.TaxLines, discounts: sl.DiscountAllocations})
	}
	byID := map[string]*transaction{}
	for i, t := range o.Transactions {
		amt, err := parseDec("transaction amount", t.Amount)
		if err != nil {
			return Order{}, err
		}
		tid, err := s.newID(t.ID, "OrderTransaction")
		if err != nil {
			return Order{}, err
		}
		at := s.stamp(t.CreatedAt)
		if t.CreatedAt.IsZero() {
			at = created
		}
		tx := &transaction{id: tid, order: ord, kind: orDefault(t.Kind, "SALE"), status: orDefault(t.Status, "SUCCESS"), gateway: t.Gateway, amount: amt,
			createdAt: at, processedAt: at, paymentID: t.PaymentID, authorizationCode: t.AuthorizationCode, test: t.Test || o.Test,
			authorizationUntil: t.AuthorizationExpiresAt, multiCapturable: t.MultiCapturable}
		if t.ParentID != "" {
			tx.parent = byID[t.ParentID]
			if tx.parent == nil {
				return Order{}, seedErr("transaction %d: parent %q not among the earlier transactions", i, t.ParentID)
			}
		}
		o.Transactions[i].ID = gid("OrderTransaction", tid)
		byID[o.Transactions[i].ID] = tx
		ord.txs = append(ord.txs, tx)
		st.txs[tid] = tx
	}
	loc := idOf(o.LocationID, "Location")
	if loc == 0 {
		for _, lid := range sortedKeys(st.locations) {
			if st.locations[lid].active {
				loc = lid
				break
			}
		}
	}
	// One fulfillment order per location, in the order of the lines that
	// first name each, holding the lines that require shipping.
	byLoc := map[int64]*fulfillmentOrder{}
	for i, l := range ord.lines {
		lineLoc := loc
		if o.Lines[i].LocationID != "" {
			lineLoc = idOf(o.Lines[i].LocationID, "Location")
		}
		o.Lines[i].LocationID = gid("Location", lineLoc)
		if !l.requiresShipping {
			continue
		}
		fo := byLoc[lineLoc]
		if fo == nil {
			fo = &fulfillmentOrder{id: st.id(), order: ord, locationID: lineLoc, status: "OPEN", createdAt: created, updatedAt: created}
			if ord.cancelledAt != nil {
				fo.status = "CLOSED"
			}
			byLoc[lineLoc] = fo
			ord.fulfillmentOrders = append(ord.fulfillmentOrders, fo)
			st.fulfOrders[fo.id] = fo
		}
		fl := &foLine{id: st.id(), fo: fo, line: l, total: l.quantity, remaining: l.quantity}
		fo.lines = append(fo.lines, fl)
		st.fulfLines[fl.id] = fl
	}
	st.orders[id] = ord
	o.ID, o.Name, o.Currency, o.PresentmentCurrency = gid("Order", id), ord.name, cur, pres
	o.LocationID = gid("Location", loc)
	s.emitLocked("orders/create", s.orderPayload(ord))
	return o, nil
}

// TouchOrder bumps an order's updatedAt to the fake's clock (as any edit
// would) and emits orders/updated.
func (s *Server) TouchOrder(orderID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.st.orders[idOf(orderID, "Order")]
	if o == nil {
		return seedErr("no order %q", orderID)
	}
	o.updatedAt = s.now()
	return s.emitLocked("orders/updated", s.orderPayload(o))
}

// TouchProduct bumps a product's updatedAt to the fake's clock.
func (s *Server) TouchProduct(productID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.st.products[idOf(productID, "Product")]
	if p == nil {
		return seedErr("no product %q", productID)
	}
	p.updatedAt = s.now()
	return s.emitLocked("products/update", s.productPayload(p))
}

func (st *state) orderLine(o *order, lineID, sku string) *lineItem {
	for _, l := range o.lines {
		if lineID != "" && gid("LineItem", l.id) == lineID || lineID == "" && sku != "" && l.sku == sku {
			return l
		}
	}
	return nil
}

// AddRefund records a refund on an order: refunded line quantities reduce
// the lines' current quantities (and current totals); each REFUND
// transaction is added to the order. refunds/create is emitted.
func (s *Server) AddRefund(orderID string, r Refund) (Refund, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.st
	o := st.orders[idOf(orderID, "Order")]
	if o == nil {
		return Refund{}, seedErr("no order %q", orderID)
	}
	id, err := s.newID(r.ID, "Refund")
	if err != nil {
		return Refund{}, err
	}
	at := s.stamp(r.CreatedAt)
	rf := &refund{id: id, order: o, note: r.Note, createdAt: at, processedAt: at, updatedAt: at}
	total := decimal.Zero
	for i, rl := range r.Lines {
		l := st.orderLine(o, rl.LineItemID, rl.SKU)
		if l == nil {
			return Refund{}, seedErr("refund line %d: no such order line", i)
		}
		if rl.Quantity <= 0 || rl.Quantity > l.currentQuantity() {
			return Refund{}, seedErr("refund line %d: quantity %d not refundable (current %d)", i, rl.Quantity, l.currentQuantity())
		}
		sub := scaled(l.originalTotal().Sub(l.discountTotal()), rl.Quantity, l.quantity)
		if rl.Subtotal != "" {
			if sub, err = parseDec("refund subtotal", rl.Subtotal); err != nil {
				return Refund{}, err
			}
		}
		tax := scaled(l.taxTotal(), rl.Quantity, l.quantity)
		if rl.Tax != "" {
			if tax, err = parseDec("refund tax", rl.Tax); err != nil {
				return Refund{}, err
			}
		}
		rf.lines = append(rf.lines, refundLine{id: st.id(), line: l, quantity: rl.Quantity, restockType: orDefault(rl.RestockType, "NO_RESTOCK"), locationID: o.fulfillmentLocation(), subtotal: sub, tax: tax})
		l.refundedQuantity += rl.Quantity
		total = total.Add(sub)
		if !o.taxesIncluded {
			total = total.Add(tax)
		}
	}
	if r.Shipping != "" {
		sub, err := parseDec("refund shipping", r.Shipping)
		if err != nil {
			return Refund{}, err
		}
		tax := decOrZero(r.ShippingTax)
		var sl *shippingLine
		if len(o.shippingLines) > 0 {
			sl = o.shippingLines[0]
		} else {
			sl = &shippingLine{id: st.id(), title: "Shipping"}
		}
		rf.shipping = append(rf.shipping, refundShipping{id: st.id(), line: sl, subtotal: sub, tax: tax})
		total = total.Add(sub)
		if !o.taxesIncluded {
			total = total.Add(tax)
		}
	}
	txs := r.Transactions
	if len(txs) == 0 && total.IsPositive() {
		gw := ""
		for _, t := range o.txs {
			if t.status == "SUCCESS" && (t.kind == "SALE" || t.kind == "CAPTURE") {
				gw = t.gateway
				break
			}
		}
		txs = []Transaction{{Kind: "REFUND", Gateway: gw, Amount: total.String()}}
	}
	refunded := decimal.Zero
	for i, t := range txs {
		amt, err := parseDec("refund transaction amount", t.Amount)
		if err != nil {
			return Refund{}, err
		}
		tx := &transaction{kind: orDefault(t.Kind, "REFUND"), status: orDefault(t.Status, "SUCCESS"), gateway: t.Gateway, amount: amt, createdAt: at, processedAt: at, paymentID: t.PaymentID, test: o.test}
		st.addTx(o, tx)
		rf.txs = append(rf.txs, tx)
		if tx.status == "SUCCESS" {
			refunded = refunded.Add(amt)
		}
		txs[i].ID = gid("OrderTransaction", tx.id)
	}
	rf.totalRefunded = refunded
	if r.ReturnID != "" {
		rf.ret = st.returns[idOf(r.ReturnID, "Return")]
		if rf.ret == nil || rf.ret.order != o {
			return Refund{}, seedErr("no return %q on the order", r.ReturnID)
		}
		for _, rl := range rf.lines {
			for i := range rf.ret.lines {
				if rf.ret.lines[i].line == rl.line {
					rf.ret.lines[i].refunded += rl.quantity
				}
			}
		}
	}
	st.refunds[id] = rf
	o.refunds = append(o.refunds, rf)
	o.updatedAt = at
	s.emitLocked("refunds/create", s.refundPayload(rf))
	r.ID, r.Transactions = gid("Refund", id), txs
	return r, nil
}

// AddReturn records a return on an order.
func (s *Server) AddReturn(orderID string, r Return) (Return, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.st
	o := st.orders[idOf(orderID, "Order")]
	if o == nil {
		return Return{}, seedErr("no order %q", orderID)
	}
	id, err := s.newID(r.ID, "Return")
	if err != nil {
		return Return{}, err
	}
	at := s.stamp(r.CreatedAt)
	rt := &ret{id: id, order: o, name: orDefault(r.Name, o.name+"-R"+strconv.Itoa(len(o.returns)+1)), status: orDefault(r.Status, "OPEN"), createdAt: at}
	for i, rl := range r.Lines {
		l := st.orderLine(o, rl.LineItemID, rl.SKU)
		if l == nil {
			return Return{}, seedErr("return line %d: no such order line", i)
		}
		if rl.Quantity <= 0 || rl.Quantity > l.quantity {
			return Return{}, seedErr("return line %d: quantity %d out of range", i, rl.Quantity)
		}
		rt.lines = append(rt.lines, returnLine{id: st.id(), line: l, fulfLineID: st.id(), quantity: rl.Quantity, reason: rl.Reason, reasonNote: rl.ReasonNote})
	}
	if rt.status == "CLOSED" {
		rt.closedAt = &at
	}
	st.returns[id] = rt
	o.returns = append(o.returns, rt)
	o.updatedAt = at
	r.ID, r.Name, r.Status = gid("Return", id), rt.name, rt.status
	return r, nil
}

// AddPayout adds a Shopify Payments payout and its balance transactions
// (which get the payout's id and status).
func (s *Server) AddPayout(p Payout, txs ...BalanceTransaction) (Payout, []BalanceTransaction, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.st
	id, err := s.newID(p.ID, "ShopifyPaymentsPayout")
	if err != nil {
		return Payout{}, nil, err
	}
	net, err := parseDec("payout net", p.Net)
	if err != nil {
		return Payout{}, nil, err
	}
	p.Currency = orDefault(p.Currency, st.shopCurrency)
	p.Status = orDefault(p.Status, "PAID")
	p.TransactionType = orDefault(p.TransactionType, "DEPOSIT")
	p.IssuedAt = s.stamp(p.IssuedAt)
	st.payouts[id] = &payout{id: id, status: p.Status, issuedAt: p.IssuedAt, net: net, currency: p.Currency, transactionType: p.TransactionType, externalTraceID: p.ExternalTraceID, summary: p.Summary}
	p.ID = gid("ShopifyPaymentsPayout", id)
	out := make([]BalanceTransaction, len(txs))
	for i, t := range txs {
		bid, err := s.newID(t.ID, "ShopifyPaymentsBalanceTransaction")
		if err != nil {
			return Payout{}, nil, err
		}
		amt, err := parseDec("balance transaction amount", t.Amount)
		if err != nil {
			return Payout{}, nil, err
		}
		fee := decOrZero(t.Fee)
		netTx := amt.Sub(fee)
		if t.Net != "" {
			if netTx, err = parseDec("balance transaction net", t.Net); err != nil {
				return Payout{}, nil, err
			}
		}
		bt := &balanceTx{id: bid, typ: orDefault(t.Type, "CHARGE"), test: t.Test, amount: amt, fee: fee, net: netTx, currency: orDefault(t.Currency, p.Currency),
			date: s.stamp(t.TransactionDate), sourceID: t.SourceID, sourceType: t.SourceType, sourceOrderTxID: t.SourceOrderTransactionID,
			payoutID: id, payoutStatus: p.Status, adjustmentReason: t.AdjustmentReason}
		if t.OrderID != "" {
			bt.orderID = idOf(t.OrderID, "Order")
			if o := st.orders[bt.orderID]; o != nil {
				bt.orderName = o.name
			}
		}
		st.balanceTxs[bid] = bt
		t.ID, t.Currency, t.TransactionDate = gid("ShopifyPaymentsBalanceTransaction", bid), bt.currency, bt.date
		if t.Net == "" {
			t.Net = netTx.String()
		}
		out[i] = t
	}
	return p, out, nil
}

// Fulfillments returns the fulfillments created on an order.
func (s *Server) Fulfillments(orderID string) []Fulfillment {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.st.orders[idOf(orderID, "Order")]
	if o == nil {
		return nil
	}
	var out []Fulfillment
	for _, f := range o.fulfillments {
		x := Fulfillment{ID: gid("Fulfillment", f.id), OrderID: gid("Order", o.id), Status: f.status, LocationID: gid("Location", f.locationID),
			Tracking: append([]Tracking(nil), f.tracking...), NotifyCustomer: f.notifyCustomer, CreatedAt: f.createdAt}
		for _, l := range f.lines {
			x.Lines = append(x.Lines, FulfillmentLine{LineItemID: gid("LineItem", l.line.id), SKU: l.line.sku, Quantity: l.quantity})
		}
		out = append(out, x)
	}
	return out
}

// FulfillmentOrders returns an order's fulfillment orders, oldest first,
// with their location, status and each line's total and remaining
// quantities.
func (s *Server) FulfillmentOrders(orderID string) []FulfillmentOrder {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.st.orders[idOf(orderID, "Order")]
	if o == nil {
		return nil
	}
	var out []FulfillmentOrder
	for _, fo := range o.fulfillmentOrders {
		x := FulfillmentOrder{ID: gid("FulfillmentOrder", fo.id), LocationID: gid("Location", fo.locationID), Status: fo.status}
		for _, fl := range fo.lines {
			x.Lines = append(x.Lines, FulfillmentOrderLine{ID: gid("FulfillmentOrderLineItem", fl.id), LineItemID: gid("LineItem", fl.line.id),
				SKU: fl.line.sku, Total: fl.total, Remaining: fl.remaining})
		}
		out = append(out, x)
	}
	return out
}

// Refunds returns the refunds on an order, oldest first, in the shape
// AddRefund takes: lines with their line item, quantity, restock type,
// subtotal and tax; refunded shipping; every transaction.
func (s *Server) Refunds(orderID string) []Refund {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.st.orders[idOf(orderID, "Order")]
	if o == nil {
		return nil
	}
	var out []Refund
	for _, r := range o.refunds {
		x := Refund{ID: gid("Refund", r.id), Note: r.note, CreatedAt: r.createdAt}
		for _, l := range r.lines {
			x.Lines = append(x.Lines, RefundLine{LineItemID: gid("LineItem", l.line.id), SKU: l.line.sku, Quantity: l.quantity,
				RestockType: l.restockType, Subtotal: amountString(l.subtotal), Tax: amountString(l.tax)})
		}
		for _, rs := range r.shipping {
			x.Shipping, x.ShippingTax = amountString(rs.subtotal), amountString(rs.tax)
		}
		for _, t := range r.txs {
			x.Transactions = append(x.Transactions, exportTx(t))
		}
		if r.ret != nil {
			x.ReturnID = gid("Return", r.ret.id)
		}
		out = append(out, x)
	}
	return out
}

func exportTx(t *transaction) Transaction {
	x := Transaction{ID: gid("OrderTransaction", t.id), Kind: t.kind, Status: t.status, Gateway: t.gateway, Amount: amountString(t.amount), PaymentID: t.paymentID, CreatedAt: t.createdAt}
	if t.parent != nil {
		x.ParentID = gid("OrderTransaction", t.parent.id)
	}
	return x
}

// SettlePayout pays out the Shopify Payments balance transactions no
// payout holds yet — those the fake records itself, such as the REFUND of
// each refund on gateway shopify_payments (it records no CHARGE for
// captures; seed those with AddPayout) — in one new payout with Shopify's
// TRANSFER row. The payout's net is the sum of their nets (a negative sum
// is a WITHDRAWAL of its size); Status, IssuedAt and ExternalTraceID are
// taken from p. With nothing pending there is no payout and ok is false.
func (s *Server) SettlePayout(p Payout) (_ Payout, txs []BalanceTransaction, ok bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.st
	var pending []*balanceTx
	net := decimal.Zero
	for _, id := range sortedKeys(st.balanceTxs) {
		if bt := st.balanceTxs[id]; bt.payoutID == 0 {
			pending = append(pending, bt)
			net = net.Add(bt.net)
		}
	}
	if len(pending) == 0 {
		return Payout{}, nil, false, nil
	}
	id, err := s.newID(p.ID, "ShopifyPaymentsPayout")
	if err != nil {
		return Payout{}, nil, false, err
	}
	p.Currency = orDefault(p.Currency, st.shopCurrency)
	p.Status = orDefault(p.Status, "PAID")
	p.IssuedAt = s.stamp(p.IssuedAt)
	p.TransactionType = "DEPOSIT"
	if net.IsNegative() {
		p.TransactionType = "WITHDRAWAL"
	}
	p.Net = amountString(net.Abs())
	st.payouts[id] = &payout{id: id, status: p.Status, issuedAt: p.IssuedAt, net: net.Abs(), currency: p.Currency, transactionType: p.TransactionType, externalTraceID: p.ExternalTraceID, summary: p.Summary}
	transfer := &balanceTx{typ: "TRANSFER", amount: net.Neg(), currency: p.Currency, date: p.IssuedAt, sourceType: "TRANSFER"}
	st.addBalanceTx(transfer)
	transfer.sourceID = id
	for _, bt := range append(pending, transfer) {
		bt.payoutID, bt.payoutStatus = id, p.Status
		txs = append(txs, BalanceTransaction{ID: gid("ShopifyPaymentsBalanceTransaction", bt.id), Type: bt.typ, Test: bt.test,
			Amount: amountString(bt.amount), Fee: amountString(bt.fee), Net: amountString(bt.net), Currency: bt.currency, TransactionDate: bt.date,
			SourceID: bt.sourceID, SourceType: bt.sourceType, SourceOrderTransactionID: bt.sourceOrderTxID, OrderID: orderGID(bt.orderID), AdjustmentReason: bt.adjustmentReason})
	}
	p.ID = gid("ShopifyPaymentsPayout", id)
	return p, txs, true, nil
}

func orderGID(id int64) string {
	if id == 0 {
		return ""
	}
	return gid("Order", id)
}

// OrderState is an order's status as the fake sees it, for assertions.
type OrderState struct {
	FinancialStatus   string // OrderDisplayFinancialStatus
	FulfillmentStatus string // OrderDisplayFulfillmentStatus
	Cancelled         bool
	CancelReason      string
	Closed            bool
	Transactions      []Transaction
}

// OrderState returns an order's status and transactions.
func (s *Server) OrderState(orderID string) (OrderState, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.st.orders[idOf(orderID, "Order")]
	if o == nil {
		return OrderState{}, false
	}
	out := OrderState{FinancialStatus: o.financialStatus(), FulfillmentStatus: o.fulfillmentStatus(), Cancelled: o.cancelledAt != nil, CancelReason: o.cancelReason, Closed: o.closedAt != nil}
	for _, t := range o.txs {
		out.Transactions = append(out.Transactions, exportTx(t))
	}
	return out, true
}

// OrderIDs returns the GIDs of all orders, ordered by id.
func (s *Server) OrderIDs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, id := range sortedKeys(s.st.orders) {
		out = append(out, gid("Order", id))
	}
	return out
}
