package mwoauth

import (
	"crypto/rsa"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/wikiauth/mwoauth/mwapi"
	"github.com/wikiauth/mwoauth/session"
)

// Protocol selects the OAuth version a Config uses.
type Protocol int

const (
	// ProtocolAuto picks OAuth 1.0a when ConsumerKey is set and OAuth 2.0
	// when ClientID is set.
	ProtocolAuto Protocol = iota
	// OAuth1 is OAuth 1.0a with HMAC-SHA1 (Special:OAuth/*).
	OAuth1
	// OAuth2 is OAuth 2.0 with PKCE (rest.php/oauth2/*).
	OAuth2
)

// String returns "oauth1", "oauth2" or "auto".
func (p Protocol) String() string {
	switch p {
	case OAuth1:
		return "oauth1"
	case OAuth2:
		return "oauth2"
	}
	return "auto"
}

// Config configures an [Auth]. Its zero values are useful defaults where a
// default is safe; [New] validates the whole Config at start-up and keeps its
// own copy, so the caller's value is never changed.
type Config struct {
	// Wiki is the wiki's script path, e.g. "https://meta.wikimedia.org/w".
	// index.php, api.php and rest.php are derived from it. It must be https,
	// except on a loopback address (for development and tests).
	Wiki string

	// Protocol selects OAuth 1.0a or OAuth 2.0; the zero value picks the one
	// whose credentials are set.
	Protocol Protocol

	// ConsumerKey and ConsumerSecret are the OAuth 1.0a consumer's
	// credentials from Special:OAuthConsumerRegistration.
	ConsumerKey, ConsumerSecret string

	// ConsumerRSAKey signs OAuth 1.0a requests with RSA-SHA1, for a
	// consumer registered with the matching public key. ConsumerSecret is
	// still required: MediaWiki issues one to every consumer and signs the
	// identify JWT with it.
	ConsumerRSAKey *rsa.PrivateKey

	// ClientID and ClientSecret are the OAuth 2.0 client's credentials
	// (Special:OAuthConsumerRegistration/propose/oauth2), sent in the body
	// of the token requests. An empty ClientSecret means a public client
	// (PKCE only). PKCE S256 is used with every client.
	ClientID, ClientSecret string

	// Scopes are the OAuth 2.0 grants requested (e.g. "basic", "editpage");
	// empty means the grants registered with the client.
	Scopes []string

	// CallbackURL is the absolute URL of the callback route, which must
	// match the consumer's registration. Empty means "oob" with OAuth 1.0a:
	// MediaWiki then uses the callback registered with the consumer, and
	// PublicOrigin must be set. Its path is where the callback route is
	// served (default "<BasePath>/oauth-callback"), which may lie outside
	// BasePath. OAuth 2.0 requires it: it is the redirect_uri, which must
	// equal the client's registered redirect URI exactly.
	CallbackURL string

	// PublicOrigin is the application's own origin as browsers see it
	// (scheme://host[:port]), for apps behind a reverse proxy such as
	// Toolforge's. The default is the CallbackURL's origin. It decides the
	// Secure cookie attribute and the same-origin checks of /logout; the
	// request's Host and X-Forwarded-* headers are never used.
	PublicOrigin string

	// BasePath is the path the /login and /logout routes live under
	// (default "/": the routes are /login and /logout).
	BasePath string

	// DefaultNext is where a browser goes after login or logout when no
	// valid next was given (default "/").
	DefaultNext string

	// Authenticate uses Special:OAuth/authenticate instead of authorize:
	// a user who already approved an identity-only consumer is logged in
	// without a click.
	Authenticate bool

	// UserAgent identifies the application to the wiki, with a way to
	// contact its maintainer, e.g. "MyTool/1.2 (https://mytool.toolforge.org;
	// me@example.org)". Required: Wikimedia blocks generic agents.
	UserAgent string

	// SessionKeys are the keys that seal sessions and pending logins, each
	// exactly 32 random bytes, newest first: add a new key in front to rotate,
	// remove old ones when their sessions have expired. Required.
	SessionKeys [][]byte

	// SessionStore keeps sessions on a server. Nil keeps them in an encrypted
	// cookie (the default), which suits a single instance.
	//
	// With OAuth 2.0 every refresh rotates the tokens (the wiki revokes the
	// old refresh token at once; 1.39 and 1.43 have no grace period). With
	// the cookie store the rotated tokens live in one browser's cookie:
	// within one process concurrent requests share a single refresh, but
	// two instances refreshing the same session at once would revoke each
	// other's tokens and log the user out. Apps that run OAuth 2.0 on
	// several instances therefore need a server-side store; [New] logs a
	// warning for OAuth 2.0 with the cookie store.
	SessionStore session.Store

	// SessionMaxAge is the absolute lifetime of a session (default 24h).
	SessionMaxAge time.Duration

	// CookieName is the session cookie's name (default "mwoauth_session";
	// over https the "__Host-" prefix is added).
	CookieName string

	// DenyBlocked refuses login to users the wiki reports as blocked.
	DenyBlocked bool

	// Issuer overrides the "iss" expected in identify JWTs, for wiki farms
	// whose canonical server differs from Wiki's origin. With OAuth 2.0,
	// whose profile has no issuer, it is User.Issuer (default: Wiki's
	// origin).
	Issuer string

	// HTTPClient makes the calls to the wiki. Nil means a client with a 30 s
	// timeout. Redirects are never followed on signed requests. Its Jar is
	// not used: each user's calls keep the wiki's cookies apart.
	HTTPClient *http.Client

	// Logger receives the details of failures, with secrets redacted. Nil
	// means slog.Default().
	Logger *slog.Logger

	// ErrorHandler renders failures of the login routes. Nil means a small
	// page with a generic message and a status code; see [HandlerError].
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)

	// AnonymousOnStoreError lets requests outside the login routes continue
	// as anonymous when the session store fails; by default they get 503.
	AnonymousOnStoreError bool

	// LoginRateLimit limits how often <BasePath>/login starts a login, per
	// browser session and per client address (RemoteAddr only, never
	// X-Forwarded-For): 429 with Retry-After beyond it. The zero value sets
	// no limit (the default).
	LoginRateLimit LoginRateLimit

	// Now is the clock (nil means time.Now); for tests.
	Now func() time.Time
}

// ErrConfig is matched by every error [New] returns for a bad Config.
var ErrConfig = errors.New("mwoauth: invalid config")

func configErr(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrConfig}, args...)...)
}

// settings is the validated, defaulted copy of a Config.
type settings struct {
	Config
	wiki         *url.URL
	callback     *url.URL // nil for oob
	origin       *url.URL
	basePath     string // without trailing slash ("" for "/")
	loginPath    string
	logoutPath   string
	callbackPath string
	secure       bool
}

func (c Config) validate() (*settings, error) {
	s := &settings{Config: c}
	s.SessionKeys = append([][]byte(nil), c.SessionKeys...)
	s.Scopes = append([]string(nil), c.Scopes...)

	if c.Wiki == "" {
		return nil, configErr("Wiki is required (the wiki's script path, e.g. https://meta.wikimedia.org/w)")
	}
	w, err := parseSecureURL("Wiki", c.Wiki)
	if err != nil {
		return nil, err
	}
	if w.RawQuery != "" || w.Fragment != "" {
		return nil, configErr("Wiki %q must be a script path without query or fragment", c.Wiki)
	}
	w.Path = strings.TrimSuffix(strings.TrimSuffix(w.Path, "/api.php"), "/")
	w.Path = strings.TrimSuffix(w.Path, "/index.php")
	s.wiki = w

	switch c.Protocol {
	case ProtocolAuto:
		switch {
		case c.ConsumerKey != "" && c.ClientID != "":
			return nil, configErr("both ConsumerKey (OAuth 1.0a) and ClientID (OAuth 2.0) are set: set Protocol or one of them")
		case c.ClientID != "":
			s.Protocol = OAuth2
		default:
			s.Protocol = OAuth1
		}
	case OAuth1, OAuth2:
	default:
		return nil, configErr("unknown Protocol %d", c.Protocol)
	}
	switch s.Protocol {
	case OAuth1:
		if c.ConsumerKey == "" {
			return nil, configErr("ConsumerKey is required for OAuth 1.0a")
		}
		if c.ConsumerSecret == "" {
			return nil, configErr("ConsumerSecret is required for OAuth 1.0a (also with ConsumerRSAKey: it verifies the identify JWT)")
		}
		if c.ConsumerRSAKey != nil && c.ConsumerRSAKey.Validate() != nil {
			return nil, configErr("ConsumerRSAKey is not a valid RSA private key")
		}
	case OAuth2:
		if c.ClientID == "" {
			return nil, configErr("ClientID is required for OAuth 2.0")
		}
		if c.CallbackURL == "" {
			return nil, configErr("CallbackURL is required for OAuth 2.0 (the client's registered redirect URI)")
		}
	}

	if strings.TrimSpace(c.UserAgent) == "" {
		return nil, configErr("UserAgent is required: name the tool and a contact, e.g. \"MyTool/1.0 (https://example.org; me@example.org)\"")
	}
	if strings.ContainsAny(c.UserAgent, "\r\n") {
		return nil, configErr("UserAgent must be one line")
	}

	if len(c.SessionKeys) == 0 {
		return nil, configErr("SessionKeys is required: at least one key of 32 random bytes")
	}
	for i, k := range c.SessionKeys {
		if len(k) != 32 {
			return nil, configErr("SessionKeys[%d] has %d bytes; each key must be exactly 32 random bytes", i, len(k))
		}
	}

	base := c.BasePath
	if base == "" {
		base = "/"
	}
	if base[0] != '/' || strings.ContainsAny(base, "?#\\ ") {
		return nil, configErr("BasePath %q must be a path starting with /", c.BasePath)
	}
	s.basePath = strings.TrimSuffix(base, "/")
	s.loginPath = s.basePath + "/login"
	s.logoutPath = s.basePath + "/logout"
	s.callbackPath = s.basePath + "/oauth-callback"

	if c.CallbackURL != "" && c.CallbackURL != "oob" {
		cb, err := parseSecureURL("CallbackURL", c.CallbackURL)
		if err != nil {
			return nil, err
		}
		if cb.Fragment != "" {
			return nil, configErr("CallbackURL %q must not have a fragment", c.CallbackURL)
		}
		if cb.Path == "" {
			// The wiki would call back at "/", where no callback route
			// listens.
			return nil, configErr("CallbackURL %q has no path: give the callback route's full URL, e.g. %s", c.CallbackURL, cb.Scheme+"://"+cb.Host+s.callbackPath)
		}
		s.callback = cb
		s.callbackPath = cb.Path
	} else {
		s.CallbackURL = ""
	}

	switch {
	case c.PublicOrigin != "":
		o, err := parseSecureURL("PublicOrigin", c.PublicOrigin)
		if err != nil {
			return nil, err
		}
		if (o.Path != "" && o.Path != "/") || o.RawQuery != "" || o.Fragment != "" {
			return nil, configErr("PublicOrigin %q must be an origin (scheme://host[:port]) without a path", c.PublicOrigin)
		}
		s.origin = &url.URL{Scheme: o.Scheme, Host: o.Host}
	case s.callback != nil:
		s.origin = &url.URL{Scheme: s.callback.Scheme, Host: s.callback.Host}
	default:
		return nil, configErr("PublicOrigin is required when CallbackURL is empty (oob)")
	}
	if s.callback != nil && !sameOrigin(s.callback, s.origin) {
		// A callback on another origin could never see the cookies that
		// /login set on ours.
		return nil, configErr("CallbackURL %q is not on PublicOrigin %q: the pending login's cookie would not reach it", c.CallbackURL, s.origin)
	}
	s.secure = s.origin.Scheme == "https"

	if c.DefaultNext == "" {
		s.DefaultNext = "/"
	} else if _, ok := safeNext(c.DefaultNext); !ok {
		return nil, configErr("DefaultNext %q must be a path on the application's origin", c.DefaultNext)
	}
	if err := c.LoginRateLimit.validate(); err != nil {
		return nil, err
	}
	if c.SessionMaxAge < 0 {
		return nil, configErr("SessionMaxAge must not be negative")
	}
	if c.Logger == nil {
		s.Logger = slog.Default()
	}
	if c.Now == nil {
		s.Now = time.Now
	}
	if c.HTTPClient == nil {
		s.HTTPClient = &http.Client{Timeout: 30 * time.Second, Transport: mwapi.NewTransport(0)}
	} else if c.HTTPClient.Jar != nil {
		// One jar for every user would share the wiki's cookies between
		// them: each user's calls keep cookies of their own instead.
		hc := *c.HTTPClient
		hc.Jar = nil
		s.HTTPClient = &hc
	}
	return s, nil
}

// parseSecureURL parses an absolute http(s) URL that must be https unless its
// host is a loopback address, and that carries no userinfo.
func parseSecureURL(field, raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, configErr("%s %q is not a URL: %v", field, raw, err)
	}
	if u.Scheme != "https" && u.Scheme != "http" || u.Host == "" {
		return nil, configErr("%s %q must be an absolute https URL", field, raw)
	}
	if u.User != nil {
		return nil, configErr("%s must not contain a user name or password", field)
	}
	if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		return nil, configErr("%s %q must use https (plain http is allowed only on loopback addresses)", field, raw)
	}
	return u, nil
}

func isLoopback(host string) bool {
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func sameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(hostPort(a), hostPort(b))
}

// hostPort returns host:port with the scheme's default port made explicit.
func hostPort(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = "80"
		if strings.EqualFold(u.Scheme, "https") {
			port = "443"
		}
	}
	return net.JoinHostPort(strings.ToLower(u.Hostname()), port)
}
