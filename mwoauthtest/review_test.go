package mwoauthtest_test

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wikiauth/mwoauth/mwoauthtest"
	"github.com/wikiauth/mwoauth/oauth1"
)

// reviewOwnerOnly adds an owner-only OAuth 1 consumer of Alice, whose
// fixed access token signs api.php calls without a handshake.
func reviewOwnerOnly(t *testing.T, s *mwoauthtest.Server) *mwoauthtest.Consumer {
	t.Helper()
	return s.AddConsumer(mwoauthtest.Consumer{Name: "review-owner-only", OwnerOnly: true, Owner: "Alice",
		Callback: "oob", Grants: []string{"basic", "editpage"}})
}

var reviewNonce int

// signPHP signs a POST of the raw form body to api.php with the body's
// parameters given as MediaWiki reads them (OAuthUtil::parse_parameters).
func signPHP(t *testing.T, s *mwoauthtest.Server, c *mwoauthtest.Consumer, body string, bodyParams []oauth1.Param) *http.Request {
	reviewNonce++
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.ScriptPath()+"/api.php", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	proto := []oauth1.Param{
		{Key: "oauth_consumer_key", Value: c.Key},
		{Key: "oauth_token", Value: c.AccessKey},
		{Key: "oauth_nonce", Value: "review" + strconv.Itoa(reviewNonce)},
		{Key: "oauth_signature_method", Value: "HMAC-SHA1"},
		{Key: "oauth_timestamp", Value: strconv.FormatInt(s.Now().Unix(), 10)},
		{Key: "oauth_version", Value: "1.0"},
	}
	all := append(append([]oauth1.Param(nil), proto...), bodyParams...)
	mac := hmac.New(sha1.New, []byte(oauth1.HMACKey(c.Secret, c.AccessSecret)))
	mac.Write([]byte(oauth1.SignatureBaseString(http.MethodPost, req.URL, all)))
	proto = append(proto, oauth1.Param{Key: "oauth_signature", Value: base64.StdEncoding.EncodeToString(mac.Sum(nil))})
	var h []string
	for _, p := range proto {
		h = append(h, p.Key+`="`+oauth1.PercentEncode(p.Value)+`"`)
	}
	req.Header.Set("Authorization", "OAuth "+strings.Join(h, ", "))
	return req
}

// TestReviewBodyTrailingAmpersand: MediaWiki splits a form body with
// explode('&'), so "a=1&" has a last, empty pair that it signs as the
// parameter "" (OAuthUtil::parse_parameters); the fake must sign it too,
// and refuse the signature made without it.
func TestReviewBodyTrailingAmpersand(t *testing.T) {
	s := mwoauthtest.Start(t)
	c := reviewOwnerOnly(t, s)
	q := []oauth1.Param{{Key: "action", Value: "query"}, {Key: "meta", Value: "userinfo"}, {Key: "format", Value: "json"}}
	empty := oauth1.Param{}
	for _, tc := range []struct {
		name, body string
		params     []oauth1.Param
		ok         bool
	}{
		{"plain", "action=query&meta=userinfo&format=json", q, true},
		{"trailing & signed as MediaWiki does", "action=query&meta=userinfo&format=json&", append(q[:3:3], empty), true},
		{"trailing & signed without the empty pair", "action=query&meta=userinfo&format=json&", q, false},
		{"&& signed as MediaWiki does", "action=query&&meta=userinfo&format=json", append(q[:3:3], empty), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := s.Client().Do(signPHP(t, s, c, tc.body, tc.params))
			if err != nil {
				t.Fatal(err)
			}
			body := readAll(t, resp)
			if got := !strings.Contains(body, `"error"`) && strings.Contains(body, `"name":"Alice"`); got != tc.ok {
				t.Errorf("accepted = %v; want %v: %s", got, tc.ok, body)
			}
		})
	}
}

// TestReviewOversizedRequestBody: a request body over the fake's limit
// must be refused, not cut at the limit and then read as if whole (an
// edit then saved a truncated text, a signature was checked over half a
// body).
func TestReviewOversizedRequestBody(t *testing.T) {
	s := mwoauthtest.Start(t)
	text := strings.Repeat("a", 9<<20)
	body := "token=%2B%5C&action=edit&title=Big&format=json&text=" + text
	resp, err := s.Client().Post(s.ScriptPath()+"/api.php", "application/x-www-form-urlencoded", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	answer := readAll(t, resp)
	if got, ok := s.PageText("Big"); ok && got != text {
		t.Errorf("the fake saved %d of the %d bytes sent (HTTP %d, %.200s)", len(got), len(text), resp.StatusCode, answer)
	}
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("status = %d; want 413", resp.StatusCode)
	}
}

// TestReviewCallbackRules: MWOAuthServer::checkCallback compares ports as
// parsed (missing on both sides, or equal; registered port 1 = any), so a
// port-less http callback may be upgraded to https; and when the
// registered callback has a query, the path must match exactly.
func TestReviewCallbackRules(t *testing.T) {
	s := mwoauthtest.Start(t)
	for _, tc := range []struct {
		registered, cb string
		ok             bool
	}{
		{"http://127.0.0.1/cb", "https://127.0.0.1/cb", true},       // upgrade, no port on either side
		{"http://127.0.0.1/cb", "http://127.0.0.1:80/cb", false},    // port missing vs given
		{"http://127.0.0.1:80/cb", "http://127.0.0.1/cb", false},    // port given vs missing
		{"http://127.0.0.1:1/cb", "http://127.0.0.1:4242/cb", true}, // port 1 = any
		{"http://127.0.0.1/cb?app=1", "http://127.0.0.1/cb?app=1&x=2", true},
		{"http://127.0.0.1/cb?app=1", "http://127.0.0.1/cbx?app=1", false}, // exact path with a query
		{"http://127.0.0.1/cb", "http://127.0.0.1/cbx", true},              // prefix path without one
	} {
		c := s.AddConsumer(mwoauthtest.Consumer{Name: "review-cb", Callback: tc.registered, CallbackIsPrefix: true, Grants: []string{"basic"}})
		cfg := &oauth1.Config{Wiki: s.ScriptPath(), ConsumerKey: c.Key, ConsumerSecret: c.Secret, Callback: tc.cb,
			UserAgent: "mwoauthtest-review/1.0 (test@example.org)", HTTPClient: s.Client()}
		_, err := cfg.RequestToken(t.Context())
		if got := err == nil; got != tc.ok {
			t.Errorf("registered %q, callback %q: accepted = %v (%v); want %v", tc.registered, tc.cb, got, err, tc.ok)
		}
	}
}

// TestReviewOwnerOnlyAtTokenStep: MWOAuthServer::fetch_access_token
// refuses an owner-only consumer before it looks the request token up, as
// fetch_request_token does (mwoauthserver-consumer-owner-only, E010).
func TestReviewOwnerOnlyAtTokenStep(t *testing.T) {
	s := mwoauthtest.Start(t)
	c := reviewOwnerOnly(t, s)
	cfg := &oauth1.Config{Wiki: s.ScriptPath(), ConsumerKey: c.Key, ConsumerSecret: c.Secret,
		UserAgent: "mwoauthtest-review/1.0 (test@example.org)", HTTPClient: s.Client()}
	rt := &oauth1.Token{Key: "0123456789abcdef0123456789abcdef", Secret: "fedcba9876543210fedcba9876543210"}
	_, err := cfg.AccessToken(t.Context(), rt, rt.Key, "0123456789abcdef0123456789abcdef")
	var we *oauth1.Error
	if !errors.As(err, &we) || we.Key != "mwoauthserver-consumer-owner-only" {
		t.Errorf("token step of an owner-only consumer: %v; want mwoauthserver-consumer-owner-only", err)
	}
}

// TestReviewVersionMessage: OAuthServer::get_version names the version it
// refuses: "OAuth version '2.0' not supported".
func TestReviewVersionMessage(t *testing.T) {
	s := mwoauthtest.Start(t)
	req, err := http.NewRequest(http.MethodGet, s.ScriptPath()+"/index.php?title=Special:OAuth/initiate&format=json", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", `OAuth oauth_consumer_key="`+s.Consumer().Key+`", oauth_version="2.0", oauth_callback="oob"`)
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"error":"mwoauth-oauth-exception","message":"An error occurred in the OAuth protocol: OAuth version '2.0' not supported"}`
	if got := readAll(t, resp); got != want {
		t.Errorf("body = %s; want %s", got, want)
	}
}

// TestReviewRequestTokenTTLFromAuthorize: the wiki re-saves the request
// token for 600 s when the user allows (OAuth1Consumer::authorize:
// updateRequestToken), so the exchange works up to 600 s after the Allow,
// even when the initiate was longer ago.
func TestReviewRequestTokenTTLFromAuthorize(t *testing.T) {
	for _, tc := range []struct {
		before, after time.Duration
		ok            bool
	}{
		{500 * time.Second, 200 * time.Second, true},
		{500 * time.Second, 601 * time.Second, false},
	} {
		s := mwoauthtest.Start(t, mwoauthtest.WithTime(time.Unix(1796394137, 0)))
		cfg := &oauth1.Config{Wiki: s.ScriptPath(), ConsumerKey: s.Consumer().Key, ConsumerSecret: s.Consumer().Secret,
			UserAgent: "mwoauthtest-review/1.0 (test@example.org)", HTTPClient: s.Client(), Now: s.Now}
		rt, err := cfg.RequestToken(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		s.Advance(tc.before)
		cb, err := s.Authorize(t.Context(), cfg.AuthorizationURL(rt), "Alice", mwoauthtest.DefaultPassword)
		if err != nil {
			t.Fatalf("Authorize %s after initiate: %v", tc.before, err)
		}
		s.Advance(tc.after)
		_, err = cfg.AccessToken(t.Context(), rt, cb.Query().Get("oauth_token"), cb.Query().Get("oauth_verifier"))
		if got := err == nil; got != tc.ok {
			t.Errorf("exchange %s after initiate, %s after Allow: ok = %v (%v); want %v", tc.before+tc.after, tc.after, got, err, tc.ok)
		}
	}
}

// TestReviewNonASCIIUserLogin: the login form upper-cases the first
// letter of the name, a rune, not a byte: a user whose name starts with a
// non-ASCII letter can log in (as "Émile" or "émile").
func TestReviewNonASCIIUserLogin(t *testing.T) {
	s := mwoauthtest.Start(t)
	s.AddUser(mwoauthtest.User{Name: "Émile", Password: "EmilePass-12345"})
	for _, name := range []string{"Émile", "émile"} {
		cfg := &oauth1.Config{Wiki: s.ScriptPath(), ConsumerKey: s.Consumer().Key, ConsumerSecret: s.Consumer().Secret,
			UserAgent: "mwoauthtest-review/1.0 (test@example.org)", HTTPClient: s.Client()}
		rt, err := cfg.RequestToken(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Authorize(t.Context(), cfg.AuthorizationURL(rt), name, "EmilePass-12345"); err != nil {
			t.Errorf("log in as %q: %v", name, err)
		}
	}
}

// TestReviewPostBodyParsedAsPHP: api.php reads a form body as PHP fills
// $_POST: a ";" is an ordinary character and a bad %-escape stays as it
// is; one such value must not make the whole body vanish.
func TestReviewPostBodyParsedAsPHP(t *testing.T) {
	s := mwoauthtest.Start(t)
	for _, body := range []string{
		"action=query&meta=userinfo&format=json",
		"action=query&meta=userinfo&format=json&curtimestamp=a;b",
		"action=query&meta=userinfo&format=json&curtimestamp=100%",
	} {
		resp, err := s.Client().Post(s.ScriptPath()+"/api.php", "application/x-www-form-urlencoded", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if got := readAll(t, resp); !strings.Contains(got, `"userinfo"`) {
			t.Errorf("body %q: answer %.300s", body, got)
		}
	}
}
