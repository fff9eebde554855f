package mwoauth_test

import (
	"strings"
	"testing"

	"github.com/wikiauth/mwoauth"
	"github.com/wikiauth/mwoauth/mwoauthtest"
)

// A session made with OAuth 1.0a ends when the app is reconfigured for
// OAuth 2.0 (same keys): its tokens cannot be used, so the user is
// anonymous and can log in again, instead of failing at the first API call.
func TestProtocolSwitchEndsSession(t *testing.T) {
	e := newEnv(t, mwoauth.OAuth1)
	b := e.browser()
	e.mustLogin(b)
	c := e.wiki.AddConsumer(mwoauthtest.Consumer{Name: "switch", Version: 2, Confidential: true,
		Callback: e.cfg.CallbackURL, Grants: []string{"basic"}})
	e.cfg.Protocol = mwoauth.OAuth2
	e.cfg.ConsumerKey, e.cfg.ConsumerSecret = "", ""
	e.cfg.ClientID, e.cfg.ClientSecret = c.ClientID(), c.ClientSecret()
	e.restart()
	if r := b.get(e.app.URL + "/"); !strings.Contains(r.body, "anonymous") {
		t.Fatalf("/ after the switch = %q; want anonymous", r.body)
	}
	if r := b.get(e.app.URL + "/userinfo"); r.StatusCode != 303 || !strings.HasPrefix(r.Header.Get("Location"), "/login") {
		t.Fatalf("/userinfo after the switch = %d %q; want a redirect to log in", r.StatusCode, r.Header.Get("Location"))
	}
	e.proto = mwoauth.OAuth2
	e.mustLogin(b)
	if r := b.get(e.app.URL + "/"); !strings.Contains(r.body, "Logged in as Alice") {
		t.Fatalf("/ after logging in with OAuth 2 = %q", r.body)
	}
}
