package sessiontest

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wikiauth/mwoauth"
	"github.com/wikiauth/mwoauth/mwoauthtest"
	"github.com/wikiauth/mwoauth/session"
)

// Limits of the login suite: every request, wiki visit and wait is bounded.
const (
	loginHTTPTimeout = 10 * time.Second
	loginWait        = 30 * time.Second
	maxLoginBody     = 1 << 20
	maxLoginLogs     = 256 << 10
)

// loginCookie is the session cookie name the suite configures.
const loginCookie = "mwoauth_session"

// instanceHeader tells the suite's app server which Auth instance serves a
// request, so that the browser's cookies stay on one origin.
const instanceHeader = "X-Sessiontest-Instance"

const loginUser = "Alice"

// errOutage is what the outage subtest's store returns while it is down.
var errOutage = errors.New("sessiontest: injected store outage")

// TestLogin runs whole OAuth 1.0a logins through mwoauth against the fake wiki (mwoauthtest), with two mwoauth.Auth instances sharing the store newStore returns.
//
// Each subtest calls newStore once, and Restart calls it a second time after
// closing the first Store (if it implements io.Closer), to play a restart of
// the app. So every call must return a handle on the same data: for a store on
// a server or in a file, a new client with its own connections (such as the
// result of a store module's Open with the same URL or path, and for Redis the
// same key prefix), which proves that a session survives a new store client;
// for a store that lives in memory, the same Store. The suite closes every
// Store that implements io.Closer when the subtest ends (once); newStore should
// not close it too.
//
// The subtests, each with its own fake wiki and app server on loopback:
//
//   - TwoInstances: /login on instance A, consent at the wiki, the callback on
//     instance B succeeds, and both instances then see the user; a replay of
//     the callback on A is refused without a second token exchange.
//   - Restart: a user logged in on A, and a login pending at A, survive the
//     end of A and of its store client: a new Auth on a new client sees the
//     user and completes the pending login.
//   - LogoutEverywhere: logout on B ends the session on A too, also for a
//     copy of the session cookie.
//   - ParallelCallbacks: two simultaneous callbacks of one pending login, one
//     on A and one on B: exactly one token exchange and one success.
//   - StoreOutage: while the store fails, the callback and /login answer 503
//     and never set a session cookie (also when only the session write fails,
//     after the token exchange), a public route answers 503, or continues as
//     anonymous with Config.AnonymousOnStoreError; afterwards the session is
//     intact.
func TestLogin(t *testing.T, newStore func(t *testing.T) session.Store) {
	t.Helper()
	tests := []struct {
		name string
		run  func(t *testing.T, newStore func(t *testing.T) session.Store)
	}{
		{"TwoInstances", testLoginTwoInstances},
		{"Restart", testLoginRestart},
		{"LogoutEverywhere", testLoginLogoutEverywhere},
		{"ParallelCallbacks", testLoginParallelCallbacks},
		{"StoreOutage", testLoginStoreOutage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.run(t, newStore) })
	}
}

// openLoginStore calls newStore and closes the Store when the test ends,
// unless it was closed already (Restart closes the first one early).
func openLoginStore(t *testing.T, newStore func(t *testing.T) session.Store) *closeOnce {
	t.Helper()
	s := newStore(t)
	if s == nil {
		t.Fatal("newStore returned nil")
	}
	c := &closeOnce{Store: s}
	t.Cleanup(func() {
		if err := c.close(); err != nil {
			t.Errorf("Close error: %v", err)
		}
	})
	return c
}

// closeOnce closes its Store at most once.
type closeOnce struct {
	session.Store
	once sync.Once
	err  error
}

func (c *closeOnce) close() error {
	c.once.Do(func() {
		if cl, ok := c.Store.(io.Closer); ok {
			c.err = cl.Close()
		}
	})
	return c.err
}

// loginEnv is one fake wiki and one app server in front of several Auth
// instances.
type loginEnv struct {
	t    *testing.T
	wiki *mwoauthtest.Server
	app  *httptest.Server
	cfg  mwoauth.Config
	logs *capBuffer

	mu        sync.RWMutex
	instances map[string]http.Handler
}

func newLoginEnv(t *testing.T, store session.Store) *loginEnv {
	t.Helper()
	e := &loginEnv{t: t, wiki: mwoauthtest.Start(t), logs: &capBuffer{}, instances: map[string]http.Handler{}}
	e.app = httptest.NewServer(http.HandlerFunc(e.route))
	t.Cleanup(e.app.Close)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("mwoauth logs:\n%s", e.logs.String())
		}
	})
	c := e.wiki.AddConsumer(mwoauthtest.Consumer{
		Name:             "sessiontest",
		Callback:         e.app.URL + "/",
		CallbackIsPrefix: true,
		Grants:           []string{"basic"},
	})
	key := make([]byte, 32)
	rand.Read(key)
	e.cfg = mwoauth.Config{
		Wiki:           e.wiki.ScriptPath(),
		ConsumerKey:    c.Key,
		ConsumerSecret: c.Secret,
		CallbackURL:    e.app.URL + "/oauth-callback",
		UserAgent:      "mwoauth-sessiontest/1.0 (https://github.com/wikiauth/mwoauth; sessiontest@example.org)",
		SessionKeys:    [][]byte{key},
		SessionStore:   store,
		CookieName:     loginCookie,
		Logger:         slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	return e
}

// route passes a request to the instance its header names.
func (e *loginEnv) route(w http.ResponseWriter, r *http.Request) {
	name := r.Header.Get(instanceHeader)
	e.mu.RLock()
	h := e.instances[name]
	e.mu.RUnlock()
	if h == nil {
		http.Error(w, "sessiontest: no instance "+name, http.StatusBadGateway)
		return
	}
	h.ServeHTTP(w, r)
}

// start creates an Auth instance from cfg and serves it under name.
func (e *loginEnv) start(name string, cfg mwoauth.Config) {
	e.t.Helper()
	a, err := mwoauth.New(cfg)
	if err != nil {
		e.t.Fatalf("mwoauth.New (instance %s): %v", name, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if u, ok := mwoauth.UserFromContext(r.Context()); ok {
			fmt.Fprintf(w, "user=%s\n", u.Username)
			return
		}
		fmt.Fprintln(w, "anonymous")
	})
	e.mu.Lock()
	e.instances[name] = a.Wrap(mux)
	e.mu.Unlock()
}

// stop ends an instance: its requests are no longer served.
func (e *loginEnv) stop(name string) {
	e.mu.Lock()
	delete(e.instances, name)
	e.mu.Unlock()
}

func (e *loginEnv) tokenExchanges() int { return e.wiki.Requests(mwoauthtest.EndpointToken) }

// loginBrowser is a client with a cookie jar that follows no redirects.
type loginBrowser struct {
	e *loginEnv
	c *http.Client
}

func (e *loginEnv) browser() *loginBrowser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return &loginBrowser{e: e, c: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       loginHTTPTimeout,
	}}
}

type loginResponse struct {
	status  int
	header  http.Header
	cookies []*http.Cookie
	body    string
}

// setsSessionCookie reports whether the response has a Set-Cookie for the
// session cookie (setting or clearing it).
func (r *loginResponse) setsSessionCookie() bool {
	for _, c := range r.cookies {
		if c.Name == loginCookie || c.Name == "__Host-"+loginCookie {
			return true
		}
	}
	return false
}

// do sends a GET for target (a path, or a URL on the app server) to the named
// instance. It is safe to call from several goroutines.
func (b *loginBrowser) do(instance, target string, hdr ...string) (*loginResponse, error) {
	if strings.HasPrefix(target, "/") {
		target = b.e.app.URL + target
	} else if !strings.HasPrefix(target, b.e.app.URL+"/") {
		return nil, fmt.Errorf("sessiontest: %q is not on the app server %s", target, b.e.app.URL)
	}
	req, err := http.NewRequest(http.MethodGet, target, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set(instanceHeader, instance)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := b.c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxLoginBody))
	if err != nil {
		return nil, fmt.Errorf("sessiontest: reading %s: %w", target, err)
	}
	return &loginResponse{status: resp.StatusCode, header: resp.Header, cookies: resp.Cookies(), body: string(body)}, nil
}

func (b *loginBrowser) get(instance, target string, hdr ...string) *loginResponse {
	b.e.t.Helper()
	r, err := b.do(instance, target, hdr...)
	if err != nil {
		b.e.t.Fatalf("GET %s on %s: %v", target, instance, err)
	}
	return r
}

// startLogin GETs /login on instance and returns the wiki URL it redirects to.
func (b *loginBrowser) startLogin(instance string) string {
	b.e.t.Helper()
	r := b.get(instance, "/login")
	loc := r.header.Get("Location")
	if r.status != http.StatusSeeOther || !strings.HasPrefix(loc, b.e.wiki.URL+"/") {
		b.e.t.Fatalf("GET /login on %s = %d, Location %q, body %q; want 303 to the wiki", instance, r.status, loc, cutBody(r.body))
	}
	return loc
}

// approve plays the user at the wiki and returns the callback URL.
func (e *loginEnv) approve(authorizeURL string) string {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), loginWait)
	defer cancel()
	cb, err := e.wiki.Authorize(ctx, authorizeURL, loginUser, mwoauthtest.DefaultPassword)
	if err != nil {
		e.t.Fatalf("Authorize at the wiki: %v", err)
	}
	if want := e.app.URL + "/oauth-callback?"; !strings.HasPrefix(cb.String(), want) {
		e.t.Fatalf("the wiki sent the user to %q; want %s…", cb, want)
	}
	return cb.String()
}

// wantCallbackOK GETs the callback on instance and expects the login to
// succeed.
func (b *loginBrowser) wantCallbackOK(instance, cb string) {
	b.e.t.Helper()
	r := b.get(instance, cb)
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/" {
		b.e.t.Fatalf("callback on %s = %d, Location %q, body %q; want 303 to /", instance, r.status, r.header.Get("Location"), cutBody(r.body))
	}
	if !r.setsSessionCookie() {
		b.e.t.Fatalf("callback on %s succeeded without setting the session cookie", instance)
	}
}

// login runs a whole login: /login on one instance, the callback on another.
func (b *loginBrowser) login(loginOn, callbackOn string) {
	b.e.t.Helper()
	b.wantCallbackOK(callbackOn, b.e.approve(b.startLogin(loginOn)))
}

func (b *loginBrowser) wantUser(instance string) {
	b.e.t.Helper()
	r := b.get(instance, "/")
	if want := "user=" + loginUser + "\n"; r.status != http.StatusOK || r.body != want {
		b.e.t.Fatalf("GET / on %s = %d %q; want 200 %q", instance, r.status, cutBody(r.body), want)
	}
}

func (b *loginBrowser) wantAnonymous(instance string) {
	b.e.t.Helper()
	r := b.get(instance, "/")
	if r.status != http.StatusOK || r.body != "anonymous\n" {
		b.e.t.Fatalf("GET / on %s = %d %q; want 200 anonymous", instance, r.status, cutBody(r.body))
	}
}

func (b *loginBrowser) sessionCookie() string {
	b.e.t.Helper()
	u, _ := url.Parse(b.e.app.URL)
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == loginCookie {
			return c.Value
		}
	}
	b.e.t.Fatal("the browser has no session cookie")
	return ""
}

func (b *loginBrowser) setSessionCookie(value string) {
	u, _ := url.Parse(b.e.app.URL)
	b.c.Jar.SetCookies(u, []*http.Cookie{{Name: loginCookie, Value: value, Path: "/"}})
}

func testLoginTwoInstances(t *testing.T, newStore func(t *testing.T) session.Store) {
	e := newLoginEnv(t, openLoginStore(t, newStore).Store)
	e.start("A", e.cfg)
	e.start("B", e.cfg)
	b := e.browser()
	b.wantAnonymous("A")
	cb := e.approve(b.startLogin("A"))
	before := e.tokenExchanges()
	b.wantCallbackOK("B", cb)
	b.wantUser("A")
	b.wantUser("B")
	// The pending login was taken from the store by B: a replay on A finds
	// nothing to finish.
	if r := b.get("A", cb); r.status != http.StatusForbidden {
		t.Errorf("callback replayed on A = %d %q; want 403", r.status, cutBody(r.body))
	}
	if n := e.tokenExchanges() - before; n != 1 {
		t.Errorf("token exchanges at the wiki = %d; want 1", n)
	}
	b.wantUser("A")
}

func testLoginRestart(t *testing.T, newStore func(t *testing.T) session.Store) {
	first := openLoginStore(t, newStore)
	e := newLoginEnv(t, first.Store)
	e.start("A", e.cfg)
	b := e.browser()
	b.login("A", "A")
	b.wantUser("A")
	// A second user is at the wiki's consent page when A goes down.
	b2 := e.browser()
	cb2 := e.approve(b2.startLogin("A"))

	e.stop("A")
	if err := first.close(); err != nil {
		t.Fatalf("closing the first store: %v", err)
	}
	second := openLoginStore(t, newStore)
	cfg := e.cfg
	cfg.SessionStore = second.Store
	e.start("A2", cfg)

	b.wantUser("A2")
	b2.wantCallbackOK("A2", cb2)
	b2.wantUser("A2")
}

func testLoginLogoutEverywhere(t *testing.T, newStore func(t *testing.T) session.Store) {
	e := newLoginEnv(t, openLoginStore(t, newStore).Store)
	e.start("A", e.cfg)
	e.start("B", e.cfg)
	b := e.browser()
	b.login("A", "A")
	thief := e.browser()
	thief.setSessionCookie(b.sessionCookie())
	thief.wantUser("A") // the copy works while the session lives

	r := b.get("B", "/logout", "Sec-Fetch-Site", "same-origin")
	if r.status != http.StatusSeeOther {
		t.Fatalf("GET /logout on B = %d %q; want 303", r.status, cutBody(r.body))
	}
	b.wantAnonymous("B")
	b.wantAnonymous("A")
	thief.wantAnonymous("A")
	thief.wantAnonymous("B")
}

func testLoginParallelCallbacks(t *testing.T, newStore func(t *testing.T) session.Store) {
	e := newLoginEnv(t, openLoginStore(t, newStore).Store)
	e.start("A", e.cfg)
	e.start("B", e.cfg)
	b := e.browser()
	cb := e.approve(b.startLogin("A"))
	before := e.tokenExchanges()

	type result struct {
		instance string
		r        *loginResponse
		err      error
	}
	results := make(chan result, 2)
	begin := make(chan struct{})
	for _, name := range []string{"A", "B"} {
		go func() {
			<-begin
			r, err := b.do(name, cb)
			results <- result{name, r, err}
		}()
	}
	close(begin)
	var ok, refused int
	timeout := time.After(loginWait)
	for range 2 {
		select {
		case res := <-results:
			switch {
			case res.err != nil:
				t.Errorf("callback on %s: %v", res.instance, res.err)
			case res.r.status == http.StatusSeeOther:
				ok++
			case res.r.status == http.StatusForbidden:
				refused++
			default:
				t.Errorf("callback on %s = %d %q; want 303 or 403", res.instance, res.r.status, cutBody(res.r.body))
			}
		case <-timeout:
			t.Fatalf("the parallel callbacks did not finish within %v", loginWait)
		}
	}
	if ok != 1 || refused != 1 {
		t.Errorf("parallel callbacks: %d succeeded, %d refused; want 1 and 1", ok, refused)
	}
	if n := e.tokenExchanges() - before; n != 1 {
		t.Errorf("token exchanges at the wiki = %d; want exactly 1", n)
	}
	if ok == 1 {
		b.wantUser("A")
		b.wantUser("B")
	}
}

// outageStore fails while its mode says so.
type outageStore struct {
	session.Store
	mode atomic.Int32
}

const (
	storeUp        int32 = iota
	storeDown            // every call fails
	storeSavesFail       // Save fails, the other calls work
)

func (s *outageStore) down() bool { return s.mode.Load() == storeDown }

func (s *outageStore) Find(ctx context.Context, key string) ([]byte, int64, bool, error) {
	if s.down() {
		return nil, 0, false, errOutage
	}
	return s.Store.Find(ctx, key)
}

func (s *outageStore) Save(ctx context.Context, key string, data []byte, version int64, expiry time.Time) (int64, error) {
	if m := s.mode.Load(); m == storeDown || m == storeSavesFail {
		return 0, errOutage
	}
	return s.Store.Save(ctx, key, data, version, expiry)
}

func (s *outageStore) Delete(ctx context.Context, key string) error {
	if s.down() {
		return errOutage
	}
	return s.Store.Delete(ctx, key)
}

func (s *outageStore) PutPending(ctx context.Context, key string, data []byte, expiry time.Time) error {
	if s.down() {
		return errOutage
	}
	return s.Store.PutPending(ctx, key, data, expiry)
}

func (s *outageStore) TakePending(ctx context.Context, key string) ([]byte, bool, error) {
	if s.down() {
		return nil, false, errOutage
	}
	return s.Store.TakePending(ctx, key)
}

func (s *outageStore) DeletePending(ctx context.Context, key string) error {
	if s.down() {
		return errOutage
	}
	return s.Store.DeletePending(ctx, key)
}

func testLoginStoreOutage(t *testing.T, newStore func(t *testing.T) session.Store) {
	store := &outageStore{Store: openLoginStore(t, newStore).Store}
	e := newLoginEnv(t, store)
	e.start("A", e.cfg)
	anon := e.cfg
	anon.AnonymousOnStoreError = true
	e.start("N", anon) // continues as anonymous when the store fails

	b := e.browser()
	b.login("A", "N")
	b.wantUser("A")
	b.wantUser("N")
	// Two more users have consented at the wiki when the store goes down.
	b2, b3 := e.browser(), e.browser()
	cb2 := e.approve(b2.startLogin("A"))
	cb3 := e.approve(b3.startLogin("A"))
	before := e.tokenExchanges()

	store.mode.Store(storeDown)
	wantUnavailable := func(what string, r *loginResponse) {
		t.Helper()
		if r.status != http.StatusServiceUnavailable {
			t.Errorf("%s during the outage = %d %q; want 503", what, r.status, cutBody(r.body))
		}
		if r.setsSessionCookie() {
			t.Errorf("%s during the outage has a Set-Cookie for the session: %v", what, r.header.Values("Set-Cookie"))
		}
	}
	wantUnavailable("callback on A", b2.get("A", cb2))
	if n := e.tokenExchanges() - before; n != 0 {
		t.Errorf("token exchanges for a callback whose pending login could not be read = %d; want 0", n)
	}
	wantUnavailable("GET /login on N", b2.get("N", "/login"))
	wantUnavailable("GET / on A (default)", b.get("A", "/"))
	r := b.get("N", "/")
	if r.status != http.StatusOK || r.body != "anonymous\n" {
		t.Errorf("GET / on N (AnonymousOnStoreError) during the outage = %d %q; want 200 anonymous", r.status, cutBody(r.body))
	}
	if r.setsSessionCookie() {
		t.Errorf("GET / on N during the outage has a Set-Cookie for the session: %v", r.header.Values("Set-Cookie"))
	}

	// Only session writes fail: the token exchange happens, the session
	// cannot be written, and no cookie claims it was.
	store.mode.Store(storeSavesFail)
	wantUnavailable("callback on N with failing saves", b3.get("N", cb3))
	if n := e.tokenExchanges() - before; n != 1 {
		t.Errorf("token exchanges after the callback with failing saves = %d; want 1", n)
	}

	store.mode.Store(storeUp)
	b.wantUser("A") // the outage ended no session
	b3.wantAnonymous("A")
	b2.wantAnonymous("A")
	if t.Failed() {
		return
	}
	b2.login("A", "N") // logins work again
	b2.wantUser("A")
}

// capBuffer collects log output up to maxLoginLogs bytes.
type capBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (c *capBuffer) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if room := maxLoginLogs - c.b.Len(); room > 0 {
		c.b.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (c *capBuffer) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.b.String()
}

// cutBody cuts a response body for a failure message.
func cutBody(body string) string {
	if len(body) > 300 {
		return body[:300] + "…"
	}
	return body
}
