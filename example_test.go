package mwoauth_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"

	"github.com/wikiauth/mwoauth"
	"github.com/wikiauth/mwoauth/mwoauthtest"
)

// ExampleAuth_Wrap mounts the login routes in front of an http.ServeMux and
// logs a user in through a fake wiki, as a browser would.
func ExampleAuth_Wrap() {
	wiki := mwoauthtest.NewServer() // stands in for https://meta.wikimedia.org
	defer wiki.Close()

	mux := http.NewServeMux()
	app := httptest.NewUnstartedServer(nil) // the app, on a loopback port
	appURL := "http://" + app.Listener.Addr().String()
	consumer := wiki.AddConsumer(mwoauthtest.Consumer{Callback: appURL + "/", CallbackIsPrefix: true, Grants: []string{"basic"}})

	key := make([]byte, 32)
	rand.Read(key)
	auth, err := mwoauth.New(mwoauth.Config{
		Wiki:           wiki.ScriptPath(),
		ConsumerKey:    consumer.Key,
		ConsumerSecret: consumer.Secret,
		CallbackURL:    appURL + "/oauth-callback",
		UserAgent:      "ExampleTool/1.0 (https://example.org; me@example.org)",
		SessionKeys:    [][]byte{key},
		Logger:         slog.New(slog.DiscardHandler),
	})
	if err != nil {
		log.Fatal(err)
	}
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		if u, ok := mwoauth.UserFromContext(r.Context()); ok {
			fmt.Fprintf(w, "Logged in as %s", u.Username)
			return
		}
		fmt.Fprint(w, `<a href="/login?next=/">Log in</a>`)
	})
	mux.Handle("GET /userinfo", auth.RequireLogin(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var res struct {
			Query struct {
				Userinfo struct{ Name string } `json:"userinfo"`
			} `json:"query"`
		}
		if err := auth.RequestInto(r, url.Values{"action": {"query"}, "meta": {"userinfo"}}, &res); err != nil {
			http.Error(w, "the wiki said: "+err.Error(), http.StatusBadGateway)
			return
		}
		fmt.Fprintf(w, "The API knows you as %s", res.Query.Userinfo.Name)
	})))
	app.Config.Handler = auth.Wrap(mux)
	app.Start()
	defer app.Close()

	// A browser logs in: /login → the wiki's login and consent pages → back.
	browser, err := wiki.LoginApp(context.Background(), app.URL+"/login?next=/", "Alice", mwoauthtest.DefaultPassword)
	if err != nil {
		log.Fatal(err)
	}
	for _, path := range []string{"/", "/userinfo"} {
		resp, err := browser.Get(app.URL + path)
		if err != nil {
			log.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Println(string(body))
	}
	// Output:
	// Logged in as Alice
	// The API knows you as Alice
}
