package shopify

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"time"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/connector"
)

// wireFulfillmentOrder is a fulfillment order as FulfillmentOrders reads it.
type wireFulfillmentOrder struct {
	ID               string `json:"id"`
	Status           string `json:"status"`
	AssignedLocation struct {
		Location *struct {
			ID string `json:"id"`
		} `json:"location"`
	} `json:"assignedLocation"`
	SupportedActions []struct {
		Action string `json:"action"`
	} `json:"supportedActions"`
	LineItems struct {
		Nodes []wireFOLine `json:"nodes"`
	} `json:"lineItems"`
}

// wireFOLine is a fulfillment order line item.
type wireFOLine struct {
	ID                string `json:"id"`
	RemainingQuantity int    `json:"remainingQuantity"`
	SKU               string `json:"sku"`
	LineItem          struct {
		ID  string `json:"id"`
		SKU string `json:"sku"`
	} `json:"lineItem"`
}

// location is what Fulfill groups a fulfillment order by: the id of its
// assigned location, or — when Shopify names none (the location is gone or
// not visible to the app) — the fulfillment order itself, which then gets
// a fulfillmentCreate of its own.
func (o wireFulfillmentOrder) location() string {
	if l := o.AssignedLocation.Location; l != nil && l.ID != "" {
		return l.ID
	}
	return "unassigned " + o.ID
}

// fulfillable reports whether fulfillmentCreate may take lines from o.
func (o wireFulfillmentOrder) fulfillable() bool {
	if o.Status != "OPEN" && o.Status != "IN_PROGRESS" {
		return false
	}
	return slices.ContainsFunc(o.SupportedActions, func(a struct {
		Action string `json:"action"`
	}) bool {
		return a.Action == "CREATE_FULFILLMENT"
	})
}

type wireFulfillmentOrders struct {
	Order *struct {
		ID           string `json:"id"`
		Name         string `json:"name"`
		Fulfillments []struct {
			ID string `json:"id"`
		} `json:"fulfillments"`
		FulfillmentOrders struct {
			PageInfo pageInfo               `json:"pageInfo"`
			Nodes    []wireFulfillmentOrder `json:"nodes"`
		} `json:"fulfillmentOrders"`
	} `json:"order"`
}

// maxFulfillmentOrderPages bounds the pages of fulfillment orders read for
// one order (each as many as the cost limit allows, 8 or so).
const maxFulfillmentOrderPages = 20

// fulfillmentOrders reads all of an order's fulfillment orders, page by
// page. A fulfillment order with more lines than one page of lines holds
// shows only the first ones.
func (c *Client) fulfillmentOrders(ctx context.Context, orderID string) (wireFulfillmentOrders, error) {
	vars := map[string]any{"id": orderID, "lines": 50}
	c.pageSize(docFulfillmentOrders, vars, "first", 25)
	var all wireFulfillmentOrders
	for range maxFulfillmentOrderPages {
		var out wireFulfillmentOrders
		if _, err := c.Execute(ctx, docFulfillmentOrders, vars, &out); err != nil {
			return out, err
		}
		if out.Order == nil {
			return out, &connector.Error{System: systemName, Op: "FulfillmentOrders", Kind: connector.KindNotFound, Message: "no order " + orderID}
		}
		if all.Order == nil {
			all = out
		} else {
			all.Order.FulfillmentOrders.Nodes = append(all.Order.FulfillmentOrders.Nodes, out.Order.FulfillmentOrders.Nodes...)
		}
		page := out.Order.FulfillmentOrders.PageInfo
		if !page.HasNextPage || page.EndCursor == "" {
			return all, nil
		}
		vars["after"] = page.EndCursor
	}
	return all, &connector.Error{System: systemName, Op: "FulfillmentOrders", Kind: connector.KindPermanent,
		Message: fmt.Sprintf("order %s has more than %d pages of fulfillment orders", orderID, maxFulfillmentOrderPages)}
}

// wireFulfillment is a fulfillment as OrderFulfillments reads it.
type wireFulfillment struct {
	ID        string    `json:"id"`
	Status    string    `json:"status"`
	CreatedAt time.Time `json:"createdAt"`
	Location  *struct {
		ID string `json:"id"`
	} `json:"location"`
	TrackingInfo []struct {
		Number string `json:"number"`
	} `json:"trackingInfo"`
	FulfillmentLineItems struct {
		PageInfo pageInfo `json:"pageInfo"`
		Nodes    []struct {
			Quantity int `json:"quantity"`
			LineItem struct {
				ID  string `json:"id"`
				SKU string `json:"sku"`
			} `json:"lineItem"`
		} `json:"nodes"`
	} `json:"fulfillmentLineItems"`
}

// live reports whether x counts as a shipment: not cancelled or failed,
// and all its lines read.
func (x wireFulfillment) live() bool {
	switch x.Status {
	case "CANCELLED", "ERROR", "FAILURE":
		return false
	}
	return !x.FulfillmentLineItems.PageInfo.HasNextPage && x.quantity() > 0
}

// location is the id of the location x was processed at, "" when unknown.
func (x wireFulfillment) location() string {
	if x.Location != nil {
		return x.Location.ID
	}
	return ""
}

func (x wireFulfillment) quantity() int {
	n := 0
	for _, l := range x.FulfillmentLineItems.Nodes {
		n += l.Quantity
	}
	return n
}

// holds reports whether x fulfilled exactly the quantities of sent (line
// item GID → quantity).
func (x wireFulfillment) holds(sent map[string]int) bool {
	have := map[string]int{}
	for _, l := range x.FulfillmentLineItems.Nodes {
		have[l.LineItem.ID] += l.Quantity
	}
	return maps.Equal(have, sent)
}

// hasTracking reports whether x carries every tracking number of ts.
func (x wireFulfillment) hasTracking(ts []commerce.Tracking) bool {
	for _, t := range ts {
		if t.Number == "" {
			continue
		}
		if !slices.ContainsFunc(x.TrackingInfo, func(ti struct {
			Number string `json:"number"`
		}) bool {
			return ti.Number == t.Number
		}) {
			return false
		}
	}
	return true
}

// Sizes of OrderFulfillments: the fulfillments of one order (as many as
// the cost limit allows, at most maxFulfillments) and the lines of each.
// An order with more fulfillments than one read holds may hide the one
// looked for; a fulfillment with more lines than fulfillmentLines is never
// taken for part of a repeat.
const (
	maxFulfillments  = 20
	fulfillmentLines = 25
)

func (c *Client) orderFulfillments(ctx context.Context, orderID string) ([]wireFulfillment, error) {
	vars := map[string]any{"id": orderID, "lines": fulfillmentLines}
	c.pageSize(docOrderFulfillments, vars, "first", maxFulfillments)
	var out struct {
		Order *struct {
			Fulfillments []wireFulfillment `json:"fulfillments"`
		} `json:"order"`
	}
	if _, err := c.Execute(ctx, docOrderFulfillments, vars, &out); err != nil {
		return nil, err
	}
	if out.Order == nil {
		return nil, &connector.Error{System: systemName, Op: "OrderFulfillments", Kind: connector.KindNotFound, Message: "no order " + orderID}
	}
	return out.Order.Fulfillments, nil
}

// wanted is what is still to be fulfilled of one line of a request.
type wanted struct {
	index  int // in Fulfillment.Lines
	lineID string
	sku    string
	qty    int
}

func wantsOf(f commerce.Fulfillment) []wanted {
	out := make([]wanted, len(f.Lines))
	for i, l := range f.Lines {
		out[i] = wanted{index: i, lineID: l.LineID, sku: l.SKU, qty: l.Quantity}
	}
	return out
}

// absorb takes what fulfillment x holds off what the request still wants:
// each of its line items from the request lines naming that line item,
// then from the lines asking for its SKU. ok is false when x holds
// anything the request does not want; first is the lowest index of a
// request line x serves.
func absorb(x wireFulfillment, want []wanted) (left []wanted, first int, ok bool) {
	left = slices.Clone(want)
	first = math.MaxInt
	take := func(match func(w wanted) bool, need int) int {
		for i := range left {
			if need == 0 {
				break
			}
			if left[i].qty == 0 || !match(left[i]) {
				continue
			}
			q := min(need, left[i].qty)
			left[i].qty -= q
			need -= q
			first = min(first, left[i].index)
		}
		return need
	}
	type rest struct {
		sku string
		qty int
	}
	var rests []rest
	for _, n := range x.FulfillmentLineItems.Nodes {
		id := n.LineItem.ID
		if need := take(func(w wanted) bool { return w.lineID != "" && w.lineID == id }, n.Quantity); need > 0 {
			rests = append(rests, rest{n.LineItem.SKU, need})
		}
	}
	for _, r := range rests {
		if r.sku == "" || take(func(w wanted) bool { return w.lineID == "" && w.sku == r.sku }, r.qty) > 0 {
			return nil, 0, false
		}
	}
	return slices.DeleteFunc(left, func(w wanted) bool { return w.qty == 0 }), first, true
}

// candidate is a fulfillment that may be part of the shipment asked for.
// A remembered one is known to be the result of an earlier attempt of the
// same call (the client's in-process memory says so).
type candidate struct {
	x          wireFulfillment
	remembered bool
}

// part is an existing fulfillment taken as part of the shipment.
type part struct {
	id         string
	loc        string
	first      int
	remembered bool
}

// fulfilCall is one fulfillmentCreate: the lines taken from the
// fulfillment orders of one location.
type fulfilCall struct {
	loc    string
	first  int              // lowest index of a request line it serves
	groups []map[string]any // lineItemsByFulfillmentOrder
	sent   map[string]int   // line item GID → quantity
}

// fulfilPlan is what Fulfill works out before it writes.
type fulfilPlan struct {
	fo   wireFulfillmentOrders
	rank map[string]int // location → index of its first fulfillment order
}

func newFulfilPlan(fo wireFulfillmentOrders) fulfilPlan {
	p := fulfilPlan{fo: fo, rank: map[string]int{}}
	for i, o := range fo.Order.FulfillmentOrders.Nodes {
		if _, ok := p.rank[o.location()]; !ok {
			p.rank[o.location()] = i
		}
	}
	return p
}

// order is the sort order of calls and parts: by the first request line
// they serve, then by their location's first fulfillment order.
func (p fulfilPlan) order(aFirst int, aLoc string, bFirst int, bLoc string) int {
	rank := func(loc string) int {
		if r, ok := p.rank[loc]; ok {
			return r
		}
		return math.MaxInt
	}
	return cmp.Or(cmp.Compare(aFirst, bFirst), cmp.Compare(rank(aLoc), rank(bLoc)), cmp.Compare(aLoc, bLoc))
}

// locationOf is where fulfillment x was made: the location Shopify names,
// else the one location whose fulfillment orders hold x's line items,
// else "?" (unknown; at most one part may have an unknown location).
func (p fulfilPlan) locationOf(x wireFulfillment) string {
	if loc := x.location(); loc != "" {
		return loc
	}
	found := ""
	for _, n := range x.FulfillmentLineItems.Nodes {
		for _, o := range p.fo.Order.FulfillmentOrders.Nodes {
			if !slices.ContainsFunc(o.LineItems.Nodes, func(li wireFOLine) bool { return li.LineItem.ID == n.LineItem.ID }) {
				continue
			}
			if found != "" && found != o.location() {
				return "?"
			}
			found = o.location()
		}
	}
	return cmp.Or(found, "?")
}

// parts picks, from the candidates in order of preference, at most one
// fulfillment per location whose lines fall within what the request still
// wants, skipping the locations in skip unless the fulfillment is a
// remembered one. It returns the parts and what is left to fulfil.
func (p fulfilPlan) parts(cands []candidate, want []wanted, skip map[string]bool) ([]part, []wanted) {
	var parts []part
	usedLoc, usedID := map[string]bool{}, map[string]bool{}
	for _, c := range cands {
		loc := p.locationOf(c.x)
		if usedLoc[loc] || usedID[c.x.ID] || skip[loc] && !c.remembered {
			continue
		}
		left, first, ok := absorb(c.x, want)
		if !ok {
			continue
		}
		usedLoc[loc], usedID[c.x.ID] = true, true
		want = left
		parts = append(parts, part{id: c.x.ID, loc: loc, first: first, remembered: c.remembered})
	}
	return parts, want
}

// plan splits the request into the parts already made and the calls still
// to make, one per location. A call never goes to a location that already
// holds a part: each call is all or nothing at its location, so such a
// part is not this shipment's, and it is dropped (unless remembered).
func (p fulfilPlan) plan(cands []candidate, want []wanted) ([]part, []*fulfilCall, error) {
	skip := map[string]bool{}
	for {
		parts, left := p.parts(cands, want, skip)
		if len(left) == 0 {
			return parts, nil, nil
		}
		calls, err := p.allocate(left)
		if err != nil {
			return nil, nil, err
		}
		clash := false
		for _, c := range calls {
			for _, pt := range parts {
				if pt.loc == c.loc && !pt.remembered {
					skip[pt.loc], clash = true, true
				}
			}
		}
		if !clash {
			return parts, calls, nil
		}
	}
}

// allocate takes each wanted line's quantity from the open fulfillment
// order lines that still have it (a line by LineID from that line item,
// by SKU from any line item with the SKU), in the order the order lists
// its fulfillment orders, and groups what it took into one call per
// location. A line that cannot be fully taken is a KindConflict error.
func (p fulfilPlan) allocate(want []wanted) ([]*fulfilCall, error) {
	byLoc := map[string]*fulfilCall{}
	var calls []*fulfilCall
	foIndex := map[*fulfilCall]map[string]int{} // fulfillment order → its group in the call
	used := map[string]int{}
	for _, w := range want {
		need := w.qty
		for _, o := range p.fo.Order.FulfillmentOrders.Nodes {
			if need == 0 {
				break
			}
			if !o.fulfillable() {
				continue
			}
			for _, li := range o.LineItems.Nodes {
				if need == 0 {
					break
				}
				match := (w.lineID != "" && li.LineItem.ID == w.lineID) || (w.lineID == "" && (li.LineItem.SKU == w.sku || li.SKU == w.sku))
				avail := li.RemainingQuantity - used[li.ID]
				if !match || avail <= 0 {
					continue
				}
				q := min(avail, need)
				used[li.ID] += q
				need -= q
				loc := o.location()
				c := byLoc[loc]
				if c == nil {
					c = &fulfilCall{loc: loc, first: w.index, sent: map[string]int{}}
					byLoc[loc] = c
					calls = append(calls, c)
					foIndex[c] = map[string]int{}
				}
				g, ok := foIndex[c][o.ID]
				if !ok {
					g = len(c.groups)
					foIndex[c][o.ID] = g
					c.groups = append(c.groups, map[string]any{"fulfillmentOrderId": o.ID, "fulfillmentOrderLineItems": []map[string]any{}})
				}
				c.groups[g]["fulfillmentOrderLineItems"] = append(c.groups[g]["fulfillmentOrderLineItems"].([]map[string]any), map[string]any{"id": li.ID, "quantity": q})
				c.sent[li.LineItem.ID] += q
			}
		}
		if need > 0 {
			key := w.sku
			if w.lineID != "" {
				key = w.lineID
			}
			return nil, &connector.Error{System: systemName, Op: "Fulfill", Kind: connector.KindConflict, Field: fmt.Sprintf("lines[%d]", w.index),
				Message: fmt.Sprintf("%d of %q cannot be fulfilled: not open for fulfillment (already fulfilled, cancelled or on hold)", need, key)}
		}
	}
	slices.SortStableFunc(calls, func(a, b *fulfilCall) int { return p.order(a.first, a.loc, b.first, b.loc) })
	return calls, nil
}

// fulfilAttempt is what the client remembers of one location's
// fulfillmentCreate made under an idempotency key: the order, the
// fulfillments it had before the call, and the line items and quantities
// sent, so that a repeat with the key can tell the fulfillment that call
// made (and perhaps never heard of) from older ones.
type fulfilAttempt struct {
	order  string
	before map[string]bool
	sent   map[string]int
}

// fulfilKey is the memory key of the part of a Fulfill under key that
// goes to one location.
func fulfilKey(key, loc string) string {
	return connector.IdempotencyKey("shopify", "fulfill", key, loc)
}

// Fulfill records a shipment through the order's fulfillment orders: each
// line (by LineID — a LineItem GID — or SKU) takes its quantity from the
// open fulfillment order lines that still have it, in the order Shopify
// lists the fulfillment orders, with the tracking (number, URL, company;
// several parcels as numbers and URLs) and notifyCustomer.
//
// # Several locations
//
// fulfillmentCreate fulfils fulfillment orders of one location only (its
// 2026-10 description: they "are assigned to the same Location"), and an
// order split over warehouses has a fulfillment order per location. So
// Fulfill sends one fulfillmentCreate per location, each with only the
// lines taken from that location's fulfillment orders and all with the
// same tracking and notifyCustomer. The calls are made one after another,
// ordered by the first line of the request each serves (then by the
// order's fulfillment orders). The returned Ref is the fulfillment of the
// first location in that order: the one holding the request's first line.
// A failure after some locations were fulfilled returns the error (its
// kind and MaybeApplied kept) saying how many were; a repeat of the
// request fulfils the rest, as below.
//
// # Exactly once
//
// fulfillmentCreate takes no idempotency key (its 2026-10 description
// documents none, and @idempotent is refused on mutations that do not), so
// Fulfill recognises the fulfillments an earlier attempt of the same
// request made — its parts — and fulfils only what they leave:
//   - With tracking numbers, exactly: a part is a fulfillment carrying all
//     the request's tracking numbers whose lines fall within the request,
//     at most one per location. It is not taken when the request still
//     wants more from its location (each call is all or nothing at its
//     location), so the same tracking number on other or more lines is
//     another shipment.
//   - With an idempotency key (connector.WithIdempotencyKey), in the same
//     process: the client remembers each location's call under a key
//     derived from the caller's key and the location, and a fulfillment
//     made at that location since, with exactly the lines sent, is a part.
//   - Without either, when the request's lines are no longer open: as with
//     tracking, but any fulfillment (with or without tracking) whose lines
//     are within the request may be a part, largest and newest first;
//     the request is a repeat when the parts account for all of it, or for
//     all it wants from their locations with the rest still open
//     elsewhere.
//
// So a retry after some of the per-location calls succeeded (an answer
// lost, a crash between calls) fulfils only the missing locations, and a
// repeat of a request fully done writes nothing and returns the same Ref.
// After an ambiguous failure or a user error of a call, the order is read
// again and a fulfillment made at the location since with the lines sent
// counts as that call's result.
//
// Not covered: a repeat without tracking, after a restart, of a shipment
// whose lines are still partly open looks like a new shipment and is
// fulfilled again; and without tracking an earlier, different shipment
// that holds exactly the request's lines at one location is taken for part
// of it. Lines that cannot be fulfilled and that no earlier fulfillment
// accounts for fail with KindConflict and nothing is written. The
// recognition relies on Fulfillment.location being the location of the
// fulfillment orders it fulfilled (its 2026-10 description: "the location
// that the fulfillment was processed at").
func (c *Client) Fulfill(ctx context.Context, f commerce.Fulfillment, opts ...connector.CallOption) (commerce.Ref, error) {
	const op = "Fulfill"
	co := connector.ApplyCallOptions(opts)
	if err := f.Validate(); err != nil {
		return commerce.Ref{}, &connector.Error{System: systemName, Op: op, Kind: connector.KindValidation, Message: "invalid fulfillment; nothing written", Err: err}
	}
	orderID := ""
	if f.OrderRef.System == systemName && isGIDOf(f.OrderRef.ID, "Order") {
		orderID = f.OrderRef.ID
	} else {
		head, err := c.findOrder(ctx, op, f.OrderNumber)
		if err != nil {
			return commerce.Ref{}, err
		}
		orderID = head.ID
	}
	fo, err := c.fulfillmentOrders(ctx, orderID)
	if err != nil {
		return commerce.Ref{}, err
	}
	p := newFulfilPlan(fo)
	want := wantsOf(f)

	// The order's fulfillments are read at most once, and only when needed.
	var current []wireFulfillment
	read := false
	load := func() error {
		if read {
			return nil
		}
		fs, err := c.orderFulfillments(ctx, orderID)
		if err != nil {
			return err
		}
		current, read = fs, true
		return nil
	}

	var remembered []candidate
	if co.IdempotencyKey != "" {
		locs := slices.Collect(maps.Keys(p.rank))
		slices.SortFunc(locs, func(a, b string) int { return cmp.Compare(p.rank[a], p.rank[b]) })
		for _, loc := range locs {
			a, ok := c.fulfilKeys.load(fulfilKey(co.IdempotencyKey, loc))
			if !ok || a.order != orderID {
				continue
			}
			if err := load(); err != nil {
				return commerce.Ref{}, err
			}
			if x, ok := p.madeBy(current, a, loc, f.Tracking); ok {
				remembered = append(remembered, candidate{x: x, remembered: true})
			}
		}
	}
	cands := remembered
	if len(f.Tracking) > 0 {
		if err := load(); err != nil {
			return commerce.Ref{}, err
		}
		cands = append(cands, likelyParts(current, f.Tracking)...)
	}
	parts, calls, err := p.plan(cands, want)
	if err != nil && len(f.Tracking) == 0 {
		// The lines are not open (any more): an earlier call may have
		// fulfilled them and never heard back.
		if rerr := load(); rerr != nil {
			return commerce.Ref{}, rerr // not known yet whether it is a repeat
		}
		if p2, c2, err2 := p.plan(append(remembered, likelyParts(current, nil)...), want); err2 == nil {
			parts, calls, err = p2, c2, nil
		}
	}
	if err != nil {
		return commerce.Ref{}, err
	}
	type result struct {
		id, loc string
		first   int
	}
	var results []result
	for _, pt := range parts {
		results = append(results, result{pt.id, pt.loc, pt.first})
	}
	firstRef := func() commerce.Ref {
		r := slices.MinFunc(results, func(a, b result) int { return p.order(a.first, a.loc, b.first, b.loc) })
		return c.ref(r.id)
	}
	if len(calls) == 0 {
		return firstRef(), nil
	}
	if co.DryRun {
		return commerce.Ref{}, nil
	}
	before := map[string]bool{}
	for _, x := range fo.Order.Fulfillments {
		before[x.ID] = true
	}
	for _, x := range current {
		before[x.ID] = true
	}
	for i, call := range calls {
		input := map[string]any{"lineItemsByFulfillmentOrder": call.groups, "notifyCustomer": f.NotifyCustomer}
		if len(f.Tracking) > 0 {
			input["trackingInfo"] = trackingInput(f.Tracking)
		}
		a := fulfilAttempt{order: orderID, before: maps.Clone(before), sent: call.sent}
		if co.IdempotencyKey != "" {
			c.fulfilKeys.store(fulfilKey(co.IdempotencyKey, call.loc), a)
		}
		id, err := c.createFulfillment(ctx, p, orderID, input, a, call.loc, f.Tracking)
		if err != nil {
			if len(results) > 0 {
				return commerce.Ref{}, partlyFulfilled(err, len(results), len(calls)-i)
			}
			return commerce.Ref{}, err
		}
		before[id] = true
		results = append(results, result{id, call.loc, call.first})
	}
	return firstRef(), nil
}

// madeBy finds the fulfillment the remembered call a made at loc: made
// since, at that location, with exactly the lines it sent.
func (p fulfilPlan) madeBy(fs []wireFulfillment, a fulfilAttempt, loc string, tracking []commerce.Tracking) (wireFulfillment, bool) {
	for _, x := range fs {
		if a.before[x.ID] || !x.live() || !x.holds(a.sent) || !x.hasTracking(tracking) {
			continue
		}
		if at := p.locationOf(x); at != loc && at != "?" {
			continue
		}
		return x, true
	}
	return wireFulfillment{}, false
}

// likelyParts are the fulfillments that may be parts of a shipment with
// the tracking numbers: live, carrying them all; largest first, then
// newest (a retry looks for what it has just made).
func likelyParts(fs []wireFulfillment, tracking []commerce.Tracking) []candidate {
	type ranked struct {
		x   wireFulfillment
		pos int
	}
	var rs []ranked
	for i, x := range fs {
		if x.live() && x.hasTracking(tracking) {
			rs = append(rs, ranked{x, i})
		}
	}
	slices.SortFunc(rs, func(a, b ranked) int {
		return cmp.Or(cmp.Compare(b.x.quantity(), a.x.quantity()), b.x.CreatedAt.Compare(a.x.CreatedAt), cmp.Compare(b.pos, a.pos))
	})
	out := make([]candidate, len(rs))
	for i, r := range rs {
		out[i] = candidate{x: r.x}
	}
	return out
}

// createFulfillment sends one location's fulfillmentCreate. After an
// ambiguous failure or a user error (typically: the lines were fulfilled
// meanwhile, perhaps by a concurrent repeat of this call) it reads the
// order again, and a fulfillment the call may have made is its result.
func (c *Client) createFulfillment(ctx context.Context, p fulfilPlan, orderID string, input map[string]any, a fulfilAttempt, loc string, tracking []commerce.Tracking) (string, error) {
	afterFailure := func(failure error) (string, error) {
		if fs, err := c.orderFulfillments(ctx, orderID); err == nil {
			if x, ok := p.madeBy(fs, a, loc, tracking); ok {
				return x.ID, nil
			}
		}
		return "", failure
	}
	var out struct {
		FulfillmentCreate struct {
			Fulfillment *struct {
				ID string `json:"id"`
			} `json:"fulfillment"`
			UserErrors []userError `json:"userErrors"`
		} `json:"fulfillmentCreate"`
	}
	if _, err := c.Execute(ctx, docFulfillmentCreate, map[string]any{"fulfillment": input}, &out); err != nil {
		var ce *connector.Error
		if errors.As(err, &ce) && ce.MaybeApplied {
			return afterFailure(err)
		}
		return "", err
	}
	if err := c.userErrorsErr("FulfillmentCreate", out.FulfillmentCreate.UserErrors); err != nil {
		return afterFailure(err)
	}
	if out.FulfillmentCreate.Fulfillment == nil {
		return "", &connector.Error{System: systemName, Op: "Fulfill", Kind: connector.KindPermanent, Message: "no fulfillment in the answer"}
	}
	return out.FulfillmentCreate.Fulfillment.ID, nil
}

// partlyFulfilled wraps the failure of a location's call after others
// were fulfilled, keeping its classification.
func partlyFulfilled(err error, done, left int) error {
	out := &connector.Error{System: systemName, Op: "Fulfill", Kind: connector.KindOf(err), Err: err,
		Message: fmt.Sprintf("%d location(s) fulfilled, %d not; repeating the request fulfils the rest", done, left)}
	var ce *connector.Error
	if errors.As(err, &ce) {
		out.MaybeApplied, out.RetryAfter = ce.MaybeApplied, ce.RetryAfter
	}
	return out
}

func trackingInput(ts []commerce.Tracking) map[string]any {
	in := map[string]any{}
	if ts[0].Company != "" {
		in["company"] = ts[0].Company
	}
	if len(ts) == 1 {
		in["number"] = ts[0].Number
		if ts[0].URL != "" {
			in["url"] = ts[0].URL
		}
		return in
	}
	numbers := make([]string, len(ts))
	var urls []string
	for i, t := range ts {
		numbers[i] = t.Number
		if t.URL != "" {
			urls = append(urls, t.URL)
		}
	}
	in["numbers"] = numbers
	if len(urls) > 0 {
		in["urls"] = urls
	}
	return in
}
