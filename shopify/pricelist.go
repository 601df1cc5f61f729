package shopify

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/connector"
)

// SetPriceList writes fixed prices per SKU into one of the shop's price
// lists (Shopify's PriceList of a market or B2B catalogue) with
// priceListFixedPricesAdd, which creates or replaces the fixed price of
// each variant given; fixed prices of variants not given stay as they are.
//
// The list is identified by list.Source.ID when it is a PriceList GID,
// else by its Name (case-insensitive). Its currency must match the list's.
// Every SKU is looked up before anything is written.
func (c *Client) SetPriceList(ctx context.Context, list commerce.PriceList, opts ...connector.CallOption) error {
	const op = "SetPriceList"
	co := connector.ApplyCallOptions(opts)
	if err := list.Validate(); err != nil {
		return &connector.Error{System: systemName, Op: op, Kind: connector.KindValidation, Message: "invalid price list; nothing written", Err: err}
	}
	var verrs []error
	for i, p := range list.Prices {
		if err := p.Price.ValidateExact(); err != nil {
			verrs = append(verrs, fmt.Errorf("prices[%d].price: %w", i, err))
		}
		if p.CompareAtPrice != nil {
			if err := p.CompareAtPrice.ValidateExact(); err != nil {
				verrs = append(verrs, fmt.Errorf("prices[%d].compare_at_price: %w", i, err))
			}
		}
	}
	if len(verrs) > 0 {
		return &connector.Error{System: systemName, Op: op, Kind: connector.KindValidation, Message: "invalid price list; nothing written", Err: errors.Join(verrs...)}
	}
	pl, err := c.findPriceList(ctx, list)
	if err != nil {
		return err
	}
	if pl.currency != list.Currency.Code() {
		return &connector.Error{System: systemName, Op: op, Kind: connector.KindValidation, Field: "currency",
			Message: fmt.Sprintf("price list %q is in %s, the prices are in %s", pl.name, pl.currency, list.Currency.Code())}
	}
	skus := make([]string, len(list.Prices))
	for i, p := range list.Prices {
		skus[i] = p.SKU
	}
	refs, err := c.lookupSKUs(ctx, skus)
	if err != nil {
		return err
	}
	inputs := make([]map[string]any, 0, len(list.Prices))
	var missing []string
	for _, p := range list.Prices {
		r, ok := refs[p.SKU]
		if !ok {
			missing = append(missing, p.SKU)
			continue
		}
		in := map[string]any{
			"variantId": r.VariantID,
			"price":     moneyInput(p.Price),
		}
		if p.CompareAtPrice != nil {
			in["compareAtPrice"] = moneyInput(*p.CompareAtPrice)
		}
		inputs = append(inputs, in)
	}
	if len(missing) > 0 {
		return &connector.Error{System: systemName, Op: op, Kind: connector.KindNotFound, Field: "sku", Message: "no variant with SKU " + strings.Join(missing, ", ") + "; nothing written"}
	}
	if co.DryRun {
		return nil
	}
	for chunk := range slices.Chunk(inputs, 250) {
		var out struct {
			PriceListFixedPricesAdd struct {
				UserErrors []userError `json:"userErrors"`
			} `json:"priceListFixedPricesAdd"`
		}
		// Fixed prices are absolute: repeating the call changes nothing.
		if _, err := c.execute(ctx, docPriceListFixedPriceAdd, map[string]any{"priceListId": pl.id, "prices": chunk}, &out, true); err != nil {
			return err
		}
		if err := c.userErrorsErr("PriceListFixedPricesAdd", out.PriceListFixedPricesAdd.UserErrors); err != nil {
			return err
		}
	}
	return nil
}

// moneyInput is a MoneyInput: amount as a decimal string and currency.
func moneyInput(m commerce.Money) map[string]any {
	return map[string]any{"amount": m.Amount.StringFixed(m.Currency.Digits()), "currencyCode": m.Currency.Code()}
}

type priceList struct{ id, name, currency string }

func (c *Client) findPriceList(ctx context.Context, list commerce.PriceList) (priceList, error) {
	vars := map[string]any{"first": 100}
	var names []string
	for {
		var out struct {
			PriceLists struct {
				PageInfo pageInfo `json:"pageInfo"`
				Nodes    []struct {
					ID       string `json:"id"`
					Name     string `json:"name"`
					Currency string `json:"currency"`
				} `json:"nodes"`
			} `json:"priceLists"`
		}
		if _, err := c.Execute(ctx, docPriceLists, vars, &out); err != nil {
			return priceList{}, err
		}
		for _, n := range out.PriceLists.Nodes {
			if (isGIDOf(list.Source.ID, "PriceList") && n.ID == list.Source.ID) || (list.Name != "" && strings.EqualFold(n.Name, list.Name)) {
				return priceList{n.ID, n.Name, n.Currency}, nil
			}
			names = append(names, n.Name)
		}
		if !out.PriceLists.PageInfo.HasNextPage || out.PriceLists.PageInfo.EndCursor == "" {
			break
		}
		vars["after"] = out.PriceLists.PageInfo.EndCursor
	}
	return priceList{}, &connector.Error{System: systemName, Op: "SetPriceList", Kind: connector.KindNotFound, Field: "name",
		Message: fmt.Sprintf("no price list %q (the shop has %d); create it with its catalogue in Shopify first", list.Name, len(names))}
}
