package connector

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jarcoal/httpmock"
)

// scripted answers each request with the next status in the script (then
// 200) and records what it saw.
type scripted struct {
	mu     sync.Mutex
	script []int
	seen   []*http.Request
	bodies []string
	hijack map[int]bool // attempt index → close the connection instead
}

func (s *scripted) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	i := len(s.seen)
	s.seen = append(s.seen, r.Clone(context.Background()))
	b, _ := io.ReadAll(r.Body)
	s.bodies = append(s.bodies, string(b))
	status := http.StatusOK
	if i < len(s.script) {
		status = s.script[i]
	}
	hijack := s.hijack[i]
	s.mu.Unlock()
	if hijack {
		conn, _, _ := w.(http.Hijacker).Hijack()
		conn.Close()
		return
	}
	if status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "0")
	}
	w.Header().Set("X-Request-Id", fmt.Sprintf("req-%d", i))
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"attempt":%d}`, i)
}

func (s *scripted) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.seen)
}

func newTestTransport(t *testing.T, h http.Handler, opts ...TransportOption) *Transport {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	base := []TransportOption{WithRetry(4, time.Millisecond, 4*time.Millisecond), WithIdempotencyHeader("Idempotency-Key")}
	tr, err := NewTransport("testsys", srv.URL+"/api", append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func TestRetryPolicy(t *testing.T) {
	tests := []struct {
		name         string
		req          Request
		script       []int
		hijack       map[int]bool
		wantAttempts int
		wantErr      error
		maybeApplied bool
	}{
		{"GET retried on 503", Request{Method: "GET"}, []int{503}, nil, 2, nil, false},
		{"GET gives up after max attempts", Request{Method: "GET"}, []int{500, 500, 500, 500, 500}, nil, 4, ErrTemporary, false},
		{"POST without key not retried on 500", Request{Method: "POST"}, []int{500}, nil, 1, ErrTemporary, false},
		{"POST with key retried on 502", Request{Method: "POST", IdempotencyKey: "k1"}, []int{502, 502}, nil, 3, nil, false},
		{"POST marked idempotent retried", Request{Method: "POST", Idempotent: true}, []int{504}, nil, 2, nil, false},
		{"POST without key retried on 429", Request{Method: "POST"}, []int{429, 429}, nil, 3, nil, false},
		{"persistent 429 is rate limited", Request{Method: "GET"}, []int{429, 429, 429, 429}, nil, 4, ErrRateLimited, false},
		{"404 not retried", Request{Method: "GET"}, []int{404}, nil, 1, ErrNotFound, false},
		{"409 not retried", Request{Method: "POST", IdempotencyKey: "k"}, []int{409}, nil, 1, ErrConflict, false},
		{"422 is validation", Request{Method: "POST"}, []int{422}, nil, 1, ErrValidation, false},
		{"dropped GET retried", Request{Method: "GET"}, nil, map[int]bool{0: true}, 2, nil, false},
		{"dropped POST without key not retried", Request{Method: "POST"}, nil, map[int]bool{0: true}, 1, ErrTemporary, true},
		{"dropped POST with key retried", Request{Method: "POST", IdempotencyKey: "k2"}, nil, map[int]bool{0: true}, 2, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &scripted{script: tt.script, hijack: tt.hijack}
			tr := newTestTransport(t, s)
			tt.req.Op, tt.req.Path = "Probe", "things"
			if tt.req.Method == "POST" {
				tt.req.Body = []byte(`{"a":1}`)
			}
			resp, err := tr.Do(t.Context(), &tt.req)
			if got := s.count(); got != tt.wantAttempts {
				t.Errorf("attempts = %d, want %d", got, tt.wantAttempts)
			}
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("error = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				var ce *Error
				if !errors.As(err, &ce) || ce.System != "testsys" || ce.Op != "Probe" {
					t.Errorf("error %#v does not name system and op", err)
				}
				if ce.MaybeApplied != tt.maybeApplied {
					t.Errorf("MaybeApplied = %v, want %v", ce.MaybeApplied, tt.maybeApplied)
				}
				return
			}
			if resp.Attempts != tt.wantAttempts {
				t.Errorf("resp.Attempts = %d", resp.Attempts)
			}
			// Every attempt carried the same key and the same body.
			for i, r := range s.seen {
				if got := r.Header.Get("Idempotency-Key"); got != tt.req.IdempotencyKey {
					t.Errorf("attempt %d key %q, want %q", i, got, tt.req.IdempotencyKey)
				}
				if s.bodies[i] != string(tt.req.Body) {
					t.Errorf("attempt %d body %q", i, s.bodies[i])
				}
			}
		})
	}
}

func TestNotSentWriteIsRetried(t *testing.T) {
	// A listener that is closed: the dial fails, nothing was sent, so even
	// a write without a key may be retried, and the error says it was not
	// applied.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	tr, err := NewTransport("testsys", "http://"+addr, WithRetry(3, time.Millisecond, time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	_, err = tr.Do(t.Context(), &Request{Op: "Create", Method: "POST", Path: "x", Body: []byte("{}")})
	var ce *Error
	if !errors.As(err, &ce) || ce.Kind != KindTemporary || ce.MaybeApplied {
		t.Fatalf("error = %#v, want temporary and not applied", err)
	}
}

func TestErrorDecoderAndRequestID(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Correlation-Id", "corr-9")
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"code":"BAD_AMOUNT","field":"amount"}`)
	})
	tr := newTestTransport(t, h, WithRequestIDHeaders("Correlation-Id"), WithErrorDecoder(func(r *Response) *Error {
		if !bytes.Contains(r.Body, []byte("BAD_AMOUNT")) {
			return nil
		}
		return &Error{Kind: KindValidation, Code: "BAD_AMOUNT", Field: "amount", Message: "amount is not allowed"}
	}))
	_, err := tr.Do(t.Context(), &Request{Op: "Capture", Method: "POST", Path: "c", IdempotencyKey: "k"})
	want := &Error{System: "testsys", Op: "Capture", Kind: KindValidation, Status: 400, Code: "BAD_AMOUNT", Field: "amount", Message: "amount is not allowed", RequestID: "corr-9"}
	if diff := cmp.Diff(want, err); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if got := err.Error(); got != "testsys: Capture: validation failed (400 BAD_AMOUNT): field amount: amount is not allowed [request corr-9]" {
		t.Errorf("Error() = %q", got)
	}
}

func TestPlainHTTPOnlyToLoopback(t *testing.T) {
	for _, u := range []string{"http://example.com/api", "http://10.0.0.1", "ftp://127.0.0.1", "https://"} {
		if _, err := NewTransport("s", u); !errors.Is(err, ErrValidation) {
			t.Errorf("NewTransport(%q) = %v, want a validation error", u, err)
		}
	}
	for _, u := range []string{"http://127.0.0.1:1", "http://localhost:8080/x", "http://[::1]:9", "https://api.example.com"} {
		if _, err := NewTransport("s", u); err != nil {
			t.Errorf("NewTransport(%q) = %v", u, err)
		}
	}
	tr, _ := NewTransport("s", "http://127.0.0.1:1")
	_, err := tr.Do(t.Context(), &Request{Method: "GET", Path: "http://example.com/steal"})
	if !errors.Is(err, ErrValidation) || !errors.Is(err, ErrInsecureURL) {
		t.Errorf("absolute plain-http URL: %v", err)
	}
}

func TestSecretsNeverLogged(t *testing.T) {
	const token = "tok_live_4f9a8b7c6d5e"
	var logs bytes.Buffer
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintf(w, `{"error":"token %s is revoked"}`, strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
	})
	tr := newTestTransport(t, h,
		WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))),
		WithSecrets(token),
		WithAuthorizer(AuthorizerFunc(func(_ context.Context, h http.Header) error { h.Set("Authorization", "Bearer "+token); return nil })))
	_, err := tr.Do(t.Context(), &Request{Op: "Get", Method: "GET", Path: "things", Query: map[string][]string{"access_token": {token}, "page": {"2"}}})
	if !errors.Is(err, ErrAuth) {
		t.Fatalf("error = %v", err)
	}
	for what, text := range map[string]string{"error": err.Error(), "logs": logs.String()} {
		if strings.Contains(text, token) {
			t.Errorf("token in %s: %s", what, text)
		}
	}
	if !strings.Contains(logs.String(), "access_token=REDACTED") || !strings.Contains(logs.String(), "page=2") {
		t.Errorf("log line lacks the redacted query: %s", logs.String())
	}
	if !strings.Contains(err.Error(), "token REDACTED is revoked") {
		t.Errorf("error lost its meaning: %v", err)
	}
}

type refreshingAuth struct {
	gen         atomic.Int32
	invalidated atomic.Int32
	refused     []string // the Authorization headers Invalidate was given
}

func (a *refreshingAuth) Authorize(_ context.Context, h http.Header) error {
	h.Set("Authorization", fmt.Sprintf("Bearer gen%d", a.gen.Load()))
	return nil
}

// Invalidate renews the token only when the refused one is current, as a
// token source shared by concurrent requests must.
func (a *refreshingAuth) Invalidate(refused http.Header) {
	a.invalidated.Add(1)
	got := refused.Get("Authorization")
	a.refused = append(a.refused, got)
	if got == fmt.Sprintf("Bearer gen%d", a.gen.Load()) {
		a.gen.Add(1)
	}
}

func TestExpiredTokenRefreshedOnce(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer gen1" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		io.WriteString(w, "ok")
	})
	auth := &refreshingAuth{}
	tr := newTestTransport(t, h, WithAuthorizer(auth))
	resp, err := tr.Do(t.Context(), &Request{Op: "Get", Method: "GET", Path: "x"})
	if err != nil || string(resp.Body) != "ok" {
		t.Fatalf("Do = %v, %v", resp, err)
	}
	// Still refused after one refresh: the error surfaces, no loop.
	auth.gen.Store(5)
	if _, err := tr.Do(t.Context(), &Request{Op: "Get", Method: "GET", Path: "x"}); !errors.Is(err, ErrAuth) {
		t.Fatalf("second Do = %v", err)
	}
	if got := auth.invalidated.Load(); got != 2 {
		t.Errorf("invalidated %d times, want 2", got)
	}
	if diff := cmp.Diff([]string{"Bearer gen0", "Bearer gen5"}, auth.refused); diff != "" {
		t.Errorf("credentials handed to Invalidate (-want +got):\n%s", diff)
	}
}

func TestContextCancelStopsBackoff(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "60")
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	tr := newTestTransport(t, h, WithRetry(5, time.Minute, time.Minute))
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := tr.Do(ctx, &Request{Op: "Get", Method: "GET", Path: "x"})
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, ErrTemporary) {
		t.Errorf("error = %v", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("Do ignored the context for %s", time.Since(start))
	}
}

func TestResponseLimitAndStream(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, strings.Repeat("x", 100)) })
	tr := newTestTransport(t, h, WithMaxResponseBytes(10))
	if _, err := tr.Do(t.Context(), &Request{Method: "GET", Path: "big"}); !errors.Is(err, ErrPermanent) {
		t.Errorf("oversized response: %v", err)
	}
	resp, err := tr.Do(t.Context(), &Request{Method: "GET", Path: "big", Stream: true})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Stream)
	resp.Stream.Close()
	if len(b) != 100 || resp.Body != nil {
		t.Errorf("stream read %d bytes, body %v", len(b), resp.Body)
	}
}

func TestRequestBuilding(t *testing.T) {
	s := &scripted{}
	tr := newTestTransport(t, s, WithHeader("X-Api-Version", "2026-10"), WithUserAgent("knyt-test"))
	_, err := tr.Do(t.Context(), &Request{Method: "POST", Path: "/orders/1?expand=lines", Query: map[string][]string{"x": {"1"}},
		Header: http.Header{"X-Extra": {"e"}}, Body: []byte("a=1"), ContentType: "application/x-www-form-urlencoded", IdempotencyKey: "key-1"})
	if err != nil {
		t.Fatal(err)
	}
	r := s.seen[0]
	got := map[string]string{
		"path": r.URL.Path, "query": r.URL.RawQuery, "version": r.Header.Get("X-Api-Version"), "ua": r.Header.Get("User-Agent"),
		"extra": r.Header.Get("X-Extra"), "ct": r.Header.Get("Content-Type"), "key": r.Header.Get("Idempotency-Key"),
	}
	want := map[string]string{"path": "/api/orders/1", "query": "expand=lines&x=1", "version": "2026-10", "ua": "knyt-test",
		"extra": "e", "ct": "application/x-www-form-urlencoded", "key": "key-1"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	noKey, _ := NewTransport("s", "https://example.com")
	if _, err := noKey.Do(t.Context(), &Request{Method: "POST", Path: "x", IdempotencyKey: "k"}); !errors.Is(err, ErrUnsupported) {
		t.Errorf("key without a header: %v", err)
	}
}

// TestHTTPMockTransportErrors covers failures that only a mocked transport
// produces on demand.
func TestHTTPMockTransportErrors(t *testing.T) {
	client := &http.Client{}
	mock := httpmock.NewMockTransport()
	client.Transport = mock
	var calls atomic.Int32
	mock.RegisterResponder("GET", "https://api.example.com/v1/flaky", func(*http.Request) (*http.Response, error) {
		if calls.Add(1) == 1 {
			return nil, errors.New("connection reset by peer")
		}
		return httpmock.NewStringResponse(200, `{"ok":true}`), nil
	})
	mock.RegisterResponder("POST", "https://api.example.com/v1/charge", httpmock.NewErrorResponder(errors.New("unexpected EOF")))
	tr, err := NewTransport("mocked", "https://api.example.com/v1", WithHTTPClient(client), WithRetry(3, time.Millisecond, time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Do(t.Context(), &Request{Op: "Flaky", Method: "GET", Path: "flaky"}); err != nil || calls.Load() != 2 {
		t.Errorf("reset GET: %v after %d calls", err, calls.Load())
	}
	_, err = tr.Do(t.Context(), &Request{Op: "Charge", Method: "POST", Path: "charge"})
	var ce *Error
	if !errors.As(err, &ce) || !ce.MaybeApplied || ce.Kind != KindTemporary {
		t.Errorf("EOF on a write: %#v", err)
	}
	if n := mock.GetCallCountInfo()["POST https://api.example.com/v1/charge"]; n != 1 {
		t.Errorf("a write without key was sent %d times", n)
	}
	if client.Transport != mock {
		t.Error("NewTransport replaced the caller's client transport")
	}
}

func TestBackoff(t *testing.T) {
	tr, _ := NewTransport("s", "https://example.com", WithMaxRetryAfter(time.Minute))
	resp := &http.Response{Header: http.Header{"Retry-After": {"7"}}}
	if got := tr.backoff(time.Second, 10*time.Second, 0, resp); got != 7*time.Second {
		t.Errorf("Retry-After 7 → %s", got)
	}
	resp.Header.Set("Retry-After", "3600")
	if got := tr.backoff(time.Second, 10*time.Second, 0, resp); got != time.Minute {
		t.Errorf("Retry-After 3600 capped → %s", got)
	}
	for attempt := range 10 {
		got := tr.backoff(100*time.Millisecond, 2*time.Second, attempt, nil)
		ceiling := min(100*time.Millisecond<<attempt, 2*time.Second)
		if got < ceiling/2 || got > ceiling {
			t.Errorf("attempt %d: %s outside [%s, %s]", attempt, got, ceiling/2, ceiling)
		}
	}
}

func TestDecoderErrScrubbed(t *testing.T) {
	const secret = "sk_live_decoder_secret_42"
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusBadRequest) })
	tr := newTestTransport(t, h, WithSecrets(secret), WithErrorDecoder(func(*Response) *Error {
		return &Error{Kind: KindValidation, Err: fmt.Errorf("key %s rejected", secret)}
	}))
	_, err := tr.Do(t.Context(), &Request{Op: "Get", Method: "GET", Path: "x"})
	if err == nil || strings.Contains(err.Error(), secret) || !strings.Contains(err.Error(), "key REDACTED rejected") {
		t.Errorf("decoder error not scrubbed: %v", err)
	}
}

func TestEscapedPathSurvives(t *testing.T) {
	s := &scripted{}
	tr := newTestTransport(t, s)
	if _, err := tr.Do(t.Context(), &Request{Method: "GET", Path: "orders/" + url.PathEscape("a/b?c")}); err != nil {
		t.Fatal(err)
	}
	if got := s.seen[0].URL.EscapedPath(); got != "/api/orders/a%2Fb%3Fc" {
		t.Errorf("escaped path = %q", got)
	}
	if s.seen[0].URL.RawQuery != "" {
		t.Errorf("an escaped ? became a query: %q", s.seen[0].URL.RawQuery)
	}
}

func TestAuthorizeFailureIsNotRetried(t *testing.T) {
	var calls atomic.Int32
	auth := &failingAuth{}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { calls.Add(1) })
	tr := newTestTransport(t, h, WithAuthorizer(auth))
	_, err := tr.Do(t.Context(), &Request{Op: "Get", Method: "GET", Path: "x"})
	if !errors.Is(err, ErrAuth) || calls.Load() != 0 || auth.invalidated.Load() != 0 || auth.calls.Load() != 1 {
		t.Errorf("err %v, %d requests, %d invalidations, %d token fetches", err, calls.Load(), auth.invalidated.Load(), auth.calls.Load())
	}
}

// failingAuth stands for a token endpoint that refuses the credentials.
type failingAuth struct{ calls, invalidated atomic.Int32 }

func (a *failingAuth) Authorize(context.Context, http.Header) error {
	a.calls.Add(1)
	return &Error{System: "testsys", Op: "Token", Kind: KindAuth, Status: http.StatusUnauthorized}
}

func (a *failingAuth) Invalidate(http.Header) { a.invalidated.Add(1) }

func TestClassifierReadsErrorBody(t *testing.T) {
	s := &scripted{script: []int{409}}
	var sawBody string
	tr := newTestTransport(t, s, WithRetryClassifier(func(resp *http.Response, err error) RetryDecision {
		if resp == nil || resp.StatusCode != http.StatusConflict {
			return RetryDefault
		}
		b, _ := io.ReadAll(resp.Body)
		sawBody = string(b)
		return RetryIfSafe
	}))
	resp, err := tr.Do(t.Context(), &Request{Op: "Capture", Method: "POST", Path: "c", IdempotencyKey: "k"})
	if err != nil || resp.Attempts != 2 || sawBody != `{"attempt":0}` {
		t.Errorf("Do = %v, %v; classifier saw %q", resp, err, sawBody)
	}
	// The decoder still gets the whole body after the classifier read it.
	s2 := &scripted{script: []int{409}}
	tr2 := newTestTransport(t, s2, WithRetryClassifier(func(resp *http.Response, err error) RetryDecision {
		if resp != nil {
			io.ReadAll(resp.Body)
		}
		return RetryNever
	}))
	_, err = tr2.Do(t.Context(), &Request{Op: "Capture", Method: "POST", Path: "c", IdempotencyKey: "k"})
	if !strings.Contains(fmt.Sprint(err), `{"attempt":0}`) {
		t.Errorf("error lost its body: %v", err)
	}
}
