package main

import (
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/knyt/knyt/connector"
	"github.com/knyt/knyt/connector/fault"
	"github.com/knyt/knyt/klarna"
	"github.com/knyt/knyt/klarna/klarnatest"
	"github.com/knyt/knyt/paypal"
	"github.com/knyt/knyt/paypal/paypaltest"
	"github.com/knyt/knyt/shopify"
	"github.com/knyt/knyt/shopify/shopifytest"
	"github.com/knyt/knyt/specter"
	"github.com/knyt/knyt/specter/spectertest"
	"github.com/knyt/knyt/stripe"
	"github.com/knyt/knyt/stripe/stripetest"
)

// simStart is when the simulated week begins: a Monday morning in
// November 2026, so every sale falls in the fourth quarter and the OSS
// return is the one for 2026Q4.
var simStart = time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC)

// clock is the sandbox's simulated time: the start, plus what the story
// skips ahead (a night, two days), plus the real time the run has taken,
// so that anything that meters real time (Shopify's cost bucket, the
// clients' pacing) keeps working. Dates are therefore the same on every
// run; times of day move by the seconds a run takes.
type clock struct {
	mu      sync.Mutex
	start   time.Time // simulated
	started time.Time // real, monotonic
	skipped time.Duration
}

func newClock(start time.Time) *clock { return &clock{start: start, started: time.Now()} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.start.Add(c.skipped + time.Since(c.started))
}

func (c *clock) skip(d time.Duration) {
	c.mu.Lock()
	c.skipped += d
	c.mu.Unlock()
}

// world is the five fakes on loopback, the simulated clock and the HTTP
// client every connector shares.
type world struct {
	clock  *clock
	shop   *shopifytest.Server
	erp    *spectertest.Server
	klarna *klarnatest.Server
	stripe *stripetest.Server
	paypal *paypaltest.Server
	kill   *fault.Crash
	http   *http.Client
	log    *slog.Logger

	location shopifytest.Location // the shop's warehouse
}

// Names the sandbox gives things.
const (
	shopID       = "se"        // the engine's name for the shop
	stockSite    = "1"         // Specter's stock site
	locationName = "Lager Åre" // the shop's location, mapped to the site
	roundingSKU  = "ORESAVR"   // Specter article of the öre rounding row
	shippingSKU  = "FRAKT"     // Specter article of shipping rows
	discountSKU  = "RABATT"    // Specter article of discount rows
)

func startWorld(start time.Time, log *slog.Logger) (*world, error) {
	c := newClock(start)
	w := &world{clock: c, log: log}
	w.shop = shopifytest.NewServer(shopifytest.WithCurrency("SEK"), shopifytest.WithShop("ullbod-are"),
		shopifytest.WithClock(c.Now), shopifytest.WithTimeScale(100))
	w.erp = spectertest.NewServer(spectertest.WithClock(c.Now()))
	w.klarna = klarnatest.NewServer(klarnatest.WithStartTime(c.Now()))
	w.stripe = stripetest.NewServer(stripetest.WithClock(c.Now()),
		stripetest.WithFees(stripetest.FeePolicy{BasisPoints: 150, Fixed: 180}))
	pp, err := paypaltest.NewServer(paypaltest.WithClock(c.Now))
	if err != nil {
		w.close()
		return nil, fmt.Errorf("start the PayPal fake: %w", err)
	}
	w.paypal = pp
	w.kill = &fault.Crash{Next: http.DefaultTransport.(*http.Transport).Clone()}
	w.http = &http.Client{Transport: w.kill, Timeout: 10 * time.Second}
	loc, err := w.shop.AddLocation(shopifytest.Location{Name: locationName,
		Address: shopifytest.Address{Address1: "Stationsvägen 7", City: "Åre", Zip: "83752", Country: "Sweden", CountryCode: "SE"}})
	if err != nil {
		w.close()
		return nil, err
	}
	w.location = loc
	// The charge articles are set up in Specter by hand, as articles
	// without stock. The specter connector would otherwise create missing
	// articles with the first order that uses them, priced as that order's
	// row — and Specter refuses a negative price, which a rounding row can
	// have (WithEnsureArticles(false) below).
	for _, a := range []spectertest.Article{{No: shippingSKU, Name: "Frakt", VATPercent: 25},
		{No: discountSKU, Name: "Rabatt", VATPercent: 25}, {No: roundingSKU, Name: "Öresavrundning"}} {
		if err := w.erp.Default().AddArticle(a); err != nil {
			w.close()
			return nil, err
		}
	}
	return w, nil
}

func (w *world) close() {
	if w.shop != nil {
		w.shop.Close()
	}
	if w.erp != nil {
		w.erp.Close()
	}
	if w.klarna != nil {
		w.klarna.Close()
	}
	if w.stripe != nil {
		w.stripe.Close()
	}
	if w.paypal != nil {
		w.paypal.Close()
	}
}

// skip moves simulated time on, in the fakes whose clocks stand still
// unless told.
func (w *world) skip(d time.Duration) {
	w.clock.skip(d)
	w.erp.Advance(d)
	w.klarna.Advance(d)
	w.stripe.SetNow(w.clock.Now())
}

func (w *world) faults() map[string]*fault.Injector {
	return map[string]*fault.Injector{
		"shopify": w.shop.Faults(), "specter": w.erp.Faults(), "klarna": w.klarna.Faults(),
		"stripe": w.stripe.Faults(), "paypal": w.paypal.Faults(),
	}
}

// connectors are fresh clients of the five systems, as a restarted
// process builds them: the real packages, pointed at the fakes, with
// short transport retries (the engine's own retries take over after).
type connectors struct {
	now    func() time.Time
	shop   *shopify.Client
	erp    *specter.Connector
	klarna *klarna.Client
	stripe *stripe.Client
	paypal *paypal.Client
}

func (w *world) connect() (*connectors, error) {
	const attempts = 3
	lo, hi := 2*time.Millisecond, 20*time.Millisecond
	c := connectors{now: w.clock.Now}
	var err error
	if c.shop, err = shopify.New(w.shop.Shop(), shopify.StaticToken(w.shop.AccessToken()), shopify.WithBaseURL(w.shop.URL()),
		shopify.WithHTTPClient(w.http), shopify.WithRetry(attempts, lo, hi), shopify.WithLogger(w.log),
		shopify.WithOrderMoney(shopify.PresentmentMoney), shopify.WithClock(w.clock.Now)); err != nil {
		return nil, err
	}
	acc := w.erp.Default()
	if c.erp, err = specter.New(acc.V2(), specter.WithBaseURL(w.erp.URL()), specter.WithHTTPClient(w.http),
		specter.WithPace(0), specter.WithRetry(attempts, lo, hi), specter.WithLogger(w.log), specter.WithClock(w.clock.Now),
		specter.WithStockLocations(map[string]string{stockSite: stockSite}),
		specter.WithShippingArticle(shippingSKU), specter.WithDiscountArticle(discountSKU), specter.WithEnsureArticles(false)); err != nil {
		return nil, err
	}
	if c.klarna, err = klarna.New(klarnatest.DefaultUsername, klarnatest.DefaultPassword, klarna.WithBaseURL(w.klarna.URL()),
		klarna.WithHTTPClient(w.http), klarna.WithRetry(attempts, lo, hi), klarna.WithLogger(w.log),
		klarna.WithMerchantID(klarnatest.DefaultMerchantID), klarna.WithClock(w.clock.Now)); err != nil {
		return nil, err
	}
	if c.stripe, err = stripe.New(w.stripe.SecretKey(), stripe.WithBaseURL(w.stripe.URL()), stripe.WithHTTPClient(w.http),
		stripe.WithRetry(attempts, lo, hi), stripe.WithLogger(w.log), stripe.WithMulticapture(), stripe.WithClock(w.clock.Now)); err != nil {
		return nil, err
	}
	id, secret := w.paypal.Credentials()
	if c.paypal, err = paypal.New(id, secret, paypal.WithBaseURL(w.paypal.URL()), paypal.WithHTTPClient(w.http),
		paypal.WithRetry(attempts, lo, hi), paypal.WithLogger(w.log), paypal.WithClock(w.clock.Now),
		paypal.WithPayoutLookback(30*24*time.Hour)); err != nil {
		return nil, err
	}
	return &c, nil
}

// providers are the payment connectors by the names the engine routes by
// (the shop's gateway names).
func (c *connectors) providers() map[string]connector.System {
	return map[string]connector.System{"klarna": c.klarna, "stripe": c.stripe, "paypal": c.paypal}
}
