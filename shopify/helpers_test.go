package shopify

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jarcoal/httpmock"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

const (
	testShop    = "knyt-test"
	testToken   = "shpat_0123456789abcdef0123456789abcdef"
	testGraphQL = "https://knyt-test.myshopify.com/admin/api/2026-10/graphql.json"
)

// gqlCall is one GraphQL request as the mock saw it.
type gqlCall struct {
	Op        string
	Query     string
	Variables map[string]any
	Header    http.Header
}

// gqlReply is what a mock handler answers.
type gqlReply struct {
	Status int
	Body   string
	Header http.Header
}

// okReply wraps data with a cost extension of a roomy bucket.
func okReply(data string) gqlReply {
	return gqlReply{Status: 200, Body: fmt.Sprintf(`{"data":%s,"extensions":{"cost":{"requestedQueryCost":10,"actualQueryCost":5,"throttleStatus":{"maximumAvailable":2000.0,"currentlyAvailable":1995,"restoreRate":100.0}}}}`, data)}
}

// mockShop serves GraphQL calls through httpmock, dispatching on the
// operation name.
type mockShop struct {
	t        *testing.T
	mu       sync.Mutex
	calls    []gqlCall
	handlers map[string]func(gqlCall) gqlReply
}

func (m *mockShop) handle(op string, fn func(gqlCall) gqlReply) { m.handlers[op] = fn }

func (m *mockShop) reply(op string, data string) {
	m.handle(op, func(gqlCall) gqlReply { return okReply(data) })
}

func (m *mockShop) callsOf(op string) []gqlCall {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []gqlCall
	for _, c := range m.calls {
		if c.Op == op {
			out = append(out, c)
		}
	}
	return out
}

func (m *mockShop) responder(r *http.Request) (*http.Response, error) {
	b, _ := io.ReadAll(r.Body)
	var req struct {
		Query         string         `json:"query"`
		OperationName string         `json:"operationName"`
		Variables     map[string]any `json:"variables"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&req); err != nil {
		m.t.Errorf("request body is not JSON: %v", err)
	}
	call := gqlCall{Op: req.OperationName, Query: req.Query, Variables: req.Variables, Header: r.Header.Clone()}
	m.mu.Lock()
	m.calls = append(m.calls, call)
	h := m.handlers[req.OperationName]
	m.mu.Unlock()
	if h == nil {
		m.t.Errorf("unexpected operation %q", req.OperationName)
		return httpmock.NewStringResponse(500, `{"errors":"no handler"}`), nil
	}
	rep := h(call)
	resp := httpmock.NewStringResponse(rep.Status, rep.Body)
	resp.Header.Set("Content-Type", "application/json")
	for k, vs := range rep.Header {
		resp.Header[k] = vs
	}
	return resp, nil
}

// newMockClient returns a client whose HTTP goes to a mock shop.
func newMockClient(t *testing.T, opts ...Option) (*Client, *mockShop, *httpmock.MockTransport) {
	t.Helper()
	mt := httpmock.NewMockTransport()
	ms := &mockShop{t: t, handlers: map[string]func(gqlCall) gqlReply{}}
	mt.RegisterResponder(http.MethodPost, testGraphQL, ms.responder)
	ms.reply("Shop", `{"shop":{"name":"Knyt Test","myshopifyDomain":"knyt-test.myshopify.com","currencyCode":"SEK","taxesIncluded":true,"ianaTimezone":"Europe/Stockholm"}}`)
	base := []Option{WithHTTPClient(&http.Client{Transport: mt}), WithRetry(3, time.Millisecond, 5*time.Millisecond)}
	c, err := New(testShop, StaticToken(testToken), append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c, ms, mt
}

// logBuffer collects slog output for secret checks.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func (l *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// golden compares got (marshalled as indented JSON) with testdata/name,
// rewriting it with -update.
func golden(t *testing.T, name string, got any) {
	t.Helper()
	b, err := json.MarshalIndent(got, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	b = append(b, '\n')
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(b)); diff != "" {
		t.Errorf("%s differs (-want +got):\n%s", name, diff)
	}
}

// readTestdata reads a file under testdata.
func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustContainNone(t *testing.T, what, s string, secrets ...string) {
	t.Helper()
	for _, sec := range secrets {
		if strings.Contains(s, sec) {
			t.Errorf("%s contains a secret", what)
		}
	}
}

func readFile(name string) ([]byte, error) { return os.ReadFile(filepath.FromSlash(name)) }
