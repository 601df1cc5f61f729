package connectortest_test

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/connector/connectortest"
)

func newHarness(t *testing.T, bugs ...string) *connectortest.Harness {
	h := harnessFor(t, bugs...)
	log := connectortest.NewLogBuffer()
	c, err := newMemshop(h.url, h.token, log.Logger(), h.leak)
	if err != nil {
		t.Fatal(err)
	}
	return &connectortest.Harness{
		Connector: c,
		Log:       log,
		Secrets:   []string{h.token},
		Faults:    h.inj,
		Probe: func(ctx context.Context) error {
			_, err := c.Orders().Next(ctx, "")
			return err
		},
		Products: []commerce.Product{
			{Title: "Tröja", Variants: []commerce.Variant{{SKU: "TROJA-S", Price: commerce.FromMinor(29900, commerce.SEK)}, {SKU: "TROJA-M", Price: commerce.FromMinor(29900, commerce.SEK)}}},
			{Title: "Mössa", Variants: []commerce.Variant{{SKU: "MOSSA", Price: commerce.FromMinor(14900, commerce.SEK)}}},
		},
		Feeds: []connectortest.FeedCase{{
			Name:     "orders",
			Seed:     func(_ context.Context, n int) ([]string, error) { return h.srv.seedOrders(n), nil },
			Feed:     connectortest.FeedOf(c.Orders(), func(o commerce.Order) string { return o.Number }),
			PageSize: c.pageSize,
		}},
		Payment: &connectortest.PaymentCase{
			Authorize: func(_ context.Context, m commerce.Money) (string, error) { return h.srv.authorize(m) },
			Amount:    commerce.FromMinor(10001, commerce.SEK),
		},
		Payouts: &connectortest.PayoutCase{Seed: func(context.Context) (time.Time, time.Time, error) {
			return time.Time{}, time.Now(), nil
		}},
	}
}

func TestRunOnCorrectConnector(t *testing.T) {
	connectortest.Run(t, func(t *testing.T) *connectortest.Harness { return newHarness(t) })
}

// TestBrokenConnector is run in a subprocess by TestSuiteCatchesDefects
// with the defect named in the environment; on its own it is skipped.
func TestBrokenConnector(t *testing.T) {
	bug := os.Getenv("CONNECTORTEST_BUG")
	if bug == "" {
		t.Skip("run by TestSuiteCatchesDefects")
	}
	connectortest.Run(t, func(t *testing.T) *connectortest.Harness { return newHarness(t, bug) })
}

func TestSuiteCatchesDefects(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns the test binary")
	}
	cases := []struct {
		bug, want string
	}{
		{"skip-equal-timestamps", "was skipped"},
		{"ignore-idempotency", "with the same key"},
		{"leak-token", "a secret"},
		{"duplicate-upsert", "created"},
	}
	for _, c := range cases {
		t.Run(c.bug, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestBrokenConnector$", "-test.count=1")
			cmd.Env = append(os.Environ(), "CONNECTORTEST_BUG="+c.bug)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("the suite passed a connector with defect %q:\n%s", c.bug, out)
			}
			if !strings.Contains(string(out), c.want) {
				t.Errorf("defect %q: output lacks %q:\n%s", c.bug, c.want, out)
			}
		})
	}
}
