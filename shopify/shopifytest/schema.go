package shopifytest

import (
	_ "embed"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"
)

// APIVersion is the Admin API version whose schema the fake serves.
const APIVersion = "2026-10"

//go:generate go run ../internal/schemagen -in ../../../shared/specs/shopify/admin-2026-10.introspection.json.gz -out testdata/admin-2026-10.graphql

// schemaSDL is Shopify's Admin API 2026-10 schema without descriptions,
// derived from the introspection result by shopify/internal/schemagen.
//
//go:embed testdata/admin-2026-10.graphql
var schemaSDL string

var (
	schemaOnce sync.Once
	schemaVal  *ast.Schema
	schemaErr  error
)

// Schema returns the parsed Admin API 2026-10 schema the fake validates
// against. It is loaded once and shared; callers must not modify it.
func Schema() (*ast.Schema, error) {
	schemaOnce.Do(func() {
		schemaVal, schemaErr = gqlparser.LoadSchema(&ast.Source{Name: "admin-2026-10.graphql", Input: schemaSDL})
		if schemaErr != nil {
			schemaErr = fmt.Errorf("shopifytest: load schema: %w", schemaErr)
		}
	})
	return schemaVal, schemaErr
}

func mustSchema() *ast.Schema {
	s, err := Schema()
	if err != nil {
		panic(err)
	}
	return s
}

// Error is one entry of a GraphQL response's errors array, in the shape
// Shopify (a graphql-ruby server) writes it.
type Error struct {
	Message    string          `json:"message"`
	Locations  []ErrorLocation `json:"locations,omitempty"`
	Path       []any           `json:"path,omitempty"`
	Extensions map[string]any  `json:"extensions,omitempty"`
}

// ErrorLocation is a line and column in a GraphQL document.
type ErrorLocation struct {
	Line   int `json:"line"`
	Column int `json:"column"`
}

// Code is the extensions.code of the error, or "".
func (e Error) Code() string {
	c, _ := e.Extensions["code"].(string)
	return c
}

// Errors is a list of GraphQL errors; it is an error itself.
type Errors []Error

func (es Errors) Error() string {
	msgs := make([]string, len(es))
	for i, e := range es {
		msgs[i] = e.Message
		if c := e.Code(); c != "" {
			msgs[i] += " (" + c + ")"
		}
	}
	return "shopifytest: " + strings.Join(msgs, "; ")
}

// Validate parses query and validates it against the 2026-10 schema, the
// same check the fake runs on every request. It returns nil or Errors in
// Shopify's shape. Use it to check a client's documents in tests.
func Validate(query string) error {
	_, errs := parseAndValidate(query)
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// parseAndValidate returns the validated document, or the errors Shopify
// would answer with (static validation happens before any cost is charged).
func parseAndValidate(query string) (*ast.QueryDocument, Errors) {
	s := mustSchema()
	doc, err := parser.ParseQuery(&ast.Source{Name: "query", Input: query})
	if err != nil {
		var ge *gqlerror.Error
		if errors.As(err, &ge) {
			return nil, Errors{parseError(ge)}
		}
		return nil, Errors{{Message: err.Error()}}
	}
	list := validator.ValidateWithRules(s, doc, nil)
	if len(list) == 0 {
		return doc, nil
	}
	out := make(Errors, 0, len(list))
	for _, ge := range list {
		out = append(out, translate(doc, ge))
	}
	return nil, out
}

func locations(ge *gqlerror.Error) []ErrorLocation {
	var ls []ErrorLocation
	for _, l := range ge.Locations {
		ls = append(ls, ErrorLocation{Line: l.Line, Column: l.Column})
	}
	return ls
}

// parseError words a syntax error like graphql-ruby: `Parse error on "}"
// (RCURLY) at [1, 10]` is its form; the fake keeps gqlparser's description
// of the token and graphql-ruby's frame. No extensions.code, as observed.
func parseError(ge *gqlerror.Error) Error {
	e := Error{Locations: locations(ge)}
	at := ""
	if len(ge.Locations) > 0 {
		at = fmt.Sprintf(" at [%d, %d]", ge.Locations[0].Line, ge.Locations[0].Column)
	}
	e.Message = "Parse error: " + strings.TrimSuffix(ge.Message, ".") + at
	return e
}

var (
	reQuoted     = regexp.MustCompile(`"([^"]*)"`)
	reVarUndef   = regexp.MustCompile(`^Variable "\$?([^"]+)" is not defined`)
	reVarUnused  = regexp.MustCompile(`^Variable "\$([^"]+)" is never used`)
	reFieldArg   = regexp.MustCompile(`^Field "([^"]+)" argument "([^"]+)" of type "([^"]+)" is required`)
	reUnknownArg = regexp.MustCompile(`^Unknown argument "([^"]+)" on field "([^".]+)\.([^"]+)"`)
)

// translate rewrites a gqlparser validation error into graphql-ruby's
// static-validation wording and extensions.code (undefinedField,
// argumentNotAccepted, argumentLiteralsIncompatible, missingRequiredArguments,
// variableNotDefined, …), which is what Shopify answers. Where graphql-ruby's
// exact message is not known the gqlparser message is kept and only the code
// follows graphql-ruby's naming.
func translate(doc *ast.QueryDocument, ge *gqlerror.Error) Error {
	e := Error{Message: ge.Message, Locations: locations(ge), Extensions: map[string]any{}}
	var loc *ErrorLocation
	if len(e.Locations) > 0 {
		loc = &e.Locations[0]
	}
	if loc != nil {
		e.Path = pathAt(doc, *loc)
	}
	q := reQuoted.FindAllStringSubmatch(ge.Message, -1)
	quoted := func(i int) string {
		if i < len(q) {
			return q[i][1]
		}
		return ""
	}
	switch ge.Rule {
	case "FieldsOnCorrectType":
		e.Message = fmt.Sprintf("Field '%s' doesn't exist on type '%s'", quoted(0), quoted(1))
		e.Extensions["code"] = "undefinedField"
		e.Extensions["typeName"] = quoted(1)
		e.Extensions["fieldName"] = quoted(0)
	case "KnownArgumentNames":
		if m := reUnknownArg.FindStringSubmatch(ge.Message); m != nil {
			e.Message = fmt.Sprintf("Field '%s' doesn't accept argument '%s'", m[3], m[1])
			e.Extensions["code"] = "argumentNotAccepted"
			e.Extensions["name"] = m[3]
			e.Extensions["typeName"] = "Field"
			e.Extensions["argumentName"] = m[1]
		} else {
			e.Extensions["code"] = "argumentNotAccepted"
		}
	case "ProvidedRequiredArguments":
		if m := reFieldArg.FindStringSubmatch(ge.Message); m != nil {
			e.Message = fmt.Sprintf("Field '%s' is missing required arguments: %s", m[1], m[2])
			e.Extensions["className"] = "Field"
			e.Extensions["name"] = m[1]
			e.Extensions["arguments"] = m[2]
		}
		e.Extensions["code"] = "missingRequiredArguments"
	case "ValuesOfCorrectType":
		e.Extensions["code"] = "argumentLiteralsIncompatible"
		e.Extensions["typeName"] = "Field"
		if f, a := argAt(doc, loc); a != nil {
			e.Extensions["argumentName"] = a.Name
			if f.Definition != nil {
				if ad := f.Definition.Arguments.ForName(a.Name); ad != nil {
					e.Message = fmt.Sprintf("Argument '%s' on Field '%s' has an invalid value (%s). Expected type '%s'.", a.Name, f.Name, a.Value.String(), ad.Type.String())
				}
			}
		}
	case "NoUndefinedVariables":
		if m := reVarUndef.FindStringSubmatch(ge.Message); m != nil {
			e.Message = fmt.Sprintf("Variable $%s is used by %s but not declared", m[1], opLabel(doc))
			e.Extensions["variableName"] = m[1]
		}
		e.Extensions["code"] = "variableNotDefined"
	case "NoUnusedVariables":
		if m := reVarUnused.FindStringSubmatch(ge.Message); m != nil {
			e.Message = fmt.Sprintf("Variable $%s is declared by %s but not used", m[1], opLabel(doc))
			e.Extensions["variableName"] = m[1]
		}
		e.Extensions["code"] = "variableNotUsed"
	case "ScalarLeafs":
		e.Extensions["code"] = "selectionMismatch"
	case "KnownTypeNames":
		e.Extensions["code"] = "undefinedType"
	case "VariablesInAllowedPosition":
		e.Extensions["code"] = "variableMismatch"
	case "VariablesAreInputTypes":
		e.Extensions["code"] = "variableRequiresValidType"
	case "KnownDirectives":
		e.Extensions["code"] = "undefinedDirective"
	case "KnownFragmentNames":
		e.Extensions["code"] = "undefinedFragment"
	case "NoUnusedFragments":
		e.Extensions["code"] = "useAndDefineFragment"
	case "OverlappingFieldsCanBeMerged":
		e.Extensions["code"] = "fieldConflict"
	default:
		if ge.Rule != "" {
			e.Extensions["code"] = lowerFirst(ge.Rule)
		}
	}
	if len(e.Extensions) == 0 {
		e.Extensions = nil
	}
	return e
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

// opLabel is graphql-ruby's name for the first operation: "query", or
// "query Name".
func opLabel(doc *ast.QueryDocument) string {
	if doc == nil || len(doc.Operations) == 0 {
		return "query"
	}
	op := doc.Operations[0]
	if op.Name != "" {
		return string(op.Operation) + " " + op.Name
	}
	return string(op.Operation)
}

// pathAt finds the selection at loc and returns graphql-ruby's error path:
// the operation label followed by the response keys down to it.
func pathAt(doc *ast.QueryDocument, loc ErrorLocation) []any {
	if doc == nil {
		return nil
	}
	for _, op := range doc.Operations {
		label := string(op.Operation)
		if op.Name != "" {
			label += " " + op.Name
		}
		if p := selPath(op.SelectionSet, loc, []any{label}, 0); p != nil {
			return p
		}
	}
	for _, f := range doc.Fragments {
		if p := selPath(f.SelectionSet, loc, []any{"fragment " + f.Name}, 0); p != nil {
			return p
		}
	}
	return nil
}

func at(p *ast.Position, loc ErrorLocation) bool {
	return p != nil && p.Line == loc.Line && p.Column == loc.Column
}

func selPath(set ast.SelectionSet, loc ErrorLocation, prefix []any, depth int) []any {
	if depth > 64 {
		return nil
	}
	for _, s := range set {
		switch s := s.(type) {
		case *ast.Field:
			p := append(append([]any(nil), prefix...), s.Name)
			if at(s.Position, loc) {
				return p
			}
			for _, a := range s.Arguments {
				if valueAt(a.Value, loc) {
					return p
				}
			}
			if r := selPath(s.SelectionSet, loc, p, depth+1); r != nil {
				return r
			}
		case *ast.InlineFragment:
			label := "..."
			if s.TypeCondition != "" {
				label += " on " + s.TypeCondition
			}
			p := append(append([]any(nil), prefix...), label)
			if at(s.Position, loc) {
				return p
			}
			if r := selPath(s.SelectionSet, loc, p, depth+1); r != nil {
				return r
			}
		case *ast.FragmentSpread:
			if at(s.Position, loc) {
				return append(append([]any(nil), prefix...), "... "+s.Name)
			}
		}
	}
	return nil
}

func valueAt(v *ast.Value, loc ErrorLocation) bool {
	if v == nil {
		return false
	}
	if at(v.Position, loc) {
		return true
	}
	for _, c := range v.Children {
		if valueAt(c.Value, loc) {
			return true
		}
	}
	return false
}

// argAt finds the field and argument whose value contains loc.
func argAt(doc *ast.QueryDocument, loc *ErrorLocation) (*ast.Field, *ast.Argument) {
	if doc == nil || loc == nil {
		return nil, nil
	}
	var field *ast.Field
	var arg *ast.Argument
	var walk func(ast.SelectionSet, int) bool
	walk = func(set ast.SelectionSet, depth int) bool {
		if depth > 64 {
			return false
		}
		for _, s := range set {
			switch s := s.(type) {
			case *ast.Field:
				for _, a := range s.Arguments {
					if valueAt(a.Value, *loc) {
						field, arg = s, a
						return true
					}
				}
				if walk(s.SelectionSet, depth+1) {
					return true
				}
			case *ast.InlineFragment:
				if walk(s.SelectionSet, depth+1) {
					return true
				}
			}
		}
		return false
	}
	for _, op := range doc.Operations {
		if walk(op.SelectionSet, 0) {
			return field, arg
		}
	}
	for _, f := range doc.Fragments {
		if walk(f.SelectionSet, 0) {
			return field, arg
		}
	}
	return nil, nil
}
