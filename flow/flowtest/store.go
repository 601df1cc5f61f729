package flowtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/connector"
	"github.com/knyt/knyt/flow"
)

// StoreFactory makes stores for TestStore.
type StoreFactory struct {
	// New returns a fresh, empty store. TestStore closes it.
	New func(t *testing.T) flow.Store
	// Reopen closes s and opens the same durable state again, for the
	// restart tests; nil skips them (in-memory stores).
	Reopen func(t *testing.T, s flow.Store) flow.Store
}

// TestStore is the conformance suite every flow.Store implementation runs:
// the ID map, cursors, the processed-event log, the step journal with its
// filters, the loop-guard hashes, concurrent use, cancellation and, with
// Reopen, survival across a restart.
func TestStore(t *testing.T, f StoreFactory) {
	t.Helper()
	open := func(t *testing.T) flow.Store {
		s := f.New(t)
		t.Cleanup(func() { s.Close() })
		return s
	}
	t.Run("Refs", func(t *testing.T) { testRefs(t, open(t)) })
	t.Run("Cursors", func(t *testing.T) { testCursors(t, open(t)) })
	t.Run("Processed", func(t *testing.T) { testProcessed(t, open(t)) })
	t.Run("Steps", func(t *testing.T) { testSteps(t, open(t)) })
	t.Run("StepFilters", func(t *testing.T) { testStepFilters(t, open(t)) })
	t.Run("LastWrite", func(t *testing.T) { testLastWrite(t, open(t)) })
	t.Run("Concurrent", func(t *testing.T) { testConcurrent(t, open(t)) })
	t.Run("Cancelled", func(t *testing.T) { testCancelled(t, open(t)) })
	t.Run("Closed", func(t *testing.T) {
		s := f.New(t)
		if err := s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		if _, _, err := s.Ref(context.Background(), flow.MapKey{Kind: "order", Key: "1", System: "x"}); err == nil {
			t.Error("Ref on a closed store succeeded")
		}
		if _, _, err := s.CreateStep(context.Background(), flow.Step{Key: "k", Kind: "x"}); err == nil {
			t.Error("CreateStep on a closed store succeeded")
		}
	})
	if f.Reopen != nil {
		t.Run("Reopen", func(t *testing.T) { testReopen(t, f) })
	}
}

var t0 = time.Date(2026, 11, 22, 10, 0, 0, 123456789, time.UTC)

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func testRefs(t *testing.T, s flow.Store) {
	ctx := context.Background()
	k := flow.MapKey{Kind: "order", Key: "#1001", System: "specter", Account: "acme"}
	if _, ok, err := s.Ref(ctx, k); err != nil || ok {
		t.Fatalf("Ref of an empty store = ok %v, err %v", ok, err)
	}
	want := commerce.Ref{System: "specter", Account: "acme", ID: "5001"}
	must(t, s.SetRef(ctx, k, want))
	got, ok, err := s.Ref(ctx, k)
	must(t, err)
	if !ok || got != want {
		t.Fatalf("Ref = %v, %v; want %v", got, ok, want)
	}
	other := k
	other.Account = "other"
	if _, ok, _ := s.Ref(ctx, other); ok {
		t.Error("a ref of one account is visible under another")
	}
	want.ID = "5002"
	must(t, s.SetRef(ctx, k, want))
	if got, _, _ := s.Ref(ctx, k); got != want {
		t.Errorf("after replace Ref = %v, want %v", got, want)
	}
}

func testCursors(t *testing.T, s flow.Store) {
	ctx := context.Background()
	c, err := s.Cursor(ctx, "shop:a:orders")
	must(t, err)
	if c != "" {
		t.Fatalf("Cursor of an unknown feed = %q", c)
	}
	must(t, s.SetCursor(ctx, "shop:a:orders", "2026-11-22T10:00:00Z|42"))
	must(t, s.SetCursor(ctx, "shop:b:orders", "b"))
	must(t, s.SetCursor(ctx, "shop:a:orders", "2026-11-22T11:00:00Z|43"))
	for feed, want := range map[string]connector.Cursor{"shop:a:orders": "2026-11-22T11:00:00Z|43", "shop:b:orders": "b"} {
		got, err := s.Cursor(ctx, feed)
		must(t, err)
		if got != want {
			t.Errorf("Cursor(%s) = %q, want %q", feed, got, want)
		}
	}
}

func testProcessed(t *testing.T, s flow.Store) {
	ctx := context.Background()
	steps := []struct {
		source, id string
		at         time.Time
		want       bool
	}{
		{"shopify/a", "w1", t0, true},
		{"shopify/a", "w1", t0.Add(time.Hour), false},
		{"shopify/b", "w1", t0, true},
		{"shopify/a", "w2", t0.Add(2 * time.Hour), true},
	}
	for i, st := range steps {
		got, err := s.MarkProcessed(ctx, st.source, st.id, st.at)
		must(t, err)
		if got != st.want {
			t.Errorf("step %d: MarkProcessed(%s, %s) = %v, want %v", i, st.source, st.id, got, st.want)
		}
	}
	n, err := s.ForgetProcessed(ctx, t0.Add(time.Hour))
	must(t, err)
	if n != 2 {
		t.Errorf("ForgetProcessed removed %d entries, want 2", n)
	}
	if again, _ := s.MarkProcessed(ctx, "shopify/a", "w1", t0); !again {
		t.Error("a forgotten event is still marked processed")
	}
	if again, _ := s.MarkProcessed(ctx, "shopify/a", "w2", t0); again {
		t.Error("an event newer than the cut-off was forgotten")
	}
}

func sampleStep(key string) flow.Step {
	return flow.Step{
		Key: key, Kind: "order.create", Subject: "#1001", Shop: "se",
		IdempotencyKey: connector.IdempotencyKey(key),
		State:          flow.StepPending,
		Payload:        json.RawMessage(`{"number":"#1001","lines":[{"sku":"Å-1"}]}`),
		CreatedAt:      t0, UpdatedAt: t0,
	}
}

func testSteps(t *testing.T, s flow.Store) {
	ctx := context.Background()
	st := sampleStep("order:se:#1001:create")
	got, created, err := s.CreateStep(ctx, st)
	must(t, err)
	if !created {
		t.Fatal("CreateStep of a new key reported an existing step")
	}
	if diff := cmp.Diff(st, got); diff != "" {
		t.Errorf("CreateStep returned (-want +got):\n%s", diff)
	}
	second := st
	second.IdempotencyKey = "another"
	second.Payload = json.RawMessage(`{}`)
	got, created, err = s.CreateStep(ctx, second)
	must(t, err)
	if created {
		t.Fatal("CreateStep of an existing key created a second step")
	}
	if got.IdempotencyKey != st.IdempotencyKey || string(got.Payload) != string(st.Payload) {
		t.Errorf("CreateStep of an existing key returned key %q payload %s; want the original", got.IdempotencyKey, got.Payload)
	}
	if _, _, err := s.CreateStep(ctx, flow.Step{Kind: "x"}); err == nil {
		t.Error("CreateStep without a key succeeded")
	}

	st.State = flow.StepDone
	st.Attempts = 2
	st.Result = commerce.Ref{System: "specter", Account: "acme", ID: "5001"}
	st.Reason = "created"
	st.Plugin = "enrich"
	st.NextAt = t0.Add(time.Minute)
	st.UpdatedAt = t0.Add(2 * time.Minute)
	must(t, s.SaveStep(ctx, st))
	got, ok, err := s.Step(ctx, st.Key)
	must(t, err)
	if !ok {
		t.Fatal("Step does not find a saved step")
	}
	if diff := cmp.Diff(st, got); diff != "" {
		t.Errorf("Step after SaveStep (-want +got):\n%s", diff)
	}
	if _, ok, err := s.Step(ctx, "nope"); ok || err != nil {
		t.Errorf("Step(nope) = ok %v err %v", ok, err)
	}
	if err := s.SaveStep(ctx, sampleStep("nope")); !errors.Is(err, flow.ErrStepNotFound) {
		t.Errorf("SaveStep of a missing step = %v, want ErrStepNotFound", err)
	}
	// A step without payload or times round-trips as such.
	bare := flow.Step{Key: "bare", Kind: "x", State: flow.StepPending}
	_, _, err = s.CreateStep(ctx, bare)
	must(t, err)
	got, _, err = s.Step(ctx, "bare")
	must(t, err)
	if diff := cmp.Diff(bare, got); diff != "" {
		t.Errorf("bare step (-want +got):\n%s", diff)
	}
}

func keys(steps []flow.Step) []string {
	out := []string{}
	for _, s := range steps {
		out = append(out, s.Key)
	}
	return out
}

func testStepFilters(t *testing.T, s flow.Store) {
	ctx := context.Background()
	mk := func(key, kind, subject, shop string, state flow.StepState, next time.Time) {
		st := flow.Step{Key: key, Kind: kind, Subject: subject, Shop: shop, State: state, NextAt: next, CreatedAt: t0, UpdatedAt: t0}
		_, _, err := s.CreateStep(ctx, st)
		must(t, err)
	}
	mk("a", "order.create", "#1", "se", flow.StepPending, time.Time{})
	mk("b", "order.create", "#2", "no", flow.StepPending, t0.Add(time.Hour))
	mk("c", "delivery.capture", "#1", "se", flow.StepDead, time.Time{})
	mk("d", "delivery.fulfill", "#1", "se", flow.StepDone, time.Time{})
	mk("e", "order.create", "#3", "se", flow.StepPending, t0)
	tests := []struct {
		name string
		f    flow.StepFilter
		want []string
	}{
		{"all", flow.StepFilter{}, []string{"a", "b", "c", "d", "e"}},
		{"state", flow.StepFilter{State: flow.StepPending}, []string{"a", "b", "e"}},
		{"kind", flow.StepFilter{Kind: "order.create"}, []string{"a", "b", "e"}},
		{"subject", flow.StepFilter{Subject: "#1"}, []string{"a", "c", "d"}},
		{"shop", flow.StepFilter{Shop: "no"}, []string{"b"}},
		{"due", flow.StepFilter{DueBy: t0}, []string{"a", "e"}},
		{"due later", flow.StepFilter{DueBy: t0.Add(time.Hour)}, []string{"a", "b", "e"}},
		{"dead", flow.StepFilter{State: flow.StepDead}, []string{"c"}},
		{"page 1", flow.StepFilter{Limit: 2}, []string{"a", "b"}},
		{"page 2", flow.StepFilter{After: "b", Limit: 2}, []string{"c", "d"}},
		{"page 3", flow.StepFilter{After: "d", Limit: 2}, []string{"e"}},
		{"combined", flow.StepFilter{Subject: "#1", State: flow.StepDone}, []string{"d"}},
	}
	for _, tt := range tests {
		got, err := s.Steps(ctx, tt.f)
		must(t, err)
		if diff := cmp.Diff(tt.want, keys(got)); diff != "" {
			t.Errorf("%s: Steps (-want +got):\n%s", tt.name, diff)
		}
		for _, st := range got {
			if !tt.f.Matches(st) {
				t.Errorf("%s: Steps returned %s that the filter does not match", tt.name, st.Key)
			}
		}
	}
}

func testLastWrite(t *testing.T, s flow.Store) {
	ctx := context.Background()
	k := flow.MapKey{Kind: "price", Key: "SKU-1", System: "shopify", Account: "se"}
	if _, ok, err := s.LastWrite(ctx, k); ok || err != nil {
		t.Fatalf("LastWrite of an empty store = ok %v err %v", ok, err)
	}
	must(t, s.SetLastWrite(ctx, k, "h1"))
	must(t, s.SetLastWrite(ctx, k, "h2"))
	h, ok, err := s.LastWrite(ctx, k)
	must(t, err)
	if !ok || h != "h2" {
		t.Errorf("LastWrite = %q %v, want h2", h, ok)
	}
	k.System = "specter"
	if _, ok, _ := s.LastWrite(ctx, k); ok {
		t.Error("a hash written for one system is visible for another")
	}
}

// testConcurrent hammers one store from many goroutines: every key is
// created once and every event is new once, whoever wins.
func testConcurrent(t *testing.T, s flow.Store) {
	ctx := context.Background()
	const workers, keys = 8, 40
	var created, fresh atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			for i := range keys {
				key := fmt.Sprintf("order:se:%04d:create", i)
				st := sampleStep(key)
				st.IdempotencyKey = fmt.Sprintf("worker-%d", w)
				got, ok, err := s.CreateStep(ctx, st)
				if err != nil {
					errs <- err
					return
				}
				if ok {
					created.Add(1)
				}
				if got.Key != key {
					errs <- fmt.Errorf("CreateStep returned step %q for %q", got.Key, key)
					return
				}
				isNew, err := s.MarkProcessed(ctx, "hook", key, t0)
				if err != nil {
					errs <- err
					return
				}
				if isNew {
					fresh.Add(1)
				}
				got.Attempts++
				if err := s.SaveStep(ctx, got); err != nil {
					errs <- err
					return
				}
				if err := s.SetCursor(ctx, "feed", connector.Cursor(key)); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if created.Load() != keys || fresh.Load() != keys {
		t.Errorf("created %d steps and %d new events; want %d of each", created.Load(), fresh.Load(), keys)
	}
	all, err := s.Steps(ctx, flow.StepFilter{})
	must(t, err)
	if len(all) != keys {
		t.Errorf("journal holds %d steps, want %d", len(all), keys)
	}
	for _, st := range all {
		if st.Attempts < 1 || st.Attempts > workers {
			t.Errorf("step %s has %d attempts", st.Key, st.Attempts)
		}
	}
}

func testCancelled(t *testing.T, s flow.Store) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := s.CreateStep(ctx, sampleStep("x")); err == nil {
		t.Error("CreateStep with a cancelled context succeeded")
	}
	if _, err := s.MarkProcessed(ctx, "a", "b", t0); err == nil {
		t.Error("MarkProcessed with a cancelled context succeeded")
	}
}

func testReopen(t *testing.T, f StoreFactory) {
	ctx := context.Background()
	s := f.New(t)
	k := flow.MapKey{Kind: "order", Key: "#1", System: "specter"}
	must(t, s.SetRef(ctx, k, commerce.Ref{System: "specter", ID: "9"}))
	must(t, s.SetCursor(ctx, "feed", "c1"))
	_, err := s.MarkProcessed(ctx, "hook", "e1", t0)
	must(t, err)
	st := sampleStep("order:se:#1:create")
	_, _, err = s.CreateStep(ctx, st)
	must(t, err)
	must(t, s.SetLastWrite(ctx, k, "hash"))

	s = f.Reopen(t, s)
	defer s.Close()
	if r, ok, _ := s.Ref(ctx, k); !ok || r.ID != "9" {
		t.Errorf("after reopen Ref = %v %v", r, ok)
	}
	if c, _ := s.Cursor(ctx, "feed"); c != "c1" {
		t.Errorf("after reopen Cursor = %q", c)
	}
	if isNew, _ := s.MarkProcessed(ctx, "hook", "e1", t0); isNew {
		t.Error("after reopen a processed event is new again")
	}
	got, ok, err := s.Step(ctx, st.Key)
	must(t, err)
	if !ok {
		t.Fatal("after reopen the step is gone")
	}
	if diff := cmp.Diff(st, got); diff != "" {
		t.Errorf("after reopen (-want +got):\n%s", diff)
	}
	if h, _, _ := s.LastWrite(ctx, k); h != "hash" {
		t.Errorf("after reopen LastWrite = %q", h)
	}
}
