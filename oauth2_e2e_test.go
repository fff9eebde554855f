package mwoauth_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wikiauth/mwoauth"
	"github.com/wikiauth/mwoauth/mwoauthtest"
	"github.com/wikiauth/mwoauth/session"
)

// The OAuth 2.0-only end-to-end tests; they run from the table in
// e2e_test.go.

// tokenSpy records the form of every request to the OAuth 2 token endpoint
// and, while refuse is set, answers refresh requests with a 400
// invalid_grant itself.
type tokenSpy struct {
	mu        sync.Mutex
	forms     []url.Values
	refuse    atomic.Bool
	refusals  atomic.Int32
	transport http.RoundTripper
}

func (s *tokenSpy) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/rest.php/oauth2/access_token") {
		b, _ := io.ReadAll(r.Body)
		r.Body.Close()
		form, _ := url.ParseQuery(string(b))
		s.mu.Lock()
		s.forms = append(s.forms, form)
		s.mu.Unlock()
		if s.refuse.Load() && form.Get("grant_type") == "refresh_token" {
			s.refusals.Add(1)
			body := `{"error":"invalid_grant","error_description":"The provided authorization grant (e.g., authorization code, resource owner credentials) or refresh token is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client.","hint":"Token has been revoked","message":"The provided authorization grant is invalid."}`
			return &http.Response{StatusCode: http.StatusBadRequest, Status: "400 Bad Request", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
				Header: http.Header{"Content-Type": {"application/json"}}, Body: io.NopCloser(strings.NewReader(body)),
				ContentLength: int64(len(body)), Request: r}, nil
		}
		r.Body = io.NopCloser(bytes.NewReader(b))
		r.ContentLength = int64(len(b))
	}
	return s.transport.RoundTrip(r)
}

func (s *tokenSpy) grants(grant string) []url.Values {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []url.Values
	for _, f := range s.forms {
		if f.Get("grant_type") == grant {
			out = append(out, f)
		}
	}
	return out
}

func withTokenSpy(s *tokenSpy) envOption {
	return withConfig(func(c *mwoauth.Config) {
		s.transport = http.DefaultTransport
		c.HTTPClient = &http.Client{Transport: s, Timeout: 10 * time.Second}
	})
}

// SECURITY.md item 9: a state that is missing, empty, altered or from
// another browser gets 403 and never reaches the token endpoint.
func testOAuth2StateMismatch(t *testing.T, p mwoauth.Protocol) {
	e := newEnv(t, p)
	b, other := e.browser(), e.browser()
	cb := e.approve(e.startLogin(b, "/"))
	otherAuth, _ := url.Parse(e.startLogin(other, "/"))
	code, state := cb.Query().Get("code"), cb.Query().Get("state")
	altered := []byte(state)
	if altered[len(altered)-1] == 'A' {
		altered[len(altered)-1] = 'B'
	} else {
		altered[len(altered)-1] = 'A'
	}
	tokens := e.wiki.Requests(mwoauthtest.EndpointOAuth2Token)
	for name, q := range map[string]url.Values{
		"missing":       {"code": {code}},
		"empty":         {"code": {code}, "state": {""}},
		"altered":       {"code": {code}, "state": {string(altered)}},
		"other session": {"code": {code}, "state": {otherAuth.Query().Get("state")}},
	} {
		r := b.get(e.app.URL + "/oauth-callback?" + q.Encode())
		if r.StatusCode != http.StatusForbidden {
			t.Errorf("state %s: %d %q; want 403", name, r.StatusCode, r.body)
		}
	}
	if n := e.wiki.Requests(mwoauthtest.EndpointOAuth2Token); n != tokens {
		t.Fatalf("state mismatches called the token endpoint %d times", n-tokens)
	}
	if r := b.get(cb.String()); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("the right callback after the refused ones = %d %q", r.StatusCode, r.body)
	}
}

// SECURITY.md item 10: S256 always, a 43-character challenge that is
// BASE64URL(SHA256(verifier)), the verifier only on the token POST, one
// verifier per login.
func testOAuth2PKCE(t *testing.T, p mwoauth.Protocol) {
	spy := &tokenSpy{}
	e := newEnv(t, p, withTokenSpy(spy), withConfig(func(c *mwoauth.Config) { c.Scopes = []string{"basic", "editpage"} }))
	var challenges, states []string
	for range 2 {
		b := e.browser()
		authURL := e.startLogin(b, "/")
		u, err := url.Parse(authURL)
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		if q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) != 43 || q.Has("code_verifier") {
			t.Fatalf("authorize URL %s: want S256, a 43-char challenge and no verifier", authURL)
		}
		if q.Get("response_type") != "code" || q.Get("client_id") != e.cfg.ClientID || q.Get("redirect_uri") != e.cfg.CallbackURL ||
			q.Get("scope") != "basic editpage" || len(q.Get("state")) < 43 {
			t.Fatalf("authorize URL %s: wrong response_type, client_id, redirect_uri, scope or state", authURL)
		}
		challenges = append(challenges, q.Get("code_challenge"))
		states = append(states, q.Get("state"))
		if r := b.get(e.approve(authURL).String()); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("callback = %d %q", r.StatusCode, r.body)
		}
	}
	ex := spy.grants("authorization_code")
	if len(ex) != 2 {
		t.Fatalf("%d exchanges; want 2", len(ex))
	}
	if challenges[0] == challenges[1] || states[0] == states[1] || ex[0].Get("code_verifier") == ex[1].Get("code_verifier") {
		t.Fatal("two logins shared a verifier or a state")
	}
	for i, f := range ex {
		h := sha256.Sum256([]byte(f.Get("code_verifier")))
		if got := base64.RawURLEncoding.EncodeToString(h[:]); got != challenges[i] {
			t.Errorf("login %d: challenge %s is not BASE64URL(SHA256(verifier)) = %s", i, challenges[i], got)
		}
		if f.Get("client_id") != e.cfg.ClientID || f.Get("client_secret") != e.cfg.ClientSecret || f.Get("redirect_uri") != e.cfg.CallbackURL {
			t.Errorf("login %d: the exchange lacks the client credentials in the body or the redirect_uri", i)
		}
	}
}

// SECURITY.md items 16, 20, R17: declined consent.
func testOAuth2Declined(t *testing.T, p mwoauth.Protocol) {
	e := newEnv(t, p)
	b := e.browser()
	authURL := e.startLogin(b, "/")
	tokens := e.wiki.Requests(mwoauthtest.EndpointOAuth2Token)

	// As 1.39 and 1.43 send it (oauth2-42): no state. The page is friendly,
	// and the pending login is left to expire (anyone can send this).
	declined := "/oauth-callback?error=unauthorized_client&error_description=User+has+rejected+the+request+from+client+application&message=User+has+rejected+the+request+from+client+application"
	r := b.get(e.app.URL + declined)
	if r.StatusCode != http.StatusForbidden || !strings.Contains(r.body, "You declined") || r.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("declined callback = %d %q", r.StatusCode, r.body)
	}
	if !strings.Contains(r.body, `href="/login"`) {
		t.Errorf("the declined page has no link to try again: %q", r.body)
	}
	cb := e.approve(authURL)
	if r := b.get(cb.String()); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("the pending login did not survive a stateless error: %d %q", r.StatusCode, r.body)
	}

	// With a valid state: that pending login ends.
	b2 := e.browser()
	authURL2 := e.startLogin(b2, "/")
	u2, _ := url.Parse(authURL2)
	state := url.QueryEscape(u2.Query().Get("state"))
	if r := b2.get(e.app.URL + "/oauth-callback?error=access_denied&state=" + state); r.StatusCode != http.StatusForbidden || !strings.Contains(r.body, "You declined") {
		t.Fatalf("declined with state = %d %q", r.StatusCode, r.body)
	}
	if r := b2.get(e.approve(authURL2).String()); r.StatusCode != http.StatusForbidden {
		t.Fatalf("a callback for the ended pending login = %d; want 403", r.StatusCode)
	}

	// Other errors: the generic page, nothing reflected.
	b3 := e.browser()
	u3, _ := url.Parse(e.startLogin(b3, "/"))
	r = b3.get(e.app.URL + "/oauth-callback?error=%3Cscript%3Ex%3C%2Fscript%3E&state=" + url.QueryEscape(u3.Query().Get("state")))
	if r.StatusCode < 400 || strings.Contains(r.body, "<script>") || strings.Contains(r.body, "You declined") {
		t.Fatalf("error=<script> = %d %q", r.StatusCode, r.body)
	}
	if n := e.wiki.Requests(mwoauthtest.EndpointOAuth2Token) - tokens; n != 1 {
		t.Fatalf("the token endpoint saw %d requests; want 1 (the one approved login)", n)
	}
}

// SECURITY.md item 44, R9: 50 concurrent requests of one session with an
// expired access token make exactly one refresh at the wiki, all succeed,
// and the session keeps the newest refresh token.
func testOAuth2ConcurrentRefresh(t *testing.T, p mwoauth.Protocol) {
	for _, store := range []bool{false, true} {
		t.Run(map[bool]string{false: "cookie", true: "store"}[store], func(t *testing.T) {
			e := newEnv(t, p, withConfig(func(c *mwoauth.Config) {
				if store {
					c.SessionStore = session.NewMemoryStore()
				}
			}))
			b := e.browser()
			e.mustLogin(b)
			base := e.wiki.Requests(mwoauthtest.EndpointOAuth2Token)
			e.clock.Advance(2 * time.Hour)

			const n = 50
			start := time.Now()
			var wg sync.WaitGroup
			results := make(chan string, n)
			for range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					resp, err := b.c.Get(e.app.URL + "/userinfo")
					if err != nil {
						results <- err.Error()
						return
					}
					body, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"name":"Alice"`) {
						results <- resp.Status + " " + string(body)
						return
					}
					results <- ""
				}()
			}
			wg.Wait()
			close(results)
			failed := 0
			for r := range results {
				if r != "" {
					failed++
					t.Errorf("a concurrent request failed: %.200s", r)
				}
			}
			refreshes := e.wiki.Requests(mwoauthtest.EndpointOAuth2Token) - base
			t.Logf("%d concurrent requests: %d refresh(es) at the wiki, %d failed, %v", n, refreshes, failed, time.Since(start))
			if refreshes != 1 {
				t.Fatalf("%d refreshes at the wiki; want exactly 1", refreshes)
			}
			// The stored refresh token is the newest: after a restart (no
			// in-process memory of the rotation) and another expiry, the
			// session refreshes again, which the wiki allows only with the
			// newest refresh token.
			e.restart()
			e.clock.Advance(2 * time.Hour)
			e.userinfo(b)
			if n := e.wiki.Requests(mwoauthtest.EndpointOAuth2Token) - base; n != 2 {
				t.Fatalf("%d refreshes in all; want 2", n)
			}
		})
	}
}

// After the wiki refuses the access token (it expired by the wiki's
// clock, not ours), the token is refreshed once and the call sent again:
// api.php (mwoauth-invalid-authorization with HTTP 200) and the profile
// (401).
func testOAuth2RefreshAfter401(t *testing.T, p mwoauth.Protocol) {
	e := newEnv(t, p)
	b := e.browser()
	e.mustLogin(b)
	base := e.wiki.Requests(mwoauthtest.EndpointOAuth2Token)
	e.wiki.Advance(2 * time.Hour)
	e.userinfo(b)
	if n := e.wiki.Requests(mwoauthtest.EndpointOAuth2Token) - base; n != 1 {
		t.Fatalf("%d refreshes after api.php refused the token; want 1", n)
	}
	e.wiki.Advance(2 * time.Hour)
	if r := b.get(e.app.URL + "/identity"); r.StatusCode != http.StatusOK || !strings.Contains(r.body, `"username":"Alice"`) {
		t.Fatalf("/identity after the wiki refused the token = %d %q", r.StatusCode, r.body)
	}
	if n := e.wiki.Requests(mwoauthtest.EndpointOAuth2Token) - base; n != 2 {
		t.Fatalf("%d refreshes in all; want 2", n)
	}
}

// R10: a refresh the wiki refuses ends the session and sends the user to
// log in again, once: no second refresh, no loop.
func testOAuth2RefreshRefused(t *testing.T, p mwoauth.Protocol) {
	check := func(t *testing.T, e *env, b *browser, attempts func() int) {
		t.Helper()
		r := b.get(e.app.URL + "/userinfo?x=1")
		if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/login?next=%2Fuserinfo%3Fx%3D1" {
			t.Fatalf("/userinfo after a refused refresh = %d %q %q; want 303 to /login?next=…", r.StatusCode, r.Header.Get("Location"), r.body)
		}
		if n := attempts(); n != 1 {
			t.Fatalf("%d refresh attempts; want 1", n)
		}
		if r := b.get(e.app.URL + "/"); !strings.Contains(r.body, "anonymous") {
			t.Fatalf("still logged in: %q", r.body)
		}
		// Again: the same redirect, and no new refresh.
		if r := b.get(e.app.URL + "/userinfo?x=1"); r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/login?next=") {
			t.Fatalf("second /userinfo = %d %q", r.StatusCode, r.Header.Get("Location"))
		}
		if n := attempts(); n != 1 {
			t.Fatalf("%d refresh attempts after the second request; want 1", n)
		}
		// /login goes to the wiki, not back to the page: no loop.
		if loc := e.startLogin(b, "/userinfo?x=1"); !e.isAuthorizeURL(loc) {
			t.Fatalf("/login went to %q", loc)
		}
	}
	t.Run("invalid_grant", func(t *testing.T) {
		spy := &tokenSpy{}
		e := newEnv(t, p, withTokenSpy(spy))
		b := e.browser()
		e.mustLogin(b)
		spy.refuse.Store(true)
		e.clock.Advance(2 * time.Hour)
		check(t, e, b, func() int { return int(spy.refusals.Load()) })
	})
	t.Run("revoked at the wiki", func(t *testing.T) {
		// The fake's own answer: 401 invalid_request "Token has been revoked".
		e := newEnv(t, p)
		b := e.browser()
		e.mustLogin(b)
		base := e.wiki.Requests(mwoauthtest.EndpointOAuth2Token)
		e.wiki.Revoke("Alice", e.consumer.Key)
		e.clock.Advance(2 * time.Hour)
		check(t, e, b, func() int { return e.wiki.Requests(mwoauthtest.EndpointOAuth2Token) - base })
	})
}

// R10: a network error is retried once with the same refresh token; two
// in a row give 502 and keep the session for the next request.
func testOAuth2RefreshNetworkRetry(t *testing.T, p mwoauth.Protocol) {
	e := newEnv(t, p)
	b := e.browser()
	e.mustLogin(b)
	base := e.wiki.Requests(mwoauthtest.EndpointOAuth2Token)
	e.clock.Advance(2 * time.Hour)
	e.wiki.FailNext(mwoauthtest.EndpointOAuth2Token, mwoauthtest.Fault{Reset: true})
	e.userinfo(b)
	if n := e.wiki.Requests(mwoauthtest.EndpointOAuth2Token) - base; n != 2 {
		t.Fatalf("%d token requests for a refresh after a reset; want 2", n)
	}

	e.clock.Advance(2 * time.Hour)
	e.wiki.FailNext(mwoauthtest.EndpointOAuth2Token, mwoauthtest.Fault{Reset: true})
	e.wiki.FailNext(mwoauthtest.EndpointOAuth2Token, mwoauthtest.Fault{Reset: true})
	if r := b.get(e.app.URL + "/userinfo"); r.StatusCode != http.StatusBadGateway || !strings.Contains(r.body, "wiki-unavailable") {
		t.Fatalf("/userinfo with the token endpoint down = %d %q", r.StatusCode, r.body)
	}
	if n := e.wiki.Requests(mwoauthtest.EndpointOAuth2Token) - base; n != 4 {
		t.Fatalf("%d token requests in all; want 4 (two per refresh, one refresh per request)", n)
	}
	if r := b.get(e.app.URL + "/"); !strings.Contains(r.body, "Logged in as Alice") {
		t.Fatalf("a network failure ended the session: %q", r.body)
	}
	e.userinfo(b)
	if n := e.wiki.Requests(mwoauthtest.EndpointOAuth2Token) - base; n != 5 {
		t.Fatalf("%d token requests in all; want 5", n)
	}
}

// The rotated tokens reach the cookie or the store: after a restart of
// the app (a new Auth with the same keys, and the same store), the
// session refreshes with the newest refresh token, which is the only one
// the wiki accepts.
func testOAuth2RefreshPersistsAcrossRestart(t *testing.T, p mwoauth.Protocol) {
	for _, store := range []bool{false, true} {
		t.Run(map[bool]string{false: "cookie", true: "store"}[store], func(t *testing.T) {
			var st session.Store
			if store {
				st = session.NewMemoryStore()
			}
			e := newEnv(t, p, withConfig(func(c *mwoauth.Config) { c.SessionStore = st }))
			b := e.browser()
			e.mustLogin(b)
			base := e.wiki.Requests(mwoauthtest.EndpointOAuth2Token)
			for i := 1; i <= 3; i++ {
				e.clock.Advance(2 * time.Hour)
				e.userinfo(b)
				if n := e.wiki.Requests(mwoauthtest.EndpointOAuth2Token) - base; n != i {
					t.Fatalf("restart %d: %d refreshes; want %d", i, n, i)
				}
				e.restart()
			}
		})
	}
}

// A public client (no secret) logs in with PKCE alone and refreshes.
func testOAuth2PublicClient(t *testing.T, p mwoauth.Protocol) {
	spy := &tokenSpy{}
	e := newEnv(t, p, withPublicClient(), withTokenSpy(spy))
	if e.cfg.ClientSecret != "" {
		t.Fatal("the public client has a secret")
	}
	b := e.browser()
	e.mustLogin(b)
	e.userinfo(b)
	e.clock.Advance(2 * time.Hour)
	e.userinfo(b)
	for _, f := range spy.forms {
		if f.Has("client_secret") || f.Get("client_id") != e.cfg.ClientID {
			t.Errorf("token request %v: want client_id and no client_secret", f["grant_type"])
		}
	}
	if ex := spy.grants("authorization_code"); len(ex) != 1 || ex[0].Get("code_verifier") == "" {
		t.Fatalf("exchanges %d, verifier %q", len(ex), ex[0].Get("code_verifier"))
	}
	if len(spy.grants("refresh_token")) != 1 {
		t.Fatalf("%d refreshes; want 1", len(spy.grants("refresh_token")))
	}
}

// New warns once about OAuth 2 with the cookie store (several instances
// need a server-side store), and not with a server store.
func testOAuth2CookieStoreWarning(t *testing.T, p mwoauth.Protocol) {
	const warning = "server-side SessionStore"
	e := newEnv(t, p)
	if n := strings.Count(e.logs.String(), warning); n != 1 || !strings.Contains(e.logs.String(), "level=WARN") {
		t.Fatalf("%d warnings at New with the cookie store; want 1: %s", n, e.logs.String())
	}
	e2 := newEnv(t, p, withConfig(func(c *mwoauth.Config) { c.SessionStore = session.NewMemoryStore() }))
	if strings.Contains(e2.logs.String(), warning) {
		t.Fatalf("a warning with a server store: %s", e2.logs.String())
	}
	e1 := newEnv(t, mwoauth.OAuth1)
	if strings.Contains(e1.logs.String(), warning) {
		t.Fatalf("a warning with OAuth 1.0a: %s", e1.logs.String())
	}
}

// R9 with a server-side store and two instances of the app: instance B
// loaded the session before instance A refreshed it; B's own refresh with
// the old refresh token is refused by the wiki (no grace period), so B
// re-reads the session from the store and uses A's new tokens instead of
// logging the user out.
func testOAuth2TwoInstancesServerStore(t *testing.T, p mwoauth.Protocol) {
	store := session.NewMemoryStore()
	e := newEnv(t, p, withConfig(func(c *mwoauth.Config) { c.SessionStore = store }))
	b := e.browser()
	e.mustLogin(b)
	authB, err := mwoauth.New(e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	loaded, gate := make(chan struct{}), make(chan struct{})
	appB := httptest.NewServer(authB.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(loaded)
		select {
		case <-gate:
		case <-time.After(10 * time.Second):
		}
		res, err := authB.Request(r, url.Values{"action": {"query"}, "meta": {"userinfo"}})
		if err != nil {
			http.Error(w, "api error: "+errName(err), http.StatusBadGateway)
			return
		}
		_ = json.NewEncoder(w).Encode(res)
	})))
	defer appB.Close()
	base := e.wiki.Requests(mwoauthtest.EndpointOAuth2Token)
	e.clock.Advance(2 * time.Hour)

	done := make(chan response, 1)
	go func() {
		resp, err := b.c.Get(appB.URL + "/userinfo") // the same cookie: ports do not separate cookies
		if err != nil {
			done <- response{body: err.Error()}
			return
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		done <- response{resp, string(body)}
	}()
	<-loaded
	e.userinfo(b) // instance A refreshes and stores the new tokens
	close(gate)
	r := <-done
	if r.Response == nil || r.StatusCode != http.StatusOK || !strings.Contains(r.body, `"name":"Alice"`) {
		t.Fatalf("instance B after A's refresh: %q", r.body)
	}
	if n := e.wiki.Requests(mwoauthtest.EndpointOAuth2Token) - base; n != 2 {
		t.Fatalf("%d token requests; want 2 (A's refresh, B's refused one)", n)
	}
	e.userinfo(b) // still logged in at A
}

var (
	formRe  = regexp.MustCompile(`(?s)<form\b([^>]*)>(.*?)</form>`)
	inputRe = regexp.MustCompile(`<input\b([^>]*)>`)
	attrRe  = regexp.MustCompile(`([a-zA-Z_:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')`)
)

func htmlAttrs(s string) map[string]string {
	m := map[string]string{}
	for _, a := range attrRe.FindAllStringSubmatch(s, 50) {
		m[strings.ToLower(a[1])] = html.UnescapeString(a[2] + a[3])
	}
	return m
}

// findHTMLForm returns the action and inputs of the form whose attributes
// contain marker (unchecked checkboxes left out, as a browser does).
func findHTMLForm(page, marker string) (string, url.Values, bool) {
	for _, m := range formRe.FindAllStringSubmatch(page, 20) {
		if !strings.Contains(m[1], marker) {
			continue
		}
		v := url.Values{}
		for _, in := range inputRe.FindAllStringSubmatch(m[2], 200) {
			a := htmlAttrs(in[1])
			if t := strings.ToLower(a["type"]); a["name"] == "" || (t == "checkbox" || t == "radio") && !strings.Contains(in[1], "checked") {
				continue
			}
			v.Add(a["name"], a["value"])
		}
		return htmlAttrs(m[1])["action"], v, true
	}
	return "", nil, false
}

// declineAtWiki plays Alice at the wiki like Server.Authorize does, but
// presses Cancel on the consent form, and returns where the wiki sends the
// browser back to (mwoauthtest has no helper for this).
func (e *env) declineAtWiki(authorizeURL string) *url.URL {
	e.t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	wiki, _ := url.Parse(e.wiki.URL)
	target, _ := url.Parse(authorizeURL)
	var form url.Values
	for range 20 {
		if target.Host != wiki.Host {
			return target
		}
		method, body := http.MethodGet, io.Reader(nil)
		if form != nil {
			method, body = http.MethodPost, strings.NewReader(form.Encode())
		}
		req, _ := http.NewRequest(method, target.String(), body)
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		resp, err := c.Do(req)
		if err != nil {
			e.t.Fatal(err)
		}
		page, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if resp.StatusCode/100 == 3 {
			target, err = target.Parse(resp.Header.Get("Location"))
			if err != nil {
				e.t.Fatal(err)
			}
			form = nil
			continue
		}
		var action string
		var ok bool
		switch text := string(page); {
		case strings.Contains(text, `name="userlogin"`):
			action, form, ok = findHTMLForm(text, `name="userlogin"`)
			form.Set("wpName", "Alice")
			form.Set("wpPassword", mwoauthtest.DefaultPassword)
			form.Set("wploginattempt", "Log in")
		case strings.Contains(text, "mw-mwoauth-authorize-form"):
			action, form, ok = findHTMLForm(text, "mw-mwoauth-authorize-form")
			form.Del("accept")
			form.Set("cancel", "Cancel")
		}
		if !ok {
			e.t.Fatalf("the wiki showed an unexpected page (HTTP %d) at %s", resp.StatusCode, target)
		}
		if target, err = target.Parse(action); err != nil {
			e.t.Fatal(err)
		}
	}
	e.t.Fatal("more than 20 hops at the wiki")
	return nil
}

// Cancel pressed on the fake's consent form, end to end (1.39 and 1.43):
// the wiki sends error=unauthorized_client without state, the app shows
// the declined page, and the pending login is left to expire.
func testOAuth2DeclinedAtWiki(t *testing.T, p mwoauth.Protocol) {
	for _, v := range []mwoauthtest.Version{mwoauthtest.MW139, mwoauthtest.MW143} {
		e := newEnv(t, p, withWiki(mwoauthtest.WithVersion(v)))
		b := e.browser()
		authURL := e.startLogin(b, "/")
		cb := e.declineAtWiki(authURL)
		q := cb.Query()
		if cb.Path != "/oauth-callback" || q.Get("error") != "unauthorized_client" || q.Has("state") || q.Has("code") {
			t.Fatalf("version %d: the wiki sent the declined user to %s", v, cb)
		}
		r := b.get(cb.String())
		if r.StatusCode != http.StatusForbidden || !strings.Contains(r.body, "You declined") {
			t.Fatalf("version %d: declined callback = %d %q", v, r.StatusCode, r.body)
		}
		if n := e.wiki.Requests(mwoauthtest.EndpointOAuth2Token); n != 0 {
			t.Fatalf("version %d: %d token requests after a declined consent", v, n)
		}
		if r := b.get(e.app.URL + "/"); !strings.Contains(r.body, "anonymous") {
			t.Fatalf("version %d: logged in after declining: %q", v, r.body)
		}
	}
}

// Auth.Client refreshes too: ahead of expiry, and after api.php refused
// the token (the POST is sent again with its body).
func testOAuth2ClientRefreshes(t *testing.T, p mwoauth.Protocol) {
	e := newEnv(t, p)
	b := e.browser()
	e.mustLogin(b)
	base := e.wiki.Requests(mwoauthtest.EndpointOAuth2Token)
	raw := func(want int) {
		t.Helper()
		r := b.get(e.app.URL + "/raw")
		if r.StatusCode != http.StatusOK || r.Header.Get("X-Api-Error") != "" || !strings.Contains(r.body, `"name":"Alice"`) {
			t.Fatalf("/raw = %d %q %q", r.StatusCode, r.Header.Get("X-Api-Error"), r.body)
		}
		if n := e.wiki.Requests(mwoauthtest.EndpointOAuth2Token) - base; n != want {
			t.Fatalf("%d refreshes; want %d", n, want)
		}
	}
	raw(0)
	e.clock.Advance(2 * time.Hour) // expired by our clock
	raw(1)
	e.wiki.Advance(2 * time.Hour) // expired by the wiki's clock only
	raw(2)
	e.userinfo(b) // the rotated tokens were stored
	if n := e.wiki.Requests(mwoauthtest.EndpointOAuth2Token) - base; n != 2 {
		t.Fatalf("%d refreshes; want 2", n)
	}
}
