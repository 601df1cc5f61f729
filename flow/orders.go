package flow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/connector"
	"github.com/knyt/knyt/vat"
)

// Order attributes the engine adds for the ERP connector (multishop).
const (
	AttrWebshopID  = "knyt:webshop_id"
	AttrResultUnit = "knyt:result_unit"
)

// Step kinds of the order flows.
const (
	KindOrderCreate   = "order.create"
	KindOrderRelease  = "order.release"
	KindShopCancel    = "order.shop_cancel"
	KindFulfill       = "delivery.fulfill"
	KindCapture       = "delivery.capture"
	KindMarkPaid      = "event.mark_paid"
	KindCancel        = "event.cancel"
	KindRelease       = "event.release"
	KindReturnCredit  = "return.credit"
	KindReturnRefund  = "return.refund"
	KindRefundCredit  = "refund.credit"
	KindProductPush   = "product.push"
	KindPricePush     = "price.push"
	KindStockPush     = "stock.push"
	KindPriceListPush = "pricelist.push"
	mapOrder          = "order"       // shop order number → ERP ref
	mapOrderShop      = "order.shop"  // shop order number → the shop's order ref (Account = shop id)
	mapERPOrder       = "order.erp"   // the ERP's order id → the shop's order number
	mapCustomer       = "customer"    // e-mail or org number → ERP customer
	mapProduct        = "product"     // SKU → ref in a system
	mapReturnRefunded = "return.shop" // return id → the shop's refund of it
	mapRefundCredit   = "refund.credit"
	mapShopCancelled  = "order.cancelled" // shop order number → cancelled in the shop (Account = shop id)
	mapEngineRefund   = "refund.engine"   // a refund the engine made at a provider → the return
)

// OrderStepKey is the journal key of an order's transfer to the ERP.
func OrderStepKey(shop, number string) string { return "order:" + shop + ":" + number + ":create" }

func (e *Engine) registerHandlers() {
	erp := func(*Step) chan struct{} { return e.erpSem }
	shop := func(st *Step) chan struct{} {
		if s := e.shops[st.Shop]; s != nil {
			return s.sem
		}
		return nil
	}
	e.handlers = map[string]stepHandler{
		KindOrderCreate:   {run: e.handleOrderCreate, sem: erp},
		KindShopCancel:    {run: e.handleShopCancel, sem: erp},
		KindFulfill:       {run: e.handleFulfill, sem: shop},
		KindMarkPaid:      {run: e.handleMarkPaid, sem: shop},
		KindCancel:        {run: e.handleCancel, sem: shop},
		KindCapture:       {run: e.handleCapture, sem: e.providerSem},
		KindRelease:       {run: e.handleRelease, sem: e.providerSem},
		KindOrderRelease:  {run: e.handleRelease, sem: e.providerSem},
		KindReturnCredit:  {run: e.handleReturnCredit, sem: erp},
		KindReturnRefund:  {run: e.handleReturnRefund, sem: e.providerSem},
		KindRefundCredit:  {run: e.handleRefundCredit, sem: erp},
		KindProductPush:   {run: e.handleCatalogReplay, sem: func(*Step) chan struct{} { return nil }},
		KindPricePush:     {run: e.handleCatalogReplay, sem: func(*Step) chan struct{} { return nil }},
		KindStockPush:     {run: e.handleCatalogReplay, sem: func(*Step) chan struct{} { return nil }},
		KindPriceListPush: {run: e.handleCatalogReplay, sem: func(*Step) chan struct{} { return nil }},
		KindFeedProblem:   {run: e.handleFeedProblem, sem: func(*Step) chan struct{} { return nil }},
		KindInitialBatch:  {run: e.handleInitialBatch, sem: func(*Step) chan struct{} { return nil }},
	}
}

func decodePayload[T any](st *Step) (T, error) {
	var v T
	if err := json.Unmarshal(st.Payload, &v); err != nil {
		return v, deadf("cannot decode the step's payload: %v", err)
	}
	return v, nil
}

func (e *Engine) shopOf(st *Step) (*shopRT, error) {
	s := e.shops[st.Shop]
	if s == nil {
		return nil, deadf("shop %q is not configured", st.Shop)
	}
	return s, nil
}

func (e *Engine) erpKey(kind, key string) MapKey {
	return MapKey{Kind: kind, Key: key, System: e.erp.System(), Account: e.erp.Account()}
}

// triggered reports whether an order's state transfers it under rules.
func triggered(o *commerce.Order, r OrderRules) bool {
	if o.State == commerce.OrderCancelled || o.CancelledAt != nil {
		return false
	}
	return slices.Contains(r.Trigger, "any") || slices.Contains(r.Trigger, string(o.FinancialStatus))
}

// intakeOrders journals the triggered orders of a batch.
func (e *Engine) intakeOrders(ctx context.Context, s *shopRT, orders []commerce.Order) ([]Step, error) {
	var run []Step
	for i := range orders {
		o := &orders[i]
		if o.Number == "" {
			e.log.LogAttrs(ctx, levelWarn, "flow: order without a number ignored", attrShop(s), attrRef(o.Source))
			continue
		}
		if o.State == commerce.OrderCancelled || o.CancelledAt != nil {
			st, pending, err := e.intakeShopCancel(ctx, s, o)
			if err != nil {
				return nil, err
			}
			if pending {
				run = append(run, st)
			}
			continue
		}
		if !triggered(o, s.cfg.Orders) {
			continue
		}
		st, err := e.newStep(OrderStepKey(s.cfg.ID, o.Number), KindOrderCreate, o.Number, s.cfg.ID, o)
		if err != nil {
			return nil, err
		}
		got, pending, err := e.enqueue(ctx, st)
		if err != nil {
			return nil, err
		}
		if pending {
			run = append(run, got)
		}
	}
	return run, nil
}

func customerEmail(o *commerce.Order) string {
	if o.Customer.Email != "" {
		return o.Customer.Email
	}
	if o.BillingAddress != nil {
		return o.BillingAddress.Email
	}
	return ""
}

// orderCustomer is the order's customer completed from the billing address
// (guest orders carry names and e-mail only there).
func orderCustomer(o *commerce.Order) commerce.Customer {
	c := o.Customer
	if b := o.BillingAddress; b != nil {
		if c.FirstName == "" && c.LastName == "" {
			c.FirstName, c.LastName = b.FirstName, b.LastName
		}
		if c.Company == "" {
			c.Company = b.Company
		}
		if c.Email == "" {
			c.Email = b.Email
		}
		if c.Phone == "" {
			c.Phone = b.Phone
		}
		if c.Address == nil {
			a := *b
			c.Address = &a
		}
	}
	return c
}

func (e *Engine) handleOrderCreate(ctx context.Context, st *Step) (commerce.Ref, error) {
	s, err := e.shopOf(st)
	if err != nil {
		return commerce.Ref{}, err
	}
	o, err := decodePayload[commerce.Order](st)
	if err != nil {
		return commerce.Ref{}, err
	}
	if _, cancelled, err := e.store.Ref(ctx, MapKey{Kind: mapShopCancelled, Key: o.Number, System: s.sys.System(), Account: s.cfg.ID}); err != nil {
		return commerce.Ref{}, err
	} else if cancelled {
		return commerce.Ref{}, Skip("cancelled in the shop before it was transferred")
	}
	info := HookInfo{Shop: s.cfg.ID, Step: st.Key}
	if err := runHooks(ctx, e, ShopToERP, &o, info); err != nil {
		return commerce.Ref{}, err
	}
	if err := o.Validate(); err != nil {
		return commerce.Ref{}, deadf("invalid order: %v", err)
	}
	if cs := e.cfg.ERP.Currencies; len(cs) > 0 && !slices.Contains(cs, o.Currency.Code()) {
		return commerce.Ref{}, deadf("currency %s is not enabled in the ERP account (erp.currencies: %s)", o.Currency.Code(), strings.Join(cs, ", "))
	}
	if !s.cfg.Orders.AllowMissingEmail && customerEmail(&o) == "" {
		return commerce.Ref{}, deadf("the customer has no e-mail address (allow with orders.allow_missing_email)")
	}
	if err := e.claimOrderNumber(ctx, s, &o); err != nil {
		return commerce.Ref{}, err
	}
	if err := e.ensureCustomer(ctx, st, s, &o); err != nil {
		return commerce.Ref{}, err
	}
	if err := e.ensureArticles(ctx, st, s, &o); err != nil {
		return commerce.Ref{}, err
	}
	eo, err := ToERPOrder(o, e.pricing())
	if err != nil {
		return commerce.Ref{}, deadf("%v", err)
	}
	eo.Shop = s.cfg.ID
	if s.cfg.WebshopID != "" {
		eo.Attributes = append(slices.Clone(eo.Attributes), commerce.Attribute{Key: AttrWebshopID, Value: s.cfg.WebshopID})
	}
	if s.cfg.ResultUnit != "" {
		eo.Attributes = append(slices.Clone(eo.Attributes), commerce.Attribute{Key: AttrResultUnit, Value: s.cfg.ResultUnit})
	}
	key := connector.WithIdempotencyKey(st.IdempotencyKey)
	var res connector.UpsertResult
	if s.cfg.Orders.As == "invoice" {
		res, err = e.erp.(connector.InvoiceSink).CreateInvoice(ctx, eo, key)
	} else {
		res, err = e.erp.(connector.OrderSink).CreateOrder(ctx, eo, key)
	}
	if err != nil {
		return commerce.Ref{}, err
	}
	if err := e.store.SetRef(ctx, e.erpKey(mapOrder, o.Number), res.Ref); err != nil {
		return commerce.Ref{}, err
	}
	if res.Ref.ID != "" {
		if err := e.store.SetRef(ctx, e.erpKey(mapERPOrder, res.Ref.ID), commerce.Ref{System: s.sys.System(), Account: s.cfg.ID, ID: o.Number}); err != nil {
			return commerce.Ref{}, err
		}
	}
	return res.Ref, nil
}

// ShopOrderNumber maps the ERP's id of an order the engine created back to
// the shop's order number — an order resolver for ERP connectors whose
// change queues name only their own numbers (specter.WithOrderResolver).
// An unknown id is an error matching connector.ErrNotFound.
func (e *Engine) ShopOrderNumber(ctx context.Context, erpOrderID string) (string, error) {
	ref, ok, err := e.store.Ref(ctx, e.erpKey(mapERPOrder, erpOrderID))
	if err != nil {
		return "", err
	}
	if !ok {
		return "", &connector.Error{System: e.erp.System(), Op: "ShopOrderNumber", Kind: connector.KindNotFound,
			Message: "no order of this engine has ERP id " + erpOrderID}
	}
	return ref.ID, nil
}

// claimOrderNumber records which shop an order number belongs to; the ERP
// keys orders by the shop's number, so two shops must not share one.
func (e *Engine) claimOrderNumber(ctx context.Context, s *shopRT, o *commerce.Order) error {
	k := MapKey{Kind: mapOrderShop, Key: o.Number}
	ref, ok, err := e.store.Ref(ctx, k)
	if err != nil {
		return err
	}
	if ok {
		if ref.Account != s.cfg.ID {
			return deadf("order number %s is already used by shop %q; give the shops distinct order-number prefixes", o.Number, ref.Account)
		}
		return nil
	}
	return e.store.SetRef(ctx, k, commerce.Ref{System: s.sys.System(), Account: s.cfg.ID, ID: o.Source.ID})
}

// orderShop returns the shop an order number was transferred from.
func (e *Engine) orderShop(ctx context.Context, number string) (*shopRT, commerce.Ref, bool, error) {
	ref, ok, err := e.store.Ref(ctx, MapKey{Kind: mapOrderShop, Key: number})
	if err != nil || !ok {
		return nil, commerce.Ref{}, false, err
	}
	s := e.shops[ref.Account]
	return s, ref, s != nil, nil
}

// loadOrder returns the shop order as it was journalled for transfer.
func (e *Engine) loadOrder(ctx context.Context, shop, number string) (commerce.Order, bool, error) {
	st, ok, err := e.store.Step(ctx, OrderStepKey(shop, number))
	if err != nil || !ok {
		return commerce.Order{}, false, err
	}
	var o commerce.Order
	if err := json.Unmarshal(st.Payload, &o); err != nil {
		return commerce.Order{}, false, deadf("cannot decode order %s: %v", number, err)
	}
	return o, true, nil
}

func (e *Engine) ensureCustomer(ctx context.Context, st *Step, s *shopRT, o *commerce.Order) error {
	sink, ok := e.erp.(connector.CustomerSink)
	if !ok {
		return nil
	}
	c := orderCustomer(o)
	id := strings.ToLower(c.Email)
	if id == "" {
		id = c.OrgNumber
	}
	if err := runHooks(ctx, e, ShopToERP, &c, HookInfo{Shop: s.cfg.ID, Step: st.Key}); err != nil {
		return err
	}
	o.Customer = c
	if id == "" {
		return nil // nothing to match on: the ERP connector creates it with the order
	}
	k := e.erpKey(mapCustomer, id)
	if _, known, err := e.store.Ref(ctx, k); err != nil || known {
		return err
	}
	res, err := sink.UpsertCustomer(ctx, c, connector.WithIdempotencyKey(connector.IdempotencyKey(st.IdempotencyKey, "customer")))
	if err != nil {
		return err
	}
	return e.store.SetRef(ctx, k, res.Ref)
}

// ensureArticles makes sure every SKU of the order exists in the ERP.
func (e *Engine) ensureArticles(ctx context.Context, st *Step, s *shopRT, o *commerce.Order) error {
	if s.cfg.Orders.Articles == "connector" {
		return nil
	}
	lookup := e.erp.(connector.ProductLookup)
	seen := map[string]bool{}
	for _, l := range o.Lines {
		if l.SKU == "" || l.GiftCard || seen[l.SKU] {
			continue
		}
		seen[l.SKU] = true
		k := e.erpKey(mapProduct, l.SKU)
		if _, known, err := e.store.Ref(ctx, k); err != nil {
			return err
		} else if known {
			continue
		}
		p, err := lookup.ProductBySKU(ctx, l.SKU)
		if err == nil {
			if err := e.store.SetRef(ctx, k, variantRef(p, l.SKU)); err != nil {
				return err
			}
			continue
		}
		if !errors.Is(err, connector.ErrNotFound) {
			return err
		}
		if s.cfg.Orders.Articles == "require" {
			return deadf("unknown SKU %s: no such article in the ERP (orders.articles is require)", l.SKU)
		}
		prod, err := e.articleFor(ctx, s, o, l)
		if err != nil {
			return err
		}
		if err := runHooks(ctx, e, ShopToERP, &prod, HookInfo{Shop: s.cfg.ID, Step: st.Key}); err != nil {
			return err
		}
		res, err := e.erp.(connector.ProductSink).UpsertProducts(ctx, []commerce.Product{prod},
			connector.WithIdempotencyKey(connector.IdempotencyKey(st.IdempotencyKey, "article", l.SKU)))
		if err != nil {
			return err
		}
		ref := commerce.Ref{System: e.erp.System(), Account: e.erp.Account(), ID: l.SKU}
		for _, r := range res {
			if r.Key == l.SKU && !r.Ref.IsZero() {
				ref = r.Ref
			}
		}
		if err := e.store.SetRef(ctx, k, ref); err != nil {
			return err
		}
	}
	return nil
}

func variantRef(p commerce.Product, sku string) commerce.Ref {
	if v, ok := p.Variant(sku); ok && !v.Source.IsZero() {
		return v.Source
	}
	return p.Source
}

// articleFor builds the article to create for an order line: the shop's
// product variant when the shop can look it up, else the line itself.
func (e *Engine) articleFor(ctx context.Context, s *shopRT, o *commerce.Order, l commerce.Line) (commerce.Product, error) {
	if lk, ok := s.sys.(connector.ProductLookup); ok {
		p, err := lk.ProductBySKU(ctx, l.SKU)
		switch {
		case err == nil:
			if v, ok := p.Variant(l.SKU); ok {
				p.Variants = []commerce.Variant{*v}
				return e.productForERP(p, s)
			}
		case !errors.Is(err, connector.ErrNotFound):
			return commerce.Product{}, err
		}
	}
	v := commerce.Variant{SKU: l.SKU, Title: l.Title, Price: l.UnitPrice, PricesIncludeTax: o.PricesIncludeTax, Active: true}
	if len(l.TaxLines) > 0 {
		r := decimal.Zero
		for _, t := range l.TaxLines {
			r = r.Add(t.RatePercent)
		}
		v.VATRatePercent = &r
	}
	return e.productForERP(commerce.Product{Title: l.Title, Status: commerce.ProductActive, Variants: []commerce.Variant{v}}, s)
}

// rateOf is a variant's VAT rate: its own, else the configured default.
func (e *Engine) rateOf(v *commerce.Variant) (decimal.Decimal, error) {
	if v.VATRatePercent != nil {
		return *v.VATRatePercent, nil
	}
	if e.cfg.ERP.DefaultVATRate != nil {
		return *e.cfg.ERP.DefaultVATRate, nil
	}
	return decimal.Zero, deadf("SKU %s has no VAT rate and erp.default_vat_rate is not set", v.SKU)
}

// productForERP converts a shop product's prices to the ERP's VAT basis.
func (e *Engine) productForERP(p commerce.Product, s *shopRT) (commerce.Product, error) {
	return e.convertProduct(p, e.cfg.ERP.PricesIncludeVAT)
}

// productForShop converts an ERP product's prices to a shop's VAT basis.
func (e *Engine) productForShop(p commerce.Product, s *shopRT) (commerce.Product, error) {
	return e.convertProduct(p, !s.cfg.PricesExcludeVAT)
}

func (e *Engine) convertProduct(p commerce.Product, toIncl bool) (commerce.Product, error) {
	p.Variants = slices.Clone(p.Variants)
	for i := range p.Variants {
		v := &p.Variants[i]
		if v.PricesIncludeTax == toIncl {
			continue
		}
		rate, err := e.rateOf(v)
		if err != nil {
			return commerce.Product{}, err
		}
		if v.Price, err = convertPrice(v.Price, rate, v.PricesIncludeTax, toIncl); err != nil {
			return commerce.Product{}, deadf("SKU %s: price: %v", v.SKU, err)
		}
		if v.CompareAtPrice != nil {
			c, err := convertPrice(*v.CompareAtPrice, rate, v.PricesIncludeTax, toIncl)
			if err != nil {
				return commerce.Product{}, deadf("SKU %s: compare-at price: %v", v.SKU, err)
			}
			v.CompareAtPrice = &c
		}
		v.PricesIncludeTax = toIncl
		if v.VATRatePercent == nil {
			r := rate
			v.VATRatePercent = &r
		}
	}
	return p, nil
}

func (e *Engine) pricing() ERPPricing {
	r := vat.PerRateGroup
	if e.cfg.ERP.VATRounding == "per_line" {
		r = vat.PerLine
	}
	return ERPPricing{IncludeVAT: e.cfg.ERP.PricesIncludeVAT, PriceDecimals: e.cfg.ERP.PriceDecimals, Rounding: r,
		RoundingSKU: e.cfg.ERP.RoundingSKU, DefaultRate: e.cfg.ERP.DefaultVATRate}
}

// intakeShopCancel notes an order cancelled in the shop: a transfer not
// yet made is skipped (handleOrderCreate reads the note), and an order the
// engine has journalled for transfer gets a cancellation step, which
// finds out whether it reached the ERP.
func (e *Engine) intakeShopCancel(ctx context.Context, s *shopRT, o *commerce.Order) (Step, bool, error) {
	if err := e.store.SetRef(ctx, MapKey{Kind: mapShopCancelled, Key: o.Number, System: s.sys.System(), Account: s.cfg.ID},
		commerce.Ref{System: s.sys.System(), Account: s.cfg.ID, ID: o.Number}); err != nil {
		return Step{}, false, err
	}
	if _, known, err := e.store.Step(ctx, OrderStepKey(s.cfg.ID, o.Number)); err != nil || !known {
		return Step{}, false, err
	}
	st, err := e.newStep("order:"+s.cfg.ID+":"+o.Number+":shop-cancel", KindShopCancel, o.Number, s.cfg.ID, o)
	if err != nil {
		return Step{}, false, err
	}
	return e.enqueue(ctx, st)
}

// handleShopCancel carries a cancellation in the shop to the ERP when the
// order reached it: through the ERP connector where it can cancel orders
// (connector.OrderCanceller), else as a dead letter asking for it to be
// done by hand — an order cancelled in the shop must not be shipped. A
// cancellation the engine made in the shop itself (the ERP cancelled) is
// its echo and skipped.
func (e *Engine) handleShopCancel(ctx context.Context, st *Step) (commerce.Ref, error) {
	s, err := e.shopOf(st)
	if err != nil {
		return commerce.Ref{}, err
	}
	echo, err := e.store.Steps(ctx, StepFilter{Subject: st.Subject, Kind: KindCancel})
	if err != nil {
		return commerce.Ref{}, err
	}
	for _, c := range echo {
		if c.Shop == s.cfg.ID && c.State != StepDiscarded {
			return commerce.Ref{}, Skip("cancelled in the shop by the engine, after the ERP cancelled it")
		}
	}
	create, _, err := e.store.Step(ctx, OrderStepKey(s.cfg.ID, st.Subject))
	if err != nil {
		return commerce.Ref{}, err
	}
	switch create.State {
	case StepPending:
		return commerce.Ref{}, &retryError{err: fmt.Errorf("the transfer of order %s is still under way", st.Subject)}
	case StepDone:
	default:
		return commerce.Ref{}, Skip("the order was not transferred to the ERP (" + string(create.State) + ")")
	}
	canceller, ok := e.erp.(connector.OrderCanceller)
	if !ok {
		return commerce.Ref{}, deadf("order %s was cancelled in the shop after it was transferred to the ERP as %s; the %s connector cannot cancel orders: cancel it in the ERP before it ships, then discard this",
			st.Subject, create.Result.ID, e.erp.System())
	}
	if err := canceller.CancelOrder(ctx, st.Subject, "cancelled in the shop", connector.WithIdempotencyKey(st.IdempotencyKey)); err != nil {
		return commerce.Ref{}, err
	}
	return create.Result, nil
}
