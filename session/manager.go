package session

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/wikiauth/mwoauth/internal/randutil"
	"github.com/wikiauth/mwoauth/internal/seal"
)

// Defaults and limits of [Config].
const (
	DefaultCookieName = "mwoauth_session"
	DefaultMaxAge     = 24 * time.Hour
	DefaultPendingTTL = 10 * time.Minute
	// MaxPendingTTL is the longest PendingTTL allowed: MediaWiki's request
	// tokens and OAuth 2 authorization codes live 10 minutes.
	MaxPendingTTL     = 10 * time.Minute
	DefaultMaxPending = 3
	// MaxMaxPending bounds MaxPending, so a browser never holds more than
	// this many pending-login cookies of one application.
	MaxMaxPending = 10
	// MaxCookieLine is the longest Set-Cookie header line (including the
	// "Set-Cookie: " prefix, name, value and attributes) the Manager writes.
	// Browsers silently drop longer cookies.
	MaxCookieLine = 4096
	// MaxHandleLen is the longest pending-login handle accepted.
	MaxHandleLen = 512
	// KeySize is the required length of every key in Config.Keys.
	KeySize = seal.KeySize
)

const hostPrefix = "__Host-"

// ErrTooLarge is returned by [Manager.Save] and [Manager.PutPending] when the
// cookie (client-side mode) would exceed [MaxCookieLine], or a value exceeds
// what a Store takes (1 MiB). Nothing is written: a cookie is never dropped
// silently.
var ErrTooLarge = errors.New("session: too large for a cookie or store record")

// ErrSessionGone is returned by [Manager.Reload] when the session's record no
// longer exists (another request destroyed or renewed it, or it expired).
// The Session is then a new, empty one whose cookie the next Save clears;
// the caller should not simply reapply its change (that would revive a
// session the user logged out of).
var ErrSessionGone = errors.New("session: session no longer exists")

// ErrConfig is matched (errors.Is) by every error [New] returns for a bad
// [Config].
var ErrConfig = errors.New("session: invalid config")

// Config configures a [Manager]. Only Keys is required.
type Config struct {
	// Keys seal everything the Manager writes. Each is exactly 32 bytes
	// (for example 32 bytes from crypto/rand, kept in a secret file).
	// Newest first: values are sealed with Keys[0] and opened with any key;
	// a value opened with an older key is re-sealed with Keys[0] at the next
	// Save. Removing a key logs out every session still sealed with it.
	Keys [][]byte

	// Store keeps sessions and pending logins server-side. nil selects the
	// client-side mode: the whole session is sealed into the cookie (at
	// most about 3 KB of data), and each pending login into its own cookie.
	Store Store

	// CookieName is the session cookie's name; default "mwoauth_session".
	// With Secure the "__Host-" prefix is added (Path=/ and no Domain, so a
	// sibling subdomain cannot plant or overwrite it). Pending-login cookies
	// are named after it.
	CookieName string

	// Secure sets the Secure attribute and the "__Host-" prefix. Set it
	// whenever the application is served over https, also behind a
	// TLS-terminating proxy.
	Secure bool

	// MaxAge is the absolute session lifetime, counted from the session's
	// creation (or its last Renew); default 24h. The cookie's Max-Age is the
	// remaining lifetime.
	MaxAge time.Duration

	// PendingTTL is how long a pending login stays usable; default and
	// maximum 10 minutes.
	PendingTTL time.Duration

	// MaxPending is how many pending logins one browser may hold; default
	// 3, at most 10. Starting one more evicts the oldest.
	MaxPending int

	// Now returns the current time; nil means time.Now.
	Now func() time.Time

	// Rand is the source of session and binding ids; nil means
	// crypto/rand.Reader. A read error fails the operation.
	Rand io.Reader
}

// String redacts the keys, so a Config can be logged.
func (c Config) String() string {
	return fmt.Sprintf("session.Config{Keys: %d REDACTED, Store: %v, CookieName: %q, Secure: %v, MaxAge: %v, PendingTTL: %v, MaxPending: %d}",
		len(c.Keys), c.Store != nil, c.CookieName, c.Secure, c.MaxAge, c.PendingTTL, c.MaxPending)
}

// GoString redacts the keys, like String.
func (c Config) GoString() string { return c.String() }

// LogValue redacts the keys.
func (c Config) LogValue() slog.Value { return slog.StringValue(c.String()) }

// Manager loads and saves sessions and keeps pending logins. It is safe for
// concurrent use. Build it with [New].
type Manager struct {
	sealer     *seal.Sealer
	store      Store
	name       string // session cookie name, with the prefix
	pendPrefix string // prefix of pending-login cookie names (client-side mode)
	bindName   string // the browser-binding cookie (store mode)
	secure     bool
	maxAge     time.Duration
	pendingTTL time.Duration
	maxPending int
	now        func() time.Time
	rand       randutil.Source
	taken      *takenSet // client-side mode: pending logins taken in this process
}

// New validates cfg and returns a Manager. cfg is copied; the caller's value
// is not modified. Every misconfiguration is an error: no keys, a key that is
// not 32 bytes (the error names its length), a bad cookie name, a negative
// or too long lifetime.
func New(cfg Config) (*Manager, error) {
	sealer, err := seal.New(cfg.Keys)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	m := &Manager{
		taken:      newTakenSet(),
		sealer:     sealer,
		store:      cfg.Store,
		secure:     cfg.Secure,
		maxAge:     cfg.MaxAge,
		pendingTTL: cfg.PendingTTL,
		maxPending: cfg.MaxPending,
		now:        cfg.Now,
		rand:       randutil.Source{R: cfg.Rand},
	}
	name := cfg.CookieName
	if name == "" {
		name = DefaultCookieName
	}
	base := strings.TrimPrefix(name, hostPrefix)
	if base == "" || len(base) > 64 || !isToken(base) || strings.HasPrefix(base, "__") {
		return nil, fmt.Errorf("%w: invalid cookie name %q (want 1-64 letters, digits or -._, not starting with __)", ErrConfig, name)
	}
	if strings.HasPrefix(name, hostPrefix) && !cfg.Secure {
		return nil, fmt.Errorf("%w: cookie name %q has the __Host- prefix, which needs Secure", ErrConfig, name)
	}
	if cfg.Secure {
		name = hostPrefix + base
	}
	m.name = name
	m.pendPrefix = name + ".p."
	m.bindName = name + ".b"
	switch {
	case m.maxAge == 0:
		m.maxAge = DefaultMaxAge
	case m.maxAge < time.Second:
		return nil, fmt.Errorf("%w: MaxAge %v must be at least 1s", ErrConfig, m.maxAge)
	}
	switch {
	case m.pendingTTL == 0:
		m.pendingTTL = DefaultPendingTTL
	case m.pendingTTL < time.Second || m.pendingTTL > MaxPendingTTL:
		return nil, fmt.Errorf("%w: PendingTTL %v must be between 1s and %v", ErrConfig, m.pendingTTL, MaxPendingTTL)
	}
	switch {
	case m.maxPending == 0:
		m.maxPending = DefaultMaxPending
	case m.maxPending < 1 || m.maxPending > MaxMaxPending:
		return nil, fmt.Errorf("%w: MaxPending %d must be between 1 and %d", ErrConfig, m.maxPending, MaxMaxPending)
	}
	if m.now == nil {
		m.now = time.Now
	}
	return m, nil
}

// isToken reports whether s is made of cookie-name characters we allow.
func isToken(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_', c == '.':
		default:
			return false
		}
	}
	return true
}

// CookieName returns the session cookie's name as sent to the browser
// (with the "__Host-" prefix when Secure).
func (m *Manager) CookieName() string { return m.name }

// ServerSide reports whether sessions are kept in a Store (false: in the
// cookie).
func (m *Manager) ServerSide() bool { return m.store != nil }

// Purposes bound into the sealed values' additional data: a value sealed for
// one never opens as another.
func (m *Manager) cookiePurpose() string {
	if m.store != nil {
		return "session-cookie/store:" + m.name
	}
	return "session-cookie/client:" + m.name
}

func recordPurpose(key string) string  { return "store-session:" + key }
func pendingPurpose(key string) string { return "store-pending:" + key }
func cookiePurposeFor(name string) string {
	return "cookie:" + name
}

// storeKey hashes a session id for the Store: SHA-256, hex.
func storeKey(id []byte) string {
	sum := sha256.Sum256(id)
	return hex.EncodeToString(sum[:])
}

// setCookie adds a Set-Cookie line with the fixed attributes. maxAge < 0
// expires the cookie. It fails with ErrTooLarge, writing nothing, when the
// header line would exceed MaxCookieLine.
func (m *Manager) setCookie(w http.ResponseWriter, name, value string, maxAge time.Duration) error {
	c := &http.Cookie{
		Name:     name,
		Value:    value,
		Path:     "/",
		HttpOnly: true,
		Secure:   m.secure,
		SameSite: http.SameSiteLaxMode,
	}
	if maxAge < 0 {
		c.MaxAge = -1
	} else {
		secs := int((maxAge + time.Second - 1) / time.Second)
		c.MaxAge = max(secs, 1)
	}
	line := c.String()
	if line == "" {
		return fmt.Errorf("session: cannot build cookie %q", name)
	}
	if n := len("Set-Cookie: ") + len(line); n > MaxCookieLine {
		return fmt.Errorf("%w: Set-Cookie line of %d bytes for %q, at most %d", ErrTooLarge, n, name, MaxCookieLine)
	}
	h := w.Header()
	h.Add("Set-Cookie", line)
	h.Set("Cache-Control", "no-store")
	if !hasToken(h.Values("Vary"), "Cookie") {
		h.Add("Vary", "Cookie")
	}
	return nil
}

func (m *Manager) expireCookie(w http.ResponseWriter, name string) {
	// An empty, expired cookie is always small enough.
	_ = m.setCookie(w, name, "", -1)
}

func hasToken(values []string, tok string) bool {
	for _, v := range values {
		for _, f := range strings.Split(v, ",") {
			if f = strings.TrimSpace(f); strings.EqualFold(f, tok) || f == "*" {
				return true
			}
		}
	}
	return false
}

// cookieView returns the cookies matching match that the browser will hold
// once this response is sent: those of the request, updated by the
// Set-Cookie lines already added to w (so that several calls in one request
// see each other). At most limit names are returned.
func cookieView(w http.ResponseWriter, r *http.Request, match func(string) bool, limit int) map[string]string {
	view := make(map[string]string)
	for _, c := range r.Cookies() {
		if _, dup := view[c.Name]; !dup && match(c.Name) && len(view) < limit {
			view[c.Name] = c.Value
		}
	}
	if w != nil {
		for _, line := range w.Header().Values("Set-Cookie") {
			c, err := http.ParseSetCookie(line)
			if err != nil || !match(c.Name) {
				continue
			}
			if c.MaxAge < 0 {
				delete(view, c.Name)
			} else if _, ok := view[c.Name]; ok || len(view) < limit {
				view[c.Name] = c.Value
			}
		}
	}
	return view
}

// Load returns the session of r's cookie. A missing, tampered, expired,
// renamed or foreign cookie (another key or application), or one whose
// store record is gone, gives a new, empty session (IsNew reports true); when
// a bad cookie was present it is marked so the next Save clears it. The
// error is non-nil only when the Store fails; the session returned with it
// is a new, empty one (not marked to clear the cookie), so a caller may
// continue anonymously.
func (m *Manager) Load(ctx context.Context, r *http.Request) (*Session, error) {
	cookies := r.CookiesNamed(m.name)
	if len(cookies) == 0 {
		return newSession(), nil
	}
	if len(cookies) > 4 {
		cookies = cookies[:4]
	}
	now := m.now()
	for _, c := range cookies {
		payload, created, key, err := m.sealer.Decode(m.cookiePurpose(), c.Value, now, m.maxAge)
		if err != nil {
			continue
		}
		if m.store == nil {
			return &Session{data: payload, created: created, resealCookie: key > 0}, nil
		}
		if len(payload) != randutil.IDBytes {
			continue
		}
		sk := storeKey(payload)
		rec, version, found, err := m.store.Find(ctx, sk)
		if err != nil {
			return newSession(), fmt.Errorf("session: loading from store: %w", err)
		}
		if !found {
			continue
		}
		data, _, rkey, err := m.sealer.Open(recordPurpose(sk), rec, now, m.maxAge)
		if err != nil {
			continue
		}
		return &Session{
			id: payload, data: data, version: version, created: created,
			resealCookie: key > 0, resealRecord: rkey > 0,
		}, nil
	}
	s := newSession()
	s.clearCookie = true
	return s, nil
}

// Save writes s if anything is to be written, and does nothing otherwise:
//
//   - Destroy: the store record is deleted and the cookie expired; s becomes
//     a new, empty session (or, if SetData was called after Destroy, a new
//     session with that data, under a new id).
//   - Renew: a new 256-bit id and a fresh lifetime; in store mode the old
//     record is deleted first.
//   - changed data (SetData), or a value opened with an older key: the
//     record and/or cookie are re-written (sealed with the newest key).
//   - a bad cookie found by Load and nothing else to write: it is expired.
//
// In store mode the Set-Cookie header is added only after the store write
// succeeded, and a session whose record is rewritten keeps its cookie
// unless the id or key changed. A concurrent change of the record makes Save
// fail with an error matching [ErrConflict]: call [Manager.Reload], reapply
// the change and Save again. In client-side mode a cookie whose Set-Cookie
// line would exceed 4096 bytes is not written and Save returns [ErrTooLarge].
// Every Set-Cookie comes with Cache-Control: no-store and Vary: Cookie. Save
// must be called before the response headers are written.
func (m *Manager) Save(ctx context.Context, w http.ResponseWriter, s *Session) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := m.now()

	if s.destroy {
		if m.store != nil && s.id != nil {
			if err := m.store.Delete(ctx, storeKey(s.id)); err != nil {
				return fmt.Errorf("session: deleting session: %w", err)
			}
		}
		data, changed := s.data, s.changed
		s.reset(false)
		if !changed || len(data) == 0 {
			m.expireCookie(w, m.name)
			return nil
		}
		// Data set after Destroy: a new session (new id, fresh lifetime).
		s.data, s.changed = data, true
	}

	if m.store == nil {
		return m.saveClient(w, s, now)
	}
	return m.saveStore(ctx, w, s, now)
}

func (m *Manager) saveClient(w http.ResponseWriter, s *Session, now time.Time) error {
	if !s.changed && !s.renew && !s.resealCookie {
		if s.clearCookie {
			m.expireCookie(w, m.name)
			s.clearCookie = false
		}
		return nil
	}
	created := s.created
	if created.IsZero() || s.renew {
		created = now
	}
	if len(s.data) > MaxCookieLine {
		return fmt.Errorf("%w: %d bytes of session data", ErrTooLarge, len(s.data))
	}
	value, err := m.sealer.Encode(m.cookiePurpose(), s.data, created)
	if err != nil {
		return fmt.Errorf("session: sealing: %w", err)
	}
	if err := m.setCookie(w, m.name, value, created.Add(m.maxAge).Sub(now)); err != nil {
		return err
	}
	s.created = created
	s.markSaved()
	return nil
}

func (m *Manager) saveStore(ctx context.Context, w http.ResponseWriter, s *Session, now time.Time) error {
	id, created, version := s.id, s.created, s.version
	// A renewed session gets a new record first; the old one is deleted
	// only once the new one is stored, so a failing store never leaves the
	// user with neither.
	var oldID []byte
	if s.renew && id != nil {
		oldID = id
		id, version = nil, 0
	}
	newCookie := false
	if s.changed || s.renew || s.resealRecord {
		if id == nil {
			b, err := m.rand.Bytes(randutil.IDBytes)
			if err != nil {
				return fmt.Errorf("session: new session id: %w", err)
			}
			id, created, version, newCookie = b, now, 0, true
		}
		sk := storeKey(id)
		rec, err := m.sealer.Seal(recordPurpose(sk), s.data, created)
		if err != nil {
			if errors.Is(err, seal.ErrTooLarge) {
				return fmt.Errorf("%w: %v", ErrTooLarge, err)
			}
			return fmt.Errorf("session: sealing: %w", err)
		}
		v, err := m.store.Save(ctx, sk, rec, version, created.Add(m.maxAge))
		switch {
		case err == nil:
			version = v
		case errors.Is(err, ErrConflict) && !s.changed && !s.renew:
			// Only a re-seal under the newest key was due; whoever changed
			// the record meanwhile sealed it with that key already.
		default:
			return fmt.Errorf("session: saving session: %w", err)
		}
	}
	if newCookie || s.resealCookie {
		value, err := m.sealer.Encode(m.cookiePurpose(), id, created)
		if err != nil {
			return fmt.Errorf("session: sealing cookie: %w", err)
		}
		if err := m.setCookie(w, m.name, value, created.Add(m.maxAge).Sub(now)); err != nil {
			return err
		}
	} else if s.clearCookie && id == nil {
		m.expireCookie(w, m.name)
	}
	s.id, s.created, s.version = id, created, version
	s.markSaved()
	if oldID != nil {
		// The new session is in place and its cookie set; should this
		// delete fail, the old record (which never held this login)
		// simply expires.
		_ = m.store.Delete(ctx, storeKey(oldID))
	}
	return nil
}

// Reload re-reads s's data and version from the Store, after Save failed
// with [ErrConflict]; the caller then reapplies its change (SetData) and
// saves again. It discards unsaved data changes but keeps a pending Renew or
// Destroy. It fails with [ErrSessionGone] when the record no longer exists
// (s is then a new, empty session). In client-side mode, and for a session
// never saved, it does nothing: cookies are last-writer-wins.
func (m *Manager) Reload(ctx context.Context, s *Session) error {
	if m.store == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.id == nil {
		return nil
	}
	sk := storeKey(s.id)
	rec, version, found, err := m.store.Find(ctx, sk)
	if err != nil {
		return fmt.Errorf("session: reloading: %w", err)
	}
	var data []byte
	var rkey int
	if found {
		data, _, rkey, err = m.sealer.Open(recordPurpose(sk), rec, m.now(), m.maxAge)
	}
	if !found || err != nil {
		s.reset(true)
		return ErrSessionGone
	}
	s.data, s.version, s.changed, s.resealRecord = data, version, false, rkey > 0
	return nil
}

// ExpiresAt returns the end of s's absolute lifetime, or the zero time for
// a session that has not been saved yet.
func (m *Manager) ExpiresAt(s *Session) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.created.IsZero() {
		return time.Time{}
	}
	return s.created.Add(m.maxAge)
}
