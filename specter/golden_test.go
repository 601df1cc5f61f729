package specter_test

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/knyt/knyt/connector/connectortest"
	"github.com/knyt/knyt/specter"
	"github.com/knyt/knyt/specter/spectertest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// recorder keeps every request's method, path, query and body.
type recorder struct {
	mu   sync.Mutex
	log  bytes.Buffer
	next http.RoundTripper
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	r.mu.Lock()
	fmt.Fprintf(&r.log, "%s /%s?%s\n", req.Method, strings.TrimPrefix(req.URL.Path, "/"), req.URL.RawQuery)
	if len(body) > 0 {
		fmt.Fprintf(&r.log, "%s\n", strings.ReplaceAll(string(body), "&", "\n&"))
	}
	r.log.WriteString("\n")
	r.mu.Unlock()
	return r.next.RoundTrip(req)
}

// TestWireGolden pins what goes over the wire for an order: the customer,
// the create-only article call, the order, field by field, with Å, Ä and Ö
// as their Windows-1252 bytes and a deterministic signature.
func TestWireGolden(t *testing.T) {
	srv := spectertest.NewServer()
	t.Cleanup(srv.Close)
	rec := &recorder{next: http.DefaultTransport}
	c, err := specter.New(srv.Default().V2(), append(fast(srv, connectortest.NewLogBuffer()), specter.WithHTTPClient(&http.Client{Transport: rec}))...)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateOrder(t.Context(), sampleOrder("#1001")); err != nil {
		t.Fatal(err)
	}
	got := rec.log.Bytes()
	path := filepath.Join("testdata", "create_order.golden")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("requests differ from %s (-want +got):\n%s", path, diff)
	}
}
