package connectortest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/connector"
	"github.com/knyt/knyt/connector/fault"
)

// Run checks that a connector keeps the contract the engine relies on. It
// runs a subtest per property, each on a fresh Harness from newHarness, and
// skips what the connector does not implement or the harness does not
// enable. Use it from the connector's own tests against its fake:
//
//	func TestConformance(t *testing.T) {
//		connectortest.Run(t, func(t *testing.T) *connectortest.Harness { … })
//	}
func Run(t *testing.T, newHarness func(t *testing.T) *Harness) {
	t.Helper()
	run := func(name string, fn func(t *testing.T, s *session)) {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			if h == nil || h.Connector == nil {
				t.Fatal("newHarness returned no connector")
			}
			s := &session{h: h}
			t.Cleanup(func() { s.checkSecrets(t) })
			fn(t, s)
		})
	}
	run("Identity", testIdentity)
	run("ProductUpsertIdempotent", testProductUpsert)
	run("Feeds", testFeeds)
	run("FeedReplayUntilCommit", testFeedReplay)
	run("ErrorClassification", testErrorClassification)
	run("RetriesTransientFailures", testTransientRetries)
	run("ContextCancelled", testContextCancelled)
	run("CaptureExactlyOnce", testCaptureOnce)
	run("RefundExactlyOnce", testRefundOnce)
	run("RefundWithinOneCapture", testRefundPerCapture)
	run("PayoutsSum", testPayouts)
}

// session tracks the errors a subtest saw so none escapes the secret check.
type session struct {
	h    *Harness
	mu   sync.Mutex
	errs []error
}

func (s *session) saw(err error) error {
	if err != nil {
		s.mu.Lock()
		s.errs = append(s.errs, err)
		s.mu.Unlock()
	}
	return err
}

func (s *session) checkSecrets(t *testing.T) {
	logs := ""
	if s.h.Log != nil {
		logs = s.h.Log.String()
	}
	for _, sec := range s.h.Secrets {
		if sec == "" {
			continue
		}
		if strings.Contains(logs, sec) {
			t.Errorf("a secret (%d bytes, starting %q) appears in the log output", len(sec), sec[:min(2, len(sec))])
		}
		for _, err := range s.errs {
			if strings.Contains(err.Error(), sec) {
				t.Errorf("a secret (%d bytes, starting %q) appears in an error: %T", len(sec), sec[:min(2, len(sec))], err)
			}
		}
	}
}

func testIdentity(t *testing.T, s *session) {
	if s.h.Connector.System() == "" {
		t.Error("System() is empty")
	}
}

func testProductUpsert(t *testing.T, s *session) {
	sink, ok := s.h.Connector.(connector.ProductSink)
	if !ok || len(s.h.Products) == 0 {
		t.Skip("not a ProductSink, or no sample products")
	}
	ctx := t.Context()
	first, err := sink.UpsertProducts(ctx, s.h.Products)
	if s.saw(err) != nil {
		t.Fatalf("first upsert: %v", err)
	}
	second, err := sink.UpsertProducts(ctx, s.h.Products)
	if s.saw(err) != nil {
		t.Fatalf("second upsert of the same batch: %v", err)
	}
	if len(first) != len(second) {
		t.Fatalf("upserts reported %d then %d results for the same batch", len(first), len(second))
	}
	for i, r := range second {
		if r.Created {
			t.Errorf("second upsert created %q again (result %d); the same batch twice must leave one copy", r.Key, i)
		}
		if first[i].Ref != r.Ref {
			t.Errorf("second upsert of %q returned id %v, first returned %v", r.Key, r.Ref, first[i].Ref)
		}
	}
	src, ok := s.h.Connector.(connector.ProductLookup)
	if !ok {
		return
	}
	for _, p := range s.h.Products {
		for _, v := range p.Variants {
			got, err := src.ProductBySKU(ctx, v.SKU)
			if s.saw(err) != nil {
				t.Errorf("ProductBySKU(%q) after upsert: %v", v.SKU, err)
				continue
			}
			n := 0
			for _, gv := range got.Variants {
				if gv.SKU == v.SKU {
					n++
				}
			}
			if n != 1 {
				t.Errorf("ProductBySKU(%q): the variant appears %d times, want 1", v.SKU, n)
			}
		}
	}
}

func pageSize(fc FeedCase) int {
	if fc.PageSize > 0 {
		return fc.PageSize
	}
	return 5
}

// walk reads the feed from after to its end, committing each batch, and
// returns every key in order and the final cursor.
func (s *session) walk(ctx context.Context, t *testing.T, fc FeedCase, after connector.Cursor) ([]string, connector.Cursor) {
	t.Helper()
	var keys []string
	for range 10_000 {
		batch, cur, more, err := fc.Feed.next(ctx, after)
		if s.saw(err) != nil {
			t.Fatalf("%s: Next(%q): %v", fc.Name, after, err)
		}
		keys = append(keys, batch...)
		if cur != "" {
			if err := s.saw(fc.Feed.commit(ctx, cur)); err != nil {
				t.Fatalf("%s: Commit(%q): %v", fc.Name, cur, err)
			}
			after = cur
		}
		if !more {
			return keys, after
		}
		if len(batch) == 0 && cur == "" {
			t.Fatalf("%s: Next reported more but returned no items and no cursor", fc.Name)
		}
	}
	t.Fatalf("%s: feed did not end after 10000 pages", fc.Name)
	return nil, after
}

func testFeeds(t *testing.T, s *session) {
	if len(s.h.Feeds) == 0 {
		t.Skip("no feeds")
	}
	for _, fc := range s.h.Feeds {
		t.Run(fc.Name, func(t *testing.T) {
			ctx := t.Context()
			// Start at the current end so items already in the fake do
			// not count.
			_, start := s.walk(ctx, t, fc, "")
			n := 2*pageSize(fc) + 1
			seeded, err := fc.Seed(ctx, n)
			if err != nil {
				t.Fatalf("seed: %v", err)
			}
			keys, end := s.walk(ctx, t, fc, start)
			checkExactlyOnce(t, fc.Name, seeded, keys)

			// Nothing new: the feed returns none of the items again.
			again, _ := s.walk(ctx, t, fc, end)
			for _, k := range again {
				if slices.Contains(seeded, k) {
					t.Errorf("%s: item %q came again after it was committed", fc.Name, k)
				}
			}
		})
	}
}

func checkExactlyOnce(t *testing.T, name string, want, got []string) {
	t.Helper()
	count := map[string]int{}
	for _, k := range got {
		count[k]++
	}
	for _, k := range want {
		switch c := count[k]; {
		case c == 0:
			t.Errorf("%s: item %q was skipped", name, k)
		case c > 1:
			t.Errorf("%s: item %q was returned %d times", name, k, c)
		}
	}
}

func testFeedReplay(t *testing.T, s *session) {
	if len(s.h.Feeds) == 0 {
		t.Skip("no feeds")
	}
	for _, fc := range s.h.Feeds {
		t.Run(fc.Name, func(t *testing.T) {
			ctx := t.Context()
			_, start := s.walk(ctx, t, fc, "")
			seeded, err := fc.Seed(ctx, 1)
			if err != nil {
				t.Fatalf("seed: %v", err)
			}
			// A crash between Next and Commit: the items must come again.
			first, _, _, err := fc.Feed.next(ctx, start)
			if s.saw(err) != nil {
				t.Fatalf("Next: %v", err)
			}
			second, cur, _, err := fc.Feed.next(ctx, start)
			if s.saw(err) != nil {
				t.Fatalf("Next again before Commit: %v", err)
			}
			for _, k := range seeded {
				if slices.Contains(first, k) && !slices.Contains(second, k) {
					t.Errorf("item %q was returned, not committed, and then not returned again", k)
				}
			}
			if cur != "" {
				if err := s.saw(fc.Feed.commit(ctx, cur)); err != nil {
					t.Fatalf("Commit: %v", err)
				}
			}
			after, _ := s.walk(ctx, t, fc, cur)
			for _, k := range seeded {
				if (slices.Contains(first, k) || slices.Contains(second, k)) && slices.Contains(after, k) {
					t.Errorf("item %q came again after Commit", k)
				}
			}
		})
	}
}

func (s *session) needFaults(t *testing.T) {
	if s.h.Faults == nil || s.h.Probe == nil {
		t.Skip("no fault injector or probe")
	}
	t.Cleanup(s.h.Faults.Reset)
}

// checkError asserts err is a *connector.Error of the connector's system,
// naming an operation, matching want.
func (s *session) checkError(t *testing.T, what string, err error, want error) {
	t.Helper()
	s.saw(err)
	if err == nil {
		t.Errorf("%s: no error", what)
		return
	}
	if !errors.Is(err, want) {
		t.Errorf("%s: error %q does not match %v", what, err, want)
	}
	var ce *connector.Error
	if !errors.As(err, &ce) {
		t.Errorf("%s: %T is not a *connector.Error", what, err)
		return
	}
	if ce.System != s.h.Connector.System() {
		t.Errorf("%s: error names system %q, want %q", what, ce.System, s.h.Connector.System())
	}
	if ce.Op == "" {
		t.Errorf("%s: error names no operation", what)
	}
}

func testErrorClassification(t *testing.T, s *session) {
	s.needFaults(t)
	cases := []struct {
		status int
		n      int
		want   error
	}{
		{http.StatusNotFound, 1, connector.ErrNotFound},
		{http.StatusConflict, 1, connector.ErrConflict},
		{http.StatusBadRequest, 1, connector.ErrValidation},
		{http.StatusUnauthorized, 2, connector.ErrAuth}, // twice: an expiring token is refreshed once
		{http.StatusForbidden, 1, connector.ErrAuth},
		{http.StatusTooManyRequests, 50, connector.ErrRateLimited},
		{http.StatusInternalServerError, 50, connector.ErrTemporary},
		{http.StatusServiceUnavailable, 50, connector.ErrTemporary},
	}
	for _, c := range cases {
		t.Run(fmt.Sprint(c.status), func(t *testing.T) {
			s.h.Faults.Reset()
			s.h.Faults.InjectN(fault.Fault{Kind: fault.Status, Status: c.status, RetryAfter: time.Millisecond}, c.n)
			s.checkError(t, fmt.Sprintf("probe answered %d", c.status), s.h.Probe(t.Context()), c.want)
		})
	}
	t.Run("timeout", func(t *testing.T) {
		s.h.Faults.Reset()
		s.h.Faults.InjectN(fault.Fault{Kind: fault.Hang}, 50)
		ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
		defer cancel()
		err := s.h.Probe(ctx)
		s.checkError(t, "probe timed out", err, connector.ErrTemporary)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("timed-out probe: %q does not match context.DeadlineExceeded", err)
		}
	})
}

func testTransientRetries(t *testing.T, s *session) {
	s.needFaults(t)
	for _, f := range []fault.Fault{
		{Kind: fault.Status, Status: http.StatusServiceUnavailable},
		{Kind: fault.Status, Status: http.StatusTooManyRequests, RetryAfter: time.Millisecond},
		{Kind: fault.Drop},
	} {
		s.h.Faults.Reset()
		s.h.Faults.Inject(f)
		if err := s.saw(s.h.Probe(t.Context())); err != nil {
			t.Errorf("one transient failure (kind %d, status %d) was not retried: %v", f.Kind, f.Status, err)
		}
	}
}

func testContextCancelled(t *testing.T, s *session) {
	if s.h.Probe == nil {
		t.Skip("no probe")
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err := s.saw(s.h.Probe(ctx))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("probe with a cancelled context: %v, want context.Canceled", err)
	}
}

func halves(t *testing.T, m commerce.Money) (commerce.Money, commerce.Money) {
	t.Helper()
	parts, err := m.Allocate([]decimal.Decimal{decimal.NewFromInt(1), decimal.NewFromInt(1)})
	if err != nil {
		t.Fatalf("split %s: %v", m, err)
	}
	return parts[0], parts[1]
}

func testCaptureOnce(t *testing.T, s *session) {
	cap, ok := s.h.Connector.(connector.Capturer)
	if !ok || s.h.Payment == nil {
		t.Skip("not a Capturer, or no payment case")
	}
	ctx := t.Context()
	ref, err := s.h.Payment.Authorize(ctx, s.h.Payment.Amount)
	if err != nil {
		t.Fatalf("authorize: %v", err)
	}
	first, rest := halves(t, s.h.Payment.Amount)
	key := connector.IdempotencyKey("connectortest", ref, "capture", "1")
	req := connector.CaptureRequest{PaymentReference: ref, OrderNumber: "CT-" + ref, Amount: first}
	c1, err := cap.Capture(ctx, req, connector.WithIdempotencyKey(key))
	if s.saw(err) != nil {
		t.Fatalf("capture: %v", err)
	}
	c2, err := cap.Capture(ctx, req, connector.WithIdempotencyKey(key))
	if s.saw(err) != nil {
		t.Fatalf("capture repeated with the same key: %v", err)
	}
	if c1.ID != c2.ID {
		t.Errorf("the same key captured twice: ids %q and %q", c1.ID, c2.ID)
	}

	// The answer to the second capture is lost after it was applied; the
	// caller retries with the same key.
	key2 := connector.IdempotencyKey("connectortest", ref, "capture", "2")
	req2 := connector.CaptureRequest{PaymentReference: ref, OrderNumber: "CT-" + ref, Amount: rest, Final: true}
	if s.h.Faults != nil {
		s.h.Faults.Inject(fault.Fault{Kind: fault.LostAnswer, Match: func(r *http.Request) bool { return r.Method != http.MethodGet }})
		t.Cleanup(s.h.Faults.Reset)
		if _, err := cap.Capture(ctx, req2, connector.WithIdempotencyKey(key2)); err != nil {
			s.saw(err)
			var ce *connector.Error
			if errors.As(err, &ce) && !ce.MaybeApplied && !connector.IsRetryable(err) {
				t.Errorf("capture whose answer was lost: %v is neither retryable nor marked MaybeApplied", err)
			}
		}
	}
	if _, err := cap.Capture(ctx, req2, connector.WithIdempotencyKey(key2)); s.saw(err) != nil {
		t.Fatalf("capture retried with its key: %v", err)
	}
	if rd, ok := s.h.Connector.(connector.PaymentReader); ok {
		p, err := rd.Payment(ctx, ref)
		if s.saw(err) != nil {
			t.Fatalf("read payment: %v", err)
		}
		if !p.Captured.Equal(s.h.Payment.Amount) {
			t.Errorf("captured %s after two captures of halves with retries, want %s", p.Captured, s.h.Payment.Amount)
		}
	}
}

func testRefundOnce(t *testing.T, s *session) {
	cap, okC := s.h.Connector.(connector.Capturer)
	ref, okR := s.h.Connector.(connector.Refunder)
	if !okC || !okR || s.h.Payment == nil {
		t.Skip("not a Capturer and Refunder, or no payment case")
	}
	ctx := t.Context()
	pay, err := s.h.Payment.Authorize(ctx, s.h.Payment.Amount)
	if err != nil {
		t.Fatalf("authorize: %v", err)
	}
	c, err := cap.Capture(ctx, connector.CaptureRequest{PaymentReference: pay, OrderNumber: "CT-" + pay, Amount: s.h.Payment.Amount, Final: true},
		connector.WithIdempotencyKey(connector.IdempotencyKey("connectortest", pay, "capture")))
	if s.saw(err) != nil {
		t.Fatalf("capture: %v", err)
	}
	part, _ := halves(t, s.h.Payment.Amount)
	req := connector.RefundRequest{PaymentReference: pay, CaptureID: c.ID, OrderNumber: "CT-" + pay, Amount: part, Reason: "conformance"}
	key := connector.IdempotencyKey("connectortest", pay, "refund", "1")
	r1, err := ref.Refund(ctx, req, connector.WithIdempotencyKey(key))
	if s.saw(err) != nil {
		t.Fatalf("refund: %v", err)
	}
	r2, err := ref.Refund(ctx, req, connector.WithIdempotencyKey(key))
	if s.saw(err) != nil {
		t.Fatalf("refund repeated with the same key: %v", err)
	}
	if r1.ID != r2.ID {
		t.Errorf("the same key refunded twice: ids %q and %q", r1.ID, r2.ID)
	}
	if rd, ok := s.h.Connector.(connector.PaymentReader); ok {
		p, err := rd.Payment(ctx, pay)
		if s.saw(err) != nil {
			t.Fatalf("read payment: %v", err)
		}
		if !p.Refunded.Equal(part) {
			t.Errorf("refunded %s after one refund sent twice with one key, want %s", p.Refunded, part)
		}
	}
}

// testRefundPerCapture holds a connector.CaptureScopedRefunder to its
// word: a refund draws on the capture it names and no further — more than
// that capture holds is refused, with nothing refunded, while the same
// amount split per capture goes through.
func testRefundPerCapture(t *testing.T, s *session) {
	cap, okC := s.h.Connector.(connector.Capturer)
	ref, okR := s.h.Connector.(connector.CaptureScopedRefunder)
	if !okC || !okR || !ref.RefundsPerCapture() || s.h.Payment == nil {
		t.Skip("not a Capturer whose refunds draw on one capture, or no payment case")
	}
	ctx := t.Context()
	pay, err := s.h.Payment.Authorize(ctx, s.h.Payment.Amount)
	if err != nil {
		t.Fatalf("authorize: %v", err)
	}
	first, rest := halves(t, s.h.Payment.Amount)
	var captures []commerce.Capture
	for i, part := range []commerce.Money{first, rest} {
		c, err := cap.Capture(ctx, connector.CaptureRequest{PaymentReference: pay, OrderNumber: "CT-" + pay, Amount: part, Final: i == 1},
			connector.WithIdempotencyKey(connector.IdempotencyKey("connectortest", pay, "capture", strconv.Itoa(i))))
		if s.saw(err) != nil {
			t.Fatalf("capture %d: %v", i+1, err)
		}
		captures = append(captures, c)
	}
	refund := func(c commerce.Capture, amount commerce.Money, n string) error {
		_, err := ref.Refund(ctx, connector.RefundRequest{PaymentReference: pay, CaptureID: c.ID, OrderNumber: "CT-" + pay, Amount: amount,
			Reason: "conformance", Reference: "CT-" + pay + "-" + n}, connector.WithIdempotencyKey(connector.IdempotencyKey("connectortest", pay, "refund", n)))
		return s.saw(err)
	}
	if err := refund(captures[0], s.h.Payment.Amount, "all-from-first"); err == nil || connector.IsRetryable(err) {
		t.Errorf("refund of %s from a capture of %s: %v, want a refusal that is not retried", s.h.Payment.Amount, first, err)
	}
	for i, c := range captures {
		if err := refund(c, c.Amount, strconv.Itoa(i)); err != nil {
			t.Fatalf("refund of capture %d in full: %v", i+1, err)
		}
	}
	if rd, ok := s.h.Connector.(connector.PaymentReader); ok {
		p, err := rd.Payment(ctx, pay)
		if s.saw(err) != nil {
			t.Fatalf("read payment: %v", err)
		}
		if !p.Refunded.Equal(s.h.Payment.Amount) {
			t.Errorf("refunded %s, want %s: the refused refund must refund nothing", p.Refunded, s.h.Payment.Amount)
		}
	}
}

func testPayouts(t *testing.T, s *session) {
	src, ok := s.h.Connector.(connector.PayoutSource)
	if !ok || s.h.Payouts == nil {
		t.Skip("not a PayoutSource, or no payout case")
	}
	ctx := t.Context()
	from, to, err := s.h.Payouts.Seed(ctx)
	if err != nil {
		t.Fatalf("seed payouts: %v", err)
	}
	n := 0
	for p, err := range src.Payouts(ctx, from, to) {
		if s.saw(err) != nil {
			t.Fatalf("list payouts: %v", err)
		}
		n++
		var txs []commerce.Transaction
		for tx, err := range src.PayoutTransactions(ctx, p.ID) {
			if s.saw(err) != nil {
				t.Fatalf("payout %s transactions: %v", p.ID, err)
			}
			txs = append(txs, tx)
		}
		if len(txs) == 0 {
			t.Errorf("payout %s has no transactions", p.ID)
			continue
		}
		p.Transactions = txs
		if err := p.Validate(); err != nil {
			t.Errorf("payout %s: %v", p.ID, err)
		}
	}
	if n == 0 {
		t.Errorf("no payouts listed in [%s, %s) after seeding", from, to)
	}
}
