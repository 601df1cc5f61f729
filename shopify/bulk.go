package shopify

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/connector"
)

// BulkLine is one line of a bulk operation's JSONL output. Nested
// connections are flattened: a child object is its own line whose
// ParentID names the object it belongs to.
type BulkLine struct {
	ID       string          // the object's GID ("" if it has none)
	ParentID string          // __parentId, "" for a root object
	Type     string          // the GID's type segment ("Product", "ProductVariant")
	Raw      json.RawMessage // the line, owned by the caller
	Offset   int64           // byte offset of the line's start
	End      int64           // byte offset just after the line
}

// MaxBulkLine bounds one JSONL line; a longer line is an error rather than
// unbounded memory.
const MaxBulkLine = 16 << 20

// ReadJSONL streams a bulk operation's JSONL output line by line without
// loading it whole. Blank lines are skipped; a line that is not a JSON
// object, or is longer than MaxBulkLine, ends the sequence with an error.
// base is the byte offset at which r starts (when resuming a download).
func ReadJSONL(r io.Reader, base int64) iter.Seq2[BulkLine, error] {
	return func(yield func(BulkLine, error) bool) {
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 0, 64<<10), MaxBulkLine)
		offset := base
		var consumed int64
		sc.Split(func(data []byte, atEOF bool) (int, []byte, error) {
			adv, tok, err := bufio.ScanLines(data, atEOF)
			consumed += int64(adv)
			return adv, tok, err
		})
		for sc.Scan() {
			start := offset
			offset = base + consumed
			line := bytes.TrimSpace(sc.Bytes())
			if len(line) == 0 {
				continue
			}
			bl, err := parseBulkLine(line)
			if err != nil {
				yield(BulkLine{}, fmt.Errorf("shopify: bulk output at byte %d: %w", start, err))
				return
			}
			bl.Offset, bl.End = start, offset
			if !yield(bl, nil) {
				return
			}
		}
		if err := sc.Err(); err != nil {
			if errors.Is(err, bufio.ErrTooLong) {
				err = fmt.Errorf("a line is longer than %d bytes: %w", MaxBulkLine, err)
			}
			yield(BulkLine{}, fmt.Errorf("shopify: bulk output at byte %d: %w", offset, err))
		}
	}
}

func parseBulkLine(line []byte) (BulkLine, error) {
	if line[0] != '{' {
		return BulkLine{}, errors.New("line is not a JSON object")
	}
	var k struct {
		ID       string `json:"id"`
		ParentID string `json:"__parentId"`
	}
	if err := json.Unmarshal(line, &k); err != nil {
		return BulkLine{}, fmt.Errorf("line is not valid JSON: %w", err)
	}
	bl := BulkLine{ID: k.ID, ParentID: k.ParentID, Raw: bytes.Clone(line)}
	if strings.HasPrefix(k.ID, "gid://shopify/") {
		rest := strings.TrimPrefix(k.ID, "gid://shopify/")
		if i := strings.IndexByte(rest, '/'); i > 0 {
			bl.Type = rest[:i]
		}
	}
	return bl, nil
}

// BulkOperation is the state of a bulk operation as Shopify reports it.
type BulkOperation struct {
	ID              string     `json:"id"`
	Status          string     `json:"status"`
	ErrorCode       string     `json:"errorCode"`
	CreatedAt       time.Time  `json:"createdAt"`
	CompletedAt     *time.Time `json:"completedAt"`
	ObjectCount     flexString `json:"objectCount"`
	RootObjectCount flexString `json:"rootObjectCount"`
	FileSize        flexString `json:"fileSize"`
	URL             string     `json:"url"`
	PartialDataURL  string     `json:"partialDataUrl"`
}

// Objects is ObjectCount as a number (Shopify sends UnsignedInt64 as a
// string).
func (b BulkOperation) Objects() int64 {
	n, _ := strconv.ParseInt(string(b.ObjectCount), 10, 64)
	return n
}

// RunBulkQuery starts a bulk query of doc (a query document such as the
// package's bulk_products.graphql, or the caller's own).
func (c *Client) RunBulkQuery(ctx context.Context, doc *Document, groupObjects bool) (BulkOperation, error) {
	var out struct {
		Run struct {
			BulkOperation *BulkOperation `json:"bulkOperation"`
			UserErrors    []userError    `json:"userErrors"`
		} `json:"bulkOperationRunQuery"`
	}
	if doc.IsMutation() {
		return BulkOperation{}, &connector.Error{System: systemName, Op: "BulkOperationRunQuery", Kind: connector.KindValidation, Message: "a bulk query must be a query"}
	}
	if _, err := c.Execute(ctx, docBulkRunQuery, map[string]any{"query": doc.Source(), "groupObjects": groupObjects}, &out); err != nil {
		return BulkOperation{}, err
	}
	if err := c.userErrorsErr("BulkOperationRunQuery", out.Run.UserErrors); err != nil {
		return BulkOperation{}, err
	}
	if out.Run.BulkOperation == nil {
		return BulkOperation{}, &connector.Error{System: systemName, Op: "BulkOperationRunQuery", Kind: connector.KindPermanent, Message: "no bulk operation in the answer"}
	}
	return *out.Run.BulkOperation, nil
}

// BulkOperationByID polls one bulk operation.
func (c *Client) BulkOperationByID(ctx context.Context, id string) (BulkOperation, error) {
	var out struct {
		BulkOperation *BulkOperation `json:"bulkOperation"`
	}
	if _, err := c.Execute(ctx, docBulkOperation, map[string]any{"id": id}, &out); err != nil {
		return BulkOperation{}, err
	}
	if out.BulkOperation == nil {
		return BulkOperation{}, &connector.Error{System: systemName, Op: "BulkOperation", Kind: connector.KindNotFound, Message: "no bulk operation " + id}
	}
	return *out.BulkOperation, nil
}

// CancelBulkOperation asks Shopify to cancel a running bulk operation.
func (c *Client) CancelBulkOperation(ctx context.Context, id string) error {
	var out struct {
		Cancel struct {
			UserErrors []userError `json:"userErrors"`
		} `json:"bulkOperationCancel"`
	}
	if _, err := c.Execute(ctx, docBulkCancel, map[string]any{"id": id}, &out); err != nil {
		return err
	}
	return c.userErrorsErr("BulkOperationCancel", out.Cancel.UserErrors)
}

// WaitBulkOperation polls the operation until it ends, every poll interval
// (WithBulkPollInterval) or as soon as finished delivers its id (from a
// bulk_operations/finish webhook). progress, if not nil, sees each state.
// A failed, cancelled or expired operation is an error.
func (c *Client) WaitBulkOperation(ctx context.Context, id string, finished <-chan string, progress func(BulkOperation)) (BulkOperation, error) {
	for {
		op, err := c.BulkOperationByID(ctx, id)
		if err != nil {
			return op, err
		}
		if progress != nil {
			progress(op)
		}
		switch op.Status {
		case "COMPLETED":
			return op, nil
		case "FAILED", "CANCELED", "CANCELING", "EXPIRED":
			kind := connector.KindPermanent
			switch {
			case op.ErrorCode == "ACCESS_DENIED":
				kind = connector.KindAuth
			case op.ErrorCode == "TIMEOUT" || op.ErrorCode == "INTERNAL_SERVER_ERROR":
				kind = connector.KindTemporary
			case op.Status == "EXPIRED":
				kind = connector.KindNotFound
			}
			return op, &connector.Error{System: systemName, Op: "BulkOperation", Kind: kind, Code: op.ErrorCode, Message: fmt.Sprintf("bulk operation %s ended %s", id, op.Status)}
		case "CREATED", "RUNNING":
		default:
			return op, &connector.Error{System: systemName, Op: "BulkOperation", Kind: connector.KindPermanent, Message: fmt.Sprintf("unknown bulk operation status %q", op.Status)}
		}
		t := time.NewTimer(c.cfg.pollInterval)
		select {
		case <-ctx.Done():
			t.Stop()
			return op, connector.Wrap(systemName, "BulkOperation", ctx.Err())
		case got := <-finished:
			t.Stop()
			_ = got // any finish notice is a reason to look now
		case <-t.C:
		}
	}
}

// OpenBulkResult downloads a completed operation's JSONL from offset on
// (an HTTP range request; when the server ignores the range the skipped
// part is read and discarded). The download goes to Shopify's storage
// without the access token. The caller closes the reader.
func (c *Client) OpenBulkResult(ctx context.Context, url string, offset int64) (io.ReadCloser, error) {
	h := http.Header{}
	if offset > 0 {
		h.Set("Range", "bytes="+strconv.FormatInt(offset, 10)+"-")
	}
	resp, err := c.plain.Do(ctx, &connector.Request{Op: "BulkDownload", Method: http.MethodGet, Path: url, Header: h, Stream: true})
	if err != nil {
		return nil, err
	}
	if offset > 0 && resp.Status != http.StatusPartialContent {
		if _, err := io.CopyN(io.Discard, resp.Stream, offset); err != nil {
			resp.Stream.Close()
			return nil, &connector.Error{System: systemName, Op: "BulkDownload", Kind: connector.KindTemporary, Message: "result shorter than the resume offset", Err: err}
		}
	}
	return resp.Stream, nil
}

// ExportCheckpoint is where a product export stands. Store it as it comes
// through ExportOptions.Progress; passing it back in ExportOptions.Resume
// continues after the last product delivered, in the same bulk operation
// (whose result Shopify keeps for 7 days).
type ExportCheckpoint struct {
	OperationID string `json:"operation_id"`
	Offset      int64  `json:"offset"`   // bytes of the result fully delivered
	Products    int64  `json:"products"` // products delivered so far
	Variants    int64  `json:"variants"`
}

// ExportProgress reports an export's state.
type ExportProgress struct {
	Status     string // the bulk operation's status, then "DOWNLOADING" and "DONE"
	Objects    int64  // objects Shopify has written so far
	Checkpoint ExportCheckpoint
}

// ExportOptions tune ExportProducts.
type ExportOptions struct {
	// Resume continues an earlier export from its checkpoint.
	Resume *ExportCheckpoint
	// Progress, if set, is called as the operation runs and after every
	// ProgressEvery products with a checkpoint that is safe to store.
	Progress func(ExportProgress)
	// ProgressEvery is how many products pass between progress calls
	// while reading (default 1000).
	ProgressEvery int
	// Finished delivers ids of finished bulk operations (from the
	// bulk_operations/finish webhook, see ParseBulkFinish) so the export
	// does not wait for its next poll.
	Finished <-chan string
}

// ExportProducts exports the whole catalogue with a bulk operation and
// calls fn for each product, with all its variants, in the order of the
// result file. Memory stays flat: the JSONL is streamed and only one
// product is held at a time (the query runs with groupObjects so that a
// product's variants follow it). A product fn returns an error for stops
// the export; the checkpoint returned (and reported) points after the last
// product fn accepted, and Resume continues from there. Products the model
// refuses go to the WithInvalidHandler handler, or stop the export.
func (c *Client) ExportProducts(ctx context.Context, opts ExportOptions, fn func(ctx context.Context, p commerce.Product) error) (ExportCheckpoint, error) {
	var cp ExportCheckpoint
	if opts.Resume != nil {
		cp = *opts.Resume
	}
	every := opts.ProgressEvery
	if every <= 0 {
		every = 1000
	}
	report := func(status string, objects int64) {
		if opts.Progress != nil {
			opts.Progress(ExportProgress{Status: status, Objects: objects, Checkpoint: cp})
		}
	}
	s, err := c.settings(ctx)
	if err != nil {
		return cp, err
	}
	if cp.OperationID == "" {
		op, err := c.RunBulkQuery(ctx, docBulkProducts, true)
		if err != nil {
			return cp, err
		}
		cp.OperationID = op.ID
		report(op.Status, 0)
	}
	op, err := c.WaitBulkOperation(ctx, cp.OperationID, opts.Finished, func(o BulkOperation) { report(o.Status, o.Objects()) })
	if err != nil {
		return cp, err
	}
	if op.URL == "" { // no objects at all
		report("DONE", op.Objects())
		return cp, nil
	}
	body, err := c.OpenBulkResult(ctx, op.URL, cp.Offset)
	if err != nil {
		return cp, err
	}
	defer body.Close()
	report("DOWNLOADING", op.Objects())

	var cur *BulkLine
	var children []json.RawMessage
	lastEnd := cp.Offset
	flush := func(end int64) error {
		if cur == nil {
			return nil
		}
		var p wireProduct
		if err := json.Unmarshal(cur.Raw, &p); err != nil {
			return invalid("ExportProducts", "", err)
		}
		prod, err := c.mapProduct(cur.Raw, p, children, s)
		if err != nil {
			if err := c.skipInvalid(ctx, "product", c.ref(p.ID), err, nil); err != nil {
				return err
			}
		} else if err := fn(ctx, prod); err != nil {
			return err
		}
		cp.Offset = end
		cp.Products++
		cp.Variants += int64(len(children))
		if cp.Products%int64(every) == 0 {
			report("DOWNLOADING", op.Objects())
		}
		cur, children = nil, children[:0]
		return nil
	}
	for line, err := range ReadJSONL(body, cp.Offset) {
		if err != nil {
			return cp, &connector.Error{System: systemName, Op: "ExportProducts", Kind: connector.KindTemporary, Message: "reading the bulk result failed", Err: err}
		}
		if line.ParentID == "" {
			if err := flush(line.Offset); err != nil {
				return cp, err
			}
			l := line
			cur = &l
			lastEnd = line.End
			continue
		}
		if cur == nil || line.ParentID != cur.ID {
			return cp, &connector.Error{System: systemName, Op: "ExportProducts", Kind: connector.KindPermanent,
				Message: fmt.Sprintf("bulk result is not grouped: %s follows %s, not its parent %s", line.ID, curID(cur), line.ParentID)}
		}
		if line.Type == "ProductVariant" {
			children = append(children, line.Raw)
		}
		lastEnd = line.End
		if ctx.Err() != nil {
			return cp, connector.Wrap(systemName, "ExportProducts", ctx.Err())
		}
	}
	if err := flush(lastEnd); err != nil {
		return cp, err
	}
	report("DONE", op.Objects())
	return cp, nil
}

func curID(l *BulkLine) string {
	if l == nil {
		return "nothing"
	}
	return l.ID
}
