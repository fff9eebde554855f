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
	"sync/atomic"
	"testing"

	"github.com/wikiauth/mwoauth"
	"github.com/wikiauth/mwoauth/mwapi"
	"github.com/wikiauth/mwoauth/mwoauthtest"
	"github.com/wikiauth/mwoauth/oauth1"
)

// cookieWiki serves a fake wiki behind a front that sets a cookie on every
// answer (as Wikimedia's UseDC=master in the transcripts) and counts the
// requests that bring it back.
func cookieWiki(t *testing.T, opts ...mwoauthtest.Option) (wiki *mwoauthtest.Server, script string, returned *atomic.Int32) {
	t.Helper()
	front := httptest.NewUnstartedServer(nil)
	origin := "http://" + front.Listener.Addr().String()
	wiki = mwoauthtest.Start(t, append(opts, mwoauthtest.WithCanonicalServer(origin))...)
	returned = new(atomic.Int32)
	front.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ck, err := r.Cookie("UseDC"); err == nil && ck.Value == "master" {
			returned.Add(1)
		}
		http.SetCookie(w, &http.Cookie{Name: "UseDC", Value: "master", Path: "/", HttpOnly: true, MaxAge: 10})
		wiki.Handler().ServeHTTP(w, r)
	})
	front.Start()
	t.Cleanup(front.Close)
	return wiki, origin + "/w", returned
}

func whoAmI(ctx context.Context, c *mwapi.Client) (string, error) {
	var out struct {
		Query struct {
			Userinfo struct {
				Name string
				Anon bool
			}
		}
	}
	if err := c.Get(ctx, url.Values{"action": {"query"}, "meta": {"userinfo"}}, &out); err != nil {
		return "", err
	}
	if out.Query.Userinfo.Anon {
		return "", errors.New("anonymous")
	}
	return out.Query.Userinfo.Name, nil
}

func edit(ctx context.Context, c *mwapi.Client, title, text string) error {
	var out struct{ Edit struct{ Result string } }
	err := c.PostWithToken(ctx, "csrf", url.Values{"action": {"edit"}, "title": {title}, "appendtext": {text}}, &out)
	if err == nil && out.Edit.Result != "Success" {
		err = fmt.Errorf("edit result %q", out.Edit.Result)
	}
	return err
}

// TestOwnerOnlyOAuth1: the four values give a client that reads as the
// owner, edits with a CSRF token, and returns the wiki's cookies; the
// api.php URL works as well as the script path.
func TestOwnerOnlyOAuth1(t *testing.T) {
	wiki, script, returned := cookieWiki(t)
	c := wiki.AddConsumer(mwoauthtest.Consumer{OwnerOnly: true, Owner: "Alice", Grants: []string{"basic", "editpage"}})
	for _, w := range []string{script, script + "/", script + "/api.php"} {
		client, err := mwoauth.OwnerOnlyOAuth1(w, c.Key, c.Secret, c.AccessKey, c.AccessSecret, botUA)
		if err != nil {
			t.Fatalf("OwnerOnlyOAuth1(%q) = %v", w, err)
		}
		if name, err := whoAmI(t.Context(), client); err != nil || name != "Alice" {
			t.Fatalf("userinfo = %q, %v; want Alice", name, err)
		}
	}
	client, err := mwoauth.OwnerOnlyOAuth1(script, c.Key, c.Secret, c.AccessKey, c.AccessSecret, botUA)
	if err != nil {
		t.Fatal(err)
	}
	if n := returned.Load(); n != 0 {
		t.Fatalf("%d first requests of new clients carried a cookie; want none (one jar per client)", n)
	}
	if err := edit(t.Context(), client, "Test page 02", "\nbot was here"); err != nil {
		t.Fatalf("edit: %v", err)
	}
	if text, _ := wiki.PageText("Test page 02"); !strings.HasSuffix(text, "\nbot was here") {
		t.Errorf("page text = %q", text)
	}
	// Two requests: the CSRF token fetch got the cookie, the edit sent it back.
	if n := returned.Load(); n != 1 {
		t.Errorf("%d requests returned the wiki's cookie; want 1 (the edit after the token fetch)", n)
	}
}

// TestOwnerOnlyRefused: credentials the wiki refuses fail at the first
// call with the wiki's mwoauth-invalid-authorization as
// mwapi.ErrTokenRevoked, after exactly one request (no retry storm).
func TestOwnerOnlyRefused(t *testing.T) {
	wiki := mwoauthtest.Start(t)
	c := wiki.AddConsumer(mwoauthtest.Consumer{OwnerOnly: true, Owner: "Alice"})
	cases := []struct {
		name                   string
		ck, cs, ak, as         string
		wantInvalidSignature   bool
		wantAccessTokenMissing bool
	}{
		{"bad access secret", c.Key, c.Secret, c.AccessKey, "0000" + c.AccessSecret[4:], true, false},
		{"bad consumer secret", c.Key, "x" + c.Secret, c.AccessKey, c.AccessSecret, true, false},
		{"unknown access token", c.Key, c.Secret, "00000000000000000000000000000000", c.AccessSecret, false, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			client, err := mwoauth.OwnerOnlyOAuth1(wiki.ScriptPath(), tc.ck, tc.cs, tc.ak, tc.as, botUA)
			if err != nil {
				t.Fatal(err)
			}
			n := wiki.Requests(mwoauthtest.EndpointAPI)
			_, err = whoAmI(t.Context(), client)
			var ae *mwapi.APIError
			if !errors.Is(err, mwapi.ErrTokenRevoked) || !errors.As(err, &ae) || ae.Code != "mwoauth-invalid-authorization" {
				t.Fatalf("userinfo = %v; want mwapi.ErrTokenRevoked from mwoauth-invalid-authorization", err)
			}
			if tc.wantInvalidSignature && !strings.Contains(ae.Info, "Invalid signature") ||
				tc.wantAccessTokenMissing && !strings.Contains(ae.Info, "No approved grant") {
				t.Errorf("info = %q", ae.Info)
			}
			if got := wiki.Requests(mwoauthtest.EndpointAPI) - n; got != 1 {
				t.Errorf("%d api.php requests; want 1", got)
			}
			for _, s := range []string{tc.cs, tc.as} {
				if strings.Contains(err.Error(), s) {
					t.Errorf("error shows a secret: %v", err)
				}
			}
		})
	}
}

// TestOwnerOnlyInitiate: an owner-only consumer has no handshake; initiate
// answers mwoauthserver-consumer-owner-only (E010), which oauth1 reports as
// oauth1.ErrOwnerOnly.
func TestOwnerOnlyInitiate(t *testing.T) {
	wiki := mwoauthtest.Start(t)
	c := wiki.AddConsumer(mwoauthtest.Consumer{Name: "owner-only-app", OwnerOnly: true, Owner: "Alice"})
	cfg := &oauth1.Config{Wiki: wiki.ScriptPath(), ConsumerKey: c.Key, ConsumerSecret: c.Secret, UserAgent: botUA, HTTPClient: wiki.Client()}
	_, err := cfg.RequestToken(t.Context())
	var oe *oauth1.Error
	if !errors.Is(err, oauth1.ErrOwnerOnly) || !errors.As(err, &oe) || oe.Key != "mwoauthserver-consumer-owner-only" {
		t.Fatalf("RequestToken = %v; want oauth1.ErrOwnerOnly (mwoauthserver-consumer-owner-only)", err)
	}
	if !strings.Contains(oe.Message, "E010") {
		t.Errorf("message %q does not name E010", oe.Message)
	}
}

// TestOwnerOnlyValidation: bad input fails at once with ErrConfig, never
// showing a credential.
func TestOwnerOnlyValidation(t *testing.T) {
	const (
		w  = "http://127.0.0.1:1/w"
		ck = "1a58c1408050b16806a4794d1f9858a7"
		cs = "7b61204fdca7c33a9a7ffe94adb574d239600949"
		ak = "67cebeb61997382a96002e0f77502e9b"
		as = "6a01afb3b5ae24e82d1c8778ceb172866013cd9a"
	)
	cases := []struct {
		name                     string
		wiki, ck, cs, ak, as, ua string
		want                     string // in the message
		oauth2                   bool   // the same wiki or User-Agent fails OwnerOnlyOAuth2 too
	}{
		{"no wiki", "", ck, cs, ak, as, botUA, "script path", true},
		{"http", "http://wiki.example.org/w", ck, cs, ak, as, botUA, "https", true},
		{"relative", "/w", ck, cs, ak, as, botUA, "https", true},
		{"index.php", "https://wiki.example.org/w/index.php", ck, cs, ak, as, botUA, "script path", true},
		{"query", "https://wiki.example.org/w?x=1", ck, cs, ak, as, botUA, "query", true},
		{"user info", "https://u:p@wiki.example.org/w", ck, cs, ak, as, botUA, "user name", true},
		{"no consumer key", w, "", cs, ak, as, botUA, "consumer key", false},
		{"no consumer secret", w, ck, "", ak, as, botUA, "consumer secret", false},
		{"no access token", w, ck, cs, "", as, botUA, "access token", false},
		{"no access secret", w, ck, cs, ak, "", botUA, "access secret", false},
		{"secret with newline", w, ck, cs, ak, as + "\n", botUA, "white space", false},
		{"secret with space", w, ck, cs, ak, "6a01 afb3", botUA, "space", false},
		{"no user agent", w, ck, cs, ak, as, " ", "User-Agent", true},
		{"user agent with CRLF", w, ck, cs, ak, as, "Bot/1.0\r\nX: y", "line break", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := mwoauth.OwnerOnlyOAuth1(tc.wiki, tc.ck, tc.cs, tc.ak, tc.as, tc.ua)
			if !errors.Is(err, mwoauth.ErrConfig) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("OwnerOnlyOAuth1 = %v; want ErrConfig mentioning %q", err, tc.want)
			}
			if strings.Contains(err.Error(), cs) || strings.Contains(err.Error(), as[:8]) {
				t.Errorf("error shows a secret: %v", err)
			}
			if !tc.oauth2 {
				return
			}
			if _, err := mwoauth.OwnerOnlyOAuth2(tc.wiki, as, tc.ua); !errors.Is(err, mwoauth.ErrConfig) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("OwnerOnlyOAuth2 = %v; want ErrConfig mentioning %q", err, tc.want)
			}
		})
	}
	if _, err := mwoauth.OwnerOnlyOAuth2(w, "", botUA); !errors.Is(err, mwoauth.ErrConfig) {
		t.Errorf("OwnerOnlyOAuth2 without a token = %v; want ErrConfig", err)
	}
	if _, err := mwoauth.OwnerOnlyOAuth2(w, "tok en", botUA); !errors.Is(err, mwoauth.ErrConfig) || strings.Contains(err.Error(), "tok en") {
		t.Errorf("OwnerOnlyOAuth2 with a space in the token = %v; want ErrConfig without the token", err)
	}
	for _, ok := range []string{"https://meta.wikimedia.org/w", "http://localhost:8080/w", "http://[::1]:8080/w/api.php"} {
		if _, err := mwoauth.OwnerOnlyOAuth1(ok, ck, cs, ak, as, botUA); err != nil {
			t.Errorf("OwnerOnlyOAuth1(%q) = %v", ok, err)
		}
	}
}

// TestOwnerOnlyNoRedirect: a redirect from the wiki is returned as an error
// and never followed, so the signed request goes nowhere else.
func TestOwnerOnlyNoRedirect(t *testing.T) {
	var elsewhere atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { elsewhere.Add(1) }))
	t.Cleanup(other.Close)
	wiki := mwoauthtest.Start(t)
	c := wiki.AddConsumer(mwoauthtest.Consumer{OwnerOnly: true, Owner: "Alice"})
	client, err := mwoauth.OwnerOnlyOAuth1(wiki.ScriptPath(), c.Key, c.Secret, c.AccessKey, c.AccessSecret, botUA, mwapi.WithRetry(1, 0))
	if err != nil {
		t.Fatal(err)
	}
	wiki.FailNext(mwoauthtest.EndpointAPI, mwoauthtest.Fault{Redirect: other.URL + "/w/api.php"})
	if _, err := whoAmI(t.Context(), client); !errors.Is(err, mwapi.ErrRedirect) {
		t.Errorf("userinfo after a redirect = %v; want mwapi.ErrRedirect", err)
	}
	if n := elsewhere.Load(); n != 0 {
		t.Errorf("%d requests followed the redirect", n)
	}
}

// TestOwnerOnlyNoSecretsInLogs: with debug logging on, neither the log nor
// the printed client shows a secret, for each of the three constructors.
func TestOwnerOnlyNoSecretsInLogs(t *testing.T) {
	wiki := mwoauthtest.Start(t)
	c1 := wiki.AddConsumer(mwoauthtest.Consumer{OwnerOnly: true, Owner: "Alice", Grants: []string{"basic", "editpage"}})
	c2 := wiki.AddConsumer(mwoauthtest.Consumer{Version: 2, OwnerOnly: true, Owner: "Alice", Grants: []string{"basic", "editpage"}})
	for _, tc := range []struct {
		name    string
		make    func(mwapi.Option) (*mwapi.Client, error)
		secrets []string
	}{
		{"oauth1", func(o mwapi.Option) (*mwapi.Client, error) {
			return mwoauth.OwnerOnlyOAuth1(wiki.ScriptPath(), c1.Key, c1.Secret, c1.AccessKey, c1.AccessSecret, botUA, o)
		}, []string{c1.Secret, c1.AccessSecret}},
		{"oauth2", func(o mwapi.Option) (*mwapi.Client, error) {
			return mwoauth.OwnerOnlyOAuth2(wiki.ScriptPath(), c2.AccessToken, botUA, o)
		}, []string{c2.AccessToken[len(c2.AccessToken)-40:]}},
		{"client credentials", func(o mwapi.Option) (*mwapi.Client, error) {
			return mwoauth.ClientCredentials(t.Context(), wiki.ScriptPath(), c2.Key, c2.Secret, botUA, o)
		}, []string{c2.Secret}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			client, err := tc.make(mwapi.WithLogger(logger))
			if err != nil {
				t.Fatal(err)
			}
			if err := edit(t.Context(), client, "Test page 03", "x"); err != nil {
				t.Fatal(err)
			}
			if logs.Len() == 0 {
				t.Fatal("nothing logged at debug level: the test proves nothing")
			}
			out := logs.String() + fmt.Sprintf("%v %+v %#v", client, client, client)
			for _, s := range tc.secrets {
				if strings.Contains(out, s) {
					t.Errorf("a secret appears in the logs or the printed client")
				}
			}
		})
	}
}

// TestOwnerOnlyOAuth2: the fixed bearer token of an owner-only OAuth 2
// client reads as the owner and edits; a token the wiki does not know
// fails with mwapi.ErrTokenRevoked after one request.
func TestOwnerOnlyOAuth2(t *testing.T) {
	wiki, script, returned := cookieWiki(t)
	c := wiki.AddConsumer(mwoauthtest.Consumer{Version: 2, OwnerOnly: true, Owner: "Alice", Grants: []string{"basic", "editpage"}})
	if c.AccessToken == "" {
		t.Fatal("the fake gave the owner-only OAuth 2 client no access token")
	}
	client, err := mwoauth.OwnerOnlyOAuth2(script, c.AccessToken, botUA)
	if err != nil {
		t.Fatal(err)
	}
	if name, err := whoAmI(t.Context(), client); err != nil || name != "Alice" {
		t.Fatalf("userinfo = %q, %v; want Alice", name, err)
	}
	if err := edit(t.Context(), client, "Test page 04", "\nbearer bot"); err != nil {
		t.Fatalf("edit: %v", err)
	}
	if text, _ := wiki.PageText("Test page 04"); !strings.HasSuffix(text, "\nbearer bot") {
		t.Errorf("page text = %q", text)
	}
	if n := returned.Load(); n != 2 {
		t.Errorf("%d requests returned the wiki's cookie; want 2 (all but the first of three)", n)
	}

	bad, err := mwoauth.OwnerOnlyOAuth2(script, "x"+c.AccessToken[1:], botUA)
	if err != nil {
		t.Fatal(err)
	}
	n := wiki.Requests(mwoauthtest.EndpointAPI)
	_, err = whoAmI(t.Context(), bad)
	var ae *mwapi.APIError
	if !errors.Is(err, mwapi.ErrTokenRevoked) || !errors.As(err, &ae) || ae.Code != "mwoauth-invalid-authorization" {
		t.Fatalf("userinfo with a bad token = %v; want mwapi.ErrTokenRevoked from mwoauth-invalid-authorization", err)
	}
	if got := wiki.Requests(mwoauthtest.EndpointAPI) - n; got != 1 {
		t.Errorf("%d api.php requests; want 1", got)
	}
	if strings.Contains(err.Error(), c.AccessToken[1:20]) {
		t.Errorf("error shows the token: %v", err)
	}
}
