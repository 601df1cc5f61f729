package paypal

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/knyt/knyt/connector"
)

// tokenSource caches the OAuth access token and renews it before it
// expires. It is a connector.Authorizer and Invalidator: the transport asks
// it for credentials on every request and invalidates them when PayPal
// answers 401, then tries once more.
//
// Renewal is single-flight: however many goroutines find the token stale at
// once, one request goes to the token endpoint and the others wait for its
// result. The request runs detached from the caller that started it, so one
// caller giving up does not fail the others; it is cancelled only when every
// waiter has given up.
type tokenSource struct {
	fetch  func(ctx context.Context) (string, time.Duration, error)
	now    func() time.Time
	margin time.Duration

	mu      sync.Mutex
	token   string
	renewAt time.Time // when the cached token stops being handed out
	flight  *tokenFlight
}

// tokenFlight is one renewal in progress.
type tokenFlight struct {
	done    chan struct{}
	cancel  context.CancelFunc
	waiters int
	token   string
	err     error
}

func newTokenSource(fetch func(context.Context) (string, time.Duration, error), now func() time.Time, margin time.Duration) *tokenSource {
	return &tokenSource{fetch: fetch, now: now, margin: margin}
}

// Authorize sets the bearer token, fetching one first if needed.
func (s *tokenSource) Authorize(ctx context.Context, h http.Header) error {
	tok, err := s.Token(ctx)
	if err != nil {
		return err
	}
	h.Set("Authorization", "Bearer "+tok)
	return nil
}

// Invalidate drops the cached token after PayPal refused it, unless the
// refused request carried an older one (another request renewed it
// meanwhile). A renewal already under way is left alone: it brings a
// fresh token anyway.
func (s *tokenSource) Invalidate(refused http.Header) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if tok, ok := strings.CutPrefix(refused.Get("Authorization"), "Bearer "); ok && tok != s.token {
		return
	}
	s.token = ""
}

// Token returns a token valid for at least the refresh margin.
func (s *tokenSource) Token(ctx context.Context) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", ctxError(err)
	}
	s.mu.Lock()
	if s.token != "" && s.now().Before(s.renewAt) {
		tok := s.token
		s.mu.Unlock()
		return tok, nil
	}
	f := s.flight
	if f == nil {
		f = s.startLocked(ctx)
	}
	f.waiters++
	s.mu.Unlock()

	select {
	case <-f.done:
		return f.token, f.err
	case <-ctx.Done():
		s.mu.Lock()
		f.waiters--
		if f.waiters == 0 {
			select {
			case <-f.done:
			default:
				f.cancel()
				if s.flight == f {
					s.flight = nil
				}
			}
		}
		s.mu.Unlock()
		return "", ctxError(ctx.Err())
	}
}

// startLocked begins a renewal; s.mu is held.
func (s *tokenSource) startLocked(ctx context.Context) *tokenFlight {
	fctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	f := &tokenFlight{done: make(chan struct{}), cancel: cancel}
	s.flight = f
	go func() {
		defer cancel()
		asked := s.now()
		tok, ttl, err := s.fetch(fctx)
		s.mu.Lock()
		if s.flight == f {
			s.flight = nil
			if err == nil {
				s.token = tok
				// Count the lifetime from before the request was sent,
				// and stop using the token a margin before it ends.
				s.renewAt = asked.Add(ttl - min(s.margin, ttl/2))
			}
		}
		f.token, f.err = tok, err
		s.mu.Unlock()
		close(f.done)
	}()
	return f
}

func ctxError(err error) error {
	return &connector.Error{System: System, Op: "Token", Kind: connector.KindTemporary, Err: err}
}
