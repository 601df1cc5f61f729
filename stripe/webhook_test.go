package stripe_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/knyt/knyt/connector"
	"github.com/knyt/knyt/stripe"
	"github.com/knyt/knyt/stripe/stripetest"
)

// The test vector of reference stripe.md §9.1.
const (
	vecSecret  = "whsec_test_secret"
	vecBody    = `{"id":"evt_test_webhook","object":"event"}`
	vecSig     = "d95c6b7477fbd7e9f90b1b0ef5f9c7ac25abca5382460e0d988c2b2a5b71b990"
	vecHeader  = "t=1700000000,v1=" + vecSig
	vecUnix    = 1700000000
	tolerance5 = 5 * time.Minute
)

var vecNow = time.Unix(vecUnix, 0)

func TestWebhookVector(t *testing.T) {
	if got := stripe.ComputeSignature(vecUnix, []byte(vecBody), vecSecret); got != vecSig {
		t.Fatalf("ComputeSignature = %s, want %s", got, vecSig)
	}
	if got := stripe.SignWebhook([]byte(vecBody), vecSecret, vecNow); got != vecHeader {
		t.Errorf("SignWebhook = %s, want %s", got, vecHeader)
	}
	if err := stripe.VerifyWebhook([]byte(vecBody), vecHeader, vecSecret, vecNow, tolerance5); err != nil {
		t.Errorf("VerifyWebhook: %v", err)
	}
}

func TestVerifyWebhook(t *testing.T) {
	body := []byte(vecBody)
	tests := []struct {
		name    string
		payload []byte
		header  string
		secret  string
		now     time.Time
		want    error // nil, or a connector sentinel
	}{
		{"valid", body, vecHeader, vecSecret, vecNow, nil},
		{"spaces after commas", body, "t=1700000000, v1=" + vecSig, vecSecret, vecNow, nil},
		{"extra bad v1 ignored", body, vecHeader + ",v1=bad_signature", vecSecret, vecNow, nil},
		{"rotated: second v1 matches", body, "t=1700000000,v1=" + strings.Repeat("00", 32) + ",v1=" + vecSig, vecSecret, vecNow, nil},
		{"v0 ignored", body, vecHeader + ",v0=" + strings.Repeat("ab", 32), vecSecret, vecNow, nil},
		{"just inside tolerance, past", body, vecHeader, vecSecret, vecNow.Add(tolerance5), nil},
		{"just inside tolerance, future", body, vecHeader, vecSecret, vecNow.Add(-tolerance5), nil},
		{"missing header", body, "", vecSecret, vecNow, connector.ErrWebhookMalformed},
		{"garbled header", body, "v1,t=1", vecSecret, vecNow, connector.ErrWebhookMalformed},
		{"empty t", body, "t=,v1=" + vecSig, vecSecret, vecNow, connector.ErrWebhookMalformed},
		{"t not a number", body, "t=soon,v1=" + vecSig, vecSecret, vecNow, connector.ErrWebhookMalformed},
		{"negative t", body, "t=-1,v1=" + vecSig, vecSecret, vecNow, connector.ErrWebhookMalformed},
		{"two t", body, vecHeader + ",t=1700000001", vecSecret, vecNow, connector.ErrWebhookMalformed},
		{"no t", body, "v1=" + vecSig, vecSecret, vecNow, connector.ErrWebhookMalformed},
		{"trailing comma", body, vecHeader + ",", vecSecret, vecNow, connector.ErrWebhookMalformed},
		{"too long", body, vecHeader + strings.Repeat(",x=y", 3000), vecSecret, vecNow, connector.ErrWebhookMalformed},
		{"v0 only", body, "t=1700000000,v0=" + vecSig, vecSecret, vecNow, connector.ErrWebhookSignature},
		{"undecodable v1 only", body, "t=1700000000,v1=zz", vecSecret, vecNow, connector.ErrWebhookSignature},
		{"wrong secret", body, vecHeader, "whsec_other", vecNow, connector.ErrWebhookSignature},
		{"empty secret", body, vecHeader, "", vecNow, connector.ErrWebhookSignature},
		{"tampered body", []byte(`{"id":"evt_test_webhook","object":"event" }`), vecHeader, vecSecret, vecNow, connector.ErrWebhookSignature},
		{"timestamp changed", body, "t=1700000001,v1=" + vecSig, vecSecret, vecNow, connector.ErrWebhookSignature},
		{"replayed old", body, vecHeader, vecSecret, vecNow.Add(tolerance5 + time.Second), connector.ErrWebhookStale},
		{"from the future", body, vecHeader, vecSecret, vecNow.Add(-tolerance5 - time.Second), connector.ErrWebhookStale},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := stripe.VerifyWebhook(tt.payload, tt.header, tt.secret, tt.now, tolerance5)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("VerifyWebhook: %v", err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("VerifyWebhook = %v, want %v", err, tt.want)
			}
			var we *stripe.WebhookError
			if !errors.As(err, &we) {
				t.Errorf("%T is not a *stripe.WebhookError", err)
			}
			if strings.Contains(err.Error(), vecSig) || strings.Contains(err.Error(), tt.secret+"x") {
				t.Errorf("error leaks the signature: %v", err)
			}
		})
	}
}

func TestVerifyWebhookDefaultTolerance(t *testing.T) {
	if err := stripe.VerifyWebhook([]byte(vecBody), vecHeader, vecSecret, vecNow.Add(299*time.Second), 0); err != nil {
		t.Errorf("within the default 300 s: %v", err)
	}
	if err := stripe.VerifyWebhook([]byte(vecBody), vecHeader, vecSecret, vecNow.Add(301*time.Second), 0); !errors.Is(err, connector.ErrWebhookStale) {
		t.Errorf("beyond the default 300 s: %v", err)
	}
}

func TestParseSignatureHeader(t *testing.T) {
	// Stripe's documented example header, with no published secret: a
	// parser fixture only.
	h, err := stripe.ParseSignatureHeader("t=1492774577,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd")
	if err != nil {
		t.Fatal(err)
	}
	if h.Timestamp != 1492774577 || len(h.V1) != 1 || len(h.V1[0]) != 32 {
		t.Errorf("parsed %+v", h)
	}
}

// FuzzParseSignatureHeader checks that the parser never panics, that what
// it accepts has a timestamp and only 32-byte signatures, and that any
// header it accepts verifies or fails with a typed error.
func FuzzParseSignatureHeader(f *testing.F) {
	for _, s := range []string{vecHeader, "", "t=", "v1,t=1", "t=1,v1=" + vecSig + ",v1=" + vecSig, "t=1,v0=ab", ",,,", "t=1=2", "t=99999999999999999999", "t=+5,v1=00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		h, err := stripe.ParseSignatureHeader(header)
		if err != nil {
			if !errors.Is(err, connector.ErrWebhookMalformed) {
				t.Fatalf("parse error %v is not ErrWebhookMalformed", err)
			}
			return
		}
		if h.Timestamp < 0 {
			t.Fatalf("negative timestamp accepted from %q", header)
		}
		for _, sig := range h.V1 {
			if len(sig) != 32 {
				t.Fatalf("signature of %d bytes accepted", len(sig))
			}
		}
		err = stripe.VerifyWebhook([]byte(vecBody), header, vecSecret, time.Unix(h.Timestamp, 0), time.Minute)
		if err != nil && !errors.Is(err, connector.ErrWebhookSignature) {
			t.Fatalf("verify error %v is not ErrWebhookSignature", err)
		}
	})
}

func TestParseEvent(t *testing.T) {
	for name, payload := range map[string]string{
		"not json":     `{"id":`,
		"thin event":   `{"id":"evt_1","object":"v2.core.event","type":"x"}`,
		"no type":      `{"id":"evt_1","object":"event"}`,
		"no id":        `{"object":"event","type":"payout.paid"}`,
		"array":        `[]`,
		"wrong object": `{"id":"evt_1","object":"payout","type":"payout.paid"}`,
	} {
		if _, err := stripe.ParseEvent([]byte(payload)); !errors.Is(err, connector.ErrWebhookMalformed) {
			t.Errorf("%s: %v, want ErrWebhookMalformed", name, err)
		}
	}
}

func TestEventObjectID(t *testing.T) {
	for payload, want := range map[string]string{
		`{"id":"evt_1","object":"event","type":"payment_intent.succeeded","data":{"object":{"id":"pi_1","object":"payment_intent"}}}`:               "pi_1",
		`{"id":"evt_1","object":"event","type":"charge.refunded","data":{"object":{"id":"ch_1","object":"charge","payment_intent":"pi_2"}}}`:        "pi_2",
		`{"id":"evt_1","object":"event","type":"charge.refunded","data":{"object":{"id":"ch_1","object":"charge","payment_intent":null}}}`:          "ch_1",
		`{"id":"evt_1","object":"event","type":"payout.paid","data":{"object":{"id":"po_1","object":"payout"}}}`:                                    "po_1",
		`{"id":"evt_1","object":"event","type":"payout.paid","data":{}}`:                                                                            "",
		`{"id":"evt_1","object":"event","type":"charge.refunded","data":{"object":{"id":"ch_1","object":"charge","payment_intent":{"id":"pi_3"}}}}`: "pi_3",
	} {
		ev, err := stripe.ParseEvent([]byte(payload))
		if err != nil {
			t.Fatal(err)
		}
		if got := stripe.EventObjectID(ev); got != want {
			t.Errorf("EventObjectID(%s) = %q, want %q", payload, got, want)
		}
	}
}

// TestDecodeWebhookFromFake has the fake deliver the events of a capture,
// a refund and a payout, signed with its own HMAC implementation, to a
// handler that decodes them with the client.
func TestDecodeWebhookFromFake(t *testing.T) {
	e := newEnv(t)
	var got []connector.WebhookEvent
	var errs []error
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ev, err := e.client.DecodeWebhook(r)
		if err != nil {
			errs = append(errs, err)
			http.Error(w, "bad", http.StatusBadRequest)
			return
		}
		got = append(got, ev)
	})
	hook := httptest.NewServer(h)
	defer hook.Close()
	e.fake.SetWebhookEndpoint(hook.URL)

	ctx := context.Background()
	pi, err := e.fake.AddAuthorization(stripetest.Authorization{Amount: 10000, Currency: "sek"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.Capture(ctx, connector.CaptureRequest{PaymentReference: pi, Amount: money(t, "100.00", "SEK"), Final: true},
		connector.WithIdempotencyKey("cap-1")); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.Refund(ctx, connector.RefundRequest{PaymentReference: pi, Amount: money(t, "10.00", "SEK")},
		connector.WithIdempotencyKey("ref-1")); err != nil {
		t.Fatal(err)
	}
	if _, err := e.fake.CreatePayout("sek", stripetest.PayoutOptions{}); err != nil {
		t.Fatal(err)
	}
	n, err := e.fake.DeliverWebhooks(ctx)
	if err != nil || len(errs) > 0 {
		t.Fatalf("deliver: %v %v", err, errs)
	}
	type topic struct{ Topic, Object string }
	var topics []topic
	for _, ev := range got {
		topics = append(topics, topic{ev.Topic, ev.ObjectID[:3]})
		if ev.System != "stripe" || ev.Account != "acct_test" || ev.ID == "" || ev.ID != ev.EventID || ev.At.IsZero() || len(ev.Payload) == 0 {
			t.Errorf("event %+v incomplete", ev)
		}
	}
	want := []topic{
		{"payment_intent.amount_capturable_updated", "pi_"}, {"payment_intent.succeeded", "pi_"}, {"charge.captured", "pi_"},
		{"charge.refunded", "pi_"}, {"refund.created", "pi_"},
		{"payout.created", "po_"}, {"payout.paid", "po_"}, {"payout.reconciliation_completed", "po_"},
	}
	if diff := cmp.Diff(want, topics); diff != "" || n != len(want) {
		t.Errorf("delivered %d events (-want +got):\n%s", n, diff)
	}
	for _, ev := range got {
		if ev.Topic == "charge.refunded" && ev.ObjectID != pi {
			t.Errorf("charge.refunded points at %s, want the payment intent %s", ev.ObjectID, pi)
		}
	}

	// Redelivery of the same event decodes to the same id (dedup key).
	before := len(got)
	if _, err := e.fake.Deliver(ctx, got[0].ID, got[0].ID); err != nil {
		t.Fatal(err)
	}
	if len(got) != before+2 || got[before].ID != got[0].ID {
		t.Errorf("redelivered events: %v", got[before:])
	}
}

func TestDecodeWebhookRefusals(t *testing.T) {
	e := newEnv(t, stripe.WithWebhookSecrets("whsec_rotated_new"))
	payload := []byte(`{"id":"evt_9","object":"event","type":"payout.paid","created":1,"data":{"object":{"id":"po_9","object":"payout"}}}`)
	req := func(header string, body []byte) *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/hook", bytes.NewReader(body))
		if header != "" {
			r.Header.Set("Stripe-Signature", header)
		}
		return r
	}
	now := e.fake.Now()
	if ev, err := e.client.DecodeWebhook(req(stripe.SignWebhook(payload, "whsec_rotated_new", now), payload)); err != nil || ev.ObjectID != "po_9" {
		t.Errorf("rotated secret: %+v %v", ev, err)
	}
	cases := map[string]struct {
		r    *http.Request
		want error
	}{
		"unsigned":     {req("", payload), connector.ErrWebhookMalformed},
		"wrong secret": {req(stripe.SignWebhook(payload, "whsec_wrong", now), payload), connector.ErrWebhookSignature},
		"replayed":     {req(stripe.SignWebhook(payload, e.fake.WebhookSecret(), now.Add(-time.Hour)), payload), connector.ErrWebhookStale},
		"tampered":     {req(stripe.SignWebhook(payload, e.fake.WebhookSecret(), now), append([]byte(" "), payload...)), connector.ErrWebhookSignature},
		"not an event": {req(stripe.SignWebhook([]byte(`{}`), e.fake.WebhookSecret(), now), []byte(`{}`)), connector.ErrWebhookMalformed},
		"too large":    {req(stripe.SignWebhook(payload, e.fake.WebhookSecret(), now), bytes.Repeat([]byte("x"), connector.DefaultMaxWebhookBytes+1)), connector.ErrWebhookTooLarge},
		"wrong method": {httptest.NewRequest(http.MethodGet, "/hook", nil), connector.ErrWebhookMalformed},
	}
	for name, c := range cases {
		if _, err := e.client.DecodeWebhook(c.r); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", name, err, c.want)
		}
	}
	noSecret, err := stripe.New("sk_test_x", stripe.WithBaseURL(e.fake.URL()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := noSecret.DecodeWebhook(req(stripe.SignWebhook(payload, "whsec_x", now), payload)); !errors.Is(err, connector.ErrWebhookSignature) {
		t.Errorf("no secret configured: %v", err)
	}
}

// FuzzParseEvent checks that no payload makes event decoding panic and
// that what decodes is an event with an id and a type.
func FuzzParseEvent(f *testing.F) {
	for _, s := range []string{vecBody,
		`{"id":"evt_1","object":"event","type":"charge.refunded","created":1,"data":{"object":{"id":"ch_1","object":"charge","payment_intent":{"id":"pi_1"}}}}`,
		`{"id":"evt_1","object":"event","type":"x","data":{"object":[]}}`, `null`, `{"object":"event"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		ev, err := stripe.ParseEvent(payload)
		if err != nil {
			if !errors.Is(err, connector.ErrWebhookMalformed) {
				t.Fatalf("error %v is not ErrWebhookMalformed", err)
			}
			return
		}
		if ev.ID == "" || ev.Type == "" || ev.Object != "event" {
			t.Fatalf("accepted %+v", ev)
		}
		stripe.EventObjectID(ev)
	})
}
