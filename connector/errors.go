package connector

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Kind classifies a failure so the engine can decide what to do without
// knowing the system: retry later, fix the data, ask for new credentials, or
// route around a missing feature.
type Kind int

// Error kinds.
const (
	KindUnknown     Kind = iota
	KindNotFound         // the thing does not exist
	KindConflict         // conflict or duplicate: already exists, wrong state, already captured
	KindValidation       // the request was refused as invalid; fix the data
	KindAuth             // credentials missing, wrong or without permission
	KindRateLimited      // throttled; RetryAfter says how long to wait
	KindTemporary        // server or network trouble; the same call may succeed later
	KindPermanent        // refused for good, for a reason none of the above covers
	KindUnsupported      // the system cannot do this at all
)

// Sentinels for errors.Is: errors.Is(err, connector.ErrNotFound).
var (
	ErrNotFound    = errors.New("not found")
	ErrConflict    = errors.New("conflict")
	ErrValidation  = errors.New("validation failed")
	ErrAuth        = errors.New("not authorized")
	ErrRateLimited = errors.New("rate limited")
	ErrTemporary   = errors.New("temporary failure")
	ErrPermanent   = errors.New("permanent failure")
	ErrUnsupported = errors.New("unsupported by this system")
)

var kindSentinels = [...]error{
	KindUnknown:     nil,
	KindNotFound:    ErrNotFound,
	KindConflict:    ErrConflict,
	KindValidation:  ErrValidation,
	KindAuth:        ErrAuth,
	KindRateLimited: ErrRateLimited,
	KindTemporary:   ErrTemporary,
	KindPermanent:   ErrPermanent,
	KindUnsupported: ErrUnsupported,
}

// Sentinel is the sentinel error of k (nil for KindUnknown).
func (k Kind) Sentinel() error {
	if int(k) < 0 || int(k) >= len(kindSentinels) {
		return nil
	}
	return kindSentinels[k]
}

func (k Kind) String() string {
	if s := k.Sentinel(); s != nil {
		return s.Error()
	}
	return "failed"
}

// Error is the one error type every connector returns. It names the system
// and the operation, carries what the system said (redacted: it never holds
// a secret), and matches its kind's sentinel with errors.Is.
type Error struct {
	System     string        // "shopify", "klarna", …
	Op         string        // the operation, e.g. "CreateOrder"
	Kind       Kind          // classification
	Status     int           // HTTP status, 0 when none was received
	Code       string        // the system's own error code
	Message    string        // the system's message, redacted
	Field      string        // the field at fault, for validation errors
	RetryAfter time.Duration // how long the system asked us to wait
	RequestID  string        // the system's request or correlation id
	// MaybeApplied is set when the request may have taken effect although
	// no answer arrived (a timeout after sending, a connection dropped while
	// reading). A write that failed this way must only be repeated with the
	// same idempotency key, or after looking up whether it happened.
	MaybeApplied bool
	Err          error // the cause, if any
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.System)
	b.WriteString(": ")
	b.WriteString(e.Op)
	b.WriteString(": ")
	b.WriteString(e.Kind.String())
	if e.Status != 0 || e.Code != "" {
		b.WriteString(" (")
		if e.Status != 0 {
			fmt.Fprintf(&b, "%d", e.Status)
			if e.Code != "" {
				b.WriteByte(' ')
			}
		}
		b.WriteString(e.Code)
		b.WriteByte(')')
	}
	if e.Field != "" {
		b.WriteString(": field ")
		b.WriteString(e.Field)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, " (retry after %s)", e.RetryAfter)
	}
	if e.MaybeApplied {
		b.WriteString(" (the request may have been applied)")
	}
	if e.RequestID != "" {
		b.WriteString(" [request ")
		b.WriteString(e.RequestID)
		b.WriteByte(']')
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Is matches the sentinel of e's kind.
func (e *Error) Is(target error) bool {
	s := e.Kind.Sentinel()
	return s != nil && target == s
}

// NewError builds an *Error; a convenience for system packages.
func NewError(system, op string, kind Kind, format string, args ...any) *Error {
	return &Error{System: system, Op: op, Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// Wrap turns any error into an *Error of system and op. An *Error already
// naming a system keeps its classification (the op is kept too); a context
// error becomes KindTemporary wrapping it, so errors.Is(err,
// context.Canceled) still holds.
func Wrap(system, op string, err error) error {
	if err == nil {
		return nil
	}
	var ce *Error
	if errors.As(err, &ce) && ce.System != "" {
		return err
	}
	kind := KindPermanent
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		kind = KindTemporary
	}
	if ce != nil {
		kind = ce.Kind
	}
	return &Error{System: system, Op: op, Kind: kind, Err: err}
}

// KindOf returns the kind of the first *Error in err's chain, KindUnknown if
// none.
func KindOf(err error) Kind {
	var ce *Error
	if errors.As(err, &ce) {
		return ce.Kind
	}
	return KindUnknown
}

// IsRetryable reports whether repeating the same call later may succeed:
// rate limits and temporary failures. A MaybeApplied write is retryable only
// with its idempotency key; that is the caller's to ensure.
func IsRetryable(err error) bool {
	k := KindOf(err)
	return k == KindRateLimited || k == KindTemporary
}

// RetryAfterOf returns the wait a rate-limited or temporary error asked for.
func RetryAfterOf(err error) time.Duration {
	var ce *Error
	if errors.As(err, &ce) {
		return ce.RetryAfter
	}
	return 0
}

// KindForStatus is the default classification of an HTTP status. System
// packages refine it with the error codes their APIs send.
func KindForStatus(status int) Kind {
	switch {
	case status == http.StatusNotFound || status == http.StatusGone:
		return KindNotFound
	case status == http.StatusConflict || status == http.StatusPreconditionFailed:
		return KindConflict
	case status == http.StatusBadRequest || status == http.StatusUnprocessableEntity || status == http.StatusRequestEntityTooLarge:
		return KindValidation
	case status == http.StatusUnauthorized || status == http.StatusForbidden || status == http.StatusPaymentRequired:
		return KindAuth
	case status == http.StatusTooManyRequests:
		return KindRateLimited
	case status == http.StatusNotImplemented:
		return KindUnsupported
	case status == http.StatusRequestTimeout || status >= 500:
		return KindTemporary
	case status >= 400:
		return KindPermanent
	}
	return KindUnknown
}
