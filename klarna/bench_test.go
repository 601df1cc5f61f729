package klarna_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/knyt/knyt/connector"
	"github.com/knyt/knyt/klarna"
)

func benchRows(n int) (klarna.Payout, []klarna.Transaction) {
	var rows []klarna.Transaction
	var t klarna.Totals
	vat, rate := int64(623), int64(2500)
	for i := range n {
		r := wireRow("SALE", 100000+int64(i))
		r.CaptureID = fmt.Sprintf("capture-%d", i)
		r.MerchantReference1 = fmt.Sprint(10000 + i)
		if i%2 == 1 {
			r = wireRow("FEE", 2490)
			r.VATAmount, r.VATRate = &vat, &rate
			t.FeeAmount += 2490
			t.TaxAmount += vat
			t.SettlementAmount -= 2490 + vat
		} else {
			t.SaleAmount += r.Amount
			t.SettlementAmount += r.Amount
		}
		rows = append(rows, r)
	}
	return payoutOf("BENCH001", t.SettlementAmount, t), rows
}

// BenchmarkNormalizePayout maps and checks one full page of 500 rows.
func BenchmarkNormalizePayout(b *testing.B) {
	p, rows := benchRows(500)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := klarna.NormalizePayout(p, rows); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(rows)), "ns/row")
}

// BenchmarkParsePayoutReport parses a 1000-row CSV report.
func BenchmarkParsePayoutReport(b *testing.B) {
	_, rows := benchRows(1000)
	var buf bytes.Buffer
	if err := klarna.WritePayoutReport(&buf, rows); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := klarna.ParsePayoutReport(bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(rows)), "ns/row")
}

// BenchmarkCaptureAgainstFake is one capture end to end: read the order,
// capture, read the capture back, each validated by the fake against
// Klarna's OpenAPI description.
func BenchmarkCaptureAgainstFake(b *testing.B) {
	f := newFixture(b, nil)
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		b.StopTimer()
		id := f.order(b, 100, "bench")
		b.StartTimer()
		if _, err := f.c.Capture(ctx, connector.CaptureRequest{PaymentReference: id, Amount: sek(1)}, key("bench", fmt.Sprint(i))); err != nil {
			b.Fatal(err)
		}
	}
}
