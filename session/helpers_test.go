package session

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: t0} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func testKey(b byte) []byte { return bytes.Repeat([]byte{b}, KeySize) }

type mode struct {
	name  string
	store bool
}

var modes = []mode{{"client", false}, {"store", true}}

type env struct {
	t     *testing.T
	clock *clock
	store *MemoryStore // nil in client-side mode
	m     *Manager
	cfg   Config
}

// newEnv returns a Manager with a fake clock; edit adjusts its Config.
func newEnv(t *testing.T, useStore bool, edit func(*Config)) *env {
	t.Helper()
	e := &env{t: t, clock: newClock()}
	e.cfg = Config{Keys: [][]byte{testKey(1)}, Now: e.clock.Now, Secure: true}
	if useStore {
		e.store = NewMemoryStoreClock(e.clock.Now)
		e.cfg.Store = e.store
	}
	if edit != nil {
		edit(&e.cfg)
	}
	m, err := New(e.cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	e.m = m
	return e
}

// with returns a Manager over the same clock and store with other keys.
func (e *env) with(keys ...[]byte) *Manager {
	e.t.Helper()
	cfg := e.cfg
	cfg.Keys = keys
	m, err := New(cfg)
	if err != nil {
		e.t.Fatalf("New: %v", err)
	}
	return m
}

// browser is a minimal cookie jar: what a browser holds for the app.
type browser struct {
	cookies map[string]string
}

func newBrowser() *browser { return &browser{cookies: make(map[string]string)} }

func (b *browser) request() *http.Request {
	r := httptest.NewRequest("GET", "https://app.example/", nil)
	for n, v := range b.cookies {
		r.AddCookie(&http.Cookie{Name: n, Value: v})
	}
	return r
}

// apply stores the response's cookies and checks every Set-Cookie line.
func (b *browser) apply(t *testing.T, w *httptest.ResponseRecorder) []*http.Cookie {
	t.Helper()
	checkSetCookies(t, w)
	cs := w.Result().Cookies()
	for _, c := range cs {
		if c.MaxAge < 0 {
			delete(b.cookies, c.Name)
		} else {
			b.cookies[c.Name] = c.Value
		}
	}
	return cs
}

// checkSetCookies asserts the attributes and size of every Set-Cookie.
func checkSetCookies(t *testing.T, w *httptest.ResponseRecorder) {
	t.Helper()
	lines := w.Header().Values("Set-Cookie")
	for _, line := range lines {
		if n := len("Set-Cookie: ") + len(line); n > MaxCookieLine {
			t.Errorf("Set-Cookie line of %d bytes; want at most %d", n, MaxCookieLine)
		}
		c, err := http.ParseSetCookie(line)
		if err != nil {
			t.Fatalf("ParseSetCookie(%q): %v", line, err)
		}
		if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Domain != "" || c.MaxAge == 0 {
			t.Errorf("Set-Cookie %q: want HttpOnly, SameSite=Lax, Path=/, no Domain, explicit Max-Age", line)
		}
	}
	if len(lines) > 0 {
		if got := w.Header().Get("Cache-Control"); got != "no-store" {
			t.Errorf("Cache-Control = %q; want no-store", got)
		}
		if got := w.Header().Get("Vary"); got != "Cookie" {
			t.Errorf("Vary = %q; want Cookie", got)
		}
	}
}

func (e *env) load(b *browser) *Session {
	e.t.Helper()
	s, err := e.m.Load(context.Background(), b.request())
	if err != nil {
		e.t.Fatalf("Load: %v", err)
	}
	return s
}

func (e *env) save(b *browser, s *Session) []*http.Cookie {
	e.t.Helper()
	w := httptest.NewRecorder()
	if err := e.m.Save(context.Background(), w, s); err != nil {
		e.t.Fatalf("Save: %v", err)
	}
	return b.apply(e.t, w)
}

// login makes a browser with a saved session holding data.
func (e *env) login(data string) *browser {
	e.t.Helper()
	b := newBrowser()
	s := e.load(b)
	s.SetData([]byte(data))
	if cs := e.save(b, s); len(cs) != 1 {
		e.t.Fatalf("Save of a new session set %d cookies; want 1", len(cs))
	}
	return b
}
