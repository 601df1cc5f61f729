package paypaltest_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/knyt/knyt/connector/fault"
	"github.com/knyt/knyt/paypal/paypaltest"
)

var start = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func newFake(t *testing.T, opts ...paypaltest.Option) *paypaltest.Server {
	t.Helper()
	s, err := paypaltest.NewServer(append([]paypaltest.Option{paypaltest.WithStartTime(start), paypaltest.WithResponseValidation()}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Close()
		for _, err := range s.ResponseErrors() {
			t.Errorf("answer outside the description: %v", err)
		}
	})
	return s
}

// answer is a decoded response.
type answer struct {
	status int
	header http.Header
	body   map[string]any
}

func (a answer) issue() string {
	ds, _ := a.body["details"].([]any)
	if len(ds) == 0 {
		return ""
	}
	d, _ := ds[0].(map[string]any)
	s, _ := d["issue"].(string)
	return s
}

func do(t *testing.T, method, u string, h http.Header, body string) answer {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range h {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, header: resp.Header}
	if len(b) > 0 {
		if err := json.Unmarshal(b, &a.body); err != nil {
			t.Fatalf("answer is not JSON: %s", b)
		}
	}
	return a
}

func token(t *testing.T, s *paypaltest.Server) string {
	t.Helper()
	id, secret := s.Credentials()
	req, _ := http.NewRequest("POST", s.URL()+"/v1/oauth2/token", strings.NewReader("grant_type=client_credentials"))
	req.SetBasicAuth(id, secret)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	a := do(t, "POST", s.URL()+"/v1/oauth2/token", req.Header, "grant_type=client_credentials")
	if a.status != 200 {
		t.Fatalf("token: %d %v", a.status, a.body)
	}
	return a.body["access_token"].(string)
}

func authed(tok string, more ...string) http.Header {
	h := http.Header{"Authorization": {"Bearer " + tok}, "Content-Type": {"application/json"}}
	for i := 0; i+1 < len(more); i += 2 {
		h.Set(more[i], more[i+1])
	}
	return h
}

func TestTokenEndpoint(t *testing.T) {
	s := newFake(t, paypaltest.WithTokenTTL(time.Hour))
	h := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	bad := do(t, "POST", s.URL()+"/v1/oauth2/token", h, "grant_type=client_credentials")
	if bad.status != 401 || bad.body["error"] != "invalid_client" {
		t.Errorf("no credentials: %d %v", bad.status, bad.body)
	}
	tok := token(t, s)
	if s.TokenRequests() != 1 {
		t.Errorf("token requests %d", s.TokenRequests())
	}
	a, err := s.AddAuthorization(paypaltest.Authorization{Currency: "USD", Value: "10.00"})
	if err != nil {
		t.Fatal(err)
	}
	get := func(h http.Header) answer {
		return do(t, "GET", s.URL()+"/v2/payments/authorizations/"+a.ID, h, "")
	}
	if r := get(authed(tok)); r.status != 200 || r.body["status"] != "CREATED" {
		t.Errorf("with token: %d %v", r.status, r.body)
	}
	if r := get(http.Header{}); r.status != 401 || r.body["name"] != "AUTHENTICATION_FAILURE" {
		t.Errorf("without token: %d %v", r.status, r.body)
	}
	s.Advance(time.Hour)
	if r := get(authed(tok)); r.status != 401 || r.body["error"] != "invalid_token" {
		t.Errorf("expired token: %d %v", r.status, r.body)
	}
}

func TestRequestsValidatedAgainstDescription(t *testing.T) {
	s := newFake(t)
	tok := token(t, s)
	a, err := s.AddAuthorization(paypaltest.Authorization{Currency: "USD", Value: "10.00"})
	if err != nil {
		t.Fatal(err)
	}
	capURL := s.URL() + "/v2/payments/authorizations/" + a.ID + "/capture"
	search := s.URL() + "/v1/reporting/transactions?"
	tests := []struct {
		name, method, url, body string
		h                       http.Header
		status                  int
		issue                   string
	}{
		{"invoice id too long", "POST", capURL, `{"invoice_id":"` + strings.Repeat("x", 128) + `"}`, authed(tok, "PayPal-Request-Id", "k1"), 400, "INVALID_STRING_LENGTH"},
		{"amount with a comma", "POST", capURL, `{"amount":{"currency_code":"USD","value":"1,00"}}`, authed(tok, "PayPal-Request-Id", "k2"), 400, "INVALID_PARAMETER_SYNTAX"},
		{"amount without currency", "POST", capURL, `{"amount":{"value":"1.00"}}`, authed(tok, "PayPal-Request-Id", "k3"), 400, "MISSING_REQUIRED_PARAMETER"},
		{"final_capture not a boolean", "POST", capURL, `{"final_capture":"yes"}`, authed(tok, "PayPal-Request-Id", "k4"), 400, "INVALID_PARAMETER_SYNTAX"},
		{"not JSON", "POST", capURL, `{`, authed(tok, "PayPal-Request-Id", "k5"), 400, "INVALID_PARAMETER_SYNTAX"},
		{"wrong content type", "POST", capURL, `amount=1`, authed(tok, "Content-Type", "text/plain", "PayPal-Request-Id", "k6"), 415, "UNSUPPORTED_MEDIA_TYPE"},
		{"too many decimals", "POST", capURL, `{"amount":{"currency_code":"USD","value":"1.001"}}`, authed(tok, "PayPal-Request-Id", "k7"), 422, "DECIMAL_PRECISION"},
		{"search without start", "GET", search + "end_date=2026-03-01T00:00:00Z", "", authed(tok), 400, "MISSING_REQUIRED_PARAMETER"},
		{"search date without colon", "GET", search + "start_date=2026-02-01T00:00:00-0700&end_date=2026-03-01T00:00:00Z", "", authed(tok), 400, "INVALID_PARAMETER_SYNTAX"},
		{"search page too large", "GET", search + "start_date=2026-02-01T00:00:00Z&end_date=2026-03-01T00:00:00Z&page_size=501", "", authed(tok), 400, "INVALID_PARAMETER_SYNTAX"},
		{"search over 31 days", "GET", search + "start_date=2026-01-01T00:00:00Z&end_date=2026-02-01T00:00:01Z", "", authed(tok), 400, "INVALID_PARAMETER_VALUE"},
		{"search reversed", "GET", search + "start_date=2026-02-01T00:00:00Z&end_date=2026-01-01T00:00:00Z", "", authed(tok), 400, "INVALID_PARAMETER_VALUE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, tt.method, tt.url, tt.h, tt.body)
			if r.status != tt.status || r.issue() != tt.issue {
				t.Errorf("%d %s, want %d %s: %v", r.status, r.issue(), tt.status, tt.issue, r.body)
			}
			if r.body["debug_id"] == "" || r.header.Get("Paypal-Debug-Id") == "" {
				t.Errorf("no debug id")
			}
		})
	}
	if len(s.Captures()) != 0 {
		t.Errorf("an invalid request captured")
	}
	if len(s.Rejections()) == 0 {
		t.Errorf("no rejection reasons recorded")
	}
	// The 31-day boundary itself is allowed.
	if r := do(t, "GET", search+"start_date=2026-01-01T00:00:00Z&end_date=2026-02-01T00:00:00Z", authed(tok), ""); r.status != 200 {
		t.Errorf("exactly 31 days: %d %v", r.status, r.body)
	}
}

func TestSearchLagAndRefresh(t *testing.T) {
	s := newFake(t, paypaltest.WithAccountZone(time.FixedZone("", -7*3600)))
	tok := token(t, s)
	if _, err := s.AddTransaction(paypaltest.Transaction{EventCode: "T0006", Currency: "USD", Gross: "5.00", Fee: "-0.17"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddTransaction(paypaltest.Transaction{EventCode: "T0006", At: start.Add(-time.Minute), Currency: "USD", Gross: "6.00", Lag: time.Minute}); err != nil {
		t.Fatal(err)
	}
	q := url.Values{"start_date": {start.Add(-48 * time.Hour).Format(time.RFC3339)}, "end_date": {start.Add(time.Hour).Format(time.RFC3339)}}
	list := func() answer { return do(t, "GET", s.URL()+"/v1/reporting/transactions?"+q.Encode(), authed(tok), "") }
	r := list()
	if r.status != 200 || r.body["total_items"] != 1.0 {
		t.Fatalf("before the lag: %d %v", r.status, r.body)
	}
	if r.body["last_refreshed_datetime"] != "2026-03-01T23:00:00-0700" || r.body["end_date"] != "2026-03-02T02:00:00-0700" {
		t.Errorf("refreshed %v, end %v", r.body["last_refreshed_datetime"], r.body["end_date"])
	}
	s.Advance(3 * time.Hour)
	if r := list(); r.body["total_items"] != 2.0 {
		t.Errorf("after the lag: %v", r.body["total_items"])
	}
	q.Set("start_date", start.Add(time.Hour).Format(time.RFC3339))
	q.Set("end_date", start.Add(2*time.Hour).Format(time.RFC3339))
	if r := list(); r.status != 400 || r.body["message"] != "Data for the given start date is not available." {
		t.Errorf("start past the refresh: %d %v", r.status, r.body)
	}
}

func TestReplayGivesLatestState(t *testing.T) {
	s := newFake(t)
	tok := token(t, s)
	a, err := s.AddAuthorization(paypaltest.Authorization{Currency: "EUR", Value: "10.00"})
	if err != nil {
		t.Fatal(err)
	}
	capURL := s.URL() + "/v2/payments/authorizations/" + a.ID + "/capture"
	first := do(t, "POST", capURL, authed(tok, "PayPal-Request-Id", "cap-1", "Prefer", "return=representation"), `{}`)
	if first.status != 201 || first.body["status"] != "COMPLETED" {
		t.Fatalf("%d %v", first.status, first.body)
	}
	id := first.body["id"].(string)
	r := do(t, "POST", s.URL()+"/v2/payments/captures/"+id+"/refund", authed(tok, "PayPal-Request-Id", "ref-1"), `{"amount":{"currency_code":"EUR","value":"4.00"}}`)
	if r.status != 201 || r.body["amount"] != nil {
		t.Fatalf("minimal refund answer: %d %v", r.status, r.body)
	}
	again := do(t, "POST", capURL, authed(tok, "PayPal-Request-Id", "cap-1", "Prefer", "return=representation"), `{}`)
	if again.status != 201 || again.body["id"] != id || again.body["status"] != "PARTIALLY_REFUNDED" {
		t.Errorf("replay: %d %v", again.status, again.body)
	}
	if n := len(s.Captures()); n != 1 {
		t.Errorf("%d captures", n)
	}
	var replayed []bool
	for _, r := range s.Requests() {
		replayed = append(replayed, r.Replayed)
	}
	if diff := cmp.Diff([]bool{false, false, true}, replayed); diff != "" {
		t.Errorf("replayed flags (-want +got):\n%s", diff)
	}
}

func TestPreviousRequestInProgress(t *testing.T) {
	s := newFake(t, paypaltest.WithProcessingDelay(100*time.Millisecond))
	tok := token(t, s)
	a, err := s.AddAuthorization(paypaltest.Authorization{Currency: "USD", Value: "10.00"})
	if err != nil {
		t.Fatal(err)
	}
	capURL := s.URL() + "/v2/payments/authorizations/" + a.ID + "/capture"
	var mu sync.Mutex
	var statuses []int
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(time.Duration(i) * 20 * time.Millisecond)
			r := do(t, "POST", capURL, authed(tok, "PayPal-Request-Id", "same"), `{}`)
			mu.Lock()
			statuses = append(statuses, r.status)
			mu.Unlock()
		}()
	}
	wg.Wait()
	if diff := cmp.Diff([]int{409, 201}, statuses); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	if n := len(s.Captures()); n != 1 {
		t.Errorf("%d captures", n)
	}
}

func TestInjectedFaultsLookLikePayPal(t *testing.T) {
	s := newFake(t)
	s.Faults().Inject(fault.Fault{Kind: fault.Status, Status: 503})
	r := do(t, "GET", s.URL()+"/v2/payments/captures/X", http.Header{}, "")
	if r.status != 503 || r.body["name"] != "SERVICE_UNAVAILABLE" || r.body["debug_id"] == "" {
		t.Errorf("API fault: %d %v", r.status, r.body)
	}
	s.Faults().Inject(fault.Fault{Kind: fault.Status, Status: 401})
	r = do(t, "POST", s.URL()+"/v1/oauth2/token", http.Header{}, "grant_type=client_credentials")
	if r.status != 401 || r.body["error"] != "invalid_client" {
		t.Errorf("token fault: %d %v", r.status, r.body)
	}
}

func TestWithdrawSweepsTheBalance(t *testing.T) {
	s := newFake(t)
	if _, err := s.Withdraw("USD"); err == nil {
		t.Error("withdrew from an empty balance")
	}
	for _, tx := range []paypaltest.Transaction{
		{EventCode: "T0006", Currency: "USD", Gross: "100.00", Fee: "-3.79"},
		{EventCode: "T1107", Currency: "USD", Gross: "-10.00", Fee: "0.35"},
		{EventCode: "T1300", Currency: "USD", Gross: "50.00", NonBalance: true},
		{EventCode: "T0006", Currency: "EUR", Gross: "5.00"},
	} {
		if _, err := s.AddTransaction(tx); err != nil {
			t.Fatal(err)
		}
	}
	if b := s.Balance("USD"); b != "86.56" {
		t.Errorf("balance %s", b)
	}
	wd, err := s.Withdraw("USD")
	if err != nil || wd.Gross != "-86.56" || wd.EventCode != "T0400" {
		t.Fatalf("%+v %v", wd, err)
	}
	if b := s.Balance("USD"); b != "0.00" {
		t.Errorf("balance after %s", b)
	}
	for _, bad := range []paypaltest.Transaction{
		{EventCode: "X0006", Currency: "USD", Gross: "1.00"},
		{EventCode: "T0006", Currency: "JPY", Gross: "1.50"},
		{EventCode: "T0006", Currency: "XYZ", Gross: "1.00"},
		{EventCode: "T0006", Currency: "USD", Gross: "1e2"},
	} {
		if _, err := s.AddTransaction(bad); err == nil {
			t.Errorf("accepted %+v", bad)
		}
	}
}

func TestVerifyEndpoint(t *testing.T) {
	s := newFake(t)
	tok := token(t, s)
	event := []byte(`{"id":"WH-1","event_type":"PAYMENT.CAPTURE.COMPLETED","resource":{"id":"X"}}`)
	h, err := s.Sign(event, s.WebhookID())
	if err != nil {
		t.Fatal(err)
	}
	body := func(ev []byte, webhookID string) string {
		var b bytes.Buffer
		b.WriteString(`{"auth_algo":"` + h.Get("Paypal-Auth-Algo") + `","cert_url":"` + h.Get("Paypal-Cert-Url") +
			`","transmission_id":"` + h.Get("Paypal-Transmission-Id") + `","transmission_sig":"` + h.Get("Paypal-Transmission-Sig") +
			`","transmission_time":"` + h.Get("Paypal-Transmission-Time") + `","webhook_id":"` + webhookID + `","webhook_event":`)
		b.Write(ev)
		b.WriteString("}")
		return b.String()
	}
	u := s.URL() + "/v1/notifications/verify-webhook-signature"
	if r := do(t, "POST", u, authed(tok, "PayPal-Request-Id", "v1"), body(event, s.WebhookID())); r.body["verification_status"] != "SUCCESS" {
		t.Errorf("genuine: %v", r.body)
	}
	if r := do(t, "POST", u, authed(tok, "PayPal-Request-Id", "v2"), body(bytes.Replace(event, []byte(`"X"`), []byte(`"Y"`), 1), s.WebhookID())); r.body["verification_status"] != "FAILURE" {
		t.Errorf("tampered: %v", r.body)
	}
	if r := do(t, "POST", u, authed(tok, "PayPal-Request-Id", "v3"), body(event, "OTHERWEBHOOK1")); r.body["verification_status"] != "FAILURE" {
		t.Errorf("other webhook: %v", r.body)
	}
}
