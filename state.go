package mwoauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/wikiauth/mwoauth/session"
)

// sessionData is what a session holds. The session package stores it as
// opaque sealed bytes; only this package knows its shape.
type sessionData struct {
	// Proto is the protocol the tokens belong to.
	Proto Protocol `json:"p,omitempty"`
	// Token1 is the OAuth 1.0a access token.
	Token1 *token1 `json:"t1,omitempty"`
	// Token2 is the OAuth 2.0 token set.
	Token2 *token2 `json:"t2,omitempty"`
	// User is the cached identity (without Rights in cookie sessions).
	User *User `json:"u,omitempty"`
	// LoginAt is when the user logged in (Unix seconds).
	LoginAt int64 `json:"l,omitempty"`
	// Flash holds messages that are read once.
	Flash []string `json:"f,omitempty"`
	// Values are the application's own values.
	Values map[string]json.RawMessage `json:"v,omitempty"`
}

type token1 struct {
	Key    string `json:"k"`
	Secret string `json:"s"`
}

type token2 struct {
	Access  string `json:"a"`
	Refresh string `json:"r,omitempty"`
	Expiry  int64  `json:"e,omitempty"` // Unix seconds; 0 = never
}

func (d sessionData) loggedIn() bool {
	return d.User != nil && (d.Token1 != nil || d.Token2 != nil)
}

// saveTimeout bounds the store calls of one session save.
const saveTimeout = 10 * time.Second

// reqState is the session of one request while it passes through Wrap.
type reqState struct {
	a       *Auth
	ctx     context.Context
	mu      sync.Mutex
	sess    *session.Session // nil when the store failed and we continue anonymous
	data    sessionData
	edits   []func(*sessionData) // replayed after a compare-and-set conflict
	dirty   bool
	sent    bool // response headers went out
	saveErr error
	// refreshErr is the failure of an OAuth 2 refresh in this request
	// (wiki unreachable): the request does not try again.
	refreshErr error
}

type stateKey struct{ a *Auth }

func (a *Auth) state(r *http.Request) (*reqState, error) {
	st, ok := r.Context().Value(stateKey{a}).(*reqState)
	if !ok {
		return nil, ErrNotWrapped
	}
	return st, nil
}

// loadState reads the request's session. A store failure is returned
// wrapped in ErrSessionStore.
func (a *Auth) loadState(r *http.Request) (*reqState, error) {
	st := &reqState{a: a, ctx: r.Context()}
	sess, err := a.sessions.Load(r.Context(), r)
	if err != nil {
		return st, fmt.Errorf("%w: %w", ErrSessionStore, err)
	}
	st.sess = sess
	if b := sess.Data(); len(b) > 0 {
		if err := json.Unmarshal(b, &st.data); err != nil {
			// Unreadable content (e.g. an older format): start afresh.
			a.log.LogAttrs(r.Context(), slog.LevelWarn, "mwoauth: discarding unreadable session", slog.String("error", err.Error()))
			st.data = sessionData{}
			st.sess.Destroy()
		}
	}
	if st.data.User != nil && !st.data.loggedIn() {
		st.data = sessionData{}
	}
	if st.data.loggedIn() && st.data.Proto != a.cfg.Protocol {
		// Tokens of the other protocol (the app was reconfigured): they
		// cannot be used, so the session ends here rather than failing at
		// the first API call.
		a.log.LogAttrs(r.Context(), slog.LevelInfo, "mwoauth: ending a session made with another OAuth protocol",
			slog.String("session", st.data.Proto.String()), slog.String("configured", a.cfg.Protocol.String()))
		st.data = sessionData{}
		st.sess.Destroy()
	}
	return st, nil
}

// edit changes the session; the change is saved before the response headers
// go out.
func (st *reqState) edit(f func(*sessionData)) {
	st.mu.Lock()
	defer st.mu.Unlock()
	f(&st.data)
	st.edits = append(st.edits, f)
	st.dirty = true
	if st.sent {
		st.a.log.LogAttrs(st.ctx, slog.LevelWarn,
			"mwoauth: session changed after the response headers were sent; the change is saved only with a server-side store. Call CurrentUser/Request before writing the response.")
		if st.a.cfg.SessionStore != nil {
			st.saveLocked(nil)
		}
	}
}

func (st *reqState) snapshot() sessionData {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.data
}

// commit saves the session before the headers are written.
func (st *reqState) commit(w http.ResponseWriter) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.sent {
		return
	}
	st.sent = true
	st.saveLocked(w)
}

func (st *reqState) saveLocked(w http.ResponseWriter) {
	if st.sess == nil {
		return
	}
	if st.dirty {
		if err := st.setData(); err != nil {
			st.saveErr = err
			st.a.log.LogAttrs(st.ctx, slog.LevelError, "mwoauth: encoding session", slog.String("error", err.Error()))
			return
		}
	}
	if w == nil {
		w = discardHeaders{}
	}
	// The save outlives a cancelled request (a client that went away):
	// the change may be a rotated OAuth 2 token that the wiki already made
	// the only valid one.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(st.ctx), saveTimeout)
	defer cancel()
	for attempt := 0; ; attempt++ {
		err := st.a.sessions.Save(ctx, w, st.sess)
		if err == nil {
			st.dirty = false
			st.edits = nil
			return
		}
		if errors.Is(err, session.ErrConflict) && attempt < 3 {
			// Someone else changed the session: reload and replay ours.
			if rerr := st.a.sessions.Reload(ctx, st.sess); rerr == nil {
				st.data = sessionData{}
				if b := st.sess.Data(); len(b) > 0 {
					_ = json.Unmarshal(b, &st.data)
				}
				for _, f := range st.edits {
					f(&st.data)
				}
				if err := st.setData(); err == nil {
					continue
				}
			}
		}
		st.saveErr = err
		st.a.log.LogAttrs(st.ctx, slog.LevelError, "mwoauth: saving session", slog.String("error", err.Error()))
		return
	}
}

func (st *reqState) setData() error {
	d := st.data
	if st.a.cfg.SessionStore == nil && d.User != nil {
		d.User = d.User.minimal()
	}
	if !d.loggedIn() && len(d.Flash) == 0 && len(d.Values) == 0 {
		st.sess.SetData(nil)
		return nil
	}
	b, err := json.Marshal(&d)
	if err != nil {
		return err
	}
	st.sess.SetData(b)
	return nil
}

// discardHeaders is a ResponseWriter for saves after the response went out.
type discardHeaders struct{}

func (discardHeaders) Header() http.Header         { return http.Header{} }
func (discardHeaders) Write(b []byte) (int, error) { return len(b), nil }
func (discardHeaders) WriteHeader(int)             {}

// sessionWriter saves the session just before the response headers go out.
type sessionWriter struct {
	http.ResponseWriter
	st *reqState
}

func (w *sessionWriter) WriteHeader(code int) {
	// An informational response (103 Early Hints) is not the final one:
	// its headers go out, but the session may still change.
	if code < 100 || code > 199 || code == http.StatusSwitchingProtocols {
		w.st.commit(w.ResponseWriter)
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *sessionWriter) Write(b []byte) (int, error) {
	w.st.commit(w.ResponseWriter)
	return w.ResponseWriter.Write(b)
}

// Flush sends the headers (after saving the session) and flushes.
func (w *sessionWriter) Flush() {
	w.st.commit(w.ResponseWriter)
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *sessionWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// now returns the configured clock's time.
func (a *Auth) now() time.Time { return a.cfg.Now() }

// reloadTokens re-reads the session from a server-side store, with this
// request's changes replayed on top, so that a token another instance
// stored meanwhile is seen. ok is false with the cookie store, for a
// session never saved, and when the read fails.
func (st *reqState) reloadTokens() (sessionData, bool) {
	if st.a.cfg.SessionStore == nil {
		return sessionData{}, false
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.sess == nil || st.sent {
		return sessionData{}, false
	}
	if err := st.a.sessions.Reload(st.ctx, st.sess); err != nil {
		return sessionData{}, false
	}
	var d sessionData
	if b := st.sess.Data(); len(b) > 0 {
		if json.Unmarshal(b, &d) != nil {
			return sessionData{}, false
		}
	}
	for _, f := range st.edits {
		f(&d)
	}
	st.data = d
	st.dirty = len(st.edits) > 0
	return d, true
}
