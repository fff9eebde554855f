package mwoauth_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wikiauth/mwoauth"
	"github.com/wikiauth/mwoauth/session"
)

// reviewAuth is an Auth that never calls its wiki (the tests below use only
// the session side).
func reviewAuth(t *testing.T, store session.Store) *mwoauth.Auth {
	t.Helper()
	a, err := mwoauth.New(mwoauth.Config{
		Wiki:           "http://127.0.0.1:1/w",
		ConsumerKey:    "k",
		ConsumerSecret: "s",
		CallbackURL:    "http://127.0.0.1:2/oauth-callback",
		UserAgent:      testUA,
		SessionKeys:    [][]byte{bytes.Repeat([]byte{9}, 32)},
		SessionStore:   store,
		Logger:         slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// The application-value methods may be called from several goroutines of
// one request (the session's state is guarded by a mutex): a Value or
// DeleteValue running beside a SetValue must not touch the map SetValue
// writes. Run with -race.
func TestReviewValuesConcurrentUse(t *testing.T) {
	a := reviewAuth(t, nil)
	h := a.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := a.SetValue(r, "seed", 0); err != nil {
			t.Error(err)
			return
		}
		var wg sync.WaitGroup
		for g := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 200 {
					switch g {
					case 0:
						_ = a.SetValue(r, fmt.Sprint("k", i%8), i)
					case 1:
						_ = a.DeleteValue(r, fmt.Sprint("k", i%8))
					default:
						var v int
						_, _ = a.Value(r, fmt.Sprint("k", i%8), &v)
						_, _ = a.Value(r, "seed", &v)
					}
				}
			}()
		}
		wg.Wait()
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "http://127.0.0.1:2/", nil))
}

// countingStore is a MemoryStore that counts its successful saves. Like
// every real store it refuses to work with a cancelled context.
type countingStore struct {
	*session.MemoryStore
	mu    sync.Mutex
	saves int
}

func (s *countingStore) Save(ctx context.Context, key string, data []byte, version int64, expiry time.Time) (int64, error) {
	v, err := s.MemoryStore.Save(ctx, key, data, version, expiry)
	if err == nil {
		s.mu.Lock()
		s.saves++
		s.mu.Unlock()
	}
	return v, err
}

// A change made while the app runs reaches a server-side store even when
// the client went away meanwhile (its request context is cancelled).
func TestReviewSaveAfterClientCancel(t *testing.T) {
	st := &countingStore{MemoryStore: session.NewMemoryStore()}
	a := reviewAuth(t, st)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h := a.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := a.SetValue(r, "colour", "blue"); err != nil {
			t.Error(err)
		}
		cancel() // the client disconnects while the app still runs
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "http://127.0.0.1:2/", nil).WithContext(ctx))
	st.mu.Lock()
	saves := st.saves
	st.mu.Unlock()
	if saves != 1 {
		t.Fatalf("%d saves reached the store after the client went away; want 1", saves)
	}
	if len(rec.Result().Cookies()) != 1 {
		t.Fatalf("cookies set: %v; want the session cookie", rec.Result().Cookies())
	}
}

// The same for an OAuth 2 refresh: the wiki has rotated the tokens (the old
// refresh token is revoked at once), so the new ones must reach the store
// although the client that caused the refresh went away; otherwise the
// session holds a dead refresh token and the user is logged out at the next
// refresh (here: after a restart of the app, which forgets the in-process
// memory of the rotation).
func TestReviewOAuth2RefreshSavedAfterClientCancel(t *testing.T) {
	store := session.NewMemoryStore()
	e := newEnv(t, mwoauth.OAuth2, withConfig(func(c *mwoauth.Config) { c.SessionStore = store }))
	b := e.browser()
	e.mustLogin(b)
	e.clock.Advance(2 * time.Hour)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h := e.auth.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := e.auth.Client(r); err != nil { // refreshes the due token
			t.Errorf("Client: %v", err)
		}
		cancel() // the client disconnects before the response
	}))
	req := httptest.NewRequest(http.MethodGet, e.app.URL+"/", nil).WithContext(ctx)
	u, _ := url.Parse(e.app.URL)
	for _, c := range b.c.Jar.Cookies(u) {
		req.AddCookie(c)
	}
	h.ServeHTTP(httptest.NewRecorder(), req)

	e.restart()
	e.clock.Advance(2 * time.Hour)
	e.userinfo(b) // refreshes with the stored refresh token
}

// The per-session login limit counts only real sessions: session cookies
// with made-up values (free for anyone to send) must not fill the bounded
// table of buckets, which fails closed and would then refuse every new
// browser session's login.
func TestReviewLoginLimitIgnoresForgedSessionCookies(t *testing.T) {
	e := newEnv(t, mwoauth.OAuth1, withConfig(func(c *mwoauth.Config) {
		c.LoginRateLimit = mwoauth.LoginRateLimit{
			PerSession: mwoauth.LoginRate{Burst: 3, Every: time.Minute},
			MaxTracked: 5,
		}
	}))
	attacker := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for i := range 10 {
		req, _ := http.NewRequest(http.MethodGet, e.app.URL+e.auth.LoginPath(), nil)
		req.AddCookie(&http.Cookie{Name: "mwoauth_session", Value: fmt.Sprint("forged", i)})
		resp, err := attacker.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	b := e.browser()
	b.get(e.app.URL + "/value?set=red") // a real session cookie
	if r := b.get(e.app.URL + e.auth.LoginPath()); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("a real session's first /login after forged cookies = %d %q; want 303", r.StatusCode, r.body)
	}
}

// An informational response (103 Early Hints) does not send the final
// headers: a session change made after it still reaches the final
// response's Set-Cookie.
func TestReviewSessionSavedAfterEarlyHints(t *testing.T) {
	var a *mwoauth.Auth
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Link", "</style.css>; rel=preload; as=style")
			w.WriteHeader(http.StatusEarlyHints)
			if err := a.SetValue(r, "colour", "blue"); err != nil {
				t.Error(err)
			}
			w.WriteHeader(http.StatusOK)
		})).ServeHTTP(w, r)
	}))
	defer srv.Close()
	a = reviewAuth(t, nil)
	resp, err := srv.Client().Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if len(resp.Cookies()) != 1 {
		t.Fatalf("final response cookies: %v; want the session cookie holding the value", resp.Cookies())
	}
}

// A CallbackURL without a path makes the wiki call back at "/", where no
// callback route listens (it would be served at /oauth-callback), so no
// login could ever finish: New refuses it with a clear error.
func TestReviewCallbackURLWithoutPath(t *testing.T) {
	for _, p := range []mwoauth.Protocol{mwoauth.OAuth1, mwoauth.OAuth2} {
		cfg := mwoauth.Config{
			Wiki:        "http://127.0.0.1:1/w",
			Protocol:    p,
			CallbackURL: "http://127.0.0.1:5000",
			UserAgent:   testUA,
			SessionKeys: [][]byte{bytes.Repeat([]byte{9}, 32)},
			Logger:      slog.New(slog.DiscardHandler),
		}
		cfg.ConsumerKey, cfg.ConsumerSecret, cfg.ClientID = "k", "s", "c"
		if p == mwoauth.OAuth2 {
			cfg.ConsumerKey, cfg.ConsumerSecret = "", ""
		}
		a, err := mwoauth.New(cfg)
		if err == nil && a.CallbackPath() != "/" {
			t.Errorf("%v: New accepted a CallbackURL without a path and serves the callback at %q, where the wiki never calls back", p, a.CallbackPath())
		}
		if err != nil && !errors.Is(err, mwoauth.ErrConfig) {
			t.Errorf("%v: New: %v; want ErrConfig", p, err)
		}
	}
}

// With the cookie store a value that would make the session cookie exceed
// 4096 bytes is refused by SetValue with a clear error, instead of being
// dropped at save time with only a log line (issue 4: "never silently
// dropped; a clear error").
func TestReviewSetValueTooLargeForCookie(t *testing.T) {
	a := reviewAuth(t, nil)
	var setErr, smallErr error
	var got string
	var found bool
	h := a.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		smallErr = a.SetValue(r, "small", "ok")
		setErr = a.SetValue(r, "big", strings.Repeat("x", 5000))
		found, _ = a.Value(r, "big", &got)
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "http://127.0.0.1:2/", nil))
	if smallErr != nil {
		t.Fatalf("SetValue(small) = %v", smallErr)
	}
	if !errors.Is(setErr, session.ErrTooLarge) || !errors.Is(setErr, mwoauth.ErrValue) {
		t.Fatalf("SetValue(5000 bytes) = %v; want an error matching ErrValue and session.ErrTooLarge", setErr)
	}
	if found {
		t.Fatal("the refused value is visible in the session")
	}
	if n := len(rec.Result().Cookies()); n != 1 {
		t.Fatalf("%d cookies; want the session cookie with the small value", n)
	}
}

// With a server-side store, a session that ends after the response headers
// went out (a revoked grant noticed while streaming) is deleted from the
// store, as at logout: its id is dropped, not kept as an empty record.
func TestReviewRevokedAfterHeadersDropsStoreRecord(t *testing.T) {
	store := session.NewMemoryStore()
	e := newEnv(t, mwoauth.OAuth1, withConfig(func(c *mwoauth.Config) { c.SessionStore = store }))
	b := e.browser()
	e.mustLogin(b)
	if n, _ := store.Len(); n != 1 {
		t.Fatalf("%d sessions stored after login; want 1", n)
	}
	e.wiki.Revoke("Alice", e.consumer.Key)
	e.setHandler(e.auth.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		if _, err := e.auth.CurrentUser(r, false); !errors.Is(err, mwoauth.ErrTokenRevoked) {
			t.Errorf("CurrentUser after revocation: %v; want ErrTokenRevoked", err)
		}
	})))
	b.get(e.app.URL + "/")
	if n, _ := store.Len(); n != 0 {
		t.Fatalf("%d sessions stored after the session ended; want 0 (the record deleted)", n)
	}
}
