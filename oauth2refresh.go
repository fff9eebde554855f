package mwoauth

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
)

const (
	// refreshMargin: a token that expires within this margin is refreshed
	// before it is used.
	refreshMargin = time.Minute
	// refreshTimeout bounds one refresh (both attempts).
	refreshTimeout = 30 * time.Second
	// rotationTTL is how long a rotation is remembered, so that requests
	// of the same browser that still carry the old refresh token (sent
	// before the new cookie arrived) get the new token instead of a
	// second refresh, which the wiki would refuse (1.39 and 1.43 have no
	// grace period).
	rotationTTL = 2 * time.Minute
	// maxRotations bounds the remembered rotations.
	maxRotations = 10000
	// maxChain bounds how many remembered rotations one lookup follows.
	maxChain = 8
)

// refresher refreshes OAuth 2 tokens: at most one refresh per refresh token
// at a time in this process (a small singleflight keyed by a hash of the
// refresh token), with every waiter getting the same result.
type refresher struct {
	f        *oauth2Flow
	mu       sync.Mutex
	inflight map[[32]byte]*refreshCall
	rotated  map[[32]byte]rotation
}

type refreshCall struct {
	done chan struct{}
	tok  *token2
	err  error
}

type rotation struct {
	tok   token2
	until time.Time
}

func newRefresher(f *oauth2Flow) *refresher {
	return &refresher{f: f, inflight: map[[32]byte]*refreshCall{}, rotated: map[[32]byte]rotation{}}
}

func refreshKey(rt string) [32]byte { return sha256.Sum256([]byte("mwoauth-refresh\x00" + rt)) }

// refresh returns the token that replaces old: from a refresh this process
// did moments ago, from one in flight, or from a new one.
func (r *refresher) refresh(ctx context.Context, old *token2) (*token2, error) {
	key := refreshKey(old.Refresh)
	r.mu.Lock()
	if t, ok := r.rotatedLocked(key); ok {
		r.mu.Unlock()
		return t, nil
	}
	if c := r.inflight[key]; c != nil {
		r.mu.Unlock()
		select {
		case <-c.done:
			return c.tok, c.err
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: waiting for a refresh: %w", ErrWikiUnavailable, ctx.Err())
		}
	}
	c := &refreshCall{done: make(chan struct{})}
	r.inflight[key] = c
	r.mu.Unlock()

	// The refresh outlives a cancelled request: once sent, it rotates the
	// tokens at the wiki, and the new ones must reach the session.
	c.tok, c.err = r.do(context.WithoutCancel(ctx), old)

	r.mu.Lock()
	delete(r.inflight, key)
	if c.err == nil {
		r.rememberLocked(key, *c.tok)
	}
	r.mu.Unlock()
	close(c.done)
	return c.tok, c.err
}

func (r *refresher) rotatedLocked(key [32]byte) (*token2, bool) {
	now := r.f.a.now()
	var found *token2
	for range maxChain {
		rot, ok := r.rotated[key]
		if !ok || !now.Before(rot.until) {
			break
		}
		t := rot.tok
		found = &t
		key = refreshKey(t.Refresh)
	}
	return found, found != nil
}

func (r *refresher) rememberLocked(key [32]byte, t token2) {
	now := r.f.a.now()
	if len(r.rotated) >= maxRotations {
		for k, rot := range r.rotated {
			if !now.Before(rot.until) {
				delete(r.rotated, k)
			}
		}
		if len(r.rotated) >= maxRotations {
			clear(r.rotated)
		}
	}
	r.rotated[key] = rotation{tok: t, until: now.Add(rotationTTL)}
}

// do sends the refresh, retrying once with the same refresh token after a
// network error.
func (r *refresher) do(ctx context.Context, old *token2) (*token2, error) {
	f := r.f
	ctx, cancel := context.WithTimeout(ctx, refreshTimeout)
	defer cancel()
	tctx := f.tokenContext(ctx)
	var err error
	for attempt := 1; attempt <= 2; attempt++ {
		var tok *oauth2.Token
		// x/oauth2's refreshing TokenSource, built for this one refresh
		// only: it has no hook to store the rotated token, which is
		// written back to the session by our caller.
		tok, err = f.conf.TokenSource(tctx, &oauth2.Token{RefreshToken: old.Refresh}).Token()
		if err == nil {
			return f.checkToken(tok, old.Refresh)
		}
		if !transientTokenError(err) || ctx.Err() != nil {
			break
		}
		f.a.log.LogAttrs(ctx, slog.LevelInfo, "mwoauth: OAuth 2 refresh failed on the network; retrying once", slog.String("error", redactError(err)))
	}
	return nil, refreshError(err)
}

// transientTokenError reports a failure to get any answer from the token
// endpoint.
func transientTokenError(err error) bool {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		return false
	}
	return isNetError(err) || errors.Is(err, io.ErrUnexpectedEOF) || strings.Contains(err.Error(), "cannot fetch token")
}

// refreshError classifies a failed refresh: refused by the wiki (the
// session is over) or not reached.
func refreshError(err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		status := 0
		if re.Response != nil {
			status = re.Response.StatusCode
		}
		if status == http.StatusBadRequest || status == http.StatusUnauthorized ||
			(status < 300 && (re.ErrorCode == "invalid_grant" || re.ErrorCode == "invalid_request")) {
			return fmt.Errorf("%w: refresh refused: %w", ErrTokenRevoked, &retrieveError{re})
		}
		if status >= 500 || (status >= 300 && status < 400) {
			return fmt.Errorf("%w: refresh: %w", ErrWikiUnavailable, &retrieveError{re})
		}
		return fmt.Errorf("%w: refresh: %w", ErrLoginFailed, &retrieveError{re})
	}
	if transientTokenError(err) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w: refresh: %w", ErrWikiUnavailable, err)
	}
	return fmt.Errorf("%w: refresh: %w", ErrLoginFailed, err)
}

// sessionTokenSource is the token source of one request's session: it
// returns the session's access token, refreshing it first when it is due,
// and writes every refreshed token back to the session (before the
// response headers go out).
type sessionTokenSource struct {
	f  *oauth2Flow
	st *reqState
}

var _ oauth2.TokenSource = (*sessionTokenSource)(nil)

// Token implements oauth2.TokenSource.
func (s *sessionTokenSource) Token() (*oauth2.Token, error) {
	t, err := s.current(s.st.ctx, false, "")
	if err != nil {
		return nil, err
	}
	return &oauth2.Token{AccessToken: t.Access, TokenType: "Bearer", Expiry: time.Unix(t.Expiry, 0)}, nil
}

// due reports whether t is to be refreshed before use.
func (f *oauth2Flow) due(t *token2) bool {
	return t.Expiry != 0 && !f.a.now().Add(refreshMargin).Before(time.Unix(t.Expiry, 0))
}

// current returns the session's token, refreshed when due, or with force
// when the wiki refused the access token stale (unless the session already
// holds another one). A refused refresh ends the session and returns an
// error matching ErrTokenRevoked.
func (s *sessionTokenSource) current(ctx context.Context, force bool, stale string) (*token2, error) {
	d := s.st.snapshot()
	if d.Token2 == nil || !d.loggedIn() {
		return nil, ErrNotLoggedIn
	}
	t := d.Token2
	if force && t.Access != stale {
		return t, nil
	}
	if !force && !s.f.due(t) {
		return t, nil
	}
	if t.Refresh == "" {
		if force {
			return nil, fmt.Errorf("%w: no refresh token", ErrTokenRevoked)
		}
		return t, nil
	}
	s.st.mu.Lock()
	failed := s.st.refreshErr
	s.st.mu.Unlock()
	if failed != nil {
		return nil, failed
	}
	nt, err := s.f.ref.refresh(ctx, t)
	switch {
	case errors.Is(err, ErrTokenRevoked):
		if rt, ok := s.adoptNewer(t); ok {
			return rt, nil
		}
		s.f.a.log.LogAttrs(ctx, slog.LevelInfo, "mwoauth: the wiki refused the OAuth 2 refresh; ending the session", slog.String("error", redactError(err)))
		s.st.end()
		return nil, err
	case err != nil:
		// The wiki was not reached: this request does not try again, and
		// the session keeps its tokens for the next one.
		s.st.mu.Lock()
		s.st.refreshErr = err
		s.st.mu.Unlock()
		return nil, err
	}
	old := t.Refresh
	nc := *nt
	s.st.edit(func(d *sessionData) {
		// Replayed after a compare-and-set conflict: never replace a token
		// that someone else already rotated, nor resurrect a logout.
		if d.Token2 != nil && d.Token2.Refresh == old {
			c := nc
			d.Token2 = &c
		}
	})
	return &nc, nil
}

// adoptNewer looks, with a server-side store, whether another instance
// rotated the session's tokens while ours were refused; if so the session
// takes the stored ones.
func (s *sessionTokenSource) adoptNewer(t *token2) (*token2, bool) {
	d, ok := s.st.reloadTokens()
	if !ok || d.Token2 == nil || d.Token2.Refresh == t.Refresh || !d.loggedIn() {
		return nil, false
	}
	return d.Token2, true
}

// sessionBearer sends the session's access token and, when the wiki
// refuses it (HTTP 401, or api.php's mwoauth-invalid-authorization), refreshes
// it and sends the request once more. A second refusal is returned as it is.
type sessionBearer struct {
	src  *sessionTokenSource
	base http.RoundTripper
}

func (t *sessionBearer) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL == nil || (!strings.EqualFold(r.URL.Scheme, "https") && !isLoopback(r.URL.Hostname())) {
		closeBody(r)
		return nil, errOwnerOnlyInsecure
	}
	ctx := r.Context()
	tok, err := t.src.current(ctx, false, "")
	if err != nil {
		closeBody(r)
		return nil, err
	}
	resp, err := t.send(r, tok.Access, false)
	if err != nil || !refused(resp) {
		return resp, err
	}
	if r.Body != nil && r.Body != http.NoBody && r.GetBody == nil {
		return resp, nil // cannot be sent again
	}
	nt, err := t.src.current(ctx, true, tok.Access)
	if err != nil {
		if errors.Is(err, ErrTokenRevoked) || errors.Is(err, ErrNotLoggedIn) {
			// The session is over: the caller sees the wiki's refusal.
			return resp, nil
		}
		drain(resp)
		return nil, err
	}
	if nt.Access == tok.Access {
		return resp, nil
	}
	drain(resp)
	return t.send(r, nt.Access, true)
}

func (t *sessionBearer) send(r *http.Request, access string, again bool) (*http.Response, error) {
	r2 := r.Clone(r.Context())
	if again && r.GetBody != nil {
		b, err := r.GetBody()
		if err != nil {
			return nil, err
		}
		r2.Body = b
	}
	r2.Header.Set("Authorization", "Bearer "+access)
	return t.base.RoundTrip(r2)
}

// refused reports whether the wiki refused the bearer token.
func refused(resp *http.Response) bool {
	return resp.StatusCode == http.StatusUnauthorized ||
		resp.Header.Get("MediaWiki-API-Error") == "mwoauth-invalid-authorization"
}

func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
}

func closeBody(r *http.Request) {
	if r.Body != nil {
		r.Body.Close()
	}
}

// freshen refreshes the request's OAuth 2 token when it is due (a no-op
// for OAuth 1.0a). A refused refresh ends the session.
func (a *Auth) freshen(ctx context.Context, st *reqState) error {
	f, ok := a.flow.(*oauth2Flow)
	if !ok || !st.snapshot().loggedIn() {
		return nil
	}
	_, err := (&sessionTokenSource{f: f, st: st}).current(ctx, false, "")
	return err
}

// String keeps the tokens out of logs and error texts.
func (t token2) String() string { return "token2{redacted}" }

// GoString keeps the tokens out of %#v.
func (t token2) GoString() string { return t.String() }

// LogValue keeps the tokens out of slog.
func (t token2) LogValue() slog.Value { return slog.StringValue(t.String()) }
