package shopifytest

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/knyt/knyt/connector/fault"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/validator"
)

// Server is a fake Shopify shop serving the GraphQL Admin API on loopback.
// Create it with NewServer and Close it when done. It is safe for
// concurrent use.
type Server struct {
	opts   options
	http   *httptest.Server
	faults *fault.Injector
	bucket *bucket
	hooks  *webhookSender

	// mu guards st and the counters; a request executes under it, so
	// requests apply one at a time as in a single shop database.
	mu     sync.Mutex
	st     *state
	closed bool // bulk files written after Close are removed at once

	clockMu sync.Mutex
	offset  time.Duration

	tokensMu sync.Mutex
	tokens   map[string]time.Time // issued client-credential tokens → expiry

	statsMu sync.Mutex
	stats   Stats
}

// Stats counts what the fake answered.
type Stats struct {
	Requests        int     // GraphQL requests that reached the API (after auth)
	Throttled       int     // THROTTLED answers
	MaxCostExceeded int     // MAX_COST_EXCEEDED answers
	InvalidQueries  int     // answers with validation errors
	ActualCost      float64 // sum of actualQueryCost over executed requests
	// IdempotentReplays counts @idempotent mutations answered from the
	// remembered result instead of running again.
	IdempotentReplays int
	// StaleQuantities counts CHANGE_FROM_QUANTITY_STALE user errors.
	StaleQuantities int
	RequestedCost   float64 // sum of requestedQueryCost over executed requests
}

type options struct {
	shop           string
	token          string
	clientID       string
	clientSecret   string
	tokenTTL       time.Duration
	profile        Profile
	scale          float64
	clock          func() time.Time
	currency       string
	webhookSecret  string
	throttleStatus int
	bulkDelay      time.Duration
	maxBody        int64
}

// Option configures a Server.
type Option func(*options)

// WithShop sets the shop name; its domain is name.myshopify.com
// (default "knyt-test").
func WithShop(name string) Option { return func(o *options) { o.shop = name } }

// WithAccessToken sets the static Admin API access token the fake accepts
// in X-Shopify-Access-Token (default DefaultAccessToken). Empty disables
// static tokens, leaving only client-credential tokens.
func WithAccessToken(token string) Option { return func(o *options) { o.token = token } }

// WithClientCredentials enables POST /admin/oauth/access_token with
// grant_type=client_credentials for this client id and secret; issued
// tokens expire after WithTokenTTL.
func WithClientCredentials(id, secret string) Option {
	return func(o *options) { o.clientID, o.clientSecret = id, secret }
}

// WithTokenTTL sets the lifetime of client-credential tokens (default 24 h,
// as Shopify's), measured on the fake's clock.
func WithTokenTTL(d time.Duration) Option { return func(o *options) { o.tokenTTL = d } }

// WithProfile sets the cost bucket (default Standard: 2000 points,
// restoring 100 per second).
func WithProfile(p Profile) Option { return func(o *options) { o.profile = p } }

// WithTimeScale multiplies the bucket's restore rate so tests run fast:
// with scale 100 the Standard bucket restores 10,000 points per second. The
// throttleStatus the fake reports carries the scaled rate, so a client that
// paces on what the server says paces correctly.
func WithTimeScale(scale float64) Option { return func(o *options) { o.scale = scale } }

// WithClock sets the fake's clock (default time.Now); Advance moves it on.
// The clock stamps records (createdAt, updatedAt), refills the bucket and
// expires tokens.
func WithClock(now func() time.Time) Option { return func(o *options) { o.clock = now } }

// WithCurrency sets the shop currency (default SEK).
func WithCurrency(code string) Option { return func(o *options) { o.currency = code } }

// WithWebhookSecret sets the app client secret that signs webhooks
// (default DefaultWebhookSecret).
func WithWebhookSecret(secret string) Option { return func(o *options) { o.webhookSecret = secret } }

// WithThrottleHTTPStatus makes THROTTLED answers use this HTTP status (429,
// with Retry-After) instead of Shopify's usual 200.
func WithThrottleHTTPStatus(code int) Option { return func(o *options) { o.throttleStatus = code } }

// WithBulkDelay makes bulk operations stay RUNNING for d of the fake's
// clock before they complete (default 0: complete as soon as created).
func WithBulkDelay(d time.Duration) Option { return func(o *options) { o.bulkDelay = d } }

// Defaults for the credentials the fake accepts.
const (
	DefaultAccessToken   = "shpat_fake0000000000000000000000"
	DefaultWebhookSecret = "shpss_fake_webhook_secret"
)

// NewServer starts a fake shop on a loopback httptest server.
func NewServer(opts ...Option) *Server {
	o := options{
		shop:           "knyt-test",
		token:          DefaultAccessToken,
		tokenTTL:       24 * time.Hour,
		profile:        Standard,
		scale:          1,
		clock:          time.Now,
		currency:       "SEK",
		webhookSecret:  DefaultWebhookSecret,
		throttleStatus: http.StatusOK,
		maxBody:        8 << 20,
	}
	for _, opt := range opts {
		opt(&o)
	}
	if o.scale <= 0 {
		o.scale = 1
	}
	mustSchema()
	s := &Server{opts: o, st: newState(o.currency), tokens: map[string]time.Time{}}
	s.bucket = newBucket(o.profile, o.scale, s.now())
	s.faults = fault.New(s.errorBody)
	s.hooks = newWebhookSender(s)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /admin/api/{version}/graphql.json", s.serveGraphQL)
	mux.HandleFunc("POST /admin/oauth/access_token", s.serveToken)
	mux.HandleFunc("GET /bulk/{file}", s.serveBulkFile)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, map[string]any{"errors": "Not Found"})
	})
	s.http = httptest.NewServer(readBodyFirst(s.opts.maxBody, s.faults.Wrap(mux)))
	return s
}

// readBodyFirst reads the request body before the fault injector sees the
// request: net/http notices a client that went away only once the body has
// been read, and an injected Hang must end when the client gives up.
func readBodyFirst(limit int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil {
			b, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
			if err != nil {
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(b))
		}
		next.ServeHTTP(w, r)
	})
}

// URL is the base URL of the fake, e.g. http://127.0.0.1:1234; the Admin
// API is at URL()+"/admin/api/2026-10/graphql.json".
func (s *Server) URL() string { return s.http.URL }

// GraphQLURL is the Admin API endpoint for the fake's version.
func (s *Server) GraphQLURL() string {
	return s.http.URL + "/admin/api/" + APIVersion + "/graphql.json"
}

// Shop is the shop's myshopify domain, as sent in webhooks.
func (s *Server) Shop() string { return s.opts.shop + ".myshopify.com" }

// AccessToken is the static token the fake accepts.
func (s *Server) AccessToken() string { return s.opts.token }

// WebhookSecret is the secret webhooks are signed with.
func (s *Server) WebhookSecret() string { return s.opts.webhookSecret }

// Client returns an HTTP client for the fake.
func (s *Server) Client() *http.Client { return s.http.Client() }

// Faults is the fault injector wrapping the fake's handler: queue 5xx
// answers, hangs, dropped connections and lost answers with it.
func (s *Server) Faults() *fault.Injector { return s.faults }

// Close stops the server and the webhook sender.
func (s *Server) Close() {
	s.hooks.close()
	s.http.Close()
}

// Now is the fake's current time.
func (s *Server) Now() time.Time { return s.now() }

func (s *Server) now() time.Time {
	s.clockMu.Lock()
	defer s.clockMu.Unlock()
	return s.opts.clock().Add(s.offset).UTC()
}

// Advance moves the fake's clock on by d (the bucket refills, tokens
// expire, bulk operations finish).
func (s *Server) Advance(d time.Duration) {
	s.clockMu.Lock()
	s.offset += d
	s.clockMu.Unlock()
}

// Stats returns the counters.
func (s *Server) Stats() Stats {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	return s.stats
}

// ThrottleStatus is the bucket as the fake would report it now.
func (s *Server) ThrottleStatus() (maximum float64, available int, restoreRate float64) {
	st := s.bucket.status(s.now())
	return float64(st.MaximumAvailable), st.CurrentlyAvailable, float64(st.RestoreRate)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"errors":"Internal Server Error"}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(b)
}

// errorBody writes Shopify's error answer for an HTTP status, used for
// injected faults and transport-level refusals. Shopify answers these
// outside GraphQL with {"errors": "<text>"}; the texts for 401 and 429 are
// the observed ones, the others follow the HTTP status text (unverified).
func (s *Server) errorBody(w http.ResponseWriter, r *http.Request, status int) {
	w.Header().Set("X-Request-Id", requestID())
	msg := http.StatusText(status)
	switch status {
	case http.StatusUnauthorized:
		msg = "[API] Invalid API key or access token (unrecognized login or wrong password)"
	case http.StatusPaymentRequired:
		msg = "Unavailable Shop"
	case http.StatusForbidden:
		msg = "[API] This action requires merchant approval for the requested scope."
	case http.StatusLocked:
		msg = "This shop is locked"
	case http.StatusTooManyRequests:
		if w.Header().Get("Retry-After") == "" {
			w.Header().Set("Retry-After", "1.0")
		}
		msg = "Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service."
	}
	writeJSON(w, status, map[string]any{"errors": msg})
}

func requestID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (s *Server) authorized(r *http.Request) bool {
	tok := r.Header.Get("X-Shopify-Access-Token")
	if tok == "" {
		return false
	}
	if s.opts.token != "" && tok == s.opts.token {
		return true
	}
	s.tokensMu.Lock()
	defer s.tokensMu.Unlock()
	exp, ok := s.tokens[tok]
	return ok && s.now().Before(exp)
}

// serveToken implements the client-credentials grant.
func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "invalid_request", "error_description": "malformed form body"})
		return
	}
	if r.PostForm.Get("grant_type") != "client_credentials" {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "unsupported_grant_type", "error_description": "grant_type must be client_credentials"})
		return
	}
	if s.opts.clientID == "" || r.PostForm.Get("client_id") != s.opts.clientID || r.PostForm.Get("client_secret") != s.opts.clientSecret {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"error": "invalid_client", "error_description": "Client authentication failed"})
		return
	}
	tok := "shpat_" + requestID()
	s.tokensMu.Lock()
	s.tokens[tok] = s.now().Add(s.opts.tokenTTL)
	s.tokensMu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": tok,
		"scope":        "read_products,write_products,read_inventory,write_inventory,read_locations,read_orders,write_orders,read_all_orders,read_merchant_managed_fulfillment_orders,write_merchant_managed_fulfillment_orders,read_returns,read_shopify_payments_payouts",
		"expires_in":   int(s.opts.tokenTTL.Seconds()),
	})
}

// IssuedTokens is the number of client-credential tokens issued so far.
func (s *Server) IssuedTokens() int {
	s.tokensMu.Lock()
	defer s.tokensMu.Unlock()
	return len(s.tokens)
}

type gqlRequest struct {
	Query         string         `json:"query"`
	Variables     map[string]any `json:"variables"`
	OperationName string         `json:"operationName"`
}

type gqlResponse struct {
	Data       any            `json:"data,omitempty"`
	Errors     Errors         `json:"errors,omitempty"`
	Extensions map[string]any `json:"extensions,omitempty"`
}

// serveGraphQL is POST /admin/api/{version}/graphql.json.
func (s *Server) serveGraphQL(w http.ResponseWriter, r *http.Request) {
	// Unknown or unsupported versions fall forward to the version served.
	w.Header().Set("X-Shopify-API-Version", APIVersion)
	w.Header().Set("X-Request-Id", requestID())
	if !s.authorized(r) {
		s.errorBody(w, r, http.StatusUnauthorized)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, s.opts.maxBody+1))
	if err != nil {
		return
	}
	if int64(len(body)) > s.opts.maxBody {
		writeJSON(w, http.StatusRequestEntityTooLarge, map[string]any{"errors": "Request Entity Too Large"})
		return
	}
	var req gqlRequest
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/graphql") {
		req.Query = string(body)
	} else {
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		if err := dec.Decode(&req); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]any{"errors": "Invalid JSON in request body"})
			return
		}
	}
	if strings.TrimSpace(req.Query) == "" {
		writeJSON(w, http.StatusBadRequest, map[string]any{"errors": map[string]any{"query": "Required parameter missing or invalid"}})
		return
	}
	s.statsMu.Lock()
	s.stats.Requests++
	s.statsMu.Unlock()
	status, resp, retryAfter := s.execute(req)
	if retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.FormatFloat(math.Ceil(retryAfter.Seconds()*10)/10, 'f', 1, 64))
	}
	writeJSON(w, status, resp)
}

// execute runs one GraphQL request: validate, cost, throttle, execute.
func (s *Server) execute(req gqlRequest) (int, gqlResponse, time.Duration) {
	doc, errs := parseAndValidate(req.Query)
	if errs != nil {
		s.count(func(st *Stats) { st.InvalidQueries++ })
		return http.StatusOK, gqlResponse{Errors: errs}, 0
	}
	op, oerr := pickOperation(doc, req.OperationName)
	if oerr != nil {
		s.count(func(st *Stats) { st.InvalidQueries++ })
		return http.StatusOK, gqlResponse{Errors: Errors{*oerr}}, 0
	}
	sch := mustSchema()
	vars, err := validator.VariableValues(sch, op, req.Variables)
	if err != nil {
		s.count(func(st *Stats) { st.InvalidQueries++ })
		return http.StatusOK, gqlResponse{Errors: Errors{variableError(op, err)}}, 0
	}
	ex := &executor{schema: sch, doc: doc, vars: vars}
	requested := ex.requestedCost(op)
	now := s.now()
	if requested > MaxQueryCost {
		s.count(func(st *Stats) { st.MaxCostExceeded++ })
		return http.StatusOK, gqlResponse{
			Errors: Errors{{
				Message: "Query cost is " + strconv.Itoa(requested) + ", which exceeds the single query max cost limit (" + strconv.Itoa(MaxQueryCost) + ").\n\n" +
					"See https://shopify.dev/concepts/about-apis/rate-limits for more information on how the\ncost of a query is calculated.\n\n" +
					"To query larger amounts of data with fewer limits, bulk operations should be used instead.\n" +
					"See https://shopify.dev/tutorials/perform-bulk-operations-with-admin-api for usage details.\n",
				Extensions: map[string]any{"code": "MAX_COST_EXCEEDED", "cost": requested, "maxCost": MaxQueryCost, "documentation": "https://shopify.dev/api/usage/rate-limits"},
			}},
			Extensions: map[string]any{"cost": costExtension{RequestedQueryCost: requested, ThrottleStatus: s.bucket.status(now)}},
		}, 0
	}
	if !s.bucket.take(requested, now) {
		s.count(func(st *Stats) { st.Throttled++ })
		resp := gqlResponse{
			Errors: Errors{{
				Message:    "Throttled",
				Extensions: map[string]any{"code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"},
			}},
			Extensions: map[string]any{"cost": costExtension{RequestedQueryCost: requested, ThrottleStatus: s.bucket.status(now)}},
		}
		var wait time.Duration
		if s.opts.throttleStatus != http.StatusOK {
			wait = s.bucket.wait(requested, now)
			if wait <= 0 {
				wait = time.Millisecond
			}
		}
		return s.opts.throttleStatus, resp, wait
	}

	s.mu.Lock()
	var data *omap
	if op.Operation == ast.Mutation {
		ex.noCost = true
		data = ex.run(sch.Mutation, s.mutationRoot(ex), op.SelectionSet)
		ex.cost = float64(requested)
	} else {
		data = ex.run(sch.Query, s.queryRoot(), op.SelectionSet)
	}
	s.mu.Unlock()

	actual := int(math.Ceil(ex.cost - 1e-9))
	if actual > requested {
		actual = requested
	}
	s.bucket.refund(float64(requested-actual), s.now())
	s.count(func(st *Stats) {
		st.ActualCost += float64(actual)
		st.RequestedCost += float64(requested)
	})
	resp := gqlResponse{Errors: ex.errs, Extensions: map[string]any{"cost": costExtension{
		RequestedQueryCost: requested, ActualQueryCost: &actual, ThrottleStatus: s.bucket.status(s.now()),
	}}}
	if data != nil {
		resp.Data = data
	} else {
		resp.Data = json.RawMessage("null")
	}
	return http.StatusOK, resp, 0
}

func (s *Server) count(f func(*Stats)) {
	s.statsMu.Lock()
	f(&s.stats)
	s.statsMu.Unlock()
}

func pickOperation(doc *ast.QueryDocument, name string) (*ast.OperationDefinition, *Error) {
	if name != "" {
		if op := doc.Operations.ForName(name); op != nil {
			return op, nil
		}
		return nil, &Error{Message: "No operation named \"" + name + "\""}
	}
	if len(doc.Operations) == 1 {
		return doc.Operations[0], nil
	}
	if len(doc.Operations) == 0 {
		return nil, &Error{Message: "Document does not contain any operations"}
	}
	return nil, &Error{Message: "An operation name is required"}
}

// variableError words a variable coercion failure like graphql-ruby does
// ("Variable $id of type ID! was provided invalid value"), with the
// problem in extensions.problems.
func variableError(op *ast.OperationDefinition, err error) Error {
	msg := err.Error()
	name, typ := "", ""
	for _, v := range op.VariableDefinitions {
		if strings.Contains(msg, "variable."+v.Variable) {
			name, typ = v.Variable, v.Type.String()
			break
		}
	}
	explanation := msg
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		explanation = msg[i+2:]
	}
	if strings.HasSuffix(msg, "must be defined") || strings.HasSuffix(msg, "cannot be null") {
		explanation = "Expected value to not be null"
	}
	e := Error{
		Message:    "Variable $" + name + " of type " + typ + " was provided invalid value",
		Extensions: map[string]any{"code": "INVALID_VARIABLE", "problems": []any{map[string]any{"path": []any{}, "explanation": explanation}}},
	}
	if name == "" {
		e.Message = "Variables are invalid: " + msg
	}
	for _, v := range op.VariableDefinitions {
		if v.Variable == name && v.Position != nil {
			e.Locations = []ErrorLocation{{Line: v.Position.Line, Column: v.Position.Column}}
		}
	}
	return e
}
