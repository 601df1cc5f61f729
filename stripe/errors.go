package stripe

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/connector"
)

// APIError is Stripe's error object ({"error": {…}}). It is the Err of the
// *connector.Error a failed call returns, so callers reach the decline code
// and the rest with errors.As. Its message is redacted.
type APIError struct {
	Type          string `json:"type"` // api_error, card_error, idempotency_error, invalid_request_error, …
	Code          string `json:"code"`
	DeclineCode   string `json:"decline_code"`
	AdviceCode    string `json:"advice_code"`
	Message       string `json:"message"`
	Param         string `json:"param"`
	DocURL        string `json:"doc_url"`
	RequestLogURL string `json:"request_log_url"`
	Charge        string `json:"charge"`
	PaymentIntent *struct {
		ID string `json:"id"`
	} `json:"payment_intent"`
	// HTTPStatus and RequestID come from the response, not the body.
	HTTPStatus int    `json:"-"`
	RequestID  string `json:"-"`
}

// Error names the type and code; the message is on the connector.Error.
func (e *APIError) Error() string {
	s := "stripe " + e.Type
	if e.Code != "" {
		s += " " + e.Code
	}
	if e.DeclineCode != "" {
		s += " (decline " + e.DeclineCode + ")"
	}
	return s
}

// Stripe error codes this package acts on.
const (
	CodeLockTimeout                  = "lock_timeout"
	CodeIdempotencyKeyInUse          = "idempotency_key_in_use"
	CodeRateLimit                    = "rate_limit"
	CodeResourceMissing              = "resource_missing"
	CodeChargeAlreadyCaptured        = "charge_already_captured"
	CodeChargeAlreadyRefunded        = "charge_already_refunded"
	CodeChargeExpiredForCapture      = "charge_expired_for_capture"
	CodePaymentIntentUnexpectedState = "payment_intent_unexpected_state"
	TypeIdempotencyError             = "idempotency_error"
	TypeCardError                    = "card_error"
	TypeInvalidRequest               = "invalid_request_error"
	TypeAPIError                     = "api_error"
)

// conflictCodes are refusals caused by the object's state: the request was
// fine, the payment was not in a state to take it.
var conflictCodes = map[string]bool{
	CodeChargeAlreadyCaptured:        true,
	CodeChargeAlreadyRefunded:        true,
	CodeChargeExpiredForCapture:      true,
	CodePaymentIntentUnexpectedState: true,
	"charge_disputed":                true,
	"charge_not_refundable":          true,
}

// kindFor classifies a Stripe error: the code first, then the type, then
// the status.
func kindFor(status int, e *APIError) connector.Kind {
	switch {
	case e.Code == CodeLockTimeout || e.Code == CodeIdempotencyKeyInUse:
		// Contention on the object or the key; the same call succeeds
		// later, and with its key it cannot apply twice.
		return connector.KindTemporary
	case e.Type == TypeIdempotencyError:
		// The key was used with other parameters: a programming error
		// that must not be retried.
		return connector.KindConflict
	case e.Code == CodeRateLimit || status == http.StatusTooManyRequests:
		return connector.KindRateLimited
	case e.Code == CodeResourceMissing || status == http.StatusNotFound:
		return connector.KindNotFound
	case conflictCodes[e.Code]:
		return connector.KindConflict
	case e.Type == TypeCardError || status == http.StatusPaymentRequired:
		// 402 at Stripe means "valid request, but it failed" (a decline),
		// not an authorization problem.
		return connector.KindPermanent
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return connector.KindAuth
	case status >= 500 || e.Type == TypeAPIError:
		return connector.KindTemporary
	case status == http.StatusBadRequest:
		return connector.KindValidation
	}
	return connector.KindForStatus(status)
}

type errorEnvelope struct {
	Error *APIError `json:"error"`
}

// decodeError turns Stripe's error body into an *connector.Error; nil lets
// the transport fall back to its default for a body that is not Stripe's.
func decodeError(resp *connector.Response, red *connector.Redactor) *connector.Error {
	var env errorEnvelope
	if err := json.Unmarshal(resp.Body, &env); err != nil || env.Error == nil {
		return nil
	}
	e := env.Error
	e.Message = red.String(e.Message)
	e.HTTPStatus = resp.Status
	e.RequestID = resp.Header.Get("Request-Id")
	code := e.Code
	if code == "" {
		code = e.Type
	}
	return &connector.Error{
		Kind:      kindFor(resp.Status, e),
		Code:      code,
		Message:   e.Message,
		Field:     e.Param,
		RequestID: e.RequestID,
		Err:       e,
	}
}

// peekLimit bounds how much of an error body the retry classifier reads.
const peekLimit = 64 << 10

// classifyRetry follows Stripe's advice: an explicit Stripe-Should-Retry
// wins; server errors are retried when the request is safe, which every
// request of this package is (GETs, and POSTs that always carry a key);
// contention — 409 idempotency_key_in_use, 429 lock_timeout — is retried
// too. stripe-go retries every 409; here a 409 without one of those codes
// is a real conflict and is returned at once as connector.KindConflict.
// Other 429s are true rate limiting, left to the transport's policy
// (back off, honour Retry-After).
func classifyRetry(resp *http.Response, err error) connector.RetryDecision {
	if err != nil || resp == nil {
		return connector.RetryDefault
	}
	switch resp.Header.Get("Stripe-Should-Retry") {
	case "false":
		return connector.RetryNever
	case "true":
		return connector.RetryIfSafe
	}
	switch {
	case resp.StatusCode == http.StatusConflict || resp.StatusCode == http.StatusTooManyRequests:
		switch peekCode(resp) {
		case CodeIdempotencyKeyInUse, CodeLockTimeout:
			return connector.RetryIfSafe
		}
	case resp.StatusCode >= 500:
		return connector.RetryIfSafe
	}
	return connector.RetryDefault
}

// peekCode reads the error code without consuming the body: what it reads
// is put back in front of the rest.
func peekCode(resp *http.Response) string {
	if resp.Body == nil {
		return ""
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, peekLimit))
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(b), resp.Body), resp.Body}
	var env errorEnvelope
	if json.Unmarshal(b, &env) != nil || env.Error == nil {
		return ""
	}
	return env.Error.Code
}

// Sentinels of the notices PayoutSource reports (see Reporter).
var (
	ErrPayoutNotReconciled = errors.New("payout not reconciled")
	ErrUnmappedCategory    = errors.New("balance transaction reporting category not mapped")
	ErrPayoutDifference    = errors.New("payout transactions do not sum to the payout")
)

// PayoutNotReconciledError says a payout was skipped, or its transactions
// refused, because Stripe cannot list them yet (reconciliation_status
// in_progress) or ever (not_applicable: a manual payout, whose
// transactions Stripe does not track).
type PayoutNotReconciledError struct {
	PayoutID             string
	Automatic            bool
	ReconciliationStatus string
	Payout               commerce.Payout // the payout as far as it could be mapped
}

func (e *PayoutNotReconciledError) Error() string {
	if !e.Automatic {
		return fmt.Sprintf("stripe: payout %s is a manual payout: Stripe does not track its transactions", e.PayoutID)
	}
	return fmt.Sprintf("stripe: payout %s: reconciliation %s, transactions not final yet", e.PayoutID, e.ReconciliationStatus)
}

// Is matches ErrPayoutNotReconciled.
func (e *PayoutNotReconciledError) Is(target error) bool { return target == ErrPayoutNotReconciled }

// UnmappedCategoryError says a balance transaction's reporting_category
// has no canonical kind; the transaction was kept as commerce.TxOther.
type UnmappedCategoryError struct {
	PayoutID          string
	TransactionID     string
	ReportingCategory string
	Type              string
}

func (e *UnmappedCategoryError) Error() string {
	return fmt.Sprintf("stripe: payout %s: balance transaction %s has reporting_category %q (type %q), kept as %q",
		e.PayoutID, e.TransactionID, e.ReportingCategory, e.Type, commerce.TxOther)
}

// Is matches ErrUnmappedCategory.
func (e *UnmappedCategoryError) Is(target error) bool { return target == ErrUnmappedCategory }

// PayoutDifferenceError says the transactions of a payout (its own row
// excluded) do not sum to its amount.
type PayoutDifferenceError struct {
	PayoutID   string
	Amount     commerce.Money // the payout amount
	Sum        commerce.Money // Σ net of its transactions
	Difference commerce.Money // Amount − Sum
}

func (e *PayoutDifferenceError) Error() string {
	return fmt.Sprintf("stripe: payout %s: amount %s, transactions sum to %s, difference %s",
		e.PayoutID, e.Amount, e.Sum, e.Difference)
}

// Is matches ErrPayoutDifference.
func (e *PayoutDifferenceError) Is(target error) bool { return target == ErrPayoutDifference }
