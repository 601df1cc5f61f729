package commerce

import (
	"fmt"
	"time"
)

// Date is a calendar date without a time of day or zone: an invoice date, a
// payout's arrival date, the day a VAT rate takes effect. Dates that matter
// for tax are calendar dates in the place where they apply; turning an
// instant into a Date is the caller's decision, made explicit with DateIn.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// NewDate returns the date, normalised the way time.Date normalises
// (2026-02-30 becomes 2026-03-02); use ParseDate for outside input.
func NewDate(year int, month time.Month, day int) Date {
	return DateOf(time.Date(year, month, day, 0, 0, 0, 0, time.UTC))
}

// DateOf is the calendar date of t in t's own location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{y, m, d}
}

// DateIn is the calendar date of instant t in loc, e.g. the Swedish date of
// a UTC timestamp: DateIn(t, stockholm).
func DateIn(t time.Time, loc *time.Location) Date { return DateOf(t.In(loc)) }

// ParseDate parses YYYY-MM-DD and rejects dates that do not exist.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, &FieldError{Field: "date", Value: truncate(s, 32), Reason: "not a YYYY-MM-DD calendar date"}
	}
	return DateOf(t), nil
}

// Time is midnight at the start of d in loc.
func (d Date) Time(loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, loc)
}

// IsZero reports whether d is the zero Date.
func (d Date) IsZero() bool { return d == Date{} }

// Valid reports whether d is a real calendar date in years 1–9999, the
// range every date format knyt writes (ISO 8601, SIE's YYYYMMDD) can hold.
func (d Date) Valid() bool {
	return d.Year >= 1 && d.Year <= 9999 && NewDate(d.Year, d.Month, d.Day) == d
}

// AddDays returns d moved by n days.
func (d Date) AddDays(n int) Date { return NewDate(d.Year, d.Month, d.Day+n) }

// Compare returns -1, 0 or +1 as d is before, equal to or after o.
func (d Date) Compare(o Date) int {
	switch {
	case d.Year != o.Year:
		return cmpInt(d.Year, o.Year)
	case d.Month != o.Month:
		return cmpInt(int(d.Month), int(o.Month))
	default:
		return cmpInt(d.Day, o.Day)
	}
}

// Before reports whether d is before o.
func (d Date) Before(o Date) bool { return d.Compare(o) < 0 }

// After reports whether d is after o.
func (d Date) After(o Date) bool { return d.Compare(o) > 0 }

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// String formats YYYY-MM-DD.
func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day) }

// MarshalText encodes YYYY-MM-DD; the zero Date encodes as "".
func (d Date) MarshalText() ([]byte, error) {
	if d.IsZero() {
		return []byte{}, nil
	}
	return []byte(d.String()), nil
}

// UnmarshalText decodes YYYY-MM-DD; "" decodes to the zero Date.
func (d *Date) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*d = Date{}
		return nil
	}
	p, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = p
	return nil
}
