package shopifytest

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzExecute feeds arbitrary documents and variables through validation,
// cost and execution over a seeded shop: whatever comes in, the fake
// answers in GraphQL shape and never panics.
func FuzzExecute(f *testing.F) {
	seeds := []struct{ q, vars string }{
		{`{ shop { name } }`, `{}`},
		{`query($q: String) { products(first: 5, query: $q, sortKey: UPDATED_AT) { edges { cursor node { id title variants(first: 3) { nodes { sku price } } } } pageInfo { hasNextPage endCursor } } }`, `{"q":"sku:SOCK-1 OR title:'Tröja'"}`},
		{`query($id: ID!) { node(id: $id) { __typename ... on Order { name lineItems(first: 2) { nodes { sku } } } } }`, `{"id":"gid://shopify/Order/9007199254742003"}`},
		{`{ orders(last: 3, before: "eyJsYXN0X3ZhbHVlIjoiMCJ9") { nodes { id } } }`, `{}`},
		{`mutation($i: InventorySetQuantitiesInput!) { inventorySetQuantities(input: $i) @idempotent(key: "f") { userErrors { code } } }`, `{"i":{"name":"available","reason":"correction","quantities":[{"inventoryItemId":"gid://shopify/InventoryItem/1","locationId":"gid://shopify/Location/1","quantity":1,"changeFromQuantity":null}]}}`},
		{`mutation { productSet(input: {title: "F"}) { product { id } userErrors { code } } }`, `{}`},
		{`mutation($i: RefundInput!) { refundCreate(input: $i) @idempotent(key: "r") { refund { id totalRefundedSet { shopMoney { amount } } } userErrors { field message } } }`, `{"i":{"orderId":"gid://shopify/Order/9007199254742003","refundLineItems":[{"lineItemId":"gid://shopify/LineItem/1","quantity":1}],"transactions":[{"orderId":"gid://shopify/Order/9007199254742003","amount":"1.00","gateway":"shopify_payments","kind":"REFUND"}]}}`},
		{`{ products(first: 1) { nodes { id ...F } } } fragment F on Product { title }`, `{}`},
		{`{ a: shop { name } a: shop { id } }`, `{}`},
		{`{ products(first: -1) { nodes { id } } }`, `{}`},
		{`{`, `{}`},
		{`query($n: Int!) { products(first: $n) { nodes { id } } }`, `{"n": 1e40}`},
	}
	for _, s := range seeds {
		f.Add(s.q, s.vars)
	}
	srv := NewServer(WithClock(fixedClock()), WithProfile(Profile{Name: "fuzz", Max: 1e12, RestoreRate: 1e12}))
	defer srv.Close()
	seedShop(f, srv)
	f.Fuzz(func(t *testing.T, query, vars string) {
		var v map[string]any
		dec := json.NewDecoder(bytes.NewReader([]byte(vars)))
		dec.UseNumber()
		if dec.Decode(&v) != nil {
			v = nil
		}
		status, resp, _ := srv.execute(gqlRequest{Query: query, Variables: v})
		if status != 200 {
			t.Fatalf("status %d", status)
		}
		if resp.Data == nil && len(resp.Errors) == 0 {
			t.Fatalf("neither data nor errors for %q", query)
		}
		if _, err := json.Marshal(resp); err != nil {
			t.Fatalf("answer does not encode: %v", err)
		}
	})
}

// FuzzSearch parses and evaluates arbitrary search strings.
func FuzzSearch(f *testing.F) {
	for _, s := range []string{
		"", "sku:A-1", "updated_at:>='2026-11-01T10:00:00Z' updated_at:<'2026-11-01T11:00:00Z'",
		"status:open OR status:closed", "NOT tag:x -vendor:y", "(title:a* OR title:b) AND id:>=123",
		"'unterminated", "a:b:c", "))((", "title:\"with space\"",
	} {
		f.Add(s)
	}
	fields := func(name string) ([]string, bool) {
		switch name {
		case "", "title":
			return []string{"Ullsocka"}, true
		case "updated_at":
			return []string{"2026-11-01T10:30:00Z"}, true
		case "id":
			return []string{"9007199254741000"}, true
		}
		return nil, false
	}
	f.Fuzz(func(t *testing.T, q string) {
		n := parseSearch(q)
		n.match(fields)
	})
}
