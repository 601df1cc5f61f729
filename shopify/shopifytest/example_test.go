package shopifytest_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/knyt/knyt/shopify/shopifytest"
)

// Post a GraphQL query to the fake with plain net/http, as any client
// would: the endpoint is GraphQLURL and the token AccessToken.
func Example() {
	srv := shopifytest.NewServer()
	defer srv.Close()
	if _, err := srv.AddProduct(shopifytest.Product{
		Title:    "Ullsocka",
		Variants: []shopifytest.Variant{{SKU: "SOCK-1", Price: "89.00"}},
	}); err != nil {
		panic(err)
	}

	body, _ := json.Marshal(map[string]any{
		"query":     `query($q: String!) { productVariants(first: 5, query: $q) { nodes { sku price product { title } } } }`,
		"variables": map[string]any{"q": "sku:SOCK-1"},
	})
	req, _ := http.NewRequest(http.MethodPost, srv.GraphQLURL(), bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Shopify-Access-Token", srv.AccessToken())
	resp, err := srv.Client().Do(req)
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()

	var out struct {
		Data struct {
			ProductVariants struct {
				Nodes []struct {
					SKU     string `json:"sku"`
					Price   string `json:"price"`
					Product struct{ Title string }
				}
			}
		}
		Extensions struct {
			Cost struct {
				RequestedQueryCost int
				ActualQueryCost    int
				ThrottleStatus     struct{ MaximumAvailable, RestoreRate float64 }
			}
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		panic(err)
	}
	v := out.Data.ProductVariants.Nodes[0]
	c := out.Extensions.Cost
	fmt.Println(resp.StatusCode, v.SKU, v.Price, v.Product.Title)
	fmt.Println("cost", c.RequestedQueryCost, c.ActualQueryCost, c.ThrottleStatus.MaximumAvailable, c.ThrottleStatus.RestoreRate)
	// Output:
	// 200 SOCK-1 89.0 Ullsocka
	// cost 12 4 2000 100
}

// Validate checks a document against the 2026-10 schema without a server.
func ExampleValidate() {
	err := shopifytest.Validate(`{ shop { name nme } }`)
	fmt.Println(err)
	// Output:
	// shopifytest: Field 'nme' doesn't exist on type 'Shop' (undefinedField)
}

// Refund a captured order through refundCreate, then settle the Shopify
// Payments balance: the payout holds the refund and the transfer.
func ExampleServer_SettlePayout() {
	srv := shopifytest.NewServer()
	defer srv.Close()
	const auth = "gid://shopify/OrderTransaction/9007199254741001"
	o, err := srv.AddOrder(shopifytest.Order{
		Lines: []shopifytest.LineItem{{SKU: "SOCK-1", Quantity: 1, UnitPrice: "89.00"}},
		Transactions: []shopifytest.Transaction{
			{ID: auth, Kind: "AUTHORIZATION", Gateway: "shopify_payments", Amount: "89.00"},
			{Kind: "CAPTURE", Gateway: "shopify_payments", Amount: "89.00", ParentID: auth},
		},
	})
	if err != nil {
		panic(err)
	}
	body, _ := json.Marshal(map[string]any{
		"query": `mutation($input: RefundInput!) { refundCreate(input: $input) @idempotent(key: "return-1") { refund { id } userErrors { message } } }`,
		"variables": map[string]any{"input": map[string]any{"orderId": o.ID, "transactions": []any{map[string]any{
			"orderId": o.ID, "parentId": o.Transactions[1].ID, "amount": "89.00", "gateway": "shopify_payments", "kind": "REFUND"}}}},
	})
	req, _ := http.NewRequest(http.MethodPost, srv.GraphQLURL(), bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Shopify-Access-Token", srv.AccessToken())
	resp, err := srv.Client().Do(req)
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	st, _ := srv.OrderState(o.ID)
	fmt.Println(st.FinancialStatus, len(srv.Refunds(o.ID)))

	p, txs, _, err := srv.SettlePayout(shopifytest.Payout{})
	if err != nil {
		panic(err)
	}
	fmt.Println(p.TransactionType, p.Net)
	for _, t := range txs {
		fmt.Println(t.Type, t.Amount)
	}
	// Output:
	// REFUNDED 1
	// WITHDRAWAL 89.0
	// REFUND -89.0
	// TRANSFER 89.0
}
