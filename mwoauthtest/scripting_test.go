package mwoauthtest_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wikiauth/mwoauth/mwoauthtest"
	"github.com/wikiauth/mwoauth/oauth1"
)

// TestClock: the ±300 s window follows the fake's clock, and request
// tokens expire after 600 s (E004).
func TestClock(t *testing.T) {
	s := mwoauthtest.Start(t)
	cfg := config(s, s.Consumer(), "")
	s.Advance(400 * time.Second) // the wiki's clock runs ahead of the client's
	_, err := cfg.RequestToken(context.Background())
	var skew *oauth1.ClockSkewError
	if !errors.As(err, &skew) {
		t.Fatalf("RequestToken with the wiki 400 s ahead: %v; want a ClockSkewError", err)
	}
	s.Advance(-400 * time.Second)
	rt, err := cfg.RequestToken(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	cfg.Now = s.Now // the client follows the wiki's clock from here
	s.Advance(601 * time.Second)
	cb, err := s.Authorize(context.Background(), cfg.AuthorizationURL(rt), "Alice", mwoauthtest.DefaultPassword)
	if err == nil || !strings.Contains(err.Error(), "E004") {
		t.Errorf("Authorize after 601 s: %v, %v; want the wiki's E004 page", cb, err)
	}
}

// TestCallbacks: the prefix rules, a callback with its own query, and oob.
func TestCallbacks(t *testing.T) {
	s := mwoauthtest.Start(t)
	for _, tc := range []struct {
		cb   string
		want string // the callback's start, or "" for a refusal
	}{
		{"", mwoauthtest.DefaultCallback + "?oauth_verifier="},
		{"oob", mwoauthtest.DefaultCallback + "?oauth_verifier="},
		{mwoauthtest.DefaultCallback + "?extra=1", mwoauthtest.DefaultCallback + "?extra=1&oauth_verifier="},
		{mwoauthtest.DefaultCallback + "/deeper", mwoauthtest.DefaultCallback + "/deeper?oauth_verifier="},
		{"https://127.0.0.1:5000/oauth-callback", "https://127.0.0.1:5000/oauth-callback?oauth_verifier="},
		{"http://127.0.0.1:5001/oauth-callback", ""},
		{"http://localhost:5000/oauth-callback", ""},
		{"http://127.0.0.1:5000/other", ""},
	} {
		cfg := config(s, s.Consumer(), tc.cb)
		rt, err := cfg.RequestToken(context.Background())
		if tc.want == "" {
			if !errors.Is(err, oauth1.ErrCallbackNotAllowed) {
				t.Errorf("callback %q: %v; want ErrCallbackNotAllowed", tc.cb, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("callback %q: %v", tc.cb, err)
			continue
		}
		u, err := s.Authorize(context.Background(), cfg.AuthorizationURL(rt), "Alice", mwoauthtest.DefaultPassword)
		if err != nil || !strings.HasPrefix(u.String(), tc.want) || !strings.HasSuffix(u.String(), "&oauth_token="+rt.Key) {
			t.Errorf("callback %q: redirected to %v (%v); want %s…&oauth_token=%s", tc.cb, u, err, tc.want, rt.Key)
		}
	}
}

// TestFaults: each fault hits the next request of its endpoint only, and
// the counters see every request.
func TestFaults(t *testing.T) {
	s := mwoauthtest.Start(t)
	cfg := config(s, s.Consumer(), "")
	ctx := context.Background()
	faults := []struct {
		name string
		f    mwoauthtest.Fault
		is   func(error) bool
	}{
		{"5xx", mwoauthtest.Fault{Status: 503}, func(err error) bool { return err != nil && strings.Contains(err.Error(), "503") }},
		{"truncated", mwoauthtest.Fault{Truncate: true}, func(err error) bool { return err != nil }},
		{"oversized", mwoauthtest.Fault{Oversize: 5 << 20}, func(err error) bool { return err != nil }},
		{"redirect", mwoauthtest.Fault{Redirect: "http://127.0.0.1:1/elsewhere"}, func(err error) bool { return err != nil && strings.Contains(err.Error(), "elsewhere") }},
	}
	for i, f := range faults {
		s.FailNext(mwoauthtest.EndpointInitiate, f.f)
		if _, err := cfg.RequestToken(ctx); !f.is(err) {
			t.Errorf("%s: RequestToken: %v", f.name, err)
		}
		if _, err := cfg.RequestToken(ctx); err != nil { // the next one works
			t.Errorf("%s: the request after the fault: %v", f.name, err)
		}
		if n := s.Requests(mwoauthtest.EndpointInitiate); n != 2*(i+1) {
			t.Errorf("%s: Requests(initiate) = %d; want %d", f.name, n, 2*(i+1))
		}
	}
	// Reset: the connection drops without an answer (a POST, which the
	// transport does not retry).
	s.FailNext(mwoauthtest.EndpointAPI, mwoauthtest.Fault{Reset: true})
	if resp, err := s.Client().PostForm(s.ScriptPath()+"/api.php", url.Values{"action": {"query"}, "format": {"json"}}); err == nil {
		resp.Body.Close()
		t.Errorf("reset: got an answer (%d)", resp.StatusCode)
	}
	if n := s.Requests(mwoauthtest.EndpointAPI); n != 1 {
		t.Errorf("Requests(api) = %d; want 1", n)
	}
	// Latency: the client's context ends the wait.
	s.FailNext(mwoauthtest.EndpointInitiate, mwoauthtest.Fault{Latency: 30 * time.Second})
	ctx2, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := cfg.RequestToken(ctx2); err == nil || time.Since(start) > 10*time.Second {
		t.Errorf("latency: %v after %v; want a timeout", err, time.Since(start))
	}
	if n := s.Requests(mwoauthtest.EndpointToken); n != 0 {
		t.Errorf("Requests(token) = %d; want 0", n)
	}
}

// testApp is a minimal app using the oauth1 client: /login, /oauth-callback
// and / (which greets the logged-in user).
func testApp(t *testing.T, s *mwoauthtest.Server) (*httptest.Server, *oauth1.Config) {
	var mu sync.Mutex
	pending := map[string]*oauth1.Token{}
	users := map[string]string{}
	cfg := &oauth1.Config{Wiki: s.ScriptPath(), UserAgent: ua, HTTPClient: s.Client()}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		rt, err := cfg.RequestToken(r.Context())
		if err != nil {
			http.Error(w, "initiate failed", http.StatusBadGateway)
			return
		}
		mu.Lock()
		pending[rt.Key] = rt
		mu.Unlock()
		http.Redirect(w, r, cfg.AuthorizationURL(rt), http.StatusFound)
	})
	mux.HandleFunc("GET /oauth-callback", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		mu.Lock()
		rt := pending[q.Get("oauth_token")]
		delete(pending, q.Get("oauth_token"))
		mu.Unlock()
		at, err := cfg.AccessToken(r.Context(), rt, q.Get("oauth_token"), q.Get("oauth_verifier"))
		if err != nil {
			http.Error(w, "token failed", http.StatusBadGateway)
			return
		}
		id, err := cfg.Identify(r.Context(), at)
		if err != nil {
			http.Error(w, "identify failed", http.StatusBadGateway)
			return
		}
		sid := at.Key[:8]
		mu.Lock()
		users[sid] = id.Username
		mu.Unlock()
		http.SetCookie(w, &http.Cookie{Name: "sid", Value: sid, Path: "/"})
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie("sid")
		mu.Lock()
		defer mu.Unlock()
		if err != nil || users[c.Value] == "" {
			io.WriteString(w, "anonymous")
			return
		}
		io.WriteString(w, "hello "+users[c.Value])
	})
	app := httptest.NewServer(mux)
	t.Cleanup(app.Close)
	c := s.AddConsumer(mwoauthtest.Consumer{Name: "app", Callback: app.URL + "/oauth-callback", Grants: []string{"basic"}})
	cfg.ConsumerKey, cfg.ConsumerSecret = c.Key, c.Secret
	return app, cfg
}

// TestLoginApp: the helper logs Alice in to an app through the wiki's pages.
func TestLoginApp(t *testing.T) {
	s := mwoauthtest.Start(t)
	app, _ := testApp(t, s)
	c, err := s.LoginApp(context.Background(), app.URL+"/login", "Alice", mwoauthtest.DefaultPassword)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Get(app.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	if body := readAll(t, resp); body != "hello Alice" {
		t.Errorf("app says %q; want hello Alice", body)
	}
	// A wrong password is reported, not looped on.
	_, err = s.LoginApp(context.Background(), app.URL+"/login", "Alice", "wrong")
	if !errors.Is(err, mwoauthtest.ErrBrowse) || !strings.Contains(err.Error(), "Incorrect username or password") {
		t.Errorf("wrong password: %v", err)
	}
}

// TestConsentPages: an anonymous authorize goes to the login form with the
// 1.43 warning; a proposed consumer shows the wiki's error page to others.
func TestConsentPages(t *testing.T) {
	for _, tc := range []struct {
		v       mwoauthtest.Version
		warning string
	}{{mwoauthtest.MW143, "mwoauth-named-account-required-reason"}, {mwoauthtest.MW139, "mwoauth-login-required-reason"}} {
		s := mwoauthtest.Start(t, mwoauthtest.WithVersion(tc.v))
		cfg := config(s, s.Consumer(), "")
		rt, err := cfg.RequestToken(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		resp, err := s.Client().Get(cfg.AuthorizationURL(rt))
		if err != nil {
			t.Fatal(err)
		}
		readAll(t, resp)
		loc, _ := url.Parse(resp.Header.Get("Location"))
		q := loc.Query()
		if resp.StatusCode != http.StatusFound || q.Get("title") != "Special:UserLogin" || q.Get("returnto") != "Special:OAuth/authorize" ||
			q.Get("warning") != tc.warning || !strings.Contains(q.Get("returntoquery"), "oauth_token="+rt.Key) {
			t.Errorf("anonymous authorize: %d %s", resp.StatusCode, loc)
		}

		p := s.AddConsumer(mwoauthtest.Consumer{Name: "proposed-app", Callback: mwoauthtest.DefaultCallback, CallbackIsPrefix: true, Proposed: true})
		pcfg := config(s, p, "")
		prt, err := pcfg.RequestToken(context.Background())
		if err != nil {
			t.Fatalf("initiate with a proposed consumer: %v (the real one accepts it)", err)
		}
		_, err = s.Authorize(context.Background(), pcfg.AuthorizationURL(prt), "Alice", mwoauthtest.DefaultPassword)
		if err == nil || !strings.Contains(err.Error(), `"proposed-app" is not approved as a Connected App`) {
			t.Errorf("proposed consumer, other user: %v", err)
		}
		// Its owner may use it.
		if _, err := s.Authorize(context.Background(), pcfg.AuthorizationURL(prt), "Admin", "AdminPass-12345"); err != nil {
			t.Errorf("proposed consumer, owner: %v", err)
		}
	}
}

// TestOwnerOnly: an owner-only consumer's four values work on api.php and
// identify with no handshake; initiate refuses it.
func TestOwnerOnly(t *testing.T) {
	s := mwoauthtest.Start(t)
	c := s.AddConsumer(mwoauthtest.Consumer{Name: "bot", OwnerOnly: true, Owner: "Alice", Grants: []string{"basic", "editpage"}})
	if c.AccessKey == "" || c.AccessSecret == "" {
		t.Fatal("no access token for the owner-only consumer")
	}
	cfg := config(s, c, "")
	at := &oauth1.Token{Key: c.AccessKey, Secret: c.AccessSecret}
	id, err := cfg.Identify(context.Background(), at)
	if err != nil || id.Username != "Alice" {
		t.Fatalf("Identify: %v, %v", id, err)
	}
	if _, err := cfg.RequestToken(context.Background()); !errors.Is(err, oauth1.ErrOwnerOnly) {
		t.Errorf("initiate: %v; want ErrOwnerOnly", err)
	}
}

// TestConcurrent: many handshakes and API calls at once (run with -race).
func TestConcurrent(t *testing.T) {
	s := mwoauthtest.Start(t)
	cfg := config(s, s.Consumer(), "")
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := context.Background()
			rt, err := cfg.RequestToken(ctx)
			if err != nil {
				errs <- err
				return
			}
			cb, err := s.Authorize(ctx, cfg.AuthorizationURL(rt), "Alice", mwoauthtest.DefaultPassword)
			if err != nil {
				errs <- err
				return
			}
			at, err := cfg.AccessToken(ctx, rt, cb.Query().Get("oauth_token"), cb.Query().Get("oauth_verifier"))
			if err != nil {
				errs <- err
				return
			}
			if _, err := cfg.Identify(ctx, at); err != nil {
				errs <- err
			}
			s.Advance(time.Millisecond)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestRSAConsumer: an RSA-SHA1 consumer's signatures are checked with its
// public key; the token step answers secret "__unused__"; identify's JWT
// is signed with the consumer secret it was issued.
func TestRSAConsumer(t *testing.T) {
	s := mwoauthtest.Start(t)
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	c := s.AddConsumer(mwoauthtest.Consumer{Name: "rsa", RSAPublicKey: &key.PublicKey, Callback: mwoauthtest.DefaultCallback, CallbackIsPrefix: true})
	if c.Secret == "" {
		t.Fatal("RSA consumer without a consumer secret")
	}
	cfg := config(s, c, "")
	cfg.Signer = oauth1.RSASHA1{Key: key}
	at, _ := handshake(t, s, cfg)
	if at.Secret != "__unused__" {
		t.Errorf("token secret = %q; want __unused__", at.Secret)
	}
	if id, err := cfg.Identify(context.Background(), at); err != nil || id.Username != "Alice" {
		t.Errorf("Identify = %v, %v", id, err)
	}
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	cfg.Signer = oauth1.RSASHA1{Key: other}
	if _, err := cfg.RequestToken(context.Background()); !errors.Is(err, oauth1.ErrInvalidSignature) {
		t.Errorf("signed with another key: %v; want ErrInvalidSignature", err)
	}
}
