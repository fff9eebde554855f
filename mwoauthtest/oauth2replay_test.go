package mwoauthtest_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/wikiauth/mwoauth/internal/transcript"
	"github.com/wikiauth/mwoauth/mwoauthtest"
)

// o2env is a replay wiki with the transcripts' OAuth 2 clients.
type o2env struct {
	s *mwoauthtest.Server
	w *transcript.Setup
	x *exchange
}

func (e o2env) client(name string) o2client {
	c := e.w.Consumers[name]
	return o2client{c.Key, c.Secret, c.Callback}
}

// code runs a whole authorization for the client and returns the code.
func (e o2env) code(t *testing.T, c o2client) string {
	t.Helper()
	cb, err := e.s.Authorize(context.Background(), authorizeURL(e.s, c, "st", ""), "Alice", "AlicePass-12345")
	if err != nil {
		t.Fatal(err)
	}
	return cb.Query().Get("code")
}

// scoped runs an authorization asking for scope and redeems the code.
func (e o2env) scoped(t *testing.T, c o2client, scope string) tokenResp {
	t.Helper()
	cb, err := e.s.Authorize(context.Background(), authorizeURL(e.s, c, "st", scope), "Alice", "AlicePass-12345")
	if err != nil {
		t.Fatal(err)
	}
	return redeem(t, e.s, c, cb.Query().Get("code"))
}

func (e o2env) tokens(t *testing.T, c o2client) tokenResp {
	return redeem(t, e.s, c, e.code(t, c))
}

func contentText(page string) string {
	i := strings.Index(page, `<div id="mw-content-text"`)
	if i < 0 {
		return ""
	}
	page = page[i:]
	page = page[strings.IndexByte(page, '>')+1:]
	if j := strings.LastIndex(page, "</div>"); j >= 0 {
		page = page[:j]
	}
	return strings.TrimSpace(page)
}

// TestOAuth2Replay produces the OAuth 2 answers of the transcripts on the
// fake (with the transcripts' clients) and compares status, Content-Type
// and body byte for byte (the HTML error pages: their #mw-content-text;
// redirects: their Location, with the fake's origin).
func TestOAuth2Replay(t *testing.T) {
	type result struct {
		resp *http.Response
		body string
	}
	cases := []struct {
		file     string
		only143  bool
		html     bool // compare #mw-content-text
		location bool // compare Location
		produce  func(t *testing.T, e o2env) result
	}{
		{file: "oauth2-10-resource-profile.txt", produce: func(t *testing.T, e o2env) result {
			var p struct{ Editcount int }
			json.Unmarshal([]byte(e.x.respBody), &p)
			setEditCount(t, e.s, p.Editcount)
			tr := e.scoped(t, e.client("oauth2_confidential"), "basic editpage highvolume")
			r, b := bearerGet(t, e.s, "/rest.php/oauth2/resource/profile", tr.AccessToken)
			return result{r, b}
		}},
		{file: "oauth2-11-resource-scopes.txt", produce: func(t *testing.T, e o2env) result {
			tr := e.scoped(t, e.client("oauth2_confidential"), "basic editpage highvolume")
			r, b := bearerGet(t, e.s, "/rest.php/oauth2/resource/scopes", tr.AccessToken)
			return result{r, b}
		}},
		{file: "oauth2-12-api-userinfo-bearer.txt", produce: func(t *testing.T, e o2env) result {
			tr := e.scoped(t, e.client("oauth2_confidential"), "basic editpage highvolume")
			r, b := bearerGet(t, e.s, "/api.php?action=query&meta=userinfo&uiprop=rights%7Cgroups&format=json", tr.AccessToken)
			return result{r, b}
		}},
		{file: "oauth2-15-err-api-create-page-scope.txt", produce: func(t *testing.T, e o2env) result {
			tr := e.scoped(t, e.client("oauth2_confidential"), "basic editpage highvolume")
			req, _ := http.NewRequest("POST", e.s.ScriptPath()+"/api.php", strings.NewReader("action=query&meta=tokens&format=json"))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Authorization", "Bearer "+tr.AccessToken)
			r, _ := e.s.Client().Do(req)
			var tok struct {
				Query struct{ Tokens struct{ Csrftoken string } }
			}
			json.Unmarshal([]byte(readAll(t, r)), &tok)
			req, _ = http.NewRequest("POST", e.s.ScriptPath()+"/api.php", strings.NewReader(url.Values{"action": {"edit"}, "title": {"Mwpeer OAuth2 new page"}, "text": {"x"}, "token": {tok.Query.Tokens.Csrftoken}, "format": {"json"}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Authorization", "Bearer "+tr.AccessToken)
			r, err := e.s.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			return result{r, readAll(t, r)}
		}},
		{file: "oauth2-09-err-access-token-code-reuse.txt", produce: func(t *testing.T, e o2env) result {
			c := e.client("oauth2_confidential")
			code := e.code(t, c)
			redeem(t, e.s, c, code)
			r, b := postToken(t, e.s, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {c.redirect}, "client_id": {c.id}, "client_secret": {c.secret}, "code_verifier": {verifier}}, nil)
			return result{r, b}
		}},
		{file: "oauth2-18-err-refresh-token-reuse.txt", produce: func(t *testing.T, e o2env) result {
			c := e.client("oauth2_confidential")
			tr := e.tokens(t, c)
			f := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tr.RefreshToken}, "client_id": {c.id}, "client_secret": {c.secret}}
			postToken(t, e.s, f, nil)
			r, b := postToken(t, e.s, f, nil)
			return result{r, b}
		}},
		{file: "oauth2-19-profile-with-old-access-token-after-refresh.txt", produce: func(t *testing.T, e o2env) result {
			c := e.client("oauth2_confidential")
			tr := e.tokens(t, c)
			postToken(t, e.s, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tr.RefreshToken}, "client_id": {c.id}, "client_secret": {c.secret}}, nil)
			r, b := bearerGet(t, e.s, "/rest.php/oauth2/resource/profile", tr.AccessToken)
			return result{r, b}
		}},
		{file: "oauth2-20-err-profile-bad-bearer.txt", produce: func(t *testing.T, e o2env) result {
			r, b := bearerGet(t, e.s, "/rest.php/oauth2/resource/profile", "garbage.token.here")
			return result{r, b}
		}},
		{file: "oauth2-21-err-profile-no-auth.txt", only143: true, produce: func(t *testing.T, e o2env) result {
			r, b := bearerGet(t, e.s, "/rest.php/oauth2/resource/profile", "")
			return result{r, b}
		}},
		{file: "oauth2-22-err-api-bad-bearer.txt", produce: func(t *testing.T, e o2env) result {
			r, b := bearerGet(t, e.s, "/api.php?action=query&meta=userinfo&format=json", "garbage.token.here")
			return result{r, b}
		}},
		{file: "oauth2-27-err-access-token-bad-secret.txt", produce: func(t *testing.T, e o2env) result {
			c := e.client("oauth2_confidential")
			r, b := postToken(t, e.s, url.Values{"grant_type": {"authorization_code"}, "code": {e.code(t, c)}, "redirect_uri": {c.redirect}, "client_id": {c.id}, "client_secret": {c.secret + "x"}, "code_verifier": {verifier}}, nil)
			return result{r, b}
		}},
		{file: "oauth2-28-err-access-token-bad-pkce.txt", produce: func(t *testing.T, e o2env) result {
			c := e.client("oauth2_confidential")
			r, b := postToken(t, e.s, url.Values{"grant_type": {"authorization_code"}, "code": {e.code(t, c)}, "redirect_uri": {c.redirect}, "client_id": {c.id}, "client_secret": {c.secret}, "code_verifier": {strings.Repeat("x", 50)}}, nil)
			return result{r, b}
		}},
		{file: "oauth2-29-err-access-token-bad-redirect.txt", produce: func(t *testing.T, e o2env) result {
			c := e.client("oauth2_confidential")
			r, b := postToken(t, e.s, url.Values{"grant_type": {"authorization_code"}, "code": {e.code(t, c)}, "redirect_uri": {"http://127.0.0.1:5000/other"}, "client_id": {c.id}, "client_secret": {c.secret}, "code_verifier": {verifier}}, nil)
			return result{r, b}
		}},
		{file: "oauth2-51-err-client-credentials-not-allowed.txt", produce: func(t *testing.T, e o2env) result {
			c := e.client("oauth2_confidential")
			r, b := postToken(t, e.s, url.Values{"grant_type": {"client_credentials"}, "client_id": {c.id}, "client_secret": {c.secret}}, nil)
			return result{r, b}
		}},
		{file: "oauth2-extra-17-err-refresh-other-client.txt", only143: true, produce: func(t *testing.T, e o2env) result {
			other := e.tokens(t, e.client("oauth2_confidential_cb"))
			c := e.client("oauth2_confidential")
			r, b := postToken(t, e.s, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {other.RefreshToken}, "client_id": {c.id}, "client_secret": {c.secret}}, nil)
			return result{r, b}
		}},
		{file: "oauth2-extra-22-err-code-other-client.txt", only143: true, produce: func(t *testing.T, e o2env) result {
			oc := e.client("oauth2_confidential_cb")
			code := e.code(t, oc)
			c := e.client("oauth2_confidential")
			r, b := postToken(t, e.s, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {oc.redirect}, "client_id": {c.id}, "client_secret": {c.secret}, "code_verifier": {verifier}}, nil)
			return result{r, b}
		}},
		{file: "oauth2-extra-23-token-json-body.txt", only143: true, produce: func(t *testing.T, e o2env) result {
			c := e.w.Consumers["oauth2_owner_only_alice"]
			req, _ := http.NewRequest("POST", e.s.ScriptPath()+"/rest.php/oauth2/access_token", strings.NewReader(`{"grant_type": "client_credentials", "client_id": "`+c.Key+`", "client_secret": "`+c.Secret+`"}`))
			req.Header.Set("Content-Type", "application/json")
			r, err := e.s.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			return result{r, readAll(t, r)}
		}},
		{file: "oauth2-31-err-authorize-bad-redirect-uri.txt", html: true, produce: func(t *testing.T, e o2env) result {
			r, b := bearerGet(t, e.s, "/rest.php/oauth2/authorize?client_id="+e.client("oauth2_confidential").id+"&response_type=code&state=s&redirect_uri=http%3A%2F%2Fevil.example%2Fcb", "")
			return result{r, b}
		}},
		{file: "oauth2-32-err-authorize-unknown-client.txt", html: true, produce: func(t *testing.T, e o2env) result {
			r, b := bearerGet(t, e.s, "/rest.php/oauth2/authorize?client_id=ffffffffffffffffffffffffffffffff&response_type=code", "")
			return result{r, b}
		}},
		{file: "oauth2-33-err-authorize-implicit.txt", html: true, produce: func(t *testing.T, e o2env) result {
			r, b := bearerGet(t, e.s, "/rest.php/oauth2/authorize?client_id="+e.client("oauth2_confidential").id+"&response_type=token", "")
			return result{r, b}
		}},
		{file: "oauth2-43-err-public-authorize-no-pkce.txt", html: true, produce: func(t *testing.T, e o2env) result {
			c := e.client("oauth2_public")
			r, b := bearerGet(t, e.s, "/rest.php/oauth2/authorize?client_id="+c.id+"&response_type=code&state=s&redirect_uri="+url.QueryEscape(c.redirect), "")
			return result{r, b}
		}},
		{file: "oauth2-01-authorize-anonymous.txt", location: true, produce: func(t *testing.T, e o2env) result {
			r, b := bearerGet(t, e.s, "/rest.php/oauth2/authorize?client_id="+e.client("oauth2_confidential").id+"&response_type=code&state=anon-state&redirect_uri=http%3A%2F%2F127.0.0.1%3A5000%2Foauth2-callback", "")
			return result{r, b}
		}},
		{file: "oauth2-04-authorize-hop0.txt", location: true, produce: func(t *testing.T, e o2env) result {
			c, _ := loginBrowser(t, e.s)
			target := strings.TrimPrefix(e.x.target, "/w")
			r, err := c.Get(e.s.ScriptPath() + target)
			if err != nil {
				t.Fatal(err)
			}
			return result{r, readAll(t, r)}
		}},
		{file: "oauth2-42-authorize-hop3.txt", location: true, produce: func(t *testing.T, e o2env) result {
			c, form := approveForm(t, e.s, authorizeURL(e.s, e.client("oauth2_confidential"), "-nzx6z6_a7mlhjWL", ""))
			form.Set("cancel", "Cancel")
			r, err := c.PostForm(e.s.ScriptPath()+"/index.php?title=Special:OAuth/approve", form)
			if err != nil {
				t.Fatal(err)
			}
			readAll(t, r)
			r, err = c.Get(r.Header.Get("Location"))
			if err != nil {
				t.Fatal(err)
			}
			return result{r, readAll(t, r)}
		}},
	}
	for _, v := range transcript.Releases {
		transcript.Dir(t) // without the transcripts, skip (fail under CI) before the subtests
		for _, tc := range cases {
			if tc.only143 && v != "1.43" {
				continue
			}
			t.Run(v+"/"+tc.file, func(t *testing.T) {
				if _, err := os.Stat(transcript.Path(t, v, tc.file)); err != nil {
					t.Skipf("no %s in %s", tc.file, v)
				}
				x := loadExchange(t, v, tc.file)
				s := replayWiki(t, v, x)
				w := transcript.ReadSetup(t, v)
				res := tc.produce(t, o2env{s: s, w: w, x: x})
				if res.resp.StatusCode != x.status {
					t.Errorf("status = %d; want %d", res.resp.StatusCode, x.status)
				}
				if got, want := res.resp.Header.Get("Content-Type"), x.respHeader.Get("Content-Type"); got != want {
					t.Errorf("Content-Type = %q; want %q", got, want)
				}
				switch {
				case tc.html:
					if got, want := contentText(res.body), contentText(x.respBody); got != want {
						t.Errorf("page content =\n%s\nwant\n%s", got, want)
					}
				case tc.location:
					want := strings.ReplaceAll(x.respHeader.Get("Location"), w.Wiki.Server, s.URL)
					want = regexp.MustCompile(`code_challenge%253D[^%]+`).ReplaceAllString(want, "code_challenge%253DX")
					got := regexp.MustCompile(`code_challenge%253D[^%]+`).ReplaceAllString(res.resp.Header.Get("Location"), "code_challenge%253DX")
					if got != want {
						t.Errorf("Location =\n%s\nwant\n%s", got, want)
					}
				default:
					if res.body != x.respBody {
						t.Errorf("body =\n%s\nwant\n%s", res.body, x.respBody)
					}
				}
			})
		}
	}
}
