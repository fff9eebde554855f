package mwoauthtest_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wikiauth/mwoauth/internal/transcript"
	"github.com/wikiauth/mwoauth/mwoauthtest"
)

// exchange is one request/response pair of a transcript file.
type exchange struct {
	name string

	method, target string // target = path?query as sent
	reqHeader      http.Header
	reqBody        string

	status     int
	respHeader http.Header
	respBody   string
}

// loadExchange reads a transcript file of a version (its first request and
// response).
func loadExchange(t *testing.T, version, file string) *exchange {
	t.Helper()
	x := transcript.Read(t, version, file)[0]
	return &exchange{
		name:   file,
		method: x.Request.Method, target: x.Request.Target, reqHeader: x.Request.Header, reqBody: x.Request.Body,
		status: x.Response.Status, respHeader: x.Response.Header, respBody: x.Response.Body,
	}
}

// jwtClaims decodes a JWT's payload (unverified: the test compares bytes).
func jwtClaims(t *testing.T, jwt string) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", jwt)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// replayWiki is a fake set up as the transcripts' wiki was at the time of
// exchange x: its clock (the response's Date), canonical server, users,
// OAuth 1 consumers and the access tokens the transcripts obtained.
func replayWiki(t *testing.T, version string, x *exchange) *mwoauthtest.Server {
	t.Helper()
	w := transcript.ReadSetup(t, version)
	date, err := http.ParseTime(x.respHeader.Get("Date"))
	if err != nil {
		t.Fatalf("%s: Date: %v", x.name, err)
	}
	v := mwoauthtest.MW143
	if version == "1.39" {
		v = mwoauthtest.MW139
	}
	s := mwoauthtest.Start(t, mwoauthtest.WithoutDefaults(), mwoauthtest.WithVersion(v),
		mwoauthtest.WithTime(date), mwoauthtest.WithCanonicalServer(w.Wiki.Server))

	// Alice as identify showed her (registration time, edit count).
	id := loadExchange(t, version, "oauth1-11-identify.txt")
	claims := jwtClaims(t, id.respBody)
	reg, err := time.Parse("20060102150405", claims["registered"].(string))
	if err != nil {
		t.Fatal(err)
	}
	s.AddUser(mwoauthtest.User{Name: "Admin", ID: 1, Password: "AdminPass-12345", Groups: []string{"sysop", "bureaucrat", "interface-admin"}, Registered: reg})
	s.AddUser(mwoauthtest.User{Name: "Alice", ID: 3, Password: "AlicePass-12345", Email: "alice@example.org", Registered: reg})
	for _, c := range w.Consumers {
		if c.OAuthVersion == 2 {
			s.AddConsumer(mwoauthtest.Consumer{
				Name: c.Name, Version: 2, Key: c.Key, Secret: c.Secret, Callback: c.Callback,
				Grants: c.Grants, OwnerOnly: c.OwnerOnly, Owner: c.Owner, Confidential: c.Confidential,
				OAuth2GrantTypes: c.GrantTypes, Proposed: c.Stage == "proposed",
			})
			continue
		}
		s.AddConsumer(mwoauthtest.Consumer{
			Name: c.Name, Key: c.Key, Secret: c.Secret, Callback: c.Callback,
			CallbackIsPrefix: c.CallbackIsPrefix, Grants: c.Grants, OwnerOnly: c.OwnerOnly,
			Owner: c.Owner, Proposed: c.Stage == "proposed",
			AccessKey: c.AccessToken, AccessSecret: c.AccessSecret,
		})
	}
	// The access tokens the token steps returned.
	for _, f := range []struct{ file, consumer string }{
		{"oauth1-10-token.txt", "oauth1"},
		{"oauth1-identify-only-04-token.txt", "oauth1_identify_only"},
	} {
		tx := loadExchange(t, version, f.file)
		var tok struct{ Key, Secret string }
		if err := json.Unmarshal([]byte(tx.respBody), &tok); err != nil {
			t.Fatalf("%s: %v", f.file, err)
		}
		s.AddAccessToken("Alice", w.Consumers[f.consumer].Key, tok.Key, tok.Secret)
	}
	return s
}

// send replays a request (possibly changed) against the fake.
func send(t *testing.T, s *mwoauthtest.Server, x *exchange) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(x.method, s.URL+x.target, strings.NewReader(x.reqBody))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"Authorization", "Content-Type", "User-Agent"} {
		if v := x.reqHeader.Get(k); v != "" {
			req.Header.Set(k, v)
		}
	}
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp, readAll(t, resp)
}
