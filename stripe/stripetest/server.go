package stripetest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/knyt/knyt/connector/fault"
)

// DefaultSecretKey is the API key the fake accepts unless WithSecretKey
// says otherwise.
const DefaultSecretKey = "sk_test_knyt_fake_0000000000000000"

// DefaultWebhookSecret signs webhooks unless WithWebhookSecret says
// otherwise.
const DefaultWebhookSecret = "whsec_knyt_fake_webhook_secret"

// idempotencyRetention is how long Stripe keeps a key's result (at least
// 24 hours, per its docs).
const idempotencyRetention = 24 * time.Hour

// Server is a stateful fake of the parts of Stripe's API that the stripe
// package uses, served over loopback HTTP. Create it with NewServer and
// Close it when done. All methods are safe for concurrent use.
type Server struct {
	srv *httptest.Server
	inj *fault.Injector

	key           string
	webhookSecret string
	fees          FeePolicy
	version       string // required Stripe-Version, "" accepts any

	mu         sync.Mutex
	now        time.Time
	seq        int
	intents    map[string]*intent
	charges    map[string]*charge
	refunds    map[string]*refund
	payouts    map[string]*payout
	bts        map[string]*balanceTransaction
	idem       map[string]*idemEntry
	events     []*event
	requests   []Request
	failures   []Failure
	applyHook  func(*http.Request)
	webhookURL string
	delivered  map[string]int // event id → deliveries
}

// Option configures a Server.
type Option func(*Server)

// WithSecretKey sets the API key the fake accepts.
func WithSecretKey(k string) Option { return func(s *Server) { s.key = k } }

// WithWebhookSecret sets the endpoint secret webhooks are signed with.
func WithWebhookSecret(secret string) Option { return func(s *Server) { s.webhookSecret = secret } }

// WithClock starts the fake's clock at t. The clock stands still until
// Advance or SetNow moves it, so tests are deterministic. The default is
// the wall time at NewServer, truncated to the second.
func WithClock(t time.Time) Option { return func(s *Server) { s.now = t.UTC().Truncate(time.Second) } }

// WithFees sets how the fake computes Stripe's fee on captured charges.
func WithFees(p FeePolicy) Option { return func(s *Server) { s.fees = p } }

// WithRequiredVersion makes the fake refuse requests whose Stripe-Version
// header is not v (as stripe-mock's -strict-version-check does).
func WithRequiredVersion(v string) Option { return func(s *Server) { s.version = v } }

// FeePolicy is the fee on a captured charge: BasisPoints of the amount
// (rounded half up) plus Fixed minor units, and VAT on that fee at
// VATBasisPoints, reported as a fee_details row of type "tax". Refunds
// carry no fee, as at Stripe in most regions.
type FeePolicy struct {
	BasisPoints    int64
	Fixed          int64
	VATBasisPoints int64
}

// DefaultFees is 1.5 % + 25 minor units without VAT, the shape of Stripe's
// European card pricing (no VAT on fees outside Ireland: reverse charge).
var DefaultFees = FeePolicy{BasisPoints: 150, Fixed: 25}

// NewServer starts the fake on a loopback port.
func NewServer(opts ...Option) *Server {
	s := &Server{
		key:           DefaultSecretKey,
		webhookSecret: DefaultWebhookSecret,
		fees:          DefaultFees,
		now:           time.Now().UTC().Truncate(time.Second),
		intents:       map[string]*intent{},
		charges:       map[string]*charge{},
		refunds:       map[string]*refund{},
		payouts:       map[string]*payout{},
		bts:           map[string]*balanceTransaction{},
		idem:          map[string]*idemEntry{},
		delivered:     map[string]int{},
	}
	for _, o := range opts {
		o(s)
	}
	s.inj = fault.New(s.writeInjected)
	s.srv = httptest.NewServer(s.inj.Wrap(http.HandlerFunc(s.serve)))
	return s
}

// URL is the base URL to give the client (stripe.WithBaseURL).
func (s *Server) URL() string { return s.srv.URL }

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// SecretKey is the API key the fake accepts.
func (s *Server) SecretKey() string { return s.key }

// WebhookSecret is the secret the fake signs webhooks with.
func (s *Server) WebhookSecret() string { return s.webhookSecret }

// Faults is the fault injector wrapped around the fake: injected statuses
// answer with Stripe's error body for that status.
func (s *Server) Faults() *fault.Injector { return s.inj }

// Now is the fake's current time.
func (s *Server) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.now
}

// Advance moves the fake's clock forward.
func (s *Server) Advance(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = s.now.Add(d)
}

// SetNow sets the fake's clock.
func (s *Server) SetNow(t time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = t.UTC().Truncate(time.Second)
}

// Request is one request the fake received, for inspection.
type Request struct {
	Method         string
	Path           string
	Params         url.Values // query for GET, form body for POST
	IdempotencyKey string
	StripeVersion  string
	Status         int
	Replayed       bool // answered from the idempotency store
}

// Requests returns the requests received so far, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Failure is a Stripe error to answer with instead of handling a request:
// for cases fault.Injector cannot express, such as a 429 lock_timeout, a
// 409 idempotency_key_in_use or a Stripe-Should-Retry header. It is
// answered before the idempotency layer, so nothing is saved for the key.
type Failure struct {
	Status      int
	Type        string
	Code        string
	Message     string
	ShouldRetry string // Stripe-Should-Retry header value, "" for none
	// Match restricts the failure to requests it accepts; nil matches all.
	Match func(*http.Request) bool
}

// FailNext queues failures; each answers the first request it matches.
func (s *Server) FailNext(fs ...Failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures = append(s.failures, fs...)
}

// SetApplyHook sets a function called for each write after its
// idempotency key is reserved and before it is applied, without the
// fake's lock held: a test can block in it to hold a key in flight.
func (s *Server) SetApplyHook(h func(*http.Request)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.applyHook = h
}

// apiError is Stripe's error object.
type apiError struct {
	Type    string `json:"type"`
	Code    string `json:"code,omitempty"`
	Message string `json:"message"`
	Param   string `json:"param,omitempty"`
	DocURL  string `json:"doc_url,omitempty"`
	// saved reports whether the idempotency layer stores this answer:
	// Stripe saves results once execution began, not parameter
	// validation failures.
	saved  bool
	status int
}

func (e *apiError) Error() string { return e.Message }

func invalidParam(param, format string, args ...any) *apiError {
	return &apiError{status: 400, Type: "invalid_request_error", Param: param, Message: fmt.Sprintf(format, args...)}
}

func stateError(code, param, format string, args ...any) *apiError {
	return &apiError{status: 400, Type: "invalid_request_error", Code: code, Param: param,
		Message: fmt.Sprintf(format, args...), saved: true,
		DocURL: "https://stripe.com/docs/error-codes/" + strings.ReplaceAll(code, "_", "-")}
}

func notFound(kind, param, id string) *apiError {
	return &apiError{status: 404, Type: "invalid_request_error", Code: "resource_missing", Param: param,
		Message: fmt.Sprintf("No such %s: '%s'", kind, id), DocURL: "https://stripe.com/docs/error-codes/resource-missing"}
}

// writeError writes Stripe's error body.
func writeError(w http.ResponseWriter, e *apiError) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.status)
	b, _ := json.MarshalIndent(map[string]*apiError{"error": e}, "", "  ")
	w.Write(b)
}

// injectedError is Stripe's answer for a status injected by fault.
func injectedError(status int) *apiError {
	switch {
	case status == http.StatusTooManyRequests:
		return &apiError{status: status, Type: "invalid_request_error", Code: "rate_limit",
			Message: "Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits.",
			DocURL:  "https://stripe.com/docs/error-codes/rate-limit"}
	case status == http.StatusUnauthorized:
		return &apiError{status: status, Type: "invalid_request_error", Message: "Invalid API Key provided: sk_test_****"}
	case status == http.StatusPaymentRequired:
		return &apiError{status: status, Type: "card_error", Code: "card_declined", Message: "Your card was declined."}
	case status == http.StatusNotFound:
		return &apiError{status: status, Type: "invalid_request_error", Code: "resource_missing", Message: "No such object"}
	case status == http.StatusConflict:
		// Stripe documents 409 as "the request conflicts with another
		// request"; the key-in-use variant is FailNext's or the real
		// idempotency layer's to produce.
		return &apiError{status: status, Type: "invalid_request_error",
			Message: "The request conflicts with another request."}
	case status >= 500:
		return &apiError{status: status, Type: "api_error", Message: "An unknown error occurred"}
	}
	return &apiError{status: status, Type: "invalid_request_error", Message: http.StatusText(status)}
}

func (s *Server) writeInjected(w http.ResponseWriter, r *http.Request, status int) {
	w.Header().Set("Request-Id", s.requestID())
	writeError(w, injectedError(status))
}

func (s *Server) requestID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.newID("req")
}

// newID returns a fresh Stripe-like id; s.mu must be held.
func (s *Server) newID(prefix string) string {
	s.seq++
	return fmt.Sprintf("%s_Kf%020d", prefix, s.seq)
}

// idemEntry is the stored result of a write under an idempotency key.
type idemEntry struct {
	method, path, params string
	created              time.Time
	inFlight             bool
	status               int
	body                 []byte
	requestID            string
}

// serve authenticates, applies Stripe-shaped failures and idempotency, and
// routes.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	rec := Request{Method: r.Method, Path: r.URL.Path, IdempotencyKey: r.Header.Get("Idempotency-Key"),
		StripeVersion: r.Header.Get("Stripe-Version")}
	reqID := s.requestID()
	w.Header().Set("Request-Id", reqID)
	status := http.StatusOK
	defer func() {
		rec.Status = status
		s.mu.Lock()
		s.requests = append(s.requests, rec)
		s.mu.Unlock()
	}()
	fail := func(e *apiError) { status = e.status; writeError(w, e) }

	if e := s.authenticate(r); e != nil {
		fail(e)
		return
	}
	if s.version != "" && rec.StripeVersion != s.version {
		fail(invalidParam("", "Version sent in `Stripe-Version` header '%s' is not '%s'.", rec.StripeVersion, s.version))
		return
	}
	params, e := readParams(r)
	rec.Params = params
	if e != nil {
		fail(e)
		return
	}
	if f, ok := s.nextFailure(r); ok {
		if f.ShouldRetry != "" {
			w.Header().Set("Stripe-Should-Retry", f.ShouldRetry)
		}
		fail(&apiError{status: f.Status, Type: f.Type, Code: f.Code, Message: f.Message})
		return
	}
	if r.Method != http.MethodPost || rec.IdempotencyKey == "" {
		status, _ = s.respond(w, r, params)
		return
	}
	key := rec.IdempotencyKey
	if len(key) > 255 {
		fail(invalidParam("", "Idempotency-Key must be at most 255 characters long."))
		return
	}
	canon := params.Encode()
	s.mu.Lock()
	if old, ok := s.idem[key]; ok && s.now.Sub(old.created) > idempotencyRetention {
		delete(s.idem, key)
	}
	if old, ok := s.idem[key]; ok {
		s.mu.Unlock()
		switch {
		case old.inFlight:
			w.Header().Set("Stripe-Should-Retry", "true")
			fail(&apiError{status: http.StatusConflict, Type: "invalid_request_error", Code: "idempotency_key_in_use",
				Message: "There is currently another in-progress request using this Idempotency Key (that probably means you submitted twice, and the other request is still going through): please try again later."})
		case old.method != r.Method || old.path != r.URL.Path || old.params != canon:
			fail(&apiError{status: http.StatusBadRequest, Type: "idempotency_error",
				Message: fmt.Sprintf("Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '%s' if you meant to execute a different request.", key)})
		default:
			rec.Replayed = true
			status = old.status
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Idempotent-Replayed", "true")
			w.Header().Set("Original-Request", old.requestID)
			w.WriteHeader(old.status)
			w.Write(old.body)
		}
		return
	}
	entry := &idemEntry{method: r.Method, path: r.URL.Path, params: canon, created: s.now, inFlight: true, requestID: reqID}
	s.idem[key] = entry
	hook := s.applyHook
	s.mu.Unlock()
	if hook != nil {
		hook(r)
	}
	buf := httptest.NewRecorder()
	st, saved := s.respond(buf, r, params)
	s.mu.Lock()
	if saved {
		entry.inFlight, entry.status, entry.body = false, st, buf.Body.Bytes()
	} else {
		delete(s.idem, key)
	}
	s.mu.Unlock()
	for k, vs := range buf.Header() {
		w.Header()[k] = vs
	}
	w.WriteHeader(st)
	w.Write(buf.Body.Bytes())
	status = st
}

func (s *Server) nextFailure(r *http.Request) (Failure, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.failures {
		if f.Match == nil || f.Match(r) {
			s.failures = append(s.failures[:i], s.failures[i+1:]...)
			return f, true
		}
	}
	return Failure{}, false
}

// authenticate accepts the key as a Bearer token or as the Basic user, as
// Stripe does.
func (s *Server) authenticate(r *http.Request) *apiError {
	h := r.Header.Get("Authorization")
	var got string
	switch {
	case strings.HasPrefix(h, "Bearer "):
		got = strings.TrimPrefix(h, "Bearer ")
	case strings.HasPrefix(h, "Basic "):
		u, _, _ := r.BasicAuth()
		got = u
	}
	if got == "" {
		return &apiError{status: 401, Type: "invalid_request_error",
			Message: "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY')."}
	}
	if got != s.key {
		return &apiError{status: 401, Type: "invalid_request_error",
			Message: "Invalid API Key provided: " + mask(got)}
	}
	return nil
}

// mask shows a key as Stripe does in its error: prefix and last four.
func mask(k string) string {
	if len(k) <= 12 {
		return "****"
	}
	return k[:8] + "****" + k[len(k)-4:]
}

// readParams reads the query (GET) or the form body (POST).
func readParams(r *http.Request) (url.Values, *apiError) {
	if r.Method == http.MethodGet {
		return r.URL.Query(), nil
	}
	if r.Method != http.MethodPost {
		return nil, &apiError{status: 405, Type: "invalid_request_error", Message: "Unrecognized request method " + r.Method}
	}
	if len(r.URL.RawQuery) > 0 {
		return nil, invalidParam("", "POST parameters must be sent in the body, not the query string.")
	}
	ct := r.Header.Get("Content-Type")
	b, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return nil, invalidParam("", "could not read body")
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return url.Values{}, nil
	}
	if !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		return nil, invalidParam("", "Invalid request: unsupported Content-Type %s. If error persists and you need assistance, please contact support@stripe.com.", ct)
	}
	v, err := url.ParseQuery(string(b))
	if err != nil {
		return nil, invalidParam("", "Invalid request body: not form-encoded.")
	}
	return v, nil
}
