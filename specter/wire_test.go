package specter

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestKey(t *testing.T) {
	// Vectors computed independently (Python hashlib) from the formula
	// md5hex(outer + md5hex(inner + sbmId + X)) over Windows-1252 bytes.
	name, err := Encode("Åsa Öberg")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		creds Credentials
		x     []byte
		want  string
	}{
		{"v2 over Latin-1 bytes", V2("4711", "userkey", "integrationkey", "1"), name, "c9d1cc7b8e55305c47b43b80a830a161"},
		{"v1 getPDFLink", V1("4711", "k1", "k2"), []byte("getPDFLink70001"), "e8aa4a52699b4ddb491abc9c07d47b77"},
	}
	for _, c := range cases {
		if got := c.creds.Key(c.x); got != c.want {
			t.Errorf("%s: key %s, want %s", c.name, got, c.want)
		}
	}
}

func TestCredentialsValidate(t *testing.T) {
	cases := []struct {
		name  string
		creds Credentials
		ok    bool
	}{
		{"v2", V2("1", "uk", "ik", "u"), true},
		{"v2 without user id", V2("1", "uk", "ik", ""), true},
		{"v1", V1("1", "a", "b"), true},
		{"no sbm", V2("", "uk", "ik", ""), false},
		{"v2 without integration key", V2("1", "uk", "", ""), false},
		{"v1 half", V1("1", "a", ""), false},
		{"mixed", Credentials{SBMID: "1", APIUserKey: "uk", IntegrationKey: "ik", MD5Key1: "a"}, false},
		{"empty", Credentials{}, false},
	}
	for _, c := range cases {
		err := c.creds.Validate()
		if (err == nil) != c.ok {
			t.Errorf("%s: Validate() = %v, want ok=%v", c.name, err, c.ok)
		}
		if err != nil && (strings.Contains(err.Error(), "uk") && c.creds.APIUserKey == "uk") {
			t.Errorf("%s: error %q shows a key", c.name, err)
		}
	}
}

func TestEncodeText(t *testing.T) {
	cases := []struct {
		in       string
		want     string // decoded back to UTF-8
		replaced bool
	}{
		{"Åsa Öberg, Västerås", "Åsa Öberg, Västerås", false},
		{"A\u030asa", "Åsa", false}, // decomposed Å is composed first
		{"Tröja 🎉", "Tröja ?", true},
		{"ﬁka", "fika", true},
		{"10\u202F000\u2011kr", "10 000-kr", true},
		{"€ 5 – “citat”", "€ 5 – “citat”", false},
		{"日本", "??", true},
		{"bell\x07", "bell?", true},
	}
	for _, c := range cases {
		enc, replaced := encodeText(c.in)
		if got := decode([]byte(enc)); got != c.want || replaced != c.replaced {
			t.Errorf("encodeText(%q) = %q (replaced %v), want %q (%v)", c.in, got, replaced, c.want, c.replaced)
		}
	}
}

func TestEncodeExact(t *testing.T) {
	enc, err := encodeExact("name", "Ärlig Ö")
	if err != nil || enc != "\xc4rlig \xd6" {
		t.Errorf("encodeExact = %q, %v", enc, err)
	}
	_, err = encodeExact("articleNo_2", "ABC😀")
	var te *TextError
	if !errors.As(err, &te) || te.Field != "articleNo_2" || te.Rune != '😀' {
		t.Errorf("encodeExact with an emoji: %v, want a *TextError for articleNo_2", err)
	}
}

func TestFormEncodesLatin1(t *testing.T) {
	f := NewForm(false)
	f.Text("name", "Ö")
	f.Set("city", "Å")
	if got, want := f.Encode(), "city=%C5&name=%D6"; got != want {
		t.Errorf("Encode() = %s, want %s (Windows-1252 bytes, not UTF-8)", got, want)
	}
	strict := NewForm(true)
	strict.Text("name", "x🎉")
	if firstTextError(strict.Err()) == nil {
		t.Error("a strict form took an emoji in free text")
	}
}

func TestValidateArticleNumber(t *testing.T) {
	cases := map[string]bool{
		"TROJA-S": true, "abc_123.4/5": true, "Ä1": false, "å": false, "a b": false, "a,b": false,
		"a&b": false, "50%": false, "#1": false, "€1": false, "x¤": false, "a;b": false, "": false,
		"é-1": true, "tab\t": false, "😀": false, "nbsp\u00a0": false,
	}
	for sku, ok := range cases {
		if reason := ValidateArticleNumber(sku); (reason == "") != ok {
			t.Errorf("ValidateArticleNumber(%q) = %q, want ok=%v", sku, reason, ok)
		}
	}
	err := validateArticleNumbers([]string{"OK-1", "BAD 1", "OK-1", "Ö"})
	var ae *ArticleNumberError
	if !errors.As(err, &ae) {
		t.Fatalf("got %v", err)
	}
	if diff := cmp.Diff([]string{"BAD 1", "OK-1", "Ö"}, ae.SKUs()); diff != "" {
		t.Errorf("refused SKUs (-want +got):\n%s", diff)
	}
}

func TestParseReply(t *testing.T) {
	cases := []struct {
		name string
		body string
		ct   string
		want *Reply
		bad  bool
	}{
		{name: "text ok", body: "1;1001;OK", want: &Reply{Form: ReplyText, Result: "1", ID: "1001", Message: "OK"}},
		{name: "text ok no message", body: "1;5001\r\n", want: &Reply{Form: ReplyText, Result: "1", ID: "5001"}},
		{name: "text error", body: "0;99;Batch 'abc' is open; close it", want: &Reply{Form: ReplyText, Result: "0", Code: "99", Message: "Batch 'abc' is open; close it"}},
		{name: "text latin-1", body: "1;7;Kund \xc5sa sparad", want: &Reply{Form: ReplyText, Result: "1", ID: "7", Message: "Kund Åsa sparad"}},
		{name: "text declared utf-8", body: "1;7;\xc3\x85sa", ct: "text/plain; charset=utf-8", want: &Reply{Form: ReplyText, Result: "1", ID: "7", Message: "Åsa"}},
		{name: "xml ok", body: `<?xml version="1.0" encoding="ISO-8859-1"?><r><APIresponse><result>1</result><id>5001</id></APIresponse></r>`,
			want: &Reply{Form: ReplyXML, Result: "1", ID: "5001"}},
		{name: "xml error", body: `<r><APIresponse><result>0</result><code>40</code><message>dup '1'</message><id>5001</id></APIresponse></r>`,
			want: &Reply{Form: ReplyXML, Result: "0", ID: "5001", Code: "40", Message: "dup '1'"}},
		{name: "xml code without result", body: `<r><APIresponse><code>99</code><message>x</message></APIresponse></r>`,
			want: &Reply{Form: ReplyXML, Result: "0", Code: "99", Message: "x"}},
		{name: "xml payload only", body: `<r><articles></articles></r>`, want: &Reply{Form: ReplyXML, Result: "1"}},
		{name: "xml latin-1 name", body: "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><r><APIresponse><result>1</result><message>\xd6l</message></APIresponse></r>",
			want: &Reply{Form: ReplyXML, Result: "1", Message: "Öl"}},
		{name: "html page", body: "<!DOCTYPE html><html><body>500</body></html>", bad: true},
		{name: "broken xml", body: "<r><APIresponse>", bad: true},
		{name: "two documents", body: "<a/><b/>", bad: true},
		{name: "plain words", body: "Service Unavailable", bad: true},
		{name: "no number", body: "x;y;z", bad: true},
		{name: "empty", body: " \r\n", bad: true},
		{name: "utf-8 lie", body: "1;7;\xff", ct: "text/plain; charset=utf-8", bad: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseReply([]byte(c.body), c.ct)
			if c.bad {
				if !errors.Is(err, ErrMalformedReply) {
					t.Fatalf("ParseReply(%q) = %+v, %v; want ErrMalformedReply", c.body, got, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(c.want, got, cmpopts.IgnoreFields(Reply{}, "XML")); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestStuckBatch(t *testing.T) {
	cases := []struct{ msg, sent, want string }{
		{"Batch 'old1' is not closed", "new", "old1"},
		{"Batch 'new' is not open; batch 'old2' is open", "new", "old2"},
		{"no quotes", "new", ""},
		{"only 'new' quoted", "new", ""},
		{"unterminated 'abc", "x", ""},
	}
	for _, c := range cases {
		if got := stuckBatch(c.msg, c.sent); got != c.want {
			t.Errorf("stuckBatch(%q, %q) = %q, want %q", c.msg, c.sent, got, c.want)
		}
	}
}

func TestParseStockRows(t *testing.T) {
	rows, r, err := ParseStockRows([]byte("1;A-1;5;b1\r2;\xc51;noItemsAvailable;b1\r"), "")
	if err != nil || r != nil {
		t.Fatal(r, err)
	}
	want := []StockRow{{"1", "A-1", "5", "b1"}, {"2", "Å1", NoItemsAvailable, "b1"}}
	if diff := cmp.Diff(want, rows); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if _, r, err := ParseStockRows([]byte("0;99;Batch 'x' open"), ""); err != nil || r == nil || r.Code != "99" {
		t.Errorf("error reply: %+v %v", r, err)
	}
	if _, _, err := ParseStockRows([]byte("1;2;3;4\r1;2"), ""); !errors.Is(err, ErrMalformedReply) {
		t.Errorf("short row: %v", err)
	}
}

func TestParseAvailable(t *testing.T) {
	cases := map[string]int{"5": 5, "noItemsAvailable": 0, "2,5": 2, "-3": -3, "0": 0}
	for in, want := range cases {
		if got, err := parseAvailable(in); err != nil || got != want {
			t.Errorf("parseAvailable(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "x", "1e3", "99999999999999999999"} {
		if _, err := parseAvailable(in); err == nil {
			t.Errorf("parseAvailable(%q) accepted", in)
		}
	}
}

// FuzzParseReply: no input panics, and a reply either parses with a numeric
// result or is ErrMalformedReply.
func FuzzParseReply(f *testing.F) {
	for _, s := range []string{
		"1;1001;OK", "0;99;Batch 'a' is open", "1;5001\r\n", "\xef\xbb\xbf1;2;3",
		`<?xml version="1.0" encoding="ISO-8859-1"?><r><APIresponse><result>1</result></APIresponse><stockChanges><stock stockSiteId="1"><articles><article><articleNo>A</articleNo><noItemsAv>2</noItemsAv></article></articles></stock></stockChanges><responseMaxLimit>100</responseMaxLimit></r>`,
		`<r><orders><order orderNo="5" externalOrderNo="#1"><orderstatus deliveryStatus="D" statusId="1"/><deliveries updated="1"><delivery trackingNo="T" deliveryId="9"><row articleNo="A" noOfItems="1"/></delivery></deliveries></order></orders><moreInfoToFetch>0</moreInfoToFetch></r>`,
		"<html></html>", "<r>", "", "x", "1", ";;;",
	} {
		f.Add([]byte(s), "")
	}
	f.Add([]byte("1;1;\xc3\x85"), "text/plain; charset=utf-8")
	f.Fuzz(func(t *testing.T, body []byte, ct string) {
		r, err := ParseReply(body, ct)
		if err != nil {
			if !errors.Is(err, ErrMalformedReply) {
				t.Fatalf("error %v is not ErrMalformedReply", err)
			}
			return
		}
		if r.Result == "" {
			t.Fatalf("parsed reply without result: %+v", r)
		}
		if r.OK() && r.Code != "" && r.Form == ReplyText {
			t.Fatalf("a text success with a code: %+v", r)
		}
	})
}

// FuzzParseStockRows: no panic; rows always have an article number.
func FuzzParseStockRows(f *testing.F) {
	for _, s := range []string{"1;A;5;b\r2;B;noItemsAvailable;b", "0;99;x 'y'", "", "<x/>", "1;;2;3", "a;b;c;d\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		rows, _, err := ParseStockRows(body, "")
		if err != nil {
			return
		}
		for _, r := range rows {
			if r.ArticleNo == "" {
				t.Fatalf("row without article number: %+v", r)
			}
		}
	})
}
