package oauth1

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/wikiauth/mwoauth/internal/transcript"
)

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func textResponse(status int, contentType, body string) *http.Response {
	h := http.Header{}
	if contentType != "" {
		h.Set("Content-Type", contentType)
	}
	return &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body))}
}

const testUA = "mwoauth-test/1.0 (https://example.org; test@example.org)"

// against returns a Config of consumer for the replay server.
func against(srv *replay, cons consumerCreds) *Config {
	return &Config{Wiki: srv.URL + "/w", ConsumerKey: cons.Key, ConsumerSecret: cons.Secret, UserAgent: testUA}
}

// vectorFor finds the signatures.json vector of a transcript.
func vectorFor(t *testing.T, rel, transcript string) vector {
	t.Helper()
	for _, v := range vectors(t, rel) {
		if v.Transcript == transcript {
			return v
		}
	}
	t.Fatalf("no vector for %s", transcript)
	return vector{}
}

// wireReplay answers like the recorded wiki and checks that the request is
// byte for byte the recorded one: URL, and the vector's exact signature.
func wireReplay(t *testing.T, rel, transcript string) *http.Client {
	v := vectorFor(t, rel, transcript)
	rec := readTranscript(t, rel, transcript)
	return &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if r.URL.String() != v.URL || r.Method != v.Method {
			t.Errorf("%s %s; want %s %s", r.Method, r.URL, v.Method, v.URL)
		}
		p := authParams(t, r.Header.Get("Authorization"))
		if p["oauth_signature"] != v.Signature {
			t.Errorf("%s: oauth_signature = %s; want %s", transcript, p["oauth_signature"], v.Signature)
		}
		return textResponse(rec.Status, rec.ContentType, string(rec.Body)), nil
	})}
}

// TestHandshakeReplaysWire runs the real handshake of both releases
// (initiate, token, identify) with the recorded nonces and clock: each
// request carries exactly the recorded signature, and each recorded answer
// is accepted, the identify JWT verified at its own time.
func TestHandshakeReplaysWire(t *testing.T) {
	for _, rel := range transcript.Releases {
		for _, flow := range []struct{ consumer, initiate, token, identify string }{
			{"oauth1", "oauth1-01-initiate.txt", "oauth1-10-token.txt", "oauth1-11-identify.txt"},
			{"oauth1_identify_only", "oauth1-identify-only-01-initiate.txt", "oauth1-identify-only-04-token.txt", "oauth1-identify-only-05-identify.txt"},
		} {
			t.Run(rel+"/"+flow.consumer, func(t *testing.T) {
				cons := consumers(t, rel)[flow.consumer]
				base := &Config{ConsumerKey: cons.Key, ConsumerSecret: cons.Secret, UserAgent: testUA}
				cfg := func(transcript string) *Config {
					v := vectorFor(t, rel, transcript)
					c := *base
					u := v.URL[:strings.Index(v.URL, "/index.php")]
					c.Wiki = u
					ts, _ := strconv.ParseInt(v.OAuthParams["oauth_timestamp"], 10, 64)
					c.Now = func() time.Time { return time.Unix(ts, 0) }
					c.Nonce = func() (string, error) { return v.OAuthParams["oauth_nonce"], nil }
					c.HTTPClient = wireReplay(t, rel, transcript)
					return &c
				}
				ctx := t.Context()
				rt, err := cfg(flow.initiate).RequestToken(ctx)
				if err != nil {
					t.Fatalf("RequestToken = %v", err)
				}
				vt := vectorFor(t, rel, flow.token)
				if rt.Key != vt.OAuthParams["oauth_token"] || rt.Secret != vt.TokenSecret {
					t.Fatalf("request token %v does not match the token step's", rt)
				}
				at, err := cfg(flow.token).AccessToken(ctx, rt, rt.Key, vt.OAuthParams["oauth_verifier"])
				if err != nil {
					t.Fatalf("AccessToken = %v", err)
				}
				vi := vectorFor(t, rel, flow.identify)
				if at.Key != vi.OAuthParams["oauth_token"] || at.Secret != vi.TokenSecret {
					t.Fatalf("access token %v does not match identify's", at)
				}
				id, err := cfg(flow.identify).Identify(ctx, at)
				if err != nil {
					t.Fatalf("Identify = %v", err)
				}
				if id.Subject != "3" || id.Username != "Alice" || !id.ConfirmedEmail || id.Blocked || id.Registered == "" || len(id.Groups) != 3 || len(id.Rights) < 30 {
					t.Errorf("identity = %+v", id)
				}
				if (id.EmailVerified != nil) != (rel == "1.43") {
					t.Errorf("EmailVerified = %v in %s", id.EmailVerified, rel)
				}
				private := flow.consumer == "oauth1_identify_only"
				if (id.Email == "alice@example.org") != private {
					t.Errorf("Email = %q", id.Email)
				}
				if private && (len(id.Grants) != 1 || id.Grants[0] != "mwoauth-authonlyprivate") ||
					!private && len(id.Grants) != 4 {
					t.Errorf("Grants = %v", id.Grants)
				}
				if id.Expiry.Sub(id.IssuedAt) != 100*time.Second || id.Issuer != cfg(flow.identify).issuer(mustParsed(t, cfg(flow.identify))) {
					t.Errorf("times/issuer = %v %v %q", id.IssuedAt, id.Expiry, id.Issuer)
				}
				if len(id.Extra) != 0 {
					t.Errorf("Extra = %v; want none (all claims known)", id.Extra)
				}
			})
		}
	}
}

func mustParsed(t *testing.T, c *Config) *endpoints {
	e, err := c.parsed()
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestTokenResponseForms: the JSON form and the text/plain form (oauth1-02,
// no format=json) of both releases, and the unapproved consumer's initiate
// (oauth1-26, which succeeds for its owner).
func TestTokenResponseForms(t *testing.T) {
	for _, rel := range transcript.Releases {
		for _, name := range []string{"oauth1-01-initiate.txt", "oauth1-02-initiate-raw-post.txt", "oauth1-05-initiate-prefixed-callback.txt", "oauth1-26-err-initiate-unapproved-consumer.txt", "oauth1-identify-only-07-initiate.txt"} {
			t.Run(rel+"/"+name, func(t *testing.T) {
				rec := readTranscript(t, rel, name)
				srv := serveRecorded(t, rec)
				c := against(srv, consumers(t, rel)["oauth1"])
				rt, err := c.RequestToken(t.Context())
				if err != nil {
					t.Fatalf("RequestToken = %v", err)
				}
				if len(rt.Key) != 32 || len(rt.Secret) != 32 || !bytes.Contains(rec.Body, []byte(rt.Key)) || !bytes.Contains(rec.Body, []byte(rt.Secret)) {
					t.Errorf("token = %q/%q", rt.Key, rt.Secret)
				}
			})
		}
		t.Run(rel+"/oauth1-36-token-after-wrong-verifier.txt", func(t *testing.T) {
			srv := serveRecorded(t, readTranscript(t, rel, "oauth1-36-token-after-wrong-verifier.txt"))
			c := against(srv, consumers(t, rel)["oauth1"])
			at, err := c.AccessToken(t.Context(), &Token{"rk", "rs"}, "rk", "v")
			if err != nil || len(at.Secret) != 40 {
				t.Fatalf("AccessToken = %v, %v", at, err)
			}
		})
	}
}

// errorCases: every OAuth 1 error case of PROTOCOL.md's table, by transcript.
var errorCases = []struct {
	file  string
	op    string // which call meets it
	key   string
	want  []error
	notIs []error
}{
	{"oauth1-04-err-initiate-callback-in-query-and-header.txt", "initiate", "mwoauth-oauth-exception", []error{ErrInvalidSignature, ErrConsumerRejected}, nil},
	{"oauth1-18-err-initiate-bad-signature.txt", "initiate", "mwoauth-oauth-exception", []error{ErrInvalidSignature, ErrConsumerRejected}, nil},
	{"oauth1-19-err-initiate-bad-signature-raw.txt", "initiate", "", []error{ErrInvalidSignature, ErrConsumerRejected}, nil},
	{"oauth1-20-err-initiate-wrong-consumer-key.txt", "initiate", "mwoauth-oauth-exception", []error{ErrConsumerRejected}, []error{ErrInvalidSignature}},
	{"oauth1-21-err-initiate-unsigned.txt", "initiate", "mwoauth-oauth-exception", []error{ErrConsumerRejected}, []error{ErrInvalidSignature}},
	{"oauth1-22-err-initiate-callback-not-prefix.txt", "initiate", "mwoauth-callback-not-oob-or-prefix", []error{ErrCallbackNotAllowed}, nil},
	{"oauth1-23-err-initiate-no-callback.txt", "initiate", "mwoauth-callback-not-oob-or-prefix", []error{ErrCallbackNotAllowed}, nil},
	{"oauth1-24-err-initiate-nonce-replay.txt", "initiate", "mwoauth-oauth-exception", []error{ErrNonceReused}, []error{ErrConsumerRejected}},
	{"oauth1-25-err-initiate-stale-timestamp.txt", "initiate", "mwoauth-oauth-exception", []error{ErrClockSkew}, []error{ErrInvalidSignature}},
	{"oauth1-28-err-initiate-callback-on-noprefix-consumer.txt", "initiate", "mwoauth-callback-not-oob", []error{ErrCallbackNotAllowed}, nil},
	{"oauth1-47-err-owner-only-initiate.txt", "initiate", "mwoauthserver-consumer-owner-only", []error{ErrOwnerOnly}, nil},
	{"oauth1-29-err-token-reused-request-token.txt", "token", "mwoauthdatastore-request-token-already-used", []error{ErrRequestTokenUsed}, nil},
	{"oauth1-34-err-token-wrong-verifier.txt", "token", "mwoauthdatastore-bad-verifier", []error{ErrBadVerifier}, nil},
	{"oauth1-35-err-token-wrong-request-secret.txt", "token", "mwoauth-oauth-exception", []error{ErrInvalidSignature}, []error{ErrConsumerRejected}},
	{"oauth1-39-err-token-after-cancel.txt", "token", "mwoauthdatastore-bad-token", []error{ErrBadToken}, nil},
	{"oauth1-40-err-token-unknown-request-token.txt", "token", "mwoauthdatastore-request-token-not-found", []error{ErrRequestTokenNotFound}, nil},
	{"oauth1-44-err-identify-bad-token.txt", "identify", "mwoauthdatastore-access-token-not-found", []error{ErrAccessTokenNotFound}, nil},
	{"oauth1-51-err-identify-revoked-token.txt", "identify", "mwoauthdatastore-access-token-not-found", []error{ErrAccessTokenNotFound}, nil},
	// The API form ({"error":{"code","info"}}) of the same failures.
	{"oauth1-41-err-api-bad-access-token.txt", "identify", "mwoauth-invalid-authorization", []error{ErrAccessTokenNotFound}, nil},
	{"oauth1-42-err-api-bad-signature.txt", "identify", "mwoauth-invalid-authorization", []error{ErrInvalidSignature}, []error{ErrConsumerRejected}},
	{"oauth1-52-err-api-revoked-token.txt", "identify", "mwoauth-invalid-authorization", []error{ErrAccessTokenNotFound}, nil},
}

var allSentinels = []error{
	ErrConsumerRejected, ErrInvalidSignature, ErrCallbackNotAllowed, ErrRequestTokenUsed, ErrRequestTokenNotFound,
	ErrBadVerifier, ErrBadToken, ErrClockSkew, ErrNonceReused, ErrAccessTokenNotFound, ErrOwnerOnly,
	ErrUnexpectedRedirect, ErrTokenMismatch, ErrMissingVerifier, ErrDuplicateParam, ErrMalformedResponse,
	ErrResponseTooLarge, ErrCallbackNotConfirmed, ErrIdentityInvalid, ErrWikiUnavailable,
}

const (
	rtSecret  = "request-token-secret-value"
	atSecret  = "access-token-secret-value"
	verifierV = "verifier-value-1234"
)

func callOp(t *testing.T, c *Config, op string) error {
	t.Helper()
	var err error
	switch op {
	case "initiate":
		_, err = c.RequestToken(t.Context())
	case "token":
		_, err = c.AccessToken(t.Context(), &Token{"request-token-key", rtSecret}, "request-token-key", verifierV)
	case "identify":
		_, err = c.Identify(t.Context(), &Token{"access-token-key", atSecret})
	}
	return err
}

// TestWikiErrors proves each sentinel with the transcripts' real bodies, as
// sent (JSON, or the text form of oauth1-19) and in the "Error: TEXT" text
// form that the same error takes without format=json (built from the
// recorded message), for both releases.
func TestWikiErrors(t *testing.T) {
	for _, rel := range transcript.Releases {
		cons := consumers(t, rel)["oauth1"]
		for _, tc := range errorCases {
			rec := readTranscript(t, rel, tc.file)
			var msg struct {
				Error   json.RawMessage `json:"error"`
				Message string          `json:"message"`
			}
			text := string(rec.Body)
			if json.Unmarshal(rec.Body, &msg) == nil {
				var api struct{ Info string }
				if json.Unmarshal(msg.Error, &api) == nil && api.Info != "" {
					msg.Message = api.Info
				}
				text = "Error: " + msg.Message
			}
			forms := []struct {
				name, ct string
				body     []byte
				key      string
			}{
				{"recorded", rec.ContentType, rec.Body, tc.key},
				{"text", "text/plain;charset=UTF-8", []byte(text), ""},
			}
			for _, f := range forms {
				t.Run(rel+"/"+tc.file+"/"+f.name, func(t *testing.T) {
					srv := serve(t, rec.Status, f.ct, f.body)
					err := callOp(t, against(srv, cons), tc.op)
					var we *Error
					if !errors.As(err, &we) {
						t.Fatalf("%s = %v; want *Error", tc.op, err)
					}
					if we.Op != tc.op || we.Key != f.key || we.StatusCode != 200 {
						t.Errorf("Error = %+v; want Op %q Key %q", we, tc.op, f.key)
					}
					for _, s := range tc.want {
						if !errors.Is(err, s) {
							t.Errorf("errors.Is(%v, %v) = false", err, s)
						}
					}
					for _, s := range allSentinels {
						want := false
						for _, w := range tc.want {
							want = want || w == s
						}
						if !want && errors.Is(err, s) {
							t.Errorf("errors.Is(%v, %v) = true; want false", err, s)
						}
					}
					if strings.ContainsAny(we.Message, "<>") || utf8.RuneCountInString(we.Message) > 301 || we.Message == "" {
						t.Errorf("Message = %q; want plain text, capped", we.Message)
					}
					for _, secret := range []string{cons.Secret, rtSecret, atSecret, verifierV} {
						if strings.Contains(err.Error(), secret) {
							t.Errorf("error %q contains a secret", err)
						}
					}
					if srv.hits.Load() != 1 {
						t.Errorf("%d requests; want 1", srv.hits.Load())
					}
				})
			}
		}
	}
}

func TestClockSkewOffset(t *testing.T) {
	for _, rel := range transcript.Releases {
		rec := readTranscript(t, rel, "oauth1-25-err-initiate-stale-timestamp.txt")
		srv := serveRecorded(t, rec)
		_, err := against(srv, consumers(t, rel)["oauth1"]).RequestToken(t.Context())
		var cse *ClockSkewError
		if !errors.As(err, &cse) || cse.Offset != 3600*time.Second {
			t.Errorf("%s: err = %v; want *ClockSkewError{Offset: 1h}", rel, err)
		}
	}
}

func TestMessageReducedToText(t *testing.T) {
	rec := readTranscript(t, "1.39", "oauth1-29-err-token-reused-request-token.txt")
	srv := serveRecorded(t, rec)
	err := callOp(t, against(srv, consumers(t, "1.39")["oauth1"]), "token")
	var we *Error
	if !errors.As(err, &we) {
		t.Fatal(err)
	}
	if !strings.Contains(we.Message, "OAuth token already used, E009") || strings.Contains(we.Message, "href") {
		t.Errorf("Message = %q", we.Message)
	}
	// The escaped HTML of a text form is reduced too.
	srv2 := serve(t, 200, "text/plain", []byte("Error: Sorry &lt;span class=&quot;x&quot;&gt;OAuth token not found, &lt;a href=&quot;https://www.mediawiki.org/wiki/Help:OAuth/Errors#E004&quot;&gt;E004&lt;/a&gt;&lt;/span&gt;"))
	err = callOp(t, against(srv2, consumers(t, "1.39")["oauth1"]), "token")
	if !errors.As(err, &we) || !errors.Is(err, ErrRequestTokenNotFound) || strings.ContainsAny(we.Message, "<>") {
		t.Errorf("err = %v", err)
	}
	long := "Error: " + strings.Repeat("x", 5000)
	srv3 := serve(t, 200, "text/plain", []byte(long))
	err = callOp(t, against(srv3, consumers(t, "1.39")["oauth1"]), "initiate")
	if !errors.As(err, &we) || utf8.RuneCountInString(we.Message) > 301 {
		t.Errorf("long message not capped: %d", len(we.Message))
	}
}

// TestAccessTokenPreconditions: no request is sent when the callback token
// does not match or the verifier is missing.
func TestAccessTokenPreconditions(t *testing.T) {
	srv := serve(t, 200, "application/json", []byte(`{"key":"k","secret":"s"}`))
	c := against(srv, consumerCreds{"ck", "cs"})
	rt := &Token{"request-key", "request-secret"}
	cases := []struct {
		name         string
		rt           *Token
		cbTok, verif string
		wantErr      error
	}{
		{"mismatch", rt, "other-key", "v", ErrTokenMismatch},
		{"prefix", rt, "request-ke", "v", ErrTokenMismatch},
		{"empty callback token", rt, "", "v", ErrTokenMismatch},
		{"nil request token", nil, "request-key", "v", ErrTokenMismatch},
		{"empty request token", &Token{}, "", "v", ErrTokenMismatch},
		{"missing verifier", rt, "request-key", "", ErrMissingVerifier},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.AccessToken(t.Context(), tc.rt, tc.cbTok, tc.verif)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("AccessToken = %v; want %v", err, tc.wantErr)
			}
			if strings.Contains(err.Error(), "request-secret") || strings.Contains(err.Error(), "other-key") {
				t.Errorf("error %q leaks input", err)
			}
		})
	}
	if n := srv.hits.Load(); n != 0 {
		t.Errorf("%d requests sent; want 0", n)
	}
	if _, err := c.AccessToken(t.Context(), rt, "request-key", "v"); err != nil {
		t.Fatalf("matching token: %v", err)
	}
	p := authParams(t, srv.last.Load().Header.Get("Authorization"))
	if p["oauth_token"] != "request-key" || p["oauth_verifier"] != "v" {
		t.Errorf("token request header = %v", p)
	}
}

// TestResponseFailures covers SECURITY.md items 24-26 and R1, R3-R5, R8.
func TestResponseFailures(t *testing.T) {
	big := bytes.Repeat([]byte("a"), 5<<20)
	cases := []struct {
		name    string
		status  int
		ct      string
		body    []byte
		op      string
		wantErr error
	}{
		{"503 html", 503, "text/html", []byte("<html><body>Wikimedia Error: our servers are busy</body></html>"), "initiate", ErrWikiUnavailable},
		{"500 empty", 500, "", nil, "token", ErrWikiUnavailable},
		{"200 html login page", 200, "text/html; charset=utf-8", []byte("<!DOCTYPE html><html>Log in</html>"), "initiate", ErrWikiUnavailable},
		{"404 text", 404, "text/plain", []byte("not found"), "identify", ErrWikiUnavailable},
		{"5 MB body", 200, "application/json", big, "initiate", ErrResponseTooLarge},
		{"70 KiB identify", 200, "application/json", bytes.Repeat([]byte("e"), 70<<10), "identify", ErrResponseTooLarge},
		{"identify too large is identity-invalid", 200, "application/json", bytes.Repeat([]byte("e"), 70<<10), "identify", ErrIdentityInvalid},
		{"token only", 200, "text/plain", []byte("oauth_token=abc"), "initiate", ErrMalformedResponse},
		{"json no secret", 200, "application/json", []byte(`{"key":"abc"}`), "token", ErrMalformedResponse},
		{"json secret number", 200, "application/json", []byte(`{"key":"abc","secret":5}`), "token", ErrMalformedResponse},
		{"json trailing", 200, "application/json", []byte(`{"key":"a","secret":"b"}{}`), "token", ErrMalformedResponse},
		{"repeated text key", 200, "text/plain", []byte("oauth_token=a&oauth_token=b&oauth_token_secret=c"), "token", ErrMalformedResponse},
		{"token with space", 200, "application/json", []byte(`{"key":"a b","secret":"c"}`), "token", ErrMalformedResponse},
		{"token too long", 200, "application/json", []byte(`{"key":"` + strings.Repeat("k", 257) + `","secret":"c"}`), "token", ErrMalformedResponse},
		{"empty body", 200, "text/plain", nil, "token", ErrMalformedResponse},
		{"not confirmed json", 200, "application/json", []byte(`{"key":"a","secret":"b"}`), "initiate", ErrCallbackNotConfirmed},
		{"not confirmed text", 200, "text/plain", []byte("oauth_token=a&oauth_token_secret=b"), "initiate", ErrCallbackNotConfirmed},
		{"confirmed false", 200, "text/plain", []byte("oauth_token=a&oauth_token_secret=b&oauth_callback_confirmed=false"), "initiate", ErrCallbackNotConfirmed},
		{"200 html text", 200, "text/html", []byte("Sorry, <b>maintenance</b>"), "token", ErrWikiUnavailable},
		{"200 html empty", 200, "text/html", nil, "token", ErrWikiUnavailable},
		{"identify garbage", 200, "application/json", []byte("not-a-jwt"), "identify", ErrIdentityInvalid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := serve(t, tc.status, tc.ct, tc.body)
			err := callOp(t, against(srv, consumerCreds{"ck", "cs-secret"}), tc.op)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("%s = %v; want %v", tc.op, err, tc.wantErr)
			}
			var he *HTTPError
			if errors.As(err, &he) && len(he.Snippet) > 512 {
				t.Errorf("snippet %d bytes", len(he.Snippet))
			}
			if len(err.Error()) > 1024 {
				t.Errorf("error string %d bytes", len(err.Error()))
			}
		})
	}
	t.Run("confirmed with newline", func(t *testing.T) {
		srv := serve(t, 200, "text/plain", []byte("oauth_token=a&oauth_token_secret=b&oauth_callback_confirmed=true\n"))
		if _, err := callOpValue(t, against(srv, consumerCreds{"ck", "cs"})); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("json labelled html", func(t *testing.T) {
		srv := serve(t, 200, "text/html", []byte(`{"key":"a","secret":"b","oauth_callback_confirmed":"true"}`))
		if _, err := callOpValue(t, against(srv, consumerCreds{"ck", "cs"})); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("snippet scrubbed", func(t *testing.T) {
		srv := serve(t, 502, "text/html", []byte("<p>bad gateway for cs-secret-value and "+atSecret+"</p>"))
		err := callOp(t, against(srv, consumerCreds{"ck", "cs-secret-value"}), "identify")
		var he *HTTPError
		if !errors.As(err, &he) || strings.Contains(err.Error(), "cs-secret-value") || strings.Contains(err.Error(), atSecret) || !strings.Contains(he.Snippet, "bad gateway") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("wiki down", func(t *testing.T) {
		srv := serve(t, 200, "", nil)
		c := against(srv, consumerCreds{"ck", "cs"})
		srv.Close()
		start := time.Now()
		_, err := c.RequestToken(t.Context())
		if !errors.Is(err, ErrWikiUnavailable) || time.Since(start) > 10*time.Second {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		release := make(chan struct{})
		hang := serveFunc(t, func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		})
		defer close(release)
		c := against(hang, consumerCreds{"ck", "cs"})
		c.HTTPClient = &http.Client{Timeout: 200 * time.Millisecond}
		_, err := c.RequestToken(t.Context())
		if !errors.Is(err, ErrWikiUnavailable) {
			t.Errorf("err = %v", err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		defer cancel()
		c.HTTPClient = nil
		if _, err := c.Identify(ctx, &Token{"a", "b"}); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("ctx timeout err = %v", err)
		}
	})
}

func callOpValue(t *testing.T, c *Config) (*Token, error) {
	return c.RequestToken(t.Context())
}

func serveFunc(t *testing.T, h http.HandlerFunc) *replay {
	r := &replay{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.hits.Add(1)
		r.last.Store(req.Clone(req.Context()))
		h(w, req)
	}))
	t.Cleanup(r.Close)
	return r
}

// TestRedirectNotFollowed is SECURITY.md item 26 / R8.
func TestRedirectNotFollowed(t *testing.T) {
	var other atomic.Int32
	target := serveFunc(t, func(w http.ResponseWriter, r *http.Request) { other.Add(1) })
	for _, op := range []string{"initiate", "token", "identify"} {
		for _, code := range []int{301, 302, 307} {
			srv := serveFunc(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Location", target.URL+"/w/index.php?title=Special:OAuth/x&oauth_token=leaky")
				w.WriteHeader(code)
			})
			err := callOp(t, against(srv, consumerCreds{"ck", "cs"}), op)
			var he *HTTPError
			if !errors.Is(err, ErrUnexpectedRedirect) || !errors.As(err, &he) || he.StatusCode != code {
				t.Fatalf("%s %d: err = %v", op, code, err)
			}
			if !strings.Contains(err.Error(), target.URL+"/w/index.php") || strings.Contains(err.Error(), "leaky") {
				t.Errorf("error %q should name the Location without its query", err)
			}
		}
	}
	if n := other.Load(); n != 0 {
		t.Errorf("%d requests reached the redirect target", n)
	}
}

// TestConfigValidation: misconfigurations fail before any request.
func TestConfigValidation(t *testing.T) {
	srv := serve(t, 200, "application/json", []byte(`{"key":"a","secret":"b","oauth_callback_confirmed":"true"}`))
	good := against(srv, consumerCreds{"ck", "cs"})
	cases := []struct {
		name string
		mod  func(*Config)
	}{
		{"no key", func(c *Config) { c.ConsumerKey = "" }},
		{"no secret", func(c *Config) { c.ConsumerSecret = "" }},
		{"no user agent", func(c *Config) { c.UserAgent = "" }},
		{"http not loopback", func(c *Config) { c.Wiki = "http://wiki.example/w" }},
		{"relative wiki", func(c *Config) { c.Wiki = "/w" }},
		{"wiki with query", func(c *Config) { c.Wiki = srv.URL + "/w?x=1" }},
		{"ftp", func(c *Config) { c.Wiki = "ftp://127.0.0.1/w" }},
		{"bad callback", func(c *Config) { c.Callback = "javascript:alert(1)" }},
		{"callback with user", func(c *Config) { c.Callback = "https://u:p@app.example/cb" }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := *good
			tc.mod(&c)
			if _, err := c.RequestToken(t.Context()); !errors.Is(err, ErrInvalidConfig) {
				t.Errorf("RequestToken = %v; want ErrInvalidConfig", err)
			}
		})
	}
	if srv.hits.Load() != 0 {
		t.Errorf("%d requests sent", srv.hits.Load())
	}
	c := *good
	c.Callback = "http://127.0.0.1:5000/oauth-callback?extra=1"
	if _, err := c.RequestToken(t.Context()); err != nil {
		t.Fatal(err)
	}
	if p := authParams(t, srv.last.Load().Header.Get("Authorization")); p["oauth_callback"] != c.Callback {
		t.Errorf("oauth_callback = %q", p["oauth_callback"])
	}
}

func TestAuthorizationURL(t *testing.T) {
	c := &Config{Wiki: "https://meta.wikimedia.org/w/", ConsumerKey: "ck 1", ConsumerSecret: "cs", UserAgent: testUA}
	rt := &Token{Key: "rt&k", Secret: "never-shown"}
	if got, want := c.AuthorizationURL(rt), "https://meta.wikimedia.org/w/index.php?title=Special:OAuth/authorize&oauth_token=rt%26k&oauth_consumer_key=ck+1"; got != want {
		t.Errorf("AuthorizationURL = %q; want %q", got, want)
	}
	c.Authenticate = true
	if got := c.AuthorizationURL(rt); !strings.Contains(got, "title=Special:OAuth/authenticate&") || strings.Contains(got, "never-shown") {
		t.Errorf("AuthorizationURL = %q", got)
	}
	if got := c.AuthorizationURL(nil); got != "" {
		t.Errorf("AuthorizationURL(nil) = %q", got)
	}
}

func TestIssuerDefault(t *testing.T) {
	for wiki, want := range map[string]string{
		"https://meta.wikimedia.org/w":     "https://meta.wikimedia.org",
		"https://Meta.Wikimedia.org:443/w": "https://meta.wikimedia.org",
		"http://127.0.0.1:8080/w":          "http://127.0.0.1:8080",
		"https://wiki.example:8443/":       "https://wiki.example:8443",
		"http://[::1]:8080/w":              "http://[::1]:8080",
	} {
		c := &Config{Wiki: wiki, ConsumerKey: "k", ConsumerSecret: "s", UserAgent: "u"}
		e, err := c.parsed()
		if err != nil {
			t.Fatalf("%s: %v", wiki, err)
		}
		if got := c.issuer(e); got != want {
			t.Errorf("issuer(%q) = %q; want %q", wiki, got, want)
		}
	}
	c := &Config{Wiki: "https://fr.wikipedia.org/w", Issuer: "https://meta.wikimedia.org", ConsumerKey: "k", ConsumerSecret: "s", UserAgent: "u"}
	if got := c.issuer(mustParsed(t, c)); got != "https://meta.wikimedia.org" {
		t.Errorf("override issuer = %q", got)
	}
}
