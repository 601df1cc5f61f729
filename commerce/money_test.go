package commerce

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"
)

func d(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func m(amount, code string) Money { return Money{Amount: d(amount), Currency: MustCurrency(code)} }

func TestParseCurrency(t *testing.T) {
	tests := []struct {
		in        string
		code      string
		digits    int32
		withdrawn bool
		err       error
	}{
		{"SEK", "SEK", 2, false, nil},
		{"sek", "SEK", 2, false, nil},
		{"JPY", "JPY", 0, false, nil},
		{"KWD", "KWD", 3, false, nil},
		{"BHD", "BHD", 3, false, nil},
		{"CLF", "CLF", 4, false, nil},
		{"ISK", "ISK", 0, false, nil},
		{"HUF", "HUF", 2, false, nil},
		{"XCG", "XCG", 2, false, nil},
		{"BGN", "BGN", 2, true, nil},
		{"HRK", "HRK", 2, true, nil},
		{"XXX", "", 0, false, ErrUnknownCurrency},
		{"XAU", "", 0, false, ErrUnknownCurrency},
		{"", "", 0, false, ErrUnknownCurrency},
		{"SEKK", "", 0, false, ErrUnknownCurrency},
	}
	for _, tt := range tests {
		c, err := ParseCurrency(tt.in)
		if !errors.Is(err, tt.err) {
			t.Errorf("ParseCurrency(%q) error = %v, want %v", tt.in, err, tt.err)
			continue
		}
		if err != nil {
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "currency") {
				t.Errorf("ParseCurrency(%q) error %q should name the field and match ErrInvalid", tt.in, err)
			}
			continue
		}
		got := []any{c.Code(), c.Digits(), c.Withdrawn()}
		if diff := cmp.Diff([]any{tt.code, tt.digits, tt.withdrawn}, got); diff != "" {
			t.Errorf("ParseCurrency(%q) mismatch (-want +got):\n%s", tt.in, diff)
		}
	}
}

func TestCurrenciesListIsComplete(t *testing.T) {
	codes := Currencies()
	if len(codes) < 150 {
		t.Fatalf("only %d currencies", len(codes))
	}
	for _, c := range codes {
		if len(c) != 3 || strings.ToUpper(c) != c {
			t.Errorf("bad code %q", c)
		}
		if _, err := ParseCurrency(c); err != nil {
			t.Errorf("listed code %q does not parse: %v", c, err)
		}
	}
}

func TestParseMoney(t *testing.T) {
	tests := []struct {
		amount, code string
		want         Money
		err          error
	}{
		{"12.50", "SEK", m("12.5", "SEK"), nil},
		{"-0.01", "EUR", m("-0.01", "EUR"), nil},
		{"+3", "SEK", m("3", "SEK"), nil},
		{"1000", "JPY", m("1000", "JPY"), nil},
		{"1.005", "KWD", m("1.005", "KWD"), nil},
		{"12.500", "SEK", m("12.5", "SEK"), nil}, // trailing zeros are exact
		{"1.005", "SEK", Money{}, ErrInexact},
		{"1.5", "JPY", Money{}, ErrInexact},
		{"1e3", "SEK", Money{}, ErrInvalid},
		{"1,50", "SEK", Money{}, ErrInvalid},
		{" 1", "SEK", Money{}, ErrInvalid},
		{"", "SEK", Money{}, ErrInvalid},
		{".", "SEK", Money{}, ErrInvalid},
		{"1.", "SEK", Money{}, ErrInvalid},
		{"-", "SEK", Money{}, ErrInvalid},
		{"0x10", "SEK", Money{}, ErrInvalid},
		{"NaN", "SEK", Money{}, ErrInvalid},
		{strings.Repeat("9", 41), "SEK", Money{}, ErrInvalid},
		{"1.00", "ABC", Money{}, ErrUnknownCurrency},
	}
	for _, tt := range tests {
		got, err := ParseMoney(tt.amount, tt.code)
		if !errors.Is(err, tt.err) {
			t.Errorf("ParseMoney(%q, %q) error = %v, want %v", tt.amount, tt.code, err, tt.err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("ParseMoney(%q, %q) mismatch (-want +got):\n%s", tt.amount, tt.code, diff)
		}
	}
}

func TestParsePriceAllowsSubMinor(t *testing.T) {
	got, err := ParsePrice("79.992", "SEK")
	if err != nil {
		t.Fatal(err)
	}
	if got.IsExact() || got.String() != "79.992 SEK" {
		t.Errorf("ParsePrice = %v exact=%v", got, got.IsExact())
	}
}

func TestMinor(t *testing.T) {
	tests := []struct {
		in   Money
		want int64
		err  error
	}{
		{m("12.50", "SEK"), 1250, nil},
		{m("-0.05", "EUR"), -5, nil},
		{m("1999", "JPY"), 1999, nil},
		{m("1.234", "BHD"), 1234, nil},
		{m("0.001", "SEK"), 0, ErrInexact},
		{m("92233720368547758.08", "SEK"), 0, ErrOverflow},
		{Money{Amount: d("1")}, 0, ErrUnknownCurrency},
	}
	for _, tt := range tests {
		got, err := tt.in.Minor()
		if !errors.Is(err, tt.err) || got != tt.want {
			t.Errorf("%v.Minor() = %d, %v; want %d, %v", tt.in, got, err, tt.want, tt.err)
		}
	}
	if got := FromMinor(-12345, SEK); !got.Equal(m("-123.45", "SEK")) {
		t.Errorf("FromMinor = %v", got)
	}
	if got := FromMinor(500, JPY); !got.Equal(m("500", "JPY")) {
		t.Errorf("FromMinor JPY = %v", got)
	}
}

func TestRound(t *testing.T) {
	tests := []struct{ in, want Money }{
		{m("0.125", "SEK"), m("0.13", "SEK")},
		{m("-0.125", "SEK"), m("-0.13", "SEK")},
		{m("0.124999", "SEK"), m("0.12", "SEK")},
		{m("2.5", "JPY"), m("3", "JPY")},
		{m("-2.5", "JPY"), m("-3", "JPY")},
		{m("1.0005", "KWD"), m("1.001", "KWD")},
		{m("12.50", "SEK"), m("12.5", "SEK")},
	}
	for _, tt := range tests {
		if got := tt.in.Round(); !got.Equal(tt.want) {
			t.Errorf("%v.Round() = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestArithmetic(t *testing.T) {
	a, b := m("10.10", "SEK"), m("0.95", "SEK")
	sum, err := a.Add(b)
	if err != nil || !sum.Equal(m("11.05", "SEK")) {
		t.Errorf("Add = %v, %v", sum, err)
	}
	diff, err := b.Sub(a)
	if err != nil || !diff.Equal(m("-9.15", "SEK")) {
		t.Errorf("Sub = %v, %v", diff, err)
	}
	if c, err := a.Cmp(b); err != nil || c != 1 {
		t.Errorf("Cmp = %d, %v", c, err)
	}
	if got := m("19.99", "SEK").MulInt(3); !got.Equal(m("59.97", "SEK")) {
		t.Errorf("MulInt = %v", got)
	}
	if got := m("100", "SEK").Mul(d("0.2")); !got.Equal(m("20", "SEK")) {
		t.Errorf("Mul = %v", got)
	}
	if got := m("-5", "SEK").Abs().Neg(); !got.Equal(m("-5", "SEK")) {
		t.Errorf("Abs/Neg = %v", got)
	}
	total, err := Sum(SEK, a, b, m("1", "SEK"))
	if err != nil || !total.Equal(m("12.05", "SEK")) {
		t.Errorf("Sum = %v, %v", total, err)
	}
	if z, err := Sum(EUR); err != nil || !z.Equal(Zero(EUR)) {
		t.Errorf("empty Sum = %v, %v", z, err)
	}
}

func TestMixedCurrencies(t *testing.T) {
	sek, eur := m("1", "SEK"), m("1", "EUR")
	ops := map[string]func() error{
		"add":     func() error { _, err := sek.Add(eur); return err },
		"sub":     func() error { _, err := sek.Sub(eur); return err },
		"compare": func() error { _, err := sek.Cmp(eur); return err },
		"sum":     func() error { _, err := Sum(SEK, sek, eur); return err },
		"zero":    func() error { _, err := Money{Amount: d("1")}.Add(Money{Amount: d("1")}); return err },
	}
	for name, op := range ops {
		err := op()
		if !errors.Is(err, ErrCurrencyMismatch) {
			t.Errorf("%s across currencies: %v, want ErrCurrencyMismatch", name, err)
		}
	}
	_, err := sek.Add(eur)
	if want := "commerce: add: currency mismatch SEK vs EUR"; err == nil || err.Error() != want {
		t.Errorf("error text %q, want %q", err, want)
	}
}

func weights(ws ...string) []decimal.Decimal {
	out := make([]decimal.Decimal, len(ws))
	for i, w := range ws {
		out[i] = d(w)
	}
	return out
}

func TestAllocate(t *testing.T) {
	tests := []struct {
		name    string
		total   Money
		weights []decimal.Decimal
		want    []Money
		err     error
	}{
		{"even thirds", m("100", "SEK"), weights("1", "1", "1"), []Money{m("33.34", "SEK"), m("33.33", "SEK"), m("33.33", "SEK")}, nil},
		{"tie goes to lower index", m("0.05", "SEK"), weights("1", "1"), []Money{m("0.03", "SEK"), m("0.02", "SEK")}, nil},
		{"largest remainder wins", m("1.00", "SEK"), weights("0.2", "0.45", "0.35"), []Money{m("0.2", "SEK"), m("0.45", "SEK"), m("0.35", "SEK")}, nil},
		{"remainder to largest fraction", m("10", "SEK"), weights("1", "2"), []Money{m("3.33", "SEK"), m("6.67", "SEK")}, nil},
		{"discount over line values", m("50", "SEK"), weights("199", "99.5", "0"), []Money{m("33.33", "SEK"), m("16.67", "SEK"), m("0", "SEK")}, nil},
		{"negative mirrors positive", m("-100", "SEK"), weights("1", "1", "1"), []Money{m("-33.34", "SEK"), m("-33.33", "SEK"), m("-33.33", "SEK")}, nil},
		{"zero-decimal currency", m("100", "JPY"), weights("1", "1", "1"), []Money{m("34", "JPY"), m("33", "JPY"), m("33", "JPY")}, nil},
		{"three-decimal currency", m("1", "KWD"), weights("1", "1", "1"), []Money{m("0.334", "KWD"), m("0.333", "KWD"), m("0.333", "KWD")}, nil},
		{"single part", m("7.77", "EUR"), weights("3"), []Money{m("7.77", "EUR")}, nil},
		{"zero total", m("0", "EUR"), weights("1", "2"), []Money{m("0", "EUR"), m("0", "EUR")}, nil},
		{"no weights", m("1", "SEK"), nil, nil, ErrInvalid},
		{"negative weight", m("1", "SEK"), weights("1", "-1"), nil, ErrInvalid},
		{"all zero", m("1", "SEK"), weights("0", "0"), nil, ErrInvalid},
		{"inexact total", m("1.001", "SEK"), weights("1"), nil, ErrInexact},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.total.Allocate(tt.weights)
			if !errors.Is(err, tt.err) {
				t.Fatalf("error = %v, want %v", err, tt.err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestAllocateSumsExactly checks the invariant over many generated cases.
func TestAllocateSumsExactly(t *testing.T) {
	for total := int64(-301); total <= 301; total += 7 {
		for n := 1; n <= 9; n++ {
			ws := make([]decimal.Decimal, n)
			for i := range ws {
				ws[i] = decimal.New(int64((i*37+int(total+1000))%11+1), -1)
			}
			whole := FromMinor(total, SEK)
			parts, err := whole.Allocate(ws)
			if err != nil {
				t.Fatal(err)
			}
			sum, _ := Sum(SEK, parts...)
			if !sum.Equal(whole) {
				t.Fatalf("Allocate(%v, %v) sums to %v", whole, ws, sum)
			}
			for _, p := range parts {
				if !p.IsExact() {
					t.Fatalf("part %v is not exact", p)
				}
			}
		}
	}
}

func TestMoneyJSON(t *testing.T) {
	b, err := json.Marshal(m("12.5", "SEK"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"amount":"12.50","currency":"SEK"}`; got != want {
		t.Errorf("Marshal = %s, want %s", got, want)
	}
	b, _ = json.Marshal(m("79.992", "SEK"))
	if got, want := string(b), `{"amount":"79.992","currency":"SEK"}`; got != want {
		t.Errorf("Marshal sub-minor = %s, want %s", got, want)
	}
	if b, err := json.Marshal(Money{}); err != nil || string(b) != "null" {
		t.Errorf("Marshal of zero Money = %s, %v; want null", b, err)
	}
	if _, err := json.Marshal(Money{Amount: d("1")}); !errors.Is(err, ErrUnknownCurrency) {
		t.Errorf("Marshal of an amount without currency = %v", err)
	}

	tests := []struct {
		in   string
		want Money
		err  error
	}{
		{`{"amount":"12.50","currency":"SEK"}`, m("12.50", "SEK"), nil},
		{`{"amount":12.50,"currency":"EUR"}`, m("12.50", "EUR"), nil},
		{`{"amount":"0.30000000000000004","currency":"EUR"}`, m("0.30000000000000004", "EUR"), nil},
		{`{"amount":"12,50","currency":"SEK"}`, Money{}, ErrInvalid},
		{`{"amount":"1","currency":"QQQ"}`, Money{}, ErrUnknownCurrency},
		{`{"amount":"1"}`, Money{}, ErrUnknownCurrency},
		{`{"currency":"SEK"}`, Money{}, ErrInvalid},
		{`{"amount":"1","currency":"SEK","x":1}`, Money{}, ErrInvalid},
		{`{"amount":true,"currency":"SEK"}`, Money{}, ErrInvalid},
		{`"12.50 SEK"`, Money{}, ErrInvalid},
		{`null`, Money{}, nil},
	}
	for _, tt := range tests {
		var got Money
		err := json.Unmarshal([]byte(tt.in), &got)
		if !errors.Is(err, tt.err) {
			t.Errorf("Unmarshal(%s) error = %v, want %v", tt.in, err, tt.err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("Unmarshal(%s) mismatch (-want +got):\n%s", tt.in, diff)
		}
	}
}

func FuzzParseMoney(f *testing.F) {
	for _, s := range []string{"12.50", "-0.01", "1e9", "", "9999999999999999999999", "1.005", "+.5", "0.", "--1"} {
		f.Add(s, "SEK")
	}
	f.Add("100", "JPY")
	f.Add("1.234", "KWD")
	f.Fuzz(func(t *testing.T, amount, code string) {
		got, err := ParseMoney(amount, code)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not match ErrInvalid", err)
			}
			return
		}
		if !got.IsExact() {
			t.Fatalf("ParseMoney(%q) = %v, not exact", amount, got)
		}
		// Whatever parses survives a JSON round trip unchanged.
		b, err := json.Marshal(got)
		if err != nil {
			t.Fatal(err)
		}
		var back Money
		if err := json.Unmarshal(b, &back); err != nil || !back.Equal(got) {
			t.Fatalf("round trip of %v: %v, %v", got, back, err)
		}
	})
}

func BenchmarkMoneyAdd(b *testing.B) {
	x, y := m("1234.56", "SEK"), m("0.44", "SEK")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := x.Add(y); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMoneyMulRound(b *testing.B) {
	x, rate := m("199.00", "SEK"), d("0.25")
	b.ReportAllocs()
	for b.Loop() {
		_ = x.Mul(rate).Round()
	}
}

func BenchmarkMoneyMinor(b *testing.B) {
	x := m("1234.56", "SEK")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := x.Minor(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAllocate(b *testing.B) {
	for _, n := range []int{3, 30} {
		ws := make([]decimal.Decimal, n)
		for i := range ws {
			ws[i] = decimal.New(int64(100+i*17), -2)
		}
		total := m("999.99", "SEK")
		b.Run(map[int]string{3: "3parts", 30: "30parts"}[n], func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := total.Allocate(ws); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
