package shopifytest

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestValidationErrors(t *testing.T) {
	s := NewServer()
	defer s.Close()
	tests := []struct {
		name    string
		query   string
		vars    map[string]any
		code    string
		message string
		path    []any
	}{
		{
			name:    "unknown field",
			query:   `query Feed { products(first: 1) { nodes { id colour } } }`,
			code:    "undefinedField",
			message: "Field 'colour' doesn't exist on type 'Product'",
			path:    []any{"query Feed", "products", "nodes", "colour"},
		},
		{
			name:    "unknown root mutation",
			query:   `mutation { productCreateBogus(input: {}) { userErrors { message } } }`,
			code:    "undefinedField",
			message: "Field 'productCreateBogus' doesn't exist on type 'Mutation'",
			path:    []any{"mutation", "productCreateBogus"},
		},
		{
			name:    "unknown argument",
			query:   `{ products(first: 1, limit: 5) { nodes { id } } }`,
			code:    "argumentNotAccepted",
			message: "Field 'products' doesn't accept argument 'limit'",
			path:    []any{"query", "products"},
		},
		{
			name:    "wrong argument type",
			query:   `{ products(first: "ten") { nodes { id } } }`,
			code:    "argumentLiteralsIncompatible",
			message: `Argument 'first' on Field 'products' has an invalid value ("ten"). Expected type 'Int'.`,
			path:    []any{"query", "products"},
		},
		{
			name:    "unknown enum value",
			query:   `{ orders(first: 1, sortKey: UPDATED) { nodes { id } } }`,
			code:    "argumentLiteralsIncompatible",
			message: `Argument 'sortKey' on Field 'orders' has an invalid value (UPDATED). Expected type 'OrderSortKeys'.`,
			path:    []any{"query", "orders"},
		},
		{
			name:    "missing required argument",
			query:   `{ product { id } }`,
			code:    "missingRequiredArguments",
			message: "Field 'product' is missing required arguments: id",
			path:    []any{"query", "product"},
		},
		{
			name:    "undeclared variable",
			query:   `query { product(id: $id) { id } }`,
			code:    "variableNotDefined",
			message: "Variable $id is used by query but not declared",
		},
		{
			name:  "object without selection",
			query: `{ shop }`,
			code:  "selectionMismatch",
		},
		{
			name:    "missing variable value",
			query:   `query P($id: ID!) { product(id: $id) { id } }`,
			vars:    map[string]any{},
			code:    "INVALID_VARIABLE",
			message: "Variable $id of type ID! was provided invalid value",
		},
		{
			name:    "variable of the wrong type",
			query:   `query P($n: Int!) { products(first: $n) { nodes { id } } }`,
			vars:    map[string]any{"n": "many"},
			code:    "INVALID_VARIABLE",
			message: "Variable $n of type Int! was provided invalid value",
		},
		{
			name:  "unknown enum in a variable",
			query: `query O($k: OrderSortKeys) { orders(first: 1, sortKey: $k) { nodes { id } } }`,
			vars:  map[string]any{"k": "NEWEST"},
			code:  "INVALID_VARIABLE",
		},
		{
			name:  "syntax error",
			query: `{ products(first: 1) { nodes { id } }`,
			code:  "",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, s, tc.query, tc.vars)
			if r.Status != http.StatusOK {
				t.Fatalf("status %d, want 200: %s", r.Status, r.Raw)
			}
			if len(r.Errors) == 0 {
				t.Fatalf("no errors: %s", r.Raw)
			}
			if r.Data != nil {
				t.Errorf("data present on a refused document: %s", r.Raw)
			}
			e := r.Errors[0]
			if e.Code() != tc.code {
				t.Errorf("code %q, want %q (%s)", e.Code(), tc.code, r.Raw)
			}
			if tc.message != "" && e.Message != tc.message {
				t.Errorf("message %q, want %q", e.Message, tc.message)
			}
			if tc.path != nil {
				if d := cmp.Diff(tc.path, e.Path); d != "" {
					t.Errorf("path (-want +got):\n%s", d)
				}
			}
			if tc.code != "" && tc.code != "INVALID_VARIABLE" && len(e.Locations) == 0 {
				t.Errorf("no locations: %s", r.Raw)
			}
		})
	}
	if got := s.Stats().InvalidQueries; got != len(tests) {
		t.Errorf("InvalidQueries = %d, want %d", got, len(tests))
	}
	// A refused document costs nothing.
	if _, avail, _ := s.ThrottleStatus(); avail != 2000 {
		t.Errorf("bucket %d after refused documents, want 2000", avail)
	}
}

func TestRequestShape(t *testing.T) {
	s := NewServer()
	defer s.Close()
	post := func(token, ctype, body string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, s.GraphQLURL(), strings.NewReader(body))
		req.Header.Set("Content-Type", ctype)
		if token != "" {
			req.Header.Set("X-Shopify-Access-Token", token)
		}
		resp, err := s.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		return resp.StatusCode, b.String()
	}
	tests := []struct {
		name, token, ctype, body string
		status                   int
		contains                 string
	}{
		{"no token", "", "application/json", `{"query":"{ shop { name } }"}`, 401, "Invalid API key or access token"},
		{"wrong token", "shpat_wrong", "application/json", `{"query":"{ shop { name } }"}`, 401, "[API] Invalid API key"},
		{"malformed json", s.AccessToken(), "application/json", `{"query":`, 400, "errors"},
		{"no query", s.AccessToken(), "application/json", `{"variables":{}}`, 400, "Required parameter missing or invalid"},
		{"graphql body", s.AccessToken(), "application/graphql", `{ shop { currencyCode } }`, 200, `"currencyCode":"SEK"`},
		{"operation name picks", s.AccessToken(), "application/json", `{"query":"query A { shop { name } } query B { shop { currencyCode } }","operationName":"B"}`, 200, `"currencyCode"`},
		{"ambiguous operations", s.AccessToken(), "application/json", `{"query":"query A { shop { name } } query B { shop { currencyCode } }"}`, 200, "An operation name is required"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body := post(tc.token, tc.ctype, tc.body)
			if status != tc.status || !strings.Contains(body, tc.contains) {
				t.Errorf("got %d %s, want %d containing %q", status, body, tc.status, tc.contains)
			}
		})
	}
	// Unknown versions fall forward to the served version.
	req, _ := http.NewRequest(http.MethodPost, s.URL()+"/admin/api/2023-01/graphql.json", strings.NewReader(`{"query":"{ shop { name } }"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Shopify-Access-Token", s.AccessToken())
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if v := resp.Header.Get("X-Shopify-API-Version"); resp.StatusCode != 200 || v != APIVersion {
		t.Errorf("old version: %d, X-Shopify-API-Version %q", resp.StatusCode, v)
	}
}

func TestUnimplementedIsExplicit(t *testing.T) {
	s := NewServer()
	defer s.Close()
	r := do(t, s, `mutation { customerCreate(input: {email: "a@b.se"}) { customer { id } userErrors { message } } }`, nil)
	if r.code() != "NOT_IMPLEMENTED" {
		t.Errorf("unimplemented mutation: %s", r.Raw)
	}
	for _, m := range []string{"productSet", "inventorySetQuantities", "orderCapture", "bulkOperationRunQuery"} {
		found := false
		for _, x := range ImplementedMutations() {
			found = found || x == m
		}
		if !found {
			t.Errorf("ImplementedMutations lacks %s", m)
		}
	}
}

func TestSchemaKeepsDirectives(t *testing.T) {
	sch, err := Schema()
	if err != nil {
		t.Fatal(err)
	}
	d := sch.Directives["idempotent"]
	if d == nil || d.Arguments.ForName("key") == nil || d.Arguments.ForName("key").Type.String() != "String!" {
		t.Fatalf("@idempotent(key: String!) missing from the schema: %+v", d)
	}
	if sch.Types["ProductSetIdentifiers"].Directives.ForName("oneOf") == nil {
		t.Error("ProductSetIdentifiers lost @oneOf")
	}
	if f := sch.Types["QueryRoot"].Fields.ForName("currentBulkOperation"); f == nil || f.Directives.ForName("deprecated") == nil {
		t.Error("currentBulkOperation lost its deprecation")
	}
	if len(sch.Types) < 3500 {
		t.Errorf("only %d types", len(sch.Types))
	}
}

func TestExecutionErrors(t *testing.T) {
	s := NewServer()
	defer s.Close()
	tests := []struct{ name, query string }{
		{"no first or last", `{ products { nodes { id } } }`},
		{"page too large", `{ products(first: 251) { nodes { id } } }`},
		{"bad cursor", `{ products(first: 1, after: "not-a-cursor") { nodes { id } } }`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, s, tc.query, nil)
			if len(r.Errors) != 1 {
				t.Fatalf("want one error: %s", r.Raw)
			}
			if diff := cmp.Diff([]any{"products"}, r.Errors[0].Path); diff != "" {
				t.Errorf("path (-want +got):\n%s", diff)
			}
			// products is non-null, so the whole data is null.
			if !strings.Contains(string(r.Raw), `"data":null`) || r.Extensions.Cost == nil {
				t.Errorf("answer %s", r.Raw)
			}
		})
	}
	// A nullable field absorbs the error.
	r := do(t, s, `{ shop { name } node(id: "nonsense") { id } }`, nil)
	if len(r.Errors) != 1 || dig(r.Data, "shop", "name") != "knyt-test" || dig(r.Data, "node") != nil {
		t.Errorf("nullable error: %s", r.Raw)
	}
}
