package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDeriveStripsProseOnly(t *testing.T) {
	in := []byte(`openapi: 3.0.0
info: {title: T, version: "1", description: about}
paths:
  /orders/{id}:
    get:
      summary: Get an order
      description: Long text
      x-internal: true
      parameters:
        - {name: id, in: path, required: true, description: The id, schema: {type: string, example: abc}}
      responses:
        "200":
          description: OK
          content:
            application/json:
              schema:
                type: object
                description: An order
                properties:
                  description: {type: string, description: the order's description field}
                  title: {type: string}
`)
	out, err := derive(in)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"openapi": "3.0.0",
		"info":    map[string]any{"version": "1"},
		"paths": map[string]any{"/orders/{id}": map[string]any{"get": map[string]any{
			"parameters": []any{map[string]any{"name": "id", "in": "path", "required": true, "schema": map[string]any{"type": "string"}}},
			"responses": map[string]any{"200": map[string]any{
				"description": "",
				"content": map[string]any{"application/json": map[string]any{"schema": map[string]any{
					"type": "object",
					"properties": map[string]any{
						"description": map[string]any{"type": "string"},
						"title":       map[string]any{"type": "string"},
					},
				}}},
			}},
		}}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestCommittedSpecsAreCurrent regenerates the embedded files from the
// shared specs folder beside the repository, when it is there (it is in CI),
// and fails if the committed files differ.
func TestCommittedSpecsAreCurrent(t *testing.T) {
	const shared = "../../../../shared/specs/klarna"
	for _, name := range []string{"order-management-api", "settlements-api"} {
		raw, err := os.ReadFile(filepath.Join(shared, name+".yml"))
		if err != nil {
			t.Skipf("no shared specs beside the repository: %v", err)
		}
		want, err := derive(raw)
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join("../../klarnatest/spec", name+".json"))
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("klarnatest/spec/%s.json is stale: rerun specgen (see its doc comment)", name)
		}
	}
}
