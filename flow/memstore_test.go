package flow_test

import (
	"testing"

	"github.com/knyt/knyt/flow"
	"github.com/knyt/knyt/flow/flowtest"
)

func TestMemoryStoreConformance(t *testing.T) {
	flowtest.TestStore(t, flowtest.StoreFactory{
		New: func(*testing.T) flow.Store { return flow.NewMemoryStore() },
	})
}
