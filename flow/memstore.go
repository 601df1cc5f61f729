package flow

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/connector"
)

// errClosed is returned by a closed MemoryStore.
var errClosed = errors.New("flow: store closed")

// MemoryStore is a Store held in memory: for tests and for programs that
// accept losing their state on exit. It is safe for concurrent use.
type MemoryStore struct {
	mu        sync.Mutex
	closed    bool
	refs      map[MapKey]commerce.Ref
	cursors   map[string]connector.Cursor
	processed map[[2]string]time.Time
	steps     map[string]Step
	writes    map[MapKey]string
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{
		refs:      map[MapKey]commerce.Ref{},
		cursors:   map[string]connector.Cursor{},
		processed: map[[2]string]time.Time{},
		steps:     map[string]Step{},
		writes:    map[MapKey]string{},
	}
}

var _ Store = (*MemoryStore)(nil)

// lock takes the mutex after checking ctx and that the store is open.
func (m *MemoryStore) lock(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return errClosed
	}
	return nil
}

// Ref implements Store.
func (m *MemoryStore) Ref(ctx context.Context, k MapKey) (commerce.Ref, bool, error) {
	if err := m.lock(ctx); err != nil {
		return commerce.Ref{}, false, err
	}
	defer m.mu.Unlock()
	r, ok := m.refs[k]
	return r, ok, nil
}

// SetRef implements Store.
func (m *MemoryStore) SetRef(ctx context.Context, k MapKey, ref commerce.Ref) error {
	if err := m.lock(ctx); err != nil {
		return err
	}
	defer m.mu.Unlock()
	m.refs[k] = ref
	return nil
}

// Cursor implements Store.
func (m *MemoryStore) Cursor(ctx context.Context, feed string) (connector.Cursor, error) {
	if err := m.lock(ctx); err != nil {
		return "", err
	}
	defer m.mu.Unlock()
	return m.cursors[feed], nil
}

// SetCursor implements Store.
func (m *MemoryStore) SetCursor(ctx context.Context, feed string, c connector.Cursor) error {
	if err := m.lock(ctx); err != nil {
		return err
	}
	defer m.mu.Unlock()
	m.cursors[feed] = c
	return nil
}

// MarkProcessed implements Store.
func (m *MemoryStore) MarkProcessed(ctx context.Context, source, id string, at time.Time) (bool, error) {
	if err := m.lock(ctx); err != nil {
		return false, err
	}
	defer m.mu.Unlock()
	k := [2]string{source, id}
	if _, seen := m.processed[k]; seen {
		return false, nil
	}
	m.processed[k] = at
	return true, nil
}

// ForgetProcessed implements Store.
func (m *MemoryStore) ForgetProcessed(ctx context.Context, before time.Time) (int, error) {
	if err := m.lock(ctx); err != nil {
		return 0, err
	}
	defer m.mu.Unlock()
	n := 0
	for k, at := range m.processed {
		if at.Before(before) {
			delete(m.processed, k)
			n++
		}
	}
	return n, nil
}

func validateNewStep(s Step) error {
	if s.Key == "" || s.Kind == "" {
		return fmt.Errorf("flow: create step: key and kind are required")
	}
	return nil
}

// CreateStep implements Store.
func (m *MemoryStore) CreateStep(ctx context.Context, s Step) (Step, bool, error) {
	if err := validateNewStep(s); err != nil {
		return Step{}, false, err
	}
	if err := m.lock(ctx); err != nil {
		return Step{}, false, err
	}
	defer m.mu.Unlock()
	if old, ok := m.steps[s.Key]; ok {
		return cloneStep(old), false, nil
	}
	s = cloneStep(s)
	m.steps[s.Key] = s
	return cloneStep(s), true, nil
}

// Step implements Store.
func (m *MemoryStore) Step(ctx context.Context, key string) (Step, bool, error) {
	if err := m.lock(ctx); err != nil {
		return Step{}, false, err
	}
	defer m.mu.Unlock()
	s, ok := m.steps[key]
	return cloneStep(s), ok, nil
}

// SaveStep implements Store.
func (m *MemoryStore) SaveStep(ctx context.Context, s Step) error {
	if err := m.lock(ctx); err != nil {
		return err
	}
	defer m.mu.Unlock()
	if _, ok := m.steps[s.Key]; !ok {
		return fmt.Errorf("flow: save step %q: %w", s.Key, ErrStepNotFound)
	}
	m.steps[s.Key] = cloneStep(s)
	return nil
}

// Steps implements Store.
func (m *MemoryStore) Steps(ctx context.Context, f StepFilter) ([]Step, error) {
	if err := m.lock(ctx); err != nil {
		return nil, err
	}
	defer m.mu.Unlock()
	var out []Step
	for _, s := range m.steps {
		if f.Matches(s) {
			out = append(out, cloneStep(s))
		}
	}
	slices.SortFunc(out, func(a, b Step) int { return cmp.Compare(a.Key, b.Key) })
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[:f.Limit]
	}
	return out, nil
}

// LastWrite implements Store.
func (m *MemoryStore) LastWrite(ctx context.Context, k MapKey) (string, bool, error) {
	if err := m.lock(ctx); err != nil {
		return "", false, err
	}
	defer m.mu.Unlock()
	h, ok := m.writes[k]
	return h, ok, nil
}

// SetLastWrite implements Store.
func (m *MemoryStore) SetLastWrite(ctx context.Context, k MapKey, hash string) error {
	if err := m.lock(ctx); err != nil {
		return err
	}
	defer m.mu.Unlock()
	m.writes[k] = hash
	return nil
}

// Close implements Store; later calls fail.
func (m *MemoryStore) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	return nil
}

func cloneStep(s Step) Step {
	s.Payload = slices.Clone(s.Payload)
	return s
}
