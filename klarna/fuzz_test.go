package klarna

import (
	"bytes"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/knyt/knyt/connector"
)

// The fuzz targets below run their seeds in every `go test`; fuzz them by
// hand with e.g. `go test -fuzz FuzzParsePayoutReport ./klarna`.

func FuzzParsePayoutReport(f *testing.F) {
	if golden, err := os.ReadFile("testdata/payout-report.csv"); err == nil {
		f.Add(golden)
	}
	f.Add([]byte("type;amount;currency_code\nSALE;100;SEK\n"))
	f.Add([]byte("type;amount;currency_code;vat_rate;vat_amount\nFEE;-100;sek;25.00;25\n"))
	f.Add([]byte("type;amount;currency_code\nSALE;1.5;SEK\n"))
	f.Add([]byte("type;amount;currency_code;sale_date\nSALE;1;SEK;2026-13-40\n"))
	f.Add([]byte("\"type\";\"amount\";currency_code\n\"SA\"\"LE\";9223372036854775807;JPY\n"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, format := range []ReportFormat{DefaultReportFormat, {Comma: ';', MajorUnits: true}} {
			rows, err := format.Parse(bytes.NewReader(data))
			if err != nil {
				if !errors.Is(err, ErrMalformed) {
					t.Fatalf("untyped error: %v", err)
				}
				continue
			}
			for _, r := range rows {
				if r.Type == "" || r.CurrencyCode == "" {
					t.Fatalf("row without type or currency accepted: %+v", r)
				}
				if _, _, err := MapTransaction("REF", r); err != nil && errors.Is(err, ErrMalformed) {
					t.Fatalf("mapping a parsed row: %v", err)
				}
			}
			// What the writer writes, the parser reads back the same.
			var b bytes.Buffer
			if err := WritePayoutReport(&b, rows); err != nil {
				t.Fatal(err)
			}
			again, err := ParsePayoutReport(&b)
			if err != nil {
				t.Fatalf("re-reading a written report: %v", err)
			}
			if len(again) != len(rows) {
				t.Fatalf("%d rows written, %d read back", len(rows), len(again))
			}
			for i := range rows {
				if again[i].Amount != rows[i].Amount || again[i].Type != rows[i].Type {
					t.Fatalf("row %d changed in a round trip: %+v vs %+v", i, rows[i], again[i])
				}
			}
		}
	})
}

func FuzzDecodeTransactions(f *testing.F) {
	f.Add([]byte(`{"transactions":[{"amount":2000,"type":"SALE","capture_id":"33db6f16-9f43-43fa-a587-cc51411c98e4","sale_date":"2016-12-14T07:52:26Z","capture_date":"2016-12-14T07:52:26Z","order_id":"ce17b4cb-147f-48b7-b8e6-dde2fa397f04","currency_code":"USD","purchase_country":"PL","vat_rate":2000,"vat_amount":1000}],"pagination":{"count":1,"total":42,"offset":10,"next":"http://example.com/collection?offset=21&size=10"}}`))
	f.Add([]byte(`{"transactions":[{"amount":1.5,"type":"FEE","currency_code":"SEK"}],"pagination":{"count":1}}`))
	f.Add([]byte(`{"transactions":[{"amount":-9223372036854775808,"type":"FEE_REFUND","currency_code":"JPY","vat_amount":-9223372036854775808}],"pagination":{"count":1}}`))
	f.Add([]byte(`{"transactions":null,"pagination":{"count":0}}`))
	f.Add([]byte(`[`))
	f.Fuzz(func(t *testing.T, data []byte) {
		tc, err := decodeTransactionCollection("Fuzz", data)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("untyped error: %v", err)
			}
			return
		}
		p := Payout{PaymentReference: "REF", CurrencyCode: "SEK", MerchantSettlementType: SettlementNet, PayoutDate: time.Unix(0, 0)}
		if len(tc.Transactions) > 0 {
			p.CurrencyCode = tc.Transactions[0].CurrencyCode
		}
		out, _, err := NormalizePayout(p, tc.Transactions)
		if err != nil {
			var ce *connector.Error
			if !errors.As(err, &ce) {
				t.Fatalf("untyped error: %v", err)
			}
			return
		}
		for _, tx := range out.Transactions {
			if err := tx.Validate(); err != nil {
				t.Fatalf("normalised transaction invalid: %v", err)
			}
		}
	})
}

func FuzzDecodeOrder(f *testing.F) {
	f.Add([]byte(`{"order_id":"f3392f8b-6116-4073-ab96-e330819e2c07","status":"PART_CAPTURED","order_amount":10000,"captured_amount":4000,"refunded_amount":0,"remaining_authorized_amount":6000,"purchase_currency":"sek","expires_at":"2015-12-04T10:26:06Z","captures":[{"capture_id":"c","captured_amount":4000,"order_lines":[{"name":"x","quantity":1,"unit_price":4000,"tax_rate":2500,"total_amount":4000}]}]}`))
	f.Add([]byte(`{"order_id":"o","purchase_currency":"XXX"}`))
	f.Add([]byte(`{"order_id":"o","purchase_currency":"SEK","captured_amount":1e3}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		o, err := decodeOrder("Fuzz", data)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("untyped error: %v", err)
			}
			return
		}
		c := &Client{now: time.Now}
		if _, err := c.mapPayment(o, data); err != nil && o.PurchaseCurrency == "SEK" {
			t.Fatalf("a SEK order did not map: %v", err)
		}
	})
}

func FuzzDecodeError(f *testing.F) {
	f.Add(403, []byte(`{"error_code":"CAPTURE_NOT_ALLOWED","error_messages":["Capture not allowed."],"correlation_id":"66782175-ae05-44fc-9eb3-eeceadbad271"}`))
	f.Add(502, []byte(`<html>`))
	f.Add(429, []byte(`{"error_code":"TOO_MANY_REQUESTS","error_messages":null,"correlation_id":""}`))
	f.Fuzz(func(t *testing.T, status int, data []byte) {
		e := decodeError(&connector.Response{Status: status, Body: data})
		if e != nil && (e.Code == "" || e.Kind == connector.KindUnknown && status >= 400 && status < 600) {
			t.Fatalf("decoded without a code or kind: %+v", e)
		}
	})
}
