package mwoauth

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"strings"
	"time"

	"github.com/wikiauth/mwoauth/internal/seal"
	"github.com/wikiauth/mwoauth/session"
)

// CurrentUser returns the request's logged-in user. With cached, it is the
// identity stored in the session at login (no wiki call; without Rights in
// cookie sessions). Without cached, the wiki is asked again, so a revoked
// grant is noticed: the session then ends and the error matches
// [ErrTokenRevoked]. An anonymous request gets [ErrNotLoggedIn]; a request
// that did not pass through [Auth.Wrap] gets [ErrNotWrapped].
//
// Call it before writing the response: a session change made after the
// headers were sent reaches only a server-side store.
func (a *Auth) CurrentUser(r *http.Request, cached bool) (*User, error) {
	st, err := a.state(r)
	if err != nil {
		return nil, err
	}
	d := st.snapshot()
	if !d.loggedIn() {
		return nil, ErrNotLoggedIn
	}
	if cached {
		return d.User.clone(), nil
	}
	u, err := a.flow.identify(r.Context(), st, &d)
	if err != nil {
		if errors.Is(err, ErrTokenRevoked) {
			st.end()
		}
		return nil, err
	}
	if u.ID != d.User.ID || u.Issuer != d.User.Issuer {
		st.end()
		return nil, fmt.Errorf("%w: the wiki now reports another user for this session", ErrTokenRevoked)
	}
	st.edit(func(d *sessionData) {
		if d.User != nil {
			d.User = u.clone()
		}
	})
	return u, nil
}

// end logs the session out (tokens, identity and the app's values) and drops
// its id.
func (st *reqState) end() {
	// Destroy first: after the headers were sent, edit saves at once (to a
	// server-side store), and that save must delete the record.
	st.mu.Lock()
	if st.sess != nil {
		st.sess.Destroy()
	}
	st.mu.Unlock()
	st.edit(func(d *sessionData) { *d = sessionData{} })
}

// Client returns an *http.Client that authenticates its requests as the
// request's user (OAuth 1.0a signatures or an OAuth 2.0 bearer token), for
// wiki endpoints that [Auth.Request] does not cover. It never follows
// redirects, so credentials never leave for another host. With OAuth 2.0 it
// refreshes the access token when it is due or refused (HTTP 401, or
// mwoauth-invalid-authorization from api.php; requests with a body are sent
// again only when they have GetBody) and writes the new tokens to r's
// session: use it only while handling r, before writing the response.
func (a *Auth) Client(r *http.Request) (*http.Client, error) {
	st, err := a.state(r)
	if err != nil {
		return nil, err
	}
	if !st.snapshot().loggedIn() {
		return nil, ErrNotLoggedIn
	}
	if err := a.freshen(r.Context(), st); err != nil {
		return nil, err
	}
	d := st.snapshot()
	return a.flow.client(st, &d)
}

// maxValueKey caps the length of an application value's key.
const maxValueKey = 64

// ErrValue is matched by the errors of the application-value methods.
var ErrValue = errors.New("mwoauth: session value")

// SetValue stores v (encoded as JSON) in the request's session under key.
// Values survive until logout or the session's end; keep them small with
// cookie sessions (the whole cookie is at most 4 KB): a value that would
// not fit is refused with an error matching [ErrValue] and
// session.ErrTooLarge, and the session keeps its other values.
func (a *Auth) SetValue(r *http.Request, key string, v any) error {
	st, err := a.state(r)
	if err != nil {
		return err
	}
	if key == "" || len(key) > maxValueKey {
		return fmt.Errorf("%w: key must be 1 to %d bytes", ErrValue, maxValueKey)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrValue, err)
	}
	set := func(d *sessionData) {
		// Copy on write: Value and snapshots read the old map unlocked.
		m := maps.Clone(d.Values)
		if m == nil {
			m = map[string]json.RawMessage{}
		}
		m[key] = b
		d.Values = m
	}
	if err := st.fitsCookie(set); err != nil {
		return fmt.Errorf("%w: %q: %w", ErrValue, key, err)
	}
	st.edit(set)
	return nil
}

// fitsCookie reports, with the cookie store, whether the session would
// still fit its cookie after f: an error matching session.ErrTooLarge if
// not (the save would fail and drop every change of the request).
func (st *reqState) fitsCookie(f func(*sessionData)) error {
	cfg := st.a.cfg
	if cfg.SessionStore != nil {
		return nil
	}
	st.mu.Lock()
	d := st.data
	st.mu.Unlock()
	f(&d)
	if d.User != nil {
		d.User = d.User.minimal()
	}
	b, err := json.Marshal(&d)
	if err != nil {
		return err
	}
	maxAge := cfg.SessionMaxAge
	if maxAge == 0 {
		maxAge = session.DefaultMaxAge
	}
	c := &http.Cookie{
		Name:     st.a.sessions.CookieName(),
		Value:    strings.Repeat("x", seal.EncodedLen(len(b))),
		Path:     "/",
		HttpOnly: true,
		Secure:   cfg.secure,
		SameSite: http.SameSiteLaxMode,
		MaxAge:   int(maxAge / time.Second),
	}
	if n := len("Set-Cookie: ") + len(c.String()); n > session.MaxCookieLine {
		return fmt.Errorf("%w: the session cookie would be %d bytes, at most %d (use a server-side SessionStore for larger values)", session.ErrTooLarge, n, session.MaxCookieLine)
	}
	return nil
}

// Value decodes the value stored under key into dst and reports whether
// there was one.
func (a *Auth) Value(r *http.Request, key string, dst any) (bool, error) {
	st, err := a.state(r)
	if err != nil {
		return false, err
	}
	d := st.snapshot()
	b, ok := d.Values[key]
	if !ok {
		return false, nil
	}
	if err := json.Unmarshal(b, dst); err != nil {
		return true, fmt.Errorf("%w: %w", ErrValue, err)
	}
	return true, nil
}

// DeleteValue removes the value stored under key.
func (a *Auth) DeleteValue(r *http.Request, key string) error {
	st, err := a.state(r)
	if err != nil {
		return err
	}
	if _, ok := st.snapshot().Values[key]; !ok {
		return nil
	}
	st.edit(func(d *sessionData) {
		m := maps.Clone(d.Values)
		delete(m, key)
		d.Values = m
	})
	return nil
}

// Flashes returns the one-time messages of the session (such as "You were
// signed in, Alice!" after login) and removes them, so each is read once.
func (a *Auth) Flashes(r *http.Request) []string {
	st, err := a.state(r)
	if err != nil {
		return nil
	}
	f := st.snapshot().Flash
	if len(f) == 0 {
		return nil
	}
	st.edit(func(d *sessionData) { d.Flash = nil })
	return append([]string(nil), f...)
}
