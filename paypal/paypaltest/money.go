package paypaltest

import (
	"regexp"

	"github.com/shopspring/decimal"
)

// decimals is PayPal's number of decimals per currency it takes for
// payments. The fake keeps its own table, deliberately not the client's:
// a wrong entry in either then shows up as a disagreement in tests.
var decimals = map[string]int32{
	"AUD": 2, "BRL": 2, "CAD": 2, "CNY": 2, "CZK": 2, "DKK": 2, "EUR": 2,
	"HKD": 2, "HUF": 0, "ILS": 2, "JPY": 0, "MYR": 2, "MXN": 2, "TWD": 0,
	"NZD": 2, "NOK": 2, "PHP": 2, "PLN": 2, "GBP": 2, "RUB": 2, "SGD": 2,
	"SEK": 2, "CHF": 2, "THB": 2, "USD": 2,
}

// moneyPattern is the money value pattern of PayPal's descriptions.
var moneyPattern = regexp.MustCompile(`^((-?[0-9]+)|(-?([0-9]+)?[.][0-9]+))$`)

// Money is PayPal's money object on the wire.
type Money struct {
	CurrencyCode string `json:"currency_code"`
	Value        string `json:"value"`
}

// amount is money inside the fake.
type amount struct {
	cur string
	v   decimal.Decimal
}

func (a amount) wire() Money {
	return Money{CurrencyCode: a.cur, Value: a.v.StringFixed(decimals[a.cur])}
}

// parseAmount checks a request's money like PayPal does and returns the
// issue code it answers with when it does not.
func parseAmount(m Money) (amount, string) {
	d, ok := decimals[m.CurrencyCode]
	if !ok {
		return amount{}, "INVALID_CURRENCY_CODE"
	}
	if !moneyPattern.MatchString(m.Value) {
		return amount{}, "INVALID_PARAMETER_SYNTAX"
	}
	v, err := decimal.NewFromString(m.Value)
	if err != nil {
		return amount{}, "INVALID_PARAMETER_SYNTAX"
	}
	if !v.Equal(v.Truncate(d)) {
		if d == 0 {
			return amount{}, "DECIMALS_NOT_SUPPORTED"
		}
		return amount{}, "DECIMAL_PRECISION"
	}
	if !v.IsPositive() {
		return amount{}, "CANNOT_BE_ZERO_OR_NEGATIVE"
	}
	return amount{m.CurrencyCode, v}, ""
}

// mustAmount parses seed money, which the caller controls.
func mustAmount(cur, value string) (amount, error) {
	d, ok := decimals[cur]
	if !ok {
		return amount{}, errorf("currency %q is not one PayPal takes", cur)
	}
	v, err := decimal.NewFromString(value)
	if err != nil || !moneyPattern.MatchString(value) {
		return amount{}, errorf("amount %q is not a plain decimal", value)
	}
	if !v.Equal(v.Truncate(d)) {
		return amount{}, errorf("amount %q has more than %d decimals for %s", value, d, cur)
	}
	return amount{cur, v}, nil
}

// fee is the fee on gross at the configured rate, rounded to the currency.
func (s *Server) fee(gross amount) amount {
	f := gross.v.Mul(s.cfg.feePercent).Div(decimal.NewFromInt(100)).Round(decimals[gross.cur])
	return amount{gross.cur, f}
}
