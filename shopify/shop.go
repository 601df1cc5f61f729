package shopify

import (
	"context"
	"fmt"
	"strings"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/connector"
)

// shopSettings are the shop-wide facts mappings need, read once.
type shopSettings struct {
	Name          string
	Domain        string
	Currency      commerce.Currency
	TaxesIncluded bool
	Timezone      string
}

// settings reads the shop's currency and tax setting once per client.
func (c *Client) settings(ctx context.Context) (shopSettings, error) {
	c.shopMu.Lock()
	defer c.shopMu.Unlock()
	if c.shopInfo != nil {
		return *c.shopInfo, nil
	}
	var out struct {
		Shop struct {
			Name            string `json:"name"`
			MyshopifyDomain string `json:"myshopifyDomain"`
			CurrencyCode    string `json:"currencyCode"`
			TaxesIncluded   bool   `json:"taxesIncluded"`
			IanaTimezone    string `json:"ianaTimezone"`
		} `json:"shop"`
	}
	if _, err := c.Execute(ctx, docShop, nil, &out); err != nil {
		return shopSettings{}, err
	}
	cur, err := parseCurrency(out.Shop.CurrencyCode)
	if err != nil {
		return shopSettings{}, invalid("Shop", "shop.currencyCode", err)
	}
	s := shopSettings{Name: out.Shop.Name, Domain: out.Shop.MyshopifyDomain, Currency: cur, TaxesIncluded: out.Shop.TaxesIncluded, Timezone: out.Shop.IanaTimezone}
	c.shopInfo = &s
	return s, nil
}

// location is one of the shop's locations.
type location struct {
	ID       string
	LegacyID string
	Name     string
	Active   bool
}

// resolveLocation maps a canonical location — a Location GID, a numeric
// id or a location name (case-insensitive) — to its GID. The shop's
// locations are read once and again when a name is not found.
func (c *Client) resolveLocation(ctx context.Context, ref string) (string, error) {
	if isGIDOf(ref, "Location") {
		return ref, nil
	}
	find := func(ls []location) (string, bool) {
		for _, l := range ls {
			if l.LegacyID == ref || strings.EqualFold(l.Name, ref) {
				return l.ID, true
			}
		}
		return "", false
	}
	c.locMu.Lock()
	defer c.locMu.Unlock()
	if id, ok := find(c.locations); ok {
		return id, nil
	}
	var all []location
	vars := map[string]any{"first": 250}
	for {
		var out struct {
			Locations struct {
				PageInfo pageInfo `json:"pageInfo"`
				Nodes    []struct {
					ID               string     `json:"id"`
					LegacyResourceID flexString `json:"legacyResourceId"`
					Name             string     `json:"name"`
					IsActive         bool       `json:"isActive"`
				} `json:"nodes"`
			} `json:"locations"`
		}
		if _, err := c.Execute(ctx, docLocations, vars, &out); err != nil {
			return "", err
		}
		for _, n := range out.Locations.Nodes {
			all = append(all, location{ID: n.ID, LegacyID: string(n.LegacyResourceID), Name: n.Name, Active: n.IsActive})
		}
		if !out.Locations.PageInfo.HasNextPage || out.Locations.PageInfo.EndCursor == "" {
			break
		}
		vars["after"] = out.Locations.PageInfo.EndCursor
	}
	c.locations = all
	if id, ok := find(all); ok {
		return id, nil
	}
	return "", &connector.Error{System: systemName, Op: "ResolveLocation", Kind: connector.KindNotFound, Field: "location", Message: fmt.Sprintf("no location %q", ref)}
}
