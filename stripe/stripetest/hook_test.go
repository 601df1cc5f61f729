package stripetest_test

import (
	"net/http"
	"net/http/httptest"
)

func newHookServer(status func(*http.Request) int) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(status(r))
	}))
}
