package shopify

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/knyt/knyt/connector"
)

// TokenSource supplies the Admin API access token sent in
// X-Shopify-Access-Token. A source whose tokens expire also implements
// Invalidate (connector.Invalidator): a 401 answer invalidates the token and
// the request is tried once more with a fresh one.
type TokenSource interface {
	Token(ctx context.Context) (string, error)
}

// StaticToken is a permanent token, such as the shpat_ token of a custom
// app created in a shop's admin before 2026.
type StaticToken string

// Token returns the token.
func (s StaticToken) Token(context.Context) (string, error) {
	if s == "" {
		return "", connector.NewError(systemName, "Token", connector.KindAuth, "no access token configured")
	}
	return string(s), nil
}

// ClientCredentials obtains and renews tokens with the client credentials
// grant, the way apps from the Dev Dashboard authenticate against shops of
// their own organisation: POST /admin/oauth/access_token with
// grant_type=client_credentials, client_id and client_secret, answered with
// access_token, scope and expires_in (about 24 hours). A token is renewed
// shortly before it expires, and at once after a 401.
//
// Create it with NewClientCredentials and pass it to New, which binds it to
// the shop's URL and HTTP client.
type ClientCredentials struct {
	clientID     string
	clientSecret string
	margin       time.Duration

	mu      sync.Mutex
	c       *Client // bound by New
	token   string
	scope   string
	expires time.Time
}

// NewClientCredentials returns a token source for the app's client id and
// secret.
func NewClientCredentials(clientID, clientSecret string) *ClientCredentials {
	return &ClientCredentials{clientID: clientID, clientSecret: clientSecret, margin: 5 * time.Minute}
}

// bind attaches the source to the client whose shop it authenticates.
func (cc *ClientCredentials) bind(c *Client) error {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if cc.c != nil && cc.c != c {
		return errors.New("shopify: a ClientCredentials source serves one client; create one per shop")
	}
	cc.c = c
	c.addSecret(cc.clientSecret)
	return nil
}

// Scope is the scope granted with the current token.
func (cc *ClientCredentials) Scope() string {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	return cc.scope
}

// Token returns a valid token, requesting a new one when the current one
// is missing or about to expire. Concurrent callers share one request.
func (cc *ClientCredentials) Token(ctx context.Context) (string, error) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if cc.c == nil {
		return "", connector.NewError(systemName, "Token", connector.KindAuth, "client credentials not bound to a client; pass the source to shopify.New")
	}
	now := cc.c.now()
	if cc.token != "" && now.Before(cc.expires.Add(-cc.margin)) {
		return cc.token, nil
	}
	if cc.clientID == "" || cc.clientSecret == "" {
		return "", connector.NewError(systemName, "Token", connector.KindAuth, "client id or secret missing")
	}
	form := url.Values{}
	form.Set("grant_type", "client_credentials")
	form.Set("client_id", cc.clientID)
	form.Set("client_secret", cc.clientSecret)
	resp, err := cc.c.plain.Do(ctx, &connector.Request{
		Op:          "AccessToken",
		Method:      http.MethodPost,
		Path:        "admin/oauth/access_token",
		Body:        []byte(form.Encode()),
		ContentType: "application/x-www-form-urlencoded",
		Header:      http.Header{"Accept": {"application/json"}},
		Idempotent:  true, // asking for a token twice does no harm
	})
	if err != nil {
		return "", err
	}
	var tr struct {
		AccessToken string          `json:"access_token"`
		Scope       string          `json:"scope"`
		ExpiresIn   json.Number     `json:"expires_in"`
		Error       string          `json:"error"`
		Description json.RawMessage `json:"error_description"`
	}
	if err := json.Unmarshal(resp.Body, &tr); err != nil || tr.AccessToken == "" {
		return "", &connector.Error{System: systemName, Op: "AccessToken", Kind: connector.KindAuth, Status: resp.Status, Code: tr.Error, Message: "no access token in the answer"}
	}
	cc.c.addSecret(tr.AccessToken)
	cc.token, cc.scope = tr.AccessToken, tr.Scope
	// Without a lifetime, assume the documented 24 hours; a 401 renews it
	// earlier if Shopify disagrees.
	life := 24 * time.Hour
	if secs, err := tr.ExpiresIn.Float64(); err == nil && secs > 0 {
		life = time.Duration(secs * float64(time.Second))
	}
	cc.expires = now.Add(life)
	if life <= 2*cc.margin {
		// Short-lived tokens (tests, fakes): renew at half their life.
		cc.expires = now.Add(life / 2).Add(cc.margin)
	}
	return cc.token, nil
}

// Invalidate forgets the current token when it is the one Shopify refused
// (another request may have renewed it meanwhile); the next request
// fetches a new one.
func (cc *ClientCredentials) Invalidate(refused http.Header) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if tok := refused.Get(headerAccessToken); tok != "" && tok != cc.token {
		return
	}
	cc.token = ""
}

// binder is implemented by token sources that need the client (its URL,
// HTTP client and redactor) to work.
type binder interface {
	bind(c *Client) error
}

// authorizer puts the token on each request.
type authorizer struct{ src TokenSource }

func (a authorizer) Authorize(ctx context.Context, h http.Header) error {
	tok, err := a.src.Token(ctx)
	if err != nil {
		return err
	}
	h.Set(headerAccessToken, tok)
	return nil
}

// refreshingAuthorizer is an authorizer whose tokens can be renewed: a
// 401 invalidates the token and the transport tries once more. Static
// tokens get the plain authorizer, so a 401 is final at once.
type refreshingAuthorizer struct {
	authorizer
	inv connector.Invalidator
}

func (a refreshingAuthorizer) Invalidate(refused http.Header) { a.inv.Invalidate(refused) }

func newAuthorizer(src TokenSource) connector.Authorizer {
	if inv, ok := src.(connector.Invalidator); ok {
		return refreshingAuthorizer{authorizer{src}, inv}
	}
	return authorizer{src}
}
