package specter

import (
	"context"
	"log/slog"
	"maps"
	"net/http"
	"time"

	"github.com/shopspring/decimal"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/connector"
)

// DefaultBaseURL is Specter's API host (OBSERVED in every public client).
const DefaultBaseURL = "https://api.specter.se/"

// DefaultPace is the pause between two requests of one account. Specter
// documents no rate limit; one request at a time, at most two a second, is
// the reference's conservative recommendation.
const DefaultPace = 500 * time.Millisecond

// Option configures a Client or Connector.
type Option func(*config)

// OrderResolver maps Specter's order number to the shop's order number, for
// order-queue items that do not carry the externalOrderNo (an engine passes
// a lookup in its ID map). It returns an error matching connector.ErrNotFound
// when the order is unknown.
type OrderResolver func(ctx context.Context, specterOrderNo string) (string, error)

// CustomerMatching selects how Specter matches a submitted customer to an
// existing one (OBSERVED flags): first by e-mail, then by organisation or
// personal number, and whether a match is updated with the submitted data.
type CustomerMatching struct {
	ByEmail bool // false sends ignoreControlEmail=1
	ByOrgNo bool // false sends ignoreControlOrgNo=1
	Update  bool // sends forceCustomerUpdate=1
}

type config struct {
	baseURL    string
	httpClient *http.Client
	logger     *slog.Logger
	limiter    connector.RateLimiter
	pace       time.Duration
	retry      *[3]int64
	account    string
	strict     bool
	now        func() time.Time

	webshops        map[string]string // commerce.Order.Shop → webshopId
	webshop         string            // default webshopId
	stockSite       string            // stocksiteid for orders
	siteLocations   map[string]string // stock site id → canonical location
	singleSite      string            // location of the text-form stock queue; "" uses XML per site
	orderPrefix     string
	shippingArticle string
	discountArticle string
	giftCardArticle string
	payTypes        map[string]string
	defaultVAT      decimal.Decimal
	baseCurrency    commerce.Currency
	matching        CustomerMatching
	customerGroup   string
	language        string
	ensureArticles  bool
	callbackToken   string
	resolver        OrderResolver
	sendOrderMail   bool
}

func defaults() config {
	return config{
		baseURL:         DefaultBaseURL,
		logger:          slog.New(slog.DiscardHandler),
		pace:            DefaultPace,
		now:             time.Now,
		shippingArticle: "shipping",
		discountArticle: "discount",
		giftCardArticle: "giftcard",
		payTypes:        maps.Clone(defaultPayTypes),
		defaultVAT:      decimal.NewFromInt(25),
		baseCurrency:    commerce.SEK,
		matching:        CustomerMatching{ByEmail: true, ByOrgNo: true, Update: true},
		language:        "SE",
		ensureArticles:  true,
	}
}

// WithBaseURL points the client at another host (the fake's URL in tests).
func WithBaseURL(u string) Option { return func(c *config) { c.baseURL = u } }

// WithHTTPClient sets the HTTP client; TLS verification stays on (the public
// PHP client turned it off; this one never does).
func WithHTTPClient(h *http.Client) Option { return func(c *config) { c.httpClient = h } }

// WithLogger sets the slog logger; secrets are redacted.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// WithPace sets the pause between requests of the account (default
// DefaultPace). Requests of an account are always serialised.
func WithPace(d time.Duration) Option { return func(c *config) { c.pace = d } }

// WithRateLimiter replaces the per-account serial limiter, e.g. to share one
// across the connectors of several webshops of the same account.
func WithRateLimiter(l connector.RateLimiter) Option { return func(c *config) { c.limiter = l } }

// WithRetry sets the transport's attempts and backoff bounds.
func WithRetry(maxAttempts int, minWait, maxWait time.Duration) Option {
	return func(c *config) { c.retry = &[3]int64{int64(maxAttempts), int64(minWait), int64(maxWait)} }
}

// WithAccountName names the account in refs, logs and rate limiting
// (default: the SBMID).
func WithAccountName(name string) Option { return func(c *config) { c.account = name } }

// WithStrictText refuses free text with characters Windows-1252 cannot
// hold (a *TextError naming the field) instead of folding and substituting
// them.
func WithStrictText() Option { return func(c *config) { c.strict = true } }

// WithClock sets the clock used for dates sent to Specter.
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// WithWebshopID sends webshopId on every order (multishop; version-2
// credentials required).
func WithWebshopID(id string) Option { return func(c *config) { c.webshop = id } }

// WithWebshops maps a shop (commerce.Order.Shop) to its webshopId; orders of
// other shops use WithWebshopID's value.
func WithWebshops(m map[string]string) Option { return func(c *config) { c.webshops = maps.Clone(m) } }

// WithStockSite sets the stocksiteid of created orders.
func WithStockSite(id string) Option { return func(c *config) { c.stockSite = id } }

// WithStockLocations maps Specter stock site ids to canonical location
// names in stock levels (default: the site id).
func WithStockLocations(m map[string]string) Option {
	return func(c *config) { c.siteLocations = maps.Clone(m) }
}

// WithSingleStockSite reads the stock queue in its text form (one stock
// site, no getMultipleStocksites) and reports levels at location.
func WithSingleStockSite(location string) Option { return func(c *config) { c.singleSite = location } }

// WithOrderNumberPrefix prefixes externalOrderNo, keeping the order numbers
// of several shops in one Specter account apart.
func WithOrderNumberPrefix(p string) Option { return func(c *config) { c.orderPrefix = p } }

// WithShippingArticle sets the article number of shipping rows (default
// "shipping"); the article must exist in Specter (EnsureArticles creates it).
func WithShippingArticle(no string) Option { return func(c *config) { c.shippingArticle = no } }

// WithDiscountArticle sets the article number of discount rows (default
// "discount", as the public module uses).
func WithDiscountArticle(no string) Option { return func(c *config) { c.discountArticle = no } }

// WithGiftCardArticle sets the article number of gift-card lines without a
// SKU (default "giftcard").
func WithGiftCardArticle(no string) Option { return func(c *config) { c.giftCardArticle = no } }

// WithPayTypes maps payment providers (commerce.PaymentRef.Provider, lower
// case) or gateways to Specter payTypeIdentifier codes, added to the
// defaults (klarna KG, paypal PL, swish SW, …).
func WithPayTypes(m map[string]string) Option {
	return func(c *config) { maps.Copy(c.payTypes, m) }
}

// WithDefaultVATRate is the VAT percentage of articles whose variant names
// none (default 25).
func WithDefaultVATRate(pct decimal.Decimal) Option { return func(c *config) { c.defaultVAT = pct } }

// WithBaseCurrency is the company's base currency, the currency of article
// prices (default SEK; OBSERVED: integrations require SEK).
func WithBaseCurrency(cur commerce.Currency) Option { return func(c *config) { c.baseCurrency = cur } }

// WithCustomerMatching sets Specter's customer matching flags.
func WithCustomerMatching(m CustomerMatching) Option { return func(c *config) { c.matching = m } }

// WithCustomerGroup sets customerGroupId on submitted customers.
func WithCustomerGroup(id string) Option { return func(c *config) { c.customerGroup = id } }

// WithLanguage sets the language of customers and orders whose locale does
// not map to one of Specter's (default "SE").
func WithLanguage(code string) Option { return func(c *config) { c.language = code } }

// WithEnsureArticles controls whether CreateOrder first creates the
// articles an order refers to that are missing (default on).
func WithEnsureArticles(on bool) Option { return func(c *config) { c.ensureArticles = on } }

// WithCallbackToken sets the secret that callback URLs carry and the
// callback handler checks.
func WithCallbackToken(token string) Option { return func(c *config) { c.callbackToken = token } }

// WithOrderResolver sets how order-queue items without an externalOrderNo
// are mapped to shop order numbers.
func WithOrderResolver(r OrderResolver) Option { return func(c *config) { c.resolver = r } }

// WithOrderMail asks Specter to e-mail the order confirmation (sendOrderMail).
func WithOrderMail(on bool) Option { return func(c *config) { c.sendOrderMail = on } }
