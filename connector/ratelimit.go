package connector

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Release ends a request that a RateLimiter admitted, telling it what the
// server answered (resp is nil when none arrived) so it can learn from it.
type Release func(resp *http.Response)

// RateLimiter admits requests per account. Acquire blocks until a request
// may go, honouring ctx; the returned Release must be called once the answer
// (or failure) is in. Implementations are driven by what servers report.
type RateLimiter interface {
	Acquire(ctx context.Context, account string) (Release, error)
}

// TokenBucket is a per-account token bucket: rate requests per second with
// bursts up to burst. A 429 or 503 with Retry-After pauses the account for
// that long, so every goroutine of the account waits instead of hammering.
type TokenBucket struct {
	rate  float64
	burst float64
	now   func() time.Time

	mu       sync.Mutex
	accounts map[string]*bucketState
}

type bucketState struct {
	tokens      float64
	last        time.Time
	pausedUntil time.Time
}

// NewTokenBucket returns a limiter allowing rate requests per second per
// account with the given burst.
func NewTokenBucket(rate float64, burst int) *TokenBucket {
	if burst < 1 {
		burst = 1
	}
	return &TokenBucket{rate: rate, burst: float64(burst), now: time.Now, accounts: map[string]*bucketState{}}
}

// Acquire waits for a token of the account.
func (b *TokenBucket) Acquire(ctx context.Context, account string) (Release, error) {
	for {
		wait := b.reserve(account)
		if wait <= 0 {
			return func(resp *http.Response) { b.observe(account, resp) }, nil
		}
		if err := sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
}

// reserve takes a token and returns 0, or returns how long to wait.
func (b *TokenBucket) reserve(account string) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	s, ok := b.accounts[account]
	if !ok {
		s = &bucketState{tokens: b.burst, last: now}
		b.accounts[account] = s
	}
	if now.Before(s.pausedUntil) {
		return s.pausedUntil.Sub(now)
	}
	s.tokens = min(b.burst, s.tokens+now.Sub(s.last).Seconds()*b.rate)
	s.last = now
	if s.tokens >= 1 {
		s.tokens--
		return 0
	}
	return time.Duration((1 - s.tokens) / b.rate * float64(time.Second))
}

func (b *TokenBucket) observe(account string, resp *http.Response) {
	if resp == nil || (resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode != http.StatusServiceUnavailable) {
		return
	}
	d, ok := ParseRetryAfter(resp.Header.Get("Retry-After"), b.now())
	if !ok {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.accounts[account]
	if until := b.now().Add(d); s != nil && until.After(s.pausedUntil) {
		s.pausedUntil = until
		s.tokens = 0
	}
}

// Serial admits one request at a time per account, at least pace apart,
// for systems that document no rate limit and must not be hurried (Specter).
type Serial struct {
	pace time.Duration

	mu       sync.Mutex
	accounts map[string]*serialState
}

type serialState struct {
	slot chan struct{} // a one-slot semaphore
	next time.Time     // earliest start of the next request
}

// NewSerial returns a limiter serialising requests per account with at least
// pace between the end of one request and the start of the next.
func NewSerial(pace time.Duration) *Serial {
	return &Serial{pace: pace, accounts: map[string]*serialState{}}
}

func (s *Serial) state(account string) *serialState {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.accounts[account]
	if !ok {
		st = &serialState{slot: make(chan struct{}, 1)}
		s.accounts[account] = st
	}
	return st
}

// Acquire waits for the account's turn.
func (s *Serial) Acquire(ctx context.Context, account string) (Release, error) {
	st := s.state(account)
	select {
	case st.slot <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if wait := time.Until(st.next); wait > 0 {
		if err := sleep(ctx, wait); err != nil {
			<-st.slot
			return nil, err
		}
	}
	var once sync.Once
	return func(resp *http.Response) {
		once.Do(func() {
			pause := s.pace
			if resp != nil {
				if d, ok := ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok && d > pause {
					pause = d
				}
			}
			st.next = time.Now().Add(pause)
			<-st.slot
		})
	}, nil
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// maxRetryAfter bounds believable Retry-After values; anything longer is a
// broken or hostile header, not a wait to honour.
const maxRetryAfter = 24 * time.Hour

// ParseRetryAfter reads a Retry-After value: delay seconds (fractions
// accepted, as some APIs send them) or an HTTP date.
func ParseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		if !(secs >= 0 && secs <= maxRetryAfter.Seconds()) { // also refuses NaN
			return 0, false
		}
		return time.Duration(secs * float64(time.Second)), true
	}
	if t, err := http.ParseTime(v); err == nil {
		d := max(t.Sub(now), 0)
		if d > maxRetryAfter {
			return 0, false
		}
		return d, true
	}
	return 0, false
}
