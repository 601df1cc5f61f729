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
