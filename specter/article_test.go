package specter_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/connector"
	"github.com/knyt/knyt/specter"
	"github.com/knyt/knyt/specter/spectertest"
)

func sampleProducts() []commerce.Product {
	cost := sek(9000)
	return []commerce.Product{
		{Title: "Tröja", Variants: []commerce.Variant{
			{SKU: "TROJA-S", Price: sek(29900), PricesIncludeTax: true, VATRatePercent: pct(25), Options: []commerce.OptionValue{{Name: "Storlek", Value: "S"}},
				Barcode: "7350000000017", Cost: &cost, Weight: &commerce.Weight{Value: dec("450"), Unit: commerce.Grams}},
			{SKU: "TROJA-M", Price: sek(29900), PricesIncludeTax: true, VATRatePercent: pct(25), Options: []commerce.OptionValue{{Name: "Storlek", Value: "M"}},
				Stock: []commerce.StockLevel{{SKU: "TROJA-M", Location: "1", Available: 4}}},
		}},
		{Title: "Bok om älgar", Variants: []commerce.Variant{
			{SKU: "BOK-1", Price: sek(20000), VATRatePercent: pct(12), Title: "Default Title"},
		}},
	}
}

func TestUpsertProductsRoundTrip(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	first, err := f.c.UpsertProducts(ctx, sampleProducts())
	if err != nil {
		t.Fatal(err)
	}
	ref := func(sku string) commerce.Ref { return commerce.Ref{System: "specter", Account: "4711", ID: sku} }
	want := []connector.UpsertResult{{Key: "TROJA-S", Ref: ref("TROJA-S")}, {Key: "TROJA-M", Ref: ref("TROJA-M")}, {Key: "BOK-1", Ref: ref("BOK-1")}}
	if diff := cmp.Diff(want, first); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
	wantArticles := []spectertest.Article{
		{ID: 1, No: "TROJA-S", Name: "Tröja - S", PriceExclVAT: dec("239.2"), VATPercent: 25, BuyPrice: dec("90"), BarCode: "7350000000017", WeightKg: dec("0.45"), Stocked: true, Stock: map[string]int{}},
		{ID: 2, No: "TROJA-M", Name: "Tröja - M", PriceExclVAT: dec("239.2"), VATPercent: 25, Stocked: true, Stock: map[string]int{"1": 4}},
		{ID: 3, No: "BOK-1", Name: "Bok om älgar", PriceExclVAT: dec("200"), VATPercent: 12, Stocked: true, Stock: map[string]int{}},
	}
	if diff := cmp.Diff(wantArticles, f.acc.Articles()); diff != "" {
		t.Errorf("articles in Specter (-want +got):\n%s", diff)
	}
	// The same batch again changes nothing and leaves one copy of each.
	second, err := f.c.UpsertProducts(ctx, sampleProducts())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(first, second); diff != "" {
		t.Errorf("second upsert (-first +second):\n%s", diff)
	}
	if diff := cmp.Diff(wantArticles, f.acc.Articles()); diff != "" {
		t.Errorf("articles after the second upsert (-want +got):\n%s", diff)
	}
	// An update of the price goes through (forceArticleUpdate).
	p := sampleProducts()[1:]
	p[0].Variants[0].Price = sek(25000)
	if _, err := f.c.UpsertProducts(ctx, p); err != nil {
		t.Fatal(err)
	}
	if a, _ := f.acc.Article("BOK-1"); !a.PriceExclVAT.Equal(dec("250")) {
		t.Errorf("price after update %s, want 250", a.PriceExclVAT)
	}
	// Both ways: a price change made in Specter brings the article back,
	// its Ö and Ä intact.
	drainAll(t, ctx, f.c.Products())
	for _, no := range []string{"TROJA-S", "BOK-1"} {
		if err := f.acc.SetArticlePrice(no, dec("99.5")); err != nil {
			t.Fatal(err)
		}
	}
	var titles []string
	for _, p := range drainAll(t, ctx, f.c.Products()) {
		titles = append(titles, p.Title)
	}
	if diff := cmp.Diff([]string{"Tröja - S", "Bok om älgar"}, titles); diff != "" {
		t.Errorf("names read back (-want +got):\n%s", diff)
	}
}

func TestUpsertProductsBatches(t *testing.T) {
	f := newFixture(t)
	var products []commerce.Product
	for i := range 250 {
		products = append(products, commerce.Product{Title: fmt.Sprintf("Vara %d", i), Variants: []commerce.Variant{{SKU: fmt.Sprintf("V-%03d", i), Price: sek(1000)}}})
	}
	res, err := f.c.UpsertProducts(t.Context(), products)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 250 || len(f.acc.Articles()) != 250 {
		t.Errorf("%d results, %d articles; want 250", len(res), len(f.acc.Articles()))
	}
	if n := f.srv.Requests(specter.ActionNewArticles); n != 3 {
		t.Errorf("%d requests for 250 articles, want 3 (at most %d per call)", n, specter.MaxArticlesPerCall)
	}
}

func TestUpsertProductsRefusesInvalidSKUs(t *testing.T) {
	f := newFixture(t)
	products := []commerce.Product{
		{Title: "Ok", Variants: []commerce.Variant{{SKU: "OK-1", Price: sek(100)}}},
		{Title: "Bad", Variants: []commerce.Variant{
			{SKU: "MÖSSA-1", Price: sek(100)}, {SKU: "A B", Price: sek(100)}, {SKU: "50%", Price: sek(100)}, {SKU: "R,1", Price: sek(100)}, {SKU: "OK-1", Price: sek(100)},
		}},
	}
	_, err := f.c.UpsertProducts(t.Context(), products)
	if !errors.Is(err, connector.ErrValidation) {
		t.Fatalf("got %v, want a validation error", err)
	}
	var ae *specter.ArticleNumberError
	if !errors.As(err, &ae) {
		t.Fatalf("%v has no *ArticleNumberError", err)
	}
	if diff := cmp.Diff([]string{"MÖSSA-1", "A B", "50%", "R,1", "OK-1"}, ae.SKUs()); diff != "" {
		t.Errorf("named SKUs (-want +got):\n%s", diff)
	}
	if n := f.srv.Requests(specter.ActionNewArticles); n != 0 {
		t.Errorf("%d requests sent; invalid SKUs must be refused before sending", n)
	}
}

func TestUpsertProductsRefusals(t *testing.T) {
	eur := commerce.FromMinor(1000, commerce.EUR)
	cases := []struct {
		name string
		v    commerce.Variant
	}{
		{"price not in the base currency", commerce.Variant{SKU: "A", Price: eur}},
		{"rate Specter cannot hold", commerce.Variant{SKU: "A", Price: sek(100), VATRatePercent: func() *decimal.Decimal { d := dec("25.5"); return &d }()}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			_, err := f.c.UpsertProducts(t.Context(), []commerce.Product{{Title: "X", Variants: []commerce.Variant{c.v}}})
			if !errors.Is(err, connector.ErrValidation) {
				t.Errorf("got %v, want a validation error", err)
			}
		})
	}
}

func TestNonLatin1Text(t *testing.T) {
	product := []commerce.Product{{Title: "Mössa 🎅", Variants: []commerce.Variant{{SKU: "MOSSA", Price: sek(14900)}}}}
	t.Run("replaced by default", func(t *testing.T) {
		f := newFixture(t)
		if _, err := f.c.UpsertProducts(t.Context(), product); err != nil {
			t.Fatal(err)
		}
		if a, _ := f.acc.Article("MOSSA"); a.Name != "Mössa ?" {
			t.Errorf("name in Specter %q, want %q", a.Name, "Mössa ?")
		}
	})
	t.Run("refused when strict", func(t *testing.T) {
		f := newFixture(t, specter.WithStrictText())
		_, err := f.c.UpsertProducts(t.Context(), product)
		var te *specter.TextError
		if !errors.Is(err, connector.ErrValidation) || !errors.As(err, &te) || te.Field != "name_1" || te.Rune != '🎅' {
			t.Fatalf("got %v, want a *TextError for name_1", err)
		}
		if n := f.srv.Requests(specter.ActionNewArticles); n != 0 {
			t.Errorf("%d requests sent", n)
		}
	})
	t.Run("never in an article number", func(t *testing.T) {
		f := newFixture(t)
		_, err := f.c.UpsertProducts(t.Context(), []commerce.Product{{Title: "X", Variants: []commerce.Variant{{SKU: "X🎅", Price: sek(100)}}}})
		var ae *specter.ArticleNumberError
		if !errors.As(err, &ae) {
			t.Fatalf("got %v, want an *ArticleNumberError", err)
		}
	})
}

func TestDryRun(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	res, err := f.c.UpsertProducts(ctx, sampleProducts(), connector.WithDryRun())
	if err != nil || len(res) != 3 {
		t.Fatalf("dry run: %v, %v", res, err)
	}
	if _, err := f.c.CreateOrder(ctx, sampleOrder("#1"), connector.WithDryRun()); err != nil {
		t.Fatal(err)
	}
	if n := len(f.acc.Articles()) + len(f.acc.Orders()) + len(f.acc.Customers()); n != 0 {
		t.Errorf("a dry run wrote %d things", n)
	}
}
