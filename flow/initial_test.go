package flow

import (
	"context"
	"fmt"
	"testing"
)

func TestInitialSyncShopToERPMatchesAndResumes(t *testing.T) {
	r := newRig(t, func(c *Config) { c.Shops[0].Catalog.BatchSize = 2 })
	for i := range 7 {
		r.shop.addProducts(shopProduct(fmt.Sprintf("S-%d", i), fmt.Sprintf("Produkt %d", i), "125.00"))
	}
	// The ERP already has S-0 exactly and S-1 with another price.
	r.erp.articles["S-0"] = erpArticle("S-0", "Produkt 0", "100.00")
	r.erp.articles["S-1"] = erpArticle("S-1", "Produkt 1", "90.00")
	// The read is interrupted after its first page; the second batch write
	// fails for now.
	r.shop.products.failOn = 2
	ctx := context.Background()
	if _, err := r.e.InitialSync(ctx, InitialSyncRequest{Direction: ShopToERP, Shop: "se"}); err == nil {
		t.Fatal("an interrupted read succeeded")
	}
	r.erp.faults.add("UpsertProducts", 1, temporary("memerp", "UpsertProducts"), false)
	var seen []Progress
	p, err := r.e.InitialSync(ctx, InitialSyncRequest{Direction: ShopToERP, Shop: "se", Progress: func(p Progress) { seen = append(seen, p) }})
	if err == nil {
		t.Fatal("a sync with a failed batch reported success")
	}
	if p.Total != 7 || p.Done >= 7 {
		t.Errorf("after the failure: %+v", p)
	}
	// The engine is restarted before resuming.
	r.restart()
	p, err = r.e.InitialSync(ctx, InitialSyncRequest{Direction: ShopToERP, Shop: "se", Progress: func(p Progress) { seen = append(seen, p) }})
	if err != nil {
		t.Fatal(err)
	}
	if p.Total != 7 || p.Done != 7 || p.Failed != 0 {
		t.Errorf("final progress %+v", p)
	}
	for i := 1; i < len(seen); i++ {
		if seen[i].Done < seen[i-1].Done && seen[i].Total == seen[i-1].Total {
			t.Errorf("progress went backwards: %+v then %+v", seen[i-1], seen[i])
		}
	}
	for i := range 7 {
		a, ok := r.erp.article(fmt.Sprintf("S-%d", i))
		if !ok || !a.Variants[0].Price.Equal(sek("100.00")) {
			t.Errorf("S-%d: %+v", i, a.Variants)
		}
	}
	// S-0 was equal and not written; the other six were, each once.
	if got := r.erp.articlePuts; got != 6 {
		t.Errorf("ERP product writes = %d, want 6", got)
	}
	// A second full pass finds everything equal.
	if _, err := r.e.InitialSync(ctx, InitialSyncRequest{Direction: ShopToERP, Shop: "se"}); err != nil {
		t.Fatal(err)
	}
	if got := r.erp.articlePuts; got != 6 {
		t.Errorf("after a second pass: %d writes", got)
	}
}

func TestInitialSyncERPToShops(t *testing.T) {
	fi := newMemShop("fi.example")
	r := newRigShops(t, map[string]*memShop{"fi": fi}, func(c *Config) {
		c.Shops = append(c.Shops, ShopConfig{ID: "fi", System: "memshop", Currency: "EUR", Mode: ShopLeads, Orders: OrderRules{Articles: "connector"}})
	})
	for i := range 5 {
		r.erp.products.add(erpArticle(fmt.Sprintf("A-%d", i), fmt.Sprintf("Artikel %d", i), "80.00"))
	}
	p, err := r.e.InitialSync(context.Background(), InitialSyncRequest{Direction: ERPToShop})
	if err != nil {
		t.Fatal(err)
	}
	if p.Done != 5 || p.Total != 5 {
		t.Errorf("progress %+v", p)
	}
	for _, s := range []*memShop{r.shop, fi} {
		for i := range 5 {
			prod, ok := s.product(fmt.Sprintf("A-%d", i))
			if !ok || !prod.Variants[0].Price.Equal(sek("100.00")) || !prod.Variants[0].PricesIncludeTax {
				t.Errorf("%s A-%d: %+v", s.account, i, prod.Variants)
			}
		}
	}
	if r.erp.products.acked != 5 {
		t.Errorf("the ERP queue was acknowledged up to %d, want 5", r.erp.products.acked)
	}
	if _, err := r.e.InitialSync(context.Background(), InitialSyncRequest{Direction: ShopToERP, Shop: "nope"}); err == nil {
		t.Error("an unknown shop was accepted")
	}
}
