package mwoauth_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/wikiauth/mwoauth"
	"github.com/wikiauth/mwoauth/mwapi"
)

// serveAs runs h behind the env's Auth.Wrap with the browser's cookies.
func (e *env) serveAs(b *browser, target string, h http.HandlerFunc) *httptest.ResponseRecorder {
	e.t.Helper()
	req := httptest.NewRequest(http.MethodGet, e.app.URL+target, nil)
	u, _ := url.Parse(e.app.URL)
	for _, c := range b.c.Jar.Cookies(u) {
		req.AddCookie(c)
	}
	w := httptest.NewRecorder()
	e.auth.Wrap(h).ServeHTTP(w, req)
	return w
}

// Request with WithToken edits a page as the user, for both protocols; an
// API error comes back typed with the wiki's code.
func TestRequestEditWithToken(t *testing.T) {
	for _, p := range []mwoauth.Protocol{mwoauth.OAuth1, mwoauth.OAuth2} {
		t.Run(p.String(), func(t *testing.T) {
			e := newEnv(t, p)
			b := e.browser()
			e.mustLogin(b)
			text := "Edited through mwoauth " + p.String()
			w := e.serveAs(b, "/edit", func(w http.ResponseWriter, r *http.Request) {
				res, err := e.auth.Request(r, url.Values{
					"action": {"edit"}, "title": {"Test page 01"}, "text": {text}, "summary": {"test"},
				}, mwoauth.WithToken("csrf"))
				if err != nil {
					http.Error(w, err.Error(), http.StatusBadGateway)
					return
				}
				fmt.Fprint(w, res["edit"].(map[string]any)["result"])
			})
			if w.Code != http.StatusOK || w.Body.String() != "Success" {
				t.Fatalf("edit = %d %q", w.Code, w.Body)
			}
			if got, ok := e.wiki.PageText("Test page 01"); !ok || got != text {
				t.Fatalf("page text = %q, %v; want %q", got, ok, text)
			}

			// Without a token the wiki's own error comes back typed.
			w = e.serveAs(b, "/edit", func(w http.ResponseWriter, r *http.Request) {
				_, err := e.auth.Request(r, url.Values{"action": {"edit"}, "title": {"Test page 01"}, "text": {"x"}})
				var ae *mwapi.APIError
				if !errors.As(err, &ae) {
					t.Errorf("edit without a token = %v; want an *mwapi.APIError", err)
					return
				}
				fmt.Fprint(w, ae.Code)
			})
			if code := w.Body.String(); code != "missingparam" {
				t.Fatalf("edit without a token: code %q; want missingparam", code)
			}
			// The session is still logged in after an ordinary API error.
			if r := b.get(e.app.URL + "/"); !strings.Contains(r.body, "Logged in as Alice") {
				t.Fatalf("/ after an API error = %q", r.body)
			}
		})
	}
}
