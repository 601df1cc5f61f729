package shopify

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/knyt/knyt/connector"
)

// SetStock sets available quantities per SKU and location with
// inventorySetQuantities. Each quantity carries changeFromQuantity: the
// change's Previous when given (Shopify refuses the write with
// CHANGE_FROM_QUANTITY_STALE, reported as KindConflict, if the level has
// moved since), else null. Items not yet stocked at a location are
// activated there first; levels that already hold the quantity are not
// written again. Locations may be given as Location GIDs, numeric
// ids or names.
//
// Every call carries an @idempotent key, so the transport may retry it
// safely after a network failure: derived from the call's
// WithIdempotencyKey when given (a retry after a crash with the same key
// is applied once), else random per call. Setting the same absolute levels
// twice changes nothing either way. All SKUs and locations are resolved
// before anything is written.
func (c *Client) SetStock(ctx context.Context, changes []connector.StockChange, opts ...connector.CallOption) error {
	const op = "SetStock"
	co := connector.ApplyCallOptions(opts)
	if len(changes) == 0 {
		return nil
	}
	var verrs []error
	for i, ch := range changes {
		if err := ch.Level.Validate(); err != nil {
			verrs = append(verrs, fmt.Errorf("changes[%d]: %w", i, err))
		}
	}
	if len(verrs) > 0 {
		return &connector.Error{System: systemName, Op: op, Kind: connector.KindValidation, Message: "invalid stock levels; nothing written", Err: errors.Join(verrs...)}
	}
	type quantity struct {
		item, location string
		qty            int
		from           *int
	}
	byLocation := map[string][]connector.StockChange{}
	var locations []string
	for _, ch := range changes {
		loc, err := c.resolveLocation(ctx, ch.Level.Location)
		if err != nil {
			return err
		}
		if _, ok := byLocation[loc]; !ok {
			locations = append(locations, loc)
		}
		byLocation[loc] = append(byLocation[loc], ch)
	}
	var quantities []quantity
	var activate [][2]string // item, location
	var missing []string
	seen := map[[2]string]bool{}
	for _, loc := range locations {
		chs := byLocation[loc]
		skus := make([]string, len(chs))
		for i, ch := range chs {
			skus[i] = ch.Level.SKU
		}
		items, err := c.stockItems(ctx, skus, loc)
		if err != nil {
			return err
		}
		for _, ch := range chs {
			it, ok := items[ch.Level.SKU]
			if !ok {
				missing = append(missing, ch.Level.SKU)
				continue
			}
			k := [2]string{it.item, loc}
			if seen[k] {
				return &connector.Error{System: systemName, Op: op, Kind: connector.KindValidation, Field: "sku", Message: fmt.Sprintf("SKU %q at %s given twice; nothing written", ch.Level.SKU, loc)}
			}
			seen[k] = true
			if !it.stocked {
				activate = append(activate, k)
			} else if it.available == ch.Level.Available && (ch.Previous == nil || *ch.Previous == it.available) {
				continue // already at the level: nothing to write
			}
			quantities = append(quantities, quantity{item: it.item, location: loc, qty: ch.Level.Available, from: ch.Previous})
		}
	}
	if len(missing) > 0 {
		return &connector.Error{System: systemName, Op: op, Kind: connector.KindNotFound, Field: "sku", Message: "no variant with SKU " + strings.Join(missing, ", ") + "; nothing written"}
	}
	if co.DryRun {
		return nil
	}
	for _, a := range activate {
		var out struct {
			InventoryActivate struct {
				UserErrors []userError `json:"userErrors"`
			} `json:"inventoryActivate"`
		}
		vars := map[string]any{
			"inventoryItemId": a[0],
			"locationId":      a[1],
			// Activation happens once per item and location, so the key
			// is derived from them: any repeat is a replay.
			"idempotencyKey": connector.IdempotencyKey(systemName, c.shop, "inventoryActivate", a[0], a[1]),
		}
		if _, err := c.Execute(ctx, docInventoryActivate, vars, &out); err != nil {
			return err
		}
		if err := c.userErrorsErr("InventoryActivate", out.InventoryActivate.UserErrors); err != nil {
			return err
		}
	}
	for i, chunk := range slices.Collect(slices.Chunk(quantities, 250)) {
		qs := make([]map[string]any, len(chunk))
		for j, q := range chunk {
			m := map[string]any{"inventoryItemId": q.item, "locationId": q.location, "quantity": q.qty, "changeFromQuantity": nil}
			if q.from != nil {
				m["changeFromQuantity"] = *q.from
			}
			qs[j] = m
		}
		key := co.IdempotencyKey
		if key != "" {
			key = connector.IdempotencyKey(systemName, c.shop, "inventorySetQuantities", key, strconv.Itoa(i))
		} else {
			key = randomKey()
		}
		input := map[string]any{"name": "available", "reason": c.cfg.stockReason, "quantities": qs}
		var out struct {
			InventorySetQuantities struct {
				UserErrors []userError `json:"userErrors"`
			} `json:"inventorySetQuantities"`
		}
		if _, err := c.Execute(ctx, docInventorySetQuantities, map[string]any{"input": input, "idempotencyKey": key}, &out); err != nil {
			return err
		}
		if err := c.userErrorsErr("InventorySetQuantities", out.InventorySetQuantities.UserErrors); err != nil {
			return err
		}
	}
	return nil
}

type stockItem struct {
	item      string
	stocked   bool
	available int
}

// stockItems resolves SKUs to inventory items and their level at loc.
func (c *Client) stockItems(ctx context.Context, skus []string, loc string) (map[string]stockItem, error) {
	found := map[string]stockItem{}
	uniq := slices.Compact(slices.Sorted(slices.Values(skus)))
	for chunk := range slices.Chunk(uniq, 50) {
		terms := make([]string, len(chunk))
		want := map[string]bool{}
		for i, s := range chunk {
			terms[i] = "sku:" + searchValue(s)
			want[s] = true
		}
		vars := map[string]any{"query": strings.Join(terms, " OR "), "locationId": loc}
		c.pageSize(docStockItems, vars, "first", min(250, 2*len(chunk)))
		for {
			var out struct {
				ProductVariants struct {
					PageInfo pageInfo `json:"pageInfo"`
					Nodes    []struct {
						ID            string `json:"id"`
						SKU           string `json:"sku"`
						InventoryItem struct {
							ID             string `json:"id"`
							InventoryLevel *struct {
								ID         string `json:"id"`
								Quantities []struct {
									Name     string `json:"name"`
									Quantity int    `json:"quantity"`
								} `json:"quantities"`
							} `json:"inventoryLevel"`
						} `json:"inventoryItem"`
					} `json:"nodes"`
				} `json:"productVariants"`
			}
			if _, err := c.Execute(ctx, docStockItems, vars, &out); err != nil {
				return nil, err
			}
			for _, n := range out.ProductVariants.Nodes {
				if !want[n.SKU] {
					continue
				}
				if prev, dup := found[n.SKU]; dup && prev.item != n.InventoryItem.ID {
					return nil, &connector.Error{System: systemName, Op: "SetStock", Kind: connector.KindConflict, Field: "sku", Message: fmt.Sprintf("SKU %q is on more than one variant", n.SKU)}
				}
				it := stockItem{item: n.InventoryItem.ID}
				if lvl := n.InventoryItem.InventoryLevel; lvl != nil {
					it.stocked = true
					for _, q := range lvl.Quantities {
						if q.Name == "available" {
							it.available = q.Quantity
						}
					}
				}
				found[n.SKU] = it
			}
			pi := out.ProductVariants.PageInfo
			if !pi.HasNextPage || pi.EndCursor == "" {
				break
			}
			vars["after"] = pi.EndCursor
		}
	}
	return found, nil
}

// randomKey is a random UUID (version 4) for an idempotency key that only
// has to cover the retries of one call.
func randomKey() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	b[6] = (b[6] & 0x0f) | 0x40
	b[8] = (b[8] & 0x3f) | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
