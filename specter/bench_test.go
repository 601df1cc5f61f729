package specter_test

import (
	"fmt"
	"testing"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/specter"
)

// BenchmarkArticleUpsert upserts variants against the fake and reports how
// many articles go in one request (at most MaxArticlesPerCall) and how many
// requests a second the client and fake manage without a pace. Against
// Specter the pace bounds it: at DefaultPace about 2 requests, 200
// articles, a second.
func BenchmarkArticleUpsert(b *testing.B) {
	cases := []struct {
		name     string
		variants int
	}{
		{"variants=1", 1},
		{"variants=100", 100},
		{"variants=250", 250},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			f := newFixture(b)
			products := make([]commerce.Product, c.variants)
			for i := range products {
				products[i] = commerce.Product{Title: fmt.Sprintf("Tröja nr %d", i), Variants: []commerce.Variant{
					{SKU: fmt.Sprintf("SKU-%05d", i), Price: sek(29900), PricesIncludeTax: true, VATRatePercent: pct(25)},
				}}
			}
			before := f.srv.Requests(specter.ActionNewArticles)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := f.c.UpsertProducts(b.Context(), products); err != nil {
					b.Fatal(err)
				}
			}
			reqs := f.srv.Requests(specter.ActionNewArticles) - before
			b.ReportMetric(float64(c.variants*b.N)/float64(reqs), "articles/request")
			b.ReportMetric(float64(reqs)/b.Elapsed().Seconds(), "requests/s")
			b.ReportMetric(float64(c.variants*b.N)/b.Elapsed().Seconds(), "articles/s")
		})
	}
}
