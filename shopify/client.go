package shopify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/connector"
)

const (
	systemName        = "shopify"
	headerAccessToken = "X-Shopify-Access-Token"

	// DefaultAPIVersion is the Admin API version the package's documents
	// are written and validated against.
	DefaultAPIVersion = "2026-10"

	// MaxQueryCost is Shopify's ceiling on one request's requested cost:
	// a query asking for more is rejected outright, however full the bucket.
	MaxQueryCost = 1000
)

// Client speaks to one shop's GraphQL Admin API. It is safe for concurrent
// use; all goroutines share one cost bucket. It also implements the
// connector capabilities (see Connector methods in the other files).
type Client struct {
	shop    string // the *.myshopify.com domain
	version string
	gql     *connector.Transport // authorized, for the Admin API
	plain   *connector.Transport // unauthenticated: token grant, bulk downloads
	tokens  TokenSource
	bucket  *CostBucket
	logger  *slog.Logger
	now     func() time.Time
	cfg     config

	ratioMu sync.Mutex
	ratios  map[string]float64 // Shopify's requested cost ÷ our estimate, per document

	shopMu   sync.Mutex
	shopInfo *shopSettings

	locMu     sync.Mutex
	locations []location

	// captureKeys remembers which capture each idempotency key produced
	// (key → OrderTransaction GID).
	captureKeys sync.Map

	// fulfilKeys remembers Fulfill calls by idempotency key.
	fulfilKeys keyMemory[fulfilAttempt]

	// refundKeys remembers Refund calls by idempotency key.
	refundKeys keyMemory[refundAttempt]
}

type config struct {
	version          string
	baseURL          string
	httpClient       *http.Client
	logger           *slog.Logger
	bucket           *CostBucket
	maxCost          float64
	throttleRetries  int
	retry            *retryConfig
	now              func() time.Time
	money            MoneyKind
	onMismatch       func(context.Context, commerce.Order, error) error
	onInvalid        func(context.Context, Invalid) error
	cancel           CancelPolicy
	stockReason      string
	pollInterval     time.Duration
	concurrency      int
	pageLimit        int
	transportOptions []connector.TransportOption
}

type retryConfig struct {
	attempts         int
	minWait, maxWait time.Duration
}

// Option configures a Client.
type Option func(*config)

// WithAPIVersion selects the Admin API version (default 2026-10). The
// package's documents are validated against 2026-10; other versions may
// reject them.
func WithAPIVersion(v string) Option { return func(c *config) { c.version = v } }

// WithBaseURL replaces https://{shop}.myshopify.com, e.g. with a
// shopifytest fake's URL.
func WithBaseURL(u string) Option { return func(c *config) { c.baseURL = u } }

// WithHTTPClient sets the HTTP client.
func WithHTTPClient(h *http.Client) Option { return func(c *config) { c.httpClient = h } }

// WithLogger sets the slog logger; secrets are redacted.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// WithCostBucket shares a cost bucket between Clients of the same app and
// shop (Shopify's bucket is per app and shop).
func WithCostBucket(b *CostBucket) Option { return func(c *config) { c.bucket = b } }

// WithMaxQueryCost lowers the requested cost the client allows itself per
// request below Shopify's 1000 (page sizes shrink to fit).
func WithMaxQueryCost(points float64) Option { return func(c *config) { c.maxCost = points } }

// WithThrottleRetries bounds how often one request is retried after
// THROTTLED answers (default 20); each retry first waits what the bucket
// needs.
func WithThrottleRetries(n int) Option { return func(c *config) { c.throttleRetries = n } }

// WithRetry sets the transport's retries of network failures and 5xx
// answers (queries and @idempotent mutations only): attempts in total and
// the backoff bounds.
func WithRetry(attempts int, minWait, maxWait time.Duration) Option {
	return func(c *config) { c.retry = &retryConfig{attempts, minWait, maxWait} }
}

// WithClock sets the time source used for token expiry and the cost
// bucket's refill (tests).
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// WithTransportOptions passes further options to the underlying
// connector.Transport.
func WithTransportOptions(opts ...connector.TransportOption) Option {
	return func(c *config) { c.transportOptions = append(c.transportOptions, opts...) }
}

// New returns a client for shop ("example", "example.myshopify.com") that
// authenticates with tokens.
func New(shop string, tokens TokenSource, opts ...Option) (*Client, error) {
	cfg := config{
		version:         DefaultAPIVersion,
		maxCost:         MaxQueryCost,
		throttleRetries: 20,
		now:             time.Now,
		cancel:          CancelPolicy{Reason: "OTHER", Restock: true},
		stockReason:     "correction",
		pollInterval:    2 * time.Second,
		concurrency:     1,
		pageLimit:       250,
	}
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	domain, err := shopDomain(shop)
	if err != nil {
		return nil, err
	}
	if tokens == nil {
		return nil, connector.NewError(systemName, "New", connector.KindAuth, "no token source")
	}
	if cfg.maxCost <= 0 || cfg.maxCost > MaxQueryCost {
		cfg.maxCost = MaxQueryCost
	}
	base := cfg.baseURL
	if base == "" {
		base = "https://" + domain
	}
	c := &Client{
		shop:    domain,
		version: cfg.version,
		tokens:  tokens,
		bucket:  cfg.bucket,
		logger:  cfg.logger,
		now:     cfg.now,
		cfg:     cfg,
		ratios:  map[string]float64{},
	}
	if c.bucket == nil {
		c.bucket = NewCostBucket()
		c.bucket.now = cfg.now
	}
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
	}
	common := []connector.TransportOption{
		connector.WithAccount(domain),
		connector.WithLogger(c.logger),
		connector.WithUserAgent("knyt-shopify"),
		connector.WithRequestIDHeaders("X-Request-Id"),
		connector.WithErrorDecoder(decodeHTTPError),
		// Throttling (429) is handled by the client against the shared
		// bucket, not by the transport's per-request backoff.
		connector.WithRetryClassifier(func(resp *http.Response, err error) connector.RetryDecision {
			if resp != nil && resp.StatusCode == http.StatusTooManyRequests {
				return connector.RetryNever
			}
			return connector.RetryDefault
		}),
	}
	if cfg.httpClient != nil {
		common = append(common, connector.WithHTTPClient(cfg.httpClient))
	}
	if cfg.retry != nil {
		common = append(common, connector.WithRetry(cfg.retry.attempts, cfg.retry.minWait, cfg.retry.maxWait))
	}
	common = append(common, cfg.transportOptions...)
	if s, ok := tokens.(StaticToken); ok {
		common = append(common, connector.WithSecrets(string(s)))
	}
	c.gql, err = connector.NewTransport(systemName, base, append(common, connector.WithAuthorizer(newAuthorizer(tokens)))...)
	if err != nil {
		return nil, err
	}
	c.plain, err = connector.NewTransport(systemName, base, common...)
	if err != nil {
		return nil, err
	}
	if b, ok := tokens.(binder); ok {
		if err := b.bind(c); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// shopDomain normalises a shop name to its myshopify.com domain.
func shopDomain(shop string) (string, error) {
	s := strings.ToLower(strings.TrimSpace(shop))
	s = strings.TrimPrefix(s, "https://")
	s = strings.TrimSuffix(s, "/")
	s = strings.TrimSuffix(s, ".myshopify.com")
	if s == "" || len(s) > 100 {
		return "", &connector.Error{System: systemName, Op: "New", Kind: connector.KindValidation, Field: "shop", Message: "missing or too long"}
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return "", &connector.Error{System: systemName, Op: "New", Kind: connector.KindValidation, Field: "shop", Message: fmt.Sprintf("%q is not a shop name", shop)}
		}
	}
	return s + ".myshopify.com", nil
}

// addSecret registers a value to scrub from every log line and error.
func (c *Client) addSecret(v string) {
	c.gql.Redactor().AddSecret(v)
	c.plain.Redactor().AddSecret(v)
}

// System is "shopify".
func (c *Client) System() string { return systemName }

// Account is the shop's myshopify.com domain.
func (c *Client) Account() string { return c.shop }

// APIVersion is the Admin API version requests go to.
func (c *Client) APIVersion() string { return c.version }

// CostBucket is the bucket the client paces itself with.
func (c *Client) CostBucket() *CostBucket { return c.bucket }

// Ping makes the cheapest authenticated call (the shop's name), to check
// credentials and reachability.
func (c *Client) Ping(ctx context.Context) error {
	_, err := c.Execute(ctx, docShop, nil, nil)
	return err
}

// gqlRequest is the JSON body of a GraphQL call.
type gqlRequest struct {
	Query         string         `json:"query"`
	OperationName string         `json:"operationName"`
	Variables     map[string]any `json:"variables,omitempty"`
}

// envelope is a GraphQL answer.
type envelope struct {
	Data       json.RawMessage `json:"data"`
	Errors     json.RawMessage `json:"errors"`
	Extensions struct {
		Cost *Cost `json:"cost"`
	} `json:"extensions"`
}

// GraphQLError is one entry of a response's errors array.
type GraphQLError struct {
	Message    string `json:"message"`
	Path       []any  `json:"path"`
	Extensions struct {
		Code string `json:"code"`
	} `json:"extensions"`
}

// estimate is the document's requested cost as the client expects Shopify
// to compute it: the static estimate corrected by what Shopify reported for
// this document before.
func (c *Client) estimate(doc *Document, vars map[string]any) float64 {
	est := doc.EstimateCost(vars)
	c.ratioMu.Lock()
	r, ok := c.ratios[doc.name]
	c.ratioMu.Unlock()
	if ok {
		est *= r
	}
	return est
}

func (c *Client) learn(doc *Document, vars map[string]any, requested float64) {
	est := doc.EstimateCost(vars)
	if est <= 0 || requested <= 0 {
		return
	}
	c.ratioMu.Lock()
	c.ratios[doc.name] = requested / est
	c.ratioMu.Unlock()
}

// budget is the most one request may ask for: Shopify's ceiling, lowered by
// configuration and by a bucket smaller than that (development stores).
func (c *Client) budget() float64 {
	b := c.cfg.maxCost
	if s, ok := c.bucket.Status(); ok && s.MaximumAvailable > 0 {
		b = math.Min(b, s.MaximumAvailable)
	}
	return b
}

// pageSize is the largest count ≤ limit for the variable key whose estimated
// cost fits the budget (at least 1).
func (c *Client) pageSize(doc *Document, vars map[string]any, key string, limit int) int {
	budget := c.budget()
	fits := func(n int) bool {
		vars[key] = n
		return c.estimate(doc, vars) <= budget
	}
	lo, hi := 1, limit
	if fits(hi) {
		return hi
	}
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if fits(mid) {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	vars[key] = lo
	return lo
}

// Execute sends doc with vars and decodes the data into out (which may be
// nil). It waits for the cost bucket before sending, retries THROTTLED
// answers after exactly the wait the bucket needs, and returns GraphQL
// errors as *connector.Error. Queries and @idempotent mutations are retried
// by the transport after network failures and 5xx answers; other mutations
// are not, and an ambiguous failure is reported with MaybeApplied.
func (c *Client) Execute(ctx context.Context, doc *Document, vars map[string]any, out any) (*Cost, error) {
	return c.execute(ctx, doc, vars, out, doc.IsIdempotent())
}

// execute is Execute with the retry safety decided by the caller: a
// mutation that is not @idempotent may still be safe to repeat in the way
// the package uses it (an absolute price, an upsert keyed by id or handle).
func (c *Client) execute(ctx context.Context, doc *Document, vars map[string]any, out any, idem bool) (*Cost, error) {
	op := doc.name
	body, err := json.Marshal(gqlRequest{Query: doc.source, OperationName: doc.name, Variables: vars})
	if err != nil {
		return nil, &connector.Error{System: systemName, Op: op, Kind: connector.KindValidation, Message: "variables do not encode as JSON", Err: err}
	}
	// Shopify's own figure, once an answer gives it, replaces the estimate
	// (a THROTTLED answer tells exactly what this request needs).
	var known float64
	cost := func() float64 {
		if known > 0 {
			return known
		}
		return c.estimate(doc, vars)
	}
	if est := cost(); est > MaxQueryCost {
		return nil, &connector.Error{System: systemName, Op: op, Kind: connector.KindValidation, Code: "MAX_COST_EXCEEDED",
			Message: fmt.Sprintf("estimated requested cost %.0f exceeds Shopify's limit of %d; request fewer objects", est, MaxQueryCost)}
	}
	req := &connector.Request{
		Op:          op,
		Method:      http.MethodPost,
		Path:        "admin/api/" + c.version + "/graphql.json",
		Body:        body,
		ContentType: "application/json",
		Header:      http.Header{"Accept": {"application/json"}},
		Idempotent:  idem,
	}
	for attempt := 0; ; attempt++ {
		res, err := c.bucket.acquire(ctx, cost)
		if err != nil {
			return nil, connector.Wrap(systemName, op, err)
		}
		resp, err := c.gql.Do(ctx, req)
		if err != nil {
			var ce *connector.Error
			if errors.As(err, &ce) && ce.Kind == connector.KindRateLimited && ce.Status == http.StatusTooManyRequests {
				var ti *throttleInfo
				var tc *Cost
				if errors.As(err, &ti) {
					tc = ti.cost
				}
				c.bucket.release(res, tc, true)
				if attempt >= c.cfg.throttleRetries {
					return nil, err
				}
				wait := ce.RetryAfter
				if wait <= 0 && tc == nil {
					wait = time.Second
				}
				if wait > 0 {
					c.bucket.pause(wait)
				}
				if tc != nil && tc.RequestedQueryCost > 0 {
					known = tc.RequestedQueryCost
				}
				continue
			}
			c.bucket.release(res, nil, false)
			if ce != nil && !idem && (ce.Status >= 500 || ce.Status == 0) && ce.Kind == connector.KindTemporary {
				ce.MaybeApplied = true
			}
			return nil, err
		}
		var env envelope
		if err := json.Unmarshal(resp.Body, &env); err != nil {
			c.bucket.release(res, nil, false)
			return nil, &connector.Error{System: systemName, Op: op, Kind: connector.KindTemporary, Status: resp.Status,
				Message: "answer is not a GraphQL JSON response", MaybeApplied: !idem, RequestID: resp.Header.Get("X-Request-Id"), Err: err}
		}
		gerrs, perr := parseErrors(env.Errors)
		throttled := hasCode(gerrs, "THROTTLED")
		c.bucket.release(res, env.Extensions.Cost, throttled)
		if env.Extensions.Cost != nil && !throttled {
			c.learn(doc, vars, env.Extensions.Cost.RequestedQueryCost)
		}
		if throttled {
			if attempt >= c.cfg.throttleRetries {
				return env.Extensions.Cost, c.gqlError(op, resp, gerrs)
			}
			if rc := env.Extensions.Cost; rc != nil && rc.RequestedQueryCost > 0 {
				known = rc.RequestedQueryCost
			}
			c.logger.LogAttrs(ctx, slog.LevelDebug, "shopify throttled", slog.String("op", op), slog.Float64("requested", cost()))
			continue
		}
		if perr != nil {
			return env.Extensions.Cost, &connector.Error{System: systemName, Op: op, Kind: connector.KindTemporary, Status: resp.Status,
				Message: "errors member is malformed", MaybeApplied: !idem, Err: perr}
		}
		if len(gerrs) > 0 {
			e := c.gqlError(op, resp, gerrs)
			if e.Kind == connector.KindTemporary && !idem {
				e.MaybeApplied = true
			}
			return env.Extensions.Cost, e
		}
		if out != nil {
			if len(env.Data) == 0 || bytes.Equal(env.Data, []byte("null")) {
				return env.Extensions.Cost, &connector.Error{System: systemName, Op: op, Kind: connector.KindTemporary, Status: resp.Status,
					Message: "answer has no data", MaybeApplied: !idem}
			}
			if err := json.Unmarshal(env.Data, out); err != nil {
				return env.Extensions.Cost, &connector.Error{System: systemName, Op: op, Kind: connector.KindPermanent, Status: resp.Status,
					Message: "data does not match the document's shape", Err: err}
			}
		}
		return env.Extensions.Cost, nil
	}
}

// parseErrors reads the errors member, which Shopify sends as an array of
// GraphQL errors (and, on some HTTP errors, as a string or object).
func parseErrors(raw json.RawMessage) ([]GraphQLError, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, nil
	}
	var list []GraphQLError
	if err := json.Unmarshal(raw, &list); err == nil {
		return list, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return []GraphQLError{{Message: s}}, nil
	}
	var obj map[string]any
	if err := json.Unmarshal(raw, &obj); err == nil {
		b, _ := json.Marshal(obj)
		return []GraphQLError{{Message: string(b)}}, nil
	}
	return nil, errors.New("errors is neither a list, a string nor an object")
}

func hasCode(errs []GraphQLError, code string) bool {
	for _, e := range errs {
		if e.Extensions.Code == code {
			return true
		}
	}
	return false
}

// gqlError turns the GraphQL errors of a 200 answer into one *Error,
// classified by the first error's code.
func (c *Client) gqlError(op string, resp *connector.Response, errs []GraphQLError) *connector.Error {
	first := errs[0]
	e := &connector.Error{
		System:    systemName,
		Op:        op,
		Kind:      kindForCode(first.Extensions.Code),
		Status:    resp.Status,
		Code:      first.Extensions.Code,
		Field:     pathString(first.Path),
		RequestID: resp.Header.Get("X-Request-Id"),
	}
	msgs := make([]string, 0, len(errs))
	for _, ge := range errs {
		msgs = append(msgs, ge.Message)
	}
	e.Message = c.gql.Redactor().String(strings.Join(msgs, "; "))
	return e
}

// kindForCode classifies a GraphQL error code.
func kindForCode(code string) connector.Kind {
	switch code {
	case "THROTTLED":
		return connector.KindRateLimited
	case "MAX_COST_EXCEEDED", "BAD_REQUEST", "INVALID_VARIABLE", "GRAPHQL_PARSE_FAILED", "GRAPHQL_VALIDATION_FAILED":
		return connector.KindValidation
	case "ACCESS_DENIED", "UNAUTHORIZED", "FORBIDDEN", "PAYMENT_REQUIRED":
		return connector.KindAuth
	case "NOT_FOUND", "RESOURCE_NOT_FOUND":
		return connector.KindNotFound
	case "INTERNAL_SERVER_ERROR", "TIMEOUT", "SERVICE_UNAVAILABLE":
		return connector.KindTemporary
	case "":
		return connector.KindPermanent
	}
	if k, ok := idempotencyKinds[code]; ok {
		return k
	}
	// Schema validation errors carry camelCase codes (undefinedField,
	// argumentLiteralsIncompatible, missingRequiredArguments …).
	if c := code[0]; c >= 'a' && c <= 'z' {
		return connector.KindValidation
	}
	return connector.KindPermanent
}

func pathString(p []any) string {
	parts := make([]string, 0, len(p))
	for _, v := range p {
		parts = append(parts, fmt.Sprint(v))
	}
	return strings.Join(parts, ".")
}

// throttleInfo carries the cost of a 429 answer from the error decoder to
// the client.
type throttleInfo struct{ cost *Cost }

func (t *throttleInfo) Error() string { return "throttled" }

// decodeHTTPError reads Shopify's error bodies for HTTP status ≥ 400:
// {"errors": "…"} or {"errors": [{message, extensions: {code}}]}, plus the
// cost extension on a 429.
func decodeHTTPError(resp *connector.Response) *connector.Error {
	e := &connector.Error{Kind: connector.KindForStatus(resp.Status)}
	switch resp.Status {
	case http.StatusLocked: // 423: the shop is locked; the merchant must act
		e.Kind = connector.KindAuth
	case http.StatusPaymentRequired: // 402: frozen or unpaid shop
		e.Kind = connector.KindAuth
		e.Code = "PAYMENT_REQUIRED"
	}
	var env envelope
	if err := json.Unmarshal(resp.Body, &env); err != nil {
		e.Message = strings.TrimSpace(strings.ToValidUTF8(string(truncateBytes(resp.Body, 256)), "?"))
		return e
	}
	if errs, err := parseErrors(env.Errors); err == nil && len(errs) > 0 {
		msgs := make([]string, 0, len(errs))
		for _, ge := range errs {
			msgs = append(msgs, ge.Message)
		}
		e.Message = strings.Join(msgs, "; ")
		if errs[0].Extensions.Code != "" {
			e.Code = errs[0].Extensions.Code
		}
	}
	if resp.Status == http.StatusTooManyRequests {
		e.Err = &throttleInfo{cost: env.Extensions.Cost}
	}
	return e
}

func truncateBytes(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}
