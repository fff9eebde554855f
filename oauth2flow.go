package mwoauth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	mathrand "math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/wikiauth/mwoauth/internal/randutil"
)

// Limits of the OAuth 2.0 side.
const (
	maxStateLen  = 128     // SECURITY.md item 19
	maxCodeLen   = 4096    // league auth codes are encrypted blobs of ~1 kB
	maxTokenLen  = 8 << 10 // an access or refresh token we are willing to keep
	maxProfile   = 1 << 20 // bytes of a profile response we read
	maxExpiresIn = 365 * 24 * time.Hour
	// defaultExpiresIn is assumed when expires_in is missing or not sane.
	defaultExpiresIn = time.Hour
)

// oauth2Flow is the OAuth 2.0 side of the login (rest.php/oauth2/*),
// through golang.org/x/oauth2 with PKCE S256 always.
type oauth2Flow struct {
	a       *Auth
	conf    *oauth2.Config
	profile string       // rest.php/oauth2/resource/profile
	hc      *http.Client // Config.HTTPClient that never follows redirects
	issuer  string
	ref     *refresher
}

func newOAuth2Flow(a *Auth) (flow, error) {
	s := a.cfg
	if s.callback == nil {
		return nil, configErr("CallbackURL is required for OAuth 2.0 (the client's registered redirect URI); \"oob\" is OAuth 1.0a only")
	}
	for _, sc := range s.Scopes {
		if sc == "" || !printable(sc) {
			return nil, configErr("Scopes has %q: each scope is one grant name, e.g. \"basic\" or \"editpage\"", sc)
		}
	}
	rest := s.wiki.String() + "/rest.php/oauth2"
	hc := *s.HTTPClient
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	f := &oauth2Flow{
		a: a,
		conf: &oauth2.Config{
			ClientID:     s.ClientID,
			ClientSecret: s.ClientSecret,
			Endpoint: oauth2.Endpoint{
				AuthURL:   rest + "/authorize",
				TokenURL:  rest + "/access_token",
				AuthStyle: oauth2.AuthStyleInParams,
			},
			RedirectURL: s.CallbackURL,
			Scopes:      s.Scopes,
		},
		profile: rest + "/resource/profile",
		hc:      &hc,
		issuer:  s.Issuer,
	}
	if f.issuer == "" {
		f.issuer = s.wiki.Scheme + "://" + s.wiki.Host
	}
	f.ref = newRefresher(f)
	return f, nil
}

// tokenContext carries our HTTP client to x/oauth2 (only inside this
// package's calls, never on the caller's context).
func (f *oauth2Flow) tokenContext(ctx context.Context) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, &http.Client{
		Transport:     uaTransport{base: f.hc.Transport, ua: f.a.cfg.UserAgent},
		CheckRedirect: f.hc.CheckRedirect,
		Jar:           nil,
		Timeout:       f.hc.Timeout,
	})
}

func (f *oauth2Flow) begin(ctx context.Context) (string, pendingLogin, error) {
	state, err := randutil.State()
	if err != nil {
		return "", pendingLogin{}, fmt.Errorf("mwoauth: making the OAuth 2 state: %w", err)
	}
	verifier := oauth2.GenerateVerifier()
	u := f.conf.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier))
	return u, pendingLogin{Proto: OAuth2, Handle: state, Secret: verifier}, nil
}

// declinedErrors are the error codes MediaWiki sends when the user presses
// Cancel (1.39 and 1.43: unauthorized_client; RFC 6749: access_denied).
var declinedErrors = map[string]bool{"unauthorized_client": true, "access_denied": true}

func (f *oauth2Flow) parseCallback(q url.Values) (string, error) {
	if _, ok := q["error"]; ok {
		code, err := callbackParam(q, "error", 256)
		if err != nil {
			return "", err
		}
		if _, ok := q["code"]; ok {
			return "", fmt.Errorf("%w: both error and code", ErrMalformedCallback)
		}
		if _, ok := q["state"]; !ok {
			// MediaWiki sends a declined consent without state: we cannot
			// tell which pending login it ends, and anyone can send it
			// cross-site, so pending logins are left to expire.
			return "", callbackError(code)
		}
		return callbackParam(q, "state", maxStateLen)
	}
	if _, err := callbackParam(q, "code", maxCodeLen); err != nil {
		return "", err
	}
	switch v := q["state"]; {
	case len(v) == 0 || (len(v) == 1 && v[0] == ""):
		// A code without a state: a login CSRF attempt or a broken
		// client; refused like a state that matches nothing.
		return "", fmt.Errorf("%w: state missing", ErrNoPendingLogin)
	}
	return callbackParam(q, "state", maxStateLen)
}

// callbackError turns the error code of a callback into ours.
func callbackError(code string) error {
	if declinedErrors[code] {
		return fmt.Errorf("%w (%s)", ErrLoginDeclined, code)
	}
	return fmt.Errorf("%w: the wiki sent error %q", ErrLoginFailed, code)
}

func (f *oauth2Flow) finish(ctx context.Context, p pendingLogin, q url.Values) (*sessionData, error) {
	if !randutil.Equal(p.Handle, q.Get("state")) {
		return nil, fmt.Errorf("%w: state mismatch", ErrNoPendingLogin)
	}
	if _, ok := q["error"]; ok {
		// The pending login was taken (ended) by the caller.
		return nil, callbackError(q.Get("error"))
	}
	tok, err := f.conf.Exchange(f.tokenContext(ctx), q.Get("code"), oauth2.VerifierOption(p.Secret))
	if err != nil {
		return nil, tokenError("token", err)
	}
	t2, err := f.checkToken(tok, "")
	if err != nil {
		return nil, err
	}
	u, err := f.fetchProfile(ctx, f.hc, t2.Access)
	if err != nil {
		return nil, err
	}
	return &sessionData{Proto: OAuth2, Token2: t2, User: u}, nil
}

// checkToken validates a token response (SECURITY.md item 43) and returns
// what the session keeps. oldRefresh is kept when the response has no
// refresh token.
func (f *oauth2Flow) checkToken(tok *oauth2.Token, oldRefresh string) (*token2, error) {
	switch {
	case tok == nil || tok.AccessToken == "":
		return nil, fmt.Errorf("%w: token response without access_token", ErrLoginFailed)
	case !strings.EqualFold(tok.TokenType, "bearer"):
		return nil, fmt.Errorf("%w: token response with token_type %.20q, not bearer", ErrLoginFailed, tok.TokenType)
	case len(tok.AccessToken) > maxTokenLen || len(tok.RefreshToken) > maxTokenLen:
		return nil, fmt.Errorf("%w: token response with a token of more than %d bytes", ErrLoginFailed, maxTokenLen)
	case !printable(tok.AccessToken) || !printable(tok.RefreshToken):
		return nil, fmt.Errorf("%w: token response with a token outside printable ASCII", ErrLoginFailed)
	}
	life := time.Duration(tok.ExpiresIn) * time.Second
	if tok.ExpiresIn <= 0 || tok.ExpiresIn > int64(maxExpiresIn/time.Second) {
		life = defaultExpiresIn
	}
	t := &token2{Access: tok.AccessToken, Refresh: tok.RefreshToken, Expiry: f.a.now().Add(life).Unix()}
	if t.Refresh == "" {
		t.Refresh = oldRefresh
	}
	return t, nil
}

func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x21 || c > 0x7e {
			return false
		}
	}
	return true
}

// profileJSON is rest.php/oauth2/resource/profile's answer (oauth2-10).
type profileJSON struct {
	Sub            json.RawMessage `json:"sub"`
	Username       string          `json:"username"`
	EditCount      int             `json:"editcount"`
	ConfirmedEmail bool            `json:"confirmed_email"`
	Blocked        bool            `json:"blocked"`
	Registered     string          `json:"registered"`
	Groups         []string        `json:"groups"`
	Rights         []string        `json:"rights"`
	Grants         []string        `json:"grants"`
	Email          string          `json:"email"`
	RealName       string          `json:"realname"`
	Error          string          `json:"error"`
}

// ProfileError is a failed answer of the wiki's OAuth 2 profile endpoint
// (rest.php/oauth2/resource/profile): its status and, when the body was the
// JSON error of Extension:OAuth, its error code (e.g. "access_denied").
type ProfileError struct {
	StatusCode int
	Code       string // "" when the body was no JSON error
	Hint       string
}

// Error describes the failure.
func (e *ProfileError) Error() string {
	s := "mwoauth: profile: HTTP " + strconv.Itoa(e.StatusCode)
	if e.Code != "" {
		s += " " + e.Code
	}
	if e.Hint != "" {
		s += " (" + e.Hint + ")"
	}
	return s
}

// fetchProfile asks the wiki who the access token belongs to. The body is
// JSON whether it is labelled text/html (1.39) or application/json (1.43);
// a 5xx or a body that is not a profile is an error, never a profile.
// fetchProfile reads the profile, retrying once, after a short random
// wait, when the wiki answered a 5xx or the connection failed (not after a
// timeout): the call is idempotent (SECURITY.md R3).
func (f *oauth2Flow) fetchProfile(ctx context.Context, hc *http.Client, access string) (*User, error) {
	u, err := f.fetchProfileOnce(ctx, hc, access)
	if err == nil || !errors.Is(err, errTransient) || isTimeout(err) || ctx.Err() != nil {
		return u, err
	}
	wait := 150*time.Millisecond + time.Duration(mathrand.Int64N(int64(150*time.Millisecond)))
	select {
	case <-time.After(wait):
	case <-ctx.Done():
		return nil, err
	}
	return f.fetchProfileOnce(ctx, hc, access)
}

// errTransient marks profile failures worth one retry; its text is empty.
var errTransient = errors.New("")

func (f *oauth2Flow) fetchProfileOnce(ctx context.Context, hc *http.Client, access string) (*User, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.profile, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: profile: %w", ErrLoginFailed, err)
	}
	req.Header.Set("User-Agent", f.a.cfg.UserAgent)
	req.Header.Set("Accept", "application/json")
	if access != "" {
		req.Header.Set("Authorization", "Bearer "+access)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w%w: profile: %w", ErrWikiUnavailable, errTransient, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxProfile+1))
	if err != nil {
		return nil, fmt.Errorf("%w%w: profile: reading: %w", ErrWikiUnavailable, errTransient, err)
	}
	if len(body) > maxProfile {
		return nil, fmt.Errorf("%w: profile: answer of more than %d bytes", ErrWikiUnavailable, maxProfile)
	}
	if resp.StatusCode != http.StatusOK {
		pe := &ProfileError{StatusCode: resp.StatusCode}
		var ej struct {
			Error string `json:"error"`
			Hint  string `json:"hint"`
		}
		if json.Unmarshal(body, &ej) == nil {
			pe.Code, pe.Hint = ej.Error, ej.Hint
		}
		switch {
		case resp.StatusCode == http.StatusUnauthorized && (pe.Code == "access_denied" || pe.Code == "invalid_token" || pe.Code == ""):
			return nil, fmt.Errorf("%w: %w", ErrTokenRevoked, pe)
		case resp.StatusCode == http.StatusForbidden:
			return nil, fmt.Errorf("%w: %w", ErrAccountUnavailable, pe)
		case resp.StatusCode >= 300 && resp.StatusCode < 400:
			// Not followed (SECURITY.md R8); the log names the target.
			return nil, fmt.Errorf("%w: %w: redirect to %q, not followed", ErrWikiUnavailable, pe, redirectTarget(resp))
		case resp.StatusCode >= 500:
			return nil, fmt.Errorf("%w%w: %w", ErrWikiUnavailable, errTransient, pe)
		}
		return nil, fmt.Errorf("%w: %w", ErrLoginFailed, pe)
	}
	var p profileJSON
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, fmt.Errorf("%w: profile: the answer is not JSON (%w)", ErrWikiUnavailable, err)
	}
	if p.Error != "" {
		if p.Error == "access_denied" {
			return nil, fmt.Errorf("%w: profile: error %q with HTTP 200", ErrTokenRevoked, p.Error)
		}
		return nil, fmt.Errorf("%w: profile: error %.40q with HTTP 200", ErrLoginFailed, p.Error)
	}
	sub := subject(p.Sub)
	if sub == "" {
		return nil, fmt.Errorf("%w: the profile has no sub", ErrAccountUnavailable)
	}
	u := &User{
		ID:             sub,
		Issuer:         f.issuer,
		Username:       p.Username,
		Groups:         p.Groups,
		Rights:         p.Rights,
		Grants:         p.Grants,
		Blocked:        p.Blocked,
		EditCount:      p.EditCount,
		EmailConfirmed: p.ConfirmedEmail,
		Email:          p.Email,
		RealName:       p.RealName,
		Fetched:        f.a.now().UTC().Truncate(time.Second),
	}
	if t, err := time.Parse("20060102150405", p.Registered); err == nil {
		u.Registered = t
	}
	return u, nil
}

// subject reads sub as a decimal string (MediaWiki sends a string; a number
// is accepted too).
func subject(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if _, err := strconv.ParseUint(s, 10, 64); err == nil && s != "0" {
			return s
		}
		return ""
	}
	var n uint64
	if json.Unmarshal(raw, &n) == nil && n != 0 {
		return strconv.FormatUint(n, 10)
	}
	return ""
}

func (f *oauth2Flow) identify(ctx context.Context, st *reqState, d *sessionData) (*User, error) {
	if d.Token2 == nil {
		return nil, ErrNotLoggedIn
	}
	hc, err := f.client(st, d)
	if err != nil {
		return nil, err
	}
	// The bearer transport adds the (refreshed) token and retries once
	// after a 401 with a refreshed one.
	return f.fetchProfile(ctx, hc, "")
}

func (f *oauth2Flow) client(st *reqState, d *sessionData) (*http.Client, error) {
	if d.Token2 == nil {
		return nil, ErrNotLoggedIn
	}
	base := f.hc.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	return &http.Client{
		Transport:     &sessionBearer{src: &sessionTokenSource{f: f, st: st}, base: base},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Jar:           f.hc.Jar,
		Timeout:       f.hc.Timeout,
	}, nil
}

// credentialID is stable for the session's whole life (refreshes rotate
// both tokens): a hash of the client id and the user's sub.
func (f *oauth2Flow) credentialID(d *sessionData) string {
	if d.Token2 == nil || d.User == nil {
		return ""
	}
	h := sha256.Sum256([]byte("oauth2\x00" + f.conf.ClientID + "\x00" + d.User.Issuer + "\x00" + d.User.ID))
	return hex.EncodeToString(h[:12])
}

// tokenError classifies an error of the token endpoint (exchange or
// refresh), keeping *oauth2.RetrieveError in the chain.
func tokenError(op string, err error) error {
	var re *oauth2.RetrieveError
	kind := ErrLoginFailed
	switch {
	case errors.As(err, &re):
		status := 0
		if re.Response != nil {
			status = re.Response.StatusCode
		}
		switch {
		case status >= 500 || (status >= 300 && status < 400):
			kind = ErrWikiUnavailable
		case re.ErrorCode == "invalid_client" || re.ErrorCode == "unauthorized_client" || re.ErrorCode == "unsupported_grant_type":
			kind = ErrMisconfigured
		case re.ErrorCode == "invalid_grant" || re.ErrorCode == "invalid_request":
			kind = ErrNoPendingLogin
		}
		return fmt.Errorf("%w: %s: %w", kind, op, &retrieveError{re})
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled), isNetError(err):
		kind = ErrWikiUnavailable
	}
	return fmt.Errorf("%w: %s: %w", kind, op, err)
}

// retrieveError wraps *oauth2.RetrieveError with a short message: its own
// Error() includes the whole response body.
type retrieveError struct{ e *oauth2.RetrieveError }

func (r *retrieveError) Error() string {
	s := "oauth2: token endpoint"
	if resp := r.e.Response; resp != nil {
		s += " answered HTTP " + strconv.Itoa(resp.StatusCode)
		if resp.StatusCode >= 300 && resp.StatusCode < 400 {
			// Not followed (SECURITY.md R8); the log names the target.
			s += ": redirect to " + strconv.Quote(redirectTarget(resp)) + ", not followed"
		}
	}
	if r.e.ErrorCode != "" {
		s += " " + strconv.Quote(r.e.ErrorCode)
	}
	if r.e.ErrorDescription != "" {
		d := r.e.ErrorDescription
		if len(d) > 200 {
			d = d[:200]
		}
		s += ": " + strconv.Quote(d)
	}
	return s
}

func (r *retrieveError) Unwrap() error { return r.e }

// uaTransport sets the User-Agent on the token endpoint's requests.
type uaTransport struct {
	base http.RoundTripper
	ua   string
}

func (t uaTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	base := t.base
	if base == nil {
		base = http.DefaultTransport
	}
	r2 := r.Clone(r.Context())
	r2.Header.Set("User-Agent", t.ua)
	return base.RoundTrip(r2)
}

// redirectTarget returns a redirect's Location for logs, without its query,
// fragment and userinfo, which may carry tokens.
func redirectTarget(resp *http.Response) string {
	u, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		return "(unparseable)"
	}
	if u.RawQuery != "" || u.ForceQuery {
		u.RawQuery, u.ForceQuery = "…", false
	}
	u.Fragment, u.RawFragment, u.User = "", "", nil
	return u.String()
}
