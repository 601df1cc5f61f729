package paypal_test

import (
	"testing"
	"time"

	"github.com/knyt/knyt/paypal"
	"github.com/knyt/knyt/paypal/paypaltest"
)

func BenchmarkVerifyWebhookSignature(b *testing.B) {
	fake, err := paypaltest.NewServer()
	if err != nil {
		b.Fatal(err)
	}
	defer fake.Close()
	body := []byte(`{"id":"WH-1","event_type":"PAYMENT.CAPTURE.COMPLETED","resource":{"id":"2GG279541U471931P"}}`)
	h, err := fake.Sign(body, "1JE4291016473214C")
	if err != nil {
		b.Fatal(err)
	}
	cert, err := fake.Certificate()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := paypal.VerifyWebhookSignature(h, body, "1JE4291016473214C", cert); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPayouts lists one payout of 1000 rows through the fake: two
// pages of Transaction Search, parsing, grouping, mapping and the sum check.
func BenchmarkPayouts(b *testing.B) {
	e := newEnv(b, nil)
	for i := range 1000 {
		if _, err := e.fake.AddTransaction(paypaltest.Transaction{EventCode: "T0006", At: start.Add(-10*day + time.Duration(i)*time.Minute), Currency: "SEK", Gross: "100.00", Fee: "-3.49"}); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := e.fake.AddTransaction(paypaltest.Transaction{EventCode: "T0400", At: start.Add(-20 * day), Currency: "SEK", Gross: "0.00"}); err != nil {
		b.Fatal(err)
	}
	if _, err := e.fake.AddTransaction(paypaltest.Transaction{EventCode: "T0400", At: start.Add(-day), Currency: "SEK", Gross: "-96510.00"}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		for p, err := range e.client.Payouts(b.Context(), start.Add(-2*day), start.Add(-12*time.Hour)) {
			if err != nil {
				b.Fatal(err)
			}
			n += len(p.Transactions)
		}
		if n != 1001 {
			b.Fatalf("%d rows", n)
		}
	}
	b.ReportMetric(float64(b.N)*1000/b.Elapsed().Seconds(), "rows/s")
}
