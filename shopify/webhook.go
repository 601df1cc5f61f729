package shopify

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/knyt/knyt/connector"
)

// Webhook headers (matched case-insensitively). The unprefixed names are
// those of Shopify's newer "events" delivery, which also sends the
// X-Shopify ones.
const (
	HeaderHmac        = "X-Shopify-Hmac-Sha256"
	HeaderTopic       = "X-Shopify-Topic"
	HeaderShopDomain  = "X-Shopify-Shop-Domain"
	HeaderAPIVersion  = "X-Shopify-API-Version"
	HeaderWebhookID   = "X-Shopify-Webhook-Id"
	HeaderEventID     = "X-Shopify-Event-Id"
	HeaderTriggeredAt = "X-Shopify-Triggered-At"
	HeaderSubTopic    = "X-Shopify-Sub-Topic"
	HeaderName        = "X-Shopify-Name"
)

func header(h http.Header, name string) string {
	if v := h.Get(name); v != "" {
		return strings.TrimSpace(v)
	}
	return strings.TrimSpace(h.Get(strings.TrimPrefix(name, "X-")))
}

// VerifyWebhook checks a webhook's X-Shopify-Hmac-Sha256 signature: the
// base64 HMAC-SHA256 of the raw body under the app's client secret,
// compared in constant time. Every failure matches
// connector.ErrWebhookSignature and says nothing about the expected value.
func VerifyWebhook(secret, body []byte, signature string) error {
	if len(secret) == 0 {
		return fmt.Errorf("shopify: webhook: %w: no secret configured", connector.ErrWebhookSignature)
	}
	sig := strings.TrimSpace(signature)
	if sig == "" {
		return fmt.Errorf("shopify: webhook: %w: signature missing", connector.ErrWebhookSignature)
	}
	mac, err := base64.StdEncoding.DecodeString(sig)
	if err != nil || len(mac) != 32 {
		return fmt.Errorf("shopify: webhook: %w: signature is not a base64 SHA-256 MAC", connector.ErrWebhookSignature)
	}
	if !connector.EqualMAC(mac, connector.HMACSHA256(secret, body)) {
		return fmt.Errorf("shopify: webhook: %w: signature does not match the body", connector.ErrWebhookSignature)
	}
	return nil
}

// Webhook is a verified webhook delivery: the connector.WebhookEvent the
// engine deduplicates and schedules on, plus Shopify's own headers.
//
// ID is X-Shopify-Webhook-Id (one per delivery, stable across its retries)
// and EventID X-Shopify-Event-Id (one per event: several subscriptions to
// a topic give several deliveries of one event). At is
// X-Shopify-Triggered-At, or the payload's updated_at/created_at when the
// header is absent; a retry carries the original time, so comparing At
// with the last change seen drops stale deliveries. ObjectID is the
// payload's admin_graphql_api_id, else its id — decoded from its JSON text,
// exact even above 2^53.
type Webhook struct {
	connector.WebhookEvent
	APIVersion string
	SubTopic   string
	Name       string
}

// WebhookDecoder verifies and decodes webhook requests; it implements
// connector.WebhookDecoder. Use it from an http.Handler:
//
//	ev, err := dec.DecodeWebhook(r)
//	if errors.Is(err, connector.ErrWebhookSignature) { w.WriteHeader(401); return }
type WebhookDecoder struct {
	// Secrets are the app's client secrets; a delivery signed with any of
	// them is accepted (for the hour after a secret rotation, when Shopify
	// may still sign with the old one).
	Secrets [][]byte
	// MaxBytes bounds the body (default connector.DefaultMaxWebhookBytes).
	MaxBytes int64
	// MaxAge, when set, refuses deliveries triggered longer ago with
	// connector.ErrWebhookStale (Shopify retries for up to 4 hours with the
	// original payload).
	MaxAge time.Duration
	// Now is the clock for MaxAge (default time.Now).
	Now func() time.Time
}

// DecodeWebhook verifies r and returns its event.
func (d *WebhookDecoder) DecodeWebhook(r *http.Request) (connector.WebhookEvent, error) {
	w, err := d.Decode(r)
	return w.WebhookEvent, err
}

// Decode verifies r and returns the delivery with Shopify's headers. The
// body is read (at most MaxBytes), its signature checked against the
// secrets, and only then parsed.
func (d *WebhookDecoder) Decode(r *http.Request) (Webhook, error) {
	body, err := connector.ReadWebhookBody(r, d.MaxBytes)
	if err != nil {
		return Webhook{}, fmt.Errorf("shopify: webhook: %w", err)
	}
	sig := header(r.Header, HeaderHmac)
	if len(d.Secrets) == 0 {
		return Webhook{}, VerifyWebhook(nil, body, sig)
	}
	var verr error
	for _, s := range d.Secrets {
		if verr = VerifyWebhook(s, body, sig); verr == nil {
			break
		}
	}
	if verr != nil {
		return Webhook{}, verr
	}
	w, err := parseWebhook(r.Header, body)
	if err != nil {
		return Webhook{}, err
	}
	if d.MaxAge > 0 && !w.At.IsZero() {
		now := time.Now
		if d.Now != nil {
			now = d.Now
		}
		if age := now().Sub(w.At); age > d.MaxAge {
			return w, fmt.Errorf("shopify: webhook %s: %w: triggered %s ago", w.ID, connector.ErrWebhookStale, age.Round(time.Second))
		}
	}
	return w, nil
}

// parseWebhook reads a verified delivery's headers and payload.
func parseWebhook(h http.Header, body []byte) (Webhook, error) {
	malformed := func(format string, args ...any) (Webhook, error) {
		return Webhook{}, fmt.Errorf("shopify: webhook: %w: %s", connector.ErrWebhookMalformed, fmt.Sprintf(format, args...))
	}
	w := Webhook{
		WebhookEvent: connector.WebhookEvent{
			System:  systemName,
			Account: header(h, HeaderShopDomain),
			Topic:   header(h, HeaderTopic),
			ID:      header(h, HeaderWebhookID),
			EventID: header(h, HeaderEventID),
			Payload: body,
		},
		APIVersion: header(h, HeaderAPIVersion),
		SubTopic:   header(h, HeaderSubTopic),
		Name:       header(h, HeaderName),
	}
	if w.Topic == "" {
		return malformed("no topic")
	}
	if w.ID == "" {
		return malformed("no webhook id")
	}
	var p struct {
		ID        flexString `json:"id"`
		GraphQLID string     `json:"admin_graphql_api_id"`
		UpdatedAt string     `json:"updated_at"`
		CreatedAt string     `json:"created_at"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&p); err != nil {
		return malformed("body is not a JSON object")
	}
	if dec.More() {
		return malformed("body has data after the JSON object")
	}
	w.ObjectID = p.GraphQLID
	if w.ObjectID == "" {
		w.ObjectID = string(p.ID)
	}
	if v := header(h, HeaderTriggeredAt); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return malformed("triggered-at %q is not an RFC 3339 time", truncateString(v, 64))
		}
		w.At = t
	} else {
		for _, v := range []string{p.UpdatedAt, p.CreatedAt} {
			if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
				w.At = t
				break
			}
		}
	}
	return w, nil
}

func truncateString(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// BulkFinish is the payload of a bulk_operations/finish webhook.
type BulkFinish struct {
	OperationID string    `json:"admin_graphql_api_id"`
	Status      string    `json:"status"`     // "completed", "failed", "canceled", …
	Type        string    `json:"type"`       // "query" or "mutation"
	ErrorCode   string    `json:"error_code"` // set on failure
	CreatedAt   time.Time `json:"created_at"`
	CompletedAt time.Time `json:"completed_at"`
}

// ParseBulkFinish reads a bulk_operations/finish payload, to wake an
// ExportProducts waiting on the operation (ExportOptions.Finished).
func ParseBulkFinish(payload []byte) (BulkFinish, error) {
	var b BulkFinish
	if err := json.Unmarshal(payload, &b); err != nil || b.OperationID == "" {
		return BulkFinish{}, fmt.Errorf("shopify: bulk_operations/finish: %w", connector.ErrWebhookMalformed)
	}
	return b, nil
}
