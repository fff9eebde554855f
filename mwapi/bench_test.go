package mwapi_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/wikiauth/mwoauth/mwapi"
	"github.com/wikiauth/mwoauth/oauth1"
)

// cannedRT answers every request at once without a network, so the
// benchmark measures the client: parameters, encoding, OAuth 1 signing
// (oauth1.Transport, HMAC-SHA1 over the form body), decoding.
type cannedRT struct{}

func (cannedRT) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	return &http.Response{
		StatusCode: 200,
		Header:     http.Header{"Content-Type": {"application/json; charset=utf-8"}},
		Body:       io.NopCloser(strings.NewReader(`{"edit":{"result":"Success","pageid":2,"title":"Sandbox","newrevid":3}}`)),
		Request:    r,
	}, nil
}

func signedClient(b *testing.B, endpoint string, base http.RoundTripper) *http.Client {
	cfg := &oauth1.Config{
		Wiki:           endpoint,
		ConsumerKey:    "a88e684b481c8855c057ce4d016b5527",
		ConsumerSecret: "0123456789abcdef0123456789abcdef01234567",
		UserAgent:      testUA,
	}
	tok := &oauth1.Token{Key: "30ca2187efaeb25b3b33932620e610a4", Secret: "fedcba9876543210fedcba9876543210fedcba98"}
	return &http.Client{Transport: cfg.Transport(tok, base)}
}

// BenchmarkSignedCall: one signed edit POST (encoding + OAuth 1 signature +
// decoding), no network.
func BenchmarkSignedCall(b *testing.B) {
	const wiki = "https://wiki.example.org/w"
	c, err := mwapi.New(wiki, mwapi.WithUserAgent(testUA), mwapi.WithLogger(discard),
		mwapi.WithHTTPClient(signedClient(b, wiki, cannedRT{})), mwapi.WithCredentialID("bench"))
	if err != nil {
		b.Fatal(err)
	}
	params := url.Values{
		"action": {"edit"}, "title": {"Sandbox"}, "text": {"Edited via OAuth 1.0a at Fri Dec  4 14:22:17 2026"},
		"summary": {"mwoauth benchmark"}, "token": {`343814fe3bae7cf8777b09d2aae44e646b12cc99+\`},
	}
	ctx := context.Background()
	var out struct{ Edit struct{ Result string } }
	b.ReportAllocs()
	for b.Loop() {
		if err := c.Post(ctx, params, &out); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSignOnly: the oauth1.Transport signing one prepared form POST.
func BenchmarkSignOnly(b *testing.B) {
	const wiki = "https://wiki.example.org/w"
	hc := signedClient(b, wiki, cannedRT{})
	body := "action=edit&assert=user&format=json&formatversion=2&summary=x&text=Edited+via+OAuth&title=Sandbox&token=343814fe3bae7cf8777b09d2aae44e646b12cc99%2B%5C"
	b.ReportAllocs()
	for b.Loop() {
		req, _ := http.NewRequest(http.MethodPost, wiki+"/api.php", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := hc.Transport.RoundTrip(req)
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
	}
}

// BenchmarkSequentialLoopback: sequential GETs over loopback with
// keep-alive; reports the TCP connections the server accepted (want 1).
func BenchmarkSequentialLoopback(b *testing.B) {
	srv, cl := newCountingServer(b, http.HandlerFunc(okHandler))
	c, err := mwapi.New(srv.URL+"/w", mwapi.WithUserAgent(testUA), mwapi.WithLogger(discard))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	params := url.Values{"action": {"query"}, "meta": {"userinfo"}}
	b.ReportAllocs()
	for b.Loop() {
		if err := c.Get(ctx, params, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(cl.n.Load()), "conns")
}

// BenchmarkSequentialLoopbackSigned: the same with the OAuth 1 transport.
func BenchmarkSequentialLoopbackSigned(b *testing.B) {
	srv, cl := newCountingServer(b, http.HandlerFunc(okHandler))
	c, err := mwapi.New(srv.URL+"/w", mwapi.WithUserAgent(testUA), mwapi.WithLogger(discard),
		mwapi.WithHTTPClient(signedClient(b, srv.URL+"/w", mwapi.NewTransport(0))), mwapi.WithCredentialID("bench"))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	params := url.Values{"action": {"query"}, "meta": {"userinfo"}}
	b.ReportAllocs()
	for b.Loop() {
		if err := c.Get(ctx, params, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(cl.n.Load()), "conns")
}
