package shopifytest

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

const setQuantities = `mutation Set($input: InventorySetQuantitiesInput!, $key: String!) {
  inventorySetQuantities(input: $input) @idempotent(key: $key) {
    inventoryAdjustmentGroup { id reason referenceDocumentUri changes { name delta quantityAfterChange item { sku } location { name } } }
    userErrors { field message code }
  }
}`

func qty(item, loc string, q int, from any) map[string]any {
	m := map[string]any{"inventoryItemId": item, "locationId": loc, "quantity": q}
	if from != "omit" {
		m["changeFromQuantity"] = from
	}
	return m
}

func setInput(qs ...map[string]any) map[string]any {
	l := make([]any, len(qs))
	for i, q := range qs {
		l[i] = q
	}
	return map[string]any{"name": "available", "reason": "correction", "referenceDocumentUri": "gid://knyt/StockCount/1", "quantities": l}
}

func userErrors(data map[string]any, field string) []any {
	l, _ := dig(data, field, "userErrors").([]any)
	return l
}

func TestInventorySetQuantities(t *testing.T) {
	s := NewServer(WithClock(fixedClock()))
	defer s.Close()
	sd := seedShop(t, s)
	sock, shirt := sd.sock.Variants[0].InventoryItemID, sd.shirt.Variants[0].InventoryItemID

	// Compare-and-set from the current 10 to 12.
	d := ok(t, s, setQuantities, map[string]any{"key": "k-1", "input": setInput(qty(sock, sd.loc.ID, 12, 10))})
	if ue := userErrors(d, "inventorySetQuantities"); len(ue) > 0 {
		t.Fatalf("userErrors %v", ue)
	}
	group := dig(d, "inventorySetQuantities", "inventoryAdjustmentGroup").(map[string]any)
	want := []any{
		map[string]any{"name": "available", "delta": float64(2), "quantityAfterChange": float64(12), "item": map[string]any{"sku": "SOCK-1"}, "location": map[string]any{"name": "Lager Göteborg"}},
		map[string]any{"name": "on_hand", "delta": float64(2), "quantityAfterChange": float64(12), "item": map[string]any{"sku": "SOCK-1"}, "location": map[string]any{"name": "Lager Göteborg"}},
	}
	if diff := cmp.Diff(want, group["changes"]); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
	if group["reason"] != "correction" || group["referenceDocumentUri"] != "gid://knyt/StockCount/1" {
		t.Errorf("group %v", group)
	}

	// The same key and input: the first result again, applied once.
	d2 := ok(t, s, setQuantities, map[string]any{"key": "k-1", "input": setInput(qty(sock, sd.loc.ID, 12, 10))})
	if got := dig(d2, "inventorySetQuantities", "inventoryAdjustmentGroup", "id"); got != group["id"] {
		t.Errorf("replay returned group %v, want %v", got, group["id"])
	}
	if n, _ := s.InventoryLevel("SOCK-1", sd.loc.ID); n != 12 {
		t.Errorf("available %d after replay, want 12", n)
	}
	if got := s.Stats().IdempotentReplays; got != 1 {
		t.Errorf("IdempotentReplays = %d", got)
	}

	// The same key with other parameters.
	d3 := ok(t, s, setQuantities, map[string]any{"key": "k-1", "input": setInput(qty(sock, sd.loc.ID, 13, 12))})
	if ue := userErrors(d3, "inventorySetQuantities"); len(ue) != 1 || dig(ue, 0, "code") != "IDEMPOTENCY_KEY_PARAMETER_MISMATCH" {
		t.Errorf("mismatch: %v", d3)
	}

	// A stale changeFromQuantity writes nothing, not even the valid line.
	d4 := ok(t, s, setQuantities, map[string]any{"key": "k-2", "input": setInput(qty(shirt, sd.loc.ID, 9, 4), qty(sock, sd.loc.ID, 20, 10))})
	ue := userErrors(d4, "inventorySetQuantities")
	wantErr := []any{map[string]any{
		"field":   []any{"input", "quantities", "1", "changeFromQuantity"},
		"message": "The quantity 10 does not match the current available quantity 12; it has changed since it was read.",
		"code":    "CHANGE_FROM_QUANTITY_STALE",
	}}
	if diff := cmp.Diff(wantErr, ue); diff != "" {
		t.Errorf("stale (-want +got):\n%s", diff)
	}
	if n, _ := s.InventoryLevel("SHIRT-S", sd.loc.ID); n != 4 {
		t.Errorf("partial write: SHIRT-S %d", n)
	}
	if s.Stats().StaleQuantities != 1 {
		t.Errorf("StaleQuantities = %d", s.Stats().StaleQuantities)
	}

	// null skips the compare; on_hand follows available.
	ok(t, s, setQuantities, map[string]any{"key": "k-3", "input": setInput(qty(sock, sd.loc.ID, 5, nil))})
	if q, _ := s.InventoryQuantities("SOCK-1", sd.loc.ID); q["available"] != 5 || q["on_hand"] != 5 {
		t.Errorf("quantities %v", q)
	}
}

func TestInventorySetQuantitiesRules(t *testing.T) {
	s := NewServer(WithClock(fixedClock()))
	defer s.Close()
	sd := seedShop(t, s)
	sock := sd.sock.Variants[0].InventoryItemID
	tests := []struct {
		name  string
		input map[string]any
		code  string
		field []any
	}{
		{"changeFromQuantity omitted", setInput(qty(sock, sd.loc.ID, 1, "omit")), "COMPARE_QUANTITY_REQUIRED", []any{"input", "quantities", "0", "changeFromQuantity"}},
		{"not stocked at the location", setInput(qty(sock, sd.loc2.ID, 1, nil)), "INVALID_LOCATION", []any{"input", "quantities", "0", "locationId"}},
		{"unknown item", setInput(qty("gid://shopify/InventoryItem/1", sd.loc.ID, 1, nil)), "INVALID_INVENTORY_ITEM", []any{"input", "quantities", "0", "inventoryItemId"}},
		{"duplicate pair", setInput(qty(sock, sd.loc.ID, 1, nil), qty(sock, sd.loc.ID, 2, nil)), "NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR", []any{"input", "quantities", "1"}},
		{"bad name", map[string]any{"name": "committed", "reason": "correction", "quantities": []any{qty(sock, sd.loc.ID, 1, nil)}}, "INVALID_NAME", []any{"input", "name"}},
		{"bad reason", map[string]any{"name": "available", "reason": "because", "quantities": []any{qty(sock, sd.loc.ID, 1, nil)}}, "INVALID_REASON", []any{"input", "reason"}},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := ok(t, s, setQuantities, map[string]any{"key": "rules-" + string(rune('a'+i)), "input": tc.input})
			ue := userErrors(d, "inventorySetQuantities")
			if len(ue) != 1 || dig(ue, 0, "code") != tc.code {
				t.Fatalf("userErrors %v, want %s", ue, tc.code)
			}
			if diff := cmp.Diff(tc.field, dig(ue, 0, "field")); diff != "" {
				t.Errorf("field (-want +got):\n%s", diff)
			}
		})
	}
	if n, _ := s.InventoryLevel("SOCK-1", sd.loc.ID); n != 10 {
		t.Errorf("a refused set wrote: %d", n)
	}
	// The idempotency key is mandatory (2026-04) and may not be blank.
	noKey := `mutation($input: InventorySetQuantitiesInput!) { inventorySetQuantities(input: $input) { userErrors { code } } }`
	if r := do(t, s, noKey, map[string]any{"input": setInput(qty(sock, sd.loc.ID, 1, nil))}); len(r.Errors) == 0 || dig(r.Data, "inventorySetQuantities") != nil {
		t.Errorf("missing @idempotent accepted: %s", r.Raw)
	}
	if r := do(t, s, setQuantities, map[string]any{"key": "  ", "input": setInput(qty(sock, sd.loc.ID, 1, nil))}); len(r.Errors) == 0 {
		t.Errorf("blank key accepted: %s", r.Raw)
	}
	// @idempotent on a mutation that does not support it.
	r := do(t, s, `mutation { orderClose(input: {id: "gid://shopify/Order/1"}) @idempotent(key: "x") { userErrors { message } } }`, nil)
	if len(r.Errors) == 0 {
		t.Errorf("@idempotent accepted on orderClose: %s", r.Raw)
	}
	if n, _ := s.InventoryLevel("SOCK-1", sd.loc.ID); n != 10 {
		t.Errorf("refused requests wrote: %d", n)
	}
}

func TestInventoryActivate(t *testing.T) {
	s := NewServer(WithClock(fixedClock()))
	defer s.Close()
	sd := seedShop(t, s)
	item := sd.shirt.Variants[1].InventoryItemID
	q := `mutation($i: ID!, $l: ID!) { inventoryActivate(inventoryItemId: $i, locationId: $l, available: 3) @idempotent(key: "act-1") { inventoryLevel { location { id } quantities(names: ["available"]) { quantity } } userErrors { field message } } }`
	for range 2 {
		d := ok(t, s, q, map[string]any{"i": item, "l": sd.loc2.ID})
		if got := dig(d, "inventoryActivate", "inventoryLevel", "quantities", 0, "quantity"); got != float64(3) {
			t.Fatalf("activate: %v", d)
		}
	}
	if n, ok := s.InventoryLevel("SHIRT-M", sd.loc2.ID); !ok || n != 3 {
		t.Errorf("level %d %v", n, ok)
	}
	d := ok(t, s, `mutation($i: ID!) { inventoryActivate(inventoryItemId: $i, locationId: "gid://shopify/Location/1") { inventoryLevel { id } userErrors { field message } } }`, map[string]any{"i": item})
	if dig(d, "inventoryActivate", "userErrors", 0, "field", 0) != "locationId" {
		t.Errorf("unknown location: %v", d)
	}
	// Reading levels per location, as a stock feed does.
	d = ok(t, s, `query($l: ID!) { location(id: $l) { inventoryLevels(first: 10) { nodes { item { sku } quantities(names: ["available", "on_hand"]) { name quantity } } } } }`, map[string]any{"l": sd.loc.ID})
	if n := len(dig(d, "location", "inventoryLevels", "nodes").([]any)); n != 2 {
		t.Errorf("%d levels at the warehouse, want 2", n)
	}
}
