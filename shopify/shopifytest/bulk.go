package shopifytest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/validator"
)

// Bulk operations. bulkOperationRunQuery validates the inner query against
// the schema and Shopify's bulk rules (at least one connection, at most
// five, connection nesting depth at most 2, no connection inside a list
// field, nested connections' parents select id), then runs it in the
// background over the live state: the outermost connection's nodes become
// JSONL lines, nested connections' nodes follow their parent as lines of
// their own with "__parentId". The file is served by the fake itself at
// the operation's url. Status goes CREATED (in the mutation's answer) →
// RUNNING → COMPLETED (after WithBulkDelay of the fake's clock), and a
// bulk_operations/finish webhook is sent to subscribers. Up to five bulk
// queries may run at once (API 2026-01 and later); one bulk mutation.

// maxConcurrentBulkQueries is the 2026-01+ limit per shop.
const maxConcurrentBulkQueries = 5

type bulkOp struct {
	id          int64
	typ         string // QUERY or MUTATION
	query       string
	createdAt   time.Time
	completedAt time.Time
	finished    bool // the export ran
	status      string
	errorCode   string
	objects     int
	roots       int
	size        int64
	path        string // the JSONL file
	notified    bool
}

// statusAt is the operation's status as seen at now.
func (op *bulkOp) statusAt(now time.Time, delay time.Duration) string {
	switch op.status {
	case "CANCELED", "FAILED", "EXPIRED":
		return op.status
	}
	if !op.finished || now.Before(op.createdAt.Add(delay)) {
		return "RUNNING"
	}
	return "COMPLETED"
}

func (s *Server) bulkOpObj(op *bulkOp) object {
	now := s.now()
	status := op.statusAt(now, s.opts.bulkDelay)
	o := object{
		"__typename":      "BulkOperation",
		"id":              gid("BulkOperation", op.id),
		"type":            op.typ,
		"query":           op.query,
		"status":          status,
		"errorCode":       nilIfEmpty(op.errorCode),
		"createdAt":       ts(op.createdAt),
		"completedAt":     nil,
		"objectCount":     "0",
		"rootObjectCount": "0",
		"fileSize":        nil,
		"url":             nil,
		"partialDataUrl":  nil,
	}
	if op.finished {
		o["objectCount"] = strconv.Itoa(op.objects)
		o["rootObjectCount"] = strconv.Itoa(op.roots)
	}
	if status == "COMPLETED" {
		done := op.completedAt
		if d := op.createdAt.Add(s.opts.bulkDelay); d.After(done) {
			done = d
		}
		o["completedAt"] = ts(done)
		o["fileSize"] = strconv.FormatInt(op.size, 10)
		if op.objects > 0 {
			o["url"] = s.http.URL + "/bulk/" + legacy(op.id) + ".jsonl"
		}
	}
	return o
}

func (s *Server) bulkOpsConn(args map[string]any) *conn {
	q := parseSearch(str(args["query"]))
	now := s.now()
	c := &conn{}
	for _, id := range sortedKeys(s.st.bulkOps) {
		op := s.st.bulkOps[id]
		fields := func(f string) ([]string, bool) {
			switch f {
			case "status":
				return []string{strings.ToLower(op.statusAt(now, s.opts.bulkDelay))}, true
			case "operation_type", "type":
				return []string{strings.ToLower(op.typ)}, true
			case "created_at":
				return []string{ts(op.createdAt)}, true
			case "id":
				return []string{legacy(op.id)}, true
			}
			return nil, false
		}
		if q.match(fields) {
			c.add(sortTime(op.createdAt)+"|"+sortID(id), s.bulkOpObj(op))
		}
	}
	c.sortByKey()
	return c
}

// runningBulk counts bulk operations of typ not yet complete.
func (s *Server) runningBulk(typ string) int {
	n := 0
	now := s.now()
	for _, op := range s.st.bulkOps {
		if op.typ == typ {
			if st := op.statusAt(now, s.opts.bulkDelay); st == "RUNNING" || st == "CREATED" {
				n++
			}
		}
	}
	return n
}

func bulkUserError(code, msg string) object {
	return object{"field": []any{"query"}, "message": msg, "code": code}
}

// bulkRunQuery implements bulkOperationRunQuery (called under s.mu).
func (s *Server) bulkRunQuery(args map[string]any) (any, error) {
	query := str(args["query"])
	payload := func(op any, errs ...any) object {
		if errs == nil {
			errs = []any{}
		}
		return object{"bulkOperation": op, "userErrors": errs}
	}
	if s.runningBulk("QUERY") >= maxConcurrentBulkQueries {
		return payload(nil, bulkUserError("LIMIT_REACHED", fmt.Sprintf("A maximum of %d bulk queries can run at the same time.", maxConcurrentBulkQueries))), nil
	}
	doc, errs := parseAndValidate(query)
	if errs != nil {
		return payload(nil, bulkUserError("INVALID", "Invalid bulk query: "+errs[0].Message)), nil
	}
	op, oerr := pickOperation(doc, "")
	if oerr != nil || op.Operation != ast.Query {
		return payload(nil, bulkUserError("INVALID", "Invalid bulk query: the document must hold one query operation")), nil
	}
	if len(op.VariableDefinitions) > 0 {
		return payload(nil, bulkUserError("INVALID", "Invalid bulk query: bulk queries cannot use variables")), nil
	}
	sch := mustSchema()
	vars, err := validator.VariableValues(sch, op, nil)
	if err != nil {
		return payload(nil, bulkUserError("INVALID", "Invalid bulk query: "+err.Error())), nil
	}
	ex := &executor{schema: sch, doc: doc, vars: vars}
	chk := &bulkChecker{ex: ex}
	chk.walk(sch.Query, op.SelectionSet, 0, false)
	if chk.err == "" && chk.conns == 0 {
		chk.err = "Bulk queries must contain at least one connection."
	}
	if chk.err == "" && chk.conns > 5 {
		chk.err = "Bulk queries cannot contain more than 5 connections."
	}
	if chk.err != "" {
		return payload(nil, bulkUserError("INVALID", chk.err)), nil
	}
	b := &bulkOp{id: s.st.id(), typ: "QUERY", query: query, createdAt: s.now(), status: "CREATED"}
	s.st.bulkOps[b.id] = b
	created := s.bulkOpObj(b)
	created["status"] = "CREATED"
	go s.bulkExport(b, ex, op)
	return payload(created), nil
}

// bulkChecker enforces Shopify's bulk query rules on the document.
type bulkChecker struct {
	ex    *executor
	conns int
	err   string
}

func (c *bulkChecker) walk(typ *ast.Definition, set ast.SelectionSet, depth int, underList bool) {
	if c.err != "" || typ == nil {
		return
	}
	for _, col := range c.ex.collect(typ, set, nil, map[string]bool{}) {
		f := col.fields[0]
		def := typ.Fields.ForName(f.Name)
		if def == nil {
			continue
		}
		named := c.ex.schema.Types[def.Type.Name()]
		if named == nil || named.Kind == ast.Scalar || named.Kind == ast.Enum {
			continue
		}
		sub := mergeSelections(col.fields)
		if isConnectionType(named) {
			c.conns++
			if underList {
				c.err = "Queries that contain a connection field within a list field are not currently supported."
				return
			}
			if depth >= 2 {
				c.err = "Bulk queries cannot contain connections with a nesting depth greater than 2."
				return
			}
			nodeType, nodeSet := c.ex.connectionNodes(named, sub)
			if nodeType == nil {
				continue
			}
			if c.hasNestedConnection(nodeType, nodeSet) && !selectsID(nodeSet) {
				c.err = "The parent 'node' field for a nested connection must select the 'id' field without an alias and must be of 'ID' return type. Connection fields without 'id': " + f.Name + "."
				return
			}
			c.walk(nodeType, nodeSet, depth+1, false)
			continue
		}
		c.walk(named, sub, depth, underList || isListType(def.Type))
	}
}

func isListType(t *ast.Type) bool { return t.Elem != nil }

func (c *bulkChecker) hasNestedConnection(typ *ast.Definition, set ast.SelectionSet) bool {
	for _, col := range c.ex.collect(typ, set, nil, map[string]bool{}) {
		def := typ.Fields.ForName(col.fields[0].Name)
		if def == nil {
			continue
		}
		named := c.ex.schema.Types[def.Type.Name()]
		if named == nil || named.Kind == ast.Scalar || named.Kind == ast.Enum {
			continue
		}
		if isConnectionType(named) || c.hasNestedConnection(named, mergeSelections(col.fields)) {
			return true
		}
	}
	return false
}

func selectsID(set ast.SelectionSet) bool {
	for _, s := range set {
		if f, ok := s.(*ast.Field); ok && f.Name == "id" && (f.Alias == "" || f.Alias == "id") {
			return true
		}
	}
	return false
}

// bulkExport runs the query and writes the JSONL file.
func (s *Server) bulkExport(b *bulkOp, ex *executor, op *ast.OperationDefinition) {
	f, err := os.CreateTemp("", "shopifytest-bulk-*.jsonl")
	if err != nil {
		s.mu.Lock()
		b.status, b.errorCode, b.finished = "FAILED", "INTERNAL_SERVER_ERROR", true
		s.mu.Unlock()
		return
	}
	w := bufio.NewWriterSize(f, 64<<10)
	objects, roots := 0, 0
	var writeErr error
	var write func(n *omap, parent string)
	write = func(n *omap, parent string) {
		id, _ := n.vals["id"].(string)
		var children []*bulkList
		keys := n.keys[:0:0]
		for _, k := range n.keys {
			if bl, ok := n.vals[k].(*bulkList); ok {
				children = append(children, bl)
				delete(n.vals, k)
				continue
			}
			keys = append(keys, k)
		}
		n.keys = keys
		if parent != "" {
			n.set("__parentId", parent)
		}
		line, err := json.Marshal(n)
		if err != nil && writeErr == nil {
			writeErr = err
		}
		w.Write(line)
		w.WriteByte('\n')
		objects++
		for _, bl := range children {
			for _, c := range bl.nodes {
				write(c, id)
			}
		}
	}
	ex.bulk = true
	ex.emit = func(n *omap) {
		roots++
		write(n, "")
	}
	s.mu.Lock()
	ex.run(ex.schema.Query, s.queryRoot(), op.SelectionSet)
	if err := w.Flush(); err != nil && writeErr == nil {
		writeErr = err
	}
	size, _ := f.Seek(0, 1)
	f.Close()
	b.path, b.objects, b.roots, b.size, b.finished = f.Name(), objects, roots, size, true
	if s.closed {
		os.Remove(b.path)
	}
	b.completedAt = s.now()
	if writeErr != nil || len(ex.errs) > 0 {
		b.status, b.errorCode = "FAILED", "INTERNAL_SERVER_ERROR"
	}
	s.mu.Unlock()
	s.scheduleBulkFinish(b)
}

// scheduleBulkFinish sends bulk_operations/finish once the operation shows
// as finished on the fake's clock.
func (s *Server) scheduleBulkFinish(b *bulkOp) {
	send := func() {
		s.mu.Lock()
		if b.notified {
			s.mu.Unlock()
			return
		}
		b.notified = true
		status := b.statusAt(s.now(), s.opts.bulkDelay)
		payload := map[string]any{
			"admin_graphql_api_id": gid("BulkOperation", b.id),
			"completed_at":         ts(s.now()),
			"created_at":           ts(b.createdAt),
			"error_code":           nilIfEmpty(strings.ToLower(b.errorCode)),
			"status":               strings.ToLower(status),
			"type":                 strings.ToLower(b.typ),
		}
		s.emitLocked("bulk_operations/finish", payload)
		s.mu.Unlock()
	}
	if s.opts.bulkDelay <= 0 {
		send()
		return
	}
	go func() {
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-s.hooks.done:
				return
			case <-t.C:
				s.mu.Lock()
				st := b.statusAt(s.now(), s.opts.bulkDelay)
				s.mu.Unlock()
				if st != "RUNNING" {
					send()
					return
				}
			}
		}
	}()
}

// serveBulkFile serves a finished operation's JSONL, like the signed
// storage URL Shopify hands out (no access token needed).
func (s *Server) serveBulkFile(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimSuffix(r.PathValue("file"), ".jsonl")
	id, err := strconv.ParseInt(name, 10, 64)
	s.mu.Lock()
	var b *bulkOp
	if err == nil {
		b = s.st.bulkOps[id]
	}
	var path string
	if b != nil && b.statusAt(s.now(), s.opts.bulkDelay) == "COMPLETED" {
		path = b.path
	}
	s.mu.Unlock()
	if path == "" {
		http.Error(w, "NoSuchKey", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "application/jsonl")
	http.ServeFile(w, r, path)
}

// BulkOperationFile returns the JSONL written for a bulk operation (by
// GID), for tests that inspect it directly.
func (s *Server) BulkOperationFile(id string) ([]byte, error) {
	s.mu.Lock()
	b := s.st.bulkOps[idOf(id, "BulkOperation")]
	var path string
	if b != nil {
		path = b.path
	}
	s.mu.Unlock()
	if path == "" {
		return nil, fmt.Errorf("shopifytest: no file for bulk operation %s", id)
	}
	return os.ReadFile(path)
}

func (s *Server) removeBulkFiles() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	for _, b := range s.st.bulkOps {
		if b.path != "" {
			os.Remove(b.path)
		}
	}
}
