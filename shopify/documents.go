package shopify

import (
	"embed"
	"fmt"
	"io/fs"
	"maps"
	"math"
	"path"
	"strconv"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
)

// Every GraphQL document the package sends lives in its own file under
// graphql/, so that each can be read, reviewed and validated against the
// schema as it is; none is assembled in Go.
//
// A selection that several documents share is a fragment in its own file
// under graphql/fragments/, named after the fragment
// (graphql/fragments/OrderFields.graphql holds exactly
// "fragment OrderFields on Order"). A document spreads such a fragment
// without defining it; when the document is loaded, the files of the
// fragments it spreads, directly or through another fragment, are appended
// to its text whole, each once, in the order first spread. A fragment only
// one document uses stays in that document's file. Bulk query bodies
// (bulk_products.graphql) are sent as the query argument of
// bulkOperationRunQuery and spread no shared fragments: Shopify's bulk
// operation guide does not say that such queries accept fragments, so they
// are kept self-contained.
//
//go:embed graphql/*.graphql graphql/fragments/*.graphql
var graphqlFiles embed.FS

// Document is one parsed GraphQL operation: its text as sent, its name, and
// what the client needs to know before sending it — whether it is a
// mutation, whether it carries @idempotent (and may therefore be retried
// after an ambiguous failure), and how much it may cost.
type Document struct {
	name       string
	source     string
	mutation   bool
	idempotent bool
	op         *ast.OperationDefinition
	doc        *ast.QueryDocument
}

// ParseDocument parses a document holding exactly one named operation, for
// callers who send their own queries with Client.Execute. The document is
// not validated against the schema here; Shopify does that.
func ParseDocument(source string) (*Document, error) {
	qd, err := parser.ParseQuery(&ast.Source{Name: "document", Input: source})
	if err != nil {
		return nil, fmt.Errorf("shopify: parse document: %w", err)
	}
	if len(qd.Operations) != 1 {
		return nil, fmt.Errorf("shopify: parse document: want exactly one operation, found %d", len(qd.Operations))
	}
	op := qd.Operations[0]
	if op.Name == "" {
		return nil, fmt.Errorf("shopify: parse document: the operation has no name")
	}
	d := &Document{name: op.Name, source: source, op: op, doc: qd}
	switch op.Operation {
	case ast.Mutation:
		d.mutation = true
	case ast.Query:
	default:
		return nil, fmt.Errorf("shopify: parse document: %s operations are not supported", op.Operation)
	}
	for _, sel := range op.SelectionSet {
		if f, ok := sel.(*ast.Field); ok && f.Directives.ForName("idempotent") != nil {
			d.idempotent = true
		}
	}
	return d, nil
}

// Name is the operation name.
func (d *Document) Name() string { return d.name }

// Source is the document text as sent.
func (d *Document) Source() string { return d.source }

// IsMutation reports whether the operation is a mutation.
func (d *Document) IsMutation() bool { return d.mutation }

// IsIdempotent reports whether repeating the operation cannot apply it
// twice: a query, or a mutation whose root fields carry @idempotent.
func (d *Document) IsIdempotent() bool { return !d.mutation || d.idempotent }

// sharedFragment is one file under graphql/fragments/.
type sharedFragment struct {
	source string
	def    *ast.FragmentDefinition
}

// sharedFragments are the fragment files by fragment name.
var sharedFragments = mustFragments()

// mustFragments loads graphql/fragments/. Like the documents, the files are
// part of the package, so a malformed one is a build defect.
func mustFragments() map[string]sharedFragment {
	files, err := fs.Glob(graphqlFiles, "graphql/fragments/*.graphql")
	if err != nil {
		panic(err)
	}
	frags := make(map[string]sharedFragment, len(files))
	for _, file := range files {
		b, err := graphqlFiles.ReadFile(file)
		if err != nil {
			panic(err)
		}
		qd, perr := parser.ParseQuery(&ast.Source{Name: file, Input: string(b)})
		if perr != nil {
			panic(fmt.Sprintf("%s: %v", file, perr))
		}
		name := strings.TrimSuffix(path.Base(file), ".graphql")
		if len(qd.Operations) != 0 || len(qd.Fragments) != 1 || qd.Fragments[0].Name != name {
			panic(fmt.Sprintf("%s: want exactly one definition, fragment %s", file, name))
		}
		frags[name] = sharedFragment{source: string(b), def: qd.Fragments[0]}
	}
	return frags
}

// withSharedFragments appends to a document the shared fragments it
// spreads but does not define, transitively, each once.
func withSharedFragments(source string) (string, error) {
	qd, err := parser.ParseQuery(&ast.Source{Name: "document", Input: source})
	if err != nil {
		return "", err
	}
	seen := map[string]bool{}
	for _, f := range qd.Fragments {
		seen[f.Name] = true
	}
	var b strings.Builder
	b.WriteString(source)
	var walk func(ast.SelectionSet) error
	walk = func(set ast.SelectionSet) error {
		for _, sel := range set {
			switch s := sel.(type) {
			case *ast.Field:
				if err := walk(s.SelectionSet); err != nil {
					return err
				}
			case *ast.InlineFragment:
				if err := walk(s.SelectionSet); err != nil {
					return err
				}
			case *ast.FragmentSpread:
				if seen[s.Name] {
					continue
				}
				seen[s.Name] = true
				f, ok := sharedFragments[s.Name]
				if !ok {
					return fmt.Errorf("fragment %s is neither defined in the document nor under graphql/fragments/", s.Name)
				}
				if !strings.HasSuffix(b.String(), "\n") {
					b.WriteString("\n")
				}
				b.WriteString("\n")
				b.WriteString(f.source)
				if err := walk(f.def.SelectionSet); err != nil {
					return err
				}
			}
		}
		return nil
	}
	for _, op := range qd.Operations {
		if err := walk(op.SelectionSet); err != nil {
			return "", err
		}
	}
	for _, f := range qd.Fragments {
		if err := walk(f.SelectionSet); err != nil {
			return "", err
		}
	}
	return b.String(), nil
}

// documents are the package's documents by file name, as loaded.
var documents = map[string]*Document{}

// mustDocument loads an embedded document with the shared fragments it
// spreads. The files are part of the package and tested, so a failure is a
// build defect, not an input error.
func mustDocument(file string) *Document {
	b, err := graphqlFiles.ReadFile(path.Join("graphql", file))
	if err != nil {
		panic(err)
	}
	src, err := withSharedFragments(string(b))
	if err != nil {
		panic(fmt.Sprintf("%s: %v", file, err))
	}
	d, err := ParseDocument(src)
	if err != nil {
		panic(fmt.Sprintf("%s: %v", file, err))
	}
	documents[file] = d
	return d
}

// Documents returns the package's own documents keyed by their file under
// graphql/ ("order.graphql"), each as sent: with the shared fragments it
// spreads appended. Fakes and conformance tests use it to validate and run
// exactly what the client sends.
func Documents() map[string]*Document { return maps.Clone(documents) }

// The package's documents.
var (
	docShop                   = mustDocument("shop.graphql")
	docProductsFeed           = mustDocument("products_feed.graphql")
	docProduct                = mustDocument("product.graphql")
	docProductVariantsPage    = mustDocument("product_variants_page.graphql")
	docVariantsBySKU          = mustDocument("variants_by_sku.graphql")
	docStockItems             = mustDocument("stock_items.graphql")
	docLocations              = mustDocument("locations.graphql")
	docPriceLists             = mustDocument("price_lists.graphql")
	docOrdersFeed             = mustDocument("orders_feed.graphql")
	docOrder                  = mustDocument("order.graphql")
	docOrderLinesPage         = mustDocument("order_lines_page.graphql")
	docOrderByName            = mustDocument("order_by_name.graphql")
	docOrderTransactions      = mustDocument("order_transactions.graphql")
	docFulfillmentOrders      = mustDocument("fulfillment_orders.graphql")
	docOrderFulfillments      = mustDocument("order_fulfillments.graphql")
	docRefundsFeed            = mustDocument("refunds_feed.graphql")
	docRefund                 = mustDocument("refund.graphql")
	docRefundCreate           = mustDocument("refund_create.graphql")
	docOrderRefunds           = mustDocument("order_refunds.graphql")
	docOrderLineSKUs          = mustDocument("order_line_skus.graphql")
	docReturnsFeed            = mustDocument("returns_feed.graphql")
	docReturn                 = mustDocument("return.graphql")
	docPayouts                = mustDocument("payouts.graphql")
	docPayout                 = mustDocument("payout.graphql")
	docBalanceTransactions    = mustDocument("balance_transactions.graphql")
	docProductSet             = mustDocument("product_set.graphql")
	docVariantsBulkUpdate     = mustDocument("variants_bulk_update.graphql")
	docPriceListFixedPriceAdd = mustDocument("price_list_fixed_prices_add.graphql")
	docInventorySetQuantities = mustDocument("inventory_set_quantities.graphql")
	docInventoryActivate      = mustDocument("inventory_activate.graphql")
	docFulfillmentCreate      = mustDocument("fulfillment_create.graphql")
	docOrderCancel            = mustDocument("order_cancel.graphql")
	docOrderMarkAsPaid        = mustDocument("order_mark_as_paid.graphql")
	docOrderCapture           = mustDocument("order_capture.graphql")
	docBulkRunQuery           = mustDocument("bulk_operation_run_query.graphql")
	docBulkOperation          = mustDocument("bulk_operation.graphql")
	docBulkCancel             = mustDocument("bulk_operation_cancel.graphql")
	docBulkProducts           = mustDocument("bulk_products.graphql")
)

// mutationBaseCost is what Shopify charges for any mutation before its
// selection.
const mutationBaseCost = 10

// EstimateCost computes the worst-case (requested) cost of the document
// with the given variables by Shopify's published rules: scalars and enums
// 0, objects 1, interfaces and unions the most expensive branch,
// connections 2 plus the requested count times the cost of one node, and a
// mutation 10 plus its selection. A list field sized by a first/last
// argument costs the count times one element. Shopify's own figure, read
// from each response, corrects the estimate over time (the client learns
// the ratio per document), so dynamic mutation costs such as productSet's
// per-variant surcharge need not be modelled here.
func (d *Document) EstimateCost(vars map[string]any) float64 {
	e := estimator{doc: d.doc, vars: vars}
	var total float64
	for _, sel := range d.op.SelectionSet {
		f, ok := sel.(*ast.Field)
		if !ok {
			total += e.selections(ast.SelectionSet{sel}, 0)
			continue
		}
		if d.mutation {
			total += mutationBaseCost + e.selections(f.SelectionSet, 0)
			continue
		}
		total += e.field(f, 0)
	}
	return total
}

type estimator struct {
	doc  *ast.QueryDocument
	vars map[string]any
}

// maxDepth bounds recursion through fragments (a cyclic fragment is invalid
// GraphQL, but the estimator must not loop on a caller's document).
const maxDepth = 64

func (e estimator) selections(set ast.SelectionSet, depth int) float64 {
	if depth > maxDepth {
		return 0
	}
	var sum, branch float64
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			sum += e.field(s, depth+1)
		case *ast.FragmentSpread:
			if fd := e.doc.Fragments.ForName(s.Name); fd != nil {
				sum += e.selections(fd.SelectionSet, depth+1)
			}
		case *ast.InlineFragment:
			// Type-conditioned branches: only one applies per object.
			if s.TypeCondition == "" {
				sum += e.selections(s.SelectionSet, depth+1)
			} else {
				branch = math.Max(branch, e.selections(s.SelectionSet, depth+1))
			}
		}
	}
	return sum + branch
}

func (e estimator) field(f *ast.Field, depth int) float64 {
	if len(f.SelectionSet) == 0 || strings.HasPrefix(f.Name, "__") {
		return 0
	}
	n, sized := e.count(f)
	if !sized {
		return 1 + e.selections(f.SelectionSet, depth)
	}
	if isConnection(f.SelectionSet) {
		var node float64
		for _, sel := range f.SelectionSet {
			c, ok := sel.(*ast.Field)
			if !ok {
				continue
			}
			switch c.Name {
			case "nodes":
				node = math.Max(node, 1+e.selections(c.SelectionSet, depth))
			case "edges":
				for _, es := range c.SelectionSet {
					if nf, ok := es.(*ast.Field); ok && nf.Name == "node" {
						node = math.Max(node, 1+e.selections(nf.SelectionSet, depth))
					}
				}
			}
		}
		return 2 + n*node
	}
	return n * (1 + e.selections(f.SelectionSet, depth))
}

// count returns the first/last argument's value.
func (e estimator) count(f *ast.Field) (float64, bool) {
	for _, name := range []string{"first", "last"} {
		a := f.Arguments.ForName(name)
		if a == nil || a.Value == nil {
			continue
		}
		switch a.Value.Kind {
		case ast.IntValue:
			n, err := strconv.ParseFloat(a.Value.Raw, 64)
			return n, err == nil
		case ast.Variable:
			return toFloat(e.vars[a.Value.Raw])
		}
	}
	return 0, false
}

func toFloat(v any) (float64, bool) {
	switch n := v.(type) {
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case int32:
		return float64(n), true
	case float64:
		return n, true
	}
	return 0, false
}

func isConnection(set ast.SelectionSet) bool {
	for _, sel := range set {
		if f, ok := sel.(*ast.Field); ok && (f.Name == "nodes" || f.Name == "edges") {
			return true
		}
	}
	return false
}
