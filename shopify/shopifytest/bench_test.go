package shopifytest

import (
	"fmt"
	"testing"
	"time"
)

func seedCatalogue(b *testing.B, s *Server, products, variants int) {
	b.Helper()
	for i := range products {
		p := Product{Title: fmt.Sprintf("Produkt %d", i)}
		for j := range variants {
			p.Variants = append(p.Variants, Variant{SKU: fmt.Sprintf("P%d-V%d", i, j), Price: "199.00", Options: []SelectedOption{{"Storlek", fmt.Sprint(j)}}})
		}
		if _, err := s.AddProduct(p); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkValidate measures parsing and validating a typical feed query
// against the 3,500-type schema.
func BenchmarkValidate(b *testing.B) {
	q := `query($after: String) { products(first: 50, after: $after, sortKey: UPDATED_AT) { nodes { id title updatedAt variants(first: 10) { nodes { id sku price compareAtPrice inventoryItem { id } } } } pageInfo { hasNextPage endCursor } } }`
	mustSchema()
	b.ReportAllocs()
	for b.Loop() {
		if err := Validate(q); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkProductsPage measures one full request: a page of 50 products
// with 3 variants each over HTTP.
func BenchmarkProductsPage(b *testing.B) {
	s := NewServer(WithProfile(Profile{Name: "bench", Max: 1e12, RestoreRate: 1e12}))
	defer s.Close()
	seedCatalogue(b, s, 200, 3)
	q := `{ products(first: 50) { nodes { id title variants(first: 10) { nodes { id sku price } } } } }`
	b.ReportAllocs()
	for b.Loop() {
		do(b, s, q, nil)
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/50, "µs/product")
}

// BenchmarkBulkExport measures the fake's side of an initial export:
// 2,000 products × 5 variants written as JSONL.
func BenchmarkBulkExport(b *testing.B) {
	s := NewServer()
	defer s.Close()
	seedCatalogue(b, s, 2000, 5)
	q := `{ products { edges { node { id title variants { edges { node { id sku price } } } } } } }`
	b.ResetTimer()
	for b.Loop() {
		d := ok(b, s, runBulk, map[string]any{"q": q})
		id := dig(d, "bulkOperationRunQuery", "bulkOperation", "id")
		for {
			if dig(ok(b, s, pollBulk, map[string]any{"id": id}), "node", "status") == "COMPLETED" {
				break
			}
			time.Sleep(time.Millisecond)
		}
	}
	b.ReportMetric(float64(12000*b.N)/b.Elapsed().Seconds(), "lines/s")
}

// BenchmarkProductSet measures the fake's side of a catalogue upsert: one
// productSet of a product with 3 variants per request.
func BenchmarkProductSet(b *testing.B) {
	s := NewServer(WithProfile(Profile{Name: "bench", Max: 1e12, RestoreRate: 1e12}))
	defer s.Close()
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		i++
		in := sizeInput(fmt.Sprintf("P%d", i), map[string]string{}, fmt.Sprintf("P%d-S", i), fmt.Sprintf("P%d-M", i), fmt.Sprintf("P%d-L", i))
		for _, v := range in["variants"].([]any) {
			v.(map[string]any)["price"] = "199.00"
		}
		d := ok(b, s, productSetDoc, map[string]any{"identifier": map[string]any{"handle": fmt.Sprintf("p-%d", i)}, "input": in})
		if len(userErrors(d, "productSet")) > 0 {
			b.Fatal(d)
		}
	}
}
