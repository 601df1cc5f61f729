package connector

import (
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// DefaultMaxWebhookBytes bounds webhook bodies: real ones are a few KiB, and
// an unbounded read is a denial-of-service hole.
const DefaultMaxWebhookBytes = 1 << 20

// Webhook errors; match with errors.Is.
var (
	ErrWebhookSignature = errors.New("webhook signature invalid")
	ErrWebhookTooLarge  = errors.New("webhook body too large")
	ErrWebhookStale     = errors.New("webhook timestamp outside tolerance")
	ErrWebhookMalformed = errors.New("webhook malformed")
)

// WebhookEvent is a verified webhook reduced to what the engine needs to
// deduplicate it and trigger the matching pull. Webhooks are hints; the
// polled feeds are the truth.
type WebhookEvent struct {
	System   string
	Account  string    // the shop or account that sent it
	Topic    string    // the system's topic or event type, verbatim
	ID       string    // unique per delivery or event, the deduplication key
	EventID  string    // unique per underlying event when the system tells it apart from the delivery
	At       time.Time // when the event happened, for staleness checks
	ObjectID string    // the id of the object the event is about, when given
	Payload  []byte    // the raw, verified body
}

// WebhookDecoder verifies and decodes a webhook request. Implementations read
// the body with ReadWebhookBody and check its signature before parsing it.
type WebhookDecoder interface {
	DecodeWebhook(r *http.Request) (WebhookEvent, error)
}

// ReadWebhookBody reads at most limit bytes of r's body (DefaultMaxWebhookBytes
// when limit ≤ 0); a larger body is ErrWebhookTooLarge and nothing of it is
// returned.
func ReadWebhookBody(r *http.Request, limit int64) ([]byte, error) {
	if limit <= 0 {
		limit = DefaultMaxWebhookBytes
	}
	if r.Body == nil {
		return nil, fmt.Errorf("connector: read webhook: %w: no body", ErrWebhookMalformed)
	}
	defer r.Body.Close()
	b, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("connector: read webhook: %w", err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("connector: read webhook: %w (limit %d bytes)", ErrWebhookTooLarge, limit)
	}
	return b, nil
}

// HMACSHA256 returns the HMAC-SHA256 of msg under key.
func HMACSHA256(key []byte, msg ...[]byte) []byte {
	m := hmac.New(sha256.New, key)
	for _, p := range msg {
		m.Write(p)
	}
	return m.Sum(nil)
}

// EqualMAC compares two MACs in constant time, so the time a comparison
// takes tells an attacker nothing about how much of a forgery was right.
func EqualMAC(a, b []byte) bool { return hmac.Equal(a, b) }
