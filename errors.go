package mwoauth

import (
	"context"
	"errors"
	"net"
	"net/http"
)

// Sentinel errors. Errors returned by this package wrap one of them (and, where
// the wiki reported the failure, the oauth1 or mwapi error with its key), so
// callers branch with errors.Is.
var (
	// ErrNotLoggedIn: the request's session has no logged-in user.
	ErrNotLoggedIn = errors.New("mwoauth: not logged in")
	// ErrNotWrapped: the request did not pass through [Auth.Wrap] (or
	// passed through another Auth's).
	ErrNotWrapped = errors.New("mwoauth: request did not pass through Auth.Wrap")
	// ErrMalformedCallback: the callback's query is missing a parameter,
	// repeats one, or carries an oversized or invalid value.
	ErrMalformedCallback = errors.New("mwoauth: malformed callback")
	// ErrNoPendingLogin: the callback matches no pending login of this
	// browser (expired, used already, or started elsewhere).
	ErrNoPendingLogin = errors.New("mwoauth: no pending login for this callback")
	// ErrLoginDeclined: the user declined the request on the wiki.
	ErrLoginDeclined = errors.New("mwoauth: the user declined the login")
	// ErrAccountUnavailable: the wiki's identity has no user name (a hidden
	// user), or the user is blocked and Config.DenyBlocked is set.
	ErrAccountUnavailable = errors.New("mwoauth: account cannot log in")
	// ErrTokenRevoked: the wiki no longer accepts the user's access token
	// (OAuth 2.0: nor the refresh token); the session has been ended.
	ErrTokenRevoked = errors.New("mwoauth: access token revoked or invalid")
	// ErrWikiUnavailable: the wiki could not be reached or answered with a
	// server error.
	ErrWikiUnavailable = errors.New("mwoauth: wiki unavailable")
	// ErrMisconfigured: the wiki refused the consumer (key or secret
	// rejected, callback not allowed, owner-only consumer): the application's
	// configuration must be fixed.
	ErrMisconfigured = errors.New("mwoauth: consumer rejected by the wiki (check the configuration)")
	// ErrLoginFailed: the login failed for another reason the wiki gave.
	ErrLoginFailed = errors.New("mwoauth: login failed")
	// ErrSessionStore: the session could not be read or written.
	ErrSessionStore = errors.New("mwoauth: session store failure")
	// ErrCrossOrigin: a state-changing request did not prove it came from
	// the application's own origin.
	ErrCrossOrigin = errors.New("mwoauth: cross-origin request refused")
)

// HandlerError is what the login routes pass to Config.ErrorHandler: the
// status and the generic message the user may see, and the full error for the
// log. Message never contains request input or secrets.
type HandlerError struct {
	Status  int    // HTTP status of the page
	Message string // safe to show to the user
	Retry   bool   // whether trying the login again may help
	Err     error  // the cause, for logs and errors.Is
}

// Error returns the message and the cause.
func (e *HandlerError) Error() string {
	if e.Err == nil {
		return e.Message
	}
	return e.Message + ": " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *HandlerError) Unwrap() error { return e.Err }

// classify turns a failure of a login route into what the user is shown.
func classify(err error) *HandlerError {
	var he *HandlerError
	if errors.As(err, &he) {
		return he
	}
	h := &HandlerError{Err: err, Status: http.StatusBadGateway, Retry: true,
		Message: "Login failed. Please try again."}
	switch {
	case errors.Is(err, ErrMalformedCallback):
		h.Status, h.Message = http.StatusBadRequest, "This login link is not valid."
	case errors.Is(err, ErrNoPendingLogin):
		h.Status, h.Message = http.StatusForbidden, "Your login has expired or was started in another browser. Please try again."
	case errors.Is(err, ErrLoginDeclined):
		h.Status, h.Message = http.StatusForbidden, "You declined the request, so you are not logged in."
	case errors.Is(err, ErrAccountUnavailable):
		h.Status, h.Message, h.Retry = http.StatusForbidden, "Your account cannot log in to this application.", false
	case errors.Is(err, ErrMisconfigured):
		h.Status, h.Message, h.Retry = http.StatusBadGateway, "Login is temporarily unavailable: the application's connection to the wiki is misconfigured.", false
	case errors.Is(err, ErrWikiUnavailable):
		h.Status, h.Message = http.StatusBadGateway, "The wiki can't be reached right now. Please try again in a moment."
		if isTimeout(err) {
			// The wiki did not answer in time (SECURITY.md R2).
			h.Status = http.StatusGatewayTimeout
		}
	case errors.Is(err, ErrSessionStore):
		h.Status, h.Message = http.StatusServiceUnavailable, "Sessions are temporarily unavailable. Please try again in a moment."
	case errors.Is(err, ErrCrossOrigin):
		h.Status, h.Message, h.Retry = http.StatusForbidden, "This request did not come from this site.", false
	}
	return h
}

// isTimeout reports a call to the wiki that ran out of time: the client's
// timeout or a deadline, not a refused connection or a cancelled request.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}
