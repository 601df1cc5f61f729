package flow_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"

	"github.com/shopspring/decimal"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/connector"
	"github.com/knyt/knyt/flow"
	"github.com/knyt/knyt/shopify"
	"github.com/knyt/knyt/shopify/shopifytest"
	"github.com/knyt/knyt/specter"
	"github.com/knyt/knyt/specter/spectertest"
)

// Move an order from Shopify into Specter: the fakes stand in for the two
// systems, the engine does one pass.
func Example() {
	shopSrv := shopifytest.NewServer(shopifytest.WithCurrency("SEK"))
	defer shopSrv.Close()
	erpSrv := spectertest.NewServer()
	defer erpSrv.Close()

	// A customer orders two pairs of socks at 99.00 SEK including VAT.
	if _, err := shopSrv.AddOrder(shopifytest.Order{
		Number: 1001, Email: "asa@example.se", TaxesIncluded: true,
		Customer:       &shopifytest.Customer{FirstName: "Åsa", LastName: "Öberg", Email: "asa@example.se"},
		BillingAddress: &shopifytest.Address{FirstName: "Åsa", LastName: "Öberg", City: "Västerås", Zip: "72214", CountryCode: "SE"},
		Lines: []shopifytest.LineItem{{SKU: "SOCK-1", Title: "Ullsocka", Quantity: 2, UnitPrice: "99.00",
			TaxLines: []shopifytest.TaxLine{{Title: "Moms", Rate: "0.25", Amount: "39.60"}}}},
		Transactions: []shopifytest.Transaction{{Kind: "AUTHORIZATION", Gateway: "manual", Amount: "198.00"}},
	}); err != nil {
		panic(err)
	}

	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	shop, err := shopify.New(shopSrv.Shop(), shopify.StaticToken(shopSrv.AccessToken()),
		shopify.WithBaseURL(shopSrv.URL()), shopify.WithHTTPClient(shopSrv.Client()), shopify.WithLogger(quiet))
	if err != nil {
		panic(err)
	}
	erp, err := specter.New(erpSrv.Default().V2(), specter.WithBaseURL(erpSrv.URL()), specter.WithPace(0), specter.WithLogger(quiet))
	if err != nil {
		panic(err)
	}

	cfg := flow.Config{
		ERP: flow.ERPConfig{System: "specter", Currencies: []string{"SEK"}, PriceDecimals: 3, RoundingSKU: "ORESAVR"},
		Shops: []flow.ShopConfig{{ID: "se", System: "shopify", Currency: "SEK", Mode: flow.ShopLeads,
			Orders: flow.OrderRules{Articles: "connector"}, Status: map[string][]string{}}},
	}
	eng, err := flow.New(cfg, flow.Systems{ERP: erp, Shops: map[string]connector.System{"se": shop}}, flow.WithLogger(quiet))
	if err != nil {
		panic(err)
	}
	if err := eng.SyncOnce(context.Background()); err != nil {
		panic(err)
	}

	o, _ := erpSrv.Default().OrderByExternalNo("#1001")
	for _, r := range o.Rows {
		fmt.Printf("%s × %s at %s excl. VAT (%d %%)\n", r.Quantity, r.ArticleNo, r.PriceExclVAT.StringFixed(2), r.VATPercent)
	}
	fmt.Println("synced:", eng.Counters().ByKind[flow.KindOrderCreate].Synced)
	// Output:
	// 2 × SOCK-1 at 79.20 excl. VAT (25 %)
	// synced: 1
}

// A configuration file names every bad key at once.
func ExampleParseYAML() {
	_, err := flow.ParseYAML([]byte(`
erp:
  system: specter
  credentials:
    api_user_key: sk-live-pasted-by-mistake
shops:
  - id: se
    system: shopify
    currency: SEK
    mode: shop_first
    orders:
      as_invoice: true
`))
	fmt.Println(err)
	// Output:
	// flow: invalid configuration:
	//   shops[0].orders.as_invoice: unknown key
	//   erp.credentials.api_user_key: must name an environment variable (A-Z, 0-9, _), not hold the credential itself
	//   shops[0].mode: "shop_first" is not one of shop_leads, erp_leads, combined
}

// A configuration built in Go is checked the same way; a credential must
// name an environment variable, never hold the secret.
func ExampleConfig_Validate() {
	c, err := flow.ParseYAML([]byte(`
erp:
  system: specter
  credentials: {api_user_key: SPECTER_API_USER_KEY}
shops:
  - {id: se, system: shopify, currency: SEK, mode: combined}
`))
	if err != nil {
		panic(err)
	}
	c.ERP.Credentials["integration_key"] = "0123-abcd"
	c.Shops[0].Mode = "shop_first"
	fmt.Println(c.Validate())
	// Output:
	// flow: invalid configuration:
	//   erp.credentials.integration_key: must name an environment variable (A-Z, 0-9, _), not hold the credential itself
	//   shops[0].mode: "shop_first" is not one of shop_leads, erp_leads, combined
}

// A line of 1.02 SEK including 25 % VAT has no two-decimal net price whose
// VAT adds up to it; the rounding row keeps the ERP's total equal to the
// shop's.
func ExampleToERPOrder() {
	rate := decimal.NewFromInt(25)
	o := commerce.Order{Number: "1001", Currency: commerce.SEK, PricesIncludeTax: true,
		Lines: []commerce.Line{{SKU: "PIN", Title: "Pin", Quantity: 1, UnitPrice: commerce.FromMinor(102, commerce.SEK),
			TaxLines: []commerce.TaxLine{{RatePercent: rate, Amount: commerce.FromMinor(20, commerce.SEK)}}}}}
	o.Totals, _ = o.ComputeTotals()
	erp, err := flow.ToERPOrder(o, flow.ERPPricing{RoundingSKU: "ORESAVR"})
	if err != nil {
		panic(err)
	}
	for _, l := range erp.Lines {
		fmt.Printf("%s %s VAT %s\n", l.SKU, l.UnitPrice.Amount, l.TaxLines[0].Amount.Amount.StringFixed(2))
	}
	fmt.Println("total", erp.Totals.Total, "shop", o.Totals.Total)
	_, err = flow.ToERPOrder(o, flow.ERPPricing{})
	fmt.Println(errors.Is(err, flow.ErrTotalMismatch))
	// Output:
	// PIN 0.82 VAT 0.21
	// ORESAVR -0.01 VAT 0.00
	// total 1.02 SEK shop 1.02 SEK
	// true
}

// A plugin maps, enriches, skips or rejects entities on their way.
func ExampleHookFunc() {
	tagB2B := flow.HookFunc("b2b", func(_ context.Context, o *commerce.Order, info flow.HookInfo) error {
		switch {
		case slices.Contains(o.Tags, "test"):
			return flow.Skip("test order")
		case o.Customer.Company != "" && o.Customer.VATNumber == "":
			return errors.New("business customer without VAT number")
		case o.Customer.Company != "":
			o.Customer.Type = commerce.Business
		}
		return nil
	})
	_ = flow.WithHook(flow.ShopToERP, tagB2B) // pass to flow.New

	for _, o := range []commerce.Order{{Tags: []string{"test"}}, {Customer: commerce.Customer{Company: "Älg AB"}}, {}} {
		fmt.Println(tagB2B.Apply(context.Background(), &o, flow.HookInfo{Direction: flow.ShopToERP}))
	}
	// Output:
	// skipped: test order
	// business customer without VAT number
	// <nil>
}
