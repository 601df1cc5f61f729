package paypal_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/knyt/knyt/connector"
	"github.com/knyt/knyt/connector/fault"
	"github.com/knyt/knyt/paypal"
	"github.com/knyt/knyt/paypal/paypaltest"
)

// parallel runs fn from n goroutines at once and returns their errors.
func parallel(n int, fn func() error) []error {
	var wg sync.WaitGroup
	errs := make([]error, n)
	gate := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-gate
			errs[i] = fn()
		}()
	}
	close(gate)
	wg.Wait()
	return errs
}

func TestTokenFetchedOnceForConcurrentCallers(t *testing.T) {
	e := newEnv(t, nil)
	id := e.authorize(t, "10.00", "USD")
	for _, err := range parallel(50, func() error { _, err := e.client.GetAuthorization(t.Context(), id); return err }) {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := e.fake.TokenRequests(); n != 1 {
		t.Errorf("%d token requests for 50 concurrent first calls, want 1", n)
	}
	// Later calls use the cached token.
	if _, err := e.client.GetAuthorization(t.Context(), id); err != nil {
		t.Fatal(err)
	}
	if n := e.fake.TokenRequests(); n != 1 {
		t.Errorf("%d token requests after a cached call, want 1", n)
	}
}

func TestTokenRefreshedBeforeExpiry(t *testing.T) {
	e := newEnv(t, []paypaltest.Option{paypaltest.WithTokenTTL(time.Hour)}, paypal.WithTokenRefreshMargin(5*time.Minute))
	id := e.authorize(t, "10.00", "USD")
	if _, err := e.client.GetAuthorization(t.Context(), id); err != nil {
		t.Fatal(err)
	}
	// Inside the margin the token is still valid at PayPal, but the client
	// replaces it: once, however many goroutines ask.
	e.fake.Advance(56 * time.Minute)
	for _, err := range parallel(50, func() error { _, err := e.client.GetAuthorization(t.Context(), id); return err }) {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := e.fake.TokenRequests(); n != 2 {
		t.Errorf("%d token requests, want 2 (one refresh for 50 callers)", n)
	}
	for _, r := range e.fake.Requests() {
		if r.Status == http.StatusUnauthorized {
			t.Errorf("%s %s was refused with 401: the refresh came too late", r.Method, r.Path)
		}
	}
}

func TestTokenExpiredMidRunIsRefreshedAndRetriedOnce(t *testing.T) {
	e := newEnv(t, nil)
	id := e.authorize(t, "10.00", "USD")
	if _, err := e.client.GetAuthorization(t.Context(), id); err != nil {
		t.Fatal(err)
	}
	// PayPal drops the token before the client expects it to expire.
	e.fake.ExpireTokens()
	key := connector.IdempotencyKey("test", id, "capture")
	c, err := e.client.Capture(t.Context(), connector.CaptureRequest{PaymentReference: id, Amount: money(t, "10.00", "USD")}, connector.WithIdempotencyKey(key))
	if err != nil {
		t.Fatalf("capture after the token expired: %v", err)
	}
	if n := e.fake.TokenRequests(); n != 2 {
		t.Errorf("%d token requests, want 2", n)
	}
	refused := 0
	for _, r := range e.fake.Requests() {
		if r.Status == http.StatusUnauthorized {
			refused++
		}
	}
	if refused != 1 {
		t.Errorf("%d requests refused with 401, want exactly 1 (then one retry)", refused)
	}
	if got := len(e.fake.Captures()); got != 1 || c.ID == "" {
		t.Errorf("%d captures, want 1", got)
	}
}

// Concurrent calls refused with the same expired token renew it once: a
// late 401 for the old token does not drop the new one.
func TestTokenExpiredUnderConcurrentCallsIsRenewedOnce(t *testing.T) {
	e := newEnv(t, nil)
	id := e.authorize(t, "10.00", "USD")
	if _, err := e.client.GetAuthorization(t.Context(), id); err != nil {
		t.Fatal(err)
	}
	e.fake.ExpireTokens()
	for _, err := range parallel(30, func() error { _, err := e.client.GetAuthorization(t.Context(), id); return err }) {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := e.fake.TokenRequests(); n != 2 {
		t.Errorf("%d token requests, want 2 (the first and one renewal for 30 refused callers)", n)
	}
}

func TestTokenRetriedOnlyOnce(t *testing.T) {
	e := newEnv(t, nil)
	id := e.authorize(t, "10.00", "USD")
	if _, err := e.client.GetAuthorization(t.Context(), id); err != nil {
		t.Fatal(err)
	}
	// Every API call is refused: the client refreshes once, then gives up.
	e.fake.Faults().InjectN(fault.Fault{Kind: fault.Status, Status: 401, Match: func(r *http.Request) bool { return !strings.HasSuffix(r.URL.Path, "/token") }}, 10)
	_, err := e.client.GetAuthorization(t.Context(), id)
	if !errors.Is(err, connector.ErrAuth) {
		t.Fatalf("got %v, want ErrAuth", err)
	}
	if n := e.fake.Faults().Injected(fault.Status); n != 2 {
		t.Errorf("%d refused attempts, want 2 (the call and one retry with a fresh token)", n)
	}
	if n := e.fake.TokenRequests(); n != 2 {
		t.Errorf("%d token requests, want 2", n)
	}
}

func TestBadCredentials(t *testing.T) {
	fake, err := paypaltest.NewServer(paypaltest.WithStartTime(start))
	if err != nil {
		t.Fatal(err)
	}
	defer fake.Close()
	log := newLog()
	c, err := paypal.New("wrong-client-id", "wrong-secret-value", paypal.WithBaseURL(fake.URL()), paypal.WithLogger(log.Logger()), paypal.WithRetry(3, time.Millisecond, time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.GetAuthorization(t.Context(), "ABC")
	if !errors.Is(err, connector.ErrAuth) {
		t.Fatalf("got %v, want ErrAuth", err)
	}
	if paypal.Issue(err) != "invalid_client" {
		t.Errorf("issue %q, want invalid_client", paypal.Issue(err))
	}
	if n := strings.Count(log.String(), `"op":"Token"`); n != 1 {
		t.Errorf("%d token attempts logged, want 1: bad credentials are not retried", n)
	}
	for _, s := range []string{"wrong-client-id", "wrong-secret-value"} {
		if strings.Contains(err.Error(), s) || strings.Contains(log.String(), s) {
			t.Errorf("credential %q leaked", s)
		}
	}
}

func TestTokenWaitHonoursContext(t *testing.T) {
	e := newEnv(t, nil)
	e.fake.Faults().Inject(fault.Fault{Kind: fault.Hang})
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	_, err := e.client.GetAuthorization(ctx, "ABC")
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, connector.ErrTemporary) {
		t.Fatalf("got %v, want a temporary error wrapping DeadlineExceeded", err)
	}
	// The abandoned refresh was cancelled, so the next call starts afresh.
	id := e.authorize(t, "1.00", "USD")
	if _, err := e.client.GetAuthorization(t.Context(), id); err != nil {
		t.Fatal(err)
	}
}

func TestSecretsNeverLogged(t *testing.T) {
	e := newEnv(t, nil)
	id := e.authorize(t, "10.00", "USD")
	if _, err := e.client.GetAuthorization(t.Context(), id); err != nil {
		t.Fatal(err)
	}
	e.fake.ExpireTokens()
	if _, err := e.client.GetAuthorization(t.Context(), id); err != nil {
		t.Fatal(err)
	}
	cid, secret := e.fake.Credentials()
	logs := e.log.String()
	for _, s := range []string{cid, secret, "A21AA", "Bearer", "Basic "} {
		if strings.Contains(logs, s) {
			t.Errorf("log shows %q", s)
		}
	}
}
