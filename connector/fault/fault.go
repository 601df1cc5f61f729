// Package fault injects failures into the fakes' HTTP handlers on demand:
// error answers in the system's own shape, hangs, dropped connections, and
// the hardest case for exactly-once code — a request that was applied but
// whose answer never arrived. Every xxxtest fake wraps its handler with an
// Injector so tests and the sandbox's chaos mode drive faults the same way.
// On the client side, Crash ends a process's life after a number of calls,
// the last one applied but unanswered, for tests that restart an engine.
package fault

import (
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"time"
)

// Kind is a failure to inject.
type Kind int

// Failure kinds.
const (
	// Status answers with an error status without applying the request.
	Status Kind = iota + 1
	// Hang holds the request without applying it until the client gives up
	// (its context ends) or the hang's duration passes.
	Hang
	// Drop closes the connection without applying the request or answering.
	Drop
	// LostAnswer applies the request, then closes the connection instead of
	// answering: the client cannot know it took effect.
	LostAnswer
)

// Fault is one failure to inject.
type Fault struct {
	Kind       Kind
	Status     int           // for Status
	RetryAfter time.Duration // for Status: sent as Retry-After when > 0
	Hang       time.Duration // for Hang: at most this long (0 = until the client gives up)
	// Match restricts the fault to requests it accepts; nil matches all.
	Match func(*http.Request) bool
}

// ErrorBody writes a system's error answer for an injected status, so that
// injected errors look exactly like the real system's.
type ErrorBody func(w http.ResponseWriter, r *http.Request, status int)

// Injector wraps a handler and injects queued or random faults.
type Injector struct {
	errorBody ErrorBody

	mu      sync.Mutex
	queue   []Fault
	chaos   float64 // probability of a random fault per request
	rng     *rand.Rand
	kinds   []Fault
	applied map[Kind]int
}

// New returns an injector whose error answers are written by body (nil: an
// empty body).
func New(body ErrorBody) *Injector {
	return &Injector{errorBody: body, applied: map[Kind]int{}}
}

// Inject queues faults; each is used by the first request it matches.
func (in *Injector) Inject(fs ...Fault) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.queue = append(in.queue, fs...)
}

// InjectN queues n copies of f.
func (in *Injector) InjectN(f Fault, n int) {
	for range n {
		in.Inject(f)
	}
}

// Chaos makes each request fail with probability p, picking from kinds
// (default: 500, 503 with Retry-After 0, 429, Drop, LostAnswer), with a
// deterministic random source seeded by seed. p = 0 turns it off.
func (in *Injector) Chaos(p float64, seed uint64, kinds ...Fault) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.chaos = p
	in.rng = rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	if len(kinds) == 0 {
		kinds = []Fault{
			{Kind: Status, Status: http.StatusInternalServerError},
			{Kind: Status, Status: http.StatusServiceUnavailable},
			{Kind: Status, Status: http.StatusTooManyRequests, RetryAfter: time.Millisecond},
			{Kind: Drop},
			{Kind: LostAnswer},
		}
	}
	in.kinds = kinds
}

// Reset clears queued faults and chaos.
func (in *Injector) Reset() {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.queue, in.chaos, in.kinds = nil, 0, nil
}

// Pending is the number of queued faults not yet used.
func (in *Injector) Pending() int {
	in.mu.Lock()
	defer in.mu.Unlock()
	return len(in.queue)
}

// Injected counts the faults injected so far, by kind.
func (in *Injector) Injected(k Kind) int {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.applied[k]
}

func (in *Injector) next(r *http.Request) (Fault, bool) {
	in.mu.Lock()
	defer in.mu.Unlock()
	for i, f := range in.queue {
		if f.Match == nil || f.Match(r) {
			in.queue = append(in.queue[:i], in.queue[i+1:]...)
			in.applied[f.Kind]++
			return f, true
		}
	}
	if in.chaos > 0 && in.rng.Float64() < in.chaos {
		f := in.kinds[in.rng.IntN(len(in.kinds))]
		if f.Match == nil || f.Match(r) {
			in.applied[f.Kind]++
			return f, true
		}
	}
	return Fault{}, false
}

// Wrap returns next with faults injected.
func (in *Injector) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, ok := in.next(r)
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		if f.Kind != LostAnswer {
			// Read the body first: until it is read, the server does not
			// notice a client that gives up, and a hang would outlive it.
			io.Copy(io.Discard, r.Body)
		}
		switch f.Kind {
		case Status:
			if f.RetryAfter > 0 {
				w.Header().Set("Retry-After", strconv.FormatFloat(f.RetryAfter.Seconds(), 'f', -1, 64))
			}
			if in.errorBody != nil {
				in.errorBody(w, r, f.Status)
				return
			}
			w.WriteHeader(f.Status)
		case Hang:
			var timeout <-chan time.Time
			if f.Hang > 0 {
				t := time.NewTimer(f.Hang)
				defer t.Stop()
				timeout = t.C
			}
			select {
			case <-r.Context().Done():
			case <-timeout:
				w.WriteHeader(http.StatusGatewayTimeout)
			}
		case Drop:
			abort(w)
		case LostAnswer:
			// Apply the request for real, then throw the answer away.
			next.ServeHTTP(httptest.NewRecorder(), r)
			abort(w)
		}
	})
}

// abort closes the connection without an answer. http.ErrAbortHandler is
// the server's documented way to do that without logging a stack trace.
func abort(w http.ResponseWriter) {
	if h, ok := w.(http.Hijacker); ok {
		if conn, _, err := h.Hijack(); err == nil {
			conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}
