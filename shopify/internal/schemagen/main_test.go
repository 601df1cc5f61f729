package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

var update = flag.Bool("update", false, "rewrite testdata/mini.graphql")

func TestConvertGolden(t *testing.T) {
	raw, err := os.ReadFile("testdata/mini.json")
	if err != nil {
		t.Fatal(err)
	}
	got, err := Convert(raw)
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile("testdata/mini.graphql", got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile("testdata/mini.graphql")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("SDL (-want +got):\n%s", diff)
	}
	// The output loads in gqlparser and keeps what the fake needs.
	s, err := gqlparser.LoadSchema(&ast.Source{Input: string(got)})
	if err != nil {
		t.Fatalf("gqlparser refuses the SDL: %v", err)
	}
	if s.Directives["idempotent"] == nil || s.Types["ThingInput"].Directives.ForName("oneOf") == nil {
		t.Error("directives lost")
	}
	if bytes.Contains(got, []byte("root")) || bytes.Contains(got, []byte("Makes a mutation")) {
		t.Error("descriptions leaked into the SDL")
	}
	// Deterministic.
	again, _ := Convert(raw)
	if !bytes.Equal(got, again) {
		t.Error("two conversions differ")
	}
}

// TestCommittedSchemaUpToDate regenerates the fake's SDL from the shared
// introspection file, when it is there, and compares it with the committed
// copy.
func TestCommittedSchemaUpToDate(t *testing.T) {
	in := filepath.Join("..", "..", "..", "..", "shared", "specs", "shopify", "admin-2026-10.introspection.json.gz")
	if _, err := os.Stat(in); err != nil {
		t.Skip("shared introspection file not available")
	}
	got, err := convertFile(in)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join("..", "..", "shopifytest", "testdata", "admin-2026-10.graphql"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("shopifytest/testdata/admin-2026-10.graphql is stale: run go generate ./shopify/shopifytest")
	}
}

func TestConvertRejects(t *testing.T) {
	for _, in := range []string{``, `{}`, `{"data":{"__schema":{"types":[]}}}`, `{"data":{"__schema":{"queryType":{"name":"Q"},"types":[{"kind":"WEIRD","name":"X"}]}}}`} {
		if _, err := Convert([]byte(in)); err == nil {
			t.Errorf("Convert(%q) succeeded", in)
		}
	}
}

func FuzzConvert(f *testing.F) {
	raw, _ := os.ReadFile("testdata/mini.json")
	f.Add(raw)
	f.Add([]byte(`{"data":{"__schema":{"queryType":{"name":"Q"},"types":[{"kind":"OBJECT","name":"Q","fields":[{"name":"x","type":{"kind":"NON_NULL"}}]}]}}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		Convert(b)
	})
}
