package shopifytest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const runBulk = `mutation($q: String!) { bulkOperationRunQuery(query: $q, groupObjects: false) { bulkOperation { id status } userErrors { field message code } } }`

const pollBulk = `query($id: ID!) { node(id: $id) { ... on BulkOperation { id status errorCode objectCount rootObjectCount fileSize url partialDataUrl completedAt } } }`

func TestBulkExport(t *testing.T) {
	s := NewServer(WithClock(fixedClock()), WithBulkDelay(time.Minute))
	defer s.Close()
	seedShop(t, s)
	rec := &receiver{}
	hook := httptestServer(t, rec)
	s.Subscribe("bulk_operations/finish", hook)

	q := `{ products { edges { node { id title variants { edges { node { id sku price } } } } } } }`
	d := ok(t, s, runBulk, map[string]any{"q": q})
	op := dig(d, "bulkOperationRunQuery", "bulkOperation").(map[string]any)
	if op["status"] != "CREATED" {
		t.Fatalf("created: %v", d)
	}
	// RUNNING until the delay has passed on the fake's clock.
	waitFor(t, func() bool {
		d := ok(t, s, pollBulk, map[string]any{"id": op["id"]})
		return dig(d, "node", "status") == "RUNNING" && dig(d, "node", "objectCount") == "5"
	})
	s.Advance(time.Minute)
	d = ok(t, s, pollBulk, map[string]any{"id": op["id"]})
	n := d["node"].(map[string]any)
	if n["status"] != "COMPLETED" || n["objectCount"] != "5" || n["rootObjectCount"] != "2" || n["url"] == nil || n["partialDataUrl"] != nil {
		t.Fatalf("completed: %v", n)
	}
	// currentBulkOperation and bulkOperations agree.
	d = ok(t, s, `{ currentBulkOperation { id status } bulkOperations(first: 5, query: "status:completed") { nodes { id } } }`, nil)
	if dig(d, "currentBulkOperation", "id") != op["id"] || dig(d, "bulkOperations", "nodes", 0, "id") != op["id"] {
		t.Errorf("polling roots: %v", d)
	}

	resp, err := http.Get(n["url"].(string))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || int64(len(body)) != mustInt(t, n["fileSize"]) {
		t.Fatalf("download %d, %d bytes vs fileSize %v", resp.StatusCode, len(body), n["fileSize"])
	}
	var lines []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		lines = append(lines, m)
	}
	var shape []string
	parents := map[string]bool{}
	for _, l := range lines {
		if p, ok := l["__parentId"].(string); ok {
			if !parents[p] {
				t.Errorf("child %v before its parent", l)
			}
			shape = append(shape, "  "+l["sku"].(string))
		} else {
			parents[l["id"].(string)] = true
			shape = append(shape, l["title"].(string))
			if _, nested := l["variants"]; nested {
				t.Errorf("nested connection left in the parent line: %v", l)
			}
		}
	}
	want := []string{"Ullsocka", "  SOCK-1", "Tröja", "  SHIRT-S", "  SHIRT-M"}
	if diff := cmp.Diff(want, shape); diff != "" {
		t.Errorf("JSONL (-want +got):\n%s", diff)
	}
	// bulk_operations/finish went out once the operation completed.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	waitFor(t, func() bool { return len(rec.all()) == 1 })
	if err := s.FlushWebhooks(ctx); err != nil {
		t.Fatal(err)
	}
	var fin map[string]any
	json.Unmarshal(rec.all()[0].Body, &fin)
	if fin["admin_graphql_api_id"] != op["id"] || fin["status"] != "completed" {
		t.Errorf("finish webhook %v", fin)
	}
}

func mustInt(t testing.TB, v any) int64 {
	t.Helper()
	var n int64
	if err := json.Unmarshal([]byte(v.(string)), &n); err != nil {
		t.Fatal(err)
	}
	return n
}

func waitFor(t testing.TB, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5 s")
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func TestBulkQueryRules(t *testing.T) {
	s := NewServer()
	defer s.Close()
	tests := []struct {
		name, query, message string
	}{
		{"no connection", `{ shop { name } }`, "Bulk queries must contain at least one connection."},
		{"connection in a list", `{ orders { edges { node { id refunds { refundLineItems { edges { node { id } } } } } } } }`, "Queries that contain a connection field within a list field are not currently supported."},
		{"too deep", `{ products { edges { node { id variants { edges { node { id inventoryItem { inventoryLevels { edges { node { id } } } } } } } } } } }`, "Bulk queries cannot contain connections with a nesting depth greater than 2."},
		{"parent without id", `{ products { edges { node { title variants { edges { node { id } } } } } } }`, "The parent 'node' field for a nested connection must select the 'id' field without an alias and must be of 'ID' return type. Connection fields without 'id': products."},
		{"invalid field", `{ products { edges { node { id colour } } } }`, "Invalid bulk query: Field 'colour' doesn't exist on type 'Product'"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := ok(t, s, runBulk, map[string]any{"q": tc.query})
			if dig(d, "bulkOperationRunQuery", "bulkOperation") != nil {
				t.Fatalf("accepted: %v", d)
			}
			ue := dig(d, "bulkOperationRunQuery", "userErrors", 0).(map[string]any)
			if ue["message"] != tc.message || ue["code"] != "INVALID" {
				t.Errorf("userError %v", ue)
			}
		})
	}
	// At most five running at once.
	s2 := NewServer(WithBulkDelay(time.Hour))
	defer s2.Close()
	for i := range 6 {
		d := ok(t, s2, runBulk, map[string]any{"q": `{ products { edges { node { id } } } }`})
		code := dig(d, "bulkOperationRunQuery", "userErrors", 0, "code")
		if i < 5 && code != nil || i == 5 && code != "LIMIT_REACHED" {
			t.Errorf("operation %d: %v", i, d)
		}
	}
}
