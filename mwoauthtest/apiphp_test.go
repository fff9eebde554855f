package mwoauthtest_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/wikiauth/mwoauth/internal/transcript"
	"github.com/wikiauth/mwoauth/mwoauthtest"
)

// TestAPIAuthErrors: api.php refuses a bad, revoked or request token and a
// bad signature with mwoauth-invalid-authorization (HTTP 200,
// MediaWiki-API-Error), byte for byte as the transcripts show; it never
// falls back to anonymous.
func TestAPIAuthErrors(t *testing.T) {
	for _, v := range transcript.Releases {
		w := transcript.ReadSetup(t, v)
		c := w.Consumers["oauth1"]
		cases := []struct {
			file    string
			produce func(e *exchange, s *mwoauthtest.Server) signed
		}{
			{"oauth1-41-err-api-bad-access-token.txt", func(e *exchange, s *mwoauthtest.Server) signed {
				return signed{token: "00000000000000000000000000000000", tokenSecret: "x"}
			}},
			{"oauth1-42-err-api-bad-signature.txt", func(e *exchange, s *mwoauthtest.Server) signed {
				s.AddAccessToken("Alice", c.Key, "aaaabbbbccccddddaaaabbbbccccdddd", "right")
				return signed{token: "aaaabbbbccccddddaaaabbbbccccdddd", tokenSecret: "wrong"}
			}},
			{"oauth1-43-err-api-request-token-as-access-token.txt", func(e *exchange, s *mwoauthtest.Server) signed {
				_, b := signed{method: "GET", url: special(s, "initiate", "json"), consumerKey: c.Key, consumerSecret: c.Secret, extra: map[string]string{"oauth_callback": "oob"}}.do(t, s)
				k, sec := tokenPair(t, b)
				return signed{token: k, tokenSecret: sec}
			}},
			{"oauth1-52-err-api-revoked-token.txt", func(e *exchange, s *mwoauthtest.Server) signed {
				s.AddAccessToken("Alice", c.Key, "aaaabbbbccccddddaaaabbbbccccdddd", "right")
				s.Revoke("Alice", c.Key)
				return signed{token: "aaaabbbbccccddddaaaabbbbccccdddd", tokenSecret: "right"}
			}},
		}
		for _, tc := range cases {
			t.Run(v+"/"+tc.file, func(t *testing.T) {
				x := loadExchange(t, v, tc.file)
				s := replayWiki(t, v, x)
				r := tc.produce(x, s)
				r.method, r.url = "GET", s.ScriptPath()+"/api.php?action=query&meta=userinfo&format=json"
				r.consumerKey, r.consumerSecret = c.Key, c.Secret
				resp, body := r.do(t, s)
				if body != x.respBody {
					t.Errorf("body =\n%s\nwant\n%s", body, x.respBody)
				}
				if got := resp.Header.Get("MediaWiki-API-Error"); got != "mwoauth-invalid-authorization" || resp.StatusCode != 200 {
					t.Errorf("status %d, MediaWiki-API-Error %q; want 200, mwoauth-invalid-authorization", resp.StatusCode, got)
				}
			})
		}
	}
}

func apiGet(t *testing.T, s *mwoauthtest.Server, r signed, params url.Values) (string, string) {
	t.Helper()
	r.method, r.url = "GET", s.ScriptPath()+"/api.php?"+params.Encode()
	resp, body := r.do(t, s)
	return body, resp.Header.Get("MediaWiki-API-Error")
}

func apiPost(t *testing.T, s *mwoauthtest.Server, r signed, params url.Values) (string, string) {
	t.Helper()
	r.method, r.url, r.form = "POST", s.ScriptPath()+"/api.php", params
	resp, body := r.do(t, s)
	return body, resp.Header.Get("MediaWiki-API-Error")
}

// TestAPI: userinfo rights filtered by the consumer's grants (32 → 14 in
// 1.43, 34 → 16 in 1.39), CSRF tokens and edits (token checked, new page
// and existing page), list=allpages continuation over several batches,
// formatversion=2, assert=user, and anonymous access without OAuth.
func TestAPI(t *testing.T) {
	for _, tc := range []struct {
		v      mwoauthtest.Version
		rights int
	}{{mwoauthtest.MW143, 14}, {mwoauthtest.MW139, 16}} {
		s := mwoauthtest.Start(t, mwoauthtest.WithVersion(tc.v))
		c := s.Consumer()
		s.AddAccessToken("Alice", c.Key, "tok1tok1tok1tok1tok1tok1tok1tok1", "sec1")
		alice := signed{consumerKey: c.Key, consumerSecret: c.Secret, token: "tok1tok1tok1tok1tok1tok1tok1tok1", tokenSecret: "sec1"}

		body, _ := apiGet(t, s, alice, url.Values{"action": {"query"}, "meta": {"userinfo"}, "uiprop": {"rights|groups"}, "format": {"json"}})
		var ui struct {
			Query struct {
				Userinfo struct {
					Name   string
					Rights []string
				}
			}
		}
		json.Unmarshal([]byte(body), &ui)
		if ui.Query.Userinfo.Name != "Alice" || len(ui.Query.Userinfo.Rights) != tc.rights {
			t.Errorf("%v: userinfo = %s; want Alice with %d rights", tc.v, body, tc.rights)
		}

		// CSRF: no token, a wrong token, then the right one.
		edit := url.Values{"action": {"edit"}, "title": {"Sandbox"}, "text": {"hello"}, "format": {"json"}}
		if _, code := apiPost(t, s, alice, edit); code != "missingparam" {
			t.Errorf("edit without token: %q; want missingparam", code)
		}
		edit.Set("token", `deadbeef+\`)
		if _, code := apiPost(t, s, alice, edit); code != "badtoken" {
			t.Errorf("edit with a bad token: %q; want badtoken", code)
		}
		body, _ = apiPost(t, s, alice, url.Values{"action": {"query"}, "meta": {"tokens"}, "format": {"json"}})
		var tok struct {
			Query struct{ Tokens struct{ Csrftoken string } }
		}
		json.Unmarshal([]byte(body), &tok)
		edit.Set("token", tok.Query.Tokens.Csrftoken)
		body, code := apiPost(t, s, alice, edit)
		if code != "" || !strings.Contains(body, `"new":"","result":"Success"`) {
			t.Errorf("edit: %s (%s); want a new page", body, code)
		}
		if text, ok := s.PageText("Sandbox"); !ok || text != "hello" {
			t.Errorf("PageText(Sandbox) = %q, %v", text, ok)
		}
		edit.Set("text", "hello again")
		body, _ = apiPost(t, s, alice, edit)
		if !strings.Contains(body, `"result":"Success"`) || strings.Contains(body, `"new"`) {
			t.Errorf("second edit: %s", body)
		}
		if got := s.User("Alice").EditCount; got != 2 {
			t.Errorf("EditCount = %d; want 2", got)
		}

		// allpages in batches of 10: 26 pages (25 seeded + Sandbox) = 3 batches.
		var titles []string
		params := url.Values{"action": {"query"}, "list": {"allpages"}, "aplimit": {"10"}, "format": {"json"}, "formatversion": {"2"}}
		batches := 0
		for ; batches < 10; batches++ {
			body, _ := apiGet(t, s, alice, params)
			var r struct {
				Batchcomplete bool
				Continue      map[string]string
				Query         struct{ Allpages []struct{ Title string } }
			}
			if err := json.Unmarshal([]byte(body), &r); err != nil || !r.Batchcomplete {
				t.Fatalf("allpages: %s", body)
			}
			for _, p := range r.Query.Allpages {
				titles = append(titles, p.Title)
			}
			if r.Continue == nil {
				break
			}
			for k, v := range r.Continue {
				params.Set(k, v)
			}
		}
		if batches != 2 || len(titles) != 26 || titles[0] != "Main Page" || titles[1] != "Sandbox" {
			t.Errorf("allpages: %d continuations, %d titles %v", batches, len(titles), titles)
		}

		// Anonymous: no Authorization header, plain anonymous answers.
		body, code = apiGet(t, s, signed{noAuth: true}, url.Values{"action": {"query"}, "meta": {"userinfo"}, "format": {"json"}, "assert": {""}})
		if code != "" || body != `{"batchcomplete":"","query":{"userinfo":{"id":0,"name":"127.0.0.1","anon":""}}}` {
			t.Errorf("anonymous userinfo = %s (%s)", body, code)
		}
		if _, code := apiGet(t, s, signed{noAuth: true}, url.Values{"action": {"query"}, "meta": {"userinfo"}, "format": {"json"}, "assert": {"user"}}); code != "assertuserfailed" {
			t.Errorf("anonymous assert=user: %q; want assertuserfailed", code)
		}
		if _, code := apiGet(t, s, alice, url.Values{"action": {"query"}, "meta": {"userinfo"}, "format": {"json"}, "assert": {"user"}}); code != "" {
			t.Errorf("Alice assert=user: %q; want no error", code)
		}
	}
}

// TestAPICantCreate: without createeditmovepage an edit can change an
// existing page but not create one (cantcreate).
func TestAPICantCreate(t *testing.T) {
	s := mwoauthtest.Start(t)
	c := s.AddConsumer(mwoauthtest.Consumer{Name: "editonly", Callback: mwoauthtest.DefaultCallback, Grants: []string{"basic", "editpage"}})
	s.AddAccessToken("Alice", c.Key, "tok2tok2tok2tok2tok2tok2tok2tok2", "sec2")
	alice := signed{consumerKey: c.Key, consumerSecret: c.Secret, token: "tok2tok2tok2tok2tok2tok2tok2tok2", tokenSecret: "sec2"}
	body, _ := apiPost(t, s, alice, url.Values{"action": {"query"}, "meta": {"tokens"}, "format": {"json"}})
	var tok struct {
		Query struct{ Tokens struct{ Csrftoken string } }
	}
	json.Unmarshal([]byte(body), &tok)
	edit := url.Values{"action": {"edit"}, "title": {"Brand new"}, "text": {"x"}, "format": {"json"}, "token": {tok.Query.Tokens.Csrftoken}}
	if body, code := apiPost(t, s, alice, edit); code != "cantcreate" || !strings.Contains(body, `"info":"You do not have permission to create new pages."`) {
		t.Errorf("create: %s (%s); want cantcreate", body, code)
	}
	edit.Set("title", "Main Page")
	if body, code := apiPost(t, s, alice, edit); code != "" {
		t.Errorf("edit existing: %s (%s)", body, code)
	}
}
