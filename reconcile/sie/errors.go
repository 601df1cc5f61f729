package sie

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every error this package returns matches one of them
// with errors.Is, and wraps the more specific cause (a *commerce.FieldError,
// a *commerce.UnbalancedError) so errors.As reaches it too.
var (
	// ErrMalformed is input that is not a readable SIE 4 file; the
	// *SyntaxError carrying it names the line.
	ErrMalformed = errors.New("sie: malformed file")
	// ErrInvalidVoucher is a voucher the writer refuses: unbalanced, in the
	// wrong currency, with a bad account number, dimension or quantity.
	ErrInvalidVoucher = errors.New("sie: voucher cannot be written")
	// ErrMissingAccount is an account used by a voucher but absent from the
	// account plan (see AllowMissingAccounts).
	ErrMissingAccount = errors.New("sie: account not in the account plan")
	// ErrInvalidHeader is a header or writer option that cannot be written:
	// no company name, no generation date, an org number with spaces.
	ErrInvalidHeader = errors.New("sie: invalid header")
)

// SyntaxError is malformed input found by Read, with the 1-based line it
// was found on and the record label ("#TRANS") when there is one.
type SyntaxError struct {
	Line   int
	Label  string
	Reason string
	Err    error // the underlying cause, if any (a *commerce.UnbalancedError, a *commerce.FieldError)
}

func (e *SyntaxError) Error() string {
	msg := fmt.Sprintf("sie: line %d: ", e.Line)
	if e.Label != "" {
		msg += e.Label + ": "
	}
	msg += e.Reason
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap exposes ErrMalformed and the cause.
func (e *SyntaxError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrMalformed}
	}
	return []error{ErrMalformed, e.Err}
}

// VoucherError is a voucher the writer refused. Index is its position in
// the slice given to Write.
type VoucherError struct {
	ID    string
	Index int
	Err   error
}

func (e *VoucherError) Error() string {
	return fmt.Sprintf("sie: voucher %q (index %d): %v", e.ID, e.Index, e.Err)
}

// Unwrap exposes ErrInvalidVoucher and the cause.
func (e *VoucherError) Unwrap() []error { return []error{ErrInvalidVoucher, e.Err} }

// AccountError names an account that is used by a voucher but missing from
// the account plan; Voucher is the first voucher (by ID) that uses it.
type AccountError struct {
	Account string
	Voucher string
}

func (e *AccountError) Error() string {
	return fmt.Sprintf("sie: account %s (used by voucher %q) is not in the account plan", e.Account, e.Voucher)
}

// Is makes errors.Is(err, ErrMissingAccount) true.
func (e *AccountError) Is(target error) bool { return target == ErrMissingAccount }
