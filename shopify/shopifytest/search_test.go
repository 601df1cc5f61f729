package shopifytest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// visited reads how many records searches have looked at so far.
func (s *Server) visitedRecords() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.visited
}

// skuCatalogue seeds n products of two variants and a few awkward SKUs.
func skuCatalogue(t testing.TB, s *Server, n int) {
	t.Helper()
	for i := range n {
		if _, err := s.AddProduct(Product{Title: fmt.Sprintf("Produkt %d", i), Variants: []Variant{
			{SKU: fmt.Sprintf("P%d-S", i), Price: "10.00", Options: []SelectedOption{{"Storlek", "S"}}},
			{SKU: fmt.Sprintf("P%d-M", i), Price: "10.00", Options: []SelectedOption{{"Storlek", "M"}}},
		}}); err != nil {
			t.Fatal(err)
		}
	}
	for _, v := range [][]string{{"DUP-1", "dup-1"}, {"DUP-1"}, {"0100"}, {""}} {
		p := Product{Title: "Special " + strings.Join(v, "+")}
		for j, sku := range v {
			p.Variants = append(p.Variants, Variant{SKU: sku, Price: "10.00", Options: []SelectedOption{{"Storlek", fmt.Sprint(j)}}})
		}
		if _, err := s.AddProduct(p); err != nil {
			t.Fatal(err)
		}
	}
}

func TestSKUSearch(t *testing.T) {
	s := NewServer(WithClock(fixedClock()), WithProfile(Profile{Name: "test", Max: 1e9, RestoreRate: 1e9}))
	defer s.Close()
	const products = 300
	skuCatalogue(t, s, products)
	variants := `query($q: String!) { productVariants(first: 250, query: $q) { nodes { sku } } }`
	items := `query($q: String!) { inventoryItems(first: 250, query: $q) { nodes { sku } } }`
	prods := `query($q: String!) { products(first: 250, query: $q) { nodes { title } } }`
	tests := []struct {
		doc, q string
		want   []string
		max    int // records the search may look at; 0: any (it must scan)
	}{
		{variants, "sku:P7-S", []string{"P7-S"}, 1},
		{variants, "sku:'p7-s'", []string{"P7-S"}, 1}, // SKUs compare without case
		{variants, "sku:DUP-1", []string{"DUP-1", "dup-1", "DUP-1"}, 3},
		{variants, "sku:'P1-S' OR sku:\"P2-M\" OR sku:nope", []string{"P1-S", "P2-M"}, 2},
		{variants, "sku:P3-S title:'Produkt 3'", []string{"P3-S"}, 1},
		{variants, "sku:P3-S -title:'Produkt 3'", nil, 1},
		{variants, "sku:P12*", []string{"P12-S", "P12-M", "P120-S", "P120-M", "P121-S", "P121-M", "P122-S", "P122-M", "P123-S", "P123-M", "P124-S", "P124-M", "P125-S", "P125-M", "P126-S", "P126-M", "P127-S", "P127-M", "P128-S", "P128-M", "P129-S", "P129-M"}, 0},
		{variants, "sku:100", []string{"0100"}, 0}, // a number compares as one
		{variants, "sku:P4-S OR title:Special*", []string{"P4-S", "DUP-1", "dup-1", "DUP-1", "0100", ""}, 0},
		{items, "sku:P9-M OR sku:P10-M", []string{"P9-M", "P10-M"}, 4}, // and one duplicate count each
		{prods, "sku:P5-M", []string{"Produkt 5"}, 1},
		{prods, "sku:dup-1", []string{"Special DUP-1+dup-1", "Special DUP-1"}, 2},
	}
	for _, tt := range tests {
		before := s.visitedRecords()
		d := ok(t, s, tt.doc, map[string]any{"q": tt.q})
		var got []string
		for _, root := range []string{"productVariants", "inventoryItems", "products"} {
			nodes, _ := dig(d, root, "nodes").([]any)
			for _, n := range nodes {
				for _, k := range []string{"sku", "title"} {
					if v, ok := dig(n, k).(string); ok {
						got = append(got, v)
					}
				}
			}
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.q, diff)
		}
		if n := s.visitedRecords() - before; tt.max > 0 && n > tt.max {
			t.Errorf("%s looked at %d records, want at most %d (an index lookup)", tt.q, n, tt.max)
		} else if tt.max == 0 && n < products {
			t.Errorf("%s looked at %d records: it cannot use the index", tt.q, n)
		}
	}
}

func TestDuplicateSKUCount(t *testing.T) {
	s := NewServer(WithClock(fixedClock()), WithProfile(Profile{Name: "test", Max: 1e9, RestoreRate: 1e9}))
	defer s.Close()
	skuCatalogue(t, s, 300)
	count := func(sku string) (int, int) {
		t.Helper()
		d := ok(t, s, `query($q: String!) { productVariants(first: 5, query: $q) { nodes { id sku inventoryItem { duplicateSkuCount } } } }`, map[string]any{"q": "sku:" + sku})
		n, _ := dig(d, "productVariants", "nodes", 0, "inventoryItem", "duplicateSkuCount").(float64)
		return int(n), len(dig(d, "productVariants", "nodes").([]any))
	}
	before := s.visitedRecords()
	if n, _ := count("P1-S"); n != 0 {
		t.Errorf("P1-S: %d duplicates", n)
	}
	if n := s.visitedRecords() - before; n > 2 {
		t.Errorf("one duplicate count looked at %d records; it must not scan the catalogue", n)
	}
	// DUP-1 twice, and dup-1, which differs in case: one duplicate each.
	if n, found := count("DUP-1"); n != 1 || found != 3 {
		t.Errorf("DUP-1: %d duplicates among %d", n, found)
	}
	// Renaming a variant moves it in the index.
	d := ok(t, s, `query { productVariants(first: 1, query: "sku:P2-S") { nodes { id product { id } } } }`, nil)
	up := `mutation($p: ID!, $v: [ProductVariantsBulkInput!]!) { productVariantsBulkUpdate(productId: $p, variants: $v) { userErrors { message } } }`
	ok(t, s, up, map[string]any{"p": dig(d, "productVariants", "nodes", 0, "product", "id"),
		"v": []any{map[string]any{"id": dig(d, "productVariants", "nodes", 0, "id"), "inventoryItem": map[string]any{"sku": "P1-S"}}}})
	if n, found := count("P1-S"); n != 1 || found != 2 {
		t.Errorf("after the rename, P1-S: %d duplicates among %d", n, found)
	}
	if _, found := count("P2-S"); found != 0 {
		t.Errorf("after the rename, P2-S still found %d times", found)
	}
}

// TestSearchTermsParseOnce checks that matching a term does not parse the
// term's value again for every record: a text term against a lower-case
// text value allocates nothing.
func TestSearchTermsParseOnce(t *testing.T) {
	vals := []string{"ullsocka"}
	times := []string{"2026-11-01T10:30:00Z"}
	fields := func(f string) ([]string, bool) {
		if f == "updated_at" {
			return times, true
		}
		return vals, true
	}
	for _, q := range []string{"title:ullsocka", "title:ull*", "updated_at:>='2026-11-01T10:00:00Z'"} {
		n := parseSearch(q)
		if !n.match(fields) {
			t.Fatalf("%s does not match", q)
		}
		if a := testing.AllocsPerRun(100, func() { n.match(fields) }); a != 0 {
			t.Errorf("%s: %v allocations per match", q, a)
		}
	}
}
