package reconcile

import (
	"errors"
	"strings"
)

// Sentinel errors. Every error the package returns matches one of them with
// errors.Is, usually through an *Error naming the operation and subject.
var (
	// ErrMissingAccount is an account the reconciler would post to that the
	// AccountPlan does not set, or sets to something that is not an account
	// number.
	ErrMissingAccount = errors.New("account missing from the plan")
	// ErrNoFeePolicy is a provider with fees but no FeePolicy.
	ErrNoFeePolicy = errors.New("no fee policy for the provider")
	// ErrInvalidInput is a payout, transaction or document the reconciler
	// cannot use: a missing id or currency, an amount that is not exact in
	// minor units, a transaction whose net is not amount − fee − fee VAT.
	ErrInvalidInput = errors.New("invalid input")
	// ErrCurrency is a transaction in another currency than its payout, or
	// an amount in a currency that needs conversion when no exchange rates
	// were configured.
	ErrCurrency = errors.New("unexpected currency")
	// ErrNotSumming is a payout whose transactions do not sum to its amount
	// (beyond the rounding tolerance).
	ErrNotSumming = errors.New("payout transactions do not sum to the payout")
	// ErrUnbalanced is a voucher that could not be balanced to exactly
	// zero. The reconciler never returns such a voucher; it refuses the
	// payout with this error instead.
	ErrUnbalanced = errors.New("voucher cannot be balanced")
	// ErrUnsupported is a document the booking rules have no accounts for,
	// such as an invoice under a VAT scheme the plan does not cover.
	ErrUnsupported = errors.New("no booking rule")
)

// Error is the package's error: the operation ("run", "book payout",
// "book sale", "plan"), the subject (a payout, transaction or document id,
// or a plan field) and a detail, wrapping a sentinel above or an underlying
// error.
type Error struct {
	Op      string
	Subject string
	Detail  string
	Err     error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("reconcile: ")
	b.WriteString(e.Op)
	if e.Subject != "" {
		b.WriteString(" ")
		b.WriteString(e.Subject)
	}
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

func errorf(op, subject string, err error, detail string) *Error {
	return &Error{Op: op, Subject: subject, Detail: detail, Err: err}
}
