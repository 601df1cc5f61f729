package paypal

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/knyt/knyt/connector"
)

// System is the name this package reports in errors, logs and Refs.
const System = "paypal"

// PayPal's REST hosts.
const (
	LiveURL    = "https://api-m.paypal.com"
	SandboxURL = "https://api-m.sandbox.paypal.com"
)

// Defaults that options change.
const (
	// DefaultSearchDelay is how long Transaction Search may take to show an
	// executed transaction ("It takes a maximum of three hours",
	// reporting_transactions_v1.json).
	DefaultSearchDelay = 3 * time.Hour
	// MaxSearchWindow is the longest date range one search accepts ("The
	// maximum supported range is 31 days").
	MaxSearchWindow = 31 * 24 * time.Hour
	// MaxPageSize is the largest page_size Transaction Search accepts.
	MaxPageSize = 500
	// DefaultPayoutLookback bounds how far back a payout's first rows are
	// searched for when no earlier withdrawal is found: the three years
	// Transaction Search keeps.
	DefaultPayoutLookback = 3 * 365 * 24 * time.Hour
	// DefaultTokenRefreshMargin is how long before its expiry a token is
	// replaced (at most half its lifetime).
	DefaultTokenRefreshMargin = 5 * time.Minute
)

// Client talks to PayPal's REST API for one merchant account and implements
// the connector capabilities Capturer, Refunder, Releaser, PaymentReader
// and PayoutSource. It is safe for concurrent use.
type Client struct {
	tr       *connector.Transport
	tokenTr  *connector.Transport
	tokens   *tokenSource
	account  string
	now      func() time.Time
	reauth   bool
	delay    time.Duration
	pageSize int
	lookback time.Duration
	anomaly  func(Anomaly)
}

type config struct {
	baseURL    string
	httpClient *http.Client
	logger     *slog.Logger
	account    string
	limiter    connector.RateLimiter
	retry      *[2]time.Duration
	attempts   int
	now        func() time.Time
	margin     time.Duration
	reauth     bool
	delay      time.Duration
	pageSize   int
	lookback   time.Duration
	anomaly    func(Anomaly)
}

// Option configures a Client.
type Option func(*config)

// WithSandbox sends requests to PayPal's sandbox instead of live.
func WithSandbox() Option { return func(c *config) { c.baseURL = SandboxURL } }

// WithBaseURL sends requests to u (a fake's URL in tests). It must be
// https, or http to a loopback host.
func WithBaseURL(u string) Option { return func(c *config) { c.baseURL = u } }

// WithHTTPClient sets the HTTP client; its transport is wrapped, not
// replaced.
func WithHTTPClient(h *http.Client) Option { return func(c *config) { c.httpClient = h } }

// WithLogger logs every HTTP attempt (secrets redacted) and every anomaly
// found in payouts.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// WithAccount names the merchant account in Refs, logs and rate limits.
// The default is "default": the client id is a credential and is never used
// as a name.
func WithAccount(name string) Option { return func(c *config) { c.account = name } }

// WithRateLimiter limits requests (none by default: PayPal publishes no
// limits and answers 429 RATE_LIMIT_REACHED, which the transport honours).
func WithRateLimiter(l connector.RateLimiter) Option { return func(c *config) { c.limiter = l } }

// WithRetry sets the attempts per call and the backoff bounds.
func WithRetry(attempts int, minWait, maxWait time.Duration) Option {
	return func(c *config) { c.attempts, c.retry = attempts, &[2]time.Duration{minWait, maxWait} }
}

// WithClock sets the clock used for token expiry, the honour period and
// search finality; tests pass their fake's clock.
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// WithTokenRefreshMargin replaces tokens this long before they expire
// (capped at half a token's lifetime).
func WithTokenRefreshMargin(d time.Duration) Option { return func(c *config) { c.margin = d } }

// WithReauthorization turns the automatic reauthorization of authorizations
// past their honour period on (the default) or off.
func WithReauthorization(on bool) Option { return func(c *config) { c.reauth = on } }

// WithSearchDelay sets how long Transaction Search may lag behind (default
// three hours). Rows younger than that are not final and are never used
// for a payout.
func WithSearchDelay(d time.Duration) Option { return func(c *config) { c.delay = d } }

// WithPageSize sets Transaction Search's page_size (1–500, default 500).
func WithPageSize(n int) Option { return func(c *config) { c.pageSize = n } }

// WithPayoutLookback bounds how far before a withdrawal its first rows are
// searched for (default three years, the search's own limit).
func WithPayoutLookback(d time.Duration) Option { return func(c *config) { c.lookback = d } }

// WithAnomalyHandler receives what payout listing finds wrong: an event
// code it does not know (the row is kept as TxOther) or a payout whose rows
// do not sum to the withdrawal. Anomalies are also logged as warnings.
func WithAnomalyHandler(fn func(Anomaly)) Option { return func(c *config) { c.anomaly = fn } }

// New returns a client for the app with the given REST credentials, live
// unless WithSandbox or WithBaseURL says otherwise. The credentials and
// every token fetched with them are registered as secrets: no log line or
// error ever shows them.
func New(clientID, secret string, opts ...Option) (*Client, error) {
	cfg := config{
		baseURL:  LiveURL,
		account:  "default",
		now:      time.Now,
		margin:   DefaultTokenRefreshMargin,
		reauth:   true,
		delay:    DefaultSearchDelay,
		pageSize: MaxPageSize,
		lookback: DefaultPayoutLookback,
	}
	for _, o := range opts {
		o(&cfg)
	}
	if clientID == "" || secret == "" {
		return nil, &connector.Error{System: System, Op: "New", Kind: connector.KindAuth, Message: "client id and secret are required"}
	}
	if cfg.pageSize < 1 || cfg.pageSize > MaxPageSize {
		return nil, &connector.Error{System: System, Op: "New", Kind: connector.KindValidation, Field: "page_size", Message: fmt.Sprintf("page size %d outside 1–%d", cfg.pageSize, MaxPageSize)}
	}
	// PayPal takes the credentials as curl -u sends them, unescaped.
	basic := base64.StdEncoding.EncodeToString([]byte(clientID + ":" + secret))
	secrets := []string{clientID, secret, basic}

	common := []connector.TransportOption{
		connector.WithAccount(cfg.account),
		connector.WithSecrets(secrets...),
		connector.WithRequestIDHeaders("Paypal-Debug-Id"),
		connector.WithUserAgent("knyt-paypal"),
	}
	if cfg.httpClient != nil {
		common = append(common, connector.WithHTTPClient(cfg.httpClient))
	}
	if cfg.logger != nil {
		common = append(common, connector.WithLogger(cfg.logger))
	}
	if cfg.limiter != nil {
		common = append(common, connector.WithRateLimiter(cfg.limiter))
	}
	if cfg.retry != nil {
		common = append(common, connector.WithRetry(cfg.attempts, cfg.retry[0], cfg.retry[1]))
	}

	c := &Client{account: cfg.account, now: cfg.now, reauth: cfg.reauth, delay: cfg.delay, pageSize: cfg.pageSize, lookback: cfg.lookback, anomaly: cfg.anomaly}

	// The token endpoint gets its own transport: it authorizes with the
	// app's credentials instead of a token, and its errors must not make
	// the API transport invalidate and refetch in a loop.
	with := func(extra ...connector.TransportOption) []connector.TransportOption {
		return append(slices.Clone(common), extra...)
	}
	var redact func(string) string
	tokenTr, err := connector.NewTransport(System, cfg.baseURL, with(
		connector.WithErrorDecoder(decodeError(func(s string) string { return redact(s) })))...)
	if err != nil {
		return nil, err
	}
	redact = tokenTr.Redactor().String
	c.tokens = newTokenSource(func(ctx context.Context) (string, time.Duration, error) {
		return fetchToken(ctx, tokenTr, basic, c.addSecret)
	}, cfg.now, cfg.margin)

	var apiRedact func(string) string
	c.tr, err = connector.NewTransport(System, cfg.baseURL, with(
		connector.WithIdempotencyHeader("PayPal-Request-Id"),
		connector.WithAuthorizer(c.tokens),
		connector.WithRetryClassifier(retryInProgress),
		connector.WithErrorDecoder(decodeError(func(s string) string { return apiRedact(s) })))...)
	if err != nil {
		return nil, err
	}
	apiRedact = c.tr.Redactor().String
	c.tokenTr = tokenTr
	return c, nil
}

// addSecret registers a fetched token with both transports' redactors.
func (c *Client) addSecret(s string) {
	c.tr.Redactor().AddSecret(s)
	c.tokenTr.Redactor().AddSecret(s)
}

// System reports "paypal".
func (c *Client) System() string { return System }

// Account is the merchant account name given with WithAccount.
func (c *Client) Account() string { return c.account }

// Transport is the underlying HTTP transport, for calls this package does
// not wrap.
func (c *Client) Transport() *connector.Transport { return c.tr }

// fetchToken runs the client-credentials grant.
func fetchToken(ctx context.Context, tr *connector.Transport, basic string, register func(string)) (string, time.Duration, error) {
	resp, err := tr.Do(ctx, &connector.Request{
		Op:          "Token",
		Method:      http.MethodPost,
		Path:        "/v1/oauth2/token",
		Header:      http.Header{"Authorization": {"Basic " + basic}, "Accept": {"application/json"}},
		Body:        []byte("grant_type=client_credentials"),
		ContentType: "application/x-www-form-urlencoded",
		// Asking for a token twice is harmless, so the transport may retry.
		Idempotent: true,
	})
	if err != nil {
		var ce *connector.Error
		if errors.As(err, &ce) && ce.Status != 0 {
			// Keep the classification but drop the status: a 401 from the
			// token endpoint is bad credentials, not an expired token, and
			// must not trigger the API transport's refresh-and-retry.
			cp := *ce
			cp.Message = strings.TrimSpace(fmt.Sprintf("token request answered %d: %s", ce.Status, ce.Message))
			cp.Status = 0
			return "", 0, &cp
		}
		return "", 0, err
	}
	var tok tokenResponse
	if err := json.Unmarshal(resp.Body, &tok); err != nil {
		return "", 0, &connector.Error{System: System, Op: "Token", Kind: connector.KindPermanent, Message: "token response is not JSON", Err: err}
	}
	if tok.AccessToken == "" || !strings.EqualFold(tok.TokenType, "Bearer") || tok.ExpiresIn <= 0 {
		return "", 0, &connector.Error{System: System, Op: "Token", Kind: connector.KindPermanent, Message: "token response lacks a bearer token with a lifetime"}
	}
	register(tok.AccessToken)
	return tok.AccessToken, time.Duration(tok.ExpiresIn) * time.Second, nil
}
