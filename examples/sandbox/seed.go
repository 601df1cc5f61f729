package main

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/shopspring/decimal"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/vat"
)

// The merchant: a Swedish shop for woollens, VAT-registered in Sweden and
// registered for the OSS Union scheme (its EU distance sales passed the
// EUR 10,000 threshold last year, so consumers in other member states pay
// their own country's VAT).
const (
	sellerName    = "Ullbod i Åre AB"
	sellerCountry = "SE"
	// sellerOrgBase is the organisation number without its check digit;
	// the check digit and the VAT number are computed (validOrgNumber).
	sellerOrgBase = "559123456"
)

// product is an item of the shop's catalogue; prices are SEK including
// 25 % VAT, as the shop shows them.
type product struct {
	Title, Type string
	Tags        []string
	Option      string // option name; "" for a product with one variant
	Variants    []variant
	Gross       string
	CompareAt   string // "" for none
	Grams       int
}

type variant struct {
	SKU, Value string
}

// catalogue is the shop's assortment: Swedish names with Å, Ä and Ö,
// variants by size or colour, ASCII article numbers (Specter refuses å, ä
// and ö in them).
var catalogue = []product{
	{Title: "Ullsockor Åre", Type: "Strumpor", Tags: []string{"ull", "vinter"}, Option: "Storlek", Gross: "149.00", Grams: 120,
		Variants: []variant{{"ULLS-3639", "36–39"}, {"ULLS-4043", "40–43"}, {"ULLS-4447", "44–47"}}},
	{Title: "Mössa Älvdalen", Type: "Mössor", Tags: []string{"ull"}, Option: "Färg", Gross: "299.00", Grams: 90,
		Variants: []variant{{"MOSS-GRA", "Grå"}, {"MOSS-ROD", "Röd"}, {"MOSS-BLA", "Blå"}}},
	{Title: "Halsduk Öland", Type: "Halsdukar", Tags: []string{"ull", "rea"}, Option: "Färg", Gross: "449.00", CompareAt: "499.00", Grams: 200,
		Variants: []variant{{"HALS-NAT", "Natur"}, {"HALS-GRN", "Skogsgrön"}}},
	{Title: "Tröja Jämtland", Type: "Tröjor", Tags: []string{"ull", "stickat"}, Option: "Storlek", Gross: "1299.00", Grams: 650,
		Variants: []variant{{"TROJ-S", "S"}, {"TROJ-M", "M"}, {"TROJ-L", "L"}, {"TROJ-XL", "XL"}}},
	{Title: "Vantar Härjedalen", Type: "Vantar", Tags: []string{"ull"}, Option: "Storlek", Gross: "249.50", Grams: 110,
		Variants: []variant{{"VANT-S", "S"}, {"VANT-M", "M"}, {"VANT-L", "L"}}},
	{Title: "Tovade tofflor Ånge", Type: "Tofflor", Tags: []string{"tovat"}, Option: "Storlek", Gross: "399.00", Grams: 300,
		Variants: []variant{{"TOFF-38", "38"}, {"TOFF-40", "40"}, {"TOFF-42", "42"}, {"TOFF-44", "44"}}},
	{Title: "Pläd Gävleborg", Type: "Plädar", Tags: []string{"ull", "hem"}, Gross: "899.00", Grams: 1400,
		Variants: []variant{{"PLAD-1", ""}}},
}

// customer is a buyer with their address; Currency is what they pay in.
type customer struct {
	First, Last, Email, Phone string
	Company, VATNumber        string // a business buyer's; empty for consumers
	Street, Zip, City         string
	Country, CountryName      string
	Currency                  commerce.Currency
	// Once marks a customer who orders once, in the first round, so
	// that the one order the engine must refuse (see expectDead) shows
	// without crowding the run.
	Once bool
}

func (c *customer) business() bool { return c.VATNumber != "" }

// customers are the shop's buyers: consumers in Sweden, Germany, France
// and Finland, and one German business with a valid VAT number (computed
// in newStory, where its check digit is found).
func baseCustomers() []customer {
	return []customer{
		{First: "Åsa", Last: "Öberg", Email: "asa.oberg@example.se", Phone: "+46701234501", Street: "Storgatan 12", Zip: "90326", City: "Umeå", Country: "SE", CountryName: "Sweden", Currency: commerce.SEK},
		{First: "Björn", Last: "Ängström", Email: "bjorn.angstrom@example.se", Phone: "+46701234502", Street: "Prästgatan 3", Zip: "83131", City: "Östersund", Country: "SE", CountryName: "Sweden", Currency: commerce.SEK},
		{First: "Märta", Last: "Lindqvist", Email: "marta.lindqvist@example.se", Street: "Linnégatan 40", Zip: "41304", City: "Göteborg", Country: "SE", CountryName: "Sweden", Currency: commerce.SEK},
		{First: "Örjan", Last: "Nyström", Email: "orjan.nystrom@example.se", Street: "Södra Förstadsgatan 8", Zip: "21143", City: "Malmö", Country: "SE", CountryName: "Sweden", Currency: commerce.SEK},
		{First: "Jürgen", Last: "Müller", Email: "juergen.mueller@example.de", Street: "Schönfeldstraße 5", Zip: "80539", City: "München", Country: "DE", CountryName: "Germany", Currency: commerce.EUR},
		{First: "Anna", Last: "Schröder", Email: "anna.schroeder@example.de", Street: "Große Bergstraße 21", Zip: "22767", City: "Hamburg", Country: "DE", CountryName: "Germany", Currency: commerce.EUR},
		{First: "Émilie", Last: "Dubois", Email: "emilie.dubois@example.fr", Street: "12 rue de la République", Zip: "69002", City: "Lyon", Country: "FR", CountryName: "France", Currency: commerce.EUR},
		{First: "François", Last: "Lefèvre", Email: "francois.lefevre@example.fr", Street: "8 rue Mouffetard", Zip: "75005", City: "Paris", Country: "FR", CountryName: "France", Currency: commerce.EUR},
		{First: "Aino", Last: "Virtanen", Email: "aino.virtanen@example.fi", Street: "Mannerheimintie 14", Zip: "00100", City: "Helsinki", Country: "FI", CountryName: "Finland", Currency: commerce.EUR, Once: true},
		{First: "Katrin", Last: "Vogel", Email: "einkauf@nordlicht-handel.example.de", Company: "Nordlicht Handels GmbH", Street: "Friedrichstraße 100", Zip: "10117", City: "Berlin", Country: "DE", CountryName: "Germany", Currency: commerce.EUR},
	}
}

// validNumber completes base with the check digit its country's VAT
// number algorithm accepts, as vat.NormalizeNumber checks it, so the
// sandbox's numbers are valid by construction.
func validNumber(prefix, base, suffix string) (string, error) {
	for d := range 10 {
		n := prefix + base + strconv.Itoa(d) + suffix
		if got, err := vat.NormalizeNumber(n); err == nil {
			return got, nil
		}
	}
	return "", fmt.Errorf("no check digit makes %s%s?%s a valid VAT number", prefix, base, suffix)
}

// line is one planned order line. Amounts are in the order's currency:
// Unit is what the shop charges per unit (including VAT for consumers,
// excluding it for the business buyer), Gross the line after discount
// including VAT, Tax the VAT in it.
type line struct {
	SKU, Title, VariantTitle string
	Qty                      int
	Unit, Discount           decimal.Decimal
	Gross, Tax               decimal.Decimal
}

// order is a planned shop order and, once placed, where it lives.
type order struct {
	Number    int
	Name      string
	Customer  *customer
	Provider  string // klarna, stripe or paypal
	Currency  commerce.Currency
	Decision  vat.Decision
	Lines     []line
	Shipping  decimal.Decimal // including VAT
	ShipTax   decimal.Decimal
	Total     decimal.Decimal
	Included  bool // prices include VAT (consumers)
	PlacedAt  time.Time
	ShopID    string // Shopify order GID
	Reference string // the provider's authorization reference
}

// unitPrice is a variant's price for a customer: the SEK price, or in
// euros a price ending in .95 near the SEK price at about 11 SEK/EUR; for
// the business buyer without VAT.
func unitPrice(p *product, c *customer) decimal.Decimal {
	sek := decimal.RequireFromString(p.Gross)
	price := sek
	if c.Currency == commerce.EUR {
		price = sek.Div(decimal.NewFromInt(11)).Floor().Add(decimal.RequireFromString("0.95"))
	}
	if c.business() {
		price = price.Div(decimal.RequireFromString("1.25")).Round(2)
	}
	return price
}

// shipping is the shipping charge including VAT (excluding for business).
func shipping(c *customer) decimal.Decimal {
	switch {
	case c.business():
		return decimal.RequireFromString("7.96")
	case c.Currency == commerce.EUR:
		return decimal.RequireFromString("9.95")
	}
	return decimal.RequireFromString("49.00")
}

var hundred = decimal.NewFromInt(100)

// vatIn is the VAT contained in gross at ratePct, rounded to the cent.
func vatIn(gross, ratePct decimal.Decimal) decimal.Decimal {
	if ratePct.IsZero() {
		return decimal.Zero
	}
	return gross.Mul(ratePct).DivRound(hundred.Add(ratePct), 2)
}

// planOrders plans n orders from the seed: every provider and every
// customer early on (so small runs still show them all), the rest at
// random. The dates spread over the Monday and Tuesday of the week that
// begins at start.
func planOrders(rng *rand.Rand, n int, customers []customer, start time.Time) ([]*order, error) {
	providers := []string{"klarna", "stripe", "paypal"}
	cust := rng.Perm(len(customers))
	var out []*order
	for i := range n {
		c := &customers[cust[i%len(cust)]]
		for i >= len(cust) && (c == &customers[cust[i%len(cust)]] || c.Once) {
			c = &customers[rng.IntN(len(customers))]
		}
		prov := providers[i%len(providers)]
		if i >= len(providers) {
			prov = providers[rng.IntN(len(providers))]
		}
		if c.business() {
			prov = "paypal" // the business buyer pays by PayPal invoice
		}
		placed := start.Add(time.Hour + time.Duration(i)*32*time.Hour/time.Duration(max(n, 1))).Truncate(time.Second)
		d, err := vat.Decide(vat.Sale{SellerCountry: sellerCountry, BuyerCountry: c.Country, Buyer: buyerType(c),
			BuyerVATNumberValid: c.business(), BuyerVATNumber: c.VATNumber, Supply: vat.Goods, Category: vat.Standard,
			Date: commerce.DateOf(placed), OSSRegistered: true, ThresholdExceeded: true})
		if err != nil {
			return nil, fmt.Errorf("VAT of an order to %s: %w", c.Country, err)
		}
		o := &order{Number: 1001 + i, Customer: c, Provider: prov, Currency: c.Currency, Decision: d,
			Included: !c.business(), PlacedAt: placed}
		o.Name = "#" + strconv.Itoa(o.Number)
		for _, pi := range rng.Perm(len(catalogue))[:1+rng.IntN(3)] {
			p := &catalogue[pi]
			v := p.Variants[rng.IntN(len(p.Variants))]
			l := line{SKU: v.SKU, Title: p.Title, VariantTitle: v.Value, Qty: 1 + rng.IntN(2), Unit: unitPrice(p, c)}
			gross := l.Unit.Mul(decimal.NewFromInt(int64(l.Qty)))
			if len(o.Lines) == 0 && rng.IntN(6) == 0 {
				l.Discount = gross.Div(decimal.NewFromInt(10)).Round(2) // VINTER10
			}
			gross = gross.Sub(l.Discount)
			if o.Included {
				l.Gross, l.Tax = gross, vatIn(gross, d.RatePercent)
			} else {
				l.Gross = gross // no VAT: reverse charge
			}
			o.Lines = append(o.Lines, l)
			o.Total = o.Total.Add(l.Gross)
		}
		o.Shipping = shipping(c)
		if o.Included {
			o.ShipTax = vatIn(o.Shipping, d.RatePercent)
		}
		o.Total = o.Total.Add(o.Shipping)
		out = append(out, o)
	}
	return out, nil
}

func buyerType(c *customer) commerce.CustomerType {
	if c.business() {
		return commerce.Business
	}
	return commerce.Consumer
}

// rateFraction writes a percentage as Shopify's fraction: 25.5 → "0.255".
func rateFraction(pct decimal.Decimal) string {
	return pct.Div(hundred).String()
}

// minor is an amount in minor units of a two-decimal currency.
func minor(d decimal.Decimal) int64 { return d.Shift(2).IntPart() }
