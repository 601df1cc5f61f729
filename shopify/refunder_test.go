package shopify

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/connector"
)

// A EUR order of a SEK shop: an authorization captured in two parts,
// 30.00 then 50.00, and 10.00 of the first refunded already.
const refundOrder = `{"orders":{"nodes":[{"id":"gid://shopify/Order/9007199254740993","name":"#1001","cancelledAt":null,"closed":false,
"displayFinancialStatus":"PARTIALLY_REFUNDED","currencyCode":"SEK","presentmentCurrencyCode":"EUR",
"totalCapturableSet":{"shopMoney":{"amount":"0.0","currencyCode":"SEK"},"presentmentMoney":{"amount":"0.0","currencyCode":"EUR"}},
"transactions":[
 {"id":"gid://shopify/OrderTransaction/9007199254741001","kind":"AUTHORIZATION","status":"SUCCESS","gateway":"shopify_payments","createdAt":"2026-11-01T10:00:00Z","authorizationCode":"pi_1",
  "amountSet":{"shopMoney":{"amount":"920.0","currencyCode":"SEK"},"presentmentMoney":{"amount":"80.0","currencyCode":"EUR"}}},
 {"id":"gid://shopify/OrderTransaction/9007199254741003","kind":"CAPTURE","status":"SUCCESS","gateway":"shopify_payments","createdAt":"2026-11-02T10:00:00Z",
  "parentTransaction":{"id":"gid://shopify/OrderTransaction/9007199254741001"},
  "amountSet":{"shopMoney":{"amount":"575.0","currencyCode":"SEK"},"presentmentMoney":{"amount":"50.0","currencyCode":"EUR"}}},
 {"id":"gid://shopify/OrderTransaction/9007199254741002","kind":"CAPTURE","status":"SUCCESS","gateway":"shopify_payments","createdAt":"2026-11-01T12:00:00Z",
  "parentTransaction":{"id":"gid://shopify/OrderTransaction/9007199254741001"},
  "amountSet":{"shopMoney":{"amount":"345.0","currencyCode":"SEK"},"presentmentMoney":{"amount":"30.0","currencyCode":"EUR"}}},
 {"id":"gid://shopify/OrderTransaction/9007199254741004","kind":"REFUND","status":"SUCCESS","gateway":"shopify_payments","createdAt":"2026-11-03T10:00:00Z",
  "parentTransaction":{"id":"gid://shopify/OrderTransaction/9007199254741002"},
  "amountSet":{"shopMoney":{"amount":"115.0","currencyCode":"SEK"},"presentmentMoney":{"amount":"10.0","currencyCode":"EUR"}}}
]}]}}`

const refundOrderLines = `{"order":{"id":"gid://shopify/Order/9007199254740993","lineItems":{"pageInfo":{"hasNextPage":false,"endCursor":null},"nodes":[
 {"id":"gid://shopify/LineItem/9007199254742001","sku":"SHIRT-1"},
 {"id":"gid://shopify/LineItem/9007199254742002","sku":"SOCK-1"},
 {"id":"gid://shopify/LineItem/9007199254742003","sku":"CAP-1"},
 {"id":"gid://shopify/LineItem/9007199254742004","sku":"CAP-1"}]}}}`

const refundCreated = `{"refundCreate":{"userErrors":[],"refund":{"id":"gid://shopify/Refund/9007199254743001","legacyResourceId":"9007199254743001",
"createdAt":"2026-11-04T09:00:00Z","updatedAt":"2026-11-04T09:00:00Z","processedAt":"2026-11-04T09:00:00Z","note":"size_too_small",
"order":{"id":"gid://shopify/Order/9007199254740993","name":"#1001","currencyCode":"SEK","presentmentCurrencyCode":"EUR","taxesIncluded":true},
"return":null,
"totalRefundedSet":{"shopMoney":{"amount":"517.5","currencyCode":"SEK"},"presentmentMoney":{"amount":"45.0","currencyCode":"EUR"}},
"refundLineItems":{"pageInfo":{"hasNextPage":false},"nodes":[
 {"id":"gid://shopify/RefundLineItem/1","quantity":1,"restockType":"NO_RESTOCK","restocked":false,"location":null,
  "lineItem":{"id":"gid://shopify/LineItem/9007199254742001","sku":"SHIRT-1"},
  "priceSet":{"shopMoney":{"amount":"230.0","currencyCode":"SEK"},"presentmentMoney":{"amount":"20.0","currencyCode":"EUR"}},
  "subtotalSet":{"shopMoney":{"amount":"230.0","currencyCode":"SEK"},"presentmentMoney":{"amount":"20.0","currencyCode":"EUR"}},
  "totalTaxSet":{"shopMoney":{"amount":"46.0","currencyCode":"SEK"},"presentmentMoney":{"amount":"4.0","currencyCode":"EUR"}}},
 {"id":"gid://shopify/RefundLineItem/2","quantity":2,"restockType":"NO_RESTOCK","restocked":false,"location":null,
  "lineItem":{"id":"gid://shopify/LineItem/9007199254742002","sku":"SOCK-1"},
  "priceSet":{"shopMoney":{"amount":"143.75","currencyCode":"SEK"},"presentmentMoney":{"amount":"12.5","currencyCode":"EUR"}},
  "subtotalSet":{"shopMoney":{"amount":"287.5","currencyCode":"SEK"},"presentmentMoney":{"amount":"25.0","currencyCode":"EUR"}},
  "totalTaxSet":{"shopMoney":{"amount":"57.5","currencyCode":"SEK"},"presentmentMoney":{"amount":"5.0","currencyCode":"EUR"}}}]},
"refundShippingLines":{"nodes":[]},
"transactions":{"nodes":[
 {"id":"gid://shopify/OrderTransaction/9007199254741005","kind":"REFUND","status":"%s","gateway":"shopify_payments","paymentId":null,
  "createdAt":"2026-11-04T09:00:00Z","processedAt":"2026-11-04T09:00:00Z","parentTransaction":{"id":"gid://shopify/OrderTransaction/9007199254741002"},
  "amountSet":{"shopMoney":{"amount":"230.0","currencyCode":"SEK"},"presentmentMoney":{"amount":"20.0","currencyCode":"EUR"}}},
 {"id":"gid://shopify/OrderTransaction/9007199254741006","kind":"REFUND","status":"SUCCESS","gateway":"shopify_payments","paymentId":null,
  "createdAt":"2026-11-04T09:00:00Z","processedAt":"2026-11-04T09:00:00Z","parentTransaction":{"id":"gid://shopify/OrderTransaction/9007199254741003"},
  "amountSet":{"shopMoney":{"amount":"287.5","currencyCode":"SEK"},"presentmentMoney":{"amount":"25.0","currencyCode":"EUR"}}}]}}}}`

func eur(s string) commerce.Money {
	return commerce.NewMoney(decimal.RequireFromString(s), commerce.EUR)
}

// refundRequest draws 45.00 EUR: 20.00 left of the older capture, 25.00
// of the newer. Its lines name the shirt by id, the socks by id and SKU
// (one line item, two units), and a cap whose SKU two line items have.
var refundRequest = connector.RefundRequest{
	PaymentReference: "pi_1", OrderNumber: "#1001", Amount: eur("45.00"), Reason: "size_too_small", Reference: "R-1",
	Lines: []commerce.RefundLine{
		{LineID: "gid://shopify/LineItem/9007199254742001", SKU: "SHIRT-1", Quantity: 1, Amount: eur("20.00")},
		{LineID: "gid://shopify/LineItem/9007199254742002", SKU: "SOCK-1", Quantity: 1, Amount: eur("12.50")},
		{SKU: "SOCK-1", Quantity: 1, Amount: eur("12.50")},
		{SKU: "CAP-1", Quantity: 1},
	},
}

// TestRefundRequestGolden records the refundCreate Refund sends and what
// it makes of the answer.
func TestRefundRequestGolden(t *testing.T) {
	c, ms, _ := newMockClient(t)
	ms.reply("OrderByName", refundOrder)
	ms.reply("OrderLineSKUs", refundOrderLines)
	ms.reply("RefundCreate", strings.Replace(refundCreated, "%s", "SUCCESS", 1))
	r, err := c.Refund(context.Background(), refundRequest, connector.WithIdempotencyKey("return-R-1"))
	if err != nil {
		t.Fatal(err)
	}
	calls := ms.callsOf("RefundCreate")
	if len(calls) != 1 {
		t.Fatalf("%d refundCreate calls", len(calls))
	}
	if !strings.Contains(calls[0].Query, "refundCreate(input: $input) @idempotent(key: $idempotencyKey)") {
		t.Errorf("the mutation does not carry @idempotent:\n%s", calls[0].Query)
	}
	r.Raw = nil // the answer above, verbatim
	golden(t, "refund/refund_create.golden.json", map[string]any{"variables": calls[0].Variables, "refund": r})
}

func TestRefundErrors(t *testing.T) {
	gqlErr := func(code string) gqlReply {
		return gqlReply{Status: 200, Body: `{"data":{"refundCreate":null},"errors":[{"message":"Idempotency says no","path":["refundCreate"],"extensions":{"code":"` + code + `"}}],` +
			`"extensions":{"cost":{"requestedQueryCost":10,"actualQueryCost":10,"throttleStatus":{"maximumAvailable":2000.0,"currentlyAvailable":1990,"restoreRate":100.0}}}}`}
	}
	tests := []struct {
		name      string
		reply     gqlReply
		kind      connector.Kind
		code      string
		field     string
		message   string
		retryable bool
		lookups   int // OrderRefunds reads looking for the key's refund
	}{
		{name: "concurrent request", reply: gqlErr("IDEMPOTENCY_CONCURRENT_REQUEST"), kind: connector.KindTemporary, code: "IDEMPOTENCY_CONCURRENT_REQUEST", field: "refundCreate", retryable: true},
		{name: "key used with other parameters", reply: gqlErr("IDEMPOTENCY_KEY_PARAMETER_MISMATCH"), kind: connector.KindConflict, code: "IDEMPOTENCY_KEY_PARAMETER_MISMATCH", field: "refundCreate", lookups: 1},
		{name: "previous attempt failed", reply: gqlErr("IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED"), kind: connector.KindPermanent, code: "IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED",
			field: "refundCreate", message: "Shopify will not run it again under the key"},
		{name: "a user error", reply: okReply(`{"refundCreate":{"refund":null,"userErrors":[{"field":["input","transactions","0","amount"],"message":"Amount exceeds the refundable amount"}]}}`),
			kind: connector.KindValidation, field: "input.transactions.0.amount", message: "exceeds"},
		{name: "the gateway failed a transaction", reply: okReply(strings.Replace(refundCreated, "%s", "FAILURE", 1)), kind: connector.KindPermanent, code: "FAILURE",
			message: "did not refund transaction gid://shopify/OrderTransaction/9007199254741005"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, ms, _ := newMockClient(t)
			ms.reply("OrderByName", refundOrder)
			ms.reply("OrderLineSKUs", refundOrderLines)
			ms.reply("OrderRefunds", `{"order":{"id":"gid://shopify/Order/9007199254740993","refunds":[]}}`)
			ms.handle("RefundCreate", func(gqlCall) gqlReply { return tt.reply })
			_, err := c.Refund(context.Background(), refundRequest, connector.WithIdempotencyKey("return-R-1"))
			var ce *connector.Error
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v", err)
			}
			if ce.Kind != tt.kind || ce.Code != tt.code || ce.Field != tt.field || !strings.Contains(ce.Message, tt.message) || connector.IsRetryable(err) != tt.retryable {
				t.Errorf("err = %v (kind %v, code %q, field %q)", err, ce.Kind, ce.Code, ce.Field)
			}
			if n := len(ms.callsOf("OrderRefunds")); n != tt.lookups {
				t.Errorf("%d OrderRefunds reads, want %d", n, tt.lookups)
			}
		})
	}
}

func TestKindForIdempotencyCodes(t *testing.T) {
	tests := []struct {
		code string
		want connector.Kind
	}{
		{"IDEMPOTENCY_CONCURRENT_REQUEST", connector.KindTemporary},
		{"IDEMPOTENCY_KEY_PARAMETER_MISMATCH", connector.KindConflict},
		{"IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED", connector.KindPermanent},
	}
	for _, tt := range tests {
		// As a userError code (inventorySetQuantities) and as an
		// errors[].extensions.code (refundCreate, whose userErrors have none).
		if got := kindForUserError(tt.code, ""); got != tt.want {
			t.Errorf("userError %s: %v, want %v", tt.code, got, tt.want)
		}
		if got := kindForCode(tt.code); got != tt.want {
			t.Errorf("errors[] code %s: %v, want %v", tt.code, got, tt.want)
		}
	}
}

// TestRefundKeepsWhatTheModelRefuses answers a refund made whose answer
// the model refuses in part (a restock type it does not know): the refund
// was made, so Refund returns it, without the lines, and says so in the
// log. A refund whose line items Shopify values above the money refunded
// is no such case: it carries the difference as its discrepancy.
func TestRefundKeepsWhatTheModelRefuses(t *testing.T) {
	answered := func(t *testing.T, patch func(string) string) (commerce.Refund, string) {
		var log logBuffer
		c, ms, _ := newMockClient(t, WithLogger(log.logger()))
		ms.reply("OrderByName", refundOrder)
		ms.reply("OrderLineSKUs", refundOrderLines)
		ms.reply("RefundCreate", patch(strings.Replace(refundCreated, "%s", "SUCCESS", 1)))
		r, err := c.Refund(context.Background(), refundRequest, connector.WithIdempotencyKey("return-R-1"))
		if err != nil {
			t.Fatal(err)
		}
		if r.ID != "gid://shopify/Refund/9007199254743001" || r.CaptureID != "gid://shopify/OrderTransaction/9007199254741002" ||
			r.Provider != "shopify_payments" || len(r.Raw) == 0 {
			t.Errorf("refund %+v", r)
		}
		return r, log.String()
	}
	r, log := answered(t, func(a string) string {
		return strings.Replace(a, `"restockType":"NO_RESTOCK"`, `"restockType":"DONATE"`, 1)
	})
	if !r.Amount.Equal(commerce.FromMinor(51750, commerce.SEK)) || r.Lines != nil || !strings.Contains(log, "do not map") {
		t.Errorf("refund %s with lines %+v; log %s", r.Amount, r.Lines, log)
	}
	r, _ = answered(t, func(a string) string {
		return strings.Replace(a, `"totalRefundedSet":{"shopMoney":{"amount":"517.5","currencyCode":"SEK"},"presentmentMoney":{"amount":"45.0","currencyCode":"EUR"}}`,
			`"totalRefundedSet":{"shopMoney":{"amount":"460.0","currencyCode":"SEK"},"presentmentMoney":{"amount":"40.0","currencyCode":"EUR"}}`, 1)
	})
	if !r.Amount.Equal(commerce.FromMinor(46000, commerce.SEK)) || len(r.Lines) != 2 || !r.Discrepancy.Equal(commerce.FromMinor(5750, commerce.SEK)) {
		t.Errorf("refund %s with lines %+v, discrepancy %s", r.Amount, r.Lines, r.Discrepancy)
	}
}
