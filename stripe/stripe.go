package stripe

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/knyt/knyt/connector"
)

const (
	// SystemName is the system name in errors, logs and commerce.Ref.System.
	SystemName = "stripe"
	// DefaultBaseURL is Stripe's API host (live and test mode alike; the
	// key decides which).
	DefaultBaseURL = "https://api.stripe.com"
	// APIVersion is the Stripe-Version sent with every request. It is the
	// version of the OpenAPI description bundled with stripe-mock v0.203.0,
	// which the contract tests validate every request against, so the
	// fields read here are the fields that version documents.
	APIVersion = "2026-08-26.dahlia"
	// DefaultPageSize is the page size of list calls (Stripe's maximum).
	DefaultPageSize = 100
	// maxIdempotencyKey is Stripe's limit on Idempotency-Key.
	maxIdempotencyKey = 255
	// DefaultOrderMetadataKey is the metadata key that carries the shop's
	// order number on refunds this package creates and that it reads from
	// charges, refunds and disputes in payouts.
	DefaultOrderMetadataKey = "order_number"
)

// Client is a thin Stripe API client and the Stripe connector: it implements
// connector.System, Capturer, Refunder, Releaser, PaymentReader,
// PayoutSource and WebhookDecoder. It is safe for concurrent use.
type Client struct {
	tr           *connector.Transport
	account      string
	pageSize     int
	multicapture bool
	orderKeys    []string
	report       Reporter
	now          func() time.Time
	webhookKeys  []string
	tolerance    time.Duration
}

// Reporter receives what PayoutSource found worth a human's attention but
// that does not stop the iteration: a payout skipped because Stripe has not
// finished reconciling it (*PayoutNotReconciledError), a balance
// transaction whose reporting_category has no canonical kind and was kept
// as commerce.TxOther (*UnmappedCategoryError), and a payout whose
// transactions do not sum to its amount (*PayoutDifferenceError, which
// PayoutTransactions also yields as its final error). Match them with
// errors.As or the sentinels ErrPayoutNotReconciled, ErrUnmappedCategory and
// ErrPayoutDifference.
type Reporter func(ctx context.Context, notice error)

// Option configures a Client.
type Option func(*config)

type config struct {
	baseURL      string
	account      string
	apiVersion   string
	pageSize     int
	multicapture bool
	orderKeys    []string
	report       Reporter
	now          func() time.Time
	webhookKeys  []string
	tolerance    time.Duration
	transport    []connector.TransportOption
}

// WithBaseURL points the client at another host: stripe-mock, the
// stripetest fake, a proxy.
func WithBaseURL(u string) Option { return func(c *config) { c.baseURL = u } }

// WithHTTPClient sets the HTTP client; the transport wraps it.
func WithHTTPClient(h *http.Client) Option {
	return func(c *config) { c.transport = append(c.transport, connector.WithHTTPClient(h)) }
}

// WithLogger sets the slog logger; secrets are redacted from what it gets.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) { c.transport = append(c.transport, connector.WithLogger(l)) }
}

// WithRateLimiter sets the per-account limiter. Stripe allows 100
// operations per second in live mode and 25 in test mode.
func WithRateLimiter(l connector.RateLimiter) Option {
	return func(c *config) { c.transport = append(c.transport, connector.WithRateLimiter(l)) }
}

// WithRetry sets the attempts per call (1 = no retry) and the backoff
// bounds.
func WithRetry(maxAttempts int, minWait, maxWait time.Duration) Option {
	return func(c *config) {
		c.transport = append(c.transport, connector.WithRetry(maxAttempts, minWait, maxWait))
	}
}

// WithTransportOptions passes further options to the shared transport.
func WithTransportOptions(opts ...connector.TransportOption) Option {
	return func(c *config) { c.transport = append(c.transport, opts...) }
}

// WithAccount names the Stripe account (acct_…) the key belongs to. It is
// reported by Account, stored in every commerce.Ref and used as the rate
// limiting key; it is not sent to Stripe.
func WithAccount(id string) Option { return func(c *config) { c.account = id } }

// WithAPIVersion overrides the pinned Stripe-Version. The mapping code reads
// fields as APIVersion documents them; change it only with care.
func WithAPIVersion(v string) Option { return func(c *config) { c.apiVersion = v } }

// WithPageSize sets the list page size, 1 to 100.
func WithPageSize(n int) Option { return func(c *config) { c.pageSize = n } }

// WithMulticapture tells the client the account can capture a
// PaymentIntent in several parts. Then Capture sends final_capture from
// CaptureRequest.Final, so a non-final capture leaves the rest authorized.
// Without it final_capture is never sent and every capture is final, as
// Stripe's default: capturing less than authorized releases the rest.
// (The parameter is derived from the request alone, never from a read of
// the PaymentIntent, so a retry with the same idempotency key sends the
// same parameters.)
func WithMulticapture() Option { return func(c *config) { c.multicapture = true } }

// WithOrderMetadataKeys sets the metadata keys searched, in order, for the
// shop's order number (default "order_number"). The first is the key
// written on refunds.
func WithOrderMetadataKeys(keys ...string) Option {
	return func(c *config) { c.orderKeys = keys }
}

// WithReporter sets where PayoutSource reports skipped payouts, unmapped
// categories and differences. The default logs them at warning level.
func WithReporter(r Reporter) Option { return func(c *config) { c.report = r } }

// WithClock sets the time source for webhook tolerance checks and
// timestamps the client makes up itself.
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// WithWebhookSecrets sets the endpoint signing secrets (whsec_…) that
// DecodeWebhook accepts; several may be given while a secret is rolled.
func WithWebhookSecrets(secrets ...string) Option {
	return func(c *config) { c.webhookKeys = append(c.webhookKeys, secrets...) }
}

// WithWebhookTolerance sets how far a webhook's timestamp may be from now,
// in either direction (default DefaultTolerance).
func WithWebhookTolerance(d time.Duration) Option { return func(c *config) { c.tolerance = d } }

// New returns a client for the secret (or restricted) key. The key is sent
// as a Bearer token and scrubbed from every log line and error.
func New(secretKey string, opts ...Option) (*Client, error) {
	cfg := config{
		baseURL:    DefaultBaseURL,
		apiVersion: APIVersion,
		pageSize:   DefaultPageSize,
		orderKeys:  []string{DefaultOrderMetadataKey},
		now:        time.Now,
		tolerance:  DefaultTolerance,
	}
	for _, o := range opts {
		o(&cfg)
	}
	bad := func(field, msg string) (*Client, error) {
		return nil, &connector.Error{System: SystemName, Op: "New", Kind: connector.KindValidation, Field: field, Message: msg}
	}
	if strings.TrimSpace(secretKey) == "" {
		return bad("secretKey", "missing")
	}
	if cfg.pageSize < 1 || cfg.pageSize > 100 {
		return bad("pageSize", fmt.Sprintf("%d is outside 1–100", cfg.pageSize))
	}
	if len(cfg.orderKeys) == 0 {
		return bad("orderMetadataKeys", "empty")
	}
	c := &Client{
		account:      cfg.account,
		pageSize:     cfg.pageSize,
		multicapture: cfg.multicapture,
		orderKeys:    cfg.orderKeys,
		report:       cfg.report,
		now:          cfg.now,
		webhookKeys:  cfg.webhookKeys,
		tolerance:    cfg.tolerance,
	}
	auth := "Bearer " + secretKey
	topts := []connector.TransportOption{
		connector.WithAccount(cfg.account),
		connector.WithIdempotencyHeader("Idempotency-Key"),
		connector.WithAuthorizer(connector.AuthorizerFunc(func(_ context.Context, h http.Header) error {
			h.Set("Authorization", auth)
			return nil
		})),
		connector.WithSecrets(secretKey),
		connector.WithSecrets(cfg.webhookKeys...),
		connector.WithHeader("Stripe-Version", cfg.apiVersion),
		connector.WithRequestIDHeaders("Request-Id"),
		connector.WithRetryClassifier(classifyRetry),
		connector.WithUserAgent("knyt-stripe"),
		// Stripe advises two retries with backoff from 500 ms.
		connector.WithRetry(3, 500*time.Millisecond, 5*time.Second),
	}
	topts = append(topts, cfg.transport...)
	// The decoder needs the transport's redactor, so it is bound after.
	topts = append(topts, connector.WithErrorDecoder(func(r *connector.Response) *connector.Error {
		return decodeError(r, c.tr.Redactor())
	}))
	tr, err := connector.NewTransport(SystemName, cfg.baseURL, topts...)
	if err != nil {
		return nil, err
	}
	c.tr = tr
	if c.report == nil {
		c.report = func(ctx context.Context, notice error) {
			tr.Logger().LogAttrs(ctx, slog.LevelWarn, "stripe payout notice",
				slog.String("system", SystemName), slog.String("account", c.account),
				slog.String("notice", tr.Redactor().String(notice.Error())))
		}
	}
	return c, nil
}

// System returns "stripe".
func (c *Client) System() string { return SystemName }

// Account returns the account set with WithAccount.
func (c *Client) Account() string { return c.account }

// Transport exposes the underlying transport (its redactor and logger).
func (c *Client) Transport() *connector.Transport { return c.tr }

// get sends a GET and decodes the JSON answer into out.
func (c *Client) get(ctx context.Context, op, path string, query Params, out any) (*connector.Response, error) {
	var q url.Values
	if len(query) > 0 {
		v, err := query.Values()
		if err != nil {
			return nil, &connector.Error{System: SystemName, Op: op, Kind: connector.KindValidation, Err: err}
		}
		q = v
	}
	resp, err := c.tr.Do(ctx, &connector.Request{Op: op, Method: http.MethodGet, Path: path, Query: q})
	if err != nil {
		return nil, err
	}
	return resp, c.decode(op, resp, out)
}

// post sends a form-encoded POST with the caller's idempotency key, which
// is required: a write to Stripe without one could be applied twice by a
// retry.
func (c *Client) post(ctx context.Context, op, path string, body Params, key string, out any) (*connector.Response, error) {
	if err := checkKey(op, key); err != nil {
		return nil, err
	}
	enc, err := body.Encode()
	if err != nil {
		return nil, &connector.Error{System: SystemName, Op: op, Kind: connector.KindValidation, Err: err}
	}
	resp, err := c.tr.Do(ctx, &connector.Request{
		Op: op, Method: http.MethodPost, Path: path,
		Body: []byte(enc), ContentType: "application/x-www-form-urlencoded",
		IdempotencyKey: key,
	})
	if err != nil {
		return nil, err
	}
	return resp, c.decode(op, resp, out)
}

func (c *Client) decode(op string, resp *connector.Response, out any) error {
	if err := json.Unmarshal(resp.Body, out); err != nil {
		return &connector.Error{System: SystemName, Op: op, Kind: connector.KindPermanent, Status: resp.Status,
			RequestID: resp.Header.Get("Request-Id"), Message: "undecodable response", Err: err}
	}
	return nil
}

// ErrIdempotencyKeyRequired is returned for a write without a key.
var ErrIdempotencyKeyRequired = errors.New("an idempotency key is required for every Stripe write")

func checkKey(op, key string) error {
	switch {
	case key == "":
		return &connector.Error{System: SystemName, Op: op, Kind: connector.KindValidation, Field: "idempotency_key", Err: ErrIdempotencyKeyRequired}
	case len(key) > maxIdempotencyKey:
		return &connector.Error{System: SystemName, Op: op, Kind: connector.KindValidation, Field: "idempotency_key",
			Message: fmt.Sprintf("longer than Stripe's %d characters", maxIdempotencyKey)}
	}
	return nil
}

// objectPath builds /v1/<collection>/<id>[/<action>] with the id escaped, so
// an id from outside cannot walk to another endpoint.
func objectPath(collection, id string, action ...string) string {
	p := "/v1/" + collection + "/" + url.PathEscape(id)
	for _, a := range action {
		p += "/" + a
	}
	return p
}

func checkID(op, field, id string) error {
	if id == "" {
		return &connector.Error{System: SystemName, Op: op, Kind: connector.KindValidation, Field: field, Message: "missing"}
	}
	if strings.ContainsAny(id, "/?#") || len(id) > 255 {
		return &connector.Error{System: SystemName, Op: op, Kind: connector.KindValidation, Field: field, Message: "not a Stripe id"}
	}
	return nil
}
