package shopify_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/connector"
	"github.com/knyt/knyt/shopify"
	"github.com/knyt/knyt/shopify/shopifytest"
)

// newFake starts a fake shop and a client pointed at it, with fast
// retries; the fake's bucket restores 100× faster than Shopify's.
func newFake(t testing.TB, fakeOpts []shopifytest.Option, opts ...shopify.Option) (*shopifytest.Server, *shopify.Client) {
	t.Helper()
	srv := shopifytest.NewServer(append([]shopifytest.Option{shopifytest.WithTimeScale(100)}, fakeOpts...)...)
	t.Cleanup(srv.Close)
	base := []shopify.Option{
		shopify.WithBaseURL(srv.URL()),
		shopify.WithHTTPClient(srv.Client()),
		shopify.WithRetry(3, time.Millisecond, 5*time.Millisecond),
	}
	c, err := shopify.New(srv.Shop(), shopify.StaticToken(srv.AccessToken()), append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return srv, c
}

func sek(s string) commerce.Money {
	m, err := commerce.ParseMoney(s, "SEK")
	if err != nil {
		panic(err)
	}
	return m
}

func sampleProduct(n int) commerce.Product {
	rate := decimal.NewFromInt(25)
	cap := sek("299.00")
	p := commerce.Product{
		Title:       fmt.Sprintf("Ullsocka %d", n),
		Description: "<p>Varm</p>",
		Vendor:      "Knyt",
		Status:      commerce.ProductActive,
		Options:     []commerce.Option{{Name: "Storlek", Values: []string{"S", "M", "L"}}},
	}
	for i, size := range []string{"S", "M", "L"} {
		p.Variants = append(p.Variants, commerce.Variant{
			SKU:            fmt.Sprintf("SOCK-%d-%s", n, size),
			Options:        []commerce.OptionValue{{Name: "Storlek", Value: size}},
			Price:          sek(fmt.Sprintf("%d.00", 199+i*10)),
			CompareAtPrice: &cap,
			VATRatePercent: &rate,
			Weight:         &commerce.Weight{Value: decimal.RequireFromString("0.12"), Unit: commerce.Kilograms},
			Active:         true,
		})
	}
	return p
}

func TestUpsertProductsAgainstFake(t *testing.T) {
	srv, c := newFake(t, nil)
	ctx := context.Background()
	products := []commerce.Product{sampleProduct(1), sampleProduct(2)}
	first, err := c.UpsertProducts(ctx, products)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range first {
		if !r.Created || r.Ref.ID == "" || r.Key != products[i].Variants[0].SKU {
			t.Errorf("first[%d] = %+v", i, r)
		}
	}
	// The same batch again: updates, no second copy.
	second, err := c.UpsertProducts(ctx, products)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range second {
		if r.Created || r.Ref != first[i].Ref {
			t.Errorf("second[%d] = %+v, first %+v", i, r, first[i])
		}
	}
	if n := len(srv.Products()); n != 2 {
		t.Errorf("the fake holds %d products, want 2", n)
	}
	// A changed price and a dropped variant go through productSet's
	// list-replace semantics.
	p := products[0]
	p.Variants = p.Variants[:2]
	p.Variants[0].Price = sek("149.00")
	if _, err := c.UpsertProducts(ctx, []commerce.Product{p}); err != nil {
		t.Fatal(err)
	}
	got, err := c.ProductBySKU(ctx, "SOCK-1-S")
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Variants) != 2 || !got.Variants[0].Price.Equal(sek("149.00")) || got.Source != first[0].Ref {
		t.Errorf("after update: %+v", got)
	}
	if _, err := c.ProductBySKU(ctx, "SOCK-1-L"); !errors.Is(err, connector.ErrNotFound) {
		t.Errorf("dropped variant: err = %v", err)
	}
	if v, ok := srv.VariantBySKU("SOCK-1-M"); !ok || !decEq(v.Price, "209") || !decEq(v.CompareAtPrice, "299") {
		t.Errorf("fake variant = %+v", v)
	}
}

func TestUpsertProductsRefusesBadInput(t *testing.T) {
	srv, c := newFake(t, nil)
	ctx := context.Background()
	noSKU := sampleProduct(1)
	noSKU.Variants[1].SKU = ""
	euro := sampleProduct(2)
	euro.Variants[0].Price = commerce.NewMoney(decimal.RequireFromString("19.90"), commerce.EUR)
	inexact := sampleProduct(3)
	inexact.Variants[2].Price = commerce.NewMoney(decimal.RequireFromString("199.995"), commerce.SEK)
	for name, p := range map[string]commerce.Product{"missing SKU": noSKU, "foreign currency": euro, "too many decimals": inexact} {
		_, err := c.UpsertProducts(ctx, []commerce.Product{sampleProduct(9), p})
		if !errors.Is(err, connector.ErrValidation) {
			t.Errorf("%s: err = %v, want a validation error", name, err)
		}
	}
	if n := len(srv.Products()); n != 0 {
		t.Errorf("%d products written; a batch with a bad product writes nothing", n)
	}
}

func decEq(a, b string) bool {
	da, err1 := decimal.NewFromString(a)
	db, err2 := decimal.NewFromString(b)
	return err1 == nil && err2 == nil && da.Equal(db)
}

func TestSetPricesAndPriceListAgainstFake(t *testing.T) {
	srv, c := newFake(t, nil)
	ctx := context.Background()
	if _, err := c.UpsertProducts(ctx, []commerce.Product{sampleProduct(1)}); err != nil {
		t.Fatal(err)
	}
	cap := sek("349.00")
	err := c.SetPrices(ctx, []commerce.FixedPrice{
		{SKU: "SOCK-1-S", Price: sek("179.00"), CompareAtPrice: &cap},
		{SKU: "SOCK-1-M", Price: sek("189.00")},
	})
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := srv.VariantBySKU("SOCK-1-S"); !decEq(v.Price, "179") || !decEq(v.CompareAtPrice, "349") {
		t.Errorf("S = %+v", v)
	}
	if v, _ := srv.VariantBySKU("SOCK-1-M"); !decEq(v.Price, "189") || v.CompareAtPrice != "" {
		t.Errorf("M = %+v (a nil compare-at price clears it)", v)
	}
	// An unknown SKU: nothing written.
	err = c.SetPrices(ctx, []commerce.FixedPrice{{SKU: "SOCK-1-S", Price: sek("1.00")}, {SKU: "NOPE", Price: sek("1.00")}})
	if !errors.Is(err, connector.ErrNotFound) {
		t.Errorf("err = %v", err)
	}
	if v, _ := srv.VariantBySKU("SOCK-1-S"); !decEq(v.Price, "179") {
		t.Errorf("a failed batch wrote %s", v.Price)
	}

	pl, err := srv.AddPriceList(shopifytest.PriceList{Name: "Norge", Currency: "NOK"})
	if err != nil {
		t.Fatal(err)
	}
	nok := func(s string) commerce.Money {
		return commerce.NewMoney(decimal.RequireFromString(s), commerce.NOK)
	}
	ncap := nok("399.00")
	list := commerce.PriceList{Name: "norge", Currency: commerce.NOK, Prices: []commerce.FixedPrice{
		{SKU: "SOCK-1-S", Price: nok("229.00"), CompareAtPrice: &ncap},
		{SKU: "SOCK-1-L", Price: nok("249.00")},
	}}
	if err := c.SetPriceList(ctx, list); err != nil {
		t.Fatal(err)
	}
	prices := srv.PriceListPrices(pl.ID)
	s, _ := srv.VariantBySKU("SOCK-1-S")
	l, _ := srv.VariantBySKU("SOCK-1-L")
	if !decEq(prices[s.ID].Price, "229") || !decEq(prices[s.ID].CompareAtPrice, "399") || !decEq(prices[l.ID].Price, "249") {
		t.Errorf("price list = %+v", prices)
	}
	list.Currency = commerce.EUR
	list.Prices = []commerce.FixedPrice{{SKU: "SOCK-1-S", Price: commerce.NewMoney(decimal.RequireFromString("20.00"), commerce.EUR)}}
	if err := c.SetPriceList(ctx, list); !errors.Is(err, connector.ErrValidation) {
		t.Errorf("currency mismatch: err = %v", err)
	}
	list.Name, list.Currency = "Nowhere", commerce.NOK
	list.Prices = []commerce.FixedPrice{{SKU: "SOCK-1-S", Price: nok("1.00")}}
	if err := c.SetPriceList(ctx, list); !errors.Is(err, connector.ErrNotFound) {
		t.Errorf("unknown list: err = %v", err)
	}
}

func TestSetStockAgainstFake(t *testing.T) {
	srv, c := newFake(t, nil)
	ctx := context.Background()
	if _, err := c.UpsertProducts(ctx, []commerce.Product{sampleProduct(1)}); err != nil {
		t.Fatal(err)
	}
	main, err := srv.AddLocation(shopifytest.Location{Name: "Lager Borås"})
	if err != nil {
		t.Fatal(err)
	}
	store, err := srv.AddLocation(shopifytest.Location{Name: "Butik Göteborg"})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.SetInventory("SOCK-1-S", main.ID, 3); err != nil {
		t.Fatal(err)
	}
	three := 3
	changes := []connector.StockChange{
		{Level: commerce.StockLevel{SKU: "SOCK-1-S", Location: main.ID, Available: 10}, Previous: &three},
		{Level: commerce.StockLevel{SKU: "SOCK-1-M", Location: "lager borås", Available: 4}},
		// Not stocked at the shop yet: activated first.
		{Level: commerce.StockLevel{SKU: "SOCK-1-L", Location: "Butik Göteborg", Available: 2}},
	}
	key := connector.IdempotencyKey("test", "stock", "1")
	if err := c.SetStock(ctx, changes, connector.WithIdempotencyKey(key)); err != nil {
		t.Fatal(err)
	}
	for _, want := range []struct {
		sku, loc string
		n        int
	}{{"SOCK-1-S", main.ID, 10}, {"SOCK-1-M", main.ID, 4}, {"SOCK-1-L", store.ID, 2}} {
		if got, ok := srv.InventoryLevel(want.sku, want.loc); !ok || got != want.n {
			t.Errorf("%s at %s = %d (%v), want %d", want.sku, want.loc, got, ok, want.n)
		}
	}
	// The same levels again change nothing and write nothing.
	before := srv.Stats().Requests
	if err := c.SetStock(ctx, changes[1:], connector.WithIdempotencyKey(key)); err != nil {
		t.Fatal(err)
	}
	if st := srv.Stats(); st.Requests-before != 2 {
		t.Errorf("a no-op SetStock sent %d requests, want 2 (one lookup per location)", st.Requests-before)
	}
	// Compare-and-swap with a stale previous level is a conflict.
	err = c.SetStock(ctx, []connector.StockChange{{Level: commerce.StockLevel{SKU: "SOCK-1-S", Location: main.ID, Available: 7}, Previous: &three}})
	if !errors.Is(err, connector.ErrConflict) {
		t.Fatalf("stale previous: err = %v, want conflict", err)
	}
	if got, _ := srv.InventoryLevel("SOCK-1-S", main.ID); got != 10 {
		t.Errorf("stale write applied: %d", got)
	}
	// Bad input writes nothing.
	for name, chs := range map[string][]connector.StockChange{
		"unknown SKU":      {{Level: commerce.StockLevel{SKU: "SOCK-1-S", Location: main.ID, Available: 1}}, {Level: commerce.StockLevel{SKU: "NOPE", Location: main.ID, Available: 1}}},
		"unknown location": {{Level: commerce.StockLevel{SKU: "SOCK-1-S", Location: "Mars", Available: 1}}},
		"missing SKU":      {{Level: commerce.StockLevel{Location: main.ID, Available: 1}}},
	} {
		if err := c.SetStock(ctx, chs); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if got, _ := srv.InventoryLevel("SOCK-1-S", main.ID); got != 10 {
		t.Errorf("a refused batch wrote %d", got)
	}
}

// seedOrder adds a paid-by-card, authorized SEK order of two lines.
func seedOrder(t testing.TB, srv *shopifytest.Server, name string, o shopifytest.Order) shopifytest.Order {
	t.Helper()
	if o.Name == "" {
		o.Name = name
	}
	if o.Lines == nil {
		o.TaxesIncluded = true
		o.Email = "anna@example.se"
		o.BillingAddress = &shopifytest.Address{FirstName: "Anna", LastName: "Svensson", Address1: "Storgatan 1", Zip: "111 22", City: "Stockholm", CountryCode: "SE"}
		o.Lines = []shopifytest.LineItem{
			{SKU: "SOCK-1-S", Title: "Ullsocka", Quantity: 2, UnitPrice: "199.00", TaxLines: []shopifytest.TaxLine{{Title: "Moms", Rate: "0.25", Amount: "79.60"}}},
			{SKU: "SOCK-1-M", Title: "Ullsocka", Quantity: 1, UnitPrice: "209.00", TaxLines: []shopifytest.TaxLine{{Title: "Moms", Rate: "0.25", Amount: "41.80"}}},
		}
		o.ShippingLines = []shopifytest.ShippingLine{{Title: "PostNord", Price: "49.00", TaxLines: []shopifytest.TaxLine{{Title: "Moms", Rate: "0.25", Amount: "9.80"}}}}
		o.Transactions = []shopifytest.Transaction{{Kind: "AUTHORIZATION", Gateway: "shopify_payments", Amount: "656.00"}}
	}
	got, err := srv.AddOrder(o)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestOrdersFeedAgainstFake(t *testing.T) {
	var mismatches []error
	srv, c := newFake(t, nil, shopify.WithTotalsMismatchHandler(func(_ context.Context, _ commerce.Order, err error) error {
		mismatches = append(mismatches, err)
		return nil
	}))
	ctx := context.Background()
	seedOrder(t, srv, "#1001", shopifytest.Order{})
	seedOrder(t, srv, "#1002", shopifytest.Order{})
	var got []commerce.Order
	if _, err := connector.Drain(ctx, c.Orders(), "", func(_ context.Context, os []commerce.Order) error {
		got = append(got, os...)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Number != "#1001" || got[1].Number != "#1002" {
		t.Fatalf("orders = %d", len(got))
	}
	o := got[0]
	if len(o.Lines) != 2 || o.Lines[0].SKU != "SOCK-1-S" || !o.PricesIncludeTax || !o.Totals.Total.Equal(sek("656.00")) || len(o.Payments) != 1 || o.Payments[0].Provider != "shopify_payments" {
		t.Errorf("order = %+v", o)
	}
	if len(mismatches) > 0 {
		t.Errorf("totals mismatch: %v", mismatches)
	}
	if err := o.CheckTotals(); err != nil {
		t.Error(err)
	}
}

func TestStatusWritersAgainstFake(t *testing.T) {
	srv, c := newFake(t, nil)
	ctx := context.Background()
	if _, err := c.UpsertProducts(ctx, []commerce.Product{sampleProduct(1)}); err != nil {
		t.Fatal(err)
	}
	o := seedOrder(t, srv, "#1001", shopifytest.Order{})

	// Fulfil one unit of the first line, then the rest; the repeat with
	// the same tracking number is recognised.
	f := commerce.Fulfillment{OrderNumber: "1001", Lines: []commerce.FulfillmentLine{{SKU: "SOCK-1-S", Quantity: 1}},
		Tracking: []commerce.Tracking{{Number: "PN123", URL: "https://tracking.postnord.com/PN123", Company: "PostNord"}}, NotifyCustomer: true}
	ref, err := c.Fulfill(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.Fulfill(ctx, f)
	if err != nil || again != ref {
		t.Errorf("repeat: %v %v, want %v", again, err, ref)
	}
	fs := srv.Fulfillments(o.ID)
	if len(fs) != 1 || !fs[0].NotifyCustomer || fs[0].Tracking[0].Number != "PN123" || fs[0].Tracking[0].Company != "PostNord" || fs[0].Lines[0].Quantity != 1 {
		t.Errorf("fulfillments = %+v", fs)
	}
	over := commerce.Fulfillment{OrderNumber: "#1001", Lines: []commerce.FulfillmentLine{{SKU: "SOCK-1-S", Quantity: 5}}}
	if _, err := c.Fulfill(ctx, over); !errors.Is(err, connector.ErrConflict) {
		t.Errorf("over-fulfil: err = %v", err)
	}

	// Capture half, then the rest, on a multi-capturable authorization.
	o2 := seedOrder(t, srv, "#1002", shopifytest.Order{
		Lines:        []shopifytest.LineItem{{SKU: "SOCK-1-M", Quantity: 1, UnitPrice: "200.00"}},
		Transactions: []shopifytest.Transaction{{Kind: "AUTHORIZATION", Gateway: "shopify_payments", Amount: "200.00", MultiCapturable: true}},
	})
	k1 := connector.IdempotencyKey("test", "capture", "1")
	c1, err := c.Capture(ctx, connector.CaptureRequest{OrderNumber: "#1002", Amount: sek("100.00")}, connector.WithIdempotencyKey(k1))
	if err != nil {
		t.Fatal(err)
	}
	c1b, err := c.Capture(ctx, connector.CaptureRequest{OrderNumber: "#1002", Amount: sek("100.00")}, connector.WithIdempotencyKey(k1))
	if err != nil || c1b.ID != c1.ID {
		t.Errorf("repeat capture = %v %v", c1b.ID, err)
	}
	k2 := connector.IdempotencyKey("test", "capture", "2")
	c2, err := c.Capture(ctx, connector.CaptureRequest{OrderNumber: "#1002", Amount: sek("100.00"), Final: true}, connector.WithIdempotencyKey(k2))
	if err != nil || c2.ID == c1.ID {
		t.Fatalf("second half: %v %v", c2.ID, err)
	}
	if st, _ := srv.OrderState(o2.ID); st.FinancialStatus != "PAID" {
		t.Errorf("after two captures: %+v", st)
	}
	if _, err := c.Capture(ctx, connector.CaptureRequest{OrderNumber: "#1002", Amount: commerce.NewMoney(decimal.RequireFromString("5.00"), commerce.EUR)}); !errors.Is(err, connector.ErrValidation) {
		t.Errorf("capture in another currency: %v", err)
	}

	// Mark a manual order paid, twice.
	o3 := seedOrder(t, srv, "#1003", shopifytest.Order{
		Lines:        []shopifytest.LineItem{{SKU: "SOCK-1-M", Quantity: 1, UnitPrice: "200.00"}},
		Transactions: []shopifytest.Transaction{{Kind: "SALE", Status: "PENDING", Gateway: "manual", Amount: "200.00"}},
	})
	for range 2 {
		if err := c.MarkPaid(ctx, "#1003"); err != nil {
			t.Fatal(err)
		}
	}
	if st, _ := srv.OrderState(o3.ID); st.FinancialStatus != "PAID" {
		t.Errorf("after mark paid: %+v", st)
	}

	// Cancel, twice.
	for range 2 {
		if err := c.CancelOrder(ctx, "#1003", "customer"); err != nil {
			t.Fatal(err)
		}
	}
	if st, _ := srv.OrderState(o3.ID); !st.Cancelled || st.CancelReason != "CUSTOMER" {
		t.Errorf("after cancel: %+v", st)
	}
	if err := c.CancelOrder(ctx, "#9999", "customer"); !errors.Is(err, connector.ErrNotFound) {
		t.Errorf("unknown order: %v", err)
	}
}

func TestCaptureMultiCurrencyAgainstFake(t *testing.T) {
	srv, c := newFake(t, nil)
	ctx := context.Background()
	seedOrder(t, srv, "#2001", shopifytest.Order{
		PresentmentCurrency: "EUR", ExchangeRate: "11.5",
		Lines:        []shopifytest.LineItem{{SKU: "X-1", Quantity: 1, UnitPrice: "20.00"}},
		Transactions: []shopifytest.Transaction{{Kind: "AUTHORIZATION", Gateway: "shopify_payments", Amount: "20.00"}},
	})
	eur := commerce.NewMoney(decimal.RequireFromString("20.00"), commerce.EUR)
	cp, err := c.Capture(ctx, connector.CaptureRequest{OrderNumber: "#2001", Amount: eur, Final: true})
	if err != nil {
		t.Fatal(err)
	}
	if !cp.Amount.Equal(eur) || cp.Provider != "shopify_payments" || cp.OrderNumber != "#2001" {
		t.Errorf("capture = %+v", cp)
	}
	if _, err := c.Capture(ctx, connector.CaptureRequest{OrderNumber: "#2001", Amount: sek("230.00")}); !errors.Is(err, connector.ErrValidation) {
		t.Errorf("capture in the shop currency of a EUR order: %v", err)
	}
}

func TestRefundsAndReturnsAgainstFake(t *testing.T) {
	srv, c := newFake(t, nil)
	ctx := context.Background()
	o := seedOrder(t, srv, "#1001", shopifytest.Order{})
	rt, err := srv.AddReturn(o.ID, shopifytest.Return{Lines: []shopifytest.ReturnLine{{SKU: "SOCK-1-S", Quantity: 1, Reason: "size_too_small", ReasonNote: "för liten"}}})
	if err != nil {
		t.Fatal(err)
	}
	rf, err := srv.AddRefund(o.ID, shopifytest.Refund{Note: "retur", ReturnID: rt.ID, Lines: []shopifytest.RefundLine{{SKU: "SOCK-1-S", Quantity: 1, RestockType: "RETURN"}},
		Transactions: []shopifytest.Transaction{{Kind: "REFUND", Gateway: "shopify_payments", Amount: "199.00"}}})
	if err != nil {
		t.Fatal(err)
	}
	var refunds []commerce.Refund
	if _, err := connector.Drain(ctx, c.Refunds(), "", func(_ context.Context, rs []commerce.Refund) error {
		refunds = append(refunds, rs...)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(refunds) != 1 {
		t.Fatalf("refunds = %+v", refunds)
	}
	r := refunds[0]
	if r.ID != rf.ID || r.OrderNumber != "#1001" || !r.Amount.Equal(sek("199.00")) || len(r.Lines) != 1 || r.Lines[0].SKU != "SOCK-1-S" || !r.Lines[0].Restock || r.ReturnID != rt.ID || r.Provider != "shopify_payments" {
		t.Errorf("refund = %+v", r)
	}
	var returns []commerce.Return
	if _, err := connector.Drain(ctx, c.Returns(), "", func(_ context.Context, rs []commerce.Return) error {
		returns = append(returns, rs...)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(returns) != 1 || returns[0].ID != rt.ID || returns[0].Lines[0].SKU != "SOCK-1-S" || returns[0].Lines[0].Reason != "size_too_small: för liten" || returns[0].Status != commerce.ReturnOpen {
		t.Errorf("returns = %+v", returns)
	}
}

func TestPayoutsAgainstFake(t *testing.T) {
	srv, c := newFake(t, nil)
	ctx := context.Background()
	issued := time.Date(2026, 11, 3, 6, 0, 0, 0, time.UTC)
	p, _, err := srv.AddPayout(shopifytest.Payout{Net: "859.60", IssuedAt: issued, ExternalTraceID: "SPAY-42"},
		shopifytest.BalanceTransaction{Type: "CHARGE", Amount: "656.00", Fee: "19.68", SourceOrderTransactionID: 9007199254740993},
		shopifytest.BalanceTransaction{Type: "CHARGE", Amount: "250.00", Fee: "7.50"},
		shopifytest.BalanceTransaction{Type: "REFUND", Amount: "-199.00", Fee: "0"},
		shopifytest.BalanceTransaction{Type: "ADJUSTMENT", Amount: "189.78", Fee: "0"},
		shopifytest.BalanceTransaction{Type: "CHARGEBACK_FEE", Amount: "-15.00", Fee: "0"},
		shopifytest.BalanceTransaction{Type: "SHOP_CASH_CREDIT", Amount: "5.00", Fee: "0"},
		shopifytest.BalanceTransaction{Type: "TRANSFER", Amount: "-859.60", Fee: "0"},
	)
	if err != nil {
		t.Fatal(err)
	}
	var payouts []commerce.Payout
	for po, err := range c.Payouts(ctx, issued.Add(-time.Hour), issued.Add(time.Hour)) {
		if err != nil {
			t.Fatal(err)
		}
		payouts = append(payouts, po)
	}
	if len(payouts) != 1 || payouts[0].ID != p.ID || !payouts[0].Amount.Equal(sek("859.60")) || payouts[0].Reference != "SPAY-42" ||
		payouts[0].Status != commerce.PayoutPaid || payouts[0].ArrivalDate != commerce.NewDate(2026, 11, 3) {
		t.Fatalf("payouts = %+v", payouts)
	}
	po := payouts[0]
	for tx, err := range c.PayoutTransactions(ctx, po.ID) {
		if err != nil {
			t.Fatal(err)
		}
		po.Transactions = append(po.Transactions, tx)
	}
	if len(po.Transactions) != 7 {
		t.Fatalf("transactions = %d", len(po.Transactions))
	}
	if err := po.Validate(); err != nil {
		t.Errorf("payout does not add up: %v", err)
	}
	kinds := []commerce.TransactionKind{}
	for _, tx := range po.Transactions {
		kinds = append(kinds, tx.Kind)
	}
	if fmt.Sprint(kinds) != "[sale sale refund adjustment fee other payout]" {
		t.Errorf("kinds = %v", kinds)
	}
	if fee := po.Transactions[4]; !fee.Amount.IsZero() || !fee.Fee.Equal(sek("15.00")) {
		t.Errorf("fee row = %+v", fee)
	}
	if tx := po.Transactions[0]; tx.References.PaymentReference != "gid://shopify/OrderTransaction/9007199254740993" {
		t.Errorf("references = %+v", tx.References)
	}
	none := 0
	for range c.Payouts(ctx, issued.Add(time.Hour), issued.Add(2*time.Hour)) {
		none++
	}
	if none != 0 {
		t.Errorf("%d payouts outside the window", none)
	}
}

// webhookSink receives the fake's webhooks through the decoder.
type webhookSink struct {
	mu     sync.Mutex
	events []shopify.Webhook
	errs   []error
	bulk   chan string
}

func (s *webhookSink) handler(dec *shopify.WebhookDecoder) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ev, err := dec.Decode(r)
		s.mu.Lock()
		defer s.mu.Unlock()
		if err != nil {
			s.errs = append(s.errs, err)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		s.events = append(s.events, ev)
		if ev.Topic == "bulk_operations/finish" && s.bulk != nil {
			if b, err := shopify.ParseBulkFinish(ev.Payload); err == nil {
				s.bulk <- b.OperationID
			}
		}
	})
}

func TestFakeWebhooksVerify(t *testing.T) {
	srv, _ := newFake(t, nil)
	sink := &webhookSink{}
	recv := httptest.NewServer(sink.handler(&shopify.WebhookDecoder{Secrets: [][]byte{[]byte(srv.WebhookSecret())}}))
	defer recv.Close()
	srv.Subscribe("orders/create", recv.URL)
	srv.InjectWebhookFault(shopifytest.WebhookDuplicate)
	o := seedOrder(t, srv, "#1001", shopifytest.Order{})
	seedOrder(t, srv, "#1002", shopifytest.Order{})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.FlushWebhooks(ctx); err != nil {
		t.Fatal(err)
	}
	sink.mu.Lock()
	defer sink.mu.Unlock()
	if len(sink.errs) > 0 {
		t.Fatalf("decoder refused the fake's deliveries: %v", sink.errs)
	}
	if len(sink.events) != 3 {
		t.Fatalf("events = %d, want 3 (one duplicated)", len(sink.events))
	}
	first, dup := sink.events[0], sink.events[1]
	if first.Topic != "orders/create" || first.Account != srv.Shop() || first.ObjectID != o.ID || first.At.IsZero() || first.EventID == "" {
		t.Errorf("event = %+v", first.WebhookEvent)
	}
	if dup.ID != first.ID || dup.EventID != first.EventID {
		t.Errorf("a duplicate delivery must carry the same ids: %q/%q vs %q/%q", dup.ID, dup.EventID, first.ID, first.EventID)
	}
}

func TestExportWakesOnBulkFinishWebhook(t *testing.T) {
	srv, c := newFake(t, []shopifytest.Option{shopifytest.WithBulkDelay(time.Minute)}, shopify.WithBulkPollInterval(time.Hour))
	if _, err := srv.AddProduct(shopifytest.Product{Title: "Vara", Variants: []shopifytest.Variant{{SKU: "A", Price: "1.00"}}}); err != nil {
		t.Fatal(err)
	}
	sink := &webhookSink{bulk: make(chan string, 1)}
	recv := httptest.NewServer(sink.handler(&shopify.WebhookDecoder{Secrets: [][]byte{[]byte(srv.WebhookSecret())}}))
	defer recv.Close()
	srv.Subscribe("bulk_operations/finish", recv.URL)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var statuses []string
	done := make(chan error, 1)
	go func() {
		_, err := c.ExportProducts(ctx, shopify.ExportOptions{Finished: sink.bulk, Progress: func(p shopify.ExportProgress) {
			statuses = append(statuses, p.Status)
			if p.Status == "RUNNING" {
				srv.Advance(2 * time.Minute) // the operation finishes on the fake's clock
			}
		}}, func(context.Context, commerce.Product) error { return nil })
		done <- err
	}()
	// The poll interval is an hour: only the webhook can end the wait.
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(statuses) != "[CREATED RUNNING COMPLETED DOWNLOADING DONE]" {
		t.Errorf("statuses = %v", statuses)
	}
}

func TestPacingAgainstTinyBucket(t *testing.T) {
	for _, status := range []int{http.StatusOK, http.StatusTooManyRequests} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			// A development store's bucket: 40 points, 2/s (×100 here).
			srv, c := newFake(t, []shopifytest.Option{shopifytest.WithProfile(shopifytest.Tiny), shopifytest.WithThrottleHTTPStatus(status)}, shopify.WithConcurrency(3))
			ctx := context.Background()
			batch := []commerce.Product{sampleProduct(1), sampleProduct(2), sampleProduct(3), sampleProduct(4), sampleProduct(5), sampleProduct(6)}
			if _, err := c.UpsertProducts(ctx, batch); err != nil {
				t.Fatal(err)
			}
			st := srv.Stats()
			if st.Throttled != 0 || st.MaxCostExceeded != 0 {
				t.Errorf("one paced client: %+v", st)
			}
			// A second process with its own bucket mirror competes for the
			// same bucket: neither can foresee the other, so Shopify
			// throttles, and both recover by waiting what it says.
			other, err := shopify.New(srv.Shop(), shopify.StaticToken(srv.AccessToken()), shopify.WithBaseURL(srv.URL()), shopify.WithHTTPClient(srv.Client()))
			if err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			errs := make([]error, 2)
			for i, cl := range []*shopify.Client{c, other} {
				wg.Go(func() {
					for j := range 4 {
						if err := cl.SetPrices(ctx, []commerce.FixedPrice{{SKU: fmt.Sprintf("SOCK-%d-M", j+1), Price: sek(fmt.Sprintf("%d.00", 100+i))}}); err != nil {
							errs[i] = err
							return
						}
					}
				})
			}
			wg.Wait()
			for _, err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			t.Logf("%+v", srv.Stats())
		})
	}
}

func TestUnlistedProductRoundTrip(t *testing.T) {
	srv, c := newFake(t, nil)
	ctx := context.Background()
	p := sampleProduct(1)
	p.Status = commerce.ProductUnlisted
	if _, err := c.UpsertProducts(ctx, []commerce.Product{p}); err != nil {
		t.Fatal(err)
	}
	if ps := srv.Products(); len(ps) != 1 || ps[0].Status != "UNLISTED" {
		t.Fatalf("the fake holds %+v", ps)
	}
	got, err := c.ProductBySKU(ctx, "SOCK-1-S")
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != commerce.ProductUnlisted || !got.Variants[0].Active {
		t.Errorf("read back as %q, variant active %v", got.Status, got.Variants[0].Active)
	}
}

func TestProductFeedSeesAnUpdateInTheSameSecond(t *testing.T) {
	at := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	_, c := newFake(t, []shopifytest.Option{shopifytest.WithClock(func() time.Time { return at })})
	ctx := context.Background()
	p := sampleProduct(1)
	if _, err := c.UpsertProducts(ctx, []commerce.Product{p, sampleProduct(2)}); err != nil {
		t.Fatal(err)
	}
	drain := func(cur connector.Cursor) ([]commerce.Product, connector.Cursor) {
		t.Helper()
		var got []commerce.Product
		next, err := connector.Drain(ctx, c.Products(), cur, func(_ context.Context, ps []commerce.Product) error {
			got = append(got, ps...)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return got, next
	}
	got, cur := drain("")
	if len(got) != 2 {
		t.Fatalf("first read: %d products", len(got))
	}
	// Changed again on the same (frozen) clock: the same updatedAt.
	p.Variants[0].Price = sek("149.00")
	if _, err := c.UpsertProducts(ctx, []commerce.Product{p}); err != nil {
		t.Fatal(err)
	}
	got, cur = drain(cur)
	if len(got) != 1 || got[0].Variants[0].SKU != "SOCK-1-S" || !got[0].Variants[0].Price.Equal(sek("149.00")) {
		t.Fatalf("after the update: %+v", got)
	}
	if got, _ = drain(cur); len(got) != 0 {
		t.Errorf("idle read delivered %d products", len(got))
	}
}

// After a restart (a new client, its key memory empty) CapturedBefore
// tells a repeated capture from a new one of the same amount.
func TestCaptureAfterRestartWithCapturedBefore(t *testing.T) {
	srv, _ := newFake(t, nil)
	ctx := context.Background()
	o := seedOrder(t, srv, "#3001", shopifytest.Order{
		Lines:        []shopifytest.LineItem{{SKU: "SOCK-1-M", Quantity: 3, UnitPrice: "100.00"}},
		Transactions: []shopifytest.Transaction{{Kind: "AUTHORIZATION", Gateway: "shopify_payments", Amount: "300.00", MultiCapturable: true}},
	})
	restart := func() *shopify.Client {
		c, err := shopify.New(srv.Shop(), shopify.StaticToken(srv.AccessToken()), shopify.WithBaseURL(srv.URL()), shopify.WithHTTPClient(srv.Client()),
			shopify.WithRetry(3, time.Millisecond, 5*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	capture := func(c *shopify.Client, key, before string) (commerce.Capture, error) {
		b := sek(before)
		return c.Capture(ctx, connector.CaptureRequest{OrderNumber: "#3001", Amount: sek("100.00"), CapturedBefore: &b},
			connector.WithIdempotencyKey(connector.IdempotencyKey("test", key)))
	}
	captures := func() int {
		st, _ := srv.OrderState(o.ID)
		n := 0
		for _, tx := range st.Transactions {
			if tx.Kind == "CAPTURE" {
				n++
			}
		}
		return n
	}
	first, err := capture(restart(), "d1", "0.00")
	if err != nil {
		t.Fatal(err)
	}
	// A new delivery of the same amount after a restart is captured.
	second, err := capture(restart(), "d2", "100.00")
	if err != nil || second.ID == first.ID || captures() != 2 {
		t.Fatalf("second delivery: %v %v; %d captures", second.ID, err, captures())
	}
	// Its repeat after another restart (the answer lost) is not.
	again, err := capture(restart(), "d2", "100.00")
	if err != nil || again.ID != second.ID || captures() != 2 {
		t.Errorf("repeat after restart: %v %v; %d captures, want %s and 2", again.ID, err, captures(), second.ID)
	}
	// A caller whose count disagrees with the authorization gets a
	// conflict and nothing is captured.
	if _, err := capture(restart(), "d3", "0.00"); !errors.Is(err, connector.ErrConflict) || captures() != 2 {
		t.Errorf("stale count: %v; %d captures", err, captures())
	}
}
