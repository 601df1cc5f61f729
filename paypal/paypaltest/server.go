package paypaltest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/getkin/kin-openapi/routers"
	"github.com/shopspring/decimal"

	"github.com/knyt/knyt/connector/fault"
)

// Defaults of the fake; options change them.
const (
	DefaultClientID   = "fake-client-id"
	DefaultSecret     = "fake-client-secret"
	DefaultTokenTTL   = 32400 * time.Second // what PayPal issues: nine hours
	DefaultSearchLag  = 3 * time.Hour       // Transaction Search's documented worst case
	DefaultFeePercent = "3.49"
	// Payments v2 keeps PayPal-Request-Id for 45 days.
	requestIDRetention = 45 * 24 * time.Hour
	honorPeriod        = 3 * 24 * time.Hour
	authorizationTTL   = 29 * 24 * time.Hour
	refundTimeLimit    = 180 * 24 * time.Hour
	maxSearchWindow    = 31 * 24 * time.Hour
)

// Server is a stateful fake of PayPal's REST API on a loopback
// httptest.Server: OAuth client credentials with expiring tokens; Payments
// v2 authorizations, captures, reauthorizations, voids and refunds with
// PayPal's rules and error shapes; Orders v2 GET; Transaction Search with
// its 31-day window, paging and reporting delay; and webhooks signed with a
// certificate of its own. Every request to an API in PayPal's OpenAPI
// descriptions is validated against them first. Time is a fake clock,
// frozen until Advance. It is safe for concurrent use.
type Server struct {
	srv    *httptest.Server
	faults *fault.Injector
	specs  *specSet
	cfg    config

	mu            sync.Mutex
	offset        time.Duration
	rng           *rand.Rand
	tokens        map[string]time.Time
	tokenRequests int
	requests      []Request
	orders        map[string]*order
	auths         map[string]*authorization
	captures      map[string]*capture
	captureOrder  []string
	refunds       map[string]*refund
	refundOrder   []string
	idem          map[string]*idemEntry
	inflight      map[string]bool
	txs           []*txRow
	events        []*Event
	respErrs      []error
	rejections    []string
	keys          *signingKeys
}

type config struct {
	clientID, secret string
	clock            func() time.Time
	tokenTTL         time.Duration
	searchLag        time.Duration
	zone             *time.Location
	feePercent       decimal.Decimal
	validateResp     bool
	webhookID        string
	certURL          string
	seed             uint64
	processing       time.Duration
	dupInvoice       bool
	account          string
}

// Option configures a Server.
type Option func(*config)

// WithCredentials sets the app credentials the token endpoint accepts.
func WithCredentials(clientID, secret string) Option {
	return func(c *config) { c.clientID, c.secret = clientID, secret }
}

// WithStartTime sets the fake clock's start (default: the real time when
// the server starts, to the second). The clock stands still until Advance.
func WithStartTime(t time.Time) Option {
	return func(c *config) { c.clock = func() time.Time { return t } }
}

// WithClock makes the fake read time from now (plus what Advance added).
func WithClock(now func() time.Time) Option { return func(c *config) { c.clock = now } }

// WithTokenTTL sets the lifetime of issued tokens.
func WithTokenTTL(d time.Duration) Option { return func(c *config) { c.tokenTTL = d } }

// WithSearchLag sets how long after its time a row appears in Transaction
// Search (default three hours); last_refreshed_datetime is the clock less
// the lag.
func WithSearchLag(d time.Duration) Option { return func(c *config) { c.searchLag = d } }

// WithAccountZone sets the account's time zone, in which Transaction
// Search writes dates (default UTC: "…+0000").
func WithAccountZone(loc *time.Location) Option { return func(c *config) { c.zone = loc } }

// WithFeePercent sets the fee charged on captures, in percent of the gross
// (default 3.49); refunds return the same percentage of what they refund.
func WithFeePercent(p string) Option {
	return func(c *config) { c.feePercent = decimal.RequireFromString(p) }
}

// WithResponseValidation validates every answer of the Payments, Orders
// and Webhooks APIs against PayPal's descriptions; a mismatch becomes a 500
// and is listed by ResponseErrors. Transaction Search answers are left out:
// PayPal writes their dates without the offset colon its own description
// requires.
func WithResponseValidation() Option { return func(c *config) { c.validateResp = true } }

// WithWebhookID sets the id of the webhook the fake signs deliveries for.
func WithWebhookID(id string) Option { return func(c *config) { c.webhookID = id } }

// WithCertURL sets the PAYPAL-CERT-URL the fake puts on deliveries
// (default a URL on api.sandbox.paypal.com; the fake serves the certificate
// under that path itself and through CertTransport).
func WithCertURL(u string) Option { return func(c *config) { c.certURL = u } }

// WithSeed seeds the generator of ids and tokens (default 1), so runs are
// repeatable.
func WithSeed(seed uint64) Option { return func(c *config) { c.seed = seed } }

// WithProcessingDelay holds every write this long (real time) between
// accepting it and applying it, during which a second request with the same
// PayPal-Request-Id gets 409 PREVIOUS_REQUEST_IN_PROGRESS.
func WithProcessingDelay(d time.Duration) Option { return func(c *config) { c.processing = d } }

// WithDuplicateInvoiceCheck turns PayPal's "block duplicate invoice ids"
// account setting on (default) or off: a capture or refund whose invoice_id
// was used before gets 422 DUPLICATE_INVOICE_ID.
func WithDuplicateInvoiceCheck(on bool) Option { return func(c *config) { c.dupInvoice = on } }

// WithAccountNumber sets the merchant account number Transaction Search
// reports.
func WithAccountNumber(n string) Option { return func(c *config) { c.account = n } }

// NewServer starts a fake on a loopback port. Close it when done.
func NewServer(opts ...Option) (*Server, error) {
	start := time.Now().UTC().Truncate(time.Second)
	cfg := config{
		clientID: DefaultClientID, secret: DefaultSecret,
		clock:    func() time.Time { return start },
		tokenTTL: DefaultTokenTTL, searchLag: DefaultSearchLag, zone: time.UTC,
		feePercent: decimal.RequireFromString(DefaultFeePercent),
		seed:       1, dupInvoice: true, account: "XZXSPECPDZHZU",
	}
	for _, o := range opts {
		o(&cfg)
	}
	specs, err := loadSpecs()
	if err != nil {
		return nil, err
	}
	s := &Server{
		specs: specs, cfg: cfg,
		rng:    rand.New(rand.NewPCG(cfg.seed, cfg.seed^0x5bd1e995)),
		tokens: map[string]time.Time{}, orders: map[string]*order{}, auths: map[string]*authorization{},
		captures: map[string]*capture{}, refunds: map[string]*refund{}, idem: map[string]*idemEntry{},
		inflight: map[string]bool{},
	}
	if s.cfg.webhookID == "" {
		s.cfg.webhookID = s.newID()
	}
	if s.cfg.certURL == "" {
		s.cfg.certURL = "https://api.sandbox.paypal.com" + certPathPrefix + "CERT-360caa42-fca2a594-" + strings.ToLower(s.newID()[:8])
	}
	mux, err := s.routes()
	if err != nil {
		return nil, err
	}
	s.faults = fault.New(s.writeInjected)
	s.srv = httptest.NewServer(bufferBody(s.faults.Wrap(mux)))
	return s, nil
}

// URL is the base URL to give the client (paypal.WithBaseURL).
func (s *Server) URL() string { return s.srv.URL }

// Close shuts the server down.
func (s *Server) Close() { s.srv.Close() }

// Faults is the fault injector wrapped around every endpoint. Injected
// errors carry PayPal's error body for the status (the OAuth shape on the
// token endpoint).
func (s *Server) Faults() *fault.Injector { return s.faults }

// Credentials are the app credentials the fake accepts.
func (s *Server) Credentials() (clientID, secret string) { return s.cfg.clientID, s.cfg.secret }

// Now is the fake clock's time.
func (s *Server) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nowLocked()
}

func (s *Server) nowLocked() time.Time { return s.cfg.clock().Add(s.offset).UTC() }

// Advance moves the fake clock forward: tokens expire, honour periods end,
// rows become visible to Transaction Search.
func (s *Server) Advance(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.offset += d
}

// TokenRequests counts the calls to the token endpoint that issued a token.
func (s *Server) TokenRequests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokenRequests
}

// ExpireTokens revokes every issued token, as if they had all expired: the
// next API call gets 401 invalid_token.
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.tokens)
}

// Request is one API request the fake answered (the token endpoint and
// certificate downloads are not listed).
type Request struct {
	Method    string
	Path      string
	Query     string // raw query
	RequestID string // PayPal-Request-Id
	Prefer    string
	Status    int
	Replayed  bool // answered from the PayPal-Request-Id store
}

// Requests lists the API requests answered so far, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Rejections lists why requests failed validation against PayPal's
// descriptions, oldest first (the 400 answers carry PayPal's fixed
// descriptions, not these reasons).
func (s *Server) Rejections() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.rejections...)
}

// ResponseErrors lists the answers that did not match PayPal's
// descriptions (with WithResponseValidation).
func (s *Server) ResponseErrors() []error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]error(nil), s.respErrs...)
}

const idAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"

// newID makes a PayPal-looking 17-character id; s.mu is held or the server
// is not yet shared.
func (s *Server) newID() string {
	var b [17]byte
	for i := range b {
		b[i] = idAlphabet[s.rng.IntN(len(idAlphabet))]
	}
	return string(b[:])
}

func (s *Server) debugID() string {
	const hex = "0123456789abcdef"
	var b [13]byte
	for i := range b {
		b[i] = hex[s.rng.IntN(16)]
	}
	return string(b[:])
}

// ---- errors in PayPal's shapes ----

// apiError is PayPal's REST error body.
type apiError struct {
	Name    string        `json:"name"`
	Message string        `json:"message"`
	DebugID string        `json:"debug_id"`
	Details []errorDetail `json:"details,omitempty"`
	Links   []link        `json:"links,omitempty"`
}

type errorDetail struct {
	Field       string `json:"field,omitempty"`
	Value       string `json:"value,omitempty"`
	Location    string `json:"location,omitempty"`
	Issue       string `json:"issue"`
	Description string `json:"description,omitempty"`
}

type link struct {
	Href   string `json:"href"`
	Rel    string `json:"rel"`
	Method string `json:"method,omitempty"`
}

// statusNames are PayPal's error names and messages per status
// (payments_payment_v2.json error_400 … error_503).
var statusNames = map[int][2]string{
	400: {"INVALID_REQUEST", "Request is not well-formed, syntactically incorrect, or violates schema."},
	401: {"AUTHENTICATION_FAILURE", "Authentication failed due to missing authorization header, or invalid authentication credentials."},
	403: {"NOT_AUTHORIZED", "Authorization failed due to insufficient permissions."},
	404: {"RESOURCE_NOT_FOUND", "The specified resource does not exist."},
	409: {"RESOURCE_CONFLICT", "The server has detected a conflict while processing this request."},
	415: {"UNSUPPORTED_MEDIA_TYPE", "The server does not support the request payload's media type."},
	422: {"UNPROCESSABLE_ENTITY", "The requested action could not be performed, semantically incorrect, or failed business validation."},
	429: {"RATE_LIMIT_REACHED", "Too many requests. Blocked due to rate limiting."},
	500: {"INTERNAL_SERVER_ERROR", "An internal server error occurred."},
	503: {"SERVICE_UNAVAILABLE", "Service Unavailable."},
}

func (s *Server) errBody(status int, details ...errorDetail) apiError {
	nm, ok := statusNames[status]
	if !ok {
		nm = [2]string{"INTERNAL_SERVER_ERROR", "An internal server error occurred."}
	}
	e := apiError{Name: nm[0], Message: nm[1], DebugID: s.debugID(), Details: details}
	if len(details) > 0 {
		e.Links = []link{{Href: "https://developer.paypal.com/docs/api/payments/v2/#error-" + details[0].Issue, Rel: "information_link", Method: "GET"}}
	}
	return e
}

// oauthError is the OAuth endpoints' (and stale tokens') error body.
type oauthError struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
}

// writeInjected answers an injected fault in PayPal's shape.
func (s *Server) writeInjected(w http.ResponseWriter, r *http.Request, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.URL.Path == tokenPath {
		body := oauthError{Error: "server_error", ErrorDescription: http.StatusText(status)}
		switch status {
		case 400:
			body = oauthError{Error: "invalid_request", ErrorDescription: "Request is not well-formed"}
		case 401:
			body = oauthError{Error: "invalid_client", ErrorDescription: "Client Authentication failed"}
		}
		writeJSON(w, status, s.debugID(), body)
		return
	}
	writeJSON(w, status, s.debugID(), s.errBody(status))
}

func writeJSON(w http.ResponseWriter, status int, debugID string, body any) {
	b, err := json.Marshal(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Paypal-Debug-Id", debugID)
	w.WriteHeader(status)
	w.Write(b)
}

// maxBody bounds request bodies; PayPal's are a few KiB.
const maxBody = 1 << 20

// bufferBody reads each request body before anything else runs. Until a
// body has been read to its end, net/http does not notice a client that
// hangs up, so a Hang fault on a POST would outlive its client (and block
// Close); read up front, the request's context ends when the client goes.
func bufferBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil && r.Body != http.NoBody {
			b, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
			if err != nil {
				return
			}
			if len(b) > maxBody {
				http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(b))
		}
		next.ServeHTTP(w, r)
	})
}

// ---- dispatch ----

// reply is what a handler answers. render draws the body from the current
// state, so that a request repeated with its PayPal-Request-Id gets "the
// latest status of the previous request", as PayPal documents.
type reply struct {
	status int
	render func(prefer string) any
}

func (s *Server) fail(status int, details ...errorDetail) reply {
	body := s.errBody(status, details...)
	return reply{status: status, render: func(string) any { return body }}
}

func issue(code, desc string) errorDetail { return errorDetail{Issue: code, Description: desc} }

func fieldIssue(field, value, location, code, desc string) errorDetail {
	return errorDetail{Field: field, Value: value, Location: location, Issue: code, Description: desc}
}

type call struct {
	r      *http.Request
	body   []byte
	prefer string
}

type handler func(c *call) reply

type idemEntry struct {
	status int
	render func(prefer string) any
	at     time.Time
}

const tokenPath = "/v1/oauth2/token"

func (s *Server) routes() (*http.ServeMux, error) {
	mux := http.NewServeMux()
	type ep struct {
		spec, method, path string
		h                  handler
		skipReadOnly       bool
	}
	eps := []ep{
		{specPayments, "GET", "/v2/payments/authorizations/{authorization_id}", s.getAuthorization, false},
		{specPayments, "POST", "/v2/payments/authorizations/{authorization_id}/capture", s.captureAuthorization, false},
		{specPayments, "POST", "/v2/payments/authorizations/{authorization_id}/reauthorize", s.reauthorize, false},
		{specPayments, "POST", "/v2/payments/authorizations/{authorization_id}/void", s.void, false},
		{specPayments, "GET", "/v2/payments/captures/{capture_id}", s.getCapture, false},
		{specPayments, "POST", "/v2/payments/captures/{capture_id}/refund", s.refundCapture, false},
		{specPayments, "GET", "/v2/payments/refunds/{refund_id}", s.getRefund, false},
		{specOrders, "GET", "/v2/checkout/orders/{id}", s.getOrder, false},
		{specSearch, "GET", "/v1/reporting/transactions", s.searchTransactions, false},
		// A webhook event's fields are read-only in the description, yet
		// the verification call sends the whole event back.
		{specWebhooks, "POST", "/v1/notifications/verify-webhook-signature", s.verifyWebhook, true},
	}
	for _, e := range eps {
		route, err := s.specs.route(e.spec, e.method, e.path)
		if err != nil {
			return nil, err
		}
		mux.Handle(e.method+" "+e.path, s.api(route, e.spec, e.h, e.skipReadOnly))
	}
	mux.HandleFunc("POST "+tokenPath, s.token)
	mux.HandleFunc("GET "+certPathPrefix+"{name}", s.serveCert)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		writeJSON(w, http.StatusNotFound, s.debugID(), s.errBody(http.StatusNotFound, issue("INVALID_RESOURCE_ID", "no such endpoint")))
	})
	return mux, nil
}

// api wraps a handler with what every PayPal endpoint does: bearer token
// check, validation against the description, PayPal-Request-Id replay, and
// PayPal's answer headers.
func (s *Server) api(route *routers.Route, spec string, h handler, skipReadOnly bool) http.Handler {
	params := pathParams(route.Path)
	descs := map[int]map[string]string{}
	for _, st := range []int{400, 401, 403, 404, 409, 415, 422} {
		descs[st] = issueDescriptions(route, st)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body) // bounded by bufferBody
		if err != nil {
			return // the client went away
		}
		pv := map[string]string{}
		for _, p := range params {
			pv[p] = r.PathValue(p)
		}
		rec := Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, RequestID: r.Header.Get("PayPal-Request-Id"), Prefer: r.Header.Get("Prefer")}
		status, out := s.serve(r, body, route, pv, h, skipReadOnly, &rec)
		if e, ok := out.(apiError); ok {
			for i, d := range e.Details {
				if text, ok := descs[status][d.Issue]; ok {
					e.Details[i].Description = text
				}
			}
		}
		var buf []byte
		if out != nil {
			if buf, err = json.Marshal(out); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
		}
		s.mu.Lock()
		if s.cfg.validateResp && spec != specSearch {
			if verr := validateResponse(r, pv, route, status, http.Header{"Content-Type": {"application/json"}}, buf); verr != nil {
				s.respErrs = append(s.respErrs, fmt.Errorf("%s %s → %d: %w", r.Method, r.URL.Path, status, verr))
				status, buf = http.StatusInternalServerError, []byte(`{"name":"INTERNAL_SERVER_ERROR","message":"fake answer does not match the description"}`)
			}
		}
		rec.Status = status
		s.requests = append(s.requests, rec)
		dbg := s.debugID()
		s.mu.Unlock()
		w.Header().Set("Paypal-Debug-Id", dbg)
		if buf == nil {
			w.WriteHeader(status)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		w.Write(buf)
	})
}

func (s *Server) serve(r *http.Request, body []byte, route *routers.Route, pv map[string]string, h handler, skipReadOnly bool, rec *Request) (int, any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st, out := s.checkBearer(r); st != 0 {
		return st, out
	}
	if vi := validateRequest(r, body, route, pv, skipReadOnly); vi != nil {
		s.rejections = append(s.rejections, fmt.Sprintf("%s %s: %s: %s", r.Method, r.URL.Path, vi.field, vi.desc))
		d := errorDetail{Field: vi.field, Location: vi.location, Issue: vi.issue, Description: vi.desc}
		return vi.status, s.errBody(vi.status, d)
	}
	c := &call{r: r, body: body, prefer: r.Header.Get("Prefer")}
	key := ""
	if r.Method == http.MethodPost && rec.RequestID != "" {
		key = r.URL.Path + "\x00" + rec.RequestID
		if e, ok := s.idem[key]; ok && s.nowLocked().Sub(e.at) < requestIDRetention {
			rec.Replayed = true
			return e.status, e.render(c.prefer)
		}
		if s.inflight[key] {
			return http.StatusConflict, s.errBody(http.StatusConflict, issue("PREVIOUS_REQUEST_IN_PROGRESS", "A previous request with the same PayPal-Request-Id is still being processed."))
		}
		if s.cfg.processing > 0 {
			s.inflight[key] = true
			s.mu.Unlock()
			t := time.NewTimer(s.cfg.processing)
			select {
			case <-t.C:
			case <-r.Context().Done():
			}
			t.Stop()
			s.mu.Lock()
			delete(s.inflight, key)
		}
	}
	rp := h(c)
	if key != "" && rp.status < 300 {
		s.idem[key] = &idemEntry{status: rp.status, render: rp.render, at: s.nowLocked()}
	}
	if rp.render == nil {
		return rp.status, nil
	}
	return rp.status, rp.render(c.prefer)
}

// pathParams lists the {names} of a path template.
func pathParams(tpl string) []string {
	var out []string
	for rest := tpl; ; {
		i := strings.IndexByte(rest, '{')
		if i < 0 {
			return out
		}
		j := strings.IndexByte(rest[i:], '}')
		out = append(out, rest[i+1:i+j])
		rest = rest[i+j:]
	}
}

// ---- OAuth ----

func (s *Server) checkBearer(r *http.Request) (int, any) {
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || tok == "" {
		return http.StatusUnauthorized, s.errBody(http.StatusUnauthorized)
	}
	exp, ok := s.tokens[tok]
	if !ok || !s.nowLocked().Before(exp) {
		return http.StatusUnauthorized, oauthError{Error: "invalid_token", ErrorDescription: "Access Token not found in cache"}
	}
	return 0, nil
}

// token is POST /v1/oauth2/token (client credentials, HTTP Basic).
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<16))
	if err != nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	dbg := s.debugID()
	id, secret, ok := r.BasicAuth()
	if !ok || id != s.cfg.clientID || secret != s.cfg.secret {
		writeJSON(w, http.StatusUnauthorized, dbg, oauthError{Error: "invalid_client", ErrorDescription: "Client Authentication failed"})
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		writeJSON(w, http.StatusBadRequest, dbg, oauthError{Error: "invalid_request", ErrorDescription: "Content-Type must be application/x-www-form-urlencoded"})
		return
	}
	form, err := parseForm(body)
	if err != nil || form["grant_type"] != "client_credentials" {
		writeJSON(w, http.StatusBadRequest, dbg, oauthError{Error: "unsupported_grant_type", ErrorDescription: "Grant Type is NULL or not client_credentials"})
		return
	}
	raw := make([]byte, 72)
	for i := range raw {
		raw[i] = byte(s.rng.IntN(256))
	}
	tok := "A21AA" + base64.RawURLEncoding.EncodeToString(raw)
	s.tokens[tok] = s.nowLocked().Add(s.cfg.tokenTTL)
	s.tokenRequests++
	writeJSON(w, http.StatusOK, dbg, map[string]any{
		"scope":        "https://uri.paypal.com/services/payments/payment/authcapture https://uri.paypal.com/services/payments/refund https://uri.paypal.com/services/reporting/search/read https://uri.paypal.com/services/applications/webhooks",
		"access_token": tok,
		"token_type":   "Bearer",
		"app_id":       "APP-80W284485P519543T",
		"expires_in":   int64(s.cfg.tokenTTL / time.Second),
		"nonce":        s.nowLocked().Format(time.RFC3339) + s.debugID(),
	})
}

func parseForm(b []byte) (map[string]string, error) {
	out := map[string]string{}
	for _, kv := range bytes.Split(b, []byte("&")) {
		k, v, ok := bytes.Cut(kv, []byte("="))
		if !ok {
			return nil, errors.New("not a form")
		}
		out[string(k)] = string(v)
	}
	return out, nil
}

// ---- small helpers ----

// render helpers write payments times as RFC 3339 UTC, like Payments v2.
func (s *Server) rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func (s *Server) decodeBody(c *call, v any) *reply {
	if len(bytes.TrimSpace(c.body)) == 0 {
		return nil
	}
	if err := json.Unmarshal(c.body, v); err != nil {
		rp := s.fail(http.StatusBadRequest, fieldIssue("", "", "body", "INVALID_PARAMETER_SYNTAX", "The request JSON is not well formed."))
		return &rp
	}
	return nil
}
