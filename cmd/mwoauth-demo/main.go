// Command mwoauth-demo is the demo application of mwoauth: a small web app
// whose users log in with their wiki account and see what the wiki says
// about them.
//
// With no flags it starts a built-in fake wiki (mwoauthtest) on a free
// loopback port and runs against it, so it works offline:
//
//	go run ./cmd/mwoauth-demo
//
// Against a real wiki, pass the wiki's script path and an OAuth 1.0a consumer
// registered with the callback http://127.0.0.1:5000/oauth-callback:
//
//	go run ./cmd/mwoauth-demo -wiki https://meta.wikimedia.org/w \
//	    -consumer-key KEY -consumer-secret SECRET -contact you@example.org
//
// With OAuth 2.0, pass -oauth2 and a client registered with the redirect URI
// http://127.0.0.1:5000/oauth-callback; without -client-secret it is a public
// client (PKCE only):
//
//	go run ./cmd/mwoauth-demo -oauth2 -wiki https://meta.wikimedia.org/w \
//	    -client-id ID -client-secret SECRET -contact you@example.org
//
// -oauth2 without -wiki runs the built-in wiki in OAuth 2.0 mode (a
// confidential client whose redirect URI is the demo's callback).
package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/wikiauth/mwoauth"
	"github.com/wikiauth/mwoauth/mwoauthtest"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr, nil); err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "mwoauth-demo:", err)
		os.Exit(1)
	}
}

type options struct {
	addr, wiki, consumerKey, consumerSecret, callback, sessionKey, contact string
	oauth2                                                                 bool
	clientID, clientSecret                                                 string
	sessions                                                               string
}

// run starts the demo and serves until ctx ends or a signal arrives. ready,
// when not nil, is called with the demo's base URL once it listens, and with
// the built-in wiki (nil against a real wiki).
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, ready func(appURL string, wiki *mwoauthtest.Server)) error {
	fs := flag.NewFlagSet("mwoauth-demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.StringVar(&o.addr, "addr", "127.0.0.1:5000", "address to listen on")
	fs.StringVar(&o.wiki, "wiki", "", "the wiki's script path, e.g. https://meta.wikimedia.org/w (empty: a built-in local wiki)")
	fs.StringVar(&o.consumerKey, "consumer-key", os.Getenv("MWOAUTH_CONSUMER_KEY"), "OAuth 1.0a consumer key (env MWOAUTH_CONSUMER_KEY)")
	fs.StringVar(&o.consumerSecret, "consumer-secret", os.Getenv("MWOAUTH_CONSUMER_SECRET"), "OAuth 1.0a consumer secret (env MWOAUTH_CONSUMER_SECRET)")
	fs.BoolVar(&o.oauth2, "oauth2", false, "use OAuth 2.0 (rest.php/oauth2) instead of OAuth 1.0a")
	fs.StringVar(&o.clientID, "client-id", os.Getenv("MWOAUTH_CLIENT_ID"), "OAuth 2.0 client id, with -oauth2 (env MWOAUTH_CLIENT_ID)")
	fs.StringVar(&o.clientSecret, "client-secret", os.Getenv("MWOAUTH_CLIENT_SECRET"), "OAuth 2.0 client secret, with -oauth2 (env MWOAUTH_CLIENT_SECRET; empty: a public client, PKCE only)")
	fs.StringVar(&o.callback, "callback", "", "the callback URL registered with the consumer (default http://<addr>/oauth-callback)")
	fs.StringVar(&o.sessionKey, "session-key", os.Getenv("MWOAUTH_SESSION_KEY"), "32-byte session key as 64 hex digits or base64 (env MWOAUTH_SESSION_KEY; default: random per run)")
	fs.StringVar(&o.contact, "contact", "", "your contact (e-mail or URL) for the User-Agent sent to the wiki")
	fs.StringVar(&o.sessions, "sessions", os.Getenv("MWOAUTH_SESSIONS"), "session store: sqlite:PATH, redis://…, mysql://…, postgres://…, memory (default: the encrypted cookie; env MWOAUTH_SESSIONS)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))

	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	appURL := "http://" + ln.Addr().String()
	if o.callback == "" {
		o.callback = appURL + "/oauth-callback"
	}

	key, err := sessionKey(o.sessionKey, stdout)
	if err != nil {
		return err
	}
	ua := "mwoauth-demo/0.1 (https://github.com/wikiauth/mwoauth"
	if o.contact != "" {
		ua += "; " + o.contact
	}
	ua += ")"
	store, closer, err := openSessions(ctx, o.sessions)
	if err != nil {
		return err
	}
	defer closer.Close()
	cfg := mwoauth.Config{
		SessionStore: store,
		CallbackURL:  o.callback,
		UserAgent:    ua,
		SessionKeys:  [][]byte{key},
		Logger:       logger,
	}

	cfg.Protocol = mwoauth.OAuth1
	if o.oauth2 {
		cfg.Protocol = mwoauth.OAuth2
	}
	grants := []string{"basic", "highvolume", "editpage", "createeditmovepage"}
	var builtin *mwoauthtest.Server
	if o.wiki == "" {
		if !o.oauth2 && (o.consumerKey != "" || o.consumerSecret != "") {
			return errors.New("a consumer key or secret was given without -wiki: pass -wiki with the wiki's script path (e.g. -wiki https://meta.wikimedia.org/w), or neither to use the built-in wiki")
		}
		if o.oauth2 && (o.clientID != "" || o.clientSecret != "") {
			return errors.New("a client id or secret was given without -wiki: pass -wiki with the wiki's script path (e.g. -wiki https://meta.wikimedia.org/w), or neither to use the built-in wiki")
		}
		wiki := mwoauthtest.NewServer()
		defer wiki.Close()
		builtin = wiki
		if o.oauth2 {
			c := wiki.AddConsumer(mwoauthtest.Consumer{
				Name:         "mwoauth-demo",
				Version:      2,
				Confidential: true,
				Callback:     o.callback,
				Grants:       grants,
			})
			cfg.ClientID, cfg.ClientSecret = c.ClientID(), c.ClientSecret()
		} else {
			c := wiki.AddConsumer(mwoauthtest.Consumer{
				Name:             "mwoauth-demo",
				Callback:         o.callback,
				CallbackIsPrefix: true,
				Grants:           grants,
			})
			cfg.ConsumerKey, cfg.ConsumerSecret = c.Key, c.Secret
		}
		cfg.Wiki = wiki.ScriptPath()
		alice := wiki.User("Alice")
		fmt.Fprintf(stdout, "Built-in wiki:   %s  (%s; log in as %s, password %s)\n", wiki.ScriptPath(), cfg.Protocol, alice.Name, alice.Password)
	} else {
		if err := prompt(stdin, stdout, &o); err != nil {
			return err
		}
		cfg.Wiki = o.wiki
		if o.oauth2 {
			cfg.ClientID, cfg.ClientSecret = o.clientID, o.clientSecret
			if o.clientSecret == "" {
				fmt.Fprintln(stdout, "Note: no client secret: using a public OAuth 2.0 client (PKCE only).")
			}
		} else {
			cfg.ConsumerKey, cfg.ConsumerSecret = o.consumerKey, o.consumerSecret
		}
	}

	auth, err := mwoauth.New(cfg)
	if err != nil {
		return err
	}
	cb, _ := url.Parse(o.callback)
	handler := canonicalHost(cb, auth.Wrap(newApp(auth)))
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stdout, "Demo app:        %s/\n", cb.Scheme+"://"+cb.Host)
	if ready != nil {
		ready(cb.Scheme+"://"+cb.Host, builtin)
	}

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(shutdown)
}

// sessionKey decodes the -session-key value, or makes a random key.
func sessionKey(s string, stdout io.Writer) ([]byte, error) {
	if s == "" {
		k := make([]byte, 32)
		if _, err := rand.Read(k); err != nil {
			return nil, err
		}
		fmt.Fprintln(stdout, "Note: a random session key was made for this run, so sessions end when the demo stops (set -session-key or MWOAUTH_SESSION_KEY to keep them).")
		return k, nil
	}
	if k, err := hex.DecodeString(s); err == nil && len(k) == 32 {
		return k, nil
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if k, err := enc.DecodeString(s); err == nil && len(k) == 32 {
			return k, nil
		}
	}
	return nil, errors.New("-session-key must be 32 bytes as 64 hex digits or base64")
}

// prompt asks on a terminal for the consumer key and secret (OAuth 2.0: the
// client id, and a secret that may stay empty) that were not given, as the
// Python demo does.
func prompt(stdin io.Reader, stdout io.Writer, o *options) error {
	if o.oauth2 && o.clientID != "" || !o.oauth2 && o.consumerKey != "" && o.consumerSecret != "" {
		return nil
	}
	f, ok := stdin.(*os.File)
	if !ok || !isTerminal(f) {
		if o.oauth2 {
			return errors.New("-oauth2 -wiki needs -client-id (or MWOAUTH_CLIENT_ID), and -client-secret for a confidential client")
		}
		return errors.New("-wiki needs -consumer-key and -consumer-secret (or MWOAUTH_CONSUMER_KEY and MWOAUTH_CONSUMER_SECRET)")
	}
	r := bufio.NewReader(stdin)
	if o.oauth2 {
		if err := askLine(r, stdout, "Client id", &o.clientID, false); err != nil {
			return err
		}
		if o.clientSecret == "" {
			return askLine(r, stdout, "Client secret (empty for a public client)", &o.clientSecret, true)
		}
		return nil
	}
	ask := func(label string, dst *string) error {
		for *dst == "" {
			fmt.Fprintf(stdout, "%s: ", label)
			line, err := r.ReadString('\n')
			*dst = strings.TrimSpace(line)
			if err != nil && *dst == "" {
				return fmt.Errorf("reading %s: %w", label, err)
			}
		}
		return nil
	}
	if err := ask("Consumer key", &o.consumerKey); err != nil {
		return err
	}
	return ask("Consumer secret", &o.consumerSecret)
}

// askLine reads one answer; with allowEmpty an empty line is an answer.
func askLine(r *bufio.Reader, stdout io.Writer, label string, dst *string, allowEmpty bool) error {
	for range 10 {
		fmt.Fprintf(stdout, "%s: ", label)
		line, err := r.ReadString('\n')
		*dst = strings.TrimSpace(line)
		if *dst != "" || allowEmpty && err == nil {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading %s: %w", label, err)
		}
	}
	return fmt.Errorf("no %s given", label)
}

func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// canonicalHost sends requests that arrive under another host name than the
// callback's (localhost vs 127.0.0.1) to the callback's origin first, so the
// cookies set at login are there when the wiki sends the browser back.
func canonicalHost(cb *url.URL, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.EqualFold(r.Host, cb.Host) && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
			http.Redirect(w, r, cb.Scheme+"://"+cb.Host+r.URL.RequestURI(), http.StatusFound)
			return
		}
		h.ServeHTTP(w, r)
	})
}

var pages = template.Must(template.New("index").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>mwoauth demo</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;line-height:1.5}.flash{background:#e7f5e7;padding:.5rem 1rem}</style></head>
<body><h1>mwoauth demo</h1>
{{range .Flashes}}<p class="flash">{{.}}</p>{{end}}
{{if .User}}<p>Logged in as <strong>{{.User.Username}}</strong>.</p>
<ul><li><a href="/userinfo">/userinfo</a>: meta=userinfo through the API, as you</li>
<li><a href="/identity">/identity</a>: who the wiki says you are</li></ul>
<p><a href="{{.Logout}}">Log out</a></p>
{{else}}<p>You are not logged in.</p><p><a href="{{.Login}}">Log in with your wiki account</a></p>{{end}}
</body></html>`))

func newApp(auth *mwoauth.Auth) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		u, _ := mwoauth.UserFromContext(r.Context())
		data := struct {
			User          *mwoauth.User
			Flashes       []string
			Login, Logout string
		}{u, auth.Flashes(r), auth.LoginPath(), auth.LogoutPath()}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_ = pages.Execute(w, data)
	})
	mux.Handle("GET /userinfo", auth.RequireLogin(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res, err := auth.Request(r, url.Values{"action": {"query"}, "meta": {"userinfo"}})
		writeJSON(w, res, err)
	})))
	mux.Handle("GET /identity", auth.RequireLogin(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, err := auth.CurrentUser(r, false)
		if errors.Is(err, mwoauth.ErrTokenRevoked) {
			http.Redirect(w, r, auth.LoginURL(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		writeJSON(w, u, err)
	})))
	return mux
}

func writeJSON(w http.ResponseWriter, v any, err error) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if err != nil {
		w.WriteHeader(http.StatusBadGateway)
		v = map[string]string{"error": err.Error()}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
