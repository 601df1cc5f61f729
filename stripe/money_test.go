package stripe

import (
	"errors"
	"testing"

	"github.com/knyt/knyt/commerce"
	"github.com/shopspring/decimal"
)

func TestToMinor(t *testing.T) {
	tests := []struct {
		amount, currency string
		want             int64
		err              error
	}{
		{"12.50", "SEK", 1250, nil},
		{"12.5", "EUR", 1250, nil},
		{"-3.00", "USD", -300, nil},
		{"500", "JPY", 500, nil},
		{"500.5", "JPY", 0, commerce.ErrInexact},
		{"1500", "MGA", 1500, nil}, // zero-decimal at Stripe, two digits in ISO
		{"10.50", "MGA", 0, commerce.ErrInexact},
		{"5", "ISK", 500, nil},      // two-decimal at Stripe, whole krónur only
		{"5.120", "KWD", 5120, nil}, // three-decimal, last digit 0
		{"5.125", "KWD", 0, commerce.ErrInexact},
		{"1.010", "BHD", 1010, nil},
		{"0.001", "TND", 0, commerce.ErrInexact},
		{"1.005", "SEK", 0, commerce.ErrInexact},
		{"10", "IQD", 0, commerce.ErrUnknownCurrency}, // three digits in ISO, not in Stripe's lists
		{"99999999999999999999", "SEK", 0, commerce.ErrOverflow},
	}
	for _, tt := range tests {
		t.Run(tt.amount+" "+tt.currency, func(t *testing.T) {
			d, err := decimal.NewFromString(tt.amount)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ToMinor(commerce.NewMoney(d, commerce.MustCurrency(tt.currency)))
			if !errors.Is(err, tt.err) || (tt.err == nil && err != nil) {
				t.Fatalf("ToMinor error = %v, want %v", err, tt.err)
			}
			if got != tt.want {
				t.Errorf("ToMinor = %d, want %d", got, tt.want)
			}
		})
	}
	if _, err := ToMinor(commerce.Money{}); !errors.Is(err, commerce.ErrUnknownCurrency) {
		t.Errorf("no currency: %v", err)
	}
}

func TestFromMinor(t *testing.T) {
	tests := []struct {
		amount   int64
		currency string
		want     string
		err      error
	}{
		{1250, "sek", "12.50 SEK", nil},
		{-400, "usd", "-4.00 USD", nil},
		{500, "jpy", "500 JPY", nil},
		{1500, "mga", "1500.00 MGA", nil},
		{500, "isk", "5 ISK", nil},
		{4010, "isk", "", commerce.ErrInexact}, // a historic fractional króna
		{5125, "kwd", "5.125 KWD", nil},        // reading accepts any whole fils
		{1, "xxx", "", commerce.ErrUnknownCurrency},
		{1, "iqd", "", commerce.ErrUnknownCurrency},
	}
	for _, tt := range tests {
		got, err := FromMinor(tt.amount, tt.currency)
		if !errors.Is(err, tt.err) || (tt.err == nil && err != nil) {
			t.Errorf("FromMinor(%d, %s) error = %v, want %v", tt.amount, tt.currency, err, tt.err)
			continue
		}
		if err == nil && got.String() != tt.want {
			t.Errorf("FromMinor(%d, %s) = %s, want %s", tt.amount, tt.currency, got, tt.want)
		}
	}
}

func TestMinorRoundTrip(t *testing.T) {
	for _, code := range commerce.Currencies() {
		exp, ok := CurrencyExponent(code)
		if !ok {
			continue
		}
		r := stripeCurrencies[code]
		step := r.step
		if step == 0 {
			step = 1
		}
		for _, n := range []int64{0, step, 37 * step, -123456 * step} {
			m, err := FromMinor(n, code)
			if err != nil {
				t.Fatalf("%s: FromMinor(%d): %v", code, n, err)
			}
			back, err := ToMinor(m)
			if err != nil || back != n {
				t.Errorf("%s (exp %d): %d → %s → %d, %v", code, exp, n, m, back, err)
			}
		}
	}
}

func TestCurrencyExponent(t *testing.T) {
	for code, want := range map[string]int32{"SEK": 2, "jpy": 0, "MGA": 0, "ISK": 2, "KWD": 3, "HUF": 2} {
		if got, ok := CurrencyExponent(code); !ok || got != want {
			t.Errorf("CurrencyExponent(%s) = %d, %v; want %d", code, got, ok, want)
		}
	}
	for _, code := range []string{"IQD", "CLF", "nope"} {
		if _, ok := CurrencyExponent(code); ok {
			t.Errorf("CurrencyExponent(%s) known", code)
		}
	}
}
