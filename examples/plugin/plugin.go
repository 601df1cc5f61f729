package plugin

import (
	"context"
	"fmt"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/flow"
)

// Config names the tags the plugin reads. Zero values take the defaults.
type Config struct {
	// WeightPrefix starts a weight tag (default "vikt:").
	WeightPrefix string
	// SkipTag marks a product that stays out of the ERP (default
	// "endast-webb").
	SkipTag string
}

func (c Config) withDefaults() Config {
	if c.WeightPrefix == "" {
		c.WeightPrefix = "vikt:"
	}
	if c.SkipTag == "" {
		c.SkipTag = "endast-webb"
	}
	return c
}

// Names of the hooks, as dead letters and skip reasons show them.
const (
	WeightHookName = "weight-from-tag"
	SkipHookName   = "skip-web-only"
)

// Options registers the plugin's hooks for products travelling from the
// shop to the ERP (catalogue sync, initial sync and the articles made for
// orders).
func Options(cfg Config) []flow.Option {
	return []flow.Option{
		flow.WithHook(flow.ShopToERP, SkipTagged(cfg)),
		flow.WithHook(flow.ShopToERP, WeightFromTag(cfg)),
	}
}

// SkipTagged is the filter: it skips a product carrying the skip tag.
func SkipTagged(cfg Config) flow.Hook[commerce.Product] {
	cfg = cfg.withDefaults()
	return flow.HookFunc(SkipHookName, func(_ context.Context, p *commerce.Product, _ flow.HookInfo) error {
		for _, t := range p.Tags {
			if strings.EqualFold(strings.TrimSpace(t), cfg.SkipTag) {
				return flow.Skip(fmt.Sprintf("product %q is tagged %s: sold only in the web shop", p.Title, cfg.SkipTag))
			}
		}
		return nil
	})
}

// WeightFromTag is the mapping: it gives every variant without a weight
// the weight of the product's weight tag. A variant's own weight wins; a
// zero weight is none (Shopify reports 0 kg for a weight never set).
func WeightFromTag(cfg Config) flow.Hook[commerce.Product] {
	cfg = cfg.withDefaults()
	return flow.HookFunc(WeightHookName, func(_ context.Context, p *commerce.Product, _ flow.HookInfo) error {
		var w *commerce.Weight
		for _, t := range p.Tags {
			t = strings.TrimSpace(t)
			if len(t) < len(cfg.WeightPrefix) || !strings.EqualFold(t[:len(cfg.WeightPrefix)], cfg.WeightPrefix) {
				continue
			}
			parsed, err := ParseWeight(t[len(cfg.WeightPrefix):])
			if err != nil {
				return fmt.Errorf("product %q: tag %q: %w", p.Title, t, err)
			}
			switch {
			case w == nil:
				w = &parsed
			case !sameWeight(*w, parsed):
				return fmt.Errorf("product %q: two weight tags disagree (%s and %s)", p.Title, format(*w), format(parsed))
			}
		}
		if w == nil {
			return nil
		}
		for i := range p.Variants {
			if vw := p.Variants[i].Weight; vw == nil || vw.Value.IsZero() {
				v := *w
				p.Variants[i].Weight = &v
			}
		}
		return nil
	})
}

// ParseWeight reads a weight as shops write it in tags: a positive decimal
// number with a point or a Swedish decimal comma, then g or kg ("350g",
// "1,2 kg", "0.5KG"). Anything else is an error.
func ParseWeight(s string) (commerce.Weight, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	var unit commerce.WeightUnit
	switch {
	case strings.HasSuffix(s, "kg"):
		unit, s = commerce.Kilograms, strings.TrimSuffix(s, "kg")
	case strings.HasSuffix(s, "g"):
		unit, s = commerce.Grams, strings.TrimSuffix(s, "g")
	default:
		return commerce.Weight{}, fmt.Errorf("weight %q: no unit (g or kg)", s)
	}
	num := strings.Replace(strings.TrimSpace(s), ",", ".", 1)
	if num == "" || strings.Trim(num, "0123456789.") != "" || strings.Count(num, ".") > 1 || num[0] == '.' || num[len(num)-1] == '.' {
		return commerce.Weight{}, fmt.Errorf("weight %q: not a plain decimal number", s)
	}
	d, err := decimal.NewFromString(num)
	if err != nil {
		return commerce.Weight{}, fmt.Errorf("weight %q: %w", s, err)
	}
	if !d.IsPositive() {
		return commerce.Weight{}, fmt.Errorf("weight %q: not positive", s)
	}
	if d.GreaterThan(decimal.NewFromInt(100_000)) {
		return commerce.Weight{}, fmt.Errorf("weight %q: implausibly heavy", s)
	}
	return commerce.Weight{Value: d, Unit: unit}, nil
}

func sameWeight(a, b commerce.Weight) bool {
	g := func(w commerce.Weight) decimal.Decimal {
		if w.Unit == commerce.Kilograms {
			return w.Value.Shift(3)
		}
		return w.Value
	}
	return g(a).Equal(g(b))
}

func format(w commerce.Weight) string { return w.Value.String() + " " + string(w.Unit) }
