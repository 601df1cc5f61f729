package flow

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/knyt/knyt/commerce"
)

// Mode says which system leads which entity for a shop (DESIGN §4).
type Mode string

// The three standard flows.
const (
	// ShopLeads: orders with customers shop → ERP; products with variants
	// shop → ERP.
	ShopLeads Mode = "shop_leads"
	// ERPLeads: orders shop → ERP; order status ERP → shop; products,
	// prices and stock ERP → shop.
	ERPLeads Mode = "erp_leads"
	// Combined: products shop → ERP; prices and stock ERP → shop; orders
	// and status as with ERPLeads.
	Combined Mode = "combined"
)

// Config is the engine's configuration: one ERP, one or more shops, the
// payment providers and the rules. Build it in Go or load it from a file
// with LoadFile (JSON, or the YAML subset described at ParseYAML).
// Credentials are never values in the file: Credentials maps a credential's
// name to the environment variable that holds it.
type Config struct {
	ERP       ERPConfig        `json:"erp"`
	Shops     []ShopConfig     `json:"shops"`
	Providers []ProviderConfig `json:"providers,omitempty"`
	Retry     RetryConfig      `json:"retry,omitzero"`
	Runner    RunnerConfig     `json:"runner,omitzero"`
}

// Credentials maps a credential name ("token", "api_key") to the name of the
// environment variable holding its value.
type Credentials map[string]string

// ERPConfig describes the ERP.
type ERPConfig struct {
	System      string      `json:"system"` // the connector's System(), e.g. "specter"
	Account     string      `json:"account,omitempty"`
	Credentials Credentials `json:"credentials,omitempty"`
	// Currencies the ERP account can book; an order in another currency
	// is dead-lettered. Empty allows any.
	Currencies []string `json:"currencies,omitempty"`
	// PricesIncludeVAT says whether the ERP takes prices including VAT.
	// Specter, like most Swedish ERPs, takes them excluding VAT (false), so
	// the engine converts shop prices that include VAT (see ToERPOrder).
	PricesIncludeVAT bool `json:"prices_include_vat,omitempty"`
	// PriceDecimals is how many decimals the ERP keeps on a unit price
	// excluding VAT (Specter: 3); 0 means the currency's minor unit.
	PriceDecimals int `json:"price_decimals,omitempty"`
	// VATRounding is how the ERP rounds VAT: "per_rate_group" (default,
	// the invoicing rule) or "per_line".
	VATRounding string `json:"vat_rounding,omitempty"`
	// RoundingSKU is the article of a rounding row (öresutjämning) that
	// takes the difference between the ERP's total and the shop's; without
	// it an order whose totals would differ is dead-lettered.
	RoundingSKU string `json:"rounding_sku,omitempty"`
	// DefaultVATRate (percent) applies to a price whose VAT rate is known
	// neither from the item nor from its tax lines.
	DefaultVATRate *decimal.Decimal `json:"default_vat_rate,omitempty"`
	// Concurrency bounds the engine's parallel calls to the ERP (default 2).
	Concurrency int `json:"concurrency,omitempty"`
}

// ShopConfig describes one shop (multishop: one entry per shop).
type ShopConfig struct {
	ID          string      `json:"id"`     // the engine's name for the shop, unique; used in step keys
	System      string      `json:"system"` // the connector's System(), e.g. "shopify"
	Account     string      `json:"account,omitempty"`
	Credentials Credentials `json:"credentials,omitempty"`
	Currency    string      `json:"currency"`
	// WebshopID and ResultUnit identify the shop in the ERP; they reach
	// the ERP connector as order attributes (AttrWebshopID,
	// AttrResultUnit) and the order's Shop is set to ID.
	WebshopID  string `json:"webshop_id,omitempty"`
	ResultUnit string `json:"result_unit,omitempty"`
	Mode       Mode   `json:"mode"`
	// PricesExcludeVAT is set for a shop whose catalogue prices exclude
	// VAT (B2B); Swedish consumer shops include it.
	PricesExcludeVAT bool `json:"prices_exclude_vat,omitempty"`
	// NotifyCustomer sends the shop's shipping e-mail with fulfillments.
	NotifyCustomer bool        `json:"notify_customer,omitempty"`
	Orders         OrderRules  `json:"orders,omitzero"`
	Returns        ReturnRules `json:"returns,omitzero"`
	// Status maps ERP events (delivered, invoiced, paid, cancelled) to
	// actions (fulfill, capture, release, mark_paid, cancel). Nil takes
	// DefaultStatusActions; an event mapped to [] does nothing.
	Status  map[string][]string `json:"status,omitempty"`
	Catalog CatalogRules        `json:"catalog,omitzero"`
	// Concurrency bounds the engine's parallel calls to the shop (default 4).
	Concurrency int `json:"concurrency,omitempty"`
}

// OrderRules decide which orders go to the ERP and how.
type OrderRules struct {
	// Trigger lists the financial statuses that transfer an order
	// ("pending", "authorized", "partially_paid", "paid", …, or "any");
	// default authorized and paid.
	Trigger []string `json:"trigger,omitempty"`
	// As is "order" (default) or "invoice".
	As string `json:"as,omitempty"`
	// Articles: "ensure" (default) looks each SKU up in the ERP and creates
	// the missing ones from the shop's product; "require" dead-letters an
	// order with an unknown SKU; "connector" leaves it to the ERP connector
	// (Specter's creates missing articles itself and has no lookup).
	Articles string `json:"articles,omitempty"`
	// AllowMissingEmail transfers orders whose customer has no e-mail
	// (POS and some marketplace orders); by default they are dead-lettered.
	AllowMissingEmail bool `json:"allow_missing_email,omitempty"`
}

// ReturnRules decide what a return or refund in the shop causes.
type ReturnRules struct {
	// Trigger lists the return statuses that start the chain (default
	// "closed": the goods are back).
	Trigger []string `json:"trigger,omitempty"`
	// Credit is "erp" (default: a credit invoice in the ERP) or "none".
	Credit string `json:"credit,omitempty"`
	// Refund is "provider" (default: refund at the payment provider unless
	// the shop already refunded), "shop" (the merchant refunds in the shop;
	// the engine only credits) or "none".
	Refund string `json:"refund,omitempty"`
}

// CatalogRules tune the product, price and stock flows.
type CatalogRules struct {
	// Locations maps a source stock location to the target's; unmapped
	// locations are passed through unchanged.
	Locations map[string]string `json:"locations,omitempty"`
	// StockBuffer is held back from the available quantity pushed to the
	// shop (a safety margin against overselling).
	StockBuffer int `json:"stock_buffer,omitempty"`
	// BatchSize bounds items per bulk write (default 50).
	BatchSize int `json:"batch_size,omitempty"`
	// PriceLists names the ERP's price lists written to the shop where the
	// ERP leads prices (modes erp_leads and combined); "*" takes them all.
	// Empty writes none. It needs an ERP connector that reads price lists
	// (connector.PriceListSource) and a shop that takes them.
	PriceLists []string `json:"price_lists,omitempty"`
}

// ProviderConfig describes a payment provider.
type ProviderConfig struct {
	Name        string      `json:"name"`   // matched against commerce.PaymentRef.Provider
	System      string      `json:"system"` // the connector's System()
	Account     string      `json:"account,omitempty"`
	Credentials Credentials `json:"credentials,omitempty"`
	// Gateways are shop gateway names (PaymentRef.Gateway) that also route
	// here.
	Gateways []string `json:"gateways,omitempty"`
	// PayoutInterval is how often payouts are fetched for reconciliation
	// (default 6h; providers pay out on their own rhythm); PayoutLookback
	// how far back each fetch reaches (default 72h).
	PayoutInterval Duration `json:"payout_interval,omitzero"`
	PayoutLookback Duration `json:"payout_lookback,omitzero"`
	// PayoutDelay is how far behind now the provider's payout history is
	// final: payouts are fetched only up to now − PayoutDelay. PayPal's
	// Transaction Search lags up to three hours, so give it 3h; the
	// default 0 suits providers whose listings are final at once.
	PayoutDelay Duration `json:"payout_delay,omitzero"`
	Concurrency int      `json:"concurrency,omitempty"` // default 4
}

// RetryConfig bounds retries of a failing step.
type RetryConfig struct {
	MaxAttempts int      `json:"max_attempts,omitempty"` // default 10; then the step is dead-lettered
	MinBackoff  Duration `json:"min_backoff,omitzero"`   // default 1s
	MaxBackoff  Duration `json:"max_backoff,omitzero"`   // default 10m
}

// RunnerConfig sets the polling intervals and shutdown behaviour.
type RunnerConfig struct {
	OrdersInterval  Duration `json:"orders_interval,omitzero"`  // default 1m
	EventsInterval  Duration `json:"events_interval,omitzero"`  // default 1m
	ReturnsInterval Duration `json:"returns_interval,omitzero"` // default 5m
	CatalogInterval Duration `json:"catalog_interval,omitzero"` // default 15m
	StockInterval   Duration `json:"stock_interval,omitzero"`   // default 2m
	// ShutdownGrace is how long in-flight steps may finish after Run's
	// context is cancelled (default 10s); what does not finish stays
	// pending in the journal and resumes on the next start.
	ShutdownGrace Duration `json:"shutdown_grace,omitzero"`
	// ProcessedRetention is how long webhook ids are remembered for
	// deduplication (default 7 days).
	ProcessedRetention Duration `json:"processed_retention,omitzero"`
}

// Duration is a time.Duration written as "30s", "5m", "6h" in files.
type Duration time.Duration

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("not a duration such as 30s or 5m: %q", b)
	}
	*d = Duration(v)
	return nil
}

// Status event names and actions.
const (
	ActionFulfill  = "fulfill"
	ActionCapture  = "capture"
	ActionRelease  = "release"
	ActionMarkPaid = "mark_paid"
	ActionCancel   = "cancel"
)

// DefaultStatusActions is the status mapping of a shop whose Status is nil.
func DefaultStatusActions() map[string][]string {
	return map[string][]string{
		string(commerce.EventDelivered): {ActionFulfill, ActionCapture},
		string(commerce.EventInvoiced):  {},
		string(commerce.EventPaid):      {ActionMarkPaid},
		string(commerce.EventCancelled): {ActionCancel, ActionRelease},
	}
}

// Problem is one thing wrong with a configuration.
type Problem struct {
	Path    string // e.g. "shops[1].orders.as"
	Message string
}

// ConfigError lists every problem found in a configuration, so a bad file
// is fixed in one go.
type ConfigError struct {
	Problems []Problem
}

// ErrConfig matches every *ConfigError with errors.Is.
var ErrConfig = errors.New("flow: invalid configuration")

func (e *ConfigError) Error() string {
	var b strings.Builder
	b.WriteString("flow: invalid configuration:")
	for _, p := range e.Problems {
		b.WriteString("\n  ")
		if p.Path != "" {
			b.WriteString(p.Path)
			b.WriteString(": ")
		}
		b.WriteString(p.Message)
	}
	return b.String()
}

// Is makes errors.Is(err, ErrConfig) true.
func (e *ConfigError) Is(target error) bool { return target == ErrConfig }

type problems []Problem

func (p *problems) add(path, format string, args ...any) {
	*p = append(*p, Problem{Path: path, Message: fmt.Sprintf(format, args...)})
}

func (p problems) err() error {
	if len(p) == 0 {
		return nil
	}
	return &ConfigError{Problems: p}
}

// envName is what a credential reference must look like: an environment
// variable name, so a secret value pasted into the file is refused.
var envName = regexp.MustCompile(`^[A-Z_][A-Z0-9_]*$`)

var financialStatuses = []string{"any", string(commerce.FinancialPending), string(commerce.FinancialAuthorized),
	string(commerce.FinancialPartiallyPaid), string(commerce.FinancialPaid), string(commerce.FinancialPartiallyRefunded),
	string(commerce.FinancialRefunded), string(commerce.FinancialVoided), string(commerce.FinancialExpired)}

var returnStatuses = []string{string(commerce.ReturnRequested), string(commerce.ReturnOpen), string(commerce.ReturnClosed)}

var statusActions = map[string][]string{
	string(commerce.EventDelivered): {ActionFulfill, ActionCapture, ActionRelease},
	string(commerce.EventInvoiced):  {ActionFulfill, ActionCapture, ActionRelease, ActionMarkPaid},
	string(commerce.EventPaid):      {ActionMarkPaid},
	string(commerce.EventCancelled): {ActionCancel, ActionRelease},
}

func oneOf(p *problems, path, v string, allowed ...string) {
	if v != "" && !slices.Contains(allowed, v) {
		p.add(path, "%q is not one of %s", v, strings.Join(allowed, ", "))
	}
}

func checkCredentials(p *problems, path string, c Credentials) {
	for _, name := range slices.Sorted(maps.Keys(c)) {
		if !envName.MatchString(c[name]) {
			// Never echo the value: it may be a secret pasted by mistake.
			p.add(path+"."+name, "must name an environment variable (A-Z, 0-9, _), not hold the credential itself")
		}
	}
}

func checkCurrency(p *problems, path, code string, required bool) {
	if code == "" {
		if required {
			p.add(path, "missing")
		}
		return
	}
	if _, err := commerce.ParseCurrency(code); err != nil {
		p.add(path, "%q is not an ISO 4217 currency", code)
	}
}

// Validate checks the configuration and returns a *ConfigError naming every
// problem. It does not look at the environment; CheckCredentials does.
func (c *Config) Validate() error {
	var p problems
	e := c.ERP
	if e.System == "" {
		p.add("erp.system", "missing")
	}
	checkCredentials(&p, "erp.credentials", e.Credentials)
	for i, cur := range e.Currencies {
		checkCurrency(&p, fmt.Sprintf("erp.currencies[%d]", i), cur, true)
	}
	if e.PriceDecimals < 0 || e.PriceDecimals > 8 {
		p.add("erp.price_decimals", "%d is outside 0…8", e.PriceDecimals)
	}
	oneOf(&p, "erp.vat_rounding", e.VATRounding, "per_rate_group", "per_line")
	if e.DefaultVATRate != nil && (e.DefaultVATRate.IsNegative() || e.DefaultVATRate.GreaterThan(decimal.NewFromInt(100))) {
		p.add("erp.default_vat_rate", "%s is not a percentage", e.DefaultVATRate)
	}
	if e.Concurrency < 0 {
		p.add("erp.concurrency", "negative")
	}
	if len(c.Shops) == 0 {
		p.add("shops", "at least one shop is required")
	}
	ids := map[string]int{}
	for i, s := range c.Shops {
		path := fmt.Sprintf("shops[%d]", i)
		switch {
		case s.ID == "":
			p.add(path+".id", "missing")
		case strings.ContainsAny(s.ID, ": \t\n"):
			p.add(path+".id", "%q may not contain ':' or white space (it is part of step keys)", s.ID)
		default:
			if j, dup := ids[s.ID]; dup {
				p.add(path+".id", "%q is also the id of shops[%d]", s.ID, j)
			}
			ids[s.ID] = i
		}
		if s.System == "" {
			p.add(path+".system", "missing")
		}
		checkCredentials(&p, path+".credentials", s.Credentials)
		checkCurrency(&p, path+".currency", s.Currency, true)
		switch s.Mode {
		case ShopLeads, ERPLeads, Combined:
		case "":
			p.add(path+".mode", "missing (shop_leads, erp_leads or combined)")
		default:
			p.add(path+".mode", "%q is not one of shop_leads, erp_leads, combined", s.Mode)
		}
		for j, t := range s.Orders.Trigger {
			oneOf(&p, fmt.Sprintf("%s.orders.trigger[%d]", path, j), t, financialStatuses...)
		}
		oneOf(&p, path+".orders.as", s.Orders.As, "order", "invoice")
		oneOf(&p, path+".orders.articles", s.Orders.Articles, "ensure", "require", "connector")
		for j, t := range s.Returns.Trigger {
			oneOf(&p, fmt.Sprintf("%s.returns.trigger[%d]", path, j), t, returnStatuses...)
		}
		oneOf(&p, path+".returns.credit", s.Returns.Credit, "erp", "none")
		oneOf(&p, path+".returns.refund", s.Returns.Refund, "provider", "shop", "none")
		for _, ev := range slices.Sorted(maps.Keys(s.Status)) {
			allowed, ok := statusActions[ev]
			if !ok {
				p.add(path+".status."+ev, "unknown ERP event (delivered, invoiced, paid, cancelled)")
				continue
			}
			for j, a := range s.Status[ev] {
				if !slices.Contains(allowed, a) {
					p.add(fmt.Sprintf("%s.status.%s[%d]", path, ev, j), "%q is not an action for %s (%s)", a, ev, strings.Join(allowed, ", "))
				}
			}
		}
		if s.Catalog.StockBuffer < 0 {
			p.add(path+".catalog.stock_buffer", "negative")
		}
		if s.Catalog.BatchSize < 0 {
			p.add(path+".catalog.batch_size", "negative")
		}
		if len(s.Catalog.PriceLists) > 0 && s.Mode == ShopLeads {
			p.add(path+".catalog.price_lists", "the shop leads prices in mode %s; price lists come from the ERP only where it leads them", s.Mode)
		}
		for j, n := range s.Catalog.PriceLists {
			if strings.TrimSpace(n) == "" {
				p.add(fmt.Sprintf("%s.catalog.price_lists[%d]", path, j), "empty name")
			}
		}
		if s.Concurrency < 0 {
			p.add(path+".concurrency", "negative")
		}
	}
	names := map[string]int{}
	gateways := map[string]string{}
	for i, pr := range c.Providers {
		path := fmt.Sprintf("providers[%d]", i)
		if pr.Name == "" {
			p.add(path+".name", "missing")
		} else {
			if j, dup := names[strings.ToLower(pr.Name)]; dup {
				p.add(path+".name", "%q is also the name of providers[%d]", pr.Name, j)
			}
			names[strings.ToLower(pr.Name)] = i
		}
		if pr.System == "" {
			p.add(path+".system", "missing")
		}
		checkCredentials(&p, path+".credentials", pr.Credentials)
		for j, g := range pr.Gateways {
			gp := fmt.Sprintf("%s.gateways[%d]", path, j)
			if g == "" {
				p.add(gp, "empty")
				continue
			}
			if other, dup := gateways[strings.ToLower(g)]; dup {
				p.add(gp, "%q also routes to provider %q", g, other)
			}
			gateways[strings.ToLower(g)] = pr.Name
		}
		if pr.PayoutInterval < 0 || pr.PayoutLookback < 0 || pr.PayoutDelay < 0 {
			p.add(path, "negative payout interval, lookback or delay")
		}
		if pr.Concurrency < 0 {
			p.add(path+".concurrency", "negative")
		}
	}
	if c.Retry.MaxAttempts < 0 {
		p.add("retry.max_attempts", "negative")
	}
	if c.Retry.MinBackoff < 0 || c.Retry.MaxBackoff < 0 {
		p.add("retry", "negative backoff")
	}
	if c.Retry.MaxBackoff > 0 && c.Retry.MinBackoff > c.Retry.MaxBackoff {
		p.add("retry.min_backoff", "greater than max_backoff")
	}
	for _, d := range []struct {
		name string
		v    Duration
	}{{"orders_interval", c.Runner.OrdersInterval}, {"events_interval", c.Runner.EventsInterval},
		{"returns_interval", c.Runner.ReturnsInterval}, {"catalog_interval", c.Runner.CatalogInterval},
		{"stock_interval", c.Runner.StockInterval}, {"shutdown_grace", c.Runner.ShutdownGrace},
		{"processed_retention", c.Runner.ProcessedRetention}} {
		if d.v < 0 {
			p.add("runner."+d.name, "negative")
		}
	}
	return p.err()
}

// withDefaults returns a copy with every unset rule at its default.
func (c Config) withDefaults() Config {
	c.Shops = slices.Clone(c.Shops)
	if c.ERP.VATRounding == "" {
		c.ERP.VATRounding = "per_rate_group"
	}
	if c.ERP.Concurrency == 0 {
		c.ERP.Concurrency = 2
	}
	for i := range c.Shops {
		s := &c.Shops[i]
		if len(s.Orders.Trigger) == 0 {
			s.Orders.Trigger = []string{string(commerce.FinancialAuthorized), string(commerce.FinancialPaid)}
		}
		if s.Orders.As == "" {
			s.Orders.As = "order"
		}
		if s.Orders.Articles == "" {
			s.Orders.Articles = "ensure"
		}
		if len(s.Returns.Trigger) == 0 {
			s.Returns.Trigger = []string{string(commerce.ReturnClosed)}
		}
		if s.Returns.Credit == "" {
			s.Returns.Credit = "erp"
		}
		if s.Returns.Refund == "" {
			s.Returns.Refund = "provider"
		}
		if s.Status == nil {
			s.Status = DefaultStatusActions()
		}
		if s.Catalog.BatchSize == 0 {
			s.Catalog.BatchSize = 50
		}
		if s.Concurrency == 0 {
			s.Concurrency = 4
		}
	}
	c.Providers = slices.Clone(c.Providers)
	for i := range c.Providers {
		pr := &c.Providers[i]
		if pr.PayoutInterval == 0 {
			pr.PayoutInterval = Duration(6 * time.Hour)
		}
		if pr.PayoutLookback == 0 {
			pr.PayoutLookback = Duration(72 * time.Hour)
		}
		if pr.Concurrency == 0 {
			pr.Concurrency = 4
		}
	}
	setDur := func(d *Duration, def time.Duration) {
		if *d == 0 {
			*d = Duration(def)
		}
	}
	if c.Retry.MaxAttempts == 0 {
		c.Retry.MaxAttempts = 10
	}
	setDur(&c.Retry.MinBackoff, time.Second)
	setDur(&c.Retry.MaxBackoff, 10*time.Minute)
	setDur(&c.Runner.OrdersInterval, time.Minute)
	setDur(&c.Runner.EventsInterval, time.Minute)
	setDur(&c.Runner.ReturnsInterval, 5*time.Minute)
	setDur(&c.Runner.CatalogInterval, 15*time.Minute)
	setDur(&c.Runner.StockInterval, 2*time.Minute)
	setDur(&c.Runner.ShutdownGrace, 10*time.Second)
	setDur(&c.Runner.ProcessedRetention, 7*24*time.Hour)
	return c
}

// credentialSets lists every credentials block with its path.
func (c *Config) credentialSets() []struct {
	path string
	c    Credentials
} {
	out := []struct {
		path string
		c    Credentials
	}{{"erp.credentials", c.ERP.Credentials}}
	for i, s := range c.Shops {
		out = append(out, struct {
			path string
			c    Credentials
		}{fmt.Sprintf("shops[%d].credentials", i), s.Credentials})
	}
	for i, pr := range c.Providers {
		out = append(out, struct {
			path string
			c    Credentials
		}{fmt.Sprintf("providers[%d].credentials", i), pr.Credentials})
	}
	return out
}

// CheckCredentials reports every credential whose environment variable is
// unset or empty, looked up with lookup (os.LookupEnv in production), so a
// missing secret stops the program at start, before any call.
func (c *Config) CheckCredentials(lookup func(string) (string, bool)) error {
	var p problems
	for _, set := range c.credentialSets() {
		for _, name := range slices.Sorted(maps.Keys(set.c)) {
			env := set.c[name]
			if v, ok := lookup(env); !ok || v == "" {
				p.add(set.path+"."+name, "environment variable %s is not set", env)
			}
		}
	}
	return p.err()
}

// Credential returns the value of a credential from the environment
// (lookup): owner is "erp", a shop id or a provider name.
func (c *Config) Credential(owner, name string, lookup func(string) (string, bool)) (string, error) {
	var set Credentials
	switch {
	case owner == "erp":
		set = c.ERP.Credentials
	default:
		for _, s := range c.Shops {
			if s.ID == owner {
				set = s.Credentials
			}
		}
		for _, pr := range c.Providers {
			if pr.Name == owner {
				set = pr.Credentials
			}
		}
	}
	env, ok := set[name]
	if !ok {
		return "", fmt.Errorf("flow: credential %s of %s is not configured", name, owner)
	}
	v, ok := lookup(env)
	if !ok || v == "" {
		return "", fmt.Errorf("flow: credential %s of %s: environment variable %s is not set", name, owner, env)
	}
	return v, nil
}

// LoadFile reads a configuration from a .json, .yaml or .yml file, rejects
// unknown keys and invalid values (naming each), and checks that every
// credential's environment variable is set.
func LoadFile(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("flow: load config: %w", err)
	}
	var c *Config
	switch strings.ToLower(filepath.Ext(path)) {
	case ".json":
		c, err = ParseJSON(b)
	case ".yaml", ".yml":
		c, err = ParseYAML(b)
	default:
		return nil, fmt.Errorf("flow: load config %s: unknown format (use .json, .yaml or .yml)", path)
	}
	if err != nil {
		return nil, err
	}
	if err := c.CheckCredentials(os.LookupEnv); err != nil {
		return nil, err
	}
	return c, nil
}

// ParseJSON decodes and validates a JSON configuration. Unknown and
// duplicate keys are errors, each named with its path.
func ParseJSON(b []byte) (*Config, error) {
	v, err := decodeStrictJSON(b)
	if err != nil {
		return nil, fmt.Errorf("flow: config: %w", err)
	}
	return fromTree(v)
}

// fromTree checks a generic document (maps, slices, scalars) against
// Config's keys, decodes it and validates it, reporting unknown keys and
// invalid values together.
func fromTree(v any) (*Config, error) {
	var p problems
	checkKeys(&p, "", v, reflect.TypeFor[Config]())
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("flow: config: %w", err)
	}
	var c Config
	if err := json.Unmarshal(b, &c); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			p.add(te.Field, "a %s cannot hold %s", te.Type, te.Value)
		} else {
			p.add("", "%v", err)
		}
		return nil, p.err()
	}
	var ce *ConfigError
	if err := c.Validate(); errors.As(err, &ce) {
		p = append(p, ce.Problems...)
	}
	if err := p.err(); err != nil {
		return nil, err
	}
	return &c, nil
}

var textUnmarshaler = reflect.TypeFor[interface{ UnmarshalText([]byte) error }]()
var jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()

// checkKeys reports every key of v that t has no field for.
func checkKeys(p *problems, path string, v any, t reflect.Type) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(textUnmarshaler) || reflect.PointerTo(t).Implements(jsonUnmarshaler) {
		return
	}
	join := func(k string) string {
		if path == "" {
			return k
		}
		return path + "." + k
	}
	switch t.Kind() {
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			if v != nil {
				p.add(path, "must be a mapping")
			}
			return
		}
		fields := map[string]reflect.Type{}
		for f := range t.Fields() {
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name != "" && name != "-" {
				fields[name] = f.Type
			}
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			ft, ok := fields[k]
			if !ok {
				p.add(join(k), "unknown key")
				continue
			}
			checkKeys(p, join(k), m[k], ft)
		}
	case reflect.Map:
		m, ok := v.(map[string]any)
		if !ok {
			if v != nil {
				p.add(path, "must be a mapping")
			}
			return
		}
		for k, x := range m {
			checkKeys(p, join(k), x, t.Elem())
		}
	case reflect.Slice:
		s, ok := v.([]any)
		if !ok {
			if v != nil {
				p.add(path, "must be a list")
			}
			return
		}
		for i, x := range s {
			checkKeys(p, fmt.Sprintf("%s[%d]", path, i), x, t.Elem())
		}
	}
}

// decodeStrictJSON decodes one JSON document into maps, slices and
// scalars (numbers as json.Number), refusing duplicate keys and trailing
// data.
func decodeStrictJSON(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	v, err := decodeValue(dec, "")
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err == nil {
		return nil, errors.New("trailing data after the document")
	}
	return v, nil
}

func decodeValue(dec *json.Decoder, path string) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			m := map[string]any{}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k := kt.(string)
				kp := k
				if path != "" {
					kp = path + "." + k
				}
				if _, dup := m[k]; dup {
					return nil, fmt.Errorf("%s: duplicate key", kp)
				}
				if m[k], err = decodeValue(dec, kp); err != nil {
					return nil, err
				}
			}
			_, err := dec.Token()
			return m, err
		case '[':
			s := []any{}
			for i := 0; dec.More(); i++ {
				x, err := decodeValue(dec, fmt.Sprintf("%s[%d]", path, i))
				if err != nil {
					return nil, err
				}
				s = append(s, x)
			}
			_, err := dec.Token()
			return s, err
		}
	}
	return tok, nil
}
