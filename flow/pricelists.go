package flow

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/shopspring/decimal"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/connector"
)

// ---- price lists ERP → shop ----

// syncERPPriceLists fans the ERP's price lists out to the shops that take
// them (catalog.price_lists).
func (e *Engine) syncERPPriceLists(ctx context.Context, lists []commerce.PriceList) error {
	for _, s := range e.shopList {
		if len(s.cfg.Catalog.PriceLists) == 0 {
			continue
		}
		failed, err := e.priceListsToShop(ctx, s, lists)
		if derr := e.deadLetterItems(ctx, failed); derr != nil {
			return derr
		}
		if err != nil {
			return fmt.Errorf("shop %s: %w", s.cfg.ID, err)
		}
	}
	return nil
}

// priceListsToShop writes the shop's chosen price lists, converted to its
// VAT basis, skipping a list whose content the engine last wrote as it is.
// A list is one item: a price that cannot be converted dead-letters the
// list, since a partial list would mislead buyers more than an old one.
func (e *Engine) priceListsToShop(ctx context.Context, s *shopRT, lists []commerce.PriceList) ([]itemFailure, error) {
	var items []catalogItem[commerce.PriceList]
	var failed []itemFailure
	rates := e.rateFinder()
	for _, l := range lists {
		if !slices.Contains(s.cfg.Catalog.PriceLists, "*") && !slices.Contains(s.cfg.Catalog.PriceLists, l.Name) {
			continue
		}
		key := l.Name + "@" + l.Currency.Code()
		src := catalogPayload{Kind: KindPriceListPush, Target: s.cfg.ID, List: &l}
		out, err := e.priceListForShop(ctx, l, s, rates)
		if err == nil {
			var ok bool
			if ok, err = hookItem(ctx, e, KindPriceListPush, ERPToShop, s.cfg.ID, &out); err == nil && !ok {
				continue
			}
		}
		if err == nil {
			err = out.Validate()
		}
		if err != nil {
			if classify(ctx, err) == outRetry {
				return failed, err
			}
			failed = append(failed, itemFailure{key: key, src: src, err: err})
			continue
		}
		h := contentHash(out)
		same, err := e.wrote(ctx, guardList, key, s.cfg.ID, h)
		if err != nil {
			return failed, err
		}
		if same {
			e.counters.add(KindPriceListPush, func(c *Counters) { c.Skipped++ })
			continue
		}
		items = append(items, catalogItem[commerce.PriceList]{key: key, src: src, out: out, guards: []guardWrite{{guardList, key, h}}})
	}
	sink := s.sys.(connector.PriceListSink)
	more, err := writeBatches(ctx, e, KindPriceListPush, s.cfg.ID, 1, items,
		func(ctx context.Context, b []commerce.PriceList, opts ...connector.CallOption) error {
			return sink.SetPriceList(ctx, b[0], opts...)
		})
	return append(failed, more...), err
}

// priceListForShop converts a list's prices to the shop's VAT basis with
// each SKU's VAT rate.
func (e *Engine) priceListForShop(ctx context.Context, l commerce.PriceList, s *shopRT, rates func(context.Context, string) (decimal.Decimal, error)) (commerce.PriceList, error) {
	out := l
	out.Origin = commerce.Origin{} // where it came from is not the shop's content
	toIncl := !s.cfg.PricesExcludeVAT
	if l.PricesIncludeTax == toIncl {
		return out, nil
	}
	out.PricesIncludeTax = toIncl
	out.Prices = make([]commerce.FixedPrice, len(l.Prices))
	for i, p := range l.Prices {
		rate, err := rates(ctx, p.SKU)
		if err != nil {
			return commerce.PriceList{}, err
		}
		q := p
		if q.Price, err = convertPrice(p.Price, rate, l.PricesIncludeTax, toIncl); err != nil {
			return commerce.PriceList{}, deadf("price list %s, SKU %s: price: %v", l.Name, p.SKU, err)
		}
		if p.CompareAtPrice != nil {
			c, err := convertPrice(*p.CompareAtPrice, rate, l.PricesIncludeTax, toIncl)
			if err != nil {
				return commerce.PriceList{}, deadf("price list %s, SKU %s: compare-at price: %v", l.Name, p.SKU, err)
			}
			q.CompareAtPrice = &c
		}
		out.Prices[i] = q
	}
	return out, nil
}

// rateFinder returns a SKU's VAT rate: the ERP's article's where the ERP
// connector can look articles up (remembered for the pass, as a list holds
// many SKUs), else erp.default_vat_rate.
func (e *Engine) rateFinder() func(context.Context, string) (decimal.Decimal, error) {
	lookup, canLookUp := e.erp.(connector.ProductLookup)
	seen := map[string]decimal.Decimal{}
	return func(ctx context.Context, sku string) (decimal.Decimal, error) {
		if r, ok := seen[sku]; ok {
			return r, nil
		}
		v := commerce.Variant{SKU: sku}
		if canLookUp {
			p, err := lookup.ProductBySKU(ctx, sku)
			if err != nil {
				if errors.Is(err, connector.ErrNotFound) {
					return decimal.Zero, deadf("SKU %s is not an article in the ERP: %v", sku, err)
				}
				return decimal.Zero, err
			}
			if i := slices.IndexFunc(p.Variants, func(v commerce.Variant) bool { return v.SKU == sku }); i >= 0 {
				v = p.Variants[i]
			}
		}
		r, err := e.rateOf(&v)
		if err == nil {
			seen[sku] = r
		}
		return r, err
	}
}
