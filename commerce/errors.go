package commerce

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors; every error this package returns matches one of them with
// errors.Is.
var (
	// ErrInvalid is matched by every validation failure (a *FieldError).
	ErrInvalid = errors.New("invalid")
	// ErrUnknownCurrency is an unknown or missing ISO 4217 code.
	ErrUnknownCurrency = errors.New("unknown currency")
	// ErrInexact is an amount that is not a whole number of the currency's
	// minor units where exactness is required.
	ErrInexact = errors.New("amount not exact in minor units")
	// ErrCurrencyMismatch is arithmetic or comparison across currencies.
	ErrCurrencyMismatch = errors.New("currency mismatch")
	// ErrOverflow is an amount too large for the requested representation.
	ErrOverflow = errors.New("amount out of range")
)

// FieldError says which field of which value is wrong and why. Field is a
// path such as "lines[2].sku".
type FieldError struct {
	Field  string
	Value  string
	Reason string
	Err    error // a more specific sentinel (ErrInexact, ErrUnknownCurrency); nil means ErrInvalid only
}

func (e *FieldError) Error() string {
	var b strings.Builder
	b.WriteString("commerce: ")
	b.WriteString(e.Field)
	if e.Value != "" {
		fmt.Fprintf(&b, " %q", e.Value)
	}
	b.WriteString(": ")
	b.WriteString(e.Reason)
	return b.String()
}

// Unwrap exposes both ErrInvalid and the specific sentinel.
func (e *FieldError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrInvalid}
	}
	return []error{ErrInvalid, e.Err}
}

// prefixed returns a copy of e with the field path placed under parent.
func (e *FieldError) prefixed(parent string) *FieldError {
	c := *e
	if parent != "" {
		c.Field = parent + "." + e.Field
	}
	return &c
}

// CurrencyMismatchError names the operation and both currencies.
type CurrencyMismatchError struct {
	Op   string
	A, B Currency
}

func (e *CurrencyMismatchError) Error() string {
	return fmt.Sprintf("commerce: %s: currency mismatch %s vs %s", e.Op, codeOrNone(e.A), codeOrNone(e.B))
}

// Is makes errors.Is(err, ErrCurrencyMismatch) true.
func (e *CurrencyMismatchError) Is(target error) bool { return target == ErrCurrencyMismatch }

func codeOrNone(c Currency) string {
	if c.IsZero() {
		return "(none)"
	}
	return c.code
}

// validator collects field errors so that Validate reports every problem at
// once instead of one per round trip.
type validator struct {
	prefix string
	errs   []error
}

func (v *validator) path(field string) string {
	if v.prefix == "" {
		return field
	}
	return v.prefix + "." + field
}

func (v *validator) add(field, value, reason string) {
	v.errs = append(v.errs, &FieldError{Field: v.path(field), Value: value, Reason: reason})
}

// nest adds the errors of a nested Validate under field.
func (v *validator) nest(field string, err error) {
	if err == nil {
		return
	}
	for _, e := range flatten(err) {
		var fe *FieldError
		if errors.As(e, &fe) {
			v.errs = append(v.errs, fe.prefixed(v.path(field)))
			continue
		}
		v.errs = append(v.errs, fmt.Errorf("%s: %w", v.path(field), e))
	}
}

func (v *validator) err() error { return errors.Join(v.errs...) }

// flatten undoes errors.Join so nested paths can be prefixed one by one.
func flatten(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		if _, isField := err.(*FieldError); !isField {
			var out []error
			for _, e := range j.Unwrap() {
				out = append(out, flatten(e)...)
			}
			return out
		}
	}
	return []error{err}
}

// FieldErrors returns every *FieldError inside err (for example all problems
// a Validate found), in order.
func FieldErrors(err error) []*FieldError {
	var out []*FieldError
	for _, e := range flatten(err) {
		var fe *FieldError
		if errors.As(e, &fe) {
			out = append(out, fe)
		}
	}
	return out
}
