package mwoauthtest_test

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wikiauth/mwoauth/mwoauthtest"
)

// transcriptsDir is where CI puts the shared folder (beside the clone).
const transcriptsDir = "../../shared/transcripts"

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

func transcriptDir(t *testing.T, version string) string {
	t.Helper()
	dir := filepath.Join(transcriptsDir, "mediawiki-"+version)
	if _, err := os.Stat(dir); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("transcripts missing under CI: %v", err)
		}
		t.Skipf("transcripts not found at %s (CI copies shared/ beside the clone): %v", dir, err)
	}
	return dir
}

// loadExchange parses a transcript file (its first request and response).
func loadExchange(t *testing.T, dir, file string) *exchange {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, file))
	if err != nil {
		t.Fatal(err)
	}
	text := string(raw)
	reqAt := strings.Index(text, ">>>>>>>> REQUEST 1\n")
	respAt := strings.Index(text, "<<<<<<<< RESPONSE 1\n")
	if reqAt < 0 || respAt < reqAt {
		t.Fatalf("%s: not a transcript", file)
	}
	x := &exchange{name: file}
	reqPart := text[reqAt+len(">>>>>>>> REQUEST 1\n") : respAt]
	respPart := text[respAt+len("<<<<<<<< RESPONSE 1\n"):]

	line, hdr, body := splitMessage(t, reqPart)
	f := strings.Fields(line)
	if len(f) != 3 {
		t.Fatalf("%s: request line %q", file, line)
	}
	x.method, x.target, x.reqHeader = f[0], f[1], hdr
	x.reqBody = cutBody(body, hdr)

	line, hdr, body = splitMessage(t, respPart)
	f = strings.Fields(line)
	x.status, err = strconv.Atoi(f[1])
	if err != nil {
		t.Fatalf("%s: status line %q", file, line)
	}
	x.respHeader = hdr
	x.respBody = cutBody(body, hdr)
	return x
}

func splitMessage(t *testing.T, s string) (string, http.Header, string) {
	head, body, _ := strings.Cut(s, "\n\n")
	sc := bufio.NewScanner(strings.NewReader(head))
	h := http.Header{}
	first := ""
	for i := 0; sc.Scan() && i < 200; i++ {
		if i == 0 {
			first = sc.Text()
			continue
		}
		k, v, ok := strings.Cut(sc.Text(), ": ")
		if ok {
			h.Add(k, v)
		}
	}
	return first, h, body
}

func cutBody(body string, h http.Header) string {
	if n, err := strconv.Atoi(h.Get("Content-Length")); err == nil && n <= len(body) {
		return body[:n]
	}
	return strings.TrimSuffix(body, "\n")
}

// wikiData is the part of consumers.json the tests use.
type wikiData struct {
	Wiki struct {
		Server  string `json:"server"`
		Version string `json:"version"`
	} `json:"wiki"`
	Consumers map[string]struct {
		Name             string   `json:"name"`
		OAuthVersion     int      `json:"oauth_version"`
		Owner            string   `json:"owner"`
		Key              string   `json:"consumer_key"`
		Secret           string   `json:"consumer_secret"`
		Callback         string   `json:"callback_url"`
		CallbackIsPrefix bool     `json:"callback_is_prefix"`
		OwnerOnly        bool     `json:"owner_only"`
		Grants           []string `json:"grants"`
		AccessToken      string   `json:"access_token"`
		AccessSecret     string   `json:"access_secret"`
		Stage            string   `json:"stage"`
		Confidential     bool     `json:"confidential"`
		GrantTypes       []string `json:"oauth2_grant_types"`
	} `json:"consumers"`
}

func loadWiki(t *testing.T, dir string) *wikiData {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "consumers.json"))
	if err != nil {
		t.Fatal(err)
	}
	var w wikiData
	if err := json.Unmarshal(raw, &w); err != nil {
		t.Fatal(err)
	}
	return &w
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
func replayWiki(t *testing.T, version, dir string, x *exchange) *mwoauthtest.Server {
	t.Helper()
	w := loadWiki(t, dir)
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
	id := loadExchange(t, dir, "oauth1-11-identify.txt")
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
		tx := loadExchange(t, dir, f.file)
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

var versions = []string{"1.39", "1.43"}

func osStat(dir, file string) (os.FileInfo, error) { return os.Stat(filepath.Join(dir, file)) }
