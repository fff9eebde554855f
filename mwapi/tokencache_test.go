package mwapi_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"sync/atomic"
	"testing"

	"github.com/wikiauth/mwoauth/mwapi"
)

// Clients made WithCredentialID for the same wiki and credential share
// their tokens, so a web app making a Client per request fetches a user's
// token once; another credential has tokens of its own.
func TestTokensSharedPerCredential(t *testing.T) {
	var tokenCalls atomic.Int32
	srv, _ := newCountingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		if r.Form.Get("meta") == "tokens" {
			tokenCalls.Add(1)
			io.WriteString(w, `{"batchcomplete":true,"query":{"tokens":{"csrftoken":"tok-`+r.Header.Get("X-User")+`+\\"}}}`)
			return
		}
		if r.Form.Get("token") != "tok-"+r.Header.Get("X-User")+`+\` {
			io.WriteString(w, `{"error":{"code":"badtoken","info":"Invalid CSRF token."}}`)
			return
		}
		io.WriteString(w, `{"edit":{"result":"Success"}}`)
	}))
	client := func(user string) *mwapi.Client {
		hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			r = r.Clone(r.Context())
			r.Header.Set("X-User", user)
			return http.DefaultTransport.RoundTrip(r)
		})}
		c, err := mwapi.New(srv.URL+"/w", mwapi.WithUserAgent(testUA), mwapi.WithLogger(discard),
			mwapi.WithHTTPClient(hc), mwapi.WithCredentialID("tokencache-"+user))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	edit := func(c *mwapi.Client) {
		t.Helper()
		var res struct{ Edit struct{ Result string } }
		if err := c.PostWithToken(context.Background(), "csrf", url.Values{"action": {"edit"}, "title": {"X"}, "text": {"y"}}, &res); err != nil || res.Edit.Result != "Success" {
			t.Fatalf("edit = %v, %+v", err, res)
		}
	}
	for range 3 {
		edit(client("alice")) // a new Client each time, as per request
	}
	if n := tokenCalls.Load(); n != 1 {
		t.Fatalf("three edits by one user fetched %d tokens; want 1", n)
	}
	edit(client("bob"))
	if n := tokenCalls.Load(); n != 2 {
		t.Fatalf("another user's edit fetched %d tokens in all; want 2 (tokens are per credential)", n)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
