package stripe

import (
	"testing"
	"time"
)

func BenchmarkParamsEncode(b *testing.B) {
	p := Params{"payment_intent": "pi_3Kf0000000000000001", "amount": int64(12345), "reason": "requested_by_customer",
		"metadata": map[string]string{"order_number": "1001", "merchant_reference": "RMA-7"}, "expand": []string{"charge"}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Encode(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyWebhook(b *testing.B) {
	payload := make([]byte, 3000) // a typical event is a few KiB
	for i := range payload {
		payload[i] = 'a' + byte(i%26)
	}
	now := time.Unix(1700000000, 0)
	header := SignWebhook(payload, "whsec_bench", now)
	b.ReportAllocs()
	b.SetBytes(int64(len(payload)))
	for b.Loop() {
		if err := VerifyWebhook(payload, header, "whsec_bench", now, 0); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMapTransaction(b *testing.B) {
	c, err := New("sk_test_bench")
	if err != nil {
		b.Fatal(err)
	}
	bt := &BalanceTransaction{ID: "txn_1", Amount: 125000, Fee: 1925, Net: 123075, Currency: "sek",
		FeeDetails: []FeeDetail{{Amount: 1900, Currency: "sek", Type: "stripe_fee"}, {Amount: 25, Currency: "sek", Type: "tax"}},
		Created:    1700000000, ReportingCategory: "charge", Type: "charge",
		Source: Expandable[Source]{ID: "ch_1", Object: &Source{ID: "ch_1", Object: "charge",
			PaymentIntent: Expandable[PaymentIntent]{ID: "pi_1"}, Metadata: map[string]string{"order_number": "1001"}}}}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := c.mapTransaction(bt, "po_1"); err != nil {
			b.Fatal(err)
		}
	}
}
