package main

import (
	"fmt"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/knyt/knyt/klarna"
	"github.com/knyt/knyt/klarna/klarnatest"
	"github.com/knyt/knyt/paypal/paypaltest"
	"github.com/knyt/knyt/shopify/shopifytest"
	"github.com/knyt/knyt/specter/spectertest"
	"github.com/knyt/knyt/stripe/stripetest"
)

// initialShopStock is what the shop shows in stock before the ERP takes
// over stock (combined and ERP-led flows overwrite it).
const initialShopStock = 25

// seedShopCatalogue puts the catalogue into the Shopify fake, as the
// merchant built it in Shopify's admin.
func (w *world) seedShopCatalogue() error {
	for _, p := range catalogue {
		sp := shopifytest.Product{Title: p.Title, Vendor: sellerName, ProductType: p.Type, Tags: p.Tags,
			DescriptionHTML: "<p>" + p.Title + " – handstickat i Jämtland av svensk ull.</p>"}
		if p.Option != "" {
			opt := shopifytest.ProductOption{Name: p.Option}
			for _, v := range p.Variants {
				opt.Values = append(opt.Values, v.Value)
			}
			sp.Options = []shopifytest.ProductOption{opt}
		}
		for _, v := range p.Variants {
			sv := shopifytest.Variant{SKU: v.SKU, Price: p.Gross, CompareAtPrice: p.CompareAt, Barcode: barcode(v.SKU)}
			if p.Option != "" {
				sv.Options = []shopifytest.SelectedOption{{Name: p.Option, Value: v.Value}}
			}
			sp.Variants = append(sp.Variants, sv)
		}
		if _, err := w.shop.AddProduct(sp); err != nil {
			return fmt.Errorf("seed product %s in Shopify: %w", p.Title, err)
		}
		for _, v := range p.Variants {
			if err := w.shop.SetInventory(v.SKU, w.location.ID, initialShopStock); err != nil {
				return fmt.Errorf("seed stock of %s in Shopify: %w", v.SKU, err)
			}
		}
	}
	return nil
}

// seedERPCatalogue puts the catalogue into the Specter fake as articles,
// one per variant, priced excluding VAT, for the ERP-led flow.
func (w *world) seedERPCatalogue() error {
	acc := w.erp.Default()
	for _, p := range catalogue {
		net := decimal.RequireFromString(p.Gross).Div(decimal.RequireFromString("1.25")).Round(3)
		for _, v := range p.Variants {
			name := p.Title
			if v.Value != "" {
				name += " " + v.Value
			}
			if err := acc.AddArticle(spectertest.Article{No: v.SKU, Name: name, PriceExclVAT: net, VATPercent: 25,
				BarCode: barcode(v.SKU), WeightKg: decimal.New(int64(p.Grams), -3), Stock: map[string]int{stockSite: 40}}); err != nil {
				return fmt.Errorf("seed article %s in Specter: %w", v.SKU, err)
			}
		}
	}
	return nil
}

// barcode is a made-up but well-formed EAN-13 per SKU: the Swedish
// prefix 73, nine digits from the SKU, and the check digit.
func barcode(sku string) string {
	var h uint64
	for _, r := range sku {
		h = (h*31 + uint64(r)) % 1_000_000_000
	}
	digits := fmt.Sprintf("735%09d", h)
	sum := 0
	for i, r := range digits {
		d := int(r - '0')
		if i%2 == 1 {
			d *= 3
		}
		sum += d
	}
	return digits + fmt.Sprint((10-sum%10)%10)
}

// placeOrder is a checkout: the buyer authorizes the payment at the
// provider, and the shop records the order with the authorization.
func (w *world) placeOrder(o *order) error {
	c := o.Customer
	ref, err := w.authorize(o)
	if err != nil {
		return fmt.Errorf("authorize %s at %s: %w", o.Name, o.Provider, err)
	}
	o.Reference = ref
	addr := &shopifytest.Address{FirstName: c.First, LastName: c.Last, Company: c.Company, Address1: c.Street,
		City: c.City, Zip: c.Zip, Country: c.CountryName, CountryCode: c.Country, Phone: c.Phone}
	so := shopifytest.Order{
		Number: o.Number, Email: c.Email, Phone: c.Phone, Currency: "SEK", PresentmentCurrency: o.Currency.Code(),
		TaxesIncluded: o.Included, SourceName: "web",
		Customer:       &shopifytest.Customer{FirstName: c.First, LastName: c.Last, Email: c.Email, Phone: c.Phone, Address: addr},
		BillingAddress: addr, ShippingAddress: addr,
		Transactions: []shopifytest.Transaction{{Kind: "AUTHORIZATION", Gateway: o.Provider, Amount: o.Total.StringFixed(2),
			AuthorizationCode: ref, CreatedAt: o.PlacedAt}},
		CreatedAt: o.PlacedAt, UpdatedAt: o.PlacedAt, ProcessedAt: o.PlacedAt,
	}
	if o.Currency.Code() != "SEK" {
		so.ExchangeRate = "11.20"
	}
	if c.business() {
		so.CustomAttributes = []shopifytest.Attribute{{Key: attrVATNumber, Value: c.VATNumber}}
		so.Note = "Omvänd skattskyldighet / Steuerschuldnerschaft des Leistungsempfängers"
	}
	for _, l := range o.Lines {
		li := shopifytest.LineItem{SKU: l.SKU, Title: l.Title, VariantTitle: l.VariantTitle, Vendor: sellerName,
			Quantity: l.Qty, UnitPrice: l.Unit.StringFixed(2)}
		if !l.Tax.IsZero() {
			li.TaxLines = []shopifytest.TaxLine{{Title: taxTitle(o), Rate: rateFraction(o.Decision.RatePercent), Amount: l.Tax.StringFixed(2)}}
		}
		if !l.Discount.IsZero() {
			li.DiscountAllocations = []shopifytest.Discount{{Amount: l.Discount.StringFixed(2), Code: "VINTER10"}}
		}
		so.Lines = append(so.Lines, li)
	}
	if o.Discounted() {
		so.DiscountCodes = []string{"VINTER10"}
	}
	sl := shopifytest.ShippingLine{Title: shippingTitle(c), Code: "postnord", Price: o.Shipping.StringFixed(2)}
	if !o.ShipTax.IsZero() {
		sl.TaxLines = []shopifytest.TaxLine{{Title: taxTitle(o), Rate: rateFraction(o.Decision.RatePercent), Amount: o.ShipTax.StringFixed(2)}}
	}
	so.ShippingLines = []shopifytest.ShippingLine{sl}
	got, err := w.shop.AddOrder(so)
	if err != nil {
		return fmt.Errorf("place %s in Shopify: %w", o.Name, err)
	}
	o.ShopID = got.ID
	return nil
}

// Discounted reports whether a discount code applies to the order.
func (o *order) Discounted() bool {
	for _, l := range o.Lines {
		if !l.Discount.IsZero() {
			return true
		}
	}
	return false
}

func taxTitle(o *order) string {
	switch o.Decision.Country {
	case "SE":
		return "Moms"
	case "DE":
		return "MwSt"
	case "FR":
		return "TVA"
	case "FI":
		return "ALV"
	}
	return "VAT"
}

func shippingTitle(c *customer) string {
	if c.Country == "SE" {
		return "PostNord Ombud"
	}
	return "PostNord International"
}

// authorize reserves the order's total at its provider, as the buyer's
// checkout did, and returns the reference Shopify keeps as the
// authorization code.
func (w *world) authorize(o *order) (string, error) {
	switch o.Provider {
	case "klarna":
		lines := make([]klarna.OrderLine, 0, len(o.Lines)+1)
		rate := o.Decision.RatePercent.Mul(hundred).IntPart()
		for _, l := range o.Lines {
			lines = append(lines, klarna.OrderLine{Type: klarna.LinePhysical, Reference: l.SKU, Name: l.Title + " " + l.VariantTitle,
				Quantity: int64(l.Qty), QuantityUnit: "st", UnitPrice: minor(l.Unit), TaxRate: rate,
				TotalAmount: minor(l.Gross), TotalDiscountAmount: minor(l.Discount), TotalTaxAmount: minor(l.Tax)})
		}
		lines = append(lines, klarna.OrderLine{Type: "shipping_fee", Name: shippingTitle(o.Customer), Quantity: 1,
			UnitPrice: minor(o.Shipping), TaxRate: rate, TotalAmount: minor(o.Shipping), TotalTaxAmount: minor(o.ShipTax)})
		return w.klarna.AddOrder(klarnatest.NewOrder{Currency: o.Currency.Code(), Country: o.Customer.Country,
			Amount: minor(o.Total), Lines: lines, MerchantReference1: o.Name})
	case "stripe":
		return w.stripe.AddAuthorization(stripetest.Authorization{Amount: minor(o.Total), Currency: strings.ToLower(o.Currency.Code()),
			Metadata: map[string]string{"order_number": o.Name}, Multicapture: true, Description: sellerName + " " + o.Name})
	case "paypal":
		a, err := w.paypal.AddAuthorization(paypaltest.Authorization{Currency: o.Currency.Code(), Value: o.Total.StringFixed(2),
			InvoiceID: o.Name, CustomID: o.Name})
		return a.ID, err
	}
	return "", fmt.Errorf("no provider %q", o.Provider)
}
