package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/wikiauth/mwoauth/mwoauthtest"
)

// TestDemoOffline runs the demo as the README's command does (no flags but
// a free port; and with -oauth2) and logs in through the built-in wiki's
// pages.
func TestDemoOffline(t *testing.T) {
	for _, args := range [][]string{nil, {"-oauth2"}} {
		t.Run(fmt.Sprint(args), func(t *testing.T) { testDemoOffline(t, args) })
	}
}

func testDemoOffline(t *testing.T, extra []string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	type started struct {
		url  string
		wiki *mwoauthtest.Server
	}
	ready := make(chan started, 1)
	done := make(chan error, 1)
	var stdout, stderr bytes.Buffer
	go func() {
		done <- run(ctx, append([]string{"-addr", "127.0.0.1:0"}, extra...), strings.NewReader(""), &stdout, &stderr,
			func(u string, w *mwoauthtest.Server) { ready <- started{u, w} })
	}()
	var s started
	select {
	case s = <-ready:
	case err := <-done:
		t.Fatalf("demo exited: %v\n%s", err, stderr.String())
	case <-ctx.Done():
		t.Fatal("demo did not start")
	}
	if s.wiki == nil {
		t.Fatal("no built-in wiki")
	}
	if out := stdout.String(); !strings.Contains(out, "Built-in wiki:") || !strings.Contains(out, "password "+mwoauthtest.DefaultPassword) {
		t.Errorf("stdout does not give the wiki and the test user's password:\n%s", out)
	}

	anon := get(t, http.DefaultClient, s.url+"/")
	if !strings.Contains(anon, "You are not logged in") || !strings.Contains(anon, `href="/login"`) {
		t.Fatalf("/ anonymous = %q", anon)
	}
	c, err := s.wiki.LoginApp(ctx, s.url+"/login", "Alice", mwoauthtest.DefaultPassword)
	if err != nil {
		t.Fatalf("LoginApp: %v", err)
	}
	home := get(t, c, s.url+"/")
	// (LoginApp followed the callback's redirect to /, which showed the flash once.)
	if !strings.Contains(home, "Logged in as <strong>Alice</strong>") {
		t.Fatalf("/ after login = %q", home)
	}
	var ui struct {
		Query struct {
			Userinfo struct{ Name string } `json:"userinfo"`
		} `json:"query"`
	}
	if body := get(t, c, s.url+"/userinfo"); json.Unmarshal([]byte(body), &ui) != nil || ui.Query.Userinfo.Name != "Alice" {
		t.Fatalf("/userinfo = %q", body)
	}
	var id struct {
		Username string
		Rights   []string
	}
	if body := get(t, c, s.url+"/identity"); json.Unmarshal([]byte(body), &id) != nil || id.Username != "Alice" || len(id.Rights) == 0 {
		t.Fatalf("/identity = %q", body)
	}
	req, _ := http.NewRequest(http.MethodGet, s.url+"/logout", nil)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout = %d", resp.StatusCode)
	}
	if body := get(t, c, s.url+"/"); !strings.Contains(body, "You are not logged in") {
		t.Fatalf("/ after logout = %q", body)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("demo returned %v", err)
	}
}

func TestDemoFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-addr", "127.0.0.1:0", "-consumer-key", "k"}, "without -wiki"},
		{[]string{"-addr", "127.0.0.1:0", "-wiki", "https://meta.wikimedia.org/w"}, "needs -consumer-key"},
		{[]string{"-addr", "127.0.0.1:0", "-session-key", "short"}, "32 bytes"},
		{[]string{"extra"}, "unexpected arguments"},
		{[]string{"-addr", "127.0.0.1:0", "-oauth2", "-wiki", "https://meta.wikimedia.org/w"}, "needs -client-id"},
		{[]string{"-addr", "127.0.0.1:0", "-oauth2", "-client-id", "x"}, "without -wiki"},
		{[]string{"-addr", "127.0.0.1:0", "-sessions", "bogus://x"}, "-sessions"},
	} {
		t.Setenv("MWOAUTH_CONSUMER_KEY", "")
		t.Setenv("MWOAUTH_CONSUMER_SECRET", "")
		t.Setenv("MWOAUTH_CLIENT_ID", "")
		t.Setenv("MWOAUTH_CLIENT_SECRET", "")
		t.Setenv("MWOAUTH_SESSIONS", "")
		err := run(context.Background(), tc.args, strings.NewReader(""), io.Discard, io.Discard, nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("run(%q) = %v; want an error containing %q", tc.args, err, tc.want)
		}
	}
}

func get(t *testing.T, c *http.Client, u string) string {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// Opened as localhost while the callback is on 127.0.0.1, the demo first
// sends the browser to the callback's origin, so the login cookie is not lost.
func TestCanonicalHost(t *testing.T) {
	cb, _ := url.Parse("http://127.0.0.1:5000/oauth-callback")
	h := canonicalHost(cb, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "app") }))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "http://localhost:5000/userinfo?x=1", nil))
	if w.Code != http.StatusFound || w.Header().Get("Location") != "http://127.0.0.1:5000/userinfo?x=1" {
		t.Fatalf("localhost request = %d %q", w.Code, w.Header().Get("Location"))
	}
	w = httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "http://127.0.0.1:5000/", nil))
	if w.Code != http.StatusOK || w.Body.String() != "app" {
		t.Fatalf("callback-origin request = %d %q", w.Code, w.Body)
	}
}
