package mwoauth

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
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
