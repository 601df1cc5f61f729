package sie

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/knyt/knyt/commerce"
)

// voucherCmp compares vouchers as far as SIE carries them: the ID and the
// sources have no field in the file.
var voucherCmp = cmp.Options{cmpopts.IgnoreFields(commerce.Voucher{}, "ID", "Sources"), cmpopts.EquateEmpty()}

func TestRoundTrip(t *testing.T) {
	vs := workedVouchers(t)
	vs = append(vs,
		commerce.Voucher{
			ID: "numbered", Series: "B", Number: 12, Date: commerce.NewDate(2026, 12, 31),
			Text: `Med "citat", \snedstreck\ och {klamrar} #TRANS`,
			Postings: []commerce.Posting{
				{Account: "3001", Amount: sek(t, "-100.00"), Dimensions: []commerce.Dimension{dim(1, "WEB 1"), dim(6, "0042")},
					Text: `slut\`, Quantity: "-3.25"},
				{Account: "1930", Amount: sek(t, "100.00"), Quantity: "0"},
				{Account: "1510", Amount: sek(t, "0.00")},
			},
		},
	)
	for _, le := range []LineEnding{CRLF, LF} {
		var buf bytes.Buffer
		h := testHeader()
		h.FiscalYear = &FiscalYear{Start: commerce.NewDate(2026, 1, 1), End: commerce.NewDate(2026, 12, 31)}
		h.Signature = "Åsa"
		w := NewWriter(BAS2026(), WithLineEnding(le), WithDefaultSeries("K"),
			WithObjects(Object{Dim: 1, ID: "WEB 1", Name: "Webbshop 1"}))
		if _, err := w.Write(&buf, h, vs); err != nil {
			t.Fatal(err)
		}
		f, err := Read(&buf)
		if err != nil {
			t.Fatal(err)
		}
		want := append([]commerce.Voucher(nil), vs...)
		for i := range want[:4] {
			want[i].Series = "K" // the default series is what the file says
		}
		if diff := cmp.Diff(want, f.Vouchers, voucherCmp); diff != "" {
			t.Errorf("%q: vouchers (-want +got):\n%s", le, diff)
		}
		if diff := cmp.Diff(h, f.Header); diff != "" {
			t.Errorf("%q: header (-want +got):\n%s", le, diff)
		}
		if f.Flag != 0 || f.Format != "PC8" || f.Type != "4" || f.Currency != commerce.SEK || len(f.Notices) != 0 {
			t.Errorf("%q: flag %d, format %q, type %q, currency %v, notices %v", le, f.Flag, f.Format, f.Type, f.Currency, f.Notices)
		}
		bas := BAS2026()
		for no, a := range f.Accounts {
			if bas[no] != a {
				t.Errorf("%q: account %s read as %+v, written as %+v", le, no, a, bas[no])
			}
		}
		wantDims := []Dimension{{Number: 1, Name: "Resultatenhet"}, {Number: 6, Name: "Projekt"}}
		wantObjs := []Object{{Dim: 1, ID: "WEB 1", Name: "Webbshop 1"}, {Dim: 6, ID: "0042", Name: "0042"}}
		if diff := cmp.Diff(wantDims, f.Dimensions); diff != "" {
			t.Errorf("%q: dimensions (-want +got):\n%s", le, diff)
		}
		if diff := cmp.Diff(wantObjs, f.Objects); diff != "" {
			t.Errorf("%q: objects (-want +got):\n%s", le, diff)
		}
		if f.Vouchers[0].ID != "#1" || f.Vouchers[4].ID != "B/12" {
			t.Errorf("%q: IDs %q, %q; want #1, B/12", le, f.Vouchers[0].ID, f.Vouchers[4].ID)
		}
	}
}

func TestReadGoldenFiles(t *testing.T) {
	// What the writer produced must read back to what it was given.
	f, err := os.Open("testdata/worked.si")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := Read(f)
	if err != nil {
		t.Fatal(err)
	}
	want := workedVouchers(t)
	for i := range want {
		want[i].Series = "K"
	}
	if diff := cmp.Diff(want, got.Vouchers, voucherCmp); diff != "" {
		t.Errorf("vouchers (-want +got):\n%s", diff)
	}
}

func TestReadExport4E(t *testing.T) {
	data, err := os.ReadFile("testdata/export4e.se")
	if err != nil {
		t.Fatal(err)
	}
	f, err := Read(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	fy := FiscalYear{Start: commerce.NewDate(2026, 1, 1), End: commerce.NewDate(2026, 12, 31)}
	wantHeader := Header{Program: "Exempel Ekonomi", Version: "2026.1", Generated: commerce.NewDate(2027, 1, 5),
		Signature: "Anna Bokförare", Company: "Exempel Handel AB", OrgNumber: "556677-8899", FiscalYear: &fy}
	if diff := cmp.Diff(wantHeader, f.Header); diff != "" {
		t.Errorf("header (-want +got):\n%s", diff)
	}
	if f.Flag != 1 || f.Format != "PC8" || f.Type != "4" || f.Currency != commerce.SEK {
		t.Errorf("flag %d, format %q, type %q, currency %v", f.Flag, f.Format, f.Type, f.Currency)
	}
	wantYears := []FiscalYear{fy, {Index: -1, Start: commerce.NewDate(2025, 1, 1), End: commerce.NewDate(2025, 12, 31)}}
	if diff := cmp.Diff(wantYears, f.FiscalYears); diff != "" {
		t.Errorf("fiscal years (-want +got):\n%s", diff)
	}
	wantPlan := AccountPlan{
		"1510": {Name: "Kundfordringar", Type: Asset, SRU: "7251"},
		"1580": {Name: "Fordringar för kontokort och kuponger", Type: Asset, SRU: "7251"},
		"1930": {Name: "Företagskonto / checkkonto", Type: Asset, SRU: "7281"},
		"2440": {Name: "Leverantörsskulder", Type: Liability, SRU: "7365"},
		"2611": {Name: "Utgående moms på försäljning inom Sverige, 25 %", Type: Liability},
		"2641": {Name: "Debiterad ingående moms", Type: Liability},
		"3001": {Name: "Försäljning inom Sverige, 25 % moms", Type: Income, SRU: "7410"},
		"3740": {Name: "Öres- och kronutjämning", Type: Income},
		"6064": {Name: "Factoringavgifter", Type: Cost},
		"6570": {Name: "Bankkostnader", Type: Cost},
	}
	if diff := cmp.Diff(wantPlan, f.Accounts); diff != "" {
		t.Errorf("accounts (-want +got):\n%s", diff)
	}
	wantDims := []Dimension{{Number: 1, Name: "Resultatenhet"}, {Number: 6, Name: "Projekt"}, {Number: 21, Name: "Butik", Parent: 1}}
	if diff := cmp.Diff(wantDims, f.Dimensions); diff != "" {
		t.Errorf("dimensions (-want +got):\n%s", diff)
	}
	wantObjs := []Object{{1, "WEB1", "Webbshop Sverige"}, {1, "WEB2", "Webbshop Norge"}, {6, "0001", "Julkampanj"}, {21, "S01", "Butik Söder"}}
	if diff := cmp.Diff(wantObjs, f.Objects); diff != "" {
		t.Errorf("objects (-want +got):\n%s", diff)
	}
	wantBalances := []Balance{
		{Kind: "IB", Year: 0, Account: "1930", Amount: sek(t, "125000.00")},
		{Kind: "UB", Year: 0, Account: "1930", Amount: sek(t, "126219.15")},
		{Kind: "IB", Year: -1, Account: "1930", Amount: sek(t, "98000.00")},
		{Kind: "UB", Year: -1, Account: "1930", Amount: sek(t, "125000.00")},
		{Kind: "OIB", Account: "1510", Objects: []commerce.Dimension{dim(1, "WEB1")}, Amount: sek(t, "4000.00")},
		{Kind: "OUB", Account: "1510", Objects: []commerce.Dimension{dim(1, "WEB1")}, Amount: sek(t, "4000.00")},
		{Kind: "RES", Account: "3001", Amount: sek(t, "-1000.00")},
		{Kind: "RES", Account: "6064", Amount: sek(t, "525.00"), Quantity: "2"},
		{Kind: "RES", Account: "3740", Amount: sek(t, "-0.40")},
	}
	if diff := cmp.Diff(wantBalances, f.Balances); diff != "" {
		t.Errorf("balances (-want +got):\n%s", diff)
	}
	wantVouchers := []commerce.Voucher{
		{ID: "A/1", Series: "A", Number: 1, Date: commerce.NewDate(2026, 11, 10), Text: "Försäljning order 1001",
			Postings: []commerce.Posting{
				{Account: "1580", Amount: sek(t, "1250.00"), Dimensions: []commerce.Dimension{dim(1, "WEB1")}, Text: "Klarna"},
				{Account: "3001", Amount: sek(t, "-1000.00"), Dimensions: []commerce.Dimension{dim(1, "WEB1"), dim(6, "0001")}, Quantity: "2"},
				{Account: "2611", Amount: sek(t, "-250.00")},
			}},
		{ID: "A/2", Series: "A", Number: 2, Date: commerce.NewDate(2026, 11, 15), Text: "Klarna utbetalning",
			Postings: []commerce.Posting{
				{Account: "1930", Amount: sek(t, "1218.75")}, {Account: "6064", Amount: sek(t, "25.00")},
				{Account: "2641", Amount: sek(t, "6.25")}, {Account: "1580", Amount: sek(t, "-1250.00")},
			}},
		// #BTRANS 6570 removed; #RTRANS 6064 added once, not twice.
		{ID: "B/1", Series: "B", Number: 1, Date: commerce.NewDate(2026, 11, 20), Text: "Rättad leverantörsfaktura",
			Postings: []commerce.Posting{
				{Account: "2440", Amount: sek(t, "-500.00")},
				{Account: "6064", Amount: sek(t, "500.00"), Text: "Rätt konto"},
			}},
		{ID: "B/2", Series: "B", Number: 2, Date: commerce.NewDate(2026, 11, 30), Text: `Öresavrundning "december"`,
			Postings: []commerce.Posting{
				{Account: "1930", Amount: sek(t, "0.40")},
				{Account: "3740", Amount: sek(t, "-0.40"), Dimensions: []commerce.Dimension{dim(21, "S01")}},
			}},
	}
	if diff := cmp.Diff(wantVouchers, f.Vouchers, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("vouchers (-want +got):\n%s", diff)
	}
	for _, v := range f.Vouchers {
		if err := v.Validate(); err != nil {
			t.Errorf("voucher %s: %v", v.ID, err)
		}
	}
	wantNotices := []Notice{
		{Kind: NoticeIgnored, Line: 77, Voucher: "B/1", Field: "#BTRANS"},
		{Kind: NoticeIgnored, Line: 78, Voucher: "B/1", Field: "#RTRANS"}, // transaction date 2026-11-21
		{Kind: NoticeIgnored, Line: 83, Voucher: "B/2", Field: "#TRANS"},  // transaction date 2026-12-01
		{Kind: NoticeUnknownLabel, Line: 86, Field: "#XBELOPP"},
	}
	if diff := cmp.Diff(wantNotices, f.Notices, cmpopts.IgnoreFields(Notice{}, "Detail")); diff != "" {
		t.Errorf("notices (-want +got):\n%s", diff)
	}

	// The merchant's plan read from the export names the accounts of a file
	// written back.
	var buf bytes.Buffer
	if _, err := NewWriter(f.Accounts, WithObjects(f.Objects...), WithDimensions(f.Dimensions...)).Write(&buf, f.Header, f.Vouchers); err != nil {
		t.Fatal(err)
	}
	again, err := Read(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(f.Vouchers, again.Vouchers, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("export → 4I → read (-want +got):\n%s", diff)
	}
	used := []Object{f.Objects[0], f.Objects[2], f.Objects[3]} // WEB2 is not used by any voucher
	if diff := cmp.Diff(used, again.Objects); diff != "" {
		t.Errorf("objects written back (-want +got):\n%s", diff)
	}
}

func TestReadTolerance(t *testing.T) {
	base := func(vouchers string) string {
		return "#FLAGGA 0\n#FORMAT PC8\n#SIETYP 4\n#FNAMN Test\n" + vouchers
	}
	ok := "#VER A 1 20260101 Text\n{\n#TRANS 1930 {} 10\n#TRANS 3001 {} -10\n}\n"
	tests := []struct {
		name    string
		in      string
		opts    []ReadOption
		text    string // first voucher's text
		notices []NoticeKind
	}{
		{"LF", base(ok), nil, "Text", nil},
		{"CRLF", strings.ReplaceAll(base(ok), "\n", "\r\n"), nil, "Text", nil},
		{"lone CR", strings.ReplaceAll(base(ok), "\n", "\r"), nil, "Text", nil},
		{"tabs and indentation", base("#VER\tA\t1\t20260101\t\"Text\"\n  {\n\t#TRANS\t1930\t{}\t10\n\t#TRANS 3001 {} -10.00\n  }\n"), nil, "Text", nil},
		{"block on the #VER line", base("#VER A 1 20260101 Text {\n#TRANS 1930 {} 10\n#TRANS 3001 {} -10\n}\n"), nil, "Text", nil},
		{"lower-case labels", base("#ver A 1 20260101 Text\n{\n#trans 1930 {} 10\n#Trans 3001 {} -10\n}\n"), nil, "Text", nil},
		{"DOS end-of-file byte", base(ok) + "\x1a", nil, "Text", nil},
		{"blank lines", base("\n\n" + ok + "\n  \n"), nil, "Text", nil},
		{"code page 437", base("#VER A 1 20260101 \"R\x84ksm\x94rg\x86s\"\n{\n#TRANS 1930 {} 10\n#TRANS 3001 {} -10\n}\n"), nil, "Räksmörgås", nil},
		{"UTF-8 byte order mark", "\xef\xbb\xbf" + base("#VER A 1 20260101 \"Räksmörgås\"\n{\n#TRANS 1930 {} 10\n#TRANS 3001 {} -10\n}\n"), nil, "Räksmörgås", nil},
		{"#FORMAT UTF8", strings.Replace(base("#VER A 1 20260101 \"Räksmörgås\"\n{\n#TRANS 1930 {} 10\n#TRANS 3001 {} -10\n}\n"), "PC8", "UTF8", 1), nil, "Räksmörgås", nil},
		{"Windows-1252 override", base("#VER A 1 20260101 \"R\xe4ksm\xf6rg\xe5s\"\n{\n#TRANS 1930 {} 10\n#TRANS 3001 {} -10\n}\n"), []ReadOption{WithCharset(CharsetWindows1252)}, "Räksmörgås", nil},
		{"unknown label", base("#NYTT 1 2 3\n" + ok), nil, "Text", []NoticeKind{NoticeUnknownLabel}},
		{"unknown label with a block", base("#NYTT 1\n{\n#X\n{\n}\n}\n" + ok), nil, "Text", []NoticeKind{NoticeUnknownLabel}},
		{"unknown label in a voucher", base("#VER A 1 20260101 Text\n{\n#TRANS 1930 {} 10\n#NYTT x\n#TRANS 3001 {} -10\n}\n"), nil, "Text", []NoticeKind{NoticeUnknownLabel}},
		{"missing object list", base("#VER A 1 20260101 Text\n{\n#TRANS 1930 10\n#TRANS 3001 {} -10\n}\n"), nil, "Text", []NoticeKind{NoticeIgnored}},
		{"voucher without rows", base("#VER A 1 20260101 Tom\n{\n#BTRANS 1930 {} 10\n}\n" + ok), nil, "Text", []NoticeKind{NoticeIgnored, NoticeIgnored}},
		{"non-numeric voucher number", base("#VER A X1 20260101 Text\n{\n#TRANS 1930 {} 10\n#TRANS 3001 {} -10\n}\n"), nil, "Text", []NoticeKind{NoticeIgnored}},
		{"#RTRANS without its copy", base("#VER A 1 20260101 Text\n{\n#RTRANS 1930 {} 10\n#TRANS 3001 {} -10\n}\n"), nil, "Text", nil},
		{"unquoted object codes", base("#VER A 1 20260101 Text\n{\n#TRANS 1930 {1 Nord 6 0001} 10\n#TRANS 3001 {} -10\n}\n"), nil, "Text", nil},
		{"backslash in a bare field", base("#FNR C:\\dir\\x\n" + ok), nil, "Text", nil},
		{"unknown account type", base("#KTYP 1930 X\n" + ok), nil, "Text", []NoticeKind{NoticeIgnored}},
		{"account named twice", base("#KONTO 1930 A\n#KONTO 1930 B\n" + ok), nil, "Text", []NoticeKind{NoticeIgnored}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Read(strings.NewReader(tt.in), tt.opts...)
			if err != nil {
				t.Fatal(err)
			}
			if len(f.Vouchers) != 1 {
				t.Fatalf("read %d vouchers, want 1", len(f.Vouchers))
			}
			if f.Vouchers[0].Text != tt.text {
				t.Errorf("text = %q, want %q", f.Vouchers[0].Text, tt.text)
			}
			if err := f.Vouchers[0].Validate(); err != nil {
				t.Error(err)
			}
			var kinds []NoticeKind
			for _, n := range f.Notices {
				kinds = append(kinds, n.Kind)
			}
			if diff := cmp.Diff(tt.notices, kinds, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("notices (-want +got):\n%s\n%+v", diff, f.Notices)
			}
		})
	}
}

func TestReadErrors(t *testing.T) {
	head := "#FLAGGA 0\n#SIETYP 4\n"                                                            // lines 1-2
	ver := func(rows string) string { return head + "#VER A 1 20260101 T\n{\n" + rows + "}\n" } // #VER on line 3, rows from 5
	tests := []struct {
		name  string
		in    string
		line  int
		want  string
		cause error // matched with errors.Is when set
	}{
		{"unbalanced voucher", ver("#TRANS 1930 {} 10.00\n#TRANS 3001 {} -9.99\n"), 3, "does not balance", commerce.ErrInvalid},
		{"unterminated quote", head + "#FNAMN \"Exempel AB\n", 3, "unterminated quoted field", nil},
		{"unterminated object list", ver("#TRANS 1930 {1 \"a\" 10.00\n"), 5, "object list not closed", nil},
		{"nested object list", ver("#TRANS 1930 {1 {2}} 10.00\n"), 5, "nested {", nil},
		{"odd object list", ver("#TRANS 1930 {1} 10.00\n#TRANS 3001 {} -10.00\n"), 5, "dimension without an object", nil},
		{"bad dimension", ver("#TRANS 1930 {x \"a\"} 10.00\n"), 5, "not a positive number", nil},
		{"dimension twice", ver("#TRANS 1930 {1 a 1 b} 10.00\n"), 5, "dimension 1 twice", nil},
		{"empty object", ver("#TRANS 1930 {1 \"\"} 10.00\n"), 5, "empty object code", nil},
		{"block never closed", head + "#VER A 1 20260101 T\n{\n#TRANS 1930 {} 10.00\n", 3, "not closed", nil},
		{"no block", head + "#VER A 1 20260101 T\n#KONTO 1930 Bank\n", 3, "no { block", nil},
		{"block at end of file missing", head + "#VER A 1 20260101 T\n", 3, "no { block", nil},
		{"stray }", head + "}\n", 3, "without an open block", nil},
		{"stray {", head + "#FNAMN x\n{\n", 4, "unexpected {", nil},
		{"transaction outside a voucher", head + "#TRANS 1930 {} 10.00\n", 3, "outside a voucher", nil},
		{"voucher in a voucher", ver("#VER A 2 20260101 T\n"), 5, "voucher inside a voucher", nil},
		{"not a label", head + "hello\n", 3, "does not start with a #label", nil},
		{"empty label", head + "# VER\n", 3, "empty label", nil},
		{"bad voucher date", head + "#VER A 1 20261332 T\n{\n}\n", 3, "not YYYYMMDD", nil},
		{"missing voucher date", head + "#VER A 1\n{\n}\n", 3, "missing series, number and date", nil},
		{"decimal comma", ver("#TRANS 1930 {} 10,50\n"), 5, "amount", commerce.ErrInvalid},
		{"three decimals", ver("#TRANS 1930 {} 10.505\n"), 5, "more than two decimals", commerce.ErrInexact},
		{"exponent", ver("#TRANS 1930 {} 1e3\n"), 5, "amount", nil},
		{"missing amount", ver("#TRANS 1930 {}\n"), 5, "missing amount", nil},
		{"non-numeric account", ver("#TRANS 19A0 {} 10.00\n"), 5, "not numeric", nil},
		{"bad transaction date", ver("#TRANS 1930 {} 10.00 2026-01-01\n"), 5, "not YYYYMMDD", nil},
		{"bad quantity", ver("#TRANS 1930 {} 10.00 \"\" \"\" 2st\n"), 5, "quantity", nil},
		{"list where a text belongs", ver("#TRANS 1930 {} 10.00 {} \"x\"\n"), 5, "unexpected object list", nil},
		{"bad #GEN", head + "#GEN 2026\n", 3, "not YYYYMMDD", nil},
		{"bad #FLAGGA", "#FLAGGA x\n", 1, "not a number", nil},
		{"bad #VALUTA", head + "#VALUTA XXX\n", 3, "unknown currency", commerce.ErrUnknownCurrency},
		{"three-decimal #VALUTA", head + "#VALUTA KWD\n", 3, "more than two decimals", nil},
		{"bad #KONTO", head + "#KONTO abc Bank\n", 3, "not numeric", nil},
		{"bad #RAR", head + "#RAR 0 20260101\n", 3, "missing year", nil},
		{"bad #DIM", head + "#DIM -1 x\n", 3, "positive", nil},
		{"bad #UNDERDIM", head + "#UNDERDIM 21 x y\n", 3, "superior dimension", nil},
		{"bad #OBJEKT", head + "#OBJEKT x y z\n", 3, "dimension number", nil},
		{"#OIB without objects", head + "#OIB 0 1510 100.00\n", 3, "missing object list", nil},
		{"#IB without amount", head + "#IB 0 1510\n", 3, "missing amount", nil},
		{"#IB bad amount", head + "#IB 0 1510 1.2.3\n", 3, "amount", nil},
		{"unknown block never closed", head + "#NYTT\n{\n#X\n", 4, "block not closed", nil},
		{"list where the flag belongs", "#FLAGGA {}\n", 1, "unexpected object list", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Read(strings.NewReader(tt.in))
			var se *SyntaxError
			if !errors.As(err, &se) || !errors.Is(err, ErrMalformed) {
				t.Fatalf("err = %v, want a *SyntaxError", err)
			}
			if se.Line != tt.line || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v (line %d), want line %d mentioning %q", err, se.Line, tt.line, tt.want)
			}
			if tt.cause != nil && !errors.Is(err, tt.cause) {
				t.Errorf("err = %v, want it to wrap %v", err, tt.cause)
			}
		})
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("disk gone") }

func TestReadIOError(t *testing.T) {
	_, err := Read(failingReader{})
	if err == nil || !strings.Contains(err.Error(), "disk gone") || errors.Is(err, ErrMalformed) {
		t.Errorf("err = %v, want the reader's error, not ErrMalformed", err)
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteIOError(t *testing.T) {
	_, err := NewWriter(BAS2026()).Write(failingWriter{}, testHeader(), workedVouchers(t))
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("err = %v, want the writer's error", err)
	}
}
