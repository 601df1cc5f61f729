package flow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/connector"
)

// KindInitialBatch is the step kind of one batch of an initial sync.
const KindInitialBatch = "initial.batch"

// InitialSyncRequest asks for a full catalogue synchronisation.
type InitialSyncRequest struct {
	// Direction is ShopToERP (the shop's catalogue into the ERP) or
	// ERPToShop (the ERP's articles into shops, to prepare a shop before
	// launch).
	Direction Direction
	// Shop is the source shop for ShopToERP (required) and the target shop
	// for ERPToShop (empty: every configured shop).
	Shop string
	// Progress, if set, is called after each batch.
	Progress func(Progress)
}

// Progress reports an initial sync: items done of the total (across
// interruptions), items refused (dead-lettered), and the rate and
// remaining time estimated from this run.
type Progress struct {
	Done    int
	Total   int
	Failed  int
	Rate    float64 // items per second in this run
	ETA     time.Duration
	Elapsed time.Duration
}

// initialBatch is a batch step's payload.
type initialBatch struct {
	Direction Direction          `json:"direction"`
	Shop      string             `json:"shop,omitempty"`
	Products  []commerce.Product `json:"products"`
}

// InitialSync copies the whole catalogue in one direction: it reads every
// product of the source's product feed from the beginning, journals each
// batch as a step (so a queue system's batch is acknowledged only once it
// is safe in the journal), then writes the batches: items that already
// exist in the target are matched by SKU first (ProductLookup, where the
// target has it) and left alone when equal, the rest created or updated in
// bulk (ProductSink batches of CatalogRules.BatchSize), prices converted to
// the target's VAT basis.
//
// It is resumable: interrupted at any point (an error, a cancelled context,
// a crash), calling it again with the same request continues where it
// stopped — the read resumes from its stored cursor and only batches not
// yet done are written; items written before are recognised by the loop
// guard and not written twice. Batches that failed with a passing error
// stay pending (Run's retries pick them up, or call InitialSync again);
// items refused for good are dead letters. A completed sync run again
// starts a new full pass.
//
// For an ERP whose product feed is a change queue (Specter), reading the
// catalogue consumes the queue: ask the ERP to queue every article first
// (for Specter, its article reset), and prefer ERPToShop for all shops at
// once.
func (e *Engine) InitialSync(ctx context.Context, req InitialSyncRequest) (Progress, error) {
	var src connector.ProductSource
	switch req.Direction {
	case ShopToERP:
		s := e.shops[req.Shop]
		if s == nil {
			return Progress{}, fmt.Errorf("flow: initial sync: unknown shop %q", req.Shop)
		}
		var ok bool
		if src, ok = s.sys.(connector.ProductSource); !ok {
			return Progress{}, fmt.Errorf("flow: initial sync: shop %s cannot list products", req.Shop)
		}
		if _, ok := e.erp.(connector.ProductSink); !ok {
			return Progress{}, errors.New("flow: initial sync: the ERP cannot write products")
		}
	case ERPToShop:
		var ok bool
		if src, ok = e.erp.(connector.ProductSource); !ok {
			return Progress{}, errors.New("flow: initial sync: the ERP cannot list products")
		}
		for _, s := range e.initialTargets(req.Shop) {
			if _, ok := s.sys.(connector.ProductSink); !ok {
				return Progress{}, fmt.Errorf("flow: initial sync: shop %s cannot write products", s.cfg.ID)
			}
		}
		if req.Shop != "" && e.shops[req.Shop] == nil {
			return Progress{}, fmt.Errorf("flow: initial sync: unknown shop %q", req.Shop)
		}
	default:
		return Progress{}, fmt.Errorf("flow: initial sync: direction must be %s or %s", ShopToERP, ERPToShop)
	}
	name := "initial:" + string(req.Direction) + ":" + req.Shop
	unlock := e.feedMu.lock(name)
	defer unlock()

	gen, phase, err := e.initialState(ctx, name)
	if err != nil {
		return Progress{}, err
	}
	if phase == "" || phase == "done" {
		gen, phase = gen+1, "reading"
		if err := e.setInitialState(ctx, name, gen, phase); err != nil {
			return Progress{}, err
		}
		if err := e.store.SetCursor(ctx, name+":feed", ""); err != nil {
			return Progress{}, err
		}
	}
	run := name + ":" + strconv.Itoa(gen)
	if phase == "reading" {
		if err := e.readInitial(ctx, src.Products(), name, run, req); err != nil {
			return Progress{}, err
		}
		if err := e.setInitialState(ctx, name, gen, "writing"); err != nil {
			return Progress{}, err
		}
	}
	return e.writeInitial(ctx, name, gen, run, req.Progress)
}

func (e *Engine) initialTargets(shop string) []*shopRT {
	if shop != "" {
		if s := e.shops[shop]; s != nil {
			return []*shopRT{s}
		}
		return nil
	}
	return e.shopList
}

func (e *Engine) initialState(ctx context.Context, name string) (int, string, error) {
	c, err := e.store.Cursor(ctx, name+":state")
	if err != nil || c == "" {
		return 0, "", err
	}
	g, phase, _ := strings.Cut(string(c), ":")
	n, err := strconv.Atoi(g)
	if err != nil {
		return 0, "", fmt.Errorf("flow: initial sync state %q: %w", c, err)
	}
	return n, phase, nil
}

func (e *Engine) setInitialState(ctx context.Context, name string, gen int, phase string) error {
	return e.store.SetCursor(ctx, name+":state", connector.Cursor(strconv.Itoa(gen)+":"+phase))
}

// readInitial journals the source's products batch by batch.
func (e *Engine) readInitial(ctx context.Context, f connector.Feed[commerce.Product], name, run string, req InitialSyncRequest) error {
	cur, err := e.store.Cursor(ctx, name+":feed")
	if err != nil {
		return err
	}
	for {
		b, err := f.Next(ctx, cur)
		if err != nil {
			return fmt.Errorf("flow: initial sync: read: %w", err)
		}
		if len(b.Items) > 0 {
			// The batch's key is its position, so a batch read again after
			// a crash finds its step.
			st, err := e.newStep(fmt.Sprintf("%s:%s", run, b.Cursor), KindInitialBatch, run, req.Shop,
				initialBatch{Direction: req.Direction, Shop: req.Shop, Products: b.Items})
			if err != nil {
				return err
			}
			if _, _, err := e.store.CreateStep(ctx, st); err != nil {
				return err
			}
		}
		prev := cur
		if b.Cursor != "" && (b.Cursor != cur || len(b.Items) > 0) {
			if err := f.Commit(ctx, b.Cursor); err != nil {
				return fmt.Errorf("flow: initial sync: commit: %w", err)
			}
			if err := e.store.SetCursor(ctx, name+":feed", b.Cursor); err != nil {
				return err
			}
			cur = b.Cursor
		}
		if !b.More {
			return nil
		}
		if len(b.Items) == 0 && b.Cursor == prev {
			return fmt.Errorf("flow: initial sync: %w", errNoProgress)
		}
	}
}

func (e *Engine) writeInitial(ctx context.Context, name string, gen int, run string, progress func(Progress)) (Progress, error) {
	steps, err := e.store.Steps(ctx, StepFilter{Kind: KindInitialBatch, Subject: run})
	if err != nil {
		return Progress{}, err
	}
	sizes := map[string]int{}
	var p Progress
	for _, st := range steps {
		var b struct {
			Products []json.RawMessage `json:"products"`
		}
		if err := json.Unmarshal(st.Payload, &b); err != nil {
			return Progress{}, fmt.Errorf("flow: initial sync: batch %s: %w", st.Key, err)
		}
		sizes[st.Key] = len(b.Products)
		p.Total += len(b.Products)
		if st.State.Final() {
			p.Done += len(b.Products)
		}
	}
	start := e.now()
	doneHere := 0
	pending := 0
	for _, st := range steps {
		if st.State.Final() {
			continue
		}
		before := e.Counters().ByKind[KindProductPush].DeadLettered
		got, err := e.runStep(ctx, st.Key)
		if err != nil {
			return p, err
		}
		p.Failed += int(e.Counters().ByKind[KindProductPush].DeadLettered - before)
		if !got.State.Final() {
			pending++
			continue
		}
		p.Done += sizes[st.Key]
		doneHere += sizes[st.Key]
		p.Elapsed = e.now().Sub(start)
		if secs := p.Elapsed.Seconds(); secs > 0 {
			p.Rate = float64(doneHere) / secs
			p.ETA = time.Duration(float64(p.Total-p.Done) / p.Rate * float64(time.Second))
		}
		if progress != nil {
			progress(p)
		}
	}
	if pending > 0 {
		return p, fmt.Errorf("flow: initial sync: %d batches failed for now and will be retried; call InitialSync again to resume", pending)
	}
	return p, e.setInitialState(ctx, name, gen, "done")
}

// handleInitialBatch writes one batch of an initial sync.
func (e *Engine) handleInitialBatch(ctx context.Context, st *Step) (commerce.Ref, error) {
	b, err := decodePayload[initialBatch](st)
	if err != nil {
		return commerce.Ref{}, err
	}
	var failed []itemFailure
	switch b.Direction {
	case ShopToERP:
		s, err := e.shopOf(&Step{Shop: b.Shop})
		if err != nil {
			return commerce.Ref{}, err
		}
		if err := e.matchExisting(ctx, targetERP, e.erp, b.Products, func(p commerce.Product) (commerce.Product, error) { return e.productForERP(p, s) }); err != nil {
			return commerce.Ref{}, err
		}
		// Initial sync writes prices whatever the mode: it is the first copy.
		if failed, err = e.productsToERP(ctx, s, b.Products, true); err != nil {
			return commerce.Ref{}, err
		}
	case ERPToShop:
		for _, s := range e.initialTargets(b.Shop) {
			if err := e.matchExisting(ctx, s.cfg.ID, s.sys, b.Products, func(p commerce.Product) (commerce.Product, error) { return e.productForShop(p, s) }); err != nil {
				return commerce.Ref{}, err
			}
			f, err := e.productsToShop(ctx, s, b.Products)
			failed = append(failed, f...)
			if err != nil {
				return commerce.Ref{}, err
			}
		}
	}
	if err := e.deadLetterItems(ctx, failed); err != nil {
		return commerce.Ref{}, err
	}
	return commerce.Ref{}, nil
}

// matchExisting looks up, by SKU, the items the target may already have
// and records them in the ID map; an item equal to what would be written is
// marked as written, so it is not written again.
func (e *Engine) matchExisting(ctx context.Context, target string, sys connector.System, products []commerce.Product, conv func(commerce.Product) (commerce.Product, error)) error {
	lookup, ok := sys.(connector.ProductLookup)
	if !ok {
		return nil
	}
	for _, p := range products {
		c, err := conv(p)
		if err != nil {
			continue // the write reports it
		}
		for i := range c.Variants {
			v := &c.Variants[i]
			k := e.guardKey(mapProduct, v.SKU, target)
			if _, known, err := e.store.Ref(ctx, k); err != nil {
				return err
			} else if known {
				continue
			}
			found, err := lookup.ProductBySKU(ctx, v.SKU)
			if errors.Is(err, connector.ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			if err := e.store.SetRef(ctx, k, variantRef(found, v.SKU)); err != nil {
				return err
			}
			fv, ok := found.Variant(v.SKU)
			if !ok {
				continue
			}
			h := variantContent(&c, v, true)
			if variantContent(&found, fv, true) == h {
				if err := e.store.SetLastWrite(ctx, e.guardKey(guardProduct, v.SKU, target), h); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
