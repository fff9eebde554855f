package mwoauthtest_test

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/wikiauth/mwoauth/mwoauthtest"
	"github.com/wikiauth/mwoauth/oauth1"
)

// A whole OAuth 1.0a login against the fake wiki: initiate, the user's
// visit to the consent page (played by Authorize), token and identify.
func Example() {
	wiki := mwoauthtest.NewServer()
	defer wiki.Close()
	ctx := context.Background()

	c := wiki.Consumer()
	cfg := &oauth1.Config{Wiki: wiki.ScriptPath(), ConsumerKey: c.Key, ConsumerSecret: c.Secret,
		UserAgent: "example/1.0 (https://example.org; me@example.org)", HTTPClient: wiki.Client()}
	rt, err := cfg.RequestToken(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	callback, err := wiki.Authorize(ctx, cfg.AuthorizationURL(rt), "Alice", mwoauthtest.DefaultPassword)
	if err != nil {
		fmt.Println(err)
		return
	}
	q := callback.Query()
	at, err := cfg.AccessToken(ctx, rt, q.Get("oauth_token"), q.Get("oauth_verifier"))
	if err != nil {
		fmt.Println(err)
		return
	}
	id, err := cfg.Identify(ctx, at)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(id.Username, id.Subject, wiki.Requests(mwoauthtest.EndpointToken))
	// Output: Alice 3 1
}

// Faults make the next request of an endpoint fail.
func ExampleServer_FailNext() {
	wiki := mwoauthtest.NewServer()
	defer wiki.Close()
	wiki.FailNext(mwoauthtest.EndpointAPI, mwoauthtest.Fault{Status: 503})
	for i := 0; i < 2; i++ {
		resp, err := wiki.Client().Get(wiki.ScriptPath() + "/api.php?action=query&meta=userinfo&format=json")
		if err != nil {
			fmt.Println(err)
			return
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Println(resp.StatusCode, strings.HasPrefix(string(body), "{"))
	}
	// Output:
	// 503 false
	// 200 true
}

// OAuth 2: the authorization code flow through the pages.
func ExampleServer_OAuth2Client() {
	wiki := mwoauthtest.NewServer()
	defer wiki.Close()
	c := wiki.OAuth2Client(true)
	auth := wiki.ScriptPath() + "/rest.php/oauth2/authorize?" + url.Values{
		"response_type": {"code"}, "client_id": {c.ClientID()}, "redirect_uri": {c.RedirectURI()}, "state": {"xyz"},
	}.Encode()
	cb, err := wiki.Authorize(context.Background(), auth, "Alice", mwoauthtest.DefaultPassword)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(cb.Query().Get("state"), strings.HasPrefix(cb.Query().Get("code"), "def50200"))
	// Output: xyz true
}
