package oauth1_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/wikiauth/mwoauth/mwoauthtest"
	"github.com/wikiauth/mwoauth/oauth1"
)

func retryConfig(s *mwoauthtest.Server, c *mwoauthtest.Consumer) *oauth1.Config {
	return &oauth1.Config{Wiki: s.ScriptPath(), ConsumerKey: c.Key, ConsumerSecret: c.Secret,
		UserAgent: fakeUA, HTTPClient: s.Client(), Retry: true, RetryWait: 20 * time.Millisecond}
}

// TestRetryInitiate (SECURITY.md R3): with Retry, initiate is tried once
// more after a 5xx, a dropped connection or a truncated answer, and never
// more than twice; without Retry, once.
func TestRetryInitiate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		faults []mwoauthtest.Fault
		retry  bool
		ok     bool
		want   int // requests
	}{
		{"503 then ok", []mwoauthtest.Fault{{Status: 503}}, true, true, 2},
		{"500 twice", []mwoauthtest.Fault{{Status: 500}, {Status: 502}}, true, false, 2},
		// A fresh server: the first request opens a new connection, so
		// net/http does not resend it by itself (it does on a reused one).
		{"reset then ok", []mwoauthtest.Fault{{Reset: true}}, true, true, 2},
		{"reset without Retry", []mwoauthtest.Fault{{Reset: true}}, false, false, 1},
		{"truncated then ok", []mwoauthtest.Fault{{Truncate: true}}, true, true, 2},
		{"503 without Retry", []mwoauthtest.Fault{{Status: 503}}, false, false, 1},
		{"redirect", []mwoauthtest.Fault{{Redirect: "http://127.0.0.1:1/elsewhere"}}, true, false, 1},
		{"oversized", []mwoauthtest.Fault{{Oversize: 2 << 20}}, true, false, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := mwoauthtest.Start(t)
			cfg := retryConfig(s, s.Consumer())
			cfg.Retry = tc.retry
			for _, f := range tc.faults {
				s.FailNext(mwoauthtest.EndpointInitiate, f)
			}
			_, err := cfg.RequestToken(t.Context())
			if tc.ok && err != nil {
				t.Errorf("RequestToken = %v; want success", err)
			}
			if !tc.ok && err == nil {
				t.Error("RequestToken succeeded; want an error")
			}
			if n := s.Requests(mwoauthtest.EndpointInitiate); n != tc.want {
				t.Errorf("Requests(initiate) = %d; want %d", n, tc.want)
			}
		})
	}
}

// TestRetryNotForWikiErrors: an error the wiki reports (here E010 for an
// owner-only consumer) is an answer, not a failure: one request.
func TestRetryNotForWikiErrors(t *testing.T) {
	s := mwoauthtest.Start(t)
	c := s.AddConsumer(mwoauthtest.Consumer{OwnerOnly: true, Owner: "Alice"})
	if _, err := retryConfig(s, c).RequestToken(t.Context()); !errors.Is(err, oauth1.ErrOwnerOnly) {
		t.Fatalf("RequestToken = %v; want ErrOwnerOnly", err)
	}
	if n := s.Requests(mwoauthtest.EndpointInitiate); n != 1 {
		t.Errorf("Requests(initiate) = %d; want 1", n)
	}
}

// TestRetryIdentifyNotToken: identify is retried (and the JWT of the second
// attempt checked against that attempt's nonce); the token exchange, which
// is single-use, never is.
func TestRetryIdentifyNotToken(t *testing.T) {
	s := mwoauthtest.Start(t)
	cfg := retryConfig(s, s.Consumer())
	rt, err := cfg.RequestToken(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	cb, err := s.Authorize(t.Context(), cfg.AuthorizationURL(rt), "Alice", mwoauthtest.DefaultPassword)
	if err != nil {
		t.Fatal(err)
	}
	q := cb.Query()
	s.FailNext(mwoauthtest.EndpointToken, mwoauthtest.Fault{Status: 503})
	if _, err := cfg.AccessToken(t.Context(), rt, q.Get("oauth_token"), q.Get("oauth_verifier")); !errors.Is(err, oauth1.ErrWikiUnavailable) {
		t.Fatalf("AccessToken after a 503 = %v; want ErrWikiUnavailable", err)
	}
	if n := s.Requests(mwoauthtest.EndpointToken); n != 1 {
		t.Errorf("Requests(token) = %d; want 1 (never retried)", n)
	}
	at, err := cfg.AccessToken(t.Context(), rt, q.Get("oauth_token"), q.Get("oauth_verifier"))
	if err != nil {
		t.Fatal(err)
	}
	s.FailNext(mwoauthtest.EndpointIdentify, mwoauthtest.Fault{Status: 503})
	id, err := cfg.Identify(t.Context(), at)
	if err != nil || id.Username != "Alice" {
		t.Fatalf("Identify after one 503 = %v, %v; want Alice", id, err)
	}
	if n := s.Requests(mwoauthtest.EndpointIdentify); n != 2 {
		t.Errorf("Requests(identify) = %d; want 2", n)
	}
	s.FailNext(mwoauthtest.EndpointIdentify, mwoauthtest.Fault{Status: 503})
	s.FailNext(mwoauthtest.EndpointIdentify, mwoauthtest.Fault{Status: 503})
	if _, err := cfg.Identify(t.Context(), at); !errors.Is(err, oauth1.ErrWikiUnavailable) {
		t.Errorf("Identify after two 503s = %v; want ErrWikiUnavailable", err)
	}
	if n := s.Requests(mwoauthtest.EndpointIdentify); n != 4 {
		t.Errorf("Requests(identify) = %d; want 4", n)
	}
}

// TestRetryWaitAndContext: the retry waits between RetryWait and twice
// it; a context that ends during the wait ends the call with the first
// error; a timed-out attempt is not retried.
func TestRetryWaitAndContext(t *testing.T) {
	s := mwoauthtest.Start(t)
	cfg := retryConfig(s, s.Consumer())
	cfg.RetryWait = 100 * time.Millisecond
	s.FailNext(mwoauthtest.EndpointInitiate, mwoauthtest.Fault{Status: 503})
	start := time.Now()
	if _, err := cfg.RequestToken(t.Context()); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 100*time.Millisecond || d > 2*time.Second {
		t.Errorf("RequestToken with one retry took %v; want at least the 100 ms wait", d)
	}

	cfg.RetryWait = 10 * time.Second
	s.FailNext(mwoauthtest.EndpointInitiate, mwoauthtest.Fault{Status: 503})
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	start = time.Now()
	before := s.Requests(mwoauthtest.EndpointInitiate)
	if _, err := cfg.RequestToken(ctx); !errors.Is(err, oauth1.ErrWikiUnavailable) {
		t.Errorf("RequestToken = %v; want the 503's ErrWikiUnavailable", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("the context's end did not cut the wait (%v)", d)
	}
	if n := s.Requests(mwoauthtest.EndpointInitiate) - before; n != 1 {
		t.Errorf("%d requests; want 1", n)
	}

	cfg.RetryWait = 10 * time.Millisecond
	hc := *s.Client()
	hc.Timeout = 100 * time.Millisecond
	cfg.HTTPClient = &hc
	s.FailNext(mwoauthtest.EndpointInitiate, mwoauthtest.Fault{Latency: 2 * time.Second})
	before = s.Requests(mwoauthtest.EndpointInitiate)
	if _, err := cfg.RequestToken(t.Context()); !errors.Is(err, oauth1.ErrWikiUnavailable) {
		t.Errorf("RequestToken past the client timeout = %v; want ErrWikiUnavailable", err)
	}
	if n := s.Requests(mwoauthtest.EndpointInitiate) - before; n != 1 {
		t.Errorf("%d requests after a timeout; want 1 (not retried)", n)
	}
}
