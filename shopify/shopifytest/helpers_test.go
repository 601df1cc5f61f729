package shopifytest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// manualClock is a fixed clock for tests; Server.Advance moves it.
var epoch = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

func fixedClock() func() time.Time { return func() time.Time { return epoch } }

// response is a decoded GraphQL answer.
type response struct {
	Status     int
	Header     http.Header
	Raw        []byte
	Data       map[string]any
	Errors     []Error
	Extensions struct {
		Cost *struct {
			RequestedQueryCost int  `json:"requestedQueryCost"`
			ActualQueryCost    *int `json:"actualQueryCost"`
			ThrottleStatus     struct {
				MaximumAvailable   float64 `json:"maximumAvailable"`
				CurrentlyAvailable float64 `json:"currentlyAvailable"`
				RestoreRate        float64 `json:"restoreRate"`
			} `json:"throttleStatus"`
		} `json:"cost"`
	}
}

func (r *response) code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	return r.Errors[0].Code()
}

func do(t testing.TB, s *Server, query string, vars map[string]any) *response {
	t.Helper()
	b, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, s.GraphQLURL(), bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Shopify-Access-Token", s.AccessToken())
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	out := &response{Status: resp.StatusCode, Header: resp.Header, Raw: raw}
	if err := json.Unmarshal(raw, out); err != nil {
		t.Fatalf("decode %s: %v", raw, err)
	}
	return out
}

// ok runs a query that must succeed without errors.
func ok(t testing.TB, s *Server, query string, vars map[string]any) map[string]any {
	t.Helper()
	r := do(t, s, query, vars)
	if r.Status != 200 || len(r.Errors) > 0 {
		t.Fatalf("query failed: %d %s", r.Status, r.Raw)
	}
	return r.Data
}

// dig walks decoded JSON by keys and indexes.
func dig(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			l, _ := v.([]any)
			if k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

// seedShop fills a server with a small, realistic shop.
type seeded struct {
	loc, loc2 Location
	sock      Product
	shirt     Product
	order     Order
}

func seedShop(t testing.TB, s *Server) seeded {
	t.Helper()
	var sd seeded
	var err error
	must := func(e error) {
		t.Helper()
		if e != nil {
			t.Fatal(e)
		}
	}
	sd.loc, err = s.AddLocation(Location{Name: "Lager Göteborg", Address: Address{City: "Göteborg", CountryCode: "SE"}})
	must(err)
	sd.loc2, err = s.AddLocation(Location{Name: "Butik Malmö"})
	must(err)
	sd.sock, err = s.AddProduct(Product{Title: "Ullsocka", Vendor: "Knyt", Variants: []Variant{{SKU: "SOCK-1", Price: "89.00", CompareAtPrice: "99.00"}}})
	must(err)
	sd.shirt, err = s.AddProduct(Product{Title: "Tröja", Variants: []Variant{
		{SKU: "SHIRT-S", Price: "399.00", Options: []SelectedOption{{"Storlek", "S"}}},
		{SKU: "SHIRT-M", Price: "399.00", Options: []SelectedOption{{"Storlek", "M"}}},
	}})
	must(err)
	must(s.SetInventory("SOCK-1", sd.loc.ID, 10))
	must(s.SetInventory("SHIRT-S", sd.loc.ID, 4))
	sd.order, err = s.AddOrder(Order{
		Email: "kund@example.se", TaxesIncluded: true,
		Customer:        &Customer{FirstName: "Anna", LastName: "Svensson", Email: "kund@example.se"},
		ShippingAddress: &Address{FirstName: "Anna", LastName: "Svensson", Address1: "Storgatan 1", City: "Lund", Zip: "22100", CountryCode: "SE", Country: "Sweden"},
		Lines: []LineItem{
			{SKU: "SOCK-1", Quantity: 3, UnitPrice: "89.00", TaxLines: []TaxLine{{Title: "Moms", Rate: "0.25", Amount: "53.40"}}, DiscountAllocations: []Discount{{Amount: "0.04", Code: "SOCKS"}}},
			{SKU: "SHIRT-S", Quantity: 1, UnitPrice: "399.00", TaxLines: []TaxLine{{Title: "Moms", Rate: "0.25", Amount: "79.80"}}},
		},
		ShippingLines: []ShippingLine{{Title: "PostNord", Price: "49.00", TaxLines: []TaxLine{{Title: "Moms", Rate: "0.25", Amount: "9.80"}}}},
		Transactions:  []Transaction{{Kind: "AUTHORIZATION", Gateway: "shopify_payments", Amount: "714.96"}},
	})
	must(err)
	return sd
}

// receiver collects webhook deliveries.
type receiver struct {
	mu     sync.Mutex
	got    []received
	status []int // answers to give, in order; then 200
}

type received struct {
	Header http.Header
	Body   []byte
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	b, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	r.got = append(r.got, received{req.Header.Clone(), b})
	code := 200
	if len(r.status) > 0 {
		code, r.status = r.status[0], r.status[1:]
	}
	r.mu.Unlock()
	w.WriteHeader(code)
}

func (r *receiver) all() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

func httptestServer(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }
