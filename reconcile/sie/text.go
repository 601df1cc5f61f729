package sie

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/unicode/norm"
)

// transliterations are the characters outside code page 437 that have an
// obvious stand-in and that Unicode decomposition does not reduce to one.
// ø/Ø become ö/Ö, the Swedish letter for the same sound, rather than a bare o.
var transliterations = map[rune]string{
	'ø': "ö", 'Ø': "Ö",
	'Ł': "L", 'ł': "l", 'Đ': "D", 'đ': "d", 'Ð': "D", 'ð': "d",
	'Þ': "Th", 'þ': "th", 'Œ': "OE", 'œ': "oe", 'ı': "i",
	'€': "EUR",
	'‘': "'", '’': "'", '‚': "'", '‛': "'", '′': "'",
	'“': `"`, '”': `"`, '„': `"`, '‟': `"`, '″': `"`,
	'‐': "-", '‑': "-", '‒': "-", '–': "-", '—': "-", '―': "-", '−': "-",
	'…': "...", '•': "*", '×': "x",
	'©': "(c)", '®': "(R)",
}

// cleanText turns s into text that code page 437 can encode, by this rule
// (the package documentation repeats it):
//
//  1. s is put in Unicode normal form C, so a decomposed "a" + ring is "å".
//  2. Tabs, line breaks, other control characters and Unicode spaces
//     (no-break space included) become an ordinary space.
//  3. Characters code page 437 has are kept: åäöÅÄÖ, é, ü, ß, £ and the rest.
//  4. Invisible characters are dropped: combining marks left over after
//     step 1, format characters (zero-width joiner, soft hyphen, byte order
//     mark) and emoji skin-tone modifiers.
//  5. A character in the transliteration table is replaced by its stand-in
//     (ø → ö, € → EUR, typographic quotes and dashes → ASCII, … → ...).
//  6. Otherwise the compatibility decomposition (NFKD) without its accents
//     is used when code page 437 can encode it (š → s, Ž → Z, ™ → TM,
//     ﬁ → fi).
//  7. Anything else (emoji, CJK, most symbols) becomes '?'.
//
// changed reports whether the result differs from s.
func cleanText(s string) (out string, changed bool) {
	if isPlainASCII(s) {
		return s, false
	}
	n := norm.NFC.String(s)
	var b strings.Builder
	b.Grow(len(n))
	for _, r := range n {
		switch {
		case r == utf8.RuneError:
			b.WriteByte('?')
		case unicode.IsControl(r) || unicode.IsSpace(r):
			b.WriteByte(' ')
		case encodable(r):
			b.WriteRune(r)
		case unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf) || (r >= 0x1F3FB && r <= 0x1F3FF):
			// dropped
		default:
			if t, ok := transliterations[r]; ok {
				b.WriteString(t)
			} else if t, ok := decomposeToCP437(r); ok {
				b.WriteString(t)
			} else {
				b.WriteByte('?')
			}
		}
	}
	out = b.String()
	return out, out != s
}

// isPlainASCII reports whether s is printable ASCII only, the common case
// that needs no work.
func isPlainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e {
			return false
		}
	}
	return true
}

// encodable reports whether code page 437 has a printable glyph for r.
func encodable(r rune) bool {
	if r < 0x20 || r == 0x7f {
		return false
	}
	_, ok := charmap.CodePage437.EncodeRune(r)
	return ok
}

func decomposeToCP437(r rune) (string, bool) {
	var b strings.Builder
	for _, d := range norm.NFKD.String(string(r)) {
		switch {
		case unicode.Is(unicode.Mn, d):
		case encodable(d):
			b.WriteRune(d)
		default:
			return "", false
		}
	}
	return b.String(), b.Len() > 0
}

// truncateText cuts s to at most max characters and drops the spaces the
// cut leaves at the end. max <= 0 means no limit.
func truncateText(s string, max int) (string, bool) {
	if max <= 0 || utf8.RuneCountInString(s) <= max {
		return s, false
	}
	i, n := 0, 0
	for i < len(s) && n < max {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
		n++
	}
	return strings.TrimRight(s[:i], " "), true
}

// checkIdent reports why s cannot be written as an identifier (series,
// object code): identifiers are never rewritten, because changing one would
// book to a different series or object.
func checkIdent(s string) string {
	for _, r := range s {
		if !encodable(r) {
			return "contains a character code page 437 cannot encode or a control character"
		}
	}
	return ""
}

// appendQuoted appends s, already clean, as a quoted SIE field in code page
// 437. A quote is escaped \" (SIE 4B). A backslash is escaped \\ only where
// it would otherwise be misread: before a quote, before another backslash,
// or at the end of the field; everywhere else it is written as is, which is
// what readers that know only \" expect.
func appendQuoted(buf []byte, s string) []byte {
	buf = append(buf, '"')
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '"':
			buf = append(buf, '\\', '"')
		case r == '\\':
			next := i + size
			if next == len(s) || s[next] == '"' || s[next] == '\\' {
				buf = append(buf, '\\', '\\')
			} else {
				buf = append(buf, '\\')
			}
		case r < utf8.RuneSelf:
			buf = append(buf, byte(r))
		default:
			c, _ := charmap.CodePage437.EncodeRune(r)
			buf = append(buf, c)
		}
		i += size
	}
	return append(buf, '"')
}

// safeUnquoted reports whether s can be written without quotes: non-empty,
// printable ASCII, and free of the characters SIE gives a meaning.
func safeUnquoted(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c <= ' ' || c > 0x7e, c == '"', c == '{', c == '}', c == '\\':
			return false
		}
	}
	return true
}

// decodeTable maps the bytes of a single-byte charset to runes.
type decodeTable [256]rune

func newDecodeTable(cm *charmap.Charmap) *decodeTable {
	var t decodeTable
	for i := range t {
		t[i] = cm.DecodeByte(byte(i))
	}
	return &t
}

var (
	cp437Table   = newDecodeTable(charmap.CodePage437)
	win1252Table = newDecodeTable(charmap.Windows1252)
)

func (t *decodeTable) decode(b []byte) string {
	ascii := true
	for _, c := range b {
		if c >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return string(b)
	}
	var sb strings.Builder
	sb.Grow(len(b) + len(b)/2)
	for _, c := range b {
		sb.WriteRune(t[c])
	}
	return sb.String()
}
