package flow

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"

	"github.com/knyt/knyt/commerce"
)

func shopProduct(sku, title, gross string) commerce.Product {
	return commerce.Product{Title: title, Status: commerce.ProductActive,
		Variants: []commerce.Variant{{SKU: sku, Price: sek(gross), PricesIncludeTax: true, VATRatePercent: &twentyFive, Active: true}}}
}

func erpArticle(sku, title, net string) commerce.Product {
	return commerce.Product{Title: title, Status: commerce.ProductActive,
		Variants: []commerce.Variant{{SKU: sku, Price: sek(net), PricesIncludeTax: false, VATRatePercent: &twentyFive, Active: true}}}
}

func TestShopLeadsProducts(t *testing.T) {
	r := newRig(t, nil)
	r.shop.addProducts(shopProduct("P-1", "Mössa", "99.60"), shopProduct("P-2", "Vante", "125.00"))
	r.sync()
	a, ok := r.erp.article("P-1")
	if !ok || a.Variants[0].PricesIncludeTax || !a.Variants[0].Price.Equal(sek("79.68")) {
		t.Fatalf("article P-1 = %+v", a.Variants)
	}
	if ref, ok, _ := r.store.Ref(context.Background(), r.e.erpKey(mapProduct, "P-2")); !ok || ref.ID != "A-P-2" {
		t.Errorf("ID map for P-2 = %v %v", ref, ok)
	}
	// The same products again change nothing; a new title is written.
	r.shop.addProducts(shopProduct("P-1", "Mössa", "99.60"), shopProduct("P-2", "Vantar", "125.00"))
	r.sync()
	if r.erp.articlePuts != 2+1 {
		t.Errorf("ERP product writes = %d, want 3", r.erp.articlePuts)
	}
	if a, _ := r.erp.article("P-2"); a.Title != "Vantar" {
		t.Errorf("P-2 title %q", a.Title)
	}
	if c := r.e.Counters().ByKind[KindProductPush]; c.Synced != 3 || c.Skipped != 1 {
		t.Errorf("counters %+v", c)
	}
}

func TestERPLeadsProductsAndStock(t *testing.T) {
	r := newRig(t, func(c *Config) {
		c.Shops[0].Mode = ERPLeads
		c.Shops[0].Catalog = CatalogRules{Locations: map[string]string{"1": "loc-main"}, StockBuffer: 2}
	})
	r.erp.products.add(erpArticle("P-1", "Mössa", "80.00"))
	r.erp.stock.add(commerce.StockLevel{SKU: "P-1", Location: "1", Available: 10}, commerce.StockLevel{SKU: "P-1", Location: "9", Available: 1},
		commerce.StockLevel{SKU: "P-2", Location: "1", Available: -3})
	r.sync()
	p, ok := r.shop.product("P-1")
	if !ok || !p.Variants[0].PricesIncludeTax || !p.Variants[0].Price.Equal(sek("100.00")) {
		t.Fatalf("shop product %+v", p.Variants)
	}
	// P-2 has stock but no product yet: its level waits in the journal.
	if _, ok := r.shop.stockOf("P-2", "loc-main"); ok {
		t.Error("stock written for a product the shop does not have")
	}
	r.erp.products.add(erpArticle("P-2", "Vante", "40.00"))
	r.sync()
	r.clock.advance(time.Minute) // the waiting level's retry is due
	r.sync()
	for _, tt := range []struct {
		sku, loc string
		want     int
	}{{"P-1", "loc-main", 8}, {"P-1", "9", 0}, {"P-2", "loc-main", -3}} {
		if n, ok := r.shop.stockOf(tt.sku, tt.loc); !ok || n != tt.want {
			t.Errorf("stock %s@%s = %d %v, want %d", tt.sku, tt.loc, n, ok, tt.want)
		}
	}
	// Unchanged levels are not written again; a change is.
	r.erp.stock.add(commerce.StockLevel{SKU: "P-1", Location: "1", Available: 10}, commerce.StockLevel{SKU: "P-1", Location: "1", Available: 7})
	r.sync()
	if _, _, writes := r.shop.writes(); writes != 4 {
		t.Errorf("stock writes = %d, want 4", writes)
	}
	// A level overtaken while it waited is not written over the newer one.
	r.erp.stock.add(commerce.StockLevel{SKU: "P-3", Location: "1", Available: 1})
	r.sync()
	r.erp.stock.add(commerce.StockLevel{SKU: "P-3", Location: "1", Available: 9})
	r.sync()
	r.erp.products.add(erpArticle("P-3", "Halsduk", "40.00"))
	r.sync()
	r.clock.advance(time.Hour)
	r.sync()
	if n, _ := r.shop.stockOf("P-3", "loc-main"); n != 7 {
		t.Errorf("P-3 stock = %d, want 7 (the newer level, less the buffer)", n)
	}
	if n, _ := r.shop.stockOf("P-1", "loc-main"); n != 5 {
		t.Errorf("stock after the change = %d, want 5", n)
	}
}

// TestCombinedModeHasNoEchoLoop runs products shop → ERP and prices ERP →
// shop with an ERP that reports its own writes back as changes and a shop
// that does the same: every change is written once and the echoes stop.
func TestCombinedModeHasNoEchoLoop(t *testing.T) {
	r := newRig(t, func(c *Config) { c.Shops[0].Mode = Combined })
	r.erp.echo = true
	r.shop.addProducts(shopProduct("P-1", "Mössa", "99.60"))
	r.sync()
	r.sync()
	if r.erp.articlePuts != 1 {
		t.Fatalf("ERP writes = %d, want 1", r.erp.articlePuts)
	}
	if _, prices, _ := r.shop.writes(); prices != 0 {
		t.Errorf("the ERP's echo of the shop's product was pushed back as a price (%d writes)", prices)
	}
	// The ERP changes the price: it goes to the shop, once.
	r.erp.products.add(erpArticle("P-1", "Mössa", "96.00"))
	r.sync()
	if fp, ok := r.shop.price("P-1"); !ok || !fp.Price.Equal(sek("120.00")) {
		t.Fatalf("shop price = %+v %v", fp, ok)
	}
	// The shop reports the product with its new price: not written back.
	r.shop.addProducts(shopProduct("P-1", "Mössa", "120.00"))
	r.sync()
	r.sync()
	if _, prices, _ := r.shop.writes(); prices != 1 || r.erp.articlePuts != 1 {
		t.Errorf("after the round trip: %d price writes, %d ERP writes; want 1 and 1", prices, r.erp.articlePuts)
	}
	// A real change in the shop (the title) still goes to the ERP.
	r.shop.addProducts(shopProduct("P-1", "Mössa, ull", "120.00"))
	r.sync()
	if a, _ := r.erp.article("P-1"); a.Title != "Mössa, ull" || r.erp.articlePuts != 2 {
		t.Errorf("title change: %q after %d writes", a.Title, r.erp.articlePuts)
	}
}

func TestCatalogItemFailuresAreIsolated(t *testing.T) {
	r := newRig(t, nil, WithHook(ShopToERP, HookFunc("filter", func(_ context.Context, p *commerce.Product, _ HookInfo) error {
		if strings.HasPrefix(p.Title, "Internal") {
			return Skip("not for sale")
		}
		return nil
	})))
	r.erp.refuse = map[string]bool{"BAD": true}
	r.shop.addProducts(shopProduct("OK-1", "A", "10.00"), shopProduct("BAD", "B", "10.00"), shopProduct("OK-2", "C", "10.00"),
		shopProduct("INT", "Internal sample", "0.00"))
	r.sync()
	for _, sku := range []string{"OK-1", "OK-2"} {
		if _, ok := r.erp.article(sku); !ok {
			t.Errorf("%s not written", sku)
		}
	}
	if _, ok := r.erp.article("INT"); ok {
		t.Error("a skipped product was written")
	}
	dls, err := r.e.DeadLetters(context.Background(), "", 0)
	if err != nil || len(dls) != 1 || dls[0].Subject != "BAD" || !strings.Contains(dls[0].Reason, "refused") {
		t.Fatalf("dead letters = %+v, %v", dls, err)
	}
	// The cause is fixed in the ERP; the replay writes the product.
	r.erp.mu.Lock()
	r.erp.refuse = nil
	r.erp.mu.Unlock()
	if state, err := r.e.Replay(context.Background(), dls[0].Key); err != nil || state != StepDone {
		t.Fatalf("Replay = %s %v", state, err)
	}
	if _, ok := r.erp.article("BAD"); !ok {
		t.Error("replayed product not written")
	}
	if c := r.e.Counters().ByKind[KindProductPush]; c.Skipped != 1 || c.DeadLettered != 1 {
		t.Errorf("counters %+v", c)
	}
}

func TestProductWithoutRateUsesDefault(t *testing.T) {
	rate := decimal.NewFromInt(12)
	r := newRig(t, func(c *Config) { c.ERP.DefaultVATRate = &rate })
	p := shopProduct("FOOD", "Kaffe", "112.00")
	p.Variants[0].VATRatePercent = nil
	r.shop.addProducts(p)
	r.sync()
	if a, ok := r.erp.article("FOOD"); !ok || !a.Variants[0].Price.Equal(sek("100.00")) {
		t.Errorf("article = %+v", a.Variants)
	}
}

func TestERPPriceListsToShop(t *testing.T) {
	r := newRig(t, func(c *Config) {
		c.Shops[0].Mode = ERPLeads
		c.Shops[0].Catalog.PriceLists = []string{"B2B", "Outlet EUR"}
	})
	r.erp.addArticle("P-1", "80.00", 25)
	r.erp.addArticle("BOOK-1", "100.00", 6)
	eur := func(a string) commerce.Money { return mustMoney(a, "EUR") }
	b2b := commerce.PriceList{Name: "B2B", Currency: commerce.SEK, CustomerGroup: "wholesale",
		Prices: []commerce.FixedPrice{{SKU: "P-1", Price: sek("64.00")}, {SKU: "BOOK-1", Price: sek("94.34"), CompareAtPrice: new(sek("100.00"))}}}
	staff := commerce.PriceList{Name: "Staff", Currency: commerce.SEK, Prices: []commerce.FixedPrice{{SKU: "P-1", Price: sek("1.00")}}}
	outlet := commerce.PriceList{Name: "Outlet EUR", Currency: commerce.EUR, PricesIncludeTax: true, Prices: []commerce.FixedPrice{{SKU: "P-1", Price: eur("7.99")}}}
	r.erp.lists.add(b2b, staff, outlet)
	r.sync()

	// Excluding VAT in the ERP, including it in the shop, each SKU at its
	// own rate; a list already including VAT goes as it is.
	want := commerce.PriceList{Name: "B2B", Currency: commerce.SEK, CustomerGroup: "wholesale", PricesIncludeTax: true,
		Prices: []commerce.FixedPrice{{SKU: "P-1", Price: sek("80.00")}, {SKU: "BOOK-1", Price: sek("100.00"), CompareAtPrice: new(sek("106.00"))}}}
	got, _, ok := r.shop.priceList("B2B@SEK")
	if diff := cmp.Diff(want, got); !ok || diff != "" {
		t.Errorf("B2B in the shop (-want +got):\n%s", diff)
	}
	if got, _, _ := r.shop.priceList("Outlet EUR@EUR"); !got.Prices[0].Price.Equal(eur("7.99")) {
		t.Errorf("Outlet EUR = %+v", got.Prices)
	}
	if _, _, ok := r.shop.priceList("Staff@SEK"); ok {
		t.Error("a list the shop does not take was written")
	}

	// Unchanged lists are not written again; a changed one is; a list with
	// an SKU the ERP does not know is a dead letter, the others flow.
	b2b.Prices[0].Price = sek("60.00")
	bad := commerce.PriceList{Name: "B2B", Currency: commerce.NOK, Prices: []commerce.FixedPrice{{SKU: "NOPE", Price: mustMoney("10.00", "NOK")}}}
	r.erp.lists.add(outlet, b2b, bad)
	r.sync()
	got, writes, _ := r.shop.priceList("B2B@SEK")
	if writes != 3 || !got.Prices[0].Price.Equal(sek("75.00")) {
		t.Errorf("%d list writes, B2B P-1 at %s; want 3 writes, 75.00", writes, got.Prices[0].Price)
	}
	dead, err := r.store.Steps(context.Background(), StepFilter{State: StepDead, Kind: KindPriceListPush})
	if err != nil || len(dead) != 1 || !strings.Contains(dead[0].Reason, "NOPE is not an article") {
		t.Fatalf("dead letters %+v %v", dead, err)
	}
	// Replayed once the article exists, the list goes through.
	r.erp.addArticle("NOPE", "8.00", 25)
	if _, err := r.e.Replay(context.Background(), dead[0].Key); err != nil {
		t.Fatal(err)
	}
	r.sync()
	if got, _, ok := r.shop.priceList("B2B@NOK"); !ok || !got.Prices[0].Price.Equal(mustMoney("12.50", "NOK")) {
		t.Errorf("replayed list %+v %v", got, ok)
	}
}

func TestPriceListsConfig(t *testing.T) {
	cfg := baseConfig()
	cfg.Shops[0].Catalog.PriceLists = []string{"B2B", " "}
	err := cfg.Validate()
	for _, want := range []string{"shops[0].catalog.price_lists: the shop leads prices", "shops[0].catalog.price_lists[1]: empty name"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v, want %q", err, want)
		}
	}
}
