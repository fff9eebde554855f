package mwoauth_test

import (
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/wikiauth/mwoauth"
)

// Auth.Client never sends the user's OAuth 2 bearer token over plain http
// to a host that is not loopback.
func TestSessionBearerRefusesPlainHTTP(t *testing.T) {
	var remote atomic.Int32
	tr := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if r.URL.Hostname() == "wiki.example" {
			remote.Add(1) // would have left the machine
			return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader("{}")), Header: http.Header{}, Request: r}, nil
		}
		return http.DefaultTransport.RoundTrip(r)
	})
	e := newEnv(t, mwoauth.OAuth2, withConfig(func(c *mwoauth.Config) { c.HTTPClient = &http.Client{Transport: tr} }))
	b := e.browser()
	e.mustLogin(b)
	var got error
	e.serveAs(b, "/", func(w http.ResponseWriter, r *http.Request) {
		c, err := e.auth.Client(r)
		if err != nil {
			t.Errorf("Client: %v", err)
			return
		}
		for _, u := range []string{"http://wiki.example/w/api.php?action=query", "https://wiki.example/w/api.php?action=query"} {
			resp, err := c.Get(u)
			if err == nil {
				resp.Body.Close()
			}
			if strings.HasPrefix(u, "http:") {
				got = err
			} else if err != nil {
				t.Errorf("https request: %v", err)
			}
		}
	})
	if got == nil {
		t.Error("the plain-http bearer request was not refused")
	}
	if n := remote.Load(); n != 1 {
		t.Fatalf("%d requests reached wiki.example; want only the https one", n)
	}
}
