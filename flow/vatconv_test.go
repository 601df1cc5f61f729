package flow

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/vat"
)

func ratedLine(sku string, qty int, unit string, rate int64, discount string) commerce.Line {
	l := grossLine("", sku, qty, unit, discount)
	r := decimal.NewFromInt(rate)
	total, _ := l.LineTotal()
	l.TaxLines = []commerce.TaxLine{{RatePercent: r, Amount: commerce.NewMoney(total.Amount.Mul(r).DivRound(r.Add(decimal.NewFromInt(100)), 2), total.Currency)}}
	return l
}

func orderOf(lines ...commerce.Line) commerce.Order {
	o := commerce.Order{Number: "T1", Currency: commerce.SEK, PricesIncludeTax: true, Lines: lines}
	t, err := o.ComputeTotals()
	if err != nil {
		panic(err)
	}
	o.Totals = t
	return o
}

type row struct {
	SKU       string
	Qty       int
	Unit      string
	Discounts string
	VAT       string
}

func rowsOf(o commerce.Order) []row {
	var out []row
	for _, l := range o.Lines {
		r := row{SKU: l.SKU, Qty: l.Quantity, Unit: l.UnitPrice.Amount.String()}
		d, _ := commerce.Sum(o.Currency, discountAmounts(l.Discounts)...)
		r.Discounts = d.Amount.StringFixed(2)
		for _, t := range l.TaxLines {
			r.VAT = t.Amount.Amount.StringFixed(2)
		}
		out = append(out, r)
	}
	return out
}

func TestToERPOrder(t *testing.T) {
	group := ERPPricing{PriceDecimals: 2, Rounding: vat.PerRateGroup, RoundingSKU: "ORESAVR"}
	tests := []struct {
		name  string
		order commerce.Order
		p     ERPPricing
		want  []row
	}{
		{
			name:  "one line, exact",
			order: orderOf(ratedLine("A", 1, "100.00", 25, "")),
			p:     group,
			want:  []row{{"A", 1, "80", "0.00", "20.00"}},
		},
		{
			// 1.02 gross at 25 % has no 2-decimal net whose VAT adds up to
			// it: 0.82 + 0.21 = 1.03, so the rounding row takes −0.01.
			name:  "unreachable gross",
			order: orderOf(ratedLine("A", 1, "1.02", 25, "")),
			p:     group,
			want:  []row{{"A", 1, "0.82", "0.00", "0.21"}, {"ORESAVR", 1, "-0.01", "0.00", "0.00"}},
		},
		{
			// Three units of 33.33: net 79.99 for the line, 26.66333… a
			// unit; with 3 decimals the ERP's row is 79.99 exactly.
			name:  "unit rounding absorbed by precision",
			order: orderOf(ratedLine("A", 3, "33.33", 25, "")),
			p:     ERPPricing{PriceDecimals: 3, Rounding: vat.PerRateGroup, RoundingSKU: "ORESAVR"},
			want:  []row{{"A", 3, "26.663", "0.00", "20.00"}},
		},
		{
			name:  "discount in net, two rates",
			order: orderOf(ratedLine("A", 2, "125.00", 25, "25.00"), ratedLine("B", 1, "106.00", 6, "")),
			p:     group,
			want:  []row{{"A", 2, "100", "20.00", "45.00"}, {"B", 1, "100", "0.00", "6.00"}},
		},
		{
			name:  "per line rounding",
			order: orderOf(ratedLine("A", 1, "0.99", 25, ""), ratedLine("B", 1, "0.99", 25, ""), ratedLine("C", 1, "0.99", 25, "")),
			p:     ERPPricing{Rounding: vat.PerLine, RoundingSKU: "ORESAVR"},
			want:  []row{{"A", 1, "0.79", "0.00", "0.20"}, {"B", 1, "0.79", "0.00", "0.20"}, {"C", 1, "0.79", "0.00", "0.20"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ToERPOrder(tt.order, tt.p)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, rowsOf(got)); diff != "" {
				t.Errorf("rows (-want +got):\n%s", diff)
			}
			if !got.Totals.Total.Equal(tt.order.Totals.Total) {
				t.Errorf("total %s, shop's %s", got.Totals.Total, tt.order.Totals.Total)
			}
			if err := got.CheckTotals(); err != nil {
				t.Errorf("converted order's totals: %v", err)
			}
			if got.PricesIncludeTax {
				t.Error("still includes VAT")
			}
		})
	}
}

func TestToERPOrderRefusals(t *testing.T) {
	o := orderOf(ratedLine("A", 1, "1.02", 25, ""))
	if _, err := ToERPOrder(o, ERPPricing{}); !errors.Is(err, ErrTotalMismatch) {
		t.Errorf("without a rounding SKU: %v, want ErrTotalMismatch", err)
	}
	net := o
	net.PricesIncludeTax = false
	if got, err := ToERPOrder(net, ERPPricing{}); err != nil || got.Number != net.Number {
		t.Errorf("an order already excluding VAT: %v", err)
	}
	if _, err := ToERPOrder(net, ERPPricing{IncludeVAT: true}); err == nil {
		t.Error("excl → incl conversion succeeded")
	}
	bad := orderOf(ratedLine("A", 1, "100.00", 25, ""))
	bad.Totals.Total = sek("150.00")
	if _, err := ToERPOrder(bad, ERPPricing{RoundingSKU: "R"}); !errors.Is(err, commerce.ErrInvalid) {
		t.Errorf("an order whose total does not add up: %v", err)
	}
	untaxed := orderOf(ratedLine("A", 1, "100.00", 25, ""), commerce.Line{SKU: "B", Quantity: 1, UnitPrice: sek("10.00")})
	if _, err := ToERPOrder(untaxed, ERPPricing{RoundingSKU: "R"}); err == nil {
		t.Error("a line without tax lines in a taxed order converted without a default rate")
	}
	rate := decimal.NewFromInt(25)
	if _, err := ToERPOrder(untaxed, ERPPricing{RoundingSKU: "R", DefaultRate: &rate}); err != nil {
		t.Errorf("with a default rate: %v", err)
	}
}

// TestToERPOrderProperty converts many random baskets: the ERP total is
// always the shop's to the öre, the rounding row stays within its bound,
// and the converted order's own totals add up.
func TestToERPOrderProperty(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	rates := []int64{25, 12, 6, 0}
	for i := range 2000 {
		var lines []commerce.Line
		for j := range 1 + rng.IntN(6) {
			qty := 1 + rng.IntN(25)
			unit := decimal.New(int64(1+rng.IntN(200000)), -2)
			disc := ""
			if rng.IntN(3) == 0 {
				disc = decimal.New(int64(rng.IntN(int(unit.Shift(2).IntPart())*qty)), -2).StringFixed(2)
			}
			lines = append(lines, ratedLine(fmt.Sprintf("S%d", j), qty, unit.StringFixed(2), rates[rng.IntN(len(rates))], disc))
		}
		o := orderOf(lines...)
		o.ShippingLines = []commerce.ShippingLine{{Title: "Frakt", Price: sek("59.00"), TaxLines: []commerce.TaxLine{{RatePercent: twentyFive, Amount: sek("11.80")}}}}
		t0, _ := o.ComputeTotals()
		o.Totals = t0
		p := ERPPricing{PriceDecimals: 2 + rng.IntN(3), Rounding: vat.Rounding(1 + rng.IntN(2)), RoundingSKU: "R"}
		got, err := ToERPOrder(o, p)
		if err != nil {
			t.Fatalf("basket %d: %v", i, err)
		}
		if !got.Totals.Total.Equal(o.Totals.Total) {
			t.Fatalf("basket %d: total %s, shop's %s", i, got.Totals.Total, o.Totals.Total)
		}
		if err := got.CheckTotals(); err != nil {
			t.Fatalf("basket %d: %v", i, err)
		}
		if err := got.Validate(); err != nil {
			t.Fatalf("basket %d: %v", i, err)
		}
	}
}

func TestConvertPriceRoundTrip(t *testing.T) {
	for _, tt := range []struct{ net, gross string }{{"79.68", "99.60"}, {"0.82", "1.03"}, {"100.00", "125.00"}} {
		g, err := convertPrice(sek(tt.net), twentyFive, false, true)
		if err != nil || !g.Equal(sek(tt.gross)) {
			t.Errorf("net %s → gross %s, %v; want %s", tt.net, g, err, tt.gross)
		}
		n, err := convertPrice(g, twentyFive, true, false)
		if err != nil || !n.Equal(sek(tt.net)) {
			t.Errorf("gross %s → net %s, %v; want %s", g, n, err, tt.net)
		}
	}
}
