package plugin_test

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/shopspring/decimal"

	"github.com/knyt/knyt/connector"
	"github.com/knyt/knyt/examples/plugin"
	"github.com/knyt/knyt/flow"
	"github.com/knyt/knyt/shopify"
	"github.com/knyt/knyt/shopify/shopifytest"
	"github.com/knyt/knyt/specter"
	"github.com/knyt/knyt/specter/spectertest"
)

// Copy a shop's catalogue into Specter with the plugin registered: the
// weight tag becomes the articles' weight, the web-only product stays in
// the shop. The fakes stand in for Shopify and Specter.
func Example() {
	shop := shopifytest.NewServer()
	defer shop.Close()
	erp := spectertest.NewServer()
	defer erp.Close()
	size := func(v string) []shopifytest.SelectedOption {
		return []shopifytest.SelectedOption{{Name: "Storlek", Value: v}}
	}
	for _, p := range []shopifytest.Product{
		{Title: "Ullsockor Åre", Tags: []string{"ull", "vikt:120g"},
			Options: []shopifytest.ProductOption{{Name: "Storlek", Values: []string{"36–39", "40–43"}}},
			Variants: []shopifytest.Variant{{SKU: "ULLS-3639", Price: "149.00", Options: size("36–39")},
				{SKU: "ULLS-4043", Price: "149.00", Options: size("40–43")}}},
		{Title: "Presentkort", Tags: []string{"endast-webb"}, Variants: []shopifytest.Variant{{SKU: "GAVA-500", Price: "500.00"}}},
	} {
		if _, err := shop.AddProduct(p); err != nil {
			panic(err)
		}
	}

	quiet := slog.New(slog.DiscardHandler)
	sh, err := shopify.New(shop.Shop(), shopify.StaticToken(shop.AccessToken()), shopify.WithBaseURL(shop.URL()), shopify.WithLogger(quiet))
	if err != nil {
		panic(err)
	}
	sp, err := specter.New(erp.Default().V2(), specter.WithBaseURL(erp.URL()), specter.WithPace(0), specter.WithLogger(quiet))
	if err != nil {
		panic(err)
	}
	rate := decimal.NewFromInt(25) // Swedish VAT on the shop's prices
	cfg := flow.Config{
		ERP: flow.ERPConfig{System: "specter", DefaultVATRate: &rate},
		Shops: []flow.ShopConfig{{ID: "se", System: "shopify", Currency: "SEK", Mode: flow.ShopLeads,
			Orders: flow.OrderRules{Articles: "connector"}, Status: map[string][]string{}}},
	}
	// The plugin's hooks are engine options.
	opts := append(plugin.Options(plugin.Config{}), flow.WithLogger(quiet))
	eng, err := flow.New(cfg, flow.Systems{ERP: sp, Shops: map[string]connector.System{"se": sh}}, opts...)
	if err != nil {
		panic(err)
	}
	if _, err := eng.InitialSync(context.Background(), flow.InitialSyncRequest{Direction: flow.ShopToERP, Shop: "se"}); err != nil {
		panic(err)
	}
	for _, a := range erp.Default().Articles() {
		fmt.Printf("%s %s kg\n", a.No, a.WeightKg)
	}
	fmt.Println("skipped:", eng.Counters().ByKind[flow.KindProductPush].Skipped)
	// Output:
	// ULLS-3639 0.12 kg
	// ULLS-4043 0.12 kg
	// skipped: 1
}
