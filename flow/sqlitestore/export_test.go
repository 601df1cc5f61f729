package sqlitestore

import (
	"context"
	"fmt"
)

// SetSchemaVersionForTest stamps the file with another schema version.
func (s *Store) SetSchemaVersionForTest(v int) error {
	_, err := s.w.ExecContext(context.Background(), fmt.Sprintf("PRAGMA user_version = %d", v))
	return err
}

// PragmaForTest reads a pragma through the writer connection.
func (s *Store) PragmaForTest(name string) (string, error) {
	var v string
	err := s.w.QueryRowContext(context.Background(), "PRAGMA "+name).Scan(&v)
	return v, err
}
