package mwoauthtest_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/wikiauth/mwoauth/mwoauthtest"
	"github.com/wikiauth/mwoauth/oauth1"
)

const ua = "mwoauthtest-tests/1.0 (https://example.org; test@example.org)"

func config(s *mwoauthtest.Server, c *mwoauthtest.Consumer, callback string) *oauth1.Config {
	return &oauth1.Config{
		Wiki:           s.ScriptPath(),
		ConsumerKey:    c.Key,
		ConsumerSecret: c.Secret,
		Callback:       callback,
		UserAgent:      ua,
		HTTPClient:     s.Client(),
	}
}

// handshake runs initiate, the HTML pages (login, Allow) and token.
func handshake(t *testing.T, s *mwoauthtest.Server, cfg *oauth1.Config) (*oauth1.Token, *url.URL) {
	t.Helper()
	ctx := context.Background()
	rt, err := cfg.RequestToken(ctx)
	if err != nil {
		t.Fatalf("RequestToken: %v", err)
	}
	cb, err := s.Authorize(ctx, cfg.AuthorizationURL(rt), "Alice", mwoauthtest.DefaultPassword)
	if err != nil {
		t.Fatalf("Authorize: %v", err)
	}
	q := cb.Query()
	at, err := cfg.AccessToken(ctx, rt, q.Get("oauth_token"), q.Get("oauth_verifier"))
	if err != nil {
		t.Fatalf("AccessToken: %v", err)
	}
	return at, cb
}

// TestHandshake drives the whole OAuth 1 login with the oauth1 client:
// initiate, the wiki's login form and Allow button (through a cookie jar
// and manual redirects), token, identify, and a signed API call.
func TestHandshake(t *testing.T) {
	s := mwoauthtest.Start(t)
	cfg := config(s, s.Consumer(), "")
	at, cb := handshake(t, s, cfg)
	if got := cb.Scheme + "://" + cb.Host + cb.Path; got != mwoauthtest.DefaultCallback {
		t.Errorf("callback = %q; want %q", got, mwoauthtest.DefaultCallback)
	}
	id, err := cfg.Identify(context.Background(), at)
	if err != nil {
		t.Fatalf("Identify: %v", err)
	}
	if id.Username != "Alice" || id.Subject != "3" || id.Issuer != s.URL {
		t.Errorf("Identify = %q/%q/%q; want Alice/3/%s", id.Username, id.Subject, id.Issuer, s.URL)
	}
	if id.EmailVerified == nil || !*id.EmailVerified {
		t.Errorf("EmailVerified = %v; want true (1.43)", id.EmailVerified)
	}
	if len(id.Rights) != 32 {
		t.Errorf("identify lists %d rights; want 32 (1.43)", len(id.Rights))
	}
	for _, e := range []mwoauthtest.Endpoint{mwoauthtest.EndpointInitiate, mwoauthtest.EndpointToken, mwoauthtest.EndpointIdentify} {
		if n := s.Requests(e); n != 1 {
			t.Errorf("Requests(%s) = %d; want 1", e, n)
		}
	}
	if n := s.Requests(mwoauthtest.EndpointLogin); n != 2 {
		t.Errorf("Requests(login) = %d; want 2 (form, submit)", n)
	}

	// Authorizing again gives the same access token, and no login form.
	at2, _ := handshake(t, s, cfg)
	if at2.Key != at.Key || at2.Secret != at.Secret {
		t.Errorf("second authorization gave another access token")
	}
	// The token's API calls are signed by the client's transport.
	resp, err := cfg.Client(at).Get(s.ScriptPath() + "/api.php?action=query&meta=userinfo&format=json")
	if err != nil {
		t.Fatal(err)
	}
	body := readAll(t, resp)
	if want := `{"batchcomplete":"","query":{"userinfo":{"id":3,"name":"Alice"}}}`; body != want {
		t.Errorf("userinfo = %s; want %s", body, want)
	}
	// Revoked: identify and the API refuse the token.
	s.Revoke("Alice", s.Consumer().Key)
	if _, err := cfg.Identify(context.Background(), at); !errors.Is(err, oauth1.ErrAccessTokenNotFound) {
		t.Errorf("Identify after Revoke: %v; want ErrAccessTokenNotFound", err)
	}
}

// TestAuthenticateSkipsForm: authenticate redirects at once only for an
// identity-only consumer the user already approved.
func TestAuthenticateSkipsForm(t *testing.T) {
	s := mwoauthtest.Start(t)
	c := s.AddConsumer(mwoauthtest.Consumer{Name: "idonly", Callback: mwoauthtest.DefaultCallback, CallbackIsPrefix: true, Grants: []string{"mwoauth-authonlyprivate"}})
	cfg := config(s, c, "")
	cfg.Authenticate = true
	at, _ := handshake(t, s, cfg)
	id, err := cfg.Identify(context.Background(), at)
	if err != nil {
		t.Fatal(err)
	}
	if id.Email != "alice@example.org" {
		t.Errorf("Email = %q; want alice@example.org (private-info grant)", id.Email)
	}
	// First round: GET (anonymous: to the login), GET (the form), POST
	// (Allow). Second round (a new browser): GET, GET that redirects to the
	// callback at once, no form.
	if n := s.Requests(mwoauthtest.EndpointAuthenticate); n != 3 {
		t.Errorf("first authenticate took %d requests; want 3", n)
	}
	handshake(t, s, cfg)
	if n := s.Requests(mwoauthtest.EndpointAuthenticate); n != 5 {
		t.Errorf("second authenticate took %d requests; want 2 (no form)", n-3)
	}
	// API calls are refused: identity only.
	resp, err := cfg.Client(at).Get(s.ScriptPath() + "/api.php?action=query&meta=userinfo&format=json")
	if err != nil {
		t.Fatal(err)
	}
	readAll(t, resp)
	if got := resp.Header.Get("MediaWiki-API-Error"); got != "readapidenied" {
		t.Errorf("MediaWiki-API-Error = %q; want readapidenied", got)
	}
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 32<<10)
	for i := 0; i < 1000; i++ {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return b.String()
}

var _ = time.Second
