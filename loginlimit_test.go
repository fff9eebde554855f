package mwoauth_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wikiauth/mwoauth"
	"github.com/wikiauth/mwoauth/session"
)

// SECURITY.md item 14: Config.LoginRateLimit, per client address and per
// browser session.
func TestLoginRateLimit(t *testing.T) {
	for _, p := range both {
		t.Run(p.String()+"/PerIP", func(t *testing.T) { testLoginRateLimitPerIP(t, p) })
		t.Run(p.String()+"/PerSession", func(t *testing.T) { testLoginRateLimitPerSession(t, p) })
		t.Run(p.String()+"/Off", func(t *testing.T) { testLoginRateLimitOff(t, p) })
	}
}

// initiates counts the wiki calls that /login makes (OAuth 1.0a only).
func (e *env) initiates() int { return e.wiki.Requests("Special:OAuth/initiate") }

// wantLimited fails unless r is the 429 page with a Retry-After of about
// want seconds, without cookies.
func wantLimited(t *testing.T, r response, want int) {
	t.Helper()
	if r.StatusCode != http.StatusTooManyRequests || !strings.Contains(r.body, "Too many login attempts") {
		t.Fatalf("/login over the limit = %d %q; want 429", r.StatusCode, r.body)
	}
	secs, err := strconv.Atoi(r.Header.Get("Retry-After"))
	if err != nil || secs < 1 || secs > want {
		t.Fatalf("Retry-After %q; want 1..%d", r.Header.Get("Retry-After"), want)
	}
	if c := r.Header.Values("Set-Cookie"); len(c) != 0 {
		t.Fatalf("the 429 sets cookies: %q", c)
	}
}

// 21 logins from one address within a second: 20 start, the 21st is 429
// without a wiki call, whatever X-Forwarded-For says; a refill lets one
// more through.
func testLoginRateLimitPerIP(t *testing.T, p mwoauth.Protocol) {
	e := newEnv(t, p, withConfig(func(c *mwoauth.Config) {
		c.LoginRateLimit = mwoauth.LoginRateLimit{PerIP: mwoauth.LoginRate{Burst: 20, Every: 30 * time.Second}}
	}))
	start := time.Now()
	before := e.initiates()
	for i := range 20 {
		// A new browser each time (no cookies) and a forged client address.
		r := e.browser().get(e.app.URL+"/login", "X-Forwarded-For", "198.51.100."+strconv.Itoa(i))
		if r.StatusCode != http.StatusSeeOther {
			t.Fatalf("login %d = %d %q; want 303", i+1, r.StatusCode, r.body)
		}
	}
	started := e.initiates()
	r := e.browser().get(e.app.URL+"/login", "X-Forwarded-For", "203.0.113.7", "X-Real-Ip", "203.0.113.7")
	wantLimited(t, r, 30)
	if p == mwoauth.OAuth1 && (started-before != 20 || e.initiates() != started) {
		t.Fatalf("initiate calls: %d for 20 logins, %d for the refused one", started-before, e.initiates()-started)
	}
	t.Logf("21 logins in %v: the 21st got 429, Retry-After %s", time.Since(start).Round(time.Millisecond), r.Header.Get("Retry-After"))
	if !strings.Contains(e.logs.String(), "too many logins") {
		t.Fatalf("no log line about the refused login")
	}

	e.clock.Advance(30 * time.Second)
	if r := e.browser().get(e.app.URL + "/login"); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("after a refill: /login = %d; want 303", r.StatusCode)
	}
	wantLimited(t, e.browser().get(e.app.URL+"/login"), 30)
	// Logins in progress finish: the callback is not limited.
	b := e.browser()
	e.clock.Advance(30 * time.Second)
	cb := e.approve(e.startLogin(b, "/"))
	if r := b.get(cb.String()); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("callback with the /login limit exhausted = %d", r.StatusCode)
	}
	// A logged-in user sent on to next is not counted and not refused.
	for range 3 {
		if r := b.get(e.app.URL + "/login?next=%2Fpage"); r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/page" {
			t.Fatalf("logged-in /login?next = %d %q", r.StatusCode, r.Header.Get("Location"))
		}
	}
}

// One browser session may start 3 logins; the 4th is refused while another
// browser from the same address still gets through.
func testLoginRateLimitPerSession(t *testing.T, p mwoauth.Protocol) {
	for _, store := range []bool{false, true} {
		t.Run("store="+strconv.FormatBool(store), func(t *testing.T) {
			e := newEnv(t, p, withConfig(func(c *mwoauth.Config) {
				c.LoginRateLimit = mwoauth.LoginRateLimit{PerSession: mwoauth.LoginRate{Burst: 3, Every: time.Minute}}
				if store {
					c.SessionStore = session.NewMemoryStore()
				}
			}))
			b := e.browser()
			b.get(e.app.URL + "/value?set=red") // a session cookie
			for i := range 3 {
				if r := b.get(e.app.URL + "/login"); r.StatusCode != http.StatusSeeOther {
					t.Fatalf("login %d = %d", i+1, r.StatusCode)
				}
			}
			wantLimited(t, b.get(e.app.URL+"/login"), 60)
			other := e.browser()
			other.get(e.app.URL + "/value?set=blue")
			if r := other.get(e.app.URL + "/login"); r.StatusCode != http.StatusSeeOther {
				t.Fatalf("another browser's /login = %d; want 303", r.StatusCode)
			}
			e.clock.Advance(time.Minute)
			if r := b.get(e.app.URL + "/login"); r.StatusCode != http.StatusSeeOther {
				t.Fatalf("after a minute: /login = %d; want 303", r.StatusCode)
			}
		})
	}
}

// The default sets no limit.
func testLoginRateLimitOff(t *testing.T, p mwoauth.Protocol) {
	e := newEnv(t, p)
	b := e.browser()
	b.get(e.app.URL + "/value?set=red")
	for i := range 30 {
		if r := b.get(e.app.URL + "/login"); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("login %d without a limit = %d", i+1, r.StatusCode)
		}
	}
}

func TestLoginRateLimitConfig(t *testing.T) {
	for name, l := range map[string]mwoauth.LoginRateLimit{
		"negative burst":     {PerIP: mwoauth.LoginRate{Burst: -1, Every: time.Second}},
		"burst without rate": {PerIP: mwoauth.LoginRate{Burst: 5}},
		"rate without burst": {PerSession: mwoauth.LoginRate{Every: time.Second}},
		"negative max":       {MaxTracked: -1},
	} {
		cfg := mwoauth.Config{
			Wiki: "http://127.0.0.1:1/w", ConsumerKey: "k", ConsumerSecret: "s",
			CallbackURL: "http://127.0.0.1:2/oauth-callback", UserAgent: testUA,
			SessionKeys: [][]byte{make([]byte, 32)}, LoginRateLimit: l,
		}
		if _, err := mwoauth.New(cfg); err == nil || !strings.Contains(err.Error(), "LoginRateLimit") {
			t.Errorf("%s: New = %v; want a LoginRateLimit config error", name, err)
		}
	}
}
