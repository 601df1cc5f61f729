package shopify

import (
	"context"
	"sync"
	"time"
)

// ThrottleStatus is Shopify's leaky bucket for one app on one shop, as the
// last response reported it in extensions.cost.throttleStatus. The numbers
// are floats on the wire ("2000.0") and are decoded as such; no plan's
// limits are assumed anywhere.
type ThrottleStatus struct {
	MaximumAvailable   float64 `json:"maximumAvailable"`
	CurrentlyAvailable float64 `json:"currentlyAvailable"`
	RestoreRate        float64 `json:"restoreRate"`
}

// Cost is the extensions.cost object of one response.
type Cost struct {
	RequestedQueryCost float64        `json:"requestedQueryCost"`
	ActualQueryCost    *float64       `json:"actualQueryCost"` // null when throttled
	ThrottleStatus     ThrottleStatus `json:"throttleStatus"`
}

// CostStats counts what a bucket has seen, for monitoring and benchmarks.
type CostStats struct {
	Requests      int     // responses that reported a cost
	Throttled     int     // THROTTLED answers (HTTP 200 or 429)
	RequestedCost float64 // sum of requestedQueryCost over executed requests
	ActualCost    float64 // sum of actualQueryCost
	Waited        time.Duration
}

// CostBucket mirrors Shopify's cost bucket for one (app, shop) pair so
// that requests wait, before they are sent, exactly as long as the bucket
// needs to refill to their requested cost — instead of being sent and
// throttled. Its state comes only from what Shopify reports on each
// response; between responses it refills at the reported restore rate.
// Requests in flight hold their estimated cost, so concurrent callers
// sharing one bucket do not overdraw it together. Share one CostBucket
// between Clients of the same app and shop with WithCostBucket.
type CostBucket struct {
	now func() time.Time

	mu          sync.Mutex
	known       bool
	status      ThrottleStatus
	at          time.Time // when status was received
	inflight    float64
	pausedUntil time.Time
	changed     chan struct{} // closed and replaced on every change
	stats       CostStats
}

// NewCostBucket returns a bucket that knows nothing yet: the first request
// goes at once and its answer tells the bucket's size and rate.
func NewCostBucket() *CostBucket {
	return &CostBucket{now: time.Now, changed: make(chan struct{})}
}

// Status returns the mirrored state, refilled to now, and whether any
// response has reported it yet.
func (b *CostBucket) Status() (ThrottleStatus, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.status
	s.CurrentlyAvailable = b.levelLocked(b.now())
	return s, b.known
}

// Stats returns the counters.
func (b *CostBucket) Stats() CostStats {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.stats
}

// levelLocked is the refilled level, not counting requests in flight.
func (b *CostBucket) levelLocked(now time.Time) float64 {
	if !b.known {
		return 0
	}
	dt := now.Sub(b.at).Seconds()
	if dt < 0 {
		dt = 0
	}
	return min(b.status.MaximumAvailable, b.status.CurrentlyAvailable+dt*b.status.RestoreRate)
}

// reservation is a request's hold on the bucket until its answer arrives.
type reservation struct{ cost float64 }

// acquire waits until cost() points are available and holds them. The
// cost is asked again on every try, because what the client knows about a
// document's cost may improve while it waits (the first answer teaches
// it).
func (b *CostBucket) acquire(ctx context.Context, cost func() float64) (reservation, error) {
	start := b.now()
	for {
		c := cost()
		b.mu.Lock()
		now := b.now()
		ok, wait := b.admitLocked(c, now)
		if ok {
			b.stats.Waited += now.Sub(start)
			b.mu.Unlock()
			return reservation{cost: c}, nil
		}
		ch := b.changed
		b.mu.Unlock()
		if err := waitFor(ctx, wait, ch); err != nil {
			return reservation{}, err
		}
	}
}

// admitLocked holds cost points if they are available at now, or says how
// long until they will be (-1: until the bucket's state changes).
func (b *CostBucket) admitLocked(cost float64, now time.Time) (bool, time.Duration) {
	switch {
	case now.Before(b.pausedUntil):
		return false, b.pausedUntil.Sub(now)
	case !b.known:
		// Until the first answer tells the bucket's size, let one request
		// through at a time.
		if b.inflight == 0 {
			b.inflight += cost
			return true, 0
		}
		return false, -1
	}
	// A cost above the bucket's size can never fit; send it and let
	// Shopify answer (it rejects it without charging).
	need := min(cost, b.status.MaximumAvailable)
	level := b.levelLocked(now) - b.inflight
	if level >= need {
		b.inflight += cost
		return true, 0
	}
	if b.status.RestoreRate <= 0 {
		return false, -1
	}
	wait := time.Duration((need - level) / b.status.RestoreRate * float64(time.Second))
	// Round up so the bucket has really refilled when we wake.
	return false, wait + time.Microsecond
}

// waitFor sleeps d (forever if d < 0) or until ch closes or ctx ends.
func waitFor(ctx context.Context, d time.Duration, ch <-chan struct{}) error {
	var timeout <-chan time.Time
	if d >= 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-ch:
	case <-timeout:
	}
	return nil
}

// release ends a reservation with what the answer reported (nil: no
// cost information arrived).
func (b *CostBucket) release(r reservation, c *Cost, throttled bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.inflight -= r.cost
	if b.inflight < 1e-9 {
		b.inflight = 0
	}
	if throttled {
		b.stats.Throttled++
	}
	if c != nil && c.ThrottleStatus.MaximumAvailable > 0 {
		now := b.now()
		st := c.ThrottleStatus
		// Answers to concurrent requests can arrive out of order, and an
		// older answer reports a level from before later charges. Within
		// one bucket size and rate, a report can therefore only lower the
		// mirrored level, never raise it above the refill since the last
		// report: the mirror errs on the side of waiting.
		if b.known && st.MaximumAvailable == b.status.MaximumAvailable && st.RestoreRate == b.status.RestoreRate {
			st.CurrentlyAvailable = min(st.CurrentlyAvailable, b.levelLocked(now))
		}
		b.status = st
		b.at = now
		b.known = true
		b.stats.Requests++
		if !throttled {
			b.stats.RequestedCost += c.RequestedQueryCost
			if c.ActualQueryCost != nil {
				b.stats.ActualCost += *c.ActualQueryCost
			}
		}
	}
	b.broadcastLocked()
}

// pause holds every request for d: Shopify sent HTTP 429 with Retry-After.
func (b *CostBucket) pause(d time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if until := b.now().Add(d); until.After(b.pausedUntil) {
		b.pausedUntil = until
	}
	b.broadcastLocked()
}

func (b *CostBucket) broadcastLocked() {
	close(b.changed)
	b.changed = make(chan struct{})
}
