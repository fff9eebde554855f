package mwoauth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/wikiauth/mwoauth/oauth1"
)

// oauth1Flow is the OAuth 1.0a side of the login (Special:OAuth/*).
type oauth1Flow struct {
	a   *Auth
	cfg *oauth1.Config
}

func newOAuth1Flow(a *Auth) *oauth1Flow {
	s := a.cfg
	var signer oauth1.Signer // nil: HMAC-SHA1
	if s.ConsumerRSAKey != nil {
		signer = oauth1.RSASHA1{Key: s.ConsumerRSAKey}
	}
	return &oauth1Flow{a: a, cfg: &oauth1.Config{
		Signer:         signer,
		Wiki:           s.wiki.String(),
		ConsumerKey:    s.ConsumerKey,
		ConsumerSecret: s.ConsumerSecret,
		Callback:       s.CallbackURL,
		UserAgent:      s.UserAgent,
		HTTPClient:     s.HTTPClient,
		Authenticate:   s.Authenticate,
		Issuer:         s.Issuer,
		Now:            s.Now,
		// One retry, with jitter, for the idempotent initiate and identify
		// after a 5xx or a dropped connection; never for the token
		// exchange (SECURITY.md R3).
		Retry: true,
	}}
}

func (f *oauth1Flow) begin(ctx context.Context) (string, pendingLogin, error) {
	rt, err := f.cfg.RequestToken(ctx)
	if err != nil {
		return "", pendingLogin{}, wikiError("initiate", err)
	}
	return f.cfg.AuthorizationURL(rt), pendingLogin{Proto: OAuth1, Handle: rt.Key, Secret: rt.Secret}, nil
}

func (f *oauth1Flow) parseCallback(q url.Values) (string, error) {
	tok, err := callbackParam(q, "oauth_token", 256)
	if err != nil {
		return "", err
	}
	if _, err := callbackParam(q, "oauth_verifier", 256); err != nil {
		return "", err
	}
	return tok, nil
}

func (f *oauth1Flow) finish(ctx context.Context, p pendingLogin, q url.Values) (*sessionData, error) {
	rt := &oauth1.Token{Key: p.Handle, Secret: p.Secret}
	at, err := f.cfg.AccessToken(ctx, rt, q.Get("oauth_token"), q.Get("oauth_verifier"))
	if err != nil {
		return nil, wikiError("token", err)
	}
	id, err := f.cfg.Identify(ctx, at)
	if err != nil {
		return nil, wikiError("identify", err)
	}
	return &sessionData{Proto: OAuth1, Token1: &token1{Key: at.Key, Secret: at.Secret}, User: userFromIdentity(id, f.a.now())}, nil
}

func (f *oauth1Flow) identify(ctx context.Context, st *reqState, d *sessionData) (*User, error) {
	if d.Token1 == nil {
		return nil, ErrNotLoggedIn
	}
	id, err := f.cfg.Identify(ctx, &oauth1.Token{Key: d.Token1.Key, Secret: d.Token1.Secret})
	if err != nil {
		if errors.Is(err, oauth1.ErrAccessTokenNotFound) {
			return nil, fmt.Errorf("%w: %w", ErrTokenRevoked, err)
		}
		return nil, wikiError("identify", err)
	}
	return userFromIdentity(id, f.a.now()), nil
}

func (f *oauth1Flow) client(st *reqState, d *sessionData) (*http.Client, error) {
	if d.Token1 == nil {
		return nil, ErrNotLoggedIn
	}
	return f.cfg.Client(&oauth1.Token{Key: d.Token1.Key, Secret: d.Token1.Secret}), nil
}

func (f *oauth1Flow) credentialID(d *sessionData) string {
	if d.Token1 == nil {
		return ""
	}
	h := sha256.Sum256([]byte("oauth1\x00" + f.cfg.ConsumerKey + "\x00" + d.Token1.Key))
	return hex.EncodeToString(h[:12])
}

// callbackParam returns the one value of key in a callback query: present
// exactly once, non-empty, at most max bytes of printable ASCII.
func callbackParam(q url.Values, key string, max int) (string, error) {
	v, ok := q[key]
	switch {
	case !ok:
		return "", fmt.Errorf("%w: %s missing", ErrMalformedCallback, key)
	case len(v) != 1:
		return "", fmt.Errorf("%w: %s repeated", ErrMalformedCallback, key)
	case v[0] == "":
		return "", fmt.Errorf("%w: %s empty", ErrMalformedCallback, key)
	case len(v[0]) > max:
		return "", fmt.Errorf("%w: %s of %d bytes", ErrMalformedCallback, key, len(v[0]))
	}
	for i := 0; i < len(v[0]); i++ {
		if c := v[0][i]; c < 0x21 || c > 0x7e {
			return "", fmt.Errorf("%w: %s has a byte outside printable ASCII", ErrMalformedCallback, key)
		}
	}
	return v[0], nil
}

// wikiError classifies an error of the oauth1 client for the login routes,
// keeping the original in the chain.
func wikiError(op string, err error) error {
	var kind error
	var we *oauth1.Error
	switch {
	case errors.As(err, &we) && (containsFold(we.Key, "blocked") || containsFold(we.Key, "locked")):
		kind = ErrAccountUnavailable
	case errors.Is(err, oauth1.ErrConsumerRejected), errors.Is(err, oauth1.ErrCallbackNotAllowed),
		errors.Is(err, oauth1.ErrOwnerOnly), errors.Is(err, oauth1.ErrInvalidSignature):
		kind = ErrMisconfigured
	case errors.Is(err, oauth1.ErrRequestTokenUsed), errors.Is(err, oauth1.ErrRequestTokenNotFound),
		errors.Is(err, oauth1.ErrBadToken), errors.Is(err, oauth1.ErrBadVerifier), errors.Is(err, oauth1.ErrTokenMismatch):
		kind = ErrNoPendingLogin
	case errors.Is(err, oauth1.ErrWikiUnavailable), errors.Is(err, oauth1.ErrUnexpectedRedirect),
		errors.Is(err, oauth1.ErrMalformedResponse), errors.Is(err, oauth1.ErrResponseTooLarge),
		errors.Is(err, context.DeadlineExceeded), isNetError(err):
		kind = ErrWikiUnavailable
	default:
		kind = ErrLoginFailed
	}
	var skew *oauth1.ClockSkewError
	if errors.As(err, &skew) {
		// The wiki's error text gives both clocks but not the fix: say it
		// in the log line (SECURITY.md R7).
		return fmt.Errorf("%w: %s: %w (%s)", kind, op, err, skew)
	}
	return fmt.Errorf("%w: %s: %w", kind, op, err)
}

func userFromIdentity(id *oauth1.Identity, now time.Time) *User {
	u := &User{
		ID:             id.Subject,
		Issuer:         id.Issuer,
		Username:       id.Username,
		Groups:         id.Groups,
		Rights:         id.Rights,
		Grants:         id.Grants,
		Blocked:        id.Blocked,
		EditCount:      id.EditCount,
		EmailConfirmed: id.ConfirmedEmail,
		Email:          id.Email,
		RealName:       id.RealName,
		Fetched:        now.UTC().Truncate(time.Second),
	}
	if t, err := time.Parse("20060102150405", id.Registered); err == nil {
		u.Registered = t
	}
	return u
}
