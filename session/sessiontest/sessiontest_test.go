package sessiontest_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wikiauth/mwoauth/session"
	"github.com/wikiauth/mwoauth/session/sessiontest"
)

// refStore is a small, correct in-memory Store that the suite must pass.
// Its flaw field switches on one bug at a time, which the suite must catch.
type refStore struct {
	flaw string

	mu       sync.Mutex
	next     int64
	sessions map[string]refRecord
	pending  map[string]refRecord
}

type refRecord struct {
	data    []byte
	version int64
	expiry  time.Time
}

func newRefStore(flaw string) *refStore {
	return &refStore{flaw: flaw, sessions: map[string]refRecord{}, pending: map[string]refRecord{}}
}

func (s *refStore) live(m map[string]refRecord, key string) (refRecord, bool) {
	r, ok := m[key]
	if ok && !time.Now().Before(r.expiry) && s.flaw != "no-expiry" {
		delete(m, key)
		return refRecord{}, false
	}
	return r, ok
}

func (s *refStore) Find(ctx context.Context, key string) ([]byte, int64, bool, error) {
	if err := ctx.Err(); err != nil && s.flaw != "ignore-ctx" {
		return nil, 0, false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.live(s.sessions, key)
	if !ok {
		return nil, 0, false, nil
	}
	return bytes.Clone(r.data), r.version, true, nil
}

func checkWrite(key string, data []byte) error {
	if key == "" || len(key) > session.MaxKeyLen {
		return fmt.Errorf("refstore: key of %d bytes", len(key))
	}
	if len(data) > session.MaxValueLen {
		return fmt.Errorf("refstore: %w", session.ErrTooLarge)
	}
	return nil
}

func (s *refStore) Save(ctx context.Context, key string, data []byte, version int64, expiry time.Time) (int64, error) {
	if err := ctx.Err(); err != nil && s.flaw != "ignore-ctx" {
		return 0, err
	}
	if err := checkWrite(key, data); err != nil && s.flaw != "no-limits" {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.live(s.sessions, key)
	switch {
	case s.flaw == "no-cas":
	case version == 0 && ok:
		return 0, session.ErrConflict
	case version != 0 && (!ok || r.version != version):
		return 0, session.ErrConflict
	}
	s.next++
	s.sessions[key] = refRecord{data: bytes.Clone(data), version: s.next, expiry: expiry}
	return s.next, nil
}

func (s *refStore) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.sessions, key)
	if s.flaw == "shared-namespace" {
		delete(s.pending, key)
	}
	return nil
}

func (s *refStore) PutPending(ctx context.Context, key string, data []byte, expiry time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := checkWrite(key, data); err != nil && s.flaw != "no-limits" {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pending[key] = refRecord{data: bytes.Clone(data), expiry: expiry}
	return nil
}

func (s *refStore) TakePending(ctx context.Context, key string) ([]byte, bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	if s.flaw == "racy-take" {
		s.mu.Lock()
		r, ok := s.live(s.pending, key)
		s.mu.Unlock()
		time.Sleep(time.Millisecond)
		s.mu.Lock()
		delete(s.pending, key)
		s.mu.Unlock()
		if !ok {
			return nil, false, nil
		}
		return bytes.Clone(r.data), true, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.live(s.pending, key)
	if !ok {
		return nil, false, nil
	}
	delete(s.pending, key)
	return bytes.Clone(r.data), true, nil
}

func (s *refStore) DeletePending(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.pending, key)
	return nil
}

func (s *refStore) Cleanup(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range []map[string]refRecord{s.sessions, s.pending} {
		for k, r := range m {
			if !time.Now().Before(r.expiry) || s.flaw == "cleanup-all" {
				delete(m, k)
			}
		}
	}
	return nil
}

var _ session.Cleaner = (*refStore)(nil)

func TestReferenceStore(t *testing.T) {
	t.Parallel()
	shared := newRefStore(os.Getenv("SESSIONTEST_FLAW"))
	sessiontest.TestStore(t, func(t *testing.T) session.Store { return shared })
}

// TestSuiteCatchesFlaws runs the suite, in a child process, against the
// reference store with one bug switched on, and expects it to fail in the
// subtest that checks that part of the contract.
func TestSuiteCatchesFlaws(t *testing.T) {
	if os.Getenv("SESSIONTEST_FLAW") != "" {
		t.Skip("in the child process")
	}
	t.Parallel()
	for _, c := range []struct {
		flaw, subtest string
	}{
		{"no-expiry", "Expiry"},
		{"no-cas", "StaleVersion"},
		{"racy-take", "ConcurrentTakes"},
		{"shared-namespace", "Namespaces"},
		{"ignore-ctx", "ContextCanceled"},
		{"cleanup-all", "Expiry"},
		{"no-limits", "Limits"},
	} {
		t.Run(c.flaw, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(os.Args[0], "-test.run=^TestReferenceStore$/^"+c.subtest+"$", "-test.v")
			cmd.Env = append(os.Environ(), "SESSIONTEST_FLAW="+c.flaw)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("suite passed a store with flaw %q; output:\n%s", c.flaw, out)
			}
			if want := fmt.Sprintf("--- FAIL: TestReferenceStore/%s", c.subtest); !strings.Contains(string(out), want) {
				t.Fatalf("flaw %q: output lacks %q:\n%s", c.flaw, want, out)
			}
		})
	}
}

// instance is one app instance's handle on a shared backend.
type instance struct{ *refStore }

func TestReferenceShared(t *testing.T) {
	t.Parallel()
	backend := newRefStore("")
	sessiontest.TestSharedStore(t, func(t *testing.T) session.Store { return &instance{backend} })
}
