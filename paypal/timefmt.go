package paypal

import (
	"errors"
	"fmt"
	"time"
)

// ErrBadTime is returned, wrapped, for a date-time PayPal's parsers refuse.
var ErrBadTime = errors.New("paypal: malformed date-time")

// reportingLayout is how Transaction Search writes dates: RFC 3339 but
// with the offset's colon missing ("2014-07-11T04:03:52+0000").
const reportingLayout = "2006-01-02T15:04:05-0700"

// ParseTime reads a PayPal date-time strictly. PayPal writes two forms:
// RFC 3339 in the Payments and Orders APIs ("2018-02-27T17:10:12Z",
// "…+02:00") and a colon-less offset in Transaction Search
// ("2014-07-11T04:03:52+0000"). Both are accepted, with optional fractional
// seconds (1–9 digits). Everything else is refused: a lower-case 't' or 'z',
// a missing or partial offset, out-of-range fields (month 13, 31 April,
// 29 February outside leap years, hour 24, second 60), offsets beyond ±23:59,
// surrounding space. The result keeps the offset as a fixed zone, so the
// account's local calendar date stays available.
func ParseTime(s string) (time.Time, error) {
	t, err := parseTime(s)
	if err != nil {
		if len(s) > 64 {
			s = s[:64] + "…"
		}
		return time.Time{}, fmt.Errorf("%w: %q: %s", ErrBadTime, s, err.Error())
	}
	return t, nil
}

// FormatTime writes t in Transaction Search's form, in t's own offset.
func FormatTime(t time.Time) string { return t.Format(reportingLayout) }

// formatQueryTime writes a query date: RFC 3339 in UTC with whole seconds,
// which is what the specification's pattern for start_date and end_date
// accepts.
func formatQueryTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func parseTime(s string) (time.Time, error) {
	// Fixed part: YYYY-MM-DDThh:mm:ss (19 bytes).
	if len(s) < 19 {
		return time.Time{}, errors.New("too short")
	}
	num := func(from, n int) (int, bool) {
		v := 0
		for i := from; i < from+n; i++ {
			c := s[i]
			if c < '0' || c > '9' {
				return 0, false
			}
			v = v*10 + int(c-'0')
		}
		return v, true
	}
	year, ok1 := num(0, 4)
	month, ok2 := num(5, 2)
	day, ok3 := num(8, 2)
	hour, ok4 := num(11, 2)
	minute, ok5 := num(14, 2)
	sec, ok6 := num(17, 2)
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' {
		return time.Time{}, errors.New("not YYYY-MM-DDThh:mm:ss")
	}
	if month < 1 || month > 12 {
		return time.Time{}, errors.New("month out of range")
	}
	if day < 1 || day > daysIn(time.Month(month), year) {
		return time.Time{}, errors.New("day out of range")
	}
	if hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, errors.New("time of day out of range")
	}
	rest := s[19:]
	nsec := 0
	if len(rest) > 0 && rest[0] == '.' {
		i := 1
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		digits := i - 1
		if digits == 0 || digits > 9 {
			return time.Time{}, errors.New("fractional seconds need 1 to 9 digits")
		}
		for j := 1; j <= 9; j++ {
			nsec *= 10
			if j <= digits {
				nsec += int(rest[j] - '0')
			}
		}
		rest = rest[i:]
	}
	var offset int
	switch {
	case rest == "Z":
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':':
		oh, okh := atoi2(rest[1:3])
		om, okm := atoi2(rest[4:6])
		if !okh || !okm || oh > 23 || om > 59 {
			return time.Time{}, errors.New("bad offset")
		}
		offset = oh*3600 + om*60
		if rest[0] == '-' {
			offset = -offset
		}
	case len(rest) == 5 && (rest[0] == '+' || rest[0] == '-'):
		oh, okh := atoi2(rest[1:3])
		om, okm := atoi2(rest[3:5])
		if !okh || !okm || oh > 23 || om > 59 {
			return time.Time{}, errors.New("bad offset")
		}
		offset = oh*3600 + om*60
		if rest[0] == '-' {
			offset = -offset
		}
	default:
		return time.Time{}, errors.New("offset must be Z, ±hh:mm or ±hhmm")
	}
	loc := time.UTC
	if rest != "Z" {
		loc = time.FixedZone("", offset)
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, nsec, loc), nil
}

func atoi2(s string) (int, bool) {
	if len(s) != 2 || s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9' {
		return 0, false
	}
	return int(s[0]-'0')*10 + int(s[1]-'0'), true
}

func daysIn(m time.Month, year int) int {
	switch m {
	case time.February:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case time.April, time.June, time.September, time.November:
		return 30
	}
	return 31
}
