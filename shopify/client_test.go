package shopify

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/knyt/knyt/connector"
)

const throttledBody = `{"errors":[{"message":"Throttled","extensions":{"code":"THROTTLED","documentation":"https://shopify.dev/api/usage/rate-limits"}}],"extensions":{"cost":{"requestedQueryCost":50,"actualQueryCost":null,"throttleStatus":{"maximumAvailable":2000.0,"currentlyAvailable":40,"restoreRate":1000.0}}}}`

const shopData = `{"shop":{"name":"Knyt Test","myshopifyDomain":"knyt-test.myshopify.com","currencyCode":"SEK","taxesIncluded":true,"ianaTimezone":"Europe/Stockholm"}}`

func TestExecuteRetriesThrottled(t *testing.T) {
	c, ms, _ := newMockClient(t)
	n := 0
	ms.handle("Shop", func(gqlCall) gqlReply {
		n++
		if n == 1 {
			return gqlReply{Status: 200, Body: throttledBody}
		}
		return okReply(shopData)
	})
	s, err := c.settings(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if s.Currency.Code() != "SEK" || !s.TaxesIncluded {
		t.Errorf("settings = %+v", s)
	}
	if got := len(ms.callsOf("Shop")); got != 2 {
		t.Errorf("calls = %d, want 2 (throttled, then retried)", got)
	}
	if st := c.CostBucket().Stats(); st.Throttled != 1 {
		t.Errorf("throttled = %d, want 1", st.Throttled)
	}
}

func TestExecuteHTTP429(t *testing.T) {
	c, ms, _ := newMockClient(t, WithThrottleRetries(2))
	n := 0
	ms.handle("Shop", func(gqlCall) gqlReply {
		n++
		if n == 1 {
			return gqlReply{Status: 429, Body: `{"errors":[{"message":"Throttled","extensions":{"code":"THROTTLED"}}]}`, Header: http.Header{"Retry-After": {"0.01"}}}
		}
		return okReply(shopData)
	})
	if _, err := c.settings(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("calls = %d, want 2", n)
	}

	// A shop that keeps throttling: the client gives up with a typed error.
	c2, ms2, _ := newMockClient(t, WithThrottleRetries(2))
	calls := 0
	ms2.handle("Shop", func(gqlCall) gqlReply {
		calls++
		return gqlReply{Status: 429, Body: `{"errors":"Exceeded 2 calls per second for api client."}`, Header: http.Header{"Retry-After": {"0.001"}}}
	})
	_, err := c2.settings(context.Background())
	if !errors.Is(err, connector.ErrRateLimited) {
		t.Fatalf("err = %v, want rate limited", err)
	}
	if calls != 3 {
		t.Errorf("calls = %d, want 3 (1 + 2 retries)", calls)
	}
}

func TestExecuteErrorKinds(t *testing.T) {
	tests := []struct {
		name      string
		reply     gqlReply
		kind      connector.Kind
		code      string
		wantCalls int
	}{
		{"malformed json", gqlReply{Status: 200, Body: `{"data": {"shop": `}, connector.KindTemporary, "", 1},
		{"not json at all", gqlReply{Status: 200, Body: `<html>oops</html>`}, connector.KindTemporary, "", 1},
		{"schema validation", gqlReply{Status: 200, Body: `{"errors":[{"message":"Field 'nme' doesn't exist on type 'Shop'","locations":[{"line":1,"column":10}],"path":["query Shop","shop","nme"],"extensions":{"code":"undefinedField","typeName":"Shop","fieldName":"nme"}}]}`}, connector.KindValidation, "undefinedField", 1},
		{"access denied", gqlReply{Status: 200, Body: `{"errors":[{"message":"Access denied for shop field.","extensions":{"code":"ACCESS_DENIED"}}]}`}, connector.KindAuth, "ACCESS_DENIED", 1},
		{"max cost", gqlReply{Status: 200, Body: `{"errors":[{"message":"Query cost is 1202, which exceeds the single query max cost limit (1000).","extensions":{"code":"MAX_COST_EXCEEDED","cost":1202,"maxCost":1000}}]}`}, connector.KindValidation, "MAX_COST_EXCEEDED", 1},
		{"internal error in 200", gqlReply{Status: 200, Body: `{"errors":[{"message":"Internal error","extensions":{"code":"INTERNAL_SERVER_ERROR"}}]}`}, connector.KindTemporary, "INTERNAL_SERVER_ERROR", 1},
		{"errors of a strange type", gqlReply{Status: 200, Body: `{"errors": 42}`}, connector.KindTemporary, "", 1},
		{"no data", gqlReply{Status: 200, Body: `{"data": null}`}, connector.KindTemporary, "", 1},
		{"data of the wrong shape", gqlReply{Status: 200, Body: `{"data": {"shop": [1,2]}}`}, connector.KindPermanent, "", 1},
		{"bad token", gqlReply{Status: 401, Body: `{"errors":"[API] Invalid API key or access token (unrecognized login or wrong password)"}`}, connector.KindAuth, "", 1},
		{"frozen shop", gqlReply{Status: 402, Body: `{"errors":"Unavailable Shop"}`}, connector.KindAuth, "PAYMENT_REQUIRED", 1},
		{"scope missing", gqlReply{Status: 403, Body: `{"errors":"This action requires merchant approval for read_orders scope."}`}, connector.KindAuth, "", 1},
		{"not found", gqlReply{Status: 404, Body: `{"errors":"Not Found"}`}, connector.KindNotFound, "", 1},
		{"locked shop", gqlReply{Status: 423, Body: `{"errors":"This shop is unavailable"}`}, connector.KindAuth, "", 1},
		{"server error, query retried", gqlReply{Status: 503, Body: `<html>unavailable</html>`}, connector.KindTemporary, "", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, ms, _ := newMockClient(t)
			ms.handle("Shop", func(gqlCall) gqlReply { return tt.reply })
			_, err := c.settings(context.Background())
			var ce *connector.Error
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v, want *connector.Error", err)
			}
			if ce.Kind != tt.kind || ce.Code != tt.code || ce.System != "shopify" || ce.Op != "Shop" {
				t.Errorf("err = %+v, want kind %v code %q", ce, tt.kind, tt.code)
			}
			if ce.MaybeApplied {
				t.Errorf("a query is never MaybeApplied")
			}
			if got := len(ms.callsOf("Shop")); got != tt.wantCalls {
				t.Errorf("calls = %d, want %d", got, tt.wantCalls)
			}
		})
	}
}

func TestMutationRetrySafety(t *testing.T) {
	ctx := context.Background()
	// orderMarkAsPaid is not @idempotent: a 502 may have applied it, so it
	// is not repeated and the error says so.
	c, ms, _ := newMockClient(t)
	ms.handle("OrderMarkAsPaid", func(gqlCall) gqlReply { return gqlReply{Status: 502, Body: "bad gateway"} })
	_, err := c.Execute(ctx, docOrderMarkAsPaid, map[string]any{"input": map[string]any{"id": "gid://shopify/Order/1"}}, nil)
	var ce *connector.Error
	if !errors.As(err, &ce) || ce.Kind != connector.KindTemporary || !ce.MaybeApplied {
		t.Fatalf("err = %v, want temporary and MaybeApplied", err)
	}
	if n := len(ms.callsOf("OrderMarkAsPaid")); n != 1 {
		t.Errorf("calls = %d, want 1", n)
	}
	// inventorySetQuantities carries @idempotent: repeating it is safe.
	ms.handle("InventorySetQuantities", func(call gqlCall) gqlReply {
		if len(ms.callsOf("InventorySetQuantities")) < 2 {
			return gqlReply{Status: 503, Body: "unavailable"}
		}
		return okReply(`{"inventorySetQuantities":{"inventoryAdjustmentGroup":{"id":"gid://shopify/InventoryAdjustmentGroup/1","reason":"correction"},"userErrors":[]}}`)
	})
	vars := map[string]any{"input": map[string]any{"name": "available", "reason": "correction", "quantities": []any{}}, "idempotencyKey": "k"}
	if _, err := c.Execute(ctx, docInventorySetQuantities, vars, nil); err != nil {
		t.Fatal(err)
	}
	if n := len(ms.callsOf("InventorySetQuantities")); n != 2 {
		t.Errorf("calls = %d, want 2", n)
	}
	// A THROTTLED answer was not executed: even a plain mutation is
	// repeated.
	n := 0
	ms.handle("OrderMarkAsPaid", func(gqlCall) gqlReply {
		n++
		if n == 1 {
			return gqlReply{Status: 200, Body: throttledBody}
		}
		return okReply(`{"orderMarkAsPaid":{"order":{"id":"gid://shopify/Order/1","displayFinancialStatus":"PAID","fullyPaid":true},"userErrors":[]}}`)
	})
	if _, err := c.Execute(ctx, docOrderMarkAsPaid, map[string]any{"input": map[string]any{"id": "gid://shopify/Order/1"}}, nil); err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("throttled mutation calls = %d, want 2", n)
	}
}

func TestExecuteRefusesOverBudget(t *testing.T) {
	c, ms, _ := newMockClient(t)
	doc, err := ParseDocument(`query Big { products(first: 250) { nodes { id variants(first: 250) { nodes { id } } } } }`)
	if err != nil {
		t.Fatal(err)
	}
	ms.reply("Big", `{}`)
	_, err = c.Execute(context.Background(), doc, nil, nil)
	var ce *connector.Error
	if !errors.As(err, &ce) || ce.Kind != connector.KindValidation || ce.Code != "MAX_COST_EXCEEDED" {
		t.Fatalf("err = %v, want MAX_COST_EXCEEDED validation error", err)
	}
	if n := len(ms.callsOf("Big")); n != 0 {
		t.Errorf("sent %d requests, want none", n)
	}
}

func TestSecretsNeverLeak(t *testing.T) {
	var logs logBuffer
	c, ms, _ := newMockClient(t, WithLogger(logs.logger()))
	// A hostile or buggy server echoes the token.
	ms.handle("Shop", func(call gqlCall) gqlReply {
		if got := call.Header.Get("X-Shopify-Access-Token"); got != testToken {
			t.Errorf("token header = %q", got)
		}
		return gqlReply{Status: 400, Body: `{"errors":"bad token ` + testToken + `"}`}
	})
	_, err := c.settings(context.Background())
	if err == nil {
		t.Fatal("want an error")
	}
	mustContainNone(t, "error", err.Error(), testToken)
	mustContainNone(t, "log", logs.String(), testToken)
	if logs.String() == "" {
		t.Error("nothing logged")
	}
}

func TestSharedBucketPacesConcurrentCallers(t *testing.T) {
	// The mock keeps a real leaky bucket: 200 points, 4000 points/s, each
	// call requested 20 and actually 20. Sixteen goroutines make 200 calls
	// in all; pacing on the mirrored bucket must keep Shopify from ever
	// throttling.
	c, ms, _ := newMockClient(t)
	var mu sync.Mutex
	level, last := 200.0, time.Now()
	throttled := 0
	ms.handle("Shop", func(gqlCall) gqlReply {
		mu.Lock()
		defer mu.Unlock()
		now := time.Now()
		level = min(200, level+now.Sub(last).Seconds()*4000)
		last = now
		if level < 20 {
			throttled++
			return gqlReply{Status: 200, Body: fmt.Sprintf(`{"errors":[{"message":"Throttled","extensions":{"code":"THROTTLED"}}],"extensions":{"cost":{"requestedQueryCost":20,"actualQueryCost":null,"throttleStatus":{"maximumAvailable":200.0,"currentlyAvailable":%d,"restoreRate":4000.0}}}}`, int(level))}
		}
		level -= 20
		return gqlReply{Status: 200, Body: fmt.Sprintf(`{"data":%s,"extensions":{"cost":{"requestedQueryCost":20,"actualQueryCost":20,"throttleStatus":{"maximumAvailable":200.0,"currentlyAvailable":%d,"restoreRate":4000.0}}}}`, shopData, int(level))}
	})
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for g := range 16 {
		wg.Go(func() {
			for i := g; i < 200; i += 16 {
				if _, err := c.Execute(context.Background(), docShop, nil, nil); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if throttled != 0 {
		t.Errorf("Shopify throttled %d of 200 calls; the shared bucket should have paced them", throttled)
	}
	if st := c.CostBucket().Stats(); st.Requests != 200 || st.ActualCost != 4000 {
		t.Errorf("stats = %+v", st)
	}
}

func TestCostBucketAdmit(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	b := NewCostBucket()
	b.now = func() time.Time { return t0 }
	// Nothing known: one request goes to learn the bucket, the next waits.
	if ok, _ := b.admitLocked(50, t0); !ok {
		t.Fatal("first request must go")
	}
	if ok, wait := b.admitLocked(50, t0); ok || wait != -1 {
		t.Fatalf("second request before any answer: ok=%v wait=%v", ok, wait)
	}
	actual := 40.0
	b.release(reservation{cost: 50}, &Cost{RequestedQueryCost: 50, ActualQueryCost: &actual, ThrottleStatus: ThrottleStatus{MaximumAvailable: 1000, CurrentlyAvailable: 30, RestoreRate: 50}}, false)
	tests := []struct {
		name string
		at   time.Duration
		cost float64
		ok   bool
		wait time.Duration
	}{
		{"fits", 0, 30, true, 0},
		{"needs refill", 0, 100, false, 2*time.Second + time.Microsecond}, // 30 available, 30 held
		{"refilled", 2 * time.Second, 100, true, 0},
		{"bigger than the bucket waits for a full bucket only", 2 * time.Second, 5000, false, 20*time.Second + time.Microsecond},
	}
	for _, tt := range tests {
		ok, wait := b.admitLocked(tt.cost, t0.Add(tt.at))
		if ok != tt.ok || wait != tt.wait {
			t.Errorf("%s: ok=%v wait=%v, want ok=%v wait=%v", tt.name, ok, wait, tt.ok, tt.wait)
		}
	}
	b.pause(3 * time.Second)
	if ok, wait := b.admitLocked(1, t0); ok || wait != 3*time.Second {
		t.Errorf("paused: ok=%v wait=%v", ok, wait)
	}
	st, known := b.Status()
	if !known || st.MaximumAvailable != 1000 || st.RestoreRate != 50 {
		t.Errorf("status = %+v, %v", st, known)
	}
}

func TestCostBucketIgnoresStaleReports(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	now := t0
	b := NewCostBucket()
	b.now = func() time.Time { return now }
	report := func(avail float64) {
		r, _ := b.acquire(context.Background(), func() float64 { return 10 })
		b.release(r, &Cost{RequestedQueryCost: 10, ThrottleStatus: ThrottleStatus{MaximumAvailable: 100, CurrentlyAvailable: avail, RestoreRate: 10}}, false)
	}
	report(50)
	report(90) // an older answer arriving late: ignored
	if st, _ := b.Status(); st.CurrentlyAvailable != 50 {
		t.Errorf("level = %v, want 50", st.CurrentlyAvailable)
	}
	report(30) // a newer, lower one is taken
	now = now.Add(2 * time.Second)
	if st, _ := b.Status(); st.CurrentlyAvailable != 50 {
		t.Errorf("level after 2 s refill = %v, want 50", st.CurrentlyAvailable)
	}
	// A different bucket (plan change) replaces the mirror outright.
	r, _ := b.acquire(context.Background(), func() float64 { return 10 })
	b.release(r, &Cost{ThrottleStatus: ThrottleStatus{MaximumAvailable: 1000, CurrentlyAvailable: 900, RestoreRate: 50}}, false)
	if st, _ := b.Status(); st.CurrentlyAvailable != 900 || st.MaximumAvailable != 1000 {
		t.Errorf("after a plan change: %+v", st)
	}
}
