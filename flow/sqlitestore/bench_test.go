package sqlitestore_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/connector"
	"github.com/knyt/knyt/flow"
)

// BenchmarkOrderStepWrites is what the engine writes for one transferred
// order: the step created with its payload, the shop and ERP refs of the
// order, the step saved as done — four committed transactions, each durable
// against a crash of the process (WAL, synchronous=NORMAL).
func BenchmarkOrderStepWrites(b *testing.B) {
	ctx := context.Background()
	s := open(b, filepath.Join(b.TempDir(), "bench.db"))
	defer s.Close()
	payload := json.RawMessage(`{"number":"#1001","lines":[{"sku":"A-1","quantity":2,"unit_price":{"amount":"33.33","currency":"SEK"}}]}`)
	now := time.Now().UTC()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		key := fmt.Sprintf("order:se:#%d:create", i)
		i++
		st := flow.Step{Key: key, Kind: "order.create", Subject: key, Shop: "se", IdempotencyKey: connector.IdempotencyKey(key),
			State: flow.StepPending, Payload: payload, CreatedAt: now, UpdatedAt: now}
		if _, _, err := s.CreateStep(ctx, st); err != nil {
			b.Fatal(err)
		}
		if err := s.SetRef(ctx, flow.MapKey{Kind: "order.shop", Key: key}, commerce.Ref{System: "shopify", Account: "se", ID: key}); err != nil {
			b.Fatal(err)
		}
		if err := s.SetRef(ctx, flow.MapKey{Kind: "order", Key: key, System: "specter"}, commerce.Ref{System: "specter", ID: key}); err != nil {
			b.Fatal(err)
		}
		st.State = flow.StepDone
		if err := s.SaveStep(ctx, st); err != nil {
			b.Fatal(err)
		}
	}
}
