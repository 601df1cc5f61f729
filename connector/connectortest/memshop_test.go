package connectortest_test

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/connector"
	"github.com/knyt/knyt/connector/fault"
)

// memshop is a tiny system with an HTTP API, used to test the suite itself
// and to show partners the shape of a connector. Its server keeps orders
// with update times, payments with captures and refunds, and payouts. The
// bugs field switches on deliberate defects the suite must catch.
type memshopServer struct {
	mu       sync.Mutex
	token    string
	bugs     map[string]bool
	now      time.Time
	orders   []memOrder
	payments map[string]*memPayment
	replay   map[string][]byte // idempotency key → first answer
	products []commerce.Product
	seq      int
}

type memOrder struct {
	Number  string    `json:"number"`
	Updated time.Time `json:"updated"`
}

type memPayment struct {
	Amount   int64  `json:"amount"` // minor units
	Currency string `json:"currency"`
	Captured int64  `json:"captured"`
	Refunded int64  `json:"refunded"`
}

func newMemshopServer(token string, bugs ...string) *memshopServer {
	s := &memshopServer{token: token, bugs: map[string]bool{}, now: time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC),
		payments: map[string]*memPayment{}, replay: map[string][]byte{}}
	for _, b := range bugs {
		s.bugs[b] = true
	}
	return s
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// memError answers errors; a 401 echoes the credentials it got, as some
// real APIs do, so a connector that does not scrub them leaks them.
func memError(w http.ResponseWriter, r *http.Request, status int) {
	body := map[string]string{"error": http.StatusText(status)}
	if status == http.StatusUnauthorized {
		body["presented"] = r.Header.Get("Authorization")
	}
	writeJSON(w, status, body)
}

func (s *memshopServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+s.token {
		memError(w, r, http.StatusUnauthorized)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/orders":
		s.listOrders(w, r)
	case r.URL.Path == "/products":
		s.handleProducts(w, r)
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/payments/"):
		p, ok := s.payments[strings.TrimPrefix(r.URL.Path, "/payments/")]
		if !ok {
			memError(w, r, http.StatusNotFound)
			return
		}
		writeJSON(w, http.StatusOK, p)
	case r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/payments/"):
		s.move(w, r)
	default:
		memError(w, r, http.StatusNotFound)
	}
}

// handleProducts upserts a product by the SKU of its first variant (POST) or
// finds one by any variant's SKU (GET ?sku=).
func (s *memshopServer) handleProducts(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet {
		sku := r.URL.Query().Get("sku")
		for _, p := range s.products {
			if _, ok := p.Variant(sku); ok {
				writeJSON(w, http.StatusOK, p)
				return
			}
		}
		memError(w, r, http.StatusNotFound)
		return
	}
	var p commerce.Product
	if err := json.NewDecoder(r.Body).Decode(&p); err != nil || len(p.Variants) == 0 {
		memError(w, r, http.StatusBadRequest)
		return
	}
	for i, old := range s.products {
		if _, ok := old.Variant(p.Variants[0].SKU); ok && !s.bugs["duplicate-upsert"] {
			p.Source = old.Source
			s.products[i] = p
			writeJSON(w, http.StatusOK, map[string]any{"id": p.Source.ID, "created": false})
			return
		}
	}
	s.seq++
	p.Source = commerce.Ref{System: "memshop", ID: fmt.Sprintf("prod_%d", s.seq)}
	s.products = append(s.products, p)
	writeJSON(w, http.StatusCreated, map[string]any{"id": p.Source.ID, "created": true})
}

// listOrders pages by (updated, number) after the cursor "unixnano|number".
func (s *memshopServer) listOrders(w http.ResponseWriter, r *http.Request) {
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	var afterT time.Time
	afterN := ""
	if c := r.URL.Query().Get("after"); c != "" {
		ts, n, _ := strings.Cut(c, "|")
		ns, _ := strconv.ParseInt(ts, 10, 64)
		afterT, afterN = time.Unix(0, ns).UTC(), n
	}
	sorted := slices.Clone(s.orders)
	slices.SortFunc(sorted, func(a, b memOrder) int {
		return cmp.Or(a.Updated.Compare(b.Updated), cmp.Compare(a.Number, b.Number))
	})
	var page []memOrder
	for _, o := range sorted {
		after := o.Updated.After(afterT) || (o.Updated.Equal(afterT) && o.Number > afterN)
		if s.bugs["skip-equal-timestamps"] && afterN != "" {
			after = o.Updated.After(afterT)
		}
		if after {
			page = append(page, o)
		}
	}
	more := len(page) > limit
	if more {
		page = page[:limit]
	}
	writeJSON(w, http.StatusOK, map[string]any{"orders": page, "more": more})
}

// move captures or refunds: POST /payments/{id}/capture|refund {"amount":n}.
func (s *memshopServer) move(w http.ResponseWriter, r *http.Request) {
	key := r.Header.Get("Idempotency-Key")
	if s.bugs["ignore-idempotency"] {
		key = ""
	}
	if b, ok := s.replay[key]; ok && key != "" {
		w.Header().Set("Content-Type", "application/json")
		w.Write(b)
		return
	}
	id, action, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/payments/"), "/")
	p, ok := s.payments[id]
	if !ok {
		memError(w, r, http.StatusNotFound)
		return
	}
	var in struct{ Amount int64 }
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Amount <= 0 {
		memError(w, r, http.StatusBadRequest)
		return
	}
	switch action {
	case "capture":
		if p.Captured+in.Amount > p.Amount {
			memError(w, r, http.StatusConflict)
			return
		}
		p.Captured += in.Amount
	case "refund":
		if p.Refunded+in.Amount > p.Captured {
			memError(w, r, http.StatusConflict)
			return
		}
		p.Refunded += in.Amount
	default:
		memError(w, r, http.StatusNotFound)
		return
	}
	s.seq++
	b, _ := json.Marshal(map[string]string{"id": fmt.Sprintf("%s-%d", action, s.seq)})
	if key != "" {
		s.replay[key] = b
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(b)
}

// seedOrders adds n orders sharing one update time.
func (s *memshopServer) seedOrders(n int) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = s.now.Add(time.Second)
	var keys []string
	for range n {
		s.seq++
		num := fmt.Sprintf("#%05d", s.seq)
		s.orders = append(s.orders, memOrder{Number: num, Updated: s.now})
		keys = append(keys, num)
	}
	return keys
}

func (s *memshopServer) authorize(amount commerce.Money) (string, error) {
	minor, err := amount.Minor()
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	id := fmt.Sprintf("pay_%d", s.seq)
	s.payments[id] = &memPayment{Amount: minor, Currency: amount.Currency.Code()}
	return id, nil
}

// memshop is the connector.
type memshop struct {
	t        *connector.Transport
	pageSize int
}

func newMemshop(baseURL, token string, logger *slog.Logger, leak bool) (*memshop, error) {
	opts := []connector.TransportOption{
		connector.WithLogger(logger),
		connector.WithIdempotencyHeader("Idempotency-Key"),
		connector.WithRetry(4, time.Millisecond, 5*time.Millisecond),
		connector.WithAuthorizer(connector.AuthorizerFunc(func(_ context.Context, h http.Header) error {
			h.Set("Authorization", "Bearer "+token)
			return nil
		})),
	}
	if !leak {
		opts = append(opts, connector.WithSecrets(token))
	}
	t, err := connector.NewTransport("memshop", baseURL, opts...)
	if err != nil {
		return nil, err
	}
	return &memshop{t: t, pageSize: 3}, nil
}

func (m *memshop) System() string  { return "memshop" }
func (m *memshop) Account() string { return "" }

func (m *memshop) UpsertProducts(ctx context.Context, ps []commerce.Product, _ ...connector.CallOption) ([]connector.UpsertResult, error) {
	var out []connector.UpsertResult
	for _, p := range ps {
		body, err := json.Marshal(p)
		if err != nil {
			return out, connector.Wrap("memshop", "UpsertProduct", err)
		}
		// Upserting by SKU sets absolute values, so a retry is harmless.
		resp, err := m.t.Do(ctx, &connector.Request{Op: "UpsertProduct", Method: http.MethodPost, Path: "products",
			Body: body, ContentType: "application/json", Idempotent: true})
		if err != nil {
			return out, err
		}
		var r struct {
			ID      string
			Created bool
		}
		if err := json.Unmarshal(resp.Body, &r); err != nil {
			return out, connector.Wrap("memshop", "UpsertProduct", err)
		}
		out = append(out, connector.UpsertResult{Key: p.Variants[0].SKU, Ref: commerce.Ref{System: "memshop", ID: r.ID}, Created: r.Created})
	}
	return out, nil
}

func (m *memshop) ProductBySKU(ctx context.Context, sku string) (commerce.Product, error) {
	resp, err := m.t.Do(ctx, &connector.Request{Op: "ProductBySKU", Method: http.MethodGet, Path: "products", Query: map[string][]string{"sku": {sku}}})
	if err != nil {
		return commerce.Product{}, err
	}
	var p commerce.Product
	if err := json.Unmarshal(resp.Body, &p); err != nil {
		return commerce.Product{}, connector.Wrap("memshop", "ProductBySKU", err)
	}
	return p, nil
}

func (m *memshop) Orders() connector.Feed[commerce.Order] { return orderFeed{m} }

type orderFeed struct{ m *memshop }

func (f orderFeed) Next(ctx context.Context, after connector.Cursor) (connector.Batch[commerce.Order], error) {
	resp, err := f.m.t.Do(ctx, &connector.Request{Op: "ListOrders", Method: http.MethodGet, Path: "orders",
		Query: map[string][]string{"after": {string(after)}, "limit": {strconv.Itoa(f.m.pageSize)}}})
	if err != nil {
		return connector.Batch[commerce.Order]{}, err
	}
	var page struct {
		Orders []memOrder
		More   bool
	}
	if err := json.Unmarshal(resp.Body, &page); err != nil {
		return connector.Batch[commerce.Order]{}, connector.Wrap("memshop", "ListOrders", err)
	}
	b := connector.Batch[commerce.Order]{Cursor: after, More: page.More}
	for _, o := range page.Orders {
		b.Items = append(b.Items, commerce.Order{Number: o.Number, UpdatedAt: o.Updated})
		b.Cursor = connector.Cursor(fmt.Sprintf("%d|%s", o.Updated.UnixNano(), o.Number))
	}
	return b, nil
}

// Commit is a no-op: the cursor is a watermark.
func (orderFeed) Commit(context.Context, connector.Cursor) error { return nil }

func (m *memshop) move(ctx context.Context, op, action, ref string, amount commerce.Money, opts []connector.CallOption) (string, error) {
	o := connector.ApplyCallOptions(opts)
	minor, err := amount.Minor()
	if err != nil {
		return "", connector.Wrap("memshop", op, err)
	}
	resp, err := m.t.Do(ctx, &connector.Request{Op: op, Method: http.MethodPost, Path: "payments/" + ref + "/" + action,
		Body: fmt.Appendf(nil, `{"amount":%d}`, minor), ContentType: "application/json", IdempotencyKey: o.IdempotencyKey})
	if err != nil {
		return "", err
	}
	var out struct{ ID string }
	if err := json.Unmarshal(resp.Body, &out); err != nil {
		return "", connector.Wrap("memshop", op, err)
	}
	return out.ID, nil
}

func (m *memshop) Capture(ctx context.Context, req connector.CaptureRequest, opts ...connector.CallOption) (commerce.Capture, error) {
	id, err := m.move(ctx, "Capture", "capture", req.PaymentReference, req.Amount, opts)
	return commerce.Capture{ID: id, PaymentReference: req.PaymentReference, Amount: req.Amount}, err
}

func (m *memshop) Refund(ctx context.Context, req connector.RefundRequest, opts ...connector.CallOption) (commerce.Refund, error) {
	id, err := m.move(ctx, "Refund", "refund", req.PaymentReference, req.Amount, opts)
	return commerce.Refund{ID: id, PaymentReference: req.PaymentReference, Amount: req.Amount}, err
}

func (m *memshop) Payment(ctx context.Context, ref string) (commerce.Payment, error) {
	resp, err := m.t.Do(ctx, &connector.Request{Op: "GetPayment", Method: http.MethodGet, Path: "payments/" + ref})
	if err != nil {
		return commerce.Payment{}, err
	}
	var p memPayment
	if err := json.Unmarshal(resp.Body, &p); err != nil {
		return commerce.Payment{}, connector.Wrap("memshop", "GetPayment", err)
	}
	c, err := commerce.ParseCurrency(p.Currency)
	if err != nil {
		return commerce.Payment{}, connector.Wrap("memshop", "GetPayment", err)
	}
	return commerce.Payment{Provider: "memshop", Reference: ref, Authorized: commerce.FromMinor(p.Amount, c),
		Captured: commerce.FromMinor(p.Captured, c), Refunded: commerce.FromMinor(p.Refunded, c)}, nil
}

// Payouts: memshop pays out one fixed payout, enough to exercise the suite.
func (m *memshop) Payouts(ctx context.Context, from, to time.Time) iter.Seq2[commerce.Payout, error] {
	return func(yield func(commerce.Payout, error) bool) {
		yield(commerce.Payout{ID: "po_1", Provider: "memshop", Amount: commerce.FromMinor(9500, commerce.SEK)}, nil)
	}
}

func (m *memshop) PayoutTransactions(ctx context.Context, id string) iter.Seq2[commerce.Transaction, error] {
	return func(yield func(commerce.Transaction, error) bool) {
		sale := commerce.Transaction{ID: "tx_1", Provider: "memshop", Kind: commerce.TxSale, ProviderType: "sale",
			Amount: commerce.FromMinor(10000, commerce.SEK), Fee: commerce.FromMinor(400, commerce.SEK),
			FeeVAT: commerce.FromMinor(100, commerce.SEK), Net: commerce.FromMinor(9500, commerce.SEK)}
		yield(sale, nil)
	}
}

// harnessFor builds a fresh server, fake and connector with the given bugs.
func harnessFor(tb interface {
	Fatal(...any)
	Cleanup(func())
}, bugs ...string) *harness {
	const token = "shpat_memshop_secret_token_0123"
	srv := newMemshopServer(token, bugs...)
	inj := fault.New(memError)
	ts := httptest.NewServer(inj.Wrap(srv))
	tb.Cleanup(ts.Close)
	return &harness{srv: srv, inj: inj, url: ts.URL, token: token, leak: slices.Contains(bugs, "leak-token")}
}

type harness struct {
	srv   *memshopServer
	inj   *fault.Injector
	url   string
	token string
	leak  bool
}
