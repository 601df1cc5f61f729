package reconcile

import (
	"cmp"
	"slices"
	"sync"

	"github.com/knyt/knyt/commerce"
)

// index maps a key to the documents carrying it: a hash map to the first
// entry and a chain through the rest, so that a million keys cost one map
// and two int32 slices rather than a slice per key. Chains are unordered;
// ties are broken by document index, which is input order.
type index struct {
	head map[string]int32
	next []int32
	doc  []int32
}

func newIndex(n int) *index { return &index{head: make(map[string]int32, n)} }

func (ix *index) add(key string, d int32) {
	if key == "" {
		return
	}
	h, ok := ix.head[key]
	if !ok {
		h = -1
	}
	ix.link(key, h, d)
}

// link adds document d under key, whose chain starts at h (-1 for none).
func (ix *index) link(key string, h, d int32) {
	e := int32(len(ix.doc))
	ix.doc = append(ix.doc, d)
	ix.next = append(ix.next, h)
	ix.head[key] = e
}

// first returns the first entry for key, -1 if none.
func (ix *index) first(key string) int32 {
	if e, ok := ix.head[key]; ok {
		return e
	}
	return -1
}

// Internal codes, kept small because there is one state per transaction.
type txClass uint8

const (
	clsDoc     txClass = iota // sale, refund, chargeback, reversal: settles a document
	clsFee                    // fee, fee refund
	clsHold                   // holdback
	clsRelease                // release
	clsAdjust                 // adjustment
	clsOther                  // a provider type the connector did not know
	clsConv                   // currency conversion
	clsPayout                 // the payout's own row
)

func classOf(k commerce.TransactionKind) (txClass, bool) {
	switch k {
	case commerce.TxSale, commerce.TxRefund, commerce.TxChargeback, commerce.TxReversal:
		return clsDoc, true
	case commerce.TxFee, commerce.TxFeeRefund:
		return clsFee, true
	case commerce.TxHoldback:
		return clsHold, true
	case commerce.TxRelease:
		return clsRelease, true
	case commerce.TxAdjustment:
		return clsAdjust, true
	case commerce.TxOther:
		return clsOther, true
	case commerce.TxCurrencyConv:
		return clsConv, true
	case commerce.TxPayout:
		return clsPayout, true
	}
	return clsOther, false
}

type status uint8

const (
	stNone status = iota
	stMatched
	stUnmatched
	stFee
	stHold
	stRelease
	stPayoutRow
	stAlready
	stNotBooked
)

var statusNames = [...]TxStatus{stNone: "", stMatched: TxMatched, stUnmatched: TxUnmatched, stFee: TxFeeOnly,
	stHold: TxHoldback, stRelease: TxRelease, stPayoutRow: TxPayoutRow, stAlready: TxAlreadyBooked, stNotBooked: TxNotBooked}

type method uint8

const (
	mNone method = iota
	mInvoiceNumber
	mPSPReference
	mOrderNumber
	mMerchantReference
	mAmountDate
)

var methodNames = [...]MatchMethod{mNone: "", mInvoiceNumber: ByInvoiceNumber, mPSPReference: ByPSPReference,
	mOrderNumber: ByOrderNumber, mMerchantReference: ByMerchantReference, mAmountDate: ByAmountAndDate}

type reason uint8

const (
	rNone reason = iota
	rNoReference
	rNotFound
	rAmbiguous
	rWrongKind
	rCurrency
	rAdjustment
	rUnknownType
	rConversion
)

var reasonNames = [...]Reason{rNone: "", rNoReference: ReasonNoReference, rNotFound: ReasonNotFound, rAmbiguous: ReasonAmbiguous,
	rWrongKind: ReasonWrongKind, rCurrency: ReasonCurrency, rAdjustment: ReasonAdjustment, rUnknownType: ReasonUnknownType,
	rConversion: ReasonCurrencyConversion}

// txState is what a run knows of one transaction.
type txState struct {
	doc     int32 // matched (or, for fees, attributed) document; -1 if none
	voucher int32 // index of its voucher in the result; -1 if none
	cls     txClass
	st      status
	method  method
	reason  reason
	missCr  bool // a refund matched to an invoice for want of a credit invoice
}

// want is the kind of document a transaction looks for.
type want uint8

const (
	wantIn     want = iota // a sale: an invoice or order
	wantCredit             // a refund: a credit invoice, else the invoice it refunds
	wantReopen             // a chargeback or reversal out: the invoice it takes back
	wantAny                // a fee: any document, for its result unit
)

func wantOf(tx *commerce.Transaction, cls txClass) want {
	if cls != clsDoc {
		return wantAny
	}
	switch tx.Kind {
	case commerce.TxRefund:
		return wantCredit
	case commerce.TxChargeback:
		return wantReopen
	case commerce.TxReversal:
		if tx.Amount.IsNegative() {
			return wantReopen
		}
	}
	return wantIn
}

// matcher holds the documents and their indexes.
type matcher struct {
	docs     *docStore
	tab      *tables
	byNumber *index // invoice and credit invoice numbers
	byOrder  *index // order numbers
	byRef    *index // provider references
	byCredit *index // credit invoices by the invoice they credit
	amounts  []amountEntry
	fx       *fxTable
}

// buildIndexes indexes the documents, reporting duplicates, and merges the
// orders in. The number index (with the duplicate check) and the others are
// built concurrently: they are independent maps, and building a million
// entries is most of the index cost.
func (b *Batch) buildIndexes(m *matcher) {
	m.docs, m.tab = &b.docs, &b.tab
	n := int(b.docs.n)
	m.byNumber = newIndex(n)
	m.byOrder = newIndex(n)
	m.byRef = newIndex(0)
	m.byCredit = newIndex(0)
	var dups []int32
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := int32(0); i < b.docs.n; i++ {
			d := b.docs.at(i)
			h := m.byNumber.first(d.number)
			dup := false
			for e := h; e >= 0; e = m.byNumber.next[e] {
				if b.docs.at(m.byNumber.doc[e]).kind == d.kind {
					dup = true
					break
				}
			}
			if dup {
				dups = append(dups, i)
				continue
			}
			m.byNumber.link(d.number, h, i)
		}
	}()
	for i := int32(0); i < b.docs.n; i++ {
		d := b.docs.at(i)
		m.byOrder.add(d.orderNo, i)
		m.byRef.add(d.payRef, i)
		if d.credits != "" {
			m.byCredit.add(d.credits, i)
		}
	}
	wg.Wait()
	for _, i := range dups {
		d := b.docs.at(i)
		b.problems = append(b.problems, Problem{Kind: ProblemDuplicate, Subject: d.docRef().String(),
			Detail: "the same number was given twice; the first is used"})
		d.kind = dkNone // never a candidate
	}
	b.linkOrders(m)
}

// linkOrders merges the orders into the documents: an order's provider
// references, shop and gift-card part go to its invoices (the gift-card
// part to the first invoices, up to each one's gross); an order without an
// invoice becomes a document of kind order.
func (b *Batch) linkOrders(m *matcher) {
	seen := make(map[string]bool, len(b.orders))
	var mine []int32
	for oi := range b.orders {
		o := &b.orders[oi]
		if seen[o.number] {
			b.problems = append(b.problems, Problem{Kind: ProblemDuplicate, Subject: "order " + o.number,
				Detail: "the same order number was given twice; the first is used"})
			continue
		}
		seen[o.number] = true
		mine = mine[:0]
		for e := m.byOrder.first(o.number); e >= 0; e = m.byOrder.next[e] {
			if d := m.byOrder.doc[e]; b.docs.at(d).kind != dkOrder && b.docs.at(d).kind != dkNone {
				mine = append(mine, d)
			}
		}
		cur := b.tab.currency(o.cur)
		shop := b.tab.shop(o.shop)
		if len(mine) == 0 {
			di := b.docs.add(doc{
				kind: dkOrder, number: o.number, orderNo: o.number, cur: cur, day: o.day,
				shop: shop, gross: o.total, gift: o.gift, lastTx: -1,
			})
			m.byOrder.add(o.number, di)
			for _, r := range o.refs {
				m.byRef.add(r, di)
			}
			continue
		}
		slices.Sort(mine)
		gift := o.gift
		for _, di := range mine {
			d := b.docs.at(di)
			if d.shop == 0 {
				d.shop = shop
			}
			if d.kind == dkInvoice && gift > 0 && d.cur == cur {
				g := min(gift, d.gross)
				d.gift += g
				gift -= g
			}
			for _, r := range o.refs {
				m.byRef.add(r, di)
			}
		}
	}
	b.orders = nil
}

// rank says how well a document fits a transaction: lower is better, -1
// is not at all. A refund prefers a credit invoice; its invoice is the
// fallback (rank 10 and up). Among documents of the right kind, one whose
// remaining amount equals the transaction's comes first, then one with
// more remaining (a partial capture), then less (an overpayment), then
// none; documents in another currency after those.
func (m *matcher) rank(d *doc, w want, amount int64, cur uint16) int {
	switch d.kind {
	case dkInvoice, dkOrder:
		switch w {
		case wantCredit:
			return 10
		case wantReopen, wantAny:
			return 0
		}
	case dkCredit:
		switch w {
		case wantIn, wantReopen:
			return -1
		case wantAny:
			return 1
		}
	default:
		return -1
	}
	rem := d.remaining()
	if d.cur != cur {
		if rem != 0 && (rem > 0) == (amount > 0) {
			return 4
		}
		return 5
	}
	switch {
	case rem == amount:
		return 0
	case rem != 0 && (rem > 0) == (amount > 0) && abs64(rem) > abs64(amount):
		return 1
	case rem != 0 && (rem > 0) == (amount > 0):
		return 2
	}
	return 3
}

func abs64(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

// pick chooses the best document under key in ix. For a refund that hits
// an invoice, the invoice's credit invoices are candidates too. hit reports
// whether the key found any document at all.
func (m *matcher) pick(ix *index, key string, w want, amount int64, cur uint16) (best int32, hit bool) {
	best = -1
	bestRank := 1 << 30
	consider := func(di int32) {
		d := m.docs.at(di)
		if d.kind == dkNone {
			return
		}
		hit = true
		r := m.rank(d, w, amount, cur)
		if r < 0 {
			return
		}
		if r < bestRank || (r == bestRank && di < best) {
			best, bestRank = di, r
		}
	}
	for e := ix.first(key); e >= 0; e = ix.next[e] {
		di := ix.doc[e]
		consider(di)
		if d := m.docs.at(di); w == wantCredit && d.kind == dkInvoice {
			for c := m.byCredit.first(d.number); c >= 0; c = m.byCredit.next[c] {
				consider(m.byCredit.doc[c])
			}
		}
	}
	return best, hit
}

// matchKeys tries the transaction's keys in order of confidence.
func (m *matcher) matchKeys(tx *commerce.Transaction, w want, amount int64, cur uint16) (int32, method, bool) {
	r := &tx.References
	hitAny := false
	for _, p := range [...]struct {
		ix   *index
		key  string
		meth method
	}{
		{m.byNumber, r.InvoiceNumber, mInvoiceNumber},
		{m.byRef, r.OrderID, mPSPReference},
		{m.byRef, r.CaptureID, mPSPReference},
		{m.byRef, r.RefundID, mPSPReference},
		{m.byRef, r.SourceID, mPSPReference},
		{m.byRef, r.PaymentReference, mPSPReference},
		{m.byRef, r.ShortOrderID, mPSPReference},
		{m.byOrder, r.OrderNumber, mOrderNumber},
		{m.byOrder, r.InvoiceNumber, mMerchantReference},
		{m.byOrder, r.MerchantReference, mMerchantReference},
		{m.byNumber, r.MerchantReference, mMerchantReference},
		{m.byOrder, r.MerchantReference2, mMerchantReference},
		{m.byNumber, r.MerchantReference2, mMerchantReference},
		{m.byOrder, r.CustomID, mMerchantReference},
		{m.byNumber, r.CustomID, mMerchantReference},
	} {
		if p.key == "" || len(p.ix.head) == 0 {
			continue
		}
		key := normKey(p.key)
		if key == "" {
			continue
		}
		d, hit := m.pick(p.ix, key, w, amount, cur)
		hitAny = hitAny || hit
		if d >= 0 {
			return d, p.meth, true
		}
	}
	return -1, mNone, hitAny
}

// hasKeys reports whether a transaction carries any matching key.
func hasKeys(r *commerce.TxReferences) bool {
	for _, s := range [...]string{r.InvoiceNumber, r.OrderID, r.CaptureID, r.RefundID, r.SourceID, r.PaymentReference,
		r.ShortOrderID, r.OrderNumber, r.MerchantReference, r.MerchantReference2, r.CustomID} {
		if normKey(s) != "" {
			return true
		}
	}
	return false
}

// amountEntry is an open document in the amount-and-date index.
type amountEntry struct {
	amount int64 // open amount at the start of the run, signed
	day    int32
	doc    int32
	cur    uint16
}

func cmpAmountEntry(a, b amountEntry) int {
	if c := cmp.Compare(a.cur, b.cur); c != 0 {
		return c
	}
	if c := cmp.Compare(a.amount, b.amount); c != 0 {
		return c
	}
	if c := cmp.Compare(a.day, b.day); c != 0 {
		return c
	}
	return cmp.Compare(a.doc, b.doc)
}

// buildAmounts indexes the documents still open and untouched by key
// matches, by currency, amount and date.
func (m *matcher) buildAmounts() {
	for i := int32(0); i < m.docs.n; i++ {
		d := m.docs.at(i)
		if d.kind == dkNone || d.has(fTouched) || d.day == 0 {
			continue
		}
		if o := d.open(); o != 0 {
			m.amounts = append(m.amounts, amountEntry{cur: d.cur, amount: o, day: d.day, doc: i})
		}
	}
	slices.SortFunc(m.amounts, cmpAmountEntry)
}

// maxScan bounds the documents the fallback looks at for one transaction;
// more than that within the window is ambiguous anyway.
const maxScan = 256

// fits reports whether an untouched document has the kind w wants.
func (m *matcher) fits(d *doc, w want) bool {
	return d.kind != dkNone && !d.has(fTouched) && (w == wantIn) == (d.kind != dkCredit)
}

// matchAmount is the fallback: exactly one open, untouched document of the
// right kind whose amount is within tol and whose date is within days.
// It returns the document, or -1 with the reason and candidates.
func (m *matcher) matchAmount(w want, cur uint16, amount int64, day int32, tol int64, days int32) (int32, reason, []int32) {
	if w != wantIn && w != wantCredit {
		return -1, rNotFound, nil
	}
	lo, _ := slices.BinarySearchFunc(m.amounts, amountEntry{cur: cur, amount: amount - tol, doc: -1}, cmpAmountEntry)
	var hits []int32
	scanned := 0
	for j := lo; j < len(m.amounts) && scanned < maxScan; j++ {
		e := &m.amounts[j]
		if e.cur != cur || e.amount > amount+tol {
			break
		}
		scanned++
		if !m.fits(m.docs.at(e.doc), w) {
			continue
		}
		if day != 0 && abs64(int64(e.day-day)) > int64(days) {
			continue
		}
		hits = append(hits, e.doc)
	}
	switch {
	case len(hits) == 1 && scanned < maxScan:
		return hits[0], rNone, nil
	case len(hits) > 1 || scanned >= maxScan:
		if len(hits) > 3 {
			hits = hits[:3]
		}
		return -1, rAmbiguous, hits
	}
	return -1, rNotFound, m.nearest(w, cur, amount, day, lo)
}

// nearest lists up to three open documents of the right kind closest in
// amount (then date) to an unmatched transaction.
func (m *matcher) nearest(w want, cur uint16, amount int64, day int32, pos int) []int32 {
	type cand struct {
		doc        int32
		dAmt, dDay int64
	}
	var cs []cand
	look := func(j int) bool {
		if j < 0 || j >= len(m.amounts) || m.amounts[j].cur != cur {
			return false
		}
		e := &m.amounts[j]
		if m.fits(m.docs.at(e.doc), w) {
			dd := int64(0)
			if day != 0 {
				dd = abs64(int64(e.day - day))
			}
			cs = append(cs, cand{e.doc, abs64(e.amount - amount), dd})
		}
		return true
	}
	for k := 0; k < 8; k++ {
		a, b := look(pos+k), look(pos-1-k)
		if !a && !b {
			break
		}
	}
	slices.SortFunc(cs, func(a, b cand) int {
		return cmp.Or(cmp.Compare(a.dAmt, b.dAmt), cmp.Compare(a.dDay, b.dDay), cmp.Compare(a.doc, b.doc))
	})
	out := make([]int32, 0, 3)
	for _, c := range cs {
		if len(out) == 3 {
			break
		}
		out = append(out, c.doc)
	}
	return out
}
