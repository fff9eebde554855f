package oauth1_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/wikiauth/mwoauth/mwoauthtest"
	"github.com/wikiauth/mwoauth/oauth1"
)

// ownerOnly returns a Config and the access token of the fake's default
// owner-only consumer, so that API calls can be signed without a handshake.
func ownerOnly(t *testing.T, s *mwoauthtest.Server) (*oauth1.Config, *oauth1.Token) {
	t.Helper()
	c := s.AddConsumer(mwoauthtest.Consumer{Name: "review-owner-only", OwnerOnly: true, Owner: "Alice",
		Callback: "oob", Grants: []string{"basic", "editpage"}})
	return &oauth1.Config{Wiki: s.ScriptPath(), ConsumerKey: c.Key, ConsumerSecret: c.Secret,
		UserAgent: fakeUA, HTTPClient: s.Client()}, &oauth1.Token{Key: c.AccessKey, Secret: c.AccessSecret}
}

// TestReviewFormBodyEmptyPairs: MediaWiki reads a form body for the
// signature with OAuthUtil::parse_parameters, which keeps an empty pair
// (a trailing "&", or "&&") as the parameter "" with value "". A body the
// client signs must be signed the same way, or the wiki answers "Invalid
// signature".
func TestReviewFormBodyEmptyPairs(t *testing.T) {
	s := mwoauthtest.Start(t)
	cfg, at := ownerOnly(t, s)
	for _, body := range []string{
		"action=query&meta=userinfo&format=json",
		"action=query&meta=userinfo&format=json&",
		"action=query&&meta=userinfo&format=json",
	} {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, s.ScriptPath()+"/api.php", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := cfg.Client(at).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(b), `"name":"Alice"`) {
			t.Errorf("body %q: answer %s", body, b)
		}
	}
}

// TestReviewQueryEmptyName: PHP's $_GET, which MediaWiki signs, drops a
// query pair without a name ("=x"); the client must not sign it either.
func TestReviewQueryEmptyName(t *testing.T) {
	s := mwoauthtest.Start(t)
	cfg, at := ownerOnly(t, s)
	for _, q := range []string{"action=query&meta=userinfo&format=json", "action=query&meta=userinfo&format=json&=x", "=&action=query&meta=userinfo&format=json"} {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, s.ScriptPath()+"/api.php?"+q, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := cfg.Client(at).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(b), `"name":"Alice"`) {
			t.Errorf("query %q: answer %s", q, b)
		}
	}
}

// TestReviewBodySignedOnlyAsMediaWikiReadsIt: MediaWiki signs a body only
// for a POST whose Content-Type starts with
// "application/x-www-form-urlencoded" (MWOAuthRequest::fromRequest:
// wasPosted() and a case-sensitive strpos). A body it does not read must
// not be signed by the client either, or the signatures differ.
func TestReviewBodySignedOnlyAsMediaWikiReadsIt(t *testing.T) {
	s := mwoauthtest.Start(t)
	cfg, at := ownerOnly(t, s)
	for _, tc := range []struct{ method, contentType string }{
		{http.MethodPost, "application/x-www-form-urlencoded"},
		{http.MethodPost, "application/x-www-form-urlencoded; charset=UTF-8"},
		{http.MethodPut, "application/x-www-form-urlencoded"},
		{http.MethodPost, "Application/X-WWW-Form-Urlencoded"},
	} {
		req, err := http.NewRequestWithContext(t.Context(), tc.method,
			s.ScriptPath()+"/api.php?action=query&meta=userinfo&format=json", strings.NewReader("maxage=1"))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", tc.contentType)
		resp, err := cfg.Client(at).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(b), `"name":"Alice"`) {
			t.Errorf("%s with %q: answer %s", tc.method, tc.contentType, b)
		}
	}
}
