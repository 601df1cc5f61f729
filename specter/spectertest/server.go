package spectertest

import (
	"bytes"
	"crypto/md5"
	"crypto/subtle"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/knyt/knyt/connector/fault"
	"github.com/knyt/knyt/specter"
)

// Server is a fake Specter API on loopback. See the package documentation.
type Server struct {
	srv    *httptest.Server
	faults *fault.Injector

	mu        sync.Mutex
	clock     time.Time // fixed clock; zero means the real time
	pageLimit int
	accounts  map[string]*account
	order     []string // account ids in creation order
	requests  map[specter.Action]int
	docToken  string

	cbClient *http.Client
	cbWG     sync.WaitGroup
	cbMu     sync.Mutex
	cbLog    []CallbackCall
}

// Option configures a Server.
type Option func(*Server)

// WithClock fixes the fake's clock at t (dates of deliveries, invoices and
// the checkAccountSettings date check); move it with Advance.
func WithClock(t time.Time) Option { return func(s *Server) { s.clock = t } }

// WithPageLimit sets responseMaxLimit, the most items a queue read returns
// (default specter.DefaultPageLimit).
func WithPageLimit(n int) Option { return func(s *Server) { s.pageLimit = n } }

// WithCallbackClient sets the client that calls registered callback URLs.
func WithCallbackClient(c *http.Client) Option { return func(s *Server) { s.cbClient = c } }

// WithAccount adds an account besides the default one.
func WithAccount(cfg AccountConfig) Option {
	return func(s *Server) {
		if _, err := s.addAccount(cfg); err != nil {
			panic("spectertest: WithAccount: " + err.Error())
		}
	}
}

// NewServer starts a fake with a default account (DefaultAccount) and the
// given options. Close it when done.
func NewServer(opts ...Option) *Server {
	s := &Server{
		pageLimit: specter.DefaultPageLimit,
		accounts:  map[string]*account{},
		requests:  map[specter.Action]int{},
		docToken:  randomHex(8),
		cbClient:  &http.Client{Timeout: 5 * time.Second},
	}
	if _, err := s.addAccount(DefaultAccount()); err != nil {
		panic(err)
	}
	for _, o := range opts {
		o(s)
	}
	s.faults = fault.New(writeFaultBody)
	s.srv = httptest.NewServer(s.faults.Wrap(http.HandlerFunc(s.serve)))
	return s
}

// URL is the base URL to give the client (specter.WithBaseURL).
func (s *Server) URL() string { return s.srv.URL + "/" }

// Close waits for callbacks in flight and stops the server.
func (s *Server) Close() {
	s.cbWG.Wait()
	s.srv.Close()
}

// Faults is the fault injector wrapped around the API.
func (s *Server) Faults() *fault.Injector { return s.faults }

// Now is the fake's time.
func (s *Server) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.now()
}

func (s *Server) now() time.Time {
	if s.clock.IsZero() {
		return time.Now()
	}
	return s.clock
}

// Advance moves a fixed clock (WithClock) forward.
func (s *Server) Advance(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.clock.IsZero() {
		s.clock = time.Now()
	}
	s.clock = s.clock.Add(d)
}

// Requests counts the requests of an action that reached the fake (after
// fault injection).
func (s *Server) Requests(a specter.Action) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[a]
}

// stockholm is the zone of the fake's dates.
var stockholm = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Stockholm")
	if err != nil {
		return time.UTC
	}
	return loc
}()

func (s *Server) today() string { return s.now().In(stockholm).Format(specter.DateLayout) }

// request is one parsed call.
type request struct {
	spec   specter.ActionSpec
	params map[string]string // lower-cased names, UTF-8 values
	raw    map[string]string // lower-cased names, Windows-1252 bytes
	form   int               // reply form asked for
	acc    *account
	user   *apiUser
	v2     bool
}

func (r *request) get(name string) string { return r.params[strings.ToLower(name)] }
func (r *request) has(name string) bool   { _, ok := r.params[strings.ToLower(name)]; return ok }

// outcome is a handler's answer.
type outcome struct {
	ok      bool
	id      string
	code    string
	message string
	fill    func(*specter.XMLReply) // queue payload of an XML reply
	rows    []string                // text-form stock rows
}

func success(id, message string) outcome { return outcome{ok: true, id: id, message: message} }

func failure(code, format string, args ...any) outcome {
	return outcome{code: code, message: fmt.Sprintf(format, args...)}
}

const maxBody = 4 << 20

// serve is the API: getInfo.asp and putInfo.asp, paths and parameter names
// case-insensitive as on the real (IIS/ASP) server.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	path := strings.ToLower(strings.TrimPrefix(r.URL.Path, "/"))
	switch path {
	case "getinfo.asp", "putinfo.asp":
	case "document.asp":
		s.serveDocument(w, r)
		return
	default:
		writeIISError(w, http.StatusNotFound)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		writeIISError(w, http.StatusMethodNotAllowed)
		return
	}
	req, bad := s.parse(r, path)
	if bad != nil {
		writeReply(w, req.form, *bad)
		return
	}
	s.mu.Lock()
	s.requests[req.spec.Action]++
	out := s.dispatch(req)
	s.mu.Unlock()
	writeReply(w, req.form, out)
}

// parse reads and authenticates a request; a refusal is returned as the
// outcome to answer.
func (s *Server) parse(r *http.Request, path string) (*request, *outcome) {
	req := &request{params: map[string]string{}, raw: map[string]string{}, form: specter.ReplyText}
	fail := func(o outcome) (*request, *outcome) { return req, &o }
	add := func(vals url.Values) *outcome {
		for k, vs := range vals {
			lk := strings.ToLower(k)
			if _, dup := req.raw[lk]; dup || len(vs) == 0 {
				continue // the query wins, as ASP's Request() reads it first
			}
			v := vs[0]
			if looksUTF8(v) {
				o := failure(specter.CodeInvalid, "field %s looks UTF-8 encoded; the API takes Windows-1252", k)
				return &o
			}
			req.raw[lk] = v
			req.params[lk] = specter.Decode([]byte(v))
		}
		return nil
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return fail(failure(specter.CodeInvalid, "malformed query"))
	}
	if o := add(q); o != nil {
		return fail(*o)
	}
	if r.Method == http.MethodPost {
		ct := r.Header.Get("Content-Type")
		if ct != "" && !strings.HasPrefix(strings.ToLower(ct), "application/x-www-form-urlencoded") {
			return fail(failure(specter.CodeInvalid, "content type %q is not a form", ct))
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
		if err != nil || len(body) > maxBody {
			return fail(failure(specter.CodeInvalid, "body unreadable or too large"))
		}
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return fail(failure(specter.CodeInvalid, "malformed form body"))
		}
		if o := add(form); o != nil {
			return fail(*o)
		}
	}
	switch req.get("useXML") {
	case "2":
		req.form = specter.ReplyXML
	case "", "1":
		req.form = specter.ReplyText
		if !req.has("useXML") {
			req.form = specter.ReplyRows
		}
	default:
		return fail(failure(specter.CodeInvalid, "useXML must be 1 or 2"))
	}
	spec, ok := specter.LookupAction(req.get("action"))
	if !ok {
		return fail(failure(specter.CodeUnknownAction, "unknown action '%s'", req.get("action")))
	}
	req.spec = spec
	switch {
	case spec.Action == specter.ActionArticleQueue || spec.Action == specter.ActionOrderQueue:
		req.form = specter.ReplyXML // OBSERVED: clients parse these as XML even without useXML=2
	case req.form == specter.ReplyRows && spec.Action != specter.ActionStockQueue:
		req.form = specter.ReplyText
	}
	if !strings.EqualFold(path, spec.Endpoint) {
		return fail(failure(specter.CodeUnknownAction, "action '%s' is not served by %s", spec.Action, path))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if o := s.authenticate(req); o != nil {
		return fail(*o)
	}
	return req, nil
}

// looksUTF8 flags a value whose bytes are multi-byte UTF-8: a client that
// forgot to convert to Windows-1252. The real server would store it as
// mojibake ("Ã¥" for "å"); the fake refuses it so the bug shows.
func looksUTF8(v string) bool {
	multi := false
	for i := 0; i < len(v); i++ {
		if v[i] >= 0x80 {
			multi = true
			break
		}
	}
	return multi && utf8.ValidString(v)
}

// md5hex is the lower-case hex MD5 of the concatenated parts.
func md5hex(parts ...string) string {
	h := md5.New()
	for _, p := range parts {
		io.WriteString(h, p)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// authenticate checks sbmId, apiUserId and the key against the account:
// key = md5(outer + md5(inner + sbmId + X)) over the raw bytes, X the
// action's signed value.
func (s *Server) authenticate(req *request) *outcome {
	deny := func(format string, args ...any) *outcome {
		o := failure(specter.CodeAuth, format, args...)
		return &o
	}
	sbm := req.raw["sbmid"]
	acc := s.accounts[sbm]
	if acc == nil {
		return deny("unknown sbmId")
	}
	key := strings.ToLower(req.raw["key"])
	if key == "" {
		return deny("no key")
	}
	x := req.spec.SignedPrefix + req.raw[strings.ToLower(req.spec.Signed)]
	match := func(want string) bool { return subtle.ConstantTimeCompare([]byte(key), []byte(want)) == 1 }
	if uid, ok := req.raw["apiuserid"]; ok && uid != "" {
		u := acc.users[uid]
		if u == nil || acc.cfg.IntegrationKey == "" {
			return deny("unknown apiUserId")
		}
		if !match(md5hex(acc.cfg.IntegrationKey, md5hex(u.key, sbm, x))) {
			return deny("wrong key")
		}
		req.acc, req.user, req.v2 = acc, u, true
		return nil
	}
	// Without apiUserId: the account's only API user (the id is optional
	// in version 2), else the version-1 keys.
	if len(acc.cfg.Users) == 1 && acc.cfg.IntegrationKey != "" {
		u := acc.users[acc.cfg.Users[0].ID]
		if match(md5hex(acc.cfg.IntegrationKey, md5hex(u.key, sbm, x))) {
			req.acc, req.user, req.v2 = acc, u, true
			return nil
		}
	}
	if acc.cfg.MD5Key1 != "" && match(md5hex(acc.cfg.MD5Key2, md5hex(acc.cfg.MD5Key1, sbm, x))) {
		req.acc, req.user = acc, acc.v1
		return nil
	}
	return deny("wrong key")
}

// encodeText writes UTF-8 text in Windows-1252 for a text reply, "?" for
// what it cannot hold.
func encodeText(s string) []byte {
	var b bytes.Buffer
	for _, r := range s {
		enc, err := specter.Encode(string(r))
		if err != nil {
			b.WriteByte('?')
			continue
		}
		b.Write(enc)
	}
	return b.Bytes()
}

// encodeXML writes an XML document in Windows-1252, with a character
// reference for what the charset cannot hold (XML allows that, so nothing
// is lost).
func encodeXML(doc []byte) []byte {
	var b bytes.Buffer
	for _, r := range string(doc) {
		if r < 0x80 {
			b.WriteByte(byte(r))
			continue
		}
		enc, err := specter.Encode(string(r))
		if err != nil {
			fmt.Fprintf(&b, "&#%d;", r)
			continue
		}
		b.Write(enc)
	}
	return b.Bytes()
}

// writeReply answers in the form asked for.
func writeReply(w http.ResponseWriter, form int, o outcome) {
	switch {
	case form == specter.ReplyRows && o.ok:
		w.Header().Set("Content-Type", "text/plain; charset=iso-8859-1")
		w.Write(encodeText(strings.Join(o.rows, "\r")))
	case form == specter.ReplyXML:
		doc := specter.XMLReply{XMLName: xml.Name{Local: "specterResponse"}}
		a := &specter.APIResponse{Result: "0", Code: o.code, Message: o.message, ID: o.id}
		if o.ok {
			a.Result, a.Code = "1", ""
		}
		doc.APIResponse = a
		if o.ok && o.fill != nil {
			o.fill(&doc)
		}
		body, err := xml.Marshal(doc)
		if err != nil {
			writeIISError(w, http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/xml; charset=iso-8859-1")
		io.WriteString(w, `<?xml version="1.0" encoding="ISO-8859-1"?>`)
		w.Write(encodeXML(body))
	default:
		w.Header().Set("Content-Type", "text/plain; charset=iso-8859-1")
		if o.ok {
			w.Write(encodeText("1;" + o.id + ";" + o.message))
		} else {
			w.Write(encodeText("0;" + o.code + ";" + o.message))
		}
	}
}

// writeIISError writes the HTML page IIS answers for a status.
func writeIISError(w http.ResponseWriter, status int) {
	w.Header().Set("Content-Type", "text/html")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Strict//EN\">\r\n<html><head><title>%d - %s</title></head><body><h2>%d - %s</h2></body></html>\r\n",
		status, http.StatusText(status), status, http.StatusText(status))
}

// writeFaultBody is the error shape of injected faults: IIS's HTML page for
// a server error, and for other statuses the API's own error line, which is
// what an ASP page answering with an error status would send.
func writeFaultBody(w http.ResponseWriter, r *http.Request, status int) {
	if status >= 500 {
		writeIISError(w, status)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=iso-8859-1")
	w.WriteHeader(status)
	code := specter.CodeInvalid
	if status == http.StatusUnauthorized || status == http.StatusForbidden {
		code = specter.CodeAuth
	}
	fmt.Fprintf(w, "0;%s;%s", code, http.StatusText(status))
}
