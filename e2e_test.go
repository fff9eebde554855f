package mwoauth_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
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
	"testing"
	"time"

	"github.com/wikiauth/mwoauth"
	"github.com/wikiauth/mwoauth/mwoauthtest"
	"github.com/wikiauth/mwoauth/session"
)

const testUA = "mwoauth-tests/1.0 (https://example.org; test@example.org)"

// The end-to-end tests run as one table over both protocols: every test
// that applies to both runs for both, the OAuth 1.0a-only and OAuth
// 2.0-only ones for theirs.
var (
	both       = []mwoauth.Protocol{mwoauth.OAuth1, mwoauth.OAuth2}
	onlyOAuth2 = []mwoauth.Protocol{mwoauth.OAuth2}
)

// protocolTest is a test run once for each protocol it lists.
type protocolTest struct {
	name   string
	protos []mwoauth.Protocol
	run    func(t *testing.T, p mwoauth.Protocol)
}

// runProtocolTests runs each test as <protocol>/<name>.
func runProtocolTests(t *testing.T, tests []protocolTest) {
	for _, tc := range tests {
		for _, p := range tc.protos {
			t.Run(p.String()+"/"+tc.name, func(t *testing.T) { tc.run(t, p) })
		}
	}
}

var e2eTests = []protocolTest{
	{"EndToEnd", both, testEndToEnd},
	{"LoggedInUserWithNextSkipsWiki", both, testLoggedInUserWithNextSkipsWiki},
	{"NextValidation", both, testNextValidation},
	{"LogoutCSRF", both, testLogoutCSRF},
	{"CallbackOtherBrowser", both, testCallbackOtherBrowser},
	{"CallbackReplayAndExpiry", both, testCallbackReplayAndExpiry},
	{"ParallelCallbacksOneExchange", both, testParallelCallbacksOneExchange},
	{"SessionFixation", both, testSessionFixation},
	{"PendingLoginsBounded", both, testPendingLoginsBounded},
	{"MalformedCallbacks", both, testMalformedCallbacks},
	{"HostHeaderIgnored", both, testHostHeaderIgnored},
	{"TamperedSessionCookie", both, testTamperedSessionCookie},
	{"CookieAttributesHTTPS", both, testCookieAttributesHTTPS},
	{"LargeIdentityFitsCookie", both, testLargeIdentityFitsCookie},
	{"CookieReplayAndMaxAge", both, testCookieReplayAndMaxAge},
	{"ServerStoreLogoutKillsCopies", both, testServerStoreLogoutKillsCopies},
	{"RevokedToken", both, testRevokedToken},
	{"FailedCallbackKeepsSession", both, testFailedCallbackKeepsSession},
	{"WikiUnavailable", both, testWikiUnavailable},
	{"MisconfiguredConsumer", both, testMisconfiguredConsumer},
	{"BlockedAndHiddenUsers", both, testBlockedAndHiddenUsers},
	{"NotWrapped", both, testNotWrapped},
	{"AppValues", both, testAppValues},
	{"MountedUnderBasePath", both, testMountedUnderBasePath},
	{"LoginAppHelper", both, testLoginAppHelper},
	{"CustomErrorHandler", both, testCustomErrorHandler},
	{"MediaWiki139", both, testMediaWiki139},

	{"StateMismatch", onlyOAuth2, testOAuth2StateMismatch},
	{"PKCE", onlyOAuth2, testOAuth2PKCE},
	{"DeclinedConsent", onlyOAuth2, testOAuth2Declined},
	{"DeclinedAtWiki", onlyOAuth2, testOAuth2DeclinedAtWiki},
	{"ConcurrentRefresh", onlyOAuth2, testOAuth2ConcurrentRefresh},
	{"RefreshAfterRefusedAccessToken", onlyOAuth2, testOAuth2RefreshAfter401},
	{"RefreshRefused", onlyOAuth2, testOAuth2RefreshRefused},
	{"RefreshNetworkRetry", onlyOAuth2, testOAuth2RefreshNetworkRetry},
	{"RefreshPersistsAcrossRestart", onlyOAuth2, testOAuth2RefreshPersistsAcrossRestart},
	{"TwoInstancesServerStore", onlyOAuth2, testOAuth2TwoInstancesServerStore},
	{"ClientRefreshes", onlyOAuth2, testOAuth2ClientRefreshes},
	{"PublicClient", onlyOAuth2, testOAuth2PublicClient},
	{"CookieStoreWarning", onlyOAuth2, testOAuth2CookieStoreWarning},
}

func TestE2E(t *testing.T) {
	runProtocolTests(t, e2eTests)
}

// env is one app (behind Auth.Wrap) and one fake wiki, on loopback.
type env struct {
	t        *testing.T
	proto    mwoauth.Protocol
	wiki     *mwoauthtest.Server
	app      *httptest.Server
	auth     *mwoauth.Auth
	consumer *mwoauthtest.Consumer
	cfg      mwoauth.Config
	logs     *syncBuffer
	clock    *testClock
	// setHandler replaces the app's handler (a restart of the app).
	setHandler func(http.Handler)

	wikiOpts     []mwoauthtest.Option
	callbackPath string
	public       bool
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type testClock struct {
	mu  sync.Mutex
	off time.Duration
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.off)
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.off += d
	c.mu.Unlock()
}

// envOption changes the environment: early before the wiki and the app
// start, late on the finished Config (the consumer is registered by then).
type envOption struct {
	early func(*env)
	late  func(*mwoauth.Config)
}

func withConfig(f func(*mwoauth.Config)) envOption { return envOption{late: f} }

func withWiki(opts ...mwoauthtest.Option) envOption {
	return envOption{early: func(e *env) { e.wikiOpts = append(e.wikiOpts, opts...) }}
}

func withCallbackPath(p string) envOption {
	return envOption{early: func(e *env) { e.callbackPath = p }}
}

// withPublicClient registers a public OAuth 2 client (no secret, PKCE only).
func withPublicClient() envOption { return envOption{early: func(e *env) { e.public = true }} }

// testRSAKey signs the fake's OAuth 2 tokens: one key for all tests, since
// making one takes a while under the race detector.
var testRSAKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// newEnv starts a fake wiki and an app whose consumer's callback is the
// app's own callback URL (OAuth 1.0a: registered as a prefix; OAuth 2.0:
// the exact redirect URI of a confidential client, or of a public one).
func newEnv(t *testing.T, p mwoauth.Protocol, opts ...envOption) *env {
	t.Helper()
	e := &env{t: t, proto: p, logs: &syncBuffer{}, clock: &testClock{}, callbackPath: "/oauth-callback"}
	for _, o := range opts {
		if o.early != nil {
			o.early(e)
		}
	}
	e.wiki = mwoauthtest.Start(t, append([]mwoauthtest.Option{mwoauthtest.WithRSAKey(testRSAKey())}, e.wikiOpts...)...)
	var h http.Handler = http.NotFoundHandler()
	var hmu sync.RWMutex
	e.app = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hmu.RLock()
		hh := h
		hmu.RUnlock()
		hh.ServeHTTP(w, r)
	}))
	t.Cleanup(e.app.Close)
	e.setHandler = func(nh http.Handler) {
		hmu.Lock()
		h = nh
		hmu.Unlock()
	}
	e.cfg = mwoauth.Config{
		Wiki:        e.wiki.ScriptPath(),
		Protocol:    p,
		CallbackURL: e.app.URL + e.callbackPath,
		UserAgent:   testUA,
		SessionKeys: [][]byte{bytes.Repeat([]byte{7}, 32)},
		Logger:      slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Now:         e.clock.Now,
	}
	grants := []string{"basic", "highvolume", "editpage", "createeditmovepage"}
	switch p {
	case mwoauth.OAuth1:
		e.consumer = e.wiki.AddConsumer(mwoauthtest.Consumer{
			Name:             "e2e",
			Callback:         strings.TrimSuffix(e.cfg.CallbackURL, e.callbackPath),
			CallbackIsPrefix: true,
			Grants:           grants,
		})
		e.cfg.ConsumerKey, e.cfg.ConsumerSecret = e.consumer.Key, e.consumer.Secret
	case mwoauth.OAuth2:
		e.consumer = e.wiki.AddConsumer(mwoauthtest.Consumer{
			Name:         "e2e-oauth2",
			Version:      2,
			Confidential: !e.public,
			Callback:     e.cfg.CallbackURL,
			Grants:       grants,
		})
		e.cfg.ClientID, e.cfg.ClientSecret = e.consumer.ClientID(), e.consumer.ClientSecret()
		if e.public && e.cfg.ClientSecret != "" {
			t.Fatalf("the public client has a secret")
		}
	}
	for _, o := range opts {
		if o.late != nil {
			o.late(&e.cfg)
		}
	}
	e.restart()
	return e
}

// restart replaces the app's Auth by a new one with the same Config (same
// keys and the same store, if any), as a restarted process would have.
func (e *env) restart() {
	e.t.Helper()
	a, err := mwoauth.New(e.cfg)
	if err != nil {
		e.t.Fatalf("New: %v", err)
	}
	e.auth = a
	e.setHandler(a.Wrap(testAppAPI(a, e.wiki.ScriptPath()+"/api.php")))
}

// tokenEndpoint is the endpoint that exchanges a callback for tokens.
func (e *env) tokenEndpoint() mwoauthtest.Endpoint {
	if e.proto == mwoauth.OAuth2 {
		return mwoauthtest.EndpointOAuth2Token
	}
	return mwoauthtest.EndpointToken
}

// testApp is the seed's demo: /, /userinfo, /identity, plus /value and /raw.
func testApp(a *mwoauth.Auth) http.Handler { return testAppAPI(a, "") }

// testAppAPI is testApp whose /raw calls the api.php at apiURL.
func testAppAPI(a *mwoauth.Auth, apiURL string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		for _, f := range a.Flashes(r) {
			fmt.Fprintf(w, "flash: %s\n", f)
		}
		if u, ok := mwoauth.UserFromContext(r.Context()); ok {
			fmt.Fprintf(w, "Logged in as %s\n", u.Username)
			return
		}
		fmt.Fprintln(w, "anonymous")
	})
	mux.Handle("/userinfo", a.RequireLogin(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res, err := a.Request(r, url.Values{"action": {"query"}, "meta": {"userinfo"}})
		if err != nil {
			http.Error(w, "api error: "+errName(err), http.StatusBadGateway)
			return
		}
		_ = json.NewEncoder(w).Encode(res)
	})))
	mux.Handle("/identity", a.RequireLogin(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, err := a.CurrentUser(r, false)
		if err != nil {
			http.Error(w, "identify error: "+errName(err), http.StatusBadGateway)
			return
		}
		_ = json.NewEncoder(w).Encode(u)
	})))
	// /raw calls api.php through Auth.Client (a POST, so that a retry must
	// send the body again).
	mux.Handle("/raw", a.RequireLogin(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := a.Client(r)
		if err != nil {
			http.Error(w, "client error: "+errName(err), http.StatusBadGateway)
			return
		}
		req, _ := http.NewRequestWithContext(r.Context(), http.MethodPost, apiURL,
			strings.NewReader("action=query&meta=userinfo&format=json&formatversion=2&assert=user"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("User-Agent", testUA)
		resp, err := c.Do(req)
		if err != nil {
			http.Error(w, "raw error: "+errName(err), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		w.Header().Set("X-Api-Error", resp.Header.Get("MediaWiki-API-Error"))
		_, _ = io.Copy(w, resp.Body)
	})))
	mux.HandleFunc("/value", func(w http.ResponseWriter, r *http.Request) {
		if v := r.URL.Query().Get("set"); v != "" {
			if err := a.SetValue(r, "colour", v); err != nil {
				http.Error(w, err.Error(), 500)
				return
			}
		}
		var got string
		ok, err := a.Value(r, "colour", &got)
		fmt.Fprintf(w, "value=%q ok=%v err=%v", got, ok, err)
	})
	return mux
}

func errName(err error) string {
	switch {
	case errors.Is(err, mwoauth.ErrTokenRevoked):
		return "revoked"
	case errors.Is(err, mwoauth.ErrNotLoggedIn):
		return "not-logged-in"
	case errors.Is(err, mwoauth.ErrWikiUnavailable):
		return "wiki-unavailable"
	}
	return "other"
}

// browser is a client with a cookie jar that follows no redirects.
type browser struct {
	t *testing.T
	c *http.Client
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: e.t, c: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       10 * time.Second,
	}}
}

type response struct {
	*http.Response
	body string
}

func (b *browser) do(method, rawURL string, hdr http.Header, body io.Reader) response {
	b.t.Helper()
	req, err := http.NewRequest(method, rawURL, body)
	if err != nil {
		b.t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, rawURL, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return response{resp, string(data)}
}

func (b *browser) get(rawURL string, hdr ...string) response {
	h := http.Header{}
	for i := 0; i+1 < len(hdr); i += 2 {
		h.Set(hdr[i], hdr[i+1])
	}
	return b.do(http.MethodGet, rawURL, h, nil)
}

// isAuthorizeURL reports whether loc is the wiki's authorize page of the
// env's protocol.
func (e *env) isAuthorizeURL(loc string) bool {
	if e.proto == mwoauth.OAuth2 {
		return strings.HasPrefix(loc, e.wiki.URL+"/w/rest.php/oauth2/authorize?")
	}
	return strings.HasPrefix(loc, e.wiki.URL+"/w/index.php?title=Special%3AOAuth%2Fauthorize") ||
		strings.HasPrefix(loc, e.wiki.URL+"/w/index.php?title=Special:OAuth/authorize")
}

// startLogin GETs /login?next=… and returns the wiki URL it redirects to.
func (e *env) startLogin(b *browser, next string) string {
	e.t.Helper()
	u := e.app.URL + e.auth.LoginPath()
	if next != "" {
		u += "?next=" + url.QueryEscape(next)
	}
	r := b.get(u)
	if r.StatusCode != http.StatusSeeOther {
		e.t.Fatalf("GET /login = %d %q; want 303", r.StatusCode, r.body)
	}
	loc := r.Header.Get("Location")
	if !e.isAuthorizeURL(loc) {
		e.t.Fatalf("/login redirected to %q; want the wiki's authorize page", loc)
	}
	return loc
}

// approve plays the user at the wiki and returns the callback URL.
func (e *env) approve(authorizeURL string) *url.URL {
	e.t.Helper()
	cb, err := e.wiki.Authorize(context.Background(), authorizeURL, "Alice", mwoauthtest.DefaultPassword)
	if err != nil {
		e.t.Fatalf("Authorize: %v", err)
	}
	return cb
}

// login runs a whole login and returns the callback's response.
func (e *env) login(b *browser, next string) response {
	e.t.Helper()
	cb := e.approve(e.startLogin(b, next))
	return b.get(cb.String())
}

func (e *env) mustLogin(b *browser) {
	e.t.Helper()
	if r := e.login(b, "/"); r.StatusCode != http.StatusSeeOther {
		e.t.Fatalf("callback = %d %q", r.StatusCode, r.body)
	}
}

// userinfo GETs /userinfo and checks that the API answered as Alice.
func (e *env) userinfo(b *browser) {
	e.t.Helper()
	ui := b.get(e.app.URL + "/userinfo")
	var res struct {
		Query struct {
			Userinfo struct {
				ID   int    `json:"id"`
				Name string `json:"name"`
			} `json:"userinfo"`
		} `json:"query"`
	}
	if err := json.Unmarshal([]byte(ui.body), &res); err != nil || res.Query.Userinfo.Name != "Alice" || res.Query.Userinfo.ID == 0 {
		e.t.Fatalf("/userinfo = %d %q (%v)", ui.StatusCode, ui.body, err)
	}
}

func testEndToEnd(t *testing.T, p mwoauth.Protocol) {
	e := newEnv(t, p)
	b := e.browser()

	if r := b.get(e.app.URL + "/"); !strings.Contains(r.body, "anonymous") {
		t.Fatalf("/ before login = %q", r.body)
	}
	r := e.login(b, "/userinfo?x=1")
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/userinfo?x=1" {
		t.Fatalf("callback = %d Location %q; want 303 /userinfo?x=1", r.StatusCode, r.Header.Get("Location"))
	}
	for _, c := range r.Cookies() {
		if c.Value != "" && (!c.HttpOnly || c.SameSite != http.SameSiteLaxMode) {
			t.Errorf("cookie %s: HttpOnly=%v SameSite=%v", c.Name, c.HttpOnly, c.SameSite)
		}
	}
	if cc := r.Header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
		t.Errorf("callback Cache-Control = %q", cc)
	}
	if rp := r.Header.Get("Referrer-Policy"); rp != "no-referrer" {
		t.Errorf("callback Referrer-Policy = %q", rp)
	}

	home := b.get(e.app.URL + "/")
	if !strings.Contains(home.body, "Logged in as Alice") || !strings.Contains(home.body, "flash: You were signed in, Alice!") {
		t.Fatalf("/ after login = %q", home.body)
	}
	if again := b.get(e.app.URL + "/"); strings.Contains(again.body, "flash:") {
		t.Errorf("the flash was shown twice: %q", again.body)
	}

	e.userinfo(b)

	id := b.get(e.app.URL + "/identity")
	var u mwoauth.User
	if err := json.Unmarshal([]byte(id.body), &u); err != nil || u.Username != "Alice" || u.ID != "3" || len(u.Rights) == 0 || u.Issuer != e.wiki.URL {
		t.Fatalf("/identity = %q (%v)", id.body, err)
	}

	out := b.get(e.app.URL+"/logout?next=/bye", "Sec-Fetch-Site", "same-origin")
	if out.StatusCode != http.StatusSeeOther || out.Header.Get("Location") != "/bye" {
		t.Fatalf("logout = %d %q", out.StatusCode, out.Header.Get("Location"))
	}
	if r := b.get(e.app.URL + "/"); !strings.Contains(r.body, "anonymous") {
		t.Fatalf("/ after logout = %q", r.body)
	}
	if r := b.get(e.app.URL + "/userinfo?a=b"); r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/login?next=%2Fuserinfo%3Fa%3Db" {
		t.Fatalf("/userinfo after logout = %d %q", r.StatusCode, r.Header.Get("Location"))
	}

	// No secret ever reaches the log.
	logs := e.logs.String()
	for _, secret := range []string{e.consumer.Secret} {
		if strings.Contains(logs, secret) {
			t.Errorf("the log contains a secret")
		}
	}
	if p == mwoauth.OAuth2 && (strings.Contains(logs, "def50200") || strings.Contains(logs, "eyJ0eXAi")) {
		t.Errorf("the log contains an OAuth 2 token")
	}
}

func testLoggedInUserWithNextSkipsWiki(t *testing.T, p mwoauth.Protocol) {
	e := newEnv(t, p)
	b := e.browser()
	e.mustLogin(b)
	before := e.wiki.Requests(mwoauthtest.EndpointInitiate) + e.wiki.Requests(mwoauthtest.EndpointOAuth2Token)
	r := b.get(e.app.URL + "/login?next=%2Fpage")
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/page" {
		t.Fatalf("/login when logged in = %d %q", r.StatusCode, r.Header.Get("Location"))
	}
	if n := e.wiki.Requests(mwoauthtest.EndpointInitiate) + e.wiki.Requests(mwoauthtest.EndpointOAuth2Token); n != before {
		t.Fatalf("the wiki was called %d times", n-before)
	}
}

// SECURITY.md §A 1-5 through /logout and /login: every unsafe next falls
// back to the default.
func testNextValidation(t *testing.T, p mwoauth.Protocol) {
	e := newEnv(t, p)
	cases := map[string]string{
		"https://evil.com": "/", "http://evil.com": "/", "//evil.com": "/", "///evil.com": "/", "////evil.com": "/",
		"/\\evil.com": "/", "/\\/evil.com": "/", "\\\\evil.com": "/", "/%5Cevil.com": "/", "/%2F/evil.com": "/",
		"%2F%2Fevil.com": "/", "%2F%5Cevil.com": "/", "/%09/evil.com": "/", "/%0a/evil.com": "/", "/%0d/evil.com": "/",
		"/%0b/evil.com": "/", " //evil.com": "/", "/%00/x": "/", "javascript:alert(1)": "/", "JaVaScRiPt:alert(1)": "/",
		"data:text/html,x": "/", "http:evil.com": "/", "https://app.example@evil.com": "/", "//app.example@evil.com": "/",
		"/" + strings.Repeat("a", 10000): "/",
		"/wiki/Foo?x=1#f":                "/wiki/Foo?x=1#f", "/a//b": "/a//b", "/?next=//evil.com": "/?next=//evil.com",
	}
	for next, want := range cases {
		b := e.browser()
		r := b.get(e.app.URL+"/logout?next="+url.QueryEscape(next), "Sec-Fetch-Site", "same-origin")
		if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != want {
			t.Errorf("logout next=%q: %d Location %q; want %q", next, r.StatusCode, r.Header.Get("Location"), want)
		}
	}
	// Through a whole login, for a few (item 5: the cookie stays small).
	for _, next := range []string{"//evil.com", "/%2F/evil.com", "/" + strings.Repeat("a", 10000)} {
		b := e.browser()
		r := e.login(b, next)
		if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/" {
			t.Errorf("login next=%.20q: %d Location %q; want /", next, r.StatusCode, r.Header.Get("Location"))
		}
	}
}

// SECURITY.md §A6, §A7: logout CSRF.
func testLogoutCSRF(t *testing.T, p mwoauth.Protocol) {
	e := newEnv(t, p)
	b := e.browser()
	e.mustLogin(b)
	loggedIn := func() bool { return strings.Contains(b.get(e.app.URL+"/").body, "Logged in as Alice") }

	for _, hdr := range [][]string{{"Sec-Fetch-Site", "cross-site"}, {}, {"Origin", "https://evil.example"}, {"Referer", "https://evil.example/x"}} {
		r := b.get(e.app.URL+"/logout?next=%2F%22%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E", hdr...)
		if r.StatusCode != http.StatusOK || !strings.Contains(r.body, `method="post"`) || strings.Contains(r.body, "<script>") {
			t.Fatalf("cross-site GET /logout %v = %d %q; want the confirm page", hdr, r.StatusCode, r.body)
		}
		if !loggedIn() {
			t.Fatalf("a cross-site GET %v logged out", hdr)
		}
	}
	form := strings.NewReader("next=%2F%2Fevil.com")
	ct := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	if r := b.do(http.MethodPost, e.app.URL+"/logout", ct, form); r.StatusCode != http.StatusForbidden {
		t.Fatalf("POST /logout without origin proof = %d", r.StatusCode)
	}
	evil := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Origin": {"https://evil"}}
	if r := b.do(http.MethodPost, e.app.URL+"/logout", evil, strings.NewReader("next=/")); r.StatusCode != http.StatusForbidden {
		t.Fatalf("POST /logout with Origin: https://evil = %d", r.StatusCode)
	}
	if !loggedIn() {
		t.Fatal("a refused POST logged out")
	}
	good := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Origin": {e.app.URL}}
	r := b.do(http.MethodPost, e.app.URL+"/logout", good, strings.NewReader("next=%2F%2Fevil.com"))
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/" {
		t.Fatalf("same-origin POST /logout = %d %q", r.StatusCode, r.Header.Get("Location"))
	}
	if loggedIn() {
		t.Fatal("still logged in after logout")
	}
}

// SECURITY.md §B8 and item 9 ("taken from another session"): a callback
// for another browser's pending login.
func testCallbackOtherBrowser(t *testing.T, p mwoauth.Protocol) {
	e := newEnv(t, p)
	victim, attacker := e.browser(), e.browser()
	e.startLogin(victim, "/")
	cb := e.approve(e.startLogin(attacker, "/"))
	tokens := e.wiki.Requests(e.tokenEndpoint())
	r := victim.get(cb.String())
	if r.StatusCode != http.StatusForbidden {
		t.Fatalf("callback in the wrong browser = %d; want 403", r.StatusCode)
	}
	if n := e.wiki.Requests(e.tokenEndpoint()); n != tokens {
		t.Fatalf("the token endpoint was called %d times", n-tokens)
	}
	// The attacker's own pending login is untouched.
	if r := attacker.get(cb.String()); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("the rightful browser's callback = %d %q", r.StatusCode, r.body)
	}
}

// SECURITY.md §B11, R18: replay, expiry, parallel callbacks.
func testCallbackReplayAndExpiry(t *testing.T, p mwoauth.Protocol) {
	e := newEnv(t, p)
	b := e.browser()
	cb := e.approve(e.startLogin(b, "/"))
	if r := b.get(cb.String()); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("first callback = %d", r.StatusCode)
	}
	tokens := e.wiki.Requests(e.tokenEndpoint())
	if r := b.get(cb.String()); r.StatusCode != http.StatusForbidden || !strings.Contains(r.body, "expired") {
		t.Fatalf("replayed callback = %d %q", r.StatusCode, r.body)
	}
	if n := e.wiki.Requests(e.tokenEndpoint()); n != tokens {
		t.Fatalf("a replay called the token endpoint")
	}

	b2 := e.browser()
	cb2 := e.approve(e.startLogin(b2, "/"))
	e.clock.Advance(11 * time.Minute)
	if r := b2.get(cb2.String()); r.StatusCode != http.StatusForbidden {
		t.Fatalf("callback after 11 minutes = %d", r.StatusCode)
	}
	if n := e.wiki.Requests(e.tokenEndpoint()); n != tokens {
		t.Fatalf("an expired login called the token endpoint")
	}
}

func testParallelCallbacksOneExchange(t *testing.T, p mwoauth.Protocol) {
	for _, store := range []bool{false, true} {
		t.Run(fmt.Sprintf("store=%v", store), func(t *testing.T) {
			e := newEnv(t, p, withConfig(func(c *mwoauth.Config) {
				if store {
					c.SessionStore = session.NewMemoryStore()
				}
			}))
			b := e.browser()
			cb := e.approve(e.startLogin(b, "/"))
			tokens := e.wiki.Requests(e.tokenEndpoint())
			var wg sync.WaitGroup
			codes := make(chan int, 2)
			for range 2 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					req, _ := http.NewRequest(http.MethodGet, cb.String(), nil)
					resp, err := b.c.Do(req)
					if err != nil {
						codes <- 0
						return
					}
					resp.Body.Close()
					codes <- resp.StatusCode
				}()
			}
			wg.Wait()
			close(codes)
			var ok, refused int
			for c := range codes {
				switch c {
				case http.StatusSeeOther:
					ok++
				case http.StatusForbidden:
					refused++
				}
			}
			if ok != 1 || refused != 1 {
				t.Fatalf("parallel callbacks: %d succeeded, %d refused; want 1 and 1", ok, refused)
			}
			if n := e.wiki.Requests(e.tokenEndpoint()) - tokens; n != 1 {
				t.Fatalf("token endpoint called %d times; want 1", n)
			}
		})
	}
}

// SECURITY.md §B12: a new session at login; the old id is worthless.
func testSessionFixation(t *testing.T, p mwoauth.Protocol) {
	store := session.NewMemoryStore()
	e := newEnv(t, p, withConfig(func(c *mwoauth.Config) { c.SessionStore = store }))
	b := e.browser()
	b.get(e.app.URL + "/value?set=blue") // an anonymous session with an id
	appURL, _ := url.Parse(e.app.URL)
	s0 := sessionCookie(b, appURL)
	if s0 == "" {
		t.Fatal("no session cookie before login")
	}
	e.mustLogin(b)
	s1 := sessionCookie(b, appURL)
	if s1 == "" || s1 == s0 {
		t.Fatalf("the session cookie did not change at login")
	}
	old := e.browser()
	old.c.Jar.SetCookies(appURL, []*http.Cookie{{Name: "mwoauth_session", Value: s0}})
	if r := old.get(e.app.URL + "/"); !strings.Contains(r.body, "anonymous") {
		t.Fatalf("the pre-login session id still works: %q", r.body)
	}
}

func sessionCookie(b *browser, u *url.URL) string {
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == "mwoauth_session" {
			return c.Value
		}
	}
	return ""
}

// SECURITY.md §B14: pending logins are bounded per browser.
func testPendingLoginsBounded(t *testing.T, p mwoauth.Protocol) {
	e := newEnv(t, p)
	b := e.browser()
	for range 20 {
		r := b.get(e.app.URL + "/login")
		if r.StatusCode != http.StatusSeeOther {
			t.Fatalf("/login = %d", r.StatusCode)
		}
		for _, line := range r.Header.Values("Set-Cookie") {
			if len(line) > 4096 {
				t.Fatalf("Set-Cookie of %d bytes", len(line))
			}
		}
	}
	appURL, _ := url.Parse(e.app.URL)
	if n := len(b.c.Jar.Cookies(appURL)); n > 3 {
		t.Fatalf("%d cookies after 20 logins; want at most 3 pending", n)
	}
}

// SECURITY.md §C16-19, 21: strict callback parsing, no wiki call.
func testMalformedCallbacks(t *testing.T, p mwoauth.Protocol) {
	e := newEnv(t, p)
	b := e.browser()
	cb := e.approve(e.startLogin(b, "/"))
	var queries []string
	if p == mwoauth.OAuth1 {
		tok, ver := cb.Query().Get("oauth_token"), cb.Query().Get("oauth_verifier")
		queries = []string{
			"", "oauth_token=abc", "oauth_verifier=" + ver, "oauth_token=" + tok,
			"oauth_token=" + tok + "&oauth_verifier=" + ver + "&oauth_token=" + tok,
			"oauth_token=" + tok + "&oauth_verifier=%zz", "oauth_token=" + tok + ";oauth_verifier=" + ver,
			"oauth_token=%C3%28&oauth_verifier=" + ver, "oauth_token=" + tok + "&oauth_verifier=" + strings.Repeat("a", 100000),
			"oauth_token=" + tok + "&x=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
		}
	} else {
		code, state := url.QueryEscape(cb.Query().Get("code")), url.QueryEscape(cb.Query().Get("state"))
		queries = []string{
			"", "state=" + state, "state=" + state + "&code=",
			"code=" + code + "&state=" + state + "&code=" + code,
			"code=" + code + "&state=" + state + "&state=" + state,
			"code=%zz&state=" + state, "code=" + code + ";state=" + state,
			"code=%C3%28&state=" + state, "code=" + code + "&state=%C3%28",
			"code=" + strings.Repeat("a", 5000) + "&state=" + state,
			"code=" + code + "&state=" + strings.Repeat("a", 129),
			"code=" + code + "&state=" + state + "&x=" + strings.Repeat("a", 100000),
			"state=" + state + "&x=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
			// SECURITY.md item 20: error together with code.
			"code=" + code + "&error=x&state=" + state,
			"code=" + code + "&error=unauthorized_client",
			"error=unauthorized_client&error=access_denied",
		}
	}
	tokens := e.wiki.Requests(e.tokenEndpoint())
	for _, q := range queries {
		r := b.get(e.app.URL + "/oauth-callback?" + q)
		if r.StatusCode != http.StatusBadRequest {
			t.Errorf("callback ?%.60s = %d; want 400", q, r.StatusCode)
		}
		if strings.Contains(r.body, "<script>") || r.Header.Get("Content-Type") != "text/html; charset=utf-8" {
			t.Errorf("callback ?%.60s reflected input or has Content-Type %q", q, r.Header.Get("Content-Type"))
		}
	}
	if n := e.wiki.Requests(e.tokenEndpoint()); n != tokens {
		t.Fatalf("malformed callbacks called the token endpoint %d times", n-tokens)
	}
	// Unknown extra parameters are ignored: the real callback still works.
	if r := b.get(cb.String() + "&extra=1"); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("callback with an extra parameter = %d %q", r.StatusCode, r.body)
	}
}

// SECURITY.md §C22: the callback comes from the config, never from Host.
func testHostHeaderIgnored(t *testing.T, p mwoauth.Protocol) {
	var mu sync.Mutex
	var auths []string
	e := newEnv(t, p, withConfig(func(c *mwoauth.Config) {
		c.HTTPClient = &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			mu.Lock()
			auths = append(auths, r.Header.Get("Authorization"))
			mu.Unlock()
			return http.DefaultTransport.RoundTrip(r)
		})}
	}))
	b := e.browser()
	req, _ := http.NewRequest(http.MethodGet, e.app.URL+"/login", nil)
	req.Host = "evil.example"
	req.Header.Set("X-Forwarded-Host", "evil.example")
	resp, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("/login with Host: evil.example = %d", resp.StatusCode)
	}
	if p == mwoauth.OAuth2 {
		loc, err := url.Parse(resp.Header.Get("Location"))
		if err != nil || loc.Query().Get("redirect_uri") != e.cfg.CallbackURL {
			t.Fatalf("authorize URL %q; want redirect_uri=%s", resp.Header.Get("Location"), e.cfg.CallbackURL)
		}
		return
	}
	mu.Lock()
	defer mu.Unlock()
	want := `oauth_callback="` + strings.ReplaceAll(url.QueryEscape(e.cfg.CallbackURL), "+", "%20") + `"`
	if len(auths) == 0 || !strings.Contains(auths[0], want) {
		t.Fatalf("initiate Authorization = %q; want %s", auths, want)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// SECURITY.md §H45: tampered or renamed cookies mean anonymous, never 500.
func testTamperedSessionCookie(t *testing.T, p mwoauth.Protocol) {
	e := newEnv(t, p)
	b := e.browser()
	e.mustLogin(b)
	appURL, _ := url.Parse(e.app.URL)
	v := sessionCookie(b, appURL)
	flipped := []byte(v)
	flipped[len(flipped)/2] ^= 1
	if flipped[len(flipped)/2] == v[len(v)/2] {
		t.Fatal("no change")
	}
	for name, c := range map[string]*http.Cookie{
		"flipped": {Name: "mwoauth_session", Value: string(flipped)},
		"renamed": {Name: "other_session", Value: v},
	} {
		other := e.browser()
		other.c.Jar.SetCookies(appURL, []*http.Cookie{c})
		r := other.get(e.app.URL + "/")
		if r.StatusCode != http.StatusOK || !strings.Contains(r.body, "anonymous") {
			t.Errorf("%s cookie: %d %q; want anonymous", name, r.StatusCode, r.body)
		}
	}
}

// SECURITY.md §H46 over https: __Host- prefix and Secure.
func testCookieAttributesHTTPS(t *testing.T, p mwoauth.Protocol) {
	wiki := mwoauthtest.Start(t, mwoauthtest.WithRSAKey(testRSAKey()))
	cfg := mwoauth.Config{
		Wiki: wiki.ScriptPath(), Protocol: p,
		CallbackURL: "https://app.example/oauth-callback", UserAgent: testUA,
		SessionKeys: [][]byte{bytes.Repeat([]byte{1}, 32)}, Logger: slog.New(slog.DiscardHandler),
	}
	if p == mwoauth.OAuth1 {
		c := wiki.AddConsumer(mwoauthtest.Consumer{Name: "https-app", Callback: "https://app.example/", CallbackIsPrefix: true, Grants: []string{"basic"}})
		cfg.ConsumerKey, cfg.ConsumerSecret = c.Key, c.Secret
	} else {
		c := wiki.AddConsumer(mwoauthtest.Consumer{Name: "https-app", Version: 2, Confidential: true, Callback: cfg.CallbackURL, Grants: []string{"basic"}})
		cfg.ClientID, cfg.ClientSecret = c.ClientID(), c.ClientSecret()
	}
	a, err := mwoauth.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	a.Wrap(http.NotFoundHandler()).ServeHTTP(w, httptest.NewRequest(http.MethodGet, "https://app.example/login", nil))
	if w.Code != http.StatusSeeOther {
		t.Fatalf("/login = %d %q", w.Code, w.Body)
	}
	cookies := w.Result().Cookies()
	if len(cookies) == 0 {
		t.Fatal("no pending-login cookie")
	}
	for _, c := range cookies {
		if !strings.HasPrefix(c.Name, "__Host-") || !c.Secure || !c.HttpOnly || c.Path != "/" || c.Domain != "" || c.SameSite != http.SameSiteLaxMode || c.MaxAge <= 0 {
			t.Errorf("cookie %+v lacks the __Host-/Secure/HttpOnly/Lax/Max-Age attributes", c)
		}
	}
}

// SECURITY.md §H47: a user with very many rights and groups still fits
// (with OAuth 2's two long tokens, too).
func testLargeIdentityFitsCookie(t *testing.T, p mwoauth.Protocol) {
	e := newEnv(t, p)
	rights := make([]string, 400)
	for i := range rights {
		rights[i] = fmt.Sprintf("right-number-%03d", i)
	}
	groups := make([]string, 50)
	for i := range groups {
		groups[i] = fmt.Sprintf("group-%02d", i)
	}
	pw := "Big-User-Pass-1"
	e.wiki.AddUser(mwoauthtest.User{Name: "Big", Password: pw, Rights: rights, Groups: groups})
	b := e.browser()
	cb, err := e.wiki.Authorize(context.Background(), e.startLogin(b, "/"), "Big", pw)
	if err != nil {
		t.Fatal(err)
	}
	r := b.get(cb.String())
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("callback = %d %q", r.StatusCode, r.body)
	}
	for _, line := range r.Header.Values("Set-Cookie") {
		if len(line) > 4096 {
			t.Fatalf("Set-Cookie of %d bytes", len(line))
		}
	}
	if !strings.Contains(b.get(e.app.URL+"/").body, "Logged in as Big") {
		t.Fatal("not logged in")
	}
}

// SECURITY.md §H49 and R12: cookie replay after logout, max age, restart.
func testCookieReplayAndMaxAge(t *testing.T, p mwoauth.Protocol) {
	e := newEnv(t, p)
	b := e.browser()
	e.mustLogin(b)
	appURL, _ := url.Parse(e.app.URL)
	copied := sessionCookie(b, appURL)
	b.get(e.app.URL+"/logout", "Sec-Fetch-Site", "same-origin")
	replay := e.browser()
	replay.c.Jar.SetCookies(appURL, []*http.Cookie{{Name: "mwoauth_session", Value: copied}})
	// Documented: a copied cookie-session cookie is valid until its Max-Age.
	if r := replay.get(e.app.URL + "/"); !strings.Contains(r.body, "Logged in as Alice") {
		t.Fatalf("copied cookie after logout: %q (documented as still valid)", r.body)
	}
	e.clock.Advance(25 * time.Hour)
	if r := replay.get(e.app.URL + "/"); !strings.Contains(r.body, "anonymous") {
		t.Fatalf("copied cookie after Max-Age: %q; want anonymous", r.body)
	}
}

func testServerStoreLogoutKillsCopies(t *testing.T, p mwoauth.Protocol) {
	e := newEnv(t, p, withConfig(func(c *mwoauth.Config) { c.SessionStore = session.NewMemoryStore() }))
	b := e.browser()
	e.mustLogin(b)
	appURL, _ := url.Parse(e.app.URL)
	copied := sessionCookie(b, appURL)
	b.get(e.app.URL+"/logout", "Sec-Fetch-Site", "same-origin")
	replay := e.browser()
	replay.c.Jar.SetCookies(appURL, []*http.Cookie{{Name: "mwoauth_session", Value: copied}})
	if r := replay.get(e.app.URL + "/"); !strings.Contains(r.body, "anonymous") {
		t.Fatalf("copied cookie after logout with a server store: %q", r.body)
	}
}

// R11: a revoked grant ends the session at the next uncached check. With
// OAuth 2 the refused access token is refreshed once, the wiki refuses
// the refresh too, and the session ends.
func testRevokedToken(t *testing.T, p mwoauth.Protocol) {
	for _, path := range []string{"/identity", "/userinfo"} {
		t.Run(path, func(t *testing.T) {
			e := newEnv(t, p)
			b := e.browser()
			e.mustLogin(b)
			tokens := e.wiki.Requests(e.tokenEndpoint())
			e.wiki.Revoke("Alice", e.consumer.Key)
			r := b.get(e.app.URL + path)
			if r.StatusCode != http.StatusBadGateway || !strings.Contains(r.body, "revoked") {
				t.Fatalf("%s after revocation = %d %q", path, r.StatusCode, r.body)
			}
			if r := b.get(e.app.URL + "/"); !strings.Contains(r.body, "anonymous") {
				t.Fatalf("still logged in after revocation: %q", r.body)
			}
			if n := e.wiki.Requests(e.tokenEndpoint()) - tokens; p == mwoauth.OAuth2 && n != 1 {
				t.Fatalf("%d refresh attempts after the revocation; want 1", n)
			}
		})
	}
}

// A failed login leaves the previous session as it was.
func testFailedCallbackKeepsSession(t *testing.T, p mwoauth.Protocol) {
	e := newEnv(t, p)
	b := e.browser()
	e.mustLogin(b)
	cb := e.approve(e.startLogin(b, ""))
	q := cb.Query()
	if p == mwoauth.OAuth1 {
		q.Set("oauth_verifier", "wrong"+q.Get("oauth_verifier"))
	} else {
		q.Set("code", "wrong"+q.Get("code"))
	}
	cb.RawQuery = q.Encode()
	if r := b.get(cb.String()); r.StatusCode < 400 {
		t.Fatalf("callback with a wrong verifier or code = %d", r.StatusCode)
	}
	if r := b.get(e.app.URL + "/"); !strings.Contains(r.body, "Logged in as Alice") {
		t.Fatalf("the previous session was lost: %q", r.body)
	}
}

// R1, R3: the wiki down or failing at /login (OAuth 1.0a) or at the
// token exchange (OAuth 2.0, whose /login calls no wiki).
func testWikiUnavailable(t *testing.T, p mwoauth.Protocol) {
	e := newEnv(t, p)
	b := e.browser()
	if p == mwoauth.OAuth2 {
		cb := e.approve(e.startLogin(b, "/"))
		cb2 := e.approve(e.startLogin(b, "/"))
		e.wiki.FailNext(mwoauthtest.EndpointOAuth2Token, mwoauthtest.Fault{Status: 503})
		if r := b.get(cb.String()); r.StatusCode != http.StatusBadGateway || !strings.Contains(r.body, "be reached") {
			t.Fatalf("callback with the token endpoint failing = %d %q", r.StatusCode, r.body)
		}
		e.wiki.Close()
		start := time.Now()
		if r := b.get(cb2.String()); r.StatusCode != http.StatusBadGateway || time.Since(start) > 5*time.Second {
			t.Fatalf("callback with the wiki down = %d", r.StatusCode)
		}
		if r := b.get(e.app.URL + "/"); !strings.Contains(r.body, "anonymous") {
			t.Fatalf("logged in after failed exchanges: %q", r.body)
		}
		return
	}
	// R3: initiate is retried once after a 5xx: one failure is absorbed,
	// two make the login fail, after exactly two attempts.
	before := e.wiki.Requests(mwoauthtest.EndpointInitiate)
	e.wiki.FailNext(mwoauthtest.EndpointInitiate, mwoauthtest.Fault{Status: 503})
	if r := b.get(e.app.URL + "/login"); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("/login after one 503 = %d; want the retry to succeed", r.StatusCode)
	}
	if n := e.wiki.Requests(mwoauthtest.EndpointInitiate) - before; n != 2 {
		t.Fatalf("initiate attempts after one 503 = %d; want 2", n)
	}
	b = e.browser()
	before = e.wiki.Requests(mwoauthtest.EndpointInitiate)
	e.wiki.FailNext(mwoauthtest.EndpointInitiate, mwoauthtest.Fault{Status: 503})
	e.wiki.FailNext(mwoauthtest.EndpointInitiate, mwoauthtest.Fault{Status: 503})
	r := b.get(e.app.URL + "/login")
	if r.StatusCode != http.StatusBadGateway || len(r.Header.Values("Set-Cookie")) != 0 {
		t.Fatalf("/login with the wiki failing = %d, %d cookies", r.StatusCode, len(r.Header.Values("Set-Cookie")))
	}
	if n := e.wiki.Requests(mwoauthtest.EndpointInitiate) - before; n != 2 {
		t.Fatalf("initiate attempts with the wiki failing = %d; want 2", n)
	}
	e.wiki.Close()
	start := time.Now()
	r = b.get(e.app.URL + "/login")
	if r.StatusCode != http.StatusBadGateway || len(r.Header.Values("Set-Cookie")) != 0 || time.Since(start) > 5*time.Second {
		t.Fatalf("/login with the wiki down = %d", r.StatusCode)
	}
}

// Consumer misconfiguration is told apart from an outage: OAuth 1.0a at
// /login (unknown key), OAuth 2.0 at the exchange (wrong secret).
func testMisconfiguredConsumer(t *testing.T, p mwoauth.Protocol) {
	e := newEnv(t, p, withConfig(func(c *mwoauth.Config) {
		if c.Protocol == mwoauth.OAuth2 {
			c.ClientSecret = "nope"
		} else {
			c.ConsumerKey, c.ConsumerSecret = "0123456789abcdef0123456789abcdef", "nope"
		}
	}))
	b := e.browser()
	var r response
	if p == mwoauth.OAuth2 {
		r = e.login(b, "/")
	} else {
		r = b.get(e.app.URL + "/login")
	}
	if r.StatusCode != http.StatusBadGateway || !strings.Contains(r.body, "misconfigured") {
		t.Fatalf("login with a rejected consumer = %d %q", r.StatusCode, r.body)
	}
	if strings.Contains(r.body, "nope") {
		t.Fatal("the page shows the secret")
	}
}

func testBlockedAndHiddenUsers(t *testing.T, p mwoauth.Protocol) {
	for _, tc := range []struct {
		name string
		user mwoauthtest.User
		deny bool
		want int
	}{
		{"blocked allowed", mwoauthtest.User{Name: "Blocky", Blocked: true}, false, http.StatusSeeOther},
		{"blocked denied", mwoauthtest.User{Name: "Blocky", Blocked: true}, true, http.StatusForbidden},
		{"hidden", mwoauthtest.User{Name: "Hidden", Hidden: true}, false, http.StatusForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, p, withConfig(func(c *mwoauth.Config) { c.DenyBlocked = tc.deny }))
			u := e.wiki.AddUser(tc.user)
			b := e.browser()
			cb, err := e.wiki.Authorize(context.Background(), e.startLogin(b, "/"), u.Name, u.Password)
			if err != nil {
				t.Fatal(err)
			}
			if r := b.get(cb.String()); r.StatusCode != tc.want {
				t.Fatalf("callback = %d %q; want %d", r.StatusCode, r.body, tc.want)
			}
		})
	}
}

func testNotWrapped(t *testing.T, p mwoauth.Protocol) {
	e := newEnv(t, p)
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	if _, err := e.auth.CurrentUser(r, true); !errors.Is(err, mwoauth.ErrNotWrapped) {
		t.Errorf("CurrentUser = %v; want ErrNotWrapped", err)
	}
	if _, err := e.auth.Request(r, url.Values{"action": {"query"}}); !errors.Is(err, mwoauth.ErrNotWrapped) {
		t.Errorf("Request = %v; want ErrNotWrapped", err)
	}
	if _, err := e.auth.Client(r); !errors.Is(err, mwoauth.ErrNotWrapped) {
		t.Errorf("Client = %v; want ErrNotWrapped", err)
	}
	if _, ok := mwoauth.UserFromContext(r.Context()); ok {
		t.Error("UserFromContext on a bare request = ok")
	}
}

func testAppValues(t *testing.T, p mwoauth.Protocol) {
	e := newEnv(t, p)
	b := e.browser()
	e.mustLogin(b)
	b.get(e.app.URL + "/value?set=green")
	if r := b.get(e.app.URL + "/value"); !strings.Contains(r.body, `value="green" ok=true`) {
		t.Fatalf("value = %q", r.body)
	}
	b.get(e.app.URL+"/logout", "Sec-Fetch-Site", "same-origin")
	if r := b.get(e.app.URL + "/value"); !strings.Contains(r.body, "ok=false") {
		t.Fatalf("value after logout = %q", r.body)
	}
}

func testMountedUnderBasePath(t *testing.T, p mwoauth.Protocol) {
	e := newEnv(t, p, withCallbackPath("/auth/oauth-callback"), withConfig(func(c *mwoauth.Config) { c.BasePath = "/auth" }))
	if e.auth.LoginPath() != "/auth/login" || e.auth.CallbackPath() != "/auth/oauth-callback" {
		t.Fatalf("paths %q %q", e.auth.LoginPath(), e.auth.CallbackPath())
	}
	b := e.browser()
	r := e.login(b, "/x")
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/x" {
		t.Fatalf("callback under /auth = %d %q", r.StatusCode, r.body)
	}
	if !strings.Contains(b.get(e.app.URL+"/").body, "Logged in as Alice") {
		t.Fatal("not logged in")
	}
	if r := b.get(e.app.URL + "/login"); !strings.Contains(r.body, "anonymous") && r.StatusCode != http.StatusOK {
		// /login outside the base path is the app's own route.
		t.Fatalf("/login outside /auth = %d", r.StatusCode)
	}
}

func testLoginAppHelper(t *testing.T, p mwoauth.Protocol) {
	e := newEnv(t, p)
	c, err := e.wiki.LoginApp(context.Background(), e.app.URL+"/login", "Alice", mwoauthtest.DefaultPassword)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Get(e.app.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "Logged in as Alice") {
		t.Fatalf("/ = %q", body)
	}
}

func testCustomErrorHandler(t *testing.T, p mwoauth.Protocol) {
	var got error
	e := newEnv(t, p, withConfig(func(c *mwoauth.Config) {
		c.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
			got = err
			w.WriteHeader(http.StatusTeapot)
		}
	}))
	q := "oauth_token=a"
	if p == mwoauth.OAuth2 {
		q = "state=a"
	}
	r := e.browser().get(e.app.URL + "/oauth-callback?" + q)
	var he *mwoauth.HandlerError
	if r.StatusCode != http.StatusTeapot || !errors.As(got, &he) || he.Status != http.StatusBadRequest || !errors.Is(got, mwoauth.ErrMalformedCallback) {
		t.Fatalf("ErrorHandler got %v (status %d)", got, r.StatusCode)
	}
}

// The whole login against a fake 1.39 (OAuth 2: the profile is JSON
// labelled text/html).
func testMediaWiki139(t *testing.T, p mwoauth.Protocol) {
	e := newEnv(t, p, withWiki(mwoauthtest.WithVersion(mwoauthtest.MW139)))
	b := e.browser()
	e.mustLogin(b)
	e.userinfo(b)
	id := b.get(e.app.URL + "/identity")
	var u mwoauth.User
	if err := json.Unmarshal([]byte(id.body), &u); err != nil || u.Username != "Alice" || u.ID != "3" {
		t.Fatalf("/identity on 1.39 = %d %q (%v)", id.StatusCode, id.body, err)
	}
}
