package paypal_test

import (
	"encoding/json"
	"errors"
	"flag"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/connector"
	"github.com/knyt/knyt/paypal"
	"github.com/knyt/knyt/paypal/paypaltest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

const day = 24 * time.Hour

// ledger seeds a USD history with every kind of row between two
// withdrawals, and an EUR sale converted to USD.
func ledger(t *testing.T, e *env) (first, second paypaltest.Transaction) {
	t.Helper()
	at := func(d int, h int) time.Time { return start.Add(time.Duration(d)*day + time.Duration(h)*time.Hour) }
	add := func(tx paypaltest.Transaction) paypaltest.Transaction {
		t.Helper()
		got, err := e.fake.AddTransaction(tx)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	add(paypaltest.Transaction{EventCode: "T0006", At: at(-41, 0), Currency: "USD", Gross: "100.00", Fee: "-3.49", InvoiceID: "1000"})
	withdraw := func(d int) paypaltest.Transaction {
		t.Helper()
		bal := e.fake.Balance("USD")
		return add(paypaltest.Transaction{EventCode: "T0400", At: at(d, 0), Currency: "USD", Gross: "-" + bal, BankReferenceID: "BANKREF" + bal[:2]})
	}
	first = withdraw(-39)
	sale := add(paypaltest.Transaction{EventCode: "T0006", At: at(-10, 0), Currency: "USD", Gross: "200.00", Fee: "-7.28", InvoiceID: "1001", CustomField: "order-1001"})
	add(paypaltest.Transaction{EventCode: "T1107", At: at(-9, 0), Currency: "USD", Gross: "-50.00", Fee: "1.75", ReferenceID: sale.ID, ReferenceIDType: "TXN", InvoiceID: "CN-1", CustomField: "1001"})
	add(paypaltest.Transaction{EventCode: "T0107", At: at(-8, 0), Currency: "USD", Gross: "-1.00", Subject: "Payment fee"})
	add(paypaltest.Transaction{EventCode: "T1110", At: at(-7, 0), Currency: "USD", Gross: "-20.00"})
	add(paypaltest.Transaction{EventCode: "T1111", At: at(-6, 0), Currency: "USD", Gross: "20.00"})
	eur := add(paypaltest.Transaction{EventCode: "T0006", At: at(-6, 1), Currency: "EUR", Gross: "60.00", Fee: "-2.09", InvoiceID: "1002"})
	add(paypaltest.Transaction{EventCode: "T0200", At: at(-6, 2), Currency: "EUR", Gross: "-57.91", ReferenceID: eur.ID, ReferenceIDType: "TXN"})
	add(paypaltest.Transaction{EventCode: "T0200", At: at(-6, 2), Currency: "USD", Gross: "62.54", ReferenceID: eur.ID, ReferenceIDType: "TXN"})
	add(paypaltest.Transaction{EventCode: "T9876", At: at(-5, 0), Currency: "USD", Gross: "1.00"})
	second = withdraw(-2)
	return first, second
}

type anomalies struct {
	mu   sync.Mutex
	list []paypal.Anomaly
}

func (a *anomalies) add(x paypal.Anomaly) { a.mu.Lock(); a.list = append(a.list, x); a.mu.Unlock() }

func listPayouts(t *testing.T, c *paypal.Client, from, to time.Time) ([]commerce.Payout, error) {
	t.Helper()
	var out []commerce.Payout
	for p, err := range c.Payouts(t.Context(), from, to) {
		if err != nil {
			return out, err
		}
		out = append(out, p)
	}
	return out, nil
}

func TestPayouts(t *testing.T) {
	var an anomalies
	e := newEnv(t, nil, paypal.WithAnomalyHandler(an.add))
	first, second := ledger(t, e)

	// The window holds only the second withdrawal; its rows go back 37
	// days, so they are found by searching backwards window by window.
	payouts, err := listPayouts(t, e.client, start.Add(-3*day), start.Add(-4*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(payouts) != 1 {
		t.Fatalf("%d payouts, want 1", len(payouts))
	}
	p := payouts[0]
	if p.ID != paypal.PayoutID(second.ID, second.At) || p.Source.ID != second.ID {
		t.Errorf("payout id %s", p.ID)
	}
	if !p.Amount.Equal(money(t, "207.01", "USD")) || p.Status != commerce.PayoutPaid || p.ArrivalDate != commerce.DateOf(start.Add(-2*day)) || p.Reference != second.BankReferenceID {
		t.Errorf("payout %s %s %v %q", p.Amount, p.Status, p.ArrivalDate, p.Reference)
	}
	if err := p.Validate(); err != nil {
		t.Errorf("payout does not add up: %v", err)
	}
	var kinds []commerce.TransactionKind
	for _, tx := range p.Transactions {
		kinds = append(kinds, tx.Kind)
	}
	want := []commerce.TransactionKind{commerce.TxSale, commerce.TxRefund, commerce.TxFee, commerce.TxHoldback, commerce.TxRelease, commerce.TxCurrencyConv, commerce.TxOther, commerce.TxPayout}
	if diff := cmp.Diff(want, kinds); diff != "" {
		t.Errorf("kinds (-want +got):\n%s", diff)
	}
	wantAn := []paypal.Anomaly{{Kind: paypal.AnomalyUnknownEventCode, PayoutID: p.ID, TransactionID: p.Transactions[6].ID, EventCode: "T9876"}}
	if diff := cmp.Diff(wantAn, an.list); diff != "" {
		t.Errorf("anomalies (-want +got):\n%s", diff)
	}

	// PayoutTransactions finds the same rows from the id alone.
	var txs []commerce.Transaction
	for tx, err := range e.client.PayoutTransactions(t.Context(), p.ID) {
		if err != nil {
			t.Fatal(err)
		}
		txs = append(txs, tx)
	}
	if diff := cmp.Diff(p.Transactions, txs); diff != "" {
		t.Errorf("PayoutTransactions differs from Payouts (-payouts +transactions):\n%s", diff)
	}

	// A wide window lists both withdrawals, oldest first.
	all, err := listPayouts(t, e.client, start.Add(-45*day), start.Add(-4*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || all[0].Source.ID != first.ID || all[1].Source.ID != second.ID {
		t.Fatalf("payouts %v", ids(all))
	}
	if diff := cmp.Diff(p, all[1]); diff != "" {
		t.Errorf("the same payout differs between windows:\n%s", diff)
	}
	golden(t, "payouts.golden.json", all)
}

func ids(ps []commerce.Payout) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.ID)
	}
	return out
}

func golden(t *testing.T, name string, v any) {
	t.Helper()
	got, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, append(got, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(strings.TrimSpace(string(want)), string(got)); diff != "" {
		t.Errorf("%s differs (-want +got):\n%s", path, diff)
	}
}

func TestPayoutDifferenceReported(t *testing.T) {
	var an anomalies
	e := newEnv(t, nil, paypal.WithAnomalyHandler(an.add))
	add := func(tx paypaltest.Transaction) {
		if _, err := e.fake.AddTransaction(tx); err != nil {
			t.Fatal(err)
		}
	}
	add(paypaltest.Transaction{EventCode: "T0400", At: start.Add(-20 * day), Currency: "SEK", Gross: "0.00"})
	add(paypaltest.Transaction{EventCode: "T0006", At: start.Add(-10 * day), Currency: "SEK", Gross: "500.00", Fee: "-17.45"})
	// A manual withdrawal of less than the balance.
	add(paypaltest.Transaction{EventCode: "T0400", At: start.Add(-5 * day), Currency: "SEK", Gross: "-400.00"})
	ps, err := listPayouts(t, e.client, start.Add(-6*day), start.Add(-4*day))
	if err != nil || len(ps) != 1 {
		t.Fatalf("%d payouts, %v", len(ps), err)
	}
	diff, _ := ps[0].Difference()
	if !diff.Equal(money(t, "-82.55", "SEK")) {
		t.Errorf("difference %s", diff)
	}
	want := []paypal.Anomaly{{Kind: paypal.AnomalyPayoutDifference, PayoutID: ps[0].ID, Difference: money(t, "-82.55", "SEK")}}
	if d := cmp.Diff(want, an.list); d != "" {
		t.Errorf("anomalies (-want +got):\n%s", d)
	}
	if !strings.Contains(e.log.String(), `"anomaly":"payout_difference"`) {
		t.Errorf("difference not logged")
	}
}

func TestPayoutsNotFinal(t *testing.T) {
	e := newEnv(t, nil)
	if _, err := e.fake.AddTransaction(paypaltest.Transaction{EventCode: "T0006", At: start.Add(-2 * day), Currency: "USD", Gross: "10.00", Fee: "-0.35"}); err != nil {
		t.Fatal(err)
	}
	e.fake.Advance(time.Hour)
	wd, err := e.fake.Withdraw("USD") // an hour old when listed
	if err != nil {
		t.Fatal(err)
	}
	e.fake.Advance(time.Hour)
	now := e.fake.Now()
	ps, err := listPayouts(t, e.client, start.Add(-3*day), now)
	if len(ps) != 0 {
		t.Errorf("listed %v before the withdrawal is final", ids(ps))
	}
	var nf *paypal.NotFinalError
	if !errors.As(err, &nf) || !errors.Is(err, connector.ErrTemporary) {
		t.Fatalf("got %v, want a temporary NotFinalError", err)
	}
	if !nf.FinalBefore.Equal(now.Add(-3 * time.Hour)) {
		t.Errorf("final before %v, want %v", nf.FinalBefore, now.Add(-3*time.Hour))
	}
	if d := connector.RetryAfterOf(err); d != 3*time.Hour {
		t.Errorf("retry after %v, want 3h", d)
	}
	e.fake.Advance(3 * time.Hour)
	ps, err = listPayouts(t, e.client, start.Add(-3*day), now)
	if err != nil || len(ps) != 1 || ps[0].Source.ID != wd.ID {
		t.Fatalf("after the delay: %v, %v", ids(ps), err)
	}
}

func TestPayoutsFirstWithdrawal(t *testing.T) {
	var an anomalies
	e := newEnv(t, nil, paypal.WithAnomalyHandler(an.add), paypal.WithPayoutLookback(60*day))
	if _, err := e.fake.AddTransaction(paypaltest.Transaction{EventCode: "T0006", At: start.Add(-50 * day), Currency: "USD", Gross: "10.00", Fee: "-0.35"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.fake.AddTransaction(paypaltest.Transaction{EventCode: "T0400", At: start.Add(-day), Currency: "USD", Gross: "-9.65"}); err != nil {
		t.Fatal(err)
	}
	ps, err := listPayouts(t, e.client, start.Add(-2*day), start.Add(-4*time.Hour))
	if err != nil || len(ps) != 1 {
		t.Fatalf("%v %v", ids(ps), err)
	}
	if err := ps[0].Validate(); err != nil {
		t.Error(err)
	}
	if len(an.list) != 1 || an.list[0].Kind != paypal.AnomalyNoEarlierWithdrawal {
		t.Errorf("anomalies %+v", an.list)
	}
}

func TestPayoutTransactionsBadID(t *testing.T) {
	e := newEnv(t, nil)
	for _, tt := range []struct {
		id   string
		want error
	}{
		{"nonsense", connector.ErrValidation},
		{"ABC.2026-01-01", connector.ErrValidation},
		{"AB/C.20260101T000000Z", connector.ErrValidation},
		{paypal.PayoutID("NOSUCHWITHDRAWAL1", start.Add(-day)), connector.ErrNotFound},
	} {
		for _, err := range e.client.PayoutTransactions(t.Context(), tt.id) {
			if !errors.Is(err, tt.want) {
				t.Errorf("%s: %v, want %v", tt.id, err, tt.want)
			}
		}
	}
}

func TestParsePayoutID(t *testing.T) {
	at := time.Date(2026, 3, 4, 10, 15, 0, 0, time.UTC)
	id := paypal.PayoutID("4RA61538LY245474X", at.In(time.FixedZone("", -7*3600)))
	if id != "4RA61538LY245474X.20260304T101500Z" {
		t.Errorf("id %q", id)
	}
	tx, got, err := paypal.ParsePayoutID(id)
	if err != nil || tx != "4RA61538LY245474X" || !got.Equal(at) {
		t.Errorf("%q %v %v", tx, got, err)
	}
}

func TestTransactionsSplitsWindowsAndPages(t *testing.T) {
	e := newEnv(t, nil, paypal.WithPageSize(2))
	var want []string
	for i := range 7 {
		tx, err := e.fake.AddTransaction(paypaltest.Transaction{EventCode: "T0006", At: start.Add(-time.Duration(70-10*i) * day), Currency: "USD", Gross: "1.00"})
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, tx.ID)
	}
	// Two rows in one window need a second page.
	tx, err := e.fake.AddTransaction(paypaltest.Transaction{EventCode: "T0006", At: start.Add(-9*day + time.Hour), Currency: "USD", Gross: "2.00"})
	if err != nil {
		t.Fatal(err)
	}
	tx2, err := e.fake.AddTransaction(paypaltest.Transaction{EventCode: "T0006", At: start.Add(-9*day + 2*time.Hour), Currency: "USD", Gross: "3.00"})
	if err != nil {
		t.Fatal(err)
	}
	want = append(want, tx.ID, tx2.ID)
	var got []string
	for d, err := range e.client.Transactions(t.Context(), start.Add(-75*day), start.Add(-4*time.Hour), paypal.SearchQuery{}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, d.TransactionInfo.TransactionID)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
	windows := 0
	for _, r := range e.fake.Requests() {
		if r.Path != "/v1/reporting/transactions" {
			continue
		}
		q, _ := url.ParseQuery(r.Query)
		s, _ := time.Parse(time.RFC3339, q.Get("start_date"))
		en, _ := time.Parse(time.RFC3339, q.Get("end_date"))
		if en.Sub(s) > paypal.MaxSearchWindow {
			t.Errorf("window %s–%s longer than 31 days", s, en)
		}
		if q.Get("page") == "1" {
			windows++
		}
		if q.Get("page_size") != "2" {
			t.Errorf("page_size %q", q.Get("page_size"))
		}
	}
	if windows != 3 {
		t.Errorf("%d windows for 75 days, want 3", windows)
	}
}

func TestSearchWindowTooLong(t *testing.T) {
	e := newEnv(t, nil)
	_, err := e.client.SearchTransactions(t.Context(), paypal.SearchQuery{Start: start.Add(-40 * day), End: start.Add(-8 * day)})
	if !errors.Is(err, connector.ErrValidation) {
		t.Errorf("32-day window: %v, want ErrValidation", err)
	}
	_, err = e.client.SearchTransactions(t.Context(), paypal.SearchQuery{Start: start, End: start.Add(-day)})
	if !errors.Is(err, connector.ErrValidation) {
		t.Errorf("reversed window: %v, want ErrValidation", err)
	}
	if n := len(e.fake.Requests()); n != 0 {
		t.Errorf("%d requests sent", n)
	}
}

func TestSearchStartNotYetAvailable(t *testing.T) {
	// The client trusts no delay of its own; PayPal refuses a start date
	// past its refreshed data, and the listing reports the range as not
	// final instead of failing.
	e := newEnv(t, nil, paypal.WithSearchDelay(0))
	if _, err := e.fake.AddTransaction(paypaltest.Transaction{EventCode: "T0006", At: start.Add(-5 * day), Currency: "USD", Gross: "1.00"}); err != nil {
		t.Fatal(err)
	}
	var got int
	var last error
	for _, err := range e.client.Transactions(t.Context(), start.Add(-40*day), start, paypal.SearchQuery{}) {
		if err != nil {
			last = err
			continue
		}
		got++
	}
	var nf *paypal.NotFinalError
	if got != 1 || !errors.As(last, &nf) || !nf.FinalBefore.Equal(start.Add(-3*time.Hour)) {
		t.Errorf("%d rows, %v", got, last)
	}
}

func TestSearchMalformedRows(t *testing.T) {
	for _, tt := range []struct{ name, row string }{
		{"date without minutes of offset", `{"transaction_id":"1","transaction_event_code":"T0006","transaction_initiation_date":"2014-07-11T04:03:52+00","transaction_amount":{"currency_code":"USD","value":"1.00"}}`},
		{"date in 13th month", `{"transaction_id":"1","transaction_event_code":"T0006","transaction_initiation_date":"2014-13-11T04:03:52+0000","transaction_amount":{"currency_code":"USD","value":"1.00"}}`},
		{"inexact amount", `{"transaction_id":"1","transaction_event_code":"T0006","transaction_initiation_date":"2014-07-11T04:03:52+0000","transaction_amount":{"currency_code":"JPY","value":"1.50"}}`},
		{"no amount", `{"transaction_id":"1","transaction_event_code":"T0006","transaction_initiation_date":"2014-07-11T04:03:52+0000"}`},
		{"fee in another currency", `{"transaction_id":"1","transaction_event_code":"T0006","transaction_initiation_date":"2014-07-11T04:03:52+0000","transaction_amount":{"currency_code":"USD","value":"1.00"},"fee_amount":{"currency_code":"EUR","value":"-0.10"}}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				if r.URL.Path == "/v1/oauth2/token" {
					w.Write([]byte(`{"access_token":"tok-123456","token_type":"Bearer","expires_in":3600}`))
					return
				}
				w.Write([]byte(`{"transaction_details":[{"transaction_info":` + tt.row + `}],"page":1,"total_items":1,"total_pages":1}`))
			}))
			defer srv.Close()
			c, err := paypal.New("id-1234", "secret-1234", paypal.WithBaseURL(srv.URL), paypal.WithClock(func() time.Time { return time.Date(2014, 8, 1, 0, 0, 0, 0, time.UTC) }))
			if err != nil {
				t.Fatal(err)
			}
			for _, err := range c.Transactions(t.Context(), time.Date(2014, 7, 1, 0, 0, 0, 0, time.UTC), time.Date(2014, 7, 20, 0, 0, 0, 0, time.UTC), paypal.SearchQuery{}) {
				if !errors.Is(err, connector.ErrPermanent) {
					t.Errorf("got %v, want a permanent error", err)
				}
			}
		})
	}
}

func TestPayoutsInAccountZone(t *testing.T) {
	zone := time.FixedZone("PDT", -7*3600)
	e := newEnv(t, []paypaltest.Option{paypaltest.WithAccountZone(zone)})
	if _, err := e.fake.AddTransaction(paypaltest.Transaction{EventCode: "T0400", At: start.Add(-10 * day), Currency: "USD", Gross: "0.00"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.fake.AddTransaction(paypaltest.Transaction{EventCode: "T0006", At: start.Add(-5 * day), Currency: "USD", Gross: "10.00", Fee: "-0.35"}); err != nil {
		t.Fatal(err)
	}
	// 03:00 UTC is still the previous day in the account's zone.
	wdAt := time.Date(2026, 2, 28, 3, 0, 0, 0, time.UTC)
	if _, err := e.fake.AddTransaction(paypaltest.Transaction{EventCode: "T0400", At: wdAt, Currency: "USD", Gross: "-9.65"}); err != nil {
		t.Fatal(err)
	}
	ps, err := listPayouts(t, e.client, start.Add(-3*day), start.Add(-4*time.Hour))
	if err != nil || len(ps) != 1 {
		t.Fatalf("%v %v", ids(ps), err)
	}
	if want := commerce.NewDate(2026, 2, 27); ps[0].ArrivalDate != want || !ps[0].CreatedAt.Equal(wdAt) {
		t.Errorf("arrival %v created %v", ps[0].ArrivalDate, ps[0].CreatedAt)
	}
}
