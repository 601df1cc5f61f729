package paypal

import (
	"errors"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/knyt/knyt/connector"
)

func TestDecodeError(t *testing.T) {
	type want struct {
		Kind      connector.Kind
		Code      string
		Field     string
		RequestID string
	}
	tests := []struct {
		name   string
		status int
		body   string
		want   *want
	}{
		{"fully refunded", 422, `{"name":"UNPROCESSABLE_ENTITY","message":"The requested action could not be performed.","debug_id":"b1d1f06c7246c","details":[{"issue":"CAPTURE_FULLY_REFUNDED","description":"The capture has already been fully refunded"}]}`,
			&want{connector.KindConflict, "CAPTURE_FULLY_REFUNDED", "", "b1d1f06c7246c"}},
		{"refund exceeds", 422, `{"name":"UNPROCESSABLE_ENTITY","message":"x","debug_id":"1","details":[{"field":"/amount/value","issue":"REFUND_AMOUNT_EXCEEDED"}]}`,
			&want{connector.KindValidation, "REFUND_AMOUNT_EXCEEDED", "/amount/value", "1"}},
		{"already captured", 422, `{"name":"UNPROCESSABLE_ENTITY","details":[{"issue":"AUTHORIZATION_ALREADY_CAPTURED"}]}`,
			&want{connector.KindConflict, "AUTHORIZATION_ALREADY_CAPTURED", "", ""}},
		{"expired authorization", 422, `{"name":"UNPROCESSABLE_ENTITY","details":[{"issue":"AUTHORIZATION_EXPIRED"}]}`,
			&want{connector.KindPermanent, "AUTHORIZATION_EXPIRED", "", ""}},
		{"duplicate invoice", 422, `{"name":"UNPROCESSABLE_ENTITY","details":[{"issue":"DUPLICATE_INVOICE_ID"}]}`,
			&want{connector.KindConflict, "DUPLICATE_INVOICE_ID", "", ""}},
		{"in progress", 409, `{"name":"RESOURCE_CONFLICT","details":[{"issue":"PREVIOUS_REQUEST_IN_PROGRESS"}]}`,
			&want{connector.KindTemporary, "PREVIOUS_REQUEST_IN_PROGRESS", "", ""}},
		{"plain conflict", 409, `{"name":"RESOURCE_CONFLICT","message":"conflict"}`,
			&want{connector.KindConflict, "RESOURCE_CONFLICT", "", ""}},
		{"not found", 404, `{"name":"RESOURCE_NOT_FOUND","details":[{"field":"authorization_id","location":"path","issue":"INVALID_RESOURCE_ID"}]}`,
			&want{connector.KindNotFound, "INVALID_RESOURCE_ID", "authorization_id", ""}},
		{"expired token", 401, `{"error":"invalid_token","error_description":"Access Token not found in cache"}`,
			&want{connector.KindAuth, "invalid_token", "", ""}},
		{"bad client", 401, `{"error":"invalid_client","error_description":"Client Authentication failed"}`,
			&want{connector.KindAuth, "invalid_client", "", ""}},
		{"rate limited", 429, `{"name":"RATE_LIMIT_REACHED","message":"Too many requests."}`,
			&want{connector.KindRateLimited, "RATE_LIMIT_REACHED", "", ""}},
		{"429 named otherwise", 429, `{"name":"INVALID_REQUEST"}`,
			&want{connector.KindRateLimited, "INVALID_REQUEST", "", ""}},
		{"server error", 500, `{"name":"INTERNAL_SERVER_ERROR"}`,
			&want{connector.KindTemporary, "INTERNAL_SERVER_ERROR", "", ""}},
		{"search not refreshed", 400, `{"debug_id":"4a924c46669da","name":"INVALID_REQUEST","details":[],"links":[],"message":"Data for the given start date is not available."}`,
			&want{connector.KindTemporary, "INVALID_REQUEST", "", "4a924c46669da"}},
		{"unknown issue, status decides", 422, `{"name":"UNPROCESSABLE_ENTITY","details":[{"issue":"SOMETHING_NEW"}]}`,
			&want{connector.KindValidation, "SOMETHING_NEW", "", ""}},
		{"unknown name, status decides", 403, `{"name":"SOMETHING_ELSE"}`,
			&want{connector.KindAuth, "SOMETHING_ELSE", "", ""}},
		{"not JSON", 502, `<html>bad gateway</html>`, nil},
		{"JSON without name", 400, `{"foo":1}`, nil},
	}
	dec := decodeError(func(s string) string { return s })
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := dec(&connector.Response{Status: tt.status, Header: http.Header{}, Body: []byte(tt.body)})
			if tt.want == nil {
				if e != nil {
					t.Fatalf("decoded %v, want nil (default decoding)", e)
				}
				return
			}
			if e == nil {
				t.Fatal("nil")
			}
			got := &want{e.Kind, e.Code, e.Field, e.RequestID}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			var api *APIError
			if !errors.As(e, &api) {
				t.Fatalf("no *APIError in %v", e)
			}
			if Issue(e) != tt.want.Code {
				t.Errorf("Issue = %q, want %q", Issue(e), tt.want.Code)
			}
		})
	}
}

func TestDecodeErrorRedacts(t *testing.T) {
	dec := decodeError(func(s string) string {
		if s == "" {
			return s
		}
		return "[" + s + "]"
	})
	e := dec(&connector.Response{Status: 422, Body: []byte(`{"name":"N","message":"M","details":[{"field":"F","value":"V","issue":"I","description":"D"}]}`)})
	var api *APIError
	if !errors.As(e, &api) {
		t.Fatal("no APIError")
	}
	want := &APIError{Name: "[N]", Message: "[M]", Details: []ErrorDetail{{Field: "[F]", Value: "[V]", Issue: "[I]", Description: "[D]"}}}
	if diff := cmp.Diff(want, api); diff != "" {
		t.Errorf("every field copied out of the body goes through the redactor (-want +got):\n%s", diff)
	}
}

// FuzzDecodeError checks that no error body makes the decoder panic or
// produce an unclassified error.
func FuzzDecodeError(f *testing.F) {
	f.Add(422, `{"name":"UNPROCESSABLE_ENTITY","details":[{"issue":"CAPTURE_FULLY_REFUNDED"}]}`)
	f.Add(401, `{"error":"invalid_token"}`)
	f.Add(400, `{"name":"INVALID_REQUEST","message":"Data for the given start date is not available."}`)
	f.Add(500, `[]`)
	dec := decodeError(func(s string) string { return s })
	f.Fuzz(func(t *testing.T, status int, body string) {
		if status < 400 || status > 599 {
			return
		}
		e := dec(&connector.Response{Status: status, Body: []byte(body)})
		if e != nil && e.Kind == connector.KindUnknown {
			t.Fatalf("unclassified: %v", e)
		}
	})
}
