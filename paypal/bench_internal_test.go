package paypal

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/knyt/knyt/connector"
)

func BenchmarkParseTime(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseTime("2014-07-11T04:03:52+0000"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkToMoney(b *testing.B) {
	b.ReportAllocs()
	a := Amount{CurrencyCode: "SEK", Value: "1234.50"}
	for b.Loop() {
		if _, err := ToMoney(a); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBuildPayout maps a withdrawal with 1000 rows to a payout and
// checks its sum: the work per payout after the rows are fetched.
func BenchmarkBuildPayout(b *testing.B) {
	tr, err := connector.NewTransport(System, "http://127.0.0.1")
	if err != nil {
		b.Fatal(err)
	}
	c := &Client{tr: tr, account: "a", now: time.Now}
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var g payoutGroup
	for i := range 1000 {
		d := TransactionDetail{TransactionInfo: TransactionInfo{
			TransactionID: fmt.Sprintf("TX%015d", i), TransactionEventCode: "T0006",
			TransactionInitiationDate: FormatTime(at.Add(time.Duration(i) * time.Minute)),
			TransactionAmount:         &Amount{"SEK", "100.00"}, FeeAmount: &Amount{"SEK", "-3.49"},
		}}
		r, err := readRow(d)
		if err != nil {
			b.Fatal(err)
		}
		g.rows = append(g.rows, r)
	}
	g.wd, err = readRow(TransactionDetail{TransactionInfo: TransactionInfo{
		TransactionID: "WD0000000000000001", TransactionEventCode: "T0400",
		TransactionInitiationDate: FormatTime(at.Add(24 * time.Hour)), TransactionAmount: &Amount{"SEK", "-96510.00"},
	}})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		p, err := c.buildPayout(context.Background(), "bench", g, true)
		if err != nil || len(p.Transactions) != 1001 {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)*1000/b.Elapsed().Seconds(), "rows/s")
}
