package commerce

import (
	"fmt"
	"time"

	"github.com/shopspring/decimal"
)

// ProductStatus says whether a product is sold.
type ProductStatus string

// Product states.
const (
	ProductActive   ProductStatus = "active"
	ProductDraft    ProductStatus = "draft"
	ProductArchived ProductStatus = "archived"
	ProductUnlisted ProductStatus = "unlisted" // sold, but hidden from listings and search
)

// Product is a product with its variants. Variants are matched across
// systems by SKU, never by position.
type Product struct {
	Origin
	Handle      string        `json:"handle,omitempty"`
	Title       string        `json:"title"`
	Description string        `json:"description,omitempty"`
	Vendor      string        `json:"vendor,omitempty"`
	ProductType string        `json:"product_type,omitempty"`
	Status      ProductStatus `json:"status,omitempty"`
	Tags        []string      `json:"tags,omitempty"`
	Images      []Image       `json:"images,omitempty"`
	Options     []Option      `json:"options,omitempty"`
	Variants    []Variant     `json:"variants"`
	Attributes  []Attribute   `json:"attributes,omitempty"`
	UpdatedAt   time.Time     `json:"updated_at,omitzero"`
}

// Image is a product image.
type Image struct {
	URL string `json:"url"`
	Alt string `json:"alt,omitempty"`
}

// Option is a product option such as Size with its values.
type Option struct {
	Name   string   `json:"name"`
	Values []string `json:"values"`
}

// OptionValue is one variant's value of an option.
type OptionValue struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Variant is a sellable item. VATRatePercent (25 means 25 %) or TaxClass say
// how it is taxed; Price includes VAT when PricesIncludeTax is set.
type Variant struct {
	Origin
	SKU              string           `json:"sku"`
	Barcode          string           `json:"barcode,omitempty"`
	Title            string           `json:"title,omitempty"`
	Options          []OptionValue    `json:"options,omitempty"`
	Price            Money            `json:"price"`
	CompareAtPrice   *Money           `json:"compare_at_price,omitempty"`
	Cost             *Money           `json:"cost,omitempty"`
	PricesIncludeTax bool             `json:"prices_include_tax"`
	VATRatePercent   *decimal.Decimal `json:"vat_rate_percent,omitempty"`
	TaxClass         string           `json:"tax_class,omitempty"`
	Weight           *Weight          `json:"weight,omitempty"`
	Stock            []StockLevel     `json:"stock,omitempty"`
	Active           bool             `json:"active"`
}

// WeightUnit is a unit of mass.
type WeightUnit string

// Weight units.
const (
	Grams     WeightUnit = "g"
	Kilograms WeightUnit = "kg"
	Ounces    WeightUnit = "oz"
	Pounds    WeightUnit = "lb"
)

// Weight is a mass.
type Weight struct {
	Value decimal.Decimal `json:"value"`
	Unit  WeightUnit      `json:"unit"`
}

// Variant returns the variant with the given SKU.
func (p *Product) Variant(sku string) (*Variant, bool) {
	for i := range p.Variants {
		if p.Variants[i].SKU == sku {
			return &p.Variants[i], true
		}
	}
	return nil, false
}

// Validate requires a title and variants with unique, present SKUs and
// valid prices.
func (p *Product) Validate() error {
	var v validator
	if p.Title == "" {
		v.add("title", "", "missing")
	}
	if len(p.Variants) == 0 {
		v.add("variants", "", "a product needs at least one variant")
	}
	seen := map[string]int{}
	for i, vr := range p.Variants {
		f := fmt.Sprintf("variants[%d]", i)
		v.nest(f, vr.Validate())
		if vr.SKU == "" {
			continue
		}
		if j, dup := seen[vr.SKU]; dup {
			v.add(f+".sku", vr.SKU, fmt.Sprintf("duplicate of variants[%d]", j))
		}
		seen[vr.SKU] = i
	}
	return v.err()
}

// Validate requires a SKU, a price with a currency, non-negative rate and
// stock, and a compare-at price and cost in the price's currency.
func (vr *Variant) Validate() error {
	var v validator
	if vr.SKU == "" {
		v.add("sku", "", "missing")
	}
	checkMoney(&v, "price", vr.Price, Currency{}, false)
	if vr.Price.IsNegative() {
		v.add("price", vr.Price.Amount.String(), "negative price")
	}
	if vr.CompareAtPrice != nil {
		checkMoney(&v, "compare_at_price", *vr.CompareAtPrice, vr.Price.Currency, false)
	}
	if vr.Cost != nil {
		checkMoney(&v, "cost", *vr.Cost, Currency{}, false)
	}
	if vr.VATRatePercent != nil && vr.VATRatePercent.IsNegative() {
		v.add("vat_rate_percent", vr.VATRatePercent.String(), "negative rate")
	}
	if vr.Weight != nil && vr.Weight.Value.IsNegative() {
		v.add("weight.value", vr.Weight.Value.String(), "negative weight")
	}
	for i, s := range vr.Stock {
		v.nest(fmt.Sprintf("stock[%d]", i), s.Validate())
	}
	return v.err()
}

// PriceList holds fixed prices per SKU for a currency and, optionally, a
// customer group or market.
type PriceList struct {
	Origin
	Name             string       `json:"name"`
	Currency         Currency     `json:"currency"`
	CustomerGroup    string       `json:"customer_group,omitempty"`
	PricesIncludeTax bool         `json:"prices_include_tax"`
	Prices           []FixedPrice `json:"prices"`
}

// FixedPrice is one SKU's price in a price list, or a variant's price update.
type FixedPrice struct {
	SKU            string `json:"sku"`
	Price          Money  `json:"price"`
	CompareAtPrice *Money `json:"compare_at_price,omitempty"`
}

// Validate requires a currency and SKUs with prices in it, each SKU once.
func (pl *PriceList) Validate() error {
	var v validator
	if pl.Currency.IsZero() {
		v.add("currency", "", "missing")
	}
	seen := map[string]bool{}
	for i, p := range pl.Prices {
		f := fmt.Sprintf("prices[%d]", i)
		v.nest(f, p.validate(pl.Currency))
		if seen[p.SKU] && p.SKU != "" {
			v.add(f+".sku", p.SKU, "listed twice")
		}
		seen[p.SKU] = true
	}
	return v.err()
}

func (p FixedPrice) validate(c Currency) error {
	var v validator
	if p.SKU == "" {
		v.add("sku", "", "missing")
	}
	checkMoney(&v, "price", p.Price, c, false)
	if p.Price.IsNegative() {
		v.add("price", p.Price.Amount.String(), "negative price")
	}
	if p.CompareAtPrice != nil {
		checkMoney(&v, "compare_at_price", *p.CompareAtPrice, p.Price.Currency, false)
	}
	return v.err()
}

// Validate checks a price update on its own.
func (p FixedPrice) Validate() error { return p.validate(Currency{}) }

// StockLevel is the quantity available for sale of a SKU at a location, as
// observed at a time. Available means on hand less reserved: what may be sold.
type StockLevel struct {
	SKU        string    `json:"sku"`
	Location   string    `json:"location"`
	Available  int       `json:"available"`
	ObservedAt time.Time `json:"observed_at,omitzero"`
}

// Validate requires a SKU and a location. A negative quantity is allowed:
// oversold stock is a fact systems report.
func (s StockLevel) Validate() error {
	var v validator
	if s.SKU == "" {
		v.add("sku", "", "missing")
	}
	if s.Location == "" {
		v.add("location", "", "missing")
	}
	return v.err()
}
