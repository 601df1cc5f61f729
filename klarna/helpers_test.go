package klarna_test

import (
	"testing"
	"time"

	"github.com/knyt/knyt/connector/connectortest"
	"github.com/knyt/knyt/klarna"
	"github.com/knyt/knyt/klarna/klarnatest"
)

// fixture is a fake with a client pointed at it.
type fixture struct {
	srv *klarnatest.Server
	c   *klarna.Client
	log *connectortest.LogBuffer
}

var start = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func newFixture(t testing.TB, fakeOpts []klarnatest.Option, opts ...klarna.Option) *fixture {
	t.Helper()
	srv := klarnatest.NewServer(append([]klarnatest.Option{klarnatest.WithStartTime(start)}, fakeOpts...)...)
	t.Cleanup(srv.Close)
	log := connectortest.NewLogBuffer()
	base := []klarna.Option{
		klarna.WithBaseURL(srv.URL()),
		klarna.WithRetry(4, time.Millisecond, 5*time.Millisecond),
		klarna.WithClock(srv.Now),
		klarna.WithLogger(log.Logger()),
		klarna.WithMerchantID("M1"),
	}
	c, err := klarna.New(klarnatest.DefaultUsername, klarnatest.DefaultPassword, append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{srv: srv, c: c, log: log}
}

func (f *fixture) order(t testing.TB, amount int64, ref string) string {
	t.Helper()
	id, err := f.srv.AddOrder(klarnatest.NewOrder{Amount: amount, Currency: "SEK", MerchantReference1: ref})
	if err != nil {
		t.Fatal(err)
	}
	return id
}
