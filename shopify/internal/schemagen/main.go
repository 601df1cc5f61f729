// Command schemagen turns Shopify's Admin GraphQL introspection result into
// the description-free SDL that the fake shop (package shopifytest) embeds
// and validates every incoming document against.
//
// The input is the gzipped introspection JSON that Shopify ships in its
// ISC-licensed npm package @shopify/dev-mcp (version 1.16.0, file
// dist/data/admin_2026-10.json.gz); a copy lives in the shared specs folder.
// To regenerate from the package itself, from the module root:
//
//	tmp=$(mktemp -d) && (cd "$tmp" && npm pack @shopify/dev-mcp@1.16.0 && tar xzf shopify-dev-mcp-1.16.0.tgz)
//	go run ./shopify/internal/schemagen -in "$tmp/package/dist/data/admin_2026-10.json.gz" \
//	    -out shopify/shopifytest/testdata/admin-2026-10.graphql
//
// Without -out the SDL goes to standard output.
//
// The output is deterministic: types and directives sorted by name, fields,
// arguments and enum values in the introspection's own order. Descriptions
// are dropped; deprecations (with their reasons), default values, @oneOf
// input objects and the custom directives (Shopify's @idempotent) are kept.
//
// Adjustments so that github.com/vektah/gqlparser/v2 loads the result: the
// built-in scalars (String, Int, Float, Boolean, ID), the introspection types
// (__Schema, …) and the directives the GraphQL spec predefines (@include,
// @skip, @deprecated, @specifiedBy, @oneOf) are not emitted, because
// gqlparser's prelude declares them and refuses a second declaration.
package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

func main() {
	in := flag.String("in", "", "path of the introspection JSON, gzipped or not (required)")
	out := flag.String("out", "", "path of the SDL to write (default: standard output)")
	flag.Parse()
	if *in == "" {
		fmt.Fprintln(os.Stderr, "schemagen: -in is required")
		flag.Usage()
		os.Exit(2)
	}
	sdl, err := convertFile(*in)
	if err != nil {
		fmt.Fprintln(os.Stderr, "schemagen:", err)
		os.Exit(1)
	}
	if *out == "" {
		_, err = os.Stdout.Write(sdl)
	} else {
		err = os.WriteFile(*out, sdl, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "schemagen:", err)
		os.Exit(1)
	}
}

func convertFile(path string) ([]byte, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(raw) > 2 && raw[0] == 0x1f && raw[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
		if raw, err = io.ReadAll(zr); err != nil {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
	}
	return Convert(raw)
}

// The subset of the standard introspection result that the SDL needs.
type introspection struct {
	Data struct {
		Schema schema `json:"__schema"`
	} `json:"data"`
}

type schema struct {
	QueryType        *named      `json:"queryType"`
	MutationType     *named      `json:"mutationType"`
	SubscriptionType *named      `json:"subscriptionType"`
	Types            []fullType  `json:"types"`
	Directives       []directive `json:"directives"`
}

type named struct {
	Name string `json:"name"`
}

type fullType struct {
	Kind           string       `json:"kind"`
	Name           string       `json:"name"`
	SpecifiedByURL *string      `json:"specifiedByURL"`
	IsOneOf        bool         `json:"isOneOf"`
	Fields         []field      `json:"fields"`
	InputFields    []inputValue `json:"inputFields"`
	Interfaces     []typeRef    `json:"interfaces"`
	EnumValues     []enumValue  `json:"enumValues"`
	PossibleTypes  []typeRef    `json:"possibleTypes"`
}

type field struct {
	Name              string       `json:"name"`
	Args              []inputValue `json:"args"`
	Type              typeRef      `json:"type"`
	IsDeprecated      bool         `json:"isDeprecated"`
	DeprecationReason *string      `json:"deprecationReason"`
}

type inputValue struct {
	Name              string  `json:"name"`
	Type              typeRef `json:"type"`
	DefaultValue      *string `json:"defaultValue"`
	IsDeprecated      bool    `json:"isDeprecated"`
	DeprecationReason *string `json:"deprecationReason"`
}

type enumValue struct {
	Name              string  `json:"name"`
	IsDeprecated      bool    `json:"isDeprecated"`
	DeprecationReason *string `json:"deprecationReason"`
}

type typeRef struct {
	Kind   string   `json:"kind"`
	Name   string   `json:"name"`
	OfType *typeRef `json:"ofType"`
}

type directive struct {
	Name         string       `json:"name"`
	Locations    []string     `json:"locations"`
	Args         []inputValue `json:"args"`
	IsRepeatable bool         `json:"isRepeatable"`
}

// builtIn names what gqlparser's prelude declares already.
var builtIn = map[string]bool{
	"String": true, "Int": true, "Float": true, "Boolean": true, "ID": true,
	"include": true, "skip": true, "deprecated": true, "specifiedBy": true, "oneOf": true, "defer": true,
}

// Convert renders an (uncompressed) introspection result as SDL.
func Convert(raw []byte) ([]byte, error) {
	var in introspection
	if err := json.Unmarshal(raw, &in); err != nil {
		return nil, fmt.Errorf("decode introspection: %w", err)
	}
	s := in.Data.Schema
	if s.QueryType == nil || len(s.Types) == 0 {
		return nil, fmt.Errorf("decode introspection: no data.__schema with a query type")
	}
	var b strings.Builder
	b.WriteString("# Shopify Admin GraphQL API schema, descriptions removed.\n")
	b.WriteString("# Generated by shopify/internal/schemagen from the introspection result; DO NOT EDIT.\n\n")

	b.WriteString("schema {\n  query: " + s.QueryType.Name + "\n")
	if s.MutationType != nil {
		b.WriteString("  mutation: " + s.MutationType.Name + "\n")
	}
	if s.SubscriptionType != nil {
		b.WriteString("  subscription: " + s.SubscriptionType.Name + "\n")
	}
	b.WriteString("}\n")

	dirs := append([]directive(nil), s.Directives...)
	sort.Slice(dirs, func(i, j int) bool { return dirs[i].Name < dirs[j].Name })
	for _, d := range dirs {
		if builtIn[d.Name] {
			continue
		}
		b.WriteString("\ndirective @" + d.Name + args(d.Args))
		if d.IsRepeatable {
			b.WriteString(" repeatable")
		}
		b.WriteString(" on " + strings.Join(d.Locations, " | ") + "\n")
	}

	types := append([]fullType(nil), s.Types...)
	sort.Slice(types, func(i, j int) bool { return types[i].Name < types[j].Name })
	for _, t := range types {
		if builtIn[t.Name] || strings.HasPrefix(t.Name, "__") {
			continue
		}
		b.WriteString("\n")
		if err := writeType(&b, t); err != nil {
			return nil, err
		}
	}
	return []byte(b.String()), nil
}

func writeType(b *strings.Builder, t fullType) error {
	switch t.Kind {
	case "SCALAR":
		b.WriteString("scalar " + t.Name)
		if t.SpecifiedByURL != nil {
			b.WriteString(" @specifiedBy(url: " + quote(*t.SpecifiedByURL) + ")")
		}
		b.WriteString("\n")
	case "OBJECT", "INTERFACE":
		kw := "type "
		if t.Kind == "INTERFACE" {
			kw = "interface "
		}
		b.WriteString(kw + t.Name + implements(t.Interfaces) + " {\n")
		for _, f := range t.Fields {
			b.WriteString("  " + f.Name + args(f.Args) + ": " + ref(f.Type) + deprecated(f.IsDeprecated, f.DeprecationReason) + "\n")
		}
		b.WriteString("}\n")
	case "UNION":
		names := make([]string, len(t.PossibleTypes))
		for i, p := range t.PossibleTypes {
			names[i] = p.Name
		}
		b.WriteString("union " + t.Name + " = " + strings.Join(names, " | ") + "\n")
	case "ENUM":
		b.WriteString("enum " + t.Name + " {\n")
		for _, v := range t.EnumValues {
			b.WriteString("  " + v.Name + deprecated(v.IsDeprecated, v.DeprecationReason) + "\n")
		}
		b.WriteString("}\n")
	case "INPUT_OBJECT":
		b.WriteString("input " + t.Name)
		if t.IsOneOf {
			b.WriteString(" @oneOf")
		}
		b.WriteString(" {\n")
		for _, f := range t.InputFields {
			b.WriteString("  " + inputValueSDL(f) + "\n")
		}
		b.WriteString("}\n")
	default:
		return fmt.Errorf("type %s: unknown kind %q", t.Name, t.Kind)
	}
	return nil
}

func implements(ifs []typeRef) string {
	if len(ifs) == 0 {
		return ""
	}
	names := make([]string, len(ifs))
	for i, f := range ifs {
		names[i] = f.Name
	}
	return " implements " + strings.Join(names, " & ")
}

func args(as []inputValue) string {
	if len(as) == 0 {
		return ""
	}
	parts := make([]string, len(as))
	for i, a := range as {
		parts[i] = inputValueSDL(a)
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

func inputValueSDL(v inputValue) string {
	s := v.Name + ": " + ref(v.Type)
	if v.DefaultValue != nil {
		s += " = " + *v.DefaultValue
	}
	return s + deprecated(v.IsDeprecated, v.DeprecationReason)
}

func deprecated(is bool, reason *string) string {
	if !is {
		return ""
	}
	if reason == nil {
		return " @deprecated"
	}
	return " @deprecated(reason: " + quote(*reason) + ")"
}

func ref(t typeRef) string {
	switch t.Kind {
	case "NON_NULL":
		if t.OfType == nil {
			return "Unknown"
		}
		return ref(*t.OfType) + "!"
	case "LIST":
		if t.OfType == nil {
			return "[Unknown]"
		}
		return "[" + ref(*t.OfType) + "]"
	default:
		return t.Name
	}
}

// quote renders s as a GraphQL string literal. strconv.Quote is not used
// because Go's \x and \U escapes are not GraphQL.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
