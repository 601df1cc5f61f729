package flow

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"
)

func wantConfig() *Config {
	rate := decimal.NewFromInt(25)
	return &Config{
		ERP: ERPConfig{
			System: "specter", Account: "4711",
			Credentials:   Credentials{"api_user_key": "SPECTER_API_USER_KEY", "integration_key": "SPECTER_INTEGRATION_KEY"},
			Currencies:    []string{"SEK", "EUR"},
			PriceDecimals: 3, VATRounding: "per_rate_group", RoundingSKU: "ORESAVR",
			DefaultVATRate: &rate, Concurrency: 1,
		},
		Shops: []ShopConfig{
			{
				ID: "se", System: "shopify", Account: "acme-se.myshopify.com",
				Credentials: Credentials{"token": "SHOPIFY_SE_TOKEN"},
				Currency:    "SEK", WebshopID: "1", ResultUnit: "100", Mode: Combined, NotifyCustomer: true,
				Orders:  OrderRules{Trigger: []string{"authorized", "paid"}, As: "order", Articles: "connector"},
				Status:  map[string][]string{"delivered": {"fulfill", "capture"}, "invoiced": {}, "paid": {"mark_paid"}, "cancelled": {"cancel", "release"}},
				Returns: ReturnRules{Trigger: []string{"closed"}, Credit: "erp", Refund: "provider"},
				Catalog: CatalogRules{Locations: map[string]string{"1": "gid://shopify/Location/1"}, StockBuffer: 2, PriceLists: []string{"B2B", "Återförsäljare"}},
			},
			{
				ID: "fi", System: "shopify", Account: "acme-fi.myshopify.com",
				Credentials: Credentials{"token": "SHOPIFY_FI_TOKEN"},
				Currency:    "EUR", WebshopID: "2", Mode: ERPLeads,
			},
		},
		Providers: []ProviderConfig{
			{Name: "klarna", System: "klarna", Gateways: []string{"Klarna Checkout"},
				Credentials:    Credentials{"username": "KLARNA_USERNAME", "password": "KLARNA_PASSWORD"},
				PayoutInterval: Duration(24 * time.Hour)},
			{Name: "stripe", System: "stripe", Credentials: Credentials{"secret_key": "STRIPE_SECRET_KEY"}},
		},
		Retry:  RetryConfig{MaxAttempts: 8, MinBackoff: Duration(2 * time.Second), MaxBackoff: Duration(5 * time.Minute)},
		Runner: RunnerConfig{OrdersInterval: Duration(30 * time.Second), ShutdownGrace: Duration(15 * time.Second)},
	}
}

func TestParseConfigFiles(t *testing.T) {
	for _, name := range []string{"config.json", "config.yaml"} {
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("testdata", name))
			if err != nil {
				t.Fatal(err)
			}
			parse := ParseJSON
			if strings.HasSuffix(name, ".yaml") {
				parse = ParseYAML
			}
			got, err := parse(b)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(wantConfig(), got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoadFileChecksCredentials(t *testing.T) {
	envs := []string{"SPECTER_API_USER_KEY", "SPECTER_INTEGRATION_KEY", "SHOPIFY_SE_TOKEN", "SHOPIFY_FI_TOKEN", "KLARNA_USERNAME", "KLARNA_PASSWORD", "STRIPE_SECRET_KEY"}
	for _, e := range envs {
		t.Setenv(e, "")
		os.Unsetenv(e)
	}
	_, err := LoadFile(filepath.Join("testdata", "config.yaml"))
	var ce *ConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("LoadFile without the environment = %v, want a *ConfigError", err)
	}
	if len(ce.Problems) != len(envs) {
		t.Errorf("got %d problems, want one per credential (%d):\n%v", len(ce.Problems), len(envs), err)
	}
	for _, e := range envs {
		t.Setenv(e, "secret-"+strings.ToLower(e))
	}
	c, err := LoadFile(filepath.Join("testdata", "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	v, err := c.Credential("se", "token", os.LookupEnv)
	if err != nil || v != "secret-shopify_se_token" {
		t.Errorf("Credential(se, token) = %q, %v", v, err)
	}
	if _, err := c.Credential("klarna", "api_key", os.LookupEnv); err == nil {
		t.Error("Credential of an unconfigured name succeeded")
	}
	if _, err := LoadFile(filepath.Join("testdata", "config.toml")); err == nil {
		t.Error("LoadFile of an unknown format succeeded")
	}
}

func problemPaths(t *testing.T, err error) []string {
	t.Helper()
	var ce *ConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("error %v is not a *ConfigError", err)
	}
	if !errors.Is(err, ErrConfig) {
		t.Error("ConfigError does not match ErrConfig")
	}
	var out []string
	for _, p := range ce.Problems {
		out = append(out, p.Path)
	}
	return out
}

func TestConfigNamesEveryUnknownKey(t *testing.T) {
	doc := `{
	  "erp": {"system": "specter", "acount": "x"},
	  "shops": [{"id": "se", "system": "shopify", "currency": "SEK", "mode": "combined",
	             "orders": {"trigger": ["paid"], "as_invoice": true}, "colour": "red"}],
	  "providers": [{"name": "klarna", "system": "klarna", "gateway": "x"}],
	  "extra": 1
	}`
	_, err := ParseJSON([]byte(doc))
	want := []string{"erp.acount", "extra", "providers[0].gateway", "shops[0].colour", "shops[0].orders.as_invoice"}
	if diff := cmp.Diff(want, sortedCopy(problemPaths(t, err))); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// The same in YAML.
	yml := "erp:\n  system: specter\n  acount: x\nshops:\n  - id: se\n    system: shopify\n    currency: SEK\n    mode: combined\n    orders:\n      trigger: [paid]\n      as_invoice: true\n    colour: red\nproviders:\n  - {name: klarna, system: klarna, gateway: x}\nextra: 1\n"
	_, err = ParseYAML([]byte(yml))
	if diff := cmp.Diff(want, sortedCopy(problemPaths(t, err))); diff != "" {
		t.Errorf("YAML (-want +got):\n%s", diff)
	}
}

func sortedCopy(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

func TestConfigNamesEveryBadValue(t *testing.T) {
	c := wantConfig()
	c.ERP.System = ""
	c.ERP.Currencies = []string{"SEK", "XXX"}
	c.ERP.VATRounding = "per_invoice"
	c.ERP.Credentials["api_user_key"] = "sk_live_abc123" // a pasted secret
	c.Shops[0].Mode = "both"
	c.Shops[0].Orders.As = "receipt"
	c.Shops[0].Status = map[string][]string{"delivered": {"fulfill", "refund"}, "shipped": {"fulfill"}}
	c.Shops[1].ID = "se"
	c.Shops[1].Currency = ""
	c.Providers[1].Gateways = []string{"klarna checkout"}
	c.Retry.MinBackoff = Duration(time.Hour)
	err := c.Validate()
	want := []string{
		"erp.system", "erp.credentials.api_user_key", "erp.currencies[1]", "erp.vat_rounding",
		"shops[0].mode", "shops[0].orders.as", "shops[0].status.delivered[1]", "shops[0].status.shipped",
		"shops[1].id", "shops[1].currency", "providers[1].gateways[0]", "retry.min_backoff",
	}
	if diff := cmp.Diff(sortedCopy(want), sortedCopy(problemPaths(t, err))); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if strings.Contains(err.Error(), "sk_live_abc123") {
		t.Error("the error repeats a credential value")
	}
	if (&Config{}).Validate() == nil {
		t.Error("an empty config is valid")
	}
}

func TestConfigTypeErrors(t *testing.T) {
	for _, doc := range []string{
		`{"erp": {"system": "specter"}, "shops": "se"}`,
		`{"erp": {"system": "specter", "concurrency": "two"}, "shops": []}`,
		`{"erp": {"system": "specter"}, "shops": [], "runner": {"orders_interval": "soon"}}`,
		`{"erp": {"system": "specter"}, "erp": {}}`,
		`{"erp": {}} trailing`,
		`[1,2]`,
	} {
		if _, err := ParseJSON([]byte(doc)); err == nil {
			t.Errorf("ParseJSON(%s) succeeded", doc)
		}
	}
}

func TestYAMLSubset(t *testing.T) {
	tests := []struct {
		name, src string
		want      any
	}{
		{"scalars", "a: 1\nb: -2.5\nc: true\nd: null\ne: ~\nf: NO\ng: off\nh: 'it''s'\ni: \"tab\\there \\u00e5\"\nj: plain text # comment\nk: 08\n",
			map[string]any{"a": json.Number("1"), "b": json.Number("-2.5"), "c": true, "d": nil, "e": nil, "f": "NO", "g": "off", "h": "it's", "i": "tab\there å", "j": "plain text", "k": json.Number("8")}},
		{"nested", "a:\n  b:\n    c: x\n  d: y\n", map[string]any{"a": map[string]any{"b": map[string]any{"c": "x"}, "d": "y"}}},
		{"sequence same indent", "a:\n- 1\n- two\n", map[string]any{"a": []any{json.Number("1"), "two"}}},
		{"sequence of maps", "s:\n  - id: a\n    n: 1\n  - id: b\n", map[string]any{"s": []any{map[string]any{"id": "a", "n": json.Number("1")}, map[string]any{"id": "b"}}}},
		{"nested sequences", "- - a\n  - b\n- c\n", []any{[]any{"a", "b"}, "c"}},
		{"flow", "a: [x, 'y, z', 3]\nb: {k: v, \"q\": 'w'}\nc: []\nd: {}\n",
			map[string]any{"a": []any{"x", "y, z", json.Number("3")}, "b": map[string]any{"k": "v", "q": "w"}, "c": []any{}, "d": map[string]any{}}},
		{"empty value", "a:\nb: 1\n", map[string]any{"a": nil, "b": json.Number("1")}},
		{"url value", "u: https://example.com/a#b\n", map[string]any{"u": "https://example.com/a#b"}},
		{"document marker and crlf", "---\r\na: 1\r\n", map[string]any{"a": json.Number("1")}},
		{"empty", "# nothing\n", map[string]any{}},
	}
	for _, tt := range tests {
		got, err := parseYAMLTree([]byte(tt.src))
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestYAMLRefusals(t *testing.T) {
	tests := []struct {
		src      string
		line     int
		contains string
	}{
		{"a: 1\n\tb: 2\n", 2, "tab"},
		{"a: &x 1\n", 1, "anchors"},
		{"a: *x\n", 1, "anchors"},
		{"a: !!str 1\n", 1, "tags"},
		{"a: |\n  text\n", 1, "block scalars"},
		{"a: 1\na: 2\n", 2, "duplicate"},
		{"a: 1\n  b: 2\n", 2, "indentation"},
		{"a: \"open\n", 1, "unterminated"},
		{"a: [1, [2]]\n", 1, "nested"},
		{"---\na: 1\n---\nb: 2\n", 3, "one document"},
		{"? complex\n", 1, "complex"},
		{"a: b: c\n", 1, "one line"},
		{"a:\n  - x\n  y: 1\n", 3, ""},
		{"a: 'x' y\n", 1, "unexpected text"},
	}
	for _, tt := range tests {
		_, err := parseYAMLTree([]byte(tt.src))
		var ye *yamlError
		if !errors.As(err, &ye) {
			t.Errorf("%q: error %v, want a yaml error", tt.src, err)
			continue
		}
		if ye.line != tt.line || !strings.Contains(ye.msg, tt.contains) {
			t.Errorf("%q: got line %d %q, want line %d containing %q", tt.src, ye.line, ye.msg, tt.line, tt.contains)
		}
	}
}

func TestWithDefaults(t *testing.T) {
	c := Config{ERP: ERPConfig{System: "specter"}, Shops: []ShopConfig{{ID: "se", System: "shopify", Currency: "SEK", Mode: ERPLeads}}}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	d := c.withDefaults()
	s := d.Shops[0]
	if s.Orders.As != "order" || s.Orders.Articles != "ensure" || s.Returns.Refund != "provider" || s.Catalog.BatchSize != 50 {
		t.Errorf("defaults not applied: %+v", s)
	}
	if diff := cmp.Diff(DefaultStatusActions(), s.Status); diff != "" {
		t.Errorf("status defaults (-want +got):\n%s", diff)
	}
	if c.Shops[0].Orders.As != "" {
		t.Error("withDefaults changed the original")
	}
}

func FuzzParseYAML(f *testing.F) {
	b, _ := os.ReadFile(filepath.Join("testdata", "config.yaml"))
	f.Add(string(b))
	f.Add("a: [1, 'b', \"c\"]\n- x\n")
	f.Add("s:\n  - id: a\n    k: {x: 1}\n")
	f.Add("a: \"\\u00e5\\\"\"\n")
	f.Fuzz(func(t *testing.T, src string) {
		v, err := parseYAMLTree([]byte(src))
		if err != nil {
			return
		}
		// Whatever parses must be plain data that JSON can carry.
		if _, err := json.Marshal(v); err != nil {
			t.Fatalf("parsed %q into %#v which JSON cannot encode: %v", src, v, err)
		}
		_, _ = fromTree(v)
	})
}

func FuzzParseJSON(f *testing.F) {
	b, _ := os.ReadFile(filepath.Join("testdata", "config.json"))
	f.Add(string(b))
	f.Add(`{"erp": {"system": "x"}, "erp": 1}`)
	f.Fuzz(func(t *testing.T, src string) {
		c, err := ParseJSON([]byte(src))
		if err == nil && c.Validate() != nil {
			t.Fatalf("ParseJSON accepted a config that does not validate")
		}
	})
}
