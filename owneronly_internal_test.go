package mwoauth

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wikiauth/mwoauth/mwoauthtest"
)

type closeTracker struct {
	io.Reader
	closed atomic.Bool
}

func (c *closeTracker) Close() error { c.closed.Store(true); return nil }

type recordingRT struct {
	got []*http.Request
}

func (r *recordingRT) RoundTrip(req *http.Request) (*http.Response, error) {
	r.got = append(r.got, req)
	return &http.Response{StatusCode: 200, Body: http.NoBody, Request: req}, nil
}

// TestOwnerOnlyBearer: the bearer transport sets the header on a clone
// (the caller's request is unchanged), and refuses plain http to a host
// that is not loopback, closing the body and sending nothing.
func TestOwnerOnlyBearer(t *testing.T) {
	base := &recordingRT{}
	tr := &ownerOnlyBearer{token: ownerOnlyFixedToken("tok"), base: base}
	for _, u := range []string{"https://wiki.example.org/w/api.php", "http://127.0.0.1:8080/w/api.php", "http://localhost/w/api.php", "http://[::1]/w/api.php"} {
		req, _ := http.NewRequest("GET", u, nil)
		if _, err := tr.RoundTrip(req); err != nil {
			t.Fatalf("%s: %v", u, err)
		}
		if req.Header.Get("Authorization") != "" {
			t.Errorf("%s: the caller's request was changed", u)
		}
		if got := base.got[len(base.got)-1].Header.Get("Authorization"); got != "Bearer tok" {
			t.Errorf("%s: Authorization = %q; want Bearer tok", u, got)
		}
	}
	n := len(base.got)
	for _, u := range []string{"http://wiki.example.org/w/api.php", "http://127.0.0.1.example.org/w/api.php", "ws://wiki.example.org/x"} {
		body := &closeTracker{Reader: strings.NewReader("a=b")}
		req, _ := http.NewRequest("POST", u, body)
		if _, err := tr.RoundTrip(req); !errors.Is(err, errOwnerOnlyInsecure) {
			t.Errorf("%s: RoundTrip = %v; want errOwnerOnlyInsecure", u, err)
		}
		if !body.closed.Load() {
			t.Errorf("%s: body not closed", u)
		}
	}
	if len(base.got) != n {
		t.Errorf("%d requests sent in the clear to other hosts", len(base.got)-n)
	}
	failing := &ownerOnlyBearer{token: func(*http.Request) (string, error) { return "", errors.New("no token") }, base: base}
	body := &closeTracker{Reader: strings.NewReader("a=b")}
	req, _ := http.NewRequest("POST", "https://wiki.example.org/w/api.php", body)
	if _, err := failing.RoundTrip(req); err == nil || !body.closed.Load() {
		t.Errorf("RoundTrip without a token = %v, body closed %v; want an error and a closed body", err, body.closed.Load())
	}
}

// TestClientCredentialsSource: a token is fetched again ahead of its expiry
// (within x/oauth2's 10 s margin), a refused token is replaced, and a
// refusal of a token already replaced by another caller fetches nothing.
func TestClientCredentialsSource(t *testing.T) {
	wiki := mwoauthtest.Start(t)
	c := wiki.AddConsumer(mwoauthtest.Consumer{Version: 2, OwnerOnly: true, Owner: "Alice"})
	src := newCCSource(wiki.ScriptPath(), c.Key, c.Secret, "cc-test/1.0 (test@example.org)")
	fetches := func() int { return wiki.Requests(mwoauthtest.EndpointOAuth2Token) }
	t1, err := src.token(t.Context(), "")
	if err != nil || fetches() != 1 {
		t.Fatalf("first token: %v, %d fetches", err, fetches())
	}
	if t2, _ := src.token(t.Context(), ""); t2 != t1 || fetches() != 1 {
		t.Errorf("a valid token was fetched again (%d fetches)", fetches())
	}
	src.tok.Expiry = time.Now().Add(5 * time.Second)
	t3, err := src.token(t.Context(), "")
	if err != nil || t3 == t1 || fetches() != 2 {
		t.Errorf("token 5 s before expiry: %v, new %v, %d fetches; want a new token", err, t3 != t1, fetches())
	}
	if t4, _ := src.token(t.Context(), t1); t4 != t3 || fetches() != 2 {
		t.Errorf("a refusal of an old token fetched again (%d fetches)", fetches())
	}
	t5, err := src.token(t.Context(), t3)
	if err != nil || t5 == t3 || fetches() != 3 {
		t.Errorf("refused current token: %v, new %v, %d fetches; want a new token", err, t5 != t3, fetches())
	}
	// A caller waiting for the token ends with its context.
	src.sem <- struct{}{}
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if _, err := src.token(ctx, ""); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("token while another fetch runs, past the deadline = %v", err)
	}
	<-src.sem
}
