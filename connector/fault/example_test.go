package fault_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"

	"github.com/knyt/knyt/connector/fault"
)

func Example() {
	var applied atomic.Int32
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		applied.Add(1)
		io.WriteString(w, `{"ok":true}`)
	})
	inj := fault.New(func(w http.ResponseWriter, r *http.Request, status int) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"error_code":"INTERNAL","status":%d}`, status)
	})
	srv := httptest.NewServer(inj.Wrap(api))
	defer srv.Close()

	inj.Inject(fault.Fault{Kind: fault.Status, Status: http.StatusBadGateway})
	inj.Inject(fault.Fault{Kind: fault.LostAnswer})

	resp, _ := http.Post(srv.URL, "application/json", nil)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(resp.StatusCode, string(body), "applied:", applied.Load())

	_, err := http.Post(srv.URL, "application/json", nil)
	fmt.Println(err != nil, "applied:", applied.Load())
	// Output:
	// 502 {"error_code":"INTERNAL","status":502} applied: 0
	// true applied: 1
}

// A process killed on its second call: the call reaches the server, the
// answer does not reach the process, and its context ends.
func ExampleCrash() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Println("server:", r.URL.Path) }))
	defer srv.Close()
	crash := &fault.Crash{}
	client := &http.Client{Transport: crash}
	ctx, cancel := context.WithCancel(context.Background())
	crash.Arm(2, cancel)
	for _, path := range []string{"/capture-1", "/capture-2"} {
		resp, err := client.Get(srv.URL + path)
		if err != nil {
			fmt.Println("client:", path, "no answer")
			continue
		}
		resp.Body.Close()
		fmt.Println("client:", path, resp.StatusCode)
	}
	fmt.Println("context:", ctx.Err(), "crashes:", crash.Crashes())
	// Output:
	// server: /capture-1
	// client: /capture-1 200
	// server: /capture-2
	// client: /capture-2 no answer
	// context: context canceled crashes: 1
}
