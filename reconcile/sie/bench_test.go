package sie

import (
	"bytes"
	"fmt"
	"io"
	"testing"

	"github.com/knyt/knyt/commerce"
)

// benchVouchers builds n payout-shaped vouchers of five rows each, one in
// four with a result-unit dimension, like reconcile produces.
func benchVouchers(b *testing.B, n int) []commerce.Voucher {
	b.Helper()
	vs := make([]commerce.Voucher, n)
	for i := range vs {
		gross := commerce.FromMinor(int64(100000+i*37), commerce.SEK)
		fee := commerce.FromMinor(int64(2000+i%500), commerce.SEK)
		vat := commerce.FromMinor((int64(2000+i%500)+2)/4, commerce.SEK)
		net, _ := gross.Sub(fee)
		net, _ = net.Sub(vat)
		var dims []commerce.Dimension
		if i%4 == 0 {
			dims = []commerce.Dimension{{Dim: 1, Object: fmt.Sprintf("WEB%d", i%3)}}
		}
		vs[i] = commerce.Voucher{
			ID: fmt.Sprintf("klarna-%d", i), Date: commerce.NewDate(2026, 1, 1).AddDays(i % 365),
			Text: fmt.Sprintf("Klarna utbetalning %d – order %d", i, 100000+i),
			Postings: []commerce.Posting{
				{Account: "1930", Amount: net},
				{Account: "6064", Amount: fee, Dimensions: dims},
				{Account: "2641", Amount: vat},
				{Account: "1686", Amount: gross.Neg(), Text: fmt.Sprintf("Order %d", 100000+i)},
				{Account: "3740", Amount: commerce.Zero(commerce.SEK)},
			},
		}
	}
	return vs
}

const benchN = 10000

func BenchmarkWrite(b *testing.B) {
	vs := benchVouchers(b, benchN)
	w := NewWriter(BAS2026(), WithDefaultSeries("K"))
	h := testHeader()
	var size int
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var cw countingWriter
		if _, err := w.Write(&cw, h, vs); err != nil {
			b.Fatal(err)
		}
		size = cw.n
	}
	b.ReportMetric(float64(benchN)*float64(b.N)/b.Elapsed().Seconds(), "vouchers/s")
	b.ReportMetric(float64(size), "file-bytes")
}

func BenchmarkRead(b *testing.B) {
	vs := benchVouchers(b, benchN)
	var buf bytes.Buffer
	if _, err := NewWriter(BAS2026(), WithDefaultSeries("K")).Write(&buf, testHeader(), vs); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		f, err := Read(bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		if len(f.Vouchers) != benchN {
			b.Fatalf("read %d vouchers", len(f.Vouchers))
		}
	}
	b.ReportMetric(float64(benchN)*float64(b.N)/b.Elapsed().Seconds(), "vouchers/s")
}

type countingWriter struct{ n int }

func (c *countingWriter) Write(p []byte) (int, error) { c.n += len(p); return len(p), nil }

var _ io.Writer = (*countingWriter)(nil)
