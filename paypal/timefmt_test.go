package paypal

import (
	"errors"
	"testing"
	"time"
)

func TestParseTime(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
	}{
		{"2014-07-11T04:03:52+0000", time.Date(2014, 7, 11, 4, 3, 52, 0, time.UTC)},
		{"2019-07-01T00:00:00-0700", time.Date(2019, 7, 1, 7, 0, 0, 0, time.UTC)},
		{"2018-02-27T17:10:12Z", time.Date(2018, 2, 27, 17, 10, 12, 0, time.UTC)},
		{"2018-02-27T17:10:12+02:00", time.Date(2018, 2, 27, 15, 10, 12, 0, time.UTC)},
		{"2018-02-27T17:10:12.5Z", time.Date(2018, 2, 27, 17, 10, 12, 500_000_000, time.UTC)},
		{"2018-02-27T17:10:12.123456789-0530", time.Date(2018, 2, 27, 22, 40, 12, 123456789, time.UTC)},
		{"2024-02-29T23:59:59+0000", time.Date(2024, 2, 29, 23, 59, 59, 0, time.UTC)},
		{"2000-02-29T00:00:00Z", time.Date(2000, 2, 29, 0, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		got, err := ParseTime(tt.in)
		if err != nil {
			t.Errorf("ParseTime(%q): %v", tt.in, err)
			continue
		}
		if !got.Equal(tt.want) {
			t.Errorf("ParseTime(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestParseTimeKeepsOffset(t *testing.T) {
	got, err := ParseTime("2019-07-01T23:30:00-0700")
	if err != nil {
		t.Fatal(err)
	}
	if _, off := got.Zone(); off != -7*3600 {
		t.Errorf("offset %d, want -25200", off)
	}
	if got.Day() != 1 {
		t.Errorf("local day %d, want 1 (the account's calendar date)", got.Day())
	}
	if s := FormatTime(got); s != "2019-07-01T23:30:00-0700" {
		t.Errorf("FormatTime = %q", s)
	}
}

func TestParseTimeRejects(t *testing.T) {
	for _, in := range []string{
		"",
		"2014-07-11",
		"2014-07-11T04:03:52",      // no offset
		"2014-07-11T04:03:52+00",   // partial offset
		"2014-07-11T04:03:52+000",  // partial offset
		"2014-07-11T04:03:52+00:0", // partial offset
		"2014-07-11T04:03:52z",     // lower-case zone
		"2014-07-11t04:03:52Z",     // lower-case separator
		"2014-07-11 04:03:52Z",     // space separator
		"2014-13-11T04:03:52Z",     // month 13
		"2014-00-11T04:03:52Z",     // month 0
		"2014-04-31T04:03:52Z",     // 31 April
		"2023-02-29T04:03:52Z",     // not a leap year
		"1900-02-29T04:03:52Z",     // century, not a leap year
		"2014-07-11T24:00:00Z",     // hour 24
		"2014-07-11T23:60:00Z",     // minute 60
		"2014-07-11T23:59:60Z",     // leap second
		"2014-07-11T04:03:52.Z",    // empty fraction
		"2014-07-11T04:03:52.1234567891Z",
		"2014-07-11T04:03:52+2400", // offset hour 24
		"2014-07-11T04:03:52+0060", // offset minute 60
		" 2014-07-11T04:03:52Z",
		"2014-07-11T04:03:52Z ",
		"2014-07-11T04:03:52ZZ",
		"+2014-07-11T04:03:52Z",
		"2014-7-11T04:03:52Z",
		"２014-07-11T04:03:52Z",
		"2014-07-11T04:03:52+00:00x",
	} {
		if got, err := ParseTime(in); err == nil {
			t.Errorf("ParseTime(%q) = %v, want an error", in, got)
		} else if !errors.Is(err, ErrBadTime) {
			t.Errorf("ParseTime(%q): %v does not wrap ErrBadTime", in, err)
		}
	}
}

// FuzzParseTime checks that the parser never panics, and that whatever it
// accepts is well formed: it formats back to the same instant in both of
// PayPal's forms, and the colon-less form parses to the same instant again.
func FuzzParseTime(f *testing.F) {
	for _, s := range []string{
		"2014-07-11T04:03:52+0000", "2018-02-27T17:10:12Z", "2018-02-27T17:10:12.25-05:30",
		"2024-02-29T23:59:59+1400", "2014-07-11T04:03:52+00", "0000-01-01T00:00:00Z", "9999-12-31T23:59:59-2359",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseTime(s)
		if err != nil {
			if !errors.Is(err, ErrBadTime) {
				t.Fatalf("error %v does not wrap ErrBadTime", err)
			}
			return
		}
		if len(s) < 20 || s[10] != 'T' {
			t.Fatalf("accepted %q", s)
		}
		again, err := ParseTime(got.Format(time.RFC3339Nano))
		if err != nil || !again.Equal(got) {
			t.Fatalf("%q → %v does not round-trip through RFC 3339: %v, %v", s, got, again, err)
		}
		if got.Nanosecond() == 0 {
			again, err = ParseTime(FormatTime(got))
			if err != nil || !again.Equal(got) {
				t.Fatalf("%q → %v does not round-trip through PayPal's form: %v, %v", s, got, again, err)
			}
		}
	})
}
