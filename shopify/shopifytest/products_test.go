package shopifytest

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const productSetDoc = `mutation Set($identifier: ProductSetIdentifiers, $input: ProductSetInput!) {
  productSet(identifier: $identifier, input: $input, synchronous: true) {
    product { id handle title variants(first: 10) { nodes { id sku price compareAtPrice selectedOptions { name value } } } }
    userErrors { field message code }
  }
}`

func sizeInput(title string, sizes map[string]string, skus ...string) map[string]any {
	var values, variants []any
	for _, sku := range skus {
		size := sku[len(sku)-1:]
		values = append(values, map[string]any{"name": size})
		variants = append(variants, map[string]any{
			"optionValues":  []any{map[string]any{"optionName": "Size", "name": size}},
			"price":         sizes[sku],
			"inventoryItem": map[string]any{"sku": sku, "tracked": true},
		})
	}
	return map[string]any{"title": title, "productOptions": []any{map[string]any{"name": "Size", "values": values}}, "variants": variants}
}

func TestProductSetUpsert(t *testing.T) {
	s := NewServer(WithClock(fixedClock()))
	defer s.Close()
	ident := map[string]any{"customId": map[string]any{"namespace": "erp", "key": "article", "value": "A-100"}}
	prices := map[string]string{"A-100-S": "100.00", "A-100-M": "110.00", "A-100-L": "120.00"}
	in := sizeInput("Jacka", prices, "A-100-S", "A-100-M")
	d := ok(t, s, productSetDoc, map[string]any{"identifier": ident, "input": in})
	if ue := userErrors(d, "productSet"); len(ue) > 0 {
		t.Fatalf("userErrors %v", ue)
	}
	id := dig(d, "productSet", "product", "id")
	firstVariant := dig(d, "productSet", "product", "variants", "nodes", 0, "id")

	// A retry (say after a lost answer) updates the same product.
	s.Advance(time.Minute)
	d = ok(t, s, productSetDoc, map[string]any{"identifier": ident, "input": sizeInput("Jacka", prices, "A-100-S", "A-100-L")})
	if got := dig(d, "productSet", "product", "id"); got != id {
		t.Fatalf("second productSet made %v, want the same product %v", got, id)
	}
	if n := len(s.Products()); n != 1 {
		t.Fatalf("%d products after an upsert retry", n)
	}
	// List replace: S kept (same id), M deleted, L created.
	nodes := dig(d, "productSet", "product", "variants", "nodes").([]any)
	var skus []string
	for _, n := range nodes {
		skus = append(skus, dig(n, "sku").(string))
	}
	if diff := cmp.Diff([]string{"A-100-S", "A-100-L"}, skus); diff != "" {
		t.Errorf("variants (-want +got):\n%s", diff)
	}
	if dig(nodes, 0, "id") != firstVariant {
		t.Errorf("variant S got a new id")
	}
	if _, ok := s.VariantBySKU("A-100-M"); ok {
		t.Error("A-100-M survived the list replace")
	}
	if got := dig(nodes, 1, "price"); got != "120.0" {
		t.Errorf("price %v", got)
	}

	// By handle: created once, then found.
	h := map[string]any{"handle": "mossa"}
	for range 2 {
		ok(t, s, productSetDoc, map[string]any{"identifier": h, "input": map[string]any{"title": "Mössa"}})
	}
	if n := len(s.Products()); n != 2 {
		t.Errorf("%d products after two handle upserts, want 2", n)
	}
	// By id: must exist.
	d = ok(t, s, productSetDoc, map[string]any{"identifier": map[string]any{"id": "gid://shopify/Product/42"}, "input": map[string]any{"title": "X"}})
	if ue := userErrors(d, "productSet"); len(ue) != 1 || dig(ue, 0, "code") != "PRODUCT_DOES_NOT_EXIST" {
		t.Errorf("missing id: %v", ue)
	}
}

func TestProductSetUserErrors(t *testing.T) {
	s := NewServer()
	defer s.Close()
	tests := []struct {
		name  string
		input map[string]any
		code  string
	}{
		{"blank title", map[string]any{"title": " "}, "INVALID_INPUT"},
		{"variants without options", map[string]any{"title": "T", "variants": []any{map[string]any{"optionValues": []any{}}}}, "PRODUCT_OPTIONS_INPUT_MISSING"},
		{"unknown option value", map[string]any{"title": "T", "productOptions": []any{map[string]any{"name": "Size", "values": []any{map[string]any{"name": "S"}}}}, "variants": []any{map[string]any{"optionValues": []any{map[string]any{"optionName": "Size", "name": "XL"}}}}}, "OPTION_VALUE_DOES_NOT_EXIST"},
		{"negative price", map[string]any{"title": "T", "productOptions": []any{map[string]any{"name": "Size", "values": []any{map[string]any{"name": "S"}}}}, "variants": []any{map[string]any{"price": "-1", "optionValues": []any{map[string]any{"optionName": "Size", "name": "S"}}}}}, "INVALID_VARIANT"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := ok(t, s, productSetDoc, map[string]any{"input": tc.input})
			if ue := userErrors(d, "productSet"); len(ue) != 1 || dig(ue, 0, "code") != tc.code {
				t.Errorf("userErrors %v, want %s", ue, tc.code)
			}
		})
	}
	if n := len(s.Products()); n != 0 {
		t.Errorf("%d products written by refused productSets", n)
	}
	// A malformed Money variable is refused before execution.
	r := do(t, s, `mutation($p: Money) { productSet(input: {title: "T", productOptions: [{name: "S", values: [{name: "a"}]}], variants: [{price: $p, optionValues: [{optionName: "S", name: "a"}]}]}) { userErrors { code } } }`, map[string]any{"p": "12,50"})
	if r.code() != "INVALID_VARIABLE" && len(userErrors(r.Data, "productSet")) == 0 {
		t.Errorf("malformed Money accepted: %s", r.Raw)
	}
}

func TestVariantsBulkUpdate(t *testing.T) {
	s := NewServer(WithClock(fixedClock()))
	defer s.Close()
	sd := seedShop(t, s)
	q := `mutation($p: ID!, $v: [ProductVariantsBulkInput!]!) { productVariantsBulkUpdate(productId: $p, variants: $v) { productVariants { sku price compareAtPrice } userErrors { field message code } } }`
	d := ok(t, s, q, map[string]any{"p": sd.shirt.ID, "v": []any{
		map[string]any{"id": sd.shirt.Variants[0].ID, "price": "349.50", "compareAtPrice": "399.00"},
		map[string]any{"id": sd.shirt.Variants[1].ID, "price": "349.50"},
	}})
	want := []any{
		map[string]any{"sku": "SHIRT-S", "price": "349.5", "compareAtPrice": "399.0"},
		map[string]any{"sku": "SHIRT-M", "price": "349.5", "compareAtPrice": nil},
	}
	if diff := cmp.Diff(want, dig(d, "productVariantsBulkUpdate", "productVariants")); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// Clearing compare-at, and a variant of another product: all or nothing.
	d = ok(t, s, q, map[string]any{"p": sd.shirt.ID, "v": []any{
		map[string]any{"id": sd.shirt.Variants[0].ID, "compareAtPrice": nil},
		map[string]any{"id": sd.sock.Variants[0].ID, "price": "1.00"},
	}})
	if ue := userErrors(d, "productVariantsBulkUpdate"); len(ue) != 1 || dig(ue, 0, "code") != "PRODUCT_VARIANT_DOES_NOT_EXIST" || fmt.Sprint(dig(ue, 0, "field")) != "[variants 1 id]" {
		t.Errorf("userErrors %v", ue)
	}
	if v, _ := s.VariantBySKU("SHIRT-S"); v.CompareAtPrice != "399.0" {
		t.Errorf("partial update applied: %+v", v)
	}
	d = ok(t, s, q, map[string]any{"p": "gid://shopify/Product/9", "v": []any{}})
	if dig(userErrors(d, "productVariantsBulkUpdate"), 0, "code") != "PRODUCT_DOES_NOT_EXIST" {
		t.Errorf("unknown product: %v", d)
	}
	// More than 250 input items.
	many := make([]any, 251)
	for i := range many {
		many[i] = map[string]any{"id": sd.shirt.Variants[0].ID}
	}
	if r := do(t, s, q, map[string]any{"p": sd.shirt.ID, "v": many}); r.code() != "MAX_INPUT_SIZE_EXCEEDED" {
		t.Errorf("251 items: %s", r.Raw)
	}
}

func TestProductSearchAndPaging(t *testing.T) {
	s := NewServer(WithClock(fixedClock()))
	defer s.Close()
	var ids []string
	for i := range 7 {
		p, err := s.AddProduct(Product{Title: fmt.Sprintf("P%d", i), UpdatedAt: epoch.Add(time.Duration(i%3) * time.Hour), Variants: []Variant{{SKU: fmt.Sprintf("SKU-%d", i), Price: "1"}}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, p.ID)
	}
	d := ok(t, s, `{ productVariants(first: 5, query: "sku:SKU-4") { nodes { sku product { title } } } }`, nil)
	if diff := cmp.Diff([]any{map[string]any{"sku": "SKU-4", "product": map[string]any{"title": "P4"}}}, dig(d, "productVariants", "nodes")); diff != "" {
		t.Errorf("sku search (-want +got):\n%s", diff)
	}
	d = ok(t, s, `{ products(first: 10, query: "updated_at:>='2026-11-02T10:00:00Z'") { nodes { title } } }`, nil)
	if n := len(dig(d, "products", "nodes").([]any)); n != 4 {
		t.Errorf("updated_at filter matched %d, want 4 (P1 P2 P4 P5)", n)
	}
	// Page by UPDATED_AT, two at a time, while a product seen on the first
	// page is updated: it moves to the end and is seen again, nothing is
	// skipped.
	q := `query($after: String) { products(first: 2, after: $after, sortKey: UPDATED_AT) { nodes { id title updatedAt } pageInfo { hasNextPage hasPreviousPage endCursor } } }`
	var seen []string
	var after any
	for page := 0; ; page++ {
		d := ok(t, s, q, map[string]any{"after": after})
		for _, n := range dig(d, "products", "nodes").([]any) {
			seen = append(seen, dig(n, "title").(string))
		}
		if page == 0 {
			if dig(d, "products", "pageInfo", "hasPreviousPage") != false {
				t.Error("first page has a previous page")
			}
			s.Advance(5 * time.Hour)
			if err := s.TouchProduct(ids[0]); err != nil {
				t.Fatal(err)
			}
		}
		if dig(d, "products", "pageInfo", "hasNextPage") != true {
			break
		}
		after = dig(d, "products", "pageInfo", "endCursor")
	}
	want := []string{"P0", "P3", "P6", "P1", "P4", "P2", "P5", "P0"}
	if diff := cmp.Diff(want, seen); diff != "" {
		t.Errorf("pages (-want +got):\n%s", diff)
	}
	// last/before and reverse.
	d = ok(t, s, `{ products(last: 2, reverse: true) { nodes { title } pageInfo { hasPreviousPage hasNextPage } } }`, nil)
	if diff := cmp.Diff([]any{map[string]any{"title": "P1"}, map[string]any{"title": "P0"}}, dig(d, "products", "nodes")); diff != "" {
		t.Errorf("last+reverse (-want +got):\n%s", diff)
	}
	if r := do(t, s, `{ products(first: 2, after: "bogus") { nodes { id } } }`, nil); len(r.Errors) == 0 {
		t.Errorf("bad cursor accepted: %s", r.Raw)
	}
	if r := do(t, s, `{ products { nodes { id } } }`, nil); len(r.Errors) == 0 {
		t.Errorf("connection without first or last accepted: %s", r.Raw)
	}
}

func TestPriceLists(t *testing.T) {
	s := NewServer(WithClock(fixedClock()))
	defer s.Close()
	sd := seedShop(t, s)
	pl, err := s.AddPriceList(PriceList{Name: "B2B EUR", Currency: "EUR"})
	if err != nil {
		t.Fatal(err)
	}
	add := `mutation($id: ID!, $prices: [PriceListPriceInput!]!) { priceListFixedPricesAdd(priceListId: $id, prices: $prices) { prices { price { amount currencyCode } compareAtPrice { amount } variant { sku } } userErrors { field message code } } }`
	price := func(v, amount, cur string) map[string]any {
		return map[string]any{"variantId": v, "price": map[string]any{"amount": amount, "currencyCode": cur}}
	}
	d := ok(t, s, add, map[string]any{"id": pl.ID, "prices": []any{price(sd.sock.Variants[0].ID, "8.90", "EUR")}})
	if got := dig(d, "priceListFixedPricesAdd", "prices", 0, "price", "amount"); got != "8.9" {
		t.Errorf("price %v (%v)", got, d)
	}
	d = ok(t, s, add, map[string]any{"id": pl.ID, "prices": []any{price(sd.shirt.Variants[0].ID, "35", "SEK")}})
	if dig(userErrors(d, "priceListFixedPricesAdd"), 0, "code") != "PRICE_LIST_CURRENCY_MISMATCH" {
		t.Errorf("currency mismatch: %v", d)
	}
	upd := `mutation($id: ID!, $add: [PriceListPriceInput!]!, $del: [ID!]!) { priceListFixedPricesUpdate(priceListId: $id, pricesToAdd: $add, variantIdsToDelete: $del) { pricesAdded { variant { sku } } deletedFixedPriceVariantIds userErrors { code } } }`
	d = ok(t, s, upd, map[string]any{"id": pl.ID, "add": []any{price(sd.shirt.Variants[0].ID, "35.00", "EUR")}, "del": []any{sd.sock.Variants[0].ID}})
	if got := dig(d, "priceListFixedPricesUpdate", "deletedFixedPriceVariantIds", 0); got != sd.sock.Variants[0].ID {
		t.Errorf("deleted %v", d)
	}
	want := map[string]FixedPrice{sd.shirt.Variants[0].ID: {Price: "35.0"}}
	if diff := cmp.Diff(want, s.PriceListPrices(pl.ID)); diff != "" {
		t.Errorf("prices (-want +got):\n%s", diff)
	}
	d = ok(t, s, `{ priceLists(first: 5) { nodes { name currency fixedPricesCount prices(first: 5) { nodes { price { amount } variant { sku } } } } } }`, nil)
	if got := dig(d, "priceLists", "nodes", 0, "prices", "nodes", 0, "variant", "sku"); got != "SHIRT-S" {
		t.Errorf("priceLists: %v", d)
	}
}
