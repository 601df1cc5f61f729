package shopify

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/knyt/knyt/commerce"
)

// planInput is a Fulfill's view of an order, as the fuzz target reads it.
type planInput struct {
	FO    wireFulfillmentOrders `json:"fo"`
	FS    []wireFulfillment     `json:"fs"`
	Lines []struct {
		ID  string `json:"id"`
		SKU string `json:"sku"`
		Qty int    `json:"qty"`
	} `json:"lines"`
	Tracking []string `json:"tracking"`
	Remember int      `json:"remember"` // how many candidates count as remembered
}

const twoLocations = `{"fo":{"order":{"id":"O","fulfillmentOrders":{"nodes":[
 {"id":"FO1","status":"OPEN","assignedLocation":{"location":{"id":"L1"}},"supportedActions":[{"action":"CREATE_FULFILLMENT"}],
  "lineItems":{"nodes":[{"id":"F1","remainingQuantity":1,"sku":"S","lineItem":{"id":"I1","sku":"S"}},{"id":"F3","remainingQuantity":1,"sku":"L","lineItem":{"id":"I3","sku":"L"}}]}},
 {"id":"FO2","status":"OPEN","assignedLocation":{"location":{"id":"L2"}},"supportedActions":[{"action":"CREATE_FULFILLMENT"}],
  "lineItems":{"nodes":[{"id":"F2","remainingQuantity":1,"sku":"M","lineItem":{"id":"I2","sku":"M"}}]}}]}}},
 "fs":[{"id":"X1","status":"SUCCESS","location":{"id":"L1"},"trackingInfo":[{"number":"PN1"}],
  "fulfillmentLineItems":{"nodes":[{"quantity":1,"lineItem":{"id":"I1","sku":"S"}}]}}],
 "lines":[{"sku":"S","qty":2},{"sku":"M","qty":1},{"id":"I3","qty":1}],"tracking":["PN1"]}`

func parsePlanInput(t testing.TB, data []byte) (planInput, commerce.Fulfillment, bool) {
	t.Helper()
	var in planInput
	if err := json.Unmarshal(data, &in); err != nil || in.FO.Order == nil {
		return in, commerce.Fulfillment{}, false
	}
	var f commerce.Fulfillment
	for _, l := range in.Lines {
		if l.Qty <= 0 || l.Qty > 1000 {
			return in, f, false
		}
		f.Lines = append(f.Lines, commerce.FulfillmentLine{LineID: l.ID, SKU: l.SKU, Quantity: l.Qty})
	}
	for _, n := range in.Tracking {
		f.Tracking = append(f.Tracking, commerce.Tracking{Number: n})
	}
	return in, f, true
}

func TestFulfilPlan(t *testing.T) {
	in, _, ok := parsePlanInput(t, []byte(twoLocations))
	if !ok {
		t.Fatal("bad seed")
	}
	type call struct {
		Loc   string
		First int
		Sent  map[string]int
	}
	type result struct {
		Parts []string
		Calls []call
		Err   bool
	}
	lines := func(ls ...commerce.FulfillmentLine) []commerce.FulfillmentLine { return ls }
	s := func(sku string, q int) commerce.FulfillmentLine {
		return commerce.FulfillmentLine{SKU: sku, Quantity: q}
	}
	pn1 := []commerce.Tracking{{Number: "PN1"}}
	tests := []struct {
		name     string
		lines    []commerce.FulfillmentLine
		tracking []commerce.Tracking
		want     result
	}{
		// X1 (PN1, one S at L1) is what an earlier attempt made at L1.
		{"a part at one location, a call to the other", lines(s("S", 1), s("M", 1)), pn1,
			result{Parts: []string{"X1"}, Calls: []call{{"L2", 1, map[string]int{"I2": 1}}}}},
		// L1 would still owe L: X1 is another shipment with the number.
		{"more wanted where the part is", lines(s("S", 1), commerce.FulfillmentLine{LineID: "I3", Quantity: 1}), pn1,
			result{Calls: []call{{"L1", 0, map[string]int{"I1": 1, "I3": 1}}}}},
		{"calls in the order of the first line", lines(s("M", 1), s("S", 1)), nil,
			result{Calls: []call{{"L2", 0, map[string]int{"I2": 1}}, {"L1", 1, map[string]int{"I1": 1}}}}},
		{"not open", lines(s("S", 2), s("M", 1)), pn1, result{Err: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newFulfilPlan(in.FO)
			var cands []candidate
			if len(tt.tracking) > 0 {
				cands = likelyParts(in.FS, tt.tracking)
			}
			parts, calls, err := p.plan(cands, wantsOf(commerce.Fulfillment{Lines: tt.lines, Tracking: tt.tracking}))
			got := result{Err: err != nil}
			for _, pt := range parts {
				got.Parts = append(got.Parts, pt.id)
			}
			for _, c := range calls {
				got.Calls = append(got.Calls, call{c.loc, c.first, c.sent})
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("plan (-want +got):\n%s", diff)
			}
		})
	}
}

// FuzzFulfilPlan checks that whatever Shopify answers, the plan never asks
// for more than is open, sends each location's lines in one call, and,
// with the parts it found, accounts for exactly the quantity requested.
func FuzzFulfilPlan(f *testing.F) {
	f.Add([]byte(twoLocations))
	f.Add([]byte(`{"fo":{"order":{"id":"O","fulfillmentOrders":{"nodes":[{"id":"FO1","status":"CLOSED","lineItems":{"nodes":[{"id":"F1","remainingQuantity":0,"lineItem":{"id":"I1","sku":"S"}}]}}]}}},
		"fs":[{"id":"X1","status":"SUCCESS","fulfillmentLineItems":{"nodes":[{"quantity":2,"lineItem":{"id":"I1","sku":"S"}}]}}],"lines":[{"sku":"S","qty":2}],"remember":1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		in, req, ok := parsePlanInput(t, data)
		if !ok {
			return
		}
		p := newFulfilPlan(in.FO)
		cands := likelyParts(in.FS, req.Tracking)
		for i := range min(max(in.Remember, 0), len(cands)) {
			cands[i].remembered = true
		}
		parts, calls, err := p.plan(cands, wantsOf(req))
		if err != nil || !uniqueIDs(in) {
			return // Shopify's ids are unique; the plan need only not fail on others
		}
		want := 0
		for _, l := range req.Lines {
			want += l.Quantity
		}
		got := 0
		byID := map[string]wireFulfillment{}
		for _, c := range cands {
			byID[c.x.ID] = c.x
		}
		partAt := map[string]part{}
		for _, pt := range parts {
			if _, dup := partAt[pt.loc]; dup {
				t.Fatalf("two parts at %s", pt.loc)
			}
			partAt[pt.loc] = pt
			got += byID[pt.id].quantity()
		}
		foByID := map[string]wireFulfillmentOrder{}
		for _, o := range in.FO.Order.FulfillmentOrders.Nodes {
			foByID[o.ID] = o
		}
		taken := map[string]int{}
		seen := map[string]bool{}
		for _, c := range calls {
			if seen[c.loc] {
				t.Fatalf("two calls to %s", c.loc)
			}
			seen[c.loc] = true
			if pt, ok := partAt[c.loc]; ok && !pt.remembered {
				t.Fatalf("a call to %s, which holds part %s", c.loc, pt.id)
			}
			sent := 0
			for _, g := range c.groups {
				o := foByID[g["fulfillmentOrderId"].(string)]
				if o.location() != c.loc || !o.fulfillable() {
					t.Fatalf("fulfillment order %s (at %s, %s) in the call to %s", o.ID, o.location(), o.Status, c.loc)
				}
				for _, li := range g["fulfillmentOrderLineItems"].([]map[string]any) {
					taken[li["id"].(string)] += li["quantity"].(int)
					sent += li["quantity"].(int)
				}
			}
			n := 0
			for _, q := range c.sent {
				n += q
			}
			if n != sent {
				t.Fatalf("call to %s sends %d, remembers %d", c.loc, sent, n)
			}
			got += sent
		}
		for _, o := range in.FO.Order.FulfillmentOrders.Nodes {
			for _, li := range o.LineItems.Nodes {
				if taken[li.ID] > li.RemainingQuantity {
					t.Fatalf("%d of %s taken, %d open", taken[li.ID], li.ID, li.RemainingQuantity)
				}
			}
		}
		if got != want {
			t.Fatalf("parts and calls hold %d, the request %d", got, want)
		}
	})
}

// uniqueIDs reports whether the fulfillment orders and their lines have
// distinct, non-empty ids.
func uniqueIDs(in planInput) bool {
	seen := map[string]bool{"": true}
	for _, o := range in.FO.Order.FulfillmentOrders.Nodes {
		if seen[o.ID] {
			return false
		}
		seen[o.ID] = true
		for _, li := range o.LineItems.Nodes {
			if seen[li.ID] {
				return false
			}
			seen[li.ID] = true
		}
	}
	return true
}

func TestAbsorb(t *testing.T) {
	x := func(lines ...any) wireFulfillment {
		var w wireFulfillment
		for i := 0; i < len(lines); i += 3 {
			n := struct {
				Quantity int `json:"quantity"`
				LineItem struct {
					ID  string `json:"id"`
					SKU string `json:"sku"`
				} `json:"lineItem"`
			}{Quantity: lines[i+2].(int)}
			n.LineItem.ID, n.LineItem.SKU = lines[i].(string), lines[i+1].(string)
			w.FulfillmentLineItems.Nodes = append(w.FulfillmentLineItems.Nodes, n)
		}
		return w
	}
	want := []wanted{{index: 0, sku: "S", qty: 2}, {index: 1, lineID: "I2", qty: 1}, {index: 2, sku: "L", qty: 1}}
	tests := []struct {
		name      string
		x         wireFulfillment
		wantLeft  []wanted
		wantFirst int
		wantOK    bool
	}{
		{"by SKU", x("I1", "S", 1), []wanted{{index: 0, sku: "S", qty: 1}, {index: 1, lineID: "I2", qty: 1}, {index: 2, sku: "L", qty: 1}}, 0, true},
		{"by line item", x("I2", "M", 1), []wanted{{index: 0, sku: "S", qty: 2}, {index: 2, sku: "L", qty: 1}}, 1, true},
		{"line item before SKU", x("I3", "L", 1, "I2", "M", 1), []wanted{{index: 0, sku: "S", qty: 2}}, 1, true},
		{"all of it", x("I1", "S", 2, "I2", "M", 1, "I3", "L", 1), []wanted{}, 0, true},
		{"more than wanted", x("I1", "S", 3), nil, 0, false},
		{"something else", x("I9", "X", 1), nil, 0, false},
		{"a line item named elsewhere", x("I2", "M", 2), nil, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			left, first, ok := absorb(tt.x, want)
			if ok != tt.wantOK {
				t.Fatalf("ok = %v", ok)
			}
			if !ok {
				return
			}
			if diff := cmp.Diff(tt.wantLeft, left, cmp.AllowUnexported(wanted{})); diff != "" || first != tt.wantFirst {
				t.Errorf("first %d (want %d), left (-want +got):\n%s", first, tt.wantFirst, diff)
			}
		})
	}
}
