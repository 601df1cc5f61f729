package stripe_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/connector"
	"github.com/knyt/knyt/connector/fault"
	"github.com/knyt/knyt/stripe"
	"github.com/knyt/knyt/stripe/stripetest"
)

func authorize(t *testing.T, e *env, amount int64, currency string, multicapture bool) string {
	t.Helper()
	id, err := e.fake.AddAuthorization(stripetest.Authorization{Amount: amount, Currency: currency, Multicapture: multicapture,
		Metadata: map[string]string{"order_number": "1001"}})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func key(k string) connector.CallOption { return connector.WithIdempotencyKey(k) }

func TestCaptureFull(t *testing.T) {
	e := newEnv(t)
	pi := authorize(t, e, 49900, "sek", false)
	c, err := e.client.Capture(context.Background(), connector.CaptureRequest{
		PaymentReference: pi, OrderNumber: "1001", Amount: money(t, "499.00", "SEK"), Final: true, Reference: "D-1",
	}, key("capture-1001-D-1"))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("capture does not validate: %v", err)
	}
	want := commerce.Capture{ID: c.ID, Provider: "stripe", PaymentReference: pi, OrderNumber: "1001",
		Amount: money(t, "499.00", "SEK"), Reference: "D-1", IdempotencyKey: "capture-1001-D-1", CreatedAt: e.fake.Now()}
	if diff := cmp.Diff(want, c, cmpopts.IgnoreFields(commerce.Capture{}, "Origin")); diff != "" {
		t.Errorf("capture (-want +got):\n%s", diff)
	}
	if !strings.HasPrefix(c.ID, "ch_") || c.Source != (commerce.Ref{System: "stripe", Account: "acct_test", ID: c.ID}) || len(c.Raw) == 0 {
		t.Errorf("capture id %q, source %+v", c.ID, c.Source)
	}
	snap, _ := e.fake.PaymentIntent(pi)
	if snap.Status != "succeeded" || snap.AmountReceived != 49900 {
		t.Errorf("fake state %+v", snap)
	}
	last := e.fake.Requests()[len(e.fake.Requests())-1]
	if diff := cmp.Diff(map[string][]string{"amount_to_capture": {"49900"}}, map[string][]string(last.Params)); diff != "" {
		t.Errorf("capture params without multicapture (-want +got):\n%s", diff)
	}
	if last.StripeVersion != stripe.APIVersion || last.IdempotencyKey != "capture-1001-D-1" {
		t.Errorf("request %+v", last)
	}
}

func TestCaptureIdempotent(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	pi := authorize(t, e, 10000, "sek", false)
	req := connector.CaptureRequest{PaymentReference: pi, Amount: money(t, "100.00", "SEK"), Final: true}
	c1, err := e.client.Capture(ctx, req, key("k1"))
	if err != nil {
		t.Fatal(err)
	}
	rows := e.fake.BalanceTransactionCount()
	c2, err := e.client.Capture(ctx, req, key("k1"))
	if err != nil {
		t.Fatalf("replay: %v", err)
	}
	if c1.ID != c2.ID || string(c1.Raw) != string(c2.Raw) || e.fake.BalanceTransactionCount() != rows {
		t.Errorf("replay differs or booked again: %s/%s, %d rows → %d", c1.ID, c2.ID, rows, e.fake.BalanceTransactionCount())
	}
	reqs := e.fake.Requests()
	if !reqs[len(reqs)-1].Replayed {
		t.Error("second capture was not answered from the idempotency store")
	}

	// The same key with other parameters is a programming error.
	req.Amount = money(t, "50.00", "SEK")
	_, err = e.client.Capture(ctx, req, key("k1"))
	var ae *stripe.APIError
	if !errors.Is(err, connector.ErrConflict) || !errors.As(err, &ae) || ae.Type != "idempotency_error" {
		t.Errorf("key reused with another amount: %v", err)
	}

	// A new key on a captured intent: refused by state, and saved under
	// that key like any executed request.
	_, err = e.client.Capture(ctx, req, key("k2"))
	if !errors.Is(err, connector.ErrConflict) || connector.IsRetryable(err) {
		t.Errorf("capture of a captured intent: %v", err)
	}
	// Keys expire after 24 hours: the old key then starts afresh.
	e.fake.Advance(25 * time.Hour)
	_, err = e.client.Capture(ctx, req, key("k1"))
	if errors.As(err, &ae) && ae.Type == "idempotency_error" {
		t.Errorf("key still remembered after 25 h: %v", err)
	}
}

func TestCaptureLostAnswer(t *testing.T) {
	e := newEnv(t)
	pi := authorize(t, e, 10000, "sek", false)
	e.fake.Faults().Inject(fault.Fault{Kind: fault.LostAnswer})
	c, err := e.client.Capture(context.Background(), connector.CaptureRequest{PaymentReference: pi, Amount: money(t, "100.00", "SEK"), Final: true}, key("lost"))
	if err != nil {
		t.Fatalf("capture with a lost answer was not completed by its retry: %v", err)
	}
	if e.fake.Faults().Injected(fault.LostAnswer) != 1 || c.ID == "" {
		t.Errorf("fault not injected or no capture: %+v", c)
	}
	snap, _ := e.fake.PaymentIntent(pi)
	if snap.AmountReceived != 10000 || e.fake.BalanceTransactionCount() != 1 {
		t.Errorf("captured %d with %d ledger rows, want 10000 with 1", snap.AmountReceived, e.fake.BalanceTransactionCount())
	}
}

func TestCaptureKeyInFlight(t *testing.T) {
	e := newEnv(t)
	pi := authorize(t, e, 10000, "sek", false)
	req := connector.CaptureRequest{PaymentReference: pi, Amount: money(t, "100.00", "SEK"), Final: true}
	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	e.fake.SetApplyHook(func(*http.Request) {
		once.Do(func() { close(entered); <-release })
	})
	var wg sync.WaitGroup
	var first error
	wg.Go(func() { _, first = e.client.Capture(context.Background(), req, key("same")) })
	<-entered
	// While the first is in flight, the same key answers 409
	// idempotency_key_in_use; the client retries it and then reports a
	// retryable error.
	_, err := e.client.Capture(context.Background(), req, key("same"))
	if !errors.Is(err, connector.ErrTemporary) || !connector.IsRetryable(err) {
		t.Errorf("concurrent use of a key: %v", err)
	}
	var ae *stripe.APIError
	if !errors.As(err, &ae) || ae.Code != stripe.CodeIdempotencyKeyInUse {
		t.Errorf("not idempotency_key_in_use: %v", err)
	}
	close(release)
	wg.Wait()
	if first != nil {
		t.Fatal(first)
	}
	if _, err := e.client.Capture(context.Background(), req, key("same")); err != nil {
		t.Errorf("after the first finished, the key replays: %v", err)
	}
}

func TestCaptureAmounts(t *testing.T) {
	tests := []struct {
		name, amount, currency string
		authorized             int64
		sent                   string
		err                    error
	}{
		{"zero-decimal", "500", "JPY", 500, "500", nil},
		{"three-decimal ending in 0", "5.120", "KWD", 5120, "5120", nil},
		{"three-decimal not ending in 0", "5.125", "KWD", 5130, "", commerce.ErrInexact},
		{"ISK whole krónur", "40", "ISK", 4000, "4000", nil},
		{"ISK fraction", "40.10", "ISK", 4010, "", commerce.ErrInexact},
		{"MGA has no decimals at Stripe", "10.50", "MGA", 11, "", commerce.ErrInexact},
		{"sub-öre", "10.005", "SEK", 1001, "", commerce.ErrInexact},
		{"zero", "0", "SEK", 100, "", connector.ErrValidation},
		{"negative", "-1", "SEK", 100, "", connector.ErrValidation},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			pi := authorize(t, e, tt.authorized, tt.currency, false)
			d, _ := commerce.ParsePrice(tt.amount, tt.currency)
			n := len(e.fake.Requests())
			_, err := e.client.Capture(context.Background(), connector.CaptureRequest{PaymentReference: pi, Amount: d, Final: true}, key("k"))
			if tt.err != nil {
				if !errors.Is(err, tt.err) || !errors.Is(err, connector.ErrValidation) {
					t.Fatalf("error %v, want %v and validation", err, tt.err)
				}
				if len(e.fake.Requests()) != n {
					t.Error("a request was sent")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			reqs := e.fake.Requests()
			if got := reqs[len(reqs)-1].Params.Get("amount_to_capture"); got != tt.sent {
				t.Errorf("sent %s, want %s", got, tt.sent)
			}
		})
	}
}

func TestCaptureRefusals(t *testing.T) {
	ctx := context.Background()
	t.Run("more than authorized", func(t *testing.T) {
		e := newEnv(t)
		pi := authorize(t, e, 1000, "sek", false)
		_, err := e.client.Capture(ctx, connector.CaptureRequest{PaymentReference: pi, Amount: money(t, "10.01", "SEK")}, key("k"))
		var ce *connector.Error
		if !errors.As(err, &ce) || ce.Kind != connector.KindValidation || ce.Code != "amount_too_large" || ce.Field != "amount_to_capture" {
			t.Errorf("%v", err)
		}
	})
	t.Run("authorization expired", func(t *testing.T) {
		e := newEnv(t)
		pi := authorize(t, e, 1000, "sek", false)
		e.fake.Advance(8 * 24 * time.Hour)
		_, err := e.client.Capture(ctx, connector.CaptureRequest{PaymentReference: pi, Amount: money(t, "10.00", "SEK")}, key("k"))
		if !errors.Is(err, connector.ErrConflict) || !strings.Contains(err.Error(), "charge_expired_for_capture") {
			t.Errorf("%v", err)
		}
	})
	t.Run("unknown intent", func(t *testing.T) {
		e := newEnv(t)
		_, err := e.client.Capture(ctx, connector.CaptureRequest{PaymentReference: "pi_nope", Amount: money(t, "10.00", "SEK")}, key("k"))
		if !errors.Is(err, connector.ErrNotFound) {
			t.Errorf("%v", err)
		}
	})
	t.Run("non-final without multicapture at the account", func(t *testing.T) {
		e := newEnv(t, stripe.WithMulticapture())
		pi := authorize(t, e, 1000, "sek", false)
		_, err := e.client.Capture(ctx, connector.CaptureRequest{PaymentReference: pi, Amount: money(t, "5.00", "SEK")}, key("k"))
		var ce *connector.Error
		if !errors.As(err, &ce) || ce.Field != "final_capture" {
			t.Errorf("%v", err)
		}
	})
	t.Run("dry run", func(t *testing.T) {
		e := newEnv(t)
		pi := authorize(t, e, 1000, "sek", false)
		c, err := e.client.Capture(ctx, connector.CaptureRequest{PaymentReference: pi, Amount: money(t, "10.00", "SEK")}, key("k"), connector.WithDryRun())
		if err != nil || c.ID != "" || len(e.fake.Requests()) != 0 {
			t.Errorf("dry run: %+v %v, %d requests", c, err, len(e.fake.Requests()))
		}
	})
}

func TestPartialCaptureAndPaymentStates(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, stripe.WithMulticapture())
	status := func(pi string) commerce.Payment {
		t.Helper()
		p, err := e.client.Payment(ctx, pi)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Validate(); err != nil {
			t.Errorf("payment does not validate: %v", err)
		}
		return p
	}
	pi := authorize(t, e, 30000, "sek", true)
	p := status(pi)
	if p.Status != commerce.PaymentAuthorized || p.ExpiresAt == nil || !p.ExpiresAt.Equal(e.fake.Now().Add(7*24*time.Hour)) ||
		!p.Authorized.Equal(money(t, "300", "SEK")) || !p.Captured.IsZero() || p.OrderNumber != "1001" {
		t.Errorf("authorized: %+v", p)
	}
	if _, err := e.client.Capture(ctx, connector.CaptureRequest{PaymentReference: pi, Amount: money(t, "100", "SEK")}, key("c1")); err != nil {
		t.Fatal(err)
	}
	if p := status(pi); p.Status != commerce.PaymentPartiallyCaptured || !p.Captured.Equal(money(t, "100", "SEK")) {
		t.Errorf("after a non-final capture: %s %s", p.Status, p.Captured)
	}
	if _, err := e.client.Capture(ctx, connector.CaptureRequest{PaymentReference: pi, Amount: money(t, "150", "SEK"), Final: true}, key("c2")); err != nil {
		t.Fatal(err)
	}
	p = status(pi)
	if p.Status != commerce.PaymentCaptured || !p.Captured.Equal(money(t, "250", "SEK")) || len(p.Captures) != 1 || !p.Captures[0].Amount.Equal(money(t, "250", "SEK")) {
		t.Errorf("after the final capture: %+v", p)
	}
	if _, err := e.client.Refund(ctx, connector.RefundRequest{PaymentReference: pi, Amount: money(t, "50", "SEK")}, key("r1")); err != nil {
		t.Fatal(err)
	}
	if p := status(pi); p.Status != commerce.PaymentPartiallyRefunded || !p.Refunded.Equal(money(t, "50", "SEK")) || len(p.Refunds) != 1 {
		t.Errorf("after a partial refund: %+v", p)
	}
	if _, err := e.client.Refund(ctx, connector.RefundRequest{PaymentReference: pi, Amount: money(t, "200", "SEK")}, key("r2")); err != nil {
		t.Fatal(err)
	}
	if p := status(pi); p.Status != commerce.PaymentRefunded || !p.Refunded.Equal(money(t, "250", "SEK")) || len(p.Refunds) != 2 {
		t.Errorf("after refunding the rest: %+v", p)
	}

	// Multicapture, partly captured, then released: the rest is given back.
	pi2 := authorize(t, e, 30000, "sek", true)
	if _, err := e.client.Capture(ctx, connector.CaptureRequest{PaymentReference: pi2, Amount: money(t, "100", "SEK")}, key("c3")); err != nil {
		t.Fatal(err)
	}
	if err := e.client.ReleaseRemaining(ctx, pi2, key("rel-1")); err != nil {
		t.Fatal(err)
	}
	if p := status(pi2); p.Status != commerce.PaymentReleased {
		t.Errorf("released: %s", p.Status)
	}
	// Released again: nothing left, no error, no write.
	n := len(e.fake.Requests())
	if err := e.client.ReleaseRemaining(ctx, pi2, key("rel-2")); err != nil {
		t.Error(err)
	}
	for _, r := range e.fake.Requests()[n:] {
		if r.Method == http.MethodPost {
			t.Errorf("second release sent %s %s", r.Method, r.Path)
		}
	}
	pi3 := authorize(t, e, 1000, "sek", false)
	if err := e.client.ReleaseRemaining(ctx, pi3, key("rel-3")); err != nil {
		t.Fatal(err)
	}
	if p := status(pi3); p.Status != commerce.PaymentCancelled {
		t.Errorf("cancelled: %s", p.Status)
	}
	if _, err := e.client.Payment(ctx, "pi_missing"); !errors.Is(err, connector.ErrNotFound) {
		t.Errorf("missing payment: %v", err)
	}
}

func TestPartialCaptureWithoutMulticapture(t *testing.T) {
	// Capturing less than authorised is final: Stripe books the full
	// authorisation and a partial_capture_reversal of the rest.
	e := newEnv(t)
	ctx := context.Background()
	pi := authorize(t, e, 10000, "sek", false)
	if _, err := e.client.Capture(ctx, connector.CaptureRequest{PaymentReference: pi, Amount: money(t, "60", "SEK")}, key("c")); err != nil {
		t.Fatal(err)
	}
	p, err := e.client.Payment(ctx, pi)
	if err != nil {
		t.Fatal(err)
	}
	if p.Status != commerce.PaymentCaptured || !p.Captured.Equal(money(t, "60", "SEK")) {
		t.Errorf("%s %s", p.Status, p.Captured)
	}
	var cats []string
	for bt, err := range e.client.ListBalanceTransactions(ctx, nil) {
		if err != nil {
			t.Fatal(err)
		}
		cats = append(cats, bt.ReportingCategory)
	}
	if diff := cmp.Diff([]string{"partial_capture_reversal", "charge"}, cats); diff != "" {
		t.Errorf("ledger (-want +got):\n%s", diff)
	}
}

func TestRefund(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, stripe.WithOrderMetadataKeys("order_id", "order_number"))
	pi := authorize(t, e, 20000, "eur", false)
	c, err := e.client.Capture(ctx, connector.CaptureRequest{PaymentReference: pi, Amount: money(t, "200", "EUR"), Final: true}, key("c"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := e.client.Refund(ctx, connector.RefundRequest{PaymentReference: pi, OrderNumber: "1001", Amount: money(t, "25.50", "EUR"),
		Reason: "requested_by_customer", Reference: "RMA-7"}, key("refund-RMA-7"))
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Validate(); err != nil {
		t.Errorf("refund does not validate: %v", err)
	}
	want := commerce.Refund{ID: r.ID, OrderNumber: "1001", Provider: "stripe", PaymentReference: pi, CaptureID: c.ID,
		Amount: money(t, "25.50", "EUR"), Reason: "requested_by_customer", IdempotencyKey: "refund-RMA-7", CreatedAt: e.fake.Now()}
	if diff := cmp.Diff(want, r, cmpopts.IgnoreFields(commerce.Refund{}, "Origin")); diff != "" {
		t.Errorf("refund (-want +got):\n%s", diff)
	}
	reqs := e.fake.Requests()
	wantParams := map[string][]string{"payment_intent": {pi}, "amount": {"2550"}, "reason": {"requested_by_customer"},
		"metadata[order_id]": {"1001"}, "metadata[merchant_reference]": {"RMA-7"}}
	if diff := cmp.Diff(wantParams, map[string][]string(reqs[len(reqs)-1].Params)); diff != "" {
		t.Errorf("refund params (-want +got):\n%s", diff)
	}

	// A reason outside Stripe's list travels in metadata; refund by charge.
	r2, err := e.client.Refund(ctx, connector.RefundRequest{CaptureID: c.ID, Amount: money(t, "1", "EUR"), Reason: "damaged in transit"}, key("r2"))
	if err != nil {
		t.Fatal(err)
	}
	reqs = e.fake.Requests()
	last := reqs[len(reqs)-1].Params
	if last.Get("charge") != c.ID || last.Get("reason") != "" || last.Get("metadata[reason]") != "damaged in transit" || r2.PaymentReference != pi {
		t.Errorf("params %v, refund %+v", last, r2)
	}

	// Too much, and nothing to refund from.
	_, err = e.client.Refund(ctx, connector.RefundRequest{PaymentReference: pi, Amount: money(t, "1000", "EUR")}, key("r3"))
	if !errors.Is(err, connector.ErrValidation) || !strings.Contains(err.Error(), "amount_too_large") {
		t.Errorf("refund beyond the captured amount: %v", err)
	}
	pi2 := authorize(t, e, 1000, "eur", false)
	_, err = e.client.Refund(ctx, connector.RefundRequest{PaymentReference: pi2, Amount: money(t, "1", "EUR")}, key("r4"))
	if !errors.Is(err, connector.ErrConflict) {
		t.Errorf("refund of an uncaptured intent: %v", err)
	}
	_, err = e.client.Refund(ctx, connector.RefundRequest{Amount: money(t, "1", "EUR")}, key("r5"))
	if !errors.Is(err, connector.ErrValidation) {
		t.Errorf("refund of nothing: %v", err)
	}
	inexact, _ := commerce.ParsePrice("0.001", "EUR")
	_, err = e.client.Refund(ctx, connector.RefundRequest{PaymentReference: pi, Amount: inexact}, key("r6"))
	if !errors.Is(err, commerce.ErrInexact) {
		t.Errorf("inexact refund: %v", err)
	}
}
