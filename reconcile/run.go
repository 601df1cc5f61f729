package reconcile

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/shopspring/decimal"

	"github.com/knyt/knyt/commerce"
)

// payoutState is what a run knows of one payout.
type payoutState struct {
	ok     bool // still to be booked
	status PayoutStatus
	reason string
	cur    commerce.Currency
	date   commerce.Date
	amount int64 // payout currency
	diff   int64 // amount less the transactions' nets
	rate   decimal.Decimal
	shop   uint16

	seenBefore  bool
	prevVoucher string
	bookedBank  int64 // book currency
	restBooked  int64 // payout currency
	newTx       int

	vouchers []string
	out      []commerce.Voucher // booked now, until merged
	updates  []docUpdate        // what they do to documents, until applied
	fees     int64              // payout currency, booked now
	feeVAT   int64
	rcVAT    int64 // book currency
	bankNow  int64 // book currency
	booked   int
}

// run is one Reconcile call.
type run struct {
	r        *Reconciler
	b        *Batch
	m        *matcher
	ps       []payoutState
	curIdx   []uint16 // per payout, its currency in the batch's table
	offsets  []int32
	states   []txState
	foreign  map[int32]int64   // settled amount in the document's currency, for transactions in another currency
	cands    map[int32][]int32 // candidates of unmatched transactions
	details  map[int32]string  // why a transaction is unmatched, in words
	prev     map[int32]string  // voucher of a transaction booked earlier
	diffs    []Difference      // payouts that do not sum
	tolRound map[commerce.Currency]int64
	tolAmt   map[commerce.Currency]int64
	ids      map[string]bool // prepare's scratch: transaction ids seen in a payout
}

// Reconcile matches and books the batch. It can be called once. The error
// is for failures of the run itself (the ledger, a cancelled context);
// problems with the data are in the result.
func (b *Batch) Reconcile(ctx context.Context) (*Result, error) {
	if b.done {
		return nil, errorf("reconcile", "", ErrInvalidInput, "batch already reconciled")
	}
	b.done = true
	x := &run{
		r: b.r, b: b, m: &matcher{fx: newFXTable(b.r.fx)},
		foreign: map[int32]int64{}, cands: map[int32][]int32{}, details: map[int32]string{}, prev: map[int32]string{},
		tolRound: map[commerce.Currency]int64{}, tolAmt: map[commerce.Currency]int64{}, ids: map[string]bool{},
	}
	b.buildIndexes(x.m)

	x.offsets = make([]int32, len(b.payouts)+1)
	total := 0
	for i := range b.payouts {
		x.offsets[i] = int32(total)
		total += len(b.payouts[i].Transactions)
	}
	x.offsets[len(b.payouts)] = int32(total)
	x.states = make([]txState, total)
	for i := range x.states {
		x.states[i].doc, x.states[i].voucher = -1, -1
	}
	x.ps = make([]payoutState, len(b.payouts))
	x.curIdx = make([]uint16, len(b.payouts))
	seen := make(map[Key]bool, len(b.payouts))
	for pi := range b.payouts {
		x.prepare(pi, seen)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := x.loadLedger(ctx); err != nil {
		return nil, err
	}
	x.matchAll()
	if x.r.holdUnmatched {
		x.hold()
	}
	x.settle()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return x.result(x.bookAll()), nil
}

// roundTol is Tolerance.Rounding in minor units of c.
func (x *run) roundTol(c commerce.Currency) int64 {
	if v, ok := x.tolRound[c]; ok {
		return v
	}
	v := x.r.tol.Rounding.Shift(c.Digits()).Ceil().IntPart()
	x.tolRound[c] = v
	return v
}

// amountTol is Tolerance.Amount in minor units of c.
func (x *run) amountTol(c commerce.Currency) int64 {
	if v, ok := x.tolAmt[c]; ok {
		return v
	}
	v := x.r.tol.Amount.Shift(c.Digits()).Floor().IntPart()
	x.tolAmt[c] = v
	return v
}

// refuse marks a payout as not booked, and all its rows with it.
func (x *run) refuse(pi int, st PayoutStatus, reason string) {
	ps := &x.ps[pi]
	ps.ok, ps.status, ps.reason = false, st, reason
	for i := x.offsets[pi]; i < x.offsets[pi+1]; i++ {
		s := &x.states[i]
		s.voucher = -1
		if s.st != stAlready && s.st != stPayoutRow {
			s.st = stNotBooked
		}
	}
}

// prepare checks a payout before anything is matched: ids, amounts,
// currencies, that its transactions sum to it, its date, a fee policy for
// its fees and an exchange rate when it is not in the book currency.
func (x *run) prepare(pi int, seen map[Key]bool) {
	p := &x.b.payouts[pi]
	ps := &x.ps[pi]
	ps.shop = x.b.tab.shop(p.Source.Account)
	reject := func(err error, format string, args ...any) {
		x.refuse(pi, PayoutRejected, fmt.Sprintf(format, args...)+": "+err.Error())
	}
	if p.ID == "" || p.Provider == "" {
		reject(ErrInvalidInput, "payout without id or provider")
		return
	}
	ps.cur = p.Amount.Currency
	if ps.cur.IsZero() {
		reject(ErrInvalidInput, "payout amount without a currency")
		return
	}
	x.curIdx[pi] = x.b.tab.currency(ps.cur)
	k := Key{Kind: KeyPayout, Scope: p.Provider, ID: p.ID}
	if seen[k] {
		x.refuse(pi, PayoutDuplicate, "the same payout earlier in the input")
		return
	}
	seen[k] = true
	amount, err := minorIn(p.Amount, ps.cur)
	if err != nil {
		reject(ErrInvalidInput, "payout amount %s", p.Amount)
		return
	}
	ps.amount = amount
	switch p.Status {
	case commerce.PayoutPaid:
	case "":
		reject(ErrInvalidInput, "payout without a status")
		return
	default:
		x.refuse(pi, PayoutNotPaid, "status "+string(p.Status))
		return
	}
	ps.date = p.ArrivalDate
	if !ps.date.Valid() {
		if p.CreatedAt.IsZero() {
			reject(ErrInvalidInput, "payout without an arrival date")
			return
		}
		ps.date = commerce.DateOf(p.CreatedAt.UTC())
	}
	var sum int64
	hasFees := false
	ids := x.ids
	clear(ids)
	for j := range p.Transactions {
		t := &p.Transactions[j]
		s := &x.states[x.offsets[pi]+int32(j)]
		cls, known := classOf(t.Kind)
		if !known {
			reject(ErrInvalidInput, "transaction %s: unknown kind %q", t.ID, t.Kind)
			return
		}
		s.cls = cls
		if t.ID == "" {
			reject(ErrInvalidInput, "transaction %d without an id", j)
			return
		}
		if ids[t.ID] {
			reject(ErrInvalidInput, "transaction id %s twice", t.ID)
			return
		}
		ids[t.ID] = true
		var v [4]int64
		for f, m := range [...]commerce.Money{t.Amount, t.Fee, t.FeeVAT, t.Net} {
			if v[f], err = minorIn(m, ps.cur); err != nil {
				if errors.Is(err, ErrCurrency) {
					reject(ErrCurrency, "transaction %s in %s, the payout in %s", t.ID, m.Currency.Code(), ps.cur.Code())
				} else {
					reject(ErrInvalidInput, "transaction %s: %v", t.ID, err)
				}
				return
			}
		}
		if t.Amount.Currency.IsZero() {
			reject(ErrInvalidInput, "transaction %s: amount without a currency", t.ID)
			return
		}
		if v[0]-v[1]-v[2] != v[3] {
			reject(ErrInvalidInput, "transaction %s: net %s is not amount − fee − fee VAT", t.ID, t.Net)
			return
		}
		if cls == clsFee && v[0] != 0 {
			s.cls = clsAdjust // a fee row moving money beyond its fee: classify by hand
		}
		if cls == clsPayout {
			s.st = stPayoutRow
			continue
		}
		sum += v[3]
		hasFees = hasFees || v[1] != 0 || v[2] != 0
	}
	ps.diff = amount - sum
	if ps.diff != 0 && abs64(ps.diff) >= x.roundTol(ps.cur) {
		owed := OwedByProvider
		if ps.diff > 0 {
			owed = OwedByMerchant
		}
		x.diffs = append(x.diffs, Difference{Kind: DiffPayout, Payout: p.ID, Expected: p.Amount,
			Settled: money(sum, ps.cur), Amount: money(ps.diff, ps.cur), OwedBy: owed})
		reject(ErrNotSumming, "payout %s, transactions %s", p.Amount, money(sum, ps.cur))
		return
	}
	if _, ok := x.r.fees[p.Provider]; hasFees && !ok {
		reject(ErrNoFeePolicy, "provider %q", p.Provider)
		return
	}
	if ps.rate, err = x.m.fx.rate(ps.cur, x.r.book, ps.date); err != nil {
		reject(err, "payout in %s, books in %s", ps.cur.Code(), x.r.book.Code())
		return
	}
	ps.ok = true
}

// lookupChunk bounds the keys of one Ledger.Lookup call, so a run over a
// million documents never holds a million keys at once.
const lookupChunk = 1 << 15

// lookup asks the ledger for keys, lookupChunk at a time; apply gets each
// chunk's keys and answers.
func (x *run) lookup(ctx context.Context, keys []Key, apply func([]Key, map[Key]Entry)) error {
	for len(keys) > 0 {
		n := min(len(keys), lookupChunk)
		got, err := x.r.ledger.Lookup(ctx, keys[:n])
		if err != nil {
			return errorf("run", "", err, "ledger lookup")
		}
		apply(keys[:n], got)
		keys = keys[n:]
	}
	return nil
}

// loadLedger reads what earlier runs booked: the payouts, their
// transactions and the documents.
func (x *run) loadLedger(ctx context.Context) error {
	var keys []Key
	for pi := range x.ps {
		p := &x.b.payouts[pi]
		ps := &x.ps[pi]
		failed := ps.status == PayoutNotPaid && (p.Status == commerce.PayoutFailed || p.Status == commerce.PayoutCancelled)
		if !ps.ok && !failed {
			continue
		}
		keys = append(keys[:0], Key{Kind: KeyPayout, Scope: p.Provider, ID: p.ID}, Key{Kind: KeyPayoutRest, Scope: p.Provider, ID: p.ID})
		if ps.ok {
			for j := range p.Transactions {
				if x.states[x.offsets[pi]+int32(j)].cls != clsPayout {
					keys = append(keys, Key{Kind: KeyTransaction, Scope: p.Provider, ID: p.Transactions[j].ID})
				}
			}
		}
		var got map[Key]Entry
		err := x.lookup(ctx, keys, func(_ []Key, g map[Key]Entry) {
			if got == nil {
				got = g
				return
			}
			for k, e := range g {
				got[k] = e
			}
		})
		if err != nil {
			return err
		}
		x.applyPayout(pi, got)
	}
	docs := x.m.docs
	keys = make([]Key, 0, min(int(docs.n), lookupChunk)+1)
	idx := make([]int32, 0, cap(keys))
	flush := func() error {
		err := x.lookup(ctx, keys, func(ks []Key, got map[Key]Entry) {
			for j, k := range ks {
				e, ok := got[k]
				if !ok {
					continue
				}
				d := docs.at(idx[j])
				if k.Kind == KeyGiftCard {
					d.flags |= fGiftDone
					continue
				}
				v, err := minorIn(e.Amount, x.m.tab.curs[d.cur])
				if err != nil {
					x.b.problems = append(x.b.problems, Problem{Kind: ProblemDocument, Subject: d.docRef().String(),
						Detail: "ledger entry: " + err.Error() + "; document not used"})
					d.kind = dkNone
					continue
				}
				d.before = v
			}
		})
		keys, idx = keys[:0], idx[:0]
		return err
	}
	for i := int32(0); i < docs.n; i++ {
		d := docs.at(i)
		if d.kind == dkNone {
			continue
		}
		keys, idx = append(keys, d.key()), append(idx, i)
		if x.r.giftCardClearing && d.gift > 0 {
			keys = append(keys, Key{Kind: KeyGiftCard, Scope: string(docKindNames[d.kind]), ID: d.number})
			idx = append(idx, i)
		}
		if len(keys) >= lookupChunk {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

// applyPayout applies what the ledger knows of a payout.
func (x *run) applyPayout(pi int, got map[Key]Entry) {
	p := &x.b.payouts[pi]
	ps := &x.ps[pi]
	pk := Key{Kind: KeyPayout, Scope: p.Provider, ID: p.ID}
	if ps.status == PayoutNotPaid {
		if e, ok := got[pk]; ok {
			x.b.problems = append(x.b.problems, Problem{Kind: ProblemFailedAfter, Subject: "payout " + p.ID,
				Detail: fmt.Sprintf("booked earlier in voucher %s, now %s: reverse that booking by hand", e.VoucherID, p.Status)})
		}
		return
	}
	var err error
	if e, ok := got[pk]; ok {
		ps.seenBefore, ps.prevVoucher = true, e.VoucherID
		if ps.bookedBank, err = minorIn(e.Amount, x.r.book); err != nil {
			x.refuse(pi, PayoutRejected, "ledger entry: "+err.Error())
			return
		}
	}
	if e, ok := got[Key{Kind: KeyPayoutRest, Scope: p.Provider, ID: p.ID}]; ok {
		if ps.restBooked, err = minorIn(e.Amount, ps.cur); err != nil {
			x.refuse(pi, PayoutRejected, "ledger entry: "+err.Error())
			return
		}
	}
	for j := range p.Transactions {
		i := x.offsets[pi] + int32(j)
		s := &x.states[i]
		if s.cls == clsPayout {
			continue
		}
		if e, ok := got[Key{Kind: KeyTransaction, Scope: p.Provider, ID: p.Transactions[j].ID}]; ok {
			s.st = stAlready
			x.prev[i] = e.VoucherID
			continue
		}
		ps.newTx++
	}
	if ps.newTx == 0 && ps.seenBefore {
		x.refuse(pi, PayoutAlreadyBooked, "")
	}
}

// matchAll runs both passes: keys for every transaction, then amount and
// date for the sales and refunds no key matched.
func (x *run) matchAll() {
	type pending struct {
		i   int32
		pi  int
		rsn reason
	}
	var fallback []pending
	for pi := range x.ps {
		if !x.ps[pi].ok {
			continue
		}
		p := &x.b.payouts[pi]
		for j := range p.Transactions {
			i := x.offsets[pi] + int32(j)
			s := &x.states[i]
			if s.st != stNone {
				continue
			}
			t := &p.Transactions[j]
			switch s.cls {
			case clsHold:
				s.st = stHold
			case clsRelease:
				s.st = stRelease
			case clsAdjust:
				s.st, s.reason = stUnmatched, rAdjustment
			case clsOther:
				s.st, s.reason = stUnmatched, rUnknownType
			case clsConv:
				s.st, s.reason = stUnmatched, rConversion
			case clsFee:
				s.st = stFee
				if hasKeys(&t.References) {
					s.doc, _, _ = x.m.matchKeys(t, wantAny, 0, x.curIdx[pi])
				}
			case clsDoc:
				a, _ := minorIn(t.Amount, x.ps[pi].cur)
				w := wantOf(t, s.cls)
				d, meth, hit := x.m.matchKeys(t, w, a, x.curIdx[pi])
				switch {
				case d >= 0:
					x.take(pi, i, d, meth, w, a)
				case hit:
					s.st, s.reason = stUnmatched, rWrongKind
					x.details[i] = "its keys are only on documents of another kind"
					x.cands[i] = x.keyCandidates(t)
				case hasKeys(&t.References):
					fallback = append(fallback, pending{i, pi, rNotFound})
				default:
					fallback = append(fallback, pending{i, pi, rNoReference})
				}
			}
		}
	}
	if len(fallback) == 0 {
		return
	}
	x.m.buildAmounts()
	days := int32(x.r.tol.Days)
	for _, f := range fallback {
		p := &x.b.payouts[f.pi]
		t := &p.Transactions[f.i-x.offsets[f.pi]]
		s := &x.states[f.i]
		cur := x.ps[f.pi].cur
		a, _ := minorIn(t.Amount, cur)
		day := dayNumber(commerce.DateOf(t.At.UTC()))
		if t.At.IsZero() {
			day = dayNumber(x.ps[f.pi].date)
		}
		w := wantOf(t, s.cls)
		d, rsn, cands := x.m.matchAmount(w, x.curIdx[f.pi], a, day, x.amountTol(cur), days)
		if d >= 0 {
			x.take(f.pi, f.i, d, mAmountDate, w, a)
			continue
		}
		s.st, s.reason = stUnmatched, f.rsn
		if rsn == rAmbiguous {
			s.reason = rAmbiguous
		}
		if len(cands) > 0 {
			x.cands[f.i] = cands
		}
	}
}

// keyCandidates lists the documents a transaction's keys found, for an
// unmatched transaction whose keys found only documents of another kind.
func (x *run) keyCandidates(t *commerce.Transaction) []int32 {
	var out []int32
	for _, k := range [...]struct {
		ix  *index
		key string
	}{
		{x.m.byNumber, t.References.InvoiceNumber}, {x.m.byRef, t.References.OrderID}, {x.m.byRef, t.References.CaptureID},
		{x.m.byRef, t.References.RefundID}, {x.m.byRef, t.References.SourceID}, {x.m.byOrder, t.References.OrderNumber},
		{x.m.byOrder, t.References.MerchantReference},
	} {
		for e := k.ix.first(normKey(k.key)); e >= 0 && len(out) < 3; e = k.ix.next[e] {
			if d := k.ix.doc[e]; x.m.docs.at(d).kind != dkNone && !slices.Contains(out, d) {
				out = append(out, d)
			}
		}
	}
	return out
}

// take matches transaction i to document d. A document in another currency
// than the transaction, or than the books, needs exchange rates; without
// them the transaction stays unmatched.
func (x *run) take(pi int, i int32, d int32, meth method, w want, a int64) {
	s := &x.states[i]
	dc := x.m.docs.at(d)
	dcur := x.m.tab.curs[dc.cur]
	pcur := x.ps[pi].cur
	settled := a
	var err error
	if dcur != pcur {
		var rate decimal.Decimal
		if rate, err = x.m.fx.rate(pcur, dcur, x.ps[pi].date); err == nil {
			settled = convert(a, pcur, dcur, rate)
			x.foreign[i] = settled
		}
	}
	if err == nil && dcur != x.r.book {
		_, err = x.m.fx.rate(dcur, x.r.book, dateOfDay(dc.day))
	}
	if err != nil {
		delete(x.foreign, i)
		s.st, s.reason = stUnmatched, rCurrency
		x.details[i] = fmt.Sprintf("%s is in %s: %v", dc.docRef(), dcur.Code(), err)
		x.cands[i] = []int32{d}
		return
	}
	s.st, s.doc, s.method = stMatched, d, meth
	s.missCr = w == wantCredit && dc.kind != dkCredit
	dc.flags |= fTouched
	dc.settled += settled
}

// settledOf is what a matched transaction settles, in its document's
// currency.
func (x *run) settledOf(i int32, a int64) int64 {
	if v, ok := x.foreign[i]; ok {
		return v
	}
	return a
}

// hold leaves unbooked every payout with an unmatched row.
func (x *run) hold() {
	for pi := range x.ps {
		if !x.ps[pi].ok {
			continue
		}
		n := 0
		for i := x.offsets[pi]; i < x.offsets[pi+1]; i++ {
			if x.states[i].st == stUnmatched {
				n++
			}
		}
		if n == 0 {
			continue
		}
		x.ps[pi].ok, x.ps[pi].status = false, PayoutHeld
		x.ps[pi].reason = fmt.Sprintf("%d unmatched transaction(s)", n)
		for i := x.offsets[pi]; i < x.offsets[pi+1]; i++ {
			if s := &x.states[i]; s.st != stUnmatched && s.st != stAlready && s.st != stPayoutRow {
				s.st = stNotBooked
			}
		}
	}
}

// settle recomputes each document's tentative settlement from the payouts
// that will be booked and decides which documents are closed on the
// rounding or exchange account.
func (x *run) settle() {
	docs := x.m.docs
	for i := int32(0); i < docs.n; i++ {
		if d := docs.at(i); d.has(fTouched) {
			d.settled, d.lastTx, d.closure = 0, -1, 0
			d.flags &^= fForeign | fClosureFX | fReopened
		}
	}
	for pi := range x.ps {
		if !x.ps[pi].ok {
			continue
		}
		p := &x.b.payouts[pi]
		for j := range p.Transactions {
			i := x.offsets[pi] + int32(j)
			s := &x.states[i]
			if s.st != stMatched {
				continue
			}
			t := &p.Transactions[j]
			a, _ := minorIn(t.Amount, x.ps[pi].cur)
			d := docs.at(s.doc)
			d.settled += x.settledOf(i, a)
			d.lastTx = i
			if _, ok := x.foreign[i]; ok {
				d.flags |= fForeign
			}
			if t.Kind == commerce.TxChargeback || (t.Kind == commerce.TxReversal && a < 0) {
				d.flags |= fReopened
			}
		}
	}
	hundred := decimal.NewFromInt(100)
	for i := int32(0); i < docs.n; i++ {
		d := docs.at(i)
		if !d.has(fTouched) || d.lastTx < 0 || d.has(fReopened) {
			continue
		}
		rem := d.remaining()
		if rem == 0 {
			continue
		}
		if !d.has(fForeign) {
			if abs64(rem) < x.roundTol(x.m.tab.curs[d.cur]) {
				d.closure = rem
			}
			continue
		}
		limit := decimal.NewFromInt(abs64(d.open())).Mul(x.r.tol.FXPercent).Div(hundred)
		if decimal.NewFromInt(abs64(rem)).LessThanOrEqual(limit) {
			d.closure = rem
			d.flags |= fClosureFX
		}
	}
}
