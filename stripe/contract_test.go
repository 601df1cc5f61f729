package stripe_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/connector"
	"github.com/knyt/knyt/stripe"
)

// stripeMock returns the base URL of a stripe-mock: STRIPE_MOCK_URL when
// set, else a stripe-mock from PATH started for this test (with
// -strict-version-check, so APIVersion must be the spec's version). The
// test is skipped when neither is available, unless
// KNYT_REQUIRE_STRIPE_MOCK is set (CI sets it, so a broken install fails
// loudly instead of skipping).
func stripeMock(t *testing.T) string {
	t.Helper()
	if u := os.Getenv("STRIPE_MOCK_URL"); u != "" {
		return strings.TrimRight(u, "/")
	}
	bin, err := exec.LookPath("stripe-mock")
	if err != nil && os.Getenv("KNYT_REQUIRE_STRIPE_MOCK") != "" {
		t.Fatal("KNYT_REQUIRE_STRIPE_MOCK is set but stripe-mock is not on PATH")
	}
	if err != nil {
		t.Skip("contract tests skipped: stripe-mock is not on PATH and STRIPE_MOCK_URL is not set " +
			"(go install github.com/stripe/stripe-mock@v0.203.0)")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "-http-addr", "127.0.0.1:0", "-https-addr", "127.0.0.1:0", "-strict-version-check")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatalf("start stripe-mock: %v", err)
	}
	t.Cleanup(func() { cancel(); cmd.Wait() })
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			const marker = "Listening for HTTP at address: "
			if i := strings.Index(sc.Text(), marker); i >= 0 {
				addr <- strings.TrimSpace(sc.Text()[i+len(marker):])
				break
			}
		}
		io.Copy(io.Discard, out)
	}()
	select {
	case a := <-addr:
		return "http://" + a
	case <-time.After(30 * time.Second):
		t.Fatal("stripe-mock did not start within 30 s")
	}
	return ""
}

// TestContractStripeMock sends each request the package makes to
// stripe-mock, which validates it against Stripe's OpenAPI description
// and answers with fixtures. It proves the requests are well-formed and
// the answers decode; the answers' values are fixtures, not state.
func TestContractStripeMock(t *testing.T) {
	base := stripeMock(t)
	c, err := stripe.New("sk_test_123", stripe.WithBaseURL(base), stripe.WithMulticapture(),
		stripe.WithRetry(1, time.Millisecond, time.Millisecond), stripe.WithReporter(func(context.Context, error) {}))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	usd := func(s string) commerce.Money {
		m, err := commerce.ParseMoney(s, "USD")
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	ok := func(t *testing.T, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("stripe-mock refused or the answer did not decode: %v", err)
		}
	}
	t.Run("Capture", func(t *testing.T) {
		_, err := c.Capture(ctx, connector.CaptureRequest{PaymentReference: "pi_123", Amount: usd("10.99"), Final: false},
			connector.WithIdempotencyKey(connector.IdempotencyKey("contract", "capture")))
		ok(t, err)
	})
	t.Run("Refund", func(t *testing.T) {
		r, err := c.Refund(ctx, connector.RefundRequest{PaymentReference: "pi_123", OrderNumber: "1001", Amount: usd("1.00"),
			Reason: "requested_by_customer", Reference: "RMA-1"}, connector.WithIdempotencyKey("contract-refund"))
		ok(t, err)
		if r.ID == "" {
			t.Error("refund without id")
		}
		_, err = c.Refund(ctx, connector.RefundRequest{CaptureID: "ch_123", Amount: usd("1.00"), Reason: "free text"},
			connector.WithIdempotencyKey("contract-refund-2"))
		ok(t, err)
	})
	t.Run("CancelPaymentIntent", func(t *testing.T) {
		_, err := c.CancelPaymentIntent(ctx, "pi_123", nil, "contract-cancel")
		ok(t, err)
	})
	t.Run("Payment", func(t *testing.T) {
		// The fixture intent is in requires_payment_method: the request
		// is valid and the answer decodes, then the state is refused.
		_, err := c.Payment(ctx, "pi_123")
		var ce *connector.Error
		if !errors.As(err, &ce) || ce.Kind != connector.KindConflict || ce.Status != 0 {
			t.Fatalf("%v", err)
		}
		pi, err := c.GetPaymentIntent(ctx, "pi_123", "latest_charge")
		ok(t, err)
		if pi.LatestCharge.Object == nil {
			t.Error("latest_charge not expanded")
		}
	})
	t.Run("Payouts", func(t *testing.T) {
		n := 0
		for p, err := range c.Payouts(ctx, time.Unix(1, 0), time.Now()) {
			ok(t, err)
			n++
			for _, err := range c.PayoutTransactions(ctx, p.ID) {
				// Fixtures do not sum to the fixture payout.
				if err != nil && !errors.Is(err, stripe.ErrPayoutDifference) {
					t.Fatalf("transactions: %v", err)
				}
			}
		}
		if n == 0 {
			t.Error("no payout listed")
		}
		for _, err := range c.ListRefunds(ctx, stripe.Params{"payment_intent": "pi_123"}) {
			ok(t, err)
		}
	})
	t.Run("MockValidates", func(t *testing.T) {
		_, _, err := c.CreateRefund(ctx, stripe.Params{"payment_intent": "pi_123", "no_such_param": "x"}, "contract-bad")
		if !errors.Is(err, connector.ErrValidation) {
			t.Fatalf("an unknown parameter was accepted: %v", err)
		}
	})
}
