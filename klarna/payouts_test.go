package klarna_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/shopspring/decimal"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/connector"
	"github.com/knyt/knyt/klarna"
	"github.com/knyt/knyt/klarna/klarnatest"
)

// collect drains an iterator, stopping at the first error.
func collect[T any](seq func(func(T, error) bool)) ([]T, error) {
	var out []T
	for v, err := range seq {
		if err != nil {
			return out, err
		}
		out = append(out, v)
	}
	return out, nil
}

// settleScenario captures and refunds on two orders and settles: the
// numbers are worked out by hand in TestPayoutFromSettlement.
func settleScenario(t *testing.T, f *fixture) string {
	t.Helper()
	ctx := context.Background()
	a, err := f.srv.AddOrder(klarnatest.NewOrder{Amount: 100000, MerchantReference1: "A-1", MerchantReference2: "crm-7"})
	if err != nil {
		t.Fatal(err)
	}
	b := f.order(t, 50000, "B-2")
	if _, err := f.c.Capture(ctx, connector.CaptureRequest{PaymentReference: a, Amount: sek(100000), Reference: "d-A"}, key("c", a)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.c.Capture(ctx, connector.CaptureRequest{PaymentReference: b, Amount: sek(50000), Reference: "d-B"}, key("c", b)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.c.Refund(ctx, connector.RefundRequest{PaymentReference: b, Amount: sek(20000), Reference: "ret-B"}, key("r", b)); err != nil {
		t.Fatal(err)
	}
	f.srv.Advance(24 * time.Hour)
	refs := f.srv.Settle()
	if len(refs) != 1 {
		t.Fatalf("settle: %v", refs)
	}
	return refs[0]
}

func TestPayoutFromSettlement(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	ref := settleScenario(t, f)

	payouts, err := collect(f.c.Payouts(ctx, start, start.Add(48*time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	if len(payouts) != 1 {
		t.Fatalf("%d payouts", len(payouts))
	}
	p := payouts[0]
	// Sales 1500.00 − return 200.00 − fees 43.15 − fee VAT 10.80
	// + fee refund 4.98 + its VAT 1.25 = 1252.28.
	if p.ID != ref || p.Reference != ref || !p.Amount.Equal(sek(125228)) || p.Status != commerce.PayoutPaid ||
		p.ArrivalDate != commerce.NewDate(2026, 3, 3) || p.Source.Account != klarnatest.DefaultMerchantID {
		t.Errorf("payout = %+v", p)
	}

	txs, err := collect(f.c.PayoutTransactions(ctx, ref))
	if err != nil {
		t.Fatal(err)
	}
	p.Transactions = txs
	if err := p.Validate(); err != nil {
		t.Errorf("payout does not validate: %v", err)
	}
	if d, _ := p.Difference(); !d.IsZero() {
		t.Errorf("difference %s", d)
	}

	type row struct {
		Kind        commerce.TransactionKind
		Type        string
		Amount, Fee string
		FeeVAT, Net string
		Desc        string
	}
	var got []row
	for _, tx := range txs {
		got = append(got, row{tx.Kind, tx.ProviderType, tx.Amount.String(), tx.Fee.String(), tx.FeeVAT.String(), tx.Net.String(), tx.Description})
	}
	none := "0 (none)"
	want := []row{
		{commerce.TxSale, "SALE", "1000.00 SEK", none, none, "1000.00 SEK", "PURCHASE"},
		{commerce.TxFee, "FEE", "0.00 SEK", "24.90 SEK", "6.23 SEK", "-31.13 SEK", "PURCHASE_FEE_PERCENTAGE"},
		{commerce.TxFee, "FEE", "0.00 SEK", "2.90 SEK", "0.73 SEK", "-3.63 SEK", "PURCHASE_FEE_FIXED"},
		{commerce.TxSale, "SALE", "500.00 SEK", none, none, "500.00 SEK", "PURCHASE"},
		{commerce.TxFee, "FEE", "0.00 SEK", "12.45 SEK", "3.11 SEK", "-15.56 SEK", "PURCHASE_FEE_PERCENTAGE"},
		{commerce.TxFee, "FEE", "0.00 SEK", "2.90 SEK", "0.73 SEK", "-3.63 SEK", "PURCHASE_FEE_FIXED"},
		{commerce.TxRefund, "RETURN", "-200.00 SEK", none, none, "-200.00 SEK", "PURCHASE_RETURN"},
		{commerce.TxFeeRefund, "FEE_REFUND", "0.00 SEK", "-4.98 SEK", "-1.25 SEK", "6.23 SEK", "PURCHASE_FEE_PERCENTAGE_REFUND"},
	}
	// Settle orders rows by order id; compare as a set.
	sortRows := cmpopts.SortSlices(func(a, b row) bool { return fmt.Sprint(a) < fmt.Sprint(b) })
	if d := cmp.Diff(want, got, sortRows); d != "" {
		t.Errorf("transactions (-want +got):\n%s", d)
	}

	var sale, ret, fee *commerce.Transaction
	for i := range txs {
		tx := &txs[i]
		switch {
		case tx.Kind == commerce.TxSale && tx.References.OrderNumber == "A-1":
			sale = tx
		case tx.Kind == commerce.TxRefund:
			ret = tx
		case tx.Kind == commerce.TxFee && fee == nil:
			fee = tx
		}
	}
	if sale == nil || ret == nil || fee == nil {
		t.Fatal("missing rows")
	}
	if r := sale.References; r.CaptureID == "" || r.MerchantReference != "d-A" || r.MerchantReference2 != "crm-7" ||
		r.OrderID == "" || r.ShortOrderID == "" || r.PaymentReference != ref {
		t.Errorf("sale references = %+v", r)
	}
	if r := ret.References; r.RefundID == "" || r.CaptureID != "" || r.MerchantReference != "ret-B" || r.OrderNumber != "B-2" {
		t.Errorf("return references = %+v", r)
	}
	if fee.FeeVATRatePercent == nil || !fee.FeeVATRatePercent.Equal(decimal.NewFromInt(25)) {
		t.Errorf("fee VAT rate = %v", fee.FeeVATRatePercent)
	}
	ids := map[string]bool{}
	for _, tx := range txs {
		if ids[tx.ID] {
			t.Errorf("duplicate transaction id %s", tx.ID)
		}
		ids[tx.ID] = true
	}

	// The same transactions, read again, get the same ids.
	again, err := collect(f.c.PayoutTransactions(ctx, ref))
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(txs, again); d != "" {
		t.Errorf("second read differs:\n%s", d)
	}

	whole, err := f.c.Payout(ctx, ref)
	if err != nil || len(whole.Transactions) != len(txs) || whole.Raw == nil {
		t.Errorf("Payout: %d transactions, %v", len(whole.Transactions), err)
	}
}

func TestPayoutWindowIsHalfOpen(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	id := f.order(t, 10000, "w")
	t1 := f.srv.Now()
	if _, err := f.c.Capture(ctx, connector.CaptureRequest{PaymentReference: id, Amount: sek(5000)}, key("c1")); err != nil {
		t.Fatal(err)
	}
	first := f.srv.Settle()
	f.srv.Advance(time.Hour)
	t2 := f.srv.Now()
	if _, err := f.c.Capture(ctx, connector.CaptureRequest{PaymentReference: id, Amount: sek(5000)}, key("c2")); err != nil {
		t.Fatal(err)
	}
	second := f.srv.Settle()

	for _, tc := range []struct {
		from, to time.Time
		want     []string
	}{
		{t1, t2, first},
		{t2, t2.Add(time.Nanosecond), second},
		{t1, t2.Add(time.Second), append(append([]string{}, first...), second...)},
		{t1.Add(time.Millisecond), t2, nil},
	} {
		ps, err := collect(f.c.Payouts(ctx, tc.from, tc.to))
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, p := range ps {
			got = append(got, p.ID)
		}
		if d := cmp.Diff(tc.want, got); d != "" {
			t.Errorf("[%s, %s) (-want +got):\n%s", tc.from.Format(time.RFC3339Nano), tc.to.Format(time.RFC3339Nano), d)
		}
	}
	if _, err := collect(f.c.Payouts(ctx, t2, t1)); connector.KindOf(err) != connector.KindValidation {
		t.Errorf("inverted window: %v", err)
	}
}

func TestPaginationAcrossPages(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil, klarna.WithPageSize(2))
	for i := range 3 {
		id := f.order(t, 10000, fmt.Sprint("p", i))
		if _, err := f.c.Capture(ctx, connector.CaptureRequest{PaymentReference: id, Amount: sek(10000)}, key("c", id)); err != nil {
			t.Fatal(err)
		}
	}
	refs := f.srv.Settle() // 3 sales + 6 fee rows = 9 rows
	_, rows, _ := f.srv.Payout(refs[0])
	if len(rows) != 9 {
		t.Fatalf("%d rows", len(rows))
	}
	before := f.srv.Calls("getTransactions")
	txs, err := collect(f.c.PayoutTransactions(ctx, refs[0]))
	if err != nil {
		t.Fatal(err)
	}
	if len(txs) != 9 {
		t.Errorf("%d transactions, want 9", len(txs))
	}
	if got := f.srv.Calls("getTransactions") - before; got != 5 {
		t.Errorf("%d pages fetched, want 5", got)
	}
	for range 4 {
		f.srv.Advance(time.Hour)
		id := f.order(t, 1000, "more")
		if _, err := f.c.Capture(ctx, connector.CaptureRequest{PaymentReference: id, Amount: sek(1000)}, key("c", id)); err != nil {
			t.Fatal(err)
		}
		f.srv.Settle()
	}
	ps, err := collect(f.c.Payouts(ctx, start, f.srv.Now().Add(time.Second)))
	if err != nil || len(ps) != 5 {
		t.Errorf("%d payouts over pages of 2: %v", len(ps), err)
	}
	// Stopping early stops fetching.
	before = f.srv.Calls("getTransactions")
	for range f.c.PayoutTransactions(ctx, refs[0]) {
		break
	}
	if got := f.srv.Calls("getTransactions") - before; got != 1 {
		t.Errorf("early stop fetched %d pages", got)
	}
}

func payoutOf(ref string, settlement int64, t klarna.Totals) klarna.Payout {
	t.SettlementAmount = settlement
	return klarna.Payout{Totals: t, PaymentReference: ref, PayoutDate: start, CurrencyCode: "SEK", MerchantSettlementType: "NET", MerchantID: "M1"}
}

func wireRow(typ string, amount int64) klarna.Transaction {
	return klarna.Transaction{Amount: amount, Type: typ, SaleDate: start, CaptureDate: start, OrderID: "7d3c0f3a-1111-4111-a111-111111111111", CurrencyCode: "SEK", PurchaseCountry: "SE"}
}

func TestPayoutThatDoesNotSumIsDetected(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	f.srv.AddPayout(payoutOf("BADSUM01", 10000, klarna.Totals{SaleAmount: 10000}), []klarna.Transaction{wireRow("SALE", 9000)})

	txs, err := collect(f.c.PayoutTransactions(ctx, "BADSUM01"))
	if len(txs) != 1 {
		t.Errorf("%d transactions before the error, want the one row", len(txs))
	}
	var mm *klarna.SettlementMismatchError
	if !errors.As(err, &mm) {
		t.Fatalf("no mismatch error: %v", err)
	}
	if !mm.Difference.Equal(sek(1000)) || !mm.Settlement.Equal(sek(10000)) || !mm.Sum.Equal(sek(9000)) {
		t.Errorf("mismatch = %+v", mm)
	}
	if len(mm.Categories) != 1 || !strings.Contains(mm.Categories[0], "sale_amount: totals 100.00 SEK, rows 90.00 SEK") {
		t.Errorf("categories = %q", mm.Categories)
	}
	if connector.KindOf(err) != connector.KindPermanent || !strings.Contains(err.Error(), "difference 10.00 SEK") {
		t.Errorf("error = %v", err)
	}
	p, err := f.c.Payout(ctx, "BADSUM01")
	if !errors.As(err, &mm) || p.ID != "BADSUM01" {
		t.Errorf("Payout: %v", err)
	}
}

func TestUnknownTransactionTypeKeptAndReported(t *testing.T) {
	ctx := context.Background()
	var reported []commerce.Transaction
	f := newFixture(t, []klarnatest.Option{klarnatest.WithoutResponseValidation()},
		klarna.WithUnknownTransactionHandler(func(tx commerce.Transaction) { reported = append(reported, tx) }))
	rows := []klarna.Transaction{wireRow("SALE", 10000), wireRow("LOYALTY_BONUS", 250)}
	f.srv.AddPayout(payoutOf("UNKNOWN1", 10250, klarna.Totals{SaleAmount: 10000}), rows)
	txs, err := collect(f.c.PayoutTransactions(ctx, "UNKNOWN1"))
	if err != nil {
		t.Fatal(err)
	}
	if len(txs) != 2 || txs[1].Kind != commerce.TxOther || txs[1].ProviderType != "LOYALTY_BONUS" || !txs[1].Net.Equal(sek(250)) {
		t.Fatalf("transactions = %+v", txs)
	}
	if len(reported) != 1 || reported[0].ID != txs[1].ID {
		t.Errorf("reported = %+v", reported)
	}
	if !strings.Contains(f.log.String(), `"provider_type":"LOYALTY_BONUS"`) {
		t.Error("unknown type not logged")
	}
}

func TestDebtCarriedBetweenPayouts(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	id := f.order(t, 10000, "debt")
	if _, err := f.c.Capture(ctx, connector.CaptureRequest{PaymentReference: id, Amount: sek(10000)}, key("c", id)); err != nil {
		t.Fatal(err)
	}
	f.srv.Settle()
	f.srv.Advance(time.Hour)
	if _, err := f.c.Refund(ctx, connector.RefundRequest{PaymentReference: id, Amount: sek(10000)}, key("r", id)); err != nil {
		t.Fatal(err)
	}
	deposit := f.srv.Settle()
	f.srv.Advance(time.Hour)
	id2 := f.order(t, 50000, "debt-2")
	if _, err := f.c.Capture(ctx, connector.CaptureRequest{PaymentReference: id2, Amount: sek(50000)}, key("c", id2)); err != nil {
		t.Fatal(err)
	}
	repay := f.srv.Settle()

	for _, tc := range []struct {
		ref       string
		synthetic string
	}{{deposit[0], klarna.SyntheticDeposit}, {repay[0], klarna.SyntheticRepay}} {
		p, err := f.c.Payout(ctx, tc.ref)
		if err != nil {
			t.Fatalf("%s: %v", tc.ref, err)
		}
		if err := p.Validate(); err != nil {
			t.Errorf("%s: %v", tc.ref, err)
		}
		last := p.Transactions[len(p.Transactions)-1]
		if last.ProviderType != tc.synthetic || last.Kind != commerce.TxAdjustment {
			t.Errorf("%s: last row %s/%s, want the %s row", tc.ref, last.Kind, last.ProviderType, tc.synthetic)
		}
	}
	dp, _, _ := f.srv.Payout(deposit[0])
	if dp.Totals.SettlementAmount != 0 || dp.Totals.DepositAmount == 0 {
		t.Errorf("deposit payout totals = %+v", dp.Totals)
	}
}

func TestHoldbackAndRelease(t *testing.T) {
	ctx := context.Background()
	fees := klarnatest.DefaultFees
	fees.HoldbackBasisPoints = 1000
	f := newFixture(t, []klarnatest.Option{klarnatest.WithFees(fees)})
	id := f.order(t, 100000, "hold")
	if _, err := f.c.Capture(ctx, connector.CaptureRequest{PaymentReference: id, Amount: sek(100000)}, key("c", id)); err != nil {
		t.Fatal(err)
	}
	first := f.srv.Settle()
	f.srv.Advance(time.Hour)
	second := f.srv.Settle()
	if len(second) != 1 {
		t.Fatalf("the release was not paid out: %v", second)
	}
	for ref, want := range map[string]commerce.Transaction{
		first[0]:  {Kind: commerce.TxHoldback, Amount: sek(-10000)},
		second[0]: {Kind: commerce.TxRelease, Amount: sek(10000)},
	} {
		p, err := f.c.Payout(ctx, ref)
		if err != nil {
			t.Fatal(err)
		}
		var found bool
		for _, tx := range p.Transactions {
			if tx.Kind == want.Kind {
				found = tx.Amount.Equal(want.Amount) && tx.Net.Equal(want.Amount)
			}
		}
		if !found {
			t.Errorf("%s: no %s row of %s", ref, want.Kind, want.Amount)
		}
	}
}

func TestGrossPayoutFeesNotDeducted(t *testing.T) {
	vat := int64(25)
	fee := wireRow("FEE", 100)
	fee.VATAmount = &vat
	p := payoutOf("GROSS001", 10000, klarna.Totals{SaleAmount: 10000, FeeAmount: 100, TaxAmount: 25})
	p.MerchantSettlementType = klarna.SettlementGross
	out, unknown, err := klarna.NormalizePayout(p, []klarna.Transaction{wireRow("SALE", 10000), fee})
	if err != nil || len(unknown) != 0 {
		t.Fatal(err, unknown)
	}
	last := out.Transactions[len(out.Transactions)-1]
	if last.ProviderType != klarna.SyntheticGrossFees || !last.Net.Equal(sek(125)) {
		t.Errorf("last row = %+v", last)
	}
	if err := out.Validate(); err != nil {
		t.Error(err)
	}
}

func TestPayoutReportCSVMatchesJSON(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	ref := settleScenario(t, f)
	rows, err := f.c.PayoutReport(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	_, want, _ := f.srv.Payout(ref)
	if d := cmp.Diff(want, rows, cmpopts.EquateEmpty()); d != "" {
		t.Errorf("CSV rows (-fake +parsed):\n%s", d)
	}
	wp, err := f.c.GetPayout(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	fromCSV, _, err := klarna.NormalizePayout(*wp, rows)
	if err != nil {
		t.Fatal(err)
	}
	fromJSON, err := collect(f.c.PayoutTransactions(ctx, ref))
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(fromJSON, fromCSV.Transactions); d != "" {
		t.Errorf("CSV and JSON normalise differently (-json +csv):\n%s", d)
	}
	if _, err := f.c.PayoutReport(ctx, "NOSUCHREF"); !errors.Is(err, connector.ErrNotFound) {
		t.Errorf("unknown report: %v", err)
	}
}

func TestPayoutSummaries(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	settleScenario(t, f)
	sums, err := f.c.PayoutSummaries(ctx, start, f.srv.Now().Add(time.Second), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(sums) != 1 || sums[0].SummarySettlementCurrency != "SEK" || sums[0].SummaryTotalSettlementAmount != 125228 {
		t.Errorf("summaries = %+v", sums)
	}
}

// TestMalformedSettlements serves broken answers and expects typed errors.
func TestMalformedSettlements(t *testing.T) {
	payout := `{"payment_reference":"REF1","payout_date":"2026-03-02T09:00:00Z","currency_code":"SEK","merchant_settlement_type":"NET","merchant_id":"M1","totals":{"settlement_amount":100}}`
	row := `{"amount":100,"type":"SALE","sale_date":"2026-03-02T09:00:00Z","capture_date":"2026-03-02T09:00:00Z","order_id":"o","currency_code":"SEK","purchase_country":"SE"}`
	for _, tc := range []struct {
		name, payout, txs string
		is                error
		contains          string
	}{
		{"not json", payout, `{"transactions": [`, klarna.ErrMalformed, "unexpected EOF"},
		{"fractional amount", payout, `{"transactions":[` + strings.Replace(row, `"amount":100`, `"amount":1.5`, 1) + `],"pagination":{"count":1}}`, klarna.ErrMalformed, "amount"},
		{"count disagrees", payout, `{"transactions":[` + row + `],"pagination":{"count":2}}`, klarna.ErrMalformed, "pagination.count 2"},
		{"next does not advance", payout, `{"transactions":[` + row + `],"pagination":{"count":1,"next":"http://x/transactions?offset=0&size=1"}}`, klarna.ErrMalformed, "does not advance"},
		{"next skips", payout, `{"transactions":[` + row + `],"pagination":{"count":1,"next":"http://x/transactions?offset=2&size=1"}}`, klarna.ErrMalformed, "moves to offset 2"},
		{"total disagrees", payout, `{"transactions":[` + row + `],"pagination":{"count":1,"total":3}}`, klarna.ErrMalformed, "pagination.total is 3"},
		{"unknown currency", strings.Replace(payout, `"SEK"`, `"XYZ"`, 1), `{"transactions":[],"pagination":{"count":0}}`, klarna.ErrMalformed, "XYZ"},
		{"row in another currency", payout, `{"transactions":[` + strings.Replace(row, `"SEK"`, `"EUR"`, 1) + `],"pagination":{"count":1}}`, commerce.ErrCurrencyMismatch, "EUR"},
		{"trailing garbage", payout, `{"transactions":[],"pagination":{"count":0}} x`, klarna.ErrMalformed, "trailing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				if strings.HasSuffix(r.URL.Path, "/payouts/REF1") {
					fmt.Fprint(w, tc.payout)
					return
				}
				fmt.Fprint(w, tc.txs)
			}))
			defer srv.Close()
			c, err := klarna.New("u", "password", klarna.WithBaseURL(srv.URL), klarna.WithPageSize(1))
			if err != nil {
				t.Fatal(err)
			}
			_, err = collect(c.PayoutTransactions(context.Background(), "REF1"))
			if !errors.Is(err, tc.is) || !strings.Contains(err.Error(), tc.contains) || connector.KindOf(err) != connector.KindPermanent {
				t.Errorf("error = %v (kind %v), want %v containing %q", err, connector.KindOf(err), tc.is, tc.contains)
			}
		})
	}
}

func TestMalformedOrder(t *testing.T) {
	for _, body := range []string{`{`, `{"order_id":"o","purchase_currency":"SEK","captured_amount":"12"}`, `{"order_id":"o"}`, `[]`} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, body) }))
		c, err := klarna.New("u", "password", klarna.WithBaseURL(srv.URL))
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Payment(context.Background(), "o")
		if !errors.Is(err, klarna.ErrMalformed) {
			t.Errorf("%s: %v", body, err)
		}
		srv.Close()
	}
}
