package sqlitestore_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/knyt/knyt/flow"
	"github.com/knyt/knyt/flow/flowtest"
	"github.com/knyt/knyt/flow/sqlitestore"
)

func open(t testing.TB, path string) *sqlitestore.Store {
	t.Helper()
	s, err := sqlitestore.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	flowtest.TestStore(t, flowtest.StoreFactory{
		New: func(t *testing.T) flow.Store { return open(t, filepath.Join(t.TempDir(), "knyt.db")) },
		Reopen: func(t *testing.T, s flow.Store) flow.Store {
			path := s.(*sqlitestore.Store).Path()
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			return open(t, path)
		},
	})
}

func TestOpenRejectsBadPath(t *testing.T) {
	for _, p := range []string{"", "a.db?mode=ro", "a#b"} {
		if _, err := sqlitestore.Open(context.Background(), p); err == nil {
			t.Errorf("Open(%q) succeeded", p)
		}
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "knyt.db")
	s := open(t, path)
	if err := s.SetSchemaVersionForTest(99); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := sqlitestore.Open(context.Background(), path); err == nil {
		t.Fatal("Open of a file with a newer schema succeeded")
	}
}

func TestPragmas(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "knyt.db"))
	defer s.Close()
	for name, want := range map[string]string{"journal_mode": "wal", "synchronous": "1", "busy_timeout": "10000"} {
		got, err := s.PragmaForTest(name)
		if err != nil || got != want {
			t.Errorf("PRAGMA %s = %q, %v; want %q", name, got, err, want)
		}
	}
}
