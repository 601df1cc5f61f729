package shopify

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/connector"
)

// bulkFixture returns the first product line and its variant lines of
// testdata/bulk/products.jsonl.
func bulkFixture(t testing.TB) (json.RawMessage, []json.RawMessage) {
	b, err := readFile("testdata/bulk/products.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	var product json.RawMessage
	var variants []json.RawMessage
	for sc.Scan() {
		line := bytes.Clone(sc.Bytes())
		if bytes.Contains(line, []byte(`"__parentId"`)) {
			if product != nil && len(variants) < 2 {
				variants = append(variants, line)
			}
			continue
		}
		if product != nil {
			break
		}
		product = line
	}
	return product, variants
}

var sekShop = shopSettings{Currency: commerce.SEK, TaxesIncluded: true}

func mapFixtureProduct(c *Client, product json.RawMessage, variants []json.RawMessage) (commerce.Product, error) {
	var p wireProduct
	if err := json.Unmarshal(product, &p); err != nil {
		return commerce.Product{}, invalid("MapProduct", "", err)
	}
	return c.mapProduct(product, p, variants, sekShop)
}

func TestMapProductBadInput(t *testing.T) {
	c, _, _ := newMockClient(t)
	product, variants := bulkFixture(t)
	if _, err := mapFixtureProduct(c, product, variants); err != nil {
		t.Fatalf("fixture: %v", err)
	}
	patchVariant := func(fn func(m map[string]any)) []json.RawMessage {
		return []json.RawMessage{patchJSON(t, variants[0], fn), variants[1]}
	}
	tests := []struct {
		name     string
		product  json.RawMessage
		variants []json.RawMessage
		is       error
	}{
		{"unknown status", patchJSON(t, product, func(m map[string]any) { m["status"] = "HIBERNATING" }), variants, nil},
		{"missing SKU", product, patchVariant(func(m map[string]any) { m["sku"] = nil }), commerce.ErrInvalid},
		{"duplicate SKU", product, []json.RawMessage{variants[0], variants[0]}, commerce.ErrInvalid},
		{"price with too many decimals", product, patchVariant(func(m map[string]any) { m["price"] = "199.005" }), commerce.ErrInexact},
		{"compare-at price not a number", product, patchVariant(func(m map[string]any) { m["compareAtPrice"] = "lots" }), commerce.ErrInvalid},
		{"unknown weight unit", product, patchVariant(func(m map[string]any) { at(m, "inventoryItem", "measurement", "weight")["unit"] = "STONES" }), nil},
		{"unknown cost currency", product, patchVariant(func(m map[string]any) { at(m, "inventoryItem", "unitCost")["currencyCode"] = "ZZZ" }), commerce.ErrUnknownCurrency},
		{"no variants", product, nil, commerce.ErrInvalid},
		{"variant not an object", product, []json.RawMessage{json.RawMessage(`[1]`)}, nil},
	}
	for _, tt := range tests {
		_, err := mapFixtureProduct(c, tt.product, tt.variants)
		if !errors.Is(err, connector.ErrValidation) {
			t.Errorf("%s: err = %v, want a validation error", tt.name, err)
			continue
		}
		if tt.is != nil && !errors.Is(err, tt.is) {
			t.Errorf("%s: err = %v, want it to match %v", tt.name, err, tt.is)
		}
	}
}

func TestMapRefundReturnPayoutBadInput(t *testing.T) {
	c, _, _ := newMockClient(t)
	refund := `{"id":"gid://shopify/Refund/1","createdAt":"2026-11-01T10:00:00Z","processedAt":"2026-11-01T10:00:00Z","note":null,
		"order":{"id":"gid://shopify/Order/1","name":"#1001","currencyCode":"SEK","presentmentCurrencyCode":"SEK","taxesIncluded":false},
		"return":null,"totalRefundedSet":{"shopMoney":{"amount":"125.00","currencyCode":"SEK"},"presentmentMoney":{"amount":"125.00","currencyCode":"SEK"}},
		"refundLineItems":{"pageInfo":{"hasNextPage":false},"nodes":[{"id":"gid://shopify/RefundLineItem/1","quantity":1,"restockType":"RETURN","restocked":true,
			"lineItem":{"id":"gid://shopify/LineItem/1","sku":"A"},
			"subtotalSet":{"shopMoney":{"amount":"100.00","currencyCode":"SEK"},"presentmentMoney":{"amount":"100.00","currencyCode":"SEK"}},
			"totalTaxSet":{"shopMoney":{"amount":"25.00","currencyCode":"SEK"},"presentmentMoney":{"amount":"25.00","currencyCode":"SEK"}}}]},
		"refundShippingLines":{"nodes":[]},
		"transactions":{"nodes":[{"id":"gid://shopify/OrderTransaction/9","kind":"REFUND","status":"SUCCESS","gateway":"shopify_payments","paymentId":"r1","createdAt":"2026-11-01T10:00:00Z","parentTransaction":{"id":"gid://shopify/OrderTransaction/8"},
			"amountSet":{"shopMoney":{"amount":"125.00","currencyCode":"SEK"},"presentmentMoney":{"amount":"125.00","currencyCode":"SEK"}}}]}}`
	mapRefund := func(raw []byte) (commerce.Refund, bool, error) {
		var w wireRefund
		if err := json.Unmarshal(raw, &w); err != nil {
			t.Fatal(err)
		}
		return c.mapRefund(raw, w)
	}
	r, ok, err := mapRefund([]byte(refund))
	if err != nil || !ok {
		t.Fatalf("fixture: %v", err)
	}
	// Taxes excluded: the line's amount includes its tax.
	if !r.Lines[0].Amount.Equal(commerce.FromMinor(12500, commerce.SEK)) || r.PaymentReference != "r1" || r.CaptureID != "gid://shopify/OrderTransaction/8" || !r.Lines[0].Restock {
		t.Errorf("refund = %+v", r)
	}
	for name, patch := range map[string]func(m map[string]any){
		"unknown restock type": func(m map[string]any) { at(m, "refundLineItems", "nodes", 0)["restockType"] = "DONATE" },
		"too many decimals":    func(m map[string]any) { at(m, "totalRefundedSet", "shopMoney")["amount"] = "125.001" },
	} {
		if _, _, err := mapRefund(patchJSON(t, []byte(refund), patch)); !errors.Is(err, connector.ErrValidation) {
			t.Errorf("refund %s: err = %v", name, err)
		}
	}
	// Lines worth more than the money refunded: the difference is the
	// refund's discrepancy.
	if r, _, err := mapRefund(patchJSON(t, []byte(refund), func(m map[string]any) { at(m, "totalRefundedSet", "shopMoney")["amount"] = "50.00" })); err != nil ||
		!r.Discrepancy.Equal(commerce.FromMinor(7500, commerce.SEK)) || !r.Amount.Equal(commerce.FromMinor(5000, commerce.SEK)) {
		t.Errorf("refund with a discrepancy: %+v, %v", r, err)
	}
	if _, ok, err := mapRefund(patchJSON(t, []byte(refund), func(m map[string]any) {
		at(m, "totalRefundedSet", "shopMoney")["amount"] = "0.00"
		m["refundLineItems"] = map[string]any{"nodes": []any{}}
	})); ok || err != nil {
		t.Errorf("a refund of no money: ok=%v err=%v, want skipped", ok, err)
	}

	ret := `{"id":"gid://shopify/Return/1","name":"#1001-R1","status":"OPEN","createdAt":"2026-11-01T10:00:00Z","order":{"id":"gid://shopify/Order/1","name":"#1001"},
		"returnLineItems":{"pageInfo":{"hasNextPage":false},"nodes":[{"id":"gid://shopify/ReturnLineItem/1","quantity":1,"returnReasonNote":"","returnReasonDefinition":{"handle":"size_too_small","name":"Size too small"},
		"fulfillmentLineItem":{"lineItem":{"id":"gid://shopify/LineItem/1","sku":"A"}}}]}}`
	mapReturn := func(raw []byte) error {
		var w wireReturn
		if err := json.Unmarshal(raw, &w); err != nil {
			t.Fatal(err)
		}
		_, err := c.mapReturn(raw, w)
		return err
	}
	if err := mapReturn([]byte(ret)); err != nil {
		t.Fatalf("return fixture: %v", err)
	}
	for name, patch := range map[string]func(m map[string]any){
		"unknown status":     func(m map[string]any) { m["status"] = "LOST_IN_MAIL" },
		"unverified line":    func(m map[string]any) { at(m, "returnLineItems", "nodes", 0)["fulfillmentLineItem"] = nil },
		"non-positive count": func(m map[string]any) { at(m, "returnLineItems", "nodes", 0)["quantity"] = 0 },
	} {
		if err := mapReturn(patchJSON(t, []byte(ret), patch)); !errors.Is(err, connector.ErrValidation) {
			t.Errorf("return %s: err = %v", name, err)
		}
	}

	good := wirePayout{ID: "gid://shopify/ShopifyPaymentsPayout/1", Status: "PAID", TransactionType: "DEPOSIT", Net: moneyV2{"100.00", "SEK"}, IssuedAt: time.Date(2026, 11, 1, 23, 30, 0, 0, time.UTC)}
	stockholm, _ := time.LoadLocation("Europe/Stockholm")
	p, err := mapPayout(commerce.Ref{}, good, stockholm)
	if err != nil || p.ArrivalDate != commerce.NewDate(2026, 11, 2) {
		t.Errorf("payout = %+v, %v (issued 23:30 UTC is 2 Nov in Stockholm)", p, err)
	}
	w := good
	w.TransactionType = "WITHDRAWAL"
	if p, err := mapPayout(commerce.Ref{}, w, time.UTC); err != nil || !p.Amount.IsNegative() {
		t.Errorf("withdrawal = %+v, %v", p, err)
	}
	for name, bad := range map[string]wirePayout{
		"unknown status": {Status: "LOST", TransactionType: "DEPOSIT", Net: good.Net},
		"unknown type":   {Status: "PAID", TransactionType: "GIFT", Net: good.Net},
		"inexact":        {Status: "PAID", TransactionType: "DEPOSIT", Net: moneyV2{"1.001", "SEK"}},
	} {
		if _, err := mapPayout(commerce.Ref{}, bad, time.UTC); !errors.Is(err, connector.ErrValidation) {
			t.Errorf("payout %s: err = %v", name, err)
		}
	}
	tx := wireBalanceTransaction{ID: "gid://shopify/ShopifyPaymentsBalanceTransaction/1", Type: "BRAND_NEW_TYPE", Amount: moneyV2{"10.00", "SEK"}, Fee: moneyV2{"0.00", "SEK"}, Net: moneyV2{"10.00", "SEK"}}
	if got, err := mapBalanceTransaction("p", tx); err != nil || got.Kind != commerce.TxOther || got.ProviderType != "BRAND_NEW_TYPE" {
		t.Errorf("unknown type must be kept as other: %+v %v", got, err)
	}
	tx.Net = moneyV2{"9.00", "SEK"}
	if _, err := mapBalanceTransaction("p", tx); !errors.Is(err, connector.ErrValidation) {
		t.Errorf("net that does not add up: %v", err)
	}
}

// FuzzMapOrder maps arbitrary order nodes: no panic, and an accepted
// order is valid.
func FuzzMapOrder(f *testing.F) {
	for _, name := range []string{"taxes_included", "presentment_removed_units"} {
		b, err := readFile("testdata/orders/" + name + ".json")
		if err != nil {
			f.Fatal(err)
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, b); err != nil {
			f.Fatal(err)
		}
		f.Add(compact.Bytes())
	}
	f.Add([]byte(`{"currencyCode":"SEK","presentmentCurrencyCode":"SEK","displayFulfillmentStatus":"FULFILLED","lineItems":{"nodes":[{"currentQuantity":-1,"quantity":-5}]}}`))
	c, err := New(testShop, StaticToken("t"))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var w wireOrder
		if json.Unmarshal(data, &w) != nil {
			return
		}
		o, err := c.mapOrder(data, w)
		if err == nil {
			if verr := o.Validate(); verr != nil {
				t.Fatalf("accepted an invalid order: %v", verr)
			}
			return
		}
		if !errors.Is(err, connector.ErrValidation) {
			t.Fatalf("error of the wrong kind: %v", err)
		}
	})
}

// FuzzMapProduct does the same for product and variant nodes.
func FuzzMapProduct(f *testing.F) {
	product, variants := bulkFixture(f)
	f.Add([]byte(product), []byte(variants[0]))
	f.Add([]byte(`{"status":"ACTIVE","title":"x"}`), []byte(`{"sku":"a","price":"1e5"}`))
	c, err := New(testShop, StaticToken("t"))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, p, v []byte) {
		got, err := mapFixtureProduct(c, p, []json.RawMessage{v})
		if err == nil {
			if verr := got.Validate(); verr != nil {
				t.Fatalf("accepted an invalid product: %v", verr)
			}
			return
		}
		if !errors.Is(err, connector.ErrValidation) {
			t.Fatalf("error of the wrong kind: %v", err)
		}
	})
}

// FuzzCursor parses stored cursors: no panic, and a cursor that parses
// drives a feed without failing on its own content.
func FuzzCursor(f *testing.F) {
	f.Add("")
	f.Add(string(CursorAt(time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC))))
	f.Add("w1.eyJ0IjoiMjAyNi0xMS0wMVQxMDowMDowMFoiLCJuIjpbImEiXSwibyI6dHJ1ZX0")
	f.Add("w1.!!")
	f.Fuzz(func(t *testing.T, s string) {
		feed := newFakeFeed(&fakeConnection{size: 2, items: []item{{"gid://shopify/Order/1", time.Unix(0, 0), 1}}})
		_, err := feed.Next(context.Background(), connector.Cursor(s))
		if err != nil && !errors.Is(err, connector.ErrValidation) {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestMapStatuses(t *testing.T) {
	c, _, _ := newMockClient(t)
	product, variants := bulkFixture(t)
	for _, tt := range []struct {
		shopify string
		want    commerce.ProductStatus
		active  bool
	}{
		{"ACTIVE", commerce.ProductActive, true},
		{"UNLISTED", commerce.ProductUnlisted, true}, // sold, only hidden
		{"DRAFT", commerce.ProductDraft, false},
		{"ARCHIVED", commerce.ProductArchived, false},
	} {
		p, err := mapFixtureProduct(c, patchJSON(t, product, func(m map[string]any) { m["status"] = tt.shopify }), variants)
		if err != nil {
			t.Fatalf("%s: %v", tt.shopify, err)
		}
		if p.Status != tt.want || p.Variants[0].Active != tt.active {
			t.Errorf("product %s = %q, variant active %v; want %q, %v", tt.shopify, p.Status, p.Variants[0].Active, tt.want, tt.active)
		}
	}
	raw := readTestdata(t, "orders/taxes_included.json")
	for shop, want := range map[string]commerce.FinancialStatus{
		"AUTHORIZED": commerce.FinancialAuthorized, "PAID": commerce.FinancialPaid, "PARTIALLY_PAID": commerce.FinancialPartiallyPaid,
		"PARTIALLY_REFUNDED": commerce.FinancialPartiallyRefunded, "PENDING": commerce.FinancialPending, "REFUNDED": commerce.FinancialRefunded,
		"VOIDED": commerce.FinancialVoided, "EXPIRED": commerce.FinancialExpired,
	} {
		o, err := c.orderFromNode(context.Background(), patchJSON(t, raw, func(m map[string]any) { m["displayFinancialStatus"] = shop }))
		if err != nil {
			t.Fatalf("%s: %v", shop, err)
		}
		if o.FinancialStatus != want {
			t.Errorf("order %s = %q, want %q", shop, o.FinancialStatus, want)
		}
	}
}
