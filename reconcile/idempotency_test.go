package reconcile

import (
	"bytes"
	"context"
	"errors"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/knyt/knyt/commerce"
)

func mustRun(t *testing.T, r *Reconciler, in Input) *Result {
	t.Helper()
	res, err := r.Run(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	for _, vo := range res.Vouchers {
		if err := vo.Validate(); err != nil {
			t.Fatalf("voucher %s: %v", vo.ID, err)
		}
	}
	return res
}

func mustCommit(t *testing.T, r *Reconciler, res *Result) {
	t.Helper()
	if err := r.Commit(context.Background(), res); err != nil {
		t.Fatal(err)
	}
}

func voucherIDs(res *Result) []string {
	var ids []string
	for _, vo := range res.Vouchers {
		ids = append(ids, vo.ID)
	}
	return ids
}

func TestBookTwiceBooksNothingNew(t *testing.T) {
	for _, g := range []Granularity{PerPayout, PerTransaction} {
		r, err := New(WithGranularity(g))
		if err != nil {
			t.Fatal(err)
		}
		in := klarnaShape(t)
		first := mustRun(t, r, in)
		again := mustRun(t, r, in)
		if diff := cmp.Diff(voucherIDs(first), voucherIDs(again)); diff != "" || len(first.Vouchers) == 0 {
			t.Fatalf("granularity %d: a rerun before Commit gives other vouchers: %s", g, diff)
		}
		mustCommit(t, r, first)
		after := mustRun(t, r, in)
		if len(after.Vouchers) != 0 {
			t.Errorf("granularity %d: booked again: %v", g, voucherIDs(after))
		}
		if got := after.Payouts[0]; got.Status != PayoutAlreadyBooked || got.Previous == "" {
			t.Errorf("granularity %d: payout %+v, want already booked with its voucher", g, got)
		}
		if n := len(slices.Collect(after.Matched())); n != 0 {
			t.Errorf("granularity %d: %d transactions matched again", g, n)
		}
		if n := len(slices.Collect(after.Paid())); n != 0 {
			t.Errorf("granularity %d: %d documents paid again", g, n)
		}
		if len(after.Unmatched) != 0 || len(after.Differences) != 0 {
			t.Errorf("granularity %d: unmatched %v, differences %v", g, after.Unmatched, after.Differences)
		}
	}
}

// A payout that comes back with more transactions books only those, in a
// supplement voucher linked to the first.
func TestPayoutWithMoreTransactionsBooksTheDifference(t *testing.T) {
	r, err := New()
	if err != nil {
		t.Fatal(err)
	}
	invs := []commerce.Invoice{
		invoice(t, commerce.KindInvoice, "2001", "7001", "SEK", "1000.00", "25", "2026-11-10"),
		invoice(t, commerce.KindInvoice, "2002", "7002", "SEK", "300.00", "25", "2026-11-10"),
		credit(invoice(t, commerce.KindCreditInvoice, "K2002", "7002", "SEK", "300.00", "25", "2026-11-11"), "2002"),
	}
	sale := tx(t, "t1", commerce.TxSale, "SALE", "SEK", "1000.00", "", "", commerce.TxReferences{OrderNumber: "7001"})
	p1 := payout(t, "klarna", "P1", "2026-11-15", sale)
	p1.Amount = sek(t, "1000.50") // 0.50 unexplained, within the rounding tolerance
	first := mustRun(t, r, Input{Payouts: []commerce.Payout{p1}, Invoices: invs})
	if first.Payouts[0].Status != PayoutBooked {
		t.Fatalf("first run: %+v", first.Payouts[0])
	}
	mustCommit(t, r, first)

	// The same payout, now with the missing rows: a sale and its refund,
	// and the fee refund that explains the 0.50.
	p2 := payout(t, "klarna", "P1", "2026-11-15", sale,
		tx(t, "t2", commerce.TxSale, "SALE", "SEK", "300.00", "", "", commerce.TxReferences{OrderNumber: "7002"}),
		tx(t, "t3", commerce.TxRefund, "RETURN", "SEK", "-300.00", "", "", commerce.TxReferences{OrderNumber: "7002"}),
		tx(t, "t4", commerce.TxFeeRefund, "FEE_REFUND", "SEK", "0.00", "-0.40", "-0.10", commerce.TxReferences{OrderNumber: "7001"}),
	)
	if !p2.Amount.Equal(p1.Amount) {
		t.Fatalf("test data: payout amounts %s and %s", p1.Amount, p2.Amount)
	}
	second := mustRun(t, r, Input{Payouts: []commerce.Payout{p2}, Invoices: invs})
	pr := second.Payouts[0]
	if pr.Status != PayoutSupplemented || pr.Booked != 3 || pr.Previous != "payout:klarna:P1" {
		t.Fatalf("second run: %+v", pr)
	}
	if len(second.Vouchers) != 1 {
		t.Fatalf("second run: %d vouchers", len(second.Vouchers))
	}
	vo := second.Vouchers[0]
	if !strings.HasPrefix(vo.ID, "payout:klarna:P1:+") || !strings.Contains(vo.Text, "tillägg") {
		t.Errorf("supplement %q %q: want an id and text linking it to the payout", vo.ID, vo.Text)
	}
	want := []posting{
		{"6064", "-0.40"}, {"2641", "-0.10"}, {"1686", "-300.00"}, {"1686", "300.00"}, {"3740", "0.50"},
	}
	if diff := cmp.Diff(want, postingsOf(vo)); diff != "" {
		t.Errorf("supplement (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"P1", "t2", "t3", "t4"}, vo.Sources); diff != "" {
		t.Errorf("sources (-want +got):\n%s", diff)
	}
	mustCommit(t, r, second)
	if third := mustRun(t, r, Input{Payouts: []commerce.Payout{p2}, Invoices: invs}); len(third.Vouchers) != 0 {
		t.Errorf("third run booked %v", voucherIDs(third))
	}
}

// A document settled over two runs: the ledger remembers the first part.
func TestPartialCaptureAcrossRuns(t *testing.T) {
	r, err := New()
	if err != nil {
		t.Fatal(err)
	}
	invs := []commerce.Invoice{invoice(t, commerce.KindInvoice, "2001", "7001", "SEK", "1000.00", "25", "2026-11-10")}
	first := mustRun(t, r, Input{Invoices: invs, Payouts: []commerce.Payout{payout(t, "klarna", "P1", "2026-11-15",
		tx(t, "c1", commerce.TxSale, "SALE", "SEK", "600.00", "", "", commerce.TxReferences{OrderNumber: "7001", CaptureID: "cap-1"}))}})
	paid := slices.Collect(first.Paid())
	if len(paid) != 1 || paid[0].FullyPaid || paid[0].Amount.String() != "600.00 SEK" || paid[0].Remaining.String() != "400.00 SEK" {
		t.Fatalf("first run paid %+v", paid)
	}
	if len(first.Differences) != 1 || first.Differences[0].Kind != DiffUnderpaid || first.Differences[0].OwedBy != OwedByCustomer {
		t.Fatalf("first run differences %+v", first.Differences)
	}
	mustCommit(t, r, first)
	second := mustRun(t, r, Input{Invoices: invs, Payouts: []commerce.Payout{payout(t, "klarna", "P2", "2026-11-20",
		tx(t, "c2", commerce.TxSale, "SALE", "SEK", "400.00", "", "", commerce.TxReferences{OrderNumber: "7001", CaptureID: "cap-2"}))}})
	paid = slices.Collect(second.Paid())
	if len(paid) != 1 || !paid[0].FullyPaid || paid[0].Amount.String() != "400.00 SEK" || paid[0].Date != date("2026-11-20") {
		t.Errorf("second run paid %+v", paid)
	}
	if len(second.Differences) != 0 {
		t.Errorf("second run differences %+v", second.Differences)
	}
}

func TestFailedPayoutAfterBooking(t *testing.T) {
	r, err := New()
	if err != nil {
		t.Fatal(err)
	}
	p := payout(t, "stripe", "po_9", "2026-11-15", tx(t, "t", commerce.TxSale, "charge", "SEK", "100.00", "3.00", "0.00", commerce.TxReferences{}))
	first := mustRun(t, r, Input{Payouts: []commerce.Payout{p}})
	mustCommit(t, r, first)
	p.Status = commerce.PayoutFailed
	after := mustRun(t, r, Input{Payouts: []commerce.Payout{p}})
	if after.Payouts[0].Status != PayoutNotPaid || len(after.Problems) != 1 || after.Problems[0].Kind != ProblemFailedAfter {
		t.Errorf("got %+v, problems %+v", after.Payouts[0], after.Problems)
	}
	if !strings.Contains(after.Problems[0].Detail, first.Vouchers[0].ID) {
		t.Errorf("problem %q does not name the voucher to reverse", after.Problems[0].Detail)
	}
}

func TestCommitRecordsEntries(t *testing.T) {
	l := NewMemoryLedger()
	r, err := New(WithLedger(l), WithGiftCardClearing())
	if err != nil {
		t.Fatal(err)
	}
	res := mustRun(t, r, giftCardShape(t))
	mustCommit(t, r, res)
	got, err := l.Lookup(context.Background(), []Key{
		{Kind: KeyTransaction, Scope: "klarna", ID: "gc-s"},
		{Kind: KeyTransaction, Scope: "klarna", ID: "gc-f"},
		{Kind: KeyPayout, Scope: "klarna", ID: "KLP-GC"},
		{Kind: KeyPayoutRest, Scope: "klarna", ID: "KLP-GC"},
		{Kind: KeyDocument, Scope: "invoice", ID: "2100"},
		{Kind: KeyGiftCard, Scope: "invoice", ID: "2100"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 6 || l.Len() != 6 {
		t.Fatalf("ledger has %d entries, found %d: %v", l.Len(), len(got), got)
	}
	if e := got[Key{Kind: KeyPayout, Scope: "klarna", ID: "KLP-GC"}]; e.VoucherID != "payout:klarna:KLP-GC" || e.Amount.String() != "682.50 SEK" {
		t.Errorf("payout entry %+v", e)
	}
	if e := got[Key{Kind: KeyDocument, Scope: "invoice", ID: "2100"}]; e.Amount.String() != "700.00 SEK" {
		t.Errorf("document entry %+v", e)
	}
}

// failingLedger fails every call.
type failingLedger struct{}

var errLedger = errors.New("ledger down")

func (failingLedger) Lookup(context.Context, []Key) (map[Key]Entry, error) { return nil, errLedger }
func (failingLedger) Commit(context.Context, []Entry) error                { return errLedger }

func TestLedgerAndContextErrors(t *testing.T) {
	r, err := New(WithLedger(failingLedger{}))
	if err != nil {
		t.Fatal(err)
	}
	in := klarnaShape(t)
	if _, err := r.Run(context.Background(), in); !errors.Is(err, errLedger) {
		t.Errorf("run with a failing ledger: %v", err)
	}
	if err := r.Commit(context.Background(), &Result{}); !errors.Is(err, errLedger) {
		t.Errorf("commit with a failing ledger: %v", err)
	}
	r2, _ := New()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := r2.Run(ctx, in); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled run: %v", err)
	}
	b := r2.NewBatch()
	if _, err := b.Reconcile(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Reconcile(context.Background()); !errors.Is(err, ErrInvalidInput) {
		t.Errorf("second Reconcile of a batch: %v", err)
	}
}

// Payouts are booked on parallel workers; the result must not depend on
// how many.
func TestParallelBookingIsDeterministic(t *testing.T) {
	bd := newBenchData(64, 20)
	runOnce := func() []byte {
		r, err := New()
		if err != nil {
			t.Fatal(err)
		}
		b := r.NewBatch()
		bd.load(b)
		res, err := b.Reconcile(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if res.Summary.PayoutsBooked != 64 || res.Summary.TransactionsOpen != 0 {
			t.Fatalf("%s", res.SummaryText())
		}
		var buf bytes.Buffer
		if err := res.WriteJSON(&buf); err != nil {
			t.Fatal(err)
		}
		if err := res.WriteCSV(&buf); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	parallel := runOnce()
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	if !bytes.Equal(parallel, runOnce()) {
		t.Error("one worker and several give different results")
	}
}
