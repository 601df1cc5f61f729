package shopify

import (
	"io/fs"
	"slices"
	"strings"
	"testing"
)

// allDocuments lists the package's documents; every embedded file must be
// one of them, and every one must be used somewhere (checked by vet/the
// compiler for the variables).
var allDocuments = []*Document{
	docShop, docProductsFeed, docProduct, docProductVariantsPage, docVariantsBySKU, docStockItems, docLocations,
	docPriceLists, docOrdersFeed, docOrder, docOrderLinesPage, docOrderByName, docOrderTransactions,
	docFulfillmentOrders, docOrderFulfillments, docRefundsFeed, docRefund, docReturnsFeed, docReturn, docPayouts, docPayout,
	docBalanceTransactions, docProductSet, docVariantsBulkUpdate, docPriceListFixedPriceAdd,
	docInventorySetQuantities, docInventoryActivate, docFulfillmentCreate, docOrderCancel, docOrderMarkAsPaid,
	docOrderCapture, docBulkRunQuery, docBulkOperation, docBulkCancel, docBulkProducts,
}

func TestEveryFileIsADocument(t *testing.T) {
	files, err := fs.Glob(graphqlFiles, "graphql/*.graphql")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(allDocuments) {
		t.Errorf("%d files under graphql/, %d documents loaded", len(files), len(allDocuments))
	}
	names := map[string]bool{}
	for _, d := range allDocuments {
		if names[d.Name()] {
			t.Errorf("operation name %s used twice", d.Name())
		}
		names[d.Name()] = true
		if strings.Contains(d.Source(), "%") || strings.Contains(d.Source(), "{{") {
			t.Errorf("%s looks like a template; documents are sent as written", d.Name())
		}
	}
}

func TestDocumentFlags(t *testing.T) {
	for _, d := range allDocuments {
		wantMutation := slices.Contains([]string{"ProductSet", "VariantsBulkUpdate", "PriceListFixedPricesAdd", "InventorySetQuantities",
			"InventoryActivate", "FulfillmentCreate", "OrderCancel", "OrderMarkAsPaid", "OrderCapture", "BulkOperationRunQuery", "BulkOperationCancel"}, d.Name())
		wantIdem := !wantMutation || d.Name() == "InventorySetQuantities" || d.Name() == "InventoryActivate"
		if d.IsMutation() != wantMutation || d.IsIdempotent() != wantIdem {
			t.Errorf("%s: mutation=%v idempotent=%v, want %v %v", d.Name(), d.IsMutation(), d.IsIdempotent(), wantMutation, wantIdem)
		}
	}
}

func TestParseDocumentRefuses(t *testing.T) {
	for _, src := range []string{
		``,
		`query { shop { name } }`,
		`query A { shop { name } } query B { shop { name } }`,
		`subscription S { x }`,
		`query Q { shop { name }`,
	} {
		if _, err := ParseDocument(src); err == nil {
			t.Errorf("ParseDocument(%q) succeeded", src)
		}
	}
}

func TestEstimateCost(t *testing.T) {
	tests := []struct {
		src  string
		vars map[string]any
		want float64
	}{
		{`query A { shop { name } }`, nil, 1},
		{`query A { shop { name currencyCode } }`, nil, 1},
		{`query A { products(first: 10) { nodes { id title } } }`, nil, 2 + 10},
		{`query A($n: Int!) { products(first: $n) { pageInfo { hasNextPage } edges { node { id } } } }`, map[string]any{"n": 50}, 2 + 50},
		{`query A { products(first: 5) { nodes { id variants(first: 10) { nodes { id inventoryItem { id } } } } } }`, nil, 2 + 5*(1+2+10*2)},
		{`query A { order(id: "1") { transactions(first: 3) { id amountSet { shopMoney { amount } } } } }`, nil, 1 + 3*(1+2)},
		{`query A { node(id: "1") { ... on Order { id customer { id } } ... on Product { id } } }`, nil, 1 + 1},
		{`query A { shop { ...F } } fragment F on Shop { name plan { partnerDevelopment } }`, nil, 2},
		{`mutation M($i: ProductSetInput!) { productSet(input: $i) { product { id } userErrors { field } } }`, nil, 10 + 2},
	}
	for _, tt := range tests {
		d, err := ParseDocument(tt.src)
		if err != nil {
			t.Fatal(err)
		}
		if got := d.EstimateCost(tt.vars); got != tt.want {
			t.Errorf("%s: cost = %v, want %v", tt.src, got, tt.want)
		}
	}
}

// TestPackageDocumentsFitTheLimit checks that every document, with the
// sizes the package sends, fits Shopify's 1000-point limit.
func TestPackageDocumentsFitTheLimit(t *testing.T) {
	c, _, _ := newMockClient(t)
	sized := map[*Document]map[string]any{
		docProductsFeed:        {"variants": 10},
		docProductVariantsPage: {},
		docVariantsBySKU:       {},
		docStockItems:          {},
		docOrdersFeed:          {"lines": orderLinesPerPage, "shippingLines": orderShippingLines, "transactions": orderTransactionMax},
		docOrderLinesPage:      {},
		docFulfillmentOrders:   {"lines": 50},
		docOrderFulfillments:   {"lines": fulfillmentLines},
		docRefundsFeed:         {"refunds": 50},
		docReturnsFeed:         {"returns": 10},
		docPayouts:             {},
		docBalanceTransactions: {},
	}
	for d, vars := range sized {
		n := c.pageSize(d, vars, "first", 250)
		if cost := d.EstimateCost(vars); cost > MaxQueryCost || n < 1 {
			t.Errorf("%s: page of %d costs %v", d.Name(), n, cost)
		}
		t.Logf("%s: %d per page", d.Name(), n)
	}
	fixed := map[*Document]map[string]any{
		docProduct:           {"variants": 50},
		docOrder:             {"lines": orderLinesPerPage, "shippingLines": orderShippingLines, "transactions": orderTransactionMax},
		docOrderByName:       {"transactions": headTransactions},
		docOrderTransactions: {"transactions": headTransactions},
		docRefund:            {"lines": refundLines, "shippingLines": refundShippingLines, "transactions": refundTransactions},
		docReturn:            {"lines": returnLines},
		docProductSet:        {"variants": 250},
	}
	for d, vars := range fixed {
		if cost := d.EstimateCost(vars); cost > MaxQueryCost {
			t.Errorf("%s costs %v", d.Name(), cost)
		}
	}
}
