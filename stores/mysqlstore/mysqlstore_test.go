package mysqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"net/url"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/wikiauth/mwoauth/session"
	"github.com/wikiauth/mwoauth/session/sessiontest"
	"github.com/wikiauth/mwoauth/stores/mysqlstore"
)

const envDSN = "MWOAUTH_TEST_MYSQL"

// serverDSN returns the test server's DSN (see sessiontest.ServerURL).
func serverDSN(t testing.TB) string {
	t.Helper()
	return sessiontest.ServerURL(t, envDSN, "MariaDB/MySQL", "'user:password@tcp(127.0.0.1:PORT)/dbname'")
}

func openDB(t testing.TB) *sql.DB {
	t.Helper()
	db, err := sql.Open("mysql", serverDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestConformance(t *testing.T) {
	db := openDB(t)
	sessiontest.TestStore(t, func(t *testing.T) session.Store {
		s, err := mysqlstore.New(t.Context(), db)
		if err != nil {
			t.Fatalf("New error: %v", err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

func TestOpenCleanup(t *testing.T) {
	dsn := serverDSN(t)
	ctx := context.Background()
	s, err := mysqlstore.Open(ctx, dsn, mysqlstore.WithTablePrefix("cleanup_test_"), mysqlstore.WithCleanup(20*time.Millisecond))
	if err != nil {
		t.Fatalf("Open error: %v", err)
	}
	db := openDB(t)
	if _, err := s.Save(ctx, "expired", []byte("x"), 0, time.Now().Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM cleanup_test_sessions WHERE store_key = ?`, []byte("expired")).Scan(&n); err != nil {
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
		t.Error("Find after Close = nil error; want an error (Open's db is closed)")
	}
	db.Exec(`DROP TABLE cleanup_test_sessions`)
	db.Exec(`DROP TABLE cleanup_test_pending`)
}

func TestNewRejects(t *testing.T) {
	ctx := context.Background()
	if _, err := mysqlstore.New(ctx, nil); err == nil {
		t.Error("New(nil) = nil error; want an error")
	}
	if _, err := mysqlstore.Open(ctx, "not a dsn"); err == nil {
		t.Error("Open(not a dsn) = nil error; want an error")
	}
	db, _ := sql.Open("mysql", "u:p@tcp(127.0.0.1:1)/x")
	defer db.Close()
	if _, err := mysqlstore.New(ctx, db, mysqlstore.WithTablePrefix("a`; DROP TABLE b; --")); err == nil {
		t.Error("New with a hostile table prefix = nil error; want an error")
	}
	// A server that is down: an error from New, bounded by the timeout.
	start := time.Now()
	if _, err := mysqlstore.New(ctx, db, mysqlstore.WithTimeout(500*time.Millisecond)); err == nil {
		t.Error("New on a closed port = nil error; want an error")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("New on a closed port took %v", d)
	}
}

// TestDuplicateKeyIsConflict pins the driver error that Save maps to
// ErrConflict.
func TestDuplicateKeyIsConflict(t *testing.T) {
	db := openDB(t)
	ctx := context.Background()
	s, err := mysqlstore.New(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	key := "dup-" + time.Now().Format(time.RFC3339Nano)
	if _, err := s.Save(ctx, key, []byte("a"), 0, time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	_, err = db.ExecContext(ctx, `INSERT INTO mwoauth_sessions (store_key, data, version, expires_at) VALUES (?, '', 1, 0)`, []byte(key))
	var me *mysql.MySQLError
	if !errors.As(err, &me) || me.Number != 1062 {
		t.Fatalf("duplicate INSERT error = %v; want MySQL error 1062", err)
	}
	s.Delete(ctx, key)
}

func BenchmarkLoadSave(b *testing.B) {
	s, err := mysqlstore.New(context.Background(), openDB(b))
	if err != nil {
		b.Fatal(err)
	}
	sessiontest.BenchLoadSave(b, s)
}

// TestOpenURL opens the test server by a mysql:// URL, as the demo's
// -sessions flag gives it.
func TestOpenURL(t *testing.T) {
	cfg, err := mysql.ParseDSN(serverDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	u := (&url.URL{Scheme: "mysql", User: url.UserPassword(cfg.User, cfg.Passwd), Host: cfg.Addr, Path: "/" + cfg.DBName}).String()
	ctx := context.Background()
	s, err := mysqlstore.Open(ctx, u)
	if err != nil {
		t.Fatalf("Open(mysql:// URL) error: %v", err)
	}
	defer s.Close()
	if _, _, found, err := s.Find(ctx, "missing"); found || err != nil {
		t.Fatalf("Find = found %v, error %v; want not found, no error", found, err)
	}
}

func TestShared(t *testing.T) {
	dsn := serverDSN(t)
	sessiontest.TestSharedStore(t, func(t *testing.T) session.Store {
		s, err := mysqlstore.Open(t.Context(), dsn)
		if err != nil {
			t.Fatalf("Open error: %v", err)
		}
		return s
	})
}

// TestLogin: whole logins through two mwoauth instances on one MariaDB; the
// restart opens a new connection pool.
func TestLogin(t *testing.T) {
	dsn := serverDSN(t)
	sessiontest.TestLogin(t, func(t *testing.T) session.Store {
		s, err := mysqlstore.Open(t.Context(), dsn)
		if err != nil {
			t.Fatalf("Open error: %v", err)
		}
		return s
	})
}
