package sessiontest_test

import (
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

// TestMemoryStoreLogin runs the login suite against session.MemoryStore,
// the in-process store: one Store for the whole run, returned by every
// newStore call (a restart of the app within one process keeps it).
func TestMemoryStoreLogin(t *testing.T) {
	t.Parallel()
	s := session.NewMemoryStore()
	sessiontest.TestLogin(t, func(t *testing.T) session.Store { return s })
}

// flawedStore is a MemoryStore with one bug switched on, which the login
// suite must catch.
type flawedStore struct {
	*session.MemoryStore
	flaw string

	mu    sync.Mutex
	taken map[string][]byte // racy-take: what was taken, handed out once more
}

// TakePending with flaw "no-pending" loses every pending login; with
// "racy-take" it is not atomic: a second take of a key finds it again, as a
// read followed by a separate delete would under a race.
func (s *flawedStore) TakePending(ctx context.Context, key string) ([]byte, bool, error) {
	switch s.flaw {
	case "no-pending":
		return nil, false, nil
	case "racy-take":
		data, found, err := s.MemoryStore.TakePending(ctx, key)
		s.mu.Lock()
		defer s.mu.Unlock()
		if found {
			s.taken[key] = data
		} else if d, ok := s.taken[key]; ok && err == nil {
			delete(s.taken, key)
			return d, true, nil
		}
		return data, found, err
	}
	return s.MemoryStore.TakePending(ctx, key)
}

// Delete with flaw "no-delete" keeps the session.
func (s *flawedStore) Delete(ctx context.Context, key string) error {
	if s.flaw == "no-delete" {
		return nil
	}
	return s.MemoryStore.Delete(ctx, key)
}

// TestLoginReference runs the suite against a flawedStore whose flaw
// SESSIONTEST_LOGIN_FLAW names (TestMemoryStoreLogin is the run without a
// flaw).
func TestLoginReference(t *testing.T) {
	flaw := os.Getenv("SESSIONTEST_LOGIN_FLAW")
	if flaw == "" {
		t.Skip("run by TestLoginCatchesFlaws in a child process")
	}
	shared := &flawedStore{MemoryStore: session.NewMemoryStore(), flaw: flaw, taken: map[string][]byte{}}
	sessiontest.TestLogin(t, func(t *testing.T) session.Store {
		if flaw == "forgets-on-reopen" {
			// Each call an empty store: nothing survives a restart.
			return &flawedStore{MemoryStore: session.NewMemoryStore(), taken: map[string][]byte{}}
		}
		return shared
	})
}

// TestLoginCatchesFlaws runs the login suite, in a child process, against a
// store with one bug, and expects the subtest that checks that property to
// fail.
func TestLoginCatchesFlaws(t *testing.T) {
	if os.Getenv("SESSIONTEST_LOGIN_FLAW") != "" {
		t.Skip("in the child process")
	}
	t.Parallel()
	for _, c := range []struct{ flaw, subtest string }{
		{"no-pending", "TwoInstances"},
		{"forgets-on-reopen", "Restart"},
		{"no-delete", "LogoutEverywhere"},
		{"racy-take", "ParallelCallbacks"},
	} {
		t.Run(c.flaw, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestLoginReference$/^"+c.subtest+"$", "-test.v")
			cmd.Env = append(os.Environ(), "SESSIONTEST_LOGIN_FLAW="+c.flaw)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("the login suite passed a store with flaw %q; output:\n%s", c.flaw, out)
			}
			if want := fmt.Sprintf("--- FAIL: TestLoginReference/%s", c.subtest); !strings.Contains(string(out), want) {
				t.Fatalf("flaw %q: output lacks %q:\n%s", c.flaw, want, out)
			}
		})
	}
}
