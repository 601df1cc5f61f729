package stripe_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jarcoal/httpmock"

	"github.com/knyt/knyt/connector"
	"github.com/knyt/knyt/connector/connectortest"
	"github.com/knyt/knyt/stripe"
)

const mockKey = "sk_test_mockmockmockmock1234"

// mockClient is a client on the real base URL whose HTTP goes to an
// httpmock transport.
func mockClient(t *testing.T, opts ...stripe.Option) (*stripe.Client, *httpmock.MockTransport, *connectortest.LogBuffer) {
	t.Helper()
	mt := httpmock.NewMockTransport()
	log := connectortest.NewLogBuffer()
	base := []stripe.Option{
		stripe.WithHTTPClient(&http.Client{Transport: mt}),
		stripe.WithLogger(log.Logger()),
		stripe.WithRetry(3, time.Millisecond, 2*time.Millisecond),
	}
	c, err := stripe.New(mockKey, append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if strings.Contains(log.String(), mockKey) {
			t.Error("the secret key appears in the log")
		}
	})
	return c, mt, log
}

func TestRequestShape(t *testing.T) {
	c, mt, _ := mockClient(t)
	var got []string
	mt.RegisterResponder(http.MethodPost, "https://api.stripe.com/v1/refunds", func(r *http.Request) (*http.Response, error) {
		b, _ := io.ReadAll(r.Body)
		got = append(got, r.Header.Get("Authorization"), r.Header.Get("Stripe-Version"), r.Header.Get("Idempotency-Key"),
			r.Header.Get("Content-Type"), string(b))
		return httpmock.NewStringResponse(200, `{"id":"re_1","object":"refund","amount":500,"currency":"sek","status":"succeeded","charge":"ch_1","payment_intent":"pi_1","created":1}`), nil
	})
	mt.RegisterResponder(http.MethodGet, "https://api.stripe.com/v1/payment_intents/pi_1", func(r *http.Request) (*http.Response, error) {
		got = append(got, r.URL.RawQuery, r.Header.Get("Idempotency-Key"))
		return httpmock.NewStringResponse(200, `{"id":"pi_1","object":"payment_intent","latest_charge":{"id":"ch_1","object":"charge"}}`), nil
	})
	params := stripe.Params{"payment_intent": "pi_1", "amount": int64(500), "metadata": map[string]string{"order_number": "1001"}}
	r, _, err := c.CreateRefund(context.Background(), params, "key-1")
	if err != nil {
		t.Fatal(err)
	}
	pi, err := c.GetPaymentIntent(context.Background(), "pi_1", "latest_charge")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"Bearer " + mockKey, stripe.APIVersion, "key-1", "application/x-www-form-urlencoded",
		"amount=500&metadata[order_number]=1001&payment_intent=pi_1",
		"expand%5B%5D=latest_charge", "",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
	if r.ID != "re_1" || r.Charge.ID != "ch_1" || pi.LatestCharge.Object == nil || pi.LatestCharge.ID != "ch_1" {
		t.Errorf("decoded %+v %+v", r, pi)
	}
}

func TestErrorClassification(t *testing.T) {
	tests := []struct {
		name        string
		status      int
		body        string
		shouldRetry string
		kind        connector.Kind
		code, field string
		attempts    int
	}{
		{"invalid param", 400, `{"error":{"type":"invalid_request_error","message":"Invalid integer: abc","param":"amount"}}`, "", connector.KindValidation, "invalid_request_error", "amount", 1},
		{"key reused with other params", 400, `{"error":{"type":"idempotency_error","message":"Keys for idempotent requests can only be used with the same parameters"}}`, "", connector.KindConflict, "idempotency_error", "", 1},
		{"declined", 402, `{"error":{"type":"card_error","code":"card_declined","decline_code":"insufficient_funds","message":"Your card has insufficient funds."}}`, "", connector.KindPermanent, "card_declined", "", 1},
		{"missing", 404, `{"error":{"type":"invalid_request_error","code":"resource_missing","message":"No such payment_intent: 'pi_x'","param":"intent"}}`, "", connector.KindNotFound, "resource_missing", "intent", 1},
		{"already captured", 400, `{"error":{"type":"invalid_request_error","code":"charge_already_captured","message":"already captured"}}`, "", connector.KindConflict, "charge_already_captured", "", 1},
		{"unexpected state", 400, `{"error":{"type":"invalid_request_error","code":"payment_intent_unexpected_state","message":"status succeeded"}}`, "", connector.KindConflict, "payment_intent_unexpected_state", "", 1},
		{"key in use: retried", 409, `{"error":{"type":"invalid_request_error","code":"idempotency_key_in_use","message":"in progress"}}`, "", connector.KindTemporary, "idempotency_key_in_use", "", 3},
		{"plain conflict: not retried", 409, `{"error":{"type":"invalid_request_error","message":"conflict"}}`, "", connector.KindConflict, "invalid_request_error", "", 1},
		{"lock timeout: retried", 429, `{"error":{"type":"invalid_request_error","code":"lock_timeout","message":"lock"}}`, "", connector.KindTemporary, "lock_timeout", "", 3},
		{"rate limited: backed off", 429, `{"error":{"type":"invalid_request_error","code":"rate_limit","message":"slow down"}}`, "", connector.KindRateLimited, "rate_limit", "", 3},
		{"server error: retried", 500, `{"error":{"type":"api_error","message":"boom"}}`, "", connector.KindTemporary, "api_error", "", 3},
		{"server says do not retry", 500, `{"error":{"type":"api_error","message":"boom"}}`, "false", connector.KindTemporary, "api_error", "", 1},
		{"server says retry", 400, `{"error":{"type":"invalid_request_error","message":"try again"}}`, "true", connector.KindValidation, "invalid_request_error", "", 3},
		{"not stripe's body", 503, `<html>down</html>`, "", connector.KindTemporary, "", "", 3},
		{"bad key, echoed", 401, `{"error":{"type":"invalid_request_error","message":"Invalid API Key provided: ` + mockKey + `"}}`, "", connector.KindAuth, "invalid_request_error", "", 1},
		{"forbidden", 403, `{"error":{"type":"invalid_request_error","message":"restricted key"}}`, "", connector.KindAuth, "invalid_request_error", "", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, mt, _ := mockClient(t)
			mt.RegisterResponder(http.MethodPost, "https://api.stripe.com/v1/refunds", func(*http.Request) (*http.Response, error) {
				r := httpmock.NewStringResponse(tt.status, tt.body)
				r.Header.Set("Request-Id", "req_123")
				if tt.shouldRetry != "" {
					r.Header.Set("Stripe-Should-Retry", tt.shouldRetry)
				}
				return r, nil
			})
			_, _, err := c.CreateRefund(context.Background(), stripe.Params{"payment_intent": "pi_1"}, "key-1")
			var ce *connector.Error
			if !errors.As(err, &ce) {
				t.Fatalf("%T %v is not a *connector.Error", err, err)
			}
			got := struct {
				Kind                 connector.Kind
				Status               int
				Code, Field, Request string
				System, Op           string
				Attempts             int
			}{ce.Kind, ce.Status, ce.Code, ce.Field, ce.RequestID, ce.System, ce.Op, mt.GetTotalCallCount()}
			want := got
			want.Kind, want.Status, want.Code, want.Field, want.Request, want.System, want.Op, want.Attempts =
				tt.kind, tt.status, tt.code, tt.field, "req_123", "stripe", "CreateRefund", tt.attempts
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("error %v (-want +got):\n%s", err, diff)
			}
			if strings.Contains(err.Error(), mockKey) {
				t.Errorf("error leaks the key: %v", err)
			}
			var ae *stripe.APIError
			if tt.code != "" && (!errors.As(err, &ae) || ae.HTTPStatus != tt.status || ae.RequestID != "req_123") {
				t.Errorf("no *stripe.APIError with status and request id in %v", err)
			}
		})
	}
}

func TestDeclineCodeReachable(t *testing.T) {
	c, mt, _ := mockClient(t)
	mt.RegisterResponder(http.MethodPost, `=~^https://api\.stripe\.com/v1/payment_intents/pi_1/capture`,
		httpmock.NewStringResponder(402, `{"error":{"type":"card_error","code":"card_declined","decline_code":"do_not_honor","message":"declined"}}`))
	_, _, err := c.CapturePaymentIntent(context.Background(), "pi_1", nil, "k")
	var ae *stripe.APIError
	if !errors.As(err, &ae) || ae.DeclineCode != "do_not_honor" || !errors.Is(err, connector.ErrPermanent) {
		t.Fatalf("%v", err)
	}
}

func TestRetryThenSuccess(t *testing.T) {
	c, mt, _ := mockClient(t)
	calls := 0
	mt.RegisterResponder(http.MethodPost, "https://api.stripe.com/v1/refunds", func(*http.Request) (*http.Response, error) {
		calls++
		if calls == 1 {
			return httpmock.NewStringResponse(409, `{"error":{"type":"invalid_request_error","code":"idempotency_key_in_use","message":"x"}}`), nil
		}
		return httpmock.NewStringResponse(200, `{"id":"re_1","object":"refund","status":"succeeded"}`), nil
	})
	r, _, err := c.CreateRefund(context.Background(), stripe.Params{"payment_intent": "pi_1"}, "key")
	if err != nil || r.ID != "re_1" || calls != 2 {
		t.Fatalf("refund %+v, %v after %d calls", r, err, calls)
	}
}

func TestWritesNeedAKey(t *testing.T) {
	c, mt, _ := mockClient(t)
	ctx := context.Background()
	_, _, err := c.CreateRefund(ctx, stripe.Params{"payment_intent": "pi_1"}, "")
	if !errors.Is(err, stripe.ErrIdempotencyKeyRequired) || !errors.Is(err, connector.ErrValidation) {
		t.Errorf("no key: %v", err)
	}
	_, _, err = c.CapturePaymentIntent(ctx, "pi_1", nil, strings.Repeat("k", 256))
	if !errors.Is(err, connector.ErrValidation) {
		t.Errorf("256-character key: %v", err)
	}
	_, err = c.Capture(ctx, connector.CaptureRequest{PaymentReference: "pi_1", Amount: money(t, "1.00", "SEK")})
	if !errors.Is(err, stripe.ErrIdempotencyKeyRequired) {
		t.Errorf("Capture without key: %v", err)
	}
	_, err = c.Refund(ctx, connector.RefundRequest{PaymentReference: "pi_1", Amount: money(t, "1.00", "SEK")})
	if !errors.Is(err, stripe.ErrIdempotencyKeyRequired) {
		t.Errorf("Refund without key: %v", err)
	}
	if err := c.ReleaseRemaining(ctx, "pi_1"); !errors.Is(err, stripe.ErrIdempotencyKeyRequired) {
		t.Errorf("ReleaseRemaining without key: %v", err)
	}
	if n := mt.GetTotalCallCount(); n != 0 {
		t.Errorf("%d requests sent", n)
	}
}

func TestBadIDsAndResponses(t *testing.T) {
	c, mt, _ := mockClient(t)
	ctx := context.Background()
	for _, id := range []string{"", "pi_1/../../v1/payouts", "pi?x", strings.Repeat("p", 300)} {
		if _, err := c.GetPaymentIntent(ctx, id); !errors.Is(err, connector.ErrValidation) {
			t.Errorf("id %q: %v", id, err)
		}
	}
	mt.RegisterResponder(http.MethodGet, "https://api.stripe.com/v1/payouts/po_1", httpmock.NewStringResponder(200, `{"id": 5}`))
	if _, _, err := c.GetPayout(ctx, "po_1"); !errors.Is(err, connector.ErrPermanent) {
		t.Errorf("undecodable answer: %v", err)
	}
}

func TestPagination(t *testing.T) {
	c, mt, _ := mockClient(t, stripe.WithPageSize(2))
	var queries []string
	mt.RegisterResponder(http.MethodGet, "https://api.stripe.com/v1/refunds", func(r *http.Request) (*http.Response, error) {
		queries = append(queries, r.URL.RawQuery)
		switch r.URL.Query().Get("starting_after") {
		case "":
			return httpmock.NewStringResponse(200, `{"object":"list","has_more":true,"data":[{"id":"re_3"},{"id":"re_2"}]}`), nil
		case "re_2":
			return httpmock.NewStringResponse(200, `{"object":"list","has_more":false,"data":[{"id":"re_1"}]}`), nil
		}
		return httpmock.NewStringResponse(500, `{}`), nil
	})
	var ids []string
	for r, err := range c.ListRefunds(context.Background(), stripe.Params{"payment_intent": "pi_1"}) {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.ID)
	}
	if diff := cmp.Diff([]string{"re_3", "re_2", "re_1"}, ids); diff != "" {
		t.Errorf("ids (-want +got):\n%s", diff)
	}
	wantQ := []string{"limit=2&payment_intent=pi_1", "limit=2&payment_intent=pi_1&starting_after=re_2"}
	if diff := cmp.Diff(wantQ, queries); diff != "" {
		t.Errorf("queries (-want +got):\n%s", diff)
	}

	// Breaking out stops the requests.
	queries = nil
	for range c.ListRefunds(context.Background(), nil) {
		break
	}
	if len(queries) != 1 {
		t.Errorf("%d requests after break, want 1", len(queries))
	}
}

func TestPaginationBrokenServer(t *testing.T) {
	for name, body := range map[string]string{
		"has_more without items": `{"object":"list","has_more":true,"data":[]}`,
		"does not advance":       `{"object":"list","has_more":true,"data":[{"id":"re_1"}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			c, mt, _ := mockClient(t)
			mt.RegisterResponder(http.MethodGet, "https://api.stripe.com/v1/refunds", func(r *http.Request) (*http.Response, error) {
				if mt.GetTotalCallCount() > 5 {
					t.Fatal("endless pagination")
				}
				if r.URL.Query().Get("starting_after") == "re_1" {
					// A server that answers the same page for every cursor.
					return httpmock.NewStringResponse(200, `{"object":"list","has_more":true,"data":[{"id":"re_1"}]}`), nil
				}
				return httpmock.NewStringResponse(200, body), nil
			})
			var last error
			for _, err := range c.ListRefunds(context.Background(), nil) {
				last = err
			}
			if !errors.Is(last, connector.ErrPermanent) {
				t.Errorf("got %v", last)
			}
		})
	}
}

func TestNewRefuses(t *testing.T) {
	for name, args := range map[string]struct {
		key  string
		opts []stripe.Option
	}{
		"no key":        {"", nil},
		"page size 0":   {"sk", []stripe.Option{stripe.WithPageSize(0)}},
		"page size 101": {"sk", []stripe.Option{stripe.WithPageSize(101)}},
		"plain http":    {"sk", []stripe.Option{stripe.WithBaseURL("http://api.stripe.com")}},
		"no order keys": {"sk", []stripe.Option{stripe.WithOrderMetadataKeys()}},
	} {
		if _, err := stripe.New(args.key, args.opts...); !errors.Is(err, connector.ErrValidation) {
			t.Errorf("%s: %v", name, err)
		}
	}
}
