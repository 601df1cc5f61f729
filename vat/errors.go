package vat

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors. Every error the package returns matches one of them with
// errors.Is, usually through an *Error that says which operation, country
// and value were involved.
var (
	// ErrUnknownCountry is a code that is neither an ISO code nor a VAT
	// prefix of the dataset (the 27 member states and XI).
	ErrUnknownCountry = errors.New("unknown country")
	// ErrUnknownCategory is a Category value or name the package does not
	// define.
	ErrUnknownCategory = errors.New("unknown category")
	// ErrNoRate means the dataset has no rate for the country, category and
	// date asked. The package never substitutes the standard rate.
	ErrNoRate = errors.New("no rate in the data")
	// ErrBeforeCoverage is a date before the first period the dataset has
	// for the country and category; it also matches ErrNoRate.
	ErrBeforeCoverage = fmt.Errorf("%w: date before the data's coverage", ErrNoRate)
	// ErrInvalid is input the package cannot work with: a negative rate,
	// a missing currency, an amount that is not exact.
	ErrInvalid = errors.New("invalid input")
	// ErrFormat is a VAT number whose characters or length do not match its
	// country's format.
	ErrFormat = errors.New("bad format")
	// ErrChecksum is a VAT number in the right format whose check digits
	// are wrong.
	ErrChecksum = errors.New("bad checksum")
	// ErrMissingFXRate is an OSS conversion without an ECB rate for the
	// currency and date it needs.
	ErrMissingFXRate = errors.New("missing exchange rate")
	// ErrECB is an ECB eurofxref document that cannot be read.
	ErrECB = errors.New("malformed ECB reference rate document")
	// ErrVIESUnavailable means VIES gave no definite answer: the service or
	// the member state's node is down, busy or timed out. Retry later.
	ErrVIESUnavailable = errors.New("vies unavailable")
)

// Error is the package's error: the operation, the country when there is
// one, the offending value and a detail, wrapping a sentinel above (or an
// underlying error such as a failed HTTP request).
type Error struct {
	Op      string // "rate", "normalize number", "vies check", …
	Country string // VAT prefix or code as given, if any
	Value   string // the input at fault, if useful (a VAT number, a category)
	Detail  string
	Err     error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("vat: ")
	b.WriteString(e.Op)
	if e.Country != "" {
		b.WriteString(": ")
		b.WriteString(e.Country)
	}
	if e.Value != "" {
		fmt.Fprintf(&b, " %q", e.Value)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	return b.String()
}

// Unwrap returns the wrapped sentinel or cause.
func (e *Error) Unwrap() error { return e.Err }

func unknownCountry(op, code string) error {
	return &Error{Op: op, Value: truncate(code, 16), Err: ErrUnknownCountry}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
