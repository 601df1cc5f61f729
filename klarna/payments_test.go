package klarna_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/shopspring/decimal"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/connector"
	"github.com/knyt/knyt/connector/fault"
	"github.com/knyt/knyt/klarna"
	"github.com/knyt/knyt/klarna/klarnatest"
)

func sek(minor int64) commerce.Money { return commerce.FromMinor(minor, commerce.SEK) }

func key(parts ...string) connector.CallOption {
	return connector.WithIdempotencyKey(connector.IdempotencyKey(parts...))
}

func TestCaptureRefundReleaseLifecycle(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	id := f.order(t, 100000, "1001")

	cp, err := f.c.Capture(ctx, connector.CaptureRequest{PaymentReference: id, OrderNumber: "1001", Amount: sek(40000), Reference: "delivery-1"}, key("capture", id, "d1"))
	if err != nil {
		t.Fatal(err)
	}
	if cp.ID == "" || !cp.Amount.Equal(sek(40000)) || cp.Reference != "delivery-1" || cp.PaymentReference != id || !cp.CreatedAt.Equal(start) {
		t.Fatalf("capture = %+v", cp)
	}

	p, err := f.c.Payment(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	want := commerce.Payment{
		Provider: "klarna", Reference: id, OrderNumber: "1001", Status: commerce.PaymentPartiallyCaptured,
		Authorized: sek(100000), Captured: sek(40000), Refunded: sek(0),
	}
	opts := cmp.Options{cmpopts.IgnoreFields(commerce.Payment{}, "Origin", "ExpiresAt", "Captures", "Refunds")}
	if d := cmp.Diff(want, p, opts); d != "" {
		t.Errorf("payment after capture (-want +got):\n%s", d)
	}
	if rem, _ := p.Remaining(); !rem.Equal(sek(60000)) {
		t.Errorf("remaining = %s", rem)
	}
	if p.ExpiresAt == nil || !p.ExpiresAt.Equal(start.Add(28*24*time.Hour)) {
		t.Errorf("expires_at = %v", p.ExpiresAt)
	}
	if len(p.Captures) != 1 || p.Captures[0].ID != cp.ID || p.Captures[0].Reference != "delivery-1" {
		t.Errorf("captures = %+v", p.Captures)
	}

	rf, err := f.c.Refund(ctx, connector.RefundRequest{PaymentReference: id, Amount: sek(15000), Reason: "returned", Reference: "return-1"}, key("refund", id, "r1"))
	if err != nil {
		t.Fatal(err)
	}
	if rf.ID == "" || !rf.Amount.Equal(sek(15000)) || rf.OrderNumber != "1001" {
		t.Fatalf("refund = %+v", rf)
	}

	if err := f.c.ReleaseRemaining(ctx, id, key("release", id)); err != nil {
		t.Fatal(err)
	}
	p, err = f.c.Payment(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	want.Status, want.Authorized, want.Refunded = commerce.PaymentPartiallyRefunded, sek(40000), sek(15000)
	if d := cmp.Diff(want, p, opts); d != "" {
		t.Errorf("payment after refund and release (-want +got):\n%s", d)
	}
	if rem, _ := p.Remaining(); !rem.IsZero() {
		t.Errorf("remaining after release = %s", rem)
	}
	if len(p.Refunds) != 1 || p.Refunds[0].Reason != "returned" || p.Refunds[0].Note != "return-1" {
		t.Errorf("refunds = %+v", p.Refunds)
	}
	if err := p.Validate(); err != nil {
		t.Errorf("payment does not validate: %v", err)
	}
	// Releasing again with a new key: nothing is left, which is what was
	// asked for.
	if err := f.c.ReleaseRemaining(ctx, id, key("release", id, "again")); err != nil {
		t.Errorf("second release: %v", err)
	}
}

func TestPaymentStatuses(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	full := f.order(t, 5000, "a")
	if _, err := f.c.Capture(ctx, connector.CaptureRequest{PaymentReference: full, Amount: sek(5000)}, key("c", full)); err != nil {
		t.Fatal(err)
	}
	refunded := f.order(t, 5000, "b")
	if _, err := f.c.Capture(ctx, connector.CaptureRequest{PaymentReference: refunded, Amount: sek(5000)}, key("c", refunded)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.c.Refund(ctx, connector.RefundRequest{PaymentReference: refunded, Amount: sek(5000)}, key("r", refunded)); err != nil {
		t.Fatal(err)
	}
	released := f.order(t, 5000, "c")
	if _, err := f.c.Capture(ctx, connector.CaptureRequest{PaymentReference: released, Amount: sek(2000), Final: true}, key("c", released)); err != nil {
		t.Fatal(err)
	}
	cancelled := f.order(t, 5000, "d")
	if err := f.c.CancelOrder(ctx, cancelled, "cancel-d"); err != nil {
		t.Fatal(err)
	}
	authorized := f.order(t, 5000, "e")
	expired, err := f.srv.AddOrder(klarnatest.NewOrder{Amount: 5000, ExpiresAt: start.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	f.srv.Advance(2 * time.Hour)

	for _, tc := range []struct {
		id   string
		want commerce.PaymentStatus
	}{
		{full, commerce.PaymentCaptured}, {refunded, commerce.PaymentRefunded}, {released, commerce.PaymentReleased},
		{cancelled, commerce.PaymentCancelled}, {authorized, commerce.PaymentAuthorized}, {expired, commerce.PaymentExpired},
	} {
		p, err := f.c.Payment(ctx, tc.id)
		if err != nil {
			t.Fatal(err)
		}
		if p.Status != tc.want {
			t.Errorf("order %s: status %s, want %s", tc.id, p.Status, tc.want)
		}
	}
}

// TestCaptureLostAnswerCapturesOnce is the exactly-once guarantee: the
// capture is applied but its answer never arrives; the transport retries
// with the same key and Klarna (the fake) replays the first answer.
func TestCaptureLostAnswerCapturesOnce(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	id := f.order(t, 100000, "1002")
	f.srv.Faults().Inject(fault.Fault{Kind: fault.LostAnswer, Match: func(r *http.Request) bool {
		return r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/captures")
	}})
	req := connector.CaptureRequest{PaymentReference: id, Amount: sek(30000)}
	k := key("capture", id, "delivery-7")
	cp, err := f.c.Capture(ctx, req, k)
	if err != nil {
		t.Fatal(err)
	}
	if f.srv.Faults().Injected(fault.LostAnswer) != 1 {
		t.Fatal("the lost answer was not injected")
	}
	// The caller, not knowing, repeats the whole operation after a crash.
	again, err := f.c.Capture(ctx, req, k)
	if err != nil {
		t.Fatal(err)
	}
	if again.ID != cp.ID {
		t.Errorf("repeat returned capture %s, first %s", again.ID, cp.ID)
	}
	o, _ := f.srv.Order(id)
	if len(o.Captures) != 1 || o.CapturedAmount != 30000 {
		t.Errorf("order has %d captures of %d in total, want one of 30000", len(o.Captures), o.CapturedAmount)
	}
	if got := f.srv.Calls("captureOrder"); got != 1 {
		t.Errorf("captureOrder executed %d times", got)
	}
	if got := f.srv.Replays(); got != 2 {
		t.Errorf("replays = %d, want 2 (the transport's retry and the repeat)", got)
	}
}

func TestIdempotencyWindow(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	id := f.order(t, 100000, "1003")
	req := connector.CaptureRequest{PaymentReference: id, Amount: sek(1000)}
	first, err := f.c.Capture(ctx, req, connector.WithIdempotencyKey("same-key"))
	if err != nil {
		t.Fatal(err)
	}
	f.srv.Advance(23 * time.Hour)
	replay, err := f.c.Capture(ctx, req, connector.WithIdempotencyKey("same-key"))
	if err != nil || replay.ID != first.ID {
		t.Fatalf("within 24 h: %v, id %s vs %s", err, replay.ID, first.ID)
	}
	f.srv.Advance(2 * time.Hour)
	later, err := f.c.Capture(ctx, req, connector.WithIdempotencyKey("same-key"))
	if err != nil {
		t.Fatal(err)
	}
	if later.ID == first.ID {
		t.Error("after 24 h the key still replayed")
	}
}

func TestCaptureRefusals(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)

	over := f.order(t, 10000, "over")
	expiring, err := f.srv.AddOrder(klarnatest.NewOrder{Amount: 10000, ExpiresAt: start.Add(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	cancelled := f.order(t, 10000, "cancelled")
	if err := f.c.CancelOrder(ctx, cancelled, "cancel"); err != nil {
		t.Fatal(err)
	}
	reused := f.order(t, 10000, "reused")
	if _, err := f.c.Capture(ctx, connector.CaptureRequest{PaymentReference: reused, Amount: sek(1000)}, connector.WithIdempotencyKey("k-reused")); err != nil {
		t.Fatal(err)
	}
	f.srv.Advance(2 * time.Minute)

	for _, tc := range []struct {
		name      string
		req       connector.CaptureRequest
		opts      []connector.CallOption
		kind      connector.Kind
		is        error
		field     string
		contains  string
		sentCount int // captureOrder executions this case causes
	}{
		{name: "over remaining", req: connector.CaptureRequest{PaymentReference: over, Amount: sek(10001)},
			kind: connector.KindConflict, field: "amount", contains: "exceeds the remaining authorized 100.00 SEK", sentCount: 1},
		{name: "expired", req: connector.CaptureRequest{PaymentReference: expiring, Amount: sek(100)},
			kind: connector.KindConflict, contains: "expired at 2026-03-02T09:01:00Z", sentCount: 1},
		{name: "cancelled", req: connector.CaptureRequest{PaymentReference: cancelled, Amount: sek(100)},
			kind: connector.KindConflict, contains: "is cancelled", sentCount: 1},
		{name: "unknown order", req: connector.CaptureRequest{PaymentReference: "0b6b8f3e-0000-4000-a000-000000000000", Amount: sek(100)},
			kind: connector.KindNotFound},
		{name: "no key", req: connector.CaptureRequest{PaymentReference: over, Amount: sek(100)}, opts: []connector.CallOption{},
			kind: connector.KindValidation, is: klarna.ErrIdempotencyKeyRequired, field: "idempotency_key"},
		{name: "currency mismatch", req: connector.CaptureRequest{PaymentReference: over, Amount: commerce.FromMinor(100, commerce.EUR)},
			kind: connector.KindValidation, is: commerce.ErrCurrencyMismatch, field: "amount", contains: "in EUR but the Klarna order is in SEK"},
		{name: "not whole minor units", req: connector.CaptureRequest{PaymentReference: over, Amount: commerce.NewMoney(decimal.RequireFromString("12.345"), commerce.SEK)},
			kind: connector.KindValidation, is: commerce.ErrInexact, field: "amount"},
		{name: "zero", req: connector.CaptureRequest{PaymentReference: over, Amount: sek(0)}, kind: connector.KindValidation, field: "amount", contains: "must be positive"},
		{name: "bad id", req: connector.CaptureRequest{PaymentReference: "a/b?c", Amount: sek(1)}, kind: connector.KindValidation, field: "payment_reference"},
		{name: "key reused for another amount", req: connector.CaptureRequest{PaymentReference: reused, Amount: sek(2000)},
			opts: []connector.CallOption{connector.WithIdempotencyKey("k-reused")}, kind: connector.KindConflict, field: "idempotency_key", contains: "already used"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := f.srv.Calls("captureOrder")
			opts := tc.opts
			if opts == nil {
				opts = []connector.CallOption{key("capture", tc.name)}
			}
			_, err := f.c.Capture(ctx, tc.req, opts...)
			if err == nil {
				t.Fatal("no error")
			}
			var ce *connector.Error
			if !errors.As(err, &ce) {
				t.Fatalf("%T is not a *connector.Error: %v", err, err)
			}
			if ce.Kind != tc.kind || ce.System != "klarna" {
				t.Errorf("kind %v system %q, want %v: %v", ce.Kind, ce.System, tc.kind, err)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("errors.Is(%v) false: %v", tc.is, err)
			}
			if ce.Field != tc.field {
				t.Errorf("field %q, want %q: %v", ce.Field, tc.field, err)
			}
			if !strings.Contains(err.Error(), tc.contains) {
				t.Errorf("error %q does not say %q", err, tc.contains)
			}
			if got := f.srv.Calls("captureOrder") - before; got != tc.sentCount {
				t.Errorf("captureOrder executed %d times, want %d", got, tc.sentCount)
			}
		})
	}
}

func TestRefundAndReleaseRefusals(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	id := f.order(t, 10000, "r")
	if _, err := f.c.Capture(ctx, connector.CaptureRequest{PaymentReference: id, Amount: sek(6000)}, key("c", id)); err != nil {
		t.Fatal(err)
	}
	_, err := f.c.Refund(ctx, connector.RefundRequest{PaymentReference: id, Amount: sek(6001)}, key("r", id))
	if connector.KindOf(err) != connector.KindConflict || !strings.Contains(err.Error(), "exceeds the 60.00 SEK captured and not yet refunded") {
		t.Errorf("over-refund: %v", err)
	}
	_, err = f.c.Refund(ctx, connector.RefundRequest{PaymentReference: id, Amount: sek(100)})
	if !errors.Is(err, klarna.ErrIdempotencyKeyRequired) {
		t.Errorf("refund without key: %v", err)
	}
	_, err = f.c.Refund(ctx, connector.RefundRequest{PaymentReference: id, Amount: commerce.FromMinor(100, commerce.NOK)}, key("r2"))
	if !errors.Is(err, commerce.ErrCurrencyMismatch) || connector.KindOf(err) != connector.KindValidation {
		t.Errorf("refund in NOK: %v", err)
	}

	fresh := f.order(t, 10000, "fresh")
	err = f.c.ReleaseRemaining(ctx, fresh, key("rel", fresh))
	if connector.KindOf(err) != connector.KindConflict || !strings.Contains(err.Error(), "cancel it instead") {
		t.Errorf("release without captures: %v", err)
	}
	if err := f.c.ReleaseRemaining(ctx, fresh); !errors.Is(err, klarna.ErrIdempotencyKeyRequired) {
		t.Errorf("release without key: %v", err)
	}
	err = f.c.ReleaseRemaining(ctx, "2c1a3a3e-0000-4000-a000-000000000000", key("rel", "x"))
	if !errors.Is(err, connector.ErrNotFound) {
		t.Errorf("release of unknown order: %v", err)
	}
}

func TestCaptureAndRefundLines(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	id := f.order(t, 60000, "lines")
	line := commerce.Line{
		SKU: "TSHIRT-M", Title: "T-shirt", Quantity: 2, UnitPrice: sek(25000),
		Discounts: []commerce.DiscountAllocation{{Amount: sek(5000)}},
		TaxLines:  []commerce.TaxLine{{RatePercent: decimal.NewFromInt(25), Amount: sek(9000)}},
	}
	// 2 × 250.00 − 50.00 = 450.00 in lines; 50.00 of shipping is not a line.
	cp, err := f.c.Capture(ctx, connector.CaptureRequest{PaymentReference: id, Amount: sek(50000), Lines: []commerce.Line{line}}, key("c", id))
	if err != nil {
		t.Fatal(err)
	}
	o, _ := f.srv.Order(id)
	want := []klarna.OrderLine{
		{Type: "physical", Reference: "TSHIRT-M", Name: "T-shirt", Quantity: 2, UnitPrice: 25000, TaxRate: 2500, TotalAmount: 45000, TotalDiscountAmount: 5000, TotalTaxAmount: 9000},
		{Type: "surcharge", Name: "Other charges", Quantity: 1, UnitPrice: 5000, TotalAmount: 5000},
	}
	if d := cmp.Diff(want, o.Captures[0].OrderLines); d != "" {
		t.Errorf("capture lines sent (-want +got):\n%s", d)
	}
	if cp.ID != o.Captures[0].CaptureID {
		t.Errorf("capture id %s vs %s", cp.ID, o.Captures[0].CaptureID)
	}

	_, err = f.c.Capture(ctx, connector.CaptureRequest{PaymentReference: id, Amount: sek(100), Lines: []commerce.Line{line}}, key("c2", id))
	if connector.KindOf(err) != connector.KindValidation || !strings.Contains(err.Error(), "more than the amount") {
		t.Errorf("lines above the amount: %v", err)
	}
	odd := line
	odd.TaxLines = []commerce.TaxLine{{RatePercent: decimal.RequireFromString("12.345"), Amount: sek(1)}}
	_, err = f.c.Capture(ctx, connector.CaptureRequest{PaymentReference: id, Amount: sek(45000), Lines: []commerce.Line{odd}}, key("c3", id))
	if connector.KindOf(err) != connector.KindValidation || !strings.Contains(err.Error(), "more than two decimals") {
		t.Errorf("tax rate with three decimals: %v", err)
	}

	// 100.00 over 3 pieces: unit 33.34, discount 0.02, total exactly 100.00.
	_, err = f.c.Refund(ctx, connector.RefundRequest{PaymentReference: id, Amount: sek(10000), Lines: []commerce.RefundLine{{SKU: "TSHIRT-M", Quantity: 3, Amount: sek(10000)}}}, key("r", id))
	if err != nil {
		t.Fatal(err)
	}
	o, _ = f.srv.Order(id)
	wantRefund := []klarna.OrderLine{{Type: "physical", Reference: "TSHIRT-M", Name: "TSHIRT-M", Quantity: 3, UnitPrice: 3334, TotalAmount: 10000, TotalDiscountAmount: 2}}
	if d := cmp.Diff(wantRefund, o.Refunds[0].OrderLines); d != "" {
		t.Errorf("refund lines sent (-want +got):\n%s", d)
	}
}

func TestCaptureFinalReleasesRest(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	id := f.order(t, 10000, "final")
	if _, err := f.c.Capture(ctx, connector.CaptureRequest{PaymentReference: id, Amount: sek(7000), Final: true}, key("c", id)); err != nil {
		t.Fatal(err)
	}
	o, _ := f.srv.Order(id)
	if o.RemainingAuthorizedAmount != 0 || o.Status != klarna.StatusCaptured {
		t.Errorf("after a final capture: remaining %d, status %s", o.RemainingAuthorizedAmount, o.Status)
	}
	// A full final capture has nothing to release and sends no release.
	id2 := f.order(t, 10000, "final-full")
	if _, err := f.c.Capture(ctx, connector.CaptureRequest{PaymentReference: id2, Amount: sek(10000), Final: true}, key("c", id2)); err != nil {
		t.Fatal(err)
	}
	if got := f.srv.Calls("releaseRemainingAuthorization"); got != 1 {
		t.Errorf("releases executed: %d, want 1", got)
	}
}

func TestDryRunSendsNothing(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	id := f.order(t, 10000, "dry")
	cp, err := f.c.Capture(ctx, connector.CaptureRequest{PaymentReference: id, Amount: sek(5000)}, connector.WithDryRun())
	if err != nil || cp.ID != "" || !cp.Amount.Equal(sek(5000)) {
		t.Fatalf("dry run: %+v %v", cp, err)
	}
	if _, err := f.c.Capture(ctx, connector.CaptureRequest{PaymentReference: id, Amount: commerce.FromMinor(5000, commerce.EUR)}, connector.WithDryRun()); !errors.Is(err, commerce.ErrCurrencyMismatch) {
		t.Errorf("dry run does not validate: %v", err)
	}
	if f.srv.Calls("captureOrder") != 0 {
		t.Error("dry run captured")
	}
}

func TestRetriesTransientFailures(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	id := f.order(t, 10000, "retry")
	f.srv.Faults().Inject(
		fault.Fault{Kind: fault.Status, Status: http.StatusServiceUnavailable},
		fault.Fault{Kind: fault.Status, Status: http.StatusTooManyRequests, RetryAfter: 2 * time.Millisecond},
		fault.Fault{Kind: fault.Drop},
	)
	p, err := f.c.Payment(ctx, id)
	if err != nil || p.Reference != id {
		t.Fatalf("payment after transient failures: %v", err)
	}
	if f.srv.Faults().Pending() != 0 {
		t.Errorf("%d faults not reached", f.srv.Faults().Pending())
	}
	// A write with its key survives a 500 as well.
	f.srv.Faults().Inject(fault.Fault{Kind: fault.Status, Status: http.StatusInternalServerError, Match: func(r *http.Request) bool { return r.Method == http.MethodPost }})
	if _, err := f.c.Capture(ctx, connector.CaptureRequest{PaymentReference: id, Amount: sek(100)}, key("c", id)); err != nil {
		t.Fatal(err)
	}
	// Persistent trouble ends in a typed, retryable error.
	f.srv.Faults().InjectN(fault.Fault{Kind: fault.Status, Status: http.StatusServiceUnavailable}, 4)
	_, err = f.c.Payment(ctx, id)
	var ce *connector.Error
	if !errors.As(err, &ce) || ce.Kind != connector.KindTemporary || ce.Code != "TEMPORARILY_UNAVAILABLE" || ce.RequestID == "" || !connector.IsRetryable(err) {
		t.Errorf("after 4 × 503: %#v", err)
	}
}

func TestSecretsNeverLogged(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	id := f.order(t, 10000, "secret")
	f.srv.Faults().Inject(fault.Fault{Kind: fault.Status, Status: http.StatusBadGateway})
	if _, err := f.c.Capture(ctx, connector.CaptureRequest{PaymentReference: id, Amount: sek(100)}, key("c", id)); err != nil {
		t.Fatal(err)
	}
	bad, err := klarna.New(klarnatest.DefaultUsername, "wrong-password-value", klarna.WithBaseURL(f.srv.URL()), klarna.WithLogger(f.log.Logger()))
	if err != nil {
		t.Fatal(err)
	}
	_, err = bad.Payment(ctx, id)
	if !errors.Is(err, connector.ErrAuth) {
		t.Errorf("wrong password: %v", err)
	}
	logs := f.log.String() + err.Error()
	for _, s := range []string{klarnatest.DefaultPassword, klarnatest.DefaultUsername, "wrong-password-value"} {
		if strings.Contains(logs, s) {
			t.Errorf("secret %q appears in logs or errors", s[:6]+"…")
		}
	}
	if !strings.Contains(logs, `"status":502`) {
		t.Error("the log buffer did not see the attempts")
	}
}

func TestAPIKeyAuthorization(t *testing.T) {
	f := newFixture(t, nil)
	c, err := klarna.New("", klarnatest.DefaultPassword, klarna.WithBaseURL(f.srv.URL()))
	if err != nil {
		t.Fatal(err)
	}
	id := f.order(t, 100, "key")
	if _, err := c.GetOrder(context.Background(), id); err != nil {
		t.Errorf("bare API key: %v", err)
	}
}

func TestRegions(t *testing.T) {
	for _, tc := range []struct {
		r          klarna.Region
		playground bool
		want       string
	}{
		{klarna.Europe, false, "https://api.klarna.com/"},
		{klarna.NorthAmerica, false, "https://api-na.klarna.com/"},
		{klarna.Oceania, false, "https://api-oc.klarna.com/"},
		{klarna.Europe, true, "https://api.playground.klarna.com/"},
		{klarna.NorthAmerica, true, "https://api-na.playground.klarna.com/"},
		{klarna.Oceania, true, "https://api-oc.playground.klarna.com/"},
	} {
		if got := tc.r.BaseURL(tc.playground); got != tc.want {
			t.Errorf("%s playground=%v: %s, want %s", tc.r, tc.playground, got, tc.want)
		}
		opts := []klarna.Option{klarna.WithRegion(tc.r)}
		if tc.playground {
			opts = append(opts, klarna.WithPlayground())
		}
		c, err := klarna.New("u", "password", opts...)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.Transport().BaseURL().String(); got != tc.want {
			t.Errorf("client base %s, want %s", got, tc.want)
		}
	}
	if _, err := klarna.New("u", "password", klarna.WithBaseURL("http://example.com/")); connector.KindOf(err) != connector.KindValidation {
		t.Errorf("plain http to a remote host: %v", err)
	}
	if _, err := klarna.New("u", ""); connector.KindOf(err) != connector.KindValidation {
		t.Errorf("no password: %v", err)
	}
}
