// Command specgen derives the compact OpenAPI descriptions that klarnatest
// embeds from Klarna's published files: the same paths, operations,
// parameters and schemas — everything request validation needs — with the
// prose (descriptions, summaries, examples, vendor extensions) removed.
// The project commits only this derived form.
//
// Regenerate from Klarna's Order Management and Settlements OpenAPI files
// (in this project's shared specs folder):
//
//	go run ./klarna/internal/specgen -out klarna/klarnatest/spec \
//		path/to/order-management-api.yml path/to/settlements-api.yml
//
// Each input x.yml becomes x.json in -out. Output is deterministic.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

func main() {
	out := flag.String("out", ".", "output directory")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: specgen -out DIR spec.yml…")
		os.Exit(2)
	}
	for _, in := range flag.Args() {
		if err := convert(in, *out); err != nil {
			fmt.Fprintln(os.Stderr, "specgen:", err)
			os.Exit(1)
		}
	}
}

func convert(in, outDir string) error {
	raw, err := os.ReadFile(in)
	if err != nil {
		return err
	}
	b, err := derive(raw)
	if err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	name := strings.TrimSuffix(filepath.Base(in), filepath.Ext(in)) + ".json"
	return os.WriteFile(filepath.Join(outDir, name), b, 0o644)
}

// derive loads an OpenAPI document (YAML or JSON) and returns it as
// indented JSON without prose.
func derive(raw []byte) ([]byte, error) {
	doc, err := openapi3.NewLoader().LoadFromData(raw)
	if err != nil {
		return nil, err
	}
	j, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	var tree any
	if err := json.Unmarshal(j, &tree); err != nil {
		return nil, err
	}
	strip(tree, "")
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", " ")
	if err := enc.Encode(tree); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// prose are keys whose values only explain; validation never reads them.
var prose = map[string]bool{"description": true, "summary": true, "example": true, "examples": true, "externalDocs": true, "title": true}

// strip removes prose in place. parent is the key under which v sits: the
// keys of a "properties" map are property names, never prose.
func strip(v any, parent string) {
	switch t := v.(type) {
	case map[string]any:
		for k, child := range t {
			if parent != "properties" && (prose[k] || strings.HasPrefix(k, "x-")) {
				if k == "description" && parent == "response" {
					t[k] = "" // required by OpenAPI on a response object
					continue
				}
				delete(t, k)
				continue
			}
			childParent := k
			if parent == "responses" {
				childParent = "response"
			}
			strip(child, childParent)
		}
	case []any:
		for _, child := range t {
			strip(child, "")
		}
	}
}
