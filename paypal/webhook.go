package paypal

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"hash/crc32"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/knyt/knyt/connector"
)

// The headers PayPal sends with every webhook delivery
// (notifications_webhooks_v1.json, verify_webhook_signature).
const (
	HeaderTransmissionID   = "Paypal-Transmission-Id"
	HeaderTransmissionTime = "Paypal-Transmission-Time"
	HeaderTransmissionSig  = "Paypal-Transmission-Sig"
	HeaderCertURL          = "Paypal-Cert-Url"
	HeaderAuthAlgo         = "Paypal-Auth-Algo"
)

// AuthAlgoSHA256withRSA is the only signature algorithm PayPal uses.
const AuthAlgoSHA256withRSA = "SHA256withRSA"

// SimulatorWebhookID is the webhook id PayPal's simulator signs mock events
// with; verify simulator deliveries with it.
const SimulatorWebhookID = "WEBHOOK_ID"

// WebhookHeaders are the signature headers of a delivery, as sent.
type WebhookHeaders struct {
	TransmissionID   string
	TransmissionTime string    // verbatim: it is part of the signed message
	Time             time.Time // TransmissionTime parsed
	Signature        []byte    // PAYPAL-TRANSMISSION-SIG decoded from base64
	CertURL          string    // empty if the header is absent
	AuthAlgo         string
}

// Bounds on header values: real ones are far shorter (a 4096-bit RSA
// signature is 684 base64 characters), and unbounded input is a hazard.
const (
	maxIDLen     = 128
	maxTimeLen   = 64
	maxSigLen    = 2048
	maxURLLen    = 2048
	maxAlgoLen   = 64
	maxCertBytes = 64 << 10
)

// ParseWebhookHeaders reads the signature headers strictly: each present
// exactly once, within its length bound, free of control characters (and
// of '|', which separates the signed fields), the time in PayPal's
// date-time form, the signature valid standard base64. The certificate URL
// is optional here (local verification with a known certificate does not
// need it). Errors wrap connector.ErrWebhookMalformed; no error shows the
// signature.
func ParseWebhookHeaders(h http.Header) (WebhookHeaders, error) {
	var w WebhookHeaders
	get := func(name string, limit int, required, pipeOK bool) (string, error) {
		vs := h.Values(name)
		switch {
		case len(vs) == 0 && !required:
			return "", nil
		case len(vs) == 0:
			return "", fmt.Errorf("paypal: webhook: %w: header %s missing", connector.ErrWebhookMalformed, name)
		case len(vs) > 1:
			return "", fmt.Errorf("paypal: webhook: %w: header %s sent %d times", connector.ErrWebhookMalformed, name, len(vs))
		}
		v := vs[0]
		if v == "" || len(v) > limit {
			return "", fmt.Errorf("paypal: webhook: %w: header %s empty or longer than %d bytes", connector.ErrWebhookMalformed, name, limit)
		}
		for i := 0; i < len(v); i++ {
			if c := v[i]; c < 0x21 || c == 0x7f || (!pipeOK && c == '|') {
				return "", fmt.Errorf("paypal: webhook: %w: header %s has a forbidden byte at %d", connector.ErrWebhookMalformed, name, i)
			}
		}
		return v, nil
	}
	var err error
	if w.TransmissionID, err = get(HeaderTransmissionID, maxIDLen, true, false); err != nil {
		return WebhookHeaders{}, err
	}
	if w.TransmissionTime, err = get(HeaderTransmissionTime, maxTimeLen, true, false); err != nil {
		return WebhookHeaders{}, err
	}
	if w.Time, err = ParseTime(w.TransmissionTime); err != nil {
		return WebhookHeaders{}, fmt.Errorf("paypal: webhook: %w: header %s: %w", connector.ErrWebhookMalformed, HeaderTransmissionTime, err)
	}
	sig, err := get(HeaderTransmissionSig, maxSigLen, true, true)
	if err != nil {
		return WebhookHeaders{}, err
	}
	if w.Signature, err = base64.StdEncoding.Strict().DecodeString(sig); err != nil || len(w.Signature) == 0 {
		return WebhookHeaders{}, fmt.Errorf("paypal: webhook: %w: header %s is not base64", connector.ErrWebhookMalformed, HeaderTransmissionSig)
	}
	if w.AuthAlgo, err = get(HeaderAuthAlgo, maxAlgoLen, true, true); err != nil {
		return WebhookHeaders{}, err
	}
	if w.CertURL, err = get(HeaderCertURL, maxURLLen, false, true); err != nil {
		return WebhookHeaders{}, err
	}
	return w, nil
}

// SignedMessage is what PayPal signs for a delivery:
// transmission id|transmission time|webhook id|CRC32 of the raw body as an
// unsigned decimal.
func SignedMessage(transmissionID, transmissionTime, webhookID string, body []byte) string {
	return transmissionID + "|" + transmissionTime + "|" + webhookID + "|" + strconv.FormatUint(uint64(crc32.ChecksumIEEE(body)), 10)
}

// VerifyWebhookSignature checks a delivery's signature locally: h are the
// headers as PayPal sent them, body the raw request body (not re-encoded),
// webhookID the id of the webhook the delivery was for (SimulatorWebhookID
// for simulator events) and cert the certificate PAYPAL-CERT-URL names,
// already fetched and checked (WebhookVerifier does both). The signature is
// RSA PKCS #1 v1.5 with SHA-256 over SignedMessage. A mismatch, a foreign
// algorithm or a non-RSA key wraps connector.ErrWebhookSignature; bad
// headers wrap connector.ErrWebhookMalformed.
func VerifyWebhookSignature(h http.Header, body []byte, webhookID string, cert *x509.Certificate) error {
	w, err := ParseWebhookHeaders(h)
	if err != nil {
		return err
	}
	return verifyParsed(w, body, webhookID, cert)
}

func verifyParsed(w WebhookHeaders, body []byte, webhookID string, cert *x509.Certificate) error {
	if webhookID == "" || strings.ContainsRune(webhookID, '|') {
		return fmt.Errorf("paypal: webhook: %w: webhook id empty or containing '|'", connector.ErrWebhookSignature)
	}
	if !strings.EqualFold(w.AuthAlgo, AuthAlgoSHA256withRSA) {
		return fmt.Errorf("paypal: webhook: %w: algorithm %q not supported", connector.ErrWebhookSignature, w.AuthAlgo)
	}
	if cert == nil {
		return fmt.Errorf("paypal: webhook: %w: no certificate", connector.ErrWebhookSignature)
	}
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return fmt.Errorf("paypal: webhook: %w: certificate key is not RSA", connector.ErrWebhookSignature)
	}
	sum := sha256.Sum256([]byte(SignedMessage(w.TransmissionID, w.TransmissionTime, webhookID, body)))
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], w.Signature); err != nil {
		return fmt.Errorf("paypal: webhook: %w", connector.ErrWebhookSignature)
	}
	return nil
}

// ErrCertURL is a PAYPAL-CERT-URL outside PayPal's hosts.
var ErrCertURL = errors.New("paypal: certificate URL not on a PayPal host over https")

// CheckCertURL accepts only certificate URLs a forger cannot serve: https,
// a host that is paypal.com or under it (api.paypal.com,
// api.sandbox.paypal.com, …), the default port, no user info. Anything else
// wraps ErrCertURL (and connector.ErrWebhookSignature): a delivery naming
// such a URL is refused before anything is fetched.
func CheckCertURL(raw string) error {
	bad := func(why string) error {
		return fmt.Errorf("%w: %w: %s", connector.ErrWebhookSignature, ErrCertURL, why)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return bad("not a URL")
	}
	if u.Scheme != "https" {
		return bad("scheme is not https")
	}
	if u.User != nil {
		return bad("user info present")
	}
	if p := u.Port(); p != "" && p != "443" {
		return bad("port is not 443")
	}
	if !isPayPalHost(u.Hostname()) {
		return bad("host is not under paypal.com")
	}
	return nil
}

func isPayPalHost(host string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	return host == "paypal.com" || (strings.HasSuffix(host, ".paypal.com") && !strings.Contains(host, ".."))
}

// WebhookVerifier verifies deliveries for one webhook: locally with the
// certificate PAYPAL-CERT-URL names (the default), or through PayPal's
// verify-webhook-signature call (WithVerificationAPI). Locally, the URL
// must pass CheckCertURL, the certificate is fetched over https without
// following redirects, its chain is verified against the system roots (or
// WithCertRoots) at the current time, its subject must be a paypal.com
// name, and it is cached by URL until it expires (at most a day). It
// implements connector.WebhookDecoder and is safe for concurrent use.
type WebhookVerifier struct {
	webhookID string
	account   string
	tr        *connector.Transport
	roots     *x509.CertPool
	now       func() time.Time
	tolerance time.Duration
	api       *Client

	mu     sync.Mutex
	cache  map[string]*certEntry
	order  []string // cache keys, oldest first
	flight map[string]*certFlight
}

type certEntry struct {
	cert    *x509.Certificate
	expires time.Time
}

type certFlight struct {
	done  chan struct{}
	entry *certEntry
	err   error
}

// certCacheSize bounds the cache: PayPal rotates its certificate rarely.
const certCacheSize = 16

type webhookConfig struct {
	httpClient *http.Client
	roots      *x509.CertPool
	now        func() time.Time
	tolerance  time.Duration
	logger     *slog.Logger
	api        *Client
	account    string
}

// WebhookOption configures a WebhookVerifier.
type WebhookOption func(*webhookConfig)

// WithCertHTTPClient sets the client certificates are fetched with (tests
// point it at their fake; the URL check happens before it is used).
func WithCertHTTPClient(h *http.Client) WebhookOption {
	return func(c *webhookConfig) { c.httpClient = h }
}

// WithCertRoots sets the roots certificate chains must lead to (default:
// the system's).
func WithCertRoots(p *x509.CertPool) WebhookOption { return func(c *webhookConfig) { c.roots = p } }

// WithWebhookClock sets the clock for certificate validity and staleness.
func WithWebhookClock(now func() time.Time) WebhookOption {
	return func(c *webhookConfig) { c.now = now }
}

// WithWebhookTolerance refuses deliveries whose transmission time is more
// than d from now (connector.ErrWebhookStale). Off by default: PayPal
// retries a delivery for up to three days, and whether a retry carries a
// fresh transmission time is not documented.
func WithWebhookTolerance(d time.Duration) WebhookOption {
	return func(c *webhookConfig) { c.tolerance = d }
}

// WithWebhookLogger logs certificate fetches.
func WithWebhookLogger(l *slog.Logger) WebhookOption { return func(c *webhookConfig) { c.logger = l } }

// WithWebhookAccount names the account in the events DecodeWebhook returns.
func WithWebhookAccount(a string) WebhookOption { return func(c *webhookConfig) { c.account = a } }

// WithVerificationAPI verifies through PayPal's verify-webhook-signature
// call with client instead of locally: one API call per delivery, no
// certificate handling. PayPal documents that it does not verify simulator
// events this way.
func WithVerificationAPI(client *Client) WebhookOption {
	return func(c *webhookConfig) { c.api = client }
}

// NewWebhookVerifier returns a verifier for the webhook with the given id
// (from the developer dashboard, or SimulatorWebhookID).
func NewWebhookVerifier(webhookID string, opts ...WebhookOption) (*WebhookVerifier, error) {
	cfg := webhookConfig{now: time.Now}
	for _, o := range opts {
		o(&cfg)
	}
	if webhookID == "" || strings.ContainsRune(webhookID, '|') {
		return nil, &connector.Error{System: System, Op: "NewWebhookVerifier", Kind: connector.KindValidation, Field: "webhook_id", Message: "empty or containing '|'"}
	}
	hc := &http.Client{Timeout: 20 * time.Second}
	if cfg.httpClient != nil {
		cp := *cfg.httpClient
		hc = &cp
	}
	// An allowed URL must not lead elsewhere.
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	topts := []connector.TransportOption{connector.WithHTTPClient(hc), connector.WithMaxResponseBytes(maxCertBytes), connector.WithRetry(3, 200*time.Millisecond, 2*time.Second)}
	if cfg.logger != nil {
		topts = append(topts, connector.WithLogger(cfg.logger))
	}
	tr, err := connector.NewTransport(System, LiveURL, topts...)
	if err != nil {
		return nil, err
	}
	account := cfg.account
	if account == "" && cfg.api != nil {
		account = cfg.api.Account()
	}
	return &WebhookVerifier{
		webhookID: webhookID, account: account, tr: tr, roots: cfg.roots, now: cfg.now,
		tolerance: cfg.tolerance, api: cfg.api,
		cache: map[string]*certEntry{}, flight: map[string]*certFlight{},
	}, nil
}

// Verify checks one delivery. Signature problems wrap
// connector.ErrWebhookSignature (answer 401 and drop the delivery); a
// failure to fetch the certificate or reach PayPal is a *connector.Error
// that may be temporary (answer 5xx so PayPal delivers again).
func (v *WebhookVerifier) Verify(ctx context.Context, h http.Header, body []byte) error {
	w, err := ParseWebhookHeaders(h)
	if err != nil {
		return err
	}
	if v.tolerance > 0 {
		if d := v.now().Sub(w.Time); d > v.tolerance || d < -v.tolerance {
			return fmt.Errorf("paypal: webhook: %w: transmitted %s", connector.ErrWebhookStale, w.TransmissionTime)
		}
	}
	if v.api != nil {
		return v.api.verifyByAPI(ctx, v.webhookID, w, body)
	}
	if w.CertURL == "" {
		return fmt.Errorf("paypal: webhook: %w: header %s missing", connector.ErrWebhookMalformed, HeaderCertURL)
	}
	if err := CheckCertURL(w.CertURL); err != nil {
		return fmt.Errorf("paypal: webhook: %w", err)
	}
	cert, err := v.certificate(ctx, w.CertURL)
	if err != nil {
		return err
	}
	return verifyParsed(w, body, v.webhookID, cert)
}

// DecodeWebhook reads, verifies and decodes a delivery. The event's id is
// the deduplication key (PayPal delivers an event again, with a new
// transmission, until it gets a 2xx).
func (v *WebhookVerifier) DecodeWebhook(r *http.Request) (connector.WebhookEvent, error) {
	body, err := connector.ReadWebhookBody(r, 0)
	if err != nil {
		return connector.WebhookEvent{}, err
	}
	if err := v.Verify(r.Context(), r.Header, body); err != nil {
		return connector.WebhookEvent{}, err
	}
	var ev WebhookEvent
	if err := json.Unmarshal(body, &ev); err != nil || ev.ID == "" || ev.EventType == "" {
		return connector.WebhookEvent{}, fmt.Errorf("paypal: webhook: %w: body is not an event with id and event_type", connector.ErrWebhookMalformed)
	}
	out := connector.WebhookEvent{System: System, Account: v.account, Topic: ev.EventType, ID: ev.ID, EventID: ev.ID, Payload: body}
	if ev.CreateTime != "" {
		if t, err := ParseTime(ev.CreateTime); err == nil {
			out.At = t
		}
	}
	var res struct {
		ID string `json:"id"`
	}
	if len(ev.Resource) > 0 && json.Unmarshal(ev.Resource, &res) == nil {
		out.ObjectID = res.ID
	}
	return out, nil
}

// certificate returns the verified leaf certificate at u, from the cache
// or fetched once however many deliveries ask at the same time.
func (v *WebhookVerifier) certificate(ctx context.Context, u string) (*x509.Certificate, error) {
	v.mu.Lock()
	if e, ok := v.cache[u]; ok && v.now().Before(e.expires) {
		v.mu.Unlock()
		return e.cert, nil
	}
	f, ok := v.flight[u]
	if !ok {
		f = &certFlight{done: make(chan struct{})}
		v.flight[u] = f
		go v.fetch(context.WithoutCancel(ctx), u, f)
	}
	v.mu.Unlock()
	select {
	case <-f.done:
		if f.err != nil {
			return nil, f.err
		}
		return f.entry.cert, nil
	case <-ctx.Done():
		return nil, &connector.Error{System: System, Op: "FetchWebhookCert", Kind: connector.KindTemporary, Err: ctx.Err()}
	}
}

func (v *WebhookVerifier) fetch(ctx context.Context, u string, f *certFlight) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	f.entry, f.err = v.load(ctx, u)
	v.mu.Lock()
	delete(v.flight, u)
	if f.err == nil {
		if _, ok := v.cache[u]; !ok {
			v.order = append(v.order, u)
		}
		v.cache[u] = f.entry
		for len(v.order) > certCacheSize {
			delete(v.cache, v.order[0])
			v.order = v.order[1:]
		}
	}
	v.mu.Unlock()
	close(f.done)
}

// load fetches and checks a certificate chain.
func (v *WebhookVerifier) load(ctx context.Context, u string) (*certEntry, error) {
	const op = "FetchWebhookCert"
	resp, err := v.tr.Do(ctx, &connector.Request{Op: op, Method: http.MethodGet, Path: u})
	if err != nil {
		return nil, err
	}
	if resp.Status != http.StatusOK {
		return nil, &connector.Error{System: System, Op: op, Kind: connector.KindPermanent, Status: resp.Status, Message: "certificate URL did not answer 200"}
	}
	certs, err := parsePEMChain(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("paypal: webhook: %w: %w", connector.ErrWebhookSignature, err)
	}
	leaf := certs[0]
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	now := v.now()
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: v.roots, Intermediates: inter, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		return nil, fmt.Errorf("paypal: webhook: %w: certificate chain: %w", connector.ErrWebhookSignature, err)
	}
	if !namesPayPal(leaf) {
		return nil, fmt.Errorf("paypal: webhook: %w: certificate is not issued to a paypal.com name", connector.ErrWebhookSignature)
	}
	expires := now.Add(24 * time.Hour)
	if leaf.NotAfter.Before(expires) {
		expires = leaf.NotAfter
	}
	return &certEntry{cert: leaf, expires: expires}, nil
}

// namesPayPal requires the leaf to be issued to a name under paypal.com
// (PayPal's is messageverificationcerts.paypal.com, or the sandbox's; the
// exact name is not documented, so only the domain is checked).
func namesPayPal(c *x509.Certificate) bool {
	for _, n := range c.DNSNames {
		if isPayPalHost(n) {
			return true
		}
	}
	return len(c.DNSNames) == 0 && isPayPalHost(c.Subject.CommonName)
}

func parsePEMChain(b []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for len(b) > 0 && len(certs) < 10 {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			break
		}
		if blk.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certificate unreadable: %w", err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, errors.New("no PEM certificate at the URL")
	}
	return certs, nil
}

// VerifyWebhookByAPI asks PayPal to verify a delivery (POST
// /v1/notifications/verify-webhook-signature), the alternative to local
// verification. body must be the raw delivered body: it is sent verbatim as
// webhook_event, since PayPal recomputes the CRC over it. FAILURE wraps
// connector.ErrWebhookSignature.
func (c *Client) VerifyWebhookByAPI(ctx context.Context, webhookID string, h http.Header, body []byte) error {
	w, err := ParseWebhookHeaders(h)
	if err != nil {
		return err
	}
	return c.verifyByAPI(ctx, webhookID, w, body)
}

func (c *Client) verifyByAPI(ctx context.Context, webhookID string, w WebhookHeaders, body []byte) error {
	const op = "VerifyWebhookSignature"
	if w.CertURL == "" {
		return fmt.Errorf("paypal: webhook: %w: header %s missing", connector.ErrWebhookMalformed, HeaderCertURL)
	}
	if !json.Valid(body) {
		return fmt.Errorf("paypal: webhook: %w: body is not JSON", connector.ErrWebhookMalformed)
	}
	// webhook_event must be the delivered bytes exactly; json.Marshal
	// would compact and HTML-escape them, so it is spliced in.
	head, err := json.Marshal(verifyWebhookRequest{
		AuthAlgo: w.AuthAlgo, CertURL: w.CertURL, TransmissionID: w.TransmissionID,
		TransmissionSig: base64.StdEncoding.EncodeToString(w.Signature), TransmissionTime: w.TransmissionTime,
		WebhookID: webhookID,
	})
	if err != nil {
		return &connector.Error{System: System, Op: op, Kind: connector.KindValidation, Err: err}
	}
	msg := make([]byte, 0, len(head)+len(body)+20)
	msg = append(msg, head[:len(head)-1]...)
	msg = append(msg, `,"webhook_event":`...)
	msg = append(msg, body...)
	msg = append(msg, '}')
	var out verifyWebhookResponse
	key := connector.IdempotencyKey(System, "verify-webhook", webhookID, w.TransmissionID, strconv.FormatUint(uint64(crc32.ChecksumIEEE(body)), 10))
	if _, err := c.call(ctx, op, http.MethodPost, "/v1/notifications/verify-webhook-signature", nil, rawJSON(msg), key, &out); err != nil {
		return err
	}
	switch out.VerificationStatus {
	case "SUCCESS":
		return nil
	case "FAILURE":
		return fmt.Errorf("paypal: webhook: %w (PayPal answered FAILURE)", connector.ErrWebhookSignature)
	}
	return &connector.Error{System: System, Op: op, Kind: connector.KindPermanent, Message: "unexpected verification_status " + strconv.Quote(out.VerificationStatus)}
}
