package specter

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/knyt/knyt/connector"
)

// Client speaks Specter's partner protocol: it signs each request, encodes
// it in Windows-1252, sends it through the shared transport (serialised per
// account, retried only where a repeat is harmless) and reads either reply
// form into a Reply or a typed *connector.Error. The Connector maps the
// canonical model onto it; use the Client directly for actions the
// Connector does not cover.
type Client struct {
	t      *connector.Transport
	creds  Credentials
	strict bool
	now    func() time.Time
	logger *slog.Logger
}

// NewClient returns a client for the account of creds.
func NewClient(creds Credentials, opts ...Option) (*Client, error) {
	cfg := defaults()
	for _, o := range opts {
		o(&cfg)
	}
	return newClient(creds, &cfg)
}

func newClient(creds Credentials, cfg *config) (*Client, error) {
	if err := creds.Validate(); err != nil {
		return nil, &connector.Error{System: System, Op: "New", Kind: connector.KindAuth, Err: err}
	}
	if cfg.account == "" {
		cfg.account = creds.SBMID
	}
	limiter := cfg.limiter
	if limiter == nil {
		limiter = connector.NewSerial(cfg.pace)
	}
	topts := []connector.TransportOption{
		connector.WithLogger(cfg.logger),
		connector.WithRateLimiter(limiter),
		connector.WithAccount(cfg.account),
		connector.WithSecrets(creds.secrets()...),
		connector.WithErrorDecoder(decodeHTTPError),
		connector.WithUserAgent("knyt-specter"),
	}
	if cfg.callbackToken != "" {
		topts = append(topts, connector.WithSecrets(cfg.callbackToken))
	}
	if cfg.httpClient != nil {
		topts = append(topts, connector.WithHTTPClient(cfg.httpClient))
	}
	if cfg.retry != nil {
		topts = append(topts, connector.WithRetry(int(cfg.retry[0]), time.Duration(cfg.retry[1]), time.Duration(cfg.retry[2])))
	}
	t, err := connector.NewTransport(System, cfg.baseURL, topts...)
	if err != nil {
		return nil, err
	}
	return &Client{t: t, creds: creds, strict: cfg.strict, now: cfg.now, logger: cfg.logger}, nil
}

// NewForm returns an empty form that follows the client's text rule.
func (c *Client) NewForm() *Form { return NewForm(c.strict) }

// Transport is the underlying transport (for its redactor).
func (c *Client) Transport() *connector.Transport { return c.t }

// Request is one action to send.
type Request struct {
	Op     string // the operation named in errors and logs; the action when empty
	Action Action
	Form   *Form             // the action's fields; the signed field must be set
	Query  map[string]string // extra query parameters (webshopId)
	// Rows sends no useXML, for the text-form stock queue; otherwise the
	// table's reply form is asked for.
	Rows bool
}

// Do sends r and returns the reply, or a *connector.Error: KindValidation
// for a field that cannot be written, the kind of Specter's error code for
// a refused request (a *BatchOpenError inside for code 99), KindTemporary
// for a reply that cannot be read (MaybeApplied for writes). A refused
// request returns its Reply with the error, so an id it names (the existing
// order of a duplicate) can be read.
func (c *Client) Do(ctx context.Context, r Request) (*Reply, error) {
	s, err := c.send(ctx, r)
	if err != nil {
		return nil, err
	}
	reply, err := ParseReply(s.resp.Body, s.resp.Header.Get("Content-Type"))
	if err != nil {
		return nil, c.unreadable(s, err)
	}
	if !reply.OK() {
		return reply, replyError(s.op, s.spec.Action, s.signed, reply, c.t.Redactor().String)
	}
	return reply, nil
}

// unreadable is the error for a reply that is neither form.
func (c *Client) unreadable(s *sent, err error) error {
	if re, ok := errorsAs[*ReplyError](err); ok {
		re.Snippet = c.t.Redactor().String(re.Snippet)
	}
	return &connector.Error{System: System, Op: s.op, Kind: connector.KindTemporary, MaybeApplied: s.spec.Write, Err: err}
}

// sent is a request that got an answer.
type sent struct {
	resp   *connector.Response
	spec   ActionSpec
	op     string
	signed string // the signed field's value, for code-99 messages
}

// send signs and sends r and returns the raw response.
func (c *Client) send(ctx context.Context, r Request) (*sent, error) {
	op := r.Op
	if op == "" {
		op = string(r.Action)
	}
	spec, ok := Spec(r.Action)
	if !ok {
		return nil, connector.NewError(System, op, connector.KindUnsupported, "unknown action %q", r.Action)
	}
	f := r.Form
	if f == nil {
		f = c.NewForm()
	}
	if err := f.Err(); err != nil {
		e := validation(op, "", err)
		if te := firstTextError(err); te != nil {
			e.Field = te.Field
		}
		return nil, e
	}
	if !f.Has(spec.Signed) {
		return nil, validation(op, spec.Signed, fmt.Errorf("specter: %s needs %s, the value its signature covers", r.Action, spec.Signed))
	}
	x := []byte(spec.SignedPrefix + f.raw(spec.Signed))
	key := c.creds.Key(x) // a secret; "key" is redacted by name wherever it is logged

	query := url.Values{}
	query.Set("action", string(r.Action))
	query.Set("sbmId", c.creds.SBMID)
	if c.creds.Version() == 2 && c.creds.APIUserID != "" {
		query.Set("apiUserId", c.creds.APIUserID)
	}
	if !r.Rows {
		query.Set("useXML", strconv.Itoa(spec.Reply))
	}
	for k, v := range r.Query {
		enc, err := encodeExact(k, v)
		if err != nil {
			return nil, validation(op, k, err)
		}
		query.Set(k, enc)
	}
	fields := url.Values{}
	for k, vs := range f.values() {
		fields[k] = vs
	}
	fields.Set("key", key)

	req := &connector.Request{Op: op, Path: spec.Endpoint}
	if spec.Write {
		req.Method = http.MethodPost
		req.Query = query
		req.Body = []byte(fields.Encode())
		req.ContentType = "application/x-www-form-urlencoded"
		req.Idempotent = spec.Repeatable
	} else {
		req.Method = http.MethodGet
		for k, vs := range fields {
			query[k] = vs
		}
		req.Query = query
	}
	if replaced := f.Replaced(); len(replaced) > 0 {
		c.logger.LogAttrs(ctx, slog.LevelWarn, "specter: text changed to fit "+Charset,
			slog.String("op", op), slog.Any("fields", replaced))
	}
	resp, err := c.t.Do(ctx, req)
	if err != nil {
		return nil, err
	}
	return &sent{resp: resp, spec: spec, op: op, signed: f.Get(spec.Signed)}, nil
}

// decodeHTTPError reads a failed HTTP answer: an error status is classified
// by the status; a Specter error line or APIresponse in the body adds its
// code and message.
func decodeHTTPError(resp *connector.Response) *connector.Error {
	e := &connector.Error{Kind: connector.KindForStatus(resp.Status), Message: http.StatusText(resp.Status)}
	if r, err := ParseReply(resp.Body, resp.Header.Get("Content-Type")); err == nil && !r.OK() {
		e.Code, e.Message = r.Code, r.Message
	}
	return e
}
