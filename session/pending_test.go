package session

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func (e *env) put(b *browser, handle, data string) {
	e.t.Helper()
	w := httptest.NewRecorder()
	if err := e.m.PutPending(context.Background(), w, b.request(), handle, []byte(data)); err != nil {
		e.t.Fatalf("PutPending(%q): %v", handle, err)
	}
	b.apply(e.t, w)
}

func (e *env) take(b *browser, handle string) (string, bool) {
	e.t.Helper()
	w := httptest.NewRecorder()
	data, found, err := e.m.TakePending(context.Background(), w, b.request(), handle)
	if err != nil {
		e.t.Fatalf("TakePending(%q): %v", handle, err)
	}
	b.apply(e.t, w)
	if found != (data != nil) && found {
		e.t.Fatalf("TakePending(%q) = found with nil data", handle)
	}
	return string(data), found
}

// pendingCookies counts the pending-login cookies b holds.
func (e *env) pendingCookies(b *browser) int {
	n := 0
	for name := range b.cookies {
		if strings.HasPrefix(name, e.m.pendPrefix) || name == e.m.bindName {
			n++
		}
	}
	return n
}

func TestPendingSingleUse(t *testing.T) {
	t.Parallel()
	for _, mo := range modes {
		t.Run(mo.name, func(t *testing.T) {
			e := newEnv(t, mo.store, nil)
			b := newBrowser()
			e.put(b, "request-token-1", "secret-1 next=/x")
			// A copy of the browser taken before the callback, for replay.
			replay := newBrowser()
			for k, v := range b.cookies {
				replay.cookies[k] = v
			}
			if got, found := e.take(b, "request-token-1"); !found || got != "secret-1 next=/x" {
				t.Fatalf("TakePending = %q, %v; want the data", got, found)
			}
			if _, found := e.take(b, "request-token-1"); found {
				t.Error("second TakePending found the pending login again")
			}
			if e.pendingCookies(b) != 0 {
				t.Errorf("%d pending cookies left after the take; want 0", e.pendingCookies(b))
			}
			if mo.store {
				// True single use: the record is gone, also for a copied cookie.
				if _, found := e.take(replay, "request-token-1"); found {
					t.Error("store mode: replayed cookie found the pending login")
				}
			}
			if _, found := e.take(b, "never-put"); found {
				t.Error("TakePending(unknown handle) found something")
			}
			for _, h := range []string{"", strings.Repeat("h", MaxHandleLen+1)} {
				if _, found, err := e.m.TakePending(context.Background(), httptest.NewRecorder(), b.request(), h); found || err != nil {
					t.Errorf("TakePending(%d-byte handle) = %v, %v; want not found, nil", len(h), found, err)
				}
				if err := e.m.PutPending(context.Background(), httptest.NewRecorder(), b.request(), h, nil); err == nil {
					t.Errorf("PutPending(%d-byte handle) error = nil", len(h))
				}
			}
		})
	}
}

func TestPendingEviction(t *testing.T) {
	t.Parallel()
	for _, mo := range modes {
		t.Run(mo.name, func(t *testing.T) {
			e := newEnv(t, mo.store, nil)
			b := newBrowser()
			for i := range 20 {
				e.clock.Advance(time.Second)
				e.put(b, fmt.Sprintf("token-%02d", i), fmt.Sprintf("secret-%02d", i))
				if n := e.pendingCookies(b); n > DefaultMaxPending {
					t.Fatalf("after %d puts the browser holds %d pending cookies; want at most %d", i+1, n, DefaultMaxPending)
				}
				for _, v := range b.cookies {
					if len(v) > MaxCookieLine {
						t.Fatalf("cookie value of %d bytes", len(v))
					}
				}
			}
			if mo.store {
				if _, n := e.store.Len(); n != DefaultMaxPending {
					t.Errorf("store holds %d pending logins after 20 puts; want %d", n, DefaultMaxPending)
				}
			}
			// The three newest survive, the older ones were evicted.
			for i := range 20 {
				h := fmt.Sprintf("token-%02d", i)
				got, found := e.take(b, h)
				if want := i >= 20-DefaultMaxPending; found != want {
					t.Errorf("TakePending(%q) found = %v; want %v", h, found, want)
				} else if found && got != fmt.Sprintf("secret-%02d", i) {
					t.Errorf("TakePending(%q) = %q", h, got)
				}
			}
		})
	}
}

// Several puts in one response see each other's Set-Cookie lines.
func TestPendingManyPutsOneResponse(t *testing.T) {
	t.Parallel()
	for _, mo := range modes {
		t.Run(mo.name, func(t *testing.T) {
			e := newEnv(t, mo.store, func(c *Config) { c.MaxPending = 2 })
			b := newBrowser()
			w := httptest.NewRecorder()
			r := b.request()
			for i := range 5 {
				e.clock.Advance(time.Second)
				if err := e.m.PutPending(context.Background(), w, r, fmt.Sprint("h", i), []byte{byte(i)}); err != nil {
					t.Fatal(err)
				}
			}
			b.apply(t, w)
			if n := e.pendingCookies(b); n > 2 {
				t.Errorf("browser holds %d pending cookies; want at most 2", n)
			}
			for i, want := range []bool{false, false, false, true, true} {
				if _, found := e.take(b, fmt.Sprint("h", i)); found != want {
					t.Errorf("TakePending(h%d) found = %v; want %v", i, found, want)
				}
			}
		})
	}
}

func TestPendingOtherBrowser(t *testing.T) {
	t.Parallel()
	for _, mo := range modes {
		t.Run(mo.name, func(t *testing.T) {
			e := newEnv(t, mo.store, nil)
			victim, attacker := newBrowser(), newBrowser()
			e.put(victim, "victim-token", "v")
			e.put(attacker, "attacker-token", "a")
			if _, found := e.take(victim, "attacker-token"); found {
				t.Error("victim's browser found the attacker's pending login")
			}
			if _, found := e.take(attacker, "victim-token"); found {
				t.Error("attacker's browser found the victim's pending login")
			}
			if _, found := e.take(newBrowser(), "victim-token"); found {
				t.Error("a browser without cookies found a pending login")
			}
			// The failed attempts left the real ones usable.
			if got, found := e.take(victim, "victim-token"); !found || got != "v" {
				t.Errorf("victim's own take = %q, %v", got, found)
			}
			if got, found := e.take(attacker, "attacker-token"); !found || got != "a" {
				t.Errorf("attacker's own take = %q, %v", got, found)
			}
		})
	}
}

func TestPendingExpiry(t *testing.T) {
	t.Parallel()
	for _, mo := range modes {
		t.Run(mo.name, func(t *testing.T) {
			e := newEnv(t, mo.store, nil)
			b := newBrowser()
			e.put(b, "fresh", "f")
			e.put(b, "stale", "s")
			if got, found := e.take(b, "fresh"); !found || got != "f" {
				t.Fatalf("take before expiry = %q, %v", got, found)
			}
			e.clock.Advance(DefaultPendingTTL + time.Second)
			if _, found := e.take(b, "stale"); found {
				t.Error("pending login found after PendingTTL")
			}
			w := httptest.NewRecorder()
			if err := e.m.PutPending(context.Background(), w, b.request(), "x", nil); err != nil {
				t.Fatal(err)
			}
			for _, c := range w.Result().Cookies() {
				if c.MaxAge > 0 && c.MaxAge != int(DefaultPendingTTL/time.Second) {
					t.Errorf("pending cookie Max-Age = %d; want %d", c.MaxAge, int(DefaultPendingTTL/time.Second))
				}
			}
		})
	}
}

func TestPendingTampered(t *testing.T) {
	t.Parallel()
	for _, mo := range modes {
		t.Run(mo.name, func(t *testing.T) {
			e := newEnv(t, mo.store, nil)
			b := newBrowser()
			e.put(b, "tok", "data")
			var name string
			for n := range b.cookies {
				name = n
			}
			orig := b.cookies[name]
			for i := range orig {
				b.cookies[name] = tamper(orig, i)
				if _, found := e.take(b, "tok"); found {
					t.Fatalf("tampered cookie (char %d) found the pending login", i)
				}
				b.cookies[name] = orig
			}
			if mo.store {
				if got, found := e.take(b, "tok"); !found || got != "data" {
					t.Errorf("untampered take = %q, %v", got, found)
				}
			}
		})
	}
}

func TestPendingTooLarge(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false, nil)
	b := newBrowser()
	e.put(b, "small", "s")
	w := httptest.NewRecorder()
	err := e.m.PutPending(context.Background(), w, b.request(), "big", []byte(strings.Repeat("x", 3500)))
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("PutPending(3500 bytes) error = %v; want ErrTooLarge", err)
	}
	if n := len(w.Header().Values("Set-Cookie")); n != 0 {
		t.Errorf("a failed PutPending wrote %d Set-Cookie lines", n)
	}
	if _, found := e.take(b, "small"); !found {
		t.Error("a failed PutPending evicted another pending login")
	}
}

// Pending logins and the session live side by side.
func TestPendingAndSession(t *testing.T) {
	t.Parallel()
	for _, mo := range modes {
		t.Run(mo.name, func(t *testing.T) {
			e := newEnv(t, mo.store, nil)
			b := e.login("session data")
			e.put(b, "tok", "pending")
			if s := e.load(b); string(s.Data()) != "session data" {
				t.Errorf("session after PutPending = %q", s.Data())
			}
			if got, found := e.take(b, "tok"); !found || got != "pending" {
				t.Errorf("take = %q, %v", got, found)
			}
			if s := e.load(b); string(s.Data()) != "session data" {
				t.Errorf("session after TakePending = %q", s.Data())
			}
		})
	}
}

// Two tabs racing to write the binding cookie can drop an entry from its
// list; the pending login is still taken from the store.
func TestPendingBindingListLost(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true, nil)
	b := newBrowser()
	e.put(b, "tab-1", "one")
	v1 := b.cookies[e.m.bindName]
	e.clock.Advance(time.Second)
	e.put(b, "tab-2", "two")
	b.cookies[e.m.bindName] = v1 // the other tab's Set-Cookie won
	if got, found := e.take(b, "tab-2"); !found || got != "two" {
		t.Errorf("take(tab-2) = %q, %v; want the data", got, found)
	}
	if got, found := e.take(b, "tab-1"); !found || got != "one" {
		t.Errorf("take(tab-1) = %q, %v; want the data", got, found)
	}
	if _, ok := b.cookies[e.m.bindName]; ok {
		t.Error("binding cookie kept after its last pending login was taken")
	}
}

// Client-side mode: two requests carrying the same pending cookie (a
// double-clicked callback, parallel tabs) take it once between them.
func TestPendingCookieTakenOnceInProcess(t *testing.T) {
	e := newEnv(t, false, nil)
	b := newBrowser()
	e.put(b, "handle-parallel", "data")
	r1, r2 := b.request(), b.request() // both carry the cookie
	_, found1, err1 := e.m.TakePending(context.Background(), httptest.NewRecorder(), r1, "handle-parallel")
	_, found2, err2 := e.m.TakePending(context.Background(), httptest.NewRecorder(), r2, "handle-parallel")
	if err1 != nil || err2 != nil || !found1 || found2 {
		t.Fatalf("two takes of one cookie: found %v, %v (errors %v, %v); want exactly the first", found1, found2, err1, err2)
	}
}
