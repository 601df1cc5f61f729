package sie

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/shopspring/decimal"

	"github.com/knyt/knyt/commerce"
)

func TestWriteGolden(t *testing.T) {
	fy := FiscalYear{Start: commerce.NewDate(2026, 1, 1), End: commerce.NewDate(2026, 12, 31)}
	tests := []struct {
		name     string
		header   func() Header
		vouchers func(t testing.TB) []commerce.Voucher
		plan     AccountPlan
		opts     []Option
		notices  []Notice
	}{
		{
			name: "worked.si",
			header: func() Header {
				h := testHeader()
				h.FiscalYear = &fy
				return h
			},
			vouchers: workedVouchers,
			plan:     BAS2026(),
			opts:     []Option{WithDefaultSeries("K")},
		},
		{
			// Multishop result units, an underdimension, numbered vouchers,
			// quantities, texts that need escaping, replacing and cutting.
			name:   "dimensions.si",
			header: func() Header { h := testHeader(); h.Signature = "Ägare Öberg"; h.OrgNumber = ""; return h },
			vouchers: func(t testing.TB) []commerce.Voucher {
				return []commerce.Voucher{
					{
						ID: "v1", Series: "W", Number: 7, Date: commerce.NewDate(2026, 12, 1),
						Text: `Order "1003" från webbshop 2 – Smørrebrød 🍞`,
						Postings: []commerce.Posting{
							row(t, "1686", "625.00", dim(1, "WEB2")),
							{Account: "3001", Amount: sek(t, "-500.00"), Dimensions: []commerce.Dimension{dim(1, "WEB2"), dim(20, "S 01")},
								Text: `C:\shop\`, Quantity: "2"},
							{Account: "2611", Amount: sek(t, "-125.00"), Quantity: "-1.5"},
						},
					},
					{
						ID: "v2", Series: "W", Number: 8, Date: commerce.NewDate(2026, 12, 2),
						Text: "En mycket lång text om en utbetalning som inte får plats i femtio tecken",
						Postings: []commerce.Posting{
							row(t, "1930", "0.01", dim(1, "WEB1")),
							row(t, "3740", "-0.01", dim(1, "WEB1")),
						},
					},
				}
			},
			plan: BAS2026(),
			opts: []Option{
				WithDimensions(Dimension{Number: 20, Name: "Säljkanal", Parent: 1}),
				WithObjects(Object{Dim: 1, ID: "WEB1", Name: "Webbshop Sverige"}, Object{Dim: 1, ID: "WEB2", Name: "Webbshop Norge"}),
			},
			notices: []Notice{
				{Kind: NoticeReplaced, Voucher: "v1", Field: "text",
					Original: `Order "1003" från webbshop 2 – Smørrebrød 🍞`, Written: `Order "1003" från webbshop 2 - Smörrebröd ?`},
				{Kind: NoticeTruncated, Voucher: "v2", Field: "text",
					Original: "En mycket lång text om en utbetalning som inte får plats i femtio tecken",
					Written:  "En mycket lång text om en utbetalning som inte får"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			rep, err := NewWriter(tt.plan, tt.opts...).Write(&buf, tt.header(), tt.vouchers(t))
			if err != nil {
				t.Fatal(err)
			}
			golden(t, tt.name, buf.Bytes())
			vs := tt.vouchers(t)
			rows := 0
			for _, v := range vs {
				rows += len(v.Postings)
			}
			if rep.Vouchers != len(vs) || rep.Rows != rows {
				t.Errorf("Report counts %d vouchers, %d rows; want %d, %d", rep.Vouchers, rep.Rows, len(vs), rows)
			}
			if diff := cmp.Diff(tt.notices, rep.Notices, cmpopts.IgnoreFields(Notice{}, "Detail"), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("notices (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWriteRefusesUnbalanced(t *testing.T) {
	vs := workedVouchers(t)
	vs[1].Postings[0] = row(t, "1930", "1218.74") // one öre short
	var buf bytes.Buffer
	_, err := NewWriter(BAS2026()).Write(&buf, testHeader(), vs)
	if !errors.Is(err, ErrInvalidVoucher) {
		t.Fatalf("err = %v, want ErrInvalidVoucher", err)
	}
	var ve *VoucherError
	if !errors.As(err, &ve) || ve.ID != "klarna-payout-2026-11-15" || ve.Index != 1 {
		t.Errorf("err = %#v, want a *VoucherError for index 1", ve)
	}
	var ue *commerce.UnbalancedError
	if !errors.As(err, &ue) || !ue.Sum.Equal(sek(t, "-0.01")) {
		t.Errorf("err = %v, want a *commerce.UnbalancedError of -0.01", err)
	}
	if buf.Len() != 0 {
		t.Errorf("wrote %d bytes for a refused file", buf.Len())
	}
}

func TestWriteMissingAccount(t *testing.T) {
	plan := BAS2026()
	delete(plan, "2670")
	delete(plan, "3106")
	vs := workedVouchers(t)

	var buf bytes.Buffer
	_, err := NewWriter(plan).Write(&buf, testHeader(), vs)
	if !errors.Is(err, ErrMissingAccount) {
		t.Fatalf("err = %v, want ErrMissingAccount", err)
	}
	for _, no := range []string{"2670", "3106"} {
		if !strings.Contains(err.Error(), "account "+no) || !strings.Contains(err.Error(), `"oss-sale-1002"`) {
			t.Errorf("error %q does not name account %s and its voucher", err, no)
		}
	}
	var ae *AccountError
	if !errors.As(err, &ae) || ae.Account != "2670" {
		t.Errorf("first *AccountError = %#v, want account 2670 (numeric order)", ae)
	}
	if buf.Len() != 0 {
		t.Errorf("wrote %d bytes for a refused file", buf.Len())
	}

	rep, err := NewWriter(plan, AllowMissingAccounts()).Write(&buf, testHeader(), vs)
	if err != nil {
		t.Fatal(err)
	}
	want := []Notice{{Kind: NoticeMissingAccount, Field: "account 2670"}, {Kind: NoticeMissingAccount, Field: "account 3106"}}
	if diff := cmp.Diff(want, rep.Notices, cmpopts.IgnoreFields(Notice{}, "Detail")); diff != "" {
		t.Errorf("notices (-want +got):\n%s", diff)
	}
	out := buf.String()
	if strings.Contains(out, "#KONTO 2670") || !strings.Contains(out, "#TRANS 2670 {} -190.00") {
		t.Errorf("missing account should be used in #TRANS but not declared:\n%s", out)
	}
}

func TestWriteRefusals(t *testing.T) {
	base := func(t testing.TB) commerce.Voucher {
		return commerce.Voucher{ID: "v", Date: commerce.NewDate(2026, 11, 1), Text: "t",
			Postings: []commerce.Posting{row(t, "1930", "10.00"), row(t, "3001", "-10.00")}}
	}
	eur := func(s string) commerce.Money { m, _ := commerce.ParseMoney(s, "EUR"); return m }
	tests := []struct {
		name   string
		mutate func(vs []commerce.Voucher)
		opts   []Option
		want   string // in the error message
	}{
		{"other currency", func(vs []commerce.Voucher) {
			vs[0].Postings[0].Amount, vs[0].Postings[1].Amount = eur("10.00"), eur("-10.00")
		}, nil, "the file's currency is SEK"},
		{"three decimals", func(vs []commerce.Voucher) {
			half := decimal.RequireFromString("0.005")
			vs[0].Postings[0].Amount.Amount = vs[0].Postings[0].Amount.Amount.Add(half)
			vs[0].Postings[1].Amount.Amount = vs[0].Postings[1].Amount.Amount.Sub(half)
		}, nil, "more than two decimals"},
		{"non-numeric account", func(vs []commerce.Voucher) { vs[0].Postings[0].Account = "19x0" }, nil, "account numbers are numeric"},
		{"series outside code page 437", func(vs []commerce.Voucher) { vs[0].Series = "€" }, nil, "series"},
		{"object outside code page 437", func(vs []commerce.Voucher) {
			vs[0].Postings[0].Dimensions = []commerce.Dimension{dim(1, "😀")}
		}, nil, "object"},
		{"object with a control character", func(vs []commerce.Voucher) {
			vs[0].Postings[0].Dimensions = []commerce.Dimension{dim(1, "a\tb")}
		}, nil, "object"},
		{"unnamed dimension", func(vs []commerce.Voucher) {
			vs[0].Postings[0].Dimensions = []commerce.Dimension{dim(25, "x")}
		}, nil, "dimension 25 has no name"},
		{"dimension twice", func(vs []commerce.Voucher) {
			vs[0].Postings[0].Dimensions = []commerce.Dimension{dim(1, "a"), dim(1, "b")}
		}, nil, "dimension 1 given twice"},
		{"bad quantity", func(vs []commerce.Voucher) { vs[0].Postings[0].Quantity = "2 st" }, nil, "quantity"},
		{"negative number", func(vs []commerce.Voucher) { vs[0].Number = -1 }, nil, "negative"},
		{"numbers not ascending", func(vs []commerce.Voucher) { vs[0].Number, vs[1].Number = 5, 5 }, nil, "numbers must ascend"},
		{"no date", func(vs []commerce.Voucher) { vs[1].Date = commerce.Date{} }, nil, "date"},
		{"five-digit year", func(vs []commerce.Voucher) { vs[1].Date = commerce.NewDate(10000, 1, 1) }, nil, "not a calendar date"},
		{"no postings", func(vs []commerce.Voucher) { vs[1].Postings = nil }, nil, "postings"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vs := []commerce.Voucher{base(t), base(t)}
			vs[1].ID = "w"
			tt.mutate(vs)
			var buf bytes.Buffer
			_, err := NewWriter(BAS2026(), tt.opts...).Write(&buf, testHeader(), vs)
			if !errors.Is(err, ErrInvalidVoucher) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want ErrInvalidVoucher mentioning %q", err, tt.want)
			}
			if buf.Len() != 0 {
				t.Errorf("wrote %d bytes for a refused file", buf.Len())
			}
		})
	}
}

func TestWriteHeaderErrors(t *testing.T) {
	bad := FiscalYear{Start: commerce.NewDate(2026, 12, 31), End: commerce.NewDate(2026, 1, 1)}
	tests := []struct {
		name   string
		mutate func(h *Header)
		opts   []Option
		want   string
	}{
		{"no company", func(h *Header) { h.Company = "" }, nil, "company name"},
		{"no date", func(h *Header) { h.Generated = commerce.Date{} }, nil, "generation date"},
		{"org number with a space", func(h *Header) { h.OrgNumber = "556677 8899" }, nil, "org number"},
		{"fiscal year backwards", func(h *Header) { h.FiscalYear = &bad }, nil, "fiscal year"},
		{"three-decimal currency", func(h *Header) {}, []Option{WithCurrency(commerce.MustCurrency("KWD"))}, "two decimals"},
		{"bad default series", func(h *Header) {}, []Option{WithDefaultSeries("\x01")}, "default series"},
		{"bad dimension", func(h *Header) {}, []Option{WithDimensions(Dimension{Number: 0, Name: "x"})}, "dimension 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := testHeader()
			tt.mutate(&h)
			var buf bytes.Buffer
			_, err := NewWriter(BAS2026(), tt.opts...).Write(&buf, h, workedVouchers(t))
			if !errors.Is(err, ErrInvalidHeader) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want ErrInvalidHeader mentioning %q", err, tt.want)
			}
			if buf.Len() != 0 {
				t.Errorf("wrote %d bytes for a refused file", buf.Len())
			}
		})
	}
}

func TestWriteCP437(t *testing.T) {
	vs := []commerce.Voucher{{ID: "v", Date: commerce.NewDate(2026, 11, 1), Text: "åäö ÅÄÖ ø € 😀",
		Postings: []commerce.Posting{row(t, "1930", "1.00"), row(t, "3001", "-1.00")}}}
	var buf bytes.Buffer
	rep, err := NewWriter(BAS2026(), WithLineEnding(LF)).Write(&buf, testHeader(), vs)
	if err != nil {
		t.Fatal(err)
	}
	// å ä ö Å Ä Ö are 0x86 0x84 0x94 0x8F 0x8E 0x99 in code page 437; ø is
	// written as ö, € as EUR, the emoji as '?'.
	want := []byte("#VER \"\" \"\" 20261101 \"\x86\x84\x94 \x8f\x8e\x99 \x94 EUR ?\"\n")
	if !bytes.Contains(buf.Bytes(), want) {
		t.Errorf("output lacks %q:\n%q", want, buf.Bytes())
	}
	if !bytes.Contains(buf.Bytes(), []byte("#KONTO 3001 \"F\x94rs\x84ljning inom Sverige, 25 % moms\"\n")) {
		t.Errorf("account name not in code page 437:\n%q", buf.Bytes())
	}
	if bytes.Contains(buf.Bytes(), []byte("\r")) {
		t.Error("WithLineEnding(LF) wrote a CR")
	}
	wantN := []Notice{{Kind: NoticeReplaced, Voucher: "v", Field: "text", Original: "åäö ÅÄÖ ø € 😀", Written: "åäö ÅÄÖ ö EUR ?"}}
	if diff := cmp.Diff(wantN, rep.Notices, cmpopts.IgnoreFields(Notice{}, "Detail")); diff != "" {
		t.Errorf("notices (-want +got):\n%s", diff)
	}
}

func TestWriteDeterministic(t *testing.T) {
	// Same vouchers, plan built in another order, objects given in another
	// order: the bytes must not change (no map order leaks into the file).
	objs := []Object{{Dim: 1, ID: "B", Name: "b"}, {Dim: 1, ID: "A", Name: "a"}, {Dim: 6, ID: "10", Name: "p10"}, {Dim: 6, ID: "9", Name: "p9"}}
	vs := []commerce.Voucher{{ID: "v", Date: commerce.NewDate(2026, 11, 1), Text: "t",
		Postings: []commerce.Posting{
			row(t, "3001", "-3.00", dim(6, "10")), row(t, "1930", "1.00", dim(1, "B")),
			row(t, "1930", "1.00", dim(1, "A")), row(t, "2611", "1.00", dim(6, "9")),
		}}}
	var first []byte
	for i := 0; i < 20; i++ {
		plan := AccountPlan{}
		for _, no := range BAS2026().Numbers() {
			plan[no] = BAS2026()[no]
		}
		if i%2 == 1 {
			objs[0], objs[1] = objs[1], objs[0]
		}
		var buf bytes.Buffer
		if _, err := NewWriter(plan, WithObjects(objs...)).Write(&buf, testHeader(), vs); err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = buf.Bytes()
			continue
		}
		if !bytes.Equal(first, buf.Bytes()) {
			t.Fatalf("run %d differs:\n%s\nvs\n%s", i, first, buf.Bytes())
		}
	}
	s := string(first)
	order := []string{"#KONTO 1930", "#KONTO 2611", "#KONTO 3001", "#DIM 1 ", "#DIM 6 ",
		`#OBJEKT 1 "A"`, `#OBJEKT 1 "B"`, `#OBJEKT 6 "9"`, `#OBJEKT 6 "10"`}
	last := -1
	for _, o := range order {
		i := strings.Index(s, o)
		if i <= last {
			t.Fatalf("%q out of order in:\n%s", o, s)
		}
		last = i
	}
}

func TestWriteTextNotices(t *testing.T) {
	long := strings.Repeat("abcde ", 10) // 60 characters
	vs := []commerce.Voucher{{ID: "v", Date: commerce.NewDate(2026, 11, 1), Text: "kort",
		Postings: []commerce.Posting{
			{Account: "1930", Amount: sek(t, "1.00"), Text: long},
			row(t, "3001", "-1.00"),
		}}}
	h := testHeader()
	h.Company = "Øresund Handel ApS"
	tests := []struct {
		name  string
		opts  []Option
		row   string
		notes []Notice
	}{
		{"default limit", nil, strings.TrimSpace(long[:50]), []Notice{
			{Kind: NoticeReplaced, Field: "#FNAMN", Original: "Øresund Handel ApS", Written: "Öresund Handel ApS"},
			{Kind: NoticeTruncated, Voucher: "v", Field: "postings[0].text", Original: long, Written: "abcde abcde abcde abcde abcde abcde abcde abcde ab"},
		}},
		{"limit 10", []Option{WithMaxTextLen(10)}, "abcde abcd", []Notice{
			{Kind: NoticeReplaced, Field: "#FNAMN", Original: "Øresund Handel ApS", Written: "Öresund Handel ApS"},
			{Kind: NoticeTruncated, Voucher: "v", Field: "postings[0].text", Original: long, Written: "abcde abcd"},
		}},
		{"no limit", []Option{WithMaxTextLen(0)}, long, []Notice{
			{Kind: NoticeReplaced, Field: "#FNAMN", Original: "Øresund Handel ApS", Written: "Öresund Handel ApS"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			rep, err := NewWriter(BAS2026(), tt.opts...).Write(&buf, h, vs)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.notes, rep.Notices, cmpopts.IgnoreFields(Notice{}, "Detail")); diff != "" {
				t.Errorf("notices (-want +got):\n%s", diff)
			}
			f, err := Read(&buf)
			if err != nil {
				t.Fatal(err)
			}
			if got := f.Vouchers[0].Postings[0].Text; got != tt.row {
				t.Errorf("row text = %q, want %q", got, tt.row)
			}
			if f.Header.Company != "Öresund Handel ApS" {
				t.Errorf("company = %q", f.Header.Company)
			}
		})
	}
}

func TestWriteEarlyYear(t *testing.T) {
	vs := []commerce.Voucher{{ID: "v", Date: commerce.NewDate(1, 2, 3), Text: "t",
		Postings: []commerce.Posting{row(t, "1930", "1.00"), row(t, "3001", "-1.00")}}}
	var buf bytes.Buffer
	if _, err := NewWriter(BAS2026()).Write(&buf, testHeader(), vs); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `#VER "" "" 00010203 "t"`) {
		t.Errorf("year 1 not written as 0001:\n%s", buf.String())
	}
	f, err := Read(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if f.Vouchers[0].Date != vs[0].Date {
		t.Errorf("read date %v, want %v", f.Vouchers[0].Date, vs[0].Date)
	}
}
