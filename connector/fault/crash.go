package fault

import (
	"context"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
)

// Crash is the client side of fault injection: an http.RoundTripper that
// ends a process's life the way a crash does. Armed with a number of calls
// and the cancel function of the process's context, it lets calls through
// until the one that reaches the number, which is sent and applied; then
// it cancels the context and throws that call's answer away, so the write
// happened but the caller never heard of it. Tests that restart an engine
// on the same state use it to kill it at random points.
type Crash struct {
	// Next sends the calls (http.DefaultTransport when nil).
	Next http.RoundTripper

	mu      sync.Mutex
	left    int
	cancel  context.CancelFunc
	crashes atomic.Int64
	calls   atomic.Int64
}

// Arm makes the calls-th call from now the last one; cancel ends the life.
func (c *Crash) Arm(calls int, cancel context.CancelFunc) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.left, c.cancel = calls, cancel
}

// Disarm lets every call through.
func (c *Crash) Disarm() { c.Arm(0, nil) }

// Crashes is how many lives were ended.
func (c *Crash) Crashes() int64 { return c.crashes.Load() }

// Calls is how many calls went through, the last ones of ended lives
// included.
func (c *Crash) Calls() int64 { return c.calls.Load() }

// RoundTrip sends r and, when it is the armed call, crashes.
func (c *Crash) RoundTrip(r *http.Request) (*http.Response, error) {
	next := c.Next
	if next == nil {
		next = http.DefaultTransport
	}
	resp, err := next.RoundTrip(r)
	c.calls.Add(1)
	c.mu.Lock()
	hit := false
	if c.cancel != nil {
		c.left--
		if c.left <= 0 {
			hit = true
			c.cancel()
			c.cancel = nil
		}
	}
	c.mu.Unlock()
	if !hit {
		return resp, err
	}
	c.crashes.Add(1)
	if resp != nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	return nil, context.Canceled
}
