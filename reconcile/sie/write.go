package sie

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"

	"github.com/shopspring/decimal"

	"github.com/knyt/knyt/commerce"
)

// DefaultMaxTextLen is the default limit on voucher and transaction texts:
// Fortnox rejects longer ones (Fortnox "Felsökningsguide – SIE-fil").
const DefaultMaxTextLen = 50

// Header is the identification part of an SIE file.
type Header struct {
	// Program and Version name the producing program (#PROGRAM). Program
	// defaults to "knyt"; an empty Version is written as "".
	Program, Version string
	// Generated is the #GEN date; required. It is the caller's, never the
	// clock's, so the same vouchers give the same file byte for byte.
	Generated commerce.Date
	// Signature is the optional #GEN signature (who generated the file).
	Signature string
	// Company is the company name (#FNAMN); required.
	Company string
	// OrgNumber is the optional organisation number (#ORGNR), e.g.
	// "556677-8899"; Fortnox checks it against the company it imports into.
	OrgNumber string
	// FiscalYear is written as #RAR when set (optional in 4I).
	FiscalYear *FiscalYear
}

// LineEnding is the line terminator the writer uses.
type LineEnding string

// Line endings. CRLF is the default: SIE files come from the PC world of
// code page 437, and CRLF is what the producers surveyed in the reference
// write; every reader known to the reference accepts it.
const (
	CRLF LineEnding = "\r\n"
	LF   LineEnding = "\n"
)

// Option configures a Writer.
type Option func(*Writer)

// WithMaxTextLen limits voucher and transaction texts to n characters
// (default DefaultMaxTextLen, 50); n <= 0 means no limit. Longer texts are
// cut at n characters, trailing spaces removed, and reported.
func WithMaxTextLen(n int) Option { return func(w *Writer) { w.maxText = n } }

// AllowMissingAccounts lets vouchers use accounts the plan lacks. They are
// written without a #KONTO record (the importing system then uses its own
// name for them) and each is reported, instead of failing the write.
func AllowMissingAccounts() Option { return func(w *Writer) { w.allowMissing = true } }

// WithDimensions gives the names (and #UNDERDIM parents) of dimensions.
// Without one, the reserved SIE dimensions get their standard name
// (1 Resultatenhet, 2 Kostnadsbärare, 6 Projekt, 7 Anställd, 8 Kund,
// 9 Leverantör, 10 Faktura); any other dimension used without a name is an
// error.
func WithDimensions(dims ...Dimension) Option {
	return func(w *Writer) {
		for _, d := range dims {
			w.dims[d.Number] = d
		}
	}
}

// WithObjects gives the names of dimension objects for #OBJEKT. An object
// used without a name is written with its code as its name. (Specter wants
// numeric object codes, e.g. {1 "3"}; the reference, §8.3.)
func WithObjects(objs ...Object) Option {
	return func(w *Writer) {
		for _, o := range objs {
			w.objects[commerce.Dimension{Dim: o.Dim, Object: o.ID}] = o.Name
		}
	}
}

// WithDefaultSeries sets the series written for vouchers whose Series is
// empty. Importers such as Fortnox undo an import per series, so a series
// dedicated to these vouchers is recommended. Without it the series is
// written empty ("") and the importing system chooses.
func WithDefaultSeries(s string) Option { return func(w *Writer) { w.series = s } }

// WithCurrency sets the currency of the books (default SEK); every posting
// must be in it, and any other than SEK is declared with #VALUTA.
func WithCurrency(c commerce.Currency) Option { return func(w *Writer) { w.currency = c } }

// WithLineEnding sets the line terminator (default CRLF).
func WithLineEnding(le LineEnding) Option { return func(w *Writer) { w.eol = le } }

// Writer writes vouchers as SIE 4I files. A Writer is safe for concurrent
// use once built.
type Writer struct {
	plan         AccountPlan
	maxText      int
	allowMissing bool
	dims         map[int]Dimension
	objects      map[commerce.Dimension]string
	series       string
	currency     commerce.Currency
	eol          LineEnding
}

// NewWriter returns a writer that names accounts from plan.
func NewWriter(plan AccountPlan, opts ...Option) *Writer {
	w := &Writer{
		plan:     plan,
		maxText:  DefaultMaxTextLen,
		dims:     map[int]Dimension{},
		objects:  map[commerce.Dimension]string{},
		currency: commerce.SEK,
		eol:      CRLF,
	}
	for _, o := range opts {
		o(w)
	}
	return w
}

// NoticeKind classifies a Notice.
type NoticeKind string

// Notice kinds.
const (
	// NoticeReplaced: characters code page 437 cannot encode were replaced.
	NoticeReplaced NoticeKind = "replaced"
	// NoticeTruncated: a text was cut to the maximum length.
	NoticeTruncated NoticeKind = "truncated"
	// NoticeMissingAccount: an account not in the plan was written without
	// #KONTO (AllowMissingAccounts).
	NoticeMissingAccount NoticeKind = "missing-account"
	// NoticeUnknownLabel: the reader skipped a record it does not know, as
	// SIE requires.
	NoticeUnknownLabel NoticeKind = "unknown-label"
	// NoticeIgnored: the reader skipped data that has no place in the
	// result (a removed #BTRANS row, a voucher without rows, a transaction
	// date other than the voucher's, a repeated #KONTO).
	NoticeIgnored NoticeKind = "ignored"
)

// Notice reports something that was written or read differently from what
// was given, without being an error.
type Notice struct {
	Kind NoticeKind
	// Line is the 1-based input line (reader) or 0 (writer).
	Line int
	// Voucher is the voucher's ID where the notice concerns one.
	Voucher string
	// Field says what was affected: "text", "postings[2].text", "#FNAMN",
	// "account 1580", or the label of a skipped record.
	Field string
	// Original and Written are the text before and after, for replaced and
	// truncated texts.
	Original, Written string
	// Detail explains the notice in words.
	Detail string
}

// Report summarises a Write.
type Report struct {
	Vouchers int      // vouchers written
	Rows     int      // #TRANS rows written
	Notices  []Notice // replacements, truncations, missing accounts
}

// Write writes h and vouchers to out as one SIE 4I file: #FLAGGA 0,
// #PROGRAM, #FORMAT PC8, #GEN, #SIETYP 4, #ORGNR (if given), #FNAMN,
// #RAR (if given), #VALUTA (if not SEK), #KONTO for every account used,
// #DIM/#UNDERDIM and #OBJEKT for every dimension and object used, then each
// voucher as #VER with its #TRANS rows, in the order given.
//
// Every voucher is checked before anything is written; if any is refused
// (unbalanced, wrong currency, bad account or dimension) or uses an account
// missing from the plan, nothing is written and the error lists every
// problem (errors.Join of *VoucherError and *AccountError). The output is
// encoded in code page 437 and is the same byte for byte for the same input.
func (w *Writer) Write(out io.Writer, h Header, vouchers []commerce.Voucher) (Report, error) {
	// About 40 bytes a row and 60 a voucher, plus the header.
	rows := 0
	for i := range vouchers {
		rows += len(vouchers[i].Postings)
	}
	buf, rep, err := w.appendFile(make([]byte, 0, 1024+60*len(vouchers)+40*rows), h, vouchers)
	if err != nil {
		return Report{}, err
	}
	if _, err := out.Write(buf); err != nil {
		return Report{}, fmt.Errorf("sie: write: %w", err)
	}
	return rep, nil
}

// appendFile is Write appending the file to buf instead.
func (w *Writer) appendFile(buf []byte, h Header, vouchers []commerce.Voucher) ([]byte, Report, error) {
	var rep Report
	if err := w.checkConfig(h); err != nil {
		return buf, rep, err
	}
	accounts, objects, dims, err := w.check(vouchers)
	if err != nil {
		return buf, rep, err
	}
	e := encoder{buf: buf, eol: string(w.eol), rep: &rep}

	e.line("#FLAGGA 0")
	program := h.Program
	if program == "" {
		program = "knyt"
	}
	e.start("#PROGRAM").text("#PROGRAM", "", program).word("#PROGRAM version", h.Version).end()
	e.line("#FORMAT PC8")
	e.start("#GEN").date(h.Generated)
	if h.Signature != "" {
		e.text("#GEN", "", h.Signature)
	}
	e.end()
	e.line("#SIETYP 4")
	if h.OrgNumber != "" {
		e.start("#ORGNR").raw(h.OrgNumber).end()
	}
	e.start("#FNAMN").text("#FNAMN", "", h.Company).end()
	if fy := h.FiscalYear; fy != nil {
		e.start("#RAR").raw(strconv.Itoa(fy.Index)).date(fy.Start).date(fy.End).end()
	}
	if w.currency != commerce.SEK {
		e.start("#VALUTA").raw(w.currency.Code()).end()
	}
	for _, no := range accounts {
		a, ok := w.plan[no]
		if !ok {
			rep.Notices = append(rep.Notices, Notice{Kind: NoticeMissingAccount, Field: "account " + no,
				Detail: "not in the account plan; written without #KONTO"})
			continue
		}
		e.start("#KONTO").raw(no).text("#KONTO", "account "+no, a.Name).end()
	}
	for _, d := range dims {
		if d.Parent != 0 {
			e.start("#UNDERDIM").raw(strconv.Itoa(d.Number)).text("#UNDERDIM", fmt.Sprintf("dimension %d", d.Number), d.Name).raw(strconv.Itoa(d.Parent)).end()
			continue
		}
		e.start("#DIM").raw(strconv.Itoa(d.Number)).text("#DIM", fmt.Sprintf("dimension %d", d.Number), d.Name).end()
	}
	for _, o := range objects {
		name, ok := w.objects[o]
		if !ok || name == "" {
			name = o.Object
		}
		e.start("#OBJEKT").raw(strconv.Itoa(o.Dim)).ident(o.Object).text("#OBJEKT", fmt.Sprintf("object %d/%s", o.Dim, o.Object), name).end()
	}
	for i := range vouchers {
		w.voucher(&e, &vouchers[i])
		rep.Vouchers++
	}
	return e.buf, rep, nil
}

func (w *Writer) checkConfig(h Header) error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrInvalidHeader}, args...)...))
	}
	if h.Company == "" {
		bad("company name (#FNAMN) missing")
	}
	if !h.Generated.Valid() {
		bad("generation date (#GEN) %q is not a calendar date", h.Generated.String())
	}
	if h.OrgNumber != "" && !isOrgNumber(h.OrgNumber) {
		bad("org number %q must be digits and hyphens", h.OrgNumber)
	}
	if fy := h.FiscalYear; fy != nil && (!fy.Start.Valid() || !fy.End.Valid() || fy.End.Before(fy.Start)) {
		bad("fiscal year %s–%s is not a date range", fy.Start, fy.End)
	}
	if w.currency.IsZero() || w.currency.Digits() > 2 {
		bad("currency %q cannot be written with two decimals", w.currency.Code())
	}
	if w.series != "" {
		if why := checkIdent(w.series); why != "" {
			bad("default series %q %s", w.series, why)
		}
	}
	for _, d := range w.dims {
		if d.Number <= 0 || d.Parent < 0 || d.Parent == d.Number {
			bad("dimension %d (parent %d) is not a valid dimension number", d.Number, d.Parent)
		}
	}
	return errors.Join(errs...)
}

func isOrgNumber(s string) bool {
	for i := 0; i < len(s); i++ {
		if (s[i] < '0' || s[i] > '9') && s[i] != '-' {
			return false
		}
	}
	return true
}

// check validates every voucher and collects the accounts, objects and
// dimensions they use, sorted for the header.
func (w *Writer) check(vouchers []commerce.Voucher) ([]string, []commerce.Dimension, []Dimension, error) {
	var errs []error
	usedAccounts := map[string]string{} // account → first voucher using it
	usedObjects := map[commerce.Dimension]bool{}
	usedDims := map[int]bool{}
	lastNumber := map[string]int{}
	for i := range vouchers {
		vo := &vouchers[i]
		var verrs []error
		fail := func(format string, args ...any) { verrs = append(verrs, fmt.Errorf(format, args...)) }
		if err := vo.Validate(); err != nil {
			verrs = append(verrs, err)
		}
		series := w.seriesOf(vo)
		if why := checkIdent(series); why != "" {
			fail("series %q %s", series, why)
		}
		switch {
		case vo.Number < 0:
			fail("number %d is negative", vo.Number)
		case vo.Number > 0:
			// SIE: numbered vouchers of a series appear in ascending order.
			if last, ok := lastNumber[series]; ok && vo.Number <= last {
				fail("number %d in series %q follows %d; numbers must ascend", vo.Number, series, last)
			}
			lastNumber[series] = vo.Number
		}
		for j, p := range vo.Postings {
			if !isDigits(p.Account) {
				fail("postings[%d].account %q: SIE account numbers are numeric", j, p.Account)
			}
			if p.Amount.Currency != w.currency {
				fail("postings[%d].amount %s: the file's currency is %s", j, p.Amount, w.currency.Code())
			} else if _, exact := hundredths(p.Amount.Amount); !exact {
				fail("postings[%d].amount %s: more than two decimals", j, p.Amount)
			}
			if p.Quantity != "" {
				if _, err := commerce.ParseAmount(p.Quantity); err != nil {
					fail("postings[%d].quantity: %w", j, err)
				}
			}
			for k, d := range p.Dimensions {
				for _, prev := range p.Dimensions[:k] {
					if prev.Dim == d.Dim {
						fail("postings[%d].dimensions[%d]: dimension %d given twice", j, k, d.Dim)
					}
				}
				if d.Object == "" || d.Dim <= 0 {
					continue // reported by Validate
				}
				if why := checkIdent(d.Object); why != "" {
					fail("postings[%d].dimensions[%d]: object %q %s", j, k, d.Object, why)
				}
				if _, named := w.dims[d.Dim]; !named && reservedDimensions[d.Dim] == "" {
					fail("postings[%d].dimensions[%d]: dimension %d has no name; give it with WithDimensions", j, k, d.Dim)
				}
			}
		}
		if len(verrs) > 0 {
			errs = append(errs, &VoucherError{ID: vo.ID, Index: i, Err: errors.Join(verrs...)})
			continue
		}
		for _, p := range vo.Postings {
			if _, ok := usedAccounts[p.Account]; !ok {
				usedAccounts[p.Account] = vo.ID
			}
			for _, d := range p.Dimensions {
				usedObjects[d] = true
				usedDims[d.Dim] = true
			}
		}
	}
	accounts := make([]string, 0, len(usedAccounts))
	for no := range usedAccounts {
		accounts = append(accounts, no)
	}
	slices.SortFunc(accounts, compareCodes)
	if !w.allowMissing {
		for _, no := range accounts {
			if _, ok := w.plan[no]; !ok {
				errs = append(errs, &AccountError{Account: no, Voucher: usedAccounts[no]})
			}
		}
	}
	if len(errs) > 0 {
		return nil, nil, nil, errors.Join(errs...)
	}

	// An #UNDERDIM needs its superior dimension declared too.
	for d := range usedDims {
		for p := w.dims[d].Parent; p != 0 && !usedDims[p]; p = w.dims[p].Parent {
			usedDims[p] = true
		}
	}
	dims := make([]Dimension, 0, len(usedDims))
	for d := range usedDims {
		def, ok := w.dims[d]
		if !ok || def.Name == "" {
			def = Dimension{Number: d, Name: reservedDimensions[d], Parent: def.Parent}
		}
		dims = append(dims, def)
	}
	slices.SortFunc(dims, func(a, b Dimension) int { return a.Number - b.Number })
	for _, d := range dims {
		if d.Name == "" {
			return nil, nil, nil, fmt.Errorf("%w: dimension %d (superior of a dimension used) has no name; give it with WithDimensions", ErrInvalidHeader, d.Number)
		}
	}
	objects := make([]commerce.Dimension, 0, len(usedObjects))
	for o := range usedObjects {
		objects = append(objects, o)
	}
	slices.SortFunc(objects, func(a, b commerce.Dimension) int {
		if a.Dim != b.Dim {
			return a.Dim - b.Dim
		}
		return compareCodes(a.Object, b.Object)
	})
	return accounts, objects, dims, nil
}

func (w *Writer) seriesOf(vo *commerce.Voucher) string {
	if vo.Series != "" {
		return vo.Series
	}
	return w.series
}

func (w *Writer) voucher(e *encoder, vo *commerce.Voucher) {
	e.voucher = vo.ID
	e.start("#VER").ident(w.seriesOf(vo))
	if vo.Number > 0 {
		e.raw(strconv.Itoa(vo.Number))
	} else {
		e.ident("")
	}
	e.date(vo.Date).limited(plainField("text"), vo.Text, w.maxText).end()
	e.line("{")
	for j := range vo.Postings {
		p := &vo.Postings[j]
		e.start("#TRANS").raw(p.Account)
		e.buf = append(e.buf, " {"...)
		for k, d := range p.Dimensions {
			if k > 0 {
				e.buf = append(e.buf, ' ')
			}
			e.buf = strconv.AppendInt(e.buf, int64(d.Dim), 10)
			e.buf = append(e.buf, ' ')
			e.buf = appendQuoted(e.buf, d.Object)
		}
		e.buf = append(e.buf, '}')
		e.buf = append(e.buf, ' ')
		e.buf = appendAmount(e.buf, p.Amount.Amount)
		if p.Text != "" || p.Quantity != "" {
			e.ident("") // transdat: the voucher's date
			e.limited(textField(j), p.Text, w.maxText)
			if p.Quantity != "" {
				e.raw(p.Quantity)
			}
		}
		e.end()
		e.rep.Rows++
	}
	e.line("}")
	e.voucher = ""
}

// encoder appends SIE records to buf, one field at a time.
type encoder struct {
	buf     []byte
	eol     string
	rep     *Report
	voucher string // ID of the voucher being written, for notices
}

func (e *encoder) line(s string) {
	e.buf = append(e.buf, s...)
	e.buf = append(e.buf, e.eol...)
}

func (e *encoder) start(label string) *encoder {
	e.buf = append(e.buf, label...)
	return e
}

func (e *encoder) end() { e.buf = append(e.buf, e.eol...) }

// raw appends a field known to need no quotes (numbers, dates, codes).
func (e *encoder) raw(s string) *encoder {
	e.buf = append(e.buf, ' ')
	e.buf = append(e.buf, s...)
	return e
}

func (e *encoder) date(d commerce.Date) *encoder {
	// Dates were checked with Valid (years 1–9999), so every part fits its digits.
	y, m := d.Year, int(d.Month)
	e.buf = append(e.buf, ' ',
		byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10),
		byte('0'+m/10), byte('0'+m%10), byte('0'+d.Day/10), byte('0'+d.Day%10))
	return e
}

// ident appends an identifier, checked beforehand, always quoted.
func (e *encoder) ident(s string) *encoder {
	e.buf = append(e.buf, ' ')
	e.buf = appendQuoted(e.buf, s)
	return e
}

// word appends a short free value (a version) unquoted when that is safe.
func (e *encoder) word(field, s string) *encoder {
	if safeUnquoted(s) {
		return e.raw(s)
	}
	return e.text(field, field, s)
}

// text appends free text, cleaned for code page 437 and always quoted.
func (e *encoder) text(label, field, s string) *encoder {
	if field == "" {
		field = label
	}
	return e.limited(plainField(field), s, 0)
}

func plainField(s string) func() string { return func() string { return s } }

func textField(j int) func() string {
	return func() string { return fmt.Sprintf("postings[%d].text", j) }
}

// limited appends free text cut to max characters; field names it in a
// notice.
func (e *encoder) limited(field func() string, s string, max int) *encoder {
	clean, replaced := cleanText(s)
	if replaced {
		e.rep.Notices = append(e.rep.Notices, Notice{Kind: NoticeReplaced, Voucher: e.voucher, Field: field(),
			Original: s, Written: clean, Detail: "characters outside code page 437 replaced"})
	}
	cut, truncated := truncateText(clean, max)
	if truncated {
		e.rep.Notices = append(e.rep.Notices, Notice{Kind: NoticeTruncated, Voucher: e.voucher, Field: field(),
			Original: s, Written: cut, Detail: fmt.Sprintf("longer than %d characters", max)})
	}
	e.buf = append(e.buf, ' ')
	e.buf = appendQuoted(e.buf, cut)
	return e
}

var pow10 = [...]int64{1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18}

// hundredths returns d × 100 when it fits an int64 (fast path; the bound is
// far above any amount), and whether d has at most two decimals.
func hundredths(d decimal.Decimal) (v int64, exact bool) {
	e, n := int(d.Exponent()), d.NumDigits()
	switch {
	case e >= -2 && n+e+2 <= 18:
		return d.CoefficientInt64() * pow10[e+2], true
	case e < -2 && n <= 18:
		c, div := d.CoefficientInt64(), int64(1)
		if -e-2 <= 18 {
			div = pow10[-e-2]
		} else {
			return 0, c == 0
		}
		return c / div, c%div == 0
	}
	return 0, d.Equal(d.Truncate(2))
}

// appendAmount appends d, known to have at most two decimals, as an SIE
// amount: a minus for credit, a dot, exactly two decimals, no grouping.
func appendAmount(buf []byte, d decimal.Decimal) []byte {
	e, n := int(d.Exponent()), d.NumDigits()
	if !(e >= -2 && n+e+2 <= 18) && !(e < -2 && n <= 18 && -e-2 <= 18) {
		return append(buf, d.StringFixed(2)...)
	}
	v, _ := hundredths(d)
	if v < 0 {
		buf = append(buf, '-')
		v = -v
	}
	buf = strconv.AppendInt(buf, v/100, 10)
	return append(buf, '.', byte('0'+v%100/10), byte('0'+v%10))
}
