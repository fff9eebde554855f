package mwoauth_test

import (
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/wikiauth/mwoauth"
	"github.com/wikiauth/mwoauth/mwoauthtest"
)

// HEAD (a link checker, a prefetch) neither starts a login at the wiki nor
// uses up a pending one.
func TestHeadDoesNotLogIn(t *testing.T) {
	for _, p := range []mwoauth.Protocol{mwoauth.OAuth1, mwoauth.OAuth2} {
		t.Run(p.String(), func(t *testing.T) {
			e := newEnv(t, p)
			b := e.browser()
			before := e.wiki.Requests(mwoauthtest.EndpointInitiate)
			if r := b.do(http.MethodHead, e.app.URL+"/login", nil, nil); r.StatusCode != http.StatusMethodNotAllowed {
				t.Fatalf("HEAD /login = %d; want 405", r.StatusCode)
			}
			if n := e.wiki.Requests(mwoauthtest.EndpointInitiate); n != before {
				t.Fatalf("HEAD /login called the wiki")
			}
			cb := e.approve(e.startLogin(b, "/"))
			tokens := e.wiki.Requests(e.tokenEndpoint())
			if r := b.do(http.MethodHead, cb.String(), nil, nil); r.StatusCode != http.StatusMethodNotAllowed {
				t.Fatalf("HEAD callback = %d; want 405", r.StatusCode)
			}
			if n := e.wiki.Requests(e.tokenEndpoint()); n != tokens {
				t.Fatalf("HEAD callback called the token endpoint")
			}
			if r := b.get(cb.String()); r.StatusCode != http.StatusSeeOther {
				t.Fatalf("GET callback after a HEAD = %d; want the pending login intact", r.StatusCode)
			}
		})
	}
}

// The logout confirmation page keeps the Origin of its own form's POST
// (Referrer-Policy same-origin), so browsers without Sec-Fetch-Site can
// still log out; its POST with that Origin logs out.
func TestLogoutConfirmPageReferrerPolicy(t *testing.T) {
	e := newEnv(t, mwoauth.OAuth1)
	b := e.browser()
	e.mustLogin(b)
	r := b.get(e.app.URL + "/logout")
	if r.StatusCode != http.StatusOK || r.Header.Get("Referrer-Policy") != "same-origin" || !strings.Contains(r.body, `content="same-origin"`) {
		t.Fatalf("confirm page = %d, Referrer-Policy %q", r.StatusCode, r.Header.Get("Referrer-Policy"))
	}
	h := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Origin": {e.app.URL}}
	if r := b.do(http.MethodPost, e.app.URL+"/logout", h, strings.NewReader("next=%2F")); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("confirmed logout = %d", r.StatusCode)
	}
	if r := b.get(e.app.URL + "/"); !strings.Contains(r.body, "anonymous") {
		t.Fatalf("still logged in: %q", r.body)
	}
}

type countingJar struct{ n atomic.Int32 }

func (j *countingJar) SetCookies(*url.URL, []*http.Cookie) { j.n.Add(1) }
func (j *countingJar) Cookies(*url.URL) []*http.Cookie     { return nil }

// A Config.HTTPClient with a cookie jar does not make users share the
// wiki's cookies: the jar never sees them.
func TestHTTPClientJarNotShared(t *testing.T) {
	jar := &countingJar{}
	cookieTransport := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		resp, err := http.DefaultTransport.RoundTrip(r)
		if err == nil {
			resp.Header.Add("Set-Cookie", "wikisession=abc; Path=/")
		}
		return resp, err
	})
	e := newEnv(t, mwoauth.OAuth1, withConfig(func(c *mwoauth.Config) {
		c.HTTPClient = &http.Client{Transport: cookieTransport, Jar: jar}
	}))
	b := e.browser()
	e.mustLogin(b)
	if r := b.get(e.app.URL + "/userinfo"); r.StatusCode != http.StatusOK {
		t.Fatalf("/userinfo = %d %q", r.StatusCode, r.body)
	}
	if n := jar.n.Load(); n != 0 {
		t.Fatalf("the shared jar received the wiki's cookies %d times", n)
	}
}
