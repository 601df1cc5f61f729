package sie

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/knyt/knyt/commerce"
)

// FuzzRead checks that Read never panics, that whatever it accepts is a
// set of balanced vouchers with numeric accounts, and that those vouchers
// survive being written as 4I and read again.
func FuzzRead(f *testing.F) {
	for _, name := range []string{"export4e.se", "worked.si", "dimensions.si"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		"",
		"#FLAGGA 0\n",
		"#VER A 1 20260101 T\n{\n#TRANS 1930 {} 1\n#TRANS 3001 {} -1\n}\n",
		"#VER \"\" \"\" 20260101 \"a \\\"b\\\" c\\\\\" {\n#RTRANS 1930 {1 \"x\" 2 y} 1 \"\" \"t\" 2\n#TRANS 1930 {1 \"x\" 2 y} 1 \"\" \"t\" 2\n#TRANS 3001 {} -1 20260102\n#BTRANS 1 {} 5\n}\n",
		"#VER A 1 20260101 T\n{\n#TRANS 1930 {} 1.001\n}\n",
		"#VER A 1 20260101 T\n{\n#TRANS 1930 {1 \"a\" 10.00\n}\n",
		"#NYTT\n{\n{\n}\n}\n#VALUTA EUR\n#VER A 1 20260101 T\n{\n#TRANS 1930 {} 1\n#TRANS 3001 {} -1\n}\n",
		"#KONTO 1930 \"Bank\n#DIM 1\n#OBJEKT 1\n#IB 0 1930\n#OIB 0 1930 {1} 1\n",
		"\xef\xbb\xbf#FORMAT UTF8\n#FNAMN \"\xff\xfe\"\n",
		"}\n{\n\r\r\n\x1a",
	} {
		f.Add([]byte(s))
	}
	h := Header{Company: "Fuzz AB", Generated: commerce.NewDate(2026, 1, 1)}
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Read(bytes.NewReader(data))
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) || se.Line < 1 || !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v is not a *SyntaxError with a line", err)
			}
			return
		}
		dims := map[int]bool{}
		for i := range file.Vouchers {
			vo := &file.Vouchers[i]
			if err := vo.Validate(); err != nil {
				t.Fatalf("accepted an invalid voucher %s: %v", vo.ID, err)
			}
			for _, p := range vo.Postings {
				if !isDigits(p.Account) {
					t.Fatalf("accepted account %q", p.Account)
				}
				for _, d := range p.Dimensions {
					dims[d.Dim] = true
				}
			}
			vo.Number = 0 // a hostile file may number out of order; that is the writer's business
		}
		var named []Dimension
		for d := range dims {
			named = append(named, Dimension{Number: d, Name: "d"})
		}
		var buf bytes.Buffer
		w := NewWriter(file.Accounts, AllowMissingAccounts(), WithMaxTextLen(0), WithCurrency(file.Currency), WithDimensions(named...))
		if _, err := w.Write(&buf, h, file.Vouchers); err != nil {
			// Identifiers the file could hold but a 4I file must not
			// (control characters in a series or object code).
			if !errors.Is(err, ErrInvalidVoucher) {
				t.Fatalf("rewrite: %v", err)
			}
			return
		}
		again, err := Read(&buf)
		if err != nil {
			t.Fatalf("reading the rewritten file: %v\n%q", err, buf.Bytes())
		}
		if len(again.Vouchers) != len(file.Vouchers) {
			t.Fatalf("rewritten file has %d vouchers, want %d", len(again.Vouchers), len(file.Vouchers))
		}
		for i, vo := range file.Vouchers {
			got := again.Vouchers[i]
			text, _ := cleanText(vo.Text)
			if got.Series != vo.Series || got.Date != vo.Date || got.Text != text || len(got.Postings) != len(vo.Postings) {
				t.Fatalf("voucher %d: rewritten %+v, want %+v", i, got, vo)
			}
			for j, p := range vo.Postings {
				q := got.Postings[j]
				ptext, _ := cleanText(p.Text)
				if q.Account != p.Account || !q.Amount.Equal(p.Amount) || q.Text != ptext || q.Quantity != p.Quantity || len(q.Dimensions) != len(p.Dimensions) {
					t.Fatalf("voucher %d row %d: rewritten %+v, want %+v", i, j, q, p)
				}
				for k := range p.Dimensions {
					if q.Dimensions[k] != p.Dimensions[k] {
						t.Fatalf("voucher %d row %d: dimensions %v, want %v", i, j, q.Dimensions, p.Dimensions)
					}
				}
			}
		}
	})
}
