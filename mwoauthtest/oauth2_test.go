package mwoauthtest_test

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wikiauth/mwoauth/mwoauthtest"
)

type o2client struct {
	id, secret, redirect string
}

func pkce(verifier string) string {
	h := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

const verifier = "5XVUvkMNTLCRhELlZbDSz1ysNIX9hf4Ly2i1UVJwdaIT8mt8TG4ACw"

func authorizeURL(s *mwoauthtest.Server, c o2client, state, scope string) string {
	q := url.Values{"client_id": {c.id}, "response_type": {"code"}, "state": {state}, "redirect_uri": {c.redirect},
		"code_challenge": {pkce(verifier)}, "code_challenge_method": {"S256"}}
	if scope != "" {
		q.Set("scope", scope)
	}
	return s.ScriptPath() + "/rest.php/oauth2/authorize?" + q.Encode()
}

func postToken(t *testing.T, s *mwoauthtest.Server, form url.Values, basic *[2]string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", s.ScriptPath()+"/rest.php/oauth2/access_token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basic != nil {
		req.SetBasicAuth(basic[0], basic[1])
	}
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp, readAll(t, resp)
}

type tokenResp struct {
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
}

func redeem(t *testing.T, s *mwoauthtest.Server, c o2client, code string) tokenResp {
	t.Helper()
	resp, body := postToken(t, s, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {c.redirect},
		"client_id": {c.id}, "client_secret": {c.secret}, "code_verifier": {verifier}}, nil)
	var tr tokenResp
	if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &tr) != nil || tr.TokenType != "Bearer" || tr.ExpiresIn != 3600 {
		t.Fatalf("token exchange: %d %s", resp.StatusCode, body)
	}
	return tr
}

func bearerGet(t *testing.T, s *mwoauthtest.Server, path, tok string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", s.ScriptPath()+path, nil)
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp, readAll(t, resp)
}

func newClient(s *mwoauthtest.Server, confidential bool) o2client {
	c := s.AddConsumer(mwoauthtest.Consumer{Name: "o2app", Version: 2, Confidential: confidential, Callback: "http://127.0.0.1:5000/oauth2-callback",
		Grants: []string{"basic", "highvolume", "editpage", "createeditmovepage"}})
	return o2client{c.Key, c.Secret, c.Callback}
}

// TestOAuth2Flow: authorize through the pages (anonymous → login → approve
// → Allow), code + state, the exchange with PKCE S256, an RS256 access
// token with fractional iat/nbf/exp, profile and api.php narrowed by the
// scope, refresh rotation (old access and refresh tokens revoked at once),
// and single-use codes.
func TestOAuth2Flow(t *testing.T) {
	s := mwoauthtest.Start(t)
	c := newClient(s, true)
	ctx := context.Background()
	cb, err := s.Authorize(ctx, authorizeURL(s, c, "st4te", "basic editpage highvolume"), "Alice", mwoauthtest.DefaultPassword)
	if err != nil {
		t.Fatal(err)
	}
	if cb.Query().Get("state") != "st4te" || !strings.HasPrefix(cb.String(), c.redirect+"?code=def50200") {
		t.Fatalf("callback = %s", cb)
	}
	code := cb.Query().Get("code")
	tr := redeem(t, s, c, code)

	// The access token: RS256 with the wiki's key, fractional times.
	parts := strings.Split(tr.AccessToken, ".")
	head, _ := base64.RawURLEncoding.DecodeString(parts[0])
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	h := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if string(head) != `{"typ":"JWT","alg":"RS256"}` || rsa.VerifyPKCS1v15(s.OAuth2PublicKey(), crypto.SHA256, h[:], sig) != nil {
		t.Errorf("access token header %s or signature wrong", head)
	}
	if !regexp.MustCompile(`^\{"aud":"` + c.id + `","jti":"[0-9a-f]{80}","iat":\d+\.\d+,"nbf":\d+\.\d+,"exp":\d+\.\d+,"sub":"3","iss":"` + regexp.QuoteMeta(s.URL) + `","scopes":\["basic","editpage","highvolume"\]\}$`).Match(payload) {
		t.Errorf("access token claims = %s", payload)
	}

	// Profile and api.php see the scope's rights (8 in 1.43).
	resp, body := bearerGet(t, s, "/rest.php/oauth2/resource/profile", tr.AccessToken)
	want := `{"sub":"3","username":"Alice","editcount":0,"email_verified":true,"confirmed_email":true,"blocked":false,"registered":"20261204142123","groups":["*","user","autoconfirmed"],"rights":["read","edit","minoredit","applychangetags","changetags","editcontentmodel","autoconfirmed","editsemiprotected"],"grants":["basic","editpage","highvolume"]}`
	if body != want || resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("profile = %s (%s)\nwant %s", body, resp.Header.Get("Content-Type"), want)
	}
	if _, body := bearerGet(t, s, "/rest.php/oauth2/resource/scopes", tr.AccessToken); body != `{"scopes":["basic","highvolume","editpage","createeditmovepage"]}` {
		t.Errorf("scopes = %s", body)
	}
	_, body = bearerGet(t, s, "/api.php?action=query&meta=userinfo&uiprop=rights%7Cgroups&format=json", tr.AccessToken)
	if want := `{"batchcomplete":"","query":{"userinfo":{"id":3,"name":"Alice","groups":["*","user","autoconfirmed"],"rights":["read","edit","minoredit","applychangetags","changetags","editcontentmodel","autoconfirmed","editsemiprotected"]}}}`; body != want {
		t.Errorf("api.php userinfo = %s", body)
	}

	// The code is single use.
	resp, body = postToken(t, s, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {c.redirect},
		"client_id": {c.id}, "client_secret": {c.secret}, "code_verifier": {verifier}}, nil)
	if resp.StatusCode != 400 || !strings.Contains(body, `"hint":"Authorization code has been revoked"`) {
		t.Errorf("code reuse: %d %s", resp.StatusCode, body)
	}

	// Refresh: new pair; the old access token and refresh token are revoked.
	refresh := func(rt string) (*http.Response, string) {
		return postToken(t, s, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {c.id}, "client_secret": {c.secret}}, nil)
	}
	resp, body = refresh(tr.RefreshToken)
	var tr2 tokenResp
	if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &tr2) != nil || tr2.RefreshToken == tr.RefreshToken || tr2.AccessToken == tr.AccessToken {
		t.Fatalf("refresh: %d %s", resp.StatusCode, body)
	}
	if resp, body := bearerGet(t, s, "/rest.php/oauth2/resource/profile", tr.AccessToken); resp.StatusCode != 401 || !strings.Contains(body, `"hint":"Access token has been revoked"`) {
		t.Errorf("old access token after refresh: %d %s", resp.StatusCode, body)
	}
	if resp, body := refresh(tr.RefreshToken); resp.StatusCode != 401 || body != `{"error":"invalid_request","error_description":"The refresh token is invalid.","hint":"Token has been revoked","message":"The refresh token is invalid."}` {
		t.Errorf("refresh token reuse: %d %s", resp.StatusCode, body)
	}
	if resp, _ := refresh(tr2.RefreshToken); resp.StatusCode != 200 {
		t.Errorf("the new refresh token: %d", resp.StatusCode)
	}
	if n := s.Requests(mwoauthtest.EndpointOAuth2Token); n != 5 {
		t.Errorf("Requests(token) = %d; want 5", n)
	}

	// Revoke: everything of the grant stops working.
	s.Revoke("Alice", c.id)
	if resp, _ := bearerGet(t, s, "/rest.php/oauth2/resource/profile", tr2.AccessToken); resp.StatusCode != 401 {
		t.Errorf("after Revoke: %d", resp.StatusCode)
	}
}

// TestOAuth2Grace: with a grace period a used refresh token works again for
// a while, then not.
func TestOAuth2Grace(t *testing.T) {
	s := mwoauthtest.Start(t, mwoauthtest.WithRefreshGracePeriod(600*time.Second))
	c := newClient(s, true)
	cb, err := s.Authorize(context.Background(), authorizeURL(s, c, "x", ""), "Alice", mwoauthtest.DefaultPassword)
	if err != nil {
		t.Fatal(err)
	}
	tr := redeem(t, s, c, cb.Query().Get("code"))
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tr.RefreshToken}, "client_id": {c.id}, "client_secret": {c.secret}}
	for i, want := range []int{200, 200, 401} {
		if i == 2 {
			s.Advance(601 * time.Second)
		}
		if resp, body := postToken(t, s, form, nil); resp.StatusCode != want {
			t.Errorf("use %d: %d %s; want %d", i+1, resp.StatusCode, body, want)
		}
	}
}

// TestOAuth2PublicAndCancel: a public client needs PKCE and no secret; a
// declined consent returns error=unauthorized_client without state.
func TestOAuth2PublicAndCancel(t *testing.T) {
	s := mwoauthtest.Start(t)
	c := newClient(s, false)
	if c.secret != "" {
		t.Fatalf("public client got a secret")
	}
	cb, err := s.Authorize(context.Background(), authorizeURL(s, c, "p", ""), "Alice", mwoauthtest.DefaultPassword)
	if err != nil {
		t.Fatal(err)
	}
	redeem(t, s, c, cb.Query().Get("code"))

	// Without code_challenge: the error page, 400 (1.43).
	resp, body := bearerGet(t, s, "/rest.php/oauth2/authorize?client_id="+c.id+"&response_type=code&state=s&redirect_uri="+url.QueryEscape(c.redirect), "")
	if resp.StatusCode != 400 || !strings.Contains(body, "Additional debug information: Code challenge must be provided for public clients") {
		t.Errorf("no PKCE: %d %s", resp.StatusCode, pageText(body))
	}

	// Cancel, by hand: log in, open the approve form, press Cancel.
	c2, form := approveForm(t, s, authorizeURL(s, c, "cancel-state", ""))
	form.Set("cancel", "Cancel")
	resp, err = c2.PostForm(s.ScriptPath()+"/index.php?title=Special:OAuth/approve", form)
	if err != nil {
		t.Fatal(err)
	}
	readAll(t, resp)
	resp, err = c2.Get(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	readAll(t, resp)
	want := c.redirect + "?error=unauthorized_client&error_description=User+has+rejected+the+request+from+client+application&message=User+has+rejected+the+request+from+client+application"
	if got := resp.Header.Get("Location"); got != want {
		t.Errorf("after Cancel: Location %q; want %q", got, want)
	}
}

// approveForm logs Alice in through the anonymous authorize and returns the
// approve form's values.
func approveForm(t *testing.T, s *mwoauthtest.Server, start string) (*http.Client, url.Values) {
	t.Helper()
	cc, _ := loginBrowser(t, s)
	resp, err := cc.Get(start)
	if err != nil {
		t.Fatal(err)
	}
	readAll(t, resp)
	resp, err = cc.Get(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	page := readAll(t, resp)
	form := url.Values{}
	for _, in := range regexp.MustCompile(`<input id="[^"]*" (?:name="([^"]*)" type="hidden" value="([^"]*)"|type="hidden" value="([^"]*)" name="([^"]*)")>`).FindAllStringSubmatch(page, -1) {
		if in[1] != "" {
			form.Set(in[1], htmlUnescape(in[2]))
		} else {
			form.Set(in[4], htmlUnescape(in[3]))
		}
	}
	form.Set("title", "Special:OAuth/approve")
	if form.Get("client_id") == "" || form.Get("returntoquery") == "" {
		t.Fatalf("no approve form: %s", page)
	}
	return cc, form
}

func pageText(page string) string {
	return strings.Join(strings.Fields(regexp.MustCompile(`<[^>]*>`).ReplaceAllString(page, " ")), " ")
}

// TestOAuth2OwnerOnly: an owner-only client's fixed token and
// client_credentials both work; other clients may not use client_credentials.
func TestOAuth2OwnerOnly(t *testing.T) {
	s := mwoauthtest.Start(t)
	bot := s.AddConsumer(mwoauthtest.Consumer{Name: "o2bot", Version: 2, OwnerOnly: true, Owner: "Alice", Confidential: true, Grants: []string{"basic", "editpage"}})
	if bot.AccessToken == "" {
		t.Fatal("no fixed access token")
	}
	if resp, body := bearerGet(t, s, "/rest.php/oauth2/resource/profile", bot.AccessToken); resp.StatusCode != 200 || !strings.Contains(body, `"username":"Alice"`) {
		t.Errorf("fixed token profile: %d %s", resp.StatusCode, body)
	}
	resp, body := postToken(t, s, url.Values{"grant_type": {"client_credentials"}}, &[2]string{bot.Key, bot.Secret})
	var tr tokenResp
	if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &tr) != nil || tr.RefreshToken != "" || !strings.HasPrefix(body, `{"token_type":"Bearer","expires_in":3600,"access_token":"`) {
		t.Fatalf("client_credentials: %d %s", resp.StatusCode, body)
	}
	if resp, _ := bearerGet(t, s, "/rest.php/oauth2/resource/profile", tr.AccessToken); resp.StatusCode != 200 {
		t.Errorf("client_credentials token: %d", resp.StatusCode)
	}
	c := newClient(s, true)
	if resp, body := postToken(t, s, url.Values{"grant_type": {"client_credentials"}, "client_id": {c.id}, "client_secret": {c.secret}}, nil); resp.StatusCode != 401 ||
		body != `{"error":"invalid_client","error_description":"Client authentication failed","message":"Client authentication failed"}` {
		t.Errorf("client_credentials for a normal client: %d %s", resp.StatusCode, body)
	}
}

// TestOAuth2Defaults: the default confidential client works end to end,
// and its token reads rest.php/v1/page; a bad bearer token is refused.
func TestOAuth2Defaults(t *testing.T) {
	s := mwoauthtest.Start(t)
	def := s.OAuth2Client(true)
	pub := s.OAuth2Client(false)
	if def == nil || def.Secret == "" || !def.Confidential || pub == nil || pub.Secret != "" || pub.Confidential || def.RedirectURI() != mwoauthtest.DefaultCallback {
		t.Fatalf("default OAuth 2 clients: %v %v", def, pub)
	}
	c := o2client{def.ClientID(), def.ClientSecret(), def.RedirectURI()}
	cb, err := s.Authorize(context.Background(), authorizeURL(s, c, "d", ""), "Alice", mwoauthtest.DefaultPassword)
	if err != nil {
		t.Fatal(err)
	}
	tr := redeem(t, s, c, cb.Query().Get("code"))
	resp, body := bearerGet(t, s, "/rest.php/v1/page/Main_Page", tr.AccessToken)
	if resp.StatusCode != 200 || !strings.HasPrefix(body, `{"id":1,"key":"Main_Page","title":"Main Page","latest":{"id":1,"timestamp":"`) {
		t.Errorf("v1/page: %d %s", resp.StatusCode, body)
	}
	if resp, _ := bearerGet(t, s, "/rest.php/v1/page/Main_Page", "garbage.token.here"); resp.StatusCode != 401 {
		t.Errorf("v1/page with a bad token: %d; want 401", resp.StatusCode)
	}
	if s2 := mwoauthtest.Start(t, mwoauthtest.WithoutDefaults()); s2.OAuth2Client(true) != nil || s2.Consumer() != nil {
		t.Errorf("WithoutDefaults still has default consumers")
	}
}

// TestOAuth2LoginAppAndExpiry: LoginApp works for an OAuth 2 app too
// (app → rest.php authorize → login → approve → app); an access token
// stops working when the fake's clock passes its expiry.
func TestOAuth2LoginAppAndExpiry(t *testing.T) {
	s := mwoauthtest.Start(t)
	var tok string
	mux := http.NewServeMux()
	var app *httptest.Server
	var c o2client
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, authorizeURL(s, c, "app-state", ""), http.StatusFound)
	})
	mux.HandleFunc("GET /oauth-callback", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("state") != "app-state" {
			http.Error(w, "state", http.StatusBadRequest)
			return
		}
		resp, body := postToken(t, s, url.Values{"grant_type": {"authorization_code"}, "code": {r.URL.Query().Get("code")}, "redirect_uri": {c.redirect},
			"client_id": {c.id}, "client_secret": {c.secret}, "code_verifier": {verifier}}, nil)
		var tr tokenResp
		if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &tr) != nil {
			http.Error(w, "token", http.StatusBadGateway)
			return
		}
		tok = tr.AccessToken
		http.SetCookie(w, &http.Cookie{Name: "sid", Value: "1", Path: "/"})
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("home")) })
	app = httptest.NewServer(mux)
	defer app.Close()
	cl := s.AddConsumer(mwoauthtest.Consumer{Name: "o2web", Version: 2, Confidential: true, Callback: app.URL + "/oauth-callback", Grants: []string{"basic"}})
	c = o2client{cl.Key, cl.Secret, cl.Callback}

	hc, err := s.LoginApp(context.Background(), app.URL+"/login", "Alice", mwoauthtest.DefaultPassword)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(app.URL)
	if len(hc.Jar.Cookies(u)) == 0 || tok == "" {
		t.Fatal("no app session after LoginApp")
	}
	if resp, _ := bearerGet(t, s, "/rest.php/oauth2/resource/profile", tok); resp.StatusCode != 200 {
		t.Errorf("profile: %d", resp.StatusCode)
	}
	s.Advance(3601 * time.Second)
	if resp, body := bearerGet(t, s, "/rest.php/oauth2/resource/profile", tok); resp.StatusCode != 401 || !strings.Contains(body, `"hint":"Access token could not be verified"`) {
		t.Errorf("expired token on profile: %d %s", resp.StatusCode, body)
	}
	if _, body := bearerGet(t, s, "/api.php?action=query&meta=userinfo&format=json", tok); !strings.Contains(body, `"code":"mwoauth-invalid-authorization"`) {
		t.Errorf("expired token on api.php: %s", body)
	}
}
