package mwapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wikiauth/mwoauth/mwapi"
	"github.com/wikiauth/mwoauth/mwoauthtest"
	"github.com/wikiauth/mwoauth/oauth1"
)

// fakeWiki starts the fake MediaWiki with an owner-only OAuth 1 consumer
// of Alice's that may edit and upload, and returns a Client signing with it.
func fakeWiki(t *testing.T, opts ...mwapi.Option) (*mwoauthtest.Server, *mwapi.Client, *mwoauthtest.Consumer) {
	t.Helper()
	wiki := mwoauthtest.Start(t)
	cons := wiki.AddConsumer(mwoauthtest.Consumer{
		Name: "mwapi-test", OwnerOnly: true, Owner: "Alice",
		Grants: []string{"basic", "highvolume", "editpage", "createeditmovepage", "uploadfile"},
	})
	return wiki, signedFakeClient(t, wiki, cons, nil, opts...), cons
}

func signedFakeClient(t *testing.T, wiki *mwoauthtest.Server, cons *mwoauthtest.Consumer, nonce func() (string, error), opts ...mwapi.Option) *mwapi.Client {
	t.Helper()
	cfg := &oauth1.Config{
		Wiki: wiki.ScriptPath(), ConsumerKey: cons.Key, ConsumerSecret: cons.Secret, UserAgent: testUA,
		HTTPClient: &http.Client{Transport: mwapi.NewTransport(0), Timeout: 30 * time.Second},
		Nonce:      nonce,
	}
	hc := cfg.Client(&oauth1.Token{Key: cons.AccessKey, Secret: cons.AccessSecret})
	base := []mwapi.Option{
		mwapi.WithUserAgent(testUA), mwapi.WithHTTPClient(hc), mwapi.WithLogger(discard),
		mwapi.WithCredentialID("test-" + cons.AccessKey[:8]), mwapi.WithBackoff(10 * time.Millisecond),
	}
	c, err := mwapi.New(wiki.ScriptPath(), append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestFakeUserinfo(t *testing.T) {
	_, c, _ := fakeWiki(t)
	var res struct {
		Query struct{ Userinfo struct{ Name string } }
	}
	if err := c.Get(context.Background(), url.Values{"action": {"query"}, "meta": {"userinfo"}}, &res); err != nil {
		t.Fatal(err)
	}
	if res.Query.Userinfo.Name != "Alice" {
		t.Errorf("userinfo name = %q; want Alice", res.Query.Userinfo.Name)
	}
}

// TestFakeContinue: list=allpages over the fake's 25 pages in batches of 10.
func TestFakeContinue(t *testing.T) {
	wiki, c, _ := fakeWiki(t)
	var titles []string
	batches := 0
	for body, err := range c.Continue(context.Background(), url.Values{"action": {"query"}, "list": {"allpages"}, "aplimit": {"10"}}) {
		if err != nil {
			t.Fatal(err)
		}
		batches++
		var b struct {
			Query struct{ Allpages []struct{ Title string } }
		}
		if err := json.Unmarshal(body, &b); err != nil {
			t.Fatal(err)
		}
		for _, p := range b.Query.Allpages {
			titles = append(titles, p.Title)
		}
	}
	if batches != 3 || len(titles) != 25 || titles[0] != "Main Page" || titles[24] != "Test page 24" {
		t.Errorf("%d batches, %d titles (%v); want 3 batches of the 25 pages", batches, len(titles), titles)
	}
	if n := wiki.APIRequests("query"); n != 3 {
		t.Errorf("fake saw %d queries; want 3", n)
	}
}

// TestFakePages: a generator with prop=categories whose categories span
// several batches; each page comes out once with all of them.
func TestFakePages(t *testing.T) {
	wiki, c, _ := fakeWiki(t)
	wiki.AddPage("Cat one", "x [[Category:Alpha]] [[Category:Beta]] [[Category:Gamma]]")
	wiki.AddPage("Cat three", "[[Category:Delta]]")
	wiki.AddPage("Cat two", "none")
	params := url.Values{"action": {"query"}, "generator": {"allpages"}, "gapprefix": {"Cat"}, "gaplimit": {"2"}, "prop": {"categories"}, "cllimit": {"2"}}
	var got []string
	for p, err := range c.Pages(context.Background(), params) {
		if err != nil {
			t.Fatal(err)
		}
		var cats []string
		if cs, ok := p["categories"].([]any); ok {
			for _, x := range cs {
				cats = append(cats, strings.TrimPrefix(x.(map[string]any)["title"].(string), "Category:"))
			}
		}
		got = append(got, fmt.Sprint(p["title"], cats))
	}
	want := "[Cat one[Alpha Beta Gamma] Cat three[Delta] Cat two[]]"
	if fmt.Sprint(got) != want {
		t.Errorf("pages = %v; want %s", got, want)
	}
	if n := wiki.APIRequests("query"); n < 3 {
		t.Errorf("fake saw %d queries; want at least 3 batches", n)
	}
}

// TestFakeTokens: every token type; an edit with the cached csrf token.
func TestFakeTokens(t *testing.T) {
	wiki, c, _ := fakeWiki(t)
	ctx := context.Background()
	seen := map[string]bool{}
	for _, typ := range []string{"csrf", "watch", "patrol", "rollback", "userrights", "login", "createaccount"} {
		tok, err := c.Token(ctx, typ)
		if err != nil {
			t.Fatalf("Token(%q): %v", typ, err)
		}
		if !strings.HasSuffix(tok, `+\`) || len(tok) < 10 || seen[tok] {
			t.Errorf("Token(%q) = %q; want a distinct token ending in +\\", typ, tok)
		}
		seen[tok] = true
	}
	var res struct{ Edit struct{ Result string } }
	if err := c.PostWithToken(ctx, "edit", url.Values{"action": {"edit"}, "title": {"Sandbox"}, "text": {"Hello"}}, &res); err != nil {
		t.Fatal(err)
	}
	if text, _ := wiki.PageText("Sandbox"); res.Edit.Result != "Success" || text != "Hello" {
		t.Errorf("edit %q, page text %q", res.Edit.Result, text)
	}
}

// TestFakeBadTokenRetry: tokens invalidated at the wiki: one refetch and
// one retry, then success.
func TestFakeBadTokenRetry(t *testing.T) {
	wiki, c, _ := fakeWiki(t)
	ctx := context.Background()
	old, err := c.Token(ctx, "csrf")
	if err != nil {
		t.Fatal(err)
	}
	wiki.InvalidateTokens()
	if err := c.PostWithToken(ctx, "csrf", url.Values{"action": {"edit"}, "title": {"Sandbox"}, "text": {"v2"}}, nil); err != nil {
		t.Fatal(err)
	}
	if tok, _ := c.Token(ctx, "csrf"); tok == old {
		t.Error("the stale token is still cached")
	}
	if text, _ := wiki.PageText("Sandbox"); text != "v2" {
		t.Errorf("page text %q; want v2", text)
	}
	// Post with a stale token returns badtoken and forgets it.
	wiki.InvalidateTokens()
	stale, _ := c.Token(ctx, "csrf")
	err = c.Post(ctx, url.Values{"action": {"edit"}, "title": {"Sandbox"}, "text": {"v3"}, "token": {stale}}, nil)
	if !errors.Is(err, mwapi.ErrBadToken) {
		t.Fatalf("err = %v; want ErrBadToken", err)
	}
	if tok, _ := c.Token(ctx, "csrf"); tok == stale {
		t.Error("Post did not forget the rejected token")
	}
}

// TestFakeMaxLag: maxlag with Retry-After and X-Database-Lag is waited out.
func TestFakeMaxLag(t *testing.T) {
	wiki, c, _ := fakeWiki(t, mwapi.Background(), mwapi.WithLogger(discard))
	wiki.SetLag(mwoauthtest.Lag{Lag: 7 * time.Second, Requests: 1, RetryAfter: time.Second})
	start := time.Now()
	if err := c.Get(context.Background(), url.Values{"action": {"query"}, "meta": {"userinfo"}}, nil); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el < 900*time.Millisecond {
		t.Errorf("retried after %v; want the 1 s Retry-After honoured", el)
	}
	if n := wiki.APIRequests("query"); n != 2 {
		t.Errorf("fake saw %d queries; want 2", n)
	}

	// The error itself, without retries.
	c1 := signedFakeClient(t, wiki, wiki.Consumers()[len(wiki.Consumers())-1], nil, mwapi.WithMaxLag(5), mwapi.WithRetry(1, time.Second))
	wiki.SetLag(mwoauthtest.Lag{Lag: 7 * time.Second, Requests: 1})
	err := c1.Get(context.Background(), url.Values{"action": {"query"}}, nil)
	var apiErr *mwapi.APIError
	if !errors.As(err, &apiErr) || !errors.Is(err, mwapi.ErrMaxLag) {
		t.Fatalf("err = %v; want ErrMaxLag", err)
	}
	if apiErr.RetryAfter != 5*time.Second || apiErr.Lag != 7*time.Second || apiErr.Header != "maxlag" {
		t.Errorf("RetryAfter %v, Lag %v, Header %q; want 5s, 7s, maxlag", apiErr.RetryAfter, apiErr.Lag, apiErr.Header)
	}
}

// TestFakeRateLimited: ratelimited edits are retried with back-off.
func TestFakeRateLimited(t *testing.T) {
	wiki, c, _ := fakeWiki(t, mwapi.WithBackoff(20*time.Millisecond), mwapi.WithRetry(4, 10*time.Second))
	wiki.RateLimit("edit", 2)
	start := time.Now()
	if err := c.PostWithToken(context.Background(), "csrf", url.Values{"action": {"edit"}, "title": {"Sandbox"}, "appendtext": {"+"}}, nil); err != nil {
		t.Fatal(err)
	}
	if n := wiki.APIRequests("edit"); n != 3 {
		t.Errorf("fake saw %d edits; want 3", n)
	}
	if el := time.Since(start); el < 40*time.Millisecond {
		t.Errorf("3 attempts in %v; want back-off between them", el)
	}
	if text, _ := wiki.PageText("Sandbox"); text != "+" {
		t.Errorf("page text %q; want one edit", text)
	}
	wiki.RateLimit("edit", 10)
	c2 := signedFakeClient(t, wiki, wiki.Consumers()[len(wiki.Consumers())-1], nil, mwapi.WithRetry(2, 5*time.Second))
	err := c2.PostWithToken(context.Background(), "csrf", url.Values{"action": {"edit"}, "title": {"Sandbox"}, "appendtext": {"+"}}, nil)
	if !errors.Is(err, mwapi.ErrRateLimited) {
		t.Errorf("err = %v; want ErrRateLimited after the retry budget", err)
	}
}

// TestFakeUpload: a small file in one multipart request (signed without
// the multipart fields), then a chunked one with progress.
func TestFakeUpload(t *testing.T) {
	wiki, c, _ := fakeWiki(t, mwapi.WithChunkSize(64<<10))
	ctx := context.Background()
	small := []byte("GIF89a\x01\x00\x01\x00 a small file")
	res, err := c.Upload(ctx, mwapi.UploadRequest{Filename: "Small file.gif", Content: bytes.NewReader(small), Size: int64(len(small)), Comment: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := wiki.File("Small file.gif"); !ok || !bytes.Equal(got, small) || res.Filename != "Small_file.gif" {
		t.Errorf("result %+v; stored %q, %v", res, got, ok)
	}

	big := bytes.Repeat([]byte("0123456789abcdef"), 12000) // 192000 bytes: 3 chunks
	var progress []int64
	res, err = c.Upload(ctx, mwapi.UploadRequest{
		Filename: "Big.bin", Content: bytes.NewReader(big), Size: int64(len(big)), Comment: "chunked",
		Progress: func(sent, total int64) { progress = append(progress, sent) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := wiki.File("File:Big.bin"); !bytes.Equal(got, big) || res.Result != "Success" {
		t.Errorf("chunked upload stored %d bytes, result %q", len(got), res.Result)
	}
	if fmt.Sprint(progress) != "[65536 131072 192000]" {
		t.Errorf("progress = %v; want [65536 131072 192000]", progress)
	}
	if n := wiki.APIRequests("upload"); n != 5 {
		t.Errorf("fake saw %d upload requests; want 1 + 3 chunks + 1 commit", n)
	}

	// The same content again: a duplicate warning, then finished by filekey.
	res, err = c.Upload(ctx, mwapi.UploadRequest{Filename: "Copy.gif", Content: bytes.NewReader(small), Size: int64(len(small))})
	if !errors.Is(err, mwapi.ErrUploadWarning) || res == nil || res.FileKey == "" || !strings.Contains(string(res.Warnings), "duplicate") {
		t.Fatalf("err = %v, res %+v; want a duplicate warning with a filekey", err, res)
	}
	if _, err := c.Upload(ctx, mwapi.UploadRequest{Filename: "Copy.gif", FileKey: res.FileKey, IgnoreWarnings: true}); err != nil {
		t.Fatal(err)
	}
	if got, _ := wiki.File("Copy.gif"); !bytes.Equal(got, small) {
		t.Errorf("Copy.gif = %q", got)
	}
}

// TestFakeErrorFormat: errors and warnings in every errorformat.
func TestFakeErrorFormat(t *testing.T) {
	wiki, c, _ := fakeWiki(t)
	wiki.InvalidateTokens()
	for _, tt := range []struct{ format, wantInfo string }{
		{"", "Invalid CSRF token."},
		{"bc", "Invalid CSRF token."},
		{"plaintext", "Invalid CSRF token."},
		{"wikitext", "Invalid CSRF token."},
		{"html", "Invalid CSRF token."},
		{"raw", "apierror-badtoken"},
		{"none", ""},
	} {
		t.Run("error "+tt.format, func(t *testing.T) {
			p := url.Values{"action": {"edit"}, "title": {"X"}, "text": {"y"}, "token": {`0123456789abcdef0123456789abcdef00000000+\`}}
			if tt.format != "" {
				p.Set("errorformat", tt.format)
			}
			err := c.Post(context.Background(), p, nil)
			var apiErr *mwapi.APIError
			if !errors.As(err, &apiErr) || !errors.Is(err, mwapi.ErrBadToken) {
				t.Fatalf("err = %v; want badtoken", err)
			}
			if apiErr.Info != tt.wantInfo || apiErr.Header != "badtoken" {
				t.Errorf("Info %q, Header %q; want %q, badtoken", apiErr.Info, apiErr.Header, tt.wantInfo)
			}
			if f := tt.format; f != "" && f != "bc" && apiErr.Module != "main" {
				t.Errorf("Module = %q; want main", apiErr.Module)
			}
		})
	}
	for _, format := range []string{"bc", "plaintext", "html"} {
		t.Run("warning "+format, func(t *testing.T) {
			var got []mwapi.Warning
			c := signedFakeClient(t, wiki, wiki.Consumers()[len(wiki.Consumers())-1], nil,
				mwapi.WithWarnings(func(_ context.Context, w []mwapi.Warning) { got = append(got, w...) }))
			resp, err := c.Do(context.Background(), http.MethodGet, url.Values{"action": {"query"}, "list": {"bogus"}, "errorformat": {format}})
			if err != nil {
				t.Fatal(err)
			}
			if len(resp.Warnings) != 1 || resp.Warnings[0].Module != "query" || !strings.Contains(resp.Warnings[0].Text, "bogus") {
				t.Fatalf("warnings = %v; want one from query about bogus", resp.Warnings)
			}
			if format != "bc" && resp.Warnings[0].Code != "unrecognizedvalues" {
				t.Errorf("warning code = %q; want unrecognizedvalues", resp.Warnings[0].Code)
			}
			if len(got) != 1 {
				t.Errorf("hook got %v", got)
			}
		})
	}
}

// TestFakeAssertUserFailed: a request the wiki does not see as the user's.
func TestFakeAssertUserFailed(t *testing.T) {
	wiki := mwoauthtest.Start(t)
	anon, err := mwapi.New(wiki.ScriptPath(), mwapi.WithUserAgent(testUA), mwapi.WithLogger(discard), mwapi.WithAssertUser(true))
	if err != nil {
		t.Fatal(err)
	}
	err = anon.Get(context.Background(), url.Values{"action": {"query"}, "meta": {"userinfo"}}, nil)
	if !errors.Is(err, mwapi.ErrNotLoggedIn) {
		t.Errorf("err = %v; want ErrNotLoggedIn", err)
	}
	_, c, cons := fakeWiki(t, mwapi.WithAssertUsername("Bob"))
	_ = cons
	err = c.Get(context.Background(), url.Values{"action": {"query"}, "meta": {"userinfo"}}, nil)
	var apiErr *mwapi.APIError
	if !errors.Is(err, mwapi.ErrNotLoggedIn) || !errors.As(err, &apiErr) || apiErr.Code != "assertnameduserfailed" {
		t.Errorf("err = %v; want assertnameduserfailed", err)
	}
}

// TestFakeRevoked: a revoked grant is ErrTokenRevoked after one request.
func TestFakeRevoked(t *testing.T) {
	wiki, c, cons := fakeWiki(t)
	ctx := context.Background()
	if err := c.Get(ctx, url.Values{"action": {"query"}, "meta": {"userinfo"}}, nil); err != nil {
		t.Fatal(err)
	}
	wiki.Revoke("Alice", cons.Key)
	before := wiki.Requests(mwoauthtest.EndpointAPI)
	err := c.Get(ctx, url.Values{"action": {"query"}, "meta": {"userinfo"}}, nil)
	if !errors.Is(err, mwapi.ErrTokenRevoked) {
		t.Fatalf("err = %v; want ErrTokenRevoked", err)
	}
	if n := wiki.Requests(mwoauthtest.EndpointAPI) - before; n != 1 {
		t.Errorf("%d requests; want 1 (no retry storm)", n)
	}
}

// TestFakeNonceRetry: the fake rejects a reused nonce as MediaWiki does;
// the client retries once and the signer makes a new nonce.
func TestFakeNonceRetry(t *testing.T) {
	wiki, _, cons := fakeWiki(t)
	var n atomic.Int64
	nonce := func() (string, error) {
		i := n.Add(1)
		if i <= 2 {
			return "fixednonce0001", nil // the second call reuses the first's nonce
		}
		return fmt.Sprintf("nonce%08d", i), nil
	}
	c := signedFakeClient(t, wiki, cons, nonce, mwapi.WithRetry(1, time.Second))
	ctx := context.Background()
	for i := range 2 {
		if err := c.Get(ctx, url.Values{"action": {"query"}, "meta": {"userinfo"}}, nil); err != nil {
			t.Fatalf("call %d: %v", i+1, err)
		}
	}
	if got := n.Load(); got != 3 {
		t.Errorf("%d nonces made; want 3 (one retry)", got)
	}
}

// TestFakeServerErrors: a 503 from the fake is retried for reads only.
func TestFakeServerErrors(t *testing.T) {
	wiki, c, _ := fakeWiki(t)
	wiki.FailNext(mwoauthtest.EndpointAPI, mwoauthtest.Fault{Status: 503})
	if err := c.Get(context.Background(), url.Values{"action": {"query"}, "meta": {"userinfo"}}, nil); err != nil {
		t.Fatalf("read after one 503: %v", err)
	}
	tok, _ := c.Token(context.Background(), "csrf")
	wiki.FailNext(mwoauthtest.EndpointAPI, mwoauthtest.Fault{Status: 503})
	err := c.Post(context.Background(), url.Values{"action": {"edit"}, "title": {"S"}, "text": {"x"}, "token": {tok}}, nil)
	if !errors.Is(err, mwapi.ErrServerError) {
		t.Errorf("write after a 503: %v; want ErrServerError, not retried", err)
	}
	if _, ok := wiki.PageText("S"); ok {
		t.Error("the write was retried")
	}
}

// TestFakeSequentialOneConnection: 1000 sequential signed calls to the fake
// over one keep-alive connection.
func TestFakeSequentialOneConnection(t *testing.T) {
	if testing.Short() {
		t.Skip("1000 calls")
	}
	cl := &countingListenerFake{}
	wiki := mwoauthtest.NewUnstartedServer(mwoauthtest.WithListener(cl.listen(t)))
	wiki.Start()
	t.Cleanup(wiki.Close)
	cons := wiki.AddConsumer(mwoauthtest.Consumer{OwnerOnly: true, Owner: "Alice", Grants: []string{"basic"}})
	c := signedFakeClient(t, wiki, cons, nil)
	for i := range 1000 {
		if err := c.Get(context.Background(), url.Values{"action": {"query"}, "meta": {"userinfo"}}, nil); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	if n := cl.n.Load(); n != 1 {
		t.Errorf("1000 calls used %d connections; want 1", n)
	}
}

type countingListenerFake struct{ countingListener }

func (c *countingListenerFake) listen(t *testing.T) net.Listener {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c.Listener = l
	return &c.countingListener
}

// bearerRT adds an OAuth 2 bearer token, as golang.org/x/oauth2's
// Transport does.
type bearerRT struct {
	token string
	base  http.RoundTripper
}

func (b bearerRT) RoundTrip(r *http.Request) (*http.Response, error) {
	r2 := r.Clone(r.Context())
	r2.Header.Set("Authorization", "Bearer "+b.token)
	return b.base.RoundTrip(r2)
}

// TestFakeBearer: the same client over an OAuth 2 bearer token; a garbage
// token is ErrTokenRevoked.
func TestFakeBearer(t *testing.T) {
	wiki := mwoauthtest.Start(t)
	cons := wiki.AddConsumer(mwoauthtest.Consumer{Version: 2, OwnerOnly: true, Owner: "Alice", Confidential: true,
		Grants: []string{"basic", "editpage", "createeditmovepage"}})
	if cons.AccessToken == "" {
		t.Fatal("owner-only OAuth 2 client without an access token")
	}
	newBearer := func(tok string) *mwapi.Client {
		c, err := mwapi.New(wiki.ScriptPath(), mwapi.WithUserAgent(testUA), mwapi.WithLogger(discard),
			mwapi.WithHTTPClient(&http.Client{Transport: bearerRT{tok, mwapi.NewTransport(0)}}),
			mwapi.WithCredentialID("bearer-"+tok[:4]))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	c := newBearer(cons.AccessToken)
	ctx := context.Background()
	var res struct{ Edit struct{ Result string } }
	if err := c.PostWithToken(ctx, "csrf", url.Values{"action": {"edit"}, "title": {"Bearer page"}, "text": {"via OAuth 2"}}, &res); err != nil {
		t.Fatal(err)
	}
	if text, _ := wiki.PageText("Bearer page"); res.Edit.Result != "Success" || text != "via OAuth 2" {
		t.Errorf("edit %q, text %q", res.Edit.Result, text)
	}
	err := newBearer("garbage.token.here").Get(ctx, url.Values{"action": {"query"}, "meta": {"userinfo"}}, nil)
	var apiErr *mwapi.APIError
	if !errors.Is(err, mwapi.ErrTokenRevoked) || !errors.As(err, &apiErr) || !strings.Contains(apiErr.Info, "Invalid access token") {
		t.Errorf("garbage bearer: %v; want ErrTokenRevoked (Invalid access token)", err)
	}
}
