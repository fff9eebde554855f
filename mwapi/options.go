package mwapi

import (
	"context"
	"log/slog"
	"net/http"
	"time"
)

// Option configures a Client in New. Options are sealed: only this package
// can make them.
type Option interface {
	apply(*config)
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	httpClient     *http.Client
	userAgent      string
	maxLag         int
	assertUser     *bool
	assertUsername string
	logger         *slog.Logger
	maxBytes       int64
	maxAttempts    int
	maxRetryTime   time.Duration
	backoffBase    time.Duration
	concurrency    int
	credentialID   string
	jar            http.CookieJar
	jarSet         bool
	warnings       func(context.Context, []Warning)
	timeout        time.Duration
	maxBatches     int
	chunkSize      int64
}

func defaultConfig() config {
	return config{
		maxBytes:     16 << 20,
		maxAttempts:  2,
		maxRetryTime: 20 * time.Second,
		backoffBase:  time.Second,
		concurrency:  1,
		timeout:      10 * time.Second,
		maxBatches:   1000,
		chunkSize:    4 << 20,
	}
}

// WithHTTPClient sets the HTTP client, typically one already authorised: an
// oauth1 Transport that signs each request, or golang.org/x/oauth2's bearer
// transport. nil (the default) means a shared anonymous client whose pool is
// sized for concurrent use. The client is used as given except that
// redirects are never followed and, when it has no cookie jar, the Client's
// own jar is added (see WithCookieJar).
func WithHTTPClient(hc *http.Client) Option {
	return optionFunc(func(c *config) { c.httpClient = hc })
}

// WithUserAgent sets the required descriptive User-Agent, e.g.
// "MyTool/1.2 (https://example.org/mytool; me@example.org)". The library's
// "mwoauth-go/VERSION" is appended. Wikimedia blocks generic agents.
func WithUserAgent(ua string) Option {
	return optionFunc(func(c *config) { c.userAgent = ua })
}

// WithMaxLag sends maxlag=n with every request (n seconds; 0, the default,
// sends none). A "maxlag" answer is waited out, honouring Retry-After, within
// the retry budget. Use 5 for background work (see Background).
func WithMaxLag(n int) Option {
	return optionFunc(func(c *config) { c.maxLag = n })
}

// WithAssertUser sends assert=user with every request, so that a request
// the wiki does not see as the user's fails with ErrNotLoggedIn instead of
// silently running anonymously. It is on by default when WithCredentialID is
// set, off otherwise.
func WithAssertUser(on bool) Option {
	return optionFunc(func(c *config) { c.assertUser = &on })
}

// WithAssertUsername sends assertuser=name with every request (failing with
// ErrNotLoggedIn, code assertnameduserfailed, if the wiki sees another user
// or none). It replaces assert=user.
func WithAssertUsername(name string) Option {
	return optionFunc(func(c *config) { c.assertUsername = name })
}

// WithLogger sets the logger; nil means slog.Default(). Requests are logged
// at Debug (parameters redacted: no token or text values), retries at Info,
// warnings at Warn.
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(c *config) { c.logger = l })
}

// WithMaxResponseBytes bounds the size of a response body after
// decompression (default 16 MiB). A larger body fails with
// ErrResponseTooLarge.
func WithMaxResponseBytes(n int64) Option {
	return optionFunc(func(c *config) {
		if n > 0 {
			c.maxBytes = n
		}
	})
}

// WithRetry bounds retries: at most attempts tries of one call and at most
// total time for all of them including waits. The interactive default is 2
// attempts within 20 s (one retry, as a web request can afford);
// Background sets 10 within 10 minutes. 1 means no retry. Reads are retried on maxlag, ratelimited, readonly, HTTP
// 429 and 5xx and network errors; writes only on the server-declared
// transient errors maxlag, ratelimited and readonly (the request was refused
// before anything was done). The OAuth 1 "Nonce already used" error is
// retried once more, with a fresh nonce, for both.
func WithRetry(attempts int, total time.Duration) Option {
	return optionFunc(func(c *config) {
		if attempts > 0 {
			c.maxAttempts = attempts
		}
		if total > 0 {
			c.maxRetryTime = total
		}
	})
}

// WithBackoff sets the first back-off wait for retries without a
// Retry-After header (default 1 s); it doubles per attempt, with jitter.
func WithBackoff(base time.Duration) Option {
	return optionFunc(func(c *config) {
		if base > 0 {
			c.backoffBase = base
		}
	})
}

// WithConcurrency sets how many requests may be in flight at once for one
// credential on one wiki (default 1, the etiquette of the Wikimedia API; 0
// means no limit). The limit is shared by every Client of the process with
// the same endpoint and credential id, so a web app that creates a Client
// per HTTP request still serializes each user's calls, while different
// users run in parallel. The first Client to use a (wiki, credential) pair
// fixes its limit while requests are in flight.
func WithConcurrency(n int) Option {
	return optionFunc(func(c *config) {
		if n >= 0 {
			c.concurrency = n
		}
	})
}

// WithCredentialID names the credential the HTTP client carries (the login
// layer passes a hash of the access token, never the token itself). It keys
// the per-credential request limit and implies WithAssertUser(true). Without
// it, the limit is keyed by the *http.Client value.
func WithCredentialID(id string) Option {
	return optionFunc(func(c *config) { c.credentialID = id })
}

// WithCookieJar sets the cookie jar used when the HTTP client has none
// (default: a new in-memory jar per Client, shared with its ForWiki
// clients). nil disables cookies.
func WithCookieJar(jar http.CookieJar) Option {
	return optionFunc(func(c *config) { c.jar = jar; c.jarSet = true })
}

// WithWarnings sets a hook that receives the warnings of every response
// that has some (after they are logged).
func WithWarnings(f func(ctx context.Context, w []Warning)) Option {
	return optionFunc(func(c *config) { c.warnings = f })
}

// WithTimeout bounds each HTTP attempt (default 10 s; uploads get at least
// 2 minutes per request; 0 or less: no per-attempt bound, only the
// context's).
func WithTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) { c.timeout = d })
}

// WithMaxBatches bounds the number of batches a continuation fetches
// (default 1000).
func WithMaxBatches(n int) Option {
	return optionFunc(func(c *config) {
		if n > 0 {
			c.maxBatches = n
		}
	})
}

// WithChunkSize sets the chunk size of chunked uploads (default 4 MiB);
// files larger than it are uploaded in chunks.
func WithChunkSize(n int64) Option {
	return optionFunc(func(c *config) {
		if n > 0 {
			c.chunkSize = n
		}
	})
}

// Background is the preset for bots and jobs: maxlag=5, up to 10 attempts
// within 10 minutes, back-off from 5 s. Options after it override it.
func Background() Option {
	return optionFunc(func(c *config) {
		c.maxLag = 5
		c.maxAttempts = 10
		c.maxRetryTime = 10 * time.Minute
		c.backoffBase = 5 * time.Second
	})
}
