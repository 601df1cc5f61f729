package shopify

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/knyt/knyt/connector"
)

// watermark is the state behind a feed cursor. A feed reads a window of
// objects updated at or after Since, sorted by (updated_at, id), paging
// through it with Shopify's own cursor (After). When a window is exhausted
// the next one starts at the second of the newest object delivered, so
// objects updated in that second are read again.
//
// Shopify's updatedAt has whole seconds, so an object read at 10:00:00.3
// and changed again at 10:00:00.8 comes back with the same updatedAt: the
// time alone cannot tell the second version from the first. The cursor
// therefore remembers, for each object delivered in the newest second
// (Seen), a digest of the node as delivered (which includes its
// updatedAt). Re-reading that second skips a node whose digest is
// unchanged and delivers one whose digest differs, so equal timestamps
// neither repeat an unchanged object nor hide a changed one, and — unlike
// a plain (time, id) watermark — an object updated later in the same
// second with a smaller id still comes. Seen is bounded: past seenLimit
// objects in one second, the id tiebreak (LastID) takes over for the rest.
//
// The digest covers the node the feed's page query returns, not data read
// in further requests (order lines past the first page, product variants
// past the first page, refund and return details): a change confined to
// those, made in the same second as the previous delivery and after it,
// is seen with the object's next change.
type watermark struct {
	Since    string            `json:"s,omitempty"` // RFC 3339, whole seconds
	After    string            `json:"a,omitempty"` // Shopify cursor within the window
	LastAt   string            `json:"t,omitempty"` // RFC 3339 with sub-seconds, as Shopify sent it
	LastID   string            `json:"i,omitempty"` // the largest id delivered in LastAt's second
	Seen     map[string]string `json:"m,omitempty"` // compact id → digest, for LastAt's second
	Overflow bool              `json:"o,omitempty"` // Seen hit seenLimit
	// Legacy is the Seen of cursors written before digests (ids only).
	// Such ids count as delivered and unchanged, as they did then; the
	// next delivery in a later second replaces them.
	Legacy []string `json:"n,omitempty"`
}

// seenLimit bounds the objects a cursor remembers for one second.
const seenLimit = 200

// gidPrefix is left out of the ids in Seen to keep cursors short.
const gidPrefix = "gid://shopify/"

func compactID(id string) string { return strings.TrimPrefix(id, gidPrefix) }

func (w watermark) cursor() connector.Cursor {
	if w.Since == "" && w.After == "" && w.LastAt == "" {
		return ""
	}
	b, _ := json.Marshal(w)
	return connector.Cursor("w1." + base64.RawURLEncoding.EncodeToString(b))
}

func parseWatermark(c connector.Cursor) (watermark, error) {
	var w watermark
	if c == "" {
		return w, nil
	}
	s := string(c)
	if len(s) < 3 || s[:3] != "w1." {
		return w, badCursor(c)
	}
	b, err := base64.RawURLEncoding.DecodeString(s[3:])
	if err != nil || json.Unmarshal(b, &w) != nil {
		return w, badCursor(c)
	}
	if w.LastAt != "" {
		if _, err := time.Parse(time.RFC3339Nano, w.LastAt); err != nil {
			return w, badCursor(c)
		}
	}
	return w, nil
}

func badCursor(c connector.Cursor) error {
	return &connector.Error{System: systemName, Op: "Feed", Kind: connector.KindValidation, Field: "cursor", Message: "not a cursor of this feed"}
}

// lastSecond is the second of the newest delivered object.
func (w watermark) lastSecond() time.Time {
	t, _ := time.Parse(time.RFC3339Nano, w.LastAt)
	return t.Truncate(time.Second)
}

// fresh reports whether the node (at, id) with this digest has not been
// delivered yet.
func (w watermark) fresh(at time.Time, id, digest string) bool {
	if w.LastAt == "" {
		return true
	}
	sec, last := at.Truncate(time.Second), w.lastSecond()
	switch {
	case sec.After(last):
		return true
	case sec.Before(last):
		return false
	}
	if d, ok := w.Seen[compactID(id)]; ok {
		return d != digest
	}
	if slices.Contains(w.Legacy, id) {
		return false
	}
	if w.Overflow {
		return compareIDs(id, w.LastID) > 0
	}
	return true
}

// deliver records the node (at, id) with this digest as delivered.
func (w *watermark) deliver(at time.Time, id, digest string) {
	last, _ := time.Parse(time.RFC3339Nano, w.LastAt)
	if w.LastAt == "" || at.Truncate(time.Second).After(last.Truncate(time.Second)) {
		w.Seen, w.Legacy, w.Overflow, w.LastID = nil, nil, false, ""
	}
	if w.LastAt == "" || at.After(last) {
		w.LastAt = at.UTC().Format(time.RFC3339Nano)
	}
	if w.LastID == "" || compareIDs(id, w.LastID) > 0 {
		w.LastID = id
	}
	k := compactID(id)
	if _, ok := w.Seen[k]; ok || len(w.Seen)+len(w.Legacy) < seenLimit {
		if w.Seen == nil {
			w.Seen = map[string]string{}
		}
		w.Seen[k] = digest
	} else {
		w.Overflow = true
	}
}

// digest identifies a version of a node: a raw node by its bytes (Shopify
// serialises the same data the same way), any other by its JSON.
func digest(node any) string {
	b, ok := node.(json.RawMessage)
	if !ok {
		b, _ = json.Marshal(node)
	}
	sum := sha256.Sum256(b)
	return base64.RawURLEncoding.EncodeToString(sum[:8])
}

// sinceTime is the window's start (zero at the beginning).
func (w watermark) sinceTime() time.Time {
	t, _ := time.Parse(time.RFC3339, w.Since)
	return t
}

// query is the search filter of the window.
func (w watermark) query() string {
	if w.Since == "" {
		return ""
	}
	return "updated_at:>=" + searchValue(w.Since)
}

// pageOf is one page of a feed's root connection.
// fetchRawPage returns a watermark feed's page fetch for the top-level
// connection root of doc: the fixed variables, the search query and the
// cursor, a page sized to the cost limit, the nodes left raw for mapping.
func (c *Client) fetchRawPage(doc *Document, root string, fixed map[string]any) func(context.Context, string, string) (pageOf[json.RawMessage], error) {
	return func(ctx context.Context, query, after string) (pageOf[json.RawMessage], error) {
		vars := maps.Clone(fixed) // pageSize writes into it
		if query != "" {
			vars["query"] = query
		}
		if after != "" {
			vars["after"] = after
		}
		c.pageSize(doc, vars, "first", c.cfg.pageLimit)
		var out map[string]struct {
			PageInfo pageInfo          `json:"pageInfo"`
			Nodes    []json.RawMessage `json:"nodes"`
		}
		if _, err := c.Execute(ctx, doc, vars, &out); err != nil {
			return pageOf[json.RawMessage]{}, err
		}
		conn := out[root]
		return pageOf[json.RawMessage]{nodes: conn.Nodes, info: conn.PageInfo}, nil
	}
}

type pageOf[W any] struct {
	nodes []W
	info  pageInfo
}

// watermarkFeed is a connector.Feed over a Shopify connection sorted by
// UPDATED_AT. fetch reads one page; key tells a node's time and id; mapAll
// maps the nodes to deliver (it may read more, e.g. refund details),
// adding the items it cannot map to problems; since is the window's start,
// for feeds of things nested in the nodes.
type watermarkFeed[T, W any] struct {
	fetch  func(ctx context.Context, query, after string) (pageOf[W], error)
	key    func(W) (time.Time, string)
	mapAll func(ctx context.Context, since time.Time, nodes []W, problems *[]connector.ItemProblem) ([]T, error)
}

// Next reads the page after the cursor.
func (f *watermarkFeed[T, W]) Next(ctx context.Context, after connector.Cursor) (connector.Batch[T], error) {
	w, err := parseWatermark(after)
	if err != nil {
		return connector.Batch[T]{}, err
	}
	page, err := f.fetch(ctx, w.query(), w.After)
	if err != nil {
		return connector.Batch[T]{}, err
	}
	next := w
	next.Seen = maps.Clone(w.Seen)
	var keep []W
	for _, n := range page.nodes {
		at, id := f.key(n)
		d := digest(n)
		if !next.fresh(at, id, d) {
			continue
		}
		keep = append(keep, n)
		next.deliver(at, id, d)
	}
	var problems []connector.ItemProblem
	items, err := f.mapAll(ctx, w.sinceTime(), keep, &problems)
	if err != nil {
		return connector.Batch[T]{}, err
	}
	more := page.info.HasNextPage && page.info.EndCursor != ""
	if more {
		next.After = page.info.EndCursor
	} else {
		next.After = ""
		if next.LastAt != "" {
			next.Since = next.lastSecond().UTC().Format(time.RFC3339)
		}
	}
	return connector.Batch[T]{Items: items, Problems: problems, Cursor: next.cursor(), More: more}, nil
}

// Commit does nothing: the cursor is the feed's whole state.
func (f *watermarkFeed[T, W]) Commit(context.Context, connector.Cursor) error { return nil }

// CursorAt returns a feed cursor that starts at objects updated at or after
// t, for starting a feed somewhere other than the beginning.
func CursorAt(t time.Time) connector.Cursor {
	return watermark{Since: t.UTC().Truncate(time.Second).Format(time.RFC3339)}.cursor()
}
