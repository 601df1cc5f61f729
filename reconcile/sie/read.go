package sie

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/knyt/knyt/commerce"
)

// Charset is the character set Read decodes text with.
type Charset int

// Charsets.
const (
	// CharsetAuto: UTF-8 if the file starts with a UTF-8 byte order mark or
	// declares the non-standard "#FORMAT UTF8" that some producers write;
	// otherwise code page 437, which is what "#FORMAT PC8" means and the
	// only charset SIE 4 defines.
	CharsetAuto Charset = iota
	// CharsetCP437 is IBM PC code page 437 (#FORMAT PC8).
	CharsetCP437
	// CharsetWindows1252 is for producers that ignore #FORMAT PC8 and write
	// Windows-1252 / ISO 8859-1.
	CharsetWindows1252
	// CharsetUTF8 is UTF-8.
	CharsetUTF8
)

// ReadOption configures Read.
type ReadOption func(*reader)

// WithCharset overrides the character set detection of Read.
func WithCharset(c Charset) ReadOption { return func(r *reader) { r.charset = c } }

// File is what Read found in an SIE 4 file.
type File struct {
	// Header holds #PROGRAM, #GEN, #FNAMN, #ORGNR, and the current fiscal
	// year (#RAR 0) if the file has one, so it can be written back.
	Header Header
	Flag   int    // #FLAGGA: 0 not yet imported, 1 imported
	Format string // #FORMAT, "PC8"
	Type   string // #SIETYP, "4" for files with vouchers
	// FiscalYears are all #RAR records, in file order.
	FiscalYears []FiscalYear
	// Currency is #VALUTA, SEK when the file does not say; every amount read
	// is in it.
	Currency   commerce.Currency
	Accounts   AccountPlan // #KONTO, #KTYP, #SRU
	Dimensions []Dimension // #DIM and #UNDERDIM, in file order
	Objects    []Object    // #OBJEKT, in file order
	Balances   []Balance   // #IB, #UB, #RES, #OIB, #OUB, in file order
	// Vouchers are the #VER records, in file order. A voucher's ID is its
	// series and number joined by "/" ("A/12") when the file numbers it,
	// else "#" and its 1-based position among the file's vouchers ("#3").
	Vouchers []commerce.Voucher
	// Notices list what was skipped: unknown labels, removed rows, empty
	// vouchers, transaction dates other than the voucher's.
	Notices []Notice
}

// Balance is an opening (#IB, #OIB) or closing (#UB, #OUB) balance or a
// result (#RES) of an account for a fiscal year (0 current, -1 previous).
type Balance struct {
	Kind     string // "IB", "UB", "RES", "OIB" or "OUB"
	Year     int
	Account  string
	Objects  []commerce.Dimension // #OIB/#OUB only
	Amount   commerce.Money
	Quantity string
}

// skippedLabels are SIE 4 records Read understands but does not model;
// they are skipped without a notice.
var skippedLabels = map[string]bool{
	"#ADRESS": true, "#BKOD": true, "#ENHET": true, "#FNR": true, "#FTYP": true,
	"#KPTYP": true, "#KSUMMA": true, "#OMFATTN": true, "#PBUDGET": true,
	"#PROSA": true, "#PSALDO": true, "#TAXAR": true,
}

// Read parses an SIE 4 file (type 4I or 4E; the balance-only types 1–3 too)
// into vouchers, an account plan, dimensions and objects.
//
// Records Read does not know are skipped and reported in File.Notices, as
// SIE requires of readers. Malformed input — a missing or unreadable field,
// an unterminated quote or block, a voucher that does not balance — is a
// *SyntaxError naming the line. #RTRANS rows (added after registration) are
// part of the voucher and the identical #TRANS that SIE 4B has follow each
// one for older readers is not counted twice; #BTRANS rows (removed) are
// left out and reported.
func Read(r io.Reader, opts ...ReadOption) (*File, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("sie: read: %w", err)
	}
	rd := &reader{}
	for _, o := range opts {
		o(rd)
	}
	return rd.parse(data)
}

type reader struct {
	charset Charset
	decode  func([]byte) string
	f       *File

	line      int
	toks      []token
	items     [][]byte
	lastLabel string // label of the previous record, for a { that follows it
	accounts  map[string]string

	// the voucher being read
	ver       *commerce.Voucher
	verLine   int
	verRaw    string // the number as written
	rtrans    []string
	ordinal   int
	skipDepth int // >0 while skipping the block of an unknown record
	skipLine  int // where that block opened
}

// token is one field of a record: a plain or quoted value, or an object
// list whose items are r.items[start:end].
type token struct {
	b          []byte
	list       bool
	start, end int
	openBlock  bool // a "{" ending the line: the #VER block opens here
}

func (rd *reader) parse(data []byte) (*File, error) {
	rd.f = &File{Currency: commerce.SEK, Accounts: AccountPlan{}}
	data = rd.chooseCharset(data)
	state := stateTop
	for len(data) > 0 {
		var line []byte
		line, data = nextLine(data)
		rd.line++
		line = bytes.TrimLeft(line, " \t")
		if len(bytes.Trim(line, " \t\x1a")) == 0 {
			continue // blank, or the DOS end-of-file mark
		}
		var err error
		if state, err = rd.record(state, line); err != nil {
			return nil, err
		}
	}
	switch state {
	case stateExpectBlock:
		return nil, rd.errAt(rd.verLine, "#VER", "no { block follows the voucher")
	case stateInBlock:
		return nil, rd.errAt(rd.verLine, "#VER", "voucher block not closed with }")
	case stateSkip:
		return nil, rd.errAt(rd.skipLine, "", "block not closed with }")
	}
	return rd.f, nil
}

type state int

const (
	stateTop state = iota
	stateExpectBlock
	stateInBlock
	stateSkip
)

// nextLine splits off the first line; CRLF, LF and a lone CR all end one.
func nextLine(data []byte) (line, rest []byte) {
	i := bytes.IndexAny(data, "\r\n")
	if i < 0 {
		return data, nil
	}
	line, rest = data[:i], data[i+1:]
	if data[i] == '\r' && len(rest) > 0 && rest[0] == '\n' {
		rest = rest[1:]
	}
	return line, rest
}

func (rd *reader) chooseCharset(data []byte) []byte {
	if bom := []byte("\xef\xbb\xbf"); bytes.HasPrefix(data, bom) {
		data = data[len(bom):]
		if rd.charset == CharsetAuto {
			rd.charset = CharsetUTF8
		}
	}
	if rd.charset == CharsetAuto {
		rd.charset = CharsetCP437
		if v := formatValue(data); strings.EqualFold(v, "UTF8") || strings.EqualFold(v, "UTF-8") {
			rd.charset = CharsetUTF8
		}
	}
	switch rd.charset {
	case CharsetUTF8:
		rd.decode = func(b []byte) string {
			if utf8.Valid(b) {
				return string(b)
			}
			return strings.ToValidUTF8(string(b), "\uFFFD")
		}
	case CharsetWindows1252:
		rd.decode = win1252Table.decode
	default:
		rd.decode = cp437Table.decode
	}
	return data
}

// formatValue returns the value of the first #FORMAT record, read as ASCII.
func formatValue(data []byte) string {
	for off := 0; ; {
		i := bytes.Index(data[off:], []byte("#FORMAT"))
		if i < 0 {
			return ""
		}
		i += off
		if i == 0 || bytes.IndexByte([]byte("\r\n \t"), data[i-1]) >= 0 {
			line, _ := nextLine(data[i+len("#FORMAT"):])
			return strings.Trim(string(line), " \t\"")
		}
		off = i + 1
	}
}

func (rd *reader) err(label, format string, args ...any) error {
	return rd.errAt(rd.line, label, format, args...)
}

func (rd *reader) errAt(line int, label, format string, args ...any) error {
	return &SyntaxError{Line: line, Label: label, Reason: fmt.Sprintf(format, args...)}
}

func (rd *reader) wrap(label, reason string, err error) error {
	return &SyntaxError{Line: rd.line, Label: label, Reason: reason, Err: err}
}

func (rd *reader) notice(kind NoticeKind, field, format string, args ...any) {
	n := Notice{Kind: kind, Line: rd.line, Field: field, Detail: fmt.Sprintf(format, args...)}
	if rd.ver != nil {
		n.Voucher = rd.ver.ID
	}
	rd.f.Notices = append(rd.f.Notices, n)
}

// record handles one non-blank line in the given state.
func (rd *reader) record(st state, line []byte) (state, error) {
	bare := bytes.TrimRight(line, " \t")
	switch st {
	case stateSkip:
		switch {
		case len(bare) == 1 && bare[0] == '{':
			rd.skipDepth++
		case len(bare) == 1 && bare[0] == '}':
			rd.skipDepth--
			if rd.skipDepth == 0 {
				return stateTop, nil
			}
		}
		return stateSkip, nil
	case stateExpectBlock:
		if len(bare) == 1 && bare[0] == '{' {
			return stateInBlock, nil
		}
		return st, rd.errAt(rd.verLine, "#VER", "no { block follows the voucher")
	}

	if len(bare) == 1 && bare[0] == '}' {
		if st != stateInBlock {
			return st, rd.err("", "} without an open block")
		}
		return stateTop, rd.closeVoucher()
	}
	if len(bare) == 1 && bare[0] == '{' {
		// A block after a record this reader does not know belongs to that
		// record; skip it whole. Anywhere else a block is an error.
		if st == stateTop && rd.lastLabel != "" && !known(rd.lastLabel) {
			rd.skipDepth, rd.skipLine = 1, rd.line
			return stateSkip, nil
		}
		return st, rd.err("", "unexpected {")
	}
	if line[0] != '#' {
		return st, rd.err("", "line does not start with a #label")
	}
	end := bytes.IndexAny(line, " \t")
	if end < 0 {
		end = len(line)
	}
	label := strings.ToUpper(string(line[:end]))
	if len(label) < 2 {
		return st, rd.err("", "empty label")
	}
	if !utf8.ValidString(label) {
		label = strings.ToValidUTF8(label, "?")
	}
	rd.lastLabel = label
	if err := rd.tokenize(label, line[end:]); err != nil {
		return st, err
	}
	if st == stateInBlock {
		return st, rd.blockRecord(label)
	}
	return rd.topRecord(label)
}

func known(label string) bool {
	if skippedLabels[label] {
		return true
	}
	switch label {
	case "#FLAGGA", "#PROGRAM", "#FORMAT", "#GEN", "#SIETYP", "#FNAMN", "#ORGNR", "#RAR",
		"#VALUTA", "#KONTO", "#KTYP", "#SRU", "#DIM", "#UNDERDIM", "#OBJEKT",
		"#IB", "#UB", "#RES", "#OIB", "#OUB", "#VER", "#TRANS", "#RTRANS", "#BTRANS":
		return true
	}
	return false
}

// tokenize splits the fields after the label into rd.toks.
func (rd *reader) tokenize(label string, s []byte) error {
	rd.toks, rd.items = rd.toks[:0], rd.items[:0]
	i := 0
	for {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
		if i >= len(s) {
			return nil
		}
		switch s[i] {
		case '"':
			b, n, ok := scanQuoted(s[i:])
			if !ok {
				return rd.err(label, "unterminated quoted field")
			}
			rd.toks = append(rd.toks, token{b: b})
			i += n
		case '{':
			t := token{list: true, start: len(rd.items)}
			j := i + 1
			for {
				for j < len(s) && (s[j] == ' ' || s[j] == '\t') {
					j++
				}
				if j >= len(s) {
					if t.start == len(rd.items) && len(bytes.Trim(s[i+1:], " \t")) == 0 {
						// "{" ending the line opens a block (only #VER may have one)
						rd.toks = append(rd.toks, token{openBlock: true})
						return nil
					}
					return rd.err(label, "object list not closed with }")
				}
				if s[j] == '}' {
					j++
					break
				}
				switch s[j] {
				case '{':
					return rd.err(label, "nested { in an object list")
				case '"':
					b, n, ok := scanQuoted(s[j:])
					if !ok {
						return rd.err(label, "unterminated quoted field in an object list")
					}
					rd.items = append(rd.items, b)
					j += n
				default:
					k := j
					for k < len(s) && s[k] != ' ' && s[k] != '\t' && s[k] != '}' && s[k] != '"' && s[k] != '{' {
						k++
					}
					rd.items = append(rd.items, s[j:k])
					j = k
				}
			}
			t.end = len(rd.items)
			rd.toks = append(rd.toks, t)
			i = j
		default:
			k := i
			for k < len(s) && s[k] != ' ' && s[k] != '\t' {
				k++
			}
			rd.toks = append(rd.toks, token{b: s[i:k]})
			i = k
		}
	}
}

// scanQuoted reads a quoted field at the start of s and returns its
// content, unescaped (\" is a quote and \\ a backslash; any other
// backslash is literal), and the bytes consumed.
func scanQuoted(s []byte) (content []byte, n int, ok bool) {
	var out []byte // allocated only when there is an escape
	start := 1
	for j := 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			if j+1 < len(s) && (s[j+1] == '"' || s[j+1] == '\\') {
				out = append(out, s[start:j]...)
				out = append(out, s[j+1])
				j++
				start = j + 1
			}
		case '"':
			if out == nil {
				return s[1:j], j + 1, true
			}
			return append(out, s[start:j]...), j + 1, true
		}
	}
	return nil, 0, false
}

// str returns field i decoded, or "" if the record has fewer fields.
func (rd *reader) str(i int) string {
	if i >= len(rd.toks) || rd.toks[i].list || rd.toks[i].openBlock {
		return ""
	}
	return rd.decode(rd.toks[i].b)
}

// need reports an error unless the record has at least n plain fields.
func (rd *reader) need(label string, n int, what string) error {
	if len(rd.toks) < n {
		return rd.err(label, "missing %s", what)
	}
	for i := 0; i < n; i++ {
		if rd.toks[i].list || rd.toks[i].openBlock {
			return rd.err(label, "field %d: unexpected object list", i+1)
		}
	}
	return nil
}

func (rd *reader) topRecord(label string) (state, error) {
	f := rd.f
	if len(rd.toks) > 0 && rd.toks[len(rd.toks)-1].openBlock && label != "#VER" {
		return stateTop, rd.err(label, "object list not closed with }")
	}
	switch label {
	case "#FLAGGA":
		if err := rd.need(label, 1, "flag"); err != nil {
			return stateTop, err
		}
		n, err := strconv.Atoi(rd.str(0))
		if err != nil {
			return stateTop, rd.err(label, "flag %q is not a number", truncate(rd.str(0)))
		}
		f.Flag = n
	case "#PROGRAM":
		f.Header.Program, f.Header.Version = rd.str(0), rd.str(1)
	case "#FORMAT":
		f.Format = rd.str(0)
	case "#GEN":
		d, err := rd.date(label, 0, true)
		if err != nil {
			return stateTop, err
		}
		f.Header.Generated, f.Header.Signature = d, rd.str(1)
	case "#SIETYP":
		f.Type = rd.str(0)
	case "#FNAMN":
		f.Header.Company = rd.str(0)
	case "#ORGNR":
		f.Header.OrgNumber = rd.str(0)
	case "#RAR":
		if err := rd.need(label, 3, "year, start and end"); err != nil {
			return stateTop, err
		}
		idx, err := rd.int(label, 0, "year index")
		if err != nil {
			return stateTop, err
		}
		start, err := rd.date(label, 1, true)
		if err != nil {
			return stateTop, err
		}
		end, err := rd.date(label, 2, true)
		if err != nil {
			return stateTop, err
		}
		fy := FiscalYear{Index: idx, Start: start, End: end}
		f.FiscalYears = append(f.FiscalYears, fy)
		if idx == 0 {
			f.Header.FiscalYear = &fy
		}
	case "#VALUTA":
		c, err := commerce.ParseCurrency(rd.str(0))
		if err != nil {
			return stateTop, rd.wrap(label, "unknown currency", err)
		}
		if c.Digits() > 2 {
			return stateTop, rd.err(label, "currency %s has more than two decimals", c.Code())
		}
		f.Currency = c
	case "#KONTO":
		no, err := rd.account(label, 0)
		if err != nil {
			return stateTop, err
		}
		a, seen := f.Accounts[no]
		if seen && a.Name != "" {
			rd.notice(NoticeIgnored, label, "account %s named again; the later name is kept", no)
		}
		a.Name = rd.str(1)
		f.Accounts[no] = a
	case "#KTYP":
		no, err := rd.account(label, 0)
		if err != nil {
			return stateTop, err
		}
		t := AccountType(strings.ToUpper(rd.str(1)))
		if !t.valid() {
			rd.notice(NoticeIgnored, label, "account %s: type %q is not T, S, K or I", no, truncate(string(t)))
			break
		}
		a := f.Accounts[no]
		a.Type = t
		f.Accounts[no] = a
	case "#SRU":
		no, err := rd.account(label, 0)
		if err != nil {
			return stateTop, err
		}
		a := f.Accounts[no]
		a.SRU = rd.str(1)
		f.Accounts[no] = a
	case "#DIM", "#UNDERDIM":
		d, err := rd.int(label, 0, "dimension number")
		if err != nil {
			return stateTop, err
		}
		dim := Dimension{Number: d, Name: rd.str(1)}
		if label == "#UNDERDIM" {
			if dim.Parent, err = rd.int(label, 2, "superior dimension"); err != nil {
				return stateTop, err
			}
		}
		if dim.Number <= 0 || dim.Parent < 0 {
			return stateTop, rd.err(label, "dimension numbers are positive")
		}
		f.Dimensions = append(f.Dimensions, dim)
	case "#OBJEKT":
		if err := rd.need(label, 2, "dimension and object"); err != nil {
			return stateTop, err
		}
		d, err := rd.int(label, 0, "dimension number")
		if err != nil {
			return stateTop, err
		}
		if d <= 0 {
			return stateTop, rd.err(label, "dimension numbers are positive")
		}
		f.Objects = append(f.Objects, Object{Dim: d, ID: rd.str(1), Name: rd.str(2)})
	case "#IB", "#UB", "#RES", "#OIB", "#OUB":
		b, err := rd.balance(label)
		if err != nil {
			return stateTop, err
		}
		f.Balances = append(f.Balances, b)
	case "#VER":
		return rd.openVoucher(label)
	case "#TRANS", "#RTRANS", "#BTRANS":
		return stateTop, rd.err(label, "transaction outside a voucher")
	default:
		if !skippedLabels[label] {
			rd.notice(NoticeUnknownLabel, label, "unknown record skipped")
		}
	}
	return stateTop, nil
}

func (rd *reader) int(label string, i int, what string) (int, error) {
	s := rd.str(i)
	n, err := strconv.Atoi(s)
	if err != nil || len(s) > 9 {
		return 0, rd.err(label, "%s %q is not a number", what, truncate(s))
	}
	return n, nil
}

func (rd *reader) account(label string, i int) (string, error) {
	if i < len(rd.toks) && !rd.toks[i].list && !rd.toks[i].openBlock {
		// Account numbers are ASCII digits in every charset and repeat on
		// every row: share one string per account.
		if s, ok := rd.accounts[string(rd.toks[i].b)]; ok {
			return s, nil
		}
	}
	s := rd.str(i)
	if !isDigits(s) || len(s) > 20 {
		return "", rd.err(label, "account number %q is not numeric", truncate(s))
	}
	if rd.accounts == nil {
		rd.accounts = map[string]string{}
	}
	rd.accounts[s] = s
	return s, nil
}

// date parses field i as YYYYMMDD; an empty field is the zero Date unless
// required.
func (rd *reader) date(label string, i int, required bool) (commerce.Date, error) {
	s := rd.str(i)
	if s == "" && !required {
		return commerce.Date{}, nil
	}
	t, err := time.Parse("20060102", s)
	if err != nil || len(s) != 8 {
		return commerce.Date{}, rd.err(label, "date %q is not YYYYMMDD", truncate(s))
	}
	return commerce.DateOf(t), nil
}

// amount parses field i as an SIE amount: a plain decimal with at most two
// decimals.
func (rd *reader) amount(label string, i int) (commerce.Money, error) {
	s := rd.str(i)
	d, err := commerce.ParseAmount(s)
	if err != nil {
		return commerce.Money{}, rd.wrap(label, "amount", err)
	}
	if !d.Equal(d.Truncate(2)) {
		return commerce.Money{}, rd.wrap(label, "amount", &commerce.FieldError{Field: "amount", Value: s, Reason: "more than two decimals", Err: commerce.ErrInexact})
	}
	return commerce.NewMoney(d, rd.f.Currency), nil
}

func (rd *reader) quantity(label string, i int) (string, error) {
	s := rd.str(i)
	if s == "" {
		return "", nil
	}
	if _, err := commerce.ParseAmount(s); err != nil {
		return "", rd.wrap(label, "quantity", err)
	}
	return s, nil
}

// objects reads the object list token t as dimension/object pairs.
func (rd *reader) objects(label string, t token) ([]commerce.Dimension, error) {
	items := rd.items[t.start:t.end]
	if len(items)%2 != 0 {
		return nil, rd.err(label, "object list has a dimension without an object")
	}
	if len(items) == 0 {
		return nil, nil
	}
	out := make([]commerce.Dimension, 0, len(items)/2)
	for k := 0; k < len(items); k += 2 {
		ds := rd.decode(items[k])
		d, err := strconv.Atoi(ds)
		if err != nil || d <= 0 || len(ds) > 9 {
			return nil, rd.err(label, "dimension %q in the object list is not a positive number", truncate(ds))
		}
		obj := rd.decode(items[k+1])
		if obj == "" {
			return nil, rd.err(label, "empty object code for dimension %d", d)
		}
		for _, prev := range out {
			if prev.Dim == d {
				return nil, rd.err(label, "dimension %d twice in the object list", d)
			}
		}
		out = append(out, commerce.Dimension{Dim: d, Object: obj})
	}
	return out, nil
}

func (rd *reader) balance(label string) (Balance, error) {
	b := Balance{Kind: label[1:]}
	if err := rd.need(label, 2, "year and account"); err != nil {
		return b, err
	}
	var err error
	if b.Year, err = rd.int(label, 0, "year index"); err != nil {
		return b, err
	}
	if b.Account, err = rd.account(label, 1); err != nil {
		return b, err
	}
	next := 2
	if label == "#OIB" || label == "#OUB" {
		if len(rd.toks) <= next || !rd.toks[next].list {
			return b, rd.err(label, "missing object list")
		}
		if b.Objects, err = rd.objects(label, rd.toks[next]); err != nil {
			return b, err
		}
		next++
	}
	if len(rd.toks) <= next {
		return b, rd.err(label, "missing amount")
	}
	if b.Amount, err = rd.amount(label, next); err != nil {
		return b, err
	}
	if b.Quantity, err = rd.quantity(label, next+1); err != nil {
		return b, err
	}
	return b, nil
}

func (rd *reader) openVoucher(label string) (state, error) {
	next := stateExpectBlock
	if n := len(rd.toks); n > 0 && rd.toks[n-1].openBlock {
		rd.toks = rd.toks[:n-1]
		next = stateInBlock
	}
	if err := rd.need(label, 3, "series, number and date"); err != nil {
		return stateTop, err
	}
	date, err := rd.date(label, 2, true)
	if err != nil {
		return stateTop, err
	}
	rd.ordinal++
	vo := &commerce.Voucher{Series: rd.str(0), Date: date, Text: rd.str(3)}
	rd.verRaw = rd.str(1)
	if rd.verRaw == "" {
		vo.ID = "#" + strconv.Itoa(rd.ordinal)
	} else {
		vo.ID = vo.Series + "/" + rd.verRaw
		n, err := strconv.Atoi(rd.verRaw)
		switch {
		case err != nil || n < 0 || len(rd.verRaw) > 9:
			rd.ver = vo
			rd.notice(NoticeIgnored, label, "voucher number %q is not a whole number; it is kept in the ID only", truncate(rd.verRaw))
		default:
			vo.Number = n
		}
	}
	rd.ver, rd.verLine, rd.rtrans = vo, rd.line, nil
	return next, nil
}

// blockRecord handles a record inside a voucher's { } block.
func (rd *reader) blockRecord(label string) error {
	rtrans := rd.rtrans
	rd.rtrans = nil
	switch label {
	case "#TRANS", "#RTRANS", "#BTRANS":
	case "#VER":
		return rd.err(label, "voucher inside a voucher (missing })")
	default:
		if known(label) {
			rd.notice(NoticeIgnored, label, "record inside a voucher skipped")
		} else {
			rd.notice(NoticeUnknownLabel, label, "unknown record skipped")
		}
		return nil
	}
	if label == "#TRANS" && rtrans != nil && slicesEqual(rtrans, rd.fieldStrings()) {
		return nil // the copy of the #RTRANS before it, for older readers
	}
	p, err := rd.posting(label)
	if err != nil {
		return err
	}
	switch label {
	case "#BTRANS":
		rd.notice(NoticeIgnored, label, "removed row (account %s, %s) not part of the voucher", p.Account, p.Amount.Amount.StringFixed(2))
	case "#RTRANS":
		rd.ver.Postings = append(rd.ver.Postings, p)
		rd.rtrans = rd.fieldStrings()
	default:
		rd.ver.Postings = append(rd.ver.Postings, p)
	}
	return nil
}

// fieldStrings renders the current record's fields for comparison.
func (rd *reader) fieldStrings() []string {
	out := make([]string, 0, len(rd.toks)+2)
	for _, t := range rd.toks {
		if t.list {
			out = append(out, "{")
			for _, it := range rd.items[t.start:t.end] {
				out = append(out, string(it))
			}
			out = append(out, "}")
			continue
		}
		out = append(out, string(t.b))
	}
	return out
}

func slicesEqual(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// posting parses a #TRANS, #RTRANS or #BTRANS record:
// account {objects} amount [transdat] [transtext] [quantity] [sign].
func (rd *reader) posting(label string) (commerce.Posting, error) {
	var p commerce.Posting
	if len(rd.toks) > 0 && rd.toks[len(rd.toks)-1].openBlock {
		return p, rd.err(label, "object list not closed with }")
	}
	if len(rd.toks) < 2 {
		return p, rd.err(label, "missing account or amount")
	}
	var err error
	if rd.toks[0].list {
		return p, rd.err(label, "missing account number")
	}
	if p.Account, err = rd.account(label, 0); err != nil {
		return p, err
	}
	next := 1
	if rd.toks[1].list {
		if p.Dimensions, err = rd.objects(label, rd.toks[1]); err != nil {
			return p, err
		}
		next = 2
	} else {
		rd.notice(NoticeIgnored, label, "object list {} missing; read as empty")
	}
	for i := next; i < len(rd.toks); i++ {
		if rd.toks[i].list {
			return p, rd.err(label, "field %d: unexpected object list", i+1)
		}
	}
	if len(rd.toks) <= next {
		return p, rd.err(label, "missing amount")
	}
	if p.Amount, err = rd.amount(label, next); err != nil {
		return p, err
	}
	d, err := rd.date(label, next+1, false)
	if err != nil {
		return p, err
	}
	if !d.IsZero() && d != rd.ver.Date && label != "#BTRANS" {
		rd.notice(NoticeIgnored, label, "transaction date %s differs from the voucher date %s; the voucher date is kept", d, rd.ver.Date)
	}
	p.Text = rd.str(next + 2)
	if p.Quantity, err = rd.quantity(label, next+3); err != nil {
		return p, err
	}
	return p, nil
}

func (rd *reader) closeVoucher() error {
	vo := rd.ver
	rd.ver, rd.rtrans = nil, nil
	if len(vo.Postings) == 0 {
		rd.f.Notices = append(rd.f.Notices, Notice{Kind: NoticeIgnored, Line: rd.verLine, Voucher: vo.ID, Field: "#VER",
			Detail: "voucher without rows skipped"})
		return nil
	}
	if err := vo.Validate(); err != nil {
		return &SyntaxError{Line: rd.verLine, Label: "#VER", Reason: fmt.Sprintf("voucher %s", vo.ID), Err: err}
	}
	rd.f.Vouchers = append(rd.f.Vouchers, *vo)
	return nil
}

// truncate shortens hostile input quoted in an error.
func truncate(s string) string {
	const n = 40
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}
