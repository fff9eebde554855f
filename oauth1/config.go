package oauth1

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultTimeout is the timeout of the HTTP client used when
// Config.HTTPClient is nil.
const DefaultTimeout = 30 * time.Second

// Config is an OAuth 1.0a consumer of one MediaWiki wiki. The zero values of
// the optional fields are useful defaults. A Config is read, never modified,
// by its methods, and is safe for concurrent use once set up.
type Config struct {
	// Wiki is the script path of the wiki, e.g. "https://meta.wikimedia.org/w";
	// index.php is derived from it. It must be https, or http on a loopback
	// host (for development).
	Wiki string
	// ConsumerKey and ConsumerSecret are the consumer's credentials.
	// ConsumerSecret is required, except that a consumer signing with
	// RSASHA1 can sign requests without it; Identify always needs it, as
	// MediaWiki signs the identify JWT with the consumer secret.
	ConsumerKey    string
	ConsumerSecret string
	// Callback is the oauth_callback sent at initiate: "" or "oob" send
	// "oob" (the registered callback is used); any other value must be an
	// absolute http(s) URL and only works for consumers registered with
	// "callback is a prefix".
	Callback string
	// UserAgent is required; every request sends it. Wikimedia asks for a
	// descriptive agent with contact information.
	UserAgent string
	// HTTPClient is used for the handshake and, via its Transport, Jar and
	// Timeout, by Client. nil means a client with DefaultTimeout. Redirects
	// are never followed on signed requests: the client is copied with a
	// CheckRedirect that stops at the first response.
	HTTPClient *http.Client
	// Signer signs requests; nil means HMACSHA1{}. Use RSASHA1 for a
	// consumer registered with an RSA public key.
	Signer Signer
	// Authenticate makes AuthorizationURL use Special:OAuth/authenticate
	// (silent for identity-only consumers the user already approved)
	// instead of Special:OAuth/authorize.
	Authenticate bool
	// Issuer is the expected "iss" of identify JWTs; "" means
	// scheme://host[:port] of Wiki (MediaWiki sends $wgCanonicalServer).
	Issuer string
	// Leeway is the clock leeway for the identify JWT's iat and exp; 0 (or
	// less) means 60 s. It is capped at 300 s.
	Leeway time.Duration
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// Retry makes RequestToken and Identify, which are idempotent, try once
	// more after a short random wait (RetryWait) when the wiki answers with
	// a server error (5xx) or the connection fails or breaks off; not after
	// a timeout, a cancelled context, a redirect, an HTML page with another
	// status or an error the wiki reports. Each attempt is signed afresh
	// (new nonce and timestamp). AccessToken is never retried: the exchange
	// is single-use (SECURITY.md R3).
	Retry bool
	// RetryWait is the base of the wait before the retry: the wait is
	// random between RetryWait and twice it. 0 (or less) means 150 ms.
	RetryWait time.Duration
	// Nonce returns a fresh oauth_nonce; nil means 16 bytes from
	// crypto/rand, hex-encoded. An error fails the request before it is sent.
	Nonce func() (string, error)
}

// endpoints are the URLs derived from Config.Wiki.
type endpoints struct {
	script *url.URL // scheme://host/path (no trailing slash)
	index  string   // script + "/index.php"
}

// parsed validates c and derives its endpoints.
func (c *Config) parsed() (*endpoints, error) {
	if c == nil {
		return nil, fmt.Errorf("%w: nil Config", ErrInvalidConfig)
	}
	if err := c.checkCredentials(); err != nil {
		return nil, err
	}
	if c.UserAgent == "" {
		return nil, fmt.Errorf("%w: UserAgent is required", ErrInvalidConfig)
	}
	u, err := url.Parse(strings.TrimRight(c.Wiki, "/"))
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("%w: Wiki must be an absolute URL without user, query or fragment, like https://meta.wikimedia.org/w", ErrInvalidConfig)
	}
	u.Scheme = strings.ToLower(u.Scheme)
	switch u.Scheme {
	case "https":
	case "http":
		if !isLoopback(u.Hostname()) {
			return nil, fmt.Errorf("%w: Wiki must use https (http only on loopback hosts)", ErrInvalidConfig)
		}
	default:
		return nil, fmt.Errorf("%w: Wiki must use https", ErrInvalidConfig)
	}
	if _, err := c.callback(); err != nil {
		return nil, err
	}
	return &endpoints{script: u, index: u.String() + "/index.php"}, nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkCredentials requires ConsumerKey, ConsumerSecret (unless the Signer
// is RSA-SHA1, whose signatures do not use it) and a usable Signer.
func (c *Config) checkCredentials() error {
	if c.ConsumerKey == "" {
		return fmt.Errorf("%w: ConsumerKey is required", ErrInvalidConfig)
	}
	s := c.signer()
	if err := checkSigner(s); err != nil {
		return err
	}
	if c.ConsumerSecret == "" && needsSecret(s) {
		return fmt.Errorf("%w: ConsumerKey and ConsumerSecret are required", ErrInvalidConfig)
	}
	return nil
}

// callback returns the oauth_callback value to send.
func (c *Config) callback() (string, error) {
	if c.Callback == "" || c.Callback == "oob" {
		return "oob", nil
	}
	u, err := url.Parse(c.Callback)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return "", fmt.Errorf("%w: Callback must be \"oob\" or an absolute http(s) URL without user info", ErrInvalidConfig)
	}
	return c.Callback, nil
}

// specialURL returns index.php?title=Special:OAuth/<sub> plus extra query
// parameters, in this order (title first, as MediaWiki's own clients do).
func (e *endpoints) specialURL(sub string, extra ...Param) string {
	var b strings.Builder
	b.WriteString(e.index)
	b.WriteString("?title=Special:OAuth/")
	b.WriteString(sub)
	for _, p := range extra {
		b.WriteByte('&')
		b.WriteString(url.QueryEscape(p.Key))
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(p.Value))
	}
	return b.String()
}

// issuer returns the expected iss of identify JWTs.
func (c *Config) issuer(e *endpoints) string {
	if c.Issuer != "" {
		return c.Issuer
	}
	host := strings.ToLower(e.script.Hostname())
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	port := e.script.Port()
	if port != "" && !(e.script.Scheme == "http" && port == "80") && !(e.script.Scheme == "https" && port == "443") {
		host += ":" + port
	}
	return e.script.Scheme + "://" + host
}

func (c *Config) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Config) nonce() (string, error) {
	if c.Nonce != nil {
		n, err := c.Nonce()
		if err != nil {
			return "", fmt.Errorf("oauth1: nonce: %w", err)
		}
		if n == "" {
			return "", fmt.Errorf("oauth1: nonce: empty nonce")
		}
		return n, nil
	}
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("oauth1: nonce: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

func (c *Config) signer() Signer {
	if c.Signer != nil {
		return c.Signer
	}
	return HMACSHA1{}
}

var defaultClient = &http.Client{Timeout: DefaultTimeout}

// noRedirectClient returns a copy of the configured client that never
// follows redirects.
func (c *Config) noRedirectClient() *http.Client {
	base := c.HTTPClient
	if base == nil {
		base = defaultClient
	}
	cl := *base
	cl.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &cl
}

// AuthorizationURL returns the page to send the user's browser to, for the
// request token rt: index.php?title=Special:OAuth/authorize (or
// /authenticate with Config.Authenticate) with oauth_token and
// oauth_consumer_key. It returns "" when Wiki is unusable or rt is nil.
func (c *Config) AuthorizationURL(rt *Token) string {
	e, err := c.parsed()
	if err != nil || rt == nil {
		return ""
	}
	sub := "authorize"
	if c.Authenticate {
		sub = "authenticate"
	}
	return e.specialURL(sub, Param{"oauth_token", rt.Key}, Param{"oauth_consumer_key", c.ConsumerKey})
}
