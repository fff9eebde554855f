package mwoauth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// scriptedWiki answers the token endpoint and the profile with fixed
// responses, and counts requests that a redirect would have led to.
type scriptedWiki struct {
	srv         *httptest.Server
	tokenStatus int
	tokenType   string
	tokenBody   string
	profStatus  int
	profType    string
	profBody    string
	forms       []url.Values
	followed    atomic.Int32
}

func newScriptedWiki(t *testing.T) *scriptedWiki {
	w := &scriptedWiki{tokenStatus: 200, tokenType: "application/json", profStatus: 200, profType: "application/json"}
	w.srv = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/w/rest.php/oauth2/access_token":
			b, _ := io.ReadAll(r.Body)
			f, _ := url.ParseQuery(string(b))
			w.forms = append(w.forms, f)
			if w.tokenStatus/100 == 3 {
				rw.Header().Set("Location", "/elsewhere")
			}
			rw.Header().Set("Content-Type", w.tokenType)
			rw.WriteHeader(w.tokenStatus)
			io.WriteString(rw, w.tokenBody)
		case "/w/rest.php/oauth2/resource/profile":
			if w.profStatus/100 == 3 {
				rw.Header().Set("Location", "/elsewhere")
			}
			rw.Header().Set("Content-Type", w.profType)
			rw.WriteHeader(w.profStatus)
			io.WriteString(rw, w.profBody)
		case "/elsewhere":
			w.followed.Add(1)
			io.WriteString(rw, `{"token_type":"Bearer","access_token":"stolen","expires_in":3600,"sub":"1","username":"Evil"}`)
		default:
			http.NotFound(rw, r)
		}
	}))
	t.Cleanup(w.srv.Close)
	return w
}

func (w *scriptedWiki) flow(t *testing.T, now time.Time) *oauth2Flow {
	t.Helper()
	a, err := New(Config{
		Wiki: w.srv.URL + "/w", ClientID: "cid", ClientSecret: "csecret",
		CallbackURL: "http://127.0.0.1:5000/oauth-callback", UserAgent: "t/1 (t@example.org)",
		SessionKeys: [][]byte{bytes.Repeat([]byte{3}, 32)}, Logger: slog.New(slog.DiscardHandler),
		Now: func() time.Time { return now },
	})
	if err != nil {
		t.Fatal(err)
	}
	return a.flow.(*oauth2Flow)
}

// SECURITY.md item 43: token responses are validated.
func TestOAuth2TokenResponse(t *testing.T) {
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name     string
		status   int
		ctype    string
		body     string
		wantErr  error  // nil: success
		wantCode string // RetrieveError code in the chain
		wantLife time.Duration
	}{
		{"ok", 200, "", `{"token_type":"Bearer","expires_in":3600,"access_token":"a.b.c","refresh_token":"r1"}`, nil, "", time.Hour},
		{"bearer in lower case", 200, "", `{"token_type":"bearer","expires_in":600,"access_token":"a","refresh_token":"r1"}`, nil, "", 10 * time.Minute},
		{"expires_in as a string", 200, "", `{"token_type":"Bearer","expires_in":"1200","access_token":"a","refresh_token":"r1"}`, nil, "", 20 * time.Minute},
		{"expires_in missing", 200, "", `{"token_type":"Bearer","access_token":"a","refresh_token":"r1"}`, nil, "", time.Hour},
		{"expires_in null", 200, "", `{"token_type":"Bearer","expires_in":null,"access_token":"a","refresh_token":"r1"}`, nil, "", time.Hour},
		{"expires_in zero", 200, "", `{"token_type":"Bearer","expires_in":0,"access_token":"a","refresh_token":"r1"}`, nil, "", time.Hour},
		{"expires_in negative", 200, "", `{"token_type":"Bearer","expires_in":-5,"access_token":"a","refresh_token":"r1"}`, nil, "", time.Hour},
		{"expires_in over a year", 200, "", `{"token_type":"Bearer","expires_in":99999999999,"access_token":"a","refresh_token":"r1"}`, nil, "", time.Hour},
		{"expires_in zzz", 200, "", `{"token_type":"Bearer","expires_in":"zzz","access_token":"a"}`, ErrLoginFailed, "", 0},
		{"token_type mac", 200, "", `{"access_token":"x","token_type":"mac"}`, ErrLoginFailed, "", 0},
		{"token_type missing", 200, "", `{"access_token":"x","expires_in":3600}`, ErrLoginFailed, "", 0},
		{"access_token empty", 200, "", `{"token_type":"Bearer","access_token":""}`, ErrLoginFailed, "", 0},
		{"access_token not printable", 200, "", `{"token_type":"Bearer","access_token":"a b"}`, ErrLoginFailed, "", 0},
		{"error with 200", 200, "", `{"error":"invalid_grant"}`, ErrNoPendingLogin, "invalid_grant", 0},
		{"code reused", 400, "", `{"error":"invalid_request","error_description":"The request is missing a required parameter","hint":"Authorization code has been revoked"}`, ErrNoPendingLogin, "invalid_request", 0},
		{"bad PKCE", 400, "", `{"error":"invalid_grant","hint":"Failed to verify code_verifier."}`, ErrNoPendingLogin, "invalid_grant", 0},
		{"bad secret", 401, "", `{"error":"invalid_client","error_description":"Client authentication failed"}`, ErrMisconfigured, "invalid_client", 0},
		{"HTML 503", 503, "text/html", `<!DOCTYPE html><title>Wikimedia Error</title>`, ErrWikiUnavailable, "", 0},
		{"redirect", 302, "text/html", ``, ErrWikiUnavailable, "", 0},
		{"JSON body 415 (1.43)", 415, "", `{"errorKey":"rest-unsupported-content-type","httpCode":415}`, ErrLoginFailed, "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newScriptedWiki(t)
			w.tokenStatus, w.tokenBody = tc.status, tc.body
			if tc.ctype != "" {
				w.tokenType = tc.ctype
			}
			f := w.flow(t, now)
			tok, err := f.conf.Exchange(f.tokenContext(context.Background()), "code", oauth2.VerifierOption("v"))
			var t2 *token2
			if err != nil {
				err = tokenError("token", err)
			} else {
				t2, err = f.checkToken(tok, "")
			}
			if w.followed.Load() != 0 {
				t.Fatal("a redirect of the token endpoint was followed")
			}
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v; want %v", err, tc.wantErr)
				}
				var re *oauth2.RetrieveError
				if tc.wantCode != "" && (!errors.As(err, &re) || re.ErrorCode != tc.wantCode) {
					t.Fatalf("err = %v; want a RetrieveError %q in the chain", err, tc.wantCode)
				}
				if strings.Contains(err.Error(), "<!DOCTYPE") {
					t.Errorf("the error repeats the response body: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			if got := time.Unix(t2.Expiry, 0).Sub(now); got != tc.wantLife {
				t.Errorf("life %v; want %v", got, tc.wantLife)
			}
			if t2.Refresh != "r1" {
				t.Errorf("refresh %q", t2.Refresh)
			}
			form := w.forms[0]
			if form.Get("client_id") != "cid" || form.Get("client_secret") != "csecret" || form.Get("code_verifier") != "v" ||
				form.Get("redirect_uri") != "http://127.0.0.1:5000/oauth-callback" || form.Get("grant_type") != "authorization_code" {
				t.Errorf("exchange form %v", form)
			}
		})
	}
}

// A refresh answer without a refresh token keeps the old one; a refused
// refresh matches ErrTokenRevoked; the wiki down matches ErrWikiUnavailable.
func TestOAuth2RefreshResponse(t *testing.T) {
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	w := newScriptedWiki(t)
	f := w.flow(t, now)
	w.tokenBody = `{"token_type":"Bearer","expires_in":3600,"access_token":"a2"}`
	got, err := f.ref.do(context.Background(), &token2{Access: "a1", Refresh: "r1"})
	if err != nil || got.Refresh != "r1" || got.Access != "a2" {
		t.Fatalf("refresh = %+v, %v; want a2 with the old refresh token", got, err)
	}
	if form := w.forms[len(w.forms)-1]; form.Get("grant_type") != "refresh_token" || form.Get("refresh_token") != "r1" || form.Get("client_secret") != "csecret" {
		t.Fatalf("refresh form %v", form)
	}
	for _, tc := range []struct {
		status int
		body   string
		want   error
	}{
		{401, `{"error":"invalid_request","error_description":"The refresh token is invalid.","hint":"Token has been revoked"}`, ErrTokenRevoked},
		{400, `{"error":"invalid_grant"}`, ErrTokenRevoked},
		{200, `{"error":"invalid_grant"}`, ErrTokenRevoked},
		{503, `<html>down</html>`, ErrWikiUnavailable},
	} {
		w.tokenStatus, w.tokenBody = tc.status, tc.body
		n := len(w.forms)
		if _, err := f.ref.do(context.Background(), &token2{Access: "a1", Refresh: "r1"}); !errors.Is(err, tc.want) {
			t.Errorf("refresh answered %d %s: %v; want %v", tc.status, tc.body, err, tc.want)
		}
		if len(w.forms)-n != 1 {
			t.Errorf("refresh answered %d: %d attempts; want 1 (only network errors are retried)", tc.status, len(w.forms)-n)
		}
	}
}

// The profile is JSON whatever its label; a 5xx or another body is an
// error, never a profile (SECURITY.md items 40, 43).
func TestOAuth2Profile(t *testing.T) {
	const alice = `{"sub":"3","username":"Alice","editcount":5,"confirmed_email":true,"blocked":false,"registered":"20261204133131","groups":["*","user","autoconfirmed"],"rights":["read","edit"],"grants":["basic","editpage","highvolume"]}`
	for _, tc := range []struct {
		name   string
		status int
		ctype  string
		body   string
		want   error
	}{
		{"1.43 application/json", 200, "application/json", alice, nil},
		{"1.39 text/html", 200, "text/html; charset=UTF-8", alice, nil},
		{"sub as a number", 200, "application/json", strings.Replace(alice, `"sub":"3"`, `"sub":3`, 1), nil},
		{"no sub", 200, "application/json", `{"username":"A"}`, ErrAccountUnavailable},
		{"sub zero", 200, "application/json", `{"sub":"0","username":"A"}`, ErrAccountUnavailable},
		{"sub not a number", 200, "application/json", `{"sub":"x","username":"A"}`, ErrAccountUnavailable},
		{"HTML", 200, "text/html", `<!DOCTYPE html><html><body>Main Page</body></html>`, ErrWikiUnavailable},
		{"500 without Authorization (1.39)", 500, "application/json", `{"message":"Error: exception of type InvalidArgumentException"}`, ErrWikiUnavailable},
		{"503 HTML", 503, "text/html", `<html>down</html>`, ErrWikiUnavailable},
		{"revoked", 401, "application/json", `{"error":"access_denied","hint":"Access token has been revoked"}`, ErrTokenRevoked},
		{"error with 200", 200, "application/json", `{"error":"access_denied"}`, ErrTokenRevoked},
		{"redirect", 302, "text/html", ``, ErrWikiUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newScriptedWiki(t)
			w.profStatus, w.profType, w.profBody = tc.status, tc.ctype, tc.body
			f := w.flow(t, time.Now())
			u, err := f.fetchProfile(context.Background(), f.hc, "tok")
			if w.followed.Load() != 0 {
				t.Fatal("a redirect of the profile was followed")
			}
			if tc.want != nil {
				if !errors.Is(err, tc.want) || u != nil {
					t.Fatalf("profile = %+v, %v; want %v", u, err, tc.want)
				}
				return
			}
			if err != nil || u.ID != "3" || u.Username != "Alice" || u.Issuer != w.srv.URL || u.EditCount != 5 || !u.EmailConfirmed ||
				len(u.Groups) != 3 || len(u.Grants) != 3 || u.Registered.IsZero() {
				t.Fatalf("profile = %+v, %v", u, err)
			}
		})
	}
}

// Config: OAuth 2 needs a real redirect URI; Issuer overrides the origin.
func TestOAuth2Config(t *testing.T) {
	base := Config{Wiki: "https://meta.wikimedia.org/w", ClientID: "cid", UserAgent: "t/1 (t@example.org)",
		SessionKeys: [][]byte{bytes.Repeat([]byte{3}, 32)}, Logger: slog.New(slog.DiscardHandler), PublicOrigin: "https://tool.example"}
	for _, cb := range []string{"", "oob"} {
		c := base
		c.CallbackURL = cb
		if _, err := New(c); !errors.Is(err, ErrConfig) {
			t.Errorf("CallbackURL %q: %v; want ErrConfig", cb, err)
		}
	}
	for _, sc := range [][]string{{""}, {"basic editpage"}, {"basic\n"}} {
		c := base
		c.CallbackURL = "https://tool.example/oauth-callback"
		c.Scopes = sc
		if _, err := New(c); !errors.Is(err, ErrConfig) {
			t.Errorf("Scopes %q: %v; want ErrConfig", sc, err)
		}
	}
	c := base
	c.CallbackURL = "https://tool.example/oauth-callback"
	c.Issuer = "https://meta.wikimedia.org"
	a, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	f := a.flow.(*oauth2Flow)
	if f.issuer != "https://meta.wikimedia.org" || f.conf.Endpoint.TokenURL != "https://meta.wikimedia.org/w/rest.php/oauth2/access_token" ||
		f.conf.Endpoint.AuthStyle != oauth2.AuthStyleInParams {
		t.Fatalf("flow %+v", f.conf.Endpoint)
	}
}

// The callback parser never panics, and whatever it accepts is a single
// printable state of at most 128 bytes.
func FuzzOAuth2Callback(f *testing.F) {
	for _, s := range []string{"code=abc&state=xyz", "error=unauthorized_client&error_description=x", "error=access_denied&state=s",
		"code=a&error=b", "state=&code=c", "code=%zz", "code=a;state=b", "state=a&state=b&code=c"} {
		f.Add(s)
	}
	w := &oauth2Flow{}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		h, err := w.parseCallback(q)
		if err != nil {
			if !errors.Is(err, ErrMalformedCallback) && !errors.Is(err, ErrNoPendingLogin) &&
				!errors.Is(err, ErrLoginDeclined) && !errors.Is(err, ErrLoginFailed) {
				t.Fatalf("error of no known kind: %v", err)
			}
			return
		}
		if h == "" || len(h) > maxStateLen || !printable(h) || len(q["state"]) != 1 || q.Get("state") != h {
			t.Fatalf("accepted handle %q from %q", h, raw)
		}
	})
}

func TestToken2Redacted(t *testing.T) {
	tok := token2{Access: "eyJsecretaccess", Refresh: "def50200secretrefresh", Expiry: 1}
	var logs bytes.Buffer
	slog.New(slog.NewTextHandler(&logs, nil)).Info("x", "tok", tok, "ptr", &tok)
	for _, s := range []string{fmt.Sprint(tok), fmt.Sprintf("%v %+v %#v %s", tok, &tok, tok, &tok), logs.String()} {
		if strings.Contains(s, "secret") {
			t.Errorf("a token leaks: %s", s)
		}
	}
	if b, _ := json.Marshal(tok); !strings.Contains(string(b), "def50200secretrefresh") {
		t.Errorf("the session encoding lost the token: %s", b)
	}
}
