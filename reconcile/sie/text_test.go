package sie

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"
)

func TestCleanText(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"Klarna utbetalning", "Klarna utbetalning"},
		{"Räksmörgås ÅÄÖ é ü ß £", "Räksmörgås ÅÄÖ é ü ß £"},
		{"a\u030angström", "ångström"}, // decomposed å
		{"Smørrebrød Øl", "Smörrebröd Öl"},
		{"Pris 10 €", "Pris 10 EUR"},
		{"“citat” ‘enkla’ „tyska“", `"citat" 'enkla' "tyska"`},
		{"1–2 — slut…", "1-2 - slut..."},
		{"Škoda Žilina Łódź Ćevapi", "Skoda Zilina Lódz Cevapi"},
		{"tab\there\r\nrad", "tab here  rad"},
		{"nbsp\u00a0x", "nbsp x"},
		{"soft\u00adhyphen\u200bzero", "softhyphenzero"},
		{"👍 ok", "? ok"},
		{"👍🏽", "?"}, // skin-tone modifier dropped
		{"❤️", "?"}, // variation selector dropped
		{"中文", "??"},
		{"ﬁne™", "fineTM"},
		{"Œuvre þorn", "OEuvre thorn"},
		{"\xff bad utf-8", "? bad utf-8"},
	}
	for _, tt := range tests {
		got, changed := cleanText(tt.in)
		if got != tt.want || changed != (tt.in != tt.want) {
			t.Errorf("cleanText(%q) = %q, %v; want %q, %v", tt.in, got, changed, tt.want, tt.in != tt.want)
		}
		for _, r := range got {
			if !encodable(r) {
				t.Errorf("cleanText(%q) kept %q, which code page 437 cannot encode", tt.in, r)
			}
		}
	}
}

func TestTruncateText(t *testing.T) {
	tests := []struct {
		in   string
		max  int
		want string
		cut  bool
	}{
		{"short", 50, "short", false},
		{"åäöåäöåäöå", 10, "åäöåäöåäöå", false}, // counted in characters, not bytes
		{"åäöåäöåäöåX", 10, "åäöåäöåäöå", true},
		{"word one two", 9, "word one", true}, // the space left at the cut is dropped
		{"anything", 0, "anything", false},    // 0: no limit
	}
	for _, tt := range tests {
		got, cut := truncateText(tt.in, tt.max)
		if got != tt.want || cut != tt.cut {
			t.Errorf("truncateText(%q, %d) = %q, %v; want %q, %v", tt.in, tt.max, got, cut, tt.want, tt.cut)
		}
	}
}

func TestQuoting(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"", `""`},
		{"plain", `"plain"`},
		{"with space", `"with space"`},
		{`say "hi"`, `"say \"hi\""`},
		{`C:\dir\file`, `"C:\dir\file"`}, // a backslash before a letter stays as is
		{`ends\`, `"ends\\"`},
		{`a\\b`, `"a\\\b"`},
		{`a\"`, `"a\\\""`},
		{"{} #TRANS", `"{} #TRANS"`},
		{"åÄ", "\"\x86\x8e\""},
	}
	for _, tt := range tests {
		got := string(appendQuoted(nil, tt.in))
		if got != tt.want {
			t.Errorf("appendQuoted(%q) = %s, want %s", tt.in, got, tt.want)
		}
		back, n, ok := scanQuoted([]byte(got + " rest"))
		if !ok || n != len(got) || cp437Table.decode(back) != tt.in {
			t.Errorf("scanQuoted(%s) = %q, %d, %v; want %q, %d", got, back, n, ok, tt.in, len(got))
		}
	}
}

func TestSafeUnquoted(t *testing.T) {
	for s, want := range map[string]bool{"1.0": true, "2026.1": true, "": false, "1 0": false, `a"`: false, "{": false, "ä": false, `a\b`: false} {
		if got := safeUnquoted(s); got != want {
			t.Errorf("safeUnquoted(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestCompareCodes(t *testing.T) {
	got := []string{"32400", "3010", "A1", "0100", "100", "9", "B", "01"}
	slices.SortFunc(got, compareCodes)
	want := []string{"01", "9", "0100", "100", "3010", "32400", "A1", "B"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
}

func TestBAS2026(t *testing.T) {
	plan := BAS2026()
	// The accounts e-commerce reconciliation needs (reference §2, §4).
	for _, no := range []string{"1510", "1580", "1686", "1930", "2611", "2614", "2621", "2631", "2641", "2645",
		"2650", "2670", "3001", "3002", "3003", "3106", "3740", "3960", "6040", "6064", "6570", "7960"} {
		name, ok := plan.Name(no)
		if !ok || name == "" {
			t.Errorf("BAS2026 lacks account %s", no)
		}
		if clean, changed := cleanText(name); changed {
			t.Errorf("account %s name %q is not code page 437 (%q)", no, name, clean)
		}
	}
	if n, _ := plan.Name("1686"); n != "Fordringar för kontokort och kuponger" {
		t.Errorf("1686 = %q", n)
	}
	if _, ok := plan.Name("9999"); ok {
		t.Error("Name(9999) reported ok")
	}
	nums := plan.Numbers()
	if len(nums) != len(plan) || !slices.IsSortedFunc(nums, compareCodes) {
		t.Errorf("Numbers() = %v, not all accounts in numeric order", nums)
	}
	plan["1580"] = Account{Name: "changed"}
	if n, _ := BAS2026().Name("1580"); n == "changed" {
		t.Error("BAS2026 returns a shared map")
	}
}

func TestAppendAmount(t *testing.T) {
	tests := []struct {
		d     decimal.Decimal
		want  string
		exact bool
	}{
		{decimal.Decimal{}, "0.00", true},
		{decimal.RequireFromString("0"), "0.00", true},
		{decimal.RequireFromString("-0.5"), "-0.50", true},
		{decimal.RequireFromString("1218.75"), "1218.75", true},
		{decimal.RequireFromString("-1250"), "-1250.00", true},
		{decimal.New(12, 3), "12000.00", true},                                                            // exponent above zero
		{decimal.New(12300, -4), "1.23", true},                                                            // more digits than needed, exact
		{decimal.New(-5, -30), "", false},                                                                 // tiny, far below the öre
		{decimal.New(0, -30), "0.00", true},                                                               // zero with a huge exponent
		{decimal.RequireFromString("1.005"), "", false},                                                   // inexact
		{decimal.RequireFromString("92233720368547758.07"), "92233720368547758.07", true},                 // int64 hundredths limit
		{decimal.RequireFromString("-123456789012345678901234.50"), "-123456789012345678901234.50", true}, // beyond int64: slow path
		{decimal.RequireFromString("123456789012345678901234.505"), "", false},
	}
	for _, tt := range tests {
		_, exact := hundredths(tt.d)
		if exact != tt.exact {
			t.Errorf("hundredths(%s) exact = %v, want %v", tt.d, exact, tt.exact)
			continue
		}
		if !exact {
			continue
		}
		if got := string(appendAmount(nil, tt.d)); got != tt.want {
			t.Errorf("appendAmount(%s) = %s, want %s", tt.d, got, tt.want)
		}
	}
}
