package vat

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jarcoal/httpmock"
)

const viesTestBase = "https://vies.test/rest-api"

func newMockVIES(t *testing.T, opts ...VIESOption) (*VIESClient, *httpmock.MockTransport) {
	t.Helper()
	mt := httpmock.NewMockTransport()
	c, err := NewVIESClient(append([]VIESOption{WithHTTPClient(&http.Client{Transport: mt}), WithBaseURL(viesTestBase)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c, mt
}

func TestVIESValidAndInvalid(t *testing.T) {
	tests := []struct {
		name   string
		number string
		status int
		body   string
		want   CheckResult
	}{
		{"valid", "SE 556737-0431 01", 200,
			`{"countryCode":"SE","vatNumber":"556737043101","requestDate":"2026-11-22T10:15:00.123Z","valid":true,"requestIdentifier":"WAPIAAAAZ2x1cXJk","name":"KLARNA BANK AB","address":"SVEAVÄGEN 46\n111 34 STOCKHOLM"}`,
			CheckResult{Status: Valid, CountryCode: "SE", VATNumber: "556737043101", RequestDate: time.Date(2026, 11, 22, 10, 15, 0, 123e6, time.UTC),
				Name: "KLARNA BANK AB", Address: "SVEAVÄGEN 46\n111 34 STOCKHOLM", ConsultationNumber: "WAPIAAAAZ2x1cXJk"}},
		{"valid, details withheld", "DE136695976", 200,
			`{"countryCode":"DE","vatNumber":"136695976","requestDate":"2026-11-22","valid":true,"name":"---","address":"---"}`,
			CheckResult{Status: Valid, CountryCode: "DE", VATNumber: "136695976", RequestDate: time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)}},
		{"invalid", "GR094259216", 200,
			`{"countryCode":"EL","vatNumber":"094259216","requestDate":"2026-11-22T10:15:00Z","valid":false,"name":"---","address":"---"}`,
			CheckResult{Status: Invalid, CountryCode: "EL", VATNumber: "094259216", RequestDate: time.Date(2026, 11, 22, 10, 15, 0, 0, time.UTC)}},
		{"invalid, actionSucceed true", "NL004495445B01", 200,
			`{"actionSucceed":true,"valid":false}`,
			CheckResult{Status: Invalid, CountryCode: "NL", VATNumber: "004495445B01"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, mt := newMockVIES(t)
			mt.RegisterResponder(http.MethodPost, viesTestBase+"/check-vat-number", httpmock.NewStringResponder(tt.status, tt.body))
			got, err := c.Check(context.Background(), tt.number)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestVIESUnknown(t *testing.T) {
	tests := []struct {
		name      string
		responder httpmock.Responder
		code      string
		text      string
	}{
		{"member state down, HTTP 200", httpmock.NewStringResponder(200, `{"actionSucceed":false,"errorWrappers":[{"error":"MS_UNAVAILABLE","message":"The member state service is unavailable"}]}`), "MS_UNAVAILABLE", "MS_UNAVAILABLE"},
		{"timeout, HTTP 500", httpmock.NewStringResponder(500, `{"actionSucceed":false,"errorWrappers":[{"error":"TIMEOUT"}]}`), "TIMEOUT", "HTTP 500"},
		{"busy", httpmock.NewStringResponder(200, `{"actionSucceed":false,"errorWrappers":[{"error":"MS_MAX_CONCURRENT_REQ"}]}`), "MS_MAX_CONCURRENT_REQ", "MS_MAX_CONCURRENT_REQ"},
		{"invalid input is not invalid", httpmock.NewStringResponder(400, `{"actionSucceed":false,"errorWrappers":[{"error":"INVALID_INPUT"}]}`), "INVALID_INPUT", "INVALID_INPUT"},
		{"html error page", httpmock.NewStringResponder(503, `<html><body>Service Unavailable</body></html>`), "", "HTTP 503"},
		{"unreadable 200", httpmock.NewStringResponder(200, `{"valid":`), "", "unreadable answer"},
		{"no valid flag", httpmock.NewStringResponder(200, `{"countryCode":"SE"}`), "", "without a valid flag"},
		{"actionSucceed false without wrappers", httpmock.NewStringResponder(200, `{"actionSucceed":false,"valid":false}`), "", "without a valid flag"},
		{"connection refused", httpmock.NewErrorResponder(errors.New("connection refused")), "", "connection refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, mt := newMockVIES(t)
			mt.RegisterResponder(http.MethodPost, viesTestBase+"/check-vat-number", tt.responder)
			got, err := c.Check(context.Background(), "SE556737043101")
			if got.Status != Unknown {
				t.Errorf("status %v, want unknown", got.Status)
			}
			if !errors.Is(err, ErrVIESUnavailable) {
				t.Fatalf("err %v does not match ErrVIESUnavailable", err)
			}
			if !strings.Contains(err.Error(), tt.text) || !strings.HasPrefix(err.Error(), "vat: vies check: SE") {
				t.Errorf("err %q, want it to name vat, the operation and %q", err, tt.text)
			}
			var ve *VIESError
			if tt.code != "" && (!errors.As(err, &ve) || ve.Code != tt.code) {
				t.Errorf("VIES code: %+v, want %s", ve, tt.code)
			}
		})
	}
}

func TestVIESContextCancelled(t *testing.T) {
	c, mt := newMockVIES(t)
	mt.RegisterResponder(http.MethodPost, viesTestBase+"/check-vat-number", httpmock.NewStringResponder(200, `{"valid":true}`))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	got, err := c.Check(ctx, "SE556737043101")
	if got.Status != Unknown || !errors.Is(err, context.Canceled) {
		t.Errorf("status %v, err %v; want unknown and context.Canceled", got.Status, err)
	}
}

func TestVIESRequester(t *testing.T) {
	c, mt := newMockVIES(t, WithRequester("se556737043101"))
	var sent viesRequest
	mt.RegisterResponder(http.MethodPost, viesTestBase+"/check-vat-number", func(r *http.Request) (*http.Response, error) {
		if r.Header.Get("Content-Type") != "application/json" {
			return httpmock.NewStringResponse(415, ""), nil
		}
		if err := json.NewDecoder(r.Body).Decode(&sent); err != nil {
			return nil, err
		}
		return httpmock.NewStringResponse(200, `{"valid":true,"requestIdentifier":"WAPI123"}`), nil
	})
	got, err := c.Check(context.Background(), "EL094259216")
	if err != nil {
		t.Fatal(err)
	}
	want := viesRequest{CountryCode: "EL", VATNumber: "094259216", RequesterMemberStateCode: "SE", RequesterNumber: "556737043101"}
	if diff := cmp.Diff(want, sent); diff != "" {
		t.Errorf("request (-want +got):\n%s", diff)
	}
	if got.ConsultationNumber != "WAPI123" || got.Status != Valid {
		t.Errorf("result %+v", got)
	}
}

func TestVIESLocalInvalid(t *testing.T) {
	c, mt := newMockVIES(t)
	got, err := c.Check(context.Background(), "SE556737043201")
	if got.Status != Invalid || !errors.Is(err, ErrChecksum) {
		t.Errorf("status %v, err %v; want invalid with ErrChecksum", got.Status, err)
	}
	if n := mt.GetTotalCallCount(); n != 0 {
		t.Errorf("%d requests for a number that cannot be valid", n)
	}
}

func TestNewVIESClient(t *testing.T) {
	for _, tt := range []struct {
		opts []VIESOption
		ok   bool
	}{
		{nil, true},
		{[]VIESOption{WithBaseURL("http://127.0.0.1:8080/rest-api")}, true},
		{[]VIESOption{WithBaseURL("http://localhost:1/")}, true},
		{[]VIESOption{WithBaseURL("http://ec.europa.eu/taxation_customs/vies/rest-api")}, false},
		{[]VIESOption{WithBaseURL("vies")}, false},
		{[]VIESOption{WithRequester("SE123")}, false},
	} {
		_, err := NewVIESClient(tt.opts...)
		if (err == nil) != tt.ok {
			t.Errorf("%v: err %v", tt.opts, err)
		}
	}
}

func TestVIESDeadline(t *testing.T) {
	c, mt := newMockVIES(t)
	mt.RegisterResponder(http.MethodPost, viesTestBase+"/check-vat-number", func(r *http.Request) (*http.Response, error) {
		<-r.Context().Done() // VIES hangs until the caller gives up
		return nil, r.Context().Err()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	got, err := c.Check(ctx, "SE556737043101")
	if got.Status != Unknown || !errors.Is(err, ErrVIESUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("status %v, err %v; want unknown, ErrVIESUnavailable and DeadlineExceeded", got.Status, err)
	}
}
