package flow

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/connector"
)

func delivered(id, order string, lines ...commerce.FulfillmentLine) commerce.OrderEvent {
	return commerce.OrderEvent{ID: id, Kind: commerce.EventDelivered, OrderNumber: order, Lines: lines,
		Tracking: []commerce.Tracking{{Number: "PN" + id, Company: "PostNord"}}}
}

// statusRig has order 1001 (3 × 33.33 + 1 × 100.00 + 49.00 shipping =
// 248.99, authorized in full) in the ERP.
func statusRig(t *testing.T, mod func(*Config)) *rig {
	r := newRig(t, func(c *Config) {
		c.Shops[0].Orders.Articles = "connector"
		c.Shops[0].NotifyCustomer = true
		if mod != nil {
			mod(c)
		}
	})
	o := newOrder("1001", commerce.FinancialAuthorized, grossLine("a", "A", 3, "33.33", ""), grossLine("b", "B", 1, "100.00", ""))
	r.psp.authorize("pay-1001", o.Totals.Total)
	r.shop.addOrders(o)
	r.sync()
	if _, ok := r.erp.order("1001"); !ok {
		t.Fatal("order not transferred")
	}
	return r
}

func TestPartialDeliveriesFulfillAndCaptureExactly(t *testing.T) {
	r := statusRig(t, nil)
	r.erp.events.add(delivered("d1", "1001", commerce.FulfillmentLine{SKU: "A", Quantity: 1}))
	r.sync()
	r.erp.events.add(delivered("d2", "1001", commerce.FulfillmentLine{LineID: "a", Quantity: 1}), delivered("d2", "1001", commerce.FulfillmentLine{LineID: "a", Quantity: 1}))
	r.sync()
	r.erp.events.add(delivered("d3", "1001")) // the rest
	r.sync()
	r.sync()

	type fl struct {
		SKU      string
		Qty      int
		Tracking string
		Notify   bool
		OrderRef string
	}
	var got []fl
	for _, f := range r.shop.fulfilled() {
		for _, l := range f.Lines {
			got = append(got, fl{l.SKU, l.Quantity, f.Tracking[0].Number, f.NotifyCustomer, f.OrderRef.ID})
		}
	}
	want := []fl{{"A", 1, "PNd1", true, "gid-1001"}, {"A", 1, "PNd2", true, "gid-1001"}, {"A", 1, "PNd3", true, "gid-1001"}, {"B", 1, "PNd3", true, "gid-1001"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("fulfillments (-want +got):\n%s", diff)
	}
	captured, _, captures, _, releases := r.psp.state("pay-1001")
	if !captured.Equal(sek("248.99")) || captures != 3 || releases != 0 {
		t.Errorf("captured %s in %d captures (%d releases); want 248.99 in 3", captured, captures, releases)
	}
	amounts := []string{}
	for _, key := range []string{"delivery:d1:capture", "delivery:d2:capture", "delivery:d3:capture"} {
		st := r.step(key)
		p, _ := decodePayload[eventPayload](&st)
		amounts = append(amounts, p.Payment.Amount.Amount.StringFixed(2))
		if st.State != StepDone || (key == "delivery:d3:capture") != p.Payment.Final {
			t.Errorf("%s: %s final %v", key, st.State, p.Payment.Final)
		}
	}
	// Shipping rides with the first capture; the last takes the rest.
	if diff := cmp.Diff([]string{"82.33", "33.33", "133.33"}, amounts); diff != "" {
		t.Errorf("capture amounts (-want +got):\n%s", diff)
	}
}

func TestStatusMappings(t *testing.T) {
	r := statusRig(t, func(c *Config) {
		c.Shops[0].Status = map[string][]string{"delivered": {"fulfill"}, "paid": {"mark_paid"}, "cancelled": {"cancel", "release"}, "invoiced": {"capture"}}
	})
	second := newOrder("1002", commerce.FinancialAuthorized, grossLine("a", "A", 1, "100.00", ""))
	r.psp.authorize("pay-1002", second.Totals.Total)
	r.shop.addOrders(second)
	r.sync()
	r.erp.events.add(
		delivered("d1", "1001"),
		commerce.OrderEvent{ID: "i1", Kind: commerce.EventInvoiced, OrderNumber: "1001", InvoiceNumber: "F-1"},
		commerce.OrderEvent{ID: "p1", Kind: commerce.EventPaid, OrderNumber: "1001"},
		commerce.OrderEvent{ID: "c1", Kind: commerce.EventCancelled, OrderNumber: "1002"},
		commerce.OrderEvent{ID: "x1", Kind: commerce.EventDelivered, OrderNumber: "POS-9"}, // not ours
	)
	r.sync()
	r.sync()
	if got := len(r.shop.fulfilled()); got != 1 {
		t.Errorf("%d fulfillments, want 1", got)
	}
	captured, _, _, _, _ := r.psp.state("pay-1001")
	if !captured.Equal(sek("248.99")) {
		t.Errorf("capture on invoice took %s", captured)
	}
	if diff := cmp.Diff([]string{"1001"}, r.shop.paidOrders()); diff != "" {
		t.Errorf("paid (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"1002"}, r.shop.cancelledOrders()); diff != "" {
		t.Errorf("cancelled (-want +got):\n%s", diff)
	}
	if _, _, _, _, rel := r.psp.state("pay-1002"); rel != 1 {
		t.Errorf("released %d times, want 1", rel)
	}
	if c := r.e.Counters().ByKind["event"]; c.Skipped != 1 {
		t.Errorf("events of other channels skipped: %+v", c)
	}
}

func TestCaptureEdgeCases(t *testing.T) {
	r := statusRig(t, nil)
	sale := newOrder("2001", commerce.FinancialPaid, grossLine("a", "A", 1, "100.00", ""))
	sale.Payments[0].Kind = "sale"
	unrouted := newOrder("2002", commerce.FinancialAuthorized, grossLine("a", "A", 1, "100.00", ""))
	unrouted.Payments[0].Provider, unrouted.Payments[0].Gateway = "adyen", "Adyen"
	giftcard := newOrder("2003", commerce.FinancialAuthorized, grossLine("a", "A", 2, "100.00", ""))
	// 50.00 of 249.00 paid by gift card; the provider holds 199.00 and
	// 300.00 was authorized on a higher first total.
	giftcard.Payments = []commerce.PaymentRef{{Provider: "gift_card", Reference: "gc", Amount: sek("50.00")},
		{Provider: "mem", Gateway: "Mem Checkout", Reference: "pay-2003", Amount: sek("199.00")}}
	r.cfg.Providers[0].Gateways = []string{"mem checkout"}
	r.restart()
	r.psp.authorize("pay-2003", sek("300.00"))
	r.shop.addOrders(sale, unrouted, giftcard)
	r.sync()
	r.erp.events.add(delivered("s1", "2001"), delivered("u1", "2002"), delivered("g1", "2003"))
	r.sync()

	if st := r.step("delivery:s1:capture"); st.State != StepSkipped || !strings.Contains(st.Reason, "captured at checkout") {
		t.Errorf("sale: %s %q", st.State, st.Reason)
	}
	if st := r.step("delivery:u1:capture"); st.State != StepDead || !strings.Contains(st.Reason, "adyen (gateway Adyen)") {
		t.Errorf("unrouted: %s %q", st.State, st.Reason)
	}
	captured, _, _, _, _ := r.psp.state("pay-2003")
	if !captured.Equal(sek("199.00")) {
		t.Errorf("gift card order captured %s, want 199.00 (the provider's part)", captured)
	}
}

func TestReleaseAfterFinalCaptureBelowAuthorization(t *testing.T) {
	r := statusRig(t, nil)
	o := newOrder("3001", commerce.FinancialAuthorized, grossLine("a", "A", 1, "100.00", ""))
	o.Payments[0].Amount = sek("200.00") // authorized more than the order came to
	r.psp.authorize("pay-3001", sek("200.00"))
	r.shop.addOrders(o)
	r.sync()
	r.erp.events.add(delivered("d9", "3001"))
	r.sync()
	r.sync()
	captured, _, _, _, releases := r.psp.state("pay-3001")
	if !captured.Equal(o.Totals.Total) || releases != 1 {
		t.Errorf("captured %s released %d; want %s and 1", captured, releases, o.Totals.Total)
	}
}

func TestReturnsCreditThenRefund(t *testing.T) {
	r := statusRig(t, nil)
	r.erp.events.add(delivered("d1", "1001"))
	r.sync()
	ret := func(id string, status commerce.ReturnStatus, lines ...commerce.ReturnLine) commerce.Return {
		return commerce.Return{ID: id, OrderNumber: "1001", Status: status, Lines: lines}
	}
	r.shop.returns.add(
		ret("r1", commerce.ReturnClosed, commerce.ReturnLine{SKU: "A", Quantity: 1, Reason: "size"}),
		ret("r0", commerce.ReturnRequested, commerce.ReturnLine{SKU: "B", Quantity: 1}),
	)
	r.sync()
	r.shop.returns.add(ret("r2", commerce.ReturnClosed, commerce.ReturnLine{LineID: "a", Quantity: 2}))
	r.sync()
	// r3 is refunded by the merchant in the shop before the engine gets to it.
	r.shop.refunds.add(commerce.Refund{ID: "sr3", OrderNumber: "1001", ReturnID: "r3", Amount: sek("100.00")})
	r.sync()
	r.shop.returns.add(ret("r3", commerce.ReturnClosed, commerce.ReturnLine{SKU: "B", Quantity: 1}))
	r.shop.refunds.add(commerce.Refund{ID: "good1", OrderNumber: "1001", Amount: sek("10.00"), Reason: "goodwill"})
	r.sync()
	r.sync()

	for _, id := range []string{"r1", "r2", "r3", "good1"} {
		if _, ok := r.erp.credit(id); !ok {
			t.Errorf("no credit invoice for %s", id)
		}
	}
	if _, ok := r.erp.credit("r0"); ok {
		t.Error("a requested return was credited")
	}
	if c, _ := r.erp.credit("r1"); c.Reason != "size" || c.OrderNumber != "1001" {
		t.Errorf("credit request %+v", c)
	}
	_, refunded, _, refunds, _ := r.psp.state("pay-1001")
	if !refunded.Equal(sek("99.99")) || refunds != 2 {
		t.Errorf("refunded %s in %d refunds; want the three A units, 99.99, in 2", refunded, refunds)
	}
	if st := r.step(ReturnStepKey("se", "r3", "refund")); st.State != StepSkipped || !strings.Contains(st.Reason, "refunded in the shop (sr3)") {
		t.Errorf("r3 refund: %s %q", st.State, st.Reason)
	}
	// reconcile can find the credit invoice of an engine-made refund.
	st := r.step(ReturnStepKey("se", "r1", "refund"))
	credit, ok, err := r.e.CreditForRefund(context.Background(), st.Result)
	if err != nil || !ok || credit.ID != "K-r1" {
		t.Errorf("CreditForRefund(%v) = %v %v %v", st.Result, credit, ok, err)
	}
	if ref, ok, _ := r.e.ERPOrder(context.Background(), "1001"); !ok || ref.ID != "E1001" {
		t.Errorf("ERPOrder = %v %v", ref, ok)
	}
}

// A provider that refunds per capture (PayPal) gets a return spanning two
// partial deliveries as one refund per capture, each within its capture.
func TestRefundSpreadOverCaptures(t *testing.T) {
	r := statusRig(t, nil)
	r.psp.perCapture = true
	r.erp.events.add(delivered("d1", "1001", commerce.FulfillmentLine{SKU: "A", Quantity: 1})) // 33.33 + 49.00 shipping
	r.sync()
	r.erp.events.add(delivered("d2", "1001")) // 2 × 33.33 + 100.00
	r.sync()
	ret := func(id string, lines ...commerce.ReturnLine) commerce.Return {
		return commerce.Return{ID: id, OrderNumber: "1001", Status: commerce.ReturnClosed, Lines: lines}
	}
	r.shop.returns.add(ret("r1", commerce.ReturnLine{SKU: "A", Quantity: 1}))
	r.sync()
	r.shop.returns.add(ret("r2", commerce.ReturnLine{SKU: "B", Quantity: 1}))
	r.sync()
	r.sync()

	// r1 takes 33.33 of the first capture (82.33); r2's 100.00 takes the
	// 49.00 left of it and 51.00 of the second.
	want := []string{"re-1 cap-1 33.33 r1", "re-2 cap-1 49.00 r2#1", "re-3 cap-2 51.00 r2#2"}
	if diff := cmp.Diff(want, r.psp.refundsOf("pay-1001")); diff != "" {
		t.Errorf("refunds (-want +got):\n%s", diff)
	}
	for _, id := range []string{"re-2", "re-3"} {
		credit, ok, err := r.e.CreditForRefund(context.Background(), commerce.Ref{System: "mempsp", Account: "m1", ID: id})
		if err != nil || !ok || credit.ID != "K-r2" {
			t.Errorf("CreditForRefund(%s) = %v %v %v", id, credit, ok, err)
		}
	}
	if st := r.step(ReturnStepKey("se", "r2", "refund")); st.State != StepDone || st.Result.ID != "re-2" {
		t.Errorf("r2 refund step: %s %v %q", st.State, st.Result, st.Reason)
	}
}

func TestHooksOnTheWayToProviderAndShop(t *testing.T) {
	var seen []string
	r := statusRig(t, nil)
	r.opts = []Option{
		WithHook(ToProvider, HookFunc("ref", func(_ context.Context, c *connector.CaptureRequest, info HookInfo) error {
			c.Reference = "SO-" + c.OrderNumber
			seen = append(seen, "capture "+info.Step)
			return nil
		})),
		WithHook(ERPToShop, HookFunc("carrier", func(_ context.Context, f *commerce.Fulfillment, _ HookInfo) error {
			f.Tracking[0].URL = "https://t.example/" + f.Tracking[0].Number
			return nil
		})),
	}
	r.restart()
	r.erp.events.add(delivered("d1", "1001"))
	r.sync()
	if diff := cmp.Diff([]string{"capture delivery:d1:capture"}, seen); diff != "" {
		t.Errorf("hook calls (-want +got):\n%s", diff)
	}
	if f := r.shop.fulfilled(); len(f) != 1 || f[0].Tracking[0].URL != "https://t.example/PNd1" {
		t.Errorf("fulfillment %+v", f)
	}
}

// payingShop is a shop that takes the payments too, as Shopify does with
// Shopify Payments: the refunds the engine makes through it come back in
// its refunds feed.
type payingShop struct {
	*memShop
	psp *memPSP
}

func (s payingShop) System() string  { return s.memShop.System() }
func (s payingShop) Account() string { return s.memShop.Account() }

func (s payingShop) Capture(ctx context.Context, r connector.CaptureRequest, opts ...connector.CallOption) (commerce.Capture, error) {
	return s.psp.Capture(ctx, r, opts...)
}

func (s payingShop) Refund(ctx context.Context, r connector.RefundRequest, opts ...connector.CallOption) (commerce.Refund, error) {
	f, failed := s.faults.take("Refund")
	if failed && !f.applied {
		return commerce.Refund{}, f.err
	}
	rf, err := s.psp.Refund(ctx, r, opts...)
	if err != nil {
		return rf, err
	}
	if !slices.ContainsFunc(s.refunds.items, func(x commerce.Refund) bool { return x.ID == rf.ID }) {
		s.refunds.add(rf)
	}
	if failed {
		return commerce.Refund{}, f.err
	}
	return rf, nil
}

// The engine's own refunds read back from a shop that is also the
// provider get no second credit invoice, also when the shop reports the
// refund before the engine heard of it (an answer lost after the refund),
// or when the refund's step failed for good after the refund was made.
func TestRefundsThroughTheShopAreNotCreditedTwice(t *testing.T) {
	for _, fail := range []string{"", "lost", "dead"} {
		t.Run(fmt.Sprintf("failure %q", fail), func(t *testing.T) {
			r := newRig(t, func(c *Config) { c.Shops[0].Orders.Articles = "connector" })
			r.cfg.Providers = []ProviderConfig{{Name: "shopify_payments", System: "memshop"}}
			ps := payingShop{memShop: r.shop, psp: r.psp}
			r.sys.Shops["se"] = ps
			r.sys.Providers = map[string]connector.System{"shopify_payments": ps}
			r.restart()
			o := newOrder("1001", commerce.FinancialAuthorized, grossLine("a", "A", 2, "50.00", ""))
			o.Payments[0].Provider, o.Payments[0].Reference = "shopify_payments", "pay-1001"
			r.psp.authorize("pay-1001", o.Totals.Total)
			r.shop.addOrders(o)
			r.sync()
			r.erp.events.add(delivered("d1", "1001"))
			r.sync()
			switch fail {
			case "lost":
				r.shop.faults.add("Refund", 1, connector.NewError("memshop", "Refund", connector.KindTemporary, "connection reset"), true)
			case "dead":
				r.shop.faults.add("Refund", 1, connector.NewError("memshop", "Refund", connector.KindPermanent, "refused after the fact"), true)
			}
			r.shop.returns.add(commerce.Return{ID: "r1", OrderNumber: "1001", Status: commerce.ReturnClosed, Lines: []commerce.ReturnLine{{SKU: "A", Quantity: 1}}})
			for range 4 {
				r.sync()
				r.clock.advance(time.Hour)
			}
			_, refunded, _, refunds, _ := r.psp.state("pay-1001")
			if !refunded.Equal(sek("50.00")) || refunds != 1 {
				t.Errorf("refunded %s in %d refunds; want 50.00 in 1", refunded, refunds)
			}
			if _, ok := r.erp.credit("r1"); !ok {
				t.Error("no credit invoice for the return")
			}
			if _, ok := r.erp.credit("re-1"); ok {
				t.Error("the engine's own refund was credited again")
			}
			switch fail {
			case "lost":
				st := r.step("refund:se:re-1:credit")
				if st.State != StepSkipped || !strings.Contains(st.Reason, "return r1") {
					t.Errorf("credit step of the read-back refund: %s %q", st.State, st.Reason)
				}
			case "dead":
				st := r.step("refund:se:re-1:credit")
				if st.State == StepDone || !strings.Contains(st.Reason, "replay or discard it first") {
					t.Errorf("credit step of a refund a dead step may have made: %s %q", st.State, st.Reason)
				}
			default:
				if _, ok, _ := r.store.Step(context.Background(), "refund:se:re-1:credit"); ok {
					t.Error("a refund recorded as the engine's own was journalled for a credit")
				}
			}
		})
	}
}
