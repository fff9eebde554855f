// Package jwths verifies the HS256 JSON Web Token that MediaWiki's
// Special:OAuth/identify returns (RFC 7519, RFC 7515 §3.1 compact form).
//
// It does one thing, fail closed: the algorithm is pinned to HS256, the MAC
// is checked (with the consumer secret's raw bytes as key) before any claim
// is trusted, and iss, aud, iat, exp, nonce and sub are all required and
// checked. Only the standard library is used.
package jwths

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// MaxTokenSize is the largest token Verify looks at (64 KiB). MediaWiki's
// identify JWTs are a few kilobytes.
const MaxTokenSize = 64 << 10

// MaxLeeway caps the clock leeway a caller may ask for.
const MaxLeeway = 300 * time.Second

// DefaultLeeway is used when Options.Leeway is zero or negative.
const DefaultLeeway = 60 * time.Second

// Reasons a token is rejected; they are the values of Error.Reason.
const (
	ReasonTooLarge  = "too-large" // longer than MaxTokenSize
	ReasonMalformed = "malformed" // not three base64url segments of JSON objects
	ReasonAlg       = "alg"       // alg is not exactly "HS256"
	ReasonCrit      = "crit"      // a crit header is present
	ReasonSignature = "signature" // the MAC does not match
	ReasonIss       = "iss"       // missing or not the expected issuer
	ReasonAud       = "aud"       // missing or not containing the consumer key
	ReasonExp       = "exp"       // missing, not a number, or expired
	ReasonIat       = "iat"       // missing, not a number, or in the future
	ReasonNonce     = "nonce"     // missing or not this request's nonce
	ReasonSub       = "sub"       // missing, empty, "0" or not a decimal id
	ReasonConfig    = "config"    // the verifier options are unusable
)

// ErrInvalid is matched (errors.Is) by every *Error.
var ErrInvalid = errors.New("jwths: invalid token")

// ErrClockSkew is matched by an *Error whose iat lies in the future beyond
// the leeway: the local clock is probably behind the wiki's.
var ErrClockSkew = errors.New("jwths: clock skew")

// Error tells why a token was rejected. It never holds the token or the key.
type Error struct {
	Reason string        // one of the Reason* constants
	Detail string        // a short human explanation without secret material
	Skew   time.Duration // for ReasonIat: how far iat is ahead of the local clock
}

// Error returns "jwths: invalid token: <reason>[: <detail>]".
func (e *Error) Error() string {
	if e.Detail == "" {
		return "jwths: invalid token: " + e.Reason
	}
	return "jwths: invalid token: " + e.Reason + ": " + e.Detail
}

// Is reports whether target is ErrInvalid, or ErrClockSkew for a future iat.
func (e *Error) Is(target error) bool {
	return target == ErrInvalid || (target == ErrClockSkew && e.Reason == ReasonIat && e.Skew > 0)
}

func fail(reason, format string, args ...any) *Error {
	return &Error{Reason: reason, Detail: fmt.Sprintf(format, args...)}
}

// Options says what a valid token must contain.
type Options struct {
	Key      []byte        // HMAC key: the consumer secret's raw bytes
	Issuer   string        // exact expected iss
	Audience string        // the consumer key: aud must be it or an array holding it
	Nonce    string        // the oauth_nonce of the identify request
	Now      time.Time     // the time to check iat and exp against; zero => time.Now()
	Leeway   time.Duration // allowed clock difference; <= 0 => DefaultLeeway, capped at MaxLeeway
}

// Claims are the checked claims of a verified token.
type Claims struct {
	Issuer   string
	Audience []string
	Subject  string // decimal string, from a JSON string or number
	IssuedAt time.Time
	Expiry   time.Time
	Nonce    string
	// Raw holds every claim of the payload (checked ones too), as sent.
	Raw map[string]json.RawMessage
}

var b64 = base64.RawURLEncoding.Strict()

// Verify checks token and returns its claims, or an *Error. The size cap and
// structure are checked first, then the header (alg, crit), then the MAC, and
// only then the claims, so a forged token is always reported as "signature".
func Verify(token string, o Options) (*Claims, error) {
	if len(token) > MaxTokenSize {
		return nil, fail(ReasonTooLarge, "%d bytes", len(token))
	}
	if len(o.Key) == 0 || o.Issuer == "" || o.Audience == "" || o.Nonce == "" {
		return nil, fail(ReasonConfig, "key, issuer, audience and nonce are required")
	}
	h64, rest, ok1 := strings.Cut(token, ".")
	p64, s64, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || strings.Contains(s64, ".") || h64 == "" || p64 == "" || s64 == "" {
		return nil, fail(ReasonMalformed, "want three non-empty segments")
	}
	hb, err := b64.DecodeString(h64)
	if err != nil {
		return nil, fail(ReasonMalformed, "header is not base64url")
	}
	pb, err := b64.DecodeString(p64)
	if err != nil {
		return nil, fail(ReasonMalformed, "payload is not base64url")
	}
	sig, err := b64.DecodeString(s64)
	if err != nil {
		return nil, fail(ReasonMalformed, "signature is not base64url")
	}
	header, err := object(hb)
	if err != nil {
		return nil, fail(ReasonMalformed, "header: %v", err)
	}
	var alg string
	if raw, ok := header["alg"]; !ok || json.Unmarshal(raw, &alg) != nil || alg != "HS256" {
		return nil, fail(ReasonAlg, "want HS256")
	}
	if _, ok := header["crit"]; ok {
		return nil, fail(ReasonCrit, "crit header not supported")
	}
	mac := hmac.New(sha256.New, o.Key)
	mac.Write([]byte(token[:len(h64)+1+len(p64)]))
	if !hmac.Equal(mac.Sum(nil), sig) {
		return nil, fail(ReasonSignature, "MAC mismatch")
	}
	claims, err := object(pb)
	if err != nil {
		return nil, fail(ReasonMalformed, "payload: %v", err)
	}
	return check(claims, o)
}

func check(raw map[string]json.RawMessage, o Options) (*Claims, error) {
	c := &Claims{Raw: raw}
	if !str(raw["iss"], &c.Issuer) || c.Issuer != o.Issuer {
		return nil, fail(ReasonIss, "issuer mismatch")
	}
	c.Audience = audience(raw["aud"])
	found := false
	for _, a := range c.Audience {
		if a == o.Audience {
			found = true
		}
	}
	if !found {
		return nil, fail(ReasonAud, "consumer key not in aud")
	}
	now := o.Now
	if now.IsZero() {
		now = time.Now()
	}
	leeway := o.Leeway
	if leeway <= 0 {
		leeway = DefaultLeeway
	}
	leeway = min(leeway, MaxLeeway)
	exp, ok := numericDate(raw["exp"])
	if !ok {
		return nil, fail(ReasonExp, "missing or not a number")
	}
	iat, ok := numericDate(raw["iat"])
	if !ok {
		return nil, fail(ReasonIat, "missing or not a number")
	}
	c.Expiry, c.IssuedAt = exp, iat
	if now.After(exp.Add(leeway)) {
		return nil, fail(ReasonExp, "expired %s ago", now.Sub(exp).Truncate(time.Second))
	}
	if iat.After(now.Add(leeway)) {
		e := fail(ReasonIat, "issued %s in the future", iat.Sub(now).Truncate(time.Second))
		e.Skew = iat.Sub(now)
		return nil, e
	}
	if !str(raw["nonce"], &c.Nonce) || subtle.ConstantTimeCompare([]byte(c.Nonce), []byte(o.Nonce)) != 1 {
		return nil, fail(ReasonNonce, "nonce mismatch")
	}
	sub, ok := subject(raw["sub"])
	if !ok {
		return nil, fail(ReasonSub, "missing, empty, zero or not a decimal id")
	}
	c.Subject = sub
	return c, nil
}

// object decodes b as exactly one JSON object (no trailing data).
func object(b []byte) (map[string]json.RawMessage, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' {
		return nil, errors.New("not a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	var m map[string]json.RawMessage
	if err := dec.Decode(&m); err != nil {
		return nil, errors.New("not a JSON object")
	}
	if dec.More() {
		return nil, errors.New("trailing data")
	}
	if _, err := dec.Token(); err == nil {
		return nil, errors.New("trailing data")
	}
	return m, nil
}

func str(raw json.RawMessage, dst *string) bool {
	if len(raw) == 0 || raw[0] != '"' {
		return false
	}
	return json.Unmarshal(raw, dst) == nil
}

func audience(raw json.RawMessage) []string {
	var one string
	if str(raw, &one) {
		return []string{one}
	}
	var many []string
	if len(raw) > 0 && raw[0] == '[' && json.Unmarshal(raw, &many) == nil {
		return many
	}
	return nil
}

// numericDate reads a JSON number of seconds since the epoch (RFC 7519 §2);
// fractions are allowed, strings are not.
func numericDate(raw json.RawMessage) (time.Time, bool) {
	if len(raw) == 0 || !(raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9') {
		return time.Time{}, false
	}
	if n, err := strconv.ParseInt(string(raw), 10, 64); err == nil {
		if n < 0 || n > 1<<40 {
			return time.Time{}, false
		}
		return time.Unix(n, 0), true
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil || math.IsNaN(f) || f < 0 || f > 1<<40 {
		return time.Time{}, false
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)), true
}

// subject accepts a decimal string or a non-negative JSON integer and returns
// its decimal form; "", "0" and anything else are refused.
func subject(raw json.RawMessage) (string, bool) {
	var s string
	switch {
	case len(raw) == 0:
		return "", false
	case raw[0] == '"':
		if json.Unmarshal(raw, &s) != nil {
			return "", false
		}
	case raw[0] >= '0' && raw[0] <= '9':
		s = string(raw)
	default:
		return "", false
	}
	if s == "" || len(s) > 20 {
		return "", false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return "", false
		}
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n == 0 {
		return "", false
	}
	return strconv.FormatUint(n, 10), true
}
