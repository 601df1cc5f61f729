package specter

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/unicode/norm"
)

// wire is the charset of requests and replies (see Charset).
var wire = charmap.Windows1252

// Substitute replaces, in free text, a character Windows-1252 cannot hold
// and that has no close equivalent.
const Substitute = "?"

// TextError reports a value that cannot be written in Windows-1252 without
// changing it, in a field where a change is not allowed (identifiers always;
// all text with WithStrictText).
type TextError struct {
	Field string // the request field, e.g. "articleNo_3"
	Value string // the value as given
	Rune  rune   // the first character that cannot be written
}

func (e *TextError) Error() string {
	return fmt.Sprintf("specter: field %s: %q (U+%04X) cannot be written in %s", e.Field, e.Rune, e.Rune, Charset)
}

// folds are characters Windows-1252 lacks with a plain equivalent it has.
var folds = map[rune]string{
	'\u2010': "-", '\u2011': "-", '\u2012': "-", '\u2015': "-", '\u2212': "-", '\u2043': "-",
	'\u2002': " ", '\u2003': " ", '\u2004': " ", '\u2005': " ", '\u2006': " ", '\u2007': " ",
	'\u2008': " ", '\u2009': " ", '\u200A': " ", '\u202F': " ", '\u205F': " ", '\u3000': " ",
	'\u2028': "\n", '\u2029': "\n", '\u2032': "'", '\u2033': "\"", '\u2044': "/",
}

// encodable reports whether r can be written in the wire charset; control
// characters other than tab and line breaks are refused, since no Specter
// field holds them.
func encodable(r rune) (byte, bool) {
	if r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r == 0x7f {
		return 0, false
	}
	if r >= 0x80 && r < 0xa0 {
		return 0, false // C1 controls; 0x80–0x9F of the charset are other characters
	}
	return wire.EncodeRune(r)
}

// encodeExact converts s (NFC-normalised first, so a decomposed "å" becomes
// one character) to Windows-1252 bytes, failing on the first character that
// has no byte.
func encodeExact(field, s string) (string, error) {
	s = norm.NFC.String(s)
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		c, ok := encodable(r)
		if !ok || r == utf8.RuneError {
			return "", &TextError{Field: field, Value: s, Rune: r}
		}
		b.WriteByte(c)
	}
	return b.String(), nil
}

// encodeText converts free text: NFC first; a missing character is folded to
// a plain equivalent (a typographic dash to "-", a thin space to " ", or its
// compatibility form, such as "fi" for the ligature "ﬁ"), and what still
// cannot be written becomes Substitute. It reports whether anything was
// replaced.
func encodeText(s string) (string, bool) {
	s = norm.NFC.String(s)
	var b strings.Builder
	b.Grow(len(s))
	replaced := false
	for _, r := range s {
		if c, ok := encodable(r); ok && r != utf8.RuneError {
			b.WriteByte(c)
			continue
		}
		replaced = true
		alt, ok := folds[r]
		if !ok {
			alt = norm.NFKC.String(string(r))
		}
		enc, err := encodeExact("", alt)
		if err != nil || alt == string(r) || enc == "" && !unicode.IsSpace(r) {
			enc = Substitute
		}
		b.WriteString(enc)
	}
	return b.String(), replaced
}

// decode converts Windows-1252 bytes to UTF-8.
func decode(b []byte) string {
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
	sb.Grow(len(b) + len(b)/4)
	for _, c := range b {
		sb.WriteRune(wire.DecodeByte(c))
	}
	return sb.String()
}

// Encode converts UTF-8 text to Windows-1252 bytes exactly, or reports the
// first character that has no byte. Exported for the fake.
func Encode(s string) ([]byte, error) {
	enc, err := encodeExact("", s)
	return []byte(enc), err
}

// Decode converts Windows-1252 bytes to UTF-8. Exported for the fake.
func Decode(b []byte) string { return decode(b) }
