package shopifytest

import (
	"strings"
	"time"
	"unicode"

	"github.com/shopspring/decimal"
)

// A subset of Shopify's search syntax for the query argument of
// connections: field:value terms with the comparators :> :>= :< :<=,
// quoted values ('…' or "…"), a trailing * for prefix matches, implicit
// AND, explicit AND and OR, NOT or a leading - for negation, and
// parentheses. Values compare as times when both sides parse as a date or
// date-time, as numbers when both are numbers, else as case-insensitive
// strings. A bare word searches the resource's default text fields. A field
// the resource does not know matches everything (Shopify ignores unknown
// filters and warns).

type searchNode interface {
	match(fields searchFields) bool
}

// searchFields gives a record's values for a search field; ok is false for
// a field the resource does not support.
type searchFields func(field string) (values []string, ok bool)

// termNode is one field:value term. The value's readings as a time and
// as a number are parsed once, when the query is, not per record.
type termNode struct {
	field, op, value string
	lower            string // value, lower-cased
	at               time.Time
	isTime           bool
	num              decimal.Decimal
	isNum            bool
}

func newTerm(field, op, value string) termNode {
	t := termNode{field: field, op: op, value: value, lower: strings.ToLower(value)}
	t.at, t.isTime = parseSearchTime(value)
	if !t.isTime {
		if d, err := decimal.NewFromString(value); err == nil {
			t.num, t.isNum = d, true
		}
	}
	return t
}

type notNode struct{ n searchNode }
type andNode []searchNode
type orNode []searchNode

func (n notNode) match(f searchFields) bool { return !n.n.match(f) }

func (n andNode) match(f searchFields) bool {
	for _, c := range n {
		if !c.match(f) {
			return false
		}
	}
	return true
}

func (n orNode) match(f searchFields) bool {
	for _, c := range n {
		if c.match(f) {
			return true
		}
	}
	return len(n) == 0
}

func (t termNode) match(f searchFields) bool {
	vals, ok := f(t.field)
	if !ok {
		return true
	}
	for _, v := range vals {
		if t.compare(v) {
			return true
		}
	}
	return false
}

func parseSearchTime(s string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// compare compares a record's value with the term's: as times when both
// read as times, as numbers when both read as numbers, else as
// case-insensitive strings (a trailing * on the term's value matches a
// prefix).
func (t termNode) compare(have string) bool {
	if t.isTime {
		if ht, ok := parseSearchTime(have); ok {
			return cmpOp(ht.Compare(t.at), t.op)
		}
	}
	if t.isNum { // no text reads as both a time and a number
		if hd, err := decimal.NewFromString(have); err == nil {
			return cmpOp(hd.Cmp(t.num), t.op)
		}
	}
	h := strings.ToLower(have)
	if t.op == ":" {
		if p, ok := strings.CutSuffix(t.lower, "*"); ok {
			return strings.HasPrefix(h, p)
		}
		return h == t.lower
	}
	return cmpOp(strings.Compare(h, t.lower), t.op)
}

func cmpOp(c int, op string) bool {
	switch op {
	case ":":
		return c == 0
	case ":>":
		return c > 0
	case ":>=":
		return c >= 0
	case ":<":
		return c < 0
	case ":<=":
		return c <= 0
	}
	return false
}

// parseSearch parses a query string; an empty query matches everything.
func parseSearch(q string) searchNode {
	p := &searchParser{toks: tokenizeSearch(q)}
	n := p.or()
	if n == nil {
		return andNode{}
	}
	return n
}

type searchParser struct {
	toks []string
	i    int
}

func (p *searchParser) peek() string {
	if p.i < len(p.toks) {
		return p.toks[p.i]
	}
	return ""
}

func (p *searchParser) or() searchNode {
	var alts orNode
	for {
		a := p.and()
		if a != nil {
			alts = append(alts, a)
		}
		if p.peek() != "OR" {
			break
		}
		p.i++
	}
	if len(alts) == 1 {
		return alts[0]
	}
	return alts
}

func (p *searchParser) and() searchNode {
	var all andNode
	for p.i < len(p.toks) {
		t := p.peek()
		if t == "OR" || t == ")" {
			break
		}
		if t == "AND" {
			p.i++
			continue
		}
		if n := p.unary(); n != nil {
			all = append(all, n)
		}
	}
	if len(all) == 0 {
		return nil
	}
	return all
}

func (p *searchParser) unary() searchNode {
	t := p.peek()
	p.i++
	switch {
	case t == "NOT":
		if n := p.unary(); n != nil {
			return notNode{n}
		}
		return nil
	case t == "(":
		n := p.or()
		if p.peek() == ")" {
			p.i++
		}
		return n
	case t == ")":
		return nil
	case strings.HasPrefix(t, "-") && len(t) > 1:
		return notNode{term(t[1:])}
	}
	return term(t)
}

func term(t string) searchNode {
	field, rest, found := strings.Cut(t, ":")
	if !found {
		return newTerm("", ":", unquote(t)+"*")
	}
	op := ":"
	for _, c := range []string{">=", "<=", ">", "<"} {
		if strings.HasPrefix(rest, c) {
			op += c
			rest = rest[len(c):]
			break
		}
	}
	return newTerm(strings.ToLower(field), op, unquote(rest))
}

func unquote(s string) string {
	if len(s) >= 2 && (s[0] == '\'' || s[0] == '"') && s[len(s)-1] == s[0] {
		return s[1 : len(s)-1]
	}
	return s
}

// tokenizeSearch splits on white space outside quotes and separates
// parentheses.
func tokenizeSearch(q string) []string {
	var toks []string
	var cur strings.Builder
	var quote rune
	flush := func() {
		if cur.Len() > 0 {
			toks = append(toks, cur.String())
			cur.Reset()
		}
	}
	for _, r := range q {
		switch {
		case quote != 0:
			cur.WriteRune(r)
			if r == quote {
				quote = 0
			}
		case r == '\'' || r == '"':
			quote = r
			cur.WriteRune(r)
		case r == '(' || r == ')':
			flush()
			toks = append(toks, string(r))
		case unicode.IsSpace(r):
			flush()
		default:
			cur.WriteRune(r)
		}
	}
	flush()
	return toks
}
