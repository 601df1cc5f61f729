package stripe_test

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/connector"
	"github.com/knyt/knyt/stripe"
	"github.com/knyt/knyt/stripe/stripetest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

var t0 = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

// seedLedger books a realistic day into the fake: two card payments, a
// refund made through the client, a dispute with its fee, a Radar fee, a
// fee with VAT on it, and a category the client does not map.
func seedLedger(t *testing.T, e *env) {
	t.Helper()
	ctx := context.Background()
	pi1, err := e.fake.AddCharge(stripetest.Authorization{Amount: 125000, Currency: "sek", Metadata: map[string]string{"order_number": "1001"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.fake.AddCharge(stripetest.Authorization{Amount: 9900, Currency: "sek", Metadata: map[string]string{"order_number": "1002"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.Refund(ctx, connector.RefundRequest{PaymentReference: pi1, OrderNumber: "1001", Amount: money(t, "250.00", "SEK"), Reference: "RMA-1"},
		connector.WithIdempotencyKey("refund-RMA-1")); err != nil {
		t.Fatal(err)
	}
	for _, bt := range []stripetest.BalanceTransaction{
		{Amount: -9900, Fee: 15000, Currency: "sek", Type: "adjustment", ReportingCategory: "dispute", Description: "Chargeback withdrawal"},
		{Amount: -200, Currency: "sek", Type: "stripe_fee", ReportingCategory: "fee", Description: "Radar"},
		{Amount: 0, Fee: 125, FeeDetails: []stripetest.FeeDetail{{Amount: 100, Type: "stripe_fee"}, {Amount: 25, Type: "tax"}},
			Currency: "sek", Type: "adjustment", ReportingCategory: "other_adjustment", Description: "fee with VAT"},
		{Amount: -100, Currency: "sek", Type: "climate_order_purchase", ReportingCategory: "climate_order_purchase", Description: "Climate"},
	} {
		if _, err := e.fake.AddBalanceTransaction(bt); err != nil {
			t.Fatal(err)
		}
	}
}

func collect(t *testing.T, seq func(func(commerce.Transaction, error) bool)) ([]commerce.Transaction, error) {
	t.Helper()
	var txs []commerce.Transaction
	var last error
	for tx, err := range seq {
		if err != nil {
			last = err
			continue
		}
		txs = append(txs, tx)
	}
	return txs, last
}

func TestPayoutTransactions(t *testing.T) {
	e := newEnvWith(t, []stripetest.Option{stripetest.WithClock(t0)}, stripe.WithPageSize(3))
	seedLedger(t, e)
	po, err := e.fake.CreatePayout("sek", stripetest.PayoutOptions{TraceID: "TRACE-1", StatementDescriptor: "STRIPE"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var payouts []commerce.Payout
	for p, err := range e.client.Payouts(ctx, t0, t0.Add(time.Second)) {
		if err != nil {
			t.Fatal(err)
		}
		payouts = append(payouts, p)
	}
	if len(payouts) != 1 || payouts[0].ID != po {
		t.Fatalf("payouts %+v", payouts)
	}
	p := payouts[0]
	txs, err := collect(t, e.client.PayoutTransactions(ctx, po))
	if err != nil {
		t.Fatalf("transactions: %v", err)
	}
	p.Transactions = txs
	if err := p.Validate(); err != nil {
		t.Errorf("payout with transactions does not validate: %v", err)
	}
	if diff, err := p.Difference(); err != nil || !diff.IsZero() {
		t.Errorf("difference %s, %v", diff, err)
	}
	for _, tx := range txs {
		if tx.Kind == commerce.TxPayout {
			t.Errorf("the payout's own row %s was not left out", tx.ID)
		}
	}
	// Exactly one notice: the unmapped category, kept as TxOther.
	if len(e.notices) != 1 {
		t.Fatalf("notices %v", e.notices)
	}
	var uc *stripe.UnmappedCategoryError
	if !errors.As(e.notices[0], &uc) || !errors.Is(e.notices[0], stripe.ErrUnmappedCategory) || uc.ReportingCategory != "climate_order_purchase" || uc.PayoutID != po {
		t.Errorf("notice %v", e.notices[0])
	}
	p.Raw = nil // the fake's JSON layout is not what this golden file pins
	golden(t, "payout.golden.json", p)
}

func golden(t *testing.T, name string, v any) {
	t.Helper()
	got, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s (-want +got):\n%s", path, diff)
	}
}

func TestPayoutDifference(t *testing.T) {
	e := newEnv(t)
	if _, err := e.fake.AddCharge(stripetest.Authorization{Amount: 10000, Currency: "sek"}); err != nil {
		t.Fatal(err)
	}
	po, err := e.fake.CreatePayout("sek", stripetest.PayoutOptions{SkewAmount: 7})
	if err != nil {
		t.Fatal(err)
	}
	txs, err := collect(t, e.client.PayoutTransactions(context.Background(), po))
	var de *stripe.PayoutDifferenceError
	if !errors.As(err, &de) || !errors.Is(err, stripe.ErrPayoutDifference) || len(txs) != 1 {
		t.Fatalf("%d transactions, error %v", len(txs), err)
	}
	if !de.Difference.Equal(money(t, "0.07", "SEK")) || de.PayoutID != po {
		t.Errorf("difference %+v", de)
	}
	if len(e.notices) != 1 || !errors.Is(e.notices[0], stripe.ErrPayoutDifference) {
		t.Errorf("notices %v", e.notices)
	}
}

func TestPayoutsSkipUnreconciled(t *testing.T) {
	e := newEnvWith(t, []stripetest.Option{stripetest.WithClock(t0)})
	ctx := context.Background()
	if _, err := e.fake.AddCharge(stripetest.Authorization{Amount: 10000, Currency: "sek"}); err != nil {
		t.Fatal(err)
	}
	pending, err := e.fake.CreatePayout("sek", stripetest.PayoutOptions{Status: "in_transit", Reconciliation: "in_progress"})
	if err != nil {
		t.Fatal(err)
	}
	manual, err := e.fake.AddManualPayout(5000, "sek")
	if err != nil {
		t.Fatal(err)
	}
	list := func() []string {
		var ids []string
		for p, err := range e.client.Payouts(ctx, time.Time{}, time.Time{}) {
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, p.ID)
		}
		return ids
	}
	if ids := list(); len(ids) != 0 {
		t.Errorf("listed %v, want none", ids)
	}
	var skipped []string
	for _, n := range e.notices {
		var nr *stripe.PayoutNotReconciledError
		if !errors.As(n, &nr) || !errors.Is(n, stripe.ErrPayoutNotReconciled) || nr.Payout.ID != nr.PayoutID {
			t.Errorf("notice %v", n)
			continue
		}
		skipped = append(skipped, nr.PayoutID+":"+nr.ReconciliationStatus)
	}
	if diff := cmp.Diff([]string{manual + ":not_applicable", pending + ":in_progress"}, skipped); diff != "" {
		t.Errorf("skipped (-want +got):\n%s", diff)
	}
	if _, err := collect(t, e.client.PayoutTransactions(ctx, pending)); !errors.Is(err, stripe.ErrPayoutNotReconciled) {
		t.Errorf("transactions of an unreconciled payout: %v", err)
	}
	if _, err := collect(t, e.client.PayoutTransactions(ctx, manual)); !errors.Is(err, stripe.ErrPayoutNotReconciled) {
		t.Errorf("transactions of a manual payout: %v", err)
	}
	if err := e.fake.CompleteReconciliation(pending); err != nil {
		t.Fatal(err)
	}
	if ids := list(); len(ids) != 1 || ids[0] != pending {
		t.Errorf("after reconciliation: %v", ids)
	}
	if _, err := collect(t, e.client.PayoutTransactions(ctx, "po_missing")); !errors.Is(err, connector.ErrNotFound) {
		t.Errorf("missing payout: %v", err)
	}
}

func TestPayoutsWindow(t *testing.T) {
	e := newEnvWith(t, []stripetest.Option{stripetest.WithClock(t0)}, stripe.WithPageSize(1))
	var ids []string
	for i := range 3 {
		if _, err := e.fake.AddCharge(stripetest.Authorization{Amount: 1000 * int64(i+1), Currency: "sek"}); err != nil {
			t.Fatal(err)
		}
		id, err := e.fake.CreatePayout("sek", stripetest.PayoutOptions{})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
		e.fake.Advance(time.Hour)
	}
	tests := []struct {
		name     string
		from, to time.Time
		want     []string
	}{
		{"all, newest first", t0, t0.Add(3 * time.Hour), []string{ids[2], ids[1], ids[0]}},
		{"to is exclusive", t0, t0.Add(time.Hour), []string{ids[0]}},
		{"from inclusive", t0.Add(time.Hour), time.Time{}, []string{ids[2], ids[1]}},
		{"sub-second from rounds up", t0.Add(500 * time.Millisecond), t0.Add(2 * time.Hour), []string{ids[1]}},
		{"empty", t0.Add(-time.Hour), t0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for p, err := range e.client.Payouts(context.Background(), tt.from, tt.to) {
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, p.ID)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
