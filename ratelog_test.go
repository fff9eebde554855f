package mwoauth_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/wikiauth/mwoauth"
	"github.com/wikiauth/mwoauth/mwoauthtest"
)

// SECURITY.md R6: a misconfigured consumer fails every login, but is
// logged at ERROR about once a minute, not once per request.
func TestMisconfigurationLoggedOncePerMinute(t *testing.T) {
	wiki := mwoauthtest.Start(t)
	var logs bytes.Buffer
	a, err := mwoauth.New(mwoauth.Config{
		Wiki: wiki.ScriptPath(), ConsumerKey: "0123456789abcdef0123456789abcdef", ConsumerSecret: "wrong",
		CallbackURL: "http://127.0.0.1:5000/oauth-callback", UserAgent: "t/1.0 (t@example.org)",
		SessionKeys: [][]byte{bytes.Repeat([]byte{9}, 32)},
		Logger:      slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo})),
	})
	if err != nil {
		t.Fatal(err)
	}
	h := a.Wrap(http.NotFoundHandler())
	for range 100 {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "http://127.0.0.1:5000/login", nil))
		if w.Code != http.StatusBadGateway || !strings.Contains(w.Body.String(), "misconfigured") {
			t.Fatalf("/login = %d %q", w.Code, w.Body)
		}
	}
	if n := strings.Count(logs.String(), "level=ERROR"); n < 1 || n > 2 {
		t.Fatalf("%d ERROR lines for 100 failed logins; want 1 or 2", n)
	}
}
