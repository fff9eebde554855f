package mwapi_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wikiauth/mwoauth/mwapi"
)

func TestNew(t *testing.T) {
	tests := []struct {
		name     string
		endpoint string
		opts     []mwapi.Option
		want     string
		wantErr  error
	}{
		{"script path", "https://en.wikipedia.org/w", nil, "https://en.wikipedia.org/w/api.php", nil},
		{"script path slash", "https://en.wikipedia.org/w/", nil, "https://en.wikipedia.org/w/api.php", nil},
		{"api.php", "https://en.wikipedia.org/w/api.php", nil, "https://en.wikipedia.org/w/api.php", nil},
		{"root script path", "https://wiki.example.org", nil, "https://wiki.example.org/api.php", nil},
		{"loopback http", "http://127.0.0.1:8080/w", nil, "http://127.0.0.1:8080/w/api.php", nil},
		{"localhost http", "http://localhost:8080/w", nil, "http://localhost:8080/w/api.php", nil},
		{"ipv6 loopback", "http://[::1]:8080/w", nil, "http://[::1]:8080/w/api.php", nil},
		{"plain http", "http://en.wikipedia.org/w", nil, "", mwapi.ErrInsecureEndpoint},
		{"no user agent", "https://en.wikipedia.org/w", []mwapi.Option{mwapi.WithUserAgent("  ")}, "", mwapi.ErrNoUserAgent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := append([]mwapi.Option{mwapi.WithUserAgent(testUA)}, tt.opts...)
			c, err := mwapi.New(tt.endpoint, opts...)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("New(%q) error = %v; want %v", tt.endpoint, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("New(%q): %v", tt.endpoint, err)
			}
			if got := c.Endpoint(); got != tt.want {
				t.Errorf("Endpoint() = %q; want %q", got, tt.want)
			}
		})
	}
	for _, bad := range []string{"", "en.wikipedia.org/w", "ftp://x/w", "https://u:p@x.org/w", "https://x.org/w?a=1", "https://x.org/w/index.php"} {
		if _, err := mwapi.New(bad, mwapi.WithUserAgent(testUA)); err == nil {
			t.Errorf("New(%q) = nil error; want one", bad)
		}
	}
}

// TestStandardParameters checks what every request carries.
func TestStandardParameters(t *testing.T) {
	type seen struct {
		method, ua, ae, ct string
		query              url.Values
		body               string
	}
	var mu sync.Mutex
	var got []seen
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, seen{r.Method, r.UserAgent(), r.Header.Get("Accept-Encoding"), r.Header.Get("Content-Type"), r.URL.Query(), string(b)})
		mu.Unlock()
		if r.URL.Query().Get("meta") == "tokens" {
			io.WriteString(w, `{"batchcomplete":true,"query":{"tokens":{"csrftoken":"abc+\\"}}}`)
			return
		}
		io.WriteString(w, `{"batchcomplete":true}`)
	}))
	defer srv.Close()
	c := newClient(t, srv, mwapi.WithCredentialID("h1"), mwapi.WithMaxLag(5))
	ctx := context.Background()
	if err := c.Get(ctx, url.Values{"action": {"query"}, "meta": {"siteinfo"}}, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.PostWithToken(ctx, "csrf", url.Values{"action": {"edit"}, "title": {"T"}, "text": {"zz"}, "summary": {"s"}}, nil); err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("server saw %d requests; want 3", len(got))
	}
	g := got[0]
	if g.method != http.MethodGet {
		t.Errorf("read method = %s; want GET", g.method)
	}
	for k, want := range map[string]string{"format": "json", "formatversion": "2", "assert": "user", "maxlag": "5", "action": "query"} {
		if v := g.query.Get(k); v != want {
			t.Errorf("query %s = %q; want %q", k, v, want)
		}
	}
	if want := testUA + " mwoauth-go/" + mwapi.Version; g.ua != want {
		t.Errorf("User-Agent = %q; want %q", g.ua, want)
	}
	if g.ae != "gzip" {
		t.Errorf("Accept-Encoding = %q; want gzip", g.ae)
	}
	p := got[2]
	if p.method != http.MethodPost || p.ct != "application/x-www-form-urlencoded" || len(p.query) != 0 {
		t.Errorf("write = %s %q query %v; want a form POST without query", p.method, p.ct, p.query)
	}
	if !strings.HasSuffix(p.body, "&token=abc%2B%5C") {
		t.Errorf("POST body = %q; want the token last", p.body)
	}
	form, _ := url.ParseQuery(p.body)
	if form.Get("assert") != "user" || form.Get("format") != "json" {
		t.Errorf("POST body = %q; want assert=user and format=json", p.body)
	}
}

func TestAnonymousHasNoAssert(t *testing.T) {
	var q url.Values
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q = r.URL.Query()
		io.WriteString(w, `{}`)
	}))
	defer srv.Close()
	c := newClient(t, srv)
	if err := c.Get(context.Background(), url.Values{"action": {"query"}}, nil); err != nil {
		t.Fatal(err)
	}
	if _, ok := q["assert"]; ok {
		t.Errorf("anonymous request sent assert=%q", q.Get("assert"))
	}
	if _, ok := q["maxlag"]; ok {
		t.Errorf("interactive client sent maxlag by default")
	}
}

func TestAssertUserFailed(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("MediaWiki-API-Error", "assertuserfailed")
		io.WriteString(w, `{"error":{"code":"assertuserfailed","info":"You are no longer logged in, so the action could not be completed.","docref":"See http://127.0.0.1/w/api.php for API usage."}}`)
	}))
	defer srv.Close()
	c := newClient(t, srv, mwapi.WithAssertUser(true))
	err := c.Get(context.Background(), url.Values{"action": {"query"}}, nil)
	if !errors.Is(err, mwapi.ErrNotLoggedIn) {
		t.Fatalf("err = %v; want ErrNotLoggedIn", err)
	}
	if errors.Is(err, mwapi.ErrTokenRevoked) {
		t.Errorf("assertuserfailed matched ErrTokenRevoked")
	}
}

func TestGzip(t *testing.T) {
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	io.WriteString(zw, `{"batchcomplete":true,"query":{"general":{"sitename":"Test"}}}`)
	zw.Close()
	good := gz.Bytes()
	corrupt := bytes.Clone(good)
	corrupt[len(corrupt)-6] ^= 0xff // CRC
	tests := []struct {
		name    string
		body    []byte
		wantErr error
	}{
		{"valid", good, nil},
		{"corrupt crc", corrupt, mwapi.ErrBadResponse},
		{"truncated", good[:len(good)/2], mwapi.ErrBadResponse},
		{"not gzip", []byte(`{"a":1}`), mwapi.ErrBadResponse},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Encoding", "gzip")
				w.Write(tt.body)
			}))
			defer srv.Close()
			c := newClient(t, srv, mwapi.WithRetry(1, time.Second))
			var res struct {
				Query struct{ General struct{ Sitename string } }
			}
			err := c.Get(context.Background(), url.Values{"action": {"query"}}, &res)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr != nil) != (err != nil) {
				t.Fatalf("err = %v; want %v", err, tt.wantErr)
			}
			if err == nil && res.Query.General.Sitename != "Test" {
				t.Errorf("sitename = %q; want Test", res.Query.General.Sitename)
			}
		})
	}
}

func TestMaxResponseBytes(t *testing.T) {
	big := `{"x":"` + strings.Repeat("a", 100<<10) + `"}`
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	io.WriteString(zw, big)
	zw.Close()
	for _, compressed := range []bool{false, true} {
		t.Run(fmt.Sprint("gzip=", compressed), func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if compressed {
					w.Header().Set("Content-Encoding", "gzip")
					w.Write(gz.Bytes())
					return
				}
				io.WriteString(w, big)
			}))
			defer srv.Close()
			c := newClient(t, srv, mwapi.WithMaxResponseBytes(64<<10))
			err := c.Get(context.Background(), url.Values{"action": {"query"}}, nil)
			if !errors.Is(err, mwapi.ErrResponseTooLarge) {
				t.Fatalf("err = %v; want ErrResponseTooLarge", err)
			}
		})
	}
}

func TestHTMLErrorPage(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, "<!DOCTYPE html><title>Wikimedia Error</title>")
	}))
	defer srv.Close()
	c := newClient(t, srv, mwapi.WithRetry(1, time.Second))
	if err := c.Get(context.Background(), url.Values{"action": {"query"}}, nil); !errors.Is(err, mwapi.ErrBadResponse) {
		t.Fatalf("err = %v; want ErrBadResponse", err)
	}
}

func TestErrorFormats(t *testing.T) {
	tests := []struct {
		format, body, wantInfo, wantModule string
	}{
		{"plaintext", `{"errors":[{"code":"badtoken","text":"Invalid CSRF token.","module":"main"}],"docref":"See …","servedby":"mw1"}`, "Invalid CSRF token.", "main"},
		{"wikitext", `{"errors":[{"code":"badtoken","text":"Invalid CSRF token.","module":"main"}],"docref":"See …"}`, "Invalid CSRF token.", "main"},
		{"html", `{"errors":[{"code":"badtoken","html":"Invalid CSRF token.","module":"main"}],"docref":"See …"}`, "Invalid CSRF token.", "main"},
		{"raw", `{"errors":[{"code":"badtoken","key":"apierror-badtoken","params":[],"module":"main"}]}`, "apierror-badtoken", "main"},
		{"none", `{"errors":[{"code":"badtoken","module":"main"}]}`, "", "main"},
		{"bc", `{"error":{"code":"badtoken","info":"Invalid CSRF token.","docref":"See …"},"servedby":"mw1"}`, "Invalid CSRF token.", ""},
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			var gotFormat string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				r.ParseForm()
				gotFormat = r.Form.Get("errorformat")
				w.Header().Set("MediaWiki-API-Error", "badtoken")
				io.WriteString(w, tt.body)
			}))
			defer srv.Close()
			c := newClient(t, srv)
			err := c.Post(context.Background(), url.Values{"action": {"edit"}, "errorformat": {tt.format}, "token": {"x"}}, nil)
			var apiErr *mwapi.APIError
			if !errors.As(err, &apiErr) || !errors.Is(err, mwapi.ErrBadToken) {
				t.Fatalf("err = %v; want a badtoken *APIError", err)
			}
			if apiErr.Info != tt.wantInfo || apiErr.Module != tt.wantModule {
				t.Errorf("Info, Module = %q, %q; want %q, %q", apiErr.Info, apiErr.Module, tt.wantInfo, tt.wantModule)
			}
			if gotFormat != tt.format {
				t.Errorf("errorformat sent = %q; want %q", gotFormat, tt.format)
			}
		})
	}
	t.Run("several errors", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, `{"errors":[{"code":"protectedpage","text":"This page has been protected.","module":"main"},{"code":"cascadeprotected","text":"Cascade.","module":"main"}]}`)
		}))
		defer srv.Close()
		err := newClient(t, srv).Post(context.Background(), url.Values{"action": {"edit"}}, nil)
		var apiErr *mwapi.APIError
		if !errors.As(err, &apiErr) || len(apiErr.More) != 1 || apiErr.More[0].Code != "cascadeprotected" {
			t.Fatalf("err = %#v; want protectedpage with one more error", err)
		}
		if !errors.Is(err, mwapi.ErrPermissionDenied) {
			t.Errorf("protectedpage does not match ErrPermissionDenied")
		}
	})
}

func TestWarnings(t *testing.T) {
	tests := []struct {
		name, body string
		want       []mwapi.Warning
	}{
		{"formatversion 2", `{"warnings":{"main":{"warnings":"Unrecognized parameter: foo."},"query":{"warnings":"a\nb"}},"batchcomplete":true}`,
			[]mwapi.Warning{{Module: "main", Text: "Unrecognized parameter: foo."}, {Module: "query", Text: "a"}, {Module: "query", Text: "b"}}},
		{"formatversion 1", `{"warnings":{"main":{"*":"Unrecognized parameter: foo."}}}`,
			[]mwapi.Warning{{Module: "main", Text: "Unrecognized parameter: foo."}}},
		{"errorformat", `{"warnings":[{"code":"unrecognizedparams","text":"Unrecognized parameter: foo.","module":"main"}]}`,
			[]mwapi.Warning{{Module: "main", Code: "unrecognizedparams", Text: "Unrecognized parameter: foo."}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, tt.body) }))
			defer srv.Close()
			var hooked []mwapi.Warning
			c := newClient(t, srv, mwapi.WithWarnings(func(_ context.Context, w []mwapi.Warning) { hooked = append(hooked, w...) }))
			resp, err := c.Do(context.Background(), http.MethodGet, url.Values{"action": {"query"}, "foo": {"1"}})
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(resp.Warnings) != fmt.Sprint(tt.want) {
				t.Errorf("Warnings = %v; want %v", resp.Warnings, tt.want)
			}
			if fmt.Sprint(hooked) != fmt.Sprint(tt.want) {
				t.Errorf("hook got %v; want %v", hooked, tt.want)
			}
		})
	}
}

// TestContinue runs a list over three batches and checks that each request
// carries exactly the latest continue object merged into the original
// parameters.
func TestContinue(t *testing.T) {
	batches := []string{
		`{"continue":{"gapcontinue":"B","continue":"gapcontinue||"},"query":{"pages":[{"title":"A"}]}}`,
		`{"continue":{"clcontinue":"2|X","continue":"||"},"query":{"pages":[{"title":"B"}]}}`,
		`{"batchcomplete":true,"query":{"pages":[{"title":"C"}]}}`,
	}
	wantCont := []url.Values{
		{"continue": {""}},
		{"continue": {"gapcontinue||"}, "gapcontinue": {"B"}},
		{"continue": {"||"}, "clcontinue": {"2|X"}},
	}
	var n int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if n >= len(batches) {
			t.Errorf("request %d after the last batch", n+1)
			io.WriteString(w, `{}`)
			return
		}
		for _, k := range []string{"continue", "gapcontinue", "clcontinue"} {
			if got, want := q[k], wantCont[n][k]; fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("request %d: %s = %q; want %q", n+1, k, got, want)
			}
		}
		if q.Get("generator") != "allpages" {
			t.Errorf("request %d lost generator=allpages", n+1)
		}
		io.WriteString(w, batches[n])
		n++
	}))
	defer srv.Close()
	c := newClient(t, srv)
	var titles []string
	for body, err := range c.Continue(context.Background(), url.Values{"action": {"query"}, "generator": {"allpages"}}) {
		if err != nil {
			t.Fatal(err)
		}
		var b struct {
			Query struct{ Pages []struct{ Title string } }
		}
		json.Unmarshal(body, &b)
		for _, p := range b.Query.Pages {
			titles = append(titles, p.Title)
		}
	}
	if fmt.Sprint(titles) != "[A B C]" {
		t.Errorf("titles = %v; want [A B C]", titles)
	}
}

func TestContinueLoopAndBound(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"continue":{"apcontinue":"Same","continue":"-||"},"query":{"allpages":[]}}`)
	}))
	defer srv.Close()
	c := newClient(t, srv)
	var batches int
	var last error
	for _, err := range c.Continue(context.Background(), url.Values{"action": {"query"}, "list": {"allpages"}}) {
		if err != nil {
			last = err
			break
		}
		batches++
	}
	if !errors.Is(last, mwapi.ErrContinueLoop) || batches != 2 {
		t.Errorf("batches, err = %d, %v; want 2, ErrContinueLoop", batches, last)
	}

	var i atomic.Int64
	srv2 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"continue":{"apcontinue":"P%d","continue":"-||"}}`, i.Add(1))
	}))
	defer srv2.Close()
	c2 := newClient(t, srv2, mwapi.WithMaxBatches(5))
	batches, last = 0, nil
	for _, err := range c2.Continue(context.Background(), url.Values{"action": {"query"}}) {
		if err != nil {
			last = err
			break
		}
		batches++
	}
	if !errors.Is(last, mwapi.ErrContinueLoop) || batches != 5 {
		t.Errorf("batches, err = %d, %v; want 5, ErrContinueLoop", batches, last)
	}
}

// TestPages merges a page whose categories came in two batches.
func TestPages(t *testing.T) {
	batches := []string{
		`{"continue":{"clcontinue":"1|B","continue":"||"},"query":{"pages":[{"pageid":1,"ns":0,"title":"One","categories":[{"ns":14,"title":"Category:A"}]},{"pageid":2,"ns":0,"title":"Two"}]}}`,
		`{"batchcomplete":true,"continue":{"gapcontinue":"Three","continue":"gapcontinue||"},"query":{"pages":[{"pageid":1,"ns":0,"title":"One","categories":[{"ns":14,"title":"Category:B"}]},{"pageid":2,"ns":0,"title":"Two","categories":[{"ns":14,"title":"Category:C"}]}]}}`,
		`{"batchcomplete":true,"query":{"pages":[{"ns":0,"title":"Three","missing":true}]}}`,
	}
	var n int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, batches[min(n, len(batches)-1)])
		n++
	}))
	defer srv.Close()
	c := newClient(t, srv)
	var got []string
	for p, err := range c.Pages(context.Background(), url.Values{"action": {"query"}, "generator": {"allpages"}, "prop": {"categories"}}) {
		if err != nil {
			t.Fatal(err)
		}
		var cats []string
		if cs, ok := p["categories"].([]any); ok {
			for _, c := range cs {
				cats = append(cats, c.(map[string]any)["title"].(string))
			}
		}
		got = append(got, fmt.Sprintf("%s%v", p["title"], cats))
	}
	want := "[One[Category:A Category:B] Two[Category:C] Three[]]"
	if fmt.Sprint(got) != want {
		t.Errorf("pages = %v; want %s", got, want)
	}
}

// TestBadTokenRetry: a stale cached token is refetched once and the edit
// retried; a second badtoken is returned.
func TestBadTokenRetry(t *testing.T) {
	var h hits
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		if r.Form.Get("meta") == "tokens" {
			n := h.add("tokens")
			fmt.Fprintf(w, `{"batchcomplete":true,"query":{"tokens":{"csrftoken":"tok%d+\\"}}}`, n)
			return
		}
		h.add("edit")
		if r.PostForm.Get("token") != `tok2+\` {
			w.Header().Set("MediaWiki-API-Error", "badtoken")
			io.WriteString(w, `{"error":{"code":"badtoken","info":"Invalid CSRF token.","docref":"See …"}}`)
			return
		}
		io.WriteString(w, `{"edit":{"result":"Success","pageid":2}}`)
	}))
	defer srv.Close()
	c := newClient(t, srv)
	ctx := context.Background()
	if tok, _ := c.Token(ctx, "csrf"); tok != `tok1+\` {
		t.Fatalf("Token = %q", tok)
	}
	if tok, _ := c.Token(ctx, "csrf"); tok != `tok1+\` || h.get("tokens") != 1 {
		t.Fatalf("Token not cached: %q after %d fetches", tok, h.get("tokens"))
	}
	var res struct{ Edit struct{ Result string } }
	if err := c.PostWithToken(ctx, "csrf", url.Values{"action": {"edit"}, "title": {"T"}}, &res); err != nil {
		t.Fatal(err)
	}
	if res.Edit.Result != "Success" || h.get("tokens") != 2 || h.get("edit") != 2 {
		t.Errorf("result %q after %d token fetches and %d edits; want Success, 2, 2", res.Edit.Result, h.get("tokens"), h.get("edit"))
	}
	// Always bad: one retry only.
	c.ForgetTokens()
	err := c.PostWithToken(ctx, "csrf", url.Values{"action": {"edit"}, "title": {"T"}}, nil)
	if !errors.Is(err, mwapi.ErrBadToken) || h.get("edit") != 4 {
		t.Errorf("err = %v after %d edits; want ErrBadToken after 4", err, h.get("edit"))
	}
}

// TestMaxLagRetryAfter: the answer maxlag with Retry-After: 1 is waited out
// and retried.
func TestMaxLagRetryAfter(t *testing.T) {
	var h hits
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("maxlag") != "5" {
			t.Errorf("maxlag = %q; want 5", r.URL.Query().Get("maxlag"))
		}
		if h.add("q") == 1 {
			w.Header().Set("Retry-After", "1")
			w.Header().Set("X-Database-Lag", "7")
			w.Header().Set("MediaWiki-API-Error", "maxlag")
			io.WriteString(w, `{"error":{"code":"maxlag","info":"Waiting for 10.64.0.1: 7 seconds lagged.","host":"10.64.0.1","lag":7,"type":"db","docref":"See …"}}`)
			return
		}
		io.WriteString(w, `{"batchcomplete":true}`)
	}))
	defer srv.Close()
	c := newClient(t, srv, mwapi.Background(), mwapi.WithLogger(discard))
	start := time.Now()
	if err := c.Get(context.Background(), url.Values{"action": {"query"}}, nil); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el < 900*time.Millisecond {
		t.Errorf("retried after %v; want Retry-After (1 s) honoured", el)
	}
	if h.get("q") != 2 {
		t.Errorf("%d attempts; want 2", h.get("q"))
	}
}

func TestMaxLagErrorFields(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "5")
		w.Header().Set("X-Database-Lag", "7")
		w.Header().Set("MediaWiki-API-Error", "maxlag")
		io.WriteString(w, `{"error":{"code":"maxlag","info":"Waiting for 10.64.0.1: 7 seconds lagged.","host":"10.64.0.1","lag":7,"type":"db"}}`)
	}))
	defer srv.Close()
	// Budget 1 s < Retry-After 5 s: fail at once, not after waiting.
	c := newClient(t, srv, mwapi.WithRetry(5, time.Second))
	start := time.Now()
	err := c.Get(context.Background(), url.Values{"action": {"query"}}, nil)
	var apiErr *mwapi.APIError
	if !errors.As(err, &apiErr) || !errors.Is(err, mwapi.ErrMaxLag) {
		t.Fatalf("err = %v; want ErrMaxLag", err)
	}
	if apiErr.RetryAfter != 5*time.Second || apiErr.Lag != 7*time.Second {
		t.Errorf("RetryAfter, Lag = %v, %v; want 5s, 7s", apiErr.RetryAfter, apiErr.Lag)
	}
	if el := time.Since(start); el > 900*time.Millisecond {
		t.Errorf("gave up after %v; want at once when Retry-After exceeds the budget", el)
	}
}

// TestRetryWaitEndsWithContext: a long Retry-After wait ends when ctx does.
func TestRetryWaitEndsWithContext(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "30")
		io.WriteString(w, `{"error":{"code":"maxlag","info":"lagged","lag":3}}`)
	}))
	defer srv.Close()
	c := newClient(t, srv, mwapi.WithRetry(5, time.Minute))
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := c.Get(ctx, url.Values{"action": {"query"}}, nil)
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, mwapi.ErrMaxLag) {
		t.Fatalf("err = %v; want DeadlineExceeded and ErrMaxLag", err)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("returned after %v; want soon after the context ended", el)
	}
}

func TestRateLimitedBackoff(t *testing.T) {
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		t.Run(method, func(t *testing.T) {
			var h hits
			var times []time.Time
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				times = append(times, time.Now())
				if h.add("x") <= 2 {
					w.Header().Set("MediaWiki-API-Error", "ratelimited")
					io.WriteString(w, `{"error":{"code":"ratelimited","info":"As an anti-abuse measure, you are limited from performing this action too many times in a short space of time, and you have exceeded this limit. Please try again in a few minutes."}}`)
					return
				}
				io.WriteString(w, `{"ok":true}`)
			}))
			defer srv.Close()
			c := newClient(t, srv, mwapi.WithBackoff(20*time.Millisecond), mwapi.WithRetry(4, 10*time.Second))
			if _, err := c.Do(context.Background(), method, url.Values{"action": {"query"}}); err != nil {
				t.Fatal(err)
			}
			if len(times) != 3 {
				t.Fatalf("%d attempts; want 3", len(times))
			}
			if d1, d2 := times[1].Sub(times[0]), times[2].Sub(times[1]); d1 < 15*time.Millisecond || d2 < 30*time.Millisecond {
				t.Errorf("waits %v, %v; want back-off from 20 ms, doubling", d1, d2)
			}
		})
	}
	t.Run("interactive default: one retry", func(t *testing.T) {
		var h hits
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h.add("x")
			io.WriteString(w, `{"error":{"code":"ratelimited","info":"slow down"}}`)
		}))
		defer srv.Close()
		err := newClient(t, srv).Get(context.Background(), url.Values{"action": {"query"}}, nil)
		if !errors.Is(err, mwapi.ErrRateLimited) || h.get("x") != 2 {
			t.Errorf("err = %v after %d attempts; want ErrRateLimited after 2", err, h.get("x"))
		}
	})
	t.Run("bounded", func(t *testing.T) {
		var h hits
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h.add("x")
			io.WriteString(w, `{"error":{"code":"ratelimited","info":"slow down"}}`)
		}))
		defer srv.Close()
		c := newClient(t, srv, mwapi.WithRetry(3, 10*time.Second))
		err := c.Get(context.Background(), url.Values{"action": {"query"}}, nil)
		if !errors.Is(err, mwapi.ErrRateLimited) || h.get("x") != 3 {
			t.Errorf("err = %v after %d attempts; want ErrRateLimited after 3", err, h.get("x"))
		}
	})
}

// TestHTTPStatusRetries: 429 and 5xx are retried for reads, never for writes.
func TestHTTPStatusRetries(t *testing.T) {
	tests := []struct {
		status   int
		method   string
		attempts int
		wantErr  error
	}{
		{503, http.MethodGet, 3, mwapi.ErrServerError},
		{503, http.MethodPost, 1, mwapi.ErrServerError},
		{429, http.MethodGet, 3, mwapi.ErrRateLimited},
		{429, http.MethodPost, 1, mwapi.ErrRateLimited},
		{404, http.MethodGet, 1, nil},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.status, tt.method), func(t *testing.T) {
			var h hits
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				h.add("x")
				w.Header().Set("Retry-After", "0")
				w.WriteHeader(tt.status)
				io.WriteString(w, "<html>Error</html>")
			}))
			defer srv.Close()
			c := newClient(t, srv, mwapi.WithRetry(3, 10*time.Second))
			_, err := c.Do(context.Background(), tt.method, url.Values{"action": {"query"}})
			var he *mwapi.HTTPError
			if !errors.As(err, &he) || he.StatusCode != tt.status {
				t.Fatalf("err = %v; want *HTTPError %d", err, tt.status)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v; want %v", err, tt.wantErr)
			}
			if h.get("x") != tt.attempts {
				t.Errorf("%d attempts; want %d", h.get("x"), tt.attempts)
			}
		})
	}
}

// TestNonceRetriedOnce: "Nonce already used" is retried exactly once, for
// writes too, and is not ErrTokenRevoked.
func TestNonceRetriedOnce(t *testing.T) {
	const nonceErr = `{"error":{"code":"mwoauth-invalid-authorization","info":"The authorization headers in your request are not valid: Nonce already used: 4f9d9848f46c7b49","*":"See …"}}`
	for _, failures := range []int{1, 2} {
		t.Run(fmt.Sprint(failures), func(t *testing.T) {
			var h hits
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if h.add("x") <= failures {
					w.Header().Set("MediaWiki-API-Error", "mwoauth-invalid-authorization")
					io.WriteString(w, nonceErr)
					return
				}
				io.WriteString(w, `{"edit":{"result":"Success"}}`)
			}))
			defer srv.Close()
			c := newClient(t, srv, mwapi.WithRetry(1, time.Second))
			err := c.Post(context.Background(), url.Values{"action": {"edit"}, "token": {"t"}}, nil)
			if failures == 1 && err != nil {
				t.Fatalf("err = %v; want success on the retry", err)
			}
			if failures == 2 {
				if err == nil || errors.Is(err, mwapi.ErrTokenRevoked) {
					t.Fatalf("err = %v; want the nonce error, not ErrTokenRevoked", err)
				}
			}
			if h.get("x") != 2 {
				t.Errorf("%d attempts; want 2", h.get("x"))
			}
		})
	}
}

func TestClockSkew(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"error":{"code":"mwoauth-invalid-authorization","info":"The authorization headers in your request are not valid: Expired timestamp, yours 1796390537, ours 1796394137"}}`)
	}))
	defer srv.Close()
	err := newClient(t, srv).Get(context.Background(), url.Values{"action": {"query"}}, nil)
	if !errors.Is(err, mwapi.ErrClockSkew) || errors.Is(err, mwapi.ErrTokenRevoked) {
		t.Errorf("err = %v; want ErrClockSkew and not ErrTokenRevoked", err)
	}
}

func TestRedirectNotFollowed(t *testing.T) {
	var targetHits atomic.Int64
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		targetHits.Add(1)
		io.WriteString(w, `{}`)
	}))
	defer target.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL+"/w/api.php", http.StatusMovedPermanently)
	}))
	defer srv.Close()
	err := newClient(t, srv).Get(context.Background(), url.Values{"action": {"query"}}, nil)
	var he *mwapi.HTTPError
	if !errors.Is(err, mwapi.ErrRedirect) || !errors.As(err, &he) || !strings.HasPrefix(he.Location, target.URL) {
		t.Fatalf("err = %v; want ErrRedirect naming the Location", err)
	}
	if targetHits.Load() != 0 {
		t.Errorf("redirect target saw %d requests; want 0", targetHits.Load())
	}
}

func TestCookiesReturned(t *testing.T) {
	var sawCookie atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ck, err := r.Cookie("UseDC"); err == nil && ck.Value == "master" {
			sawCookie.Store(true)
		}
		http.SetCookie(w, &http.Cookie{Name: "UseDC", Value: "master", Path: "/", MaxAge: 10, HttpOnly: true})
		io.WriteString(w, `{}`)
	}))
	defer srv.Close()
	c := newClient(t, srv)
	for range 2 {
		if err := c.Get(context.Background(), url.Values{"action": {"query"}}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if !sawCookie.Load() {
		t.Error("the wiki's cookie was not sent back")
	}
}

func TestForWiki(t *testing.T) {
	var h hits
	mux := http.NewServeMux()
	for _, wiki := range []string{"meta", "commons"} {
		mux.HandleFunc("/"+wiki+"/api.php", func(w http.ResponseWriter, r *http.Request) {
			h.add(wiki)
			fmt.Fprintf(w, `{"query":{"tokens":{"csrftoken":"%s+\\"}}}`, wiki)
		})
	}
	srv := httptest.NewServer(mux)
	defer srv.Close()
	meta, err := mwapi.New(srv.URL+"/meta", mwapi.WithUserAgent(testUA), mwapi.WithHTTPClient(srv.Client()), mwapi.WithCredentialID("u1"))
	if err != nil {
		t.Fatal(err)
	}
	commons, err := meta.ForWiki(srv.URL + "/commons/api.php")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	t1, _ := meta.Token(ctx, "csrf")
	t2, _ := commons.Token(ctx, "csrf")
	if t1 != `meta+\` || t2 != `commons+\` {
		t.Errorf("tokens = %q, %q; want one per wiki", t1, t2)
	}
	if _, err := meta.ForWiki("http://example.org/w"); !errors.Is(err, mwapi.ErrInsecureEndpoint) {
		t.Errorf("ForWiki(http) err = %v; want ErrInsecureEndpoint", err)
	}
}

// TestConcurrencyPerCredential: one request at a time per credential and
// wiki, shared by Clients created per request; other users run in parallel.
func TestConcurrencyPerCredential(t *testing.T) {
	var inflight, peak atomic.Int64
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inflight.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		select {
		case <-release:
		case <-time.After(50 * time.Millisecond):
		}
		inflight.Add(-1)
		io.WriteString(w, `{}`)
	}))
	defer srv.Close()
	run := func(creds []string) int64 {
		peak.Store(0)
		var wg sync.WaitGroup
		for _, cred := range creds {
			wg.Add(1)
			go func() {
				defer wg.Done()
				// A new Client per call, as a web app does per HTTP request.
				c := newClient(t, srv, mwapi.WithCredentialID(cred))
				if err := c.Get(context.Background(), url.Values{"action": {"query"}}, nil); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		return peak.Load()
	}
	if p := run([]string{"alice", "alice", "alice", "alice"}); p != 1 {
		t.Errorf("one user: peak %d requests in flight; want 1", p)
	}
	if p := run([]string{"alice", "bob", "carol", "dave"}); p < 2 {
		t.Errorf("four users: peak %d requests in flight; want them in parallel", p)
	}
}

func TestContextCancelWhileQueued(t *testing.T) {
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-block
		io.WriteString(w, `{}`)
	}))
	defer srv.Close()
	defer close(block)
	c := newClient(t, srv, mwapi.WithCredentialID("queued"))
	go c.Get(context.Background(), url.Values{"action": {"query"}}, nil)
	time.Sleep(50 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err := c.Get(ctx, url.Values{"action": {"query"}}, nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v; want DeadlineExceeded while waiting for the slot", err)
	}
}

func TestLongReadIsPosted(t *testing.T) {
	var method string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		method = r.Method
		io.WriteString(w, `{}`)
	}))
	defer srv.Close()
	titles := strings.Repeat("Some long title|", 500)
	if err := newClient(t, srv).Get(context.Background(), url.Values{"action": {"query"}, "titles": {titles}}, nil); err != nil {
		t.Fatal(err)
	}
	if method != http.MethodPost {
		t.Errorf("method = %s; want POST for a long query", method)
	}
}

func TestClientRedacts(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"query":{"tokens":{"csrftoken":"secretcsrf+\\"}}}`)
	}))
	defer srv.Close()
	c := newClient(t, srv, mwapi.WithCredentialID("hash-of-token"))
	if _, err := c.Token(context.Background(), "csrf"); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{fmt.Sprint(c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c)} {
		if strings.Contains(s, "secretcsrf") || strings.Contains(s, "hash-of-token") {
			t.Errorf("formatted client %q shows a token or credential id", s)
		}
	}
}

// failingRT fails every request before sending it, as a signer that
// refuses to sign does.
type failingRT struct{ n atomic.Int64 }

func (f *failingRT) RoundTrip(r *http.Request) (*http.Response, error) {
	f.n.Add(1)
	return nil, errors.New("cannot sign")
}

func TestNetworkRetries(t *testing.T) {
	// A transport that refuses is not retried.
	rt := &failingRT{}
	c, _ := mwapi.New("https://wiki.example.org/w", mwapi.WithUserAgent(testUA), mwapi.WithLogger(discard),
		mwapi.WithHTTPClient(&http.Client{Transport: rt}), mwapi.WithBackoff(time.Millisecond))
	if err := c.Get(context.Background(), url.Values{"action": {"query"}}, nil); err == nil || rt.n.Load() != 1 {
		t.Errorf("err = %v after %d attempts; want an error after 1", err, rt.n.Load())
	}
	// A connection closed mid-response is retried for reads.
	var h hits
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h.add("x") == 1 {
			w.Header().Set("Content-Length", "100")
			io.WriteString(w, `{"batch`)
			return // the server closes the connection: unexpected EOF
		}
		io.WriteString(w, `{"ok":true}`)
	}))
	defer srv.Close()
	if err := newClient(t, srv).Get(context.Background(), url.Values{"action": {"query"}}, nil); err != nil || h.get("x") != 2 {
		t.Errorf("err = %v after %d attempts; want success after 2", err, h.get("x"))
	}
	// ... but not for writes.
	var h2 hits
	srv2 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h2.add("x")
		w.Header().Set("Content-Length", "100")
		io.WriteString(w, `{"edit`)
	}))
	defer srv2.Close()
	if err := newClient(t, srv2).Post(context.Background(), url.Values{"action": {"edit"}}, nil); !errors.Is(err, mwapi.ErrBadResponse) || h2.get("x") != 1 {
		t.Errorf("err = %v after %d attempts; want ErrBadResponse after 1", err, h2.get("x"))
	}
}
