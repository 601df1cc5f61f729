package stripetest_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/knyt/knyt/connector/fault"
	"github.com/knyt/knyt/stripe/stripetest"
)

type answer struct {
	Status  int
	Header  http.Header
	Body    map[string]any
	RawBody string
}

func call(t *testing.T, s *stripetest.Server, method, path, body string, hdr map[string]string) answer {
	t.Helper()
	req, err := http.NewRequest(method, s.URL()+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+s.SecretKey())
	if body != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range hdr {
		if v == "" {
			req.Header.Del(k)
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	a := answer{Status: resp.StatusCode, Header: resp.Header, RawBody: string(b)}
	json.Unmarshal(b, &a.Body)
	return a
}

func errorOf(a answer) map[string]any {
	e, _ := a.Body["error"].(map[string]any)
	return e
}

func TestAuthAndRouting(t *testing.T) {
	s := stripetest.NewServer()
	defer s.Close()
	tests := []struct {
		name           string
		method, path   string
		body           string
		hdr            map[string]string
		status         int
		errType, param string
	}{
		{"no key", "GET", "/v1/payouts", "", map[string]string{"Authorization": ""}, 401, "invalid_request_error", ""},
		{"wrong key", "GET", "/v1/payouts", "", map[string]string{"Authorization": "Bearer sk_test_wrongwrongwrong"}, 401, "invalid_request_error", ""},
		{"basic auth accepted", "GET", "/v1/payouts", "", map[string]string{"Authorization": "Basic " + basic(s.SecretKey())}, 200, "", ""},
		{"unknown url", "GET", "/v1/customers", "", nil, 404, "invalid_request_error", ""},
		{"unknown param", "GET", "/v1/payouts?colour=red", "", nil, 400, "invalid_request_error", "colour"},
		{"limit too big", "GET", "/v1/payouts?limit=101", "", nil, 400, "invalid_request_error", "limit"},
		{"bad expansion", "GET", "/v1/balance_transactions?expand[]=data.payout", "", nil, 400, "invalid_request_error", "expand"},
		{"missing object", "GET", "/v1/payment_intents/pi_nope", "", nil, 404, "invalid_request_error", "intent"},
		{"json body refused", "POST", "/v1/refunds", `{"amount":1}`, map[string]string{"Content-Type": "application/json", "Idempotency-Key": "k"}, 400, "invalid_request_error", ""},
		{"post params in query", "POST", "/v1/refunds?amount=1", "", nil, 400, "invalid_request_error", ""},
		{"refund of nothing", "POST", "/v1/refunds", "amount=1", nil, 400, "invalid_request_error", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := call(t, s, tt.method, tt.path, tt.body, tt.hdr)
			if a.Status != tt.status || a.Header.Get("Request-Id") == "" {
				t.Fatalf("status %d (request id %q): %s", a.Status, a.Header.Get("Request-Id"), a.RawBody)
			}
			if tt.errType == "" {
				return
			}
			e := errorOf(a)
			if e["type"] != tt.errType || e["message"] == "" || (tt.param != "" && e["param"] != tt.param) {
				t.Errorf("error %v", e)
			}
			if strings.Contains(a.RawBody, "sk_test_wrongwrongwrong") {
				t.Error("the wrong key is echoed unmasked")
			}
		})
	}
}

func basic(user string) string {
	r, _ := http.NewRequest("GET", "/", nil)
	r.SetBasicAuth(user, "")
	return strings.TrimPrefix(r.Header.Get("Authorization"), "Basic ")
}

func TestIdempotency(t *testing.T) {
	s := stripetest.NewServer()
	defer s.Close()
	pi, err := s.AddCharge(stripetest.Authorization{Amount: 5000, Currency: "SEK"})
	if err != nil {
		t.Fatal(err)
	}
	h := map[string]string{"Idempotency-Key": "refund-1"}
	first := call(t, s, "POST", "/v1/refunds", "payment_intent="+pi+"&amount=100", h)
	again := call(t, s, "POST", "/v1/refunds", "amount=100&payment_intent="+pi, h) // same params, other order
	if first.Status != 200 || again.RawBody != first.RawBody || again.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay: %d %q / %q", first.Status, first.RawBody, again.RawBody)
	}
	other := call(t, s, "POST", "/v1/refunds", "payment_intent="+pi+"&amount=200", h)
	if other.Status != 400 || errorOf(other)["type"] != "idempotency_error" {
		t.Errorf("other params under the key: %d %s", other.Status, other.RawBody)
	}
	otherPath := call(t, s, "POST", "/v1/payment_intents/"+pi+"/cancel", "", h)
	if otherPath.Status != 400 || errorOf(otherPath)["type"] != "idempotency_error" {
		t.Errorf("other endpoint under the key: %d %s", otherPath.Status, otherPath.RawBody)
	}
	// A validation failure is not saved: the key can then be used.
	h2 := map[string]string{"Idempotency-Key": "refund-2"}
	if a := call(t, s, "POST", "/v1/refunds", "payment_intent="+pi+"&amount=abc", h2); a.Status != 400 {
		t.Fatalf("bad amount accepted: %s", a.RawBody)
	}
	if a := call(t, s, "POST", "/v1/refunds", "payment_intent="+pi+"&amount=50", h2); a.Status != 200 {
		t.Errorf("key after a validation failure: %d %s", a.Status, a.RawBody)
	}
	// An executed failure is saved and replayed.
	h3 := map[string]string{"Idempotency-Key": "refund-3"}
	tooMuch := call(t, s, "POST", "/v1/refunds", "payment_intent="+pi+"&amount=999999", h3)
	s.AddCharge(stripetest.Authorization{Amount: 1, Currency: "sek"})
	replayed := call(t, s, "POST", "/v1/refunds", "payment_intent="+pi+"&amount=999999", h3)
	if tooMuch.Status != 400 || replayed.RawBody != tooMuch.RawBody || replayed.Header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("saved failure: %d %s / %s", tooMuch.Status, tooMuch.RawBody, replayed.RawBody)
	}
	if snap, _ := s.PaymentIntent(pi); snap.AmountRefunded != 150 {
		t.Errorf("refunded %d, want 150", snap.AmountRefunded)
	}
	if a := call(t, s, "POST", "/v1/refunds", "payment_intent="+pi, map[string]string{"Idempotency-Key": strings.Repeat("k", 256)}); a.Status != 400 {
		t.Errorf("256-character key: %d", a.Status)
	}
}

func TestListPaging(t *testing.T) {
	s := stripetest.NewServer(stripetest.WithClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)))
	defer s.Close()
	var want []string
	for range 5 {
		pi, err := s.AddCharge(stripetest.Authorization{Amount: 1000, Currency: "sek"})
		if err != nil {
			t.Fatal(err)
		}
		a := call(t, s, "POST", "/v1/refunds", "payment_intent="+pi+"&amount=10", map[string]string{"Idempotency-Key": pi})
		want = append([]string{a.Body["id"].(string)}, want...) // newest first, equal timestamps
	}
	ids := func(a answer) []string {
		var out []string
		for _, d := range a.Body["data"].([]any) {
			out = append(out, d.(map[string]any)["id"].(string))
		}
		return out
	}
	p1 := call(t, s, "GET", "/v1/refunds?limit=2", "", nil)
	p2 := call(t, s, "GET", "/v1/refunds?limit=2&starting_after="+want[1], "", nil)
	p3 := call(t, s, "GET", "/v1/refunds?limit=2&starting_after="+want[3], "", nil)
	back := call(t, s, "GET", "/v1/refunds?limit=2&ending_before="+want[4], "", nil)
	got := [][]any{{ids(p1), p1.Body["has_more"]}, {ids(p2), p2.Body["has_more"]}, {ids(p3), p3.Body["has_more"]}, {ids(back), back.Body["has_more"]}}
	exp := [][]any{{want[0:2], true}, {want[2:4], true}, {want[4:5], false}, {want[2:4], true}}
	if diff := cmp.Diff(exp, got); diff != "" {
		t.Errorf("pages (-want +got):\n%s", diff)
	}
	if a := call(t, s, "GET", "/v1/refunds?starting_after=re_nope", "", nil); a.Status != 400 {
		t.Errorf("unknown cursor: %d", a.Status)
	}
}

func TestFailuresAndFaults(t *testing.T) {
	s := stripetest.NewServer(stripetest.WithRequiredVersion("2026-08-26.dahlia"))
	defer s.Close()
	v := map[string]string{"Stripe-Version": "2026-08-26.dahlia"}
	if a := call(t, s, "GET", "/v1/payouts", "", nil); a.Status != 400 {
		t.Errorf("missing version accepted: %d", a.Status)
	}
	s.FailNext(stripetest.Failure{Status: 429, Type: "invalid_request_error", Code: "lock_timeout", Message: "locked", ShouldRetry: "true"})
	a := call(t, s, "GET", "/v1/payouts", "", v)
	if a.Status != 429 || errorOf(a)["code"] != "lock_timeout" || a.Header.Get("Stripe-Should-Retry") != "true" {
		t.Errorf("failure: %d %v %v", a.Status, a.Header, a.Body)
	}
	for status, typ := range map[int]string{500: "api_error", 503: "api_error", 429: "invalid_request_error", 402: "card_error", 409: "invalid_request_error"} {
		s.Faults().Inject(fault.Fault{Kind: fault.Status, Status: status})
		a := call(t, s, "GET", "/v1/payouts", "", v)
		if a.Status != status || errorOf(a)["type"] != typ || a.Header.Get("Request-Id") == "" {
			t.Errorf("injected %d: %d %s", status, a.Status, a.RawBody)
		}
	}
	if a := call(t, s, "GET", "/v1/payouts", "", v); a.Status != 200 {
		t.Errorf("after the faults: %d", a.Status)
	}
}

func TestSeedingRefusals(t *testing.T) {
	s := stripetest.NewServer()
	defer s.Close()
	if _, err := s.AddAuthorization(stripetest.Authorization{Amount: 0, Currency: "sek"}); err == nil {
		t.Error("zero authorization")
	}
	if _, err := s.AddAuthorization(stripetest.Authorization{Amount: 1, Currency: "sekk"}); err == nil {
		t.Error("bad currency")
	}
	if _, err := s.CreatePayout("sek", stripetest.PayoutOptions{}); err == nil {
		t.Error("payout of nothing")
	}
	if _, err := s.AddBalanceTransaction(stripetest.BalanceTransaction{Amount: -5, Currency: "sek", Type: "adjustment", ReportingCategory: "other_adjustment"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreatePayout("sek", stripetest.PayoutOptions{}); err == nil {
		t.Error("payout of a negative balance")
	}
	if _, err := s.AddBalanceTransaction(stripetest.BalanceTransaction{Amount: 5, Fee: 2, FeeDetails: []stripetest.FeeDetail{{Amount: 1}}, Currency: "sek", Type: "x", ReportingCategory: "y"}); err == nil {
		t.Error("fee details that do not sum to the fee")
	}
	if err := s.SetPayoutStatus("po_nope", "paid"); err == nil {
		t.Error("status of a missing payout")
	}
}

func TestDeliverRetriesUntilAccepted(t *testing.T) {
	s := stripetest.NewServer()
	defer s.Close()
	if _, err := s.AddAuthorization(stripetest.Authorization{Amount: 100, Currency: "sek"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DeliverWebhooks(context.Background()); err == nil {
		t.Error("delivered without an endpoint")
	}
	fail := true
	var sigs []string
	hook := newHookServer(func(r *http.Request) int {
		sigs = append(sigs, r.Header.Get("Stripe-Signature"))
		if fail {
			return 500
		}
		return 200
	})
	defer hook.Close()
	s.SetWebhookEndpoint(hook.URL)
	if n, err := s.DeliverWebhooks(context.Background()); n != 0 || err != nil {
		t.Fatalf("first delivery: %d %v", n, err)
	}
	fail = false
	if n, err := s.DeliverWebhooks(context.Background()); n != 1 || err != nil {
		t.Fatalf("second delivery: %d %v", n, err)
	}
	if n, _ := s.DeliverWebhooks(context.Background()); n != 0 {
		t.Errorf("delivered again after success: %d", n)
	}
	if len(sigs) != 2 || !strings.HasPrefix(sigs[0], "t=") || !strings.Contains(sigs[0], ",v1=") {
		t.Errorf("signatures %v", sigs)
	}
}
