package paypal_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/connector"
	"github.com/knyt/knyt/connector/fault"
	"github.com/knyt/knyt/paypal"
	"github.com/knyt/knyt/paypal/paypaltest"
)

func key(parts ...string) connector.CallOption {
	return connector.WithIdempotencyKey(connector.IdempotencyKey(parts...))
}

func TestCapture(t *testing.T) {
	tests := []struct {
		name       string
		amount     string // "" captures everything
		final      bool
		wantValue  string
		wantStatus string
	}{
		{"full", "", false, "100.00", paypal.AuthCaptured},
		{"partial", "40.00", false, "40.00", paypal.AuthPartiallyCaptured},
		{"partial and final", "40.00", true, "40.00", paypal.AuthCaptured},
		{"exact amount", "100.00", false, "100.00", paypal.AuthCaptured},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			id := e.authorize(t, "100.00", "USD")
			req := connector.CaptureRequest{PaymentReference: id, OrderNumber: "1001", Final: tt.final}
			if tt.amount != "" {
				req.Amount = money(t, tt.amount, "USD")
			}
			c, err := e.client.Capture(t.Context(), req, key("t", id))
			if err != nil {
				t.Fatal(err)
			}
			if !c.Amount.Equal(money(t, tt.wantValue, "USD")) || c.PaymentReference != id || c.ID == "" || c.Source.ID != c.ID {
				t.Errorf("capture %+v", c)
			}
			if !c.CreatedAt.Equal(start) {
				t.Errorf("created %v, want %v", c.CreatedAt, start)
			}
			caps := e.fake.Captures()
			if len(caps) != 1 || caps[0].Value != tt.wantValue || caps[0].Final != tt.final || caps[0].ID != c.ID {
				t.Errorf("fake captured %+v", caps)
			}
			if a, _ := e.fake.AuthorizationState(id); a.Status != tt.wantStatus {
				t.Errorf("authorization %s, want %s", a.Status, tt.wantStatus)
			}
			if err := c.Validate(); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestWritesRequireAKey(t *testing.T) {
	e := newEnv(t, nil)
	id := e.authorize(t, "10.00", "USD")
	_, err := e.client.Capture(t.Context(), connector.CaptureRequest{PaymentReference: id, Amount: money(t, "1.00", "USD")})
	if !errors.Is(err, connector.ErrValidation) {
		t.Errorf("capture without key: %v, want ErrValidation", err)
	}
	_, err = e.client.Refund(t.Context(), connector.RefundRequest{CaptureID: "X", Amount: money(t, "1.00", "USD")})
	if !errors.Is(err, connector.ErrValidation) {
		t.Errorf("refund without key: %v, want ErrValidation", err)
	}
	if _, err := e.client.CaptureAuthorization(t.Context(), id, paypal.CaptureRequest{}, ""); !errors.Is(err, connector.ErrValidation) {
		t.Errorf("low-level capture without request id: %v, want ErrValidation", err)
	}
	if n := len(e.fake.Requests()); n != 0 {
		t.Errorf("%d requests reached PayPal", n)
	}
}

func TestCaptureSameKeyCapturesOnce(t *testing.T) {
	e := newEnv(t, nil)
	id := e.authorize(t, "100.00", "USD")
	req := connector.CaptureRequest{PaymentReference: id, Amount: money(t, "30.00", "USD")}
	first, err := e.client.Capture(t.Context(), req, key("delivery", "D1"))
	if err != nil {
		t.Fatal(err)
	}
	again, err := e.client.Capture(t.Context(), req, key("delivery", "D1"))
	if err != nil {
		t.Fatal(err)
	}
	if first.ID != again.ID {
		t.Errorf("ids %s and %s", first.ID, again.ID)
	}
	if n := len(e.fake.Captures()); n != 1 {
		t.Errorf("%d captures, want 1", n)
	}
}

func TestCaptureLostAnswerRetriedWithKey(t *testing.T) {
	e := newEnv(t, nil)
	id := e.authorize(t, "100.00", "USD")
	e.fake.Faults().Inject(fault.Fault{Kind: fault.LostAnswer, Match: func(r *http.Request) bool { return strings.HasSuffix(r.URL.Path, "/capture") }})
	c, err := e.client.Capture(t.Context(), connector.CaptureRequest{PaymentReference: id, Amount: money(t, "100.00", "USD")}, key("lost", id))
	if err != nil {
		t.Fatalf("capture whose first answer was lost: %v", err)
	}
	caps := e.fake.Captures()
	if len(caps) != 1 || caps[0].ID != c.ID {
		t.Errorf("captures %+v, want exactly the one returned (%s)", caps, c.ID)
	}
	var replayed int
	for _, r := range e.fake.Requests() {
		if r.Replayed {
			replayed++
		}
	}
	if replayed != 1 {
		t.Errorf("%d replayed requests, want 1", replayed)
	}
}

func TestCaptureConcurrentSameKey(t *testing.T) {
	e := newEnv(t, []paypaltest.Option{paypaltest.WithProcessingDelay(30 * time.Millisecond)}, paypal.WithReauthorization(false))
	id := e.authorize(t, "100.00", "USD")
	req := connector.CaptureRequest{PaymentReference: id, Amount: money(t, "100.00", "USD")}
	var ids []string
	for _, err := range parallel(2, func() error {
		c, err := e.client.Capture(t.Context(), req, key("same", id))
		if err == nil {
			ids = append(ids, c.ID)
		}
		return err
	}) {
		if err != nil && (!errors.Is(err, connector.ErrTemporary) || paypal.Issue(err) != "PREVIOUS_REQUEST_IN_PROGRESS") {
			t.Errorf("concurrent capture: %v", err)
		}
	}
	if n := len(e.fake.Captures()); n != 1 {
		t.Errorf("%d captures, want 1", n)
	}
	// Repeating afterwards gives the one capture.
	c, err := e.client.Capture(t.Context(), req, key("same", id))
	if err != nil || c.ID != e.fake.Captures()[0].ID {
		t.Errorf("repeat: %v, %v", c.ID, err)
	}
}

func TestReauthorizeAfterHonorPeriod(t *testing.T) {
	e := newEnv(t, nil)
	id := e.authorize(t, "100.00", "EUR")
	e.fake.Advance(4 * 24 * time.Hour)
	req := connector.CaptureRequest{PaymentReference: id, Amount: money(t, "60.00", "EUR")}
	c, err := e.client.Capture(t.Context(), req, key("d1"))
	if err != nil {
		t.Fatal(err)
	}
	orig, _ := e.fake.AuthorizationState(id)
	if orig.ReauthorizedAs == "" {
		t.Fatalf("authorization was not reauthorized: %+v", orig)
	}
	caps := e.fake.Captures()
	if len(caps) != 1 || caps[0].AuthorizationID != orig.ReauthorizedAs {
		t.Fatalf("captures %+v, want one on %s", caps, orig.ReauthorizedAs)
	}
	if c.PaymentReference != id {
		t.Errorf("capture reports payment %s, want the caller's %s", c.PaymentReference, id)
	}
	// A retry after a crash finds the same reauthorization and capture.
	again, err := e.client.Capture(t.Context(), req, key("d1"))
	if err != nil || again.ID != c.ID {
		t.Fatalf("retry: %v, %v", again.ID, err)
	}
	// The next delivery captures the rest from the new authorization.
	if _, err := e.client.Capture(t.Context(), connector.CaptureRequest{PaymentReference: id, Amount: money(t, "40.00", "EUR"), Final: true}, key("d2")); err != nil {
		t.Fatal(err)
	}
	if n := len(e.fake.Captures()); n != 2 {
		t.Errorf("%d captures, want 2", n)
	}
	reauths := 0
	for _, r := range e.fake.Requests() {
		if strings.HasSuffix(r.Path, "/reauthorize") && !r.Replayed {
			reauths++
		}
	}
	if reauths != 1 {
		t.Errorf("%d reauthorizations applied, want 1", reauths)
	}
	p, err := e.client.Payment(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if p.Status != commerce.PaymentCaptured || !p.Captured.Equal(money(t, "100.00", "EUR")) {
		t.Errorf("payment %s captured %s", p.Status, p.Captured)
	}
}

func TestNoReauthorizationInsideHonorPeriodOrWhenOff(t *testing.T) {
	for _, tt := range []struct {
		name    string
		advance time.Duration
		opts    []paypal.Option
	}{
		{"day two", 2 * 24 * time.Hour, nil},
		{"turned off", 5 * 24 * time.Hour, []paypal.Option{paypal.WithReauthorization(false)}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil, tt.opts...)
			id := e.authorize(t, "100.00", "EUR")
			e.fake.Advance(tt.advance)
			if _, err := e.client.Capture(t.Context(), connector.CaptureRequest{PaymentReference: id, Amount: money(t, "10.00", "EUR")}, key("x")); err != nil {
				t.Fatal(err)
			}
			if a, _ := e.fake.AuthorizationState(id); a.ReauthorizedAs != "" {
				t.Errorf("reauthorized")
			}
		})
	}
}

func TestCaptureRefused(t *testing.T) {
	e := newEnv(t, nil)
	ctx := t.Context()

	id := e.authorize(t, "100.00", "USD")
	_, err := e.client.Capture(ctx, connector.CaptureRequest{PaymentReference: id, Amount: money(t, "150.00", "USD")}, key("over"))
	checkIssue(t, "over-capture", err, connector.ErrValidation, "MAX_CAPTURE_AMOUNT_EXCEEDED")

	_, err = e.client.Capture(ctx, connector.CaptureRequest{PaymentReference: id, Amount: money(t, "10.00", "EUR")}, key("cur"))
	checkIssue(t, "currency", err, connector.ErrValidation, "AUTH_CAPTURE_CURRENCY_MISMATCH")

	if _, err := e.client.Capture(ctx, connector.CaptureRequest{PaymentReference: id, Final: true, Amount: money(t, "10.00", "USD")}, key("final")); err != nil {
		t.Fatal(err)
	}
	_, err = e.client.Capture(ctx, connector.CaptureRequest{PaymentReference: id, Amount: money(t, "10.00", "USD")}, key("after final"))
	checkIssue(t, "after a final capture", err, connector.ErrConflict, "AUTHORIZATION_ALREADY_CAPTURED")

	_, err = e.client.Capture(ctx, connector.CaptureRequest{PaymentReference: "NOSUCHAUTH", Amount: money(t, "10.00", "USD")}, key("missing"))
	checkIssue(t, "unknown authorization", err, connector.ErrNotFound, "INVALID_RESOURCE_ID")

	old := e.authorize(t, "10.00", "USD")
	e.fake.Advance(30 * 24 * time.Hour)
	_, err = e.client.Capture(ctx, connector.CaptureRequest{PaymentReference: old, Amount: money(t, "10.00", "USD")}, key("expired"))
	checkIssue(t, "after day 29", err, connector.ErrPermanent, "AUTHORIZATION_EXPIRED")

	before := len(e.fake.Requests())
	huf := e.authorize(t, "1000", "HUF")
	_, err = e.client.Capture(ctx, connector.CaptureRequest{PaymentReference: huf, Amount: money(t, "10.50", "HUF")}, key("huf"))
	if !errors.Is(err, connector.ErrValidation) || !errors.Is(err, commerce.ErrInexact) {
		t.Errorf("HUF with decimals: %v, want a validation error wrapping ErrInexact", err)
	}
	if n := len(e.fake.Requests()); n != before {
		t.Errorf("an inexact amount reached PayPal")
	}
	_, err = e.client.Capture(ctx, connector.CaptureRequest{PaymentReference: huf, Amount: money(t, "-5", "HUF")}, key("neg"))
	if !errors.Is(err, connector.ErrValidation) {
		t.Errorf("negative amount: %v", err)
	}
}

func checkIssue(t *testing.T, what string, err, want error, issue string) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: %v, want %v", what, err, want)
	}
	if got := paypal.Issue(err); got != issue {
		t.Errorf("%s: issue %q, want %q", what, got, issue)
	}
	var ce *connector.Error
	if errors.As(err, &ce) && (ce.System != "paypal" || ce.Op == "") {
		t.Errorf("%s: error names %q/%q", what, ce.System, ce.Op)
	}
}

func TestZeroDecimalCurrencies(t *testing.T) {
	for _, cur := range []string{"JPY", "HUF", "TWD"} {
		t.Run(cur, func(t *testing.T) {
			e := newEnv(t, nil)
			id := e.authorize(t, "12000", cur)
			c, err := e.client.Capture(t.Context(), connector.CaptureRequest{PaymentReference: id, Amount: money(t, "10000", cur)}, key(cur))
			if err != nil {
				t.Fatal(err)
			}
			if caps := e.fake.Captures(); caps[0].Value != "10000" {
				t.Errorf("sent %q", caps[0].Value)
			}
			r, err := e.client.Refund(t.Context(), connector.RefundRequest{CaptureID: c.ID, OrderNumber: "1", Amount: money(t, "2500", cur)}, key(cur, "r"))
			if err != nil {
				t.Fatal(err)
			}
			if !r.Amount.Equal(money(t, "2500", cur)) {
				t.Errorf("refund %v", r.Amount)
			}
		})
	}
}

func TestRefund(t *testing.T) {
	e := newEnv(t, nil)
	ctx := t.Context()
	id := e.authorize(t, "100.00", "SEK")
	c, err := e.client.Capture(ctx, connector.CaptureRequest{PaymentReference: id}, key("cap"))
	if err != nil {
		t.Fatal(err)
	}
	req := connector.RefundRequest{PaymentReference: id, CaptureID: c.ID, OrderNumber: "1001", Amount: money(t, "25.00", "SEK"), Reason: "Returned: wrong size", Reference: "CN-7"}
	r, err := e.client.Refund(ctx, req, key("return", "R1"))
	if err != nil {
		t.Fatal(err)
	}
	again, err := e.client.Refund(ctx, req, key("return", "R1"))
	if err != nil || again.ID != r.ID {
		t.Fatalf("repeat: %v %v", again.ID, err)
	}
	got := e.fake.Refunds()
	want := []paypaltest.RefundRecord{{ID: r.ID, CaptureID: c.ID, Currency: "SEK", Value: "25.00", FeeReturned: "0.87", Status: "COMPLETED",
		InvoiceID: "CN-7", CustomID: "1001", Note: "Returned: wrong size", RequestID: connector.IdempotencyKey("return", "R1"), At: start}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("refunds at PayPal (-want +got):\n%s", diff)
	}
	if r.Note != "Returned: wrong size" || r.CaptureID != c.ID || !r.Amount.Equal(money(t, "25.00", "SEK")) {
		t.Errorf("refund %+v", r)
	}

	_, err = e.client.Refund(ctx, connector.RefundRequest{CaptureID: c.ID, Amount: money(t, "80.00", "SEK")}, key("too much"))
	checkIssue(t, "refund over the rest", err, connector.ErrValidation, "REFUND_AMOUNT_EXCEEDED")

	// Without a capture id the payment's only capture is refunded; without
	// an amount, all that remains.
	rest, err := e.client.Refund(ctx, connector.RefundRequest{PaymentReference: id, OrderNumber: "1001"}, key("rest"))
	if err != nil {
		t.Fatal(err)
	}
	if rest.CaptureID != c.ID || !rest.Amount.Equal(money(t, "75.00", "SEK")) {
		t.Errorf("rest %+v", rest)
	}
	_, err = e.client.Refund(ctx, connector.RefundRequest{CaptureID: c.ID, Amount: money(t, "1.00", "SEK")}, key("after full"))
	checkIssue(t, "refund of a refunded capture", err, connector.ErrConflict, "CAPTURE_FULLY_REFUNDED")

	p, err := e.client.Payment(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if p.Status != commerce.PaymentRefunded || !p.Refunded.Equal(money(t, "100.00", "SEK")) || len(p.Refunds) != 2 {
		t.Errorf("payment %s refunded %s with %d refunds", p.Status, p.Refunded, len(p.Refunds))
	}
}

func TestRefundNeedsCaptureWhenSeveral(t *testing.T) {
	e := newEnv(t, nil)
	id := e.authorize(t, "100.00", "SEK")
	for _, k := range []string{"a", "b"} {
		if _, err := e.client.Capture(t.Context(), connector.CaptureRequest{PaymentReference: id, Amount: money(t, "10.00", "SEK")}, key(k)); err != nil {
			t.Fatal(err)
		}
	}
	_, err := e.client.Refund(t.Context(), connector.RefundRequest{PaymentReference: id, Amount: money(t, "1.00", "SEK")}, key("r"))
	if !errors.Is(err, connector.ErrValidation) {
		t.Errorf("got %v, want ErrValidation", err)
	}
	if n := len(e.fake.Refunds()); n != 0 {
		t.Errorf("%d refunds", n)
	}
}

func TestPaymentStatus(t *testing.T) {
	tests := []struct {
		name     string
		do       func(t *testing.T, e *env, id string)
		status   commerce.PaymentStatus
		captured string
		refunded string
	}{
		{"authorized", func(*testing.T, *env, string) {}, commerce.PaymentAuthorized, "0.00", "0.00"},
		{"partially captured", func(t *testing.T, e *env, id string) { e.capture(t, id, "30.00", false) }, commerce.PaymentPartiallyCaptured, "30.00", "0.00"},
		{"captured", func(t *testing.T, e *env, id string) { e.capture(t, id, "100.00", false) }, commerce.PaymentCaptured, "100.00", "0.00"},
		{"partial then rest released", func(t *testing.T, e *env, id string) {
			e.capture(t, id, "30.00", false)
			if err := e.client.ReleaseRemaining(t.Context(), id); err != nil {
				t.Fatal(err)
			}
		}, commerce.PaymentCaptured, "30.00", "0.00"},
		{"released untouched", func(t *testing.T, e *env, id string) {
			if err := e.client.ReleaseRemaining(t.Context(), id); err != nil {
				t.Fatal(err)
			}
			if err := e.client.ReleaseRemaining(t.Context(), id); err != nil {
				t.Fatalf("second release: %v", err)
			}
		}, commerce.PaymentCancelled, "0.00", "0.00"},
		{"partially refunded", func(t *testing.T, e *env, id string) {
			c := e.capture(t, id, "100.00", true)
			if _, err := e.client.Refund(t.Context(), connector.RefundRequest{CaptureID: c, Amount: money(t, "10.00", "USD")}, key("r")); err != nil {
				t.Fatal(err)
			}
		}, commerce.PaymentPartiallyRefunded, "100.00", "10.00"},
		{"expired", func(t *testing.T, e *env, id string) { e.fake.Advance(30 * 24 * time.Hour) }, commerce.PaymentExpired, "0.00", "0.00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			id := e.authorize(t, "100.00", "USD")
			tt.do(t, e, id)
			p, err := e.client.Payment(t.Context(), id)
			if err != nil {
				t.Fatal(err)
			}
			if p.Status != tt.status || !p.Captured.Equal(money(t, tt.captured, "USD")) || !p.Refunded.Equal(money(t, tt.refunded, "USD")) {
				t.Errorf("status %s captured %s refunded %s, want %s %s %s", p.Status, p.Captured, p.Refunded, tt.status, tt.captured, tt.refunded)
			}
			if p.Reference != id || p.OrderNumber != "1001" || !p.Authorized.Equal(money(t, "100.00", "USD")) || len(p.Raw) == 0 {
				t.Errorf("payment %+v", p)
			}
			if err := p.Validate(); err != nil {
				t.Error(err)
			}
		})
	}
}

func (e *env) capture(t *testing.T, id, amount string, final bool) string {
	t.Helper()
	c, err := e.client.Capture(t.Context(), connector.CaptureRequest{PaymentReference: id, Amount: money(t, amount, "USD"), Final: final}, key("cap", id, amount))
	if err != nil {
		t.Fatal(err)
	}
	return c.ID
}

func TestEveryPostCarriesRequestIDAndPrefer(t *testing.T) {
	e := newEnv(t, nil)
	id := e.authorize(t, "100.00", "USD")
	e.fake.Advance(4 * 24 * time.Hour)
	c := e.capture(t, id, "50.00", false)
	if _, err := e.client.Refund(t.Context(), connector.RefundRequest{CaptureID: c, Amount: money(t, "5.00", "USD")}, key("r")); err != nil {
		t.Fatal(err)
	}
	if err := e.client.ReleaseRemaining(t.Context(), id); err != nil && !errors.Is(err, connector.ErrConflict) {
		t.Fatal(err)
	}
	posts := 0
	for _, r := range e.fake.Requests() {
		if r.Method != http.MethodPost {
			continue
		}
		posts++
		if r.RequestID == "" || r.Prefer != "return=representation" {
			t.Errorf("%s %s: PayPal-Request-Id %q, Prefer %q", r.Method, r.Path, r.RequestID, r.Prefer)
		}
	}
	if posts < 4 {
		t.Errorf("only %d POSTs seen", posts)
	}
}

func TestDryRunSendsNothing(t *testing.T) {
	e := newEnv(t, nil)
	id := e.authorize(t, "100.00", "USD")
	c, err := e.client.Capture(t.Context(), connector.CaptureRequest{PaymentReference: id, Amount: money(t, "5.00", "USD")}, key("dry"), connector.WithDryRun())
	if err != nil || c.ID != "" || !c.Amount.Equal(money(t, "5.00", "USD")) {
		t.Errorf("dry capture %+v %v", c, err)
	}
	if _, err := e.client.Refund(t.Context(), connector.RefundRequest{CaptureID: "X", Amount: money(t, "5.00", "USD")}, key("dry"), connector.WithDryRun()); err != nil {
		t.Error(err)
	}
	if err := e.client.ReleaseRemaining(t.Context(), id, connector.WithDryRun()); err != nil {
		t.Error(err)
	}
	if n := len(e.fake.Requests()); n != 0 {
		t.Errorf("%d requests in dry run", n)
	}
}
