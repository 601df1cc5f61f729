package shopify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/jarcoal/httpmock"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/connector"
)

func TestReadJSONL(t *testing.T) {
	in := "{\"id\":\"gid://shopify/Product/1\"}\n\n{\"id\":\"gid://shopify/ProductVariant/2\",\"__parentId\":\"gid://shopify/Product/1\"}\r\n{\"x\":1}"
	var got []BulkLine
	for l, err := range ReadJSONL(strings.NewReader(in), 100) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, l)
	}
	if len(got) != 3 {
		t.Fatalf("lines = %d", len(got))
	}
	if got[0].Type != "Product" || got[0].Offset != 100 || got[0].End != 133 {
		t.Errorf("line 0 = %+v", got[0])
	}
	if got[1].Type != "ProductVariant" || got[1].ParentID != "gid://shopify/Product/1" || got[1].Offset != 134 || got[1].End != int64(100+len(in)-len("{\"x\":1}")) {
		t.Errorf("line 1 = %+v", got[1])
	}
	if got[2].ID != "" || got[2].End != int64(100+len(in)) {
		t.Errorf("line 2 = %+v", got[2])
	}
	for _, bad := range []string{"not json\n", "[1]\n", "{\"id\": 5}\n", "{\"id\":\"a\"\n", strings.Repeat("x", MaxBulkLine+1)} {
		var err error
		for _, e := range ReadJSONL(strings.NewReader(bad), 0) {
			err = e
		}
		if err == nil {
			t.Errorf("ReadJSONL(%.20q) gave no error", bad)
		}
	}
}

// FuzzReadJSONL checks that the reader never panics, reports offsets that
// tile the input, and returns lines equal to the input's.
func FuzzReadJSONL(f *testing.F) {
	f.Add([]byte("{\"id\":\"gid://shopify/Product/1\"}\n{\"id\":\"gid://shopify/ProductVariant/2\",\"__parentId\":\"gid://shopify/Product/1\"}\n"))
	f.Add([]byte("\n\n\r\n{}"))
	f.Add([]byte("{\"__parentId\":null}\n{"))
	f.Add([]byte{0xff, '\n', '{', '}'})
	f.Fuzz(func(t *testing.T, data []byte) {
		var prevEnd int64
		for l, err := range ReadJSONL(bytes.NewReader(data), 0) {
			if err != nil {
				return
			}
			if l.Offset < prevEnd || l.End <= l.Offset || l.End > int64(len(data)) {
				t.Fatalf("offsets %d..%d after %d in %d bytes", l.Offset, l.End, prevEnd, len(data))
			}
			if !bytes.Contains(data[l.Offset:l.End], l.Raw) {
				t.Fatalf("line %q not at %d..%d", l.Raw, l.Offset, l.End)
			}
			prevEnd = l.End
		}
	})
}

const bulkURL = "https://storage.googleapis.com/shopify-tiers-assets-prod-us-east1/bulk-op.jsonl"

// mockBulk serves a bulk export: the run mutation, polls (running once,
// then completed) and the JSONL with range support.
func mockBulk(t *testing.T, ms *mockShop, mt *httpmock.MockTransport, jsonl []byte) *int {
	polls := 0
	ms.reply("BulkOperationRunQuery", `{"bulkOperationRunQuery":{"bulkOperation":{"id":"gid://shopify/BulkOperation/1","status":"CREATED","createdAt":"2026-10-01T00:00:00Z"},"userErrors":[]}}`)
	ms.handle("BulkOperation", func(call gqlCall) gqlReply {
		polls++
		if polls == 1 {
			return okReply(`{"bulkOperation":{"id":"gid://shopify/BulkOperation/1","status":"RUNNING","errorCode":null,"createdAt":"2026-10-01T00:00:00Z","completedAt":null,"objectCount":"4","rootObjectCount":"2","fileSize":null,"url":null,"partialDataUrl":null}}`)
		}
		return okReply(fmt.Sprintf(`{"bulkOperation":{"id":"gid://shopify/BulkOperation/1","status":"COMPLETED","errorCode":null,"createdAt":"2026-10-01T00:00:00Z","completedAt":"2026-10-01T00:01:00Z","objectCount":"8","rootObjectCount":"3","fileSize":"%d","url":%q,"partialDataUrl":null}}`, len(jsonl), bulkURL))
	})
	mt.RegisterResponder(http.MethodGet, bulkURL, func(r *http.Request) (*http.Response, error) {
		if r.Header.Get(headerAccessToken) != "" {
			t.Error("the download must not carry the access token")
		}
		if rg := r.Header.Get("Range"); rg != "" {
			from, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(rg, "bytes="), "-"))
			if err != nil || from > len(jsonl) {
				t.Errorf("range %q", rg)
			}
			return httpmock.NewBytesResponse(http.StatusPartialContent, jsonl[from:]), nil
		}
		return httpmock.NewBytesResponse(200, jsonl), nil
	})
	return &polls
}

func TestExportProducts(t *testing.T) {
	jsonl := readTestdata(t, "bulk/products.jsonl")
	c, ms, mt := newMockClient(t, WithBulkPollInterval(1))
	polls := mockBulk(t, ms, mt, jsonl)
	var got []commerce.Product
	var progress []ExportProgress
	cp, err := c.ExportProducts(context.Background(), ExportOptions{
		ProgressEvery: 1,
		Progress:      func(p ExportProgress) { progress = append(progress, p) },
	}, func(_ context.Context, p commerce.Product) error {
		p.Raw = nil
		for i := range p.Variants {
			p.Variants[i].Raw = nil
		}
		got = append(got, p)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if *polls != 2 {
		t.Errorf("polls = %d", *polls)
	}
	want := ExportCheckpoint{OperationID: "gid://shopify/BulkOperation/1", Offset: int64(len(jsonl)), Products: 3, Variants: 5}
	if cp != want {
		t.Errorf("checkpoint = %+v, want %+v", cp, want)
	}
	golden(t, "bulk/products.golden.json", got)
	statuses := []string{}
	for _, p := range progress {
		statuses = append(statuses, p.Status)
	}
	if s := strings.Join(statuses, ","); s != "CREATED,RUNNING,COMPLETED,DOWNLOADING,DOWNLOADING,DOWNLOADING,DOWNLOADING,DONE" {
		t.Errorf("progress = %s", s)
	}
	// The run mutation got the bulk document as a string variable.
	run := ms.callsOf("BulkOperationRunQuery")
	if len(run) != 1 || run[0].Variables["query"] != docBulkProducts.Source() || run[0].Variables["groupObjects"] != true {
		t.Errorf("run = %+v", run)
	}
}

func TestExportProductsResumes(t *testing.T) {
	jsonl := readTestdata(t, "bulk/products.jsonl")
	c, ms, mt := newMockClient(t, WithBulkPollInterval(1))
	mockBulk(t, ms, mt, jsonl)
	stop := errors.New("stop")
	var first []string
	var last ExportCheckpoint
	cp, err := c.ExportProducts(context.Background(), ExportOptions{ProgressEvery: 1, Progress: func(p ExportProgress) { last = p.Checkpoint }},
		func(_ context.Context, p commerce.Product) error {
			if len(first) == 2 {
				return stop // the process dies while handling the third product
			}
			first = append(first, p.Handle)
			return nil
		})
	if !errors.Is(err, stop) || cp.Products != 2 || last != cp {
		t.Fatalf("err = %v, checkpoint %+v, last reported %+v", err, cp, last)
	}
	// A new process resumes from the stored checkpoint: no new bulk
	// operation, the download starts at the offset, the rest follows.
	var rest []string
	cp2, err := c.ExportProducts(context.Background(), ExportOptions{Resume: &cp}, func(_ context.Context, p commerce.Product) error {
		rest = append(rest, p.Handle)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(first, rest) != "[product-1 product-2] [product-3]" {
		t.Errorf("delivered %v then %v", first, rest)
	}
	if len(ms.callsOf("BulkOperationRunQuery")) != 1 || cp2.Products != 3 || cp2.Offset != int64(len(jsonl)) {
		t.Errorf("runs = %d, checkpoint %+v", len(ms.callsOf("BulkOperationRunQuery")), cp2)
	}
}

func TestExportProductsFailures(t *testing.T) {
	tests := []struct {
		name   string
		status string
		code   string
		kind   connector.Kind
	}{
		{"timeout", "FAILED", "TIMEOUT", connector.KindTemporary},
		{"access denied", "FAILED", "ACCESS_DENIED", connector.KindAuth},
		{"expired", "EXPIRED", "", connector.KindNotFound},
		{"unknown status", "MELTED", "", connector.KindPermanent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, ms, _ := newMockClient(t)
			ms.reply("BulkOperationRunQuery", `{"bulkOperationRunQuery":{"bulkOperation":{"id":"gid://shopify/BulkOperation/1","status":"CREATED"},"userErrors":[]}}`)
			code := "null"
			if tt.code != "" {
				code = strconv.Quote(tt.code)
			}
			ms.reply("BulkOperation", fmt.Sprintf(`{"bulkOperation":{"id":"gid://shopify/BulkOperation/1","status":%q,"errorCode":%s,"objectCount":"0","rootObjectCount":"0"}}`, tt.status, code))
			_, err := c.ExportProducts(context.Background(), ExportOptions{}, func(context.Context, commerce.Product) error { return nil })
			if connector.KindOf(err) != tt.kind {
				t.Errorf("err = %v, want kind %v", err, tt.kind)
			}
		})
	}
	// A result whose children do not follow their parent is refused, not
	// assembled wrongly.
	c, ms, mt := newMockClient(t, WithBulkPollInterval(1))
	jsonl := []byte(`{"id":"gid://shopify/Product/1","title":"A","status":"ACTIVE"}
{"id":"gid://shopify/ProductVariant/3","sku":"A","price":"1.00","__parentId":"gid://shopify/Product/1"}
{"id":"gid://shopify/Product/2","title":"B","status":"ACTIVE"}
{"id":"gid://shopify/ProductVariant/4","sku":"B","price":"1.00","__parentId":"gid://shopify/Product/1"}
`)
	mockBulk(t, ms, mt, jsonl)
	_, err := c.ExportProducts(context.Background(), ExportOptions{}, func(context.Context, commerce.Product) error { return nil })
	if connector.KindOf(err) != connector.KindPermanent || !strings.Contains(err.Error(), "not grouped") {
		t.Errorf("err = %v", err)
	}
	// A userError starting the operation.
	c2, ms2, _ := newMockClient(t)
	ms2.reply("BulkOperationRunQuery", `{"bulkOperationRunQuery":{"bulkOperation":null,"userErrors":[{"field":["query"],"message":"A bulk query operation for this app and shop is already in progress","code":"OPERATION_IN_PROGRESS"}]}}`)
	_, err = c2.ExportProducts(context.Background(), ExportOptions{}, func(context.Context, commerce.Product) error { return nil })
	var ce *connector.Error
	if !errors.As(err, &ce) || ce.Code != "OPERATION_IN_PROGRESS" || ce.Field != "query" {
		t.Errorf("err = %v", err)
	}
}
