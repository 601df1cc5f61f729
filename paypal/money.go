package paypal

import (
	"fmt"

	"github.com/knyt/knyt/commerce"
)

// paypalDecimals is PayPal's table of decimals per currency, the one place
// that knows them. It lists the currencies PayPal's REST APIs accept for
// payments (https://developer.paypal.com/api/rest/reference/currency-codes/,
// as reproduced by a third party; unverified against PayPal's page itself).
// PayPal departs from ISO 4217 for HUF and TWD, which ISO gives 2 decimals
// but PayPal refuses decimals for ("Decimal amounts cause an error"); JPY
// has none in both.
var paypalDecimals = map[string]int32{
	"AUD": 2, "BRL": 2, "CAD": 2, "CNY": 2, "CZK": 2, "DKK": 2, "EUR": 2,
	"HKD": 2, "HUF": 0, "ILS": 2, "JPY": 0, "MYR": 2, "MXN": 2, "TWD": 0,
	"NZD": 2, "NOK": 2, "PHP": 2, "PLN": 2, "GBP": 2, "RUB": 2, "SGD": 2,
	"SEK": 2, "CHF": 2, "THB": 2, "USD": 2,
}

// Decimals returns how many decimals PayPal uses for c and whether PayPal
// accepts c for payments. A currency PayPal does not list (one that shows
// up in a report after a conversion, say) is read with its ISO 4217
// decimals.
func Decimals(c commerce.Currency) (int32, bool) {
	if d, ok := paypalDecimals[c.Code()]; ok {
		return d, true
	}
	return c.Digits(), false
}

// FromMoney converts canonical money to PayPal's wire form with exactly
// PayPal's decimals for the currency: 10.5 USD is "10.50", 1000 HUF is
// "1000". An amount that is not a whole number of PayPal's units (10.50
// HUF, 1.005 USD) or a currency PayPal does not take is an error, never a
// rounding.
func FromMoney(m commerce.Money) (Amount, error) {
	if m.Currency.IsZero() {
		return Amount{}, &commerce.FieldError{Field: "currency", Reason: "missing", Err: commerce.ErrUnknownCurrency}
	}
	d, ok := Decimals(m.Currency)
	if !ok {
		return Amount{}, &commerce.FieldError{Field: "currency", Value: m.Currency.Code(), Reason: "not a currency PayPal accepts for payments", Err: commerce.ErrInvalid}
	}
	if !m.Amount.Equal(m.Amount.Truncate(d)) {
		return Amount{}, &commerce.FieldError{Field: "amount", Value: m.Amount.String(), Reason: fmt.Sprintf("PayPal takes %d decimals for %s", d, m.Currency.Code()), Err: commerce.ErrInexact}
	}
	return Amount{CurrencyCode: m.Currency.Code(), Value: m.Amount.StringFixed(d)}, nil
}

// ToMoney reads PayPal's wire money strictly: the value must be a plain
// decimal (PayPal's pattern: an optional minus, digits, an optional
// fraction) of at most 32 characters, in a known currency, and a whole
// number of PayPal's units for that currency — trailing zeros beyond them
// are tolerated ("1000.00" HUF), anything else is ErrInexact.
func ToMoney(a Amount) (commerce.Money, error) {
	if len(a.Value) > 32 {
		return commerce.Money{}, &commerce.FieldError{Field: "value", Value: a.Value[:32] + "…", Reason: "longer than 32 characters", Err: commerce.ErrInvalid}
	}
	if a.Value != "" && a.Value[0] == '+' {
		return commerce.Money{}, &commerce.FieldError{Field: "value", Value: a.Value, Reason: "not a plain decimal number", Err: commerce.ErrInvalid}
	}
	c, err := commerce.ParseCurrency(a.CurrencyCode)
	if err != nil {
		return commerce.Money{}, err
	}
	if a.CurrencyCode != c.Code() {
		return commerce.Money{}, &commerce.FieldError{Field: "currency_code", Value: a.CurrencyCode, Reason: "not upper case", Err: commerce.ErrInvalid}
	}
	amt, err := commerce.ParseAmount(a.Value)
	if err != nil {
		return commerce.Money{}, err
	}
	d, _ := Decimals(c)
	if !amt.Equal(amt.Truncate(d)) {
		return commerce.Money{}, &commerce.FieldError{Field: "value", Value: a.Value, Reason: fmt.Sprintf("PayPal uses %d decimals for %s", d, c.Code()), Err: commerce.ErrInexact}
	}
	return commerce.NewMoney(amt, c), nil
}

// toMoneyPtr reads an optional amount; nil is the zero Money (no currency).
func toMoneyPtr(a *Amount) (commerce.Money, error) {
	if a == nil {
		return commerce.Money{}, nil
	}
	return ToMoney(*a)
}
