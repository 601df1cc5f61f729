package shopify

import (
	"io/fs"
	"path"
	"slices"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
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
	docRefundCreate, docOrderRefunds, docOrderLineSKUs,
}

func TestEveryFileIsADocument(t *testing.T) {
	files, err := fs.Glob(graphqlFiles, "graphql/*.graphql")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(allDocuments) {
		t.Errorf("%d files under graphql/, %d documents loaded", len(files), len(allDocuments))
	}
	byFile := Documents()
	for _, f := range files {
		if d := byFile[path.Base(f)]; d == nil || !slices.Contains(allDocuments, d) {
			t.Errorf("Documents()[%q] is not one of the package's documents", path.Base(f))
		}
	}
	if len(byFile) != len(files) {
		t.Errorf("Documents() has %d entries, %d files under graphql/", len(byFile), len(files))
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

// TestSharedFragments checks the graphql/fragments/ convention: every
// shared fragment is spread by some document, none is copied back into a
// document file, and each document as sent defines every fragment once.
func TestSharedFragments(t *testing.T) {
	if len(sharedFragments) == 0 {
		t.Fatal("no fragments under graphql/fragments/")
	}
	used := map[string]bool{}
	for file, d := range Documents() {
		b, err := graphqlFiles.ReadFile(path.Join("graphql", file))
		if err != nil {
			t.Fatal(err)
		}
		own, err := parser.ParseQuery(&ast.Source{Input: string(b)})
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range own.Fragments {
			if _, ok := sharedFragments[f.Name]; ok {
				t.Errorf("%s defines fragment %s, which graphql/fragments/ holds", file, f.Name)
			}
		}
		defined := map[string]int{}
		for _, f := range d.doc.Fragments {
			defined[f.Name]++
			used[f.Name] = true
		}
		for name, n := range defined {
			if n != 1 {
				t.Errorf("%s as sent defines fragment %s %d times", file, name, n)
			}
		}
	}
	for name := range sharedFragments {
		if !used[name] {
			t.Errorf("graphql/fragments/%s.graphql is spread by no document", name)
		}
	}
	if _, err := withSharedFragments(`query A { shop { ...Missing } }`); err == nil {
		t.Error("a spread of an unknown fragment was accepted")
	}
}

// TestEstimateCostSharedFragments checks that spreading a shared fragment
// costs what the selection written inline did, and that the documents that
// moved their selections into graphql/fragments/ estimate what their
// self-contained versions did.
func TestEstimateCostSharedFragments(t *testing.T) {
	spread, err := withSharedFragments(`query A { order(id: "1") { transactions(first: 3) { ...TransactionFields } } }`)
	if err != nil {
		t.Fatal(err)
	}
	inline := `query A { order(id: "1") { transactions(first: 3) { id kind status gateway formattedGateway paymentId
		authorizationCode createdAt processedAt test manuallyCapturable multiCapturable authorizationExpiresAt
		parentTransaction { id } amountSet { shopMoney { amount currencyCode } presentmentMoney { amount currencyCode } } } } }`
	var costs [2]float64
	for i, src := range []string{spread, inline} {
		d, err := ParseDocument(src)
		if err != nil {
			t.Fatal(err)
		}
		costs[i] = d.EstimateCost(nil)
	}
	if costs[0] != costs[1] || costs[0] != 1+3*(1+1+3) {
		t.Errorf("with the fragment %v, inline %v, want %v", costs[0], costs[1], 1+3*(1+1+3))
	}

	// The estimates of the documents before their selections moved.
	tests := []struct {
		d    *Document
		vars map[string]any
		want float64
	}{
		{docOrder, map[string]any{"lines": 5, "shippingLines": 2, "transactions": 10}, 182},
		{docOrdersFeed, map[string]any{"first": 10, "lines": 5, "shippingLines": 2, "transactions": 10}, 1822},
		{docOrderByName, map[string]any{"transactions": 50}, 510},
		{docOrderTransactions, map[string]any{"transactions": 50}, 254},
		{docOrderLinesPage, map[string]any{"first": 50}, 753},
		{docProduct, map[string]any{"variants": 50}, 304},
		{docProductsFeed, map[string]any{"first": 10, "variants": 10}, 642},
		{docProductVariantsPage, map[string]any{"first": 100}, 603},
		{docRefund, map[string]any{"lines": 50, "shippingLines": 10, "transactions": 10}, 742},
		{docPayout, nil, 2},
		{docPayouts, map[string]any{"first": 100}, 1 + 2 + 100*2},
		{docOrderCapture, nil, 16},
	}
	for _, tt := range tests {
		if got := tt.d.EstimateCost(tt.vars); got != tt.want {
			t.Errorf("%s: cost = %v, want %v", tt.d.Name(), got, tt.want)
		}
	}
}

func TestDocumentFlags(t *testing.T) {
	for _, d := range allDocuments {
		wantMutation := slices.Contains([]string{"ProductSet", "VariantsBulkUpdate", "PriceListFixedPricesAdd", "InventorySetQuantities",
			"InventoryActivate", "FulfillmentCreate", "OrderCancel", "OrderMarkAsPaid", "OrderCapture", "BulkOperationRunQuery", "BulkOperationCancel", "RefundCreate"}, d.Name())
		wantIdem := !wantMutation || d.Name() == "InventorySetQuantities" || d.Name() == "InventoryActivate" || d.Name() == "RefundCreate"
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
		docOrderLineSKUs:       {},
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
		docRefundCreate:      {"lines": refundLines, "shippingLines": refundCreateShippingLines, "transactions": refundTransactions},
	}
	if n := c.pageSize(docOrderRefunds, map[string]any{"lines": 2}, "refunds", orderRefundsMax); n < orderRefundsMax {
		t.Errorf("OrderRefunds reads %d refunds of one line per request, want %d", n, orderRefundsMax)
	}
	for d, vars := range fixed {
		if cost := d.EstimateCost(vars); cost > MaxQueryCost {
			t.Errorf("%s costs %v", d.Name(), cost)
		}
	}
}
