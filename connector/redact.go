package connector

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
)

// Redacted replaces every secret in logs and errors.
const Redacted = "REDACTED"

// sensitiveMarkers are parts of header, query and form names whose values
// are secrets. Names are compared lower-cased with '-' and '_' removed, so
// "X-Shopify-Access-Token", "api_user_key" and "ApiUserKey" all match.
var sensitiveMarkers = []string{"authorization", "token", "secret", "password", "passwd", "pwd", "key", "signature", "credential", "cookie", "md5", "hmac"}

// notSensitive are names that contain a marker but are safe and useful in
// logs.
var notSensitive = []string{"idempotencykey", "klarnaidempotencykey"}

func normalizeName(name string) string {
	b := make([]byte, 0, len(name))
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '-' || c == '_' || c == '.' || c == '[' || c == ']':
			continue
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		}
		b = append(b, c)
	}
	return string(b)
}

// Redactor removes secrets from what is logged or put into errors: values of
// sensitive header, query and form names, and any registered secret value
// wherever it appears (a token echoed in an error body, for instance).
// The zero value is not usable; use NewRedactor. It is safe for concurrent use.
type Redactor struct {
	mu      sync.RWMutex
	names   []string // extra normalised sensitive names
	secrets []string
}

// NewRedactor returns a Redactor that also treats the given names as
// sensitive.
func NewRedactor(extraNames ...string) *Redactor {
	r := &Redactor{}
	for _, n := range extraNames {
		r.names = append(r.names, normalizeName(n))
	}
	return r
}

// AddSecret registers values to scrub wherever they appear. Values shorter
// than 4 bytes are ignored, since scrubbing them would mangle ordinary text.
func (r *Redactor) AddSecret(values ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, v := range values {
		if len(v) >= 4 && !slices.Contains(r.secrets, v) {
			r.secrets = append(r.secrets, v)
		}
	}
	// Longest first, so a secret containing another is replaced whole.
	slices.SortFunc(r.secrets, func(a, b string) int { return len(b) - len(a) })
}

// IsSensitive reports whether values under name must be hidden.
func (r *Redactor) IsSensitive(name string) bool {
	n := normalizeName(name)
	if slices.Contains(notSensitive, n) {
		return false
	}
	for _, m := range sensitiveMarkers {
		if strings.Contains(n, m) {
			return true
		}
	}
	// "…-Sig" headers carry signatures; a plain substring would also
	// catch "design" or "signal".
	if strings.HasSuffix(n, "sig") {
		return true
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	return slices.Contains(r.names, n)
}

// String scrubs every registered secret from s.
func (r *Redactor) String(s string) string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, sec := range r.secrets {
		if strings.Contains(s, sec) {
			s = strings.ReplaceAll(s, sec, Redacted)
		}
	}
	return s
}

// URL formats u without user info and with sensitive query values hidden.
func (r *Redactor) URL(u *url.URL) string {
	if u == nil {
		return ""
	}
	c := *u
	c.User = nil
	if c.RawQuery != "" {
		c.RawQuery = r.Values(c.Query()).Encode()
	}
	return r.String(c.String())
}

// Values returns a copy of v with sensitive values hidden.
func (r *Redactor) Values(v url.Values) url.Values {
	out := make(url.Values, len(v))
	for k, vs := range v {
		name := r.String(k) // a secret can arrive as a name too
		if r.IsSensitive(k) {
			out[name] = []string{Redacted}
			continue
		}
		for _, s := range vs {
			out[name] = append(out[name], r.String(s))
		}
	}
	return out
}

// Form scrubs an application/x-www-form-urlencoded body; a body that does
// not parse is scrubbed of registered secrets only.
func (r *Redactor) Form(body string) string {
	v, err := url.ParseQuery(body)
	if err != nil {
		return r.String(body)
	}
	return r.Values(v).Encode()
}

// Header returns a copy of h with sensitive values hidden.
func (r *Redactor) Header(h http.Header) http.Header {
	out := make(http.Header, len(h))
	for k, vs := range h {
		if r.IsSensitive(k) {
			out[k] = []string{Redacted}
			continue
		}
		cp := make([]string, len(vs))
		for i, s := range vs {
			cp[i] = r.String(s)
		}
		out[k] = cp
	}
	return out
}
