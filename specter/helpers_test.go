package specter_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/connector/connectortest"
	"github.com/knyt/knyt/specter"
	"github.com/knyt/knyt/specter/spectertest"
)

// fixture is a connector against a fresh fake.
type fixture struct {
	srv *spectertest.Server
	acc *spectertest.Account
	c   *specter.Connector
	log *connectortest.LogBuffer
}

// fast are the options every test connector gets: the fake's URL, no pace,
// millisecond retries, a log to scan for secrets.
func fast(srv *spectertest.Server, log *connectortest.LogBuffer) []specter.Option {
	return []specter.Option{
		specter.WithBaseURL(srv.URL()),
		specter.WithPace(0),
		specter.WithRetry(3, time.Millisecond, 5*time.Millisecond),
		specter.WithLogger(log.Logger()),
	}
}

func newFixture(t testing.TB, opts ...specter.Option) *fixture {
	t.Helper()
	srv := spectertest.NewServer()
	t.Cleanup(srv.Close)
	f := &fixture{srv: srv, acc: srv.Default(), log: connectortest.NewLogBuffer()}
	f.c = f.connect(t, f.acc.V2(), opts...)
	t.Cleanup(func() { f.checkSecrets(t) })
	return f
}

// connect builds another connector on the same fake (a restart).
func (f *fixture) connect(t testing.TB, creds specter.Credentials, opts ...specter.Option) *specter.Connector {
	t.Helper()
	c, err := specter.New(creds, append(fast(f.srv, f.log), opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (f *fixture) checkSecrets(t testing.TB) {
	logs := f.log.String()
	for _, s := range f.acc.Secrets() {
		if strings.Contains(logs, s) {
			t.Errorf("secret %.3s… appears in the log", s)
		}
	}
}

func sek(minor int64) commerce.Money { return commerce.FromMinor(minor, commerce.SEK) }

func pct(n int64) *decimal.Decimal {
	d := decimal.NewFromInt(n)
	return &d
}

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// sampleOrder is a Swedish order with prices including VAT, a 12 % and a
// 25 % line, a discount and shipping, paid with Klarna.
func sampleOrder(number string) commerce.Order {
	vat := func(rate int64, amount int64) []commerce.TaxLine {
		return []commerce.TaxLine{{Title: "Moms", RatePercent: decimal.NewFromInt(rate), Amount: sek(amount)}}
	}
	addr := &commerce.Address{FirstName: "Åsa", LastName: "Öberg", Line1: "Ängsvägen 3", PostalCode: "722 14", City: "Västerås", Country: "SE"}
	o := commerce.Order{
		Number:           number,
		Currency:         commerce.SEK,
		PricesIncludeTax: true,
		Customer:         commerce.Customer{Email: "asa.oberg@example.se", FirstName: "Åsa", LastName: "Öberg", Locale: "sv-SE"},
		BillingAddress:   addr,
		ShippingAddress:  addr,
		Lines: []commerce.Line{
			{ID: "1", SKU: "TROJA-M", Title: "Tröja - M", Quantity: 2, UnitPrice: sek(29900), TaxLines: vat(25, 10764),
				Discounts: []commerce.DiscountAllocation{{Amount: sek(5980), Code: "HÖST10"}}},
			{ID: "2", SKU: "BOK-1", Title: "Bok om älgar", Quantity: 1, UnitPrice: sek(22400), TaxLines: vat(12, 2400)},
		},
		ShippingLines: []commerce.ShippingLine{{Title: "PostNord", Price: sek(4900), TaxLines: vat(25, 980)}},
		Payments:      []commerce.PaymentRef{{Provider: "klarna", Reference: "kl-ref-123", Amount: sek(81120)}},
		Note:          "Lämna vid dörren",
	}
	o.Totals, _ = o.ComputeTotals()
	return o
}

// seedOrder creates an order through the connector and returns its Specter
// order number.
func seedOrder(t testing.TB, ctx context.Context, c *specter.Connector, number string) int {
	t.Helper()
	res, err := c.CreateOrder(ctx, sampleOrder(number))
	if err != nil {
		t.Fatalf("CreateOrder(%s): %v", number, err)
	}
	n := 0
	for _, ch := range res.Ref.ID {
		n = n*10 + int(ch-'0')
	}
	return n
}

func stockholmLoc() *time.Location {
	loc, err := time.LoadLocation("Europe/Stockholm")
	if err != nil {
		return time.UTC
	}
	return loc
}
