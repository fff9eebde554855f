package mwoauth_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wikiauth/mwoauth"
	"github.com/wikiauth/mwoauth/mwoauthtest"
	"github.com/wikiauth/mwoauth/session"
)

// SECURITY.md (b), the reliability table, at the login layer: the app's
// /login and callback against the fake wiki's fault injection. Rows
// covered elsewhere: R1 and R3's initiate retry (testWikiUnavailable), R6
// (ratelog_test.go), R9 and R10 (oauth2_e2e_test.go), R11
// (testRevokedToken), R12 (testCookieReplayAndMaxAge, config_test.go),
// R13 and R20 (package session), R14 and R15 (session/sessiontest's
// TestLogin), R16's own-TTL half and R18 (testCallbackReplayAndExpiry,
// testParallelCallbacksOneExchange), R17 (testOAuth2Declined,
// testPendingLoginsBounded), R21's start-up check (config_test.go).
var reliabilityTests = []protocolTest{
	{"R2/HangingWiki", both, testR2HangingWiki},
	{"R2/ClientDisconnect", both, testR2ClientDisconnect},
	{"R3/TokenNotRetried", both, testR3TokenNotRetried},
	{"R4/Truncated", both, testR4Truncated},
	{"R4/PartialAnswers", both, testR4PartialAnswers},
	{"R5/Oversized", both, testR5Oversized},
	{"R7/ClockSkew", []mwoauth.Protocol{mwoauth.OAuth1}, testR7ClockSkew},
	{"R8/RedirectNotFollowed", both, testR8RedirectNotFollowed},
	{"R16/WikiSideExpiry", both, testR16WikiSideExpiry},
	{"R19/TwoTabs", both, testR19TwoTabs},
	{"R21/UserAgentOnEveryCall", both, testR21UserAgentOnEveryCall},
	{"R22/ShutdownMidCallback", both, testR22ShutdownMidCallback},
}

func TestReliability(t *testing.T) {
	runProtocolTests(t, reliabilityTests)
}

// Wide bounds: a failing wiki must never hold a login route for longer.
const (
	promptly   = 5 * time.Second  // a route answers, or a cancelled call ends
	maxHeapUse = 20 << 20         // peak HeapAlloc growth while reading a 100 MB answer
	maxAllocs  = 64 << 20         // all bytes allocated meanwhile (reading it all would be > 100 MB)
	hugeAnswer = int64(100 << 20) // the fake's oversized answer
)

// loginStage is one call to the wiki during a login.
type loginStage struct {
	name     string
	endpoint mwoauthtest.Endpoint
	// atLogin: the call is made by /login (else by the callback).
	atLogin bool
	// retried: one dropped connection or 5xx is tried again (SECURITY.md
	// R3: initiate and identify, which are idempotent).
	retried bool
}

func loginStages(p mwoauth.Protocol) []loginStage {
	if p == mwoauth.OAuth2 {
		// OAuth 2's /login calls no wiki.
		return []loginStage{
			{"token", mwoauthtest.EndpointOAuth2Token, false, false},
			{"profile", mwoauthtest.EndpointOAuth2Profile, false, true}, // retried once (R3)
		}
	}
	return []loginStage{
		{"initiate", mwoauthtest.EndpointInitiate, true, true},
		{"token", mwoauthtest.EndpointToken, false, false},
		{"identify", mwoauthtest.EndpointIdentify, false, true},
	}
}

// failAt runs a login of b up to the stage's route with faults queued at the
// stage's endpoint just before that route is requested, and returns the
// route's answer and how long it took.
func (e *env) failAt(b *browser, s loginStage, faults []mwoauthtest.Fault) (response, time.Duration) {
	e.t.Helper()
	target := e.app.URL + e.auth.LoginPath() + "?next=%2Fdone"
	if !s.atLogin {
		target = e.approve(e.startLogin(b, "/done")).String()
	}
	for _, f := range faults {
		e.wiki.FailNext(s.endpoint, f)
	}
	start := time.Now()
	r := b.get(target)
	return r, time.Since(start)
}

// setsSession reports whether r hands the browser a session cookie.
func setsSession(r response) bool {
	for _, c := range r.Cookies() {
		if c.Name == session.DefaultCookieName && c.Value != "" && c.MaxAge >= 0 {
			return true
		}
	}
	return false
}

// wantAnonymous fails the test unless b's session is anonymous.
func (e *env) wantAnonymous(b *browser, what string) {
	e.t.Helper()
	if r := b.get(e.app.URL + "/"); !strings.Contains(r.body, "anonymous") {
		e.t.Fatalf("%s: / = %q; want anonymous (no partial login)", what, r.body)
	}
}

// wantFailedPage fails the test unless r is the library's error page with
// a 5xx status (502, or 504 for a timeout), without a session cookie.
func (e *env) wantFailedPage(r response, what string) {
	e.t.Helper()
	if r.StatusCode != http.StatusBadGateway && r.StatusCode != http.StatusGatewayTimeout {
		e.t.Fatalf("%s: %d %q; want 502 or 504", what, r.StatusCode, r.body)
	}
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") || !strings.Contains(r.body, "<h1>") {
		e.t.Fatalf("%s: not the error page: %q", what, r.body)
	}
	if setsSession(r) {
		e.t.Fatalf("%s: the error page sets a session cookie", what)
	}
}

// R2: a wiki that hangs at any call of the login, with a 200 ms client
// timeout: the route answers 504 promptly and nobody is logged in.
func testR2HangingWiki(t *testing.T, p mwoauth.Protocol) {
	e := newEnv(t, p, withConfig(func(c *mwoauth.Config) {
		c.HTTPClient = &http.Client{Timeout: 200 * time.Millisecond}
	}))
	for _, s := range loginStages(p) {
		t.Run(s.name, func(t *testing.T) {
			b := e.browser()
			before := e.wiki.Requests(s.endpoint)
			r, took := e.failAt(b, s, []mwoauthtest.Fault{{Latency: 30 * time.Second}})
			e.wantFailedPage(r, s.name+" hanging")
			if r.StatusCode != http.StatusGatewayTimeout {
				t.Fatalf("%s hanging: %d; want 504 for a timeout", s.name, r.StatusCode)
			}
			if took > promptly {
				t.Fatalf("%s hanging: the route took %v; want < %v", s.name, took, promptly)
			}
			// A timeout is not retried (SECURITY.md R3: no retry after a
			// timeout, which would double the wait).
			if n := e.wiki.Requests(s.endpoint) - before; n != 1 {
				t.Fatalf("%s hanging: %d attempts; want 1", s.name, n)
			}
			e.wantAnonymous(b, s.name+" hanging")
			t.Logf("%s hanging 30 s, client timeout 200 ms: %d after %v", s.name, r.StatusCode, took.Round(time.Millisecond))
		})
	}
	wantNoLibraryGoroutines(t)
}

// R2: a browser that gives up during the callback cancels the outbound
// call: the app's handler returns at once, the fake wiki's request ends
// (its Close, which waits for every request, returns long before the 30 s
// latency), and nobody is logged in.
func testR2ClientDisconnect(t *testing.T, p mwoauth.Protocol) {
	for _, s := range loginStages(p) {
		if s.atLogin {
			continue
		}
		t.Run(s.name, func(t *testing.T) {
			e := newEnv(t, p) // the default 30 s client timeout
			returned := make(chan struct{}, 1)
			inner := e.auth.Wrap(testAppAPI(e.auth, e.wiki.ScriptPath()+"/api.php"))
			e.setHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				inner.ServeHTTP(w, r)
				if r.URL.Path == e.auth.CallbackPath() {
					returned <- struct{}{}
				}
			}))
			b := e.browser()
			cb := e.approve(e.startLogin(b, "/"))
			before := e.wiki.Requests(s.endpoint)
			e.wiki.FailNext(s.endpoint, mwoauthtest.Fault{Latency: 30 * time.Second})

			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, cb.String(), nil)
			start := time.Now()
			resp, err := b.c.Do(req)
			if err == nil {
				resp.Body.Close()
				t.Fatalf("the callback answered %d before the hanging %s call ended", resp.StatusCode, s.name)
			}
			select {
			case <-returned:
			case <-time.After(promptly):
				t.Fatalf("the callback handler still runs %v after the browser left", promptly)
			}
			handlerDone := time.Since(start)
			if n := e.wiki.Requests(s.endpoint) - before; n != 1 {
				t.Fatalf("%d %s calls; want 1", n, s.name)
			}
			closed := make(chan struct{})
			go func() { e.wiki.Close(); close(closed) }()
			select {
			case <-closed:
			case <-time.After(promptly):
				t.Fatalf("the fake wiki's %s request still runs: the outbound call was not cancelled", s.name)
			}
			wikiDone := time.Since(start)
			e.wantAnonymous(b, "after the disconnect")
			wantNoLibraryGoroutines(t)
			t.Logf("browser left after 300 ms: handler returned after %v, the wiki's request ended by %v",
				handlerDone.Round(time.Millisecond), wikiDone.Round(time.Millisecond))
		})
	}
}

// libraryFrame matches a stack frame in the library's packages (not in
// its tests, nor in the fake wiki).
var libraryFrame = regexp.MustCompile(`^github\.com/wikiauth/mwoauth(/oauth1|/session|/mwapi|/internal/[a-z]+)?\.`)

// runsLibraryCode reports whether goroutine dump g has a library frame
// outside a _test.go file (the package's internal tests, e.g. paused
// parallel ones, do not count).
func runsLibraryCode(g string) bool {
	lines := strings.Split(g, "\n")
	for i := 0; i+1 < len(lines); i++ {
		if !libraryFrame.MatchString(lines[i]) {
			continue
		}
		file, _, _ := strings.Cut(strings.TrimSpace(lines[i+1]), ":")
		if !strings.HasSuffix(file, "_test.go") {
			return true
		}
	}
	return false
}

// wantNoLibraryGoroutines fails the test if, within a few seconds, some
// goroutine still runs library code. The library starts no goroutines of
// its own, so one left over is a call that outlived its request (the
// stdlib stand-in for goleak).
func wantNoLibraryGoroutines(t *testing.T) {
	t.Helper()
	buf := make([]byte, 8<<20)
	deadline := time.Now().Add(promptly)
	for {
		n := runtime.Stack(buf, true)
		var stuck []string
		for _, g := range strings.Split(string(buf[:n]), "\n\n") {
			if runsLibraryCode(g) {
				stuck = append(stuck, g)
			}
		}
		if len(stuck) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines still run library code:\n%s", len(stuck), strings.Join(stuck, "\n\n"))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// R3 at the callback: the single-use token exchange is never retried after
// a 5xx (one attempt, an error page), while identify and the OAuth 2 profile absorb one.
func testR3TokenNotRetried(t *testing.T, p mwoauth.Protocol) {
	e := newEnv(t, p)
	for _, s := range loginStages(p) {
		if s.atLogin {
			continue // initiate: testWikiUnavailable
		}
		t.Run(s.name, func(t *testing.T) {
			b := e.browser()
			before := e.wiki.Requests(s.endpoint)
			r, _ := e.failAt(b, s, []mwoauthtest.Fault{{Status: 503}})
			n := e.wiki.Requests(s.endpoint) - before
			if s.retried {
				if r.StatusCode != http.StatusSeeOther || n != 2 {
					t.Fatalf("one 503 at %s: %d after %d attempts; want a login after 2", s.name, r.StatusCode, n)
				}
				return
			}
			e.wantFailedPage(r, "503 at "+s.name)
			if !strings.Contains(r.body, "be reached") {
				t.Fatalf("503 at %s: page %q; want the wiki-unavailable message", s.name, r.body)
			}
			if n != 1 {
				t.Fatalf("503 at %s: %d attempts; want 1", s.name, n)
			}
			e.wantAnonymous(b, "503 at "+s.name)
		})
	}
}

// R4: an answer cut off halfway (full Content-Length, then the connection
// drops) at any call of the login is an error page, never a partial login.
// Initiate, identify and profile are retried once, so one cut answer is absorbed
// and two fail the login.
func testR4Truncated(t *testing.T, p mwoauth.Protocol) {
	e := newEnv(t, p)
	for _, s := range loginStages(p) {
		t.Run(s.name, func(t *testing.T) {
			faults := []mwoauthtest.Fault{{Truncate: true}}
			if s.retried {
				b := e.browser()
				before := e.wiki.Requests(s.endpoint)
				r, _ := e.failAt(b, s, faults)
				if n := e.wiki.Requests(s.endpoint) - before; r.StatusCode != http.StatusSeeOther || n != 2 {
					t.Fatalf("one truncated %s answer: %d after %d attempts; want the retry to succeed", s.name, r.StatusCode, n)
				}
				faults = append(faults, mwoauthtest.Fault{Truncate: true})
			}
			b := e.browser()
			r, _ := e.failAt(b, s, faults)
			e.wantFailedPage(r, "truncated "+s.name)
			e.wantAnonymous(b, "truncated "+s.name)
		})
	}
}

// gzipBadCRC compresses body and spoils the gzip trailer's checksum: every
// byte of body decompresses, then the reader reports the corruption.
func gzipBadCRC(body string) []byte {
	b := gzipped(body)
	b[len(b)-8] ^= 0xff
	return b
}

func gzipped(body string) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte(body))
	zw.Close()
	return buf.Bytes()
}

// R4 with answers that are complete on the wire but not whole: a token
// answer without its secret or type, cut JSON, a cut JWT, a profile without
// sub, and gzip whose checksum fails after a plausible body. The call is
// diverted (by Config.HTTPClient) to a stub that sends the answer; each
// ends on an error page, never in a login.
func testR4PartialAnswers(t *testing.T, p mwoauth.Protocol) {
	type stub struct {
		ct   string
		body []byte
		gzip bool
	}
	var mu sync.Mutex
	var current *stub
	var stubbed mwoauthtest.Endpoint
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		st := current
		mu.Unlock()
		if st == nil {
			http.Error(w, "no stub", http.StatusTeapot)
			return
		}
		w.Header().Set("Content-Type", st.ct)
		if st.gzip {
			w.Header().Set("Content-Encoding", "gzip")
		}
		w.Write(st.body)
	}))
	t.Cleanup(srv.Close)
	stubURL, _ := url.Parse(srv.URL)
	endpointOf := func(r *http.Request) mwoauthtest.Endpoint {
		switch {
		case strings.HasSuffix(r.URL.Path, "/rest.php/oauth2/access_token"):
			return mwoauthtest.EndpointOAuth2Token
		case strings.HasSuffix(r.URL.Path, "/rest.php/oauth2/resource/profile"):
			return mwoauthtest.EndpointOAuth2Profile
		case strings.HasSuffix(r.URL.Path, "/index.php"):
			return mwoauthtest.Endpoint(r.URL.Query().Get("title"))
		}
		return ""
	}
	e := newEnv(t, p, withConfig(func(c *mwoauth.Config) {
		c.HTTPClient = &http.Client{Timeout: 10 * time.Second, Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			mu.Lock()
			divert := current != nil && endpointOf(r) == stubbed
			mu.Unlock()
			if divert {
				r = r.Clone(r.Context())
				r.URL.Scheme, r.URL.Host, r.Host = stubURL.Scheme, stubURL.Host, ""
			}
			// http.DefaultTransport asks for gzip and decompresses itself.
			return http.DefaultTransport.RoundTrip(r)
		})}
	}))
	const (
		json = "application/json; charset=utf-8"
		text = "text/plain; charset=UTF-8"
	)
	profile := `{"sub":"3","username":"Alice","editcount":0,"confirmed_email":true,"blocked":false,"registered":"20240101000000","groups":["*","user"],"rights":["read"],"grants":["basic"]}`
	type tc struct {
		name     string
		endpoint mwoauthtest.Endpoint
		atLogin  bool
		stub     stub
		control  bool // a whole answer, which must work: the stub is used
	}
	var cases []tc
	if p == mwoauth.OAuth1 {
		cases = []tc{
			{"initiate control", mwoauthtest.EndpointInitiate, true, stub{text, gzipped("oauth_token=abc&oauth_token_secret=def&oauth_callback_confirmed=true"), true}, true},
			{"initiate without secret", mwoauthtest.EndpointInitiate, true, stub{text, []byte("oauth_token=abc&oauth_callback_confirmed=true"), false}, false},
			{"initiate bad gzip", mwoauthtest.EndpointInitiate, true, stub{text, gzipBadCRC("oauth_token=abc&oauth_token_secret=def&oauth_callback_confirmed=true"), true}, false},
			{"token without secret", mwoauthtest.EndpointToken, false, stub{json, []byte(`{"key":"0123456789abcdef"}`), false}, false},
			{"token cut JSON", mwoauthtest.EndpointToken, false, stub{json, []byte(`{"key":"0123456789abcdef","secret":"01234`), false}, false},
			{"identify cut JWT", mwoauthtest.EndpointIdentify, false, stub{json, []byte("eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJodHRwOi8vMTI3LjAuMC4x"), false}, false},
		}
	} else {
		cases = []tc{
			{"profile control", mwoauthtest.EndpointOAuth2Profile, false, stub{json, gzipped(profile), true}, true},
			{"token without token_type", mwoauthtest.EndpointOAuth2Token, false, stub{json, []byte(`{"access_token":"abc","expires_in":3600}`), false}, false},
			{"token cut JSON", mwoauthtest.EndpointOAuth2Token, false, stub{json, []byte(`{"token_type":"Bearer","expires_in":3600,"access_token":"abc`), false}, false},
			{"profile cut JSON", mwoauthtest.EndpointOAuth2Profile, false, stub{json, []byte(profile[:len(profile)/2]), false}, false},
			{"profile without sub", mwoauthtest.EndpointOAuth2Profile, false, stub{json, []byte(`{"username":"Alice"}`), false}, false},
			{"profile bad gzip", mwoauthtest.EndpointOAuth2Profile, false, stub{json, gzipBadCRC(profile), true}, false},
		}
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := e.browser()
			target := e.app.URL + e.auth.LoginPath()
			if !c.atLogin {
				target = e.approve(e.startLogin(b, "/")).String()
			}
			mu.Lock()
			st := c.stub
			current, stubbed = &st, c.endpoint
			mu.Unlock()
			r := b.get(target)
			mu.Lock()
			current = nil
			mu.Unlock()
			if c.control {
				if r.StatusCode != http.StatusSeeOther {
					t.Fatalf("%s: %d %q; want 303 (the stub's whole answer)", c.name, r.StatusCode, r.body)
				}
				return
			}
			if r.StatusCode < 400 || setsSession(r) {
				t.Fatalf("%s: %d %q, session cookie %v; want an error page", c.name, r.StatusCode, r.body, setsSession(r))
			}
			e.wantAnonymous(b, c.name)
		})
	}
}

// R5: a 100 MB answer at any call of the login is an error page, read
// only up to the call's limit: the heap grows by far less than the answer.
func testR5Oversized(t *testing.T, p mwoauth.Protocol) {
	e := newEnv(t, p)
	for _, s := range loginStages(p) {
		t.Run(s.name, func(t *testing.T) {
			b := e.browser()
			target := e.app.URL + e.auth.LoginPath()
			if !s.atLogin {
				target = e.approve(e.startLogin(b, "/")).String()
			}
			e.wiki.FailNext(s.endpoint, mwoauthtest.Fault{Oversize: hugeAnswer})
			var r response
			peak, total := heapGrowth(func() { r = b.get(target) })
			e.wantFailedPage(r, "oversized "+s.name)
			e.wantAnonymous(b, "oversized "+s.name)
			t.Logf("100 MB %s answer: %d; peak HeapAlloc growth %.1f MB, TotalAlloc growth %.1f MB",
				s.name, r.StatusCode, float64(peak)/(1<<20), float64(total)/(1<<20))
			if peak > maxHeapUse || total > maxAllocs {
				t.Fatalf("100 MB %s answer: heap grew by %d bytes (allocated %d); want < %d (< %d)", s.name, peak, total, maxHeapUse, maxAllocs)
			}
		})
	}
}

// heapGrowth runs f and returns the peak growth of HeapAlloc above the
// level after a GC (sampled every 2 ms while f runs, and at its end) and
// the bytes allocated meanwhile (TotalAlloc, which no sampling can miss).
func heapGrowth(f func()) (peak, total uint64) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base, totalBase := ms.HeapAlloc, ms.TotalAlloc
	var mu sync.Mutex
	high := base
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			mu.Lock()
			high = max(high, m.HeapAlloc)
			mu.Unlock()
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	func() {
		defer func() { close(stop); <-done }()
		f()
	}()
	runtime.ReadMemStats(&ms)
	mu.Lock()
	defer mu.Unlock()
	high = max(high, ms.HeapAlloc)
	return high - base, ms.TotalAlloc - totalBase
}

// R7 (OAuth 1.0a): the wiki's clock 400 s ahead, beyond its ±300 s window:
// /login fails with a page, and the log gives the offset (about 6m40s)
// and says to check the clock.
func testR7ClockSkew(t *testing.T, p mwoauth.Protocol) {
	e := newEnv(t, p)
	e.wiki.Advance(400 * time.Second)
	b := e.browser()
	r := b.get(e.app.URL + "/login")
	if r.StatusCode < 500 || setsSession(r) || len(r.Header.Values("Set-Cookie")) != 0 {
		t.Fatalf("/login with the wiki 400 s ahead = %d, cookies %q", r.StatusCode, r.Header.Values("Set-Cookie"))
	}
	if logs := e.logs.String(); !strings.Contains(logs, "NTP") || !strings.Contains(logs, "clock is 6m") {
		t.Fatalf("the log does not point at the clock:\n%s", logs)
	}
}

// R8: a redirect answering any signed (OAuth 1) or token-bearing (OAuth 2)
// call of the login is not followed: an error page, no request reaches the
// redirect's target, and the log names the Location.
func testR8RedirectNotFollowed(t *testing.T, p mwoauth.Protocol) {
	var hits atomic.Int64
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Write([]byte("oauth_token=attacker&oauth_token_secret=attacker"))
	}))
	t.Cleanup(target.Close)
	e := newEnv(t, p)
	for _, s := range loginStages(p) {
		t.Run(s.name, func(t *testing.T) {
			b := e.browser()
			loc := target.URL + "/moved/" + s.name
			r, _ := e.failAt(b, s, []mwoauthtest.Fault{{Redirect: loc + "?keep=secret"}})
			e.wantFailedPage(r, "redirect at "+s.name)
			if n := hits.Load(); n != 0 {
				t.Fatalf("redirect at %s: %d requests reached the redirect's target; want 0", s.name, n)
			}
			if strings.Contains(r.body, target.URL) {
				t.Fatalf("redirect at %s: the page shows the Location", s.name)
			}
			logs := e.logs.String()
			if !strings.Contains(logs, "/moved/"+s.name) {
				t.Fatalf("redirect at %s: the log does not name the Location:\n%s", s.name, logs)
			}
			if strings.Contains(logs, "keep=secret") {
				t.Fatalf("redirect at %s: the log has the Location's query", s.name)
			}
			e.wantAnonymous(b, "redirect at "+s.name)
		})
	}
}

// R16, the wiki's side: the wiki forgot the request token (OAuth 1, after
// 600 s) or the authorization code (OAuth 2, after 10 min) while our own
// pending login is still fresh: the "login expired" page, and the pending
// login is gone (a second try is refused without a call).
func testR16WikiSideExpiry(t *testing.T, p mwoauth.Protocol) {
	e := newEnv(t, p)
	b := e.browser()
	cb := e.approve(e.startLogin(b, "/"))
	e.wiki.Advance(11 * time.Minute)
	tokens := e.wiki.Requests(e.tokenEndpoint())
	r := b.get(cb.String())
	if r.StatusCode != http.StatusForbidden || !strings.Contains(r.body, "Your login has expired") || !strings.Contains(r.body, "Try again") {
		t.Fatalf("callback after the wiki expired the login = %d %q; want 403 and the login-expired page", r.StatusCode, r.body)
	}
	if setsSession(r) {
		t.Fatal("the login-expired page sets a session cookie")
	}
	if n := e.wiki.Requests(e.tokenEndpoint()) - tokens; n != 1 {
		t.Fatalf("%d token calls; want 1", n)
	}
	if r := b.get(cb.String()); r.StatusCode != http.StatusForbidden {
		t.Fatalf("the expired callback again = %d; want 403", r.StatusCode)
	}
	if n := e.wiki.Requests(e.tokenEndpoint()) - tokens; n != 1 {
		t.Fatalf("the pending login outlived the wiki's refusal: %d token calls", n)
	}
	e.wantAnonymous(b, "after the wiki-side expiry")
}

// R19: two tabs of one browser start a login each; the callbacks come back
// in reverse order: both succeed, each to its own next.
func testR19TwoTabs(t *testing.T, p mwoauth.Protocol) {
	for _, store := range []bool{false, true} {
		t.Run(fmt.Sprintf("store=%v", store), func(t *testing.T) {
			e := newEnv(t, p, withConfig(func(c *mwoauth.Config) {
				if store {
					c.SessionStore = session.NewMemoryStore()
				}
			}))
			b := e.browser()
			first := e.startLogin(b, "/one")
			second := e.startLogin(b, "/two")
			cb1, cb2 := e.approve(first), e.approve(second)
			for _, c := range []struct {
				cb   *url.URL
				next string
			}{{cb2, "/two"}, {cb1, "/one"}} {
				r := b.get(c.cb.String())
				if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != c.next {
					t.Fatalf("callback of the tab with next=%s = %d Location %q %q; want 303 %s",
						c.next, r.StatusCode, r.Header.Get("Location"), r.body, c.next)
				}
				if home := b.get(e.app.URL + "/"); !strings.Contains(home.body, "Logged in as Alice") {
					t.Fatalf("after the callback of %s: / = %q", c.next, home.body)
				}
			}
			e.userinfo(b)
		})
	}
}

// R21: every call the login makes to the wiki carries the configured
// User-Agent.
func testR21UserAgentOnEveryCall(t *testing.T, p mwoauth.Protocol) {
	var mu sync.Mutex
	var calls []string
	e := newEnv(t, p, withConfig(func(c *mwoauth.Config) {
		c.HTTPClient = &http.Client{Timeout: 10 * time.Second, Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			mu.Lock()
			calls = append(calls, r.URL.Path+"?"+r.URL.Query().Get("title")+" UA="+r.Header.Get("User-Agent"))
			mu.Unlock()
			return http.DefaultTransport.RoundTrip(r)
		})}
	}))
	b := e.browser()
	e.mustLogin(b)
	e.userinfo(b)
	b.get(e.app.URL + "/identity")
	mu.Lock()
	defer mu.Unlock()
	want := 4 // initiate, token, identify, API (OAuth 2: token, profile, API, profile)
	if p == mwoauth.OAuth2 {
		want = 3
	}
	if len(calls) < want {
		t.Fatalf("%d outbound calls captured: %q; want at least %d", len(calls), calls, want)
	}
	for _, c := range calls {
		// The API client may append its own product token.
		if !strings.Contains(c, " UA="+testUA) {
			t.Errorf("outbound call without the configured User-Agent: %s", c)
		}
	}
}

// R22: the app shuts down (http.Server.Shutdown) while a callback waits for
// a slow token call. Graceful: the callback finishes and the user is
// logged in. Forced (Shutdown's deadline passes, the connections are
// closed): either the browser got the full login, or nothing changed.
func testR22ShutdownMidCallback(t *testing.T, p mwoauth.Protocol) {
	for _, tc := range []struct {
		name  string
		grace time.Duration
		store bool
	}{
		{"graceful", 10 * time.Second, false},
		{"graceful/store", 10 * time.Second, true},
		{"forced", 100 * time.Millisecond, false},
		{"forced/store", 100 * time.Millisecond, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, p, withConfig(func(c *mwoauth.Config) {
				if tc.store {
					c.SessionStore = session.NewMemoryStore()
				}
			}))
			b := e.browser()
			cb := e.approve(e.startLogin(b, "/"))
			tokens := e.wiki.Requests(e.tokenEndpoint())
			e.wiki.FailNext(e.tokenEndpoint(), mwoauthtest.Fault{Latency: time.Second})

			type result struct {
				resp *http.Response
				err  error
			}
			done := make(chan result, 1)
			go func() {
				req, _ := http.NewRequest(http.MethodGet, cb.String(), nil)
				resp, err := b.c.Do(req)
				if err == nil {
					resp.Body.Close()
				}
				done <- result{resp, err}
			}()
			// Wait (bounded) until the callback is in the slow token call.
			deadline := time.Now().Add(promptly)
			for e.wiki.Requests(e.tokenEndpoint()) == tokens {
				if time.Now().After(deadline) {
					t.Fatal("the callback never reached the token endpoint")
				}
				time.Sleep(5 * time.Millisecond)
			}
			ctx, cancel := context.WithTimeout(context.Background(), tc.grace)
			defer cancel()
			err := e.app.Config.Shutdown(ctx)
			if tc.grace > time.Second {
				if err != nil {
					t.Fatalf("Shutdown: %v; want the in-flight callback to finish", err)
				}
			} else {
				if !errors.Is(err, context.DeadlineExceeded) {
					t.Fatalf("Shutdown with a 100 ms deadline: %v; want it to pass (the token call takes 1 s)", err)
				}
				e.app.CloseClientConnections()
			}
			var res result
			select {
			case res = <-done:
			case <-time.After(promptly):
				t.Fatal("the callback request never ended")
			}

			// The app is down: look at the browser's session through the
			// handler directly.
			loggedIn := e.directGet(b, "/")
			switch {
			case res.err == nil && res.resp.StatusCode == http.StatusSeeOther:
				if !strings.Contains(loggedIn, "Logged in as Alice") {
					t.Fatalf("the callback answered 303 but the session is %q", loggedIn)
				}
			case tc.grace > time.Second:
				t.Fatalf("graceful shutdown: the callback = %v %v; want the full login", res.resp, res.err)
			default:
				if !strings.Contains(loggedIn, "anonymous") {
					t.Fatalf("the callback failed (%v) but the session is %q; want no change", res.err, loggedIn)
				}
			}
			wantNoLibraryGoroutines(t)
			// (Not the error's text: it quotes the callback URL.)
			t.Logf("%s: callback failed: %v, session: %q", tc.name, res.err != nil, strings.TrimSpace(loggedIn))
		})
	}
}

// directGet serves path to b's cookies with the app's handler in-process
// (for when the app's server is down) and returns the body.
func (e *env) directGet(b *browser, path string) string {
	e.t.Helper()
	appURL, _ := url.Parse(e.app.URL)
	req := httptest.NewRequest(http.MethodGet, e.app.URL+path, nil)
	for _, c := range b.c.Jar.Cookies(appURL) {
		req.AddCookie(c)
	}
	w := httptest.NewRecorder()
	e.auth.Wrap(testApp(e.auth)).ServeHTTP(w, req)
	return w.Body.String()
}
