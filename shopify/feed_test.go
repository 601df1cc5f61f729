package shopify

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/knyt/knyt/connector"
)

// item is a node of the fake connection; V is the rest of its content,
// changed by an update that keeps the same second.
type item struct {
	ID string
	At time.Time
	V  int
}

// fakeConnection mimics a Shopify connection sorted by UPDATED_AT then id,
// filtered by "updated_at:>='…'", paged by opaque cursors (the offset).
type fakeConnection struct {
	items []item
	size  int
}

func (f *fakeConnection) fetch(_ context.Context, query, after string) (pageOf[item], error) {
	var since time.Time
	if q, ok := strings.CutPrefix(query, "updated_at:>="); ok {
		since, _ = time.Parse(time.RFC3339, strings.Trim(q, "'"))
	}
	sorted := slices.Clone(f.items)
	slices.SortFunc(sorted, func(a, b item) int {
		if c := a.At.Compare(b.At); c != 0 {
			return c
		}
		return compareIDs(a.ID, b.ID)
	})
	var window []item
	for _, it := range sorted {
		if !it.At.Before(since) {
			window = append(window, it)
		}
	}
	start := 0
	if after != "" {
		fmt.Sscan(after, &start)
	}
	end := min(start+f.size, len(window))
	return pageOf[item]{nodes: window[start:end], info: pageInfo{HasNextPage: end < len(window), EndCursor: fmt.Sprint(end)}}, nil
}

func newFakeFeed(conn *fakeConnection) *watermarkFeed[string, item] {
	return &watermarkFeed[string, item]{
		fetch: conn.fetch,
		key:   func(it item) (time.Time, string) { return it.At, it.ID },
		mapAll: func(_ context.Context, _ time.Time, nodes []item, _ *[]connector.ItemProblem) ([]string, error) {
			out := make([]string, len(nodes))
			for i, n := range nodes {
				out[i] = n.ID
			}
			return out, nil
		},
	}
}

func TestWatermarkFeedEqualTimestamps(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	gidOf := func(n string) string { return "gid://shopify/Order/" + n }
	conn := &fakeConnection{size: 2, items: []item{
		// Ids beyond 2^53 compare exactly, and numerically, not as text.
		{gidOf("9007199254740993"), t0, 1},
		{gidOf("9007199254740992"), t0, 1},
		{gidOf("10"), t0, 1},
		{gidOf("9"), t0, 1},
		{gidOf("5"), t0.Add(time.Second), 1},
	}}
	f := newFakeFeed(conn)
	ctx := context.Background()
	var got []string
	cur, err := connector.Drain(ctx, f, "", func(_ context.Context, ids []string) error {
		got = append(got, ids...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{gidOf("9"), gidOf("10"), gidOf("9007199254740992"), gidOf("9007199254740993"), gidOf("5")}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("delivered (-want +got):\n%s", diff)
	}
	// Nothing new: the next read delivers nothing and keeps the cursor.
	b, err := f.Next(ctx, cur)
	if err != nil || len(b.Items) != 0 || b.More {
		t.Fatalf("idle read = %+v, %v", b, err)
	}
	// New objects in the same second and later ones come, old ones not.
	conn.items = append(conn.items, item{gidOf("6"), t0.Add(time.Second), 1}, item{gidOf("1"), t0.Add(2 * time.Second), 1}, item{gidOf("4"), t0.Add(time.Second), 1})
	got = nil
	if _, err := connector.Drain(ctx, f, b.Cursor, func(_ context.Context, ids []string) error {
		got = append(got, ids...)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// 4 was updated in the second already read, with a smaller id than 5:
	// a plain (time, id) watermark would skip it; the cursor's memory of
	// the ids delivered in that second lets it through.
	want = []string{gidOf("4"), gidOf("6"), gidOf("1")}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("after new objects (-want +got):\n%s", diff)
	}
}

func TestWatermarkFeedManyEqualTimestampsAcrossPages(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	conn := &fakeConnection{size: 7}
	n := seenLimit + 50 // past the cursor's memory: the id tiebreak takes over
	for i := range n {
		conn.items = append(conn.items, item{fmt.Sprintf("gid://shopify/Product/%d", i+1), t0, 1})
	}
	f := newFakeFeed(conn)
	seen := map[string]int{}
	cur, err := connector.Drain(context.Background(), f, "", func(_ context.Context, ids []string) error {
		for _, id := range ids {
			seen[id]++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != n {
		t.Errorf("delivered %d distinct, want %d", len(seen), n)
	}
	if len(cur) > 16<<10 {
		t.Errorf("cursor is %d bytes; its memory must be bounded", len(cur))
	}
	b, err := f.Next(context.Background(), cur)
	if err != nil || len(b.Items) != 0 {
		t.Errorf("re-read after the end = %d items, %v", len(b.Items), err)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("%s delivered %d times", id, n)
		}
	}
}

func TestCursorParsing(t *testing.T) {
	for _, c := range []connector.Cursor{"x", "w1.!!!", "w1." + "e30", "w1.eyJ0Ijoibm90IGEgdGltZSJ9"} {
		_, err := parseWatermark(c)
		if c == "w1.e30" { // "{}" is a valid empty watermark
			if err != nil {
				t.Errorf("%q: %v", c, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("parseWatermark(%q) succeeded", c)
		}
	}
	at := CursorAt(time.Date(2026, 11, 1, 10, 0, 0, 500, time.UTC))
	w, err := parseWatermark(at)
	if err != nil || w.query() != "updated_at:>='2026-11-01T10:00:00Z'" {
		t.Errorf("CursorAt: %+v %v", w, err)
	}
}

// drainIDs reads the feed to its end from cur.
func drainIDs(t *testing.T, f *watermarkFeed[string, item], cur connector.Cursor) ([]string, connector.Cursor) {
	t.Helper()
	var got []string
	next, err := connector.Drain(context.Background(), f, cur, func(_ context.Context, ids []string) error {
		got = append(got, ids...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got, next
}

func TestWatermarkFeedUpdateInTheSameSecond(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	conn := &fakeConnection{size: 2, items: []item{{"gid://shopify/Order/1", t0, 1}, {"gid://shopify/Order/2", t0, 1}, {"gid://shopify/Order/3", t0, 1}}}
	f := newFakeFeed(conn)
	got, cur := drainIDs(t, f, "")
	if diff := cmp.Diff([]string{"gid://shopify/Order/1", "gid://shopify/Order/2", "gid://shopify/Order/3"}, got); diff != "" {
		t.Fatalf("first read (-want +got):\n%s", diff)
	}
	// Order 2 changes again within the same second: Shopify's updatedAt,
	// in whole seconds, stays the same.
	conn.items[1].V = 2
	got, cur = drainIDs(t, f, cur)
	if diff := cmp.Diff([]string{"gid://shopify/Order/2"}, got); diff != "" {
		t.Errorf("after a same-second update (-want +got):\n%s", diff)
	}
	// Unchanged, it does not come again; a third same-second change does.
	if got, _ := drainIDs(t, f, cur); len(got) != 0 {
		t.Errorf("idle read delivered %v", got)
	}
	conn.items[1].V = 3
	conn.items[0].V = 2
	got, cur = drainIDs(t, f, cur)
	if diff := cmp.Diff([]string{"gid://shopify/Order/1", "gid://shopify/Order/2"}, got); diff != "" {
		t.Errorf("after two more same-second updates (-want +got):\n%s", diff)
	}
	// A later second resets the memory and still delivers each change once.
	conn.items[2].At, conn.items[2].V = t0.Add(time.Second), 2
	got, cur = drainIDs(t, f, cur)
	if diff := cmp.Diff([]string{"gid://shopify/Order/3"}, got); diff != "" {
		t.Errorf("after a later update (-want +got):\n%s", diff)
	}
	if got, _ := drainIDs(t, f, cur); len(got) != 0 {
		t.Errorf("idle read delivered %v", got)
	}
}

func TestWatermarkFeedAcceptsCursorsWithoutDigests(t *testing.T) {
	// A cursor as written before the digests: ids delivered in the newest
	// second, without their versions.
	old := watermark{Since: "2026-11-01T10:00:00Z", LastAt: "2026-11-01T10:00:00Z", LastID: "gid://shopify/Order/2",
		Legacy: []string{"gid://shopify/Order/1", "gid://shopify/Order/2"}}
	b, err := json.Marshal(map[string]any{"s": old.Since, "t": old.LastAt, "i": old.LastID, "n": old.Legacy})
	if err != nil {
		t.Fatal(err)
	}
	cur := connector.Cursor("w1." + base64.RawURLEncoding.EncodeToString(b))
	w, err := parseWatermark(cur)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(old, w); diff != "" {
		t.Fatalf("parsed (-want +got):\n%s", diff)
	}
	t0 := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	conn := &fakeConnection{size: 10, items: []item{
		{"gid://shopify/Order/1", t0, 1}, {"gid://shopify/Order/2", t0, 1}, {"gid://shopify/Order/3", t0, 1}, {"gid://shopify/Order/4", t0.Add(time.Second), 1},
	}}
	got, next := drainIDs(t, newFakeFeed(conn), cur)
	if diff := cmp.Diff([]string{"gid://shopify/Order/3", "gid://shopify/Order/4"}, got); diff != "" {
		t.Errorf("resumed (-want +got):\n%s", diff)
	}
	if w, _ := parseWatermark(next); len(w.Legacy) != 0 || len(w.Seen) != 1 {
		t.Errorf("the new cursor keeps %+v", w)
	}
}
