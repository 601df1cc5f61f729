package paypaltest

import "testing"

func TestCompilePattern(t *testing.T) {
	m, err := compilePattern(`^(?!\d+$)\w+\S+`)
	if err != nil {
		t.Fatal(err)
	}
	for s, want := range map[string]bool{
		"69cd13f0-d67a-11e5-baa3-778b53f4ae55":  true,
		"1234567":                               false, // all digits: the lookahead refuses
		"+lmI95Jx3Y9nhR5SJWlHVIWpg4AgFk7n9bC==": true,  // relaxed: base64 may start with '+'
		"a":                                     false, // \S+ needs a second character
		"":                                      false,
	} {
		if got := m.MatchString(s); got != want {
			t.Errorf("%q: %v, want %v", s, got, want)
		}
	}
	la, err := compilePattern(`^(?!ab)[a-z]+$`)
	if err != nil {
		t.Fatal(err)
	}
	if la.MatchString("abc") || !la.MatchString("bac") || la.MatchString("BAC") {
		t.Error("generic lookahead misbehaves")
	}
	for _, bad := range []string{`(?<=a)b`, `^(?!a`, `^(?!a)(`} {
		if _, err := compilePattern(bad); err == nil {
			t.Errorf("%q compiled", bad)
		}
	}
}

func TestSpecsLoad(t *testing.T) {
	s, err := loadSpecs()
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.route(specPayments, "POST", "/v2/payments/captures/{capture_id}/refund")
	if err != nil {
		t.Fatal(err)
	}
	d := issueDescriptions(r, 422)
	if d["CAPTURE_FULLY_REFUNDED"] == "" || d["REFUND_AMOUNT_EXCEEDED"] == "" {
		t.Errorf("refund 422 issues not read from the description: %v", d)
	}
	if _, err := s.route(specPayments, "DELETE", "/v2/payments/captures/{capture_id}"); err == nil {
		t.Error("found an operation the description lacks")
	}
}
