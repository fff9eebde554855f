package sessiontest

import (
	"io"
	"testing"

	"github.com/wikiauth/mwoauth/session"
)

// TestSharedStore checks what a server-side store is for beyond
// [TestStore]: several instances of an app on one backend, and restarts.
// newInstance must return a new, independent Store (its own connections or
// client) on the same backend each time it is called, such as the result of
// a store module's Open with the same URL; the suite closes those that
// implement io.Closer.
//
// A pending login put by one instance is taken by another, once; a session
// saved by one is found and updated by another, and the first instance's
// stale version then conflicts; and after an instance is closed, a new one
// still finds what the closed one saved (a restart).
func TestSharedStore(t *testing.T, newInstance func(t *testing.T) session.Store) {
	t.Helper()
	k := newKeys(t)
	a, b := newInstance(t), newInstance(t)
	if a == nil || b == nil {
		t.Fatal("newInstance returned nil")
	}
	if a == b {
		t.Fatal("newInstance returned the same Store twice; want independent instances")
	}
	closeStore := func(s session.Store) {
		if c, ok := s.(io.Closer); ok {
			if err := c.Close(); err != nil {
				t.Errorf("Close error: %v", err)
			}
		}
	}

	t.Run("PendingAcrossInstances", func(t *testing.T) {
		key := k.key("login")
		mustPut(t, a, key, []byte("request token secret"), later())
		wantTaken(t, b, key, []byte("request token secret"))
		wantNoPending(t, a, key)
	})
	t.Run("SessionAcrossInstances", func(t *testing.T) {
		key := k.key("session")
		va := mustSave(t, a, key, []byte("from a"), 0, later())
		wantFound(t, b, key, []byte("from a"), va)
		vb := mustSave(t, b, key, []byte("from b"), va, later())
		wantConflict(t, a, key, []byte("stale a"), va, later())
		wantFound(t, a, key, []byte("from b"), vb)
		wantConflict(t, b, key, []byte("again"), 0, later())
	})
	t.Run("Restart", func(t *testing.T) {
		key := k.key("restart")
		v := mustSave(t, a, key, []byte("before restart"), 0, later())
		mustPut(t, a, key, []byte("pending before restart"), later())
		closeStore(a)
		c := newInstance(t)
		defer closeStore(c)
		wantFound(t, c, key, []byte("before restart"), v)
		wantTaken(t, c, key, []byte("pending before restart"))
		v = mustSave(t, c, key, []byte("after restart"), v, later())
		wantFound(t, b, key, []byte("after restart"), v)
	})
	closeStore(b)
}
