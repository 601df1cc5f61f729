package klarnatest

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/knyt/knyt/connector/fault"
	"github.com/knyt/knyt/klarna"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a answer) envelope(t *testing.T) klarna.ErrorResponse {
	t.Helper()
	var e klarna.ErrorResponse
	if err := json.Unmarshal(a.body, &e); err != nil {
		t.Fatalf("error body %q: %v", a.body, err)
	}
	if e.CorrelationID == "" || e.CorrelationID != a.header.Get(klarna.CorrelationHeader) {
		t.Errorf("correlation id %q, header %q", e.CorrelationID, a.header.Get(klarna.CorrelationHeader))
	}
	return e
}

// do sends a raw request with the default credentials unless auth is set.
func do(t *testing.T, s *Server, method, path, body string, header ...string) answer {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, s.URL()+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(DefaultUsername, DefaultPassword)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		if header[i+1] == "" {
			req.Header.Del(header[i])
			continue
		}
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{resp.StatusCode, resp.Header, b}
}

func newServer(t *testing.T, opts ...Option) *Server {
	s := NewServer(append([]Option{WithStartTime(t0)}, opts...)...)
	t.Cleanup(s.Close)
	return s
}

func TestSpecRepairs(t *testing.T) {
	sp, err := loadSpecs()
	if err != nil {
		t.Fatal(err)
	}
	if sp.om.Components.SecuritySchemes["basicAuth"] == nil {
		t.Error("basicAuth not aliased")
	}
	enum := sp.om.Components.Schemas["order_line"].Value.Properties["type"].Value.Enum
	if len(enum) != 9 || enum[0] != "physical" || enum[8] != "return_fee" {
		t.Errorf("order_line.type enum = %v", enum)
	}
}

func TestRequestsAreValidated(t *testing.T) {
	s := newServer(t)
	id, err := s.AddOrder(NewOrder{Amount: 10000})
	if err != nil {
		t.Fatal(err)
	}
	captures := "/ordermanagement/v1/orders/" + id + "/captures"
	for _, tc := range []struct {
		name, method, path, body string
		header                   []string
		status                   int
		code, message            string
	}{
		{"fractional amount", "POST", captures, `{"captured_amount": 12.5}`, nil, 422, "UNPROCESSABLE_ENTITY", "body: /captured_amount: value must be an integer"},
		{"amount missing", "POST", captures, `{"reference": "x"}`, nil, 422, "UNPROCESSABLE_ENTITY", "captured_amount"},
		{"amount too large", "POST", captures, `{"captured_amount": 200000001}`, nil, 422, "UNPROCESSABLE_ENTITY", "body: /captured_amount: number must be at most"},
		{"reference too long", "POST", captures, `{"captured_amount": 1, "reference": "` + strings.Repeat("r", 256) + `"}`, nil, 422, "UNPROCESSABLE_ENTITY", "/reference"},
		{"bad line type", "POST", captures, `{"captured_amount": 100, "order_lines": [{"name": "x", "quantity": 1, "unit_price": 100, "total_amount": 100, "type": "bogus"}]}`, nil, 422, "UNPROCESSABLE_ENTITY", "/order_lines/0/type"},
		{"line without name", "POST", captures, `{"captured_amount": 100, "order_lines": [{"quantity": 1, "unit_price": 100, "total_amount": 100}]}`, nil, 422, "UNPROCESSABLE_ENTITY", "name"},
		{"malformed JSON", "POST", captures, `{"captured_amount": `, nil, 400, "BAD_VALUE", "body"},
		{"no body", "POST", captures, "", nil, 400, "BAD_VALUE", "body"},
		{"body where none is allowed", "POST", "/ordermanagement/v1/orders/" + id + "/release-remaining-authorization", `{}`, []string{"Klarna-Idempotency-Key", "k"}, 400, "BAD_VALUE", "not allowed"},
		{"size above 500", "GET", "/settlements/v1/payouts?size=501", "", nil, 400, "BAD_VALUE", "query parameter size"},
		{"bare date", "GET", "/settlements/v1/payouts?start_date=2026-01-01", "", nil, 400, "BAD_VALUE", "start_date"},
		{"summary without dates", "GET", "/settlements/v1/payouts/summary", "", nil, 400, "BAD_VALUE", "end_date"},
		{"report without reference", "GET", "/settlements/v1/reports/payout-with-transactions", "", nil, 400, "BAD_VALUE", "payment_reference"},
		{"no credentials", "GET", "/ordermanagement/v1/orders/" + id, "", []string{"Authorization", ""}, 401, "UNAUTHORIZED", ""},
		{"wrong password", "GET", "/ordermanagement/v1/orders/" + id, "", []string{"Authorization", "Basic dXNlcjpwYXNz"}, 401, "UNAUTHORIZED", ""},
		{"unknown path", "GET", "/ordermanagement/v2/orders", "", nil, 404, "NOT_FOUND", ""},
		{"unknown order", "GET", "/ordermanagement/v1/orders/nope", "", nil, 404, "NO_SUCH_ORDER", ""},
		{"not implemented", "POST", "/ordermanagement/v1/orders/" + id + "/acknowledge", "", nil, 501, "NOT_IMPLEMENTED", "acknowledgeOrder"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := do(t, s, tc.method, tc.path, tc.body, tc.header...)
			if a.status != tc.status {
				t.Fatalf("status %d, want %d: %s", a.status, tc.status, a.body)
			}
			e := a.envelope(t)
			if e.ErrorCode != tc.code || !strings.Contains(strings.Join(e.ErrorMessages, " | "), tc.message) {
				t.Errorf("error %s %q, want %s containing %q", e.ErrorCode, e.ErrorMessages, tc.code, tc.message)
			}
		})
	}
	if n := s.Calls("captureOrder"); n != 0 {
		t.Errorf("%d invalid captures executed", n)
	}
	// The bare API key form is accepted.
	if a := do(t, s, "GET", "/ordermanagement/v1/orders/"+id, "", "Authorization", "Basic "+DefaultPassword); a.status != 200 {
		t.Errorf("API key auth: %d %s", a.status, a.body)
	}
}

func TestIdempotencyByKeyOnly(t *testing.T) {
	s := newServer(t)
	id, _ := s.AddOrder(NewOrder{Amount: 10000})
	path := "/ordermanagement/v1/orders/" + id + "/captures"
	first := do(t, s, "POST", path, `{"captured_amount": 1000}`, klarna.IdempotencyHeader, "key-1")
	second := do(t, s, "POST", path, `{"captured_amount": 9000}`, klarna.IdempotencyHeader, "key-1")
	if first.status != 201 || second.status != 201 || first.header.Get("Capture-Id") != second.header.Get("Capture-Id") {
		t.Fatalf("replay: %d %v / %d %v", first.status, first.header, second.status, second.header)
	}
	o, _ := s.Order(id)
	if len(o.Captures) != 1 || o.CapturedAmount != 1000 {
		t.Errorf("captures %d, captured %d", len(o.Captures), o.CapturedAmount)
	}
	// Refusals are replayed too: the same key cannot turn a refusal into a
	// success later.
	over := do(t, s, "POST", path, `{"captured_amount": 99999}`, klarna.IdempotencyHeader, "key-2")
	s.Advance(time.Hour)
	again := do(t, s, "POST", path, `{"captured_amount": 1}`, klarna.IdempotencyHeader, "key-2")
	if over.status != 403 || again.status != 403 || s.Replays() != 2 {
		t.Errorf("refusal replay: %d, %d, replays %d", over.status, again.status, s.Replays())
	}
	// Without a key every request is executed.
	do(t, s, "POST", path, `{"captured_amount": 1}`)
	do(t, s, "POST", path, `{"captured_amount": 1}`)
	if o, _ := s.Order(id); len(o.Captures) != 3 {
		t.Errorf("%d captures after two keyless ones", len(o.Captures))
	}
	s.Advance(24 * time.Hour)
	later := do(t, s, "POST", path, `{"captured_amount": 1000}`, klarna.IdempotencyHeader, "key-1")
	if later.header.Get("Capture-Id") == first.header.Get("Capture-Id") {
		t.Error("key replayed after 24 h")
	}
}

func TestOrderLifecycle(t *testing.T) {
	s := newServer(t, WithAuthorizationTTL(time.Hour))
	id, err := s.AddOrder(NewOrder{Amount: 10000, MerchantReference1: "1001"})
	if err != nil {
		t.Fatal(err)
	}
	base := "/ordermanagement/v1/orders/" + id
	a := do(t, s, "POST", base+"/captures", `{"captured_amount": 4000, "reference": "d1"}`)
	if a.status != 201 || !strings.HasSuffix(a.header.Get("Location"), "/captures/"+a.header.Get("Capture-Id")) || len(a.body) != 0 {
		t.Fatalf("capture: %d %v %q", a.status, a.header, a.body)
	}
	got := do(t, s, "GET", base+"/captures/"+a.header.Get("Capture-Id"), "")
	var c klarna.Capture
	if err := json.Unmarshal(got.body, &c); err != nil || c.CapturedAmount != 4000 || c.Reference != "d1" || !c.CapturedAt.Equal(t0) {
		t.Errorf("capture read back: %s %v", got.body, err)
	}
	if a := do(t, s, "POST", base+"/refunds", `{"refunded_amount": 4001}`); a.status != 403 || a.envelope(t).ErrorCode != "REFUND_NOT_ALLOWED" {
		t.Errorf("over-refund: %d %s", a.status, a.body)
	}
	if a := do(t, s, "POST", base+"/refunds", `{"refunded_amount": 1000}`); a.status != 201 || a.header.Get("Refund-Id") == "" {
		t.Errorf("refund: %d %v", a.status, a.header)
	}
	if a := do(t, s, "POST", base+"/cancel", ""); a.status != 403 || a.envelope(t).ErrorCode != "CANCEL_NOT_ALLOWED" {
		t.Errorf("cancel after capture: %d %s", a.status, a.body)
	}
	if a := do(t, s, "PATCH", base+"/merchant-references", `{"merchant_reference2": "x"}`); a.status != 204 {
		t.Errorf("merchant references: %d %s", a.status, a.body)
	}
	s.Advance(2 * time.Hour)
	if a := do(t, s, "POST", base+"/captures", `{"captured_amount": 1}`); a.status != 403 || a.envelope(t).ErrorCode != "CAPTURE_NOT_ALLOWED" {
		t.Errorf("capture after expiry: %d %s", a.status, a.body)
	}
	o, _ := s.Order(id)
	want := []any{klarna.StatusPartCaptured, int64(4000), int64(1000), int64(6000), "1001", "x"}
	if d := cmp.Diff(want, []any{o.Status, o.CapturedAmount, o.RefundedAmount, o.RemainingAuthorizedAmount, o.MerchantReference1, o.MerchantReference2}); d != "" {
		t.Errorf("order (-want +got):\n%s", d)
	}
	if a := do(t, s, "POST", base+"/release-remaining-authorization", ""); a.status != 204 {
		t.Errorf("release: %d %s", a.status, a.body)
	}
	if a := do(t, s, "POST", base+"/release-remaining-authorization", ""); a.status != 403 || !strings.Contains(string(a.body), "fully captured") {
		t.Errorf("second release: %d %s", a.status, a.body)
	}

	fresh, _ := s.AddOrder(NewOrder{Amount: 500})
	s.Advance(2 * time.Hour)
	if o, _ := s.Order(fresh); o.Status != klarna.StatusExpired {
		t.Errorf("status after expiry: %s", o.Status)
	}
	if a := do(t, s, "POST", "/ordermanagement/v1/orders/"+fresh+"/extend-authorization-time", ""); a.status != 403 {
		t.Errorf("extending an expired authorization: %d", a.status)
	}
}

func TestAddOrderChecks(t *testing.T) {
	s := newServer(t)
	for _, n := range []NewOrder{
		{Amount: 0},
		{Amount: 200_000_001},
		{Amount: 100, Lines: []klarna.OrderLine{{Name: "x", Quantity: 1, UnitPrice: 50, TotalAmount: 50}}},
	} {
		if _, err := s.AddOrder(n); err == nil {
			t.Errorf("AddOrder(%+v) accepted", n)
		}
	}
	id, _ := s.AddOrder(NewOrder{ID: "fixed-id", Amount: 1})
	if _, err := s.AddOrder(NewOrder{ID: id, Amount: 1}); err == nil {
		t.Error("duplicate id accepted")
	}
}

// signedSum applies Klarna's settlement formula to the rows.
func signedSum(rows []klarna.Transaction) (sum int64, byType map[string]int64, vat, vatRefund int64) {
	byType = map[string]int64{}
	for _, r := range rows {
		byType[r.Type] += r.Amount
		switch r.Type {
		case "SALE", "RELEASE", "FEE_REFUND":
			sum += r.Amount
		default:
			sum -= r.Amount
		}
		if r.VATAmount != nil {
			if r.Type == "FEE_REFUND" {
				sum += *r.VATAmount
				vatRefund += *r.VATAmount
			} else {
				sum -= *r.VATAmount
				vat += *r.VATAmount
			}
		}
	}
	return sum, byType, vat, vatRefund
}

// TestSettlementsSumExactly runs random captures and refunds in three
// currencies through several settlements and checks every payout against
// Klarna's formula, the debt balance and its own totals.
func TestSettlementsSumExactly(t *testing.T) {
	fees := DefaultFees
	fees.HoldbackBasisPoints = 500
	s := newServer(t, WithFees(fees))
	rng := rand.New(rand.NewPCG(7, 11))
	debt := map[string]int64{}
	var payouts int
	for round := range 6 {
		for range 8 {
			cur := []string{"SEK", "EUR", "NOK"}[rng.IntN(3)]
			amount := 1 + rng.Int64N(500_000)
			id, err := s.AddOrder(NewOrder{Amount: amount, Currency: cur, MerchantReference1: fmt.Sprint("o", round)})
			if err != nil {
				t.Fatal(err)
			}
			path := "/ordermanagement/v1/orders/" + id
			captured := 1 + rng.Int64N(amount)
			if a := do(t, s, "POST", path+"/captures", fmt.Sprintf(`{"captured_amount": %d}`, captured)); a.status != 201 {
				t.Fatalf("capture: %d %s", a.status, a.body)
			}
			if rng.IntN(2) == 0 {
				// Some refunds are large enough to leave a payout negative.
				refund := 1 + rng.Int64N(captured)
				if a := do(t, s, "POST", path+"/refunds", fmt.Sprintf(`{"refunded_amount": %d}`, refund)); a.status != 201 {
					t.Fatalf("refund: %d %s", a.status, a.body)
				}
			}
		}
		s.Advance(24 * time.Hour)
		refs := s.Settle()
		for _, ref := range refs {
			payouts++
			p, rows, ok := s.Payout(ref)
			if !ok {
				t.Fatalf("payout %s not stored", ref)
			}
			tt := p.Totals
			sum, byType, vat, vatRefund := signedSum(rows)
			if got := sum - tt.RepayAmount + tt.DepositAmount; got != tt.SettlementAmount {
				t.Errorf("payout %s: rows give %d, settlement %d", ref, got, tt.SettlementAmount)
			}
			if tt.SettlementAmount < 0 {
				t.Errorf("payout %s: negative settlement %d", ref, tt.SettlementAmount)
			}
			want := []int64{byType["SALE"], byType["RETURN"], byType["FEE"], byType["FEE_REFUND"], vat, vatRefund, byType["HOLDBACK"], byType["RELEASE"]}
			got := []int64{tt.SaleAmount, tt.ReturnAmount, tt.FeeAmount, tt.FeeRefundAmount, tt.TaxAmount, tt.TaxRefundAmount, tt.HoldbackAmount, tt.ReleaseAmount}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("payout %s totals (-rows +totals):\n%s", ref, d)
			}
			if tt.OpeningDebtBalanceAmount != debt[p.CurrencyCode] {
				t.Errorf("payout %s: opening debt %d, previous closing %d", ref, tt.OpeningDebtBalanceAmount, debt[p.CurrencyCode])
			}
			debt[p.CurrencyCode] = tt.ClosingDebtBalanceAmount
			for _, r := range rows {
				if r.PaymentReference != ref || r.CurrencyCode != p.CurrencyCode {
					t.Errorf("row %+v in payout %s", r, ref)
				}
				if r.Type == "FEE" && (r.VATRate == nil || *r.VATRate != 2500 || *r.VATAmount != (r.Amount*2500*2+10000)/20000) {
					t.Errorf("fee row VAT: %+v", r)
				}
				if r.Type == "RETURN" && r.CaptureID != "" {
					t.Errorf("return row with capture id %q", r.CaptureID)
				}
			}
		}
	}
	if payouts < 10 {
		t.Errorf("only %d payouts", payouts)
	}
	t.Logf("%d payouts, closing debt %v", payouts, debt)
}

func TestSettlementPagination(t *testing.T) {
	s := newServer(t)
	for i := range 4 {
		id, _ := s.AddOrder(NewOrder{Amount: int64(1000 * (i + 1))})
		do(t, s, "POST", "/ordermanagement/v1/orders/"+id+"/captures", fmt.Sprintf(`{"captured_amount": %d}`, 1000*(i+1)))
	}
	refs := s.Settle()
	next := s.URL() + "/settlements/v1/transactions?payment_reference=" + refs[0] + "&size=5"
	var rows []klarna.Transaction
	var pages int
	for next != "" {
		u, err := url.Parse(next)
		if err != nil {
			t.Fatal(err)
		}
		a := do(t, s, "GET", u.RequestURI(), "")
		var tc klarna.TransactionCollection
		if err := json.Unmarshal(a.body, &tc); err != nil || a.status != 200 {
			t.Fatalf("%d %s %v", a.status, a.body, err)
		}
		if pages > 0 && tc.Pagination.Prev == "" {
			t.Error("no prev link after the first page")
		}
		if tc.Pagination.Count != int64(len(tc.Transactions)) || tc.Pagination.Total != 12 || tc.Pagination.Offset != int64(len(rows)) {
			t.Errorf("pagination %+v on page %d", tc.Pagination, pages)
		}
		rows = append(rows, tc.Transactions...)
		next = tc.Pagination.Next
		pages++
	}
	if pages != 3 || len(rows) != 12 {
		t.Errorf("%d pages, %d rows", pages, len(rows))
	}
	if !strings.HasPrefix(rows[0].Payout, s.URL()+"/settlements/v1/payouts/") {
		t.Errorf("payout link %q", rows[0].Payout)
	}
	a := do(t, s, "GET", "/settlements/v1/reports/payout-with-transactions?payment_reference="+refs[0], "")
	if a.status != 200 || !strings.HasPrefix(a.header.Get("Content-Type"), "text/csv") || strings.Count(string(a.body), "\n") != 13 {
		t.Errorf("report: %d %s %q", a.status, a.header.Get("Content-Type"), a.body)
	}
	if a := do(t, s, "GET", "/settlements/v1/payouts/NOPE", ""); a.status != 404 || a.envelope(t).ErrorCode != "NOT_FOUND" {
		t.Errorf("unknown payout: %d", a.status)
	}
}

func TestAnswersOutsideTheDescriptionAreCaught(t *testing.T) {
	s := newServer(t)
	row := klarna.Transaction{Amount: 1, Type: "NOT_A_TYPE", CurrencyCode: "SEK", PurchaseCountry: "SE", OrderID: nilOrder, SaleDate: t0, CaptureDate: t0}
	s.AddPayout(klarna.Payout{PaymentReference: "ODD", PayoutDate: t0, CurrencyCode: "SEK", MerchantSettlementType: "NET", MerchantID: "M"}, []klarna.Transaction{row})
	a := do(t, s, "GET", "/settlements/v1/transactions?payment_reference=ODD", "")
	if a.status != 500 || !strings.Contains(string(a.body), "violates the OpenAPI description") {
		t.Errorf("off-spec answer served: %d %s", a.status, a.body)
	}
	lax := newServer(t, WithoutResponseValidation())
	lax.AddPayout(klarna.Payout{PaymentReference: "ODD", PayoutDate: t0, CurrencyCode: "SEK", MerchantSettlementType: "NET", MerchantID: "M"}, []klarna.Transaction{row})
	if a := do(t, lax, "GET", "/settlements/v1/transactions?payment_reference=ODD", ""); a.status != 200 {
		t.Errorf("without response validation: %d %s", a.status, a.body)
	}
}

func TestRateLimit(t *testing.T) {
	s := newServer(t, WithRateLimit(2))
	var last answer
	for range 3 {
		last = do(t, s, "GET", "/settlements/v1/payouts", "")
	}
	if last.status != 429 || last.envelope(t).ErrorCode != "TOO_MANY_REQUESTS" {
		t.Fatalf("third request: %d %s", last.status, last.body)
	}
	if last.header.Get("X-Ratelimit-Limit") != "2, 2;w=1" || last.header.Get("X-Ratelimit-Remaining") != "0" || last.header.Get("X-Ratelimit-Reset") != "1" {
		t.Errorf("headers %v", last.header)
	}
}

func TestInjectedFaultsUseKlarnasShape(t *testing.T) {
	s := newServer(t)
	for status, code := range map[int]string{400: "BAD_VALUE", 401: "UNAUTHORIZED", 403: "FORBIDDEN", 404: "NOT_FOUND", 409: "CONFLICT",
		429: "TOO_MANY_REQUESTS", 500: "INTERNAL_SERVER_ERROR", 503: "TEMPORARILY_UNAVAILABLE"} {
		s.Faults().Inject(fault.Fault{Kind: fault.Status, Status: status, RetryAfter: 2 * time.Second})
		a := do(t, s, "GET", "/settlements/v1/payouts", "")
		if a.status != status || a.envelope(t).ErrorCode != code {
			t.Errorf("%d: %d %s", status, a.status, a.body)
		}
		if status == 429 && (a.header.Get("X-Ratelimit-Reset") != "2" || a.header.Get("Retry-After") != "2") {
			t.Errorf("429 headers: %v", a.header)
		}
	}
}

func TestHeldBackAloneIsPaidOut(t *testing.T) {
	s := newServer(t, WithFees(Fees{HoldbackBasisPoints: 10000}))
	id, _ := s.AddOrder(NewOrder{Amount: 1000})
	do(t, s, "POST", "/ordermanagement/v1/orders/"+id+"/captures", `{"captured_amount": 1000}`)
	first := s.Settle()
	second := s.Settle()
	third := s.Settle()
	p1, _, _ := s.Payout(first[0])
	p2, _, _ := s.Payout(second[0])
	if p1.Totals.SettlementAmount != 0 || p2.Totals.SettlementAmount != 1000 || len(third) != 0 {
		t.Errorf("settlements %d, %d, then %v", p1.Totals.SettlementAmount, p2.Totals.SettlementAmount, third)
	}
}
