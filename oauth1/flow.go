package oauth1

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Read limits for responses.
const (
	maxResponse         = 1 << 20  // initiate and token
	maxIdentifyResponse = 64 << 10 // identify
	maxTokenLen         = 256
	maxSnippet          = 512
)

// RequestToken performs Special:OAuth/initiate: a GET signed with the
// consumer alone, oauth_callback in the Authorization header only (never
// also in the query, which MediaWiki would count once), format=json. It
// requires oauth_callback_confirmed=true. Errors the wiki reports are
// *Error values (errors.Is: ErrConsumerRejected, ErrInvalidSignature,
// ErrCallbackNotAllowed, ErrOwnerOnly, ErrClockSkew, ErrNonceReused…).
// With Config.Retry, a 5xx or a failed connection is tried once more.
func (c *Config) RequestToken(ctx context.Context) (*Token, error) {
	e, err := c.parsed()
	if err != nil {
		return nil, err
	}
	cb, err := c.callback()
	if err != nil {
		return nil, err
	}
	const op = "initiate"
	secrets := []string{c.ConsumerSecret}
	body, _, err := c.retrying(ctx, func() ([]byte, string, error) {
		return c.roundTrip(ctx, op, e.specialURL(op, Param{"format", "json"}), nil,
			[]Param{{"oauth_callback", cb}}, maxResponse, secrets)
	})
	if err != nil {
		return nil, err
	}
	tok, confirmed, err := parseTokenResponse(body)
	if err != nil {
		return nil, withOp(op, err)
	}
	if !confirmed {
		return nil, withOp(op, ErrCallbackNotConfirmed)
	}
	return tok, nil
}

// AccessToken performs Special:OAuth/token: it exchanges the request token
// rt and the callback's oauth_verifier for an access token. callbackToken is
// the oauth_token the callback carried: it must equal rt.Key (compared in
// constant time, ErrTokenMismatch) and verifier must be non-empty
// (ErrMissingVerifier); both are checked before any request is sent. The
// exchange is single-use on the wiki's side: it is never retried, whatever
// Config.Retry says, and callers should not retry it blindly either.
func (c *Config) AccessToken(ctx context.Context, rt *Token, callbackToken, verifier string) (*Token, error) {
	const op = "token"
	if rt == nil || rt.Key == "" ||
		subtle.ConstantTimeCompare([]byte(callbackToken), []byte(rt.Key)) != 1 {
		return nil, withOp(op, ErrTokenMismatch)
	}
	if verifier == "" {
		return nil, withOp(op, ErrMissingVerifier)
	}
	e, err := c.parsed()
	if err != nil {
		return nil, err
	}
	secrets := []string{c.ConsumerSecret, rt.Key, rt.Secret, verifier}
	body, _, err := c.roundTrip(ctx, op, e.specialURL(op, Param{"format", "json"}), rt,
		[]Param{{"oauth_verifier", verifier}}, maxResponse, secrets)
	if err != nil {
		return nil, err
	}
	tok, _, err := parseTokenResponse(body)
	if err != nil {
		return nil, withOp(op, err)
	}
	return tok, nil
}

// Identify performs Special:OAuth/identify with the access token at and
// verifies the returned JWT fully (HS256 with the consumer secret; iss, aud,
// iat, exp with Leeway, this request's own nonce, sub). It needs
// ConsumerSecret even with RSASHA1: MediaWiki signs the JWT with the
// consumer's secret whatever the signature method. With Config.Retry, a
// 5xx or a failed connection is tried once more (with a new nonce). A refused JWT is an
// *IdentityError (ErrIdentityInvalid); a wiki error is an *Error (e.g.
// ErrAccessTokenNotFound for a bad or revoked token).
func (c *Config) Identify(ctx context.Context, at *Token) (*Identity, error) {
	const op = "identify"
	if at == nil {
		return nil, withOp(op, ErrAccessTokenNotFound)
	}
	e, err := c.parsed()
	if err != nil {
		return nil, err
	}
	if c.ConsumerSecret == "" {
		// RSA-SHA1 consumers too: MediaWiki signs the JWT (HS256) with the
		// consumer secret it issued at registration.
		return nil, fmt.Errorf("%w: Identify needs ConsumerSecret, the key of the identify JWT (also for RSA-SHA1 consumers)", ErrInvalidConfig)
	}
	secrets := []string{c.ConsumerSecret, at.Key, at.Secret}
	body, nonce, err := c.retrying(ctx, func() ([]byte, string, error) {
		return c.roundTrip(ctx, op, e.specialURL(op, Param{"format", "json"}), at, nil,
			maxIdentifyResponse, secrets)
	})
	if errors.Is(err, ErrResponseTooLarge) {
		return nil, &IdentityError{Reason: "too-large", Err: err}
	}
	if err != nil {
		return nil, err
	}
	return c.verifyIdentity(string(bytes.TrimSpace(body)), nonce, e)
}

// defaultRetryWait is the base wait before a retry.
const defaultRetryWait = 150 * time.Millisecond

// retrying runs an idempotent round trip, and with Config.Retry runs it
// once more after a jittered wait when the first attempt failed in a way
// another attempt may not (see retryable).
func (c *Config) retrying(ctx context.Context, attempt func() ([]byte, string, error)) ([]byte, string, error) {
	body, nonce, err := attempt()
	if err == nil || !c.Retry || !retryable(ctx, err) {
		return body, nonce, err
	}
	base := c.RetryWait
	if base <= 0 {
		base = defaultRetryWait
	}
	wait := base + rand.N(base+1)
	t := time.NewTimer(wait)
	select {
	case <-t.C:
	case <-ctx.Done():
		t.Stop()
		return nil, "", err
	}
	return attempt()
}

// retryable reports a failure worth one more attempt: a 5xx answer, or no
// (complete) answer at all, except a timeout or the caller's context
// ending.
func retryable(ctx context.Context, err error) bool {
	if ctx.Err() != nil || !errors.Is(err, ErrWikiUnavailable) {
		return false
	}
	var he *HTTPError
	if errors.As(err, &he) {
		return he.StatusCode >= 500
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return false
	}
	return !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled)
}

// roundTrip signs and sends one GET to a Special:OAuth endpoint and returns
// the body of a 200 answer that is not a wiki error, and the nonce it used.
func (c *Config) roundTrip(ctx context.Context, op, rawURL string, tok *Token, extra []Param, limit int64, secrets []string) ([]byte, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, "", withOp(op, err)
	}
	req.Header.Set("User-Agent", c.UserAgent)
	req.Header.Set("Accept", "application/json, text/plain;q=0.9")
	nonce, err := c.sign(req, tok, extra)
	if err != nil {
		return nil, "", withOp(op, err)
	}
	resp, err := c.noRedirectClient().Do(req)
	if err != nil {
		return nil, "", withOp(op, fmt.Errorf("%w: %w", ErrWikiUnavailable, err))
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		return nil, "", &HTTPError{Op: op, StatusCode: resp.StatusCode, Location: location(resp), kind: ErrUnexpectedRedirect}
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, "", withOp(op, fmt.Errorf("%w: reading response: %w", ErrWikiUnavailable, err))
	}
	if int64(len(body)) > limit {
		return nil, "", withOp(op, fmt.Errorf("%w (over %d bytes)", ErrResponseTooLarge, limit))
	}
	if resp.StatusCode >= 500 {
		return nil, "", c.unavailable(op, resp, body, secrets)
	}
	if werr := parseWikiError(op, body, resp.StatusCode, secrets); werr != nil {
		return nil, "", werr
	}
	if resp.StatusCode != http.StatusOK || looksHTML(resp.Header.Get("Content-Type"), body) {
		return nil, "", c.unavailable(op, resp, body, secrets)
	}
	return body, nonce, nil
}

func (c *Config) unavailable(op string, resp *http.Response, body []byte, secrets []string) error {
	return &HTTPError{Op: op, StatusCode: resp.StatusCode, Snippet: snippet(body, secrets), kind: ErrWikiUnavailable}
}

// location returns the redirect target without its query and fragment,
// which may carry tokens.
func location(resp *http.Response) string {
	loc := resp.Header.Get("Location")
	u, err := url.Parse(loc)
	if err != nil {
		return "(unparseable)"
	}
	if u.RawQuery != "" {
		u.RawQuery = "…"
	}
	u.Fragment, u.RawFragment, u.User = "", "", nil
	return u.String()
}

// snippet returns at most 512 bytes of body as text, secrets scrubbed.
func snippet(body []byte, secrets []string) string {
	s := body
	if len(s) > 4*maxSnippet {
		s = s[:4*maxSnippet]
	}
	t := scrub(textOf(string(s), maxSnippet), secrets)
	for len(t) > maxSnippet {
		r := []rune(t)
		t = string(r[:len(r)-1])
	}
	return t
}

// looksHTML reports an HTML page: a body that starts with "<", or one
// labelled HTML that holds markup early on (a token answer or a JWT
// mislabelled text/html, as some releases do elsewhere, is not refused).
func looksHTML(contentType string, body []byte) bool {
	t := bytes.TrimSpace(body)
	if bytes.HasPrefix(t, []byte("<")) {
		return true
	}
	mt, _, _ := strings.Cut(contentType, ";")
	mt = strings.ToLower(strings.TrimSpace(mt))
	head := t[:min(len(t), 1024)]
	return (mt == "text/html" || mt == "application/xhtml+xml") && (len(t) == 0 || bytes.ContainsRune(head, '<'))
}

// parseWikiError recognizes MediaWiki's error answers: JSON
// {"error":KEY,"message":TEXT} (or the API form {"error":{"code","info"}})
// and text "Error: TEXT". It returns nil for anything else.
func parseWikiError(op string, body []byte, status int, secrets []string) *Error {
	t := bytes.TrimSpace(body)
	if rest, ok := bytes.CutPrefix(t, []byte("Error:")); ok {
		return newWikiError(op, "", string(rest), status, secrets)
	}
	if len(t) == 0 || t[0] != '{' {
		return nil
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(t, &m) != nil {
		return nil
	}
	raw, ok := m["error"]
	if !ok {
		return nil
	}
	var key, msg string
	if json.Unmarshal(raw, &key) == nil {
		_ = json.Unmarshal(m["message"], &msg)
		return newWikiError(op, key, msg, status, secrets)
	}
	var api struct{ Code, Info string }
	if json.Unmarshal(raw, &api) == nil && api.Code != "" {
		return newWikiError(op, api.Code, api.Info, status, secrets)
	}
	return newWikiError(op, "", "", status, secrets)
}

// parseTokenResponse parses an initiate or token answer strictly: JSON
// {"key","secret"[,"oauth_callback_confirmed"]} or the text form
// oauth_token=…&oauth_token_secret=…[&oauth_callback_confirmed=true]. It
// reports whether the callback was confirmed. Wiki errors are not handled
// here (see parseWikiError).
func parseTokenResponse(body []byte) (tok *Token, confirmed bool, err error) {
	t := bytes.TrimSpace(body)
	var key, secret, conf string
	if len(t) > 0 && t[0] == '{' {
		dec := json.NewDecoder(bytes.NewReader(t))
		var m map[string]json.RawMessage
		if err := dec.Decode(&m); err != nil || m == nil {
			return nil, false, fmt.Errorf("%w: invalid JSON", ErrMalformedResponse)
		}
		if _, err := dec.Token(); err != io.EOF {
			return nil, false, fmt.Errorf("%w: trailing data after JSON", ErrMalformedResponse)
		}
		if json.Unmarshal(m["key"], &key) != nil || json.Unmarshal(m["secret"], &secret) != nil {
			return nil, false, fmt.Errorf("%w: key and secret must be strings", ErrMalformedResponse)
		}
		if raw, ok := m["oauth_callback_confirmed"]; ok {
			var b bool
			if json.Unmarshal(raw, &conf) != nil {
				if json.Unmarshal(raw, &b) != nil {
					return nil, false, fmt.Errorf("%w: oauth_callback_confirmed", ErrMalformedResponse)
				}
				if b {
					conf = "true"
				}
			}
		}
	} else {
		params, err := parseForm(string(t))
		if err != nil {
			return nil, false, fmt.Errorf("%w: %v", ErrMalformedResponse, err)
		}
		seen := map[string]bool{}
		for _, p := range params {
			if seen[p.Key] {
				return nil, false, fmt.Errorf("%w: repeated %q", ErrMalformedResponse, p.Key)
			}
			seen[p.Key] = true
			switch p.Key {
			case "oauth_token":
				key = p.Value
			case "oauth_token_secret":
				secret = p.Value
			case "oauth_callback_confirmed":
				conf = p.Value
			}
		}
	}
	if !validToken(key) || !validToken(secret) {
		return nil, false, fmt.Errorf("%w: token and secret must be 1-%d printable ASCII bytes", ErrMalformedResponse, maxTokenLen)
	}
	return &Token{Key: key, Secret: secret}, strings.TrimSpace(conf) == "true", nil
}

func validToken(s string) bool {
	if s == "" || len(s) > maxTokenLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// opError adds the operation to an error: "oauth1: <op>: <rest>".
type opError struct {
	op  string
	err error
}

func (e *opError) Error() string {
	msg := e.err.Error()
	if rest, ok := strings.CutPrefix(msg, "oauth1: "); ok {
		return "oauth1: " + e.op + ": " + rest
	}
	return "oauth1: " + e.op + ": " + msg
}

func (e *opError) Unwrap() error { return e.err }

func withOp(op string, err error) error { return &opError{op, err} }
