package session

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Limits of the Store contract, enforced by [MemoryStore].
const (
	MaxKeyLen   = 128
	MaxValueLen = 1 << 20
)

var errKeyTooLong = errors.New("session: store key too long")

// MemoryStore is a [Store] in this process's memory, with a real
// compare-and-set Save and an atomic TakePending. It is for tests and for a
// single instance only: sessions and pending logins are lost on restart and
// are not shared with other instances (a login started on one instance
// cannot finish on another). Expired records are never returned; call
// Cleanup now and then to free their memory (MemoryStore starts no
// goroutine). Use [NewMemoryStore].
type MemoryStore struct {
	mu       sync.Mutex
	now      func() time.Time
	sessions map[string]memRecord
	pending  map[string]memRecord
	version  int64
}

type memRecord struct {
	data    []byte
	version int64
	expiry  time.Time
}

var (
	_ Store   = (*MemoryStore)(nil)
	_ Cleaner = (*MemoryStore)(nil)
)

// NewMemoryStore returns an empty MemoryStore that uses time.Now.
func NewMemoryStore() *MemoryStore { return NewMemoryStoreClock(nil) }

// NewMemoryStoreClock returns an empty MemoryStore whose expiry checks use
// now (nil means time.Now), for tests with a fake clock.
func NewMemoryStoreClock(now func() time.Time) *MemoryStore {
	if now == nil {
		now = time.Now
	}
	return &MemoryStore{
		now:      now,
		sessions: make(map[string]memRecord),
		pending:  make(map[string]memRecord),
	}
}

func (s *MemoryStore) live(r memRecord, ok bool) bool {
	return ok && s.now().Before(r.expiry)
}

func checkWrite(key string, data []byte) error {
	if key == "" || len(key) > MaxKeyLen {
		return fmt.Errorf("%w: %d bytes (1-%d)", errKeyTooLong, len(key), MaxKeyLen)
	}
	if len(data) > MaxValueLen {
		return fmt.Errorf("%w: value of %d bytes (at most %d)", ErrTooLarge, len(data), MaxValueLen)
	}
	return nil
}

// Find implements [Store].
func (s *MemoryStore) Find(ctx context.Context, key string) ([]byte, int64, bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, 0, false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.sessions[key]
	if !s.live(r, ok) {
		return nil, 0, false, nil
	}
	return bytes.Clone(r.data), r.version, true, nil
}

// Save implements [Store]: a compare-and-set on version (0 creates).
func (s *MemoryStore) Save(ctx context.Context, key string, data []byte, version int64, expiry time.Time) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if err := checkWrite(key, data); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.sessions[key]
	exists := s.live(r, ok)
	if version == 0 && exists || version != 0 && (!exists || r.version != version) {
		return 0, ErrConflict
	}
	s.version++
	s.sessions[key] = memRecord{data: bytes.Clone(data), version: s.version, expiry: expiry}
	return s.version, nil
}

// Delete implements [Store].
func (s *MemoryStore) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.sessions, key)
	return nil
}

// PutPending implements [Store].
func (s *MemoryStore) PutPending(ctx context.Context, key string, data []byte, expiry time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := checkWrite(key, data); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pending[key] = memRecord{data: bytes.Clone(data), expiry: expiry}
	return nil
}

// TakePending implements [Store]: find and delete in one step.
func (s *MemoryStore) TakePending(ctx context.Context, key string) ([]byte, bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.pending[key]
	if ok {
		delete(s.pending, key)
	}
	if !s.live(r, ok) {
		return nil, false, nil
	}
	return r.data, true, nil
}

// DeletePending implements [Store].
func (s *MemoryStore) DeletePending(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.pending, key)
	return nil
}

// Cleanup implements [Cleaner]: it deletes every expired record.
func (s *MemoryStore) Cleanup(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	for k, r := range s.sessions {
		if !now.Before(r.expiry) {
			delete(s.sessions, k)
		}
	}
	for k, r := range s.pending {
		if !now.Before(r.expiry) {
			delete(s.pending, k)
		}
	}
	return nil
}

// Len returns the number of records held, expired or not (sessions, pending
// logins), for tests and metrics.
func (s *MemoryStore) Len() (sessions, pending int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions), len(s.pending)
}
