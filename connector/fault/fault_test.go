package fault_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/knyt/knyt/connector/fault"
)

type counter struct{ applied atomic.Int32 }

func (c *counter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.applied.Add(1)
	io.WriteString(w, "done")
}

func serve(t *testing.T, inj *fault.Injector, h http.Handler) *httptest.Server {
	srv := httptest.NewServer(inj.Wrap(h))
	t.Cleanup(srv.Close)
	return srv
}

func TestKinds(t *testing.T) {
	tests := []struct {
		name        string
		f           fault.Fault
		wantStatus  int
		wantErr     bool
		wantApplied int32
		wantBody    string
	}{
		{"status with system body", fault.Fault{Kind: fault.Status, Status: 503, RetryAfter: 2 * time.Second}, 503, false, 0, `{"error":"Service Unavailable"}`},
		{"drop", fault.Fault{Kind: fault.Drop}, 0, true, 0, ""},
		{"lost answer is applied", fault.Fault{Kind: fault.LostAnswer}, 0, true, 1, ""},
		{"bounded hang answers 504", fault.Fault{Kind: fault.Hang, Hang: 10 * time.Millisecond}, 504, false, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inj := fault.New(func(w http.ResponseWriter, r *http.Request, status int) {
				w.WriteHeader(status)
				io.WriteString(w, `{"error":"`+http.StatusText(status)+`"}`)
			})
			c := &counter{}
			srv := serve(t, inj, c)
			inj.Inject(tt.f)
			resp, err := http.Post(srv.URL, "text/plain", strings.NewReader("x"))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if err == nil {
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != tt.wantStatus || string(body) != tt.wantBody {
					t.Errorf("answer %d %q, want %d %q", resp.StatusCode, body, tt.wantStatus, tt.wantBody)
				}
				if tt.f.RetryAfter > 0 && resp.Header.Get("Retry-After") != "2" {
					t.Errorf("Retry-After = %q", resp.Header.Get("Retry-After"))
				}
			}
			if got := c.applied.Load(); got != tt.wantApplied {
				t.Errorf("applied %d times, want %d", got, tt.wantApplied)
			}
			if inj.Injected(tt.f.Kind) != 1 || inj.Pending() != 0 {
				t.Errorf("injected %d, pending %d", inj.Injected(tt.f.Kind), inj.Pending())
			}
			// The next request is served normally.
			resp, err = http.Get(srv.URL)
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("after the fault: %v", err)
			}
			resp.Body.Close()
		})
	}
}

func TestHangUntilClientGivesUp(t *testing.T) {
	inj := fault.New(nil)
	srv := serve(t, inj, &counter{})
	inj.Inject(fault.Fault{Kind: fault.Hang})
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL, nil)
	_, err := http.DefaultClient.Do(req)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("hung request: %v", err)
	}
}

func TestMatchAndOrder(t *testing.T) {
	inj := fault.New(nil)
	c := &counter{}
	srv := serve(t, inj, c)
	inj.InjectN(fault.Fault{Kind: fault.Status, Status: 500, Match: func(r *http.Request) bool { return r.Method == http.MethodPost }}, 2)
	var got []int
	for _, method := range []string{"GET", "POST", "GET", "POST", "POST"} {
		req, _ := http.NewRequest(method, srv.URL, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		got = append(got, resp.StatusCode)
	}
	if diff := cmp.Diff([]int{200, 500, 200, 500, 200}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestChaosIsDeterministic(t *testing.T) {
	run := func() []int {
		inj := fault.New(nil)
		srv := serve(t, inj, &counter{})
		inj.Chaos(0.5, 42, fault.Fault{Kind: fault.Status, Status: 503})
		var got []int
		for range 20 {
			resp, err := http.Get(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			got = append(got, resp.StatusCode)
		}
		return got
	}
	a, b := run(), run()
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("same seed, different faults (-first +second):\n%s", diff)
	}
	n := 0
	for _, s := range a {
		if s == 503 {
			n++
		}
	}
	if n == 0 || n == 20 {
		t.Errorf("%d of 20 requests failed at p=0.5", n)
	}
	inj := fault.New(nil)
	inj.Chaos(1, 1)
	inj.Reset()
	srv := serve(t, inj, &counter{})
	if resp, err := http.Get(srv.URL); err != nil || resp.StatusCode != 200 {
		t.Errorf("after Reset: %v", err)
	}
}

func TestCrash(t *testing.T) {
	var writes atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { writes.Add(1) }))
	defer srv.Close()
	crash := &fault.Crash{}
	client := &http.Client{Transport: crash}
	ctx, cancel := context.WithCancel(t.Context())
	crash.Arm(2, cancel)
	var errs []error
	for range 3 {
		resp, err := client.Post(srv.URL, "text/plain", nil)
		if err == nil {
			resp.Body.Close()
		}
		errs = append(errs, err)
	}
	// The second call is applied but its answer lost; the third passes:
	// the crash is one, and disarmed after it.
	if errs[0] != nil || !errors.Is(errs[1], context.Canceled) || errs[2] != nil {
		t.Errorf("errors %v", errs)
	}
	if ctx.Err() == nil || writes.Load() != 3 || crash.Crashes() != 1 || crash.Calls() != 3 {
		t.Errorf("context %v, %d writes, %d crashes, %d calls", ctx.Err(), writes.Load(), crash.Crashes(), crash.Calls())
	}
}
