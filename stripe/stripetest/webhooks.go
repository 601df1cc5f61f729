package stripetest

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// event is a Stripe event as sent to webhook endpoints.
type event struct {
	ID              string `json:"id"`
	Object          string `json:"object"`
	APIVersion      string `json:"api_version"`
	Created         int64  `json:"created"`
	Type            string `json:"type"`
	Livemode        bool   `json:"livemode"`
	PendingWebhooks int    `json:"pending_webhooks"`
	Data            struct {
		Object any `json:"object"`
	} `json:"data"`

	payload []byte
}

// eventAPIVersion is the api_version the fake stamps on events.
const eventAPIVersion = "2026-08-26.dahlia"

// emit records an event; s.mu must be held. The payload is rendered at
// once so it holds the object as it was.
func (s *Server) emit(typ string, obj any) {
	ev := &event{ID: s.newID("evt"), Object: "event", APIVersion: eventAPIVersion, Created: s.now.Unix(),
		Type: typ, PendingWebhooks: 1}
	ev.Data.Object = obj
	ev.payload, _ = json.MarshalIndent(ev, "", "  ")
	s.events = append(s.events, ev)
}

// Event is an event the fake emitted: its id, type and the exact payload
// it delivers.
type Event struct {
	ID      string
	Type    string
	Payload []byte
}

// Events returns the events emitted so far, oldest first.
func (s *Server) Events() []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Event, len(s.events))
	for i, ev := range s.events {
		out[i] = Event{ID: ev.ID, Type: ev.Type, Payload: ev.payload}
	}
	return out
}

// Sign returns the Stripe-Signature header for payload, signed with the
// fake's webhook secret at the fake's now. It is computed independently of
// the stripe package, so tests of its verifier compare two
// implementations.
func (s *Server) Sign(payload []byte) string {
	t := s.Now().Unix()
	m := hmac.New(sha256.New, []byte(s.webhookSecret))
	fmt.Fprintf(m, "%d.", t)
	m.Write(payload)
	return "t=" + strconv.FormatInt(t, 10) + ",v1=" + hex.EncodeToString(m.Sum(nil))
}

// SetWebhookEndpoint sets where DeliverWebhooks sends events.
func (s *Server) SetWebhookEndpoint(url string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.webhookURL = url
}

// DeliverWebhooks sends every event not yet delivered with a 2xx answer to
// the endpoint, oldest first, signed, and returns how many were accepted.
// An event answered otherwise stays pending and is sent again by the next
// call, as Stripe retries.
func (s *Server) DeliverWebhooks(ctx context.Context) (int, error) {
	s.mu.Lock()
	var ids []string
	for _, ev := range s.events {
		if s.delivered[ev.ID] == 0 {
			ids = append(ids, ev.ID)
		}
	}
	s.mu.Unlock()
	return s.Deliver(ctx, ids...)
}

// Deliver sends the given events, in the given order, whether or not they
// were delivered before: duplicates and out-of-order delivery are the
// caller's to arrange. It returns how many the endpoint accepted (2xx).
func (s *Server) Deliver(ctx context.Context, ids ...string) (int, error) {
	s.mu.Lock()
	url := s.webhookURL
	byID := map[string]*event{}
	for _, ev := range s.events {
		byID[ev.ID] = ev
	}
	s.mu.Unlock()
	if url == "" {
		return 0, fmt.Errorf("stripetest: no webhook endpoint set")
	}
	client := &http.Client{Timeout: 10 * time.Second}
	ok := 0
	for _, id := range ids {
		ev, found := byID[id]
		if !found {
			return ok, fmt.Errorf("stripetest: no event %s", id)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(ev.payload))
		if err != nil {
			return ok, err
		}
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
		req.Header.Set("User-Agent", "Stripe/1.0 (+https://stripe.com/docs/webhooks)")
		req.Header.Set("Stripe-Signature", s.Sign(ev.payload))
		resp, err := client.Do(req)
		if err != nil {
			return ok, fmt.Errorf("stripetest: deliver %s: %w", id, err)
		}
		resp.Body.Close()
		if resp.StatusCode/100 == 2 {
			ok++
			s.mu.Lock()
			s.delivered[id]++
			s.mu.Unlock()
		}
	}
	return ok, nil
}
