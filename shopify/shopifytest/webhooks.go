package shopifytest

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Webhooks. The fake delivers events to subscribers (Subscribe, or the
// webhookSubscriptionCreate mutation) the way Shopify does: a POST of the
// REST-shaped JSON payload with X-Shopify-Topic, X-Shopify-Hmac-Sha256
// (base64 HMAC-SHA256 of the raw body under the app secret),
// X-Shopify-Shop-Domain, X-Shopify-API-Version, X-Shopify-Webhook-Id (one
// per delivery, kept across its retries), X-Shopify-Event-Id (one per
// event, shared by the deliveries to several subscriptions) and
// X-Shopify-Triggered-At. A non-2xx answer or a timeout (5 s) is retried
// up to 8 times with compressed exponential backoff (milliseconds instead
// of Shopify's 4 hours). Deliveries go out one at a time in event order,
// unless a WebhookFault reorders them.

// WebhookFault is a delivery misbehaviour Shopify documents.
type WebhookFault int

const (
	// WebhookDuplicate delivers the next webhook twice, with the same
	// webhook id and event id.
	WebhookDuplicate WebhookFault = iota + 1
	// WebhookOutOfOrder holds the next webhook back and delivers it after
	// the one that follows it.
	WebhookOutOfOrder
	// WebhookStaleRetry delivers the next webhook, then delivers it again
	// after the following one: a late retry carrying the original payload
	// and the original X-Shopify-Triggered-At.
	WebhookStaleRetry
)

// Delivery is one webhook delivery attempt, for inspection.
type Delivery struct {
	Topic       string
	URL         string
	WebhookID   string
	EventID     string
	TriggeredAt time.Time
	Body        []byte
	Attempt     int // 1 for the first attempt
	Status      int // the receiver's HTTP status; 0 when the request failed
	Err         error
}

// maxWebhookAttempts is Shopify's retry count (8 retries over 4 hours,
// compressed here).
const maxWebhookAttempts = 8

type delivery struct {
	topic, url         string
	body               []byte
	webhookID, eventID string
	triggeredAt        time.Time
	attempt            int
}

type webhookSender struct {
	s      *Server
	client *http.Client
	done   chan struct{}
	wake   chan struct{}
	wg     sync.WaitGroup

	mu      sync.Mutex
	queue   []*delivery
	held    *delivery
	faults  []WebhookFault
	log     []Delivery
	busy    bool
	subs    []manualSub
	backoff time.Duration
}

type manualSub struct{ topic, url string }

func newWebhookSender(s *Server) *webhookSender {
	h := &webhookSender{
		s:       s,
		client:  &http.Client{Timeout: 5 * time.Second},
		done:    make(chan struct{}),
		wake:    make(chan struct{}, 1),
		backoff: 2 * time.Millisecond,
	}
	h.wg.Add(1)
	go h.run()
	return h
}

func (h *webhookSender) close() {
	select {
	case <-h.done:
	default:
		close(h.done)
	}
	h.wg.Wait()
	h.s.removeBulkFiles()
}

// Subscribe registers url for a webhook topic in Shopify's REST form
// ("orders/create", "products/update", …; "*" for all topics the fake
// emits).
func (s *Server) Subscribe(topic, url string) {
	s.hooks.mu.Lock()
	defer s.hooks.mu.Unlock()
	s.hooks.subs = append(s.hooks.subs, manualSub{topic, url})
}

// InjectWebhookFault queues a delivery fault for the next webhooks.
func (s *Server) InjectWebhookFault(f WebhookFault) {
	s.hooks.mu.Lock()
	defer s.hooks.mu.Unlock()
	s.hooks.faults = append(s.hooks.faults, f)
}

// Deliveries returns every delivery attempt so far.
func (s *Server) Deliveries() []Delivery {
	s.hooks.mu.Lock()
	defer s.hooks.mu.Unlock()
	return append([]Delivery(nil), s.hooks.log...)
}

// FlushWebhooks waits until every queued webhook has been delivered (or
// has failed all its attempts), including held-back ones.
func (s *Server) FlushWebhooks(ctx context.Context) error {
	t := time.NewTicker(time.Millisecond)
	defer t.Stop()
	for {
		h := s.hooks
		h.mu.Lock()
		if h.held != nil && len(h.queue) == 0 && !h.busy {
			h.queue = append(h.queue, h.held)
			h.held = nil
			h.signal()
		}
		idle := len(h.queue) == 0 && h.held == nil && !h.busy
		h.mu.Unlock()
		if idle {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// SendWebhook emits an event with a payload of your own to the topic's
// subscribers, e.g. to test a topic the fake does not produce itself.
func (s *Server) SendWebhook(topic string, payload any) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.emitLocked(topic, payload)
}

func (h *webhookSender) signal() {
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

func uuid4() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// emitLocked queues an event for every subscription of topic (s.mu held).
func (s *Server) emitLocked(topic string, payload any) error {
	body, err := json.Marshal(payload)
	if err != nil {
		return fmt.Errorf("shopifytest: webhook payload: %w", err)
	}
	var targets []manualSub
	for _, id := range sortedKeys(s.st.webhookSubs) {
		sub := s.st.webhookSubs[id]
		if sub.topic == topic {
			targets = append(targets, manualSub{topic, sub.uri})
		}
	}
	h := s.hooks
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, sub := range h.subs {
		if sub.topic == topic || sub.topic == "*" {
			targets = append(targets, sub)
		}
	}
	if len(targets) == 0 {
		return nil
	}
	event := uuid4()
	at := s.now()
	for _, t := range targets {
		h.queue = append(h.queue, &delivery{topic: topic, url: t.url, body: body, webhookID: uuid4(), eventID: event, triggeredAt: at, attempt: 1})
	}
	h.signal()
	return nil
}

func (h *webhookSender) run() {
	defer h.wg.Done()
	for {
		select {
		case <-h.done:
			return
		case <-h.wake:
		}
		for h.step() {
		}
	}
}

// step delivers the next queued webhook, applying faults; false when the
// queue is empty.
func (h *webhookSender) step() bool {
	h.mu.Lock()
	if len(h.queue) == 0 {
		h.mu.Unlock()
		return false
	}
	d := h.queue[0]
	h.queue = h.queue[1:]
	var fault WebhookFault
	if d.attempt == 1 && len(h.faults) > 0 {
		fault = h.faults[0]
		h.faults = h.faults[1:]
	}
	if fault == WebhookOutOfOrder && len(h.queue) > 0 {
		// Deliver the next one first, then this one.
		next := h.queue[0]
		h.queue[0] = d
		d = next
	} else if fault == WebhookOutOfOrder {
		h.held = d
		h.mu.Unlock()
		return true
	}
	var release *delivery
	if h.held != nil {
		release, h.held = h.held, nil
	}
	h.busy = true
	h.mu.Unlock()

	sends := 1
	if fault == WebhookDuplicate {
		sends = 2
	}
	for range sends {
		h.deliver(d)
	}
	if release != nil {
		h.deliver(release)
	}
	h.mu.Lock()
	if fault == WebhookStaleRetry {
		stale := *d
		stale.attempt = d.attempt + 1
		if len(h.queue) > 0 {
			h.queue = append(h.queue[:1], append([]*delivery{&stale}, h.queue[1:]...)...)
		} else {
			h.held = &stale
		}
	}
	h.busy = false
	h.mu.Unlock()
	return true
}

// deliver posts d, retrying non-2xx answers with backoff.
func (h *webhookSender) deliver(d *delivery) {
	for attempt := d.attempt; ; attempt++ {
		status, err := h.post(d)
		h.mu.Lock()
		h.log = append(h.log, Delivery{Topic: d.topic, URL: d.url, WebhookID: d.webhookID, EventID: d.eventID, TriggeredAt: d.triggeredAt, Body: d.body, Attempt: attempt, Status: status, Err: err})
		h.mu.Unlock()
		if err == nil && status >= 200 && status < 300 || attempt >= maxWebhookAttempts {
			return
		}
		wait := h.backoff << min(attempt-1, 10)
		select {
		case <-h.done:
			return
		case <-time.After(wait):
		}
	}
}

func (h *webhookSender) post(d *delivery) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	go func() {
		select {
		case <-h.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.url, bytes.NewReader(d.body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Shopify-Captain-Hook")
	req.Header.Set("X-Shopify-Topic", d.topic)
	req.Header.Set("X-Shopify-Hmac-Sha256", Sign(h.s.opts.webhookSecret, d.body))
	req.Header.Set("X-Shopify-Shop-Domain", h.s.Shop())
	req.Header.Set("X-Shopify-API-Version", APIVersion)
	req.Header.Set("X-Shopify-Webhook-Id", d.webhookID)
	req.Header.Set("X-Shopify-Event-Id", d.eventID)
	req.Header.Set("X-Shopify-Triggered-At", d.triggeredAt.UTC().Format(time.RFC3339Nano))
	resp, err := h.client.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// Sign is the X-Shopify-Hmac-Sha256 value for body under secret: base64 of
// the HMAC-SHA256 of the raw bytes.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// restTime is the timestamp format of REST-shaped webhook payloads.
func restTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05-07:00") }

// topicFromEnum turns WebhookSubscriptionTopic values (ORDERS_CREATE,
// INVENTORY_LEVELS_UPDATE) into REST topics (orders/create).
func topicFromEnum(e string) string {
	lower := strings.ToLower(e)
	for _, known := range knownTopics {
		if strings.ReplaceAll(known, "/", "_") == lower {
			return known
		}
	}
	if i := strings.LastIndexByte(lower, '_'); i > 0 {
		return lower[:i] + "/" + lower[i+1:]
	}
	return lower
}

func topicToEnum(t string) string { return strings.ToUpper(strings.ReplaceAll(t, "/", "_")) }

// knownTopics are the topics the fake emits itself.
var knownTopics = []string{
	"orders/create", "orders/updated", "orders/paid", "orders/cancelled", "orders/fulfilled",
	"orders/partially_fulfilled", "products/create", "products/update", "inventory_levels/update",
	"fulfillments/create", "refunds/create", "returns/request", "bulk_operations/finish",
}

func webhookSubObj(w *webhookSub) object {
	return object{
		"__typename":          "WebhookSubscription",
		"id":                  gid("WebhookSubscription", w.id),
		"legacyResourceId":    legacy(w.id),
		"topic":               topicToEnum(w.topic),
		"uri":                 w.uri,
		"callbackUrl":         w.uri,
		"format":              "JSON",
		"filter":              nil,
		"name":                nil,
		"includeFields":       []any{},
		"metafieldNamespaces": []any{},
		"metafields":          []any{},
		"createdAt":           ts(w.createdAt),
		"updatedAt":           ts(w.createdAt),
		"apiVersion":          object{"handle": APIVersion, "displayName": APIVersion, "supported": true},
	}
}
