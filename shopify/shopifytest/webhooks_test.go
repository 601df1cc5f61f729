package shopifytest

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"

	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// verify is the receiver-side check, written independently of Sign.
func verify(secret string, body []byte, header string) bool {
	got, err := base64.StdEncoding.DecodeString(header)
	if err != nil {
		return false
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return hmac.Equal(got, m.Sum(nil))
}

func TestSignVectors(t *testing.T) {
	// Vectors from shared/reference/shopify.md §8.2.
	tests := []struct{ secret, body, want string }{
		{"hush", `"my secret message"`, "hMTq0K2x7oyOjoBwGYeTj5oxfnaVYXzbanUG9aajpKI="},
		{"test-client-secret", `{"id":820982911946154508,"admin_graphql_api_id":"gid://shopify/Order/820982911946154508","name":"#9999","currency":"SEK","total_price":"199.00","updated_at":"2026-10-01T12:00:00+02:00"}`, "FB8SUL7j7NOoyMBWhM4c0v/mzuxwDsfKZbAlR3ZavDI="},
	}
	for _, tc := range tests {
		if got := Sign(tc.secret, []byte(tc.body)); got != tc.want {
			t.Errorf("Sign(%q) = %s, want %s", tc.secret, got, tc.want)
		}
	}
}

func flush(t *testing.T, s *Server) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.FlushWebhooks(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestWebhookDelivery(t *testing.T) {
	s := NewServer(WithClock(fixedClock()), WithWebhookSecret("app-secret"))
	defer s.Close()
	rec := &receiver{}
	url := httptestServer(t, rec)
	s.Subscribe("orders/create", url)
	d := ok(t, s, `mutation($u: String!) { webhookSubscriptionCreate(topic: ORDERS_PAID, webhookSubscription: {uri: $u, format: JSON}) { webhookSubscription { id topic uri } userErrors { message } } }`, map[string]any{"u": url})
	if dig(d, "webhookSubscriptionCreate", "webhookSubscription", "topic") != "ORDERS_PAID" {
		t.Fatalf("subscription %v", d)
	}
	sd := seedShop(t, s)
	ok(t, s, `mutation($id: ID!) { orderCapture(input: {id: $id, parentTransactionId: "`+sd.order.Transactions[0].ID+`", amount: "714.96"}) { userErrors { message } } }`, map[string]any{"id": sd.order.ID})
	flush(t, s)
	got := rec.all()
	if len(got) != 2 {
		t.Fatalf("%d deliveries, want orders/create and orders/paid", len(got))
	}
	var topics []string
	for _, r := range got {
		h := r.Header
		topics = append(topics, h.Get("X-Shopify-Topic"))
		if !verify("app-secret", r.Body, h.Get("X-Shopify-Hmac-Sha256")) {
			t.Errorf("%s: signature does not verify", h.Get("X-Shopify-Topic"))
		}
		if h.Get("X-Shopify-Shop-Domain") != "knyt-test.myshopify.com" || h.Get("X-Shopify-API-Version") != APIVersion ||
			h.Get("X-Shopify-Webhook-Id") == "" || h.Get("X-Shopify-Event-Id") == "" || h.Get("Content-Type") != "application/json" {
			t.Errorf("headers %v", h)
		}
		if at, err := time.Parse(time.RFC3339Nano, h.Get("X-Shopify-Triggered-At")); err != nil || !at.Equal(epoch) {
			t.Errorf("X-Shopify-Triggered-At %q", h.Get("X-Shopify-Triggered-At"))
		}
	}
	if diff := cmp.Diff([]string{"orders/create", "orders/paid"}, topics); diff != "" {
		t.Errorf("topics (-want +got):\n%s", diff)
	}
	// Ids above 2^53 arrive exact.
	var p struct {
		ID json.Number `json:"id"`
	}
	dec := json.NewDecoder(bytesReader(got[0].Body))
	dec.UseNumber()
	dec.Decode(&p)
	if "gid://shopify/Order/"+p.ID.String() != sd.order.ID {
		t.Errorf("payload id %s for %s", p.ID, sd.order.ID)
	}
}

func TestWebhookRetries(t *testing.T) {
	s := NewServer()
	defer s.Close()
	rec := &receiver{status: []int{500, 503}}
	s.Subscribe("*", httptestServer(t, rec))
	if err := s.SendWebhook("products/update", map[string]any{"id": 1}); err != nil {
		t.Fatal(err)
	}
	flush(t, s)
	got := rec.all()
	if len(got) != 3 {
		t.Fatalf("%d attempts, want 3", len(got))
	}
	id := got[0].Header.Get("X-Shopify-Webhook-Id")
	for _, r := range got {
		if r.Header.Get("X-Shopify-Webhook-Id") != id {
			t.Error("webhook id changed across retries")
		}
	}
	ds := s.Deliveries()
	if len(ds) != 3 || ds[0].Status != 500 || ds[2].Status != 200 || ds[2].Attempt != 3 {
		t.Errorf("deliveries %+v", ds)
	}
	// A receiver that always fails gets 8 attempts.
	bad := &receiver{status: []int{500, 500, 500, 500, 500, 500, 500, 500, 500, 500}}
	s2 := NewServer()
	defer s2.Close()
	s2.Subscribe("*", httptestServer(t, bad))
	s2.SendWebhook("products/update", map[string]any{"id": 1})
	flush(t, s2)
	if n := len(bad.all()); n != maxWebhookAttempts {
		t.Errorf("%d attempts, want %d", n, maxWebhookAttempts)
	}
}

func TestWebhookFaults(t *testing.T) {
	type event struct {
		N       int
		Webhook string
		Event   string
		At      string
	}
	run := func(t *testing.T, faults ...WebhookFault) []event {
		s := NewServer()
		defer s.Close()
		rec := &receiver{}
		s.Subscribe("*", httptestServer(t, rec))
		for _, f := range faults {
			s.InjectWebhookFault(f)
		}
		for i := 1; i <= 3; i++ {
			s.Advance(time.Second)
			s.SendWebhook("orders/updated", map[string]any{"n": i})
		}
		flush(t, s)
		var out []event
		for _, r := range rec.all() {
			var p struct{ N int }
			json.Unmarshal(r.Body, &p)
			out = append(out, event{p.N, r.Header.Get("X-Shopify-Webhook-Id"), r.Header.Get("X-Shopify-Event-Id"), r.Header.Get("X-Shopify-Triggered-At")})
		}
		return out
	}
	order := func(es []event) []int {
		var ns []int
		for _, e := range es {
			ns = append(ns, e.N)
		}
		return ns
	}
	t.Run("duplicate", func(t *testing.T) {
		es := run(t, WebhookDuplicate)
		if diff := cmp.Diff([]int{1, 1, 2, 3}, order(es)); diff != "" {
			t.Fatalf("(-want +got):\n%s", diff)
		}
		if es[0] != es[1] {
			t.Errorf("duplicate differs: %+v %+v", es[0], es[1])
		}
	})
	t.Run("out of order", func(t *testing.T) {
		if diff := cmp.Diff([]int{2, 1, 3}, order(run(t, WebhookOutOfOrder))); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("stale retry", func(t *testing.T) {
		es := run(t, WebhookStaleRetry)
		if diff := cmp.Diff([]int{1, 2, 1, 3}, order(es)); diff != "" {
			t.Fatalf("(-want +got):\n%s", diff)
		}
		if es[2] != es[0] || es[2].At >= es[1].At {
			t.Errorf("stale retry %+v does not repeat %+v with its old Triggered-At", es[2], es[0])
		}
	})
}

func TestWebhookSubscriptionsQuery(t *testing.T) {
	s := NewServer()
	defer s.Close()
	create := `mutation { webhookSubscriptionCreate(topic: BULK_OPERATIONS_FINISH, webhookSubscription: {uri: "https://example.test/hook"}) { webhookSubscription { id } userErrors { message } } }`
	d := ok(t, s, create, nil)
	id := dig(d, "webhookSubscriptionCreate", "webhookSubscription", "id")
	if d := ok(t, s, create, nil); len(userErrors(d, "webhookSubscriptionCreate")) != 1 {
		t.Errorf("duplicate subscription accepted: %v", d)
	}
	d = ok(t, s, `{ webhookSubscriptions(first: 5) { nodes { topic uri } } }`, nil)
	if dig(d, "webhookSubscriptions", "nodes", 0, "topic") != "BULK_OPERATIONS_FINISH" {
		t.Errorf("subscriptions %v", d)
	}
	d = ok(t, s, `mutation($id: ID!) { webhookSubscriptionDelete(id: $id) { deletedWebhookSubscriptionId } }`, map[string]any{"id": id})
	if dig(d, "webhookSubscriptionDelete", "deletedWebhookSubscriptionId") != id {
		t.Errorf("delete %v", d)
	}
}
