package mwoauthtest

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Endpoint names a part of the fake wiki, for Requests and FailNext.
type Endpoint string

// The endpoints of the fake wiki.
const (
	EndpointInitiate     Endpoint = "Special:OAuth/initiate"
	EndpointAuthorize    Endpoint = "Special:OAuth/authorize"
	EndpointAuthenticate Endpoint = "Special:OAuth/authenticate"
	EndpointToken        Endpoint = "Special:OAuth/token"
	EndpointIdentify     Endpoint = "Special:OAuth/identify"
	EndpointLogin        Endpoint = "Special:UserLogin"
	EndpointManageGrants Endpoint = "Special:OAuthManageMyGrants"
	EndpointAPI          Endpoint = "api.php"
	EndpointIndex        Endpoint = "index.php" // any other page

	// OAuth 2 (rest.php).
	EndpointOAuth2Authorize Endpoint = "rest.php/oauth2/authorize"
	EndpointOAuth2Approve   Endpoint = "Special:OAuth/approve"
	EndpointOAuth2Token     Endpoint = "rest.php/oauth2/access_token"
	EndpointOAuth2Profile   Endpoint = "rest.php/oauth2/resource/profile"
	EndpointOAuth2Scopes    Endpoint = "rest.php/oauth2/resource/scopes"
	EndpointREST            Endpoint = "rest.php" // any other REST route
)

// Fault is a failure FailNext injects into the next request of an
// endpoint. Latency may be combined with any other field; without another
// field the request is then answered normally after the delay.
type Fault struct {
	// Latency delays the answer (the request's context still ends it).
	Latency time.Duration
	// Status answers with this status code (e.g. 503) and an HTML error
	// page, as a proxy in front of MediaWiki does.
	Status int
	// Truncate sends the real answer's headers with its full Content-Length
	// but only half of the body, then drops the connection.
	Truncate bool
	// Oversize sends a 200 answer with a body of this many bytes.
	Oversize int64
	// Redirect answers 302 with this Location (as a wiki that moved would).
	Redirect string
	// Reset drops the connection without an answer.
	Reset bool
}

// Option configures a Server.
type Option func(*Server)

// WithVersion selects the MediaWiki release the fake imitates (default MW143).
func WithVersion(v Version) Option { return func(s *Server) { s.version = v } }

// WithTime pins the fake's clock at t; Advance moves it. Use it to replay
// transcripts at their own time.
func WithTime(t time.Time) Option {
	return func(s *Server) { s.pinned = true; s.clock = t }
}

// WithCanonicalServer sets $wgCanonicalServer, the origin used for the
// signature base string and the identify JWT's iss (default: the Server's
// URL). Use it to replay transcripts recorded at another address.
func WithCanonicalServer(origin string) Option {
	return func(s *Server) { s.canonical = strings.TrimSuffix(origin, "/") }
}

// WithoutDefaults starts the wiki with no users and no consumers.
func WithoutDefaults() Option { return func(s *Server) { s.noDefaults = true } }

// WithListener serves on l instead of a new 127.0.0.1:0 listener.
func WithListener(l net.Listener) Option { return func(s *Server) { s.listener = l } }

// WithSiteName sets the wiki's name as the HTML pages show it.
func WithSiteName(name string) Option { return func(s *Server) { s.siteName = name } }

// WithRefreshGracePeriod lets an OAuth 2 refresh token be used again for d
// after a refresh (the newest development versions; 1.39 and 1.43 have none).
func WithRefreshGracePeriod(d time.Duration) Option { return func(s *Server) { s.refreshGrace = d } }

// DefaultPassword is the password of the default user Alice.
const DefaultPassword = "AlicePass-12345"

// DefaultCallback is the callback of the default consumer (a prefix).
const DefaultCallback = "http://127.0.0.1:5000/oauth-callback"

// Server is a fake MediaWiki with Extension:OAuth, started on a loopback
// port, shaped like httptest.Server. All its methods are safe for
// concurrent use.
type Server struct {
	// URL is the origin, e.g. http://127.0.0.1:34567 (no trailing slash).
	URL string

	ts         *httptest.Server
	listener   net.Listener
	version    Version
	canonical  string
	siteName   string
	noDefaults bool
	secret     []byte // signs CSRF tokens

	mu             sync.Mutex
	pinned         bool
	clock          time.Time     // pinned time
	offset         time.Duration // added to time.Now when not pinned
	users          map[string]*User
	nextUserID     int
	consumers      map[string]*Consumer
	consumerList   []string // keys in order of registration
	defaultKey     string
	default2       string // the default confidential OAuth 2 client
	default2Public string
	reqTokens      map[string]*requestToken
	accTokens      map[string]*accessToken
	grants         map[string]*accessToken // consumerKey|user → token
	nonces         map[string]time.Time
	sessions       map[string]*session
	pages          map[string]*page
	nextPageID     int
	nextRevID      int
	faults         map[Endpoint][]Fault
	counts         map[Endpoint]int
	refreshGrace   time.Duration
	oauth2         *oauth2State
	rsaKey         *rsa.PrivateKey
}

// NewServer starts a fake wiki on 127.0.0.1:0. The caller must Close it.
func NewServer(opts ...Option) *Server {
	s := NewUnstartedServer(opts...)
	s.Start()
	return s
}

// NewUnstartedServer returns a fake wiki that Start starts.
func NewUnstartedServer(opts ...Option) *Server {
	s := &Server{
		siteName:   "MediaWiki",
		users:      map[string]*User{},
		nextUserID: 4,
		consumers:  map[string]*Consumer{},
		reqTokens:  map[string]*requestToken{},
		accTokens:  map[string]*accessToken{},
		grants:     map[string]*accessToken{},
		nonces:     map[string]time.Time{},
		sessions:   map[string]*session{},
		pages:      map[string]*page{},
		nextPageID: 1,
		nextRevID:  1,
		faults:     map[Endpoint][]Fault{},
		counts:     map[Endpoint]int{},
		secret:     randBytes(32),
	}
	for _, o := range opts {
		o(s)
	}
	s.ts = httptest.NewUnstartedServer(http.HandlerFunc(s.serveHTTP))
	if s.listener != nil {
		s.ts.Listener.Close()
		s.ts.Listener = s.listener
	}
	s.URL = "http://" + s.ts.Listener.Addr().String()
	s.seed()
	return s
}

// Start starts a server from NewUnstartedServer.
func (s *Server) Start() {
	// URL was set from the listener by NewUnstartedServer: it is not
	// written again once requests may read it.
	s.ts.Start()
}

// Start starts a fake wiki for a test and closes it when the test ends.
// The server's own error log (e.g. a broken connection) goes to t.Log.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := NewUnstartedServer(opts...)
	s.ts.Config.ErrorLog = log.New(testWriter{t}, "mwoauthtest: ", 0)
	s.Start()
	t.Cleanup(s.Close)
	return s
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// Close shuts the server down and blocks until its requests are done.
func (s *Server) Close() { s.ts.Close() }

// ScriptPath returns URL + "/w", what a Config's Wiki field takes.
func (s *Server) ScriptPath() string { return s.URL + "/w" }

// Client returns an HTTP client for the server (connections kept alive).
// It follows no redirects: signed calls must never follow one.
func (s *Server) Client() *http.Client {
	c := *s.ts.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	c.Timeout = 30 * time.Second
	return &c
}

// Handler returns the wiki's handler, for mounting it elsewhere.
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

// Version returns the MediaWiki release the fake imitates.
func (s *Server) Version() Version { return s.version }

// CanonicalServer returns $wgCanonicalServer: the origin requests are
// signed for and the identify JWT's iss (the URL unless
// WithCanonicalServer says otherwise).
func (s *Server) CanonicalServer() string { return s.canonicalServer() }

func (s *Server) canonicalServer() string {
	if s.canonical != "" {
		return s.canonical
	}
	return s.URL
}

// now returns the fake's time. Callers hold s.mu.
func (s *Server) now() time.Time {
	if s.pinned {
		return s.clock
	}
	return time.Now().Add(s.offset)
}

// Now returns the fake wiki's current time.
func (s *Server) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.now()
}

// Advance moves the fake's clock by d (negative d moves it back).
func (s *Server) Advance(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pinned {
		s.clock = s.clock.Add(d)
	} else {
		s.offset += d
	}
}

// SetTime pins the fake's clock at t.
func (s *Server) SetTime(t time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pinned, s.clock = true, t
}

// FailNext makes the next request to e fail with f. Faults queue up: each
// request to e takes one.
func (s *Server) FailNext(e Endpoint, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[e] = append(s.faults[e], f)
}

// Requests returns how many requests reached e.
func (s *Server) Requests(e Endpoint) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[e]
}

func randBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := io.ReadFull(rand.Reader, b); err != nil {
		panic("mwoauthtest: crypto/rand failed: " + err.Error())
	}
	return b
}

// randHex returns n random hex digits (n even).
func randHex(n int) string { return hex.EncodeToString(randBytes(n / 2)) }

// maxBody bounds request bodies the fake reads.
const maxBody = 8 << 20

// serveHTTP routes a request, applying a queued fault first.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		http.Error(w, "bad body", http.StatusBadRequest)
		return
	}
	if len(body) > maxBody {
		// Refused whole: a body cut at the limit would be read as if
		// complete (a truncated edit saved, half a body signed).
		http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	e, h := s.route(r, body)

	s.mu.Lock()
	s.counts[e]++
	var f *Fault
	if q := s.faults[e]; len(q) > 0 {
		f = &q[0]
		s.faults[e] = q[1:]
	}
	s.mu.Unlock()

	if f != nil && !s.applyFault(w, r, f, h) {
		return
	}
	h(w, r)
}

// applyFault carries out f; it reports whether the request is then to be
// answered normally.
func (s *Server) applyFault(w http.ResponseWriter, r *http.Request, f *Fault, h http.HandlerFunc) bool {
	if f.Latency > 0 {
		t := time.NewTimer(f.Latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return false
		}
	}
	switch {
	case f.Reset:
		panic(http.ErrAbortHandler)
	case f.Status != 0:
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(f.Status)
		fmt.Fprintf(w, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Wikimedia Error</title></head><body><h1>Error</h1><p>Our servers are currently under maintenance or experiencing a technical issue (%d).</p></body></html>\n", f.Status)
		return false
	case f.Redirect != "":
		http.Redirect(w, r, f.Redirect, http.StatusFound)
		return false
	case f.Oversize > 0:
		w.Header().Set("Content-Type", "text/plain;charset=UTF-8")
		w.Header().Set("Content-Length", strconv.FormatInt(f.Oversize, 10))
		w.WriteHeader(http.StatusOK)
		chunk := bytes.Repeat([]byte("a"), 32<<10)
		for left := f.Oversize; left > 0; {
			n := int64(len(chunk))
			if left < n {
				n = left
			}
			if _, err := w.Write(chunk[:n]); err != nil {
				return false
			}
			left -= n
		}
		return false
	case f.Truncate:
		rec := httptest.NewRecorder()
		h(rec, r)
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		b := rec.Body.Bytes()
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		w.WriteHeader(rec.Code)
		w.Write(b[:len(b)/2])
		if fl, ok := w.(http.Flusher); ok {
			fl.Flush()
		}
		panic(http.ErrAbortHandler)
	}
	return true
}
