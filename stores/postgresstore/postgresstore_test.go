package postgresstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/wikiauth/mwoauth/session"
	"github.com/wikiauth/mwoauth/session/sessiontest"
	"github.com/wikiauth/mwoauth/stores/postgresstore"
)

const envURL = "MWOAUTH_TEST_POSTGRES"

// serverURL returns the test server's URL (see sessiontest.ServerURL).
func serverURL(t testing.TB) string {
	t.Helper()
	return sessiontest.ServerURL(t, envURL, "PostgreSQL", "postgres://user:password@127.0.0.1:PORT/dbname")
}

func openPool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), serverURL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

func TestConformance(t *testing.T) {
	pool := openPool(t)
	sessiontest.TestStore(t, func(t *testing.T) session.Store {
		s, err := postgresstore.New(t.Context(), pool)
		if err != nil {
			t.Fatalf("New error: %v", err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

// TestConcurrentNew: several instances starting at once against a new
// database all create (or find) the tables without an error.
func TestConcurrentNew(t *testing.T) {
	pool := openPool(t)
	ctx := context.Background()
	prefix := "concurrent_new_test_"
	pool.Exec(ctx, `DROP TABLE IF EXISTS `+prefix+`sessions, `+prefix+`pending`)
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			_, err := postgresstore.New(ctx, pool, postgresstore.WithTablePrefix(prefix))
			errs <- err
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Errorf("concurrent New error: %v", err)
		}
	}
	pool.Exec(ctx, `DROP TABLE IF EXISTS `+prefix+`sessions, `+prefix+`pending`)
}

func TestOpenCleanup(t *testing.T) {
	u := serverURL(t)
	ctx := context.Background()
	s, err := postgresstore.Open(ctx, u, postgresstore.WithTablePrefix("cleanup_test_"), postgresstore.WithCleanup(20*time.Millisecond))
	if err != nil {
		t.Fatalf("Open error: %v", err)
	}
	pool := openPool(t)
	if _, err := s.Save(ctx, "expired", []byte("x"), 0, time.Now().Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		var n int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM cleanup_test_sessions WHERE store_key = $1`, []byte("expired")).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the cleanup goroutine did not remove the expired row within 5 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close error: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close error: %v", err)
	}
	if _, _, _, err := s.Find(ctx, "k"); err == nil {
		t.Error("Find after Close = nil error; want an error (Open's pool is closed)")
	}
	pool.Exec(ctx, `DROP TABLE cleanup_test_sessions, cleanup_test_pending`)
}

func TestNewRejects(t *testing.T) {
	ctx := context.Background()
	if _, err := postgresstore.New(ctx, nil); err == nil {
		t.Error("New(nil) = nil error; want an error")
	}
	if _, err := postgresstore.Open(ctx, "not a url://"); err == nil {
		t.Error("Open(not a url) = nil error; want an error")
	}
	pool, err := pgxpool.New(ctx, "postgres://u:p@127.0.0.1:1/x?connect_timeout=2")
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if _, err := postgresstore.New(ctx, pool, postgresstore.WithTablePrefix("a; DROP TABLE b; --")); err == nil {
		t.Error("New with a hostile table prefix = nil error; want an error")
	}
	start := time.Now()
	if _, err := postgresstore.New(ctx, pool, postgresstore.WithTimeout(500*time.Millisecond)); err == nil {
		t.Error("New on a closed port = nil error; want an error")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("New on a closed port took %v", d)
	}
}

func BenchmarkLoadSave(b *testing.B) {
	s, err := postgresstore.New(context.Background(), openPool(b))
	if err != nil {
		b.Fatal(err)
	}
	sessiontest.BenchLoadSave(b, s)
}

func TestShared(t *testing.T) {
	u := serverURL(t)
	sessiontest.TestSharedStore(t, func(t *testing.T) session.Store {
		s, err := postgresstore.Open(t.Context(), u)
		if err != nil {
			t.Fatalf("Open error: %v", err)
		}
		return s
	})
}

// TestLogin: whole logins through two mwoauth instances on one PostgreSQL;
// the restart opens a new connection pool.
func TestLogin(t *testing.T) {
	u := serverURL(t)
	sessiontest.TestLogin(t, func(t *testing.T) session.Store {
		s, err := postgresstore.Open(t.Context(), u)
		if err != nil {
			t.Fatalf("Open error: %v", err)
		}
		return s
	})
}
