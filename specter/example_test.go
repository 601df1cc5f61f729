package specter_test

import (
	"context"
	"fmt"
	"net/http/httptest"

	"github.com/shopspring/decimal"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/connector"
	"github.com/knyt/knyt/specter"
	"github.com/knyt/knyt/specter/spectertest"
)

// A connector pointed at the fake: the customer's Å and Ö go over the wire
// in Windows-1252 and come back intact.
func Example() {
	srv := spectertest.NewServer()
	defer srv.Close()
	acc := srv.Default()

	c, err := specter.New(acc.V2(), specter.WithBaseURL(srv.URL()), specter.WithPace(0))
	if err != nil {
		panic(err)
	}
	res, err := c.UpsertCustomer(context.Background(), commerce.Customer{
		Email: "asa@example.se", FirstName: "Åsa", LastName: "Öberg",
		Address: &commerce.Address{Line1: "Storgatan 1", PostalCode: "722 14", City: "Västerås", Country: "SE"},
	})
	if err != nil {
		panic(err)
	}
	stored, _ := acc.Customer(1001)
	fmt.Println(res.Ref)
	fmt.Println(stored.Name, "in", stored.Invoice.City)
	// Output:
	// specter/4711/1001
	// Åsa Öberg in Västerås
}

// Stock levels come from Specter's stock queue, per stock site; Drain
// acknowledges each batch only after the function has handled it.
func Example_stockFeed() {
	srv := spectertest.NewServer()
	defer srv.Close()
	acc := srv.Default()
	if err := acc.AddArticle(spectertest.Article{No: "MOSSA-1", Name: "Mössa", Stock: map[string]int{"1": 12, "2": 0}}); err != nil {
		panic(err)
	}
	c, err := specter.New(acc.V2(), specter.WithBaseURL(srv.URL()), specter.WithPace(0),
		specter.WithStockLocations(map[string]string{"1": "Västerås", "2": "Borås"}))
	if err != nil {
		panic(err)
	}
	_, err = connector.Drain(context.Background(), c.Stock(), "", func(_ context.Context, levels []commerce.StockLevel) error {
		for _, l := range levels {
			fmt.Println(l.SKU, l.Location, l.Available)
		}
		return nil // returning an error would leave the batch open, to come again
	})
	if err != nil {
		panic(err)
	}
	// Output:
	// MOSSA-1 Västerås 12
	// MOSSA-1 Borås 0
}

// An order from the shop: the customer and missing articles are created
// first, prices go excluding VAT, and the same order twice is one order.
func ExampleConnector_CreateOrder() {
	srv := spectertest.NewServer()
	defer srv.Close()
	acc := srv.Default()
	c, err := specter.New(acc.V2(), specter.WithBaseURL(srv.URL()), specter.WithPace(0))
	if err != nil {
		panic(err)
	}
	o := commerce.Order{
		Number: "#1001", Currency: commerce.SEK, PricesIncludeTax: true,
		Customer: commerce.Customer{Email: "kund@example.se", FirstName: "Örjan", LastName: "Ek"},
		Lines: []commerce.Line{{SKU: "MOSSA-1", Title: "Mössa", Quantity: 2, UnitPrice: commerce.FromMinor(14900, commerce.SEK),
			TaxLines: []commerce.TaxLine{{RatePercent: decimal.NewFromInt(25), Amount: commerce.FromMinor(5960, commerce.SEK)}}}},
		Payments: []commerce.PaymentRef{{Provider: "klarna", Reference: "f3b2-klarna-order"}},
	}
	for range 2 {
		res, err := c.CreateOrder(context.Background(), o)
		if err != nil {
			panic(err)
		}
		fmt.Println(res.Ref.ID, res.Created)
	}
	ord, _ := acc.OrderByExternalNo("#1001")
	r := ord.Rows[0]
	fmt.Println(r.ArticleNo, r.Quantity, "×", r.PriceExclVAT, "excl.", r.VATPercent, "% VAT, paid", ord.PayType)
	// Output:
	// 5001 true
	// 5001 false
	// MOSSA-1 2 × 119.2 excl. 25 % VAT, paid KG
}

// Callbacks: register the handler's URL, and each change in Specter becomes
// a hint naming the queue to pull.
func ExampleConnector_CallbackHandler() {
	srv := spectertest.NewServer()
	defer srv.Close()
	acc := srv.Default()
	c, err := specter.New(acc.V2(), specter.WithBaseURL(srv.URL()), specter.WithPace(0),
		specter.WithCallbackToken("a-long-random-secret"))
	if err != nil {
		panic(err)
	}
	hints := make(chan specter.Hint, 8)
	receiver := httptest.NewServer(c.CallbackHandler(func(_ context.Context, h specter.Hint) {
		select {
		case hints <- h: // hand on, never block Specter
		default:
		}
	}))
	defer receiver.Close()
	if err := c.RegisterCallbacks(context.Background(), receiver.URL+"/specter"); err != nil {
		panic(err)
	}
	if err := acc.AddArticle(spectertest.Article{No: "MOSSA-1", Name: "Mössa"}); err != nil {
		panic(err)
	}
	srv.WaitCallbacks()
	h := <-hints
	fmt.Println(h.Kind, "→ pull", h.Queue)
	// Output:
	// actionArticleChange → pull articles
}

func ExampleValidateArticleNumber() {
	for _, sku := range []string{"TROJA-M", "TRÖJA-M", "50% REA", "A,1"} {
		fmt.Printf("%q: %q\n", sku, specter.ValidateArticleNumber(sku))
	}
	// Output:
	// "TROJA-M": ""
	// "TRÖJA-M": "contains 'Ö'"
	// "50% REA": "contains '%'"
	// "A,1": "contains ','"
}
