package mwoauth

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/wikiauth/mwoauth/mwapi"
	"github.com/wikiauth/mwoauth/oauth1"
)

// maxCredentialLen bounds a credential value (OAuth 2 access tokens are
// JWTs of about 1 KB; OAuth 1 values are 32 or 40 hex digits).
const maxCredentialLen = 8 << 10

// ownerOnlyTimeout bounds each HTTP exchange of an owner-only client
// (mwapi's per-attempt timeout, WithTimeout, is usually shorter).
const ownerOnlyTimeout = 2 * time.Minute

// ownerOnlyTransport is the connection pool shared by the owner-only clients
// of the process.
var ownerOnlyTransport = sync.OnceValue(func() http.RoundTripper { return mwapi.NewTransport(0) })

// OwnerOnlyOAuth1 returns an Action API client for an owner-only OAuth 1.0a
// consumer: the four values the wiki showed at registration (consumer token
// and secret, access token and secret). wiki is the script path
// ("https://meta.wikimedia.org/w") or its api.php URL, https except on a
// loopback host; userAgent is the required descriptive User-Agent. Every
// request is signed with HMAC-SHA1. Bad input fails with an error matching
// ErrConfig; no request is sent until the first call.
//
// Owner-only consumers are for bots and scripts that act as the one user
// who registered them ("This consumer is for use only by <user>" on
// Special:OAuthConsumerRegistration/propose): there is no handshake, and
// the wiki shows the credentials once, at registration. OwnerOnlyOAuth1,
// [OwnerOnlyOAuth2] and [ClientCredentials] each return a ready
// *mwapi.Client that acts as that user. The clients send assert=user (an
// edit never goes out anonymously), keep a cookie jar of their own (as the
// owner-only documentation asks), follow no redirects, and take the usual
// mwapi options, e.g. mwapi.Background() for bots; a WithHTTPClient option
// is overridden, since the client carries the credentials (over a shared
// pool of mwapi.NewTransport). Credentials the wiki refuses show up at the
// first call as errors matching mwapi.ErrTokenRevoked. Nothing logs or
// prints the secrets.
func OwnerOnlyOAuth1(wiki, consumerKey, consumerSecret, accessKey, accessSecret, userAgent string, opts ...mwapi.Option) (*mwapi.Client, error) {
	const op = "owner-only OAuth 1"
	script, err := ownerOnlyWiki(op, wiki)
	if err != nil {
		return nil, err
	}
	for _, f := range []struct{ name, value string }{
		{"consumer key", consumerKey}, {"consumer secret", consumerSecret},
		{"access token", accessKey}, {"access secret", accessSecret},
	} {
		if err := checkCredential(op, f.name, f.value); err != nil {
			return nil, err
		}
	}
	if err := checkUserAgent(op, userAgent); err != nil {
		return nil, err
	}
	cfg := &oauth1.Config{ConsumerKey: consumerKey, ConsumerSecret: consumerSecret, UserAgent: userAgent}
	hc := &http.Client{
		Transport:     cfg.Transport(&oauth1.Token{Key: accessKey, Secret: accessSecret}, ownerOnlyTransport()),
		Timeout:       ownerOnlyTimeout,
		CheckRedirect: noRedirect,
	}
	h := sha256.Sum256([]byte("oauth1\x00" + consumerKey + "\x00" + accessKey))
	return newOwnerOnlyClient(op, script.String(), userAgent, hc, hex.EncodeToString(h[:12]), opts)
}

// OwnerOnlyOAuth2 returns an Action API client for an owner-only OAuth 2.0
// client: accessToken is the bearer token the wiki showed at registration,
// which never expires. wiki and userAgent are as for OwnerOnlyOAuth1. The
// token is sent as "Authorization: Bearer" only to https URLs (or loopback
// hosts). Bad input fails with an error matching ErrConfig; no request is
// sent until the first call.
func OwnerOnlyOAuth2(wiki, accessToken, userAgent string, opts ...mwapi.Option) (*mwapi.Client, error) {
	const op = "owner-only OAuth 2"
	script, err := ownerOnlyWiki(op, wiki)
	if err != nil {
		return nil, err
	}
	if err := checkCredential(op, "access token", accessToken); err != nil {
		return nil, err
	}
	if err := checkUserAgent(op, userAgent); err != nil {
		return nil, err
	}
	hc := &http.Client{
		Transport:     &ownerOnlyBearer{token: ownerOnlyFixedToken(accessToken), base: ownerOnlyTransport()},
		Timeout:       ownerOnlyTimeout,
		CheckRedirect: noRedirect,
	}
	h := sha256.Sum256([]byte("oauth2\x00" + accessToken))
	return newOwnerOnlyClient(op, script.String(), userAgent, hc, hex.EncodeToString(h[:12]), opts)
}

// newOwnerOnlyClient builds the mwapi client: our User-Agent and credential
// id first (options may override them), our HTTP client last (it carries
// the credentials, so no option replaces it).
func newOwnerOnlyClient(op, wiki, userAgent string, hc *http.Client, credID string, opts []mwapi.Option) (*mwapi.Client, error) {
	all := make([]mwapi.Option, 0, len(opts)+4)
	all = append(all, mwapi.WithUserAgent(userAgent), mwapi.WithCredentialID(credID), mwapi.WithAssertUser(true))
	all = append(all, opts...)
	all = append(all, mwapi.WithHTTPClient(hc))
	c, err := mwapi.New(wiki, all...)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrConfig, op, err)
	}
	return c, nil
}

func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// ownerOnlyWiki validates wiki (the script path or its api.php URL) and
// returns the script path.
func ownerOnlyWiki(op, wiki string) (*url.URL, error) {
	if strings.TrimSpace(wiki) == "" {
		return nil, configErr("%s: the wiki's script path is required, e.g. https://meta.wikimedia.org/w", op)
	}
	u, err := parseSecureURL(op+": wiki", strings.TrimSpace(wiki))
	if err != nil {
		return nil, err
	}
	if u.RawQuery != "" || u.Fragment != "" || u.ForceQuery {
		return nil, configErr("%s: wiki %q must not have a query or fragment", op, wiki)
	}
	p := strings.TrimRight(u.Path, "/")
	switch {
	case strings.HasSuffix(p, "/api.php"):
		p = strings.TrimSuffix(p, "/api.php")
	case strings.HasSuffix(p, ".php"):
		return nil, configErr("%s: wiki %q must be the script path (…/w) or its api.php", op, wiki)
	}
	return &url.URL{Scheme: u.Scheme, Host: u.Host, Path: p}, nil
}

// checkCredential refuses an empty, oversized or malformed credential
// without ever showing its value.
func checkCredential(op, name, v string) error {
	switch {
	case v == "":
		return configErr("%s: the %s is required", op, name)
	case len(v) > maxCredentialLen:
		return configErr("%s: the %s is longer than %d bytes", op, name, maxCredentialLen)
	case strings.TrimSpace(v) != v:
		return configErr("%s: the %s has leading or trailing white space (copied with it?)", op, name)
	}
	for i := 0; i < len(v); i++ {
		if v[i] <= ' ' || v[i] >= 0x7f {
			return configErr("%s: the %s contains a space, control or non-ASCII character", op, name)
		}
	}
	return nil
}

func checkUserAgent(op, ua string) error {
	switch {
	case strings.TrimSpace(ua) == "":
		return configErr("%s: a descriptive User-Agent is required, e.g. \"MyBot/1.0 (https://example.org/mybot; me@example.org)\"", op)
	case strings.ContainsAny(ua, "\r\n"), !utf8.ValidString(ua):
		return configErr("%s: the User-Agent contains a line break or invalid UTF-8", op)
	}
	return nil
}

// ownerOnlyTokenFunc returns the bearer token to send with req.
type ownerOnlyTokenFunc func(req *http.Request) (string, error)

func ownerOnlyFixedToken(tok string) ownerOnlyTokenFunc {
	return func(*http.Request) (string, error) { return tok, nil }
}

// errOwnerOnlyInsecure refuses to send a bearer token in the clear.
// errOwnerOnlyInsecure refuses a bearer token on plain http (any OAuth 2
// client of this package).
var errOwnerOnlyInsecure = errors.New("mwoauth: refusing to send an OAuth 2 bearer token over plain http to a host that is not loopback")

// ownerOnlyBearer adds "Authorization: Bearer <token>" to a clone of each
// request. It never changes the caller's request, sends tokens only over
// https (or to loopback hosts), and closes the body of a request it does not
// send. Redirects are the http.Client's business; the owner-only clients
// follow none.
type ownerOnlyBearer struct {
	token ownerOnlyTokenFunc
	base  http.RoundTripper
}

// RoundTrip implements http.RoundTripper.
func (t *ownerOnlyBearer) RoundTrip(req *http.Request) (*http.Response, error) {
	fail := func(err error) (*http.Response, error) {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, err
	}
	if req.URL == nil || (!strings.EqualFold(req.URL.Scheme, "https") && !isLoopback(req.URL.Hostname())) {
		return fail(errOwnerOnlyInsecure)
	}
	tok, err := t.token(req)
	if err != nil {
		return fail(err)
	}
	r2 := req.Clone(req.Context())
	r2.Header.Set("Authorization", "Bearer "+tok)
	return t.base.RoundTrip(r2)
}
