package shopify_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/connector"
	"github.com/knyt/knyt/connector/fault"
	"github.com/knyt/knyt/shopify"
	"github.com/knyt/knyt/shopify/shopifytest"
)

// operation matches requests of one GraphQL operation, leaving the body
// for the fake.
func operation(name string) func(*http.Request) bool {
	return func(r *http.Request) bool {
		b, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(b))
		return bytes.Contains(b, []byte(`"operationName":"`+name+`"`)) || bytes.Contains(b, []byte("query "+name)) || bytes.Contains(b, []byte("mutation "+name))
	}
}

// loseFulfillment makes the next fulfillmentCreate apply without an answer,
// and the reads that would find its result fail, so that Fulfill cannot
// tell whether it worked.
func loseFulfillment(srv *shopifytest.Server) {
	var lost atomic.Bool
	create, read := operation("FulfillmentCreate"), operation("OrderFulfillments")
	srv.Faults().Inject(fault.Fault{Kind: fault.LostAnswer, Match: func(r *http.Request) bool {
		if create(r) {
			lost.Store(true)
			return true
		}
		return false
	}})
	srv.Faults().InjectN(fault.Fault{Kind: fault.Status, Status: 503, Match: func(r *http.Request) bool { return lost.Load() && read(r) }}, 3)
}

func TestFulfillIsIdempotentAfterALostAnswer(t *testing.T) {
	ctx := context.Background()
	all := []commerce.FulfillmentLine{{SKU: "SOCK-1-S", Quantity: 2}, {SKU: "SOCK-1-M", Quantity: 1}}
	one := []commerce.FulfillmentLine{{SKU: "SOCK-1-S", Quantity: 1}}
	tracking := []commerce.Tracking{{Number: "PN1", Company: "PostNord"}}
	tests := []struct {
		name     string
		lines    []commerce.FulfillmentLine
		tracking []commerce.Tracking
		restart  bool // the repeat comes from a new client (the engine restarted)
	}{
		{"whole order", all, nil, false},
		{"whole order after a restart", all, nil, true},
		{"whole order with tracking after a restart", all, tracking, true},
		{"part of the order", one, nil, false},
		{"part of the order with tracking after a restart", one, tracking, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, c := newFake(t, nil)
			o := seedOrder(t, srv, "#1001", shopifytest.Order{})
			f := commerce.Fulfillment{OrderNumber: "#1001", Lines: tt.lines, Tracking: tt.tracking}
			key := connector.WithIdempotencyKey(connector.IdempotencyKey("test", "fulfill", "1001"))
			loseFulfillment(srv)
			// The call may find its fulfillment itself (the tracking number
			// is read before the faulty reads); if not, it must say to retry.
			if _, err := c.Fulfill(ctx, f, key); err != nil && !connector.IsRetryable(err) {
				t.Errorf("first call: %v, want success or a retryable error", err)
			}
			if srv.Faults().Injected(fault.LostAnswer) != 1 {
				t.Errorf("fulfillmentCreate's answer was not lost")
			}
			srv.Faults().Reset()
			if tt.restart {
				_, c = newClientFor(t, srv)
			}
			ref, err := c.Fulfill(ctx, f, key)
			if err != nil {
				t.Fatalf("repeat: %v", err)
			}
			fs := srv.Fulfillments(o.ID)
			if len(fs) != 1 || ref.ID != fs[0].ID {
				t.Fatalf("repeat returned %v; the fake holds %+v", ref, fs)
			}
			// A third call with the key is still the same fulfillment.
			if again, err := c.Fulfill(ctx, f, key); err != nil || again != ref {
				t.Errorf("third call: %v %v", again, err)
			}
			if n := len(srv.Fulfillments(o.ID)); n != 1 {
				t.Errorf("%d fulfillments, want 1", n)
			}
		})
	}
}

func TestFulfillRecoversALostAnswerInTheCall(t *testing.T) {
	ctx := context.Background()
	srv, c := newFake(t, nil)
	o := seedOrder(t, srv, "#1001", shopifytest.Order{})
	f := commerce.Fulfillment{OrderNumber: "#1001", Lines: []commerce.FulfillmentLine{{SKU: "SOCK-1-S", Quantity: 1}}}
	srv.Faults().Inject(fault.Fault{Kind: fault.LostAnswer, Match: operation("FulfillmentCreate")})
	ref, err := c.Fulfill(ctx, f)
	if err != nil || srv.Faults().Injected(fault.LostAnswer) != 1 {
		t.Fatal(err)
	}
	if fs := srv.Fulfillments(o.ID); len(fs) != 1 || fs[0].ID != ref.ID {
		t.Fatalf("returned %v; the fake holds %+v", ref, fs)
	}
}

func TestFulfillTellsShipmentsApart(t *testing.T) {
	ctx := context.Background()
	srv, c := newFake(t, nil)
	o := seedOrder(t, srv, "#1001", shopifytest.Order{})
	one := []commerce.FulfillmentLine{{SKU: "SOCK-1-S", Quantity: 1}}
	key := func(n string) connector.CallOption {
		return connector.WithIdempotencyKey(connector.IdempotencyKey("test", "fulfill", n))
	}
	// Two parcels of one sock each, without tracking, under their own keys.
	first, err := c.Fulfill(ctx, commerce.Fulfillment{OrderNumber: "#1001", Lines: one}, key("1"))
	if err != nil {
		t.Fatal(err)
	}
	second, err := c.Fulfill(ctx, commerce.Fulfillment{OrderNumber: "#1001", Lines: one}, key("2"))
	if err != nil || second == first {
		t.Fatalf("second parcel: %v %v (first %v)", second, err, first)
	}
	// The same tracking number on different lines is another shipment.
	pn := []commerce.Tracking{{Number: "PN1"}}
	third, err := c.Fulfill(ctx, commerce.Fulfillment{OrderNumber: "#1001", Lines: []commerce.FulfillmentLine{{SKU: "SOCK-1-M", Quantity: 1}}, Tracking: pn}, key("3"))
	if err != nil || third == first || third == second {
		t.Fatalf("third: %v %v", third, err)
	}
	if fs := srv.Fulfillments(o.ID); len(fs) != 3 {
		t.Errorf("%d fulfillments, want 3", len(fs))
	}
	// Nothing open is left: a different request is a conflict, not a repeat.
	if _, err := c.Fulfill(ctx, commerce.Fulfillment{OrderNumber: "#1001", Lines: []commerce.FulfillmentLine{{SKU: "SOCK-1-S", Quantity: 2}}}, key("4")); !errors.Is(err, connector.ErrConflict) {
		t.Errorf("over-fulfil: %v", err)
	}
	// A repeat of the tracked shipment with the tracking number missing is
	// not taken for it either.
	if _, err := c.Fulfill(ctx, commerce.Fulfillment{OrderNumber: "#1001", Lines: []commerce.FulfillmentLine{{SKU: "SOCK-1-M", Quantity: 1}}, Tracking: []commerce.Tracking{{Number: "PN2"}}}); !errors.Is(err, connector.ErrConflict) {
		t.Errorf("other tracking: %v", err)
	}
}

// newClientFor is a second client of the same fake, sharing nothing with
// the first.
func newClientFor(t *testing.T, srv *shopifytest.Server) (*shopifytest.Server, *shopify.Client) {
	t.Helper()
	c, err := shopify.New(srv.Shop(), shopify.StaticToken(srv.AccessToken()), shopify.WithBaseURL(srv.URL()), shopify.WithHTTPClient(srv.Client()),
		shopify.WithRetry(3, time.Millisecond, 5*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	return srv, c
}
