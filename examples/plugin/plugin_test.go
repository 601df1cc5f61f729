package plugin

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/connector"
	"github.com/knyt/knyt/flow"
	"github.com/knyt/knyt/shopify"
	"github.com/knyt/knyt/shopify/shopifytest"
	"github.com/knyt/knyt/specter"
	"github.com/knyt/knyt/specter/spectertest"
)

func TestParseWeight(t *testing.T) {
	w := func(v string, u commerce.WeightUnit) commerce.Weight {
		return commerce.Weight{Value: decimal.RequireFromString(v), Unit: u}
	}
	for _, tc := range []struct {
		in   string
		want commerce.Weight
		err  bool
	}{
		{in: "350g", want: w("350", commerce.Grams)},
		{in: " 1,2 kg ", want: w("1.2", commerce.Kilograms)},
		{in: "0.5KG", want: w("0.5", commerce.Kilograms)},
		{in: "12.25 g", want: w("12.25", commerce.Grams)},
		{in: "350", err: true},
		{in: "kg", err: true},
		{in: "0g", err: true},
		{in: "-2kg", err: true},
		{in: "1e3g", err: true},
		{in: "1,2,3kg", err: true},
		{in: ".5kg", err: true},
		{in: "5.kg", err: true},
		{in: "200000kg", err: true},
		{in: "tre kg", err: true},
	} {
		got, err := ParseWeight(tc.in)
		if (err != nil) != tc.err {
			t.Errorf("ParseWeight(%q): error %v, want error %v", tc.in, err, tc.err)
			continue
		}
		if diff := cmp.Diff(tc.want, got); !tc.err && diff != "" {
			t.Errorf("ParseWeight(%q) (-want +got):\n%s", tc.in, diff)
		}
	}
}

func FuzzParseWeight(f *testing.F) {
	for _, s := range []string{"350g", "1,2 kg", "0.5KG", "", "g", "-1kg", "1e9g", "9999999999999999999999kg", "٣g"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		w, err := ParseWeight(s)
		if err != nil {
			return
		}
		if !w.Value.IsPositive() || (w.Unit != commerce.Grams && w.Unit != commerce.Kilograms) {
			t.Fatalf("ParseWeight(%q) = %+v", s, w)
		}
	})
}

func TestHooks(t *testing.T) {
	kg := func(v string) *commerce.Weight {
		return &commerce.Weight{Value: decimal.RequireFromString(v), Unit: commerce.Kilograms}
	}
	g := func(v string) *commerce.Weight {
		return &commerce.Weight{Value: decimal.RequireFromString(v), Unit: commerce.Grams}
	}
	for _, tc := range []struct {
		name    string
		tags    []string
		weights []*commerce.Weight // of the variants before
		want    []*commerce.Weight
		skip    bool
		reject  string
	}{
		{name: "tag fills every variant", tags: []string{"ull", "vikt:350g"}, weights: []*commerce.Weight{nil, nil}, want: []*commerce.Weight{g("350"), g("350")}},
		{name: "own weight wins", tags: []string{"VIKT:1kg"}, weights: []*commerce.Weight{kg("2"), nil}, want: []*commerce.Weight{kg("2"), kg("1")}},
		{name: "zero weight is none", tags: []string{"vikt:1kg"}, weights: []*commerce.Weight{kg("0")}, want: []*commerce.Weight{kg("1")}},
		{name: "no tag, no change", tags: []string{"ull"}, weights: []*commerce.Weight{nil}, want: []*commerce.Weight{nil}},
		{name: "equal tags agree", tags: []string{"vikt:1kg", "vikt:1000g"}, weights: []*commerce.Weight{nil}, want: []*commerce.Weight{kg("1")}},
		{name: "web only", tags: []string{"Endast-Webb", "vikt:bad"}, skip: true},
		{name: "bad tag", tags: []string{"vikt:tung"}, weights: []*commerce.Weight{nil}, reject: "vikt:tung"},
		{name: "tags disagree", tags: []string{"vikt:1kg", "vikt:2kg"}, weights: []*commerce.Weight{nil}, reject: "disagree"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := commerce.Product{Title: "Mössa", Tags: tc.tags}
			for i, w := range tc.weights {
				p.Variants = append(p.Variants, commerce.Variant{SKU: string(rune('A' + i)), Weight: w})
			}
			var err error
			for _, h := range []flow.Hook[commerce.Product]{SkipTagged(Config{}), WeightFromTag(Config{})} {
				if err = h.Apply(context.Background(), &p, flow.HookInfo{Direction: flow.ShopToERP}); err != nil {
					break
				}
			}
			var skip *flow.SkipError
			switch {
			case tc.skip:
				if !errors.As(err, &skip) {
					t.Fatalf("err %v, want a skip", err)
				}
			case tc.reject != "":
				if err == nil || errors.As(err, &skip) || !strings.Contains(err.Error(), tc.reject) {
					t.Fatalf("err %v, want a rejection naming %q", err, tc.reject)
				}
			default:
				if err != nil {
					t.Fatal(err)
				}
				var got []*commerce.Weight
				for _, v := range p.Variants {
					got = append(got, v.Weight)
				}
				if diff := cmp.Diff(tc.want, got); diff != "" {
					t.Errorf("weights (-want +got):\n%s", diff)
				}
			}
		})
	}
}

// TestEngine registers the plugin in an engine between the Shopify and
// Specter fakes: a product with a bad weight tag becomes a dead letter
// naming the plugin; fixed in the shop, it goes through.
func TestEngine(t *testing.T) {
	shop := shopifytest.NewServer()
	defer shop.Close()
	erp := spectertest.NewServer()
	defer erp.Close()
	p, err := shop.AddProduct(shopifytest.Product{Title: "Pläd Gävleborg", Tags: []string{"vikt:1,4 kilo"},
		Variants: []shopifytest.Variant{{SKU: "PLAD-1", Price: "899.00"}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := shop.AddProduct(shopifytest.Product{Title: "Presentkort", Tags: []string{"endast-webb"},
		Variants: []shopifytest.Variant{{SKU: "GAVA-500", Price: "500.00"}}}); err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	sh, err := shopify.New(shop.Shop(), shopify.StaticToken(shop.AccessToken()), shopify.WithBaseURL(shop.URL()), shopify.WithLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	sp, err := specter.New(erp.Default().V2(), specter.WithBaseURL(erp.URL()), specter.WithPace(0), specter.WithLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	rate := decimal.NewFromInt(25)
	cfg := flow.Config{
		ERP: flow.ERPConfig{System: "specter", DefaultVATRate: &rate},
		Shops: []flow.ShopConfig{{ID: "se", System: "shopify", Currency: "SEK", Mode: flow.ShopLeads,
			Orders: flow.OrderRules{Articles: "connector"}, Status: map[string][]string{}}},
	}
	eng, err := flow.New(cfg, flow.Systems{ERP: sp, Shops: map[string]connector.System{"se": sh}},
		append(Options(Config{}), flow.WithLogger(quiet))...)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := eng.SyncOnce(ctx); err != nil {
		t.Fatal(err)
	}
	dead, err := eng.DeadLetters(ctx, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(dead) != 1 || dead[0].Plugin != WeightHookName || !strings.Contains(dead[0].Reason, "vikt:1,4 kilo") {
		t.Fatalf("dead letters %+v, want one from %s naming the tag", dead, WeightHookName)
	}
	if n := len(erp.Default().Articles()); n != 0 {
		t.Fatalf("%d articles in Specter, want none yet", n)
	}

	// The merchant fixes the tag; the product feed brings it again.
	shop.Advance(time.Minute)
	fixed := shopifytest.Product{ID: p.ID, Title: p.Title, Tags: []string{"vikt:1,4kg"}, Variants: p.Variants}
	if _, err := shop.AddProduct(fixed); err != nil {
		t.Fatal(err)
	}
	if err := eng.SyncOnce(ctx); err != nil {
		t.Fatal(err)
	}
	a, ok := erp.Default().Article("PLAD-1")
	if !ok || !a.WeightKg.Equal(decimal.RequireFromString("1.4")) {
		t.Errorf("PLAD-1 in Specter: %v, weight %s kg; want 1.4", ok, a.WeightKg)
	}
	if _, ok := erp.Default().Article("GAVA-500"); ok {
		t.Error("the web-only gift card reached Specter")
	}
}
