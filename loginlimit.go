package mwoauth

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"
)

// ErrLoginRateLimited: a browser session or a client address started more
// logins than Config.LoginRateLimit allows; the answer is 429 with
// Retry-After.
var ErrLoginRateLimited = errors.New("mwoauth: too many logins started")

// LoginRate is a token bucket: up to Burst logins at once, then one more every
// Every. The zero LoginRate sets no limit.
type LoginRate struct {
	Burst int
	Every time.Duration
}

func (r LoginRate) enabled() bool { return r.Burst > 0 }

// LoginRateLimit limits how often <BasePath>/login starts a login (each
// OAuth 1.0a start is a call to the wiki, and every start leaves a pending
// login behind; SECURITY.md item 14). The zero value sets no limit.
// Requests over the limit get 429 Too Many Requests with Retry-After, and
// make no call to the wiki. A logged-in user sent back to next without a new
// login is not counted.
type LoginRateLimit struct {
	// PerSession limits one browser session, known by its session cookie
	// (a logged-in user, or an anonymous one the app stored values for). A
	// browser without one, such as a client that drops cookies, is limited
	// by PerIP alone, which is therefore the limit that stops a flood.
	PerSession LoginRate
	// PerIP limits one client address: the IP of the request's RemoteAddr,
	// IPv6 addresses grouped by /64. X-Forwarded-For and similar headers are
	// never used (a client could send any value), so behind a reverse proxy
	// all clients share the proxy's address: set PerIP to a rate for all of
	// them together, or leave it zero and limit at the proxy.
	PerIP LoginRate
	// MaxTracked bounds the buckets kept for each of the two limits
	// (default 10000). When it is reached and no bucket is idle (full), new
	// sessions or addresses are refused until one is: the limit fails closed,
	// as it protects the wiki.
	MaxTracked int
}

func (l LoginRateLimit) validate() error {
	for _, c := range []struct {
		name string
		r    LoginRate
	}{{"PerSession", l.PerSession}, {"PerIP", l.PerIP}} {
		switch {
		case c.r.Burst < 0:
			return configErr("LoginRateLimit.%s.Burst must not be negative", c.name)
		case c.r.Burst > 0 && c.r.Every <= 0:
			return configErr("LoginRateLimit.%s.Every must be positive when Burst is set", c.name)
		case c.r.Burst == 0 && c.r.Every != 0:
			return configErr("LoginRateLimit.%s.Burst must be set when Every is (0 means no limit)", c.name)
		}
	}
	if l.MaxTracked < 0 {
		return configErr("LoginRateLimit.MaxTracked must not be negative")
	}
	return nil
}

const defaultMaxTracked = 10000

// loginLimiter holds the two families of buckets.
type loginLimiter struct {
	session, ip *buckets
}

func newLoginLimiter(l LoginRateLimit) *loginLimiter {
	max := l.MaxTracked
	if max == 0 {
		max = defaultMaxTracked
	}
	ll := &loginLimiter{}
	if l.PerSession.enabled() {
		ll.session = &buckets{rate: l.PerSession, max: max, m: map[[32]byte]*bucket{}}
	}
	if l.PerIP.enabled() {
		ll.ip = &buckets{rate: l.PerIP, max: max, m: map[[32]byte]*bucket{}}
	}
	return ll
}

// limitKey is one bucket of one family.
type limitKey struct {
	b   *buckets
	key [32]byte
}

// allowLogin takes a token from the request's session bucket and its address
// bucket, or returns how long to wait. A refused request takes no token.
func (a *Auth) allowLogin(r *http.Request, st *reqState) (bool, time.Duration) {
	l := a.limiter
	if l == nil || (l.session == nil && l.ip == nil) {
		return true, 0
	}
	now := a.now()
	var keys []limitKey
	if l.session != nil {
		if k, ok := a.browserKey(r, st); ok {
			keys = append(keys, limitKey{l.session, k})
		}
	}
	if l.ip != nil {
		keys = append(keys, limitKey{l.ip, clientKey(r)})
	}
	// Check all, then take from all, under each family's lock in a fixed
	// order (session before ip), so a refusal by one takes nothing from
	// the other.
	for _, k := range keys {
		k.b.mu.Lock()
		defer k.b.mu.Unlock()
	}
	var wait time.Duration
	for _, k := range keys {
		if w := k.b.waitLocked(k.key, now); w > wait {
			wait = w
		}
	}
	if wait > 0 {
		return false, wait
	}
	for _, k := range keys {
		k.b.takeLocked(k.key, now)
	}
	return true, 0
}

// browserKey identifies the browser session by its session cookie, which
// /login leaves as it is. (The pending-login cookies change at every /login,
// so they cannot key a bucket.) Only a cookie that opened a session counts:
// made-up values, which anyone can send, would otherwise fill the bounded
// table that fails closed.
func (a *Auth) browserKey(r *http.Request, st *reqState) ([32]byte, bool) {
	if st == nil || st.sess == nil || st.sess.IsNew() {
		return [32]byte{}, false
	}
	c, err := r.Cookie(a.sessions.CookieName())
	if err != nil || c.Value == "" {
		return [32]byte{}, false
	}
	return sha256.Sum256([]byte("session\x00" + c.Value)), true
}

// clientKey is the client's address from RemoteAddr only, IPv6 by /64.
func clientKey(r *http.Request) [32]byte {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		ip = ip.Unmap().WithZone("")
		if ip.Is6() {
			if p, err := ip.Prefix(64); err == nil {
				host = p.String()
			}
		} else {
			host = ip.String()
		}
	}
	return sha256.Sum256([]byte("ip\x00" + host))
}

// buckets is one family of token buckets, bounded in number.
type buckets struct {
	rate LoginRate
	max  int
	mu   sync.Mutex
	m    map[[32]byte]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

// level returns b's tokens at now (refilled, at most Burst).
func (bs *buckets) level(b *bucket, now time.Time) float64 {
	elapsed := now.Sub(b.at)
	if elapsed < 0 {
		elapsed = 0
	}
	t := b.tokens + float64(elapsed)/float64(bs.rate.Every)
	return math.Min(t, float64(bs.rate.Burst))
}

// waitLocked returns 0 if key may take a token now, else how long until it
// may. Callers hold bs.mu.
func (bs *buckets) waitLocked(key [32]byte, now time.Time) time.Duration {
	b, ok := bs.m[key]
	if !ok {
		if len(bs.m) >= bs.max {
			bs.pruneLocked(now)
		}
		if len(bs.m) >= bs.max {
			return bs.rate.Every
		}
		return 0
	}
	t := bs.level(b, now)
	if t >= 1 {
		return 0
	}
	return time.Duration(math.Ceil((1 - t) * float64(bs.rate.Every)))
}

// takeLocked takes one token of key. Callers hold bs.mu and checked
// waitLocked.
func (bs *buckets) takeLocked(key [32]byte, now time.Time) {
	b, ok := bs.m[key]
	if !ok {
		bs.m[key] = &bucket{tokens: float64(bs.rate.Burst) - 1, at: now}
		return
	}
	b.tokens, b.at = bs.level(b, now)-1, now
}

// pruneLocked forgets the buckets that have refilled (they would start full
// anyway). Callers hold bs.mu.
func (bs *buckets) pruneLocked(now time.Time) {
	for k, b := range bs.m {
		if bs.level(b, now) >= float64(bs.rate.Burst) {
			delete(bs.m, k)
		}
	}
}

// rateLimited answers a refused /login: 429 with Retry-After in whole
// seconds (at least 1).
func rateLimited(w http.ResponseWriter, wait time.Duration) error {
	secs := int64(math.Ceil(wait.Seconds()))
	if secs < 1 {
		secs = 1
	}
	w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
	return &HandlerError{Status: http.StatusTooManyRequests,
		Message: "Too many login attempts. Please wait a moment and try again.",
		Err:     fmt.Errorf("%w: retry after %ds", ErrLoginRateLimited, secs)}
}
