package shopifytest

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vektah/gqlparser/v2/ast"
)

// Cost rules, as Shopify publishes them (shopify.dev rate-limits page and
// the Shopify Engineering post on calculated query cost):
//
//   - scalar or enum field: 0
//   - object field: 1 plus the cost of its selection
//   - interface or union field: 1 plus the most expensive selection over
//     the possible types
//   - connection field: 2 plus first (or last) times the cost of one node
//     (1 for the node object plus its selection); edges, cursors and
//     pageInfo cost nothing
//   - mutation field: 10, except productSet, whose cost is dynamic:
//     10 + 0.2 per variant + 0.4 per metafield (product or variant)
//     + 1.9 per product file + 0.6 per variant file
//
// Not published, and chosen here: a list field (not a connection) costs
// like one object whatever its length; nodes(ids:) costs one object per id;
// the requested cost is rounded up to an integer.
//
// The actual cost counts what was returned: 1 per object, 2 per connection
// plus its returned nodes; for mutations it equals the requested cost.

// MaxQueryCost is Shopify's single-query limit on the requested cost.
const MaxQueryCost = 1000

func (e *executor) requestedCost(op *ast.OperationDefinition) int {
	var c float64
	if op.Operation == ast.Mutation {
		for _, f := range e.collect(e.schema.Mutation, op.SelectionSet, nil, map[string]bool{}) {
			c += mutationCost(f.fields[0].Name, f.fields[0].ArgumentMap(e.vars))
		}
	} else {
		c = e.selectionCost(e.schema.Query, op.SelectionSet, 0)
	}
	return int(math.Ceil(c - 1e-9))
}

func (e *executor) selectionCost(typ *ast.Definition, set ast.SelectionSet, depth int) float64 {
	if depth > 40 || len(set) == 0 {
		return 0
	}
	if typ.IsAbstractType() {
		best := 0.0
		for _, p := range e.schema.GetPossibleTypes(typ) {
			if c := e.selectionCost(p, set, depth); c > best {
				best = c
			}
		}
		return best
	}
	var total float64
	for _, c := range e.collect(typ, set, nil, map[string]bool{}) {
		f := c.fields[0]
		def := typ.Fields.ForName(f.Name)
		if def == nil {
			continue // __typename
		}
		total += e.fieldCost(typ, def, c.fields, depth)
	}
	return total
}

func (e *executor) fieldCost(parent *ast.Definition, def *ast.FieldDefinition, fs []*ast.Field, depth int) float64 {
	named := e.schema.Types[def.Type.Name()]
	if named == nil || named.Kind == ast.Scalar || named.Kind == ast.Enum {
		return 0
	}
	sub := mergeSelections(fs)
	args := fs[0].ArgumentMap(e.vars)
	if isConnectionType(named) {
		size, ok := argInt(args, "first")
		if !ok {
			size, _ = argInt(args, "last")
		}
		nodeType, nodeSet := e.connectionNodes(named, sub)
		per := 0.0
		if nodeType != nil {
			per = 1 + e.selectionCost(nodeType, nodeSet, depth+1)
		}
		return 2 + float64(size)*per
	}
	one := 1 + e.selectionCost(named, sub, depth+1)
	if parent == e.schema.Query && def.Name == "nodes" {
		if ids, ok := args["ids"].([]any); ok {
			return float64(len(ids)) * one
		}
	}
	return one
}

func isConnectionType(d *ast.Definition) bool {
	return d.Kind == ast.Object && strings.HasSuffix(d.Name, "Connection") &&
		(d.Fields.ForName("edges") != nil || d.Fields.ForName("nodes") != nil)
}

// connectionNodes gathers the node selections of a connection, from both
// edges { node { … } } and nodes { … }.
func (e *executor) connectionNodes(connType *ast.Definition, set ast.SelectionSet) (*ast.Definition, ast.SelectionSet) {
	var nodeType *ast.Definition
	if nf := connType.Fields.ForName("nodes"); nf != nil {
		nodeType = e.schema.Types[nf.Type.Name()]
	}
	var nodeSet ast.SelectionSet
	for _, c := range e.collect(connType, set, nil, map[string]bool{}) {
		switch c.fields[0].Name {
		case "nodes":
			nodeSet = append(nodeSet, mergeSelections(c.fields)...)
		case "edges":
			edgeType := e.schema.Types[connType.Fields.ForName("edges").Type.Name()]
			for _, ec := range e.collect(edgeType, mergeSelections(c.fields), nil, map[string]bool{}) {
				if ec.fields[0].Name == "node" {
					nodeSet = append(nodeSet, mergeSelections(ec.fields)...)
					if nodeType == nil {
						nodeType = e.schema.Types[edgeType.Fields.ForName("node").Type.Name()]
					}
				}
			}
		}
	}
	return nodeType, nodeSet
}

// mutationCost is the flat 10 of a mutation, or productSet's dynamic cost.
func mutationCost(name string, args map[string]any) float64 {
	if name != "productSet" {
		return 10
	}
	c := 10.0
	in, _ := args["input"].(map[string]any)
	if mf, ok := in["metafields"].([]any); ok {
		c += 0.4 * float64(len(mf))
	}
	if fs, ok := in["files"].([]any); ok {
		c += 1.9 * float64(len(fs))
	}
	vs, _ := in["variants"].([]any)
	for _, v := range vs {
		c += 0.2
		vm, _ := v.(map[string]any)
		if mf, ok := vm["metafields"].([]any); ok {
			c += 0.4 * float64(len(mf))
		}
		if vm["file"] != nil {
			c += 0.6
		}
	}
	return c
}

// Profile is a cost bucket: its size and how many points it regains per
// second.
type Profile struct {
	Name        string
	Max         float64
	RestoreRate float64
}

// Bucket profiles. Standard is the observed Basic/Shopify plan bucket
// (2000 points, 100/s). The restore rates of Advanced and Plus are
// documented; their sizes (20× the rate, as on Standard) are unverified.
// Tiny is the small development-store bucket some partners report
// (unverified).
var (
	Standard = Profile{Name: "standard", Max: 2000, RestoreRate: 100}
	Advanced = Profile{Name: "advanced", Max: 4000, RestoreRate: 200}
	Plus     = Profile{Name: "plus", Max: 20000, RestoreRate: 1000}
	Tiny     = Profile{Name: "tiny", Max: 40, RestoreRate: 2}
)

// bucket is a leaky bucket of cost points for one shop.
type bucket struct {
	mu        sync.Mutex
	max       float64
	restore   float64 // points per second, already time-scaled
	available float64
	at        time.Time
}

func newBucket(p Profile, scale float64, now time.Time) *bucket {
	return &bucket{max: p.Max, restore: p.RestoreRate * scale, available: p.Max, at: now}
}

func (b *bucket) refill(now time.Time) {
	if d := now.Sub(b.at).Seconds(); d > 0 {
		b.available = math.Min(b.max, b.available+d*b.restore)
	}
	if now.After(b.at) {
		b.at = now
	}
}

// take reserves cost points before execution; false means THROTTLED.
func (b *bucket) take(cost int, now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.refill(now)
	if float64(cost) > b.available {
		return false
	}
	b.available -= float64(cost)
	return true
}

// refund gives back the difference between requested and actual cost.
func (b *bucket) refund(points float64, now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.refill(now)
	b.available = math.Min(b.max, b.available+points)
}

// status is the throttleStatus object as Shopify prints it: maximum and
// restore rate as floats ("2000.0"), currently available as an integer.
func (b *bucket) status(now time.Time) throttleStatus {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.refill(now)
	return throttleStatus{
		MaximumAvailable:   floatJSON(b.max),
		CurrentlyAvailable: int(math.Floor(b.available)),
		RestoreRate:        floatJSON(b.restore),
	}
}

// wait is how long until n points are available.
func (b *bucket) wait(n int, now time.Time) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.refill(now)
	missing := float64(n) - b.available
	if missing <= 0 || b.restore <= 0 {
		return 0
	}
	return time.Duration(missing / b.restore * float64(time.Second))
}

type throttleStatus struct {
	MaximumAvailable   floatJSON `json:"maximumAvailable"`
	CurrentlyAvailable int       `json:"currentlyAvailable"`
	RestoreRate        floatJSON `json:"restoreRate"`
}

type costExtension struct {
	RequestedQueryCost int            `json:"requestedQueryCost"`
	ActualQueryCost    *int           `json:"actualQueryCost"`
	ThrottleStatus     throttleStatus `json:"throttleStatus"`
}

// floatJSON prints a float with at least one decimal, like Shopify's 2000.0.
type floatJSON float64

func (f floatJSON) MarshalJSON() ([]byte, error) {
	s := strconv.FormatFloat(float64(f), 'f', -1, 64)
	if !strings.ContainsAny(s, ".eE") {
		s += ".0"
	}
	return []byte(s), nil
}

var _ json.Marshaler = floatJSON(0)
