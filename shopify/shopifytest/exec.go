package shopifytest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
)

// The executor walks a validated document over values in schema shape. A
// resolver answers with these:
//
//   - object: a map from field name to value (the fields of one GraphQL
//     object; "__typename" names its concrete type where the position is an
//     interface or union);
//   - lazy: a field value computed from the field's arguments;
//   - *conn: the items of a connection field, already filtered and sorted;
//     the executor pages them (first/after/last/before/reverse) and builds
//     edges, nodes, cursors and pageInfo for any selection;
//   - lists ([]any, []object) and scalars (string, bool, ints, float64).
//
// Everything else — aliases, fragments, @skip/@include, __typename, null
// propagation, scalar serialization and the actual cost — is generic, so a
// new field only needs a value in the object, never executor code.
type object map[string]any

// lazy is a field value computed from the field's coerced arguments.
type lazy func(args map[string]any) (any, error)

// lazyField is a lazy value that also sees the field itself (its
// directives, such as @idempotent on mutations).
type lazyField func(f *ast.Field, args map[string]any) (any, error)

// conn is the source of a connection: every matching item in ascending key
// order. Keys order the items and become the cursors, so a cursor stays
// valid (keyset pagination) when records change between pages.
type conn struct {
	items []connItem
}

type connItem struct {
	key   string
	value any // or a thunk, built only when its page is served
}

// thunk defers building a connection item's object until the item is on
// the page being served: a feed page of 50 must not build the whole shop.
type thunk func() any

func (it connItem) resolve() any {
	if th, ok := it.value.(thunk); ok {
		return th()
	}
	return it.value
}

func (c *conn) add(key string, v any) { c.items = append(c.items, connItem{key, v}) }

// sortByKey sorts the items by key; resolvers build keys with sortKey.
func (c *conn) sortByKey() {
	sort.SliceStable(c.items, func(i, j int) bool { return c.items[i].key < c.items[j].key })
}

// execError is a resolver failure reported in errors[] with a code.
type execError struct {
	msg  string
	code string
	ext  map[string]any
}

func (e *execError) Error() string { return e.msg }

func errf(code, format string, a ...any) *execError {
	return &execError{msg: fmt.Sprintf(format, a...), code: code}
}

// omap is a JSON object that keeps the selection order.
type omap struct {
	keys []string
	vals map[string]any
}

func newOmap() *omap { return &omap{vals: map[string]any{}} }

func (m *omap) set(k string, v any) {
	if _, ok := m.vals[k]; !ok {
		m.keys = append(m.keys, k)
	}
	m.vals[k] = v
}

// MarshalJSON writes the keys in selection order. Nested values are
// written directly, not through json.Marshal, which would re-validate every
// nested object's output (quadratic in depth).
func (m *omap) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	if err := writeValue(&b, m); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func writeValue(b *bytes.Buffer, v any) error {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case *omap:
		b.WriteByte('{')
		for i, k := range x.keys {
			if i > 0 {
				b.WriteByte(',')
			}
			writeString(b, k)
			b.WriteByte(':')
			if err := writeValue(b, x.vals[k]); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	case []any:
		b.WriteByte('[')
		for i, it := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := writeValue(b, it); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case string:
		writeString(b, x)
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case int:
		b.WriteString(strconv.Itoa(x))
	default:
		enc, err := json.Marshal(x)
		if err != nil {
			return err
		}
		b.Write(enc)
	}
	return nil
}

func writeString(b *bytes.Buffer, s string) {
	simple := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x7f || c == '<' || c == '>' || c == '&' {
			simple = false
			break
		}
	}
	if simple {
		b.WriteByte('"')
		b.WriteString(s)
		b.WriteByte('"')
		return
	}
	enc, _ := json.Marshal(s)
	b.Write(enc)
}

type executor struct {
	schema *ast.Schema
	doc    *ast.QueryDocument
	vars   map[string]any
	errs   Errors
	// cost is the actual cost of a query, counted while executing.
	cost   float64
	noCost bool // under a mutation root field: mutations cost a flat amount

	// bulk mode (bulkOperationRunQuery): connections are read whole, the
	// outermost connection's nodes go to emit one by one, nested ones are
	// gathered as bulkLists for the JSONL writer to flatten.
	bulk      bool
	bulkDepth int
	emit      func(*omap)
}

// bulkList is a nested connection's nodes in bulk mode.
type bulkList struct{ nodes []*omap }

// MarshalJSON is only reached if a bulkList escapes flattening.
func (b *bulkList) MarshalJSON() ([]byte, error) { return json.Marshal(b.nodes) }

// run executes the selection set of root (the query or mutation root type).
// Error paths are response paths from the root field, as in GraphQL
// execution errors (static validation errors start with the operation).
func (e *executor) run(rootType *ast.Definition, root object, set ast.SelectionSet) *omap {
	out, _ := e.selectionSet(rootType, root, set, nil, 0)
	return out
}

type collected struct {
	key    string
	fields []*ast.Field
}

// collect merges the fields of set that apply to typ by response key,
// following fragments and honouring @skip/@include.
func (e *executor) collect(typ *ast.Definition, set ast.SelectionSet, out []collected, seen map[string]bool) []collected {
	for _, s := range set {
		switch s := s.(type) {
		case *ast.Field:
			if !e.included(s.Directives) {
				continue
			}
			key := s.Alias
			if key == "" {
				key = s.Name
			}
			found := false
			for i := range out {
				if out[i].key == key {
					out[i].fields = append(out[i].fields, s)
					found = true
					break
				}
			}
			if !found {
				out = append(out, collected{key: key, fields: []*ast.Field{s}})
			}
		case *ast.InlineFragment:
			if !e.included(s.Directives) || !e.applies(s.TypeCondition, typ) {
				continue
			}
			out = e.collect(typ, s.SelectionSet, out, seen)
		case *ast.FragmentSpread:
			if !e.included(s.Directives) || seen[s.Name] {
				continue
			}
			frag := e.doc.Fragments.ForName(s.Name)
			if frag == nil || !e.applies(frag.TypeCondition, typ) {
				continue
			}
			seen[s.Name] = true
			out = e.collect(typ, frag.SelectionSet, out, seen)
			delete(seen, s.Name)
		}
	}
	return out
}

func (e *executor) included(ds ast.DirectiveList) bool {
	for _, d := range ds {
		if d.Name != "skip" && d.Name != "include" {
			continue
		}
		v := d.ArgumentMap(e.vars)["if"]
		b, _ := v.(bool)
		if d.Name == "skip" && b || d.Name == "include" && !b {
			return false
		}
	}
	return true
}

// applies reports whether a fragment on cond applies to the concrete typ.
func (e *executor) applies(cond string, typ *ast.Definition) bool {
	if cond == "" || cond == typ.Name {
		return true
	}
	for _, p := range e.schema.GetPossibleTypes(e.schema.Types[cond]) {
		if p.Name == typ.Name {
			return true
		}
	}
	return false
}

func (e *executor) fail(path []any, f *ast.Field, err error) {
	ge := Error{Message: err.Error(), Path: append([]any(nil), path...)}
	if f != nil && f.Position != nil {
		ge.Locations = []ErrorLocation{{Line: f.Position.Line, Column: f.Position.Column}}
	}
	if xe, ok := err.(*execError); ok && (xe.code != "" || xe.ext != nil) {
		ge.Extensions = map[string]any{}
		for k, v := range xe.ext {
			ge.Extensions[k] = v
		}
		if xe.code != "" {
			ge.Extensions["code"] = xe.code
		}
	}
	e.errs = append(e.errs, ge)
}

// selectionSet resolves the selection on obj; ok is false when a non-null
// field was null, so the object itself becomes null (null propagation).
func (e *executor) selectionSet(typ *ast.Definition, obj object, set ast.SelectionSet, path []any, depth int) (*omap, bool) {
	out := newOmap()
	for _, c := range e.collect(typ, set, nil, map[string]bool{}) {
		f := c.fields[0]
		p := append(append([]any(nil), path...), c.key)
		if f.Name == "__typename" {
			out.set(c.key, typ.Name)
			continue
		}
		def := typ.Fields.ForName(f.Name)
		if def == nil {
			e.fail(p, f, errf("", "Field '%s' doesn't exist on type '%s'", f.Name, typ.Name))
			return nil, false
		}
		raw, has := obj[f.Name]
		var args map[string]any
		failed := false
		if l, ok := raw.(lazyField); ok {
			raw = lazy(func(a map[string]any) (any, error) { return l(f, a) })
		}
		if l, ok := raw.(lazy); ok {
			args = f.ArgumentMap(e.vars)
			v, err := l(args)
			if err != nil {
				e.fail(p, f, err)
				raw, failed = nil, true
			} else {
				raw = v
			}
		} else if !has && def.Type.NonNull {
			e.fail(p, f, errf("NOT_IMPLEMENTED", "shopifytest: field %s.%s is not implemented by the fake", typ.Name, f.Name))
			return nil, false
		}
		sub0 := mergeSelections(c.fields)
		if cn, ok := raw.(*conn); ok && e.bulk {
			connType := e.schema.Types[def.Type.Name()]
			nodeType, nodeSet := e.connectionNodes(connType, sub0)
			nodeT := &ast.Type{NamedType: nodeType.Name, NonNull: true}
			outer := e.bulkDepth == 0
			list := &bulkList{}
			e.bulkDepth++
			for _, it := range cn.items {
				v, _ := e.complete(nodeT, it.resolve(), nodeSet, p, f, depth+1)
				node, ok := v.(*omap)
				if !ok {
					continue
				}
				if outer {
					e.emit(node)
				} else {
					list.nodes = append(list.nodes, node)
				}
			}
			e.bulkDepth--
			if !outer {
				out.set(c.key, list)
			}
			continue
		}
		if c, ok := raw.(*conn); ok {
			if args == nil {
				args = f.ArgumentMap(e.vars)
			}
			v, err := e.page(c, args)
			if err != nil {
				e.fail(p, f, err)
				raw, failed = nil, true
			} else {
				raw = v
				e.charge(2)
			}
		}
		if failed {
			// The error is recorded; null propagates like any null.
			if def.Type.NonNull {
				return nil, false
			}
			out.set(c.key, nil)
			continue
		}
		sub := mergeSelections(c.fields)
		val, errored := e.complete(def.Type, raw, sub, p, f, depth+1)
		if val == nil && def.Type.NonNull {
			if !errored {
				e.fail(p, f, errf("", "Cannot return null for non-nullable field %s.%s", typ.Name, f.Name))
			}
			return nil, false
		}
		out.set(c.key, val)
	}
	return out, true
}

func mergeSelections(fs []*ast.Field) ast.SelectionSet {
	if len(fs) == 1 {
		return fs[0].SelectionSet
	}
	var set ast.SelectionSet
	for _, f := range fs {
		set = append(set, f.SelectionSet...)
	}
	return set
}

func (e *executor) charge(n float64) {
	if !e.noCost {
		e.cost += n
	}
}

// complete turns a resolved value into its JSON form for type t. errored
// reports that an error was already recorded for a null result.
func (e *executor) complete(t *ast.Type, v any, set ast.SelectionSet, path []any, f *ast.Field, depth int) (any, bool) {
	if t.NonNull {
		inner := *t
		inner.NonNull = false
		val, errored := e.complete(&inner, v, set, path, f, depth)
		if val == nil {
			if !errored {
				e.fail(path, f, errf("", "Cannot return null for non-nullable field %s", strings.Join(pathStrings(path), ".")))
			}
			return nil, true
		}
		return val, false
	}
	if v == nil || isNilValue(v) {
		// A null object still cost its lookup.
		if d := e.schema.Types[t.NamedType]; t.Elem == nil && d != nil && d.Kind != ast.Scalar && d.Kind != ast.Enum && !isPagingType(d.Name) {
			e.charge(1)
		}
		return nil, false
	}
	if t.Elem != nil {
		items, ok := listItems(v)
		if !ok {
			e.fail(path, f, errf("", "shopifytest: %s: expected a list, have %T", strings.Join(pathStrings(path), "."), v))
			return nil, true
		}
		out := make([]any, 0, len(items))
		saved := e.noCost
		defer func() { e.noCost = saved }()
		// A list costs like one element (see cost.go), so only its first
		// element is charged; a connection's edges and nodes are charged
		// per node.
		perNode := f != nil && f.ObjectDefinition != nil && isPagingType(f.ObjectDefinition.Name)
		for i, it := range items {
			e.noCost = saved || (i > 0 && !perNode)
			val, errored := e.complete(t.Elem, it, set, append(append([]any(nil), path...), i), f, depth)
			if val == nil && t.Elem.NonNull {
				return nil, errored
			}
			out = append(out, val)
		}
		return out, false
	}
	def := e.schema.Types[t.NamedType]
	switch def.Kind {
	case ast.Scalar:
		return serializeScalar(def.Name, v), false
	case ast.Enum:
		return fmt.Sprint(v), false
	}
	obj, ok := v.(object)
	if !ok {
		e.fail(path, f, errf("", "shopifytest: %s: expected an object, have %T", strings.Join(pathStrings(path), "."), v))
		return nil, true
	}
	concrete := def
	if def.IsAbstractType() {
		name, _ := obj["__typename"].(string)
		concrete = e.schema.Types[name]
		if concrete == nil || !e.applies(def.Name, concrete) {
			e.fail(path, f, errf("", "shopifytest: %s: object of type %q in a %s position", strings.Join(pathStrings(path), "."), name, def.Name))
			return nil, true
		}
	}
	if !isPagingType(concrete.Name) {
		e.charge(1)
	}
	if depth > 40 {
		e.fail(path, f, errf("", "shopifytest: selection too deep"))
		return nil, true
	}
	out, ok := e.selectionSet(concrete, obj, set, path, depth)
	if !ok {
		return nil, true
	}
	return out, false
}

// isPagingType names the connection wrappers that cost nothing themselves:
// a connection costs 2 plus its nodes.
func isPagingType(name string) bool {
	return name == "PageInfo" || strings.HasSuffix(name, "Connection") || strings.HasSuffix(name, "Edge")
}

func isNilValue(v any) bool {
	switch x := v.(type) {
	case object:
		return x == nil
	case *conn:
		return x == nil
	}
	return false
}

func listItems(v any) ([]any, bool) {
	switch x := v.(type) {
	case []any:
		return x, true
	case []object:
		out := make([]any, len(x))
		for i, o := range x {
			out[i] = o
		}
		return out, true
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Slice {
		return nil, false
	}
	out := make([]any, rv.Len())
	for i := range out {
		out[i] = rv.Index(i).Interface()
	}
	return out, true
}

func pathStrings(p []any) []string {
	out := make([]string, len(p))
	for i, x := range p {
		out[i] = fmt.Sprint(x)
	}
	return out
}

// serializeScalar writes Shopify's JSON form: Int, Float and Boolean as
// JSON numbers and booleans; every other scalar (ID, DateTime, Decimal,
// Money, UnsignedInt64, BigInt, URL, …) as a string. JSON passes through.
func serializeScalar(name string, v any) any {
	switch name {
	case "Int":
		if n, ok := asInt64(v); ok {
			return n
		}
	case "Float":
		if fl, ok := v.(float64); ok {
			return fl
		}
		if n, ok := asInt64(v); ok {
			return float64(n)
		}
	case "Boolean":
		if b, ok := v.(bool); ok {
			return b
		}
	case "JSON":
		return v
	}
	switch x := v.(type) {
	case string:
		return x
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case uint64:
		return strconv.FormatUint(x, 10)
	case fmt.Stringer:
		return x.String()
	}
	return fmt.Sprint(v)
}

func asInt64(v any) (int64, bool) {
	switch x := v.(type) {
	case int:
		return int64(x), true
	case int64:
		return x, true
	case int32:
		return int64(x), true
	case uint64:
		return int64(x), true
	case float64:
		if x == float64(int64(x)) {
			return int64(x), true
		}
	case json.Number:
		n, err := x.Int64()
		return n, err == nil
	}
	return 0, false
}

// maxPageSize is Shopify's limit on first and last.
const maxPageSize = 250

func encodeCursor(key string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(`{"last_value":` + strconv.Quote(key) + `}`))
}

func decodeCursor(c string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(c, "="))
	if err != nil {
		return "", errf("", "Invalid cursor for current pagination sort.")
	}
	var v struct {
		LastValue *string `json:"last_value"`
	}
	if json.Unmarshal(b, &v) != nil || v.LastValue == nil {
		return "", errf("", "Invalid cursor for current pagination sort.")
	}
	return *v.LastValue, nil
}

// page applies Relay paging to a connection source and builds the
// connection object (edges, nodes, pageInfo).
func (e *executor) page(c *conn, args map[string]any) (object, error) {
	first, hasFirst := argInt(args, "first")
	last, hasLast := argInt(args, "last")
	if !hasFirst && !hasLast {
		return nil, errf("", "you must provide one of first or last")
	}
	if hasFirst && hasLast {
		return nil, errf("", "providing both first and last is not supported")
	}
	if hasFirst && (first < 0 || first > maxPageSize) || hasLast && (last < 0 || last > maxPageSize) {
		return nil, errf("", "The maximum value for first and last is %d and they cannot be negative.", maxPageSize)
	}
	items := c.items
	if b, _ := args["reverse"].(bool); b {
		rev := make([]connItem, len(items))
		for i, it := range items {
			rev[len(items)-1-i] = it
		}
		items = rev
	}
	reverse, _ := args["reverse"].(bool)
	beyond := func(key, cur string) bool { // key comes after cur in walk order
		if reverse {
			return key < cur
		}
		return key > cur
	}
	hasPrev, hasNext := false, false
	if a, _ := args["after"].(string); a != "" {
		cur, err := decodeCursor(a)
		if err != nil {
			return nil, err
		}
		i := 0
		for i < len(items) && !beyond(items[i].key, cur) {
			i++
		}
		hasPrev = i > 0
		items = items[i:]
	}
	if b, _ := args["before"].(string); b != "" {
		cur, err := decodeCursor(b)
		if err != nil {
			return nil, err
		}
		i := 0
		for i < len(items) && beyond(cur, items[i].key) {
			i++
		}
		hasNext = i < len(items)
		items = items[:i]
	}
	if hasFirst && len(items) > int(first) {
		items = items[:first]
		hasNext = true
	}
	if hasLast && len(items) > int(last) {
		items = items[len(items)-int(last):]
		hasPrev = true
	}
	edges := make([]any, len(items))
	nodes := make([]any, len(items))
	for i, it := range items {
		v := it.resolve()
		key := it.key
		edges[i] = object{"cursor": lazy(func(map[string]any) (any, error) { return encodeCursor(key), nil }), "node": v}
		nodes[i] = v
	}
	pi := object{"hasNextPage": hasNext, "hasPreviousPage": hasPrev, "startCursor": nil, "endCursor": nil}
	if len(items) > 0 {
		pi["startCursor"] = encodeCursor(items[0].key)
		pi["endCursor"] = encodeCursor(items[len(items)-1].key)
	}
	return object{"edges": edges, "nodes": nodes, "pageInfo": pi}, nil
}

func argInt(args map[string]any, name string) (int64, bool) {
	v, ok := args[name]
	if !ok || v == nil {
		return 0, false
	}
	return asInt64(v)
}
