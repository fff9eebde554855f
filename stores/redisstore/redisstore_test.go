package redisstore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/wikiauth/mwoauth/session"
	"github.com/wikiauth/mwoauth/session/sessiontest"
	"github.com/wikiauth/mwoauth/stores/redisstore"
)

const envURL = "MWOAUTH_TEST_REDIS"

// serverURL returns the test server's URL (see sessiontest.ServerURL).
func serverURL(t testing.TB) string {
	t.Helper()
	return sessiontest.ServerURL(t, envURL, "Redis", "redis://127.0.0.1:PORT/0")
}

func randomPrefix(t testing.TB) string {
	var b [6]byte
	rand.Read(b[:])
	return "mwoauth-test-" + hex.EncodeToString(b[:]) + ":"
}

func newStore(t testing.TB, opts ...redisstore.Option) *redisstore.Store {
	t.Helper()
	s, err := redisstore.Open(serverURL(t), append([]redisstore.Option{redisstore.WithPrefix(randomPrefix(t))}, opts...)...)
	if err != nil {
		t.Fatalf("Open error: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close error: %v", err)
		}
	})
	return s
}

func TestConformance(t *testing.T) {
	serverURL(t)
	sessiontest.TestStore(t, func(t *testing.T) session.Store { return newStore(t) })
}

// TestKeysAreNamespaced checks what lands in Redis: keys under the prefix
// only, with a TTL, and no session data outside the records.
func TestKeysAreNamespaced(t *testing.T) {
	u := serverURL(t)
	prefix := randomPrefix(t)
	s, err := redisstore.Open(u, redisstore.WithPrefix(prefix))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	o, _ := redis.ParseURL(u)
	raw := redis.NewClient(o)
	defer raw.Close()
	ctx := context.Background()
	if _, err := s.Save(ctx, "k1", []byte("data"), 0, time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := s.PutPending(ctx, "k1", []byte("pending"), time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	keys, err := raw.Keys(ctx, prefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 {
		t.Fatalf("keys under %q = %q; want 2", prefix, keys)
	}
	for _, k := range keys {
		ttl, err := raw.PTTL(ctx, k).Result()
		if err != nil || ttl <= 0 || ttl > time.Minute {
			t.Errorf("PTTL(%q) = %v, %v; want a TTL of at most a minute", k, ttl, err)
		}
	}
	// A record written by somebody else under the prefix is not a session.
	raw.HSet(ctx, prefix+"s:foreign", "v", "x", "x", "y", "d", "z")
	raw.Expire(ctx, prefix+"s:foreign", time.Minute)
	if _, _, found, err := s.Find(ctx, "foreign"); found || err != nil {
		t.Errorf("Find(foreign) = found %v, error %v; want not found, no error", found, err)
	}
	raw.Del(ctx, prefix+"s:foreign", prefix+"s:k1", prefix+"p:k1")
}

func TestNewRejects(t *testing.T) {
	if _, err := redisstore.New(nil); err == nil {
		t.Error("New(nil) = nil error; want an error")
	}
	if _, err := redisstore.Open("http://127.0.0.1:1/"); err == nil {
		t.Error("Open(http://...) = nil error; want an error")
	}
	if _, err := redisstore.Open("redis://127.0.0.1:1/0", redisstore.WithTimeout(-1)); err == nil {
		t.Error("Open with a negative timeout = nil error; want an error")
	}
}

// TestUnreachable: a server that is down gives errors, bounded by the
// timeout, not hangs or "not found".
func TestUnreachable(t *testing.T) {
	s, err := redisstore.Open("redis://127.0.0.1:1/0", redisstore.WithTimeout(500*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	start := time.Now()
	_, _, found, err := s.Find(context.Background(), "k")
	if err == nil || found {
		t.Errorf("Find on a closed port = found %v, error %v; want an error", found, err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Find on a closed port took %v", d)
	}
}

func BenchmarkLoadSave(b *testing.B) {
	sessiontest.BenchLoadSave(b, newStore(b))
}

func TestShared(t *testing.T) {
	u := serverURL(t)
	prefix := randomPrefix(t)
	sessiontest.TestSharedStore(t, func(t *testing.T) session.Store {
		s, err := redisstore.Open(u, redisstore.WithPrefix(prefix))
		if err != nil {
			t.Fatalf("Open error: %v", err)
		}
		return s
	})
}

// TestLogin: whole logins through two mwoauth instances on one Redis; the
// restart opens a new client with the same prefix.
func TestLogin(t *testing.T) {
	u := serverURL(t)
	prefix := randomPrefix(t)
	sessiontest.TestLogin(t, func(t *testing.T) session.Store {
		s, err := redisstore.Open(u, redisstore.WithPrefix(prefix))
		if err != nil {
			t.Fatalf("Open error: %v", err)
		}
		return s
	})
}
