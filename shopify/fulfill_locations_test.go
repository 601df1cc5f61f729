package shopify_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/connector"
	"github.com/knyt/knyt/connector/fault"
	"github.com/knyt/knyt/shopify"
	"github.com/knyt/knyt/shopify/shopifytest"
)

// warehouses is a shop with two locations and order #2001, whose socks S
// (2) and L (1) ship from Stockholm and sock M (1) from Göteborg.
type warehouses struct {
	srv   *shopifytest.Server
	order shopifytest.Order
	names map[string]string // location GID → name
}

func seedWarehouses(t *testing.T, srv *shopifytest.Server) warehouses {
	t.Helper()
	w := warehouses{srv: srv, names: map[string]string{}}
	var ids []string
	for _, name := range []string{"Stockholm", "Göteborg"} {
		l, err := srv.AddLocation(shopifytest.Location{Name: name})
		if err != nil {
			t.Fatal(err)
		}
		w.names[l.ID] = name
		ids = append(ids, l.ID)
	}
	w.order = seedOrder(t, srv, "#2001", shopifytest.Order{LocationID: ids[0], Lines: []shopifytest.LineItem{
		{SKU: "SOCK-1-S", Title: "Ullsocka", Quantity: 2, UnitPrice: "199.00"},
		{SKU: "SOCK-1-M", Title: "Ullsocka", Quantity: 1, UnitPrice: "209.00", LocationID: ids[1]},
		{SKU: "SOCK-1-L", Title: "Ullsocka", Quantity: 1, UnitPrice: "219.00"},
	}})
	return w
}

// shipment is a fulfillment as the fake recorded it, in words.
type shipment struct {
	Location string
	Lines    string // "SKU×quantity", sorted
	Tracking string
	Notify   bool
}

func (w warehouses) shipments() ([]shipment, []string) {
	var out []shipment
	var ids []string
	for _, f := range w.srv.Fulfillments(w.order.ID) {
		var lines, tracking []string
		for _, l := range f.Lines {
			lines = append(lines, fmt.Sprintf("%s×%d", l.SKU, l.Quantity))
		}
		slices.Sort(lines)
		for _, tr := range f.Tracking {
			tracking = append(tracking, tr.Number)
		}
		out = append(out, shipment{Location: w.names[f.LocationID], Lines: strings.Join(lines, " "), Tracking: strings.Join(tracking, " "), Notify: f.NotifyCustomer})
		ids = append(ids, f.ID)
	}
	return out, ids
}

// open is what is left to fulfil, by SKU.
func (w warehouses) open() map[string]int {
	out := map[string]int{}
	for _, fo := range w.srv.FulfillmentOrders(w.order.ID) {
		for _, l := range fo.Lines {
			if l.Remaining > 0 {
				out[l.SKU] += l.Remaining
			}
		}
	}
	return out
}

// fulfilled is the quantity fulfilled of each SKU over all fulfillments.
func (w warehouses) fulfilled() map[string]int {
	out := map[string]int{}
	for _, f := range w.srv.Fulfillments(w.order.ID) {
		for _, l := range f.Lines {
			out[l.SKU] += l.Quantity
		}
	}
	return out
}

// lineID is the LineItem GID of the order's line with the SKU.
func (w warehouses) lineID(sku string) string {
	for _, l := range w.order.Lines {
		if l.SKU == sku {
			return l.ID
		}
	}
	return ""
}

func socks(pairs ...any) []commerce.FulfillmentLine {
	var out []commerce.FulfillmentLine
	for i := 0; i < len(pairs); i += 2 {
		out = append(out, commerce.FulfillmentLine{SKU: "SOCK-1-" + pairs[i].(string), Quantity: pairs[i+1].(int)})
	}
	return out
}

func tracked(number string) []commerce.Tracking {
	if number == "" {
		return nil
	}
	return []commerce.Tracking{{Number: number, Company: "PostNord"}}
}

func TestFulfillAcrossLocations(t *testing.T) {
	type request struct {
		lines    []commerce.FulfillmentLine
		tracking string
		byLineID bool // name the lines by LineItem GID instead of SKU
	}
	tests := []struct {
		name     string
		requests []request
		want     []shipment
		wantRefs []int // per request: the index of the fulfillment returned
		wantOpen map[string]int
	}{
		{
			name:     "one location",
			requests: []request{{lines: socks("S", 2, "L", 1), tracking: "PN1"}},
			want:     []shipment{{"Stockholm", "SOCK-1-L×1 SOCK-1-S×2", "PN1", true}},
			wantRefs: []int{0},
			wantOpen: map[string]int{"SOCK-1-M": 1},
		},
		{
			name:     "two locations in one request",
			requests: []request{{lines: socks("S", 2, "M", 1, "L", 1), tracking: "PN1"}},
			want:     []shipment{{"Stockholm", "SOCK-1-L×1 SOCK-1-S×2", "PN1", true}, {"Göteborg", "SOCK-1-M×1", "PN1", true}},
			wantRefs: []int{0},
			wantOpen: map[string]int{},
		},
		{
			name:     "the first line at the second location goes first",
			requests: []request{{lines: socks("M", 1, "S", 1)}},
			want:     []shipment{{"Göteborg", "SOCK-1-M×1", "", true}, {"Stockholm", "SOCK-1-S×1", "", true}},
			wantRefs: []int{0},
			wantOpen: map[string]int{"SOCK-1-S": 1, "SOCK-1-L": 1},
		},
		{
			name:     "lines by line item",
			requests: []request{{lines: socks("L", 1, "M", 1), tracking: "PN1", byLineID: true}},
			want:     []shipment{{"Stockholm", "SOCK-1-L×1", "PN1", true}, {"Göteborg", "SOCK-1-M×1", "PN1", true}},
			wantRefs: []int{0},
			wantOpen: map[string]int{"SOCK-1-S": 2},
		},
		{
			name: "partial deliveries across locations",
			requests: []request{
				{lines: socks("S", 1, "M", 1), tracking: "PN1"},
				{lines: socks("S", 1, "L", 1), tracking: "PN2"},
			},
			want: []shipment{
				{"Stockholm", "SOCK-1-S×1", "PN1", true}, {"Göteborg", "SOCK-1-M×1", "PN1", true},
				{"Stockholm", "SOCK-1-L×1 SOCK-1-S×1", "PN2", true},
			},
			wantRefs: []int{0, 2},
			wantOpen: map[string]int{},
		},
		{
			name: "partial deliveries without tracking",
			requests: []request{
				{lines: socks("M", 1, "S", 1)},
				{lines: socks("S", 1)},
				{lines: socks("L", 1)},
			},
			want: []shipment{
				{"Göteborg", "SOCK-1-M×1", "", true}, {"Stockholm", "SOCK-1-S×1", "", true},
				{"Stockholm", "SOCK-1-S×1", "", true}, {"Stockholm", "SOCK-1-L×1", "", true},
			},
			wantRefs: []int{0, 2, 3},
			wantOpen: map[string]int{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			srv, c := newFake(t, nil)
			w := seedWarehouses(t, srv)
			var refs []commerce.Ref
			for i, r := range tt.requests {
				lines := slices.Clone(r.lines)
				if r.byLineID {
					for j := range lines {
						lines[j].LineID, lines[j].SKU = w.lineID(lines[j].SKU), ""
					}
				}
				key := connector.WithIdempotencyKey(connector.IdempotencyKey("test", "fulfill", tt.name, fmt.Sprint(i)))
				ref, err := c.Fulfill(ctx, commerce.Fulfillment{OrderNumber: "#2001", Lines: lines, Tracking: tracked(r.tracking), NotifyCustomer: true}, key)
				if err != nil {
					t.Fatalf("request %d: %v", i, err)
				}
				refs = append(refs, ref)
			}
			got, ids := w.shipments()
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Fatalf("fulfillments (-want +got):\n%s", diff)
			}
			for i, r := range refs {
				if want := ids[tt.wantRefs[i]]; r.ID != want || r.System != "shopify" {
					t.Errorf("request %d returned %v, want %s", i, r, want)
				}
			}
			if diff := cmp.Diff(tt.wantOpen, w.open()); diff != "" {
				t.Errorf("open lines (-want +got):\n%s", diff)
			}
		})
	}
}

// failCreate makes the nth fulfillmentCreate fail with f; with failReads,
// the reads that would find what a lost call made fail too, so that
// Fulfill cannot tell whether it worked.
func failCreate(srv *shopifytest.Server, n int, f fault.Fault, failReads bool) *atomic.Bool {
	var seen atomic.Int32
	var hit atomic.Bool
	create, read := operation("FulfillmentCreate"), operation("OrderFulfillments")
	f.Match = func(r *http.Request) bool {
		if create(r) && seen.Add(1) == int32(n) {
			hit.Store(true)
			return true
		}
		return false
	}
	srv.Faults().Inject(f)
	if failReads {
		srv.Faults().InjectN(fault.Fault{Kind: fault.Status, Status: 503, Match: func(r *http.Request) bool { return hit.Load() && read(r) }}, 3)
	}
	return &hit
}

func TestFulfillAcrossLocationsExactlyOnce(t *testing.T) {
	lost := fault.Fault{Kind: fault.LostAnswer}
	refused := fault.Fault{Kind: fault.Status, Status: 503}
	all := socks("S", 2, "M", 1, "L", 1)
	whole := []shipment{{"Stockholm", "SOCK-1-L×1 SOCK-1-S×2", "", false}, {"Göteborg", "SOCK-1-M×1", "", false}}
	wholeTracked := []shipment{{"Stockholm", "SOCK-1-L×1 SOCK-1-S×2", "PN1", false}, {"Göteborg", "SOCK-1-M×1", "PN1", false}}
	part := socks("S", 1, "M", 1)
	partTracked := []shipment{{"Stockholm", "SOCK-1-S×1", "PN1", false}, {"Göteborg", "SOCK-1-M×1", "PN1", false}}
	tests := []struct {
		name      string
		lines     []commerce.FulfillmentLine
		tracking  string
		key       bool // repeat with the same idempotency key
		restart   bool // the repeat comes from a new client
		call      int  // the fulfillmentCreate that fails
		fault     fault.Fault
		failReads bool
		want      []shipment
	}{
		{name: "first answer lost, found in the call", lines: all, call: 1, fault: lost, want: whole},
		{name: "second answer lost, found in the call", lines: all, call: 2, fault: lost, want: whole},
		{name: "first answer lost, repeat with tracking after a restart", lines: all, tracking: "PN1", restart: true, call: 1, fault: lost, failReads: true, want: wholeTracked},
		{name: "first answer lost, repeat with the key", lines: all, key: true, call: 1, fault: lost, failReads: true, want: whole},
		{name: "first answer lost, repeat without tracking after a restart", lines: all, key: true, restart: true, call: 1, fault: lost, failReads: true, want: whole},
		{name: "second answer lost, repeat with tracking after a restart", lines: all, tracking: "PN1", restart: true, call: 2, fault: lost, failReads: true, want: wholeTracked},
		{name: "second answer lost, repeat with the key", lines: all, key: true, call: 2, fault: lost, failReads: true, want: whole},
		{name: "second answer lost, repeat without tracking after a restart", lines: all, restart: true, call: 2, fault: lost, failReads: true, want: whole},
		{name: "second call refused, repeat with tracking after a restart", lines: all, tracking: "PN1", restart: true, call: 2, fault: refused, want: wholeTracked},
		{name: "second call refused, repeat with the key", lines: all, key: true, call: 2, fault: refused, want: whole},
		{name: "second call refused, repeat without tracking after a restart", lines: all, restart: true, call: 2, fault: refused, want: whole},
		{name: "part of the order, first answer lost, repeat with tracking after a restart", lines: part, tracking: "PN1", restart: true, call: 1, fault: lost, failReads: true, want: partTracked},
		{name: "part of the order, first answer lost, repeat with the key", lines: part, key: true, call: 1, fault: lost, failReads: true, want: []shipment{{"Stockholm", "SOCK-1-S×1", "", false}, {"Göteborg", "SOCK-1-M×1", "", false}}},
		{name: "part of the order, second answer lost, repeat with the key", lines: part, key: true, call: 2, fault: lost, failReads: true, want: []shipment{{"Stockholm", "SOCK-1-S×1", "", false}, {"Göteborg", "SOCK-1-M×1", "", false}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			srv, c := newFake(t, nil)
			w := seedWarehouses(t, srv)
			f := commerce.Fulfillment{OrderNumber: "#2001", Lines: tt.lines, Tracking: tracked(tt.tracking)}
			var opts []connector.CallOption
			if tt.key {
				opts = append(opts, connector.WithIdempotencyKey(connector.IdempotencyKey("test", "fulfill", "2001")))
			}
			hit := failCreate(srv, tt.call, tt.fault, tt.failReads)
			first, err := c.Fulfill(ctx, f, opts...)
			if !hit.Load() {
				t.Fatalf("fulfillmentCreate %d did not fail", tt.call)
			}
			// A lost answer is found in the call unless the reads fail too.
			if wantErr := tt.failReads || tt.fault.Kind == fault.Status; (err != nil) != wantErr || err != nil && !connector.IsRetryable(err) {
				t.Fatalf("first call: %v, want a retryable error: %v", err, wantErr)
			}
			srv.Faults().Reset()
			if tt.restart {
				_, c = newClientFor(t, srv)
			}
			var refs []commerce.Ref
			if err == nil {
				refs = append(refs, first)
			}
			// The repeat fulfils what is missing; a third call finds it all done.
			for i := range 2 {
				ref, err := c.Fulfill(ctx, f, opts...)
				if err != nil {
					t.Fatalf("repeat %d: %v", i+1, err)
				}
				refs = append(refs, ref)
			}
			got, ids := w.shipments()
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Fatalf("fulfillments (-want +got):\n%s", diff)
			}
			// Each line once: exactly what was asked for, in the fulfillments.
			want := map[string]int{}
			for _, l := range tt.lines {
				want[l.SKU] += l.Quantity
			}
			if diff := cmp.Diff(want, w.fulfilled()); diff != "" {
				t.Errorf("fulfilled quantities (-want +got):\n%s", diff)
			}
			// Every call returns the fulfillment of the first location.
			for i, r := range refs {
				if r.ID != ids[0] {
					t.Errorf("call %d returned %s, want %s (Stockholm)", i, r.ID, ids[0])
				}
			}
		})
	}
}

func TestFulfillAcrossLocationsTellsShipmentsApart(t *testing.T) {
	ctx := context.Background()
	key := func(n string) connector.CallOption {
		return connector.WithIdempotencyKey(connector.IdempotencyKey("test", "fulfill", n))
	}
	type step struct {
		lines    []commerce.FulfillmentLine
		tracking string
		dryRun   bool
		wantErr  error // nil: success
		wantRef  int   // index of the fulfillment returned; -1 none
	}
	tests := []struct {
		name  string
		steps []step
		want  []shipment
	}{
		{
			name: "a repeat of a done request writes nothing",
			steps: []step{
				{lines: socks("M", 1, "S", 2), tracking: "PN1", wantRef: 0},
				{lines: socks("M", 1, "S", 2), tracking: "PN1", wantRef: 0},
				{lines: socks("M", 1, "S", 2), wantRef: 0},
			},
			want: []shipment{{"Göteborg", "SOCK-1-M×1", "PN1", false}, {"Stockholm", "SOCK-1-S×2", "PN1", false}},
		},
		{
			name: "lines fulfilled by another shipment are a conflict",
			steps: []step{
				{lines: socks("S", 2, "M", 1, "L", 1), wantRef: 0},
				{lines: socks("S", 1), wantErr: connector.ErrConflict, wantRef: -1},
				{lines: socks("S", 2, "M", 1, "L", 1), tracking: "PN9", wantErr: connector.ErrConflict, wantRef: -1},
			},
			want: []shipment{{"Stockholm", "SOCK-1-L×1 SOCK-1-S×2", "", false}, {"Göteborg", "SOCK-1-M×1", "", false}},
		},
		{
			name: "more than an earlier shipment at its location is a conflict",
			steps: []step{
				{lines: socks("M", 1), wantRef: 0},
				{lines: socks("S", 2, "M", 2), wantErr: connector.ErrConflict, wantRef: -1},
			},
			want: []shipment{{"Göteborg", "SOCK-1-M×1", "", false}},
		},
		{
			name: "the same tracking number on more lines at a location is another shipment",
			steps: []step{
				{lines: socks("S", 1), tracking: "PN1", wantRef: 0},
				{lines: socks("S", 1, "L", 1, "M", 1), tracking: "PN1", wantRef: 1},
			},
			want: []shipment{{"Stockholm", "SOCK-1-S×1", "PN1", false}, {"Stockholm", "SOCK-1-L×1 SOCK-1-S×1", "PN1", false}, {"Göteborg", "SOCK-1-M×1", "PN1", false}},
		},
		{
			name: "a dry run writes nothing",
			steps: []step{
				{lines: socks("S", 2, "M", 1), tracking: "PN1", dryRun: true, wantRef: -1},
				{lines: socks("S", 2, "M", 1), tracking: "PN1", wantRef: 0},
				{lines: socks("S", 2, "M", 1), tracking: "PN1", dryRun: true, wantRef: 0},
			},
			want: []shipment{{"Stockholm", "SOCK-1-S×2", "PN1", false}, {"Göteborg", "SOCK-1-M×1", "PN1", false}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, c := newFake(t, nil)
			w := seedWarehouses(t, srv)
			var refs []commerce.Ref
			for i, s := range tt.steps {
				opts := []connector.CallOption{key(fmt.Sprint(i))}
				if s.dryRun {
					opts = append(opts, connector.WithDryRun())
				}
				ref, err := c.Fulfill(ctx, commerce.Fulfillment{OrderNumber: "#2001", Lines: s.lines, Tracking: tracked(s.tracking)}, opts...)
				if s.wantErr == nil && err != nil || s.wantErr != nil && !errors.Is(err, s.wantErr) {
					t.Fatalf("step %d: err = %v, want %v", i, err, s.wantErr)
				}
				refs = append(refs, ref)
			}
			got, ids := w.shipments()
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Fatalf("fulfillments (-want +got):\n%s", diff)
			}
			for i, s := range tt.steps {
				want := commerce.Ref{}
				if s.wantRef >= 0 {
					want = commerce.Ref{System: "shopify", Account: refs[i].Account, ID: ids[s.wantRef]}
				}
				if refs[i] != want {
					t.Errorf("step %d returned %+v, want %+v", i, refs[i], want)
				}
			}
		})
	}
}

// A Fulfill that stops between locations says so and keeps its kind.
func TestFulfillAcrossLocationsReportsProgress(t *testing.T) {
	srv, c := newFake(t, nil)
	seedWarehouses(t, srv)
	failCreate(srv, 2, fault.Fault{Kind: fault.Status, Status: 503}, false)
	_, err := c.Fulfill(context.Background(), commerce.Fulfillment{OrderNumber: "#2001", Lines: socks("S", 2, "M", 1)})
	var ce *connector.Error
	if !errors.As(err, &ce) || !connector.IsRetryable(err) || !strings.Contains(err.Error(), "1 location(s) fulfilled, 1 not") {
		t.Fatalf("err = %v", err)
	}
	if ce.System != "shopify" || ce.Op != "Fulfill" {
		t.Errorf("error names %s %s", ce.System, ce.Op)
	}
	var _ connector.Fulfiller = (*shopify.Client)(nil)
}

// An order spread over more locations than one page of fulfillment orders
// holds is fulfilled everywhere, one fulfillment per location.
func TestFulfillReadsEveryPageOfFulfillmentOrders(t *testing.T) {
	ctx := context.Background()
	srv, c := newFake(t, nil)
	const n = 12
	var lines []shopifytest.LineItem
	var req []commerce.FulfillmentLine
	for i := range n {
		l, err := srv.AddLocation(shopifytest.Location{Name: fmt.Sprintf("Lager %d", i)})
		if err != nil {
			t.Fatal(err)
		}
		sku := fmt.Sprintf("SKU-%d", i)
		lines = append(lines, shopifytest.LineItem{SKU: sku, Title: "Vara", Quantity: 1, UnitPrice: "10.00", LocationID: l.ID})
		req = append(req, commerce.FulfillmentLine{SKU: sku, Quantity: 1})
	}
	o := seedOrder(t, srv, "#3001", shopifytest.Order{Lines: lines})
	ref, err := c.Fulfill(ctx, commerce.Fulfillment{OrderNumber: "#3001", Lines: req, Tracking: tracked("PN1")})
	if err != nil {
		t.Fatal(err)
	}
	var got, want []string
	for i, f := range srv.Fulfillments(o.ID) {
		got = append(got, f.LocationID+" "+f.Lines[0].SKU)
		want = append(want, lines[i].LocationID+" "+lines[i].SKU)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("fulfillments (-want +got):\n%s", diff)
	}
	if fs := srv.Fulfillments(o.ID); ref.ID != fs[0].ID {
		t.Errorf("returned %s, want the first location's %s", ref.ID, fs[0].ID)
	}
	// The repeat finds every part, on every page.
	if again, err := c.Fulfill(ctx, commerce.Fulfillment{OrderNumber: "#3001", Lines: req, Tracking: tracked("PN1")}); err != nil || again != ref {
		t.Errorf("repeat: %v %v", again, err)
	}
	if got := len(srv.Fulfillments(o.ID)); got != n {
		t.Errorf("%d fulfillments after the repeat, want %d", got, n)
	}
}
