package oauth1

import (
	"errors"
	"fmt"
	"html"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Sentinel errors. Callers branch on them with errors.Is; the wiki's own
// reports arrive as *Error values that match the sentinel for their key.
var (
	// ErrConsumerRejected: the wiki does not accept the consumer: unknown
	// key ("Invalid consumer"), no or broken OAuth parameters ("Invalid
	// consumer key"), or a consumer-only signature that fails at initiate,
	// which means the consumer secret is wrong (such an error matches
	// ErrInvalidSignature too).
	ErrConsumerRejected = errors.New("oauth1: consumer rejected")
	// ErrInvalidSignature: the wiki computed another signature ("Invalid
	// signature"): a wrong secret, or a request whose parameters the wiki
	// reads differently.
	ErrInvalidSignature = errors.New("oauth1: invalid signature")
	// ErrCallbackNotAllowed: the callback is neither "oob" nor under the
	// registered prefix (mwoauth-callback-not-oob-or-prefix,
	// mwoauth-callback-not-oob).
	ErrCallbackNotAllowed = errors.New("oauth1: callback not allowed")
	// ErrRequestTokenUsed: the request token was already exchanged (E009).
	ErrRequestTokenUsed = errors.New("oauth1: request token already used")
	// ErrRequestTokenNotFound: the request token is unknown or expired (E004).
	ErrRequestTokenNotFound = errors.New("oauth1: request token not found")
	// ErrBadVerifier: the wiki refused the verifier; the request token
	// stays usable.
	ErrBadVerifier = errors.New("oauth1: bad verifier")
	// ErrBadToken: the token step found no token, as after the user
	// cancelled the authorization (mwoauthdatastore-bad-token).
	ErrBadToken = errors.New("oauth1: bad token")
	// ErrClockSkew: the local clock and the wiki's disagree by more than the
	// wiki allows (300 s), or an identify JWT is issued in the future.
	// A *ClockSkewError carries the offset.
	ErrClockSkew = errors.New("oauth1: clock skew")
	// ErrNonceReused: the wiki saw this nonce already.
	ErrNonceReused = errors.New("oauth1: nonce already used")
	// ErrAccessTokenNotFound: the access token is unknown or revoked.
	ErrAccessTokenNotFound = errors.New("oauth1: access token not found or revoked")
	// ErrOwnerOnly: the consumer is owner-only and has no handshake (E010):
	// sign API calls with the access token shown at its registration
	// (Config.Client with that Token, or mwoauth.OwnerOnlyOAuth1).
	ErrOwnerOnly = errors.New("oauth1: consumer is owner-only")
	// ErrUnexpectedRedirect: a signed request was answered with a redirect,
	// which is never followed.
	ErrUnexpectedRedirect = errors.New("oauth1: unexpected redirect")
	// ErrTokenMismatch: the callback's oauth_token is not the request token.
	ErrTokenMismatch = errors.New("oauth1: callback token does not match the request token")
	// ErrMissingVerifier: the callback carried no oauth_verifier.
	ErrMissingVerifier = errors.New("oauth1: missing verifier")
	// ErrDuplicateParam: a request repeats a parameter name (in the query,
	// the form body, both, or against an oauth_* protocol parameter), which
	// MediaWiki would merge, so that the signature could not match.
	ErrDuplicateParam = errors.New("oauth1: duplicate parameter")
	// ErrMalformedResponse: a response that is not a valid token answer.
	ErrMalformedResponse = errors.New("oauth1: malformed response")
	// ErrResponseTooLarge: a response longer than the read limit.
	ErrResponseTooLarge = errors.New("oauth1: response too large")
	// ErrCallbackNotConfirmed: initiate did not confirm the callback
	// (oauth_callback_confirmed=true, RFC 5849 §2.1).
	ErrCallbackNotConfirmed = errors.New("oauth1: callback not confirmed")
	// ErrIdentityInvalid: the identify JWT failed verification; the error
	// is an *IdentityError with the reason.
	ErrIdentityInvalid = errors.New("oauth1: identity invalid")
	// ErrWikiUnavailable: the wiki could not be reached, or answered with a
	// server error or an HTML page.
	ErrWikiUnavailable = errors.New("oauth1: wiki unavailable")
	// ErrInvalidConfig: the Config cannot be used (missing consumer key or
	// secret or User-Agent, unusable Wiki or Callback URL).
	ErrInvalidConfig = errors.New("oauth1: invalid config")
)

// maxMessage caps Error.Message, in runes.
const maxMessage = 300

// Error is an error the wiki reported, usually with HTTP 200: JSON
// {"error":KEY,"message":TEXT} (format=json) or text/plain "Error: TEXT".
// errors.Is maps it to the sentinel for its key or message.
type Error struct {
	Op         string // "initiate", "token" or "identify"
	Key        string // MediaWiki's error key; "" for the text form, which has none
	Message    string // the message with HTML reduced to text, capped at 300 characters
	StatusCode int    // the HTTP status (200 for MediaWiki's usual error answers)

	kinds []error         // sentinels this error matches
	skew  *ClockSkewError // set for "Expired timestamp"
}

// Error returns "oauth1: <op>: wiki error <key>: <message>".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("oauth1: ")
	if e.Op != "" {
		b.WriteString(e.Op)
		b.WriteString(": ")
	}
	b.WriteString("wiki error")
	if e.Key != "" {
		b.WriteString(" ")
		b.WriteString(e.Key)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	return b.String()
}

// Is reports whether target is a sentinel this error maps to.
func (e *Error) Is(target error) bool {
	for _, k := range e.kinds {
		if k == target {
			return true
		}
	}
	return false
}

// Unwrap returns the *ClockSkewError of an "Expired timestamp" error, so that
// errors.As finds it; otherwise nil.
func (e *Error) Unwrap() error {
	if e.skew != nil {
		return e.skew
	}
	return nil
}

// ClockSkewError says how far the wiki's clock is from ours. It matches
// ErrClockSkew.
type ClockSkewError struct {
	// Offset is the wiki's time minus ours: positive when our clock is behind.
	Offset time.Duration
}

// Error describes the offset.
func (e *ClockSkewError) Error() string {
	return fmt.Sprintf("oauth1: clock skew: the wiki's clock is %s from ours (check NTP)", e.Offset)
}

// Is reports whether target is ErrClockSkew.
func (e *ClockSkewError) Is(target error) bool { return target == ErrClockSkew }

// IdentityError tells why an identify JWT was refused. It matches
// ErrIdentityInvalid, and ErrClockSkew when the JWT was issued in the future.
type IdentityError struct {
	// Reason is "too-large", "malformed", "alg", "crit", "signature", "iss",
	// "aud", "exp", "iat", "nonce", "sub", "claims" (a known claim of the
	// wrong type) or "config".
	Reason string
	Err    error // the underlying cause, if any
}

// Error returns the reason and the cause.
func (e *IdentityError) Error() string {
	if e.Err != nil {
		return "oauth1: identify: invalid identity (" + e.Reason + "): " + e.Err.Error()
	}
	return "oauth1: identify: invalid identity (" + e.Reason + ")"
}

// Is reports whether target is ErrIdentityInvalid.
func (e *IdentityError) Is(target error) bool { return target == ErrIdentityInvalid }

// Unwrap returns the cause.
func (e *IdentityError) Unwrap() error { return e.Err }

// HTTPError is a failure of the transport or of the wiki's server that is not
// a MediaWiki error report: a 3xx, a 5xx, a non-200 answer or an HTML page.
// It matches ErrUnexpectedRedirect or ErrWikiUnavailable.
type HTTPError struct {
	Op         string
	StatusCode int
	Location   string // for redirects: the Location, without its query
	Snippet    string // up to 512 bytes of the body, text only, secrets scrubbed
	kind       error
}

// Error names the status and the Location or a short snippet.
func (e *HTTPError) Error() string {
	var b strings.Builder
	b.WriteString("oauth1: ")
	b.WriteString(e.Op)
	b.WriteString(": ")
	if e.kind == ErrUnexpectedRedirect {
		fmt.Fprintf(&b, "unexpected redirect (HTTP %d) to %q, not followed", e.StatusCode, e.Location)
	} else {
		fmt.Fprintf(&b, "wiki unavailable (HTTP %d)", e.StatusCode)
		if e.Snippet != "" {
			fmt.Fprintf(&b, ": %q", e.Snippet)
		}
	}
	return b.String()
}

// Is reports whether target is the sentinel of this failure.
func (e *HTTPError) Is(target error) bool { return target == e.kind }

var (
	reTags     = regexp.MustCompile(`<[^>]*>`)
	reSpace    = regexp.MustCompile(`\s+`)
	reExpired  = regexp.MustCompile(`Expired timestamp, yours (\d+), ours (\d+)`)
	reErrorKey = regexp.MustCompile(`^[a-z0-9-]{1,100}$`)
)

// textOf reduces HTML to plain text: entities decoded (twice, for the
// escaped text form), tags removed, whitespace collapsed, control
// characters dropped, capped at max runes.
func textOf(s string, max int) string {
	s = html.UnescapeString(s)
	s = reTags.ReplaceAllString(s, " ")
	s = html.UnescapeString(s)
	s = reTags.ReplaceAllString(s, " ")
	s = strings.Map(func(r rune) rune {
		if r == utf8.RuneError || unicode.IsControl(r) && !unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
	s = strings.TrimSpace(reSpace.ReplaceAllString(s, " "))
	if utf8.RuneCountInString(s) > max {
		r := []rune(s)
		s = string(r[:max]) + "…"
	}
	return s
}

// scrub replaces every secret (token keys, secrets, verifiers) in s.
func scrub(s string, secrets []string) string {
	for _, sec := range secrets {
		if len(sec) >= 4 {
			s = strings.ReplaceAll(s, sec, "[REDACTED]")
		}
	}
	return s
}

// newWikiError builds the *Error for a key (may be "") and raw message.
func newWikiError(op, key, rawMessage string, status int, secrets []string) *Error {
	if !reErrorKey.MatchString(key) {
		key = ""
	}
	e := &Error{Op: op, Key: key, StatusCode: status}
	// Classify on the raw text (the E00x codes live in its HTML).
	plain := textOf(rawMessage, 4096)
	e.Message = scrub(textOf(rawMessage, maxMessage), secrets)
	switch key {
	case "mwoauth-callback-not-oob-or-prefix", "mwoauth-callback-not-oob":
		e.kinds = []error{ErrCallbackNotAllowed}
	case "mwoauthdatastore-request-token-already-used":
		e.kinds = []error{ErrRequestTokenUsed}
	case "mwoauthdatastore-request-token-not-found":
		e.kinds = []error{ErrRequestTokenNotFound}
	case "mwoauthdatastore-bad-verifier":
		e.kinds = []error{ErrBadVerifier}
	case "mwoauthdatastore-bad-token":
		e.kinds = []error{ErrBadToken}
	case "mwoauthserver-consumer-owner-only":
		e.kinds = []error{ErrOwnerOnly}
	case "mwoauthdatastore-access-token-not-found":
		e.kinds = []error{ErrAccessTokenNotFound}
	case "mwoauth-oauth-exception", "mwoauth-invalid-authorization", "":
		e.classifyMessage(plain)
	}
	return e
}

// classifyMessage maps the English protocol messages (and, for the text
// form, the messages of the keyed errors) to sentinels.
func (e *Error) classifyMessage(m string) {
	switch {
	case strings.HasSuffix(m, "Invalid signature"):
		e.kinds = []error{ErrInvalidSignature}
		if e.Op == "initiate" {
			// Signed with the consumer secret alone: that secret is wrong.
			e.kinds = append(e.kinds, ErrConsumerRejected)
		}
	case strings.HasSuffix(m, "Invalid consumer key"), strings.HasSuffix(m, "Invalid consumer"):
		e.kinds = []error{ErrConsumerRejected}
	case strings.Contains(m, "Nonce already used"):
		e.kinds = []error{ErrNonceReused}
	case strings.Contains(m, "Expired timestamp"):
		e.kinds = []error{ErrClockSkew}
		if sm := reExpired.FindStringSubmatch(m); sm != nil {
			yours, err1 := strconv.ParseInt(sm[1], 10, 64)
			ours, err2 := strconv.ParseInt(sm[2], 10, 64)
			if err1 == nil && err2 == nil && absInt(ours-yours) < 1<<32 {
				e.skew = &ClockSkewError{Offset: time.Duration(ours-yours) * time.Second}
			}
		}
	case strings.Contains(m, "oauth_callback must be set"):
		e.kinds = []error{ErrCallbackNotAllowed}
	case strings.Contains(m, "E009"), strings.Contains(m, "OAuth token already used"):
		e.kinds = []error{ErrRequestTokenUsed}
	case strings.Contains(m, "E004"), strings.Contains(m, "OAuth token not found"):
		e.kinds = []error{ErrRequestTokenNotFound}
	case strings.Contains(m, "E010"), strings.Contains(m, "is an owner-only"):
		e.kinds = []error{ErrOwnerOnly}
	case strings.Contains(m, "verification code provided was not valid"):
		e.kinds = []error{ErrBadVerifier}
	case strings.Contains(m, "No token was found matching your request"):
		e.kinds = []error{ErrBadToken}
	case strings.Contains(m, "No approved grant was found"):
		e.kinds = []error{ErrAccessTokenNotFound}
	}
}

func absInt(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}
