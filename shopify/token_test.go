package shopify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"

	"github.com/knyt/knyt/connector"
)

const (
	testClientID     = "client-123"
	testClientSecret = "shpss_topsecretclientsecret"
	tokenURL         = "https://knyt-test.myshopify.com/admin/oauth/access_token"
)

// tokenServer issues numbered tokens with the client credentials grant.
type tokenServer struct {
	mu     sync.Mutex
	issued int
	ttl    int
	fail   bool
}

func (s *tokenServer) responder(t *testing.T) httpmock.Responder {
	return func(r *http.Request) (*http.Response, error) {
		b, _ := io.ReadAll(r.Body)
		form, err := url.ParseQuery(string(b))
		if err != nil {
			t.Errorf("token request is not a form: %v", err)
		}
		if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
			t.Errorf("content type = %q", ct)
		}
		if r.Header.Get(headerAccessToken) != "" {
			t.Error("the token request must not carry an access token")
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.fail || form.Get("grant_type") != "client_credentials" || form.Get("client_id") != testClientID || form.Get("client_secret") != testClientSecret {
			return httpmock.NewStringResponse(401, `{"error":"invalid_client","error_description":"Client authentication failed"}`), nil
		}
		s.issued++
		return httpmock.NewStringResponse(200, fmt.Sprintf(`{"access_token":"shpat_issued_%04d","scope":"read_products,write_products","expires_in":%d}`, s.issued, s.ttl)), nil
	}
}

func TestClientCredentials(t *testing.T) {
	now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	var clockMu sync.Mutex
	clock := func() time.Time { clockMu.Lock(); defer clockMu.Unlock(); return now }
	advance := func(d time.Duration) { clockMu.Lock(); now = now.Add(d); clockMu.Unlock() }

	var logs logBuffer
	mt := httpmock.NewMockTransport()
	ts := &tokenServer{ttl: 86399}
	mt.RegisterResponder(http.MethodPost, tokenURL, ts.responder(t))
	ms := &mockShop{t: t, handlers: map[string]func(gqlCall) gqlReply{}}
	mt.RegisterResponder(http.MethodPost, testGraphQL, ms.responder)
	var seen []string
	rejectNext := false
	ms.handle("Shop", func(call gqlCall) gqlReply {
		tok := call.Header.Get(headerAccessToken)
		seen = append(seen, tok)
		if rejectNext {
			rejectNext = false
			return gqlReply{Status: 401, Body: `{"errors":"[API] Invalid API key or access token (unrecognized login or wrong password)"}`}
		}
		return okReply(shopData)
	})
	cc := NewClientCredentials(testClientID, testClientSecret)
	c, err := New(testShop, cc, WithHTTPClient(&http.Client{Transport: mt}), WithClock(clock), WithLogger(logs.logger()))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	run := func() {
		t.Helper()
		if _, err := c.Execute(ctx, docShop, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	run()
	run()
	if ts.issued != 1 {
		t.Errorf("tokens issued = %d, want 1 (cached)", ts.issued)
	}
	if cc.Scope() != "read_products,write_products" {
		t.Errorf("scope = %q", cc.Scope())
	}
	advance(24 * time.Hour) // expired: renewed before use
	run()
	if ts.issued != 2 {
		t.Errorf("tokens issued = %d, want 2 after expiry", ts.issued)
	}
	rejectNext = true // Shopify revoked it early: a 401 renews it and retries once
	run()
	if ts.issued != 3 {
		t.Errorf("tokens issued = %d, want 3 after a 401", ts.issued)
	}
	want := []string{"shpat_issued_0001", "shpat_issued_0001", "shpat_issued_0002", "shpat_issued_0002", "shpat_issued_0003"}
	if fmt.Sprint(seen) != fmt.Sprint(want) {
		t.Errorf("tokens sent = %v, want %v", seen, want)
	}
	mustContainNone(t, "log", logs.String(), testClientSecret, "shpat_issued_0001", "shpat_issued_0002", "shpat_issued_0003")

	// Wrong credentials: a typed auth error without the secret.
	ts.fail = true
	advance(48 * time.Hour)
	_, err = c.Execute(ctx, docShop, nil, nil)
	if !errors.Is(err, connector.ErrAuth) {
		t.Fatalf("err = %v, want an auth error", err)
	}
	mustContainNone(t, "error", err.Error(), testClientSecret)
}

func TestClientCredentialsBindsOnce(t *testing.T) {
	cc := NewClientCredentials(testClientID, testClientSecret)
	if _, err := cc.Token(context.Background()); !errors.Is(err, connector.ErrAuth) {
		t.Errorf("unbound source: err = %v", err)
	}
	if _, err := New("one", cc); err != nil {
		t.Fatal(err)
	}
	if _, err := New("two", cc); err == nil {
		t.Error("a source bound to one client must refuse a second")
	}
}

func TestNewValidatesShop(t *testing.T) {
	for _, tt := range []struct {
		shop, want string
		ok         bool
	}{
		{"knyt-test", "knyt-test.myshopify.com", true},
		{"Knyt-Test.myshopify.com", "knyt-test.myshopify.com", true},
		{"https://knyt-test.myshopify.com/", "knyt-test.myshopify.com", true},
		{"", "", false},
		{"evil.com/x", "", false},
		{"shop name", "", false},
	} {
		c, err := New(tt.shop, StaticToken("t"))
		if (err == nil) != tt.ok {
			t.Errorf("New(%q) err = %v", tt.shop, err)
			continue
		}
		if tt.ok && c.Account() != tt.want {
			t.Errorf("New(%q).Account() = %q, want %q", tt.shop, c.Account(), tt.want)
		}
	}
	if _, err := New("x", nil); !errors.Is(err, connector.ErrAuth) {
		t.Errorf("nil token source: err = %v", err)
	}
	if _, err := New("x", StaticToken("t"), WithBaseURL("http://example.com")); err == nil {
		t.Error("plain http to a non-loopback host must be refused")
	}
}
