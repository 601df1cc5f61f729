package shopifytest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/knyt/knyt/connector/fault"
)

func rawPost(ctx context.Context, s *Server, token, query string) (*http.Response, []byte, error) {
	b, _ := json.Marshal(map[string]any{"query": query})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.GraphQLURL(), bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Shopify-Access-Token", token)
	resp, err := s.Client().Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp, body, err
}

func TestFaults(t *testing.T) {
	s := NewServer(WithClock(fixedClock()))
	defer s.Close()
	sd := seedShop(t, s)
	ctx := context.Background()

	for _, status := range []int{500, 502, 503, 504, 429} {
		s.Faults().Inject(fault.Fault{Kind: fault.Status, Status: status, RetryAfter: 2 * time.Second})
		resp, body, err := rawPost(ctx, s, s.AccessToken(), `{ shop { name } }`)
		if err != nil {
			t.Fatal(err)
		}
		var e struct{ Errors string }
		if resp.StatusCode != status || json.Unmarshal(body, &e) != nil || e.Errors == "" || resp.Header.Get("Retry-After") != "2" {
			t.Errorf("%d: got %d %s (Retry-After %q)", status, resp.StatusCode, body, resp.Header.Get("Retry-After"))
		}
	}

	// A dropped connection applies nothing.
	mark := `mutation { orderMarkAsPaid(input: {id: "` + sd.order.ID + `"}) { userErrors { message } } }`
	s.Faults().Inject(fault.Fault{Kind: fault.Drop})
	if _, _, err := rawPost(ctx, s, s.AccessToken(), mark); err == nil {
		t.Fatal("dropped connection answered")
	}
	if st, _ := s.OrderState(sd.order.ID); st.FinancialStatus != "AUTHORIZED" {
		t.Errorf("dropped request applied: %s", st.FinancialStatus)
	}
	// A lost answer applied the mutation.
	s.Faults().Inject(fault.Fault{Kind: fault.LostAnswer})
	if _, _, err := rawPost(ctx, s, s.AccessToken(), mark); err == nil {
		t.Fatal("lost answer arrived")
	}
	if st, _ := s.OrderState(sd.order.ID); st.FinancialStatus != "PAID" {
		t.Errorf("lost-answer request not applied: %s", st.FinancialStatus)
	}
	// A hang lasts until the client gives up.
	s.Faults().Inject(fault.Fault{Kind: fault.Hang})
	tctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, _, err := rawPost(tctx, s, s.AccessToken(), `{ shop { name } }`); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("hang: %v", err)
	}
	if s.Faults().Injected(fault.LostAnswer) != 1 || s.Faults().Pending() != 0 {
		t.Error("fault bookkeeping")
	}
}

func TestClientCredentials(t *testing.T) {
	s := NewServer(WithClock(fixedClock()), WithAccessToken(""), WithClientCredentials("client-id", "client-secret"), WithTokenTTL(time.Hour))
	defer s.Close()
	grant := func(secret string) (int, map[string]any) {
		resp, err := s.Client().PostForm(s.URL()+"/admin/oauth/access_token", url.Values{"grant_type": {"client_credentials"}, "client_id": {"client-id"}, "client_secret": {secret}})
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m
	}
	if status, _ := grant("wrong"); status != http.StatusUnauthorized {
		t.Errorf("wrong secret: %d", status)
	}
	status, m := grant("client-secret")
	tok, _ := m["access_token"].(string)
	if status != 200 || !strings.HasPrefix(tok, "shpat_") || m["expires_in"] != float64(3600) {
		t.Fatalf("grant %d %v", status, m)
	}
	if resp, _, _ := rawPost(context.Background(), s, tok, `{ shop { name } }`); resp.StatusCode != 200 {
		t.Errorf("fresh token refused: %d", resp.StatusCode)
	}
	s.Advance(time.Hour)
	if resp, body, _ := rawPost(context.Background(), s, tok, `{ shop { name } }`); resp.StatusCode != 401 || !strings.Contains(string(body), "Invalid API key or access token") {
		t.Errorf("expired token: %d %s", resp.StatusCode, body)
	}
	if s.IssuedTokens() != 1 {
		t.Errorf("IssuedTokens %d", s.IssuedTokens())
	}
}
