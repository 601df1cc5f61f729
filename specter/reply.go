package specter

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"mime"
	"strings"
	"unicode/utf8"
)

// Reply is a parsed answer of either form: the text line
// "result;id;message" (useXML=1) or an XML document with an APIresponse
// element (useXML=2).
type Reply struct {
	Form    int    // ReplyText or ReplyXML
	Result  string // "1" on success
	ID      string // the created id (or, ASSUMED, the existing one on a duplicate)
	Code    string // the error code of a failure
	Message string
	XML     *XMLReply // the whole document of an XML reply
}

// OK reports success.
func (r *Reply) OK() bool { return r.Result == "1" }

// ErrMalformedReply is a reply that is neither a result line nor XML.
var ErrMalformedReply = errors.New("specter: reply is neither a result line nor an XML document")

// ReplyError describes a malformed reply; it matches ErrMalformedReply.
type ReplyError struct {
	Reason  string
	Snippet string // the start of the reply, for diagnosis
}

func (e *ReplyError) Error() string {
	return fmt.Sprintf("%v: %s (reply starts %q)", ErrMalformedReply, e.Reason, e.Snippet)
}

// Is makes errors.Is(err, ErrMalformedReply) true.
func (e *ReplyError) Is(target error) bool { return target == ErrMalformedReply }

func malformed(body []byte, format string, args ...any) *ReplyError {
	s := strings.TrimSpace(string(body))
	if len(s) > 80 {
		s = s[:80]
	}
	return &ReplyError{Reason: fmt.Sprintf(format, args...), Snippet: strings.ToValidUTF8(s, "?")}
}

// charsetOf returns the charset named by a Content-Type, "" if none.
func charsetOf(contentType string) string {
	if contentType == "" {
		return ""
	}
	_, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return ""
	}
	return strings.ToLower(params["charset"])
}

func isUTF8Label(label string) bool {
	l := strings.ToLower(strings.TrimSpace(label))
	return l == "utf-8" || l == "utf8"
}

// xmlDeclEncoding returns the encoding of an XML declaration, "" if none.
func xmlDeclEncoding(b []byte) string {
	if !bytes.HasPrefix(b, []byte("<?xml")) {
		return ""
	}
	end := bytes.Index(b, []byte("?>"))
	if end < 0 {
		return ""
	}
	decl := string(b[:end])
	i := strings.Index(decl, "encoding=")
	if i < 0 {
		return ""
	}
	rest := decl[i+len("encoding="):]
	if rest == "" || (rest[0] != '"' && rest[0] != '\'') {
		return ""
	}
	q := rest[0]
	j := strings.IndexByte(rest[1:], q)
	if j < 0 {
		return ""
	}
	return rest[1 : 1+j]
}

// toUTF8 decodes a body: UTF-8 when the Content-Type or the XML declaration
// says so (and it is valid), otherwise Windows-1252.
func toUTF8(body []byte, contentType string) (string, error) {
	label := charsetOf(contentType)
	if label == "" {
		label = xmlDeclEncoding(body)
	}
	if isUTF8Label(label) {
		if !utf8.Valid(body) {
			return "", malformed(body, "declared UTF-8 but is not")
		}
		return string(body), nil
	}
	return decode(body), nil
}

// ParseReply reads a reply body. contentType is the response's Content-Type
// (for its charset; may be empty). A failed reply is returned as a Reply
// with OK false, not as an error; the error is for replies that cannot be
// read at all.
func ParseReply(body []byte, contentType string) (*Reply, error) {
	trimmed := bytes.TrimLeft(body, " \t\r\n\ufeff")
	trimmed = bytes.TrimPrefix(trimmed, []byte("\xef\xbb\xbf"))
	if len(trimmed) == 0 {
		return nil, malformed(body, "empty")
	}
	if trimmed[0] == '<' {
		return parseXMLReply(trimmed, contentType)
	}
	text, err := toUTF8(trimmed, contentType)
	if err != nil {
		return nil, err
	}
	return parseTextReply(text, body)
}

// parseTextReply reads "result;id;message" from the first line.
func parseTextReply(text string, raw []byte) (*Reply, error) {
	line := text
	if i := strings.IndexAny(line, "\r\n"); i >= 0 {
		line = line[:i]
	}
	parts := strings.SplitN(line, ";", 3)
	if len(parts) < 2 {
		return nil, malformed(raw, "no ';' in the result line")
	}
	result := strings.TrimSpace(parts[0])
	if !isDigits(result) {
		return nil, malformed(raw, "result %q is not a number", result)
	}
	r := &Reply{Form: ReplyText, Result: result}
	second := strings.TrimSpace(parts[1])
	if len(parts) == 3 {
		r.Message = strings.TrimSpace(parts[2])
	}
	if r.OK() {
		r.ID = second
	} else {
		r.Code = second
	}
	return r, nil
}

func isDigits(s string) bool {
	if s == "" || len(s) > 9 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// parseXMLReply reads an XML reply of any document element name.
func parseXMLReply(body []byte, contentType string) (*Reply, error) {
	text, err := toUTF8(body, contentType)
	if err != nil {
		return nil, err
	}
	dec := xml.NewDecoder(strings.NewReader(text))
	// The text is already UTF-8 whatever the declaration says.
	dec.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	var doc XMLReply
	if err := dec.Decode(&doc); err != nil {
		return nil, malformed(body, "bad XML: %v", err)
	}
	// Nothing may follow the document element but white space, comments
	// and processing instructions.
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, malformed(body, "bad XML after the document element: %v", err)
		}
		switch t := tok.(type) {
		case xml.CharData:
			if len(bytes.TrimSpace(t)) > 0 {
				return nil, malformed(body, "text after the document element")
			}
		case xml.StartElement:
			return nil, malformed(body, "a second document element <%s>", t.Name.Local)
		}
	}
	if strings.EqualFold(doc.XMLName.Local, "html") {
		return nil, malformed(body, "an HTML page")
	}
	r := &Reply{Form: ReplyXML, XML: &doc, Result: "1"}
	if a := doc.APIResponse; a != nil {
		r.Result = strings.TrimSpace(a.Result)
		r.ID = strings.TrimSpace(a.ID)
		r.Code = strings.TrimSpace(a.Code)
		r.Message = strings.TrimSpace(a.Message)
		if r.Result == "" && r.Code != "" {
			r.Result = "0"
		}
		if r.Result == "" {
			r.Result = "1"
		}
	}
	return r, nil
}

// quoted returns the single-quoted substrings of s in order.
func quoted(s string) []string {
	var out []string
	for {
		i := strings.IndexByte(s, '\'')
		if i < 0 {
			return out
		}
		j := strings.IndexByte(s[i+1:], '\'')
		if j < 0 {
			return out
		}
		out = append(out, s[i+1:i+1+j])
		s = s[i+1+j+1:]
	}
}

// stuckBatch finds the open batch number in a code-99 message: the last
// single-quoted value that is not the batch number the request sent
// (OBSERVED: a read's message quotes only the open batch; an
// acknowledgement's quotes the sent batch first and the open one second).
func stuckBatch(message, sent string) string {
	qs := quoted(message)
	for i := len(qs) - 1; i >= 0; i-- {
		if q := strings.TrimSpace(qs[i]); q != "" && q != sent {
			return q
		}
	}
	return ""
}

// StockRow is one row of the text-form stock queue,
// "specterId;articleNo;amount;batchId" (OBSERVED).
type StockRow struct {
	SpecterID string
	ArticleNo string
	Amount    string // an integer, or NoItemsAvailable
	BatchID   string
}

// ParseStockRows reads the text-form stock queue: rows separated by CR
// (OBSERVED; LF is accepted too). A failure reply ("0;99;…") is returned as
// a Reply; rows and reply are never both set.
func ParseStockRows(body []byte, contentType string) ([]StockRow, *Reply, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return nil, nil, nil // an empty queue
	}
	if trimmed[0] == '<' {
		return nil, nil, malformed(body, "XML where stock rows were expected")
	}
	text, err := toUTF8(trimmed, contentType)
	if err != nil {
		return nil, nil, err
	}
	lines := strings.FieldsFunc(text, func(r rune) bool { return r == '\r' || r == '\n' })
	if len(lines) > 0 && strings.Count(lines[0], ";") < 3 {
		r, err := parseTextReply(lines[0], body)
		if err != nil {
			return nil, nil, err
		}
		return nil, r, nil
	}
	rows := make([]StockRow, 0, len(lines))
	for i, l := range lines {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		f := strings.Split(l, ";")
		if len(f) != 4 {
			return nil, nil, malformed(body, "stock row %d has %d fields, want 4", i+1, len(f))
		}
		row := StockRow{SpecterID: strings.TrimSpace(f[0]), ArticleNo: strings.TrimSpace(f[1]), Amount: strings.TrimSpace(f[2]), BatchID: strings.TrimSpace(f[3])}
		if row.ArticleNo == "" {
			return nil, nil, malformed(body, "stock row %d has no article number", i+1)
		}
		rows = append(rows, row)
	}
	return rows, nil, nil
}
