package shopifytest

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const orderDoc = `query($id: ID!) { order(id: $id) {
  name taxesIncluded currencyCode presentmentCurrencyCode displayFinancialStatus displayFulfillmentStatus cancelledAt closed
  customer { firstName lastName defaultEmailAddress { emailAddress } }
  shippingAddress { address1 city zip countryCodeV2 }
  subtotalPriceSet { shopMoney { amount currencyCode } presentmentMoney { amount currencyCode } }
  totalDiscountsSet { shopMoney { amount } }
  totalShippingPriceSet { shopMoney { amount } }
  totalTaxSet { shopMoney { amount } }
  totalPriceSet { shopMoney { amount } presentmentMoney { amount } }
  currentTotalPriceSet { shopMoney { amount } presentmentMoney { amount } }
  taxLines { title ratePercentage priceSet { shopMoney { amount } } }
  lineItems(first: 10) { nodes { sku quantity currentQuantity originalUnitPriceSet { presentmentMoney { amount } } discountedTotalSet { presentmentMoney { amount } }
    discountAllocations { allocatedAmountSet { presentmentMoney { amount } } discountApplication { ... on DiscountCodeApplication { code } } }
    taxLines { rate priceSet { presentmentMoney { amount } } } } }
  shippingLines(first: 5) { nodes { title originalPriceSet { shopMoney { amount } } taxLines { priceSet { shopMoney { amount } } } } }
  transactions { kind status gateway amountSet { shopMoney { amount currencyCode } presentmentMoney { amount currencyCode } } }
} }`

func TestOrderMapping(t *testing.T) {
	s := NewServer(WithClock(fixedClock()))
	defer s.Close()
	sd := seedShop(t, s)
	d := ok(t, s, orderDoc, map[string]any{"id": sd.order.ID})
	o := d["order"].(map[string]any)
	checks := []struct {
		path []any
		want any
	}{
		{[]any{"name"}, "#1001"},
		{[]any{"taxesIncluded"}, true},
		{[]any{"displayFinancialStatus"}, "AUTHORIZED"},
		{[]any{"displayFulfillmentStatus"}, "UNFULFILLED"},
		{[]any{"customer", "defaultEmailAddress", "emailAddress"}, "kund@example.se"},
		{[]any{"shippingAddress", "countryCodeV2"}, "SE"},
		{[]any{"subtotalPriceSet", "shopMoney", "amount"}, "665.96"},
		{[]any{"totalDiscountsSet", "shopMoney", "amount"}, "0.04"},
		{[]any{"totalShippingPriceSet", "shopMoney", "amount"}, "49.0"},
		{[]any{"totalTaxSet", "shopMoney", "amount"}, "143.0"},
		{[]any{"totalPriceSet", "shopMoney", "amount"}, "714.96"},
		{[]any{"currentTotalPriceSet", "shopMoney", "amount"}, "714.96"},
		{[]any{"taxLines", 0, "ratePercentage"}, float64(25)},
		{[]any{"lineItems", "nodes", 0, "discountedTotalSet", "presentmentMoney", "amount"}, "266.96"},
		{[]any{"lineItems", "nodes", 0, "discountAllocations", 0, "discountApplication", "code"}, "SOCKS"},
		{[]any{"shippingLines", "nodes", 0, "taxLines", 0, "priceSet", "shopMoney", "amount"}, "9.8"},
		{[]any{"transactions", 0, "gateway"}, "shopify_payments"},
	}
	for _, c := range checks {
		if got := dig(o, c.path...); !cmp.Equal(got, c.want) {
			t.Errorf("%v = %#v, want %#v", c.path, got, c.want)
		}
	}
}

func TestOrderMultiCurrency(t *testing.T) {
	s := NewServer(WithClock(fixedClock()))
	defer s.Close()
	o, err := s.AddOrder(Order{PresentmentCurrency: "EUR", ExchangeRate: "11.4721", Lines: []LineItem{{SKU: "X", Title: "X", Quantity: 1, UnitPrice: "19.99"}},
		Transactions: []Transaction{{Kind: "AUTHORIZATION", Gateway: "shopify_payments", Amount: "19.99"}}})
	if err != nil {
		t.Fatal(err)
	}
	d := ok(t, s, `query($id: ID!) { order(id: $id) { totalPriceSet { shopMoney { amount currencyCode } presentmentMoney { amount currencyCode } } transactions { id } } }`, map[string]any{"id": o.ID})
	want := map[string]any{"shopMoney": map[string]any{"amount": "229.33", "currencyCode": "SEK"}, "presentmentMoney": map[string]any{"amount": "19.99", "currencyCode": "EUR"}}
	if diff := cmp.Diff(want, dig(d, "order", "totalPriceSet")); diff != "" {
		t.Errorf("MoneyBag (-want +got):\n%s", diff)
	}
	capture := `mutation($in: OrderCaptureInput!) { orderCapture(input: $in) { transaction { kind status amountSet { presentmentMoney { amount currencyCode } } } userErrors { field message } } }`
	auth := o.Transactions[0].ID
	tests := []struct {
		name  string
		in    map[string]any
		field string
	}{
		{"currency required", map[string]any{"id": o.ID, "parentTransactionId": auth, "amount": "19.99"}, "currency"},
		{"currency must be presentment", map[string]any{"id": o.ID, "parentTransactionId": auth, "amount": "19.99", "currency": "SEK"}, "currency"},
		{"more than authorized", map[string]any{"id": o.ID, "parentTransactionId": auth, "amount": "20.00", "currency": "EUR"}, "amount"},
		{"unknown parent", map[string]any{"id": o.ID, "parentTransactionId": "gid://shopify/OrderTransaction/1", "amount": "1", "currency": "EUR"}, "parentTransactionId"},
	}
	for _, tc := range tests {
		d := ok(t, s, capture, map[string]any{"in": tc.in})
		if got := dig(d, "orderCapture", "userErrors", 0, "field", 0); got != tc.field {
			t.Errorf("%s: %v", tc.name, d)
		}
	}
	d = ok(t, s, capture, map[string]any{"in": map[string]any{"id": o.ID, "parentTransactionId": auth, "amount": "19.99", "currency": "EUR"}})
	if dig(d, "orderCapture", "transaction", "kind") != "CAPTURE" || dig(d, "orderCapture", "transaction", "amountSet", "presentmentMoney", "amount") != "19.99" {
		t.Fatalf("capture: %v", d)
	}
	// A retried capture (say after a lost answer) does not capture twice.
	d = ok(t, s, capture, map[string]any{"in": map[string]any{"id": o.ID, "parentTransactionId": auth, "amount": "19.99", "currency": "EUR"}})
	if dig(d, "orderCapture", "transaction") != nil {
		t.Errorf("second capture accepted: %v", d)
	}
	st, _ := s.OrderState(o.ID)
	if st.FinancialStatus != "PAID" || len(st.Transactions) != 2 {
		t.Errorf("state %+v", st)
	}
}

func TestOrdersFeed(t *testing.T) {
	s := NewServer(WithClock(fixedClock()))
	defer s.Close()
	for i := range 5 {
		if _, err := s.AddOrder(Order{CreatedAt: epoch.Add(time.Duration(i) * time.Minute), UpdatedAt: epoch.Add(time.Duration(10-i) * time.Minute), Lines: []LineItem{{SKU: "A", Title: "A", Quantity: 1, UnitPrice: "10"}}}); err != nil {
			t.Fatal(err)
		}
	}
	q := `query($q: String) { orders(first: 10, sortKey: UPDATED_AT, query: $q) { nodes { name updatedAt } } }`
	d := ok(t, s, q, map[string]any{"q": "updated_at:>='2026-11-02T09:07:00Z'"})
	var names []string
	for _, n := range dig(d, "orders", "nodes").([]any) {
		names = append(names, dig(n, "name").(string))
	}
	if diff := cmp.Diff([]string{"#1004", "#1003", "#1002", "#1001"}, names); diff != "" {
		t.Errorf("orders (-want +got):\n%s", diff)
	}
	d = ok(t, s, q, map[string]any{"q": "status:open name:#1002"})
	if n := len(dig(d, "orders", "nodes").([]any)); n != 1 {
		t.Errorf("name filter matched %d", n)
	}
}

func TestFulfillmentFlow(t *testing.T) {
	s := NewServer(WithClock(fixedClock()))
	defer s.Close()
	sd := seedShop(t, s)
	d := ok(t, s, `query($id: ID!) { order(id: $id) { fulfillmentOrders(first: 5) { nodes { id status assignedLocation { location { id } } supportedActions { action }
	  lineItems(first: 10) { nodes { id remainingQuantity lineItem { sku } } } } } } }`, map[string]any{"id": sd.order.ID})
	fo := dig(d, "order", "fulfillmentOrders", "nodes", 0).(map[string]any)
	if fo["status"] != "OPEN" || dig(fo, "assignedLocation", "location", "id") != sd.loc.ID || dig(fo, "supportedActions", 0, "action") != "CREATE_FULFILLMENT" {
		t.Fatalf("fulfillment order %v", fo)
	}
	sockLine := dig(fo, "lineItems", "nodes", 0, "id")
	create := `mutation($f: FulfillmentInput!) { fulfillmentCreate(fulfillment: $f) { fulfillment { id status trackingInfo { number url company } fulfillmentLineItems(first: 5) { nodes { quantity lineItem { sku } } } } userErrors { field message } } }`
	partial := map[string]any{
		"lineItemsByFulfillmentOrder": []any{map[string]any{"fulfillmentOrderId": fo["id"], "fulfillmentOrderLineItems": []any{map[string]any{"id": sockLine, "quantity": 2}}}},
		"trackingInfo":                map[string]any{"number": "SE123", "url": "https://tracking.example/SE123", "company": "PostNord"},
		"notifyCustomer":              true,
	}
	d = ok(t, s, create, map[string]any{"f": partial})
	if got := dig(d, "fulfillmentCreate", "fulfillment", "trackingInfo", 0, "company"); got != "PostNord" {
		t.Fatalf("fulfillment %v", d)
	}
	if st, _ := s.OrderState(sd.order.ID); st.FulfillmentStatus != "PARTIALLY_FULFILLED" {
		t.Errorf("status %s", st.FulfillmentStatus)
	}
	// Too many: 1 left of the socks.
	d = ok(t, s, create, map[string]any{"f": map[string]any{"lineItemsByFulfillmentOrder": []any{map[string]any{"fulfillmentOrderId": fo["id"], "fulfillmentOrderLineItems": []any{map[string]any{"id": sockLine, "quantity": 2}}}}}})
	if dig(d, "fulfillmentCreate", "userErrors", 0, "message") != "Invalid fulfillment order line item quantity requested." {
		t.Errorf("over-fulfilment: %v", d)
	}
	// The rest: omit the lines.
	ok(t, s, create, map[string]any{"f": map[string]any{"lineItemsByFulfillmentOrder": []any{map[string]any{"fulfillmentOrderId": fo["id"]}}}})
	fs := s.Fulfillments(sd.order.ID)
	if len(fs) != 2 || !fs[0].NotifyCustomer || fs[0].Tracking[0] != (Tracking{"SE123", "https://tracking.example/SE123", "PostNord"}) || fs[1].Lines[0].Quantity != 1 {
		t.Errorf("fulfillments %+v", fs)
	}
	if st, _ := s.OrderState(sd.order.ID); st.FulfillmentStatus != "FULFILLED" {
		t.Errorf("status %s", st.FulfillmentStatus)
	}
	d = ok(t, s, create, map[string]any{"f": map[string]any{"lineItemsByFulfillmentOrder": []any{map[string]any{"fulfillmentOrderId": fo["id"]}}}})
	if len(userErrors(d, "fulfillmentCreate")) == 0 {
		t.Error("closed fulfillment order fulfilled again")
	}
}

func TestCancelAndMarkPaid(t *testing.T) {
	s := NewServer(WithClock(fixedClock()))
	defer s.Close()
	sd := seedShop(t, s)
	cancel := `mutation($id: ID!) { orderCancel(orderId: $id, reason: CUSTOMER, restock: true, refundMethod: {originalPaymentMethodsRefund: true}, notifyCustomer: false) { job { id done } jobResult { status } orderCancelUserErrors { field message code } } }`
	d := ok(t, s, cancel, map[string]any{"id": sd.order.ID})
	if dig(d, "orderCancel", "job", "done") != false || dig(d, "orderCancel", "jobResult", "status") != "STARTED" {
		t.Fatalf("cancel %v", d)
	}
	job := dig(d, "orderCancel", "job", "id")
	d = ok(t, s, `query($id: ID!) { job(id: $id) { done } }`, map[string]any{"id": job})
	if dig(d, "job", "done") != true {
		t.Errorf("job %v", d)
	}
	st, _ := s.OrderState(sd.order.ID)
	if !st.Cancelled || st.CancelReason != "CUSTOMER" || !st.Closed || st.FinancialStatus != "VOIDED" {
		t.Errorf("state %+v", st)
	}
	// Restocked: 10 + 3 socks.
	if n, _ := s.InventoryLevel("SOCK-1", sd.loc.ID); n != 13 {
		t.Errorf("socks %d after restock", n)
	}
	d = ok(t, s, cancel, map[string]any{"id": sd.order.ID})
	if dig(d, "orderCancel", "orderCancelUserErrors", 0, "code") != "INVALID" {
		t.Errorf("double cancel: %v", d)
	}

	o, err := s.AddOrder(Order{Lines: []LineItem{{SKU: "SOCK-1", Quantity: 1, UnitPrice: "89.00"}}, Transactions: []Transaction{{Kind: "SALE", Status: "PENDING", Gateway: "Invoice", Amount: "89.00"}}})
	if err != nil {
		t.Fatal(err)
	}
	paid := `mutation($id: ID!) { orderMarkAsPaid(input: {id: $id}) { order { displayFinancialStatus fullyPaid } userErrors { field message } } }`
	d = ok(t, s, paid, map[string]any{"id": o.ID})
	if dig(d, "orderMarkAsPaid", "order", "displayFinancialStatus") != "PAID" || dig(d, "orderMarkAsPaid", "order", "fullyPaid") != true {
		t.Errorf("mark paid %v", d)
	}
	d = ok(t, s, paid, map[string]any{"id": o.ID})
	if len(userErrors(d, "orderMarkAsPaid")) != 1 {
		t.Errorf("marking a paid order: %v", d)
	}
}

func TestRefundsReturnsPayouts(t *testing.T) {
	s := NewServer(WithClock(fixedClock()))
	defer s.Close()
	o, err := s.AddOrder(Order{TaxesIncluded: true, Lines: []LineItem{{SKU: "A", Title: "A", Quantity: 2, UnitPrice: "100.00", TaxLines: []TaxLine{{Title: "Moms", Rate: "0.25", Amount: "40.00"}}}},
		ShippingLines: []ShippingLine{{Title: "Frakt", Price: "50.00"}},
		Transactions:  []Transaction{{Kind: "SALE", Gateway: "shopify_payments", Amount: "250.00"}}})
	if err != nil {
		t.Fatal(err)
	}
	ret, err := s.AddReturn(o.ID, Return{Lines: []ReturnLine{{SKU: "A", Quantity: 1, Reason: "size_too_small"}}})
	if err != nil {
		t.Fatal(err)
	}
	rf, err := s.AddRefund(o.ID, Refund{Note: "retur", ReturnID: ret.ID, Lines: []RefundLine{{SKU: "A", Quantity: 1, RestockType: "RETURN"}}})
	if err != nil {
		t.Fatal(err)
	}
	d := ok(t, s, `query($id: ID!) { refund(id: $id) { note totalRefundedSet { shopMoney { amount } } return { name }
	  refundLineItems(first: 5) { nodes { quantity restockType subtotalSet { shopMoney { amount } } totalTaxSet { shopMoney { amount } } lineItem { sku } } }
	  transactions(first: 5) { nodes { kind gateway amountSet { shopMoney { amount } } } } } }`, map[string]any{"id": rf.ID})
	want := map[string]any{
		"note": "retur", "totalRefundedSet": map[string]any{"shopMoney": map[string]any{"amount": "100.0"}}, "return": map[string]any{"name": "#1001-R1"},
		"refundLineItems": map[string]any{"nodes": []any{map[string]any{"quantity": float64(1), "restockType": "RETURN", "subtotalSet": map[string]any{"shopMoney": map[string]any{"amount": "100.0"}}, "totalTaxSet": map[string]any{"shopMoney": map[string]any{"amount": "20.0"}}, "lineItem": map[string]any{"sku": "A"}}}},
		"transactions":    map[string]any{"nodes": []any{map[string]any{"kind": "REFUND", "gateway": "shopify_payments", "amountSet": map[string]any{"shopMoney": map[string]any{"amount": "100.0"}}}}},
	}
	if diff := cmp.Diff(want, d["refund"]); diff != "" {
		t.Errorf("refund (-want +got):\n%s", diff)
	}
	d = ok(t, s, `query($id: ID!) { order(id: $id) { displayFinancialStatus currentTotalPriceSet { shopMoney { amount } } refunds { id } returns(first: 5) { nodes { status returnLineItems(first: 5) { nodes { quantity ... on ReturnLineItem { returnReasonDefinition { handle } refundedQuantity } } } } } } }`, map[string]any{"id": o.ID})
	if dig(d, "order", "displayFinancialStatus") != "PARTIALLY_REFUNDED" || dig(d, "order", "currentTotalPriceSet", "shopMoney", "amount") != "150.0" {
		t.Errorf("order after refund %v", d)
	}
	if dig(d, "order", "returns", "nodes", 0, "returnLineItems", "nodes", 0, "returnReasonDefinition", "handle") != "size_too_small" {
		t.Errorf("return %v", d)
	}

	p, txs, err := s.AddPayout(Payout{Net: "236.30", IssuedAt: epoch, Summary: PayoutSummary{ChargesGross: "250.00", ChargesFee: "13.70"}},
		BalanceTransaction{Type: "CHARGE", Amount: "250.00", Fee: "13.70", OrderID: o.ID, SourceOrderTransactionID: 123})
	if err != nil {
		t.Fatal(err)
	}
	d = ok(t, s, `query($q: String) { shopifyPaymentsAccount { payouts(first: 5) { nodes { id status net { amount currencyCode } summary { chargesFee { amount } } } }
	  balanceTransactions(first: 5, query: $q) { nodes { type amount { amount } fee { amount } net { amount } sourceOrderTransactionId associatedOrder { id name } associatedPayout { id status } } } } }`,
		map[string]any{"q": fmt.Sprintf("payout_id:%s", p.ID[len("gid://shopify/ShopifyPaymentsPayout/"):])})
	bt := dig(d, "shopifyPaymentsAccount", "balanceTransactions", "nodes", 0)
	if dig(bt, "net", "amount") != "236.3" || dig(bt, "sourceOrderTransactionId") != "123" || dig(bt, "associatedPayout", "id") != p.ID || dig(bt, "associatedOrder", "name") != "#1001" {
		t.Errorf("balance transaction %v", bt)
	}
	if txs[0].Net != "236.3" || dig(d, "shopifyPaymentsAccount", "payouts", "nodes", 0, "net", "amount") != "236.3" {
		t.Errorf("payout %v %+v", d, txs)
	}
}
