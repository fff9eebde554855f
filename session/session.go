package session

import (
	"bytes"
	"log/slog"
	"sync"
	"time"
)

// Session is one browser's session: opaque bytes that the application (the
// mwoauth package) encodes as it likes. Get one from [Manager.Load], change
// it, and write it back with [Manager.Save] before the response headers go
// out. Its methods are safe for concurrent use. A Session never prints its
// contents (String, GoString and LogValue redact them).
type Session struct {
	mu      sync.Mutex
	id      []byte // store mode: the raw 256-bit id; nil until first saved
	data    []byte
	version int64     // store mode: the record version read or written last
	created time.Time // start of the absolute lifetime; zero until saved

	isNew        bool // Load found no valid session
	changed      bool // SetData changed the data
	renew        bool // a new id at the next Save
	destroy      bool // delete at the next Save
	clearCookie  bool // a bad cookie to expire at the next Save
	resealCookie bool // the cookie was opened with an older key
	resealRecord bool // the store record was opened with an older key
}

func newSession() *Session { return &Session{isNew: true} }

// reset makes s a new, empty session (s.mu held; it is not touched).
func (s *Session) reset(clearCookie bool) {
	s.id, s.data, s.version, s.created = nil, nil, 0, time.Time{}
	s.markSaved()
	s.destroy = false
	s.isNew, s.clearCookie = true, clearCookie
}

// markSaved clears the flags after a successful Save.
func (s *Session) markSaved() {
	s.isNew, s.changed, s.renew, s.clearCookie, s.resealCookie, s.resealRecord = false, false, false, false, false, false
}

// Data returns a copy of the session's data (nil for a new session).
func (s *Session) Data() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return bytes.Clone(s.data)
}

// SetData replaces the session's data with a copy of b. Setting the same
// bytes again is not a change.
func (s *Session) SetData(b []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if bytes.Equal(s.data, b) {
		return
	}
	s.data = bytes.Clone(b)
	s.changed = true
}

// IsNew reports whether the session has never been saved: Load found no
// valid session for the request (no cookie, or a bad or expired one), or it
// was destroyed. It becomes false once Save writes the session.
func (s *Session) IsNew() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.isNew
}

// Renew gives the session a new 256-bit id and a fresh lifetime at the next
// Save, keeping its data; in store mode the old record is deleted. Call it
// at login, against session fixation.
func (s *Session) Renew() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.renew = true
}

// Destroy ends the session at the next Save: its record is deleted and its
// cookie expired. Use it at logout. It empties the data at once; data set
// after Destroy starts a new session (new id, fresh lifetime) at that Save.
func (s *Session) Destroy() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.destroy = true
	s.data, s.changed = nil, false
}

// Changed reports whether the next Save has something to write: changed
// data, a Renew or Destroy, a re-seal under the newest key, or a bad cookie
// to clear.
func (s *Session) Changed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changed || s.renew || s.destroy || s.clearCookie || s.resealCookie || s.resealRecord
}

// String redacts the session's id and data.
func (s *Session) String() string { return "session.Session{REDACTED}" }

// GoString redacts the session's id and data.
func (s *Session) GoString() string { return s.String() }

// LogValue redacts the session's id and data.
func (s *Session) LogValue() slog.Value { return slog.StringValue("REDACTED") }
