package shopify_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/connector"
	"github.com/knyt/knyt/shopify"
	"github.com/knyt/knyt/shopify/shopifytest"
)

// Point a client at a fake shop and upsert a product; upserting it again
// updates it instead of creating a second one.
func Example() {
	srv := shopifytest.NewServer()
	defer srv.Close()

	c, err := shopify.New(srv.Shop(), shopify.StaticToken(srv.AccessToken()),
		shopify.WithBaseURL(srv.URL()), shopify.WithHTTPClient(srv.Client()))
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	p := commerce.Product{
		Title:  "Ullsocka",
		Status: commerce.ProductActive,
		Variants: []commerce.Variant{
			{SKU: "SOCK-1", Price: commerce.FromMinor(8900, commerce.SEK), Active: true},
		},
	}
	for range 2 {
		res, err := c.UpsertProducts(ctx, []commerce.Product{p})
		if err != nil {
			panic(err)
		}
		fmt.Println(res[0].Key, "created:", res[0].Created)
	}
	got, err := c.ProductBySKU(ctx, "SOCK-1")
	if err != nil {
		panic(err)
	}
	fmt.Println(got.Title, got.Variants[0].Price)
	// Output:
	// SOCK-1 created: true
	// SOCK-1 created: false
	// Ullsocka 89.00 SEK
}

// Read new orders with the order feed and store the cursor after each
// batch; Drain does both.
func ExampleClient_Orders() {
	srv := shopifytest.NewServer()
	defer srv.Close()
	for _, name := range []string{"#1001", "#1002"} {
		if _, err := srv.AddOrder(shopifytest.Order{
			Name:          name,
			TaxesIncluded: true,
			Lines:         []shopifytest.LineItem{{SKU: "SOCK-1", Title: "Ullsocka", Quantity: 2, UnitPrice: "89.00", TaxLines: []shopifytest.TaxLine{{Title: "Moms", Rate: "0.25", Amount: "35.60"}}}},
			Transactions:  []shopifytest.Transaction{{Kind: "AUTHORIZATION", Gateway: "shopify_payments", Amount: "178.00"}},
		}); err != nil {
			panic(err)
		}
	}
	c, err := shopify.New(srv.Shop(), shopify.StaticToken(srv.AccessToken()),
		shopify.WithBaseURL(srv.URL()), shopify.WithHTTPClient(srv.Client()))
	if err != nil {
		panic(err)
	}
	_, err = connector.Drain(context.Background(), c.Orders(), "", func(_ context.Context, orders []commerce.Order) error {
		for _, o := range orders {
			fmt.Println(o.Number, o.Lines[0].SKU, o.Totals.Total, o.Totals.Tax, o.FinancialStatus)
		}
		return nil
	})
	if err != nil {
		panic(err)
	}
	// Output:
	// #1001 SOCK-1 178.00 SEK 35.60 SEK authorized
	// #1002 SOCK-1 178.00 SEK 35.60 SEK authorized
}

// Authenticate an app from the Dev Dashboard with the client credentials
// grant; the token is fetched on first use and renewed before it expires.
func ExampleNewClientCredentials() {
	srv := shopifytest.NewServer(shopifytest.WithClientCredentials("app-id", "app-secret"))
	defer srv.Close()

	c, err := shopify.New(srv.Shop(), shopify.NewClientCredentials("app-id", "app-secret"),
		shopify.WithBaseURL(srv.URL()), shopify.WithHTTPClient(srv.Client()))
	if err != nil {
		panic(err)
	}
	fmt.Println(c.Ping(context.Background()))
	// Output: <nil>
}

// Verify a webhook's signature against the raw body.
func ExampleVerifyWebhook() {
	body := []byte(`"my secret message"`)
	fmt.Println(shopify.VerifyWebhook([]byte("hush"), body, "hMTq0K2x7oyOjoBwGYeTj5oxfnaVYXzbanUG9aajpKI="))
	err := shopify.VerifyWebhook([]byte("hush"), []byte(`"tampered"`), "hMTq0K2x7oyOjoBwGYeTj5oxfnaVYXzbanUG9aajpKI=")
	fmt.Println(errors.Is(err, connector.ErrWebhookSignature))
	// Output:
	// <nil>
	// true
}

// Receive webhooks in an http.Handler: verify, answer 401 to forgeries,
// and hand the event on for deduplication by its id.
func ExampleWebhookDecoder() {
	dec := &shopify.WebhookDecoder{Secrets: [][]byte{[]byte("test-client-secret")}}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ev, err := dec.DecodeWebhook(r)
		switch {
		case errors.Is(err, connector.ErrWebhookSignature):
			w.WriteHeader(http.StatusUnauthorized)
			return
		case err != nil:
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		fmt.Println(ev.Topic, ev.Account, ev.ID, ev.ObjectID)
	})

	body := `{"id":820982911946154508,"admin_graphql_api_id":"gid://shopify/Order/820982911946154508","name":"#9999","currency":"SEK","total_price":"199.00","updated_at":"2026-10-01T12:00:00+02:00"}`
	r := httptest.NewRequest(http.MethodPost, "/webhooks", strings.NewReader(body))
	r.Header.Set("X-Shopify-Hmac-Sha256", "FB8SUL7j7NOoyMBWhM4c0v/mzuxwDsfKZbAlR3ZavDI=")
	r.Header.Set("X-Shopify-Topic", "orders/updated")
	r.Header.Set("X-Shopify-Shop-Domain", "knyt-test.myshopify.com")
	r.Header.Set("X-Shopify-Webhook-Id", "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043")
	w := httptest.NewRecorder()
	handler.ServeHTTP(w, r)
	fmt.Println(w.Code)
	// Output:
	// orders/updated knyt-test.myshopify.com b54557e4-bdd9-4b37-8a5f-bf7d70bcd043 gid://shopify/Order/820982911946154508
	// 200
}

// Export the whole catalogue with a bulk operation, streaming product by
// product, and keep the checkpoint to resume after a crash.
func ExampleClient_ExportProducts() {
	srv := shopifytest.NewServer()
	defer srv.Close()
	for i := range 3 {
		if _, err := srv.AddProduct(shopifytest.Product{Title: fmt.Sprintf("Vara %d", i),
			Variants: []shopifytest.Variant{{SKU: fmt.Sprintf("SKU-%d", i), Price: "10.00"}}}); err != nil {
			panic(err)
		}
	}
	c, err := shopify.New(srv.Shop(), shopify.StaticToken(srv.AccessToken()),
		shopify.WithBaseURL(srv.URL()), shopify.WithHTTPClient(srv.Client()), shopify.WithBulkPollInterval(10*time.Millisecond))
	if err != nil {
		panic(err)
	}
	var checkpoint shopify.ExportCheckpoint // store it somewhere durable
	cp, err := c.ExportProducts(context.Background(), shopify.ExportOptions{
		Progress: func(p shopify.ExportProgress) { checkpoint = p.Checkpoint },
	}, func(_ context.Context, p commerce.Product) error {
		fmt.Println(p.Title, p.Variants[0].SKU)
		return nil
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(cp.Products, "products,", cp.Variants, "variants;", checkpoint == cp)
	// Output:
	// Vara 0 SKU-0
	// Vara 1 SKU-1
	// Vara 2 SKU-2
	// 3 products, 3 variants; true
}

// Refund part of an order Shopify Payments captured. The idempotency key,
// derived from the return, is required: a repeat of the call (after a
// crash, say) answers the same refund instead of refunding again.
func ExampleClient_Refund() {
	srv := shopifytest.NewServer()
	defer srv.Close()
	const auth = "gid://shopify/OrderTransaction/9007199254741001"
	o, err := srv.AddOrder(shopifytest.Order{Name: "#1001", TaxesIncluded: true,
		Lines: []shopifytest.LineItem{{SKU: "SOCK-1", Title: "Ullsocka", Quantity: 2, UnitPrice: "89.00"}},
		Transactions: []shopifytest.Transaction{
			{ID: auth, Kind: "AUTHORIZATION", Gateway: "shopify_payments", Amount: "178.00"},
			{Kind: "CAPTURE", Gateway: "shopify_payments", Amount: "178.00", ParentID: auth},
		}})
	if err != nil {
		panic(err)
	}
	c, err := shopify.New(srv.Shop(), shopify.StaticToken(srv.AccessToken()),
		shopify.WithBaseURL(srv.URL()), shopify.WithHTTPClient(srv.Client()))
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	// The socks were shipped; one comes back.
	if _, err := c.Fulfill(ctx, commerce.Fulfillment{OrderNumber: "#1001", Lines: []commerce.FulfillmentLine{{SKU: "SOCK-1", Quantity: 2}}}); err != nil {
		panic(err)
	}
	sock := commerce.FromMinor(8900, commerce.SEK)
	req := connector.RefundRequest{OrderNumber: "#1001", Amount: sock, Reason: "size_too_small",
		Lines: []commerce.RefundLine{{SKU: "SOCK-1", Quantity: 1, Amount: sock}}}
	key := connector.WithIdempotencyKey(connector.IdempotencyKey("return", "#1001-R1"))
	first, err := c.Refund(ctx, req, key)
	if err != nil {
		panic(err)
	}
	again, err := c.Refund(ctx, req, key)
	if err != nil {
		panic(err)
	}
	fmt.Println(first.Amount, first.Provider, first.Lines[0].SKU, first.Lines[0].Quantity)
	fmt.Println("the same refund:", again.ID == first.ID, "of", len(srv.Refunds(o.ID)))
	st, _ := srv.OrderState(o.ID)
	fmt.Println(st.FinancialStatus)
	// Output:
	// 89.00 SEK shopify_payments SOCK-1 1
	// the same refund: true of 1
	// PARTIALLY_REFUNDED
}

// Fulfil a delivery that ships from two warehouses: Fulfill makes one
// fulfillment per location with the same tracking, and returns the one of
// the location holding the first line. Repeating the request (a retry
// after a lost answer) makes nothing new.
func ExampleClient_Fulfill() {
	srv := shopifytest.NewServer()
	defer srv.Close()
	sthlm, _ := srv.AddLocation(shopifytest.Location{Name: "Stockholm"})
	gbg, _ := srv.AddLocation(shopifytest.Location{Name: "Göteborg"})
	names := map[string]string{sthlm.ID: sthlm.Name, gbg.ID: gbg.Name}
	o, err := srv.AddOrder(shopifytest.Order{Name: "#1001", LocationID: sthlm.ID, Lines: []shopifytest.LineItem{
		{SKU: "SOCK-1", Title: "Ullsocka", Quantity: 2, UnitPrice: "89.00"},
		{SKU: "MUG-1", Title: "Mugg", Quantity: 1, UnitPrice: "149.00", LocationID: gbg.ID},
	}})
	if err != nil {
		panic(err)
	}
	c, err := shopify.New(srv.Shop(), shopify.StaticToken(srv.AccessToken()),
		shopify.WithBaseURL(srv.URL()), shopify.WithHTTPClient(srv.Client()))
	if err != nil {
		panic(err)
	}
	f := commerce.Fulfillment{
		OrderNumber: "#1001",
		Lines:       []commerce.FulfillmentLine{{SKU: "SOCK-1", Quantity: 2}, {SKU: "MUG-1", Quantity: 1}},
		Tracking:    []commerce.Tracking{{Number: "PN123", Company: "PostNord"}},
	}
	key := connector.WithIdempotencyKey(connector.IdempotencyKey("erp", "delivery", "D-77"))
	var refs []commerce.Ref
	for range 2 {
		ref, err := c.Fulfill(context.Background(), f, key)
		if err != nil {
			panic(err)
		}
		refs = append(refs, ref)
	}
	fs := srv.Fulfillments(o.ID)
	for _, x := range fs {
		fmt.Println(names[x.LocationID], x.Lines[0].SKU, x.Lines[0].Quantity, x.Tracking[0].Number)
	}
	fmt.Println("returned Stockholm's:", refs[0].ID == fs[0].ID, "same twice:", refs[0] == refs[1])
	// Output:
	// Stockholm SOCK-1 2 PN123
	// Göteborg MUG-1 1 PN123
	// returned Stockholm's: true same twice: true
}
