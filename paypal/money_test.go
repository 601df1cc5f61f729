package paypal

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/knyt/knyt/commerce"
)

func TestFromMoney(t *testing.T) {
	tests := []struct {
		amount, cur string
		want        Amount
		err         error
	}{
		{"10.5", "USD", Amount{"USD", "10.50"}, nil},
		{"10", "SEK", Amount{"SEK", "10.00"}, nil},
		{"1000", "HUF", Amount{"HUF", "1000"}, nil},
		{"1000.00", "HUF", Amount{"HUF", "1000"}, nil},
		{"1999", "JPY", Amount{"JPY", "1999"}, nil},
		{"250", "TWD", Amount{"TWD", "250"}, nil},
		{"-3.2", "EUR", Amount{"EUR", "-3.20"}, nil},
		{"1000.50", "HUF", Amount{}, commerce.ErrInexact}, // ISO has 2 decimals for HUF, PayPal none
		{"12.50", "TWD", Amount{}, commerce.ErrInexact},
		{"1.005", "USD", Amount{}, commerce.ErrInexact},
		{"10.000", "KWD", Amount{}, commerce.ErrInvalid}, // not a PayPal currency
	}
	for _, tt := range tests {
		m, err := commerce.ParsePrice(tt.amount, tt.cur)
		if err != nil {
			t.Fatal(err)
		}
		got, err := FromMoney(m)
		if !errors.Is(err, tt.err) || (tt.err == nil && err != nil) {
			t.Errorf("FromMoney(%s %s): error %v, want %v", tt.amount, tt.cur, err, tt.err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("FromMoney(%s %s) (-want +got):\n%s", tt.amount, tt.cur, diff)
		}
	}
	if _, err := FromMoney(commerce.Money{}); !errors.Is(err, commerce.ErrUnknownCurrency) {
		t.Errorf("FromMoney(zero): %v", err)
	}
}

func TestToMoney(t *testing.T) {
	tests := []struct {
		in   Amount
		want string // "" when an error is expected
	}{
		{Amount{"USD", "465.00"}, "465.00 USD"},
		{Amount{"USD", "-13.79"}, "-13.79 USD"},
		{Amount{"USD", ".5"}, "0.50 USD"},
		{Amount{"JPY", "1999"}, "1999 JPY"},
		{Amount{"HUF", "1000.00"}, "1000.00 HUF"}, // trailing zeros tolerated
		{Amount{"HUF", "1000.50"}, ""},
		{Amount{"TWD", "1.5"}, ""},
		{Amount{"USD", "1.001"}, ""},
		{Amount{"USD", "1e3"}, ""},
		{Amount{"USD", "+1.00"}, ""},
		{Amount{"USD", "1."}, ""},
		{Amount{"USD", ""}, ""},
		{Amount{"usd", "1.00"}, ""},
		{Amount{"XXX", "1.00"}, ""},
		{Amount{"USD", "1,00"}, ""},
		{Amount{"USD", "123456789012345678901234567890123"}, ""}, // 33 characters
		{Amount{"MXN", "-78.00"}, "-78.00 MXN"},
		{Amount{"KWD", "1.250"}, "1.250 KWD"}, // not a PayPal currency: ISO decimals
	}
	for _, tt := range tests {
		got, err := ToMoney(tt.in)
		switch {
		case tt.want == "" && err == nil:
			t.Errorf("ToMoney(%v) = %v, want an error", tt.in, got)
		case tt.want != "" && err != nil:
			t.Errorf("ToMoney(%v): %v", tt.in, err)
		case tt.want != "" && got.String() != tt.want:
			t.Errorf("ToMoney(%v) = %v, want %s", tt.in, got, tt.want)
		}
	}
}

// FuzzToMoney checks that reading never panics and that whatever is read
// is exact in PayPal's decimals and writes back to an equal amount.
func FuzzToMoney(f *testing.F) {
	for _, s := range [][2]string{{"USD", "465.00"}, {"HUF", "1000"}, {"JPY", "-5"}, {"USD", ".5"}, {"EUR", "1e2"}, {"SEK", "0.001"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, cur, value string) {
		m, err := ToMoney(Amount{CurrencyCode: cur, Value: value})
		if err != nil {
			return
		}
		if _, known := Decimals(m.Currency); !known {
			return
		}
		a, err := FromMoney(m)
		if err != nil {
			t.Fatalf("read %s %q as %v but cannot write it back: %v", cur, value, m, err)
		}
		back, err := ToMoney(a)
		if err != nil || !back.Equal(m) {
			t.Fatalf("%v → %v → %v, %v", m, a, back, err)
		}
	})
}
