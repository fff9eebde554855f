package integration

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/go-chi/chi/v5"

	"github.com/wikiauth/mwoauth"
	"github.com/wikiauth/mwoauth/mwoauthtest"
)

// mount builds an app whose login routes live under /auth, wired into a
// router by wire, and returns its URL and the fake wiki.
func mount(t *testing.T, wire func(a *mwoauth.Auth, app http.Handler) http.Handler) (string, *mwoauthtest.Server) {
	t.Helper()
	wiki := mwoauthtest.Start(t)
	var mu sync.RWMutex
	var h http.Handler = http.NotFoundHandler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.RLock()
		defer mu.RUnlock()
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	c := wiki.AddConsumer(mwoauthtest.Consumer{Name: "chi", Callback: srv.URL + "/auth/", CallbackIsPrefix: true, Grants: []string{"basic"}})
	a, err := mwoauth.New(mwoauth.Config{
		Wiki:           wiki.ScriptPath(),
		ConsumerKey:    c.Key,
		ConsumerSecret: c.Secret,
		CallbackURL:    srv.URL + "/auth/oauth-callback",
		BasePath:       "/auth",
		UserAgent:      "mwoauth-integration/1.0 (test@example.org)",
		SessionKeys:    [][]byte{bytes.Repeat([]byte{3}, 32)},
		Logger:         slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	app := func(w http.ResponseWriter, r *http.Request) {
		if u, ok := mwoauth.UserFromContext(r.Context()); ok {
			fmt.Fprintf(w, "hello %s", u.Username)
			return
		}
		fmt.Fprint(w, "anonymous")
	}
	r := chi.NewRouter()
	wired := wire(a, r)
	r.Get("/", app)
	r.Handle("/private", a.RequireLogin(http.HandlerFunc(app)))
	mu.Lock()
	h = wired
	mu.Unlock()
	return srv.URL, wiki
}

func TestChi(t *testing.T) {
	for name, wire := range map[string]func(a *mwoauth.Auth, r http.Handler) http.Handler{
		// Wrap in front of the router.
		"wrapped": func(a *mwoauth.Auth, r http.Handler) http.Handler { return a.Wrap(r) },
		// Wrap as chi middleware.
		"middleware": func(a *mwoauth.Auth, r http.Handler) http.Handler {
			r.(*chi.Mux).Use(a.Wrap)
			return r
		},
	} {
		t.Run(name, func(t *testing.T) {
			base, wiki := mount(t, wire)
			anon := noRedirects()
			resp, err := anon.Get(base + "/private")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/auth/login?next=%2Fprivate" {
				t.Fatalf("/private anonymous = %d %q", resp.StatusCode, resp.Header.Get("Location"))
			}
			c, err := wiki.LoginApp(context.Background(), base+"/auth/login?next=/private", "Alice", mwoauthtest.DefaultPassword)
			if err != nil {
				t.Fatalf("LoginApp: %v", err)
			}
			for _, p := range []string{"/", "/private"} {
				resp, err := c.Get(base + p)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if !strings.Contains(string(body), "hello Alice") {
					t.Fatalf("%s = %q", p, body)
				}
			}
		})
	}
}

func noRedirects() *http.Client {
	return &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}
