package flow

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/connector"
)

// Loop-guard entity kinds.
const (
	guardProduct = "product"
	guardPrice   = "price"
	guardStock   = "stock"
	guardList    = "pricelist"
	targetERP    = "erp"
)

// contentHash hashes a value's canonical JSON.
func contentHash(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		// Only unencodable money (no currency) gets here; hash its text
		// so the item is still compared, never silently equal.
		b = []byte(fmt.Sprintf("%#v", v))
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}

// variantContent is what the loop guard compares of a product variant:
// the fields a product write carries, without ids, timestamps and stock,
// and without prices where another system leads them.
func variantContent(p *commerce.Product, v *commerce.Variant, withPrice bool) string {
	type content struct {
		Title, Description, Vendor, Type string
		Status                           commerce.ProductStatus
		Tags                             []string
		Options                          []commerce.Option
		SKU, Barcode, VariantTitle       string
		VariantOptions                   []commerce.OptionValue
		Weight                           *commerce.Weight
		Active                           bool
		Price                            string
		CompareAt                        string
		Incl                             bool
	}
	c := content{Title: p.Title, Description: p.Description, Vendor: p.Vendor, Type: p.ProductType, Status: p.Status,
		Tags: p.Tags, Options: p.Options, SKU: v.SKU, Barcode: v.Barcode, VariantTitle: v.Title, VariantOptions: v.Options,
		Weight: v.Weight, Active: v.Active}
	if withPrice {
		c.Price, c.CompareAt, c.Incl = priceText(v.Price), optPriceText(v.CompareAtPrice), v.PricesIncludeTax
	}
	return contentHash(c)
}

func priceText(m commerce.Money) string {
	if m.Currency.IsZero() {
		return ""
	}
	return m.Currency.Code() + " " + m.Amount.StringFixed(m.Currency.Digits())
}

func optPriceText(m *commerce.Money) string {
	if m == nil {
		return ""
	}
	return priceText(*m)
}

func priceContent(sku string, price commerce.Money, compareAt *commerce.Money) string {
	return contentHash([3]string{sku, priceText(price), optPriceText(compareAt)})
}

func stockContent(l commerce.StockLevel) string {
	return contentHash(struct {
		SKU, Location string
		Available     int
	}{l.SKU, l.Location, l.Available})
}

// guardKey is the loop guard's entry for an entity written to a target.
func (e *Engine) guardKey(kind, key, target string) MapKey {
	if target == targetERP {
		return MapKey{Kind: kind, Key: key, System: e.erp.System(), Account: e.erp.Account()}
	}
	s := e.shops[target]
	return MapKey{Kind: kind, Key: key, System: s.sys.System(), Account: target}
}

// wrote reports whether hash is what the engine last wrote for the entity
// to the target.
func (e *Engine) wrote(ctx context.Context, kind, key, target, hash string) (bool, error) {
	h, ok, err := e.store.LastWrite(ctx, e.guardKey(kind, key, target))
	return ok && h == hash, err
}

// guardWrite is a loop-guard record to make once a write succeeded.
type guardWrite struct {
	kind, key, hash string
}

// catalogItem is one item of a bulk write: the source form (for a dead
// letter's replay), what is written, and what the loop guard records.
type catalogItem[T any] struct {
	key    string
	src    catalogPayload
	out    T
	guards []guardWrite
}

// catalogPayload is a catalogue item's dead letter: the item as it came
// from its source, so a replay runs the whole conversion again.
type catalogPayload struct {
	Kind    string               `json:"kind"`
	Target  string               `json:"target"`           // "erp" or a shop id
	Source  string               `json:"source,omitempty"` // the source shop of a product going to the ERP
	Product *commerce.Product    `json:"product,omitempty"`
	Stock   *commerce.StockLevel `json:"stock,omitempty"`
	List    *commerce.PriceList  `json:"price_list,omitempty"`
}

// itemFailure is an item refused for good.
type itemFailure struct {
	key string
	src catalogPayload
	err error
}

// writeBatches writes items in batches. A batch refused as a whole for a
// reason other than a passing one is retried item by item so that only the
// bad items fail; a passing failure stops and is returned, to be retried
// from the same feed position.
func writeBatches[T any](ctx context.Context, e *Engine, kind, target string, size int, items []catalogItem[T],
	write func(ctx context.Context, batch []T, opts ...connector.CallOption) error) ([]itemFailure, error) {
	var failed []itemFailure
	record := func(it catalogItem[T]) error {
		for _, g := range it.guards {
			if err := e.store.SetLastWrite(ctx, e.guardKey(g.kind, g.key, target), g.hash); err != nil {
				return err
			}
		}
		e.counters.add(kind, func(c *Counters) { c.Synced++ })
		return nil
	}
	keyOf := func(batch []catalogItem[T]) string {
		parts := []string{kind, target}
		for _, it := range batch {
			for _, g := range it.guards {
				parts = append(parts, g.hash)
			}
		}
		return connector.IdempotencyKey(parts...)
	}
	for chunk := range slices.Chunk(items, max(size, 1)) {
		err := write(ctx, outs(chunk), connector.WithIdempotencyKey(keyOf(chunk)))
		if err == nil {
			for _, it := range chunk {
				if err := record(it); err != nil {
					return failed, err
				}
			}
			continue
		}
		if classify(ctx, err) != outDead {
			e.counters.add(kind, func(c *Counters) { c.Retried++ })
			return failed, err
		}
		if len(chunk) == 1 {
			failed = append(failed, itemFailure{key: chunk[0].key, src: chunk[0].src, err: err})
			continue
		}
		for _, it := range chunk {
			one := []catalogItem[T]{it}
			err := write(ctx, outs(one), connector.WithIdempotencyKey(keyOf(one)))
			switch {
			case err == nil:
				if err := record(it); err != nil {
					return failed, err
				}
			case classify(ctx, err) == outDead:
				failed = append(failed, itemFailure{key: it.key, src: it.src, err: err})
			default:
				e.counters.add(kind, func(c *Counters) { c.Retried++ })
				return failed, err
			}
		}
	}
	return failed, nil
}

func outs[T any](items []catalogItem[T]) []T {
	out := make([]T, len(items))
	for i, it := range items {
		out[i] = it.out
	}
	return out
}

// deadLetterItems journals refused catalogue items as dead letters, keyed by
// the item's content so a later, different version is not blocked by them.
func (e *Engine) deadLetterItems(ctx context.Context, failed []itemFailure) error {
	for _, f := range failed {
		key := f.src.Kind + ":" + f.src.Target + ":" + f.key + ":" + contentHash(f.src)[:12]
		st, err := e.newStep(key, f.src.Kind, f.key, shopOfTarget(f.src.Target), f.src)
		if err != nil {
			return err
		}
		var re *RejectError
		if errors.As(f.err, &re) {
			st.Plugin = re.Plugin
		}
		if err := e.journalDead(ctx, st, f.err.Error(), "flow: catalogue item dead-lettered"); err != nil {
			return err
		}
	}
	return nil
}

// journalDead records st as a dead letter straight away — for what never
// ran as a step: a refused item of a bulk write, an unreadable feed item.
// Seen again (the same key), it is recorded and counted once.
func (e *Engine) journalDead(ctx context.Context, st Step, reason, msg string) error {
	st.State, st.Reason, st.Attempts = StepDead, reason, 1
	_, created, err := e.store.CreateStep(ctx, st)
	if err != nil || !created {
		return err
	}
	e.counters.add(st.Kind, func(c *Counters) { c.DeadLettered++ })
	e.log.LogAttrs(ctx, levelError, msg, attrKey("step", st.Key), attrKey("reason", reason))
	return nil
}

func shopOfTarget(t string) string {
	if t == targetERP {
		return ""
	}
	return t
}

// hookItem runs the hooks of an item; a skip is counted and reported as
// ok=false with a nil error, a rejection is returned as a failure.
func hookItem[T any](ctx context.Context, e *Engine, kind string, dir Direction, shop string, v *T) (bool, error) {
	err := runHooks(ctx, e, dir, v, HookInfo{Shop: shop})
	var se *SkipError
	switch {
	case err == nil:
		return true, nil
	case errors.As(err, &se):
		e.counters.add(kind, func(c *Counters) { c.Skipped++ })
		return false, nil
	}
	return false, err
}

// ---- products, shop → ERP and ERP → shop ----

// productsToERP writes a shop's products to the ERP, prices converted to
// the ERP's VAT basis. In combined mode the ERP leads prices, so a product
// whose only change is its price (the echo of a price the engine wrote to
// the shop) is not written back.
func (e *Engine) productsToERP(ctx context.Context, s *shopRT, products []commerce.Product, withPrice bool) ([]itemFailure, error) {
	return e.pushProducts(ctx, s, products, productPush{
		target: targetERP, source: s.cfg.ID, dir: ShopToERP, withPrice: withPrice,
		convert: e.productForERP, sys: e.erp,
	})
}

// productsToShop writes ERP products to a shop whose catalogue the ERP leads.
func (e *Engine) productsToShop(ctx context.Context, s *shopRT, products []commerce.Product) ([]itemFailure, error) {
	return e.pushProducts(ctx, s, products, productPush{
		target: s.cfg.ID, dir: ERPToShop, withPrice: true,
		convert: e.productForShop, sys: s.sys,
	})
}

// productPush is what differs between writing products to the ERP and to
// a shop.
type productPush struct {
	target    string // targetERP or the shop's ID: guards, refs and batches
	source    string // the shop a push to the ERP reads from; "" otherwise
	dir       Direction
	withPrice bool // whether the price is part of a variant's content
	convert   func(commerce.Product, *shopRT) (commerce.Product, error)
	sys       connector.System // a connector.ProductSink
}

// pushProducts converts, hooks and validates each product, skips those
// whose variants are all unchanged since the engine last wrote them to the
// target, and writes the rest in batches, recording the target's refs.
func (e *Engine) pushProducts(ctx context.Context, s *shopRT, products []commerce.Product, pp productPush) ([]itemFailure, error) {
	var items []catalogItem[commerce.Product]
	var failed []itemFailure
	for _, p := range products {
		if len(p.Variants) == 0 {
			continue
		}
		src := catalogPayload{Kind: KindProductPush, Target: pp.target, Source: pp.source, Product: &p}
		key := p.Variants[0].SKU
		conv, err := pp.convert(p, s)
		if err == nil {
			var ok bool
			if ok, err = hookItem(ctx, e, KindProductPush, pp.dir, s.cfg.ID, &conv); err == nil && !ok {
				continue
			}
		}
		if err == nil {
			err = conv.Validate()
		}
		if err != nil {
			if classify(ctx, err) == outRetry {
				return failed, err
			}
			failed = append(failed, itemFailure{key: key, src: src, err: err})
			continue
		}
		it := catalogItem[commerce.Product]{key: key, src: src, out: conv}
		changed := false
		for i := range conv.Variants {
			v := &conv.Variants[i]
			h := variantContent(&conv, v, pp.withPrice)
			same, err := e.wrote(ctx, guardProduct, v.SKU, pp.target, h)
			if err != nil {
				return failed, err
			}
			changed = changed || !same
			it.guards = append(it.guards, guardWrite{guardProduct, v.SKU, h}, guardWrite{guardPrice, v.SKU, priceContent(v.SKU, v.Price, v.CompareAtPrice)})
		}
		if !changed {
			e.counters.add(KindProductPush, func(c *Counters) { c.Skipped++ })
			continue
		}
		items = append(items, it)
	}
	sink := pp.sys.(connector.ProductSink)
	more, err := writeBatches(ctx, e, KindProductPush, pp.target, s.cfg.Catalog.BatchSize, items,
		func(ctx context.Context, b []commerce.Product, opts ...connector.CallOption) error {
			res, err := sink.UpsertProducts(ctx, b, opts...)
			if err == nil {
				err = e.recordRefs(ctx, pp.target, res)
			}
			return err
		})
	return append(failed, more...), err
}

func (e *Engine) recordRefs(ctx context.Context, target string, res []connector.UpsertResult) error {
	for _, r := range res {
		if r.Key == "" || r.Ref.IsZero() {
			continue
		}
		k := e.guardKey(mapProduct, r.Key, target)
		if err := e.store.SetRef(ctx, k, r.Ref); err != nil {
			return err
		}
	}
	return nil
}

// ---- prices and stock ERP → shop ----

// pricesToShop writes the prices of ERP products to a shop (combined mode).
// A price that is the echo of one the engine wrote to the ERP (from the
// shop's product) is not written back.
func (e *Engine) pricesToShop(ctx context.Context, s *shopRT, products []commerce.Product) ([]itemFailure, error) {
	var items []catalogItem[commerce.FixedPrice]
	var failed []itemFailure
	for _, p := range products {
		for _, v := range p.Variants {
			if v.SKU == "" {
				continue
			}
			one := p
			one.Variants = []commerce.Variant{v}
			src := catalogPayload{Kind: KindPricePush, Target: s.cfg.ID, Product: &one}
			echo, err := e.wrote(ctx, guardPrice, v.SKU, targetERP, priceContent(v.SKU, v.Price, v.CompareAtPrice))
			if err != nil {
				return failed, err
			}
			if echo {
				e.counters.add(KindPricePush, func(c *Counters) { c.Skipped++ })
				continue
			}
			conv, err := e.productForShop(one, s)
			var fp commerce.FixedPrice
			if err == nil {
				cv := conv.Variants[0]
				fp = commerce.FixedPrice{SKU: cv.SKU, Price: cv.Price, CompareAtPrice: cv.CompareAtPrice}
				var ok bool
				if ok, err = hookItem(ctx, e, KindPricePush, ERPToShop, s.cfg.ID, &fp); err == nil && !ok {
					continue
				}
			}
			if err == nil {
				err = fp.Validate()
			}
			if err != nil {
				if classify(ctx, err) == outRetry {
					return failed, err
				}
				failed = append(failed, itemFailure{key: v.SKU, src: src, err: err})
				continue
			}
			h := priceContent(fp.SKU, fp.Price, fp.CompareAtPrice)
			same, err := e.wrote(ctx, guardPrice, fp.SKU, s.cfg.ID, h)
			if err != nil {
				return failed, err
			}
			if same {
				e.counters.add(KindPricePush, func(c *Counters) { c.Skipped++ })
				continue
			}
			items = append(items, catalogItem[commerce.FixedPrice]{key: fp.SKU, src: src, out: fp, guards: []guardWrite{{guardPrice, fp.SKU, h}}})
		}
	}
	sink := s.sys.(connector.PriceSink)
	more, err := writeBatches(ctx, e, KindPricePush, s.cfg.ID, s.cfg.Catalog.BatchSize, items, sink.SetPrices)
	return append(failed, more...), err
}

// stockToShop writes ERP stock levels to a shop: locations mapped, the
// safety buffer held back.
//
// A level for a SKU the shop does not have yet, in a shop whose products
// the ERP leads, waits in the journal (a pending stock.push step, retried
// like any step) instead of failing or holding up the feed; the newest
// level of a SKU and location wins, so a waiting level that a newer one
// has overtaken is skipped when its turn comes. replay is set when a
// journalled level runs again.
func (e *Engine) stockToShop(ctx context.Context, s *shopRT, levels []commerce.StockLevel, replay bool) ([]itemFailure, error) {
	var items []catalogItem[connector.StockChange]
	var failed []itemFailure
	// The latest level per SKU and location wins within a batch.
	latest := map[string]int{}
	for i, l := range levels {
		latest[l.SKU+"\x00"+l.Location] = i
	}
	for i, l := range levels {
		if latest[l.SKU+"\x00"+l.Location] != i {
			continue
		}
		src := catalogPayload{Kind: KindStockPush, Target: s.cfg.ID, Stock: &l}
		out := l
		if to, ok := s.cfg.Catalog.Locations[l.Location]; ok {
			out.Location = to
		}
		if b := s.cfg.Catalog.StockBuffer; b > 0 && out.Available > 0 {
			out.Available = max(out.Available-b, 0)
		}
		ok, err := hookItem(ctx, e, KindStockPush, ERPToShop, s.cfg.ID, &out)
		if err == nil && !ok {
			continue
		}
		if err == nil {
			err = out.Validate()
		}
		key := out.SKU + "@" + out.Location
		if err != nil {
			if classify(ctx, err) == outRetry {
				return failed, err
			}
			failed = append(failed, itemFailure{key: key, src: src, err: err})
			continue
		}
		h := stockContent(out)
		latest := MapKey{Kind: "stock.latest", Key: key, System: s.sys.System(), Account: s.cfg.ID}
		if !replay {
			if err := e.store.SetRef(ctx, latest, commerce.Ref{ID: h}); err != nil {
				return failed, err
			}
		} else if cur, ok, err := e.store.Ref(ctx, latest); err != nil {
			return failed, err
		} else if ok && cur.ID != h {
			return failed, Skip("superseded by a newer stock level")
		}
		if wait, err := e.stockWaitsForProduct(ctx, s, out.SKU); err != nil {
			return failed, err
		} else if wait {
			err := &retryError{err: fmt.Errorf("SKU %s is not in shop %s yet: its stock waits for the product", out.SKU, s.cfg.ID)}
			if replay {
				return failed, err
			}
			st, serr := e.newStep("stock.wait:"+s.cfg.ID+":"+key+":"+h[:12], KindStockPush, out.SKU, s.cfg.ID, src)
			if serr == nil {
				_, _, serr = e.enqueue(ctx, st)
			}
			if serr != nil {
				return failed, serr
			}
			e.log.LogAttrs(ctx, levelInfo, "flow: stock level waits for its product", attrShop(s), attrKey("sku", out.SKU), attrErr(err))
			continue
		}
		same, err := e.wrote(ctx, guardStock, key, s.cfg.ID, h)
		if err != nil {
			return failed, err
		}
		if same {
			e.counters.add(KindStockPush, func(c *Counters) { c.Skipped++ })
			continue
		}
		items = append(items, catalogItem[connector.StockChange]{key: key, src: src, out: connector.StockChange{Level: out}, guards: []guardWrite{{guardStock, key, h}}})
	}
	sink := s.sys.(connector.StockSink)
	more, err := writeBatches(ctx, e, KindStockPush, s.cfg.ID, s.cfg.Catalog.BatchSize, items, sink.SetStock)
	return append(failed, more...), err
}

// stockWaitsForProduct reports whether a stock level must wait because the
// ERP leads the shop's products and the engine has not yet written this
// SKU's product to the shop (its push failed for now, or is yet to come). A
// product push that is a dead letter does not hold stock back; the level is
// written and fails on its own if the product is missing.
func (e *Engine) stockWaitsForProduct(ctx context.Context, s *shopRT, sku string) (bool, error) {
	if s.cfg.Mode != ERPLeads {
		return false, nil
	}
	if _, known, err := e.store.Ref(ctx, e.guardKey(mapProduct, sku, s.cfg.ID)); err != nil || known {
		return false, err
	}
	dead, err := e.store.Steps(ctx, StepFilter{Kind: KindProductPush, Subject: sku, State: StepDead, Limit: 1})
	return len(dead) == 0, err
}

// ---- feed intake ----

// syncERPProducts fans ERP products out to the shops the ERP leads.
func (e *Engine) syncERPProducts(ctx context.Context, products []commerce.Product) error {
	for _, s := range e.shopList {
		var failed []itemFailure
		var err error
		switch s.cfg.Mode {
		case ERPLeads:
			failed, err = e.productsToShop(ctx, s, products)
		case Combined:
			failed, err = e.pricesToShop(ctx, s, products)
		default:
			continue
		}
		if derr := e.deadLetterItems(ctx, failed); derr != nil {
			return derr
		}
		if err != nil {
			return fmt.Errorf("shop %s: %w", s.cfg.ID, err)
		}
	}
	return nil
}

// syncERPStock fans ERP stock out to the shops whose stock the ERP leads.
func (e *Engine) syncERPStock(ctx context.Context, levels []commerce.StockLevel) error {
	for _, s := range e.shopList {
		if s.cfg.Mode != ERPLeads && s.cfg.Mode != Combined {
			continue
		}
		failed, err := e.stockToShop(ctx, s, levels, false)
		if derr := e.deadLetterItems(ctx, failed); derr != nil {
			return derr
		}
		if err != nil {
			return fmt.Errorf("shop %s: %w", s.cfg.ID, err)
		}
	}
	return nil
}

// syncShopProducts writes a shop's product changes to the ERP.
func (e *Engine) syncShopProducts(ctx context.Context, s *shopRT, products []commerce.Product) error {
	failed, err := e.productsToERP(ctx, s, products, s.cfg.Mode == ShopLeads)
	if derr := e.deadLetterItems(ctx, failed); derr != nil {
		return derr
	}
	return err
}

// handleCatalogReplay replays a dead-lettered catalogue item through its
// flow again.
func (e *Engine) handleCatalogReplay(ctx context.Context, st *Step) (commerce.Ref, error) {
	p, err := decodePayload[catalogPayload](st)
	if err != nil {
		return commerce.Ref{}, err
	}
	var failed []itemFailure
	switch {
	case p.Kind == KindProductPush && p.Target == targetERP && p.Product != nil:
		s, serr := e.shopOf(&Step{Shop: p.Source})
		if serr != nil {
			return commerce.Ref{}, serr
		}
		failed, err = e.productsToERP(ctx, s, []commerce.Product{*p.Product}, s.cfg.Mode == ShopLeads)
	case p.Kind == KindProductPush && p.Product != nil:
		s, serr := e.shopOf(&Step{Shop: p.Target})
		if serr != nil {
			return commerce.Ref{}, serr
		}
		failed, err = e.productsToShop(ctx, s, []commerce.Product{*p.Product})
	case p.Kind == KindPricePush && p.Product != nil:
		s, serr := e.shopOf(&Step{Shop: p.Target})
		if serr != nil {
			return commerce.Ref{}, serr
		}
		failed, err = e.pricesToShop(ctx, s, []commerce.Product{*p.Product})
	case p.Kind == KindStockPush && p.Stock != nil:
		s, serr := e.shopOf(&Step{Shop: p.Target})
		if serr != nil {
			return commerce.Ref{}, serr
		}
		failed, err = e.stockToShop(ctx, s, []commerce.StockLevel{*p.Stock}, true)
	case p.Kind == KindPriceListPush && p.List != nil:
		s, serr := e.shopOf(&Step{Shop: p.Target})
		if serr != nil {
			return commerce.Ref{}, serr
		}
		failed, err = e.priceListsToShop(ctx, s, []commerce.PriceList{*p.List})
	default:
		return commerce.Ref{}, deadf("unknown catalogue item %q", p.Kind)
	}
	if err != nil {
		return commerce.Ref{}, err
	}
	if len(failed) > 0 {
		return commerce.Ref{}, failed[0].err
	}
	return commerce.Ref{}, nil
}

func (e *Engine) firstShop(pred func(*shopRT) bool) *shopRT {
	for _, s := range e.shopList {
		if pred(s) {
			return s
		}
	}
	return nil
}
