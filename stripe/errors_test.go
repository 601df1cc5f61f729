package stripe

import (
	"net/http"
	"testing"

	"github.com/knyt/knyt/connector"
)

// FuzzDecodeError checks that no error body makes decoding panic and that
// a decoded error always has a kind.
func FuzzDecodeError(f *testing.F) {
	for _, s := range []string{`{"error":{"type":"card_error","code":"card_declined","param":"x","payment_intent":{"id":"pi"}}}`,
		`{"error":null}`, `{}`, `<html>`, `{"error":{"type":5}}`} {
		f.Add(400, []byte(s))
	}
	red := connector.NewRedactor()
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		if status < 400 || status > 599 {
			return
		}
		e := decodeError(&connector.Response{Status: status, Header: http.Header{}, Body: body}, red)
		if e != nil && e.Kind == connector.KindUnknown {
			t.Fatalf("status %d body %q: no kind", status, body)
		}
	})
}
