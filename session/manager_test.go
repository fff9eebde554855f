package session

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestNewConfig(t *testing.T) {
	t.Parallel()
	k := testKey(1)
	tests := []struct {
		name    string
		cfg     Config
		wantErr error
		wantMsg string
	}{
		{"ok", Config{Keys: [][]byte{k}}, nil, ""},
		{"ok secure", Config{Keys: [][]byte{k}, Secure: true, CookieName: "__Host-app"}, nil, ""},
		{"no keys", Config{}, ErrConfig, "no keys"},
		{"16-byte key", Config{Keys: [][]byte{make([]byte, 16)}}, ErrConfig, "16 bytes"},
		{"33-byte key", Config{Keys: [][]byte{make([]byte, 33)}}, ErrConfig, "33 bytes"},
		{"short old key", Config{Keys: [][]byte{k, make([]byte, 31)}}, ErrConfig, "key 1 is 31 bytes"},
		{"bad cookie name", Config{Keys: [][]byte{k}, CookieName: "a b"}, ErrConfig, "cookie name"},
		{"cookie name with ;", Config{Keys: [][]byte{k}, CookieName: "a;b"}, ErrConfig, "cookie name"},
		{"__Host- without Secure", Config{Keys: [][]byte{k}, CookieName: "__Host-x"}, ErrConfig, "needs Secure"},
		{"__Secure- name", Config{Keys: [][]byte{k}, CookieName: "__Secure-x"}, ErrConfig, "cookie name"},
		{"negative MaxAge", Config{Keys: [][]byte{k}, MaxAge: -time.Hour}, ErrConfig, "MaxAge"},
		{"PendingTTL over 10m", Config{Keys: [][]byte{k}, PendingTTL: 11 * time.Minute}, ErrConfig, "PendingTTL"},
		{"negative MaxPending", Config{Keys: [][]byte{k}, MaxPending: -1}, ErrConfig, "MaxPending"},
		{"MaxPending over 10", Config{Keys: [][]byte{k}, MaxPending: 11}, ErrConfig, "MaxPending"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := New(tt.cfg)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("New() error = %v; want %v", err, tt.wantErr)
			}
			if err != nil && !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("New() error = %q; want it to contain %q", err, tt.wantMsg)
			}
			if err == nil && m == nil {
				t.Fatal("New() = nil, nil")
			}
		})
	}
}

func TestNewCopiesConfig(t *testing.T) {
	t.Parallel()
	cfg := Config{Keys: [][]byte{testKey(1)}}
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.CookieName != "" || cfg.MaxAge != 0 || cfg.MaxPending != 0 {
		t.Errorf("New modified its Config: %v", cfg)
	}
	if m.maxAge != DefaultMaxAge || m.pendingTTL != DefaultPendingTTL || m.maxPending != DefaultMaxPending || m.CookieName() != DefaultCookieName {
		t.Errorf("defaults = %v %v %d %q", m.maxAge, m.pendingTTL, m.maxPending, m.CookieName())
	}
	// Changing the caller's key afterwards changes nothing.
	e := newEnv(t, false, nil)
	b := e.login("x")
	e.cfg.Keys[0][0] ^= 1
	if s := e.load(b); s.IsNew() {
		t.Error("session lost after the caller changed its key slice")
	}
}

func TestCookieAttributes(t *testing.T) {
	t.Parallel()
	for _, mo := range modes {
		for _, secure := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s secure=%v", mo.name, secure), func(t *testing.T) {
				e := newEnv(t, mo.store, func(c *Config) { c.Secure = secure })
				b := newBrowser()
				s := e.load(b)
				s.SetData([]byte("hello"))
				w := httptest.NewRecorder()
				if err := e.m.Save(context.Background(), w, s); err != nil {
					t.Fatal(err)
				}
				checkSetCookies(t, w)
				cs := w.Result().Cookies()
				if len(cs) != 1 {
					t.Fatalf("got %d cookies; want 1", len(cs))
				}
				c := cs[0]
				wantName := "mwoauth_session"
				if secure {
					wantName = "__Host-mwoauth_session"
				}
				if c.Name != wantName || c.Secure != secure || c.MaxAge != int(DefaultMaxAge/time.Second) {
					t.Errorf("cookie %q Secure=%v Max-Age=%d; want %q Secure=%v Max-Age=%d",
						c.Name, c.Secure, c.MaxAge, wantName, secure, int(DefaultMaxAge/time.Second))
				}
			})
		}
	}
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	for _, mo := range modes {
		t.Run(mo.name, func(t *testing.T) {
			e := newEnv(t, mo.store, nil)
			b := newBrowser()
			s := e.load(b)
			if !s.IsNew() || s.Data() != nil || s.Changed() {
				t.Fatalf("first Load: IsNew=%v Data=%q Changed=%v; want true, nil, false", s.IsNew(), s.Data(), s.Changed())
			}
			// Nothing changed: Save writes nothing.
			if cs := e.save(b, s); len(cs) != 0 {
				t.Fatalf("Save of an unchanged new session set %d cookies", len(cs))
			}
			s.SetData([]byte("v1"))
			if !s.Changed() {
				t.Error("Changed() = false after SetData")
			}
			e.save(b, s)
			if s.IsNew() || s.Changed() {
				t.Errorf("after Save: IsNew=%v Changed=%v; want false, false", s.IsNew(), s.Changed())
			}

			s = e.load(b)
			if s.IsNew() || string(s.Data()) != "v1" {
				t.Fatalf("Load = IsNew %v, %q; want false, %q", s.IsNew(), s.Data(), "v1")
			}
			// Same bytes again is not a change.
			s.SetData([]byte("v1"))
			if cs := e.save(b, s); len(cs) != 0 || s.Changed() {
				t.Errorf("Save of unchanged session set %d cookies", len(cs))
			}
			// Data returns a copy.
			d := s.Data()
			d[0] = 'X'
			if string(s.Data()) != "v1" {
				t.Error("Data() aliases the session's bytes")
			}

			s.SetData([]byte("v2"))
			cs := e.save(b, s)
			if mo.store && len(cs) != 0 {
				t.Errorf("store mode: a data change set %d cookies; want 0 (the id did not change)", len(cs))
			}
			if !mo.store && len(cs) != 1 {
				t.Errorf("client mode: a data change set %d cookies; want 1", len(cs))
			}
			if s = e.load(b); string(s.Data()) != "v2" {
				t.Errorf("Load = %q; want v2", s.Data())
			}
			if mo.store {
				// The store sees only hashed ids and sealed values.
				for key, rec := range e.store.sessions {
					if len(key) != 64 || strings.Contains(string(rec.data), "v2") {
						t.Errorf("store record %q = %q: want a hashed key and a sealed value", key, rec.data)
					}
					for _, v := range b.cookies {
						if strings.Contains(v, key) {
							t.Error("cookie contains the store key")
						}
					}
				}
			}
		})
	}
}

// tamper returns v with the character at i replaced by another base64url
// character.
func tamper(v string, i int) string {
	c := byte('A')
	if v[i] == 'A' {
		c = 'B'
	}
	return v[:i] + string(c) + v[i+1:]
}

func TestTamperedCookie(t *testing.T) {
	t.Parallel()
	for _, mo := range modes {
		t.Run(mo.name, func(t *testing.T) {
			e := newEnv(t, mo.store, nil)
			b := e.login("secret data")
			name := e.m.CookieName()
			orig := b.cookies[name]
			for i := range orig {
				b.cookies[name] = tamper(orig, i)
				wantAnonymousAndCleared(t, e, b)
			}
			for _, v := range []string{"", "x", orig + "A", orig[:len(orig)-1], strings.Repeat("A", 5000), orig + "=="} {
				b.cookies[name] = v
				wantAnonymousAndCleared(t, e, b)
			}
			b.cookies[name] = orig
			if s := e.load(b); s.IsNew() {
				t.Error("original cookie no longer loads")
			}
		})
	}
}

// wantAnonymousAndCleared checks that b's session cookie loads as a new,
// empty session and that Save expires the cookie.
func wantAnonymousAndCleared(t *testing.T, e *env, b *browser) {
	t.Helper()
	s := e.load(b)
	if !s.IsNew() || s.Data() != nil {
		t.Fatalf("Load(bad cookie) = IsNew %v, %q; want a new empty session", s.IsNew(), s.Data())
	}
	if !s.Changed() {
		t.Error("Changed() = false for a session with a bad cookie to clear")
	}
	w := httptest.NewRecorder()
	if err := e.m.Save(context.Background(), w, s); err != nil {
		t.Fatalf("Save: %v", err)
	}
	checkSetCookies(t, w)
	cs := w.Result().Cookies()
	if len(cs) != 1 || cs[0].Name != e.m.CookieName() || cs[0].MaxAge >= 0 || cs[0].Value != "" {
		t.Fatalf("Save after a bad cookie set %v; want one expired %q", cs, e.m.CookieName())
	}
}

func TestRenamedCookie(t *testing.T) {
	t.Parallel()
	for _, mo := range modes {
		t.Run(mo.name, func(t *testing.T) {
			e := newEnv(t, mo.store, nil)
			b := e.login("data")
			other := newEnv(t, mo.store, func(c *Config) { c.CookieName = "other"; c.Store = e.cfg.Store; c.Now = e.clock.Now })
			ob := newBrowser()
			ob.cookies[other.m.CookieName()] = b.cookies[e.m.CookieName()]
			wantAnonymousAndCleared(t, other, ob)
			// Nor does a session cookie open as a pending-login cookie.
			pb := newBrowser()
			pb.cookies[e.m.pendingCookieName("h")] = b.cookies[e.m.CookieName()]
			pb.cookies[e.m.bindName] = b.cookies[e.m.CookieName()]
			if _, found, err := e.m.TakePending(context.Background(), httptest.NewRecorder(), pb.request(), "h"); found || err != nil {
				t.Errorf("TakePending(session cookie as pending) = %v, %v; want not found", found, err)
			}
		})
	}
}

func TestModesDoNotMix(t *testing.T) {
	t.Parallel()
	client := newEnv(t, false, nil)
	b := client.login(strings.Repeat("x", 32))
	store := newEnv(t, true, nil)
	wantAnonymousAndCleared(t, store, b)
	sb := store.login("y")
	wantAnonymousAndCleared(t, client, sb)
}

func TestMaxAge(t *testing.T) {
	t.Parallel()
	for _, mo := range modes {
		t.Run(mo.name, func(t *testing.T) {
			e := newEnv(t, mo.store, func(c *Config) { c.MaxAge = 2 * time.Hour })
			b := e.login("v")
			e.clock.Advance(time.Hour)
			s := e.load(b)
			if s.IsNew() {
				t.Fatal("session expired after 1h of 2h")
			}
			if got, want := e.m.ExpiresAt(s), t0.Add(2*time.Hour); !got.Equal(want) {
				t.Errorf("ExpiresAt = %v; want %v", got, want)
			}
			// A change keeps the absolute lifetime: Max-Age is what is left.
			s.SetData([]byte("v2"))
			w := httptest.NewRecorder()
			if err := e.m.Save(context.Background(), w, s); err != nil {
				t.Fatal(err)
			}
			for _, c := range b.apply(t, w) {
				if c.MaxAge != 3600 {
					t.Errorf("Max-Age after 1h = %d; want 3600", c.MaxAge)
				}
			}
			e.clock.Advance(time.Hour + time.Second)
			wantAnonymousAndCleared(t, e, b)
		})
	}
}

func TestKeyRotation(t *testing.T) {
	t.Parallel()
	oldK, newK, k3 := testKey(1), testKey(2), testKey(3)
	for _, mo := range modes {
		t.Run(mo.name, func(t *testing.T) {
			tests := []struct {
				name    string
				keys    [][]byte
				wantOK  bool
				reissue bool
			}{
				{"old alone", [][]byte{oldK}, true, false},
				{"new, old", [][]byte{newK, oldK}, true, true},
				{"three keys", [][]byte{k3, newK, oldK}, true, true},
				{"new alone", [][]byte{newK}, false, false},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					e := newEnv(t, mo.store, func(c *Config) { c.Keys = [][]byte{oldK} })
					b := e.login("rotating")
					e.m = e.with(tt.keys...)
					if !tt.wantOK {
						wantAnonymousAndCleared(t, e, b)
						return
					}
					s := e.load(b)
					if s.IsNew() || string(s.Data()) != "rotating" {
						t.Fatalf("Load = IsNew %v, %q; want the session", s.IsNew(), s.Data())
					}
					if s.Changed() != tt.reissue {
						t.Errorf("Changed() = %v; want %v (re-seal due)", s.Changed(), tt.reissue)
					}
					cs := e.save(b, s)
					if tt.reissue != (len(cs) == 1) {
						t.Fatalf("Save set %d cookies; want re-issue=%v", len(cs), tt.reissue)
					}
					if !tt.reissue {
						return
					}
					// The re-issued cookie (and record) open with the newest key alone.
					e.m = e.with(tt.keys[0])
					if s := e.load(b); s.IsNew() || string(s.Data()) != "rotating" {
						t.Errorf("re-issued session with [newest] alone: IsNew %v, %q", s.IsNew(), s.Data())
					}
				})
			}
		})
	}
}

func TestRenew(t *testing.T) {
	t.Parallel()
	for _, mo := range modes {
		t.Run(mo.name, func(t *testing.T) {
			e := newEnv(t, mo.store, nil)
			b := e.login("pre-login")
			old := e.load(b)
			oldID, oldCookie := old.id, b.cookies[e.m.CookieName()]
			stale := newBrowser()
			stale.cookies[e.m.CookieName()] = oldCookie

			e.clock.Advance(time.Hour)
			old.SetData([]byte("logged in"))
			old.Renew()
			if cs := e.save(b, old); len(cs) != 1 {
				t.Fatalf("Save after Renew set %d cookies; want 1", len(cs))
			}
			if b.cookies[e.m.CookieName()] == oldCookie {
				t.Error("cookie unchanged after Renew")
			}
			s := e.load(b)
			if string(s.Data()) != "logged in" {
				t.Errorf("Data after Renew = %q", s.Data())
			}
			if got, want := e.m.ExpiresAt(s), t0.Add(time.Hour+DefaultMaxAge); !got.Equal(want) {
				t.Errorf("ExpiresAt after Renew = %v; want %v (fresh lifetime)", got, want)
			}
			if !mo.store {
				return
			}
			if len(s.id) != 32 || string(s.id) == string(oldID) {
				t.Errorf("id after Renew = %x; want a new 32-byte id (old %x)", s.id, oldID)
			}
			if _, _, found, _ := e.store.Find(context.Background(), storeKey(oldID)); found {
				t.Error("old record still in the store after Renew")
			}
			// The pre-login cookie (fixation) is now anonymous.
			wantAnonymousAndCleared(t, e, stale)
		})
	}
}

func TestDestroy(t *testing.T) {
	t.Parallel()
	for _, mo := range modes {
		t.Run(mo.name, func(t *testing.T) {
			e := newEnv(t, mo.store, nil)
			b := e.login("tokens")
			copied := newBrowser()
			copied.cookies[e.m.CookieName()] = b.cookies[e.m.CookieName()]

			s := e.load(b)
			s.Destroy()
			if !s.Changed() {
				t.Error("Changed() = false after Destroy")
			}
			w := httptest.NewRecorder()
			if err := e.m.Save(context.Background(), w, s); err != nil {
				t.Fatal(err)
			}
			cs := b.apply(t, w)
			if len(cs) != 1 || cs[0].MaxAge >= 0 {
				t.Fatalf("Save after Destroy set %v; want the cookie expired", cs)
			}
			if !s.IsNew() || s.Data() != nil || s.Changed() {
				t.Errorf("after Destroy+Save: IsNew %v, Data %q, Changed %v; want a new empty session", s.IsNew(), s.Data(), s.Changed())
			}
			if _, ok := b.cookies[e.m.CookieName()]; ok {
				t.Error("browser still holds the cookie")
			}
			if mo.store {
				if n, _ := e.store.Len(); n != 0 {
					t.Errorf("store holds %d sessions after Destroy; want 0", n)
				}
				// A copied cookie replayed after logout is anonymous.
				wantAnonymousAndCleared(t, e, copied)
			} else if s := e.load(copied); s.IsNew() {
				// Documented: a copied client-side cookie stays valid until
				// its absolute lifetime ends.
				t.Error("client mode: copied cookie rejected before MaxAge; the documented behaviour is that it stays valid")
			}
		})
	}
}

func TestSizeGuard(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false, nil)
	var ok, tooLarge int
	for n := 2900; n <= 3100; n++ {
		s := e.load(newBrowser())
		s.SetData([]byte(strings.Repeat("a", n)))
		w := httptest.NewRecorder()
		err := e.m.Save(context.Background(), w, s)
		switch {
		case err == nil:
			ok++
			checkSetCookies(t, w)
			if len(w.Header().Values("Set-Cookie")) != 1 {
				t.Fatalf("%d bytes: Save ok but no cookie", n)
			}
		case errors.Is(err, ErrTooLarge):
			tooLarge++
			if got := w.Header().Values("Set-Cookie"); len(got) != 0 {
				t.Fatalf("%d bytes: ErrTooLarge but Set-Cookie %d lines", n, len(got))
			}
			if !s.Changed() {
				t.Errorf("%d bytes: the unsaved change was dropped", n)
			}
		default:
			t.Fatalf("%d bytes: Save error = %v; want nil or ErrTooLarge", n, err)
		}
	}
	if ok == 0 || tooLarge == 0 {
		t.Errorf("around the limit: %d saved, %d too large; want both", ok, tooLarge)
	}
	s := e.load(newBrowser())
	s.SetData(make([]byte, 1<<20))
	if err := e.m.Save(context.Background(), httptest.NewRecorder(), s); !errors.Is(err, ErrTooLarge) {
		t.Errorf("Save(1 MiB) error = %v; want ErrTooLarge", err)
	}

	// Store mode takes large sessions, up to the store's limit.
	se := newEnv(t, true, nil)
	b := newBrowser()
	s = se.load(b)
	s.SetData([]byte(strings.Repeat("b", 100_000)))
	se.save(b, s)
	if got := se.load(b).Data(); len(got) != 100_000 {
		t.Errorf("store mode: loaded %d bytes; want 100000", len(got))
	}
	s = se.load(b)
	s.SetData(make([]byte, 2<<20))
	if err := se.m.Save(context.Background(), httptest.NewRecorder(), s); !errors.Is(err, ErrTooLarge) {
		t.Errorf("store mode Save(2 MiB) error = %v; want ErrTooLarge", err)
	}
}

func TestConflictAndReload(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true, nil)
	b := e.login("v0")
	a, c := e.load(b), e.load(b)
	a.SetData([]byte("from a"))
	e.save(b, a)
	c.SetData([]byte("from c"))
	w := httptest.NewRecorder()
	if err := e.m.Save(context.Background(), w, c); !errors.Is(err, ErrConflict) {
		t.Fatalf("second Save error = %v; want ErrConflict", err)
	}
	if len(w.Header().Values("Set-Cookie")) != 0 {
		t.Error("Set-Cookie after a failed Save")
	}
	if err := e.m.Reload(context.Background(), c); err != nil {
		t.Fatalf("Reload: %v", err)
	}
	if string(c.Data()) != "from a" || c.Changed() {
		t.Errorf("after Reload: %q, Changed %v; want %q, false", c.Data(), c.Changed(), "from a")
	}
	c.SetData([]byte("from a and c"))
	e.save(b, c)
	if got := e.load(b).Data(); string(got) != "from a and c" {
		t.Errorf("final data %q", got)
	}

	// The session destroyed by another request: Reload says it is gone.
	d := e.load(b)
	x := e.load(b)
	x.Destroy()
	e.save(newBrowser(), x)
	d.SetData([]byte("refreshed token"))
	if err := e.m.Save(context.Background(), httptest.NewRecorder(), d); !errors.Is(err, ErrConflict) {
		t.Fatalf("Save of a destroyed session error = %v; want ErrConflict", err)
	}
	if err := e.m.Reload(context.Background(), d); !errors.Is(err, ErrSessionGone) {
		t.Fatalf("Reload of a destroyed session error = %v; want ErrSessionGone", err)
	}
	if !d.IsNew() || d.Data() != nil {
		t.Errorf("after ErrSessionGone: IsNew %v, %q; want a new empty session", d.IsNew(), d.Data())
	}

	// Client mode: Reload does nothing.
	ce := newEnv(t, false, nil)
	cs := ce.load(ce.login("x"))
	if err := ce.m.Reload(context.Background(), cs); err != nil || string(cs.Data()) != "x" {
		t.Errorf("client Reload = %v, %q", err, cs.Data())
	}
}

// failStore fails every call with err.
type failStore struct{ err error }

func (f failStore) Find(context.Context, string) ([]byte, int64, bool, error) {
	return nil, 0, false, f.err
}
func (f failStore) Save(context.Context, string, []byte, int64, time.Time) (int64, error) {
	return 0, f.err
}
func (f failStore) Delete(context.Context, string) error { return f.err }
func (f failStore) PutPending(context.Context, string, []byte, time.Time) error {
	return f.err
}
func (f failStore) TakePending(context.Context, string) ([]byte, bool, error) {
	return nil, false, f.err
}
func (f failStore) DeletePending(context.Context, string) error { return f.err }

func TestStoreFailures(t *testing.T) {
	t.Parallel()
	boom := errors.New("store down")
	good := newEnv(t, true, nil)
	b := good.login("data")
	// Two pending logins, so that a put needs no eviction... and one to take.
	e := newEnv(t, true, func(c *Config) { c.Store = failStore{boom} })
	ctx := context.Background()

	s, err := e.m.Load(ctx, b.request())
	if !errors.Is(err, boom) {
		t.Fatalf("Load error = %v; want %v", err, boom)
	}
	if s == nil || !s.IsNew() || s.Changed() {
		t.Fatalf("Load on error = %v; want a new session with nothing to clear", s)
	}
	s.SetData([]byte("x"))
	w := httptest.NewRecorder()
	if err := e.m.Save(ctx, w, s); !errors.Is(err, boom) {
		t.Errorf("Save error = %v; want %v", err, boom)
	}
	if len(w.Header().Values("Set-Cookie")) != 0 {
		t.Error("Save set a cookie for a session that was not stored")
	}
	w = httptest.NewRecorder()
	if err := e.m.PutPending(ctx, w, newBrowser().request(), "handle", []byte("p")); !errors.Is(err, boom) {
		t.Errorf("PutPending error = %v; want %v", err, boom)
	}
	if len(w.Header().Values("Set-Cookie")) != 0 {
		t.Error("PutPending set a cookie for a pending login that was not stored")
	}
	// TakePending with a binding cookie reaches the store and fails.
	pb := newBrowser()
	pw := httptest.NewRecorder()
	if err := good.m.PutPending(ctx, pw, pb.request(), "handle", []byte("p")); err != nil {
		t.Fatal(err)
	}
	pb.apply(t, pw)
	if _, _, err := e.m.TakePending(ctx, httptest.NewRecorder(), pb.request(), "handle"); !errors.Is(err, boom) {
		t.Errorf("TakePending error = %v; want %v", err, boom)
	}
	ds := good.load(b)
	ds.Destroy()
	if err := e.m.Save(ctx, httptest.NewRecorder(), ds); !errors.Is(err, boom) {
		t.Errorf("Save(Destroy) error = %v; want %v", err, boom)
	}
}

type failReader struct{}

func (failReader) Read([]byte) (int, error) { return 0, io.ErrUnexpectedEOF }

func TestRandFailure(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true, func(c *Config) { c.Rand = failReader{} })
	s := e.load(newBrowser())
	s.SetData([]byte("x"))
	w := httptest.NewRecorder()
	if err := e.m.Save(context.Background(), w, s); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("Save error = %v; want the read error", err)
	}
	if err := e.m.PutPending(context.Background(), w, newBrowser().request(), "h", nil); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("PutPending error = %v; want the read error", err)
	}
	if len(w.Header().Values("Set-Cookie")) != 0 {
		t.Error("Set-Cookie after a random read error")
	}
}

func TestRedaction(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false, nil)
	s := e.load(e.login("top-secret-token"))
	key := string(testKey(1))
	for _, out := range []string{
		fmt.Sprint(s), fmt.Sprintf("%v %+v %#v", s, s, s),
		fmt.Sprint(e.cfg), fmt.Sprintf("%+v %#v", e.cfg, e.cfg),
	} {
		if strings.Contains(out, "top-secret-token") || strings.Contains(out, key) || strings.Contains(out, fmt.Sprint(testKey(1))) {
			t.Errorf("formatted output leaks a secret: %s", out)
		}
	}
	if v := s.LogValue().String(); v != "REDACTED" {
		t.Errorf("LogValue = %q", v)
	}
}

// FuzzDecode feeds arbitrary cookie values to Load: nothing panics, and
// nothing but the original value loads the session.
func FuzzDecode(f *testing.F) {
	c := newClock()
	m, err := New(Config{Keys: [][]byte{testKey(1), testKey(2)}, Now: c.Now})
	if err != nil {
		f.Fatal(err)
	}
	// A cookie sealed once by this Manager's configuration (a constant, so
	// that every fuzz worker agrees on which value is the original).
	const good = "AYGxMZKoNJeTlcZL3x2ETEA8JIJGkKlGAFPqloqANZYMU_bjbPRMYk0nCB_2Cxuihjkw"
	f.Add(good)
	f.Add(good[1:])
	f.Add("")
	f.Add(strings.Repeat("A", 4097))
	f.Add("AQ" + good[2:])
	f.Fuzz(func(t *testing.T, v string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Cookie", m.CookieName()+"="+v)
		s, err := m.Load(context.Background(), r)
		if err != nil {
			t.Fatalf("Load error: %v", err)
		}
		var got string
		if c, err := r.Cookie(m.CookieName()); err == nil {
			got = c.Value
		}
		if got == good {
			if s.IsNew() || string(s.Data()) != "fuzzed session" {
				t.Fatalf("original value: IsNew %v, %q", s.IsNew(), s.Data())
			}
			return
		}
		if !s.IsNew() || s.Data() != nil {
			t.Fatalf("Load(%q) = %q; want a new session", v, s.Data())
		}
	})
}

var _ http.ResponseWriter = discard{}

func TestDestroyThenSetData(t *testing.T) {
	t.Parallel()
	for _, mo := range modes {
		t.Run(mo.name, func(t *testing.T) {
			e := newEnv(t, mo.store, nil)
			b := e.login("old user")
			old := newBrowser()
			old.cookies[e.m.CookieName()] = b.cookies[e.m.CookieName()]
			s := e.load(b)
			oldID := s.id
			s.Destroy()
			if s.Data() != nil {
				t.Errorf("Data after Destroy = %q; want nil", s.Data())
			}
			s.SetData([]byte("new user"))
			if cs := e.save(b, s); len(cs) != 1 || cs[0].MaxAge <= 0 {
				t.Fatalf("Save set %v; want one live cookie", cs)
			}
			if got := e.load(b); string(got.Data()) != "new user" || got.IsNew() {
				t.Errorf("Load = %q, IsNew %v; want the new session", got.Data(), got.IsNew())
			}
			if mo.store {
				if string(s.id) == string(oldID) {
					t.Error("the new session reused the destroyed id")
				}
				wantAnonymousAndCleared(t, e, old)
			}
		})
	}
}
