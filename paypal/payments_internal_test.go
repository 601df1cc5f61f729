package paypal

import (
	"testing"
	"time"

	"github.com/knyt/knyt/commerce"
)

// An authorization not made through Orders v2 has no order to read
// captures from; its own status is all the payment shows.
func TestPaymentWithoutOrder(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	c := &Client{account: "a", now: func() time.Time { return now }}
	for _, tt := range []struct {
		status   string
		want     commerce.PaymentStatus
		captured string
	}{
		{AuthCreated, commerce.PaymentAuthorized, "0.00"},
		{AuthCaptured, commerce.PaymentCaptured, "25.00"},
		{AuthVoided, commerce.PaymentCancelled, "0.00"},
		{AuthDenied, commerce.PaymentCancelled, "0.00"},
	} {
		a := &Authorization{ID: "A1", Status: tt.status, Amount: &Amount{"EUR", "25.00"}, ExpirationTime: "2026-03-30T09:00:00Z"}
		p, err := c.mapPayment("A1", a, nil)
		if err != nil {
			t.Fatal(err)
		}
		if p.Status != tt.want || p.Captured.Amount.StringFixed(2) != tt.captured || len(p.Captures) != 0 {
			t.Errorf("%s: %s captured %s", tt.status, p.Status, p.Captured)
		}
	}
}
