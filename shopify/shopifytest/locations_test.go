package shopifytest

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// TestOrderAtSeveralLocations seeds an order whose lines sit at two
// locations: it gets a fulfillment order per location, fulfillmentCreate
// refuses to mix them and fulfils each on its own, and a cancellation
// restocks each line where it was to ship from.
func TestOrderAtSeveralLocations(t *testing.T) {
	s := NewServer(WithClock(fixedClock()))
	defer s.Close()
	sd := seedShop(t, s)
	if err := s.SetInventory("SHIRT-S", sd.loc2.ID, 0); err != nil {
		t.Fatal(err)
	}
	o, err := s.AddOrder(Order{LocationID: sd.loc.ID, Lines: []LineItem{
		{SKU: "SOCK-1", Quantity: 2, UnitPrice: "89.00"},
		{SKU: "SHIRT-S", Quantity: 1, UnitPrice: "399.00", LocationID: sd.loc2.ID},
		{SKU: "SHIRT-M", Quantity: 1, UnitPrice: "399.00"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := []string{o.Lines[0].LocationID, o.Lines[1].LocationID, o.Lines[2].LocationID}, []string{sd.loc.ID, sd.loc2.ID, sd.loc.ID}; !cmp.Equal(got, want) {
		t.Errorf("line locations %v, want %v", got, want)
	}
	ignoreIDs := cmpopts.IgnoreFields(FulfillmentOrder{}, "ID")
	ignoreLineIDs := cmpopts.IgnoreFields(FulfillmentOrderLine{}, "ID", "LineItemID")
	want := []FulfillmentOrder{
		{LocationID: sd.loc.ID, Status: "OPEN", Lines: []FulfillmentOrderLine{{SKU: "SOCK-1", Total: 2, Remaining: 2}, {SKU: "SHIRT-M", Total: 1, Remaining: 1}}},
		{LocationID: sd.loc2.ID, Status: "OPEN", Lines: []FulfillmentOrderLine{{SKU: "SHIRT-S", Total: 1, Remaining: 1}}},
	}
	fos := s.FulfillmentOrders(o.ID)
	if diff := cmp.Diff(want, fos, ignoreIDs, ignoreLineIDs); diff != "" {
		t.Fatalf("fulfillment orders (-want +got):\n%s", diff)
	}
	d := ok(t, s, `query($id: ID!) { order(id: $id) { fulfillmentOrders(first: 5) { nodes { id assignedLocation { name location { id } } } } } }`, map[string]any{"id": o.ID})
	for i, fo := range fos {
		if got := dig(d, "order", "fulfillmentOrders", "nodes", i, "assignedLocation", "location", "id"); got != fo.LocationID {
			t.Errorf("fulfillment order %d at %v, want %s", i, got, fo.LocationID)
		}
	}

	create := `mutation($f: FulfillmentInput!) { fulfillmentCreate(fulfillment: $f) { fulfillment { id location { id } } userErrors { field message } } }`
	group := func(fo FulfillmentOrder) map[string]any { return map[string]any{"fulfillmentOrderId": fo.ID} }
	d = ok(t, s, create, map[string]any{"f": map[string]any{"lineItemsByFulfillmentOrder": []any{group(fos[0]), group(fos[1])}}})
	if got := dig(d, "fulfillmentCreate", "userErrors", 0, "message"); got != "All fulfillment orders must belong to the same order and be assigned to the same location." {
		t.Errorf("two locations in one call: %v", d)
	}
	if fs := s.Fulfillments(o.ID); len(fs) != 0 {
		t.Fatalf("refused call wrote %+v", fs)
	}
	for _, fo := range []FulfillmentOrder{fos[1], fos[0]} {
		d = ok(t, s, create, map[string]any{"f": map[string]any{"lineItemsByFulfillmentOrder": []any{group(fo)}}})
		if got := dig(d, "fulfillmentCreate", "fulfillment", "location", "id"); got != fo.LocationID {
			t.Errorf("fulfillment at %v, want %s: %v", got, fo.LocationID, d)
		}
	}
	type shipped struct {
		Location string
		SKUs     []string
	}
	var got []shipped
	for _, f := range s.Fulfillments(o.ID) {
		x := shipped{Location: f.LocationID}
		for _, l := range f.Lines {
			x.SKUs = append(x.SKUs, l.SKU)
		}
		got = append(got, x)
	}
	if diff := cmp.Diff([]shipped{{sd.loc2.ID, []string{"SHIRT-S"}}, {sd.loc.ID, []string{"SOCK-1", "SHIRT-M"}}}, got); diff != "" {
		t.Errorf("fulfillments (-want +got):\n%s", diff)
	}
	for _, fo := range s.FulfillmentOrders(o.ID) {
		if fo.Status != "CLOSED" {
			t.Errorf("fulfillment order at %s is %s", fo.LocationID, fo.Status)
		}
	}

	// A cancelled order restocks each line at its own location.
	c, err := s.AddOrder(Order{LocationID: sd.loc.ID, Lines: []LineItem{
		{SKU: "SOCK-1", Quantity: 2, UnitPrice: "89.00"},
		{SKU: "SHIRT-S", Quantity: 1, UnitPrice: "399.00", LocationID: sd.loc2.ID},
	}})
	if err != nil {
		t.Fatal(err)
	}
	ok(t, s, `mutation($id: ID!) { orderCancel(orderId: $id, reason: CUSTOMER, restock: true, refund: false, notifyCustomer: false) { orderCancelUserErrors { message } } }`, map[string]any{"id": c.ID})
	levels := map[string]int{}
	for _, k := range []struct{ sku, loc string }{{"SOCK-1", sd.loc.ID}, {"SHIRT-S", sd.loc.ID}, {"SHIRT-S", sd.loc2.ID}} {
		levels[k.sku+"@"+k.loc], _ = s.InventoryLevel(k.sku, k.loc)
	}
	wantLevels := map[string]int{"SOCK-1@" + sd.loc.ID: 12, "SHIRT-S@" + sd.loc.ID: 4, "SHIRT-S@" + sd.loc2.ID: 1}
	if diff := cmp.Diff(wantLevels, levels); diff != "" {
		t.Errorf("levels after the cancellation (-want +got):\n%s", diff)
	}

	if _, err := s.AddOrder(Order{Lines: []LineItem{{SKU: "SOCK-1", Quantity: 1, UnitPrice: "89.00", LocationID: "gid://shopify/Location/1"}}}); !errors.Is(err, ErrSeed) {
		t.Errorf("unknown line location: %v", err)
	}
}
