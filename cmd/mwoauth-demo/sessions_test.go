package main

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wikiauth/mwoauth/mwoauthtest"
)

// startDemo runs the demo with args until the test ends, and returns its URL
// and built-in wiki.
func startDemo(t *testing.T, args ...string) (string, *mwoauthtest.Server, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	type started struct {
		url  string
		wiki *mwoauthtest.Server
	}
	ready := make(chan started, 1)
	done := make(chan error, 1)
	var stderr bytes.Buffer
	go func() {
		done <- run(ctx, append([]string{"-addr", "127.0.0.1:0"}, args...), strings.NewReader(""), io.Discard, &stderr,
			func(u string, w *mwoauthtest.Server) { ready <- started{u, w} })
	}()
	select {
	case s := <-ready:
		stop := func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("demo returned %v", err)
			}
		}
		return s.url, s.wiki, stop
	case err := <-done:
		cancel()
		t.Fatalf("demo exited: %v\n%s", err, stderr.String())
	case <-time.After(20 * time.Second):
		cancel()
		t.Fatal("demo did not start")
	}
	return "", nil, nil
}

// TestDemoSessionsSQLite: with -sessions sqlite:PATH and a fixed key, a
// login survives a restart of the demo.
func TestDemoSessionsSQLite(t *testing.T) {
	db := filepath.Join(t.TempDir(), "sessions.db")
	args := []string{"-sessions", "sqlite:" + db, "-session-key", strings.Repeat("ab", 32)}
	appURL, wiki, stop := startDemo(t, args...)
	c, err := wiki.LoginApp(context.Background(), appURL+"/login", "Alice", mwoauthtest.DefaultPassword)
	if err != nil {
		t.Fatalf("LoginApp: %v", err)
	}
	if body := get(t, c, appURL+"/"); !strings.Contains(body, "Logged in as <strong>Alice</strong>") {
		t.Fatalf("/ = %q", body)
	}
	stop()

	appURL2, _, stop2 := startDemo(t, args...)
	defer stop2()
	// Cookies are not bound to a port: the same jar reaches the new demo.
	if body := get(t, c, appURL2+"/"); !strings.Contains(body, "Logged in as <strong>Alice</strong>") {
		t.Fatalf("/ after a restart = %q", body)
	}
}

func TestOpenSessionsErrors(t *testing.T) {
	for _, spec := range []string{"sqlite:", "bogus://x", "mysql:/nope"} {
		if _, _, err := openSessions(context.Background(), spec); err == nil {
			t.Errorf("openSessions(%q) = nil error", spec)
		}
	}
	if got := redactURL("redis://u:secret@127.0.0.1:6379/0"); strings.Contains(got, "secret") {
		t.Errorf("redactURL kept the password: %q", got)
	}
}
