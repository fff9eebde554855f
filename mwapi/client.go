package mwapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Version is the library version sent in the User-Agent
// ("mwoauth-go/" + Version).
const Version = "0.1.0"

// Client calls the Action API (api.php) of one wiki. It is safe for
// concurrent use; create it with New.
type Client struct {
	endpoint *url.URL // .../api.php
	cfg      config
	hc       *http.Client // shallow copy of the caller's, redirects off
	ua       string
	log      *slog.Logger
	limitKey slotKey

	tokens *tokenCache
}

// New returns a Client for the wiki whose script path or api.php URL is
// endpoint ("https://en.wikipedia.org/w" or
// "https://en.wikipedia.org/w/api.php"). https is required, except on
// loopback hosts. WithUserAgent is required.
func New(endpoint string, opts ...Option) (*Client, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		if o != nil {
			o.apply(&cfg)
		}
	}
	return newClient(endpoint, cfg)
}

func newClient(endpoint string, cfg config) (*Client, error) {
	u, err := parseEndpoint(endpoint)
	if err != nil {
		return nil, err
	}
	ua := strings.TrimSpace(cfg.userAgent)
	if ua == "" {
		return nil, ErrNoUserAgent
	}
	if strings.ContainsAny(ua, "\r\n") {
		return nil, errors.New("mwapi: User-Agent contains a line break")
	}
	if cfg.assertUser == nil {
		on := cfg.credentialID != ""
		cfg.assertUser = &on
	}
	if !cfg.jarSet {
		jar, _ := cookiejar.New(nil) // never fails with nil options
		cfg.jar = jar
		cfg.jarSet = true
	}
	base := cfg.httpClient
	if base == nil {
		base = defaultHTTPClient
	}
	hc := *base // shallow copy: same Transport, our redirect policy
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if hc.Jar == nil && cfg.jar != nil {
		hc.Jar = cfg.jar
	}
	logger := cfg.logger
	if logger == nil {
		logger = slog.Default()
	}
	cred := cfg.credentialID
	if cred == "" {
		cred = fmt.Sprintf("client:%p", base)
	} else {
		cred = "id:" + cred
	}
	return &Client{
		endpoint: u,
		cfg:      cfg,
		hc:       &hc,
		ua:       ua + " mwoauth-go/" + Version,
		log:      logger,
		limitKey: slotKey{endpoint: u.String(), cred: cred},
		tokens:   tokensFor(slotKey{endpoint: u.String(), cred: cred}, cfg.credentialID != ""),
	}, nil
}

// ForWiki returns a Client for another wiki of the same farm that shares
// this one's HTTP client (so its credentials), cookie jar, credential id
// and options. Tokens are per wiki and are not shared. A consumer that is
// not registered for all wikis fails there with ErrWrongWiki.
func (c *Client) ForWiki(endpoint string) (*Client, error) {
	cfg := c.cfg
	cfg.httpClient = c.hc
	cfg.jar = c.hc.Jar
	nc, err := newClient(endpoint, cfg)
	if err != nil {
		return nil, err
	}
	// Keep the limiter key of the original HTTP client, not of our copy.
	if c.cfg.credentialID == "" {
		nc.limitKey.cred = c.limitKey.cred
	}
	return nc, nil
}

// Endpoint returns the api.php URL the Client calls.
func (c *Client) Endpoint() string { return c.endpoint.String() }

func parseEndpoint(s string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil {
		return nil, fmt.Errorf("mwapi: endpoint: %w", err)
	}
	if u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("mwapi: endpoint %q: want an absolute https URL", s)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("mwapi: endpoint %q: no userinfo, query or fragment allowed", s)
	}
	if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		return nil, fmt.Errorf("%w: %q", ErrInsecureEndpoint, s)
	}
	p := strings.TrimRight(u.Path, "/")
	switch {
	case strings.HasSuffix(p, "/api.php"):
	case strings.HasSuffix(p, ".php"):
		return nil, fmt.Errorf("mwapi: endpoint %q: want the script path or api.php", s)
	default:
		p += "/api.php"
	}
	return &url.URL{Scheme: u.Scheme, Host: strings.ToLower(u.Host), Path: p}, nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// DefaultMaxConnsPerHost is the connection limit per wiki host of the
// default client's transport.
const DefaultMaxConnsPerHost = 16

// defaultHTTPClient is shared by all Clients created without WithHTTPClient.
var defaultHTTPClient = &http.Client{
	Transport: NewTransport(DefaultMaxConnsPerHost),
	Timeout:   2 * time.Minute,
}

// NewTransport returns a transport sized for n concurrent requests per host:
// a clone of http.DefaultTransport that keeps n idle connections per host
// (Go's default keeps 2, so concurrent callers keep opening new ones) and
// opens at most n (further requests wait for a free connection, within
// their context). So 16 concurrent callers use at most 16 connections. The
// default client uses NewTransport(DefaultMaxConnsPerHost); use it as the
// base of an authorising transport (OAuth 1 signer, OAuth 2 bearer) too.
// n <= 0 means DefaultMaxConnsPerHost.
func NewTransport(n int) *http.Transport {
	if n <= 0 {
		n = DefaultMaxConnsPerHost
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = max(100, n)
	t.MaxIdleConnsPerHost = n
	t.MaxConnsPerHost = n
	t.IdleConnTimeout = 90 * time.Second
	t.ResponseHeaderTimeout = 60 * time.Second
	return t
}

// The per-(wiki, credential) request limiter, shared by all Clients of the
// process. Entries live only while a request holds or waits for them.
type slotKey struct{ endpoint, cred string }

type slot struct {
	ch   chan struct{}
	refs int
}

var limiter = struct {
	mu sync.Mutex
	m  map[slotKey]*slot
}{m: map[slotKey]*slot{}}

// acquire waits for a free request slot of key (n at most at once) or for
// ctx to end.
func acquire(ctx context.Context, key slotKey, n int) (release func(), err error) {
	if n <= 0 {
		return func() {}, nil
	}
	limiter.mu.Lock()
	s := limiter.m[key]
	if s == nil {
		s = &slot{ch: make(chan struct{}, n)}
		limiter.m[key] = s
	}
	s.refs++
	limiter.mu.Unlock()
	drop := func() {
		limiter.mu.Lock()
		s.refs--
		if s.refs == 0 {
			delete(limiter.m, key)
		}
		limiter.mu.Unlock()
	}
	select {
	case s.ch <- struct{}{}:
		return func() { <-s.ch; drop() }, nil
	case <-ctx.Done():
		drop()
		return nil, ctx.Err()
	}
}

// String describes the Client without its cached tokens.
func (c *Client) String() string { return "mwapi.Client{" + c.endpoint.String() + "}" }

// GoString is String, so that %#v does not print cached tokens.
func (c *Client) GoString() string { return c.String() }

// LogValue implements slog.LogValuer: the endpoint only.
func (c *Client) LogValue() slog.Value { return slog.StringValue(c.endpoint.String()) }
