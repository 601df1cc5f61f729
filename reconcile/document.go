package reconcile

import (
	"fmt"
	"strings"
	"time"

	"github.com/knyt/knyt/commerce"
)

// DocumentKind is the kind of document a transaction settles.
type DocumentKind string

// Document kinds: an ERP invoice, a credit invoice, or a shop order that
// has no invoice in the input.
const (
	DocInvoice DocumentKind = "invoice"
	DocCredit  DocumentKind = "credit"
	DocOrder   DocumentKind = "order"
)

// DocumentRef names a document.
type DocumentRef struct {
	Kind   DocumentKind `json:"kind"`
	Number string       `json:"number"`
}

// String formats kind and number, "invoice 1001".
func (d DocumentRef) String() string { return string(d.Kind) + " " + d.Number }

// docKind is DocumentKind in one byte; dkNone marks a document that is not
// used (a duplicate, or one whose ledger state is unreadable).
type docKind uint8

const (
	dkNone docKind = iota
	dkInvoice
	dkCredit
	dkOrder
)

var docKindNames = [...]DocumentKind{dkNone: "", dkInvoice: DocInvoice, dkCredit: DocCredit, dkOrder: DocOrder}

// Document flags.
const (
	fPaid       uint8 = 1 << iota // the ERP marks it paid: nothing more is expected
	fGiftDone                     // the ledger says its gift-card part was cleared
	fTouched                      // matched this run, by key or by amount and date
	fForeign                      // a transaction in another currency settles it
	fClosureFX                    // its closure is an exchange difference
	fGiftBooked                   // its gift-card part was cleared this run
	fReopened                     // a chargeback or reversal takes it back
)

// doc is the reconciler's compact view of a document, one per open invoice,
// credit invoice or order: a million of them take 160 MB. Amounts
// are minor units of its currency, signed from the merchant's view: what
// the document expects to receive is positive (invoice, order), what it
// expects to pay negative (credit invoice).
type doc struct {
	number  string
	orderNo string
	credits string // the invoice a credit invoice credits
	payRef  string // the invoice's own payment reference
	gross   int64  // signed
	gift    int64  // part paid by gift card (positive), not expected from providers

	before  int64 // settled by providers in earlier runs (ledger)
	settled int64 // tentatively settled this run
	closure int64 // remaining amount closed on the rounding or exchange account

	booked      int64 // settled by this run's vouchers
	bookedClose int64
	noCredit    int64 // refunds booked against an invoice, for want of a credit invoice
	reopen      int64 // chargebacks and reversals booked

	lastTx  int32 // the last transaction matched, where a closure is booked
	day     int32 // issue date as a day number (dayNumber); 0 if unknown
	lastDay int32 // arrival date of the last payout that settled it
	shop    uint16
	cur     uint16
	kind    docKind
	flags   uint8
}

func (d *doc) has(f uint8) bool { return d.flags&f != 0 }

// expected is what providers are expected to settle on the document in
// total: its gross less the gift-card part; for a paid one what they had
// settled.
func (d *doc) expected() int64 {
	if d.has(fPaid) {
		return d.before
	}
	return d.gross - d.sign()*d.gift
}

func (d *doc) sign() int64 {
	if d.kind == dkCredit {
		return -1
	}
	return 1
}

// open is what is still expected at the start of the run.
func (d *doc) open() int64 { return d.expected() - d.before }

// remaining is what is still expected given this run's tentative matches.
func (d *doc) remaining() int64 { return d.open() - d.settled }

func (d *doc) docRef() DocumentRef { return DocumentRef{Kind: docKindNames[d.kind], Number: d.number} }

func (d *doc) key() Key {
	return Key{Kind: KeyDocument, Scope: string(docKindNames[d.kind]), ID: d.number}
}

// docStore keeps documents in fixed chunks, so that adding a million never
// copies them and pointers to them stay valid.
type docStore struct {
	chunks [][]doc
	n      int32
}

const chunkBits = 13

func (s *docStore) add(d doc) int32 {
	c := int(s.n >> chunkBits)
	if c == len(s.chunks) {
		s.chunks = append(s.chunks, make([]doc, 0, 1<<chunkBits))
	}
	s.chunks[c] = append(s.chunks[c], d)
	s.n++
	return s.n - 1
}

func (s *docStore) at(i int32) *doc { return &s.chunks[i>>chunkBits][i&(1<<chunkBits-1)] }

// tables interns the few currencies and shops of a batch, so a document
// holds two small numbers instead of a currency and a string.
type tables struct {
	curs    []commerce.Currency
	curIdx  map[commerce.Currency]uint16
	shops   []string
	shopIdx map[string]uint16
}

func (t *tables) currency(c commerce.Currency) uint16 {
	if i, ok := t.curIdx[c]; ok {
		return i
	}
	if t.curIdx == nil {
		t.curIdx = map[commerce.Currency]uint16{}
	}
	t.curIdx[c] = uint16(len(t.curs))
	t.curs = append(t.curs, c)
	return uint16(len(t.curs) - 1)
}

func (t *tables) shop(s string) uint16 {
	if i, ok := t.shopIdx[s]; ok {
		return i
	}
	if t.shopIdx == nil {
		t.shopIdx = map[string]uint16{}
	}
	t.shopIdx[s] = uint16(len(t.shops))
	t.shops = append(t.shops, s)
	return uint16(len(t.shops) - 1)
}

// orderInfo is what the reconciler keeps of a shop order.
type orderInfo struct {
	number string
	shop   string
	cur    commerce.Currency
	day    int32
	total  int64
	gift   int64
	refs   []string
}

// normKey normalises a matching key: surrounding space and a leading "#"
// (Shopify order names are "#1001", order numbers elsewhere "1001") are
// ignored; everything else, case included, must agree.
func normKey(s string) string {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "#")
	return strings.TrimSpace(s)
}

// dayNumber counts days since 1970-01-01, for date windows; 0 for an
// invalid date.
func dayNumber(d commerce.Date) int32 {
	if !d.Valid() {
		return 0
	}
	return int32(time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

// dateOfDay is the inverse of dayNumber; the zero Date for 0.
func dateOfDay(n int32) commerce.Date {
	if n == 0 {
		return commerce.Date{}
	}
	return commerce.DateOf(time.Unix(int64(n)*86400, 0).UTC())
}

// AddInvoice adds an open invoice or credit invoice from the ERP. Only the
// fields matching and booking need are read (kind, number, credits, order
// number, currency, issue date, gross, payment reference, paid), so the
// caller may reuse inv. An invoice the batch cannot use (no number, no
// currency, a gross that is negative or not exact) is returned as an error
// and also listed in the result's Problems; a second invoice with the same
// kind and number is listed there when the batch is reconciled.
func (b *Batch) AddInvoice(inv *commerce.Invoice) error {
	kind := dkInvoice
	switch inv.Kind {
	case commerce.KindInvoice:
	case commerce.KindCreditInvoice:
		kind = dkCredit
	default:
		return b.reject("invoice", inv.Number, fmt.Errorf("%w: kind %q is neither invoice nor credit", ErrInvalidInput, inv.Kind))
	}
	name := string(docKindNames[kind])
	num := normKey(inv.Number)
	if num == "" {
		return b.reject(name, inv.Number, fmt.Errorf("%w: no number", ErrInvalidInput))
	}
	if inv.Currency.IsZero() {
		return b.reject(name, num, fmt.Errorf("%w: no currency", ErrInvalidInput))
	}
	gross, err := minorIn(inv.Gross, inv.Currency)
	if err != nil {
		return b.reject(name, num, fmt.Errorf("%w: gross: %w", ErrInvalidInput, err))
	}
	if gross < 0 {
		return b.reject(name, num, fmt.Errorf("%w: negative gross %s (a credit invoice has a positive gross and kind credit)", ErrInvalidInput, inv.Gross))
	}
	d := doc{
		kind: kind, number: num, orderNo: normKey(inv.OrderNumber), payRef: normKey(inv.PaymentReference),
		cur: b.tab.currency(inv.Currency), day: dayNumber(inv.IssueDate), gross: gross, lastTx: -1,
	}
	if kind == dkCredit {
		d.gross, d.credits = -gross, normKey(inv.Credits)
	}
	if inv.Paid {
		d.flags |= fPaid
	}
	b.docs.add(d)
	return nil
}

// AddOrder adds a shop order. An order supplies what its invoices lack:
// the provider references of its payments (PaymentRef.Reference), its shop
// (for the result unit) and the part paid with a gift card (payments whose
// provider is the gift-card provider, "gift_card" by default). An order
// without an invoice in the batch is matched as a document itself, for its
// total. An order the batch cannot use is returned as an error and listed
// in Problems; a second order with the same number is listed there when the
// batch is reconciled.
func (b *Batch) AddOrder(o *commerce.Order) error {
	num := normKey(o.Number)
	if num == "" {
		return b.reject("order", o.Number, fmt.Errorf("%w: no number", ErrInvalidInput))
	}
	if o.Currency.IsZero() {
		return b.reject("order", num, fmt.Errorf("%w: no currency", ErrInvalidInput))
	}
	total, err := minorIn(o.Totals.Total, o.Currency)
	if err != nil {
		return b.reject("order", num, fmt.Errorf("%w: total: %w", ErrInvalidInput, err))
	}
	if total < 0 {
		return b.reject("order", num, fmt.Errorf("%w: negative total %s", ErrInvalidInput, o.Totals.Total))
	}
	oi := orderInfo{number: num, shop: o.Shop, cur: o.Currency, total: total}
	if !o.CreatedAt.IsZero() {
		oi.day = dayNumber(commerce.DateOf(o.CreatedAt.UTC()))
	}
	for i, p := range o.Payments {
		if p.Provider == b.r.giftCardProvider {
			g, err := minorIn(p.Amount, o.Currency)
			if err != nil || g < 0 {
				return b.reject("order", num, fmt.Errorf("%w: payments[%d]: gift card amount %s is not an exact, positive amount in %s", ErrInvalidInput, i, p.Amount, o.Currency.Code()))
			}
			oi.gift += g
			continue
		}
		if ref := normKey(p.Reference); ref != "" {
			oi.refs = append(oi.refs, ref)
		}
	}
	if oi.gift > total {
		return b.reject("order", num, fmt.Errorf("%w: gift cards pay %s of a %s total", ErrInvalidInput, money(oi.gift, o.Currency), o.Totals.Total))
	}
	b.orders = append(b.orders, oi)
	return nil
}

// AddPayout adds a payout with its transactions. The batch keeps the
// payout and reads its transactions slice until Reconcile returns (and the
// result refers to it for the CSV report and its iterators), so it must not
// be modified meanwhile. Problems with a payout (transactions not summing,
// a foreign currency, an invalid row) do not fail here: the payout is
// refused in the result, with the reason.
func (b *Batch) AddPayout(p *commerce.Payout) {
	b.payouts = append(b.payouts, *p)
}

// reject records an unusable document and returns its error.
func (b *Batch) reject(kind, number string, err error) error {
	b.problems = append(b.problems, Problem{Kind: ProblemDocument, Subject: kind + " " + number, Detail: err.Error()})
	return &Error{Op: "add " + kind, Subject: number, Err: err}
}
