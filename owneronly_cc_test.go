package mwoauth_test

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/wikiauth/mwoauth"
	"github.com/wikiauth/mwoauth/mwapi"
	"github.com/wikiauth/mwoauth/mwoauthtest"
)

// ccWiki is a fake wiki behind a front that records the User-Agent of
// token requests.
func ccWiki(t *testing.T) (wiki *mwoauthtest.Server, script string, tokenUA *atomic.Value) {
	t.Helper()
	front := httptest.NewUnstartedServer(nil)
	origin := "http://" + front.Listener.Addr().String()
	wiki = mwoauthtest.Start(t, mwoauthtest.WithCanonicalServer(origin))
	tokenUA = new(atomic.Value)
	front.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/oauth2/access_token") {
			tokenUA.Store(r.UserAgent())
		}
		wiki.Handler().ServeHTTP(w, r)
	})
	front.Start()
	t.Cleanup(front.Close)
	return wiki, origin + "/w", tokenUA
}

// TestClientCredentials: an owner-only OAuth 2 client gets a token with
// client_credentials (with the bot's User-Agent), reads as its owner and
// edits; the token is reused, not fetched per call.
func TestClientCredentials(t *testing.T) {
	wiki, script, tokenUA := ccWiki(t)
	c := wiki.AddConsumer(mwoauthtest.Consumer{Version: 2, OwnerOnly: true, Owner: "Alice", Grants: []string{"basic", "editpage"}})
	client, err := mwoauth.ClientCredentials(t.Context(), script, c.Key, c.Secret, botUA)
	if err != nil {
		t.Fatalf("ClientCredentials = %v", err)
	}
	if n := wiki.Requests(mwoauthtest.EndpointOAuth2Token); n != 1 {
		t.Errorf("token requests after ClientCredentials = %d; want 1", n)
	}
	if ua, _ := tokenUA.Load().(string); !strings.HasPrefix(ua, botUA) {
		t.Errorf("token request User-Agent = %q; want the bot's", ua)
	}
	for range 3 {
		if name, err := whoAmI(t.Context(), client); err != nil || name != "Alice" {
			t.Fatalf("userinfo = %q, %v; want Alice", name, err)
		}
	}
	if err := edit(t.Context(), client, "Test page 05", "\ncc bot"); err != nil {
		t.Fatalf("edit: %v", err)
	}
	if text, _ := wiki.PageText("Test page 05"); !strings.HasSuffix(text, "\ncc bot") {
		t.Errorf("page text = %q", text)
	}
	if n := wiki.Requests(mwoauthtest.EndpointOAuth2Token); n != 1 {
		t.Errorf("token requests = %d; want 1 (the token is reused)", n)
	}
}

// TestClientCredentialsRefused: a client the wiki does not allow the grant
// (oauth2-51: 401 invalid_client), a wrong secret or an unknown client fail
// in ClientCredentials with ErrMisconfigured and the *oauth2.RetrieveError,
// without the secret in the message.
func TestClientCredentialsRefused(t *testing.T) {
	wiki := mwoauthtest.Start(t)
	owner := wiki.AddConsumer(mwoauthtest.Consumer{Version: 2, OwnerOnly: true, Owner: "Alice"})
	normal := wiki.AddConsumer(mwoauthtest.Consumer{Version: 2, Confidential: true, Callback: "http://127.0.0.1:5000/oauth-callback"})
	for _, tc := range []struct{ name, id, secret string }{
		{"grant not allowed", normal.Key, normal.Secret},
		{"wrong secret", owner.Key, "0000" + owner.Secret[4:]},
		{"unknown client", "c09708b9470a16ce0751af8f2e18dd53", owner.Secret},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := mwoauth.ClientCredentials(t.Context(), wiki.ScriptPath(), tc.id, tc.secret, botUA)
			var re *oauth2.RetrieveError
			if !errors.Is(err, mwoauth.ErrMisconfigured) || !errors.As(err, &re) || re.ErrorCode != "invalid_client" {
				t.Fatalf("ClientCredentials = %v; want ErrMisconfigured with invalid_client", err)
			}
			if !strings.Contains(err.Error(), "401 invalid_client") || strings.Contains(err.Error(), tc.secret) {
				t.Errorf("message %q: want the status and code, never the secret", err)
			}
		})
	}
}

// TestClientCredentialsUnavailable: a wiki that answers 503 or cannot be
// reached fails with ErrWikiUnavailable; a cancelled context ends the
// first fetch.
func TestClientCredentialsUnavailable(t *testing.T) {
	wiki := mwoauthtest.Start(t)
	c := wiki.AddConsumer(mwoauthtest.Consumer{Version: 2, OwnerOnly: true, Owner: "Alice"})
	wiki.FailNext(mwoauthtest.EndpointOAuth2Token, mwoauthtest.Fault{Status: 503})
	if _, err := mwoauth.ClientCredentials(t.Context(), wiki.ScriptPath(), c.Key, c.Secret, botUA); !errors.Is(err, mwoauth.ErrWikiUnavailable) {
		t.Errorf("ClientCredentials after a 503 = %v; want ErrWikiUnavailable", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String() + "/w"
	l.Close()
	if _, err := mwoauth.ClientCredentials(t.Context(), closed, c.Key, c.Secret, botUA); !errors.Is(err, mwoauth.ErrWikiUnavailable) {
		t.Errorf("ClientCredentials to a closed port = %v; want ErrWikiUnavailable", err)
	}
	wiki.FailNext(mwoauthtest.EndpointOAuth2Token, mwoauthtest.Fault{Latency: 5 * time.Second})
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := mwoauth.ClientCredentials(ctx, wiki.ScriptPath(), c.Key, c.Secret, botUA); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("ClientCredentials past its deadline = %v; want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %v after the deadline", d)
	}
	if _, err := mwoauth.ClientCredentials(t.Context(), "http://wiki.example.org/w", c.Key, c.Secret, botUA); !errors.Is(err, mwoauth.ErrConfig) {
		t.Errorf("ClientCredentials over http = %v; want ErrConfig", err)
	}
	if _, err := mwoauth.ClientCredentials(t.Context(), wiki.ScriptPath(), c.Key, "", botUA); !errors.Is(err, mwoauth.ErrConfig) {
		t.Errorf("ClientCredentials without a secret = %v; want ErrConfig", err)
	}
}

// TestClientCredentialsRenewsRefused: when the wiki refuses the token (here
// it expired on the wiki's clock), one new token is fetched and the
// request is sent once more, body included; 20 concurrent calls refused at
// once share one new token.
func TestClientCredentialsRenewsRefused(t *testing.T) {
	wiki := mwoauthtest.Start(t)
	c := wiki.AddConsumer(mwoauthtest.Consumer{Version: 2, OwnerOnly: true, Owner: "Alice", Grants: []string{"basic", "editpage"}})
	client, err := mwoauth.ClientCredentials(t.Context(), wiki.ScriptPath(), c.Key, c.Secret, botUA,
		mwapi.WithConcurrency(0), mwapi.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.Token(t.Context(), "csrf"); err != nil {
		t.Fatal(err)
	}
	wiki.Advance(2 * time.Hour)
	// A POST refused, renewed and resent (a new CSRF token may be needed
	// too: mwapi refetches it once on badtoken).
	if err := edit(t.Context(), client, "Test page 06", "\nonce"); err != nil {
		t.Fatalf("edit after the token expired at the wiki: %v", err)
	}
	if text, _ := wiki.PageText("Test page 06"); !strings.HasSuffix(text, "\nonce") || strings.Count(text, "once") != 1 {
		t.Errorf("page text = %q; want one append", text)
	}
	if n := wiki.Requests(mwoauthtest.EndpointOAuth2Token); n != 2 {
		t.Errorf("token requests = %d; want 2", n)
	}

	wiki.Advance(2 * time.Hour)
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if name, err := whoAmI(t.Context(), client); err != nil || name != "Alice" {
				errs <- errors.Join(err, errors.New("userinfo: "+name))
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := wiki.Requests(mwoauthtest.EndpointOAuth2Token); n != 3 {
		t.Errorf("token requests = %d; want 3 (one renewal for 20 refused calls)", n)
	}
}
