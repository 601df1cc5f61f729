package shopify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/connector"
)

func TestMapOrderGolden(t *testing.T) {
	tests := []struct {
		file  string
		money MoneyKind
	}{
		{"taxes_included", ShopMoney},
		{"presentment_removed_units", ShopMoney},
		{"presentment_removed_units", PresentmentMoney},
	}
	for _, tt := range tests {
		name := fmt.Sprintf("%s_%d", tt.file, tt.money)
		t.Run(name, func(t *testing.T) {
			var mismatch error
			c, _, _ := newMockClient(t, WithOrderMoney(tt.money), WithTotalsMismatchHandler(func(_ context.Context, _ commerce.Order, err error) error {
				mismatch = err
				return nil
			}))
			raw := readTestdata(t, "orders/"+tt.file+".json")
			o, err := c.orderFromNode(context.Background(), raw)
			if err != nil {
				t.Fatal(err)
			}
			if mismatch != nil {
				t.Errorf("totals mismatch: %v", mismatch)
			}
			if !json.Valid(o.Raw) || o.Source.ID == "" {
				t.Errorf("origin not kept: %+v", o.Source)
			}
			o.Raw = nil
			golden(t, "orders/"+name+".golden.json", o)
		})
	}
}

// patchJSON applies fn to the decoded fixture and returns it encoded.
func patchJSON(t *testing.T, raw []byte, fn func(m map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	fn(m)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func at(m map[string]any, keys ...any) map[string]any {
	var cur any = m
	for _, k := range keys {
		switch k := k.(type) {
		case string:
			cur = cur.(map[string]any)[k]
		case int:
			cur = cur.([]any)[k]
		}
	}
	return cur.(map[string]any)
}

func TestMapOrderBadInput(t *testing.T) {
	raw := readTestdata(t, "orders/taxes_included.json")
	tests := []struct {
		name  string
		patch func(m map[string]any)
		is    error // a sentinel the error must match besides ErrValidation
	}{
		{"unknown financial status", func(m map[string]any) { m["displayFinancialStatus"] = "PAID_IN_GOLD" }, nil},
		{"unknown fulfillment status", func(m map[string]any) { m["displayFulfillmentStatus"] = "TELEPORTED" }, nil},
		{"unknown transaction kind", func(m map[string]any) { at(m, "transactions", 0)["kind"] = "BARTER" }, nil},
		{"tax with too many decimals", func(m map[string]any) {
			at(m, "lineItems", "nodes", 0, "taxLines", 0, "priceSet", "shopMoney")["amount"] = "71.645"
		}, commerce.ErrInexact},
		{"discount with too many decimals", func(m map[string]any) {
			at(m, "lineItems", "nodes", 0, "discountAllocations", 0, "allocatedAmountSet", "shopMoney")["amount"] = "39.801"
		}, commerce.ErrInexact},
		{"total with too many decimals", func(m map[string]any) {
			at(m, "currentTotalPriceSet", "shopMoney")["amount"] = "536.199"
		}, commerce.ErrInexact},
		{"amount not a number", func(m map[string]any) {
			at(m, "currentTotalTaxSet", "shopMoney")["amount"] = "1e3"
		}, commerce.ErrInvalid},
		{"unknown currency", func(m map[string]any) { m["currencyCode"] = "ZZZ" }, commerce.ErrUnknownCurrency},
		{"money in another currency", func(m map[string]any) {
			at(m, "currentTotalTaxSet", "shopMoney")["currencyCode"] = "NOK"
		}, commerce.ErrCurrencyMismatch},
		{"line without SKU", func(m map[string]any) { at(m, "lineItems", "nodes", 1)["sku"] = nil }, commerce.ErrInvalid},
		{"unknown country", func(m map[string]any) { at(m, "billingAddress")["countryCodeV2"] = "XQ" }, commerce.ErrInvalid},
		{"missing total", func(m map[string]any) { m["currentTotalPriceSet"] = nil }, nil},
		{"wrong type", func(m map[string]any) { m["lineItems"] = "many" }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _, _ := newMockClient(t)
			_, err := c.orderFromNode(context.Background(), patchJSON(t, raw, tt.patch))
			if !errors.Is(err, connector.ErrValidation) {
				t.Fatalf("err = %v, want a validation error", err)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("err = %v, want it to match %v", err, tt.is)
			}
		})
	}
}

func TestOrderTotalsMismatchIsReported(t *testing.T) {
	raw := patchJSON(t, readTestdata(t, "orders/taxes_included.json"), func(m map[string]any) {
		at(m, "currentTotalPriceSet", "shopMoney")["amount"] = "536.21"
	})
	var got error
	c, _, _ := newMockClient(t, WithTotalsMismatchHandler(func(_ context.Context, o commerce.Order, err error) error {
		got = err
		return nil
	}))
	o, err := c.orderFromNode(context.Background(), raw)
	if err != nil {
		t.Fatal(err)
	}
	var tm *commerce.TotalsMismatchError
	if !errors.As(got, &tm) || tm.Field != "total" || tm.Difference.Amount.String() != "0.01" {
		t.Fatalf("mismatch = %v, want total off by 0.01", got)
	}
	if o.Totals.Total.Amount.String() != "536.21" {
		t.Errorf("Totals.Total = %v; Shopify's figure must be kept", o.Totals.Total)
	}

	// A handler may stop the feed instead.
	stop := errors.New("stop")
	c2, _, _ := newMockClient(t, WithTotalsMismatchHandler(func(context.Context, commerce.Order, error) error { return stop }))
	if _, err := c2.orderFromNode(context.Background(), raw); !errors.Is(err, stop) {
		t.Errorf("err = %v, want the handler's", err)
	}

	// Without a handler, the mismatch is logged.
	var logs logBuffer
	c3, _, _ := newMockClient(t, WithLogger(logs.logger()))
	if _, err := c3.orderFromNode(context.Background(), raw); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "totals differ") || !strings.Contains(logs.String(), "#1001") {
		t.Errorf("mismatch not logged: %s", logs.String())
	}
}

// orderNode renders a minimal valid order node for feed tests.
func orderNode(t *testing.T, id int, updated string) json.RawMessage {
	t.Helper()
	return patchJSON(t, readTestdata(t, "orders/taxes_included.json"), func(m map[string]any) {
		m["id"] = fmt.Sprintf("gid://shopify/Order/%d", id)
		m["name"] = fmt.Sprintf("#%d", id)
		m["updatedAt"] = updated
	})
}

func TestOrdersFeedThroughMock(t *testing.T) {
	c, ms, _ := newMockClient(t, WithPageSize(2))
	pages := map[string]string{}
	page := func(after string, more bool, nodes ...json.RawMessage) {
		b, _ := json.Marshal(map[string]any{"orders": map[string]any{
			"pageInfo": map[string]any{"hasNextPage": more, "endCursor": "c" + fmt.Sprint(len(pages)+1)},
			"nodes":    nodes,
		}})
		pages[after] = string(b)
	}
	page("", true, orderNode(t, 1, "2026-11-01T10:00:00Z"), orderNode(t, 2, "2026-11-01T10:00:00Z"))
	page("c1", false, orderNode(t, 3, "2026-11-01T10:00:00Z"))
	ms.handle("OrdersFeed", func(call gqlCall) gqlReply {
		after, _ := call.Variables["after"].(string)
		if call.Variables["first"] != json.Number("2") {
			t.Errorf("first = %v, want the configured page size 2", call.Variables["first"])
		}
		return okReply(pages[after])
	})
	var got []string
	cur, err := connector.Drain(context.Background(), c.Orders(), "", func(_ context.Context, os []commerce.Order) error {
		for _, o := range os {
			got = append(got, o.Number)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != "[#1 #2 #3]" {
		t.Errorf("orders = %v", got)
	}
	calls := ms.callsOf("OrdersFeed")
	if len(calls) != 2 || calls[0].Variables["query"] != nil || calls[1].Variables["after"] != "c1" {
		t.Errorf("calls = %+v", calls)
	}
	// Resuming from the stored cursor starts a new window at the last
	// second and skips what was delivered.
	page("", false, orderNode(t, 1, "2026-11-01T10:00:00Z"), orderNode(t, 2, "2026-11-01T10:00:00Z"), orderNode(t, 3, "2026-11-01T10:00:00Z"), orderNode(t, 4, "2026-11-01T10:00:00Z"))
	b, err := c.Orders().Next(context.Background(), cur)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Items) != 1 || b.Items[0].Number != "#4" || b.More {
		t.Errorf("resumed batch = %+v", b)
	}
	last := ms.callsOf("OrdersFeed")[2]
	if last.Variables["query"] != "updated_at:>='2026-11-01T10:00:00Z'" {
		t.Errorf("query = %v", last.Variables["query"])
	}
}

func TestOrdersFeedInvalidHandler(t *testing.T) {
	var skipped []Invalid
	c, ms, _ := newMockClient(t, WithInvalidHandler(func(_ context.Context, it Invalid) error {
		skipped = append(skipped, it)
		return nil
	}))
	bad := patchJSON(t, orderNode(t, 2, "2026-11-01T10:00:00Z"), func(m map[string]any) { m["displayFinancialStatus"] = "NEW_THING" })
	body, _ := json.Marshal(map[string]any{"orders": map[string]any{"pageInfo": map[string]any{"hasNextPage": false}, "nodes": []json.RawMessage{orderNode(t, 1, "2026-11-01T10:00:00Z"), bad}}})
	ms.reply("OrdersFeed", string(body))
	b, err := c.Orders().Next(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Items) != 1 || len(skipped) != 1 || skipped[0].Ref.ID != "gid://shopify/Order/2" || !errors.Is(skipped[0].Err, connector.ErrValidation) {
		t.Errorf("items %d, skipped %+v", len(b.Items), skipped)
	}
	// Without a handler the bad order is the batch's problem; the good one
	// and the cursor move on.
	c2, ms2, _ := newMockClient(t)
	ms2.reply("OrdersFeed", string(body))
	b2, err := c2.Orders().Next(context.Background(), "")
	if err != nil || len(b2.Items) != 1 || len(b2.Problems) != 1 || b2.Cursor == "" {
		t.Fatalf("Next = %d items, %+v problems, cursor %q, %v", len(b2.Items), b2.Problems, b2.Cursor, err)
	}
	if p := b2.Problems[0]; p.Entity != "order" || p.Ref.ID != "gid://shopify/Order/2" || !errors.Is(p, connector.ErrValidation) {
		t.Errorf("problem %+v", p)
	}
}
