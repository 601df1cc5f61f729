package paypal

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/knyt/knyt/connector"
)

// issueKinds classifies PayPal's fine-grained issue codes (details[].issue
// of an error body); it is the one table that does. An issue not listed
// falls back to the error name, then to the HTTP status. The lists of
// possible issues come from payments_payment_v2.json (error_422,
// captures.refund-422, authorizations.reauthorize-422, …).
var issueKinds = map[string]connector.Kind{
	// Already done or in the wrong state: the engine looks the state up
	// instead of retrying.
	"CAPTURE_FULLY_REFUNDED":         connector.KindConflict,
	"AUTHORIZATION_ALREADY_CAPTURED": connector.KindConflict,
	"AUTHORIZATION_VOIDED":           connector.KindConflict,
	"PREVIOUSLY_CAPTURED":            connector.KindConflict,
	"PREVIOUSLY_VOIDED":              connector.KindConflict,
	"CANNOT_BE_VOIDED":               connector.KindConflict,
	"DUPLICATE_INVOICE_ID":           connector.KindConflict,
	"MAX_CAPTURE_COUNT_EXCEEDED":     connector.KindConflict,
	"MAX_NUMBER_OF_REFUNDS_EXCEEDED": connector.KindConflict,
	"RESOURCE_CONFLICT":              connector.KindConflict,

	// The request itself is wrong: fix the data.
	"REFUND_AMOUNT_EXCEEDED":           connector.KindValidation,
	"REFUND_AMOUNT_TOO_LOW":            connector.KindValidation,
	"MAX_CAPTURE_AMOUNT_EXCEEDED":      connector.KindValidation,
	"DECIMAL_PRECISION":                connector.KindValidation,
	"DECIMALS_NOT_SUPPORTED":           connector.KindValidation,
	"CANNOT_BE_ZERO_OR_NEGATIVE":       connector.KindValidation,
	"CANNOT_BE_NEGATIVE":               connector.KindValidation,
	"INVALID_CURRENCY_CODE":            connector.KindValidation,
	"CURRENCY_MISMATCH":                connector.KindValidation,
	"AUTH_CAPTURE_CURRENCY_MISMATCH":   connector.KindValidation,
	"REFUND_CAPTURE_CURRENCY_MISMATCH": connector.KindValidation,
	"AUTH_CURRENCY_MISMATCH":           connector.KindValidation,
	"PLATFORM_FEE_EXCEEDED":            connector.KindValidation,
	"INVALID_PARAMETER_VALUE":          connector.KindValidation,
	"INVALID_PARAMETER_SYNTAX":         connector.KindValidation,
	"MISSING_REQUIRED_PARAMETER":       connector.KindValidation,
	"INVALID_STRING_LENGTH":            connector.KindValidation,
	"INVALID_STRING_MAX_LENGTH":        connector.KindValidation,
	"INVALID_REQUEST":                  connector.KindValidation,
	"UNPROCESSABLE_ENTITY":             connector.KindValidation,
	"UNSUPPORTED_MEDIA_TYPE":           connector.KindValidation,

	// Refused for good.
	"AUTHORIZATION_EXPIRED":                  connector.KindPermanent,
	"AUTHORIZATION_DENIED":                   connector.KindPermanent,
	"TRANSACTION_REFUSED":                    connector.KindPermanent,
	"PAYER_CANNOT_PAY":                       connector.KindPermanent,
	"PAYEE_ACCOUNT_LOCKED_OR_CLOSED":         connector.KindPermanent,
	"PAYER_ACCOUNT_LOCKED_OR_CLOSED":         connector.KindPermanent,
	"PAYEE_ACCOUNT_RESTRICTED":               connector.KindPermanent,
	"REFUND_NOT_ALLOWED":                     connector.KindPermanent,
	"REFUND_TIME_LIMIT_EXCEEDED":             connector.KindPermanent,
	"PARTIAL_REFUND_NOT_ALLOWED":             connector.KindPermanent,
	"TRANSACTION_DISPUTED":                   connector.KindPermanent,
	"REFUND_IS_RESTRICTED":                   connector.KindPermanent,
	"REFUND_NOT_PERMITTED_DUE_TO_CHARGEBACK": connector.KindPermanent,
	"PLATFORM_FEE_NOT_ENABLED":               connector.KindPermanent,
	"REAUTHORIZATION_NOT_SUPPORTED":          connector.KindUnsupported,

	// The same call may succeed later.
	"PREVIOUS_REQUEST_IN_PROGRESS":     connector.KindTemporary,
	"PENDING_CAPTURE":                  connector.KindTemporary,
	"REFUND_FAILED_INSUFFICIENT_FUNDS": connector.KindTemporary,
	"INTERNAL_SERVER_ERROR":            connector.KindTemporary,
	"SERVICE_UNAVAILABLE":              connector.KindTemporary,
	"RATE_LIMIT_REACHED":               connector.KindRateLimited,

	// Credentials.
	"AUTHENTICATION_FAILURE": connector.KindAuth,
	"PERMISSION_DENIED":      connector.KindAuth,
	"NOT_AUTHORIZED":         connector.KindAuth,
	"invalid_token":          connector.KindAuth,
	"invalid_client":         connector.KindAuth,
	"unauthorized_client":    connector.KindAuth,
	"invalid_grant":          connector.KindAuth,

	"INVALID_RESOURCE_ID": connector.KindNotFound,
	"RESOURCE_NOT_FOUND":  connector.KindNotFound,
}

// msgDataNotAvailable is Transaction Search's answer for a start date past
// the data it has refreshed ("Data for the given start date is not
// available."; reported in PayPal-node-SDK issue #452 and by Airbyte's
// connector). It is temporary: the data arrives later.
const msgDataNotAvailable = "data for the given start date is not available"

// APIError is the decoded body of a PayPal error answer. It is the Err of
// the *connector.Error every failed call returns, for callers that want
// all issues, not only the first:
//
//	var api *paypal.APIError
//	if errors.As(err, &api) { for _, d := range api.Details { … } }
type APIError struct {
	Name    string        // e.g. UNPROCESSABLE_ENTITY, or the OAuth error code
	Message string        // PayPal's message
	DebugID string        // PayPal's correlation id, for support cases
	Details []ErrorDetail // the issues, first one decisive
}

func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString(e.Name)
	for i, d := range e.Details {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(d.Issue)
		if d.Field != "" {
			b.WriteString(" (")
			b.WriteString(d.Field)
			b.WriteByte(')')
		}
		if d.Description != "" {
			b.WriteString(" ")
			b.WriteString(d.Description)
		}
	}
	return b.String()
}

// Issue returns the first issue code of err's PayPal error, or its name
// when it has no details, or "" when err carries no PayPal error body.
func Issue(err error) string {
	var api *APIError
	if !errors.As(err, &api) {
		return ""
	}
	if len(api.Details) > 0 {
		return api.Details[0].Issue
	}
	return api.Name
}

// decodeError reads PayPal's error bodies into a *connector.Error; the
// transport fills in system, operation and status. redact scrubs
// registered secrets from everything copied out of the body.
func decodeError(redact func(string) string) connector.ErrorDecoder {
	return func(resp *connector.Response) *connector.Error {
		var body ErrorResponse
		if err := json.Unmarshal(resp.Body, &body); err != nil || (body.Name == "" && body.Error == "") {
			return nil
		}
		api := &APIError{Name: body.Name, Message: body.Message, DebugID: body.DebugID}
		if body.Error != "" { // OAuth shape
			api.Name, api.Message = body.Error, body.ErrorDescription
		}
		api.Name, api.Message, api.DebugID = redact(api.Name), redact(api.Message), redact(api.DebugID)
		for _, d := range body.Details {
			api.Details = append(api.Details, ErrorDetail{
				Field: redact(d.Field), Value: redact(d.Value), Location: d.Location,
				Issue: redact(d.Issue), Description: redact(d.Description),
			})
		}
		e := &connector.Error{Code: api.Name, Message: api.Message, RequestID: api.DebugID, Err: api}
		kind, known := issueKinds[api.Name]
		if len(api.Details) > 0 {
			d := api.Details[0]
			e.Code, e.Field = d.Issue, d.Field
			if k, ok := issueKinds[d.Issue]; ok {
				kind, known = k, true
			}
		}
		if strings.EqualFold(strings.TrimSuffix(strings.TrimSpace(api.Message), "."), msgDataNotAvailable) {
			kind, known = connector.KindTemporary, true
		}
		// A status that says more than the body (a 429 named
		// INVALID_REQUEST by a gateway, a 5xx) keeps the status's kind.
		if st := connector.KindForStatus(resp.Status); !known || st == connector.KindRateLimited || (st == connector.KindTemporary && kind != connector.KindTemporary) {
			kind = st
		}
		e.Kind = kind
		return e
	}
}

// retryInProgress retries a 409 PREVIOUS_REQUEST_IN_PROGRESS inside the
// call: PayPal is still applying an earlier request with the same
// PayPal-Request-Id, so repeating it later returns that request's result.
// Only keyed (safe) requests are retried, which every write here is.
func retryInProgress(resp *http.Response, _ error) connector.RetryDecision {
	if resp == nil || resp.StatusCode != http.StatusConflict {
		return connector.RetryDefault
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return connector.RetryDefault
	}
	var body ErrorResponse
	if json.Unmarshal(b, &body) != nil {
		return connector.RetryDefault
	}
	if body.Name == "PREVIOUS_REQUEST_IN_PROGRESS" {
		return connector.RetryIfSafe
	}
	for _, d := range body.Details {
		if d.Issue == "PREVIOUS_REQUEST_IN_PROGRESS" {
			return connector.RetryIfSafe
		}
	}
	return connector.RetryDefault
}
