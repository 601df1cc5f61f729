package commerce

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"slices"

	"github.com/shopspring/decimal"
)

// Money is an amount in a currency. The amount is a decimal, never a float.
// It may carry more decimals than the currency's minor unit (a unit price
// excluding VAT often does); IsExact tells whether it is a whole number of
// minor units, and the operations that must be exact (Minor, Allocate,
// ParseMoney) return ErrInexact when it is not.
//
// Compare values with Equal (go-cmp uses it automatically): two Money values
// are equal when currency and numeric value agree, whatever the scale
// ("12.5" equals "12.50").
type Money struct {
	Amount   decimal.Decimal
	Currency Currency
}

// NewMoney pairs an amount with a currency without checking exactness.
func NewMoney(amount decimal.Decimal, c Currency) Money { return Money{Amount: amount, Currency: c} }

// Zero is zero in currency c.
func Zero(c Currency) Money { return Money{Currency: c} }

// FromMinor converts a count of minor units (öre, cents) to Money.
func FromMinor(minor int64, c Currency) Money {
	return Money{Amount: decimal.New(minor, -c.digits), Currency: c}
}

// ParseMoney parses a plain decimal string ("-12.50", "1999") in an ISO 4217
// currency and requires it to be exact in the currency's minor units: "1.005"
// SEK is an error. Exponents, thousands separators and spaces are refused so
// that nothing outside input says is guessed at.
func ParseMoney(amount, currency string) (Money, error) {
	m, err := ParsePrice(amount, currency)
	if err != nil {
		return Money{}, err
	}
	if !m.IsExact() {
		return Money{}, &FieldError{Field: "amount", Value: amount, Reason: fmt.Sprintf("more than %d decimals for %s", m.Currency.digits, m.Currency.code), Err: ErrInexact}
	}
	return m, nil
}

// ParsePrice is ParseMoney without the exactness requirement, for unit prices
// and rates that legitimately carry sub-minor precision.
func ParsePrice(amount, currency string) (Money, error) {
	c, err := ParseCurrency(currency)
	if err != nil {
		return Money{}, err
	}
	d, err := ParseAmount(amount)
	if err != nil {
		return Money{}, err
	}
	return Money{Amount: d, Currency: c}, nil
}

// maxAmountDigits bounds parsed amounts: no real amount has more digits, and
// the bound keeps hostile input from making big-number arithmetic expensive.
const maxAmountDigits = 40

// ParseAmount parses a plain decimal number: an optional sign, digits, and an
// optional fraction after a dot. It is the one entry point for amounts from
// outside, so that "1e9", "0x10", "1,5" and " 1" are all refused the same way.
func ParseAmount(s string) (decimal.Decimal, error) {
	bad := func(reason string) (decimal.Decimal, error) {
		return decimal.Decimal{}, &FieldError{Field: "amount", Value: truncate(s, 64), Reason: reason}
	}
	i := 0
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		i++
	}
	digits, dot, frac := 0, false, 0
	for ; i < len(s); i++ {
		switch ch := s[i]; {
		case ch >= '0' && ch <= '9':
			digits++
			if dot {
				frac++
			}
		case ch == '.' && !dot:
			dot = true
		default:
			return bad("not a plain decimal number")
		}
	}
	if digits == 0 || (dot && frac == 0) {
		return bad("not a plain decimal number")
	}
	if digits > maxAmountDigits {
		return bad(fmt.Sprintf("more than %d digits", maxAmountDigits))
	}
	d, err := decimal.NewFromString(s)
	if err != nil {
		return bad("not a plain decimal number")
	}
	return d, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// IsExact reports whether the amount is a whole number of minor units.
func (m Money) IsExact() bool {
	return m.Amount.Equal(m.Amount.Truncate(m.Currency.digits))
}

// Minor returns the amount as a count of minor units, for APIs that want
// integers (Stripe, Klarna). It fails with ErrInexact if the amount is not
// whole in minor units and ErrOverflow if it does not fit an int64.
func (m Money) Minor() (int64, error) {
	if m.Currency.IsZero() {
		return 0, &FieldError{Field: "currency", Reason: "missing", Err: ErrUnknownCurrency}
	}
	if !m.IsExact() {
		return 0, &FieldError{Field: "amount", Value: m.Amount.String(), Reason: fmt.Sprintf("more than %d decimals for %s", m.Currency.digits, m.Currency.code), Err: ErrInexact}
	}
	bi := m.Amount.Shift(m.Currency.digits).BigInt()
	if !bi.IsInt64() {
		return 0, &FieldError{Field: "amount", Value: m.Amount.String(), Reason: "does not fit in 64-bit minor units", Err: ErrOverflow}
	}
	return bi.Int64(), nil
}

// Round rounds to the currency's minor unit, half away from zero: 0.125 →
// 0.13 and -0.125 → -0.13. This is the "half-up" of Swedish invoicing and of
// the EU VAT rules, applied symmetrically so that a credit mirrors its
// invoice exactly.
func (m Money) Round() Money {
	return Money{Amount: m.Amount.Round(m.Currency.digits), Currency: m.Currency}
}

// RoundAmount rounds d to the minor unit of c by the same rule as Round.
func RoundAmount(d decimal.Decimal, c Currency) decimal.Decimal { return d.Round(c.digits) }

func (m Money) sameCurrency(op string, o Money) error {
	if m.Currency != o.Currency || m.Currency.IsZero() {
		return &CurrencyMismatchError{Op: op, A: m.Currency, B: o.Currency}
	}
	return nil
}

// Add returns m+o; different currencies are an error, never a conversion.
func (m Money) Add(o Money) (Money, error) {
	if err := m.sameCurrency("add", o); err != nil {
		return Money{}, err
	}
	return Money{Amount: m.Amount.Add(o.Amount), Currency: m.Currency}, nil
}

// Sub returns m-o; different currencies are an error.
func (m Money) Sub(o Money) (Money, error) {
	if err := m.sameCurrency("sub", o); err != nil {
		return Money{}, err
	}
	return Money{Amount: m.Amount.Sub(o.Amount), Currency: m.Currency}, nil
}

// Mul multiplies by a factor exactly (no rounding): a unit price times a
// quantity, or an amount times a rate. Call Round where the result is due.
func (m Money) Mul(f decimal.Decimal) Money {
	return Money{Amount: m.Amount.Mul(f), Currency: m.Currency}
}

// MulInt multiplies by a whole number, such as a quantity.
func (m Money) MulInt(n int64) Money { return m.Mul(decimal.NewFromInt(n)) }

// Neg returns -m.
func (m Money) Neg() Money { return Money{Amount: m.Amount.Neg(), Currency: m.Currency} }

// Abs returns |m|.
func (m Money) Abs() Money { return Money{Amount: m.Amount.Abs(), Currency: m.Currency} }

// Cmp compares m and o: -1, 0 or +1; different currencies are an error.
func (m Money) Cmp(o Money) (int, error) {
	if err := m.sameCurrency("compare", o); err != nil {
		return 0, err
	}
	return m.Amount.Cmp(o.Amount), nil
}

// Equal reports whether m and o have the same currency and numeric value.
func (m Money) Equal(o Money) bool { return m.Currency == o.Currency && m.Amount.Equal(o.Amount) }

// IsZero reports whether the amount is zero.
func (m Money) IsZero() bool { return m.Amount.IsZero() }

// IsNegative reports whether the amount is below zero.
func (m Money) IsNegative() bool { return m.Amount.IsNegative() }

// IsPositive reports whether the amount is above zero.
func (m Money) IsPositive() bool { return m.Amount.IsPositive() }

// String formats the amount with at least the currency's decimals and the
// code: "12.50 SEK", "0.125 SEK" for a sub-minor price.
func (m Money) String() string {
	return m.amountString() + " " + codeOrNone(m.Currency)
}

func (m Money) amountString() string {
	if m.IsExact() {
		return m.Amount.StringFixed(m.Currency.digits)
	}
	return m.Amount.String()
}

// Validate checks that the currency is set and known.
func (m Money) Validate() error {
	if m.Currency.IsZero() {
		return &FieldError{Field: "currency", Reason: "missing", Err: ErrUnknownCurrency}
	}
	return nil
}

// ValidateExact is Validate plus the requirement that the amount is whole in
// minor units; totals, payments and payouts must be.
func (m Money) ValidateExact() error {
	if err := m.Validate(); err != nil {
		return err
	}
	if !m.IsExact() {
		return &FieldError{Field: "amount", Value: m.Amount.String(), Reason: fmt.Sprintf("more than %d decimals for %s", m.Currency.digits, m.Currency.code), Err: ErrInexact}
	}
	return nil
}

// Sum adds amounts that must all be in currency c; with no amounts it is
// zero in c.
func Sum(c Currency, ms ...Money) (Money, error) {
	total := Zero(c)
	for _, m := range ms {
		var err error
		if total, err = total.Add(m); err != nil {
			return Money{}, err
		}
	}
	return total, nil
}

// Allocate splits m over weights by the largest-remainder method, so that
// the parts are whole minor units and always sum exactly to m. Each part
// first gets the floor of its exact share; the minor units left over go one
// each to the parts with the largest remainders, ties to the lower index, so
// the result is deterministic. Zero weights get zero. A negative m is split
// as its absolute value and negated, so a refund mirrors its sale.
//
// Errors: m not exact in minor units, no weights, a negative weight, or all
// weights zero.
func (m Money) Allocate(weights []decimal.Decimal) ([]Money, error) {
	if err := m.ValidateExact(); err != nil {
		return nil, err
	}
	if len(weights) == 0 {
		return nil, &FieldError{Field: "weights", Reason: "none given"}
	}
	// Bring all weights to integers on a common scale so shares can be
	// compared as exact fractions over one denominator.
	scale := int32(0)
	for i, w := range weights {
		if w.IsNegative() {
			return nil, &FieldError{Field: fmt.Sprintf("weights[%d]", i), Value: w.String(), Reason: "negative"}
		}
		if e := -w.Exponent(); e > scale {
			scale = e
		}
	}
	ints := make([]*big.Int, len(weights))
	total := new(big.Int)
	for i, w := range weights {
		ints[i] = w.Shift(scale).BigInt()
		total.Add(total, ints[i])
	}
	if total.Sign() == 0 {
		return nil, &FieldError{Field: "weights", Reason: "all zero"}
	}

	units := m.Amount.Abs().Shift(m.Currency.digits).BigInt()
	quot := make([]*big.Int, len(weights))
	rem := make([]*big.Int, len(weights))
	left := new(big.Int).Set(units)
	for i := range ints {
		num := new(big.Int).Mul(units, ints[i])
		quot[i], rem[i] = new(big.Int).QuoRem(num, total, new(big.Int))
		left.Sub(left, quot[i])
	}
	order := make([]int, len(weights))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return rem[b].Cmp(rem[a]) })
	// left < len(weights) because it is the sum of fractions each below one.
	for k := int64(0); k < left.Int64(); k++ {
		quot[order[k]].Add(quot[order[k]], big.NewInt(1))
	}

	parts := make([]Money, len(weights))
	for i, q := range quot {
		d := decimal.NewFromBigInt(q, -m.Currency.digits)
		if m.Amount.IsNegative() {
			d = d.Neg()
		}
		parts[i] = Money{Amount: d, Currency: m.Currency}
	}
	return parts, nil
}

// moneyJSON is the wire form: the amount as a string so no JSON decoder
// turns it into a float.
type moneyJSON struct {
	Amount   json.RawMessage `json:"amount"`
	Currency string          `json:"currency"`
}

// MarshalJSON encodes {"amount":"12.50","currency":"SEK"}. The zero Money
// (no currency, no amount: "not given") encodes as null; an amount without a
// currency is an error.
func (m Money) MarshalJSON() ([]byte, error) {
	if m.Currency.IsZero() {
		if m.Amount.IsZero() {
			return []byte("null"), nil
		}
		return nil, fmt.Errorf("commerce: marshal money %s without a currency: %w", m.Amount, ErrUnknownCurrency)
	}
	return fmt.Appendf(nil, `{"amount":%q,"currency":%q}`, m.amountString(), m.Currency.code), nil
}

// UnmarshalJSON decodes {"amount":"12.50","currency":"SEK"}, and null as the
// zero Money. A JSON number
// is accepted for the amount too, read from its literal text, never through
// float64. Exactness is not required here; the entity's Validate checks it
// where it matters.
func (m *Money) UnmarshalJSON(b []byte) error {
	if string(bytes.TrimSpace(b)) == "null" {
		*m = Money{}
		return nil
	}
	var w moneyJSON
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		return &FieldError{Field: "money", Value: truncate(string(b), 64), Reason: "not a money object: " + err.Error()}
	}
	if len(w.Amount) == 0 {
		return &FieldError{Field: "amount", Reason: "missing"}
	}
	raw := string(w.Amount)
	if w.Amount[0] == '"' {
		if err := json.Unmarshal(w.Amount, &raw); err != nil {
			return &FieldError{Field: "amount", Value: truncate(string(w.Amount), 64), Reason: "not a string"}
		}
	}
	parsed, err := ParsePrice(raw, w.Currency)
	if err != nil {
		return err
	}
	*m = parsed
	return nil
}
