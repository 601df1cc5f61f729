package specter

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"slices"
	"sync"

	"github.com/knyt/knyt/connector"
)

// Queue is one of Specter's change queues. Each API user has its own
// queues; a read takes the waiting changes as a batch under a number the
// client chooses, and they stay in that batch until it is acknowledged.
// While a batch is open, a read under another number fails with code 99
// naming the open batch, and a read under the open batch's number returns
// its items again (OBSERVED in the public module's recovery).
type Queue string

// The three queues.
const (
	QueueStock    Queue = "stock"    // getArticleExternalNeedUpdate / updateArticlesFromBatch
	QueueArticles Queue = "articles" // getArticleInfoExternalNeedUpdate / updateArticleInfosFromBatch
	QueueOrders   Queue = "orders"   // getOrdersExternalNeedUpdate / updateOrdersFromBatch
)

// Actions returns the read and acknowledge actions of q.
func (q Queue) Actions() (read, ack Action) {
	switch q {
	case QueueStock:
		return ActionStockQueue, ActionStockAck
	case QueueArticles:
		return ActionArticleQueue, ActionArticleAck
	case QueueOrders:
		return ActionOrderQueue, ActionOrderAck
	}
	return "", ""
}

// NewBatchNo returns a fresh batch number: 32 random hex digits, the shape
// the public module uses (an MD5 of the time).
func NewBatchNo() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}

// Read takes (or re-reads) batch batchNo of queue q in XML form. For the
// stock queue the levels come per stock site (getMultipleStocksites=1). A
// code-99 failure is a *connector.Error wrapping a *BatchOpenError.
func (c *Client) Read(ctx context.Context, q Queue, batchNo string) (*Reply, error) {
	read, _ := q.Actions()
	f := c.NewForm()
	f.Set("batchNo", batchNo)
	if q == QueueStock {
		f.Set("getMultipleStocksites", "1")
	}
	return c.Do(ctx, Request{Op: "Read" + queueOp(q), Action: read, Form: f})
}

// ReadStockRows takes (or re-reads) a batch of the stock queue in its text
// form: one stock site, CR-separated rows.
func (c *Client) ReadStockRows(ctx context.Context, batchNo string) ([]StockRow, error) {
	f := c.NewForm()
	f.Set("batchNo", batchNo)
	r := Request{Op: "ReadStock", Action: ActionStockQueue, Form: f, Rows: true}
	s, err := c.send(ctx, r)
	if err != nil {
		return nil, err
	}
	rows, reply, err := ParseStockRows(s.resp.Body, s.resp.Header.Get("Content-Type"))
	if err != nil {
		return nil, c.unreadable(s, err)
	}
	if reply != nil && !reply.OK() {
		return nil, replyError(s.op, s.spec.Action, s.signed, reply, c.t.Redactor().String)
	}
	return rows, nil
}

// Ack acknowledges (closes) batch batchNo of queue q. Only acknowledge a
// batch whose items are safely processed: its changes are gone from the
// queue afterwards.
func (c *Client) Ack(ctx context.Context, q Queue, batchNo string) error {
	_, ack := q.Actions()
	f := c.NewForm()
	f.Set("batchNo", batchNo)
	_, err := c.Do(ctx, Request{Op: "Ack" + queueOp(q), Action: ack, Form: f})
	return err
}

// ResetStock asks Specter to put every article's stock into the stock queue
// again, for a full resynchronisation (clearArticleBatch with clearSelf=1).
func (c *Client) ResetStock(ctx context.Context) error {
	f := c.NewForm()
	f.Set("batchNo", NewBatchNo())
	f.Set("clearSelf", "1")
	_, err := c.Do(ctx, Request{Op: "ResetStock", Action: ActionStockReset, Form: f})
	return err
}

func queueOp(q Queue) string {
	switch q {
	case QueueStock:
		return "Stock"
	case QueueArticles:
		return "Articles"
	}
	return "Orders"
}

// queueFeed is a connector.Feed over one queue. Next takes a batch (or, after
// a crash, the batch left open) and returns its items with the batch number
// as cursor; Commit acknowledges it. Until Commit the items come again, so
// processing that stops half-way loses nothing.
type queueFeed[T any] struct {
	c     *Client
	q     Queue
	op    string
	read  func(ctx context.Context, batchNo string) (items []T, more bool, err error)
	mu    sync.Mutex // one read of a queue at a time: it has one open batch
	acked []string   // recently acknowledged batches, so a repeated Commit sends nothing
}

// Next returns the items of the queue's next batch. after is not needed (the
// queue's position is kept by Specter) and is returned unchanged when the
// queue is empty.
func (f *queueFeed[T]) Next(ctx context.Context, after connector.Cursor) (connector.Batch[T], error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	batch := NewBatchNo()
	recovered := false
	for range 4 {
		items, more, err := f.read(ctx, batch)
		if boe, ok := errorsAs[*BatchOpenError](err); ok && boe.Batch != "" && boe.Batch != batch && !recovered {
			// A batch taken earlier was never acknowledged (a crash between
			// reading and committing): read it again so its items are
			// processed and then acknowledged, never dropped.
			f.c.logger.LogAttrs(ctx, slog.LevelInfo, "specter: re-reading a batch left open",
				slog.String("queue", string(f.q)), slog.String("batch", boe.Batch))
			batch, recovered = boe.Batch, true
			continue
		}
		if err != nil {
			return connector.Batch[T]{Cursor: after}, err
		}
		if len(items) == 0 {
			if recovered {
				// An empty batch left open: nothing to lose by closing it.
				if err := f.c.Ack(ctx, f.q, batch); err != nil {
					return connector.Batch[T]{Cursor: after}, err
				}
				batch, recovered = NewBatchNo(), false
				continue
			}
			return connector.Batch[T]{Cursor: after}, nil
		}
		// A recovered batch holds what was queued when it was first taken;
		// changes queued since wait behind it, so say more is waiting.
		return connector.Batch[T]{Items: items, Cursor: connector.Cursor(batch), More: more || recovered}, nil
	}
	return connector.Batch[T]{Cursor: after}, connector.NewError(System, f.op, connector.KindTemporary, "queue %s kept reporting an open batch", f.q)
}

// Commit acknowledges the batch c. Committing the same batch again sends
// nothing.
func (f *queueFeed[T]) Commit(ctx context.Context, c connector.Cursor) error {
	if c == "" {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if slices.Contains(f.acked, string(c)) {
		return nil
	}
	if err := f.c.Ack(ctx, f.q, string(c)); err != nil {
		return err
	}
	f.acked = append(f.acked, string(c))
	if len(f.acked) > 16 {
		f.acked = f.acked[1:]
	}
	return nil
}

// itemError is the error for a queue item that cannot be mapped; the batch
// stays open, so nothing is lost, and Next fails the same way until the
// cause is fixed (or the batch is acknowledged by hand with Client.Ack).
func itemError(op string, q Queue, batch string, kind connector.Kind, format string, args ...any) error {
	return &connector.Error{System: System, Op: op, Kind: kind,
		Message: fmt.Sprintf("queue %s, batch %s: ", q, batch) + fmt.Sprintf(format, args...)}
}
