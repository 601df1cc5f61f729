package stripe

import (
	"fmt"
	"strings"

	"github.com/knyt/knyt/commerce"
	"github.com/shopspring/decimal"
)

// currencyRule is how Stripe writes amounts of one currency: the exponent
// of its integer amounts, and the granularity Stripe requires of amounts it
// is sent (payment intents, captures, refunds).
type currencyRule struct {
	exp  int32 // amount on the wire = value × 10^exp
	step int64 // amounts sent must be a multiple of step
}

// stripeCurrencies is the one table of where Stripe departs from "two
// decimals": every currency not listed here must have two ISO 4217 minor
// digits, and is then sent in hundredths. Sources: stripe.com/docs/currencies
// (zero- and three-decimal lists, reference stripe.md §10) and Stripe's
// support note on ISK (2023-04-14).
//
//   - Zero-decimal: the amount is in whole units. MGA is zero-decimal at
//     Stripe although ISO 4217 gives it two digits.
//   - Three-decimal (BHD, JOD, KWD, OMR, TND): amounts sent to payment
//     intents and refunds must end in 0, i.e. be whole hundredths.
//   - ISK: zero-decimal in ISO 4217, but Stripe keeps it two-decimal "for
//     backwards compatibility" and requires multiples of 100.
//   - HUF and TWD are two-decimal for charges; Stripe's rule that payouts
//     be whole units concerns creating manual payouts, which this package
//     does not do. The exact special-case rules for HUF, TWD and UGX on
//     Stripe's current page are unverified (reference §13).
var stripeCurrencies = map[string]currencyRule{
	"BIF": {0, 1}, "CLP": {0, 1}, "DJF": {0, 1}, "GNF": {0, 1}, "JPY": {0, 1}, "KMF": {0, 1},
	"KRW": {0, 1}, "MGA": {0, 1}, "PYG": {0, 1}, "RWF": {0, 1}, "UGX": {0, 1}, "VND": {0, 1},
	"VUV": {0, 1}, "XAF": {0, 1}, "XOF": {0, 1}, "XPF": {0, 1},
	"BHD": {3, 10}, "JOD": {3, 10}, "KWD": {3, 10}, "OMR": {3, 10}, "TND": {3, 10},
	"ISK": {2, 100},
}

func ruleFor(c commerce.Currency) (currencyRule, error) {
	if c.IsZero() {
		return currencyRule{}, &commerce.FieldError{Field: "currency", Reason: "missing", Err: commerce.ErrUnknownCurrency}
	}
	if r, ok := stripeCurrencies[c.Code()]; ok {
		return r, nil
	}
	if c.Digits() == 2 {
		return currencyRule{2, 1}, nil
	}
	// IQD, LYD, CLF, UYI, UYW: not in Stripe's lists, so the exponent would
	// be a guess.
	return currencyRule{}, &commerce.FieldError{Field: "currency", Value: c.Code(),
		Reason: "Stripe's minor unit for this currency is not known", Err: commerce.ErrUnknownCurrency}
}

// CurrencyExponent returns the exponent Stripe uses for amounts in the
// currency: 0 for zero-decimal currencies, 3 for three-decimal ones, 2
// otherwise (ISK included). ok is false for currencies whose Stripe
// exponent is not known.
func CurrencyExponent(code string) (exp int32, ok bool) {
	c, err := commerce.ParseCurrency(code)
	if err != nil {
		return 0, false
	}
	r, err := ruleFor(c)
	return r.exp, err == nil
}

// ToMinor converts an amount to the integer Stripe expects in a request,
// failing with commerce.ErrInexact when that cannot be exact: more decimals
// than Stripe's exponent (10.50 MGA), or not a multiple of the granularity
// Stripe requires (5.125 KWD, 40.10 ISK).
func ToMinor(m commerce.Money) (int64, error) {
	r, err := ruleFor(m.Currency)
	if err != nil {
		return 0, err
	}
	shifted := m.Amount.Shift(r.exp)
	if !shifted.Equal(shifted.Truncate(0)) {
		return 0, &commerce.FieldError{Field: "amount", Value: m.Amount.String(),
			Reason: fmt.Sprintf("more than %d decimals for %s at Stripe", r.exp, m.Currency.Code()), Err: commerce.ErrInexact}
	}
	bi := shifted.BigInt()
	if !bi.IsInt64() {
		return 0, &commerce.FieldError{Field: "amount", Value: m.Amount.String(), Reason: "does not fit in 64 bits", Err: commerce.ErrOverflow}
	}
	n := bi.Int64()
	if n%r.step != 0 {
		return 0, &commerce.FieldError{Field: "amount", Value: m.Amount.String(),
			Reason: fmt.Sprintf("Stripe requires %s amounts in multiples of %s", m.Currency.Code(), decimal.New(r.step, -r.exp).String()),
			Err:    commerce.ErrInexact}
	}
	return n, nil
}

// FromMinor converts an integer amount from a Stripe response (currency
// lower-case, as Stripe sends it) to Money. It fails with
// commerce.ErrInexact when the value is not exact in the currency's ISO
// minor unit (a historic fractional ISK amount), and with
// commerce.ErrUnknownCurrency for an unknown code.
func FromMinor(amount int64, currency string) (commerce.Money, error) {
	c, err := commerce.ParseCurrency(strings.ToUpper(currency))
	if err != nil {
		return commerce.Money{}, err
	}
	r, err := ruleFor(c)
	if err != nil {
		return commerce.Money{}, err
	}
	m := commerce.NewMoney(decimal.New(amount, -r.exp), c)
	if !m.IsExact() {
		return commerce.Money{}, &commerce.FieldError{Field: "amount", Value: m.Amount.String(),
			Reason: fmt.Sprintf("not a whole number of %s minor units", c.Code()), Err: commerce.ErrInexact}
	}
	// Normalise the scale to the currency's so that amounts print alike.
	return commerce.NewMoney(m.Amount.Round(c.Digits()), c), nil
}

// currencyParam is the lower-case code Stripe expects.
func currencyParam(c commerce.Currency) string { return strings.ToLower(c.Code()) }
