package shopifytest

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/knyt/knyt/connector/fault"
)

const refundCreateDoc = `mutation($input: RefundInput!, $key: String!) {
  refundCreate(input: $input) @idempotent(key: $key) {
    refund {
      id
      note
      totalRefundedSet { presentmentMoney { amount currencyCode } shopMoney { amount currencyCode } }
      refundLineItems(first: 5) { nodes { quantity restockType lineItem { id } subtotalSet { presentmentMoney { amount } } } }
      transactions(first: 5) { nodes { kind status gateway amountSet { presentmentMoney { amount } } parentTransaction { id } } }
    }
    order { displayFinancialStatus totalRefundedSet { presentmentMoney { amount } } refunds { id } }
    userErrors { field message }
  }
}`

// paidOrder is an order of two socks (100.00 each) and a shirt (200.00)
// authorized for 400.00 and captured in two parts, 250.00 then 150.00.
type paidOrder struct {
	Order
	auth, cap1, cap2 string
	sock, shirt      string // line item GIDs
}

func addPaidOrder(t testing.TB, s *Server, n int64, presentment, rate string) paidOrder {
	t.Helper()
	tx := func(k int64) string { return gid("OrderTransaction", idBase+1_000_000*n+k) }
	p := paidOrder{auth: tx(1), cap1: tx(2), cap2: tx(3)}
	o, err := s.AddOrder(Order{
		PresentmentCurrency: presentment, ExchangeRate: rate, TaxesIncluded: true,
		Lines: []LineItem{{SKU: "SOCK-1", Quantity: 2, UnitPrice: "100.00"}, {SKU: "SHIRT-S", Quantity: 1, UnitPrice: "200.00"}},
		Transactions: []Transaction{
			{ID: p.auth, Kind: "AUTHORIZATION", Gateway: "shopify_payments", Amount: "400.00", MultiCapturable: true},
			{ID: p.cap1, Kind: "CAPTURE", Gateway: "shopify_payments", Amount: "250.00", ParentID: p.auth},
			{ID: p.cap2, Kind: "CAPTURE", Gateway: "shopify_payments", Amount: "150.00", ParentID: p.auth},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	p.Order, p.sock, p.shirt = o, o.Lines[0].ID, o.Lines[1].ID
	return p
}

func refundTx(orderID, parent, amount string) map[string]any {
	return map[string]any{"orderId": orderID, "parentId": parent, "amount": amount, "gateway": "shopify_payments", "kind": "REFUND"}
}

func TestRefundCreateRules(t *testing.T) {
	s := NewServer(WithClock(fixedClock()))
	defer s.Close()
	sd := seedShop(t, s)
	p := addPaidOrder(t, s, 1, "", "")
	other := addPaidOrder(t, s, 2, "", "")
	eur := addPaidOrder(t, s, 3, "EUR", "11.5")
	prior, err := s.AddRefund(other.ID, Refund{Transactions: []Transaction{{Kind: "REFUND", Gateway: "shopify_payments", Amount: "100.00"}}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		input map[string]any
		field []any // nil: the error has no field
		msg   string
	}{
		{"unknown order", map[string]any{"orderId": "gid://shopify/Order/1", "transactions": []any{refundTx(p.ID, p.cap1, "1.00")}}, []any{"orderId"}, "Order does not exist"},
		{"parent that does not exist", map[string]any{"orderId": p.ID, "transactions": []any{refundTx(p.ID, "gid://shopify/OrderTransaction/1", "1.00")}},
			[]any{"transactions", "0", "parentId"}, "does not exist"},
		{"parent of another order", map[string]any{"orderId": p.ID, "transactions": []any{refundTx(p.ID, other.cap1, "1.00")}},
			[]any{"transactions", "0", "parentId"}, "does not exist"},
		{"parent is the authorization", map[string]any{"orderId": p.ID, "transactions": []any{refundTx(p.ID, p.auth, "1.00")}},
			[]any{"transactions", "0", "parentId"}, "successful capture or sale"},
		{"transaction of another order", map[string]any{"orderId": p.ID, "transactions": []any{refundTx(other.ID, p.cap1, "1.00")}},
			[]any{"transactions", "0", "orderId"}, "must belong"},
		{"more than the capture holds", map[string]any{"orderId": p.ID, "transactions": []any{refundTx(p.ID, p.cap2, "150.01")}},
			[]any{"transactions", "0", "amount"}, "exceeds the refundable amount 150.0"},
		{"two parts over one capture", map[string]any{"orderId": p.ID, "transactions": []any{refundTx(p.ID, p.cap2, "100.00"), refundTx(p.ID, p.cap2, "50.01")}},
			[]any{"transactions", "1", "amount"}, "exceeds the refundable amount 50.0"},
		{"more than was paid", map[string]any{"orderId": other.ID, "transactions": []any{refundTx(other.ID, other.cap1, "250.00"), refundTx(other.ID, other.cap2, "150.00")}},
			[]any{"transactions"}, "exceeds the amount paid"},
		{"not a refund", map[string]any{"orderId": p.ID, "transactions": []any{map[string]any{"orderId": p.ID, "parentId": p.cap1, "amount": "1.00", "gateway": "shopify_payments", "kind": "SALE"}}},
			[]any{"transactions", "0", "kind"}, "must be of kind REFUND"},
		{"another gateway", map[string]any{"orderId": p.ID, "transactions": []any{map[string]any{"orderId": p.ID, "parentId": p.cap1, "amount": "1.00", "gateway": "manual", "kind": "REFUND"}}},
			[]any{"transactions", "0", "gateway"}, "shopify_payments"},
		{"fractions of a cent", map[string]any{"orderId": p.ID, "transactions": []any{refundTx(p.ID, p.cap1, "1.005")}},
			[]any{"transactions", "0", "amount"}, "too many decimal places"},
		{"no parent and none of the gateway fits", map[string]any{"orderId": p.ID, "transactions": []any{map[string]any{"orderId": p.ID, "amount": "251.00", "gateway": "shopify_payments", "kind": "REFUND"}}},
			[]any{"transactions", "0"}, "can refund 251.0"},
		{"more units than are refundable", map[string]any{"orderId": p.ID, "refundLineItems": []any{map[string]any{"lineItemId": p.sock, "quantity": 3}}},
			[]any{"refundLineItems", "0", "quantity"}, "refundable quantity 2"},
		{"the same line twice over its quantity", map[string]any{"orderId": p.ID, "refundLineItems": []any{map[string]any{"lineItemId": p.sock, "quantity": 2}, map[string]any{"lineItemId": p.sock, "quantity": 1}}},
			[]any{"refundLineItems", "1", "quantity"}, "refundable quantity 2"},
		{"a line of another order", map[string]any{"orderId": p.ID, "refundLineItems": []any{map[string]any{"lineItemId": other.sock, "quantity": 1}}},
			[]any{"refundLineItems", "0", "lineItemId"}, "does not exist"},
		{"legacy restock", map[string]any{"orderId": p.ID, "refundLineItems": []any{map[string]any{"lineItemId": p.sock, "quantity": 1, "restockType": "LEGACY_RESTOCK"}}},
			[]any{"refundLineItems", "0", "restockType"}, "not accepted"},
		{"restock at an unknown location", map[string]any{"orderId": p.ID, "refundLineItems": []any{map[string]any{"lineItemId": p.sock, "quantity": 1, "restockType": "RETURN", "locationId": "gid://shopify/Location/1"}}},
			[]any{"refundLineItems", "0", "locationId"}, "Location does not exist"},
		{"nothing to refund", map[string]any{"orderId": p.ID}, nil, "needs line items, shipping or transactions"},
		{"presentment currency not named", map[string]any{"orderId": eur.ID, "transactions": []any{refundTx(eur.ID, eur.cap1, "1.00")}}, []any{"currency"}, "required"},
		{"shop currency named", map[string]any{"orderId": eur.ID, "currency": "SEK", "transactions": []any{refundTx(eur.ID, eur.cap1, "1.00")}}, []any{"currency"}, "presentment currency EUR"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := ok(t, s, refundCreateDoc, map[string]any{"input": tt.input, "key": fmt.Sprintf("rule-%d", i)})
			ue := userErrors(d, "refundCreate")
			if len(ue) != 1 || !strings.Contains(dig(ue, 0, "message").(string), tt.msg) {
				t.Fatalf("userErrors = %v, want one saying %q", ue, tt.msg)
			}
			if got, _ := dig(ue, 0, "field").([]any); len(got)+len(tt.field) > 0 && !cmp.Equal(got, tt.field) {
				t.Errorf("field = %v, want %v", got, tt.field)
			}
			if dig(d, "refundCreate", "refund") != nil {
				t.Errorf("a refused refund was answered: %v", d)
			}
		})
	}
	for _, o := range []paidOrder{p, eur} {
		if rs := s.Refunds(o.ID); len(rs) != 0 {
			t.Errorf("refused refunds changed %s: %+v", o.Name, rs)
		}
	}
	if rs := s.Refunds(other.ID); len(rs) != 1 || rs[0].ID != prior.ID {
		t.Errorf("refunds of the other order: %+v", rs)
	}
	if n, _ := s.InventoryLevel("SOCK-1", sd.loc.ID); n != 10 {
		t.Errorf("refused refunds restocked: %d", n)
	}
}

func TestRefundCreateApplies(t *testing.T) {
	s := NewServer(WithClock(fixedClock()))
	defer s.Close()
	sd := seedShop(t, s)
	p := addPaidOrder(t, s, 1, "", "")

	// A return of one sock (restocked) and the shirt (not), 300.00 drawn on
	// both captures.
	input := map[string]any{
		"orderId": p.ID, "note": "retur", "notify": false,
		"refundLineItems": []any{
			map[string]any{"lineItemId": p.sock, "quantity": 1, "restockType": "RETURN", "locationId": sd.loc.ID},
			map[string]any{"lineItemId": p.shirt, "quantity": 1, "restockType": "NO_RESTOCK"},
		},
		"transactions": []any{refundTx(p.ID, p.cap1, "250.00"), refundTx(p.ID, p.cap2, "50.00")},
	}
	d := ok(t, s, refundCreateDoc, map[string]any{"input": input, "key": "r-1"})
	if ue := userErrors(d, "refundCreate"); len(ue) != 0 {
		t.Fatalf("userErrors %v", ue)
	}
	rf := dig(d, "refundCreate", "refund")
	if got := dig(rf, "totalRefundedSet", "presentmentMoney", "amount"); got != "300.0" {
		t.Errorf("totalRefundedSet = %v, want the transactions' 300.0 (not the lines')", got)
	}
	if got := dig(d, "refundCreate", "order", "displayFinancialStatus"); got != "PARTIALLY_REFUNDED" {
		t.Errorf("financial status %v", got)
	}
	if got := dig(d, "refundCreate", "order", "refunds", 0, "id"); got != dig(rf, "id") {
		t.Errorf("order.refunds = %v", dig(d, "refundCreate", "order", "refunds"))
	}
	want := []Refund{{
		ID: dig(rf, "id").(string), Note: "retur", CreatedAt: epoch,
		Lines: []RefundLine{
			{LineItemID: p.sock, SKU: "SOCK-1", Quantity: 1, RestockType: "RETURN", Subtotal: "100.0", Tax: "0.0"},
			{LineItemID: p.shirt, SKU: "SHIRT-S", Quantity: 1, RestockType: "NO_RESTOCK", Subtotal: "200.0", Tax: "0.0"},
		},
		Transactions: []Transaction{
			{Kind: "REFUND", Status: "SUCCESS", Gateway: "shopify_payments", Amount: "250.0", ParentID: p.cap1, CreatedAt: epoch},
			{Kind: "REFUND", Status: "SUCCESS", Gateway: "shopify_payments", Amount: "50.0", ParentID: p.cap2, CreatedAt: epoch},
		},
	}}
	// The transactions' own ids are the fake's to assign.
	if diff := cmp.Diff(want, s.Refunds(p.ID), cmpopts.IgnoreFields(Transaction{}, "ID")); diff != "" {
		t.Errorf("refunds (-want +got):\n%s", diff)
	}
	if n, _ := s.InventoryLevel("SOCK-1", sd.loc.ID); n != 11 {
		t.Errorf("SOCK-1 available %d after a RETURN restock, want 11", n)
	}

	// The rest: the second capture's 100.00 and the other sock; the order
	// is refunded in full and nothing is left to fulfil.
	rest := map[string]any{"orderId": p.ID,
		"refundLineItems": []any{map[string]any{"lineItemId": p.sock, "quantity": 1}},
		"transactions":    []any{refundTx(p.ID, p.cap2, "100.00")}}
	d = ok(t, s, refundCreateDoc, map[string]any{"input": rest, "key": "r-2"})
	if got := dig(d, "refundCreate", "order", "displayFinancialStatus"); got != "REFUNDED" {
		t.Errorf("after refunding everything: %v %v", got, userErrors(d, "refundCreate"))
	}
	if got := dig(d, "refundCreate", "order", "totalRefundedSet", "presentmentMoney", "amount"); got != "400.0" {
		t.Errorf("totalRefundedSet %v", got)
	}
	fo := ok(t, s, `query($id: ID!) { order(id: $id) { fulfillmentOrders(first: 1) { nodes { status lineItems(first: 5) { nodes { remainingQuantity totalQuantity } } } } } }`, map[string]any{"id": p.ID})
	if got := dig(fo, "order", "fulfillmentOrders", "nodes", 0, "status"); got != "CLOSED" {
		t.Errorf("fulfillment order of a refunded order: %v", fo)
	}

	// Each Shopify Payments refund is a pending REFUND balance transaction
	// until a payout settles it.
	bts := ok(t, s, `{ shopifyPaymentsAccount { balanceTransactions(first: 10) { nodes { type amount { amount currencyCode } associatedOrder { id } associatedPayout { id status } } } } }`, nil)
	nodes := dig(bts, "shopifyPaymentsAccount", "balanceTransactions", "nodes").([]any)
	if len(nodes) != 3 || dig(nodes, 0, "type") != "REFUND" || dig(nodes, 0, "amount", "amount") != "-250.0" || dig(nodes, 0, "associatedPayout", "status") != "PENDING" || dig(nodes, 0, "associatedOrder", "id") != p.ID {
		t.Fatalf("balance transactions %v", nodes)
	}
	payout, txs, settled, err := s.SettlePayout(Payout{})
	if err != nil || !settled {
		t.Fatal(settled, err)
	}
	if payout.Net != "400.0" || payout.TransactionType != "WITHDRAWAL" || len(txs) != 4 || txs[3].Type != "TRANSFER" || txs[3].Amount != "400.0" {
		t.Errorf("payout %+v with %+v", payout, txs)
	}
	if _, _, again, _ := s.SettlePayout(Payout{}); again {
		t.Error("a second settlement found pending transactions")
	}
}

func TestRefundCreateIdempotency(t *testing.T) {
	s := NewServer(WithClock(fixedClock()))
	defer s.Close()
	seedShop(t, s)
	p := addPaidOrder(t, s, 1, "", "")
	input := map[string]any{"orderId": p.ID, "transactions": []any{refundTx(p.ID, p.cap1, "10.00")}}

	noKey := `mutation($input: RefundInput!) { refundCreate(input: $input) { refund { id } userErrors { message } } }`
	if r := do(t, s, noKey, map[string]any{"input": input}); r.code() != "BAD_REQUEST" || dig(r.Data, "refundCreate") != nil {
		t.Errorf("refundCreate without @idempotent: %s", r.Raw)
	}

	first := ok(t, s, refundCreateDoc, map[string]any{"input": input, "key": "k"})
	again := ok(t, s, refundCreateDoc, map[string]any{"input": input, "key": "k"})
	if id := dig(first, "refundCreate", "refund", "id"); id == nil || id != dig(again, "refundCreate", "refund", "id") {
		t.Errorf("replay answered %v, first %v", dig(again, "refundCreate", "refund", "id"), id)
	}
	if got := s.Stats().IdempotentReplays; got != 1 {
		t.Errorf("IdempotentReplays = %d", got)
	}

	// refundCreate's userErrors have no code, so the mismatch is a
	// top-level error with the code.
	other := map[string]any{"orderId": p.ID, "transactions": []any{refundTx(p.ID, p.cap1, "11.00")}}
	r := do(t, s, refundCreateDoc, map[string]any{"input": other, "key": "k"})
	if r.code() != "IDEMPOTENCY_KEY_PARAMETER_MISMATCH" || dig(r.Data, "refundCreate") != nil {
		t.Errorf("same key, other input: %s", r.Raw)
	}

	// The answer is lost after the refund was made; the retry with the key
	// gets the first answer and refunds nothing more.
	lost := `mutation { refundCreate(input: {orderId: "` + p.ID + `", transactions: [{orderId: "` + p.ID + `", parentId: "` + p.cap2 +
		`", amount: "20.00", gateway: "shopify_payments", kind: REFUND}]}) @idempotent(key: "lost") { refund { id } userErrors { message } } }`
	s.Faults().Inject(fault.Fault{Kind: fault.LostAnswer})
	if _, _, err := rawPost(context.Background(), s, s.AccessToken(), lost); err == nil {
		t.Fatal("the lost answer arrived")
	}
	retry := ok(t, s, lost, nil)
	refunds := s.Refunds(p.ID)
	if len(refunds) != 2 || dig(retry, "refundCreate", "refund", "id") != refunds[1].ID {
		t.Fatalf("after a lost answer and a retry: answer %v, refunds %+v", retry, refunds)
	}
	if st, _ := s.OrderState(p.ID); countKind(st.Transactions, "REFUND") != 2 {
		t.Errorf("transactions %+v", st.Transactions)
	}
}

func countKind(txs []Transaction, kind string) int {
	n := 0
	for _, t := range txs {
		if t.Kind == kind {
			n++
		}
	}
	return n
}
