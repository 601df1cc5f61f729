package shopifytest

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/knyt/knyt/shopify"
)

// TestClientDocuments validates every GraphQL document of the shopify
// client (../graphql/*.graphql as sent, with the shared fragments of
// ../graphql/fragments/ it spreads; see shopify.Documents) against the
// 2026-10 schema, so that client and fake agree on the schema. Bulk query documents (bodies of
// bulkOperationRunQuery) are validated the same way.
func TestClientDocuments(t *testing.T) {
	docs := shopify.Documents()
	if len(docs) == 0 {
		t.Fatal("the shopify package has no documents")
	}
	for _, f := range slices.Sorted(maps.Keys(docs)) {
		t.Run(f, func(t *testing.T) {
			b := docs[f].Source()
			if strings.TrimSpace(b) == "" {
				t.Fatal("empty document")
			}
			if err := Validate(b); err != nil {
				t.Errorf("%s does not validate against the 2026-10 schema:\n%v", f, err)
			}
		})
	}
}
