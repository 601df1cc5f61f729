package specter

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/connector"
)

// Article is one row of newArticleSubmit: a variant as Specter keeps it,
// its own article with its own number. Prices exclude VAT, in the base
// currency.
type Article struct {
	No           string
	Name         string
	PriceExclVAT decimal.Decimal
	VATPercent   int
	BarCode      string
	BuyPrice     *decimal.Decimal
	WeightKg     *decimal.Decimal
	Stocked      bool // kept in stock (createArticleStock); not for shipping or discount articles
	InitialStock *int // noItemsInStock, applied only when the article is created
}

var hundred = decimal.NewFromInt(100)

// exclVAT returns a price excluding VAT with PriceDecimals decimals.
func exclVAT(amount decimal.Decimal, includesVAT bool, rate decimal.Decimal) decimal.Decimal {
	if includesVAT {
		return amount.DivRound(decimal.NewFromInt(1).Add(rate.Div(hundred)), PriceDecimals)
	}
	return amount.Round(PriceDecimals)
}

// vatPercent checks that a rate is a whole, non-negative percentage, as
// vatPercent fields are integers (OBSERVED: the module rounds them).
func vatPercent(rate decimal.Decimal) (int, error) {
	if rate.IsNegative() || !rate.IsInteger() || rate.GreaterThan(hundred) {
		return 0, fmt.Errorf("VAT rate %s%% is not a whole percentage Specter can hold", rate)
	}
	return int(rate.IntPart()), nil
}

var kg = map[commerce.WeightUnit]decimal.Decimal{
	commerce.Grams:     decimal.RequireFromString("0.001"),
	commerce.Kilograms: decimal.NewFromInt(1),
	commerce.Ounces:    decimal.RequireFromString("0.028349523125"),
	commerce.Pounds:    decimal.RequireFromString("0.45359237"),
}

// articleName is the product title with the variant's option values, so that
// variants, each its own article, are told apart in Specter.
func articleName(p commerce.Product, v commerce.Variant) string {
	var vals []string
	for _, o := range v.Options {
		if o.Value != "" {
			vals = append(vals, o.Value)
		}
	}
	suffix := strings.Join(vals, " / ")
	if suffix == "" && v.Title != "" && v.Title != p.Title && v.Title != "Default Title" {
		suffix = v.Title
	}
	switch {
	case p.Title == "":
		return suffix
	case suffix == "":
		return p.Title
	}
	return p.Title + " - " + suffix
}

// articlesOf maps products to articles, one per variant, checking every
// article number first: an invalid one refuses the whole call, naming all.
func (c *Connector) articlesOf(op string, products []commerce.Product) ([]Article, error) {
	var skus []string
	for _, p := range products {
		for _, v := range p.Variants {
			skus = append(skus, v.SKU)
		}
	}
	if err := validateArticleNumbers(skus); err != nil {
		return nil, &connector.Error{System: System, Op: op, Kind: connector.KindValidation, Field: "sku", Err: err}
	}
	var out []Article
	for i, p := range products {
		if err := p.Validate(); err != nil {
			return nil, invalid(op, fmt.Errorf("products[%d]: %w", i, err))
		}
		for j, v := range p.Variants {
			field := fmt.Sprintf("products[%d].variants[%d]", i, j)
			a, err := c.articleOf(p, v)
			if err != nil {
				return nil, validation(op, field, err)
			}
			out = append(out, a)
		}
	}
	return out, nil
}

func (c *Connector) articleOf(p commerce.Product, v commerce.Variant) (Article, error) {
	if v.Price.Currency != c.cfg.baseCurrency {
		return Article{}, fmt.Errorf("price in %s, Specter's article prices are in the base currency %s", v.Price.Currency, c.cfg.baseCurrency)
	}
	rate := c.cfg.defaultVAT
	if v.VATRatePercent != nil {
		rate = *v.VATRatePercent
	}
	pct, err := vatPercent(rate)
	if err != nil {
		return Article{}, err
	}
	a := Article{
		No:           v.SKU,
		Name:         articleName(p, v),
		PriceExclVAT: exclVAT(v.Price.Amount, v.PricesIncludeTax, rate),
		VATPercent:   pct,
		BarCode:      v.Barcode,
		Stocked:      true,
	}
	if v.Cost != nil {
		if v.Cost.Currency != c.cfg.baseCurrency {
			return Article{}, fmt.Errorf("cost in %s, not the base currency %s", v.Cost.Currency, c.cfg.baseCurrency)
		}
		bp := v.Cost.Amount.Round(PriceDecimals)
		a.BuyPrice = &bp
	}
	if v.Weight != nil {
		f, ok := kg[v.Weight.Unit]
		if !ok {
			return Article{}, fmt.Errorf("unknown weight unit %q", v.Weight.Unit)
		}
		w := v.Weight.Value.Mul(f).Round(WeightDecimals)
		a.WeightKg = &w
	}
	if len(v.Stock) > 0 {
		n := 0
		for _, s := range v.Stock {
			n += s.Available
		}
		a.InitialStock = &n
	}
	return a, nil
}

// articleForm builds one newArticleSubmit call; force updates existing
// articles, without it they are left as they are (AssumeCreateOnlyWithoutForce).
func (c *Connector) articleForm(rows []Article, force bool) *Form {
	f := c.client.NewForm()
	if force {
		f.Set("forceArticleUpdate", "1")
	}
	for i, a := range rows {
		n := i + 1
		f.Set(Row("articleNo", n), a.No)
		f.Text(Row("name", n), a.Name)
		f.Set(Row("priceExclVAT", n), a.PriceExclVAT.String())
		f.Set(Row("vatPercent", n), strconv.Itoa(a.VATPercent))
		f.SetNonEmpty(Row("barCode", n), a.BarCode)
		if a.BuyPrice != nil {
			f.Set(Row("buyPrice", n), a.BuyPrice.String())
			f.Set(Row("stockPrice", n), a.BuyPrice.String())
		}
		if a.WeightKg != nil {
			f.Set(Row("productWeight", n), a.WeightKg.String())
		}
		if a.Stocked {
			f.Set(Row("createArticleStock", n), "1")
		}
		if a.InitialStock != nil {
			f.Set(Row("noItemsInStock", n), strconv.Itoa(*a.InitialStock))
		}
	}
	return f
}

// SubmitArticles sends articles in calls of at most MaxArticlesPerCall rows.
// With force, existing articles are updated; without, only missing ones
// are created. It returns how many were sent before a failure.
func (c *Connector) SubmitArticles(ctx context.Context, op string, rows []Article, force bool) (int, error) {
	skus := make([]string, len(rows))
	for i, a := range rows {
		skus[i] = a.No
	}
	if err := validateArticleNumbers(skus); err != nil {
		return 0, &connector.Error{System: System, Op: op, Kind: connector.KindValidation, Field: "sku", Err: err}
	}
	sent := 0
	for start := 0; start < len(rows); start += MaxArticlesPerCall {
		chunk := rows[start:min(start+MaxArticlesPerCall, len(rows))]
		if _, err := c.client.Do(ctx, Request{Op: op, Action: ActionNewArticles, Form: c.articleForm(chunk, force)}); err != nil {
			return sent, err
		}
		sent += len(chunk)
	}
	return sent, nil
}

// UpsertProducts creates or updates every variant as its own article (keyed
// by SKU = article number), in calls of at most MaxArticlesPerCall rows.
// Article numbers are checked against Specter's rules first; if any is
// refused nothing is sent and the error (a *ArticleNumberError inside) names
// them all. Prices are sent excluding VAT; a price including VAT is divided
// by the variant's rate (or WithDefaultVATRate). Ref.ID is the article
// number; Created is always false, as Specter's reply does not tell a
// created article from an updated one. When a later call fails, the results
// of the calls before it are returned with the error.
func (c *Connector) UpsertProducts(ctx context.Context, products []commerce.Product, opts ...connector.CallOption) ([]connector.UpsertResult, error) {
	o := connector.ApplyCallOptions(opts)
	rows, err := c.articlesOf("UpsertProducts", products)
	if err != nil {
		return nil, err
	}
	results := func(n int) []connector.UpsertResult {
		out := make([]connector.UpsertResult, n)
		for i := range n {
			out[i] = connector.UpsertResult{Key: rows[i].No, Ref: c.ref(rows[i].No)}
		}
		return out
	}
	if o.DryRun {
		for _, a := range rows {
			if err := c.articleForm([]Article{a}, true).Err(); err != nil {
				return nil, validation("UpsertProducts", "", err)
			}
		}
		return results(len(rows)), nil
	}
	sent, err := c.SubmitArticles(ctx, "UpsertProducts", rows, true)
	return results(sent), err
}
