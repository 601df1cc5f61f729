package shopifytest

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/knyt/knyt/shopify"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
)

// TestClientQueriesExecute runs every query document of the shopify client
// (../graphql/*.graphql as sent, with their shared fragments; see
// shopify.Documents) against a seeded fake and requires an answer without
// errors: every field the client selects is one the fake serves.
// Variables are filled from their names and types; documents this test
// cannot fill are reported as skipped.
func TestClientQueriesExecute(t *testing.T) {
	client := shopify.Documents()
	files := slices.Sorted(maps.Keys(client))
	if len(files) == 0 {
		t.Fatal("the shopify package has no documents")
	}
	s := NewServer(WithClock(fixedClock()))
	defer s.Close()
	sd := seedShop(t, s)
	ret, err := s.AddReturn(sd.order.ID, Return{Lines: []ReturnLine{{SKU: "SOCK-1", Quantity: 1, Reason: "other"}}})
	if err != nil {
		t.Fatal(err)
	}
	rf, err := s.AddRefund(sd.order.ID, Refund{ReturnID: ret.ID, Lines: []RefundLine{{SKU: "SOCK-1", Quantity: 1}}, Transactions: []Transaction{{Gateway: "shopify_payments", Amount: "88.99"}}})
	if err != nil {
		t.Fatal(err)
	}
	p, _, err := s.AddPayout(Payout{Net: "100.00"}, BalanceTransaction{Amount: "103.00", Fee: "3.00", OrderID: sd.order.ID})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddPriceList(PriceList{Name: "EUR", Currency: "EUR", Prices: map[string]FixedPrice{sd.sock.Variants[0].ID: {Price: "9.00"}}}); err != nil {
		t.Fatal(err)
	}
	bulk := ok(t, s, runBulk, map[string]any{"q": `{ products { edges { node { id } } } }`})
	bulkID := dig(bulk, "bulkOperationRunQuery", "bulkOperation", "id")

	ids := map[string]any{
		"Order": sd.order.ID, "OrderLinesPage": sd.order.ID, "OrderTransactions": sd.order.ID, "FulfillmentOrders": sd.order.ID, "OrderFulfillments": sd.order.ID,
		"Product": sd.shirt.ID, "ProductVariantsPage": sd.shirt.ID, "Refund": rf.ID, "Return": ret.ID, "Payout": p.ID, "BulkOperation": bulkID,
	}
	queries := map[string]string{"StockItems": "sku:SOCK-1", "VariantsBySKU": "sku:SOCK-1", "OrderByName": "name:#1001"}
	fo := dig(ok(t, s, `query($id: ID!) { order(id: $id) { fulfillmentOrders(first: 1) { nodes { id } } } }`, map[string]any{"id": sd.order.ID}), "order", "fulfillmentOrders", "nodes", 0, "id")
	paidOrder, err := s.AddOrder(Order{Lines: []LineItem{{SKU: "SOCK-1", Quantity: 1, UnitPrice: "89.00"}}})
	if err != nil {
		t.Fatal(err)
	}
	pl, _ := s.AddPriceList(PriceList{Name: "NOK", Currency: "NOK"})
	captured := addPaidOrder(t, s, 9, "", "")
	ids["OrderRefunds"], ids["OrderLineSKUs"] = captured.ID, captured.ID
	mutations := map[string]map[string]any{
		"BulkOperationRunQuery": {"query": `{ products { edges { node { id } } } }`, "groupObjects": false},
		"BulkOperationCancel":   {"id": bulkID},
		"FulfillmentCreate": {"fulfillment": map[string]any{"lineItemsByFulfillmentOrder": []any{map[string]any{"fulfillmentOrderId": fo}},
			"trackingInfo": map[string]any{"number": "1", "company": "PostNord"}, "notifyCustomer": true}},
		"InventoryActivate":      {"inventoryItemId": sd.shirt.Variants[1].InventoryItemID, "locationId": sd.loc.ID, "idempotencyKey": "doc-act"},
		"InventorySetQuantities": {"idempotencyKey": "doc-set", "input": setInput(qty(sd.sock.Variants[0].InventoryItemID, sd.loc.ID, 3, nil))},
		"OrderCapture":           {"input": map[string]any{"id": sd.order.ID, "parentTransactionId": sd.order.Transactions[0].ID, "amount": "10.00"}},
		"OrderMarkAsPaid":        {"input": map[string]any{"id": paidOrder.ID}},
		"OrderCancel":            {"orderId": paidOrder.ID, "reason": "CUSTOMER", "restock": true, "refund": true, "notifyCustomer": false},
		"PriceListFixedPricesAdd": {"priceListId": pl.ID, "prices": []any{map[string]any{"variantId": sd.sock.Variants[0].ID,
			"price": map[string]any{"amount": "99.00", "currencyCode": "NOK"}}}},
		"ProductSet":         {"identifier": map[string]any{"handle": "doc-product"}, "variants": 10, "input": sizeInput("Doc", map[string]string{"D-S": "1.00"}, "D-S")},
		"VariantsBulkUpdate": {"productId": sd.shirt.ID, "variants": []any{map[string]any{"id": sd.shirt.Variants[0].ID, "price": "1.00"}}},
		"RefundCreate": {"idempotencyKey": "doc-refund", "lines": 1, "shippingLines": 1, "transactions": 1, "input": map[string]any{
			"orderId": captured.ID, "notify": false, "note": "retur",
			"refundLineItems": []any{map[string]any{"lineItemId": captured.sock, "quantity": 1, "restockType": "NO_RESTOCK"}},
			"transactions":    []any{refundTx(captured.ID, captured.cap1, "100.00")}}},
	}
	// Run mutations in a fixed order: fulfilment before cancel and so on.
	order := []string{"BulkOperationRunQuery", "BulkOperationCancel", "InventoryActivate", "InventorySetQuantities", "ProductSet", "VariantsBulkUpdate",
		"PriceListFixedPricesAdd", "OrderCapture", "FulfillmentCreate", "OrderMarkAsPaid", "OrderCancel", "RefundCreate"}
	docs := map[string]string{}
	for _, f := range files {
		b := client[f].Source()
		doc, perr := parser.ParseQuery(&ast.Source{Input: b})
		if perr == nil && len(doc.Operations) == 1 && doc.Operations[0].Operation == ast.Mutation {
			docs[doc.Operations[0].Name] = b
		}
	}
	for name := range docs {
		if _, ok := mutations[name]; !ok {
			t.Logf("mutation document %s has no test input here; not executed", name)
		}
	}
	for _, name := range order {
		b, ok := docs[name]
		if !ok {
			continue
		}
		t.Run(name, func(t *testing.T) {
			r := do(t, s, b, mutations[name])
			if len(r.Errors) > 0 {
				t.Fatalf("%s: %s", name, r.Raw)
			}
			for field, v := range r.Data {
				for _, key := range []string{"userErrors", "orderCancelUserErrors"} {
					if ue, _ := dig(v, key).([]any); len(ue) > 0 && name != "BulkOperationCancel" {
						t.Errorf("%s.%s: %v", field, key, ue)
					}
				}
			}
		})
	}

	for _, f := range files {
		b := client[f].Source()
		doc, perr := parser.ParseQuery(&ast.Source{Input: b})
		if perr != nil || len(doc.Operations) != 1 || doc.Operations[0].Operation != ast.Query {
			continue
		}
		op := doc.Operations[0]
		if strings.HasPrefix(op.Name, "Bulk") && len(op.VariableDefinitions) == 0 {
			// The body of a bulkOperationRunQuery.
			t.Run(f, func(t *testing.T) {
				d := ok(t, s, runBulk, map[string]any{"q": b})
				if ue := dig(d, "bulkOperationRunQuery", "userErrors"); len(ue.([]any)) > 0 {
					t.Fatalf("bulk query refused: %v", ue)
				}
				id := dig(d, "bulkOperationRunQuery", "bulkOperation", "id")
				waitFor(t, func() bool {
					return dig(ok(t, s, pollBulk, map[string]any{"id": id}), "node", "status") == "COMPLETED"
				})
				if d := ok(t, s, pollBulk, map[string]any{"id": id}); dig(d, "node", "errorCode") != nil || dig(d, "node", "objectCount") == "0" {
					t.Errorf("bulk run: %v", d)
				}
			})
			continue
		}
		t.Run(f, func(t *testing.T) {
			vars := map[string]any{}
			for _, v := range op.VariableDefinitions {
				switch {
				case v.Variable == "id":
					id, ok := ids[op.Name]
					if !ok {
						t.Skipf("no id known for %s", op.Name)
					}
					vars["id"] = id
				case v.Variable == "locationId":
					vars[v.Variable] = sd.loc.ID
				case v.Variable == "query":
					if q, ok := queries[op.Name]; ok {
						vars["query"] = q
					} else if v.Type.NonNull {
						vars["query"] = ""
					}
				case v.Type.NamedType == "Int":
					vars[v.Variable] = 5
				case v.Type.NamedType == "Boolean" && v.Type.NonNull:
					vars[v.Variable] = false
				case v.Type.NonNull:
					t.Skipf("cannot fill $%s: %s", v.Variable, v.Type)
				}
			}
			r := do(t, s, b, vars)
			if len(r.Errors) > 0 {
				var msgs []string
				for _, e := range r.Errors {
					msgs = append(msgs, e.Message)
				}
				t.Errorf("%s failed:\n%s", op.Name, strings.Join(msgs, "\n"))
			}
		})
	}
}
