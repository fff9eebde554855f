package session_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/wikiauth/mwoauth/session"
)

// A handler loads the session, changes it and saves it before writing the
// response; a login renews the id.
func ExampleManager() {
	m, err := session.New(session.Config{
		Keys:   [][]byte{bytes.Repeat([]byte{7}, 32)}, // in real use: 32 random bytes from a secret file
		Secure: true,
	})
	if err != nil {
		panic(err)
	}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := m.Load(r.Context(), r)
		if err != nil { // only a Store failure
			http.Error(w, "sessions unavailable", http.StatusServiceUnavailable)
			return
		}
		if s.IsNew() {
			s.Renew() // as at login
			s.SetData([]byte("user=Alice"))
		}
		if err := m.Save(r.Context(), w, s); err != nil {
			http.Error(w, "session not saved", http.StatusInternalServerError)
			return
		}
		fmt.Fprintf(w, "%s", s.Data())
	})

	w := httptest.NewRecorder()
	handler.ServeHTTP(w, httptest.NewRequest("GET", "https://app.example/", nil))
	c := w.Result().Cookies()[0]
	fmt.Println(c.Name, c.HttpOnly, c.Secure, c.SameSite == http.SameSiteLaxMode, c.MaxAge)
	fmt.Println(w.Header().Get("Cache-Control"), w.Header().Get("Vary"))

	r := httptest.NewRequest("GET", "https://app.example/", nil)
	r.AddCookie(c)
	w = httptest.NewRecorder()
	handler.ServeHTTP(w, r)
	fmt.Println(w.Body.String(), len(w.Header().Values("Set-Cookie")))
	// Output:
	// __Host-mwoauth_session true true true 86400
	// no-store Cookie
	// user=Alice 0
}

// A login stores its pending state under the request token (or OAuth 2
// state) and takes it back, once, at the callback.
func ExampleManager_TakePending() {
	m, err := session.New(session.Config{Keys: [][]byte{bytes.Repeat([]byte{7}, 32)}})
	if err != nil {
		panic(err)
	}
	// GET /login
	w := httptest.NewRecorder()
	r := httptest.NewRequest("GET", "http://127.0.0.1/login", nil)
	if err := m.PutPending(r.Context(), w, r, "request-token", []byte("secret + next")); err != nil {
		panic(err)
	}
	// GET /oauth-callback?oauth_token=request-token&... from the same browser
	cb := httptest.NewRequest("GET", "http://127.0.0.1/oauth-callback", nil)
	for _, c := range w.Result().Cookies() {
		cb.AddCookie(c)
	}
	data, found, err := m.TakePending(cb.Context(), httptest.NewRecorder(), cb, "request-token")
	fmt.Printf("%q %v %v\n", data, found, err)
	_, found, _ = m.TakePending(cb.Context(), httptest.NewRecorder(), cb, "another-token")
	fmt.Println(found)
	// Output:
	// "secret + next" true <nil>
	// false
}
