package connector_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/knyt/knyt/connector"
)

func ExampleIdempotencyKey() {
	// The same delivery always yields the same key, so a capture retried
	// after a crash is applied once by the provider.
	k1 := connector.IdempotencyKey("klarna", "capture", "#1001", "delivery-1")
	k2 := connector.IdempotencyKey("klarna", "capture", "#1001", "delivery-1")
	fmt.Println(k1 == k2, len(k1))
	// Output: true 36
}

func ExampleTransport_Do() {
	attempts := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		attempts++
		if attempts == 1 {
			w.WriteHeader(http.StatusServiceUnavailable) // a blip: retried, because a key is present
			return
		}
		io.WriteString(w, `{"capture_id":"c-1","key":"`+r.Header.Get("Idempotency-Key")+`"}`)
	}))
	defer srv.Close()

	t, err := connector.NewTransport("acme", srv.URL,
		connector.WithIdempotencyHeader("Idempotency-Key"),
		connector.WithRetry(3, time.Millisecond, 10*time.Millisecond))
	if err != nil {
		panic(err)
	}
	resp, err := t.Do(context.Background(), &connector.Request{
		Op: "Capture", Method: http.MethodPost, Path: "orders/1/captures",
		Body: []byte(`{"amount":1000}`), ContentType: "application/json",
		IdempotencyKey: "7d0e6bd1-delivery-1",
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(resp.Attempts, string(resp.Body))
	// Output: 2 {"capture_id":"c-1","key":"7d0e6bd1-delivery-1"}
}

func ExampleError() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, "no such order")
	}))
	defer srv.Close()
	t, _ := connector.NewTransport("acme", srv.URL)
	_, err := t.Do(context.Background(), &connector.Request{Op: "GetOrder", Method: http.MethodGet, Path: "orders/9"})
	fmt.Println(errors.Is(err, connector.ErrNotFound))
	fmt.Println(err)
	// Output:
	// true
	// acme: GetOrder: not found (404): no such order
}
