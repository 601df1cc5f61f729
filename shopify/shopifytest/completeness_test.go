package shopifytest

import (
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"
)

// TestModelledTypesComplete selects, one by one, every argument-free
// scalar, enum and non-null object field of each type the fake stores, and
// requires an answer without errors: the views leave no gap a client could
// hit.
func TestModelledTypesComplete(t *testing.T) {
	s := NewServer(WithClock(fixedClock()))
	defer s.Close()
	sd := seedShop(t, s)
	sch := mustSchema()
	sel := func(typ string) string {
		var fs []string
		for _, f := range sch.Types[typ].Fields {
			if len(f.Arguments) > 0 && !allOptional(f.Arguments) {
				continue
			}
			if f.Directives.ForName("deprecated") != nil {
				continue
			}
			d := sch.Types[f.Type.Name()]
			if d.Kind == ast.Scalar || d.Kind == ast.Enum {
				fs = append(fs, f.Name)
			} else if f.Type.NonNull && !isConnectionType(d) {
				fs = append(fs, f.Name+" { __typename }")
			}
		}
		return strings.Join(fs, " ")
	}
	rf, _ := s.AddRefund(sd.order.ID, Refund{Lines: []RefundLine{{SKU: "SOCK-1", Quantity: 1}}, Shipping: "10"})
	rt, _ := s.AddReturn(sd.order.ID, Return{Lines: []ReturnLine{{SKU: "SOCK-1", Quantity: 1}}})
	p, bts, _ := s.AddPayout(Payout{Net: "1"}, BalanceTransaction{Amount: "1", OrderID: sd.order.ID})
	pl, _ := s.AddPriceList(PriceList{Name: "x", Currency: "EUR"})
	d := ok(t, s, `query($id: ID!) { order(id: $id) { lineItems(first: 1) { nodes { id } } transactions { id } fulfillmentOrders(first: 1) { nodes { id lineItems(first: 1) { nodes { id } } } } } }`, map[string]any{"id": sd.order.ID})
	ok(t, s, `mutation($id: ID!) { fulfillmentCreate(fulfillment: {lineItemsByFulfillmentOrder: [{fulfillmentOrderId: $id}]}) { userErrors { message } } }`, map[string]any{"id": dig(d, "order", "fulfillmentOrders", "nodes", 0, "id")})
	fid := s.Fulfillments(sd.order.ID)[0].ID
	lvl := dig(ok(t, s, `query($id: ID!) { location(id: $id) { inventoryLevels(first: 1) { nodes { id } } } }`, map[string]any{"id": sd.loc.ID}), "location", "inventoryLevels", "nodes", 0, "id").(string)
	for typ, id := range map[string]string{"Product": sd.sock.ID, "ProductVariant": sd.sock.Variants[0].ID, "InventoryItem": sd.sock.Variants[0].InventoryItemID, "Location": sd.loc.ID, "Order": sd.order.ID,
		"LineItem": dig(d, "order", "lineItems", "nodes", 0, "id").(string), "OrderTransaction": dig(d, "order", "transactions", 0, "id").(string),
		"FulfillmentOrder": dig(d, "order", "fulfillmentOrders", "nodes", 0, "id").(string), "FulfillmentOrderLineItem": dig(d, "order", "fulfillmentOrders", "nodes", 0, "lineItems", "nodes", 0, "id").(string),
		"Fulfillment": fid, "Refund": rf.ID, "Return": rt.ID, "ShopifyPaymentsPayout": p.ID, "ShopifyPaymentsBalanceTransaction": bts[0].ID, "PriceList": pl.ID, "InventoryLevel": lvl} {
		var missing []string
		for _, f := range strings.Split(strings.ReplaceAll(sel(typ), " { __typename }", "{__typename}"), " ") {
			q := `query($id: ID!) { node(id: $id) { ... on ` + typ + ` { ` + f + ` } } }`
			r := do(t, s, q, map[string]any{"id": id})
			if len(r.Errors) > 0 {
				missing = append(missing, f)
			}
		}
		if len(missing) > 0 {
			t.Errorf("%s: fields not served: %v", typ, missing)
		}
	}
}

func allOptional(as ast.ArgumentDefinitionList) bool {
	for _, a := range as {
		if a.Type.NonNull && a.DefaultValue == nil {
			return false
		}
	}
	return true
}
