package shopify

import (
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/knyt/knyt/connector"
)

const (
	vectorSecret = "test-client-secret"
	vectorBody   = `{"id":820982911946154508,"admin_graphql_api_id":"gid://shopify/Order/820982911946154508","name":"#9999","currency":"SEK","total_price":"199.00","updated_at":"2026-10-01T12:00:00+02:00"}`
	vectorMAC    = "FB8SUL7j7NOoyMBWhM4c0v/mzuxwDsfKZbAlR3ZavDI="
)

func TestVerifyWebhookVectors(t *testing.T) {
	tests := []struct {
		secret, body, sig string
		ok                bool
	}{
		{"hush", `"my secret message"`, "hMTq0K2x7oyOjoBwGYeTj5oxfnaVYXzbanUG9aajpKI=", true},
		{vectorSecret, vectorBody, vectorMAC, true},
		{vectorSecret, vectorBody, " " + vectorMAC + " ", true},
		{vectorSecret, vectorBody + " ", vectorMAC, false}, // one byte more
		{"hush2", `"my secret message"`, "hMTq0K2x7oyOjoBwGYeTj5oxfnaVYXzbanUG9aajpKI=", false},
		{vectorSecret, vectorBody, "", false},            // missing
		{vectorSecret, vectorBody, "not base64!", false}, // garbage
		{vectorSecret, vectorBody, "AAAA", false},        // wrong length
		{"", vectorBody, vectorMAC, false},               // no secret configured
		{vectorSecret, vectorBody, strings.ToLower(vectorMAC), false},
	}
	for _, tt := range tests {
		err := VerifyWebhook([]byte(tt.secret), []byte(tt.body), tt.sig)
		if tt.ok != (err == nil) {
			t.Errorf("VerifyWebhook(%q, %.20q, %q) = %v", tt.secret, tt.body, tt.sig, err)
		}
		if err != nil {
			if !errors.Is(err, connector.ErrWebhookSignature) {
				t.Errorf("err = %v, want ErrWebhookSignature", err)
			}
			if tt.secret != "" && strings.Contains(err.Error(), tt.secret) {
				t.Errorf("error reveals the secret")
			}
		}
	}
}

func webhookRequest(body, sig string, h map[string]string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/webhooks/shopify", strings.NewReader(body))
	if sig != "" {
		r.Header.Set("X-Shopify-Hmac-Sha256", sig)
	}
	for k, v := range h {
		r.Header.Set(k, v)
	}
	return r
}

var vectorHeaders = map[string]string{
	"X-Shopify-Topic":        "orders/updated",
	"X-Shopify-Shop-Domain":  "knyt-test.myshopify.com",
	"X-Shopify-API-Version":  "2026-10",
	"X-Shopify-Webhook-Id":   "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
	"X-Shopify-Event-Id":     "98880550-7158-44d4-b7cd-2c97c8a091b5",
	"X-Shopify-Triggered-At": "2026-10-01T10:00:01.123456Z",
	"X-Shopify-Name":         "knyt-orders",
}

func TestDecodeWebhook(t *testing.T) {
	d := &WebhookDecoder{Secrets: [][]byte{[]byte("old-secret"), []byte(vectorSecret)}}
	w, err := d.Decode(webhookRequest(vectorBody, vectorMAC, vectorHeaders))
	if err != nil {
		t.Fatal(err)
	}
	want := Webhook{
		WebhookEvent: connector.WebhookEvent{
			System:   "shopify",
			Account:  "knyt-test.myshopify.com",
			Topic:    "orders/updated",
			ID:       "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
			EventID:  "98880550-7158-44d4-b7cd-2c97c8a091b5",
			At:       time.Date(2026, 10, 1, 10, 0, 1, 123456000, time.UTC),
			ObjectID: "gid://shopify/Order/820982911946154508",
			Payload:  []byte(vectorBody),
		},
		APIVersion: "2026-10",
		Name:       "knyt-orders",
	}
	if diff := cmp.Diff(want, w); diff != "" {
		t.Errorf("webhook (-want +got):\n%s", diff)
	}
	ev, err := d.DecodeWebhook(webhookRequest(vectorBody, vectorMAC, vectorHeaders))
	if err != nil || ev.ID != want.ID {
		t.Errorf("DecodeWebhook = %+v, %v", ev, err)
	}
	var _ connector.WebhookDecoder = d
}

func TestDecodeWebhookIDsAbove2To53(t *testing.T) {
	// A REST-shaped payload with only a numeric id beyond float64's exact
	// range, and no triggered-at header: the id comes through digit for
	// digit and At falls back to updated_at.
	body := `{"id":820982911946154509,"updated_at":"2026-10-01T12:00:00+02:00","line_items":[{"id":9007199254740993}]}`
	sig := signForTest(vectorSecret, body)
	h := map[string]string{"X-Shopify-Topic": "orders/create", "X-Shopify-Webhook-Id": "w-1"}
	d := &WebhookDecoder{Secrets: [][]byte{[]byte(vectorSecret)}}
	w, err := d.Decode(webhookRequest(body, sig, h))
	if err != nil {
		t.Fatal(err)
	}
	if w.ObjectID != "820982911946154509" {
		t.Errorf("ObjectID = %q", w.ObjectID)
	}
	if !w.At.Equal(time.Date(2026, 10, 1, 10, 0, 0, 0, time.UTC)) {
		t.Errorf("At = %v", w.At)
	}
}

func TestDecodeWebhookRefuses(t *testing.T) {
	now := time.Date(2026, 10, 1, 15, 0, 0, 0, time.UTC)
	d := &WebhookDecoder{Secrets: [][]byte{[]byte(vectorSecret)}, MaxBytes: 1024, MaxAge: time.Hour, Now: func() time.Time { return now }}
	big := `{"id":1,"pad":"` + strings.Repeat("x", 2000) + `"}`
	without := func(k string) map[string]string {
		h := map[string]string{}
		for kk, v := range vectorHeaders {
			if kk != k {
				h[kk] = v
			}
		}
		return h
	}
	tests := []struct {
		name string
		req  *http.Request
		want error
	}{
		{"bad signature", webhookRequest(vectorBody, signForTest("wrong", vectorBody), vectorHeaders), connector.ErrWebhookSignature},
		{"missing signature", webhookRequest(vectorBody, "", vectorHeaders), connector.ErrWebhookSignature},
		{"tampered body", webhookRequest(strings.Replace(vectorBody, "199.00", "1.00", 1), vectorMAC, vectorHeaders), connector.ErrWebhookSignature},
		{"oversized body", webhookRequest(big, signForTest(vectorSecret, big), vectorHeaders), connector.ErrWebhookTooLarge},
		{"stale", webhookRequest(vectorBody, vectorMAC, vectorHeaders), connector.ErrWebhookStale},
		{"no topic", webhookRequest(vectorBody, vectorMAC, without("X-Shopify-Topic")), connector.ErrWebhookMalformed},
		{"no webhook id", webhookRequest(vectorBody, vectorMAC, without("X-Shopify-Webhook-Id")), connector.ErrWebhookMalformed},
		{"not json", webhookRequest("hello", signForTest(vectorSecret, "hello"), vectorHeaders), connector.ErrWebhookMalformed},
		{"two objects", webhookRequest("{} {}", signForTest(vectorSecret, "{} {}"), vectorHeaders), connector.ErrWebhookMalformed},
		{"bad triggered-at", webhookRequest(vectorBody, vectorMAC, map[string]string{"X-Shopify-Topic": "a", "X-Shopify-Webhook-Id": "b", "X-Shopify-Triggered-At": "yesterday"}), connector.ErrWebhookMalformed},
	}
	for _, tt := range tests {
		_, err := d.Decode(tt.req)
		if !errors.Is(err, tt.want) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.want)
		}
	}
	// No secret configured: nothing is accepted.
	if _, err := (&WebhookDecoder{}).Decode(webhookRequest(vectorBody, vectorMAC, vectorHeaders)); !errors.Is(err, connector.ErrWebhookSignature) {
		t.Errorf("no secrets: err = %v", err)
	}
}

func TestParseBulkFinish(t *testing.T) {
	b, err := ParseBulkFinish([]byte(`{"admin_graphql_api_id":"gid://shopify/BulkOperation/147595010","completed_at":"2026-10-01T12:00:00-04:00","created_at":"2026-10-01T11:59:00-04:00","error_code":null,"status":"completed","type":"query"}`))
	if err != nil {
		t.Fatal(err)
	}
	want := BulkFinish{OperationID: "gid://shopify/BulkOperation/147595010", Status: "completed", Type: "query",
		CreatedAt: time.Date(2026, 10, 1, 15, 59, 0, 0, time.UTC), CompletedAt: time.Date(2026, 10, 1, 16, 0, 0, 0, time.UTC)}
	if diff := cmp.Diff(want, b, cmpopts.EquateApproxTime(0)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	for _, bad := range []string{``, `{}`, `[1]`, `{"admin_graphql_api_id": 5}`} {
		if _, err := ParseBulkFinish([]byte(bad)); !errors.Is(err, connector.ErrWebhookMalformed) {
			t.Errorf("ParseBulkFinish(%q) = %v", bad, err)
		}
	}
}

func signForTest(secret, body string) string {
	return base64Std(connector.HMACSHA256([]byte(secret), []byte(body)))
}

// FuzzDecodeWebhook feeds arbitrary bodies and headers through the
// decoder: it must never panic, and must accept only correctly signed
// bodies.
func FuzzDecodeWebhook(f *testing.F) {
	f.Add(vectorBody, "orders/updated", "w-1", "2026-10-01T10:00:01Z", true)
	f.Add(`{"id":820982911946154508}`, "products/update", "w-2", "", true)
	f.Add(`{"id":"x","admin_graphql_api_id":7}`, "", "", "garbage", false)
	f.Add(`[1,2,3]`, "a", "b", "", true)
	f.Add(`{"id":1e400}`, "a", "b", "", true)
	f.Fuzz(func(t *testing.T, body, topic, id, triggered string, sign bool) {
		sig := "AAAA"
		if sign {
			sig = signForTest(vectorSecret, body)
		}
		h := map[string]string{}
		for k, v := range map[string]string{"X-Shopify-Topic": topic, "X-Shopify-Webhook-Id": id, "X-Shopify-Triggered-At": triggered} {
			if v != "" && !strings.ContainsAny(v, "\r\n\x00") {
				h[k] = v
			}
		}
		d := &WebhookDecoder{Secrets: [][]byte{[]byte(vectorSecret)}}
		w, err := d.Decode(webhookRequest(body, sig, h))
		if !sign && err == nil {
			t.Fatal("accepted an unsigned body")
		}
		if err == nil && (w.Topic == "" || w.ID == "" || string(w.Payload) != body) {
			t.Fatalf("accepted %+v", w)
		}
	})
}

func base64Std(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
