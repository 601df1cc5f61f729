package specter

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
)

// Form is the fields of one request, held as Windows-1252 bytes. Build it
// with Set for identifiers and numbers (a value that cannot be written
// exactly is an error) and Text for free text (names, addresses, comments:
// folded and substituted per the text rule, or refused under
// WithStrictText). Row-indexed fields are named with Row: Row("articleNo", 1)
// is "articleNo_1". Every field that cannot be written is reported by Err.
type Form struct {
	vals     url.Values
	strict   bool
	errs     []error
	replaced []string // fields whose text was changed to fit the charset
}

// NewForm returns an empty form; strict makes Text behave like Set.
func NewForm(strict bool) *Form { return &Form{vals: url.Values{}, strict: strict} }

// Row names a row-indexed field: Row("noOfItems", 2) is "noOfItems_2".
func Row(name string, i int) string { return fmt.Sprintf("%s_%d", name, i) }

// Set sets an identifier, code or number; it must be writable exactly.
func (f *Form) Set(name, value string) {
	enc, err := encodeExact(name, value)
	if err != nil {
		f.errs = append(f.errs, err)
		return
	}
	f.vals.Set(name, enc)
}

// SetNonEmpty sets name only when value is not empty.
func (f *Form) SetNonEmpty(name, value string) {
	if value != "" {
		f.Set(name, value)
	}
}

// Text sets free text, which may be changed to fit the charset.
func (f *Form) Text(name, value string) {
	if f.strict {
		f.Set(name, value)
		return
	}
	enc, replaced := encodeText(value)
	if replaced {
		f.replaced = append(f.replaced, name)
	}
	f.vals.Set(name, enc)
}

// TextNonEmpty sets free text only when value is not empty.
func (f *Form) TextNonEmpty(name, value string) {
	if value != "" {
		f.Text(name, value)
	}
}

// Get returns a field's value decoded to UTF-8.
func (f *Form) Get(name string) string { return decode([]byte(f.vals.Get(name))) }

// raw returns a field's Windows-1252 bytes.
func (f *Form) raw(name string) string { return f.vals.Get(name) }

// Has reports whether a field is set.
func (f *Form) Has(name string) bool { return f.vals.Has(name) }

// Err reports every field that could not be written (joined *TextErrors).
func (f *Form) Err() error { return errors.Join(f.errs...) }

// Replaced lists the text fields that were changed to fit the charset.
func (f *Form) Replaced() []string { return slices.Clone(f.replaced) }

// Names returns the field names, sorted.
func (f *Form) Names() []string {
	names := make([]string, 0, len(f.vals))
	for k := range f.vals {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

// Encode returns the form as application/x-www-form-urlencoded with each
// byte of the Windows-1252 values percent-encoded as itself, which is how
// Specter expects "Å" (%C5), not as its UTF-8 bytes (%C3%85).
func (f *Form) Encode() string { return f.vals.Encode() }

// values returns the form's values (Windows-1252 byte strings).
func (f *Form) values() url.Values { return f.vals }

// firstTextError returns the first *TextError in err, for the error's field.
func firstTextError(err error) *TextError {
	var te *TextError
	if errors.As(err, &te) {
		return te
	}
	return nil
}
