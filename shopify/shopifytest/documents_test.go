package shopifytest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestClientDocuments validates every GraphQL document of the shopify
// client (../graphql/*.graphql) against the 2026-10 schema, so that client
// and fake agree on the schema. Bulk query documents (bodies of
// bulkOperationRunQuery) are validated the same way.
func TestClientDocuments(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "graphql", "*.graphql"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Skip("no ../graphql/*.graphql documents yet")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if strings.TrimSpace(string(b)) == "" {
				t.Fatal("empty document")
			}
			if err := Validate(string(b)); err != nil {
				t.Errorf("%s does not validate against the 2026-10 schema:\n%v", f, err)
			}
		})
	}
}
