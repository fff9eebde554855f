package mwapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Sentinel errors. Every error the Client returns for one of these states
// matches it with [errors.Is]; the *APIError or *HTTPError behind it is
// available with [errors.As].
var (
	// ErrNotLoggedIn: the wiki no longer sees the request as coming from
	// the user (assert=user failed: "assertuserfailed", or
	// "assertnameduserfailed" with WithAssertUsername). The session's
	// credentials no longer work.
	ErrNotLoggedIn = errors.New("mwapi: not logged in")

	// ErrTokenRevoked: the wiki rejected the OAuth credentials
	// ("mwoauth-invalid-authorization": a bad, revoked or request token, a
	// bad signature or an invalid bearer token). The transient "Nonce
	// already used" and a clock-skew "Expired timestamp" do not match it.
	ErrTokenRevoked = errors.New("mwapi: OAuth credentials rejected")

	// ErrClockSkew: the wiki rejected the OAuth 1 timestamp
	// ("Expired timestamp, yours X, ours Y"). Check the clock (NTP).
	ErrClockSkew = errors.New("mwapi: clock skew")

	// ErrWrongWiki: the consumer is not registered for this wiki
	// ("mwoauth-invalid-authorization-wrong-wiki").
	ErrWrongWiki = errors.New("mwapi: consumer not valid on this wiki")

	// ErrBadToken: the CSRF (or other) token was not accepted ("badtoken").
	ErrBadToken = errors.New("mwapi: bad token")

	// ErrMaxLag: the database replicas lag more than maxlag allows
	// ("maxlag"); retried automatically within the retry budget.
	ErrMaxLag = errors.New("mwapi: replication lag too high")

	// ErrRateLimited: the API error "ratelimited" or an HTTP 429.
	ErrRateLimited = errors.New("mwapi: rate limited")

	// ErrReadDenied: the credentials may not read through the API
	// ("readapidenied"), e.g. an identify-only OAuth consumer.
	ErrReadDenied = errors.New("mwapi: read access denied")

	// ErrPermissionDenied: the user or the grant lacks a right for the
	// action (permissiondenied, writeapidenied, cantcreate, protectedpage,
	// cascadeprotected, ...).
	ErrPermissionDenied = errors.New("mwapi: permission denied")

	// ErrReadOnly: the wiki is in read-only mode ("readonly").
	ErrReadOnly = errors.New("mwapi: wiki is read-only")

	// ErrServerError: an HTTP 5xx answer.
	ErrServerError = errors.New("mwapi: server error")

	// ErrRedirect: the server answered with a redirect. Redirects are never
	// followed (a signed request must not be resent elsewhere).
	ErrRedirect = errors.New("mwapi: unexpected redirect")

	// ErrBadResponse: the body is not a JSON object (an HTML error page, a
	// truncated or corrupt body).
	ErrBadResponse = errors.New("mwapi: malformed response")

	// ErrResponseTooLarge: the body exceeds WithMaxResponseBytes.
	ErrResponseTooLarge = errors.New("mwapi: response too large")

	// ErrContinueLoop: a continuation returned the same continue object
	// twice, or exceeded WithMaxBatches.
	ErrContinueLoop = errors.New("mwapi: continuation does not end")

	// ErrUploadWarning: the upload stopped at warnings (duplicate, exists,
	// ...). The *UploadResult holds them and the FileKey to finish it with
	// IgnoreWarnings.
	ErrUploadWarning = errors.New("mwapi: upload has warnings")

	// ErrNoUserAgent is returned by New when WithUserAgent is missing.
	ErrNoUserAgent = errors.New("mwapi: a descriptive User-Agent is required (WithUserAgent)")

	// ErrInsecureEndpoint is returned by New for an http:// endpoint other
	// than loopback.
	ErrInsecureEndpoint = errors.New("mwapi: endpoint must use https (http only on loopback)")
)

// APIError is an error reported by the Action API, from the legacy
// {"error":{...}} object or from the "errors" array of errorformat=. It is
// returned even when the HTTP status is 200, which is how MediaWiki sends
// almost all of them.
type APIError struct {
	// Code is the machine-readable code ("badtoken", "maxlag", ...).
	Code string
	// Info is the human-readable text: "info" of the legacy format, or
	// "text"/"html"/"key" of the errorformat in use.
	Info string
	// Module is the module path that raised it ("main", "query+revisions");
	// set only with errorformat.
	Module string
	// Details is the whole JSON object of the error, with any extra fields
	// (maxlag's "lag" and "host", a "data" member, ...).
	Details json.RawMessage
	// More holds the other entries of an "errors" array, if any.
	More []*APIError
	// HTTPStatus is the HTTP status of the response (usually 200).
	HTTPStatus int
	// Header is the MediaWiki-API-Error response header ("" if absent).
	Header string
	// RetryAfter is the Retry-After response header, 0 if absent.
	RetryAfter time.Duration
	// Lag is the X-Database-Lag header (or maxlag's "lag"), 0 if absent.
	Lag time.Duration
}

// Error implements error.
func (e *APIError) Error() string {
	if e.Info == "" {
		return "mwapi: " + e.Code
	}
	return "mwapi: " + e.Code + ": " + e.Info
}

// Is reports whether e is in the state of one of the package's sentinels.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrNotLoggedIn:
		return e.Code == "assertuserfailed" || e.Code == "assertnameduserfailed"
	case ErrTokenRevoked:
		return strings.HasPrefix(e.Code, "mwoauth-invalid-authorization") &&
			e.Code != "mwoauth-invalid-authorization-wrong-wiki" &&
			!isNonceUsed(e) && !isClockSkew(e)
	case ErrClockSkew:
		return isClockSkew(e)
	case ErrWrongWiki:
		return e.Code == "mwoauth-invalid-authorization-wrong-wiki"
	case ErrBadToken:
		return e.Code == "badtoken"
	case ErrMaxLag:
		return e.Code == "maxlag"
	case ErrRateLimited:
		return e.Code == "ratelimited"
	case ErrReadDenied:
		return e.Code == "readapidenied"
	case ErrReadOnly:
		return e.Code == "readonly"
	case ErrPermissionDenied:
		switch e.Code {
		case "permissiondenied", "writeapidenied", "cantcreate", "protectedpage",
			"cascadeprotected", "protectednamespace", "protectednamespace-interface",
			"customcssprotected", "customjsprotected", "customjsonprotected", "mwoauth-invalid-authorization-grants":
			return true
		}
	}
	return false
}

// isNonceUsed reports the transient OAuth 1 nonce collision, which a retry
// with a fresh nonce fixes.
func isNonceUsed(e *APIError) bool {
	return e.Code == "mwoauth-invalid-authorization" && strings.Contains(e.Info, "Nonce already used")
}

func isClockSkew(e *APIError) bool {
	return e.Code == "mwoauth-invalid-authorization" && strings.Contains(e.Info, "Expired timestamp")
}

// HTTPError is a response whose HTTP status is not 200 and whose body holds no
// API error: a 429, a 5xx or HTML error page from a proxy, a redirect.
type HTTPError struct {
	StatusCode int
	// Location is the Location header of a redirect.
	Location string
	// RetryAfter is the Retry-After header, 0 if absent.
	RetryAfter time.Duration
	// Body is the start of the body (at most 512 bytes), for logs.
	Body []byte
}

// Error implements error.
func (e *HTTPError) Error() string {
	s := fmt.Sprintf("mwapi: HTTP %d %s", e.StatusCode, http.StatusText(e.StatusCode))
	if e.Location != "" {
		s += " to " + e.Location
	}
	return s
}

// Is matches ErrRateLimited (429), ErrServerError (5xx) and ErrRedirect (3xx).
func (e *HTTPError) Is(target error) bool {
	switch target {
	case ErrRateLimited:
		return e.StatusCode == http.StatusTooManyRequests
	case ErrServerError:
		return e.StatusCode >= 500
	case ErrRedirect:
		return e.StatusCode >= 300 && e.StatusCode < 400
	}
	return false
}

// Warning is one warning of an API response. Warnings never fail a call:
// they are logged and handed to the WithWarnings hook and Response.Warnings.
type Warning struct {
	Module string // "main", "query", "edit", ...
	Code   string // set with errorformat (e.g. "unrecognizedparams")
	Text   string
}

// String renders the warning as "module: code: text".
func (w Warning) String() string {
	if w.Code != "" {
		return w.Module + ": " + w.Code + ": " + w.Text
	}
	return w.Module + ": " + w.Text
}
