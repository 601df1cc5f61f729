package commerce_test

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/shopspring/decimal"

	"github.com/knyt/knyt/commerce"
)

func ExampleParseMoney() {
	price, err := commerce.ParseMoney("199.00", "SEK")
	if err != nil {
		panic(err)
	}
	fmt.Println(price)

	_, err = commerce.ParseMoney("19.999", "SEK")
	fmt.Println(errors.Is(err, commerce.ErrInexact), err)
	// Output:
	// 199.00 SEK
	// true commerce: amount "19.999": more than 2 decimals for SEK
}

func ExampleMoney_Allocate() {
	// A 100 kr discount spread over three equal lines: the parts sum to
	// exactly 100.00, the extra öre going to the first line.
	discount := commerce.FromMinor(10000, commerce.SEK)
	one := decimal.NewFromInt(1)
	parts, err := discount.Allocate([]decimal.Decimal{one, one, one})
	if err != nil {
		panic(err)
	}
	fmt.Println(parts)
	// Output: [33.34 SEK 33.33 SEK 33.33 SEK]
}

func ExampleMoney_Round() {
	vat := commerce.NewMoney(decimal.RequireFromString("0.125"), commerce.SEK)
	fmt.Println(vat.Round(), vat.Neg().Round())
	// Output: 0.13 SEK -0.13 SEK
}

func ExampleMoney_Add() {
	sek := commerce.FromMinor(100, commerce.SEK)
	eur := commerce.FromMinor(100, commerce.EUR)
	_, err := sek.Add(eur)
	fmt.Println(err)
	// Output: commerce: add: currency mismatch SEK vs EUR
}

func ExampleMoney_MarshalJSON() {
	b, _ := json.Marshal(commerce.FromMinor(1250, commerce.SEK))
	fmt.Println(string(b))
	// Output: {"amount":"12.50","currency":"SEK"}
}

func ExampleOrder_Validate() {
	o := commerce.Order{
		Number:   "#1001",
		Currency: commerce.SEK,
		Lines: []commerce.Line{
			{SKU: "", Quantity: -1, UnitPrice: commerce.FromMinor(29900, commerce.SEK)},
		},
	}
	for _, fe := range commerce.FieldErrors(o.Validate()) {
		fmt.Println(fe)
	}
	// Output:
	// commerce: lines[0].sku: missing
	// commerce: lines[0].quantity "-1": negative quantity
}

func ExampleOrder_CheckTotals() {
	o := commerce.Order{
		Number:   "#1002",
		Currency: commerce.SEK,
		Lines:    []commerce.Line{{SKU: "MOSSA", Quantity: 3, UnitPrice: commerce.FromMinor(9999, commerce.SEK)}},
		Totals:   commerce.Totals{Total: commerce.FromMinor(30000, commerce.SEK)},
		// Prices include VAT, so the total is the sum of the lines.
		PricesIncludeTax: true,
	}
	fmt.Println(o.CheckTotals())
	// Output: commerce: order #1002: total reported 300.00 SEK, computed 299.97 SEK (difference 0.03 SEK)
}

func ExamplePayout_Difference() {
	sek := func(minor int64) commerce.Money { return commerce.FromMinor(minor, commerce.SEK) }
	p := commerce.Payout{ID: "P1", Provider: "klarna", Amount: sek(96875), Transactions: []commerce.Transaction{
		{ID: "T1", Kind: commerce.TxSale, Amount: sek(100000), Fee: sek(2500), FeeVAT: sek(625), Net: sek(96875)},
	}}
	diff, _ := p.Difference()
	fmt.Println(diff.IsZero())
	// Output: true
}
