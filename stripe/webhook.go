package stripe

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/knyt/knyt/connector"
)

// DefaultTolerance is how far a webhook's signed timestamp may be from now
// (Stripe's libraries use 300 s).
const DefaultTolerance = 300 * time.Second

// SignatureHeaderName is the header Stripe signs webhooks in.
const SignatureHeaderName = "Stripe-Signature"

// maxSignatureHeader bounds the header parsed: a real one is ~150 bytes,
// a few more with rotated secrets.
const maxSignatureHeader = 8 << 10

// WebhookError says why a webhook was refused. It matches (errors.Is) one
// of connector.ErrWebhookMalformed, connector.ErrWebhookSignature and
// connector.ErrWebhookStale, and never contains a signature or secret.
type WebhookError struct {
	Reason string
	Err    error // the connector sentinel
}

func (e *WebhookError) Error() string { return "stripe: webhook: " + e.Err.Error() + ": " + e.Reason }

// Unwrap returns the connector sentinel.
func (e *WebhookError) Unwrap() error { return e.Err }

func malformed(reason string) error {
	return &WebhookError{Reason: reason, Err: connector.ErrWebhookMalformed}
}

// SignatureHeader is a parsed Stripe-Signature header.
type SignatureHeader struct {
	Timestamp int64    // t, Unix seconds
	V1        [][]byte // the decoded v1 signatures; several while a secret is rolled
}

// ParseSignatureHeader parses "t=…,v1=…[,v1=…][,v0=…]". It requires exactly
// one t (a non-negative decimal integer) and every element to be a key=value
// pair. v1 values that are not 32 bytes of hex are ignored, like Stripe's
// libraries do, and so are other schemes (v0 is Stripe's test scheme and
// is never trusted). A header without any usable v1 parses; verifying it
// then fails with connector.ErrWebhookSignature.
func ParseSignatureHeader(header string) (SignatureHeader, error) {
	var h SignatureHeader
	if header == "" {
		return h, malformed("no " + SignatureHeaderName + " header")
	}
	if len(header) > maxSignatureHeader {
		return h, malformed("signature header too long")
	}
	seenT := false
	for item := range strings.SplitSeq(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(item), "=")
		if !ok {
			return SignatureHeader{}, malformed("element without '=' in signature header")
		}
		switch k {
		case "t":
			if seenT {
				return SignatureHeader{}, malformed("more than one timestamp in signature header")
			}
			ts, err := strconv.ParseInt(v, 10, 64)
			if err != nil || ts < 0 || v[0] == '+' {
				return SignatureHeader{}, malformed("timestamp is not a Unix time")
			}
			h.Timestamp, seenT = ts, true
		case "v1":
			if sig, err := hex.DecodeString(v); err == nil && len(sig) == 32 {
				h.V1 = append(h.V1, sig)
			}
		}
	}
	if !seenT {
		return SignatureHeader{}, malformed("no timestamp in signature header")
	}
	return h, nil
}

// ComputeSignature is hex(HMAC-SHA256(secret, "<t>.<payload>")), Stripe's
// v1 scheme.
func ComputeSignature(t int64, payload []byte, secret string) string {
	return hex.EncodeToString(connector.HMACSHA256([]byte(secret), []byte(strconv.FormatInt(t, 10)), []byte("."), payload))
}

// SignWebhook returns a Stripe-Signature header for payload signed with
// secret at time at, as Stripe would send it. It is for tests of webhook
// handlers (the counterpart of stripe-go's GenerateTestSignedPayload).
func SignWebhook(payload []byte, secret string, at time.Time) string {
	t := at.Unix()
	return "t=" + strconv.FormatInt(t, 10) + ",v1=" + ComputeSignature(t, payload, secret)
}

// VerifyWebhook checks a Stripe-Signature header against the raw payload:
// one of its v1 signatures must be the HMAC-SHA256 of "<t>.<payload>"
// under secret (compared in constant time), and t must lie within
// tolerance of now in either direction (DefaultTolerance when tolerance ≤
// 0). Unlike Stripe's libraries, a timestamp too far in the future is also
// refused: it is either a clock problem or a forgery prepared in advance.
// The signature is checked before the time, so a stale error means the
// payload is authentic but old (a replay). Errors are *WebhookError.
func VerifyWebhook(payload []byte, header, secret string, now time.Time, tolerance time.Duration) error {
	h, err := ParseSignatureHeader(header)
	if err != nil {
		return err
	}
	return verifyParsed(payload, h, []string{secret}, now, tolerance)
}

func verifyParsed(payload []byte, h SignatureHeader, secrets []string, now time.Time, tolerance time.Duration) error {
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	if len(h.V1) == 0 {
		return &WebhookError{Reason: "no v1 signature", Err: connector.ErrWebhookSignature}
	}
	ok := false
	prefix := []byte(strconv.FormatInt(h.Timestamp, 10) + ".")
	for _, secret := range secrets {
		if secret == "" {
			continue
		}
		want := connector.HMACSHA256([]byte(secret), prefix, payload)
		for _, sig := range h.V1 {
			if connector.EqualMAC(sig, want) {
				ok = true
			}
		}
	}
	if !ok {
		return &WebhookError{Reason: "no signature matches the payload", Err: connector.ErrWebhookSignature}
	}
	age := now.Sub(time.Unix(h.Timestamp, 0))
	if age > tolerance || age < -tolerance {
		return &WebhookError{Reason: fmt.Sprintf("signed %s from now, tolerance %s", age.Round(time.Second), tolerance), Err: connector.ErrWebhookStale}
	}
	return nil
}

// ParseEvent decodes a verified webhook payload into a Stripe Event. It
// refuses anything that is not a snapshot event (object "event"): thin
// events of Stripe's v2 API have another shape. The event's api_version is
// not compared with APIVersion: the fields read here (id, type, created,
// account, data.object's id and payment_intent) are the same in every
// version, and webhooks are hints that trigger a read through the API,
// which uses the pinned version.
func ParseEvent(payload []byte) (*Event, error) {
	var ev Event
	dec := json.NewDecoder(bytes.NewReader(payload))
	if err := dec.Decode(&ev); err != nil {
		return nil, malformed("payload is not a JSON event")
	}
	if ev.Object != "event" {
		return nil, malformed(fmt.Sprintf("object is %q, not an event", ev.Object))
	}
	if ev.ID == "" || ev.Type == "" {
		return nil, malformed("event without id or type")
	}
	return &ev, nil
}

// EventObjectID is the id of the object an event concerns, as the engine
// reads it back: the PaymentIntent for payment_intent.* and for charge
// and refund events (charge.refunded's object is the charge, but
// PaymentReader reads PaymentIntents), the payout for payout.*, else the
// object's own id.
func EventObjectID(ev *Event) string {
	var obj struct {
		ID            string                    `json:"id"`
		Object        string                    `json:"object"`
		PaymentIntent Expandable[PaymentIntent] `json:"payment_intent"`
	}
	if len(ev.Data.Object) == 0 || json.Unmarshal(ev.Data.Object, &obj) != nil {
		return ""
	}
	if (obj.Object == "charge" || obj.Object == "refund" || obj.Object == "dispute") && obj.PaymentIntent.ID != "" {
		return obj.PaymentIntent.ID
	}
	return obj.ID
}

// DecodeWebhook verifies a webhook request against the secrets set with
// WithWebhookSecrets and decodes it (connector.WebhookDecoder). Every event
// type decodes; the engine acts on payment_intent.*, charge.refunded,
// payout.paid and payout.reconciliation_completed. The event id is both ID
// and EventID: Stripe re-delivers an event under the same id.
func (c *Client) DecodeWebhook(r *http.Request) (connector.WebhookEvent, error) {
	if len(c.webhookKeys) == 0 {
		return connector.WebhookEvent{}, &WebhookError{Reason: "no webhook secret configured", Err: connector.ErrWebhookSignature}
	}
	if r.Method != http.MethodPost {
		return connector.WebhookEvent{}, malformed("method " + r.Method)
	}
	body, err := connector.ReadWebhookBody(r, 0)
	if err != nil {
		return connector.WebhookEvent{}, err
	}
	h, err := ParseSignatureHeader(r.Header.Get(SignatureHeaderName))
	if err != nil {
		return connector.WebhookEvent{}, err
	}
	if err := verifyParsed(body, h, c.webhookKeys, c.now(), c.tolerance); err != nil {
		return connector.WebhookEvent{}, err
	}
	return c.eventOf(body)
}

// WebhookEvent decodes an already verified payload into the engine's
// event.
func (c *Client) WebhookEvent(payload []byte) (connector.WebhookEvent, error) {
	return c.eventOf(payload)
}

func (c *Client) eventOf(payload []byte) (connector.WebhookEvent, error) {
	ev, err := ParseEvent(payload)
	if err != nil {
		return connector.WebhookEvent{}, err
	}
	account := ev.Account
	if account == "" {
		account = c.account
	}
	return connector.WebhookEvent{
		System:   SystemName,
		Account:  account,
		Topic:    ev.Type,
		ID:       ev.ID,
		EventID:  ev.ID,
		At:       time.Unix(ev.Created, 0).UTC(),
		ObjectID: EventObjectID(ev),
		Payload:  payload,
	}, nil
}
