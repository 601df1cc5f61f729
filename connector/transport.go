package connector

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// Transport is the HTTP layer every system package shares. It adds to each
// call: context, authorization, an idempotency key header, per-account rate
// limiting, retries of what is safe to retry with backoff and jitter that
// honours Retry-After, typed errors that name the system and operation, and
// slog logging with secrets redacted. Plain http:// is refused except to
// loopback, so a misconfigured base URL can never send credentials in clear.
type Transport struct {
	system        string
	account       string
	base          *url.URL
	client        *http.Client
	limiter       RateLimiter
	idemHeader    string
	auth          Authorizer
	logger        *slog.Logger
	redactor      *Redactor
	decode        ErrorDecoder
	classify      RetryClassifier
	userAgent     string
	requestIDs    []string
	header        http.Header
	maxAttempts   int
	minWait       time.Duration
	maxWait       time.Duration
	maxBody       int64
	retryAfterCap time.Duration
}

// Authorizer sets credentials on a request. If it also implements
// Invalidator, a 401 answer invalidates the credentials and the request is
// tried once more with fresh ones (expired OAuth tokens).
type Authorizer interface {
	Authorize(ctx context.Context, h http.Header) error
}

// Invalidator is implemented by Authorizers whose credentials can expire.
// Invalidate gets the headers of the refused request, the credentials in
// them: with concurrent requests a 401 may answer a token that has been
// renewed meanwhile, and only the credentials refused are to be dropped.
type Invalidator interface {
	Invalidate(refused http.Header)
}

// AuthorizerFunc adapts a function to Authorizer.
type AuthorizerFunc func(ctx context.Context, h http.Header) error

// Authorize calls f.
func (f AuthorizerFunc) Authorize(ctx context.Context, h http.Header) error { return f(ctx, h) }

// ErrorDecoder turns a failed response (status ≥ 400) into an *Error. It may
// leave System, Op, Status, RequestID and RetryAfter empty; the transport
// fills them. Returning nil falls back to the default decoding.
type ErrorDecoder func(resp *Response) *Error

// RetryDecision is what a RetryClassifier says about one attempt.
type RetryDecision int

// Retry decisions.
const (
	RetryDefault    RetryDecision = iota // no opinion: apply the default policy
	RetryNever                           // do not retry
	RetryIfSafe                          // retry if the request is safe to repeat
	RetryNotApplied                      // the server did not execute it: retry even a write without a key
)

// RetryClassifier lets a system package read provider hints (Stripe's
// Stripe-Should-Retry, a lock timeout, PayPal's PREVIOUS_REQUEST_IN_PROGRESS)
// before the default policy. For error answers (status ≥ 400) the body is
// buffered and the classifier may read resp.Body; for others it must not.
type RetryClassifier func(resp *http.Response, err error) RetryDecision

// TransportOption configures a Transport.
type TransportOption func(*Transport)

// WithHTTPClient sets the client; its Transport is wrapped, not replaced.
func WithHTTPClient(c *http.Client) TransportOption { return func(t *Transport) { t.client = c } }

// WithLogger sets the slog logger (default: discard).
func WithLogger(l *slog.Logger) TransportOption { return func(t *Transport) { t.logger = l } }

// WithRateLimiter sets the limiter (default: none).
func WithRateLimiter(l RateLimiter) TransportOption { return func(t *Transport) { t.limiter = l } }

// WithAccount names the account requests are limited and logged under.
func WithAccount(a string) TransportOption { return func(t *Transport) { t.account = a } }

// WithIdempotencyHeader names the header that carries idempotency keys
// ("Idempotency-Key", "Klarna-Idempotency-Key", "PayPal-Request-Id").
func WithIdempotencyHeader(name string) TransportOption {
	return func(t *Transport) { t.idemHeader = name }
}

// WithAuthorizer sets how requests are authorized.
func WithAuthorizer(a Authorizer) TransportOption { return func(t *Transport) { t.auth = a } }

// WithSecrets registers secret values (tokens, keys) to scrub from every log
// line and error, wherever they appear.
func WithSecrets(values ...string) TransportOption {
	return func(t *Transport) { t.redactor.AddSecret(values...) }
}

// WithErrorDecoder sets how the system's error bodies are read.
func WithErrorDecoder(d ErrorDecoder) TransportOption { return func(t *Transport) { t.decode = d } }

// WithRetryClassifier sets the system's retry hints.
func WithRetryClassifier(c RetryClassifier) TransportOption {
	return func(t *Transport) { t.classify = c }
}

// WithRetry sets the attempts (1 = no retry) and the backoff bounds.
func WithRetry(maxAttempts int, minWait, maxWait time.Duration) TransportOption {
	return func(t *Transport) { t.maxAttempts, t.minWait, t.maxWait = maxAttempts, minWait, maxWait }
}

// WithMaxRetryAfter caps how long a Retry-After is honoured inside one call;
// a longer demand ends the call with a KindRateLimited error carrying it.
func WithMaxRetryAfter(d time.Duration) TransportOption {
	return func(t *Transport) { t.retryAfterCap = d }
}

// WithUserAgent sets the User-Agent.
func WithUserAgent(ua string) TransportOption { return func(t *Transport) { t.userAgent = ua } }

// WithRequestIDHeaders names response headers that carry the system's
// request or correlation id, first found wins.
func WithRequestIDHeaders(names ...string) TransportOption {
	return func(t *Transport) { t.requestIDs = names }
}

// WithHeader sets a header on every request (an API version, say).
func WithHeader(name, value string) TransportOption {
	return func(t *Transport) { t.header.Set(name, value) }
}

// WithMaxResponseBytes bounds how much of a response body is read.
func WithMaxResponseBytes(n int64) TransportOption { return func(t *Transport) { t.maxBody = n } }

// WithSensitiveNames adds header, query or form names whose values are
// secrets beyond the built-in list.
func WithSensitiveNames(names ...string) TransportOption {
	return func(t *Transport) {
		for _, n := range names {
			t.redactor.names = append(t.redactor.names, normalizeName(n))
		}
	}
}

// NewTransport returns a transport for system with requests relative to
// baseURL. The base URL must be https, or http to a loopback host.
func NewTransport(system, baseURL string, opts ...TransportOption) (*Transport, error) {
	t := &Transport{
		system:        system,
		client:        &http.Client{Timeout: 60 * time.Second},
		logger:        slog.New(slog.DiscardHandler),
		redactor:      NewRedactor(),
		userAgent:     "knyt",
		requestIDs:    []string{"X-Request-Id", "Request-Id"},
		header:        http.Header{},
		maxAttempts:   4,
		minWait:       250 * time.Millisecond,
		maxWait:       20 * time.Second,
		maxBody:       32 << 20,
		retryAfterCap: 2 * time.Minute,
	}
	for _, o := range opts {
		o(t)
	}
	u, err := url.Parse(baseURL)
	if err != nil {
		return nil, &Error{System: system, Op: "NewTransport", Kind: KindValidation, Field: "baseURL", Message: "not a URL"}
	}
	if err := checkScheme(u); err != nil {
		return nil, &Error{System: system, Op: "NewTransport", Kind: KindValidation, Field: "baseURL", Err: err}
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	t.base = u
	if t.maxAttempts < 1 {
		t.maxAttempts = 1
	}
	// Wrap, never mutate, the caller's client.
	wrapped := *t.client
	base := wrapped.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	wrapped.Transport = &attemptTransport{t: t, next: base}
	t.client = &wrapped
	return t, nil
}

// ErrInsecureURL is a plain-http URL to a host that is not loopback.
var ErrInsecureURL = errors.New("plain http is allowed only to loopback")

func checkScheme(u *url.URL) error {
	switch u.Scheme {
	case "https":
		if u.Host == "" {
			return errors.New("no host")
		}
		return nil
	case "http":
		if isLoopback(u.Hostname()) {
			return nil
		}
		return fmt.Errorf("%w: %s", ErrInsecureURL, u.Hostname())
	}
	return fmt.Errorf("scheme %q not allowed", u.Scheme)
}

func isLoopback(host string) bool {
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// System is the system name the transport reports in errors and logs.
func (t *Transport) System() string { return t.system }

// Account is the default account requests are limited under.
func (t *Transport) Account() string { return t.account }

// BaseURL is the base URL requests are resolved against.
func (t *Transport) BaseURL() *url.URL { u := *t.base; return &u }

// Redactor is the transport's redactor, for system packages that log or
// build errors themselves.
func (t *Transport) Redactor() *Redactor { return t.redactor }

// Logger is the transport's logger.
func (t *Transport) Logger() *slog.Logger { return t.logger }

// Request is one call.
type Request struct {
	Op     string // operation name for errors and logs, e.g. "CaptureOrder"
	Method string
	// Path is resolved against the base URL; an absolute URL is allowed
	// (download links) and checked like the base URL.
	Path        string
	Query       url.Values
	Header      http.Header
	Body        []byte
	ContentType string
	// IdempotencyKey is sent in the system's idempotency header and makes
	// a write safe to retry. The same key is sent on every attempt.
	IdempotencyKey string
	// Idempotent asserts the call is safe to repeat without a key (a
	// GraphQL query sent with POST, a PUT that sets absolute values).
	Idempotent bool
	// Account overrides the transport's account for rate limiting.
	Account string
	// Stream leaves the body unread in Response.Stream for the caller to
	// read and close (large downloads); Response.Body stays nil on success.
	Stream bool
}

// Response is a successful answer (status < 400) or, inside an *Error's
// decoding, a failed one.
type Response struct {
	Status   int
	Header   http.Header
	Body     []byte
	Stream   io.ReadCloser
	Attempts int
}

// safe reports whether repeating the request cannot apply it twice.
func (r *Request) safe() bool {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return true
	}
	return r.Idempotent || r.IdempotencyKey != ""
}

type callInfoKey struct{}

// callInfo travels in the request context to the per-attempt hooks.
type callInfo struct {
	req      *Request
	account  string
	attempts int
	notSent  bool // the last failure happened before anything was sent
}

// Do sends the request and returns the answer, or an *Error. Retries happen
// inside: a safe request on 5xx, timeouts and connection failures; any
// request on 429 and on failures before sending; never a write without an
// idempotency key that may have reached the server.
func (t *Transport) Do(ctx context.Context, req *Request) (*Response, error) {
	resp, refused, err := t.do(ctx, req)
	if refused != nil {
		if inv, ok := t.auth.(Invalidator); ok {
			inv.Invalidate(refused)
			resp, _, err = t.do(ctx, req)
		}
	}
	return resp, err
}

// do sends the request once (with retries inside); refused is the headers
// of the request when the server itself answered 401, the one case where
// fresh credentials may help — not a failure to obtain them.
func (t *Transport) do(ctx context.Context, req *Request) (resp *Response, refused http.Header, err error) {
	resp, err = t.send(ctx, req, &refused)
	return resp, refused, err
}

func (t *Transport) send(ctx context.Context, req *Request, refused *http.Header) (*Response, error) {
	op := req.Op
	if op == "" {
		op = req.Method
	}
	fail := func(kind Kind, err error) (*Response, error) {
		return nil, &Error{System: t.system, Op: op, Kind: kind, Err: t.scrubErr(err)}
	}
	target, err := t.resolve(req)
	if err != nil {
		return fail(KindValidation, err)
	}
	info := &callInfo{req: req, account: t.account}
	if req.Account != "" {
		info.account = req.Account
	}
	ctx = context.WithValue(ctx, callInfoKey{}, info)

	var body any
	if req.Body != nil {
		body = req.Body
	}
	rr, err := retryablehttp.NewRequestWithContext(ctx, req.Method, target.String(), body)
	if err != nil {
		return fail(KindValidation, err)
	}
	for k, vs := range t.header {
		rr.Header[k] = vs
	}
	for k, vs := range req.Header {
		rr.Header[k] = vs
	}
	rr.Header.Set("User-Agent", t.userAgent)
	if req.ContentType != "" {
		rr.Header.Set("Content-Type", req.ContentType)
	}
	if req.IdempotencyKey != "" {
		if t.idemHeader == "" {
			return fail(KindUnsupported, errors.New("this system has no idempotency header"))
		}
		rr.Header.Set(t.idemHeader, req.IdempotencyKey)
	}
	if t.auth != nil {
		if err := t.auth.Authorize(ctx, rr.Header); err != nil {
			return nil, Wrap(t.system, op, err)
		}
	}

	rc := &retryablehttp.Client{
		HTTPClient:   t.client,
		RetryWaitMin: t.minWait,
		RetryWaitMax: t.maxWait,
		RetryMax:     t.maxAttempts - 1,
		CheckRetry:   t.checkRetry,
		Backoff:      t.backoff,
		ErrorHandler: retryablehttp.PassthroughErrorHandler,
	}
	hresp, err := rc.Do(rr)
	if err != nil {
		if hresp != nil {
			hresp.Body.Close()
		}
		return nil, t.transportError(ctx, op, info, err)
	}
	out := &Response{Status: hresp.StatusCode, Header: hresp.Header, Attempts: info.attempts}
	if hresp.StatusCode < 400 && req.Stream {
		out.Stream = hresp.Body
		return out, nil
	}
	defer hresp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(hresp.Body, t.maxBody+1))
	if err != nil {
		return nil, &Error{System: t.system, Op: op, Kind: KindTemporary, Status: hresp.StatusCode, MaybeApplied: !req.safe(), Err: t.scrubErr(err)}
	}
	if int64(len(b)) > t.maxBody {
		return nil, &Error{System: t.system, Op: op, Kind: KindPermanent, Status: hresp.StatusCode, Message: fmt.Sprintf("response larger than %d bytes", t.maxBody)}
	}
	out.Body = b
	if hresp.StatusCode >= 400 {
		if hresp.StatusCode == http.StatusUnauthorized {
			*refused = rr.Header
		}
		return nil, t.statusError(op, out)
	}
	return out, nil
}

func (t *Transport) resolve(req *Request) (*url.URL, error) {
	ref, err := url.Parse(req.Path)
	if err != nil {
		return nil, errors.New("path is not a URL reference")
	}
	var u *url.URL
	if ref.IsAbs() {
		if err := checkScheme(ref); err != nil {
			return nil, err
		}
		u = ref
	} else {
		// Keep the escaped form, so an id holding %2F or %3F stays one
		// path segment instead of becoming a separator or a query.
		rel := &url.URL{Path: strings.TrimPrefix(ref.Path, "/"), RawPath: strings.TrimPrefix(ref.RawPath, "/"), RawQuery: ref.RawQuery}
		u = t.base.ResolveReference(rel)
	}
	if len(req.Query) > 0 {
		q := u.Query()
		for k, vs := range req.Query {
			q[k] = append(q[k], vs...)
		}
		u.RawQuery = q.Encode()
	}
	return u, nil
}

// statusError decodes a failed response into an *Error.
func (t *Transport) statusError(op string, resp *Response) *Error {
	var e *Error
	if t.decode != nil {
		e = t.decode(resp)
	}
	if e == nil {
		e = &Error{Kind: KindForStatus(resp.Status), Message: snippet(resp.Body)}
	}
	e.System, e.Op, e.Status = t.system, op, resp.Status
	if e.Kind == KindUnknown {
		e.Kind = KindForStatus(resp.Status)
	}
	if e.RequestID == "" {
		for _, h := range t.requestIDs {
			if v := resp.Header.Get(h); v != "" {
				e.RequestID = v
				break
			}
		}
	}
	if d, ok := ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok && e.RetryAfter == 0 {
		e.RetryAfter = d
	}
	e.Message = t.redactor.String(e.Message)
	e.Code = t.redactor.String(e.Code)
	e.Err = t.scrubErr(e.Err)
	return e
}

// snippet keeps the start of an error body for the message: enough to
// understand, bounded so a large HTML error page does not flood the logs.
func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 512 {
		s = s[:512] + "…"
	}
	return strings.ToValidUTF8(s, "?")
}

func (t *Transport) transportError(ctx context.Context, op string, info *callInfo, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return &Error{System: t.system, Op: op, Kind: KindTemporary, MaybeApplied: !info.notSent && !info.req.safe() && info.attempts > 0, Err: ctxErr}
	}
	var ce *Error
	if errors.As(err, &ce) {
		return err
	}
	kind := KindTemporary
	if isPermanentNetErr(err) {
		kind = KindPermanent
	}
	return &Error{System: t.system, Op: op, Kind: kind, MaybeApplied: !info.notSent && !info.req.safe(), Err: t.scrubErr(err)}
}

// scrubErr keeps err's chain for errors.Is but removes secrets from its text.
func (t *Transport) scrubErr(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if clean := t.redactor.String(msg); clean != msg {
		return &scrubbed{msg: clean, err: err}
	}
	return err
}

type scrubbed struct {
	msg string
	err error
}

func (s *scrubbed) Error() string { return s.msg }
func (s *scrubbed) Unwrap() error { return s.err }

func isPermanentNetErr(err error) bool {
	var ua x509.UnknownAuthorityError
	var he x509.HostnameError
	var ci x509.CertificateInvalidError
	var rec tls.RecordHeaderError
	return errors.As(err, &ua) || errors.As(err, &he) || errors.As(err, &ci) || errors.As(err, &rec) || errors.Is(err, ErrInsecureURL)
}

// notSentErr reports whether a transport error happened before the request
// could reach the server (a refused connection, a failed DNS lookup), so
// that even a write may be retried.
func notSentErr(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var dns *net.DNSError
	return errors.As(err, &dns)
}

func (t *Transport) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	info, _ := ctx.Value(callInfoKey{}).(*callInfo)
	safe := info != nil && info.req.safe()
	if info != nil {
		info.notSent = err != nil && notSentErr(err)
	}
	if err != nil && isPermanentNetErr(err) {
		return false, nil
	}
	decision := RetryDefault
	if t.classify != nil {
		if resp != nil && resp.StatusCode >= 400 {
			// Error bodies are small; buffer them so the classifier can
			// read a provider's error code and the decoder still gets it.
			b, _ := io.ReadAll(io.LimitReader(resp.Body, t.maxBody+1))
			resp.Body.Close()
			resp.Body = io.NopCloser(bytes.NewReader(b))
			decision = t.classify(resp, err)
			resp.Body = io.NopCloser(bytes.NewReader(b))
		} else {
			decision = t.classify(resp, err)
		}
	}
	switch decision {
	case RetryNever:
		return false, nil
	case RetryIfSafe:
		return safe, nil
	case RetryNotApplied:
		return true, nil
	}
	if err != nil {
		return safe || notSentErr(err), nil
	}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		// Throttled requests were not executed; retry if the wait is
		// one we are willing to make inside this call.
		d, ok := ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
		return !ok || d <= t.retryAfterCap, nil
	case resp.StatusCode == http.StatusRequestTimeout, resp.StatusCode == http.StatusBadGateway,
		resp.StatusCode == http.StatusServiceUnavailable, resp.StatusCode == http.StatusGatewayTimeout,
		resp.StatusCode == http.StatusInternalServerError:
		return safe, nil
	}
	return false, nil
}

// backoff honours Retry-After and otherwise waits exponentially with jitter
// (half fixed, half random) so that many clients do not retry in step.
func (t *Transport) backoff(minWait, maxWait time.Duration, attempt int, resp *http.Response) time.Duration {
	if resp != nil {
		if d, ok := ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
			return min(d, t.retryAfterCap)
		}
	}
	d := minWait << min(attempt, 20)
	if d <= 0 || d > maxWait {
		d = maxWait
	}
	half := d / 2
	return half + rand.N(half+1)
}

// attemptTransport runs around every attempt: scheme check, rate limiting
// and logging.
type attemptTransport struct {
	t    *Transport
	next http.RoundTripper
}

func (a *attemptTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	t := a.t
	if err := checkScheme(r.URL); err != nil {
		return nil, err
	}
	info, _ := r.Context().Value(callInfoKey{}).(*callInfo)
	account := t.account
	op := r.Method
	if info != nil {
		info.attempts++
		account = info.account
		op = info.req.Op
	}
	release := Release(func(*http.Response) {})
	if t.limiter != nil {
		rel, err := t.limiter.Acquire(r.Context(), account)
		if err != nil {
			return nil, err
		}
		release = rel
	}
	start := time.Now()
	resp, err := a.next.RoundTrip(r)
	release(resp)
	attrs := []slog.Attr{
		slog.String("system", t.system), slog.String("op", op), slog.String("account", account),
		slog.String("method", r.Method), slog.String("url", t.redactor.URL(r.URL)),
		slog.Duration("elapsed", time.Since(start)),
	}
	if info != nil {
		attrs = append(attrs, slog.Int("attempt", info.attempts))
		if info.req.IdempotencyKey != "" {
			attrs = append(attrs, slog.String("idempotency_key", info.req.IdempotencyKey))
		}
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", t.redactor.String(err.Error())))
		t.logger.LogAttrs(r.Context(), slog.LevelWarn, "http attempt failed", attrs...)
		return nil, err
	}
	attrs = append(attrs, slog.Int("status", resp.StatusCode))
	level := slog.LevelDebug
	if resp.StatusCode >= 400 {
		level = slog.LevelInfo
	}
	t.logger.LogAttrs(r.Context(), level, "http attempt", attrs...)
	return resp, nil
}
