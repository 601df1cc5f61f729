package vat

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"

	"github.com/knyt/knyt/commerce"
)

func sek(s string) commerce.Money { return commerce.NewMoney(dec(s), commerce.SEK) }

// TestFromGross uses bookkeeping-sie.md §9.1.
func TestFromGross(t *testing.T) {
	tests := []struct{ gross, rate, vat, net string }{
		{"100.00", "25.5", "20.32", "79.68"},
		{"99.99", "25", "20.00", "79.99"},
		{"19.90", "21", "3.45", "16.45"},
		{"10.00", "13.5", "1.19", "8.81"},
		{"12.50", "24", "2.42", "10.08"},
		{"1.00", "19", "0.16", "0.84"},
		{"-100.00", "25.5", "-20.32", "-79.68"}, // a credit mirrors its sale
		{"1250.00", "25", "250.00", "1000.00"},
		{"0.00", "25", "0.00", "0.00"},
		{"49.00", "0", "0.00", "49.00"},
	}
	for _, tt := range tests {
		got, err := FromGross(sek(tt.gross), dec(tt.rate))
		if err != nil {
			t.Fatal(err)
		}
		want := Amounts{Net: sek(tt.net), VAT: sek(tt.vat), Gross: sek(tt.gross)}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("FromGross(%s @ %s) (-want +got):\n%s", tt.gross, tt.rate, diff)
		}
	}
}

func TestFromNet(t *testing.T) {
	tests := []struct{ net, rate, vat, gross, netOut string }{
		{"0.10", "25", "0.03", "0.13", "0.10"}, // tie: 0.025 → 0.03 (half-up), not 0.02
		{"4467.75", "25", "1116.94", "5584.69", "4467.75"},
		{"1000.00", "19", "190.00", "1190.00", "1000.00"},
		{"-0.10", "25", "-0.03", "-0.13", "-0.10"},
		{"79.992", "25", "20.00", "99.99", "79.99"}, // sub-öre unit price: the three still reconcile
		{"18.00", "25", "4.50", "22.50", "18.00"},   // Stripe fee reverse charge (bookkeeping-sie.md §4)
	}
	for _, tt := range tests {
		got, err := FromNet(sek(tt.net), dec(tt.rate))
		if err != nil {
			t.Fatal(err)
		}
		want := Amounts{Net: sek(tt.netOut), VAT: sek(tt.vat), Gross: sek(tt.gross)}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("FromNet(%s @ %s) (-want +got):\n%s", tt.net, tt.rate, diff)
		}
		if v, _ := VATOnNet(sek(tt.net), dec(tt.rate)); !v.Equal(sek(tt.vat)) {
			t.Errorf("VATOnNet(%s) = %s", tt.net, v)
		}
	}
	jpy, err := FromNet(commerce.NewMoney(dec("1001"), commerce.JPY), dec("10"))
	if err != nil || !jpy.VAT.Equal(commerce.NewMoney(dec("100"), commerce.JPY)) || !jpy.Gross.Equal(commerce.NewMoney(dec("1101"), commerce.JPY)) {
		t.Errorf("JPY: %+v %v", jpy, err)
	}
}

func TestAmountErrors(t *testing.T) {
	if _, err := FromNet(sek("1"), dec("-1")); !errors.Is(err, ErrInvalid) {
		t.Errorf("negative rate: %v", err)
	}
	if _, err := FromGross(commerce.Money{Amount: dec("1")}, dec("25")); !errors.Is(err, ErrInvalid) || !errors.Is(err, commerce.ErrUnknownCurrency) {
		t.Errorf("no currency: %v", err)
	}
	if _, err := FromGross(sek("1.005"), dec("25")); !errors.Is(err, ErrInvalid) || !errors.Is(err, commerce.ErrInexact) {
		t.Errorf("inexact gross: %v", err)
	}
	if _, err := VATOnNet(sek("1"), dec("-25")); !errors.Is(err, ErrInvalid) {
		t.Errorf("negative rate: %v", err)
	}
}

func lines(rate string, amounts ...string) []Line {
	var out []Line
	for _, a := range amounts {
		out = append(out, Line{Amount: sek(a), RatePercent: dec(rate)})
	}
	return out
}

func TestSummarize(t *testing.T) {
	tests := []struct {
		name     string
		doc      Document
		groups   []commerce.VATAmount
		lineVATs []string
	}{
		{"3 × 0.99 per group", Document{Lines: lines("25", "0.99", "0.99", "0.99"), Rounding: PerRateGroup},
			[]commerce.VATAmount{{RatePercent: dec("25"), Taxable: sek("2.97"), VAT: sek("0.74")}}, []string{"0.24", "0.25", "0.25"}},
		{"3 × 0.99 per line", Document{Lines: lines("25", "0.99", "0.99", "0.99"), Rounding: PerLine},
			[]commerce.VATAmount{{RatePercent: dec("25"), Taxable: sek("2.97"), VAT: sek("0.75")}}, []string{"0.25", "0.25", "0.25"}},
		{"3 × 99.99 per group", Document{Lines: lines("25", "99.99", "99.99", "99.99"), Rounding: PerRateGroup},
			[]commerce.VATAmount{{RatePercent: dec("25"), Taxable: sek("299.97"), VAT: sek("74.99")}}, []string{"24.99", "25.00", "25.00"}},
		{"3 × 99.99 per line", Document{Lines: lines("25", "99.99", "99.99", "99.99"), Rounding: PerLine},
			[]commerce.VATAmount{{RatePercent: dec("25"), Taxable: sek("299.97"), VAT: sek("75.00")}}, []string{"25.00", "25.00", "25.00"}},
		{"two rates, gross, discount line", Document{
			Lines:            append(lines("12", "59.90", "24.95", "-10.00"), lines("25", "199.00")...),
			PricesIncludeVAT: true, Rounding: PerRateGroup},
			[]commerce.VATAmount{
				{RatePercent: dec("12"), Taxable: sek("66.83"), VAT: sek("8.02")},
				{RatePercent: dec("25"), Taxable: sek("159.20"), VAT: sek("39.80")},
			}, []string{"6.42", "2.67", "-1.07", "39.80"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Summarize(tt.doc)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.groups, got.Groups); diff != "" {
				t.Errorf("groups (-want +got):\n%s", diff)
			}
			var lineVATs []string
			net, vat, gross := decimal.Zero, decimal.Zero, decimal.Zero
			for _, l := range got.Lines {
				lineVATs = append(lineVATs, l.VAT.Amount.StringFixed(2))
				if !l.Net.Amount.Add(l.VAT.Amount).Equal(l.Gross.Amount) {
					t.Errorf("line %+v does not reconcile", l)
				}
				net, vat, gross = net.Add(l.Net.Amount), vat.Add(l.VAT.Amount), gross.Add(l.Gross.Amount)
			}
			if diff := cmp.Diff(tt.lineVATs, lineVATs); diff != "" {
				t.Errorf("line VAT (-want +got):\n%s", diff)
			}
			if !net.Equal(got.Net.Amount) || !vat.Equal(got.VAT.Amount) || !gross.Equal(got.Gross.Amount) ||
				!got.Net.Amount.Add(got.VAT.Amount).Equal(got.Gross.Amount) {
				t.Errorf("totals %s + %s = %s do not match the lines %s + %s = %s", got.Net, got.VAT, got.Gross, net, vat, gross)
			}
			inv := commerce.Invoice{Currency: commerce.SEK}
			for _, l := range got.Lines {
				inv.Lines = append(inv.Lines, commerce.InvoiceLine{Net: l.Net, VAT: l.VAT, VATRatePercent: tt.doc.Lines[len(inv.Lines)].RatePercent})
			}
			regrouped, err := inv.GroupVAT()
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(got.Groups, regrouped); diff != "" {
				t.Errorf("commerce.Invoice.GroupVAT over the lines disagrees (-summarize +groupvat):\n%s", diff)
			}
		})
	}
}

func TestSummarizeErrors(t *testing.T) {
	mixed := []Line{{Amount: sek("1.00"), RatePercent: dec("25")}, {Amount: commerce.NewMoney(dec("1.00"), commerce.EUR), RatePercent: dec("25")}}
	for _, tt := range []struct {
		name string
		doc  Document
		is   error
	}{
		{"no rounding chosen", Document{Lines: lines("25", "1.00")}, ErrInvalid},
		{"no lines", Document{Rounding: PerLine}, ErrInvalid},
		{"mixed currencies", Document{Lines: mixed, Rounding: PerLine}, commerce.ErrCurrencyMismatch},
		{"inexact line", Document{Lines: lines("25", "1.005"), Rounding: PerLine}, commerce.ErrInexact},
		{"negative rate", Document{Lines: lines("-25", "1.00"), Rounding: PerRateGroup}, ErrInvalid},
	} {
		if _, err := Summarize(tt.doc); !errors.Is(err, tt.is) {
			t.Errorf("%s: err %v, want %v", tt.name, err, tt.is)
		}
	}
}
