// Package sqlitestore is the embedded default flow.Store: one SQLite file
// on modernc.org/sqlite (pure Go, no cgo), in WAL mode, that survives
// restarts. Open it once per process and share it between goroutines:
//
//	st, err := sqlitestore.Open(ctx, "/var/lib/myshop/knyt.db")
//	if err != nil { … }
//	defer st.Close()
//	eng, err := flow.New(cfg, systems, flow.WithStore(st))
//
// Writes go through a single connection, so they are serialized inside the
// process without SQLITE_BUSY; reads use a small pool of their own and,
// thanks to WAL, never wait for a writer. busy_timeout covers a second
// process (a backup, an inspection with the sqlite3 shell) holding the file
// briefly. Two engines must not share one file: the journal assumes a
// single writer process.
//
// Durability: WAL with synchronous=NORMAL, so a committed write survives a
// crash of the process (what the engine's exactly-once guarantees need); a
// power loss may lose the last transactions, which the engine then redoes
// with the same idempotency keys.
package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/connector"
	"github.com/knyt/knyt/flow"
)

// schemaVersion is stored in PRAGMA user_version; Open refuses a file from
// a newer version rather than guess its layout.
const schemaVersion = 1

const schema = `
CREATE TABLE IF NOT EXISTS refs (
	kind TEXT NOT NULL, key TEXT NOT NULL, system TEXT NOT NULL, account TEXT NOT NULL,
	ref_system TEXT NOT NULL, ref_account TEXT NOT NULL, ref_id TEXT NOT NULL,
	PRIMARY KEY (kind, key, system, account)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS cursors (
	feed TEXT PRIMARY KEY, cursor TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS processed (
	source TEXT NOT NULL, id TEXT NOT NULL, at INTEGER NOT NULL,
	PRIMARY KEY (source, id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS processed_at ON processed (at);
CREATE TABLE IF NOT EXISTS steps (
	key TEXT PRIMARY KEY, kind TEXT NOT NULL, subject TEXT NOT NULL, shop TEXT NOT NULL,
	idempotency_key TEXT NOT NULL, state TEXT NOT NULL, attempts INTEGER NOT NULL,
	payload BLOB, result_system TEXT NOT NULL, result_account TEXT NOT NULL, result_id TEXT NOT NULL,
	reason TEXT NOT NULL, plugin TEXT NOT NULL,
	next_at INTEGER NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS steps_state ON steps (state, next_at);
CREATE INDEX IF NOT EXISTS steps_subject ON steps (subject);
CREATE TABLE IF NOT EXISTS writes (
	kind TEXT NOT NULL, key TEXT NOT NULL, system TEXT NOT NULL, account TEXT NOT NULL,
	hash TEXT NOT NULL,
	PRIMARY KEY (kind, key, system, account)
) WITHOUT ROWID;
`

// Store is a flow.Store in one SQLite file.
type Store struct {
	w    *sql.DB // one connection: every write
	r    *sql.DB // a few read-only connections
	path string
	q    map[string]*sql.Stmt // prepared once: parsing SQL costs more than running it
}

// statements are the store's fixed queries, prepared on the pool that runs
// them (w: the writer, r: the readers).
var statements = map[string]struct{ pool, sql string }{
	"ref":        {"r", `SELECT ref_system, ref_account, ref_id FROM refs WHERE kind=? AND key=? AND system=? AND account=?`},
	"setRef":     {"w", `INSERT INTO refs (kind, key, system, account, ref_system, ref_account, ref_id) VALUES (?,?,?,?,?,?,?) ON CONFLICT (kind, key, system, account) DO UPDATE SET ref_system=excluded.ref_system, ref_account=excluded.ref_account, ref_id=excluded.ref_id`},
	"cursor":     {"r", `SELECT cursor FROM cursors WHERE feed=?`},
	"setCursor":  {"w", `INSERT INTO cursors (feed, cursor) VALUES (?,?) ON CONFLICT (feed) DO UPDATE SET cursor=excluded.cursor`},
	"processed":  {"w", `INSERT INTO processed (source, id, at) VALUES (?,?,?) ON CONFLICT DO NOTHING`},
	"forget":     {"w", `DELETE FROM processed WHERE at < ?`},
	"createStep": {"w", `INSERT INTO steps (` + stepColumns + `) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT (key) DO NOTHING`},
	"stepW":      {"w", `SELECT ` + stepColumns + ` FROM steps WHERE key=?`},
	"step":       {"r", `SELECT ` + stepColumns + ` FROM steps WHERE key=?`},
	"saveStep": {"w", `UPDATE steps SET kind=?, subject=?, shop=?, idempotency_key=?, state=?, attempts=?, payload=?,
		result_system=?, result_account=?, result_id=?, reason=?, plugin=?, next_at=?, created_at=?, updated_at=? WHERE key=?`},
	"lastWrite":    {"r", `SELECT hash FROM writes WHERE kind=? AND key=? AND system=? AND account=?`},
	"setLastWrite": {"w", `INSERT INTO writes (kind, key, system, account, hash) VALUES (?,?,?,?,?) ON CONFLICT (kind, key, system, account) DO UPDATE SET hash=excluded.hash`},
}

func (s *Store) prepare(ctx context.Context) error {
	s.q = map[string]*sql.Stmt{}
	for name, st := range statements {
		db := s.w
		if st.pool == "r" {
			db = s.r
		}
		p, err := db.PrepareContext(ctx, st.sql)
		if err != nil {
			return fmt.Errorf("sqlitestore: prepare %s: %w", name, err)
		}
		s.q[name] = p
	}
	return nil
}

var _ flow.Store = (*Store)(nil)

// readConns is the size of the read pool.
const readConns = 4

func dsn(path string, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "foreign_keys(ON)")
	if readOnly {
		q.Add("_pragma", "query_only(ON)")
	} else {
		q.Set("_txlock", "immediate")
	}
	return "file:" + path + "?" + q.Encode()
}

// Open opens (creating if needed) the store at path and brings its schema
// up to date.
func Open(ctx context.Context, path string) (*Store, error) {
	if path == "" || strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("sqlitestore: open: invalid path %q", path)
	}
	w, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxIdleTime(0)
	s := &Store{w: w, path: path}
	if err := s.migrate(ctx); err != nil {
		w.Close()
		return nil, err
	}
	r, err := sql.Open("sqlite", dsn(path, true))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlitestore: open %s: %w", path, err)
	}
	r.SetMaxOpenConns(readConns)
	r.SetMaxIdleConns(readConns)
	s.r = r
	if err := s.prepare(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func (s *Store) migrate(ctx context.Context) error {
	var v int
	if err := s.w.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return fmt.Errorf("sqlitestore: open %s: %w", s.path, err)
	}
	if v > schemaVersion {
		return fmt.Errorf("sqlitestore: open %s: schema version %d is newer than this package's %d", s.path, v, schemaVersion)
	}
	if _, err := s.w.ExecContext(ctx, schema); err != nil {
		return fmt.Errorf("sqlitestore: create schema: %w", err)
	}
	if _, err := s.w.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", schemaVersion)); err != nil {
		return fmt.Errorf("sqlitestore: set schema version: %w", err)
	}
	return nil
}

// Path is the file the store was opened on.
func (s *Store) Path() string { return s.path }

// Close closes both pools, checkpointing the WAL.
func (s *Store) Close() error {
	var errs []error
	for _, st := range s.q {
		errs = append(errs, st.Close())
	}
	return errors.Join(append(errs, s.r.Close(), s.w.Close())...)
}

func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("sqlitestore: %s: %w", op, err)
}

// Ref implements flow.Store.
func (s *Store) Ref(ctx context.Context, k flow.MapKey) (commerce.Ref, bool, error) {
	var r commerce.Ref
	err := s.q["ref"].QueryRowContext(ctx, k.Kind, k.Key, k.System, k.Account).Scan(&r.System, &r.Account, &r.ID)
	if errors.Is(err, sql.ErrNoRows) {
		return commerce.Ref{}, false, nil
	}
	if err != nil {
		return commerce.Ref{}, false, wrap("ref", err)
	}
	return r, true, nil
}

// SetRef implements flow.Store.
func (s *Store) SetRef(ctx context.Context, k flow.MapKey, ref commerce.Ref) error {
	_, err := s.q["setRef"].ExecContext(ctx, k.Kind, k.Key, k.System, k.Account, ref.System, ref.Account, ref.ID)
	return wrap("set ref", err)
}

// Cursor implements flow.Store.
func (s *Store) Cursor(ctx context.Context, feed string) (connector.Cursor, error) {
	var c string
	err := s.q["cursor"].QueryRowContext(ctx, feed).Scan(&c)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return connector.Cursor(c), wrap("cursor", err)
}

// SetCursor implements flow.Store.
func (s *Store) SetCursor(ctx context.Context, feed string, c connector.Cursor) error {
	_, err := s.q["setCursor"].ExecContext(ctx, feed, string(c))
	return wrap("set cursor", err)
}

// MarkProcessed implements flow.Store.
func (s *Store) MarkProcessed(ctx context.Context, source, id string, at time.Time) (bool, error) {
	res, err := s.q["processed"].ExecContext(ctx, source, id, unixNano(at))
	if err != nil {
		return false, wrap("mark processed", err)
	}
	n, err := res.RowsAffected()
	return n == 1, wrap("mark processed", err)
}

// ForgetProcessed implements flow.Store.
func (s *Store) ForgetProcessed(ctx context.Context, before time.Time) (int, error) {
	res, err := s.q["forget"].ExecContext(ctx, unixNano(before))
	if err != nil {
		return 0, wrap("forget processed", err)
	}
	n, err := res.RowsAffected()
	return int(n), wrap("forget processed", err)
}

const stepColumns = `key, kind, subject, shop, idempotency_key, state, attempts, payload, result_system, result_account, result_id, reason, plugin, next_at, created_at, updated_at`

func stepArgs(st flow.Step) []any {
	return []any{st.Key, st.Kind, st.Subject, st.Shop, st.IdempotencyKey, string(st.State), st.Attempts, []byte(st.Payload),
		st.Result.System, st.Result.Account, st.Result.ID, st.Reason, st.Plugin,
		unixNano(st.NextAt), unixNano(st.CreatedAt), unixNano(st.UpdatedAt)}
}

type scanner interface{ Scan(dest ...any) error }

func scanStep(sc scanner) (flow.Step, error) {
	var st flow.Step
	var state string
	var payload []byte
	var next, created, updated int64
	err := sc.Scan(&st.Key, &st.Kind, &st.Subject, &st.Shop, &st.IdempotencyKey, &state, &st.Attempts, &payload,
		&st.Result.System, &st.Result.Account, &st.Result.ID, &st.Reason, &st.Plugin, &next, &created, &updated)
	if err != nil {
		return flow.Step{}, err
	}
	st.State = flow.StepState(state)
	if len(payload) > 0 {
		st.Payload = payload
	}
	st.NextAt, st.CreatedAt, st.UpdatedAt = fromNano(next), fromNano(created), fromNano(updated)
	return st, nil
}

// CreateStep implements flow.Store.
func (s *Store) CreateStep(ctx context.Context, st flow.Step) (flow.Step, bool, error) {
	if st.Key == "" || st.Kind == "" {
		return flow.Step{}, false, fmt.Errorf("sqlitestore: create step: key and kind are required")
	}
	res, err := s.q["createStep"].ExecContext(ctx, stepArgs(st)...)
	if err != nil {
		return flow.Step{}, false, wrap("create step", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return flow.Step{}, false, wrap("create step", err)
	}
	if n == 1 {
		return st, true, nil
	}
	// Read the existing step through the writer: it is certainly there and
	// this avoids any doubt about a reader's snapshot.
	old, err := scanStep(s.q["stepW"].QueryRowContext(ctx, st.Key))
	return old, false, wrap("create step", err)
}

// Step implements flow.Store.
func (s *Store) Step(ctx context.Context, key string) (flow.Step, bool, error) {
	st, err := scanStep(s.q["step"].QueryRowContext(ctx, key))
	if errors.Is(err, sql.ErrNoRows) {
		return flow.Step{}, false, nil
	}
	if err != nil {
		return flow.Step{}, false, wrap("step", err)
	}
	return st, true, nil
}

// SaveStep implements flow.Store.
func (s *Store) SaveStep(ctx context.Context, st flow.Step) error {
	args := stepArgs(st)
	res, err := s.q["saveStep"].ExecContext(ctx, append(args[1:], st.Key)...)
	if err != nil {
		return wrap("save step", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return wrap("save step", err)
	}
	if n == 0 {
		return fmt.Errorf("sqlitestore: save step %q: %w", st.Key, flow.ErrStepNotFound)
	}
	return nil
}

// Steps implements flow.Store.
func (s *Store) Steps(ctx context.Context, f flow.StepFilter) ([]flow.Step, error) {
	var where []string
	var args []any
	add := func(cond string, v any) {
		where = append(where, cond)
		args = append(args, v)
	}
	if f.State != "" {
		add("state=?", string(f.State))
	}
	if f.Kind != "" {
		add("kind=?", f.Kind)
	}
	if f.Subject != "" {
		add("subject=?", f.Subject)
	}
	if f.Shop != "" {
		add("shop=?", f.Shop)
	}
	if !f.DueBy.IsZero() {
		add("state=?", string(flow.StepPending))
		add("next_at<=?", unixNano(f.DueBy))
	}
	if f.After != "" {
		add("key>?", f.After)
	}
	q := `SELECT ` + stepColumns + ` FROM steps`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY key"
	if f.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", f.Limit)
	}
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, wrap("steps", err)
	}
	defer rows.Close()
	var out []flow.Step
	for rows.Next() {
		st, err := scanStep(rows)
		if err != nil {
			return nil, wrap("steps", err)
		}
		out = append(out, st)
	}
	return out, wrap("steps", rows.Err())
}

// LastWrite implements flow.Store.
func (s *Store) LastWrite(ctx context.Context, k flow.MapKey) (string, bool, error) {
	var h string
	err := s.q["lastWrite"].QueryRowContext(ctx, k.Kind, k.Key, k.System, k.Account).Scan(&h)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, wrap("last write", err)
	}
	return h, true, nil
}

// SetLastWrite implements flow.Store.
func (s *Store) SetLastWrite(ctx context.Context, k flow.MapKey, hash string) error {
	_, err := s.q["setLastWrite"].ExecContext(ctx, k.Kind, k.Key, k.System, k.Account, hash)
	return wrap("set last write", err)
}

// unixNano stores times as UTC nanoseconds; the zero time is 0.
func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromNano(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}
