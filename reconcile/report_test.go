package reconcile

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
)

// MarshalJSON is WriteJSON without indentation, and the streamed lists
// hold what the summary counts.
func TestResultJSON(t *testing.T) {
	r, err := New()
	if err != nil {
		t.Fatal(err)
	}
	res, err := r.Run(context.Background(), klarnaShape(t))
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	var indented bytes.Buffer
	if err := res.WriteJSON(&indented); err != nil {
		t.Fatal(err)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, indented.Bytes()); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, compact.Bytes()) {
		t.Error("MarshalJSON and WriteJSON differ")
	}
	var back struct {
		Summary   Summary          `json:"summary"`
		Matched   []Match          `json:"matched"`
		Paid      []Payment        `json:"paid"`
		Unmatched []Unmatched      `json:"unmatched"`
		Vouchers  []map[string]any `json:"vouchers"`
	}
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	s := back.Summary
	if len(back.Matched) != s.TransactionsMatched || len(back.Paid) != s.DocumentsPaid ||
		len(back.Unmatched) != s.TransactionsOpen || len(back.Vouchers) != s.Vouchers {
		t.Errorf("summary %+v; lists %d matched, %d paid, %d unmatched, %d vouchers", s,
			len(back.Matched), len(back.Paid), len(back.Unmatched), len(back.Vouchers))
	}
	if s.TransactionsMatched == 0 || s.DocumentsPaid == 0 {
		t.Error("the run matched nothing")
	}
}

// A zero Result writes empty lists.
func TestEmptyResult(t *testing.T) {
	var res Result
	var buf bytes.Buffer
	if err := res.WriteCSV(&buf); err != nil {
		t.Fatal(err)
	}
	if got := buf.String(); got != "payout,provider,payout_status,transaction,kind,provider_type,currency,amount,fee,fee_vat,net,status,method,document_kind,document,reason,voucher\n" {
		t.Errorf("csv %q", got)
	}
	if len(res.Entries()) != 0 {
		t.Error("entries of nothing")
	}
	for range res.Paid() {
		t.Error("paid of nothing")
	}
}
