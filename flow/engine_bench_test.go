package flow

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/connector"
)

// BenchmarkEngineOrderStep is the engine's own cost of moving an order from
// a shop feed into an ERP — journalling, hooks, VAT conversion, customer
// and ID map bookkeeping — against in-memory systems and store, so nothing
// but the engine is measured. Compare with BenchmarkOrderFlow, where the
// connectors and their protocols set the pace.
func BenchmarkEngineOrderStep(b *testing.B) {
	shop := newMemShop("se.example")
	shop.orders.page = 250
	erp := newMemERP()
	cfg := baseConfig()
	cfg.Shops[0].Orders.Articles = "connector"
	cfg.Shops[0].Status = map[string][]string{}
	e, err := New(cfg, Systems{ERP: erp, Shops: map[string]connector.System{"se": shop}, Providers: map[string]connector.System{"mempsp": newMemPSP("mempsp")}},
		WithLogger(quietLogger()))
	if err != nil {
		b.Fatal(err)
	}
	orders := make([]commerce.Order, b.N)
	for i := range orders {
		orders[i] = newOrder(fmt.Sprintf("B%d", i), commerce.FinancialPaid, grossLine("l1", "A-1", 2, "33.33", ""), grossLine("l2", "B-2", 1, "149.50", "10.00"))
		orders[i].Customer.Email = fmt.Sprintf("kund%d@example.se", i%500)
	}
	shop.addOrders(orders...)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	if err := e.SyncOnce(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	if creates, _ := erp.counts(); creates != b.N {
		b.Fatalf("%d of %d orders created", creates, b.N)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "orders/s")
}

// BenchmarkToERPOrder is the VAT conversion of a typical order.
func BenchmarkToERPOrder(b *testing.B) {
	o := newOrder("1", commerce.FinancialPaid, grossLine("l1", "A-1", 3, "33.33", ""), grossLine("l2", "B-2", 1, "149.50", "10.00"), grossLine("l3", "C-3", 2, "19.95", ""))
	p := ERPPricing{PriceDecimals: 3, RoundingSKU: "R"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ToERPOrder(o, p); err != nil {
			b.Fatal(err)
		}
	}
}
