package specter

import (
	"errors"
	"fmt"
	"strings"

	"github.com/knyt/knyt/connector"
)

// System is the system name in errors, logs and refs.
const System = "specter"

// BatchOpenError is Specter's code 99: a queue cannot give a new batch while
// an earlier one is open (taken but not acknowledged). Batch is the open
// batch's number, read from the message; it is empty when the message did
// not quote one. The feeds recover by reading the open batch again, so its
// items are processed and acknowledged rather than dropped. It is wrapped in
// a *connector.Error of KindConflict with Code "99".
type BatchOpenError struct {
	Queue Action // the queue read or acknowledged
	Batch string // the open batch's number
}

func (e *BatchOpenError) Error() string {
	if e.Batch == "" {
		return fmt.Sprintf("specter: %s: an earlier batch is still open", e.Queue)
	}
	return fmt.Sprintf("specter: %s: batch %q is still open", e.Queue, e.Batch)
}

// InvalidArticleNumber is one article number Specter's rules refuse.
type InvalidArticleNumber struct {
	SKU    string
	Reason string
}

// ArticleNumberError lists every article number of a call that breaks
// Specter's rules; nothing of the call was sent. It is wrapped in a
// *connector.Error of KindValidation.
type ArticleNumberError struct {
	Invalid []InvalidArticleNumber
}

func (e *ArticleNumberError) Error() string {
	parts := make([]string, len(e.Invalid))
	for i, in := range e.Invalid {
		parts[i] = fmt.Sprintf("%q: %s", in.SKU, in.Reason)
	}
	return "specter: invalid article numbers: " + strings.Join(parts, "; ")
}

// SKUs returns the refused article numbers.
func (e *ArticleNumberError) SKUs() []string {
	out := make([]string, len(e.Invalid))
	for i, in := range e.Invalid {
		out[i] = in.SKU
	}
	return out
}

// ValidateArticleNumber checks one article number against Specter's rules:
// not empty, no spaces or control characters, none of å ä ö & % ¤ # € , ;
// (see articleNumberForbidden), and writable in Windows-1252. It returns the
// reason it is refused, or "".
func ValidateArticleNumber(sku string) string {
	if sku == "" {
		return "empty"
	}
	for _, r := range sku {
		switch {
		case r == ' ' || r == '\u00a0' || r == '\t':
			return "contains a space"
		case r < 0x20 || r == 0x7f:
			return "contains a control character"
		case strings.ContainsRune(articleNumberForbidden, r):
			return fmt.Sprintf("contains %q", r)
		}
		if _, ok := encodable(r); !ok {
			return fmt.Sprintf("contains %q, which cannot be written in %s", r, Charset)
		}
	}
	return ""
}

// validateArticleNumbers checks a call's article numbers: each valid and
// each once.
func validateArticleNumbers(skus []string) error {
	var bad []InvalidArticleNumber
	seen := map[string]bool{}
	for _, s := range skus {
		if reason := ValidateArticleNumber(s); reason != "" {
			bad = append(bad, InvalidArticleNumber{SKU: s, Reason: reason})
			continue
		}
		if seen[s] {
			bad = append(bad, InvalidArticleNumber{SKU: s, Reason: "listed twice; every variant needs its own article number"})
		}
		seen[s] = true
	}
	if len(bad) > 0 {
		return &ArticleNumberError{Invalid: bad}
	}
	return nil
}

// replyError turns a failed reply into a *connector.Error.
func replyError(op string, action Action, sent string, r *Reply, redact func(string) string) *connector.Error {
	e := &connector.Error{System: System, Op: op, Kind: KindOfCode(r.Code), Code: r.Code, Message: redact(r.Message)}
	if r.Code == CodeBatchOpen {
		e.Err = &BatchOpenError{Queue: action, Batch: stuckBatch(r.Message, sent)}
	}
	return e
}

// validation builds a KindValidation error for a field.
func validation(op, field string, err error) *connector.Error {
	return &connector.Error{System: System, Op: op, Kind: connector.KindValidation, Field: field, Err: err}
}

// errorsAs is errors.As for a target type, for brevity at call sites.
func errorsAs[T error](err error) (T, bool) {
	var t T
	ok := errors.As(err, &t)
	return t, ok
}
