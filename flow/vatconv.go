package flow

import (
	"errors"
	"fmt"
	"slices"

	"github.com/shopspring/decimal"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/vat"
)

// ERPPricing says how an ERP takes order prices.
type ERPPricing struct {
	// IncludeVAT is true for an ERP that takes prices including VAT.
	IncludeVAT bool
	// PriceDecimals is the precision of a unit price excluding VAT in the
	// ERP (0: the currency's minor unit).
	PriceDecimals int
	// Rounding is how the ERP computes VAT on the rows it is given.
	Rounding vat.Rounding
	// RoundingSKU is the article of a rounding row; empty refuses orders
	// whose ERP total would differ from the shop's.
	RoundingSKU string
	// DefaultRate (percent) prices lines that carry no tax lines in an order
	// that has tax; nil makes such an order an error.
	DefaultRate *decimal.Decimal
}

// RoundingTitle is the text of the rounding row ToERPOrder adds.
const RoundingTitle = "Öresutjämning"

// ErrTotalMismatch is returned (wrapped) by ToERPOrder when the ERP's total
// would differ from the shop's and no rounding row is configured.
var ErrTotalMismatch = errors.New("flow: ERP total would differ from the shop's")

// ToERPOrder returns o priced the way the ERP takes prices, so that the
// order's total in the ERP equals the shop's to the minor unit.
//
// A shop order whose prices include VAT is converted for an ERP that takes
// prices excluding VAT (Swedish shops and Specter). Rounding lands, in
// order, here:
//
//  1. Per line, on the line's total after discounts: vat.FromGross splits it
//     into net and VAT at the line's rate (the sum of its tax lines' rates,
//     else the default rate), VAT rounded half away from zero and net =
//     gross − VAT, so each line's net + VAT is exactly what the buyer paid
//     for it. The net discount is the difference between the net of the
//     line before and after discounts, allocated over the line's discounts
//     by their amounts (largest remainder), so it is exact as well.
//  2. Per unit: the net unit price is the line's net before discounts
//     divided by the quantity, rounded to PriceDecimals (the ERP's
//     precision); quantity × unit price rounded to the minor unit is the
//     ERP's row amount, which may differ from the exact net by a few
//     hundredths of a minor unit per unit, rounded.
//  3. In the ERP's VAT, computed per Rounding on the rows (per rate group
//     by default, as invoices require): it may differ from the sum of the
//     per-line VAT by a minor unit or two.
//  4. Whatever difference 2 and 3 leave between the ERP's total and the
//     shop's goes to one rounding row (RoundingSKU, 0 % VAT, quantity 1),
//     the Swedish öresutjämning, so the totals are equal to the öre. Without
//     a RoundingSKU such an order is refused with ErrTotalMismatch.
//
// The returned order's tax lines are the ERP's VAT per row (vat.Summarize),
// and its Totals are recomputed; Totals.Total equals the shop's total. An
// order already priced as the ERP takes it is returned unchanged; one
// excluding VAT for an ERP that takes prices including VAT is an error
// (not supported: no Swedish ERP needs it).
func ToERPOrder(o commerce.Order, p ERPPricing) (commerce.Order, error) {
	if o.PricesIncludeTax == p.IncludeVAT {
		return o, nil
	}
	if p.IncludeVAT {
		return commerce.Order{}, fmt.Errorf("flow: order %s: prices exclude VAT but the ERP takes them including VAT; this conversion is not supported", o.Number)
	}
	if p.Rounding == 0 {
		p.Rounding = vat.PerRateGroup
	}
	cur := o.Currency
	pd := p.PriceDecimals
	if pd == 0 {
		pd = int(cur.Digits())
	}
	shopTotal := o.Totals.Total
	if shopTotal.Currency.IsZero() {
		t, err := o.ComputeTotals()
		if err != nil {
			return commerce.Order{}, err
		}
		shopTotal = t.Total
	}
	hasTax := !o.Totals.Tax.IsZero()
	for _, l := range o.Lines {
		hasTax = hasTax || len(l.TaxLines) > 0
	}
	rateOf := func(field string, tls []commerce.TaxLine) (decimal.Decimal, error) {
		if len(tls) > 0 {
			r := decimal.Zero
			for _, t := range tls {
				r = r.Add(t.RatePercent)
			}
			return r, nil
		}
		if !hasTax {
			return decimal.Zero, nil
		}
		if p.DefaultRate != nil {
			return *p.DefaultRate, nil
		}
		return decimal.Zero, fmt.Errorf("flow: order %s: %s has no tax lines and no default VAT rate is configured", o.Number, field)
	}

	out := o
	out.PricesIncludeTax = false
	out.Lines = slices.Clone(o.Lines)
	out.ShippingLines = slices.Clone(o.ShippingLines)
	var rows []vat.Line
	var rowOf []func(commerce.Money) // sets a row's VAT on its line
	var unitSlack decimal.Decimal    // the most unit rounding can move the rows

	for i, l := range o.Lines {
		field := fmt.Sprintf("lines[%d]", i)
		rate, err := rateOf(field, l.TaxLines)
		if err != nil {
			return commerce.Order{}, err
		}
		q := int64(l.Quantity)
		gb := l.UnitPrice.MulInt(q).Round()
		disc, err := commerce.Sum(cur, discountAmounts(l.Discounts)...)
		if err != nil {
			return commerce.Order{}, fmt.Errorf("flow: order %s: %s: %w", o.Number, field, err)
		}
		g, err := gb.Sub(disc)
		if err != nil {
			return commerce.Order{}, err
		}
		before, err := vat.FromGross(gb, rate)
		if err != nil {
			return commerce.Order{}, fmt.Errorf("flow: order %s: %s: %w", o.Number, field, err)
		}
		after, err := vat.FromGross(g, rate)
		if err != nil {
			return commerce.Order{}, fmt.Errorf("flow: order %s: %s: %w", o.Number, field, err)
		}
		nl := l
		if q == 0 {
			unit, err := vat.FromGross(l.UnitPrice.Round(), rate)
			if err != nil {
				return commerce.Order{}, fmt.Errorf("flow: order %s: %s: %w", o.Number, field, err)
			}
			nl.UnitPrice = unit.Net
			nl.Discounts, nl.TaxLines = nil, nil
			out.Lines[i] = nl
			continue
		}
		nl.UnitPrice = commerce.NewMoney(before.Net.Amount.DivRound(decimal.NewFromInt(q), int32(pd)), cur)
		rowGross := nl.UnitPrice.MulInt(q).Round()
		netDisc, err := before.Net.Sub(after.Net)
		if err != nil {
			return commerce.Order{}, err
		}
		if nl.Discounts, err = allocateDiscounts(netDisc, l.Discounts); err != nil {
			return commerce.Order{}, fmt.Errorf("flow: order %s: %s: %w", o.Number, field, err)
		}
		row, err := rowGross.Sub(netDisc)
		if err != nil {
			return commerce.Order{}, err
		}
		unitSlack = unitSlack.Add(decimal.New(1, -int32(pd)).Mul(decimal.NewFromInt(q)))
		rows = append(rows, vat.Line{Amount: row, RatePercent: rate})
		idx := i
		title := taxTitle(l.TaxLines)
		rowOf = append(rowOf, func(v commerce.Money) {
			out.Lines[idx].TaxLines = []commerce.TaxLine{{Title: title, RatePercent: rate, Amount: v}}
		})
		out.Lines[i] = nl
	}
	for i, s := range o.ShippingLines {
		field := fmt.Sprintf("shipping_lines[%d]", i)
		rate, err := rateOf(field, s.TaxLines)
		if err != nil {
			return commerce.Order{}, err
		}
		price := s.Price.Round()
		disc, err := commerce.Sum(cur, discountAmounts(s.Discounts)...)
		if err != nil {
			return commerce.Order{}, fmt.Errorf("flow: order %s: %s: %w", o.Number, field, err)
		}
		g, err := price.Sub(disc)
		if err != nil {
			return commerce.Order{}, err
		}
		before, err := vat.FromGross(price, rate)
		if err != nil {
			return commerce.Order{}, fmt.Errorf("flow: order %s: %s: %w", o.Number, field, err)
		}
		after, err := vat.FromGross(g, rate)
		if err != nil {
			return commerce.Order{}, fmt.Errorf("flow: order %s: %s: %w", o.Number, field, err)
		}
		ns := s
		ns.Price = before.Net
		netDisc, err := before.Net.Sub(after.Net)
		if err != nil {
			return commerce.Order{}, err
		}
		if ns.Discounts, err = allocateDiscounts(netDisc, s.Discounts); err != nil {
			return commerce.Order{}, fmt.Errorf("flow: order %s: %s: %w", o.Number, field, err)
		}
		rows = append(rows, vat.Line{Amount: after.Net, RatePercent: rate})
		idx := i
		title := taxTitle(s.TaxLines)
		rowOf = append(rowOf, func(v commerce.Money) {
			out.ShippingLines[idx].TaxLines = []commerce.TaxLine{{Title: title, RatePercent: rate, Amount: v}}
		})
		out.ShippingLines[i] = ns
	}
	erpGross := commerce.Zero(cur)
	if len(rows) > 0 {
		b, err := vat.Summarize(vat.Document{Lines: rows, Rounding: p.Rounding})
		if err != nil {
			return commerce.Order{}, fmt.Errorf("flow: order %s: %w", o.Number, err)
		}
		for i, set := range rowOf {
			set(b.Lines[i].VAT)
		}
		erpGross = b.Gross
	}
	diff, err := shopTotal.Sub(erpGross)
	if err != nil {
		return commerce.Order{}, fmt.Errorf("flow: order %s: %w", o.Number, err)
	}
	if !diff.IsZero() {
		// The difference can only come from the rounding described
		// above; anything larger means the shop's totals do not add up.
		bound := decimal.New(int64(len(rows)+1), -int32(cur.Digits())).Add(unitSlack)
		if diff.Amount.Abs().GreaterThan(bound) {
			return commerce.Order{}, fmt.Errorf("flow: order %s: the shop's total %s is %s away from its lines; refusing to book it: %w", o.Number, shopTotal, diff, commerce.ErrInvalid)
		}
		if p.RoundingSKU == "" {
			return commerce.Order{}, fmt.Errorf("%w: order %s: the ERP would book %s against the shop's %s; configure erp.rounding_sku to book the %s difference", ErrTotalMismatch, o.Number, erpGross, shopTotal, diff)
		}
		out.Lines = append(out.Lines, commerce.Line{SKU: p.RoundingSKU, Title: RoundingTitle, Quantity: 1, UnitPrice: diff,
			TaxLines: []commerce.TaxLine{{RatePercent: decimal.Zero, Amount: commerce.Zero(cur)}}})
	}
	totals, err := out.ComputeTotals()
	if err != nil {
		return commerce.Order{}, err
	}
	if !totals.Total.Equal(shopTotal) {
		return commerce.Order{}, fmt.Errorf("flow: order %s: converted total %s differs from the shop's %s (internal error)", o.Number, totals.Total, shopTotal)
	}
	out.Totals = totals
	return out, nil
}

func discountAmounts(ds []commerce.DiscountAllocation) []commerce.Money {
	out := make([]commerce.Money, len(ds))
	for i, d := range ds {
		out[i] = d.Amount
	}
	return out
}

// allocateDiscounts spreads a net discount over the gross discount
// allocations it replaces, in proportion, keeping codes and titles.
func allocateDiscounts(net commerce.Money, ds []commerce.DiscountAllocation) ([]commerce.DiscountAllocation, error) {
	if len(ds) == 0 {
		if !net.IsZero() {
			return nil, fmt.Errorf("a net discount of %s without discounts", net)
		}
		return nil, nil
	}
	out := slices.Clone(ds)
	if net.IsZero() {
		for i := range out {
			out[i].Amount = commerce.Zero(net.Currency)
		}
		return out, nil
	}
	weights := make([]decimal.Decimal, len(ds))
	for i, d := range ds {
		weights[i] = d.Amount.Amount
	}
	parts, err := net.Allocate(weights)
	if err != nil {
		return nil, err
	}
	for i := range out {
		out[i].Amount = parts[i]
	}
	return out, nil
}

func taxTitle(tls []commerce.TaxLine) string {
	if len(tls) == 1 {
		return tls[0].Title
	}
	return ""
}

// convertPrice moves a price between the VAT bases of two systems with the
// item's rate: gross → net with vat.FromGross (VAT rounded half away from
// zero, net = gross − VAT), net → gross with vat.FromNet (gross rounded to
// the minor unit). A price already on the target's basis is unchanged.
func convertPrice(m commerce.Money, rate decimal.Decimal, fromIncl, toIncl bool) (commerce.Money, error) {
	switch {
	case fromIncl == toIncl:
		return m, nil
	case fromIncl:
		a, err := vat.FromGross(m.Round(), rate)
		return a.Net, err
	default:
		a, err := vat.FromNet(m, rate)
		return a.Gross, err
	}
}
