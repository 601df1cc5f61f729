package klarna

import (
	"context"
	"encoding/base64"
	"log/slog"
	"net/http"
	"time"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/connector"
)

// SystemName is the name the connector reports in errors, logs and Refs.
const SystemName = "klarna"

// IdempotencyHeader is the header Klarna reads idempotency keys from. Keys
// are honoured for 24 hours; only the key matters, not the body.
const IdempotencyHeader = "Klarna-Idempotency-Key"

// CorrelationHeader carries Klarna's correlation id on responses.
const CorrelationHeader = "Klarna-Correlation-Id"

// Region is a Klarna data region; each has its own hosts and credentials.
type Region int

// Regions.
const (
	Europe       Region = iota // api.klarna.com
	NorthAmerica               // api-na.klarna.com
	Oceania                    // api-oc.klarna.com
)

// String names the region.
func (r Region) String() string {
	switch r {
	case Europe:
		return "EU"
	case NorthAmerica:
		return "NA"
	case Oceania:
		return "OC"
	}
	return "unknown"
}

// BaseURL is the API root of region r, live or playground (Klarna's test
// environment, with separate credentials).
func (r Region) BaseURL(playground bool) string {
	host := map[Region]string{Europe: "api", NorthAmerica: "api-na", Oceania: "api-oc"}[r]
	if host == "" {
		host = "api"
	}
	if playground {
		return "https://" + host + ".playground.klarna.com/"
	}
	return "https://" + host + ".klarna.com/"
}

// Documented rate limits per merchant for operations other than session
// creation: 200 requests per second live, 50 in the playground.
const (
	liveRate       = 200
	playgroundRate = 50
)

// Paths of the two APIs under the base URL.
const (
	omPath          = "ordermanagement/v1/orders/"
	settlementsPath = "settlements/v1/"
)

// Client speaks to Klarna's Order Management and Settlements APIs. It is
// the typed API client (GetOrder, CreateCapture, ListTransactions, …) and the
// connector: it implements connector.PaymentReader, Capturer, Refunder,
// Releaser and PayoutSource. A Client is safe for concurrent use.
type Client struct {
	t          *connector.Transport
	merchantID string
	now        func() time.Time
	onUnknown  func(commerce.Transaction)
	pageSize   int
}

// Option configures a Client.
type Option func(*config)

type config struct {
	region     Region
	playground bool
	baseURL    string
	merchantID string
	httpClient *http.Client
	logger     *slog.Logger
	limiter    connector.RateLimiter
	retry      connector.TransportOption // nil: the transport's default policy
	now        func() time.Time
	onUnknown  func(commerce.Transaction)
	pageSize   int
	extra      []connector.TransportOption
}

// WithRegion selects the data region (default Europe).
func WithRegion(r Region) Option { return func(c *config) { c.region = r } }

// WithPlayground selects Klarna's playground (test) environment.
func WithPlayground() Option { return func(c *config) { c.playground = true } }

// WithBaseURL overrides the host chosen by region and environment, e.g. to
// point the client at klarnatest. Plain http is accepted only to loopback.
func WithBaseURL(u string) Option { return func(c *config) { c.baseURL = u } }

// WithMerchantID names the merchant account: it is what Account reports and
// what requests are rate limited under (Klarna limits per merchant id).
func WithMerchantID(id string) Option { return func(c *config) { c.merchantID = id } }

// WithHTTPClient sets the underlying HTTP client (it is wrapped, not
// modified).
func WithHTTPClient(h *http.Client) Option { return func(c *config) { c.httpClient = h } }

// WithLogger sets the slog logger; secrets are redacted from every line.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// WithRateLimiter replaces the default token bucket (Klarna's documented
// limit for the environment). Share one limiter between clients of the same
// merchant, since Klarna counts per merchant.
func WithRateLimiter(l connector.RateLimiter) Option { return func(c *config) { c.limiter = l } }

// WithRetry sets the number of attempts per call and the backoff bounds.
func WithRetry(maxAttempts int, minWait, maxWait time.Duration) Option {
	return func(c *config) { c.retry = connector.WithRetry(maxAttempts, minWait, maxWait) }
}

// WithClock sets the clock used to explain refusals (an authorization past
// expires_at) and to tell paid payouts from scheduled ones.
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// WithUnknownTransactionHandler is called for every settlement transaction
// whose type the connector does not know. Such a transaction is still
// returned (kind other, with its raw type) and logged at warning level;
// the handler lets a caller collect them for a report.
func WithUnknownTransactionHandler(fn func(commerce.Transaction)) Option {
	return func(c *config) { c.onUnknown = fn }
}

// WithPageSize sets the Settlements API page size (1–500, default 500).
func WithPageSize(n int) Option { return func(c *config) { c.pageSize = n } }

// WithTransportOptions passes options to the underlying connector.Transport
// (user agent, extra headers, response size limit, …).
func WithTransportOptions(opts ...connector.TransportOption) Option {
	return func(c *config) { c.extra = append(c.extra, opts...) }
}

// New returns a client authenticating with HTTP Basic: username and
// password as shown in Klarna's portal (a UUID username with an API key as
// password, or legacy merchant credentials). With an empty username the
// password is taken as an API key and sent as "Authorization: Basic <key>",
// Klarna's other documented form. Both values are treated as secrets: they
// never appear in a log line or an error.
func New(username, password string, opts ...Option) (*Client, error) {
	cfg := config{now: time.Now, pageSize: maxPageSize}
	for _, o := range opts {
		o(&cfg)
	}
	if password == "" {
		return nil, connector.NewError(SystemName, "New", connector.KindValidation, "missing password or API key")
	}
	if cfg.pageSize < 1 || cfg.pageSize > maxPageSize {
		return nil, connector.NewError(SystemName, "New", connector.KindValidation, "page size %d outside 1–%d", cfg.pageSize, maxPageSize)
	}
	base := cfg.baseURL
	if base == "" {
		base = cfg.region.BaseURL(cfg.playground)
	}
	var auth string
	if username == "" {
		auth = "Basic " + password
	} else {
		auth = "Basic " + base64.StdEncoding.EncodeToString([]byte(username+":"+password))
	}
	limiter := cfg.limiter
	if limiter == nil {
		rate := liveRate
		if cfg.playground {
			rate = playgroundRate
		}
		limiter = connector.NewTokenBucket(float64(rate), rate/4)
	}
	hc := cfg.httpClient
	if hc == nil {
		hc = &http.Client{Timeout: 60 * time.Second}
	}
	wrapped := *hc
	wrapped.Transport = rateLimitHeaders{next: hc.Transport}
	topts := []connector.TransportOption{
		connector.WithHTTPClient(&wrapped),
		connector.WithAuthorizer(connector.AuthorizerFunc(func(_ context.Context, h http.Header) error {
			h.Set("Authorization", auth)
			return nil
		})),
		connector.WithSecrets(username, password, auth[len("Basic "):]),
		connector.WithIdempotencyHeader(IdempotencyHeader),
		connector.WithErrorDecoder(decodeError),
		connector.WithRequestIDHeaders(CorrelationHeader, "Correlation-Id", "X-Request-Id"),
		connector.WithRateLimiter(limiter),
		connector.WithUserAgent("knyt-klarna/1"),
		connector.WithAccount(cfg.merchantID),
		connector.WithHeader("Accept", "application/json"),
	}
	if cfg.logger != nil {
		topts = append(topts, connector.WithLogger(cfg.logger))
	}
	if cfg.retry != nil {
		topts = append(topts, cfg.retry)
	}
	topts = append(topts, cfg.extra...)
	t, err := connector.NewTransport(SystemName, base, topts...)
	if err != nil {
		return nil, err
	}
	return &Client{t: t, merchantID: cfg.merchantID, now: cfg.now, onUnknown: cfg.onUnknown, pageSize: cfg.pageSize}, nil
}

// System returns "klarna".
func (c *Client) System() string { return SystemName }

// Account returns the merchant id given with WithMerchantID.
func (c *Client) Account() string { return c.merchantID }

// Transport exposes the underlying transport (its redactor and logger), for
// code that extends the client.
func (c *Client) Transport() *connector.Transport { return c.t }
