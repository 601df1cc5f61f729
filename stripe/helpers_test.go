package stripe_test

import (
	"context"
	"github.com/knyt/knyt/commerce"
	"testing"
	"time"

	"github.com/knyt/knyt/connector/connectortest"
	"github.com/knyt/knyt/stripe"
	"github.com/knyt/knyt/stripe/stripetest"
)

// env is a client wired to a fresh fake, with fast retries and its log
// captured.
type env struct {
	fake    *stripetest.Server
	client  *stripe.Client
	log     *connectortest.LogBuffer
	notices []error
}

func newEnv(t *testing.T, opts ...stripe.Option) *env {
	t.Helper()
	return newEnvWith(t, nil, opts...)
}

// newEnvWith is newEnv with options for the fake.
func newEnvWith(t *testing.T, fakeOpts []stripetest.Option, opts ...stripe.Option) *env {
	t.Helper()
	e := &env{fake: stripetest.NewServer(fakeOpts...), log: connectortest.NewLogBuffer()}
	t.Cleanup(e.fake.Close)
	base := []stripe.Option{
		stripe.WithBaseURL(e.fake.URL()),
		stripe.WithAccount("acct_test"),
		stripe.WithLogger(e.log.Logger()),
		stripe.WithRetry(3, time.Millisecond, 5*time.Millisecond),
		stripe.WithWebhookSecrets(e.fake.WebhookSecret()),
		stripe.WithClock(e.fake.Now),
		stripe.WithReporter(func(_ context.Context, n error) { e.notices = append(e.notices, n) }),
	}
	c, err := stripe.New(e.fake.SecretKey(), append(base, opts...)...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	e.client = c
	return e
}

// money parses an exact amount or fails the test.
func money(t testing.TB, amount, currency string) commerce.Money {
	t.Helper()
	m, err := commerce.ParseMoney(amount, currency)
	if err != nil {
		t.Fatalf("money %s %s: %v", amount, currency, err)
	}
	return m
}
