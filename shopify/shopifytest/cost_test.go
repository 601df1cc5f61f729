package shopifytest

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestRequestedCost(t *testing.T) {
	s := NewServer(WithClock(fixedClock()))
	defer s.Close()
	sd := seedShop(t, s)
	tests := []struct {
		name  string
		query string
		vars  map[string]any
		want  int
	}{
		{"object with scalars", `{ shop { name currencyCode } }`, nil, 1},
		{"scalars only cost nothing", `{ publicApiVersions { handle } }`, nil, 1},
		// The reference's observed 252: products(first: 250) of scalars.
		{"connection of 250 nodes", `{ products(first: 250) { edges { node { id title } } } }`, nil, 252},
		{"edges, nodes and pageInfo together", `{ products(first: 250) { edges { cursor node { id } } nodes { title } pageInfo { hasNextPage } } }`, nil, 252},
		{"nested connections multiply", `{ products(first: 10) { edges { node { title variants(first: 5) { edges { node { price } } } } } } }`, nil, 82},
		{"objects inside nodes", `{ orders(first: 25) { nodes { id totalPriceSet { shopMoney { amount } } } } }`, nil, 2 + 25*3},
		{"first from a variable", `query($n: Int!) { products(first: $n) { nodes { id } } }`, map[string]any{"n": 50}, 52},
		{"last counts like first", `{ products(last: 7) { nodes { id } } }`, nil, 9},
		{"interface takes the costliest type", `query($id: ID!) { node(id: $id) { id ... on Product { variants(first: 3) { nodes { id } } } ... on Order { customer { id } } } }`, map[string]any{"id": sd.sock.ID}, 1 + 2 + 3},
		{"nodes by ids", `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, map[string]any{"ids": []any{sd.sock.ID, sd.shirt.ID, sd.order.ID}}, 3},
		{"aliases add up", `{ a: shop { name } b: shop { name } }`, nil, 2},
		{"skipped fields cost nothing", `query($s: Boolean!) { shop { name } products(first: 100) @skip(if: $s) { nodes { id } } }`, map[string]any{"s": true}, 1},
		{"a mutation costs 10", `mutation($id: ID!) { orderMarkAsPaid(input: {id: $id}) { order { id displayFinancialStatus } userErrors { message } } }`, map[string]any{"id": sd.order.ID}, 10},
		{"productSet is dynamic", `mutation { productSet(input: {title: "X", productOptions: [{name: "Size", values: [{name: "S"}, {name: "M"}, {name: "L"}]}], variants: [{optionValues: [{optionName: "Size", name: "S"}]}, {optionValues: [{optionName: "Size", name: "M"}]}, {optionValues: [{optionName: "Size", name: "L"}]}], metafields: [{namespace: "erp", key: "id", type: "single_line_text_field", value: "1"}]}) { product { id } userErrors { message } } }`, nil, 11}, // 10 + 3×0.2 + 0.4 = 11.0
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, s, tc.query, tc.vars)
			if r.Extensions.Cost == nil {
				t.Fatalf("no cost extension: %s", r.Raw)
			}
			if got := r.Extensions.Cost.RequestedQueryCost; got != tc.want {
				t.Errorf("requestedQueryCost = %d, want %d", got, tc.want)
			}
			if a := r.Extensions.Cost.ActualQueryCost; a == nil || *a > tc.want {
				t.Errorf("actualQueryCost %v for requested %d", a, tc.want)
			}
		})
	}
}

func TestActualCost(t *testing.T) {
	s := NewServer(WithClock(fixedClock()))
	defer s.Close()
	seedShop(t, s)
	// Two products exist: 2 for the connection plus 2 nodes, although 250
	// were requested.
	r := do(t, s, `{ products(first: 250) { nodes { id } } }`, nil)
	if c := r.Extensions.Cost; c.RequestedQueryCost != 252 || *c.ActualQueryCost != 4 {
		t.Fatalf("cost %+v, want requested 252 actual 4", *c.ActualQueryCost)
	}
	// The bucket was charged the requested cost and refunded to the actual.
	if got := r.Extensions.Cost.ThrottleStatus.CurrentlyAvailable; got != 2000-4 {
		t.Errorf("currentlyAvailable = %v, want %d", got, 2000-4)
	}
	// A null object costs its field, not its selection.
	r = do(t, s, `{ product(id: "gid://shopify/Product/1") { id variants(first: 10) { nodes { id } } } }`, nil)
	if c := r.Extensions.Cost; c.RequestedQueryCost != 1+2+10 || *c.ActualQueryCost != 1 {
		t.Errorf("null product cost %d/%d", c.RequestedQueryCost, *c.ActualQueryCost)
	}
	if got := s.Stats().ActualCost; got != 4+1 {
		t.Errorf("Stats.ActualCost = %v, want 5", got)
	}
}

func TestCostExtensionShape(t *testing.T) {
	s := NewServer()
	defer s.Close()
	r := do(t, s, `{ shop { name } }`, nil)
	raw := string(r.Raw)
	// Shopify prints the bucket size and rate as floats and the available
	// points as an integer.
	for _, want := range []string{`"maximumAvailable":2000.0`, `"restoreRate":100.0`, `"currentlyAvailable":1999`, `"requestedQueryCost":1`, `"actualQueryCost":1`} {
		if !strings.Contains(raw, want) {
			t.Errorf("%s lacks %s", raw, want)
		}
	}
}

func TestMaxCostExceeded(t *testing.T) {
	s := NewServer()
	defer s.Close()
	r := do(t, s, `{ products(first: 250) { nodes { id variants(first: 250) { nodes { id } } } } }`, nil)
	want := 2 + 250*(1+2+250)
	if r.Status != 200 || r.code() != "MAX_COST_EXCEEDED" || r.Data != nil {
		t.Fatalf("got %d %s", r.Status, r.Raw)
	}
	e := r.Errors[0]
	if !strings.HasPrefix(e.Message, "Query cost is "+strconv.Itoa(want)+", which exceeds the single query max cost limit (1000).") {
		t.Errorf("message %q", e.Message)
	}
	if e.Extensions["cost"] != float64(want) || e.Extensions["maxCost"] != float64(1000) {
		t.Errorf("extensions %v", e.Extensions)
	}
	if c := r.Extensions.Cost; c == nil || c.ActualQueryCost != nil || c.RequestedQueryCost != want {
		t.Errorf("cost extension %s", r.Raw)
	}
	if _, avail, _ := s.ThrottleStatus(); avail != 2000 {
		t.Errorf("refused query charged the bucket: %d", avail)
	}
}

func TestThrottleBurst(t *testing.T) {
	s := NewServer(WithProfile(Standard), WithClock(fixedClock()))
	defer s.Close()
	// Each query must find 252 points available but keeps only its actual
	// cost (2: an empty connection), so 20 of them never throttle.
	for range 20 {
		if r := do(t, s, `{ products(first: 250) { nodes { id } } }`, nil); r.code() != "" {
			t.Fatalf("query throttled: %s", r.Raw)
		}
	}
	if _, avail, _ := s.ThrottleStatus(); avail != 2000-20*2 {
		t.Fatalf("bucket %d after 20 queries, want %d", avail, 2000-20*2)
	}
	// Mutations keep their full cost of 10: 196 fit in the 1960 points
	// left on a frozen clock, the 197th is THROTTLED.
	mut := `mutation { webhookSubscriptionDelete(id: "gid://shopify/WebhookSubscription/1") { userErrors { message } } }`
	n := 0
	var throttled *response
	for throttled == nil && n <= 1000 {
		if r := do(t, s, mut, nil); r.code() == "THROTTLED" {
			throttled = r
		} else {
			n++
		}
	}
	if n != 196 {
		t.Errorf("%d mutations fitted in the bucket, want 196", n)
	}
	if throttled.Status != http.StatusOK {
		t.Errorf("THROTTLED status %d, want 200", throttled.Status)
	}
	e := throttled.Errors[0]
	if e.Message != "Throttled" || e.Extensions["documentation"] != "https://shopify.dev/api/usage/rate-limits" {
		t.Errorf("THROTTLED error %+v", e)
	}
	c := throttled.Extensions.Cost
	if c == nil || c.RequestedQueryCost != 10 || c.ThrottleStatus.CurrentlyAvailable != 0 || c.ThrottleStatus.MaximumAvailable != 2000 || c.ThrottleStatus.RestoreRate != 100 {
		t.Errorf("THROTTLED cost %s", throttled.Raw)
	}
	if !strings.Contains(string(throttled.Raw), `"actualQueryCost":null`) || throttled.Data != nil {
		t.Errorf("THROTTLED answer executed something: %s", throttled.Raw)
	}
	if got := s.Stats().Throttled; got != 1 {
		t.Errorf("Stats.Throttled = %d", got)
	}
	// The bucket restores 100 points a second: 100 ms buys one mutation.
	s.Advance(100 * time.Millisecond)
	if r := do(t, s, mut, nil); r.code() != "" {
		t.Errorf("still throttled after the bucket refilled: %s", r.Raw)
	}
	if r := do(t, s, mut, nil); r.code() != "THROTTLED" {
		t.Errorf("second mutation after 100 ms not throttled: %s", r.Raw)
	}
}

func TestThrottleTimeScale(t *testing.T) {
	s := NewServer(WithProfile(Tiny), WithTimeScale(1000))
	defer s.Close()
	_, _, rate := s.ThrottleStatus()
	if rate != 2000 {
		t.Fatalf("scaled restore rate %v, want 2000", rate)
	}
	// The 40-point bucket takes 4 mutations; with 2000 points/s it refills
	// within milliseconds, so a paced client gets through.
	for i := range 10 {
		r := do(t, s, `mutation { webhookSubscriptionDelete(id: "gid://shopify/WebhookSubscription/1") { userErrors { message } } }`, nil)
		if r.code() == "THROTTLED" {
			c := r.Extensions.Cost
			wait := time.Duration(float64(c.RequestedQueryCost-int(c.ThrottleStatus.CurrentlyAvailable)) / c.ThrottleStatus.RestoreRate * float64(time.Second))
			time.Sleep(wait + time.Millisecond)
			if r := do(t, s, `{ shop { name } }`, nil); r.code() != "" {
				t.Fatalf("request %d: still throttled after waiting %v: %s", i, wait, r.Raw)
			}
		}
	}
}

func TestThrottle429(t *testing.T) {
	s := NewServer(WithProfile(Tiny), WithClock(fixedClock()), WithThrottleHTTPStatus(http.StatusTooManyRequests))
	defer s.Close()
	var r *response
	for range 10 {
		r = do(t, s, `mutation { webhookSubscriptionDelete(id: "gid://shopify/WebhookSubscription/1") { userErrors { message } } }`, nil)
		if r.code() == "THROTTLED" {
			break
		}
	}
	if r.Status != http.StatusTooManyRequests || r.code() != "THROTTLED" {
		t.Fatalf("got %d %s", r.Status, r.Raw)
	}
	// 10 needed, 0 left, 2 per second: 5 seconds.
	if got := r.Header.Get("Retry-After"); got != "5.0" {
		t.Errorf("Retry-After %q, want 5.0", got)
	}
}

func TestCostIsPerShop(t *testing.T) {
	a := NewServer(WithProfile(Tiny), WithClock(fixedClock()))
	defer a.Close()
	b := NewServer(WithProfile(Tiny), WithClock(fixedClock()))
	defer b.Close()
	for range 4 {
		do(t, a, `mutation { webhookSubscriptionDelete(id: "gid://shopify/WebhookSubscription/1") { userErrors { message } } }`, nil)
	}
	if r := do(t, b, `{ shop { name } }`, nil); r.code() != "" {
		t.Errorf("shop b throttled by shop a's traffic: %s", r.Raw)
	}
	_, availA, _ := a.ThrottleStatus()
	_, availB, _ := b.ThrottleStatus()
	if availA != 0 || availB != 39 {
		t.Errorf("buckets a=%d b=%d, want 0 and 39", availA, availB)
	}
}
