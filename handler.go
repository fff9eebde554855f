package mwoauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/wikiauth/mwoauth/session"
)

// Auth logs users in through a MediaWiki wiki and calls its API as them.
// Create it with [New]; it is safe for concurrent use.
type Auth struct {
	cfg      *settings
	sessions *session.Manager
	flow     flow
	log      *slog.Logger
	// misconfigLog limits the ERROR lines about a misconfigured consumer.
	misconfigLog everyMinute
	// limiter is Config.LoginRateLimit's buckets; rateLog limits the WARN
	// lines about refused logins.
	limiter *loginLimiter
	rateLog everyMinute
}

// pendingLogin is what a pending login remembers between /login and the
// callback (sealed, bound to the browser, single-use).
type pendingLogin struct {
	Proto   Protocol `json:"p"`
	Handle  string   `json:"h"`           // request token key (OAuth 1) or state (OAuth 2)
	Secret  string   `json:"s"`           // request token secret (OAuth 1) or PKCE verifier (OAuth 2)
	Next    string   `json:"n,omitempty"` // validated return path
	Created int64    `json:"c"`
}

// flow is one protocol's side of the login.
type flow interface {
	// begin starts a login and returns the wiki URL to send the browser
	// to, with the pending login to remember.
	begin(ctx context.Context) (redirect string, p pendingLogin, err error)
	// parseCallback checks the callback's query strictly and returns the
	// handle of the pending login it claims to finish.
	parseCallback(q url.Values) (handle string, err error)
	// finish exchanges the callback for tokens and identifies the user.
	finish(ctx context.Context, p pendingLogin, q url.Values) (*sessionData, error)
	// identify asks the wiki who the session's tokens belong to.
	identify(ctx context.Context, st *reqState, d *sessionData) (*User, error)
	// client returns an HTTP client that authenticates as the session's
	// user.
	client(st *reqState, d *sessionData) (*http.Client, error)
	// credentialID is a stable, non-secret id of the session's credential.
	credentialID(d *sessionData) string
}

// New validates cfg and returns an Auth. Every misconfiguration is reported
// here, at start-up, as an error matching [ErrConfig].
func New(cfg Config) (*Auth, error) {
	s, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	mgr, err := session.New(session.Config{
		Keys:       s.SessionKeys,
		Store:      s.SessionStore,
		CookieName: s.CookieName,
		Secure:     s.secure,
		MaxAge:     s.SessionMaxAge,
		Now:        s.Now,
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	a := &Auth{cfg: s, sessions: mgr, log: s.Logger, limiter: newLoginLimiter(s.LoginRateLimit)}
	switch s.Protocol {
	case OAuth1:
		a.flow = newOAuth1Flow(a)
	case OAuth2:
		f, err := newOAuth2Flow(a)
		if err != nil {
			return nil, err
		}
		a.flow = f
		if s.SessionStore == nil {
			a.log.LogAttrs(context.Background(), slog.LevelWarn,
				"mwoauth: OAuth 2.0 with the cookie session store: every refresh rotates the tokens in one browser's cookie, so an app on several instances must use a server-side SessionStore (one instance is fine)")
		}
	}
	return a, nil
}

// LoginPath returns the path of the login route ("<BasePath>/login").
func (a *Auth) LoginPath() string { return a.cfg.loginPath }

// LogoutPath returns the path of the logout route ("<BasePath>/logout").
func (a *Auth) LogoutPath() string { return a.cfg.logoutPath }

// CallbackPath returns the path of the OAuth callback route.
func (a *Auth) CallbackPath() string { return a.cfg.callbackPath }

// LoginURL returns the login route with next as the return path, for links
// ("/login?next=%2Fpage").
func (a *Auth) LoginURL(next string) string {
	if n, ok := safeNext(next); ok {
		return a.cfg.loginPath + "?next=" + url.QueryEscape(n)
	}
	return a.cfg.loginPath
}

// Wrap returns a handler that serves the login routes (<BasePath>/login,
// <BasePath>/logout and the callback path) and passes every other request to
// app with the session loaded into its context: [UserFromContext],
// [Auth.CurrentUser], [Auth.Request] and [Auth.Client] work in app. Changes
// to the session made while app runs are saved just before the response
// headers are sent, so call CurrentUser and Request before writing the
// response. The routes are matched on the full request path, so Wrap works in
// front of http.ServeMux and any router (and as chi or alice middleware)
// without StripPrefix.
func (a *Auth) Wrap(app http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case a.cfg.loginPath:
			a.serveRoute(w, r, a.login)
			return
		case a.cfg.logoutPath:
			a.serveRoute(w, r, a.logout)
			return
		case a.cfg.callbackPath:
			a.serveRoute(w, r, a.callback)
			return
		}
		st, err := a.loadState(r)
		if err != nil {
			if !a.cfg.AnonymousOnStoreError {
				a.fail(w, r, err)
				return
			}
			a.log.LogAttrs(r.Context(), slog.LevelWarn, "mwoauth: session store failed; continuing as anonymous", slog.String("error", err.Error()))
		}
		ctx := context.WithValue(r.Context(), stateKey{a}, st)
		if st.data.loggedIn() {
			ctx = context.WithValue(ctx, userKey{}, st.data.User.clone())
		} else {
			ctx = context.WithValue(ctx, userKey{}, (*User)(nil))
		}
		st.ctx = ctx
		sw := &sessionWriter{ResponseWriter: w, st: st}
		app.ServeHTTP(sw, r.WithContext(ctx))
		st.commit(w)
	})
}

// serveRoute runs one of the login routes with the request's session.
func (a *Auth) serveRoute(w http.ResponseWriter, r *http.Request, h func(http.ResponseWriter, *http.Request, *reqState) error) {
	setPageHeaders(w.Header())
	st, err := a.loadState(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	ctx := context.WithValue(r.Context(), stateKey{a}, st)
	st.ctx = ctx
	r = r.WithContext(ctx)
	if err := h(w, r, st); err != nil {
		a.fail(w, r, err)
	}
}

// RequireLogin returns a handler that sends anonymous users to log in and
// back, and serves logged-in users with h. It must run inside [Auth.Wrap].
// Anonymous GET and HEAD requests are redirected to
// <BasePath>/login?next=<path and query>; other methods get 401.
func (a *Auth) RequireLogin(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st, err := a.state(r)
		if err != nil {
			a.log.LogAttrs(r.Context(), slog.LevelError, "mwoauth: RequireLogin used outside Auth.Wrap")
			http.Error(w, "Internal Server Error", http.StatusInternalServerError)
			return
		}
		// An OAuth 2 token due for refresh is refreshed here; a refresh
		// the wiki refuses ends the session, and the user is sent to log
		// in again like any anonymous user (once: the session is gone).
		_ = a.freshen(r.Context(), st)
		if st.snapshot().loggedIn() {
			h.ServeHTTP(w, r)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Cache-Control", "no-store")
			http.Error(w, "Login required", http.StatusUnauthorized)
			return
		}
		target := a.cfg.loginPath
		if next, ok := safeNext(r.URL.RequestURI()); ok {
			target += "?next=" + url.QueryEscape(next)
		}
		w.Header().Set("Cache-Control", "no-store")
		redirect(w, target)
	})
}

// login serves GET <base>/login?next=…: it starts the OAuth handshake.
func (a *Auth) login(w http.ResponseWriter, r *http.Request, st *reqState) error {
	// GET only: a HEAD (a link checker, a prefetch) must not start a
	// login at the wiki or use up a pending one.
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", "GET")
		return &HandlerError{Status: http.StatusMethodNotAllowed, Message: "Method not allowed.", Err: errors.New("mwoauth: login: method not allowed")}
	}
	rawNext, nextGiven := singleValue(r.URL.RawQuery, "next")
	next, ok := safeNext(rawNext)
	if nextGiven && !ok {
		a.log.LogAttrs(r.Context(), slog.LevelInfo, "mwoauth: refusing unsafe next; using the default", slog.Int("len", len(rawNext)))
	}
	if !ok {
		next = a.cfg.DefaultNext
	}
	if st.data.loggedIn() && nextGiven && ok {
		redirect(w, next)
		return nil
	}
	if ok, wait := a.allowLogin(r, st); !ok {
		return rateLimited(w, wait)
	}
	target, p, err := a.flow.begin(r.Context())
	if err != nil {
		return err
	}
	p.Next = next
	p.Created = a.now().Unix()
	b, err := json.Marshal(&p)
	if err != nil {
		return err
	}
	if err := a.sessions.PutPending(r.Context(), w, r, p.Handle, b); err != nil {
		return fmt.Errorf("%w: remembering the pending login: %w", ErrSessionStore, err)
	}
	st.commit(w)
	redirect(w, target)
	return nil
}

// callback serves the OAuth callback: it finishes the login.
func (a *Auth) callback(w http.ResponseWriter, r *http.Request, st *reqState) error {
	// GET only: a HEAD (a link checker, a prefetch) must not start a
	// login at the wiki or use up a pending one.
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", "GET")
		return &HandlerError{Status: http.StatusMethodNotAllowed, Message: "Method not allowed.", Err: errors.New("mwoauth: callback: method not allowed")}
	}
	if len(r.URL.RawQuery) > 8<<10 {
		return fmt.Errorf("%w: query of %d bytes", ErrMalformedCallback, len(r.URL.RawQuery))
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrMalformedCallback, err)
	}
	handle, err := a.flow.parseCallback(q)
	if err != nil {
		return err
	}
	b, found, err := a.sessions.TakePending(r.Context(), w, r, handle)
	if err != nil {
		return fmt.Errorf("%w: reading the pending login: %w", ErrSessionStore, err)
	}
	var p pendingLogin
	if !found || json.Unmarshal(b, &p) != nil || p.Proto != a.cfg.Protocol {
		return ErrNoPendingLogin
	}
	if a.now().Sub(time.Unix(p.Created, 0)) > 10*time.Minute {
		return fmt.Errorf("%w: expired", ErrNoPendingLogin)
	}
	fresh, err := a.flow.finish(r.Context(), p, q)
	if err != nil {
		return err
	}
	if fresh.User.Username == "" {
		return fmt.Errorf("%w: the wiki sent no user name (hidden or suppressed user)", ErrAccountUnavailable)
	}
	if a.cfg.DenyBlocked && fresh.User.Blocked {
		return fmt.Errorf("%w: the user is blocked", ErrAccountUnavailable)
	}
	fresh.LoginAt = a.now().Unix()
	fresh.Flash = []string{"You were signed in, " + fresh.User.Username + "!"}
	// A fresh session with a new id, so that a planted session id is
	// worthless (fixation); the old one is deleted when this one is saved.
	st.mu.Lock()
	st.data = *fresh
	st.edits = nil
	st.dirty = true
	st.sess.Renew()
	st.mu.Unlock()
	st.commit(w)
	if st.saveErr != nil {
		if errors.Is(st.saveErr, session.ErrTooLarge) {
			return &HandlerError{Status: http.StatusInternalServerError, Message: "Login failed: the session is too large for a cookie. The application needs a server-side session store.", Err: st.saveErr}
		}
		return fmt.Errorf("%w: %w", ErrSessionStore, st.saveErr)
	}
	next, ok := safeNext(p.Next)
	if !ok {
		next = a.cfg.DefaultNext
	}
	a.log.LogAttrs(r.Context(), slog.LevelInfo, "mwoauth: login", slog.String("user", fresh.User.Username), slog.String("sub", fresh.User.ID))
	redirect(w, next)
	return nil
}

// logout serves <base>/logout: a same-origin GET or POST ends the session;
// any other GET shows a confirmation form.
func (a *Auth) logout(w http.ResponseWriter, r *http.Request, st *reqState) error {
	var rawNext string
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		rawNext, _ = singleValue(r.URL.RawQuery, "next")
		if !a.sameOriginRequest(r, true) {
			next, ok := safeNext(rawNext)
			if !ok {
				next = ""
			}
			renderPage(w, http.StatusOK, pageData{Title: "Log out", ConfirmLogout: true, Action: a.cfg.logoutPath, Next: next})
			return nil
		}
	case http.MethodPost:
		if !a.sameOriginRequest(r, false) {
			return fmt.Errorf("%w: logout POST without same-origin proof", ErrCrossOrigin)
		}
		r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
		if err := r.ParseForm(); err != nil {
			return &HandlerError{Status: http.StatusBadRequest, Message: "Bad request.", Err: err}
		}
		rawNext = r.PostForm.Get("next")
		if rawNext == "" {
			rawNext, _ = singleValue(r.URL.RawQuery, "next")
		}
	default:
		w.Header().Set("Allow", "GET, HEAD, POST")
		return &HandlerError{Status: http.StatusMethodNotAllowed, Message: "Method not allowed.", Err: errors.New("mwoauth: logout: method not allowed")}
	}
	next, ok := safeNext(rawNext)
	if !ok {
		next = a.cfg.DefaultNext
	}
	st.mu.Lock()
	st.data = sessionData{}
	st.edits = nil
	st.dirty = false
	st.sess.Destroy()
	st.mu.Unlock()
	st.commit(w)
	if st.saveErr != nil {
		return fmt.Errorf("%w: %w", ErrSessionStore, st.saveErr)
	}
	redirect(w, next)
	return nil
}

// sameOriginRequest reports whether the browser says the request came from
// our own origin: Sec-Fetch-Site: same-origin, or an Origin header equal to
// ours, or (for GET only) a Referer on our origin.
func (a *Auth) sameOriginRequest(r *http.Request, allowReferer bool) bool {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" {
		return site == "same-origin"
	}
	if o := r.Header.Get("Origin"); o != "" && o != "null" {
		u, err := url.Parse(o)
		return err == nil && sameOrigin(u, a.cfg.origin)
	}
	if allowReferer {
		if ref := r.Header.Get("Referer"); ref != "" {
			u, err := url.Parse(ref)
			return err == nil && u.Host != "" && sameOrigin(u, a.cfg.origin)
		}
	}
	return false
}

// fail renders a failure of a login route.
func (a *Auth) fail(w http.ResponseWriter, r *http.Request, err error) {
	h := classify(err)
	level := slog.LevelWarn
	if h.Status >= 500 || errors.Is(err, ErrMisconfigured) {
		level = slog.LevelError
	}
	if errors.Is(err, ErrMisconfigured) && !a.misconfigLog.allow(a.now()) {
		// A misconfigured consumer fails every login: say so at ERROR
		// once a minute, not once per request (SECURITY.md R6).
		level = slog.LevelDebug
	}
	if errors.Is(err, ErrLoginRateLimited) && !a.rateLog.allow(a.now()) {
		// A flood of refused logins is one WARN line a minute.
		level = slog.LevelDebug
	}
	a.log.LogAttrs(r.Context(), level, "mwoauth: "+r.URL.Path+" failed",
		slog.Int("status", h.Status), slog.String("error", redactError(err)))
	if a.cfg.ErrorHandler != nil {
		a.cfg.ErrorHandler(w, r, h)
		return
	}
	retry := ""
	if h.Retry && !errors.Is(err, ErrAccountUnavailable) {
		retry = a.cfg.loginPath
	}
	renderPage(w, h.Status, pageData{Title: http.StatusText(h.Status), Message: h.Message, Retry: retry})
}

// singleValue returns the value of key in a raw query, and whether it was
// given; a key given twice counts as not given.
func singleValue(rawQuery, key string) (string, bool) {
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return "", false
	}
	v := q[key]
	if len(v) != 1 {
		return "", false
	}
	return v[0], true
}

// redirect answers 303 See Other to a path or URL we built or validated.
func redirect(w http.ResponseWriter, target string) {
	w.Header().Set("Location", target)
	w.WriteHeader(http.StatusSeeOther)
}

// redactError returns err's text for logs. Errors of this module never put
// secrets in their text; this also cuts very long texts.
func redactError(err error) string {
	s := err.Error()
	if len(s) > 1000 {
		s = s[:1000] + "…"
	}
	return strings.ToValidUTF8(s, "?")
}
