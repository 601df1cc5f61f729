package reconcile

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/shopspring/decimal"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/vat"
)

// Sections order a voucher's rows: the bank line first, as on the bank
// statement, then fees and their VAT, the receivables per document, the
// reverse-charge pair, and what remains. The reference's worked vouchers
// follow this order (bookkeeping-sie.md §4).
type section uint8

const (
	secBank section = iota
	secFee
	secFeeVAT
	secForeignVAT
	secReceivable
	secRCIn
	secRCOut
	secGift
	secHold
	secSuspense
	secFX
	secRounding
)

type vkey struct {
	sec     section
	unit    uint16 // shop whose result unit the row carries
	doc     int32  // the document of a receivable or gift-card row, else -1
	account string
	text    string // for a document's row, set when the voucher is finished
}

// vline is a voucher row being built: t in the payout's currency, still to
// be converted, plus b already in the book currency.
type vline struct {
	vkey
	t, b int64
}

// rcBase is the fees under reverse charge at one rate.
type rcBase struct {
	rate decimal.Decimal
	t    int64
}

// docUpdate is what a voucher does to a document, applied only once the
// voucher is valid.
type docUpdate struct {
	doc      int32
	settled  int64
	closure  int64
	noCredit int64
	reopen   int64
	gift     bool
}

type docLine struct {
	sec section
	doc int32
}

// builder builds one voucher. A voucher has a row per document it
// settles (found through a map) and a handful of others (fees, VAT, bank,
// rounding; found by scanning).
type builder struct {
	lines   []vline
	byDoc   map[docLine]int
	plain   []int
	rc      []rcBase
	updates []docUpdate
	sources []string
	txs     []int32
	fees    int64
	feeVAT  int64
}

func newBuilder() builder { return builder{byDoc: map[docLine]int{}} }

func (v *builder) reset() {
	v.lines, v.plain, v.rc, v.updates, v.sources, v.txs = v.lines[:0], v.plain[:0], v.rc[:0], v.updates[:0], v.sources[:0], v.txs[:0]
	clear(v.byDoc)
	v.fees, v.feeVAT = 0, 0
}

// add adds to the row k: t in the payout currency, b in the book currency.
func (v *builder) add(k vkey, t, b int64) {
	if t == 0 && b == 0 {
		return
	}
	if k.doc >= 0 {
		dk := docLine{k.sec, k.doc}
		if j, ok := v.byDoc[dk]; ok {
			v.lines[j].t += t
			v.lines[j].b += b
			return
		}
		v.byDoc[dk] = len(v.lines)
	} else {
		for _, j := range v.plain {
			if v.lines[j].vkey == k {
				v.lines[j].t += t
				v.lines[j].b += b
				return
			}
		}
		v.plain = append(v.plain, len(v.lines))
	}
	v.lines = append(v.lines, vline{vkey: k, t: t, b: b})
}

// row is a row that is not a document's.
func row(sec section, account string, unit uint16, text string) vkey {
	return vkey{sec: sec, unit: unit, doc: -1, account: account, text: text}
}

func (v *builder) addRC(rate decimal.Decimal, t int64) {
	for j := range v.rc {
		if v.rc[j].rate.Equal(rate) {
			v.rc[j].t += t
			return
		}
	}
	v.rc = append(v.rc, rcBase{rate: rate, t: t})
}

// booker turns matched payouts into vouchers. Each booking worker has its
// own; they share only what matching left read-only (documents, states of
// other payouts, the plan).
type booker struct {
	x     *run
	plan  *AccountPlan
	v     builder
	units map[uint16][]commerce.Dimension
	rates *fxTable
	texts map[string]*providerTexts
}

// providerTexts are the row texts naming a provider, made once.
type providerTexts struct {
	fees, held, released string
}

func newBooker(x *run) *booker {
	return &booker{x: x, plan: &x.r.plan, v: newBuilder(), units: map[uint16][]commerce.Dimension{},
		rates: newFXTable(x.r.fx), texts: map[string]*providerTexts{}}
}

func (bk *booker) textsOf(provider string) *providerTexts {
	t, ok := bk.texts[provider]
	if !ok {
		n := providerName(provider)
		t = &providerTexts{fees: "Avgifter " + n, held: "Reservation " + n, released: "Frisläppt reservation " + n}
		bk.texts[provider] = t
	}
	return t
}

// dims returns the shared result-unit dimensions of a shop.
func (bk *booker) dims(shop uint16) []commerce.Dimension {
	d, ok := bk.units[shop]
	if !ok {
		d = bk.plan.resultUnit(bk.x.m.tab.shops[shop])
		bk.units[shop] = d
	}
	return d
}

// providerNames are the display names used in voucher texts.
var providerNames = map[string]string{
	"klarna": "Klarna", "stripe": "Stripe", "paypal": "PayPal", "shopify_payments": "Shopify Payments",
}

func providerName(p string) string {
	if n, ok := providerNames[p]; ok {
		return n
	}
	return p
}

// kindWords name transaction kinds in per-transaction voucher texts.
var kindWords = map[commerce.TransactionKind]string{
	commerce.TxSale: "försäljning", commerce.TxRefund: "återbetalning", commerce.TxFee: "avgift",
	commerce.TxFeeRefund: "avgiftsåterbetalning", commerce.TxChargeback: "återkrav", commerce.TxReversal: "återföring",
	commerce.TxAdjustment: "justering", commerce.TxHoldback: "reservation", commerce.TxRelease: "frisläppt reservation",
	commerce.TxCurrencyConv: "valutaväxling", commerce.TxOther: "okänd",
}

const roundingText = "Öresavrundning"

// maxText is the voucher text limit of Fortnox, which the SIE writer also
// enforces; texts are cut here so that the voucher itself says what the
// file will.
const maxText = 50

func limitText(s string) string {
	if utf8.RuneCountInString(s) <= maxText {
		return s
	}
	r := []rune(s)
	return string(r[:maxText])
}

// shortID is the part of a payout id worth a voucher text: the last
// segment of a path-like id (Shopify's "gid://shopify/ShopifyPaymentsPayout/55"
// is 55), the id itself otherwise.
func shortID(id string) string {
	if i := strings.LastIndexByte(id, '/'); i >= 0 && i < len(id)-1 {
		return id[i+1:]
	}
	return id
}

// docLabel is a document's row text, "Faktura 1001".
func docLabel(d *doc) string {
	switch d.kind {
	case dkCredit:
		return "Kreditfaktura " + d.number
	case dkOrder:
		return "Order " + d.number
	}
	return "Faktura " + d.number
}

// shortHash is a stable suffix for a set of ids.
func shortHash(ids []string) string {
	h := sha256.New()
	for _, id := range ids {
		fmt.Fprintf(h, "%d:%s|", len(id), id)
	}
	return hex.EncodeToString(h.Sum(nil)[:4])
}

// bookPayout books one payout into its payoutState (vouchers, and what they
// do to documents, applied later in payout order). On failure the payout is
// refused with the reason and nothing of it is kept. It touches only this
// payout's state, so payouts can be booked concurrently.
func (bk *booker) bookPayout(pi int) {
	x := bk.x
	p := &x.b.payouts[pi]
	ps := &x.ps[pi]
	var news []int32
	for i := x.offsets[pi]; i < x.offsets[pi+1]; i++ {
		switch x.states[i].st {
		case stMatched, stUnmatched, stFee, stHold, stRelease:
			news = append(news, i)
		}
	}
	suffix := ""
	if ps.seenBefore {
		ids := make([]string, len(news))
		for k, i := range news {
			ids[k] = p.Transactions[i-x.offsets[pi]].ID
		}
		suffix = ":+" + shortHash(ids)
	}
	name := providerName(p.Provider)
	bankTotal := convert(ps.amount, ps.cur, x.r.book, ps.rate) - ps.bookedBank
	restT := ps.diff - ps.restBooked
	var updates []docUpdate
	fail := func(err error) {
		x.refuse(pi, PayoutRejected, err.Error())
		ps.out, ps.vouchers, ps.fees, ps.feeVAT, ps.rcVAT, ps.bankNow, ps.booked = nil, nil, 0, 0, 0, 0, 0
	}
	emit := func(id, text string, bank int64, rest int64) error {
		v := &bk.v
		v.add(row(secBank, bk.plan.bank(ps.cur), 0, ""), 0, bank)
		if rest != 0 {
			v.add(row(secRounding, bk.plan.Rounding, 0, roundingText), -rest, 0)
		}
		vo, err := bk.finish(pi, id, text)
		if err != nil {
			return err
		}
		vi := int32(-1)
		if vo != nil {
			vi = int32(len(ps.out))
			ps.out = append(ps.out, *vo)
			ps.vouchers = append(ps.vouchers, id)
		}
		for _, i := range v.txs {
			x.states[i].voucher = vi
		}
		updates = append(updates, v.updates...)
		ps.fees += v.fees
		ps.feeVAT += v.feeVAT
		ps.bankNow += bank
		ps.booked += len(v.txs)
		return nil
	}
	switch x.r.granularity {
	case PerPayout:
		bk.v.reset()
		bk.v.sources = append(bk.v.sources, p.ID)
		for _, i := range news {
			if err := bk.addTx(pi, i); err != nil {
				fail(err)
				return
			}
		}
		text := name + " utbetalning " + shortID(p.ID)
		if ps.seenBefore {
			text = name + " utbetalning tillägg " + shortID(p.ID)
		}
		if err := emit("payout:"+p.Provider+":"+p.ID+suffix, limitText(text), bankTotal, restT); err != nil {
			fail(err)
			return
		}
	case PerTransaction:
		// Each transaction's share of the bank line is the change in the
		// converted running total of the nets, so the shares sum to the
		// converted total exactly.
		var cum, prevB, shares int64
		k := 0
		for i := x.offsets[pi]; i < x.offsets[pi+1]; i++ {
			s := &x.states[i]
			if s.st == stPayoutRow || s.st == stNone {
				continue
			}
			t := &p.Transactions[i-x.offsets[pi]]
			net, _ := minorIn(t.Net, ps.cur)
			cum += net
			curB := convert(cum, ps.cur, x.r.book, ps.rate)
			share := curB - prevB
			prevB = curB
			if k >= len(news) || news[k] != i {
				continue
			}
			k++
			bk.v.reset()
			bk.v.sources = append(bk.v.sources, p.ID, t.ID)
			if err := bk.addTx(pi, i); err != nil {
				fail(err)
				return
			}
			label := t.ID
			if s.doc >= 0 {
				label = x.m.docs.at(s.doc).number
			}
			text := limitText(name + " " + kindWords[t.Kind] + " " + label)
			if err := emit("tx:"+p.Provider+":"+t.ID, text, share, 0); err != nil {
				fail(err)
				return
			}
			shares += share
		}
		if rem := bankTotal - shares; rem != 0 || restT != 0 {
			bk.v.reset()
			bk.v.sources = append(bk.v.sources, p.ID)
			// The bank rest and the payout's unexplained rest are both
			// rounding; the builder books what balances the voucher.
			if err := emit("payout:"+p.Provider+":"+p.ID+":rest"+suffix, limitText(name+" utbetalning avrundning "+shortID(p.ID)), rem, restT); err != nil {
				fail(err)
				return
			}
		}
	}
	ps.updates = updates
	ps.status = PayoutBooked
	if ps.seenBefore {
		ps.status = PayoutSupplemented
	}
}

// bookAll books the payouts on up to GOMAXPROCS workers and merges their
// vouchers and document updates in payout order, so the result does not
// depend on scheduling.
func (x *run) bookAll() []commerce.Voucher {
	var todo []int
	for pi := range x.ps {
		if x.ps[pi].ok {
			todo = append(todo, pi)
		}
	}
	workers := min(runtime.GOMAXPROCS(0), 8, len(todo)/16+1)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			bk := newBooker(x)
			for {
				k := int(next.Add(1) - 1)
				if k >= len(todo) {
					return
				}
				bk.bookPayout(todo[k])
			}
		}()
	}
	wg.Wait()
	n := 0
	for _, pi := range todo {
		n += len(x.ps[pi].out)
	}
	vouchers := make([]commerce.Voucher, 0, n)
	for _, pi := range todo {
		ps := &x.ps[pi]
		if !ps.ok {
			continue
		}
		base := int32(len(vouchers))
		vouchers = append(vouchers, ps.out...)
		ps.out = nil
		for i := x.offsets[pi]; i < x.offsets[pi+1]; i++ {
			if s := &x.states[i]; s.voucher >= 0 {
				s.voucher += base
			}
		}
		day := dayNumber(ps.date)
		for _, u := range ps.updates {
			d := x.m.docs.at(u.doc)
			d.booked += u.settled
			d.bookedClose += u.closure
			d.noCredit += u.noCredit
			d.reopen += u.reopen
			d.lastDay = day
			if u.gift {
				d.flags |= fGiftBooked
			}
		}
		ps.updates = nil
	}
	return vouchers
}

// lastVoucher is the id of the payout's last voucher, or of the earlier
// one when this run made none.
func (ps *payoutState) lastVoucher() string {
	if n := len(ps.vouchers); n > 0 {
		return ps.vouchers[n-1]
	}
	return ps.prevVoucher
}

// addTx adds one transaction's rows to the voucher being built.
func (bk *booker) addTx(pi int, i int32) error {
	x := bk.x
	p := &x.b.payouts[pi]
	ps := &x.ps[pi]
	t := &p.Transactions[i-x.offsets[pi]]
	s := &x.states[i]
	v := &bk.v
	v.txs = append(v.txs, i)
	if x.r.granularity == PerPayout {
		v.sources = append(v.sources, t.ID)
	}
	a, _ := minorIn(t.Amount, ps.cur)
	fee, _ := minorIn(t.Fee, ps.cur)
	fvat, _ := minorIn(t.FeeVAT, ps.cur)
	shop := ps.shop
	if s.doc >= 0 && x.m.docs.at(s.doc).shop != 0 {
		shop = x.m.docs.at(s.doc).shop
	}
	switch s.st {
	case stMatched:
		if err := bk.receivable(pi, i, t, a); err != nil {
			return err
		}
	case stHold:
		v.add(row(secHold, bk.plan.Holdback, shop, bk.textsOf(p.Provider).held), -a, 0)
	case stRelease:
		v.add(row(secHold, bk.plan.Holdback, shop, bk.textsOf(p.Provider).released), -a, 0)
	case stUnmatched:
		v.add(row(secSuspense, bk.plan.Suspense, shop, limitText("Ej avstämd "+t.ID)), -a, 0)
	}
	if fee == 0 && fvat == 0 {
		return nil
	}
	pol := x.r.fees[p.Provider]
	rule := pol.rule(t.ProviderType)
	acct, err := bk.plan.feeAccount(rule.Account)
	if err != nil {
		return err
	}
	switch rule.Treatment {
	case VATCharged:
		if fvat == 0 && fee != 0 {
			rate := rule.RatePercent
			if t.FeeVATRatePercent != nil {
				rate = *t.FeeVATRatePercent
			}
			if rate.IsPositive() {
				am, err := vat.FromGross(money(fee, ps.cur), rate)
				if err != nil {
					return fmt.Errorf("transaction %s: fee VAT: %w", t.ID, err)
				}
				if fee, err = am.Net.Minor(); err == nil {
					fvat, err = am.VAT.Minor()
				}
				if err != nil {
					return fmt.Errorf("transaction %s: fee VAT: %w", t.ID, err)
				}
			}
		}
		v.add(row(secFee, acct, shop, bk.textsOf(p.Provider).fees), fee, 0)
		v.add(row(secFeeVAT, bk.plan.InputVAT, 0, "Moms på avgifter"), fvat, 0)
	case ReverseCharge, Exempt:
		v.add(row(secFee, acct, shop, bk.textsOf(p.Provider).fees), fee, 0)
		if fvat != 0 {
			v.add(row(secForeignVAT, bk.plan.ForeignVAT, 0, "Utländsk moms på avgifter"), fvat, 0)
		} else if rule.Treatment == ReverseCharge {
			v.addRC(rule.RatePercent, fee)
		}
	}
	v.fees += fee
	v.feeVAT += fvat
	return nil
}

// receivable clears a matched document: its receivable row, an exchange
// difference when the payout or the document is not in the book currency,
// the document's closure on the rounding or exchange account, and the
// gift-card part when WithGiftCardClearing moves it.
func (bk *booker) receivable(pi int, i int32, t *commerce.Transaction, a int64) error {
	x := bk.x
	p := &x.b.payouts[pi]
	ps := &x.ps[pi]
	s := &x.states[i]
	d := x.m.docs.at(s.doc)
	dcur := x.m.tab.curs[d.cur]
	v := &bk.v
	book := x.r.book
	acct := bk.plan.receivable(p.Provider)
	rk := vkey{sec: secReceivable, unit: d.shop, doc: s.doc, account: acct}
	settled := x.settledOf(i, a)
	u := docUpdate{doc: s.doc, settled: settled}
	if s.missCr {
		u.noCredit = settled
	}
	if t.Kind == commerce.TxChargeback || (t.Kind == commerce.TxReversal && a < 0) {
		u.reopen = settled
	}
	direct := dcur == ps.cur && ps.cur == book
	var docRate decimal.Decimal
	if direct {
		v.add(rk, -a, 0)
	} else {
		var err error
		if docRate, err = bk.rates.rate(dcur, book, dateOfDay(d.day)); err != nil {
			return fmt.Errorf("%s: %w", d.docRef(), err)
		}
		recv := -convert(settled, dcur, book, docRate)
		bank := convert(-a, ps.cur, book, ps.rate)
		v.add(rk, 0, recv)
		bk.bookFX(bank - recv)
	}
	if d.lastTx == i && d.closure != 0 {
		u.closure = d.closure
		if direct {
			v.add(rk, -d.closure, 0)
			v.add(row(secRounding, bk.plan.Rounding, 0, roundingText), d.closure, 0)
		} else {
			c := convert(d.closure, dcur, book, docRate)
			v.add(rk, 0, -c)
			if d.has(fClosureFX) {
				bk.bookFX(c)
			} else {
				v.add(row(secRounding, bk.plan.Rounding, 0, roundingText), 0, c)
			}
		}
	}
	if x.r.giftCardClearing && d.lastTx == i && d.gift > 0 && !d.has(fGiftDone|fGiftBooked) && d.kind != dkCredit {
		g := d.gift
		if !direct {
			g = convert(d.gift, dcur, book, docRate)
		}
		v.add(vkey{sec: secGift, unit: d.shop, doc: s.doc, account: bk.plan.GiftCardLiability}, 0, g)
		v.add(rk, 0, -g)
		u.gift = true
	}
	v.updates = append(v.updates, u)
	return nil
}

// bookFX books an exchange difference in the book currency: a credit is a
// gain, a debit a loss.
func (bk *booker) bookFX(amount int64) {
	switch {
	case amount < 0:
		bk.v.add(row(secFX, bk.plan.FXGain, 0, "Kursvinst"), 0, amount)
	case amount > 0:
		bk.v.add(row(secFX, bk.plan.FXLoss, 0, "Kursförlust"), 0, amount)
	}
}

// finish converts the rows to the book currency, adds the reverse-charge
// pair, puts the conversion's öre on the rounding account and checks the
// voucher. It returns nil when every row is zero.
func (bk *booker) finish(pi int, id, text string) (*commerce.Voucher, error) {
	x := bk.x
	ps := &x.ps[pi]
	v := &bk.v
	book := x.r.book
	converted := 0
	for j := range v.lines {
		l := &v.lines[j]
		if l.t != 0 {
			l.b += convert(l.t, ps.cur, book, ps.rate)
			if ps.cur != book {
				converted++
			}
			l.t = 0
		}
	}
	for _, rc := range v.rc {
		base := convert(rc.t, ps.cur, book, ps.rate)
		vm, err := vat.VATOnNet(money(base, book), rc.rate)
		if err != nil {
			return nil, fmt.Errorf("reverse charge: %w", err)
		}
		amt, err := vm.Minor()
		if err != nil {
			return nil, fmt.Errorf("reverse charge: %w", err)
		}
		rate := rc.rate.String()
		v.add(row(secRCIn, bk.plan.ReverseChargeInputVAT, 0, "Omvänd moms "+rate+" %"), 0, amt)
		v.add(row(secRCOut, bk.plan.ReverseChargeOutputVAT, 0, "Omvänd moms "+rate+" %"), 0, -amt)
		ps.rcVAT += amt
	}
	var sum int64
	for j := range v.lines {
		sum += v.lines[j].b
	}
	if sum != 0 {
		// Only converting rows one by one can leave öre: at most half an
		// öre per converted row and per exchange difference.
		if ps.cur == book || abs64(sum) > int64(converted+len(v.updates)+1) {
			return nil, fmt.Errorf("%w: rows sum to %s", ErrUnbalanced, money(sum, book))
		}
		v.add(row(secRounding, bk.plan.Rounding, 0, roundingText), 0, -sum)
	}
	// Count per section, then place each row at its section's next slot:
	// the rows come out in section order, first-added first within one,
	// without moving the rows themselves.
	var at [secRounding + 2]int
	for j := range v.lines {
		if v.lines[j].b != 0 {
			at[v.lines[j].sec+1]++
		}
	}
	for k := 1; k < len(at); k++ {
		at[k] += at[k-1]
	}
	n := at[len(at)-1]
	if n == 0 {
		return nil, nil
	}
	vo := &commerce.Voucher{
		ID:       id,
		Series:   x.r.series,
		Date:     ps.date,
		Text:     text,
		Postings: make([]commerce.Posting, n),
		Sources:  slices.Clone(v.sources),
	}
	for j := range v.lines {
		l := &v.lines[j]
		if l.b == 0 {
			continue
		}
		text := l.text
		if l.doc >= 0 {
			text = docLabel(x.m.docs.at(l.doc))
			if l.sec == secGift {
				text = "Presentkort " + text
			}
		}
		p := &vo.Postings[at[l.sec]]
		at[l.sec]++
		p.Account, p.Amount, p.Text = l.account, money(l.b, book), text
		switch l.sec {
		case secReceivable, secFee, secSuspense, secHold, secGift:
			p.Dimensions = bk.dims(l.unit)
		}
	}
	if err := vo.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnbalanced, err)
	}
	return vo, nil
}
