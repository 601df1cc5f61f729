package klarnatest_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/connector"
	"github.com/knyt/knyt/connector/fault"
	"github.com/knyt/knyt/klarna"
	"github.com/knyt/knyt/klarna/klarnatest"
)

// Point the klarna client at the fake, seed an authorized order, and lose
// the answer to a capture: the client's retry with the same idempotency key
// is replayed, and the money is captured once.
func ExampleNewServer() {
	fake := klarnatest.NewServer()
	defer fake.Close()
	orderID, _ := fake.AddOrder(klarnatest.NewOrder{Amount: 50000, Currency: "SEK", MerchantReference1: "1001"})

	c, err := klarna.New(klarnatest.DefaultUsername, klarnatest.DefaultPassword,
		klarna.WithBaseURL(fake.URL()), klarna.WithRetry(3, time.Millisecond, 10*time.Millisecond))
	if err != nil {
		panic(err)
	}
	fake.Faults().Inject(fault.Fault{Kind: fault.LostAnswer, Match: func(r *http.Request) bool { return r.Method == http.MethodPost }})

	ctx := context.Background()
	_, err = c.Capture(ctx, connector.CaptureRequest{PaymentReference: orderID, Amount: commerce.FromMinor(50000, commerce.SEK)},
		connector.WithIdempotencyKey(connector.IdempotencyKey("klarna", "capture", orderID)))
	fmt.Println("capture error:", err)

	o, _ := fake.Order(orderID)
	fmt.Println(o.Status, len(o.Captures), "capture(s) of", o.CapturedAmount, "öre; executed", fake.Calls("captureOrder"), "time(s), replayed", fake.Replays())

	// Time is fake: a fresh authorization expires without sleeping.
	other, _ := fake.AddOrder(klarnatest.NewOrder{Amount: 1000})
	fake.Advance(29 * 24 * time.Hour)
	_, err = c.Capture(ctx, connector.CaptureRequest{PaymentReference: other, Amount: commerce.FromMinor(1000, commerce.SEK)},
		connector.WithIdempotencyKey(connector.IdempotencyKey("klarna", "capture", other)))
	fmt.Println(errors.Is(err, connector.ErrConflict))
	// Output:
	// capture error: <nil>
	// CAPTURED 1 capture(s) of 50000 öre; executed 1 time(s), replayed 1
	// true
}

// Settle what was captured into a payout whose rows sum exactly.
func ExampleServer_Settle() {
	fake := klarnatest.NewServer()
	defer fake.Close()
	orderID, _ := fake.AddOrder(klarnatest.NewOrder{Amount: 10000})
	c, _ := klarna.New(klarnatest.DefaultUsername, klarnatest.DefaultPassword, klarna.WithBaseURL(fake.URL()))
	_, _ = c.Capture(context.Background(), connector.CaptureRequest{PaymentReference: orderID, Amount: commerce.FromMinor(10000, commerce.SEK)},
		connector.WithIdempotencyKey("capture-1"))
	refs := fake.Settle()
	p, rows, _ := fake.Payout(refs[0])
	for _, r := range rows {
		fmt.Println(r.Type, r.DetailedType, r.Amount, *vatOf(r.VATAmount))
	}
	fmt.Println("settlement", p.Totals.SettlementAmount)
	// Output:
	// SALE PURCHASE 10000 0
	// FEE PURCHASE_FEE_PERCENTAGE 249 62
	// FEE PURCHASE_FEE_FIXED 290 73
	// settlement 9326
}

func vatOf(p *int64) *int64 {
	if p == nil {
		var zero int64
		return &zero
	}
	return p
}
