package vat

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// publishedNumbers are example numbers published with the check-digit
// rules (python-stdnum's documented examples, vat-oss.md §8), valid and
// with a wrong check digit, for every member state and XI.
var publishedNumbers = []struct {
	valid, badChecksum []string
}{
	{[]string{"ATU13585627"}, []string{"ATU13585626"}},
	{[]string{"BE0403019261", "BE0428759497"}, []string{"BE431150351", "BE0403019262"}},
	{[]string{"BG175074752"}, []string{"BG175074751"}},
	{[]string{"CY10259033P"}, []string{"CY10259033Z"}},
	{[]string{"CZ25123891", "CZ7103192745", "CZ640903926", "CZ991231123"}, []string{"CZ25123890", "CZ7103192746", "CZ640903927"}},
	{[]string{"DE136695976"}, []string{"DE136695978"}},
	{[]string{"DK13585628"}, []string{"DK13585627"}},
	{[]string{"EE100931558", "EE100594102"}, []string{"EE100594103"}},
	{[]string{"EL094259216"}, []string{"EL094259217"}},
	{[]string{"ESB64717838", "ES54362315K", "ESX5253868R", "ESJ99216582"}, []string{"ESB64717839", "ES54362315Z", "ESX5253868T", "ESJ99216583"}},
	{[]string{"FI20774740"}, []string{"FI20774741"}},
	{[]string{"FR40303265045", "FR23334175221", "FRK7399859412", "FR4Z123456782"}, []string{"FR84323140391", "FRK7399859413"}},
	{[]string{"HR33392005961"}, []string{"HR33392005962"}},
	{[]string{"HU12892312"}, []string{"HU12892313"}},
	{[]string{"IE6433435F", "IE8D79739I"}, []string{"IE6433435E", "IE8D79739J"}},
	{[]string{"IT00743110157"}, []string{"IT00743110158"}},
	{[]string{"LT119511515", "LT100001919017", "LT100004801610"}, []string{"LT100001919018", "LT119511516"}},
	{[]string{"LU15027442"}, []string{"LU15027443"}},
	{[]string{"LV40003521600", "LV16117519997"}, []string{"LV40003521601", "LV16117519998"}},
	{[]string{"MT11679112"}, []string{"MT11679113"}},
	{[]string{"NL004495445B01", "NL000099998B57"}, []string{"NL123456789B90", "NL000099998B58"}},
	{[]string{"PL8567346215"}, []string{"PL8567346216"}},
	{[]string{"PT501964843"}, []string{"PT501964842"}},
	{[]string{"RO18547290"}, []string{"RO18547291"}},
	{[]string{"SE556737043101"}, []string{"SE556737043201"}},
	{[]string{"SI50223054"}, []string{"SI50223055"}},
	{[]string{"SK2022749619"}, []string{"SK2022749618"}},
	{[]string{"XI980780684", "XIGD123", "XIHA567"}, []string{"XI802311781"}},
}

func TestNormalizeNumberPublished(t *testing.T) {
	seen := map[string]bool{}
	for _, p := range publishedNumbers {
		for _, n := range p.valid {
			seen[n[:2]] = true
			got, err := NormalizeNumber(n)
			if err != nil || got != n {
				t.Errorf("NormalizeNumber(%s) = %q, %v", n, got, err)
			}
		}
		for _, n := range p.badChecksum {
			_, err := NormalizeNumber(n)
			if !errors.Is(err, ErrChecksum) {
				t.Errorf("NormalizeNumber(%s): err %v, want ErrChecksum", n, err)
			}
		}
	}
	for _, c := range Countries() {
		if !seen[c] {
			t.Errorf("%s: no published example", c)
		}
	}
}

func TestNormalizeNumberForms(t *testing.T) {
	tests := []struct {
		in, want string
		err      error
	}{
		{"SE556737043101", "SE556737043101", nil},
		{"se 556737-0431 01", "SE556737043101", nil},
		{"GR094259216", "EL094259216", nil},
		{"gr 094.259.216", "EL094259216", nil},
		{"BE 428.759.497", "BE0428759497", nil}, // old nine-digit form
		{"NL123456789B01", "", ErrChecksum},
		{"ATU12345675", "ATU12345675", nil},
		{"atu 1234 5675", "ATU12345675", nil},
		{"XI 980 7806 84", "XI980780684", nil},
		{"SE123456789012", "", ErrFormat}, // does not end in 01
		{"SE55673704310", "", ErrFormat},
		{"DE123456789X", "", ErrFormat}, // anchoring
		{"DE1234567890", "", ErrFormat},
		{"FRIO123456789", "", ErrFormat}, // I and O are not key characters
		{"EL12345678", "", ErrFormat},
		{"BE2403019261", "", ErrFormat},  // must start with 0 or 1
		{"CZ91234567", "", ErrFormat},    // legal entities never start with 9
		{"LV16137519997", "", ErrFormat}, // no 16 Dec 75... month 13
		{"ITO0743110157", "", ErrFormat},
		{"IT00743112007", "", ErrFormat}, // office code 200
		{"LT119511525", "", ErrFormat},   // 8th digit must be 1
		{"XIGD500", "", ErrFormat},
		{"US123456789", "", ErrUnknownCountry},
		{"GB980780684", "", ErrUnknownCountry}, // Great Britain left the EU VAT area
		{"CH123", "", ErrUnknownCountry},
		{"556737043101", "", ErrFormat}, // no prefix
		{"", "", ErrFormat},
		{"S", "", ErrFormat},
		{"SE 5567_37043101", "", ErrFormat},
		{"SE556737043101SE556737043101", "", ErrFormat},
		{"ÅE123", "", ErrFormat},
	}
	for _, tt := range tests {
		got, err := NormalizeNumber(tt.in)
		if tt.err == nil {
			if err != nil || got != tt.want {
				t.Errorf("NormalizeNumber(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
			continue
		}
		if !errors.Is(err, tt.err) || got != "" {
			t.Errorf("NormalizeNumber(%q) = %q, %v; want %v", tt.in, got, err, tt.err)
		}
		var e *Error
		if !errors.As(err, &e) || e.Op != "normalize number" {
			t.Errorf("NormalizeNumber(%q): %T %v is no *Error", tt.in, err, err)
		}
	}
}

// checkDigitRules restate the published rules as equations on random
// bodies, independently of number.go: each gives the check digit(s) a body
// must end with, or ok=false when no digit can make the body valid.
var checkDigitRules = []struct {
	prefix string
	body   int // digits before the check digit
	first  string
	suffix string
	check  func(d []int) (int, bool)
}{
	{"DK", 7, "123456789", "", func(d []int) (int, bool) { return mod11Complement(d, 2, 7, 6, 5, 4, 3, 2) }},
	{"FI", 7, "", "", func(d []int) (int, bool) { return mod11Complement(d, 7, 9, 10, 5, 8, 4, 2) }},
	{"HU", 7, "", "", func(d []int) (int, bool) { return (10 - dot(d, 9, 7, 3, 1, 9, 7, 3)%10) % 10, true }},
	{"MT", 7, "123456789", "", func(d []int) (int, bool) {
		c := (37 - dot(d, 3, 4, 6, 7, 8, 9, 10)%37) % 37
		return c, c <= 9
	}},
	{"PL", 9, "", "", func(d []int) (int, bool) { c := dot(d, 6, 5, 7, 2, 3, 4, 5, 6, 7) % 11; return c, c != 10 }},
	{"PT", 8, "123456789", "", func(d []int) (int, bool) {
		c := 11 - dot(d, 9, 8, 7, 6, 5, 4, 3, 2)%11
		if c >= 10 {
			c = 0
		}
		return c, true
	}},
	{"SI", 7, "123456789", "", func(d []int) (int, bool) {
		c := 11 - dot(d, 8, 7, 6, 5, 4, 3, 2)%11
		if c == 10 {
			c = 0
		}
		return c, c != 11
	}},
	{"EL", 8, "", "", func(d []int) (int, bool) { return dot(d, 256, 128, 64, 32, 16, 8, 4, 2) % 11 % 10, true }},
	{"SE", 9, "", "01", func(d []int) (int, bool) {
		// Luhn: double every second digit from the right of the nine.
		s := 0
		for i, v := range d {
			if i%2 == 0 {
				v *= 2
				if v > 9 {
					v -= 9
				}
			}
			s += v
		}
		return (10 - s%10) % 10, true
	}},
	{"DE", 8, "123456789", "", func(d []int) (int, bool) { return iso7064(d), true }},
	{"HR", 10, "", "", func(d []int) (int, bool) { return iso7064(d), true }},
	{"EE", 8, "1", "", func(d []int) (int, bool) {
		if d[1] != 0 {
			return 0, false
		}
		return (10 - dot(d, 3, 7, 1, 3, 7, 1, 3, 7)%10) % 10, true
	}},
}

func dot(d []int, w ...int) int {
	s := 0
	for i := range w {
		s += d[i] * w[i]
	}
	return s
}

func mod11Complement(d []int, w ...int) (int, bool) {
	c := (11 - dot(d, w...)%11) % 11
	return c, c != 10
}

// iso7064 is ISO 7064 MOD 11,10 as the standard states it: the check digit
// makes the running product reach 1.
func iso7064(d []int) int {
	for c := 0; c <= 9; c++ {
		p := 10
		for _, v := range append(append([]int{}, d...), c) {
			s := (p + v) % 10
			if s == 0 {
				s = 10
			}
			p = s * 2 % 11
		}
		if p == 2 { // after the check digit, s must have been 1
			return c
		}
	}
	return -1
}

func TestNormalizeNumberCheckDigits(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, r := range checkDigitRules {
		t.Run(r.prefix, func(t *testing.T) {
			accepted := 0
			for range 300 {
				d := make([]int, r.body)
				for i := range d {
					d[i] = rng.IntN(10)
				}
				if r.first != "" {
					d[0] = int(r.first[rng.IntN(len(r.first))] - '0')
				}
				if r.prefix == "EE" {
					d[1] = 0 // Estonian numbers start with 10
				}
				var b strings.Builder
				b.WriteString(r.prefix)
				for _, v := range d {
					fmt.Fprint(&b, v)
				}
				body := b.String()
				want, ok := r.check(d)
				for c := 0; c <= 9; c++ {
					n := fmt.Sprintf("%s%d%s", body, c, r.suffix)
					_, err := NormalizeNumber(n)
					if ok && c == want {
						accepted++
						if err != nil {
							t.Errorf("%s: %v", n, err)
						}
					} else if !errors.Is(err, ErrChecksum) && !errors.Is(err, ErrFormat) {
						t.Errorf("%s accepted (rule wants %d, ok=%t)", n, want, ok)
					}
				}
			}
			if accepted < 50 {
				t.Errorf("only %d valid numbers generated", accepted)
			}
		})
	}
}

func TestNormalizeNumberAllocations(t *testing.T) {
	if n := testing.AllocsPerRun(100, func() { _, _ = NormalizeNumber("SE556737043101") }); n != 0 {
		t.Errorf("canonical input: %v allocations, want 0", n)
	}
	if n := testing.AllocsPerRun(100, func() { _, _ = NormalizeNumber("se 556737-0431 01") }); n > 1 {
		t.Errorf("input to clean: %v allocations, want at most 1", n)
	}
	if n := testing.AllocsPerRun(100, func() { _, _ = NormalizeNumber("SE556737043201") }); n > 1 {
		t.Errorf("checksum failure: %v allocations, want at most 1", n)
	}
}

func FuzzNormalizeNumber(f *testing.F) {
	for _, p := range publishedNumbers {
		for _, n := range append(p.valid, p.badChecksum...) {
			f.Add(n)
		}
	}
	for _, s := range []string{"", "GR 094 259 216", "be428759497", "XIGD123", "IE1234567FA", "ES-X5253868R", "SE\x00", "..--  ", "ATU"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := NormalizeNumber(s)
		if err != nil {
			if got != "" {
				t.Fatalf("%q: result %q with error %v", s, got, err)
			}
			if !errors.Is(err, ErrFormat) && !errors.Is(err, ErrChecksum) && !errors.Is(err, ErrUnknownCountry) {
				t.Fatalf("%q: unexpected error kind %v", s, err)
			}
			return
		}
		if len(got) < 4 || len(got) > maxNumberLen {
			t.Fatalf("%q → %q: length", s, got)
		}
		for i := 0; i < len(got); i++ {
			if c := got[i]; !isDigit(c) && !isLetter(c) && c != '+' && c != '*' {
				t.Fatalf("%q → %q: character %q", s, got, c)
			}
		}
		if _, err := VATPrefix(got[:2]); err != nil || got[:2] == "GR" {
			t.Fatalf("%q → %q: prefix", s, got)
		}
		again, err := NormalizeNumber(got)
		if err != nil || again != got {
			t.Fatalf("not idempotent: %q → %q → %q, %v", s, got, again, err)
		}
	})
}

func BenchmarkNormalizeNumber(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := NormalizeNumber("se 5567-3704 3101"); err != nil {
			b.Fatal(err)
		}
	}
}
