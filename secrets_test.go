package mwoauth_test

import (
	"bytes"
	"context"
	"encoding/json"
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
)

// recorder keeps every secret the wiki hands out, from the responses it
// sends to the app.
type recorder struct {
	mu      sync.Mutex
	secrets []string
}

func (rec *recorder) add(s ...string) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for _, v := range s {
		if len(v) >= 8 {
			rec.secrets = append(rec.secrets, v)
		}
	}
}

func (rec *recorder) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err != nil {
		return resp, err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	var tok struct{ Key, Secret string }
	if json.Unmarshal(body, &tok) == nil {
		rec.add(tok.Secret)
		if strings.Contains(r.URL.RawQuery, "token") && !strings.Contains(r.URL.RawQuery, "initiate") {
			rec.add(tok.Key) // the access token (a request token's key is public)
		}
	}
	if strings.Contains(r.URL.RawQuery, "identify") {
		rec.add(strings.TrimSpace(string(body))) // the JWT
	}
	return resp, nil
}

// SECURITY.md §I: across a whole login and its failure paths, no log line,
// page or Location carries the consumer secret, a token, a token secret,
// the verifier, the identify JWT or the session cookie.
func TestSecretsNeverLeave(t *testing.T) {
	wiki := mwoauthtest.Start(t)
	rec := &recorder{}
	var logs syncBuffer
	var mu sync.RWMutex
	var h http.Handler = http.NotFoundHandler()
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.RLock()
		defer mu.RUnlock()
		h.ServeHTTP(w, r)
	}))
	defer app.Close()
	c := wiki.AddConsumer(mwoauthtest.Consumer{Name: "leak", Callback: app.URL + "/", CallbackIsPrefix: true, Grants: []string{"basic"}})
	rec.add(c.Secret)
	a, err := mwoauth.New(mwoauth.Config{
		Wiki: wiki.ScriptPath(), ConsumerKey: c.Key, ConsumerSecret: c.Secret,
		CallbackURL: app.URL + "/oauth-callback", UserAgent: testUA,
		SessionKeys: [][]byte{bytes.Repeat([]byte{5}, 32)},
		HTTPClient:  &http.Client{Transport: rec, Timeout: 10 * time.Second},
		Logger:      slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	h = a.Wrap(testApp(a))
	mu.Unlock()

	jar, _ := cookiejar.New(nil)
	b := &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	var seen []string // everything the browser saw: bodies and Locations
	get := func(u string) *http.Response {
		resp, err := b.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		seen = append(seen, string(body), resp.Header.Get("Location"))
		return resp
	}
	login := func() *url.URL {
		resp := get(app.URL + "/login?next=/")
		cb, err := wiki.Authorize(context.Background(), resp.Header.Get("Location"), "Alice", mwoauthtest.DefaultPassword)
		if err != nil {
			t.Fatal(err)
		}
		rec.add(cb.Query().Get("oauth_verifier"))
		return cb
	}

	// A wrong verifier, then a good login, a replay, API calls, and a
	// revoked grant.
	cb := login()
	bad := *cb
	q := bad.Query()
	q.Set("oauth_verifier", "0000"+q.Get("oauth_verifier"))
	bad.RawQuery = q.Encode()
	get(bad.String())
	cb = login()
	if resp := get(cb.String()); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("callback = %d", resp.StatusCode)
	}
	get(cb.String()) // replay
	appURL, _ := url.Parse(app.URL)
	for _, ck := range jar.Cookies(appURL) {
		rec.add(ck.Value)
	}
	get(app.URL + "/userinfo")
	get(app.URL + "/identity")
	wiki.Revoke("Alice", c.Key)
	get(app.URL + "/identity")

	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.secrets) < 6 {
		t.Fatalf("recorded only %d secrets; the harness is broken", len(rec.secrets))
	}
	out := logs.String()
	for _, s := range rec.secrets {
		if strings.Contains(out, s) {
			t.Errorf("the log contains a secret (%.6s…)", s)
		}
		for _, v := range seen {
			if strings.Contains(v, s) {
				t.Errorf("a page or Location contains a secret (%.6s…)", s)
			}
		}
	}
}
