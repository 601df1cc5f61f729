package klarnatest

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	"github.com/knyt/knyt/connector/fault"
	"github.com/knyt/knyt/klarna"
)

// Default credentials of a fake; both are long enough to be redacted by the
// connector's redactor.
const (
	DefaultUsername = "4f3c2e1a-klarnatest-user"
	DefaultPassword = "klarna_test_api_fakesecret0123456789"
)

// DefaultMerchantID is the merchant id the fake reports on payouts.
const DefaultMerchantID = "KNYT0001"

// idempotencyWindow is how long Klarna honours an idempotency key.
const idempotencyWindow = 24 * time.Hour

// maxBody bounds request bodies; Klarna answers 413 REQUEST_TOO_LARGE.
const maxBody = 1 << 20

// Server is a stateful fake of Klarna's Order Management and Settlements
// APIs on loopback. See the package documentation.
type Server struct {
	srv             *httptest.Server
	faults          *fault.Injector
	specs           *specs
	username        string
	password        string
	merchantID      string
	country         string
	validateAnswers bool
	ttl             time.Duration
	fees            Fees
	rate            int

	mu        sync.Mutex
	now       time.Time
	seq       uint64
	orders    map[string]*order
	idem      map[string]*stored
	payouts   []*payout
	debt      map[string]int64 // closing debt balance per currency
	heldBack  map[string]int64 // holdback of the last payout, released by the next
	calls     map[string]int
	replays   int
	rateStart time.Time
	rateCount int
}

// Fees configures the fees the fake charges in settlements. Percent is in
// basis points of the captured amount (249 = 2.49 %), Fixed in minor units
// per capture, VATRate in basis points (2500 = 25 %, Swedish VAT, which
// Klarna Bank AB charges on its fees). HoldbackBasisPoints of the sales of
// each payout are held back and released with the next payout. These are
// example values for tests, not Klarna's price list.
type Fees struct {
	PercentBasisPoints  int64
	Fixed               int64
	VATRate             int64
	HoldbackBasisPoints int64
}

// DefaultFees are 2.49 % + 2.90 per capture with 25 % VAT and no holdback.
var DefaultFees = Fees{PercentBasisPoints: 249, Fixed: 290, VATRate: 2500}

// Option configures a Server.
type Option func(*Server)

// WithCredentials sets the Basic credentials the fake accepts.
func WithCredentials(username, password string) Option {
	return func(s *Server) { s.username, s.password = username, password }
}

// WithMerchantID sets the merchant id on payouts.
func WithMerchantID(id string) Option { return func(s *Server) { s.merchantID = id } }

// WithStartTime sets the fake clock's start (default: the real time at
// NewServer, truncated to the second). The clock moves only with Advance.
func WithStartTime(t time.Time) Option { return func(s *Server) { s.now = t.UTC() } }

// WithAuthorizationTTL sets how long a new authorization can be captured
// (default 28 days, a commonly quoted figure; Klarna's real period depends
// on the contract and is what expires_at says).
func WithAuthorizationTTL(d time.Duration) Option { return func(s *Server) { s.ttl = d } }

// WithFees sets the fees and holdback of generated settlements.
func WithFees(f Fees) Option { return func(s *Server) { s.fees = f } }

// WithRateLimit makes the fake answer 429 TOO_MANY_REQUESTS with Klarna's
// X-Ratelimit-* headers once more than n requests arrive within one
// second of real time (0, the default, means no limit).
func WithRateLimit(n int) Option { return func(s *Server) { s.rate = n } }

// WithoutResponseValidation turns off the check of the fake's own answers
// against the OpenAPI descriptions, for tests that seed data outside them
// (an unknown transaction type, say).
func WithoutResponseValidation() Option { return func(s *Server) { s.validateAnswers = false } }

// NewServer starts a fake on a loopback port. Close it when done.
func NewServer(opts ...Option) *Server {
	sp, err := loadSpecs()
	if err != nil {
		panic(err) // the embedded files are part of the package: this cannot fail at run time
	}
	s := &Server{
		specs: sp, username: DefaultUsername, password: DefaultPassword, merchantID: DefaultMerchantID,
		country: "SE", validateAnswers: true, ttl: 28 * 24 * time.Hour, fees: DefaultFees,
		now:    time.Now().UTC().Truncate(time.Second),
		orders: map[string]*order{}, idem: map[string]*stored{}, debt: map[string]int64{}, heldBack: map[string]int64{},
		calls: map[string]int{},
	}
	for _, o := range opts {
		o(s)
	}
	s.faults = fault.New(s.errorBody)
	s.srv = httptest.NewServer(s.faults.Wrap(s.routes()))
	return s
}

// URL is the fake's base URL; give it to klarna.WithBaseURL.
func (s *Server) URL() string { return s.srv.URL }

// Close shuts the fake down.
func (s *Server) Close() { s.srv.Close() }

// Faults is the fault injector wrapped around the fake: queue 5xx, 429,
// hangs, dropped connections or lost answers with Inject.
func (s *Server) Faults() *fault.Injector { return s.faults }

// Now is the fake clock's time.
func (s *Server) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.now
}

// Advance moves the fake clock forward: authorizations expire, idempotency
// keys older than 24 h are forgotten, payouts get later dates.
func (s *Server) Advance(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = s.now.Add(d)
}

// Calls is how many requests for the operation (Klarna's operationId, e.g.
// "captureOrder") passed authentication and validation and were executed;
// idempotent replays are not counted.
func (s *Server) Calls(operationID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[operationID]
}

// Replays is how many requests were answered from the idempotency store.
func (s *Server) Replays() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.replays
}

// newID returns a deterministic UUID-shaped id (Klarna's ids are opaque;
// the settlements schema wants order ids to be UUIDs).
func (s *Server) newID(kind string) string {
	s.seq++
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], s.seq)
	h := sha256.Sum256(append([]byte(kind+":"), b[:]...))
	x := hex.EncodeToString(h[:16])
	return x[0:8] + "-" + x[8:12] + "-4" + x[13:16] + "-a" + x[17:20] + "-" + x[20:32]
}

// reply is what a handler answers.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// call is one request as a handler sees it.
type call struct {
	r           *http.Request
	body        []byte
	params      map[string]string
	correlation string
	base        string // scheme://host of the request, for Location and pagination links
}

func (c *call) fail(status int, code string, messages ...string) reply {
	b, _ := json.Marshal(klarna.ErrorResponse{ErrorCode: code, ErrorMessages: append([]string{}, messages...), CorrelationID: c.correlation})
	return reply{status: status, header: http.Header{"Content-Type": {"application/json"}}, body: b}
}

func jsonReply(status int, v any) reply {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return reply{status: status, header: http.Header{"Content-Type": {"application/json"}}, body: b}
}

// stored is a remembered answer to an idempotent write.
type stored struct {
	at    time.Time
	reply reply
}

// handler is one operation of the fake.
type handler func(c *call) reply

// routeDef binds a ServeMux pattern to the spec operation it implements.
type routeDef struct {
	method, pattern string // pattern for http.ServeMux, with the /settlements/v1 prefix where due
	doc             *openapi3.T
	specPath        string // path template in the spec
	h               handler
}

func (s *Server) routes() http.Handler {
	om := s.specs.om
	st := s.specs.settlements
	const o = "/ordermanagement/v1/orders/{order_id}"
	defs := []routeDef{
		{"GET", o, om, o, s.getOrder},
		{"POST", o + "/captures", om, o + "/captures", s.captureOrder},
		{"GET", o + "/captures", om, o + "/captures", s.getCaptures},
		{"GET", o + "/captures/{capture_id}", om, o + "/captures/{capture_id}", s.getCapture},
		{"POST", o + "/refunds", om, o + "/refunds", s.refundOrder},
		{"GET", o + "/refunds/{refund_id}", om, o + "/refunds/{refund_id}", s.getRefund},
		{"POST", o + "/release-remaining-authorization", om, o + "/release-remaining-authorization", s.release},
		{"POST", o + "/cancel", om, o + "/cancel", s.cancel},
		{"PATCH", o + "/merchant-references", om, o + "/merchant-references", s.merchantReferences},
		{"POST", o + "/extend-authorization-time", om, o + "/extend-authorization-time", s.extendAuthorization},
		{"GET", "/settlements/v1/payouts", st, "/payouts", s.listPayouts},
		{"GET", "/settlements/v1/payouts/summary", st, "/payouts/summary", s.payoutSummary},
		{"GET", "/settlements/v1/payouts/{payment_reference}", st, "/payouts/{payment_reference}", s.getPayout},
		{"GET", "/settlements/v1/transactions", st, "/transactions", s.listTransactions},
		{"GET", "/settlements/v1/reports/payout-with-transactions", st, "/reports/payout-with-transactions", s.payoutReport},
	}
	// Operations in the descriptions that the fake does not implement
	// answer 501, after validation, so a client is told plainly.
	unimplemented := []routeDef{
		{"POST", o + "/acknowledge", om, o + "/acknowledge", nil},
		{"PATCH", o + "/authorization", om, o + "/authorization", nil},
		{"PATCH", o + "/customer-details", om, o + "/customer-details", nil},
		{"POST", o + "/shipping-info", om, o + "/shipping-info", nil},
		{"POST", o + "/captures/{capture_id}/shipping-info", om, o + "/captures/{capture_id}/shipping-info", nil},
		{"PATCH", o + "/captures/{capture_id}/extend-due-date", om, o + "/captures/{capture_id}/extend-due-date", nil},
		{"GET", o + "/captures/{capture_id}/extend-due-date-options", om, o + "/captures/{capture_id}/extend-due-date-options", nil},
		{"POST", o + "/captures/{capture_id}/trigger-send-out", om, o + "/captures/{capture_id}/trigger-send-out", nil},
		{"GET", "/settlements/v1/reports/payout", st, "/reports/payout", nil},
		{"GET", "/settlements/v1/reports/payouts-summary", st, "/reports/payouts-summary", nil},
		{"GET", "/settlements/v1/reports/payouts-summary-with-transactions", st, "/reports/payouts-summary-with-transactions", nil},
	}
	mux := http.NewServeMux()
	for _, d := range append(defs, unimplemented...) {
		route, err := operation(d.doc, d.specPath, d.method)
		if err != nil {
			panic(err)
		}
		h := d.h
		if h == nil {
			opID := route.Operation.OperationID
			h = func(c *call) reply {
				return c.fail(http.StatusNotImplemented, "NOT_IMPLEMENTED", "klarnatest does not implement "+opID)
			}
		}
		mux.Handle(d.method+" "+d.pattern, s.serve(route, d.pattern, h))
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		c := &call{r: r, correlation: s.correlationID()}
		s.write(w, c, c.fail(http.StatusNotFound, "NOT_FOUND", "no such resource: "+r.Method+" "+r.URL.Path))
	})
	return mux
}

func (s *Server) correlationID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.newID("correlation")
}

// pathParams lists the {names} of a ServeMux pattern.
func pathParams(pattern string, r *http.Request) map[string]string {
	out := map[string]string{}
	for _, seg := range strings.Split(pattern, "/") {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			name := seg[1 : len(seg)-1]
			out[name] = r.PathValue(name)
		}
	}
	return out
}

// serve runs one operation: credentials, rate limit, body size, OpenAPI
// validation, idempotent replay, the handler, validation of the answer.
func (s *Server) serve(route *routers.Route, pattern string, h handler) http.Handler {
	opID := route.Operation.OperationID
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := &call{r: r, correlation: s.correlationID(), params: pathParams(pattern, r), base: "http://" + r.Host}
		if !s.authorized(r) {
			s.write(w, c, c.fail(http.StatusUnauthorized, "UNAUTHORIZED", "Missing or invalid credentials"))
			return
		}
		if !s.throttle(w) {
			s.write(w, c, c.fail(http.StatusTooManyRequests, "TOO_MANY_REQUESTS", "Too many requests"))
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
		if err != nil {
			s.write(w, c, c.fail(http.StatusBadRequest, "BAD_VALUE", "unreadable body"))
			return
		}
		if len(body) > maxBody {
			s.write(w, c, c.fail(http.StatusRequestEntityTooLarge, "REQUEST_TOO_LARGE", "Request is too large"))
			return
		}
		c.body = body
		if err := validateRequest(r.Context(), route, r, c.params, body); err != nil {
			s.write(w, c, invalidRequest(c, route, err))
			return
		}
		key := r.Header.Get(klarna.IdempotencyHeader)
		write := r.Method == http.MethodPost || r.Method == http.MethodPatch

		s.mu.Lock()
		if write && key != "" {
			if prev, ok := s.idem[key]; ok && s.now.Sub(prev.at) < idempotencyWindow {
				s.replays++
				s.mu.Unlock()
				s.write(w, c, prev.reply)
				return
			}
		}
		s.calls[opID]++
		rep := h(c)
		if write && key != "" && rep.status < 500 {
			s.idem[key] = &stored{at: s.now, reply: rep}
		}
		s.mu.Unlock()

		if s.validateAnswers {
			if err := s.checkReply(r.Context(), route, r, c, rep); err != nil {
				rep = c.fail(http.StatusInternalServerError, "INTERNAL_SERVER_ERROR", "klarnatest answer violates the OpenAPI description: "+err.Error())
			}
		}
		s.write(w, c, rep)
	})
}

// checkReply validates an answer. Two defects of the descriptions are
// allowed for: some 201/204 answers are given a JSON "string" body although
// the API sends none, and the report endpoints declare their error bodies
// (Klarna's JSON envelope) as text/csv or application/pdf. Neither is
// checked.
func (s *Server) checkReply(ctx context.Context, route *routers.Route, r *http.Request, c *call, rep reply) error {
	if len(rep.body) == 0 && (rep.status == http.StatusCreated || rep.status == http.StatusNoContent) {
		return nil
	}
	if rep.status >= 400 {
		if doc := route.Operation.Responses.Status(rep.status); doc != nil && doc.Value != nil && doc.Value.Content.Get("application/json") == nil {
			return nil
		}
	}
	return validateResponse(ctx, route, r, c.params, rep.status, rep.header, rep.body)
}

// invalidRequest answers a request that does not match the description:
// 422 UNPROCESSABLE_ENTITY for an Order Management body (as Klarna answers
// a field out of bounds), 400 BAD_VALUE otherwise (the Settlements API
// documents 400; the code is not documented).
func invalidRequest(c *call, route *routers.Route, err error) reply {
	msgs := validationMessages(err)
	var re *openapi3filter.RequestError
	if errors.As(err, &re) && re.RequestBody != nil && strings.HasPrefix(route.Path, "/ordermanagement/") && len(c.body) > 0 && json.Valid(c.body) {
		return c.fail(http.StatusUnprocessableEntity, "UNPROCESSABLE_ENTITY", msgs...)
	}
	return c.fail(http.StatusBadRequest, "BAD_VALUE", msgs...)
}

// validationMessages turns kin-openapi's errors into one line each:
// where (body, query parameter size), the JSON pointer and the reason.
func validationMessages(err error) []string {
	if me, ok := err.(openapi3.MultiError); ok {
		var out []string
		for _, e := range me {
			out = append(out, validationMessages(e)...)
		}
		return out
	}
	var re *openapi3filter.RequestError
	if !errors.As(err, &re) {
		return []string{firstLine(err.Error())}
	}
	where := "request"
	switch {
	case re.Parameter != nil:
		where = re.Parameter.In + " parameter " + re.Parameter.Name
	case re.RequestBody != nil:
		where = "body"
	}
	if re.Err == nil {
		return []string{where + ": " + re.Reason}
	}
	var out []string
	var walk func(error)
	walk = func(e error) {
		if me, ok := e.(openapi3.MultiError); ok {
			for _, x := range me {
				walk(x)
			}
			return
		}
		var se *openapi3.SchemaError
		if errors.As(e, &se) {
			if ptr := se.JSONPointer(); len(ptr) > 0 {
				out = append(out, fmt.Sprintf("%s: /%s: %s", where, strings.Join(ptr, "/"), se.Reason))
			} else {
				out = append(out, where+": "+se.Reason)
			}
			return
		}
		out = append(out, where+": "+firstLine(e.Error()))
	}
	walk(re.Err)
	return out
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return strings.TrimSpace(s[:i])
	}
	return s
}

func (s *Server) write(w http.ResponseWriter, c *call, rep reply) {
	for k, vs := range rep.header {
		w.Header()[k] = vs
	}
	w.Header().Set(klarna.CorrelationHeader, c.correlation)
	w.WriteHeader(rep.status)
	if len(rep.body) > 0 && rep.status != http.StatusNoContent {
		_, _ = w.Write(rep.body)
	}
}

func (s *Server) authorized(r *http.Request) bool {
	h := r.Header.Get("Authorization")
	const prefix = "Basic "
	if !strings.HasPrefix(h, prefix) {
		return false
	}
	token := strings.TrimSpace(h[len(prefix):])
	// Klarna accepts a bare API key after "Basic" as well as base64
	// username:password.
	if subtle.ConstantTimeCompare([]byte(token), []byte(s.password)) == 1 {
		return true
	}
	raw, err := base64.StdEncoding.DecodeString(token)
	if err != nil {
		return false
	}
	want := s.username + ":" + s.password
	return subtle.ConstantTimeCompare(raw, []byte(want)) == 1
}

// throttle counts the request against the per-second limit and sets
// Klarna's rate-limit headers; false means the limit is exceeded.
func (s *Server) throttle(w http.ResponseWriter) bool {
	if s.rate <= 0 {
		return true
	}
	s.mu.Lock()
	now := time.Now()
	if now.Sub(s.rateStart) >= time.Second {
		s.rateStart, s.rateCount = now, 0
	}
	s.rateCount++
	count, start := s.rateCount, s.rateStart
	s.mu.Unlock()
	remaining := max(s.rate-count, 0)
	reset := max(int(time.Until(start.Add(time.Second)).Seconds()+0.999), 1)
	w.Header().Set("X-Ratelimit-Limit", fmt.Sprintf("%d, %d;w=1", s.rate, s.rate))
	w.Header().Set("X-Ratelimit-Remaining", strconv.Itoa(remaining))
	w.Header().Set("X-Ratelimit-Reset", strconv.Itoa(reset))
	return count <= s.rate
}

// errorBody writes an injected failure in Klarna's error shape, with the
// codes and messages Klarna documents for each status; a 429 also gets the
// X-Ratelimit-* headers (Reset taken from the fault's Retry-After).
func (s *Server) errorBody(w http.ResponseWriter, r *http.Request, status int) {
	code, msg := "UNEXPECTED_ERROR", "Unexpected server error"
	switch status {
	case http.StatusBadRequest:
		code, msg = "BAD_VALUE", "Bad value"
	case http.StatusUnauthorized:
		code, msg = "UNAUTHORIZED", "Missing or invalid credentials"
	case http.StatusForbidden:
		// An injected 403 stands for credentials without permission; the
		// fake's own business refusals (CAPTURE_NOT_ALLOWED, …) come from
		// the handlers.
		code, msg = "FORBIDDEN", "Forbidden"
	case http.StatusNotFound:
		code, msg = "NOT_FOUND", "Not found"
	case http.StatusConflict:
		code, msg = "CONFLICT", "Conflict"
	case http.StatusRequestEntityTooLarge:
		code, msg = "REQUEST_TOO_LARGE", "Request is too large"
	case http.StatusUnprocessableEntity:
		code, msg = "UNPROCESSABLE_ENTITY", "Unprocessable entity"
	case http.StatusTooManyRequests:
		code, msg = "TOO_MANY_REQUESTS", "Too many requests"
		reset := "1"
		if ra := w.Header().Get("Retry-After"); ra != "" {
			reset = ra
		}
		w.Header().Set("X-Ratelimit-Limit", "50, 50;w=1")
		w.Header().Set("X-Ratelimit-Remaining", "0")
		w.Header().Set("X-Ratelimit-Reset", reset)
	case http.StatusInternalServerError:
		code, msg = "INTERNAL_SERVER_ERROR", "Unexpected server error"
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		code, msg = "TEMPORARILY_UNAVAILABLE", "Temporarily unavailable"
	}
	c := &call{r: r, correlation: s.correlationID()}
	s.write(w, c, c.fail(status, code, msg))
}
