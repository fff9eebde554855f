package sessiontest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/wikiauth/mwoauth/session"
)

// ServerURL returns the address of a real database server for a store's
// tests from the environment variable env (set by scripts/services). When
// it is unset the test is skipped with a message saying how to run it,
// except under CI=true, where a missing server fails the test. server names
// the server ("Redis") and example shows a value of env.
func ServerURL(t testing.TB, env, server, example string) string {
	t.Helper()
	u := os.Getenv(env)
	if u == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set: under CI=true the %s store tests need a real server (scripts/test starts one with scripts/services)", env, server)
		}
		t.Skipf("%s is not set; to run these tests against a real %s: source scripts/services start (from the repository root), or set %s=%s", env, server, env, example)
	}
	return u
}

// BenchLoadSave measures the store work of one request: Find, then Save of
// a 1 KiB value, under a key of its own (deleted at the end).
func BenchLoadSave(b *testing.B, s session.Store) {
	b.Helper()
	ctx := context.Background()
	rnd := make([]byte, 8)
	_, _ = rand.Read(rnd)
	key := "bench-" + hex.EncodeToString(rnd)
	data := make([]byte, 1024)
	v, err := s.Save(ctx, key, data, 0, time.Now().Add(time.Hour))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		_, v, _, err = s.Find(ctx, key)
		if err != nil {
			b.Fatal(err)
		}
		if v, err = s.Save(ctx, key, data, v, time.Now().Add(time.Hour)); err != nil {
			b.Fatal(err)
		}
	}
	_ = s.Delete(ctx, key)
}
