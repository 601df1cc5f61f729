package connector

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/knyt/knyt/commerce"
)

func TestKindForStatus(t *testing.T) {
	want := map[int]Kind{
		400: KindValidation, 401: KindAuth, 402: KindAuth, 403: KindAuth, 404: KindNotFound, 408: KindTemporary,
		409: KindConflict, 410: KindNotFound, 412: KindConflict, 413: KindValidation, 418: KindPermanent,
		422: KindValidation, 429: KindRateLimited, 500: KindTemporary, 501: KindUnsupported, 502: KindTemporary,
		503: KindTemporary, 504: KindTemporary, 200: KindUnknown,
	}
	got := map[int]Kind{}
	for status := range want {
		got[status] = KindForStatus(status)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestErrorMatchingAndText(t *testing.T) {
	cause := context.DeadlineExceeded
	e := &Error{System: "klarna", Op: "Capture", Kind: KindTemporary, MaybeApplied: true, RetryAfter: 2 * time.Second, Err: cause}
	if !errors.Is(e, ErrTemporary) || errors.Is(e, ErrNotFound) || !errors.Is(e, context.DeadlineExceeded) {
		t.Error("errors.Is does not follow the kind and the cause")
	}
	if !IsRetryable(fmt.Errorf("flow: %w", e)) || RetryAfterOf(e) != 2*time.Second || KindOf(e) != KindTemporary {
		t.Error("helpers disagree with the error")
	}
	want := "klarna: Capture: temporary failure (retry after 2s) (the request may have been applied): context deadline exceeded"
	if e.Error() != want {
		t.Errorf("Error() = %q", e.Error())
	}
	w := Wrap("specter", "CreateOrder", context.Canceled)
	if KindOf(w) != KindTemporary || !errors.Is(w, context.Canceled) {
		t.Errorf("Wrap(canceled) = %v", w)
	}
	if Wrap("x", "y", e) != error(e) {
		t.Error("Wrap re-wrapped an error that already names its system")
	}
	if Wrap("x", "y", nil) != nil {
		t.Error("Wrap(nil) != nil")
	}
	if KindOf(errors.New("plain")) != KindUnknown || IsRetryable(errors.New("plain")) {
		t.Error("plain errors are classified")
	}
	n := NewError("stripe", "Refund", KindConflict, "charge %s already refunded", "ch_1")
	if n.Error() != "stripe: Refund: conflict: charge ch_1 already refunded" {
		t.Errorf("NewError = %q", n.Error())
	}
}

func TestRedactor(t *testing.T) {
	r := NewRedactor("sbm_sig")
	sensitive := []string{"Authorization", "X-Shopify-Access-Token", "api_user_key", "ApiUserKey", "IntegrationKey", "key",
		"client_secret", "password", "Stripe-Signature", "PAYPAL-TRANSMISSION-SIG", "md5key1", "Cookie", "sbm_sig", "refresh_token"}
	safe := []string{"Idempotency-Key", "Klarna-Idempotency-Key", "Content-Type", "page", "order_id", "X-Request-Id", "action", "sbmId"}
	for _, n := range sensitive {
		if !r.IsSensitive(n) {
			t.Errorf("%q not sensitive", n)
		}
	}
	for _, n := range safe {
		if r.IsSensitive(n) {
			t.Errorf("%q sensitive", n)
		}
	}
	r.AddSecret("abc", "s3cr3t-value", "s3cr3t-value-longer")
	if got := r.String("x s3cr3t-value-longer y s3cr3t-value abc"); got != "x REDACTED y REDACTED abc" {
		t.Errorf("String = %q", got)
	}
	u, _ := url.Parse("https://user:pw@example.com/p?token=t&q=s3cr3t-value&n=1")
	if got := r.URL(u); got != "https://example.com/p?n=1&q=REDACTED&token=REDACTED" {
		t.Errorf("URL = %q", got)
	}
	if got := r.Form("sbmId=123&key=abcd&name=%C5sa"); got != "key=REDACTED&name=%C5sa&sbmId=123" {
		t.Errorf("Form = %q", got)
	}
	h := r.Header(http.Header{"Authorization": {"Bearer x"}, "Accept": {"s3cr3t-value"}})
	if diff := cmp.Diff(http.Header{"Authorization": {"REDACTED"}, "Accept": {"REDACTED"}}, h); diff != "" {
		t.Errorf("Header (-want +got):\n%s", diff)
	}
}

func FuzzRedactForm(f *testing.F) {
	f.Add("sbmId=1&key=secret&x=%zz", "secret")
	f.Add("a=b;c=d", "b;c")
	f.Fuzz(func(t *testing.T, body, secret string) {
		r := NewRedactor()
		r.AddSecret(secret)
		out := r.Form(body)
		if len(secret) < 4 || strings.Contains(Redacted, secret) {
			return
		}
		// Checked on the decoded form: escaping itself may spell the secret.
		decoded, err := url.ParseQuery(out)
		if err != nil {
			if strings.Contains(out, secret) {
				t.Fatalf("secret %q survives in unparsable %q", secret, out)
			}
			return
		}
		for k, vs := range decoded {
			for _, v := range append(vs, k) {
				if strings.Contains(v, secret) && !strings.Contains(strings.ReplaceAll(v, secret, ""), Redacted) {
					t.Fatalf("secret %q survives in %q (from %q)", secret, out, body)
				}
			}
		}
	})
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"5", 5 * time.Second, true},
		{"0.25", 250 * time.Millisecond, true},
		{"0", 0, true},
		{"Sun, 22 Nov 2026 12:00:30 GMT", 30 * time.Second, true},
		{"Sun, 22 Nov 2026 11:00:00 GMT", 0, true},
		{"", 0, false},
		{"-1", 0, false},
		{"NaN", 0, false},
		{"Inf", 0, false},
		{"99999999", 0, false},
		{"soon", 0, false},
	}
	for _, tt := range tests {
		got, ok := ParseRetryAfter(tt.in, now)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseRetryAfter(%q) = %s, %v; want %s, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"1", "1.5", "Sun, 22 Nov 2026 12:00:30 GMT", "-0", "1e308", "NaN"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := ParseRetryAfter(s, time.Now())
		if ok && (d < 0 || d > maxRetryAfter) {
			t.Fatalf("ParseRetryAfter(%q) = %s", s, d)
		}
	})
}

func TestTokenBucket(t *testing.T) {
	b := NewTokenBucket(10, 2)
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	b.now = func() time.Time { return clock }
	for i := range 2 {
		if w := b.reserve("shop-a"); w != 0 {
			t.Fatalf("burst request %d waits %s", i, w)
		}
	}
	if w := b.reserve("shop-a"); w != 100*time.Millisecond {
		t.Errorf("third request waits %s, want 100ms", w)
	}
	if w := b.reserve("shop-b"); w != 0 {
		t.Errorf("another account waits %s", w)
	}
	clock = clock.Add(time.Second)
	b.observe("shop-a", &http.Response{StatusCode: 429, Header: http.Header{"Retry-After": {"3"}}})
	if w := b.reserve("shop-a"); w != 3*time.Second {
		t.Errorf("after 429 Retry-After 3 the account waits %s", w)
	}
	if w := b.reserve("shop-b"); w != 0 {
		t.Errorf("a 429 of shop-a paused shop-b for %s", w)
	}
	// Acquire honours the context.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := b.Acquire(ctx, "shop-a"); !errors.Is(err, context.Canceled) {
		t.Errorf("Acquire with cancelled context = %v", err)
	}
}

func TestSerial(t *testing.T) {
	s := NewSerial(2 * time.Millisecond)
	var inFlight, maxInFlight atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rel, err := s.Acquire(t.Context(), "acct")
			if err != nil {
				t.Error(err)
				return
			}
			n := inFlight.Add(1)
			for {
				m := maxInFlight.Load()
				if n <= m || maxInFlight.CompareAndSwap(m, n) {
					break
				}
			}
			time.Sleep(time.Millisecond)
			inFlight.Add(-1)
			rel(nil)
		}()
	}
	wg.Wait()
	if got := maxInFlight.Load(); got != 1 {
		t.Errorf("%d requests of one account in flight at once", got)
	}
	// The slot is held: a second Acquire waits for the context.
	rel, _ := s.Acquire(t.Context(), "acct")
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Millisecond)
	defer cancel()
	if _, err := s.Acquire(ctx, "acct"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Acquire while held = %v", err)
	}
	rel(nil)
}

func TestLimiterInTransport(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) == 1 {
			w.Header().Set("Retry-After", "0.05")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	lim := NewTokenBucket(1000, 10)
	tr, _ := NewTransport("s", srv.URL, WithRateLimiter(lim), WithAccount("shop-1"), WithRetry(3, time.Millisecond, time.Millisecond))
	start := time.Now()
	if _, err := tr.Do(t.Context(), &Request{Method: "GET", Path: "x"}); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el < 50*time.Millisecond {
		t.Errorf("retried after %s, before the Retry-After of 50ms", el)
	}
}

func TestIdempotencyKey(t *testing.T) {
	k := IdempotencyKey("klarna", "capture", "#1001", "delivery-1")
	if k != IdempotencyKey("klarna", "capture", "#1001", "delivery-1") {
		t.Error("not deterministic")
	}
	if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(k) {
		t.Errorf("%q is not a version-5 UUID", k)
	}
	distinct := map[string]bool{}
	for _, parts := range [][]string{{"ab", "c"}, {"a", "bc"}, {"abc"}, {"abc", ""}, {}, {"klarna", "capture", "#1001", "delivery-2"}} {
		distinct[IdempotencyKey(parts...)] = true
	}
	if len(distinct) != 6 {
		t.Errorf("only %d distinct keys for 6 different part lists", len(distinct))
	}
	// Pinned: changing the derivation would change every stored key.
	if got := IdempotencyKey("stripe", "refund", "R1"); got != pinnedKey {
		t.Errorf("IdempotencyKey changed: %s", got)
	}
	o := ApplyCallOptions([]CallOption{WithIdempotencyKey("k"), nil, WithDryRun()})
	if diff := cmp.Diff(CallOptions{IdempotencyKey: "k", DryRun: true}, o); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// pinnedKey is IdempotencyKey("stripe", "refund", "R1") as first released.
const pinnedKey = "4f3273c8-c617-53bb-8e2a-b32452061e27"

// fakeFeed serves pages of ints from a slice; the cursor is the next index.
type fakeFeed struct {
	items     []int
	page      int
	committed []Cursor
	stuck     bool
	bad       map[int]bool // items reported as problems
}

func (f *fakeFeed) Next(_ context.Context, after Cursor) (Batch[int], error) {
	start := 0
	fmt.Sscan(string(after), &start)
	if f.stuck {
		return Batch[int]{Cursor: after, More: true}, nil
	}
	end := min(start+f.page, len(f.items))
	b := Batch[int]{Cursor: Cursor(fmt.Sprint(end)), More: end < len(f.items)}
	for _, x := range f.items[start:end] {
		if f.bad[x] {
			b.Problems = append(b.Problems, ItemProblem{Entity: "int", Ref: commerce.Ref{System: "fake", ID: fmt.Sprint(x)}, Err: commerce.ErrInvalid})
		} else {
			b.Items = append(b.Items, x)
		}
	}
	return b, nil
}

func (f *fakeFeed) Commit(_ context.Context, c Cursor) error {
	f.committed = append(f.committed, c)
	return nil
}

func TestDrain(t *testing.T) {
	f := &fakeFeed{items: []int{1, 2, 3, 4, 5, 6, 7}, page: 3}
	var got []int
	cur, err := Drain(t.Context(), f, "", func(_ context.Context, xs []int) error { got = append(got, xs...); return nil })
	if err != nil || cur != "7" {
		t.Fatalf("Drain = %q, %v", cur, err)
	}
	if diff := cmp.Diff([]int{1, 2, 3, 4, 5, 6, 7}, got); diff != "" {
		t.Errorf("items (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]Cursor{"3", "6", "7"}, f.committed); diff != "" {
		t.Errorf("commits (-want +got):\n%s", diff)
	}
	// A failing handler stops before committing its batch.
	f.committed = nil
	boom := errors.New("boom")
	cur, err = Drain(t.Context(), f, "3", func(_ context.Context, xs []int) error {
		if xs[0] == 7 {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) || cur != "6" {
		t.Errorf("Drain with failing handler = %q, %v; want 6, boom", cur, err)
	}
	if _, err := Drain(t.Context(), &fakeFeed{stuck: true}, "0", func(context.Context, []int) error { return nil }); !errors.Is(err, errNoProgress) {
		t.Errorf("stuck feed: %v", err)
	}
}

func TestDrainProblems(t *testing.T) {
	f := &fakeFeed{items: []int{1, 2, 3, 4, 5, 6, 7}, page: 3, bad: map[int]bool{2: true, 3: true, 5: true}}
	var got []int
	collect := func(_ context.Context, xs []int) error { got = append(got, xs...); return nil }
	// Without a taker, Drain stops after the first page with problems,
	// committed, and names them.
	cur, err := Drain(t.Context(), f, "", collect)
	var pe *ProblemsError
	if !errors.As(err, &pe) || cur != "3" || len(pe.Problems) != 2 || !errors.Is(err, commerce.ErrInvalid) {
		t.Fatalf("Drain = %q, %v", cur, err)
	}
	if want := "connector: 2 feed item(s) could not be mapped: int fake/2: invalid; int fake/3: invalid"; err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
	// With one, every item and every problem is handed over.
	var problems []string
	cur, err = Drain(t.Context(), f, cur, collect, WithProblems(func(_ context.Context, ps []ItemProblem) error {
		for _, p := range ps {
			problems = append(problems, p.Ref.ID)
		}
		return nil
	}))
	if err != nil || cur != "7" {
		t.Fatalf("Drain = %q, %v", cur, err)
	}
	if diff := cmp.Diff([]int{1, 4, 6, 7}, got); diff != "" {
		t.Errorf("items (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"5"}, problems); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
	// A failing taker stops before the page is committed.
	f.committed = nil
	boom := errors.New("boom")
	cur, err = Drain(t.Context(), f, "3", collect, WithProblems(func(context.Context, []ItemProblem) error { return boom }))
	if !errors.Is(err, boom) || cur != "3" || len(f.committed) != 0 {
		t.Errorf("Drain with failing taker = %q, %v, commits %v", cur, err, f.committed)
	}
}

func TestWebhookHelpers(t *testing.T) {
	req := httptest.NewRequest("POST", "/hook", strings.NewReader(strings.Repeat("a", 11)))
	if _, err := ReadWebhookBody(req, 10); !errors.Is(err, ErrWebhookTooLarge) {
		t.Errorf("oversized body: %v", err)
	}
	req = httptest.NewRequest("POST", "/hook", strings.NewReader("hello"))
	b, err := ReadWebhookBody(req, 0)
	if err != nil || string(b) != "hello" {
		t.Errorf("ReadWebhookBody = %q, %v", b, err)
	}
	req.Body = nil
	if _, err := ReadWebhookBody(req, 0); !errors.Is(err, ErrWebhookMalformed) {
		t.Errorf("nil body: %v", err)
	}
	// RFC 4231 test case 2.
	mac := HMACSHA256([]byte("Jefe"), []byte("what do ya want "), []byte("for nothing?"))
	if got := fmt.Sprintf("%x", mac); got != "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" {
		t.Errorf("HMACSHA256 = %s", got)
	}
	if !EqualMAC(mac, HMACSHA256([]byte("Jefe"), []byte("what do ya want for nothing?"))) || EqualMAC(mac, mac[:31]) {
		t.Error("EqualMAC is wrong")
	}
}
