package paypal_test

import (
	"testing"
	"time"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/connector"
	"github.com/knyt/knyt/connector/connectortest"
	"github.com/knyt/knyt/paypal"
	"github.com/knyt/knyt/paypal/paypaltest"
)

// start is the fake clock's start in tests: a fixed instant, so runs are
// repeatable.
var start = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// env is a client wired to a fresh fake.
type env struct {
	fake   *paypaltest.Server
	client *paypal.Client
	log    *connectortest.LogBuffer
}

func newEnv(t testing.TB, fopts []paypaltest.Option, copts ...paypal.Option) *env {
	t.Helper()
	fake, err := paypaltest.NewServer(append([]paypaltest.Option{paypaltest.WithStartTime(start), paypaltest.WithResponseValidation()}, fopts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fake.Close)
	id, secret := fake.Credentials()
	log := connectortest.NewLogBuffer()
	c, err := paypal.New(id, secret, append([]paypal.Option{
		paypal.WithBaseURL(fake.URL()),
		paypal.WithClock(fake.Now),
		paypal.WithRetry(3, time.Millisecond, 5*time.Millisecond),
		paypal.WithLogger(log.Logger()),
	}, copts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, err := range fake.ResponseErrors() {
			t.Errorf("fake answered outside PayPal's description: %v", err)
		}
	})
	return &env{fake: fake, client: c, log: log}
}

func money(t testing.TB, amount, cur string) commerce.Money {
	t.Helper()
	m, err := commerce.ParseMoney(amount, cur)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func (e *env) authorize(t testing.TB, value, cur string) string {
	t.Helper()
	a, err := e.fake.AddAuthorization(paypaltest.Authorization{Currency: cur, Value: value, InvoiceID: "1001"})
	if err != nil {
		t.Fatal(err)
	}
	return a.ID
}

func newLog() *connectortest.LogBuffer { return connectortest.NewLogBuffer() }

func connectorRefund(t testing.TB, captureID, amount string) connector.RefundRequest {
	return connector.RefundRequest{CaptureID: captureID, OrderNumber: "1001", Amount: money(t, amount, "USD")}
}
