package reconcile

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"slices"
	"strconv"
	"strings"

	"github.com/knyt/knyt/commerce"
)

// reasonText explains an unmatched reason when there is no more specific
// detail.
var reasonText = map[reason]string{
	rNoReference: "no matching key, and no single open document of the right kind fits amount and date",
	rNotFound:    "no open document carries its keys, and no single one fits amount and date",
	rAmbiguous:   "no key matched, and several open documents fit amount and date",
	rAdjustment:  "a provider adjustment; classify it by hand",
	rUnknownType: "a provider type the connector did not know",
	rConversion:  "a conversion between the provider's currency balances",
}

// result assembles the outcome of a run.
func (x *run) result(vouchers []commerce.Voucher) *Result {
	book := x.r.book
	docs := x.m.docs
	tab := x.m.tab
	res := &Result{
		BookCurrency: book,
		Unmatched:    []Unmatched{},
		Differences:  []Difference{},
		Problems:     x.b.problems,
		Vouchers:     vouchers,
		book:         book,
		payouts:      x.b.payouts,
		ps:           x.ps,
		offsets:      x.offsets,
		txs:          x.states,
		docs:         docs,
		tab:          tab,
		prev:         x.prev,
	}
	if res.Problems == nil {
		res.Problems = []Problem{}
	}
	if res.Vouchers == nil {
		res.Vouchers = []commerce.Voucher{}
	}
	type acc struct{ payouts, matched, unmatched, fees, feeVAT int64 }
	totals := map[commerce.Currency]*acc{}
	tot := func(c commerce.Currency) *acc {
		t, ok := totals[c]
		if !ok {
			t = &acc{}
			totals[c] = t
		}
		return t
	}
	s := &res.Summary
	var rc int64
	res.Payouts = make([]PayoutResult, len(x.ps))
	for pi := range x.ps {
		p := &x.b.payouts[pi]
		ps := &x.ps[pi]
		pr := PayoutResult{
			ID: p.ID, Provider: p.Provider, ArrivalDate: p.ArrivalDate, Status: ps.status, Reason: ps.reason,
			Transactions: len(p.Transactions), Booked: ps.booked, Vouchers: ps.vouchers, Previous: ps.prevVoucher,
		}
		cur := ps.cur
		if cur.IsZero() {
			cur = book // an invalid payout: zero amounts still need a currency
		} else {
			pr.Amount = p.Amount
		}
		pr.Difference = money(ps.diff, cur)
		pr.Fees = money(ps.fees, cur)
		pr.FeeVAT = money(ps.feeVAT, cur)
		if ps.date.Valid() {
			pr.ArrivalDate = ps.date
		}
		pr.ReverseChargeVAT = money(ps.rcVAT, book)
		rc += ps.rcVAT
		res.Payouts[pi] = pr
		s.Payouts++
		s.Transactions += len(p.Transactions)
		booked := ps.status == PayoutBooked || ps.status == PayoutSupplemented
		switch {
		case booked:
			s.PayoutsBooked++
			t := tot(ps.cur)
			if ps.status == PayoutBooked {
				t.payouts += ps.amount
			}
			t.fees += ps.fees
			t.feeVAT += ps.feeVAT
		case ps.status == PayoutAlreadyBooked:
			s.PayoutsAlreadyDone++
		default:
			s.PayoutsNotBooked++
		}
		for j := range p.Transactions {
			i := x.offsets[pi] + int32(j)
			st := &x.states[i]
			t := &p.Transactions[j]
			switch st.st {
			case stMatched:
				s.TransactionsMatched++
				a, _ := minorIn(t.Amount, ps.cur)
				tot(ps.cur).matched += a
			case stUnmatched:
				u := Unmatched{Payout: p.ID, Transaction: t.ID, Kind: t.Kind, ProviderType: t.ProviderType,
					Amount: t.Amount, Reason: reasonNames[st.reason], Detail: x.details[i]}
				if u.Detail == "" {
					u.Detail = reasonText[st.reason]
				}
				for _, d := range x.cands[i] {
					dc := docs.at(d)
					u.Candidates = append(u.Candidates, Candidate{Document: dc.docRef(), Open: money(dc.open(), tab.curs[dc.cur]), Date: dateOfDay(dc.day)})
				}
				if booked {
					u.Account = x.r.plan.Suspense
					a, _ := minorIn(t.Amount, ps.cur)
					tot(ps.cur).unmatched += a
				}
				res.Unmatched = append(res.Unmatched, u)
				s.TransactionsOpen++
			}
		}
	}
	res.Differences = append(res.Differences, x.diffs...)
	for di := int32(0); di < docs.n; di++ {
		d := docs.at(di)
		if !d.changed() {
			continue
		}
		ref := d.docRef()
		cur := tab.curs[d.cur]
		exp, run := d.open(), d.booked+d.bookedClose
		rem := exp - run
		if d.bookedClose != 0 {
			diff := Difference{Kind: DiffRounding, Document: &ref, Expected: money(exp, cur), Settled: money(d.booked, cur),
				Amount: money(d.bookedClose, cur), OwedBy: owedBy(d.bookedClose), Account: x.r.plan.Rounding}
			if d.has(fClosureFX) {
				diff.Kind, diff.Account = DiffExchange, x.r.plan.FXLoss
				if d.bookedClose < 0 {
					diff.Account = x.r.plan.FXGain
				}
			}
			res.Differences = append(res.Differences, diff)
		}
		if rem != 0 {
			diff := Difference{Document: &ref, Expected: money(exp, cur), Settled: money(run, cur),
				Amount: money(rem, cur), OwedBy: owedBy(rem)}
			switch {
			case d.reopen != 0:
				diff.Kind = DiffChargeback
			case d.noCredit != 0:
				diff.Kind, diff.OwedBy = DiffMissingCredit, ""
			case (exp > 0 && rem > 0) || (exp < 0 && rem < 0):
				diff.Kind = DiffUnderpaid
			default:
				diff.Kind = DiffOverpaid
			}
			res.Differences = append(res.Differences, diff)
		}
		if d.paidNow() {
			s.DocumentsPaid++
			if rem == 0 {
				s.DocumentsFullyPaid++
			}
		}
	}
	s.Differences = len(res.Differences)
	s.Vouchers = len(res.Vouchers)
	s.Problems = len(res.Problems)
	s.ReverseChargeVAT = money(rc, book)
	for _, c := range sortedCurrencies(totals) {
		t := totals[c]
		s.ByCurrency = append(s.ByCurrency, CurrencyTotals{Currency: c.Code(), Payouts: money(t.payouts, c),
			Matched: money(t.matched, c), Unmatched: money(t.unmatched, c), Fees: money(t.fees, c), FeeVAT: money(t.feeVAT, c)})
	}
	if s.ByCurrency == nil {
		s.ByCurrency = []CurrencyTotals{}
	}
	return res
}

// changed reports whether this run's vouchers did anything to a document.
func (d *doc) changed() bool {
	return d.kind != dkNone && (d.booked != 0 || d.bookedClose != 0 || d.reopen != 0 || d.noCredit != 0 || d.has(fGiftBooked))
}

// paidNow reports whether this run paid the document: it settled an amount
// in the document's own direction (a chargeback or a refund against an
// invoice does not pay it).
func (d *doc) paidNow() bool {
	run := d.booked + d.bookedClose
	return d.kind != dkNone && run != 0 && (run > 0) == (d.sign() > 0)
}

func owedBy(amount int64) Party {
	switch {
	case amount > 0:
		return OwedByCustomer
	case amount < 0:
		return OwedByMerchant
	}
	return ""
}

func sortedCurrencies[V any](m map[commerce.Currency]V) []commerce.Currency {
	out := make([]commerce.Currency, 0, len(m))
	for c := range m {
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b commerce.Currency) int { return strings.Compare(a.Code(), b.Code()) })
	return out
}

// Matched yields every transaction matched to its document and booked, in
// input order.
func (r *Result) Matched() iter.Seq[Match] {
	return func(yield func(Match) bool) {
		for pi := range r.payouts {
			p := &r.payouts[pi]
			for j := range p.Transactions {
				st := &r.txs[r.offsets[pi]+int32(j)]
				if st.st != stMatched {
					continue
				}
				t := &p.Transactions[j]
				if !yield(Match{Payout: p.ID, Transaction: t.ID, Kind: t.Kind, Document: r.docs.at(st.doc).docRef(),
					Method: methodNames[st.method], Amount: t.Amount}) {
					return
				}
			}
		}
	}
}

// Paid yields every document this run settled in its own direction — an
// invoice paid, a credit invoice refunded, fully or in part — with the
// amount and the date, for the engine to mark it paid in the ERP. Documents
// are in input order (invoices, then orders without an invoice).
func (r *Result) Paid() iter.Seq[Payment] {
	return func(yield func(Payment) bool) {
		if r.docs == nil {
			return
		}
		for di := int32(0); di < r.docs.n; di++ {
			d := r.docs.at(di)
			if !d.paidNow() {
				continue
			}
			cur := r.tab.curs[d.cur]
			rem := d.open() - d.booked - d.bookedClose
			if !yield(Payment{Document: d.docRef(), OrderNumber: d.orderNo, Amount: money(abs64(d.booked+d.bookedClose), cur),
				Date: dateOfDay(d.lastDay), FullyPaid: rem == 0, Remaining: money(abs64(rem), cur)}) {
				return
			}
		}
	}
}

// Entries returns what Commit stores in the ledger: every transaction
// booked now with its voucher, each booked payout's bank total and
// unexplained rest, what providers have settled on each document so far,
// and the gift-card parts cleared.
func (r *Result) Entries() []Entry {
	var out []Entry
	for pi := range r.payouts {
		p := &r.payouts[pi]
		ps := &r.ps[pi]
		if ps.status != PayoutBooked && ps.status != PayoutSupplemented {
			continue
		}
		last := ps.lastVoucher()
		for j := range p.Transactions {
			st := &r.txs[r.offsets[pi]+int32(j)]
			switch st.st {
			case stMatched, stUnmatched, stFee, stHold, stRelease:
				id := last
				if st.voucher >= 0 {
					id = r.Vouchers[st.voucher].ID
				}
				out = append(out, Entry{Key: Key{Kind: KeyTransaction, Scope: p.Provider, ID: p.Transactions[j].ID}, VoucherID: id})
			}
		}
		out = append(out,
			Entry{Key: Key{Kind: KeyPayout, Scope: p.Provider, ID: p.ID}, VoucherID: last, Amount: money(ps.bookedBank+ps.bankNow, r.book)},
			Entry{Key: Key{Kind: KeyPayoutRest, Scope: p.Provider, ID: p.ID}, Amount: money(ps.diff, ps.cur)})
	}
	if r.docs == nil {
		return out
	}
	for di := int32(0); di < r.docs.n; di++ {
		d := r.docs.at(di)
		if !d.changed() {
			continue
		}
		out = append(out, Entry{Key: d.key(), Amount: money(d.before+d.booked+d.bookedClose, r.tab.curs[d.cur])})
		if d.has(fGiftBooked) {
			out = append(out, Entry{Key: Key{Kind: KeyGiftCard, Scope: string(docKindNames[d.kind]), ID: d.number}})
		}
	}
	return out
}

// WriteJSON writes the result as indented JSON — book currency, summary,
// payouts, matched, unmatched, differences, paid, problems, vouchers — in
// a deterministic order, streaming the long lists.
func (r *Result) WriteJSON(w io.Writer) error {
	jw := &jsonWriter{w: w}
	jw.raw("{\n")
	jw.field("book_currency", r.BookCurrency, false)
	jw.field("summary", r.Summary, false)
	list(jw, "payouts", slices.Values(r.Payouts), false)
	list(jw, "matched", r.Matched(), false)
	list(jw, "unmatched", slices.Values(r.Unmatched), false)
	list(jw, "differences", slices.Values(r.Differences), false)
	list(jw, "paid", r.Paid(), false)
	list(jw, "problems", slices.Values(r.Problems), false)
	list(jw, "vouchers", slices.Values(r.Vouchers), true)
	jw.raw("}\n")
	if jw.err != nil {
		return fmt.Errorf("reconcile: write json: %w", jw.err)
	}
	return nil
}

// MarshalJSON encodes the result as WriteJSON does, without the
// indentation.
func (r *Result) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	if err := r.WriteJSON(&buf); err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if err := json.Compact(&out, buf.Bytes()); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// jsonWriter writes an indented object field by field.
type jsonWriter struct {
	w   io.Writer
	err error
}

func (j *jsonWriter) raw(s string) {
	if j.err == nil {
		_, j.err = io.WriteString(j.w, s)
	}
}

func (j *jsonWriter) value(v any, indent string) {
	if j.err != nil {
		return
	}
	b, err := json.MarshalIndent(v, indent, "  ")
	if err != nil {
		j.err = err
		return
	}
	_, j.err = j.w.Write(b)
}

func (j *jsonWriter) field(name string, v any, last bool) {
	j.raw("  " + strconv.Quote(name) + ": ")
	j.value(v, "  ")
	j.end(last)
}

func (j *jsonWriter) end(last bool) {
	if last {
		j.raw("\n")
	} else {
		j.raw(",\n")
	}
}

func list[T any](j *jsonWriter, name string, items iter.Seq[T], last bool) {
	j.raw("  " + strconv.Quote(name) + ": [")
	n := 0
	for it := range items {
		if j.err != nil {
			return
		}
		if n > 0 {
			j.raw(",")
		}
		j.raw("\n    ")
		j.value(it, "    ")
		n++
	}
	if n > 0 {
		j.raw("\n  ")
	}
	j.raw("]")
	j.end(last)
}

// CSVHeader is the header of WriteCSV.
var CSVHeader = []string{
	"payout", "provider", "payout_status", "transaction", "kind", "provider_type", "currency",
	"amount", "fee", "fee_vat", "net", "status", "method", "document_kind", "document", "reason", "voucher",
}

// WriteCSV writes one row per transaction of every payout in the run, in
// input order: what it was, what became of it (status, match method,
// document, reason) and the voucher that booked it, now or earlier.
func (r *Result) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return fmt.Errorf("reconcile: write csv: %w", err)
	}
	row := make([]string, len(CSVHeader))
	var cur commerce.Currency
	amount := func(m commerce.Money) string {
		if !m.Currency.IsZero() {
			return m.Amount.StringFixed(m.Currency.Digits())
		}
		if !cur.IsZero() {
			return m.Amount.StringFixed(cur.Digits())
		}
		return m.Amount.String()
	}
	for pi := range r.payouts {
		p := &r.payouts[pi]
		for j := range p.Transactions {
			t := &p.Transactions[j]
			i := r.offsets[pi] + int32(j)
			st := &r.txs[i]
			clear(row)
			cur = t.Amount.Currency
			row[0], row[1], row[2] = p.ID, p.Provider, string(r.Payouts[pi].Status)
			row[3], row[4], row[5], row[6] = t.ID, string(t.Kind), t.ProviderType, cur.Code()
			row[7], row[8], row[9], row[10] = amount(t.Amount), amount(t.Fee), amount(t.FeeVAT), amount(t.Net)
			row[11], row[12], row[15] = string(statusNames[st.st]), string(methodNames[st.method]), string(reasonNames[st.reason])
			if st.doc >= 0 {
				ref := r.docs.at(st.doc).docRef()
				row[13], row[14] = string(ref.Kind), ref.Number
			}
			switch {
			case st.voucher >= 0:
				row[16] = r.Vouchers[st.voucher].ID
			case st.st == stAlready:
				row[16] = r.prev[i]
			}
			if err := cw.Write(row); err != nil {
				return fmt.Errorf("reconcile: write csv: %w", err)
			}
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("reconcile: write csv: %w", err)
	}
	return nil
}

// SummaryText is a short human-readable summary: payouts, transactions
// matched and unmatched, amounts, fees and fee VAT per currency,
// differences by kind, documents paid, vouchers and problems.
func (r *Result) SummaryText() string {
	s := &r.Summary
	var b strings.Builder
	fmt.Fprintf(&b, "Payouts: %d (booked %d, already booked %d, not booked %d)\n",
		s.Payouts, s.PayoutsBooked, s.PayoutsAlreadyDone, s.PayoutsNotBooked)
	fmt.Fprintf(&b, "Transactions: %d (matched %d, unmatched %d)\n", s.Transactions, s.TransactionsMatched, s.TransactionsOpen)
	fixed := func(m commerce.Money) string { return m.Amount.StringFixed(m.Currency.Digits()) }
	for _, c := range s.ByCurrency {
		fmt.Fprintf(&b, "%s: paid out %s, matched %s, unmatched %s, fees %s, fee VAT %s\n", c.Currency,
			fixed(c.Payouts), fixed(c.Matched), fixed(c.Unmatched), fixed(c.Fees), fixed(c.FeeVAT))
	}
	if !s.ReverseChargeVAT.IsZero() {
		fmt.Fprintf(&b, "Reverse-charge VAT on fees: %s %s\n", fixed(s.ReverseChargeVAT), r.BookCurrency.Code())
	}
	fmt.Fprintf(&b, "Differences: %d", s.Differences)
	if s.Differences > 0 {
		counts := map[string]int{}
		for _, d := range r.Differences {
			counts[string(d.Kind)]++
		}
		var parts []string
		for _, k := range sortedKeys(counts) {
			parts = append(parts, k+" "+strconv.Itoa(counts[k]))
		}
		fmt.Fprintf(&b, " (%s)", strings.Join(parts, ", "))
	}
	b.WriteString("\n")
	fmt.Fprintf(&b, "Documents paid: %d (fully %d)\n", s.DocumentsPaid, s.DocumentsFullyPaid)
	fmt.Fprintf(&b, "Vouchers: %d\n", s.Vouchers)
	if s.Problems > 0 {
		fmt.Fprintf(&b, "Problems: %d\n", s.Problems)
	}
	return b.String()
}
