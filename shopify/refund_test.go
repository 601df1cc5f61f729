package shopify_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/shopspring/decimal"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/connector"
	"github.com/knyt/knyt/connector/fault"
	"github.com/knyt/knyt/shopify"
	"github.com/knyt/knyt/shopify/shopifytest"
)

// capturedOrder seeds an order of two socks (199.00 each) and a shirt
// (400.00), VAT included, authorized for 798.00 by Shopify Payments and
// captured in the given parts, a minute apart, and fulfilled (the refunds
// are for returned goods). It returns the order and the captures' ids.
func capturedOrder(t testing.TB, srv *shopifytest.Server, name string, lines []shopifytest.LineItem, captures ...string) (shopifytest.Order, []string) {
	t.Helper()
	at := srv.Now().Add(-time.Hour).Truncate(time.Second)
	auth := fmt.Sprintf("gid://shopify/OrderTransaction/%d", 9007199254800000+seq.Add(1)*10)
	txs := []shopifytest.Transaction{{ID: auth, Kind: "AUTHORIZATION", Gateway: "shopify_payments", Amount: "798.00", AuthorizationCode: "auth-" + name, MultiCapturable: true, CreatedAt: at}}
	for i, amt := range captures {
		txs = append(txs, shopifytest.Transaction{Kind: "CAPTURE", Gateway: "shopify_payments", Amount: amt, ParentID: auth, CreatedAt: at.Add(time.Duration(i+1) * time.Minute)})
	}
	if lines == nil {
		lines = []shopifytest.LineItem{
			{SKU: "SOCK-1-S", Title: "Ullsocka", Quantity: 2, UnitPrice: "199.00", TaxLines: []shopifytest.TaxLine{{Title: "Moms", Rate: "0.25", Amount: "79.60"}}},
			{SKU: "SHIRT-1", Title: "Tröja", Quantity: 1, UnitPrice: "400.00", TaxLines: []shopifytest.TaxLine{{Title: "Moms", Rate: "0.25", Amount: "80.00"}}},
		}
	}
	o := seedOrder(t, srv, name, shopifytest.Order{TaxesIncluded: true, Lines: lines, Transactions: txs, CreatedAt: at})
	c, err := shopify.New(srv.Shop(), shopify.StaticToken(srv.AccessToken()), shopify.WithBaseURL(srv.URL()), shopify.WithHTTPClient(srv.Client()))
	if err != nil {
		t.Fatal(err)
	}
	f := commerce.Fulfillment{OrderNumber: name}
	for _, l := range o.Lines {
		f.Lines = append(f.Lines, commerce.FulfillmentLine{LineID: l.ID, Quantity: l.Quantity})
	}
	if _, err := c.Fulfill(context.Background(), f); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, tx := range o.Transactions[1:] {
		ids = append(ids, tx.ID)
	}
	return o, ids
}

// drawn is one REFUND transaction as the fake holds it: which capture
// (by index) and how much.
type drawn struct {
	Capture int
	Amount  string
}

type refundedLine struct {
	SKU         string
	Quantity    int
	RestockType string
}

// lastRefund returns what the order's newest refund drew on and recorded.
func lastRefund(t *testing.T, srv *shopifytest.Server, orderID string, captures []string) (shopifytest.Refund, []drawn, []refundedLine) {
	t.Helper()
	rs := srv.Refunds(orderID)
	if len(rs) == 0 {
		t.Fatal("no refund on the order")
	}
	r := rs[len(rs)-1]
	var ds []drawn
	for _, tx := range r.Transactions {
		i := -1
		for j, c := range captures {
			if c == tx.ParentID {
				i = j
			}
		}
		ds = append(ds, drawn{i, tx.Amount})
	}
	var ls []refundedLine
	for _, l := range r.Lines {
		ls = append(ls, refundedLine{l.SKU, l.Quantity, l.RestockType})
	}
	return r, ds, ls
}

func key(parts ...string) connector.CallOption {
	return connector.WithIdempotencyKey(connector.IdempotencyKey(append([]string{"test", "refund"}, parts...)...))
}

func TestRefundAgainstFake(t *testing.T) {
	ctx := context.Background()
	twoSocks := []shopifytest.LineItem{
		{SKU: "SOCK-1-S", Title: "Ullsocka", Quantity: 1, UnitPrice: "199.00"},
		{SKU: "SOCK-1-S", Title: "Ullsocka (present)", Quantity: 1, UnitPrice: "199.00"},
		{SKU: "SHIRT-1", Title: "Tröja", Quantity: 1, UnitPrice: "400.00"},
	}
	tests := []struct {
		name      string
		lines     []shopifytest.LineItem // the order's; nil: two socks and a shirt
		captures  []string
		earlier   string // refunded before, with another key
		amount    string
		named     int // index of the capture req.CaptureID names, or -1
		refLines  func(o shopifytest.Order) []commerce.RefundLine
		reference string         // req.PaymentReference; "auth" for the order's authorization code
		want      []drawn        // nil: refused
		wantLines []refundedLine // what the refund records
		wantErr   error          // when refused
		status    string         // the order's financial status after
	}{
		{name: "one capture", captures: []string{"798.00"}, amount: "199.00", named: -1, reference: "auth",
			refLines: func(shopifytest.Order) []commerce.RefundLine {
				return []commerce.RefundLine{{SKU: "SOCK-1-S", Quantity: 1, Amount: sek("199.00")}}
			},
			want: []drawn{{0, "199.0"}}, wantLines: []refundedLine{{"SOCK-1-S", 1, "NO_RESTOCK"}}, status: "PARTIALLY_REFUNDED"},
		{name: "spread over two captures, oldest first", captures: []string{"300.00", "498.00"}, amount: "500.00", named: -1,
			want: []drawn{{0, "300.0"}, {1, "200.0"}}, status: "PARTIALLY_REFUNDED"},
		{name: "the named capture first", captures: []string{"300.00", "498.00"}, amount: "600.00", named: 1,
			want: []drawn{{1, "498.0"}, {0, "102.0"}}, status: "PARTIALLY_REFUNDED"},
		{name: "what earlier refunds left", captures: []string{"300.00", "498.00"}, earlier: "250.00", amount: "100.00", named: -1,
			want: []drawn{{0, "50.0"}, {1, "50.0"}}, status: "PARTIALLY_REFUNDED"},
		{name: "a line by its id", captures: []string{"798.00"}, amount: "400.00", named: -1,
			refLines: func(o shopifytest.Order) []commerce.RefundLine {
				return []commerce.RefundLine{{LineID: o.Lines[1].ID, SKU: "SHIRT-1", Quantity: 1, Amount: sek("400.00")}}
			},
			want: []drawn{{0, "400.0"}}, wantLines: []refundedLine{{"SHIRT-1", 1, "NO_RESTOCK"}}, status: "PARTIALLY_REFUNDED"},
		{name: "an ambiguous SKU is left out, its money is not", lines: twoSocks, captures: []string{"798.00"}, amount: "598.00", named: -1,
			refLines: func(shopifytest.Order) []commerce.RefundLine {
				return []commerce.RefundLine{{SKU: "SOCK-1-S", Quantity: 1, Amount: sek("199.00")}, {SKU: "SHIRT-1", Quantity: 1, Amount: sek("399.00")}}
			},
			want: []drawn{{0, "598.0"}}, wantLines: []refundedLine{{"SHIRT-1", 1, "NO_RESTOCK"}}, status: "PARTIALLY_REFUNDED"},
		{name: "the whole order", captures: []string{"300.00", "498.00"}, amount: "798.00", named: -1,
			want: []drawn{{0, "300.0"}, {1, "498.0"}}, status: "REFUNDED"},
		{name: "more than was captured", captures: []string{"300.00", "498.00"}, amount: "798.01", named: -1, wantErr: connector.ErrValidation, status: "PAID"},
		{name: "more than earlier refunds left", captures: []string{"798.00"}, earlier: "700.00", amount: "98.01", named: -1, wantErr: connector.ErrValidation, status: "PARTIALLY_REFUNDED"},
		{name: "more than the part captured", captures: []string{"300.00"}, amount: "300.01", named: -1, wantErr: connector.ErrValidation, status: "PARTIALLY_PAID"},
		{name: "another payment", captures: []string{"798.00"}, amount: "1.00", named: -1, reference: "someone-else", wantErr: connector.ErrNotFound, status: "PAID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, c := newFake(t, nil)
			o, caps := capturedOrder(t, srv, "#3001", tt.lines, tt.captures...)
			if tt.earlier != "" {
				if _, err := c.Refund(ctx, connector.RefundRequest{OrderNumber: "#3001", Amount: sek(tt.earlier)}, key("earlier")); err != nil {
					t.Fatal(err)
				}
			}
			before := len(srv.Refunds(o.ID))
			req := connector.RefundRequest{OrderNumber: "3001", Amount: sek(tt.amount), Reason: "size_too_small"}
			if tt.named >= 0 {
				req.CaptureID = caps[tt.named]
			}
			if tt.refLines != nil {
				req.Lines = tt.refLines(o)
			}
			switch tt.reference {
			case "auth":
				req.PaymentReference = "auth-#3001"
			default:
				req.PaymentReference = tt.reference
			}
			r, err := c.Refund(ctx, req, key(tt.name))
			if st, _ := srv.OrderState(o.ID); st.FinancialStatus != tt.status {
				t.Errorf("financial status %s, want %s", st.FinancialStatus, tt.status)
			}
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				if n := len(srv.Refunds(o.ID)); n != before {
					t.Errorf("a refused refund wrote: %d refunds, had %d", n, before)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			made, ds, ls := lastRefund(t, srv, o.ID, caps)
			if diff := cmp.Diff(tt.want, ds); diff != "" {
				t.Errorf("transactions (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantLines, ls); diff != "" {
				t.Errorf("line items (-want +got):\n%s", diff)
			}
			if made.Note != "size_too_small" {
				t.Errorf("note %q", made.Note)
			}
			wantResult := commerce.Refund{ID: made.ID, OrderNumber: "#3001", Provider: "shopify_payments", Amount: sek(tt.amount),
				CaptureID: caps[tt.want[0].Capture], PaymentReference: caps[tt.want[0].Capture], Note: "size_too_small", Reason: "size_too_small"}
			for _, l := range tt.wantLines {
				wantResult.Lines = append(wantResult.Lines, commerce.RefundLine{SKU: l.SKU, Quantity: l.Quantity})
			}
			got := r
			if got.IdempotencyKey == "" || got.Source.ID != made.ID || len(got.Raw) == 0 || got.CreatedAt.IsZero() {
				t.Errorf("refund %+v lacks its key, origin or time", got)
			}
			if diff := cmp.Diff(wantResult, got, cmpopts.IgnoreFields(commerce.Refund{}, "Origin", "IdempotencyKey", "CreatedAt"),
				cmpopts.IgnoreFields(commerce.RefundLine{}, "LineID", "Amount")); diff != "" {
				t.Errorf("result (-want +got):\n%s", diff)
			}
		})
	}
}

// twoSocks seeds an order of two socks, captured in full by Shopify
// Payments and not shipped yet.
func twoSocks(t *testing.T, srv *shopifytest.Server, name string) shopifytest.Order {
	t.Helper()
	auth := fmt.Sprintf("gid://shopify/OrderTransaction/%d", 9007199254800000+seq.Add(1)*10)
	return seedOrder(t, srv, name, shopifytest.Order{TaxesIncluded: true,
		Lines: []shopifytest.LineItem{{SKU: "SOCK-1-S", Title: "Ullsocka", Quantity: 2, UnitPrice: "199.00"}},
		Transactions: []shopifytest.Transaction{{ID: auth, Kind: "AUTHORIZATION", Gateway: "shopify_payments", Amount: "398.00"},
			{Kind: "CAPTURE", Gateway: "shopify_payments", Amount: "398.00", ParentID: auth}}})
}

// A line item with units still to ship is left out of the refund's line
// items (Shopify could take the refunded units from the open ones); its
// money is refunded all the same.
func TestRefundLeavesOutLinesWithOpenUnits(t *testing.T) {
	ctx := context.Background()
	srv, c := newFake(t, nil)
	o := twoSocks(t, srv, "#3002")
	if _, err := c.Fulfill(ctx, commerce.Fulfillment{OrderNumber: "#3002", Lines: []commerce.FulfillmentLine{{SKU: "SOCK-1-S", Quantity: 1}}}); err != nil {
		t.Fatal(err)
	}
	r, err := c.Refund(ctx, connector.RefundRequest{OrderNumber: "#3002", Amount: sek("199.00"), Reason: "retur",
		Lines: []commerce.RefundLine{{SKU: "SOCK-1-S", Quantity: 1, Amount: sek("199.00")}}}, key("open"))
	if err != nil {
		t.Fatal(err)
	}
	made, _, ls := lastRefund(t, srv, o.ID, nil)
	if len(ls) != 0 || len(r.Lines) != 0 || !r.Amount.Equal(sek("199.00")) || made.ID != r.ID {
		t.Errorf("refund %s of %s with lines %+v (result %+v)", made.ID, r.Amount, ls, r.Lines)
	}
	// The unit still to ship stays open.
	if _, err := c.Fulfill(ctx, commerce.Fulfillment{OrderNumber: "#3002", Lines: []commerce.FulfillmentLine{{SKU: "SOCK-1-S", Quantity: 1}}}); err != nil {
		t.Errorf("the open unit: %v", err)
	}
}

// TestRefundIsTheFeedsRefund reads a refund made with Refund back through
// the refunds feed: the same refund, with the same id.
func TestRefundIsTheFeedsRefund(t *testing.T) {
	ctx := context.Background()
	srv, c := newFake(t, nil)
	o, _ := capturedOrder(t, srv, "#3001", nil, "798.00")
	r, err := c.Refund(ctx, connector.RefundRequest{OrderNumber: "#3001", Amount: sek("199.00"), Reason: "retur",
		Lines: []commerce.RefundLine{{LineID: o.Lines[0].ID, SKU: "SOCK-1-S", Quantity: 1, Amount: sek("199.00")}}}, key("feed"))
	if err != nil {
		t.Fatal(err)
	}
	var feed []commerce.Refund
	if _, err := connector.Drain(ctx, c.Refunds(), "", func(_ context.Context, rs []commerce.Refund) error {
		feed = append(feed, rs...)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(feed) != 1 {
		t.Fatalf("feed = %+v", feed)
	}
	// The feed reads the refund with larger pages, so its raw payload is
	// its own; everything mapped from it is the same.
	if diff := cmp.Diff(feed[0], r, cmpopts.IgnoreFields(commerce.Refund{}, "IdempotencyKey", "Reason", "Origin.Raw")); diff != "" {
		t.Errorf("Refund's result and the feed's refund differ (-feed +Refund):\n%s", diff)
	}
	if !r.Lines[0].Amount.Equal(sek("199.00")) || r.Lines[0].LineID != o.Lines[0].ID {
		t.Errorf("lines %+v", r.Lines)
	}
}

// loseRefundAnswers makes the next n refundCreate requests apply without
// an answer.
func loseRefundAnswers(srv *shopifytest.Server, n int) {
	srv.Faults().InjectN(fault.Fault{Kind: fault.LostAnswer, Match: operation("RefundCreate")}, n)
}

func TestRefundIdempotencyAgainstFake(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name     string
		captures []string
		amount   string
		lost     int  // refundCreate answers lost in the first call
		restart  bool // the repeat comes from a new client
		replays  int  // answers the fake gave from its idempotency record
	}{
		{name: "repeat after the answer arrived", captures: []string{"798.00"}, amount: "100.00"},
		{name: "an answer lost once: the call's own retry", captures: []string{"798.00"}, amount: "100.00", lost: 1, replays: 1},
		{name: "every answer lost: the caller's retry", captures: []string{"798.00"}, amount: "100.00", lost: 3, replays: 3},
		{name: "every answer lost, retry after a restart, the request unchanged", captures: []string{"798.00"}, amount: "100.00", lost: 3, restart: true, replays: 3},
		{name: "every answer lost, retry after a restart, the capture used up", captures: []string{"798.00"}, amount: "798.00", lost: 3, restart: true, replays: 2},
		// 300.00 + 50.00 at first; then 350.00 on the second capture alone,
		// which Shopify refuses as the key's parameters changed.
		{name: "every answer lost, retry after a restart, the spread changed", captures: []string{"300.00", "498.00"}, amount: "350.00", lost: 3, restart: true, replays: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, c := newFake(t, nil)
			o, _ := capturedOrder(t, srv, "#3001", nil, tt.captures...)
			req := connector.RefundRequest{OrderNumber: "#3001", Amount: sek(tt.amount), Reason: "retur",
				Lines: []commerce.RefundLine{{SKU: "SHIRT-1", Quantity: 1, Amount: sek("400.00")}}}
			k := key("1")
			loseRefundAnswers(srv, tt.lost)
			first, err := c.Refund(ctx, req, k)
			if tt.lost >= 3 {
				if err == nil || !connector.IsRetryable(err) {
					t.Fatalf("first call: %v, want a retryable error", err)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			srv.Faults().Reset()
			if tt.restart {
				_, c = newClientFor(t, srv)
			}
			again, err := c.Refund(ctx, req, k)
			if err != nil {
				t.Fatalf("repeat: %v", err)
			}
			rs := srv.Refunds(o.ID)
			if len(rs) != 1 || again.ID != rs[0].ID || first.ID != "" && first.ID != again.ID {
				t.Fatalf("first %q, repeat %q; the fake holds %+v", first.ID, again.ID, rs)
			}
			if st, _ := srv.OrderState(o.ID); countKind(st.Transactions, "REFUND") != len(rs[0].Transactions) {
				t.Errorf("REFUND transactions %+v", st.Transactions)
			}
			if got := srv.Stats().IdempotentReplays; got != tt.replays {
				t.Errorf("%d answers from the idempotency record, want %d", got, tt.replays)
			}
			// And once more: still the one refund.
			if third, err := c.Refund(ctx, req, k); err != nil || third.ID != again.ID || len(srv.Refunds(o.ID)) != 1 {
				t.Errorf("third call: %v %v", third.ID, err)
			}
		})
	}
}

// A refund made, its answer lost, then the line shipped in full before the
// retry after a restart: the retry sends other line items, Shopify refuses
// the key's new parameters, and the refund is found by the reference its
// note carries.
func TestRefundFoundByReferenceAfterTheLinesChanged(t *testing.T) {
	ctx := context.Background()
	srv, c := newFake(t, nil)
	o := twoSocks(t, srv, "#3003")
	ship := func() {
		t.Helper()
		if _, err := c.Fulfill(ctx, commerce.Fulfillment{OrderNumber: "#3003", Lines: []commerce.FulfillmentLine{{SKU: "SOCK-1-S", Quantity: 1}}}); err != nil {
			t.Fatal(err)
		}
	}
	ship()
	req := connector.RefundRequest{OrderNumber: "#3003", Amount: sek("199.00"), Reason: "retur", Reference: "R-1",
		Lines: []commerce.RefundLine{{SKU: "SOCK-1-S", Quantity: 1, Amount: sek("199.00")}}}
	k := key("by-reference")
	loseRefundAnswers(srv, 3)
	if _, err := c.Refund(ctx, req, k); err == nil {
		t.Fatal("first call: no error, want the lost answers")
	}
	srv.Faults().Reset()
	ship()
	_, c = newClientFor(t, srv)
	again, err := c.Refund(ctx, req, k)
	rs := srv.Refunds(o.ID)
	if err != nil || len(rs) != 1 || again.ID != rs[0].ID || rs[0].Note != "retur [R-1]" {
		t.Fatalf("retry: %v %v; the fake holds %+v", again.ID, err, rs)
	}
}

func countKind(txs []shopifytest.Transaction, kind string) int {
	n := 0
	for _, t := range txs {
		if t.Kind == kind {
			n++
		}
	}
	return n
}

// TestRefundKeysTellRefundsApart makes the same refund twice with two
// keys, and once more from a new client: three refunds.
func TestRefundKeysTellRefundsApart(t *testing.T) {
	ctx := context.Background()
	srv, c := newFake(t, nil)
	o, _ := capturedOrder(t, srv, "#3001", nil, "798.00")
	req := connector.RefundRequest{OrderNumber: "#3001", Amount: sek("199.00"), Reason: "size_too_small",
		Lines: []commerce.RefundLine{{SKU: "SOCK-1-S", Quantity: 1, Amount: sek("199.00")}}}
	ids := map[string]bool{}
	for i, cl := range []*shopify.Client{c, c, nil} {
		if cl == nil {
			_, cl = newClientFor(t, srv)
		}
		r, err := cl.Refund(ctx, req, key(fmt.Sprint(i)))
		if err != nil {
			t.Fatalf("refund %d: %v", i, err)
		}
		ids[r.ID] = true
		if i == 1 {
			req.Lines = nil // both socks are refunded
		}
	}
	if len(ids) != 3 || len(srv.Refunds(o.ID)) != 3 {
		t.Errorf("ids %v, the fake holds %d refunds", ids, len(srv.Refunds(o.ID)))
	}
}

func TestRefundRefusals(t *testing.T) {
	ctx := context.Background()
	srv, c := newFake(t, nil)
	o, caps := capturedOrder(t, srv, "#3001", nil, "798.00")
	req := connector.RefundRequest{OrderNumber: "#3001", Amount: sek("100.00")}
	tests := []struct {
		name  string
		req   connector.RefundRequest
		opts  []connector.CallOption
		err   error
		field string
	}{
		{"no idempotency key", req, nil, connector.ErrValidation, "idempotency_key"},
		{"a blank idempotency key", req, []connector.CallOption{connector.WithIdempotencyKey(" ")}, connector.ErrValidation, "idempotency_key"},
		{"no amount", connector.RefundRequest{OrderNumber: "#3001"}, []connector.CallOption{key("x")}, connector.ErrValidation, "amount"},
		{"inexact amount", connector.RefundRequest{OrderNumber: "#3001", Amount: commerce.NewMoney(decimal.RequireFromString("1.005"), commerce.SEK)}, []connector.CallOption{key("x")}, connector.ErrValidation, "amount"},
		{"in another currency than the order's", connector.RefundRequest{OrderNumber: "#3001", Amount: commerce.NewMoney(decimal.RequireFromString("1.00"), commerce.EUR)}, []connector.CallOption{key("x")}, connector.ErrValidation, "amount"},
		{"a line without quantity", connector.RefundRequest{OrderNumber: "#3001", Amount: sek("1.00"), Lines: []commerce.RefundLine{{SKU: "SOCK-1-S"}}}, []connector.CallOption{key("x")}, connector.ErrValidation, "lines[0].quantity"},
		{"an unknown order", connector.RefundRequest{OrderNumber: "#9999", Amount: sek("1.00")}, []connector.CallOption{key("x")}, connector.ErrNotFound, "order_number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Refund(ctx, tt.req, tt.opts...)
			var ce *connector.Error
			if !errors.Is(err, tt.err) || !errors.As(err, &ce) || ce.Field != tt.field || ce.System != "shopify" {
				t.Errorf("err = %v, want %v on field %s", err, tt.err, tt.field)
			}
		})
	}

	// A dry run checks the request against the order and sends nothing.
	dry, err := c.Refund(ctx, req, key("dry"), connector.WithDryRun())
	if err != nil {
		t.Fatal(err)
	}
	want := commerce.Refund{OrderNumber: "#3001", Provider: "shopify_payments", CaptureID: caps[0], PaymentReference: caps[0], Amount: sek("100.00"),
		IdempotencyKey: connector.ApplyCallOptions([]connector.CallOption{key("dry")}).IdempotencyKey}
	if diff := cmp.Diff(want, dry); diff != "" {
		t.Errorf("dry run (-want +got):\n%s", diff)
	}
	if _, err := c.Refund(ctx, connector.RefundRequest{OrderNumber: "#3001", Amount: sek("798.01")}, key("dry-over"), connector.WithDryRun()); !errors.Is(err, connector.ErrValidation) {
		t.Errorf("dry run over the captures: %v", err)
	}
	if rs := srv.Refunds(o.ID); len(rs) != 0 {
		t.Errorf("refusals and a dry run wrote %+v", rs)
	}
	// The dry run's key is free for the real refund.
	if r, err := c.Refund(ctx, req, key("dry")); err != nil || r.ID == "" {
		t.Errorf("after the dry run: %+v %v", r, err)
	}
}

func TestRefundPresentmentCurrency(t *testing.T) {
	ctx := context.Background()
	eur := func(s string) commerce.Money { return commerce.NewMoney(decimal.RequireFromString(s), commerce.EUR) }
	tests := []struct {
		name string
		kind shopify.MoneyKind
		want commerce.Money
	}{
		{"mapped in the shop currency", shopify.ShopMoney, sek("115.00")},
		{"mapped in the presentment currency", shopify.PresentmentMoney, eur("10.00")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, c := newFake(t, nil, shopify.WithOrderMoney(tt.kind))
			o := seedOrder(t, srv, "#2001", shopifytest.Order{
				PresentmentCurrency: "EUR", ExchangeRate: "11.5",
				Lines: []shopifytest.LineItem{{SKU: "X-1", Quantity: 1, UnitPrice: "40.00"}},
				Transactions: []shopifytest.Transaction{
					{ID: "gid://shopify/OrderTransaction/9007199254900001", Kind: "AUTHORIZATION", Gateway: "shopify_payments", Amount: "40.00"},
					{Kind: "CAPTURE", Gateway: "shopify_payments", Amount: "40.00", ParentID: "gid://shopify/OrderTransaction/9007199254900001"},
				},
			})
			if _, err := c.Refund(ctx, connector.RefundRequest{OrderNumber: "#2001", Amount: sek("115.00")}, key("sek")); !errors.Is(err, connector.ErrValidation) {
				t.Errorf("a refund in the shop currency: %v", err)
			}
			// The fake refuses a refund of a EUR order that does not name
			// EUR, so getting through shows the request named it.
			r, err := c.Refund(ctx, connector.RefundRequest{OrderNumber: "#2001", Amount: eur("10.00")}, key("eur"))
			if err != nil {
				t.Fatal(err)
			}
			if !r.Amount.Equal(tt.want) {
				t.Errorf("amount %s, want %s", r.Amount, tt.want)
			}
			if _, ds, _ := lastRefund(t, srv, o.ID, []string{o.Transactions[1].ID}); !cmp.Equal(ds, []drawn{{0, "10.0"}}) {
				t.Errorf("transactions %+v, want 10.0 EUR on the capture", ds)
			}
		})
	}
}

// TestRefundInPayout settles the Shopify Payments balance after a refund:
// the payout holds the refund, pointing back to its transaction.
func TestRefundInPayout(t *testing.T) {
	ctx := context.Background()
	srv, c := newFake(t, nil)
	capturedOrder(t, srv, "#3001", nil, "798.00")
	r, err := c.Refund(ctx, connector.RefundRequest{OrderNumber: "#3001", Amount: sek("199.00")}, key("payout"))
	if err != nil {
		t.Fatal(err)
	}
	p, _, ok, err := srv.SettlePayout(shopifytest.Payout{})
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	var kinds []commerce.TransactionKind
	var refundTx commerce.Transaction
	for tx, err := range c.PayoutTransactions(ctx, p.ID) {
		if err != nil {
			t.Fatal(err)
		}
		kinds = append(kinds, tx.Kind)
		if tx.Kind == commerce.TxRefund {
			refundTx = tx
		}
	}
	if diff := cmp.Diff([]commerce.TransactionKind{commerce.TxRefund, commerce.TxPayout}, kinds); diff != "" {
		t.Errorf("payout transactions (-want +got):\n%s", diff)
	}
	made := srv.Refunds(srv.OrderIDs()[0])[0]
	if !refundTx.Amount.Equal(sek("-199.00")) || refundTx.References.OrderNumber != "#3001" || refundTx.References.PaymentReference != made.Transactions[0].ID || made.ID != r.ID {
		t.Errorf("refund in the payout: %+v", refundTx)
	}
}
