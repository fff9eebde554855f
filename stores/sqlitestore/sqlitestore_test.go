package sqlitestore_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/wikiauth/mwoauth/session"
	"github.com/wikiauth/mwoauth/session/sessiontest"
	"github.com/wikiauth/mwoauth/stores/sqlitestore"
)

func newStore(t testing.TB, path string, opts ...sqlitestore.Option) *sqlitestore.Store {
	t.Helper()
	s, err := sqlitestore.New(path, opts...)
	if err != nil {
		t.Fatalf("New(%q) error: %v", path, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close error: %v", err)
		}
	})
	return s
}

func TestConformance(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sessions.db")
	sessiontest.TestStore(t, func(t *testing.T) session.Store {
		// A new Store on the same file each time: the tables exist already.
		return newStore(t, path)
	})
}

// countRows reads the tables behind the Store's back.
func countRows(t *testing.T, path, table string) int {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM ` + table).Scan(&n); err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}

func TestCleanupRemovesRows(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	s := newStore(t, path, sqlitestore.WithTablePrefix("app1_"))
	ctx := context.Background()
	past := time.Now().Add(-time.Minute)
	if _, err := s.Save(ctx, "expired", []byte("x"), 0, past); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Save(ctx, "live", []byte("x"), 0, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.PutPending(ctx, "expired", []byte("x"), past); err != nil {
		t.Fatal(err)
	}
	// The expired row is in the database, yet reads as missing.
	if n := countRows(t, path, "app1_sessions"); n != 2 {
		t.Fatalf("rows before Cleanup = %d; want 2", n)
	}
	if _, _, found, err := s.Find(ctx, "expired"); found || err != nil {
		t.Fatalf("Find(expired) = found %v, error %v; want not found", found, err)
	}
	if err := s.Cleanup(ctx); err != nil {
		t.Fatal(err)
	}
	if n := countRows(t, path, "app1_sessions"); n != 1 {
		t.Errorf("session rows after Cleanup = %d; want 1", n)
	}
	if n := countRows(t, path, "app1_pending"); n != 0 {
		t.Errorf("pending rows after Cleanup = %d; want 0", n)
	}
}

func TestCleanupGoroutine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	s, err := sqlitestore.New(path, sqlitestore.WithCleanup(20*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := s.Save(ctx, "expired", []byte("x"), 0, time.Now().Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for countRows(t, path, "mwoauth_sessions") != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the cleanup goroutine did not remove the expired row within 5 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	done := make(chan error, 1)
	go func() { done <- s.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Close error: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return within 5 s")
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close error: %v", err)
	}
}

func TestNewRejects(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		name string
		path string
		opts []sqlitestore.Option
	}{
		{"empty path", "", nil},
		{"memory", ":memory:", nil},
		{"query in path", filepath.Join(dir, "a.db?mode=ro"), nil},
		{"uri", "file:" + filepath.Join(dir, "a.db"), nil},
		{"bad prefix", filepath.Join(dir, "a.db"), []sqlitestore.Option{sqlitestore.WithTablePrefix("x; DROP TABLE y; --")}},
		{"zero timeout", filepath.Join(dir, "a.db"), []sqlitestore.Option{sqlitestore.WithTimeout(0)}},
		{"negative cleanup", filepath.Join(dir, "a.db"), []sqlitestore.Option{sqlitestore.WithCleanup(-time.Second)}},
		{"missing directory", filepath.Join(dir, "no", "such", "dir", "a.db"), nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := sqlitestore.New(c.path, c.opts...)
			if err == nil {
				s.Close()
				t.Fatalf("New(%q) = nil error; want an error", c.path)
			}
		})
	}
}

// TestTwoStoresOneFile: two instances (two processes on one host, say) see
// each other's sessions and pending logins.
func TestTwoStoresOneFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shared.db")
	a, b := newStore(t, path), newStore(t, path)
	ctx := context.Background()
	if err := a.PutPending(ctx, "login", []byte("verifier"), time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	data, found, err := b.TakePending(ctx, "login")
	if err != nil || !found || string(data) != "verifier" {
		t.Fatalf("b.TakePending = %q, %v, %v; want verifier", data, found, err)
	}
	v, err := b.Save(ctx, "sess", []byte("one"), 0, time.Now().Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Save(ctx, "sess", []byte("two"), v, time.Now().Add(time.Minute)); err != nil {
		t.Fatalf("a.Save on b's version: %v", err)
	}
	if _, err := b.Save(ctx, "sess", []byte("three"), v, time.Now().Add(time.Minute)); err != session.ErrConflict {
		t.Fatalf("b.Save with a stale version = %v; want ErrConflict", err)
	}
}

func BenchmarkLoadSave(b *testing.B) {
	s := newStore(b, filepath.Join(b.TempDir(), "bench.db"))
	sessiontest.BenchLoadSave(b, s)
}

func TestShared(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shared.db")
	sessiontest.TestSharedStore(t, func(t *testing.T) session.Store {
		s, err := sqlitestore.New(path)
		if err != nil {
			t.Fatalf("New error: %v", err)
		}
		return s
	})
}

// TestLogin: whole logins through two mwoauth instances on one database
// file; the restart opens a new Store on the same file.
func TestLogin(t *testing.T) {
	path := filepath.Join(t.TempDir(), "login.db")
	sessiontest.TestLogin(t, func(t *testing.T) session.Store {
		s, err := sqlitestore.New(path)
		if err != nil {
			t.Fatalf("New error: %v", err)
		}
		return s
	})
}
