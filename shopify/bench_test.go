package shopify_test

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/shopify"
	"github.com/knyt/knyt/shopify/shopifytest"
)

// BenchmarkCatalogUpsert upserts 2,000 products of 3 variants into a fake
// shop with Shopify's Standard bucket (2000 points, 100/s) restoring 2×
// faster — slow enough that the bucket, not the fake's own work (which
// grows with its catalogue), stays the limit, which is what the metric is
// about — and reports how well the client used the cost budget:
// utilization = (total actual cost ÷ restore rate) ÷ measured time — 1.0
// means the client ran exactly as fast as the bucket allows (the initial
// full bucket lets it exceed 1 slightly) — and how many requests Shopify
// answered THROTTLED.
func BenchmarkCatalogUpsert(b *testing.B) {
	const products = 2000
	batch := make([]commerce.Product, products)
	for i := range batch {
		batch[i] = sampleProduct(i)
	}
	var util, throttledPct, throttled, requests float64
	for b.Loop() {
		b.StopTimer()
		srv, c := newFake(b, []shopifytest.Option{shopifytest.WithProfile(shopifytest.Standard), shopifytest.WithTimeScale(2)}, shopify.WithConcurrency(4))
		_, _, restore := srv.ThrottleStatus()
		b.StartTimer()
		start := time.Now()
		for chunk := 0; chunk < products; chunk += 100 {
			if _, err := c.UpsertProducts(context.Background(), batch[chunk:chunk+100]); err != nil {
				b.Fatal(err)
			}
		}
		elapsed := time.Since(start)
		b.StopTimer()
		st := srv.Stats()
		util += st.ActualCost / restore / elapsed.Seconds()
		throttled += float64(st.Throttled)
		requests += float64(st.Requests)
		throttledPct += 100 * float64(st.Throttled) / float64(st.Requests)
		srv.Close()
		b.StartTimer()
	}
	n := float64(b.N)
	b.ReportMetric(util/n, "utilization")
	b.ReportMetric(throttled/n, "throttled/op")
	b.ReportMetric(throttledPct/n, "throttled%")
	b.ReportMetric(requests/n, "requests/op")
}

// BenchmarkInitialExport reads a whole catalogue through a bulk operation
// and reports variants per second end to end (including the fake's work
// of running the bulk query and writing the file), variants per second
// while streaming and mapping the JSONL (the client's part), and the
// largest growth of the live heap while streaming: measured after a
// garbage collection every 1000 products, against the heap when the
// download starts (the fake's records are in that baseline). The two
// sizes show that it does not grow with the catalogue.
func BenchmarkInitialExport(b *testing.B) {
	for _, variants := range []int{10_000, 50_000} {
		b.Run(fmt.Sprintf("variants=%d", variants), func(b *testing.B) {
			srv, c := newFake(b, nil, shopify.WithBulkPollInterval(time.Millisecond))
			for p := range variants / 4 {
				vs := make([]shopifytest.Variant, 4)
				for v := range vs {
					vs[v] = shopifytest.Variant{SKU: fmt.Sprintf("P%d-%d", p, v), Price: "199.00",
						Options: []shopifytest.SelectedOption{{Name: "Storlek", Value: fmt.Sprint(v)}}}
				}
				if _, err := srv.AddProduct(shopifytest.Product{Title: fmt.Sprintf("Produkt %d", p),
					Options: []shopifytest.ProductOption{{Name: "Storlek", Values: []string{"0", "1", "2", "3"}}}, Variants: vs}); err != nil {
					b.Fatal(err)
				}
			}
			var perSec, readPerSec, peak float64
			b.ReportAllocs()
			for b.Loop() {
				var seen int64
				var base uint64
				var readStart time.Time
				var paused, pausedRead time.Duration
				progress := func(p shopify.ExportProgress) {
					if p.Status != "DOWNLOADING" {
						return
					}
					b.StopTimer()
					t := time.Now()
					runtime.GC()
					var ms runtime.MemStats
					runtime.ReadMemStats(&ms)
					if readStart.IsZero() {
						base = ms.HeapAlloc
						readStart = time.Now()
					} else {
						if ms.HeapAlloc > base {
							peak = max(peak, float64(ms.HeapAlloc-base))
						}
						pausedRead += time.Since(t)
					}
					paused += time.Since(t)
					b.StartTimer()
				}
				start := time.Now()
				cp, err := c.ExportProducts(context.Background(), shopify.ExportOptions{Progress: progress, ProgressEvery: 1000},
					func(_ context.Context, p commerce.Product) error {
						seen += int64(len(p.Variants))
						return nil
					})
				end := time.Now()
				if err != nil {
					b.Fatal(err)
				}
				if seen != int64(variants) || cp.Variants != int64(variants) {
					b.Fatalf("exported %d variants, want %d", seen, variants)
				}
				perSec += float64(variants) / (end.Sub(start) - paused).Seconds()
				readPerSec += float64(variants) / (end.Sub(readStart) - pausedRead).Seconds()
			}
			b.ReportMetric(perSec/float64(b.N), "variants/s")
			b.ReportMetric(readPerSec/float64(b.N), "read-variants/s")
			b.ReportMetric(peak, "peak-live-heap-B")
		})
	}
}
