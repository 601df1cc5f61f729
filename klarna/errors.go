package klarna

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/connector"
)

// ErrMalformed is matched by every error about data from Klarna that cannot
// be read: JSON that does not parse, an amount that is not an integer
// number of minor units, an unknown currency, a CSV report with a missing
// column. The error is a *connector.Error of kind KindPermanent wrapping it.
var ErrMalformed = errors.New("malformed klarna data")

// ErrIdempotencyKeyRequired is matched when a capture, refund or release is
// attempted without connector.WithIdempotencyKey. Klarna applies a write
// once per key; without one a retry after a lost answer could capture or
// refund twice, so the client refuses to send it.
var ErrIdempotencyKeyRequired = errors.New("an idempotency key is required for this write")

// malformed wraps a decoding failure of op.
func malformed(op string, err error) error {
	return &connector.Error{System: SystemName, Op: op, Kind: connector.KindPermanent, Err: fmt.Errorf("%w: %w", ErrMalformed, err)}
}

// invalid is a request the client refuses before sending it.
func invalid(op, field string, err error, format string, args ...any) error {
	return &connector.Error{System: SystemName, Op: op, Kind: connector.KindValidation, Field: field, Message: fmt.Sprintf(format, args...), Err: err}
}

// kindForCode classifies Klarna's error codes. Klarna answers a state
// refusal ("capture not allowed": cancelled, expired, over the remaining
// amount) with 403 and an XXX_NOT_ALLOWED code; that is a conflict with the
// order's state, not an authorization problem, which is what a bare 403
// would otherwise mean.
func kindForCode(status int, code string) connector.Kind {
	switch {
	case code == "NOT_FOUND" || strings.HasPrefix(code, "NO_SUCH_"):
		return connector.KindNotFound
	case code == "NOT_ALLOWED" || strings.HasSuffix(code, "_NOT_ALLOWED") || code == "CONFLICT":
		return connector.KindConflict
	case code == "UNPROCESSABLE_ENTITY" || code == "INVALID_ADDRESS" || code == "BAD_VALUE" ||
		code == "REQUEST_TOO_LARGE" || code == "BAD_REQUEST" || code == "INVALID_REQUEST":
		return connector.KindValidation
	case code == "TOO_MANY_REQUESTS":
		return connector.KindRateLimited
	case code == "TEMPORARILY_UNAVAILABLE" || code == "INTERNAL_SERVER_ERROR" || code == "UNEXPECTED_ERROR":
		return connector.KindTemporary
	case code == "UNAUTHORIZED" || code == "FORBIDDEN" || status == http.StatusUnauthorized:
		return connector.KindAuth
	}
	return connector.KindForStatus(status)
}

// decodeError reads Klarna's error envelope {error_code, error_messages,
// correlation_id}. A body in another shape (a proxy's HTML page, an empty
// 401) falls back to the transport's default classification by status.
func decodeError(resp *connector.Response) *connector.Error {
	var e ErrorResponse
	if err := json.Unmarshal(resp.Body, &e); err != nil || e.ErrorCode == "" {
		return nil
	}
	ce := &connector.Error{
		Kind:      kindForCode(resp.Status, e.ErrorCode),
		Code:      e.ErrorCode,
		Message:   strings.Join(e.ErrorMessages, "; "),
		RequestID: e.CorrelationID,
	}
	if resp.Status == http.StatusTooManyRequests {
		if d, ok := parseReset(resp.Header.Get("X-Ratelimit-Reset"), time.Now()); ok {
			ce.RetryAfter = d
		}
	}
	return ce
}

// parseReset reads X-Ratelimit-Reset. Klarna documents it as seconds until
// the window resets; a value that can only be a Unix time (after 2001) is
// read as one, since some gateways send that instead (unverified for
// Klarna, harmless either way).
func parseReset(v string, now time.Time) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	secs, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || !(secs >= 0) {
		return 0, false
	}
	if secs > 1e9 {
		d := time.Unix(int64(secs), 0).Sub(now)
		return max(d, 0), d < 24*time.Hour
	}
	if secs > 24*3600 {
		return 0, false
	}
	return time.Duration(secs * float64(time.Second)), true
}

// rateLimitHeaders makes Klarna's rate-limit headers drive the transport's
// backoff and limiter: a 429 carrying X-Ratelimit-Reset but no Retry-After
// gets a Retry-After of the same length, which the retry loop and the token
// bucket honour.
type rateLimitHeaders struct{ next http.RoundTripper }

func (t rateLimitHeaders) RoundTrip(r *http.Request) (*http.Response, error) {
	next := t.next
	if next == nil {
		next = http.DefaultTransport
	}
	resp, err := next.RoundTrip(r)
	if err != nil || resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "" {
		return resp, err
	}
	if d, ok := parseReset(resp.Header.Get("X-Ratelimit-Reset"), time.Now()); ok {
		resp.Header.Set("Retry-After", strconv.FormatFloat(d.Seconds(), 'f', -1, 64))
	}
	return resp, nil
}

// SettlementMismatchError says that a payout's transactions do not add up
// to its settlement amount: something is missing, duplicated or signed
// differently from what this package assumes, and the payout must not be
// booked until it is understood.
type SettlementMismatchError struct {
	PaymentReference string
	SettlementType   string         // NET, GROSS, GROSS_FEE
	Settlement       commerce.Money // totals.settlement_amount
	Sum              commerce.Money // the normalised transactions' net sum
	Difference       commerce.Money // Settlement − Sum
	// Categories lists the totals whose transactions disagree with them,
	// e.g. "sale_amount: totals 1000.00, rows 950.00".
	Categories []string
}

func (e *SettlementMismatchError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "payout %s (%s): transactions sum to %s but the settlement amount is %s (difference %s)",
		e.PaymentReference, e.SettlementType, e.Sum, e.Settlement, e.Difference)
	if len(e.Categories) > 0 {
		b.WriteString("; ")
		b.WriteString(strings.Join(e.Categories, "; "))
	}
	return b.String()
}
