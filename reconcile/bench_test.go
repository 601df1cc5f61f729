package reconcile

import (
	"context"
	"fmt"
	"runtime"
	"runtime/metrics"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/knyt/knyt/commerce"
)

// benchData is a generated run: documents as compact rows (streamed into
// the batch as invoices, as an engine reading them from its database would)
// and payouts with their transactions.
type benchData struct {
	numbers []string // invoice numbers; credit invoices are "C…"
	orders  []string
	credits []int32 // for a credit invoice, the index of the invoice it credits; -1 for an invoice
	gross   []int64
	days    []int32
	payouts []commerce.Payout
	txs     int
}

// newBenchData builds nPayouts payouts of perPayout transactions each,
// against about nPayouts×perPayout open documents. Per payout: sales keyed
// by order number, PSP reference or invoice number (by provider), two
// refunds of earlier sales against credit invoices, one fee row and one
// sale without keys (matched by amount and date); a few extra invoices
// stay open. Providers rotate over Klarna, Stripe, PayPal and Shopify
// Payments, so every fee treatment is exercised.
func newBenchData(nPayouts, perPayout int) *benchData {
	bd := &benchData{}
	seed := uint64(0x9e3779b97f4a7c15)
	rnd := func(n uint64) uint64 {
		seed ^= seed << 13
		seed ^= seed >> 7
		seed ^= seed << 17
		return seed % n
	}
	providers := []string{"klarna", "stripe", "paypal", "shopify_payments"}
	start := commerce.NewDate(2026, 1, 1)
	addDoc := func(credit int32, gross int64, day int32) int32 {
		i := int32(len(bd.numbers))
		n := strconv.Itoa(int(i) + 100000)
		if credit >= 0 {
			bd.numbers = append(bd.numbers, "C"+n)
			bd.orders = append(bd.orders, bd.orders[credit])
		} else {
			bd.numbers = append(bd.numbers, n)
			bd.orders = append(bd.orders, "W"+n)
		}
		bd.credits = append(bd.credits, credit)
		bd.gross = append(bd.gross, gross)
		bd.days = append(bd.days, day)
		return i
	}
	sek := commerce.SEK
	for pi := 0; pi < nPayouts; pi++ {
		prov := providers[pi%len(providers)]
		day := int32(pi * 300 / nPayouts) // payouts spread over ~300 days
		arrival := start.AddDays(int(day) + 3)
		id := fmt.Sprintf("P%06d", pi)
		txs := make([]commerce.Transaction, 0, perPayout)
		var net int64
		add := func(t commerce.Transaction) {
			t.PayoutID, t.Provider = id, prov
			t.At = start.AddDays(int(day)).Time(time.UTC)
			n := t.Amount
			if !t.Fee.Currency.IsZero() {
				n, _ = n.Sub(t.Fee)
			}
			if !t.FeeVAT.Currency.IsZero() {
				n, _ = n.Sub(t.FeeVAT)
			}
			t.Net = n
			mn, _ := n.Minor()
			net += mn
			txs = append(txs, t)
		}
		sales := perPayout - 4
		var first int32 = -1
		for k := 0; k < sales; k++ {
			g := int64(10000 + rnd(990000))
			d := addDoc(-1, g, day)
			if first < 0 {
				first = d
			}
			t := commerce.Transaction{ID: fmt.Sprintf("%s-%d", id, k), Kind: commerce.TxSale, Amount: commerce.FromMinor(g, sek)}
			fee := g * 2 / 100
			switch prov {
			case "klarna":
				t.ProviderType, t.References = "SALE", commerce.TxReferences{OrderNumber: bd.orders[d], CaptureID: "cap" + bd.numbers[d]}
			case "stripe":
				t.ProviderType, t.References = "charge", commerce.TxReferences{OrderNumber: bd.orders[d], SourceID: "ch_" + bd.numbers[d]}
				t.Fee, t.FeeVAT = commerce.FromMinor(fee, sek), commerce.Zero(sek)
			case "paypal":
				t.ProviderType, t.References = "T0006", commerce.TxReferences{InvoiceNumber: bd.numbers[d], CustomID: bd.orders[d]}
				t.Fee = commerce.FromMinor(fee, sek)
			default:
				t.ProviderType, t.References = "CHARGE", commerce.TxReferences{OrderNumber: "#" + bd.orders[d]}
				t.Fee = commerce.FromMinor(fee, sek)
			}
			add(t)
		}
		// Two refunds of this payout's first sales, to credit invoices.
		for k := 0; k < 2; k++ {
			inv := first + int32(k)
			g := bd.gross[inv] / 2
			c := addDoc(inv, g, day)
			add(commerce.Transaction{ID: fmt.Sprintf("%s-r%d", id, k), Kind: commerce.TxRefund, ProviderType: "refund",
				Amount: commerce.FromMinor(-g, sek), References: commerce.TxReferences{OrderNumber: bd.orders[c]}})
		}
		// A period fee (with Klarna's VAT on it), and a sale with no keys.
		fee := commerce.Transaction{ID: id + "-fee", Kind: commerce.TxFee, ProviderType: "fee", Amount: commerce.Zero(sek),
			Fee: commerce.FromMinor(4900, sek)}
		if prov == "klarna" {
			fee.FeeVAT = commerce.FromMinor(1225, sek)
		}
		add(fee)
		g := int64(1000000 + pi) // unique within the window
		addDoc(-1, g, day)
		add(commerce.Transaction{ID: id + "-nokey", Kind: commerce.TxSale, ProviderType: "sale", Amount: commerce.FromMinor(g, sek)})
		bd.payouts = append(bd.payouts, commerce.Payout{ID: id, Provider: prov, Amount: commerce.FromMinor(net, sek),
			Status: commerce.PayoutPaid, ArrivalDate: arrival, Transactions: txs})
		bd.txs += len(txs)
	}
	for len(bd.numbers) < nPayouts*perPayout {
		addDoc(-1, int64(10000+rnd(990000)), int32(rnd(300)))
	}
	return bd
}

// load streams the documents into a batch and adds the payouts.
func (bd *benchData) load(b *Batch) {
	start := commerce.NewDate(2026, 1, 1)
	var inv commerce.Invoice
	for i := range bd.numbers {
		inv = commerce.Invoice{Kind: commerce.KindInvoice, Number: bd.numbers[i], OrderNumber: bd.orders[i],
			Currency: commerce.SEK, IssueDate: start.AddDays(int(bd.days[i])), Gross: commerce.FromMinor(bd.gross[i], commerce.SEK)}
		if c := bd.credits[i]; c >= 0 {
			inv.Kind, inv.Credits = commerce.KindCreditInvoice, bd.numbers[c]
		}
		if err := b.AddInvoice(&inv); err != nil {
			panic(err)
		}
	}
	for i := range bd.payouts {
		b.AddPayout(&bd.payouts[i])
	}
}

// heapSampler records the peak of live heap objects while it runs.
type heapSampler struct {
	stop chan struct{}
	wg   sync.WaitGroup
	peak uint64
}

func heapNow() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

func startHeapSampler() *heapSampler {
	h := &heapSampler{stop: make(chan struct{}), peak: heapNow()}
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-h.stop:
				return
			case <-t.C:
				if v := heapNow(); v > h.peak {
					h.peak = v
				}
			}
		}
	}()
	return h
}

func (h *heapSampler) done() uint64 {
	close(h.stop)
	h.wg.Wait()
	if v := heapNow(); v > h.peak {
		h.peak = v
	}
	return h.peak
}

// BenchmarkReconcile reconciles payouts against open documents: small (100
// payouts, 10,000 transactions) and million (10,000 payouts, 1,000,000
// transactions, 1,000,000 open documents). It reports transactions per
// second, the CPU seconds per run (all cores, garbage collection included;
// where the platform gives it), the peak heap during the run (sampled
// every 10 ms, input included: the payouts the caller holds and the
// documents streamed in) and the heap the run added to the input it
// started with. The sampler and the CPU clock are read with the timer
// stopped.
func BenchmarkReconcile(b *testing.B) {
	for _, c := range []struct {
		name               string
		payouts, perPayout int
	}{
		{"small", 100, 100},
		{"million", 10000, 100},
	} {
		b.Run(c.name, func(b *testing.B) {
			if testing.Short() && c.payouts > 1000 {
				b.Skip("the million case is not run with -short")
			}
			bd := newBenchData(c.payouts, c.perPayout)
			r, err := New(WithLedger(NewMemoryLedger()))
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			var peak, base uint64
			var cpu time.Duration
			cpuOK := true
			for range b.N {
				b.StopTimer()
				runtime.GC()
				base = heapNow()
				h := startHeapSampler()
				c0, ok0 := cpuTime()
				b.StartTimer()
				batch := r.NewBatch()
				bd.load(batch)
				res, err := batch.Reconcile(context.Background())
				if err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				c1, ok1 := cpuTime()
				cpu += c1 - c0
				cpuOK = cpuOK && ok0 && ok1
				peak = max(peak, h.done())
				if res.Summary.PayoutsBooked != c.payouts || res.Summary.TransactionsOpen != 0 {
					b.Fatalf("booked %d payouts, %d unmatched: %s", res.Summary.PayoutsBooked, res.Summary.TransactionsOpen, res.SummaryText())
				}
				b.StartTimer()
			}
			b.ReportMetric(float64(bd.txs)*float64(b.N)/b.Elapsed().Seconds(), "tx/s")
			if cpuOK {
				b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
			}
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
			b.ReportMetric(float64(peak-base)/(1<<20), "run-heap-MB")
		})
	}
}
