package reconcile

import (
	"fmt"

	"github.com/shopspring/decimal"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/vat"
)

var pow10 = [...]int64{1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000}

// minorIn returns m in minor units of c, requiring m to be in c (a zero
// Money, with no currency, is zero) and exact. Amounts of up to 18 digits
// take a fast path without big-number arithmetic.
func minorIn(m commerce.Money, c commerce.Currency) (int64, error) {
	if m.Currency.IsZero() {
		if m.Amount.IsZero() {
			return 0, nil
		}
		return 0, fmt.Errorf("%s without a currency", m.Amount)
	}
	if m.Currency != c {
		return 0, fmt.Errorf("%w: %s, expected %s", ErrCurrency, m.Currency.Code(), c.Code())
	}
	d := m.Amount
	if d.NumDigits() <= 18 {
		coef, exp := d.CoefficientInt64(), d.Exponent()
		shift := int(exp) + int(c.Digits())
		switch {
		case shift == 0:
			return coef, nil
		case shift > 0 && shift < len(pow10):
			v := coef * pow10[shift]
			if v/pow10[shift] == coef {
				return v, nil
			}
		case shift < 0 && -shift < len(pow10):
			if coef%pow10[-shift] != 0 {
				return 0, fmt.Errorf("%w: %s has more than %d decimals", commerce.ErrInexact, d, c.Digits())
			}
			return coef / pow10[-shift], nil
		}
	}
	return m.Minor()
}

// money turns minor units into Money.
func money(minor int64, c commerce.Currency) commerce.Money { return commerce.FromMinor(minor, c) }

// fxTable converts between currencies with rates from a vat.FXRates
// (units per EUR on a date), caching what it looked up.
type fxTable struct {
	src   vat.FXRates
	cache map[fxKey]decimal.Decimal
}

type fxKey struct {
	code string
	date commerce.Date
}

func newFXTable(src vat.FXRates) *fxTable {
	return &fxTable{src: src, cache: map[fxKey]decimal.Decimal{}}
}

// perEUR is units of c per EUR on date.
func (f *fxTable) perEUR(c commerce.Currency, date commerce.Date) (decimal.Decimal, error) {
	if c.Code() == "EUR" {
		return decimal.NewFromInt(1), nil
	}
	k := fxKey{c.Code(), date}
	if r, ok := f.cache[k]; ok {
		return r, nil
	}
	if f.src == nil {
		return decimal.Decimal{}, fmt.Errorf("%w: %s needs conversion and no exchange rates are configured (WithFXRates)", ErrCurrency, c.Code())
	}
	r, _, err := f.src.EURRate(c.Code(), date)
	if err != nil {
		return decimal.Decimal{}, fmt.Errorf("%w: no %s rate for %s: %w", ErrCurrency, c.Code(), date, err)
	}
	if !r.IsPositive() {
		return decimal.Decimal{}, fmt.Errorf("%w: %s rate %s for %s is not positive", ErrCurrency, c.Code(), r, date)
	}
	f.cache[k] = r
	return r, nil
}

// rate is units of to per unit of from on date.
func (f *fxTable) rate(from, to commerce.Currency, date commerce.Date) (decimal.Decimal, error) {
	if from == to {
		return decimal.NewFromInt(1), nil
	}
	a, err := f.perEUR(from, date)
	if err != nil {
		return decimal.Decimal{}, err
	}
	b, err := f.perEUR(to, date)
	if err != nil {
		return decimal.Decimal{}, err
	}
	return b.DivRound(a, 12), nil
}

// convert converts minor units of from into minor units of to at rate,
// rounded half away from zero to to's minor unit.
func convert(minor int64, from, to commerce.Currency, rate decimal.Decimal) int64 {
	if from == to {
		return minor
	}
	v := decimal.New(minor, -from.Digits()).Mul(rate).Round(to.Digits()).Shift(to.Digits())
	return v.IntPart()
}
