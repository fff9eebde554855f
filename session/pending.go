package session

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/wikiauth/mwoauth/internal/randutil"
	"github.com/wikiauth/mwoauth/internal/seal"
)

// Pending logins.
//
// Client-side mode: each pending login is its own small sealed cookie named
// <CookieName>.p.<16 characters of SHA-256(handle)>, so a lookup needs no
// scan; the sealed value holds the handle (compared in constant time) and
// the data, and is valid for PendingTTL.
//
// Store mode: a sealed browser-binding cookie <CookieName>.b holds a random
// 256-bit binding id and the list of this browser's live pending keys; each
// pending login lives in Store.PutPending under hex(SHA-256(binding id,
// handle)) and is taken with Store.TakePending (atomic, single use).

// maxPendingScan bounds the pending cookies looked at in one request.
const maxPendingScan = 32

func validHandle(handle string) error {
	if handle == "" || len(handle) > MaxHandleLen {
		return fmt.Errorf("session: pending-login handle must be 1-%d bytes, got %d", MaxHandleLen, len(handle))
	}
	return nil
}

// pendingPayload is uvarint(len(handle)) || handle || data.
func pendingPayload(handle string, data []byte) []byte {
	b := binary.AppendUvarint(make([]byte, 0, binary.MaxVarintLen64+len(handle)+len(data)), uint64(len(handle)))
	b = append(b, handle...)
	return append(b, data...)
}

// parsePending splits a pending payload and reports whether its handle
// equals handle (in constant time).
func parsePending(p []byte, handle string) ([]byte, bool) {
	n, k := binary.Uvarint(p)
	if k <= 0 || n > uint64(len(p)-k) {
		return nil, false
	}
	h, data := p[k:k+int(n)], p[k+int(n):]
	if !randutil.Equal(string(h), handle) {
		return nil, false
	}
	return data, true
}

func (m *Manager) pendingCookieName(handle string) string {
	sum := sha256.Sum256([]byte("mwoauth pending cookie\x00" + handle))
	return m.pendPrefix + base64.RawURLEncoding.EncodeToString(sum[:12])
}

// PutPending remembers a pending login (OAuth 1 request token and secret, or
// OAuth 2 state and PKCE verifier, plus the return path) for this browser,
// under handle (the request token or the state: high entropy, at most
// MaxHandleLen bytes), for PendingTTL. A browser holds at most MaxPending
// pending logins: the oldest is evicted. Putting the same handle again
// replaces it. In client-side mode a pending cookie over MaxCookieLine fails
// with [ErrTooLarge]; in store mode the cookie is set only after the store
// write succeeded. Call it before the response headers are written.
func (m *Manager) PutPending(ctx context.Context, w http.ResponseWriter, r *http.Request, handle string, data []byte) error {
	if err := validHandle(handle); err != nil {
		return err
	}
	if len(data) > seal.MaxPayload-MaxHandleLen-binary.MaxVarintLen64 {
		return fmt.Errorf("%w: %d bytes of pending-login data", ErrTooLarge, len(data))
	}
	if m.store == nil {
		return m.putPendingCookie(w, r, handle, data)
	}
	return m.putPendingStore(ctx, w, r, handle, data)
}

// TakePending returns the pending login stored under handle for this
// browser and removes it (single use). A handle that is unknown, expired,
// bound to another browser or tampered with gives found=false and a nil
// error; err is non-nil only when the Store fails. Call it before the
// response headers are written: it clears cookies.
func (m *Manager) TakePending(ctx context.Context, w http.ResponseWriter, r *http.Request, handle string) (data []byte, found bool, err error) {
	if validHandle(handle) != nil {
		return nil, false, nil
	}
	if m.store == nil {
		data, found = m.takePendingCookie(w, r, handle)
		return data, found, nil
	}
	return m.takePendingStore(ctx, w, r, handle)
}

// Client-side mode.

func (m *Manager) putPendingCookie(w http.ResponseWriter, r *http.Request, handle string, data []byte) error {
	now := m.now()
	name := m.pendingCookieName(handle)
	if len(data) > MaxCookieLine {
		return fmt.Errorf("%w: %d bytes of pending-login data", ErrTooLarge, len(data))
	}
	value, err := m.sealer.Encode(cookiePurposeFor(name), pendingPayload(handle, data), now)
	if err != nil {
		return fmt.Errorf("session: sealing pending login: %w", err)
	}
	// Check the size before touching any other cookie.
	if err := m.setCookie(discard{}, name, value, m.pendingTTL); err != nil {
		return err
	}

	type live struct {
		name   string
		issued time.Time
	}
	var lives []live
	var bad []string
	view := cookieView(w, r, func(n string) bool { return strings.HasPrefix(n, m.pendPrefix) }, maxPendingScan)
	for n, v := range view {
		if n == name {
			continue
		}
		if _, issued, _, err := m.sealer.Decode(cookiePurposeFor(n), v, now, m.pendingTTL); err != nil {
			bad = append(bad, n)
		} else {
			lives = append(lives, live{n, issued})
		}
	}
	slices.SortFunc(lives, func(a, b live) int {
		if c := a.issued.Compare(b.issued); c != 0 {
			return c
		}
		return strings.Compare(a.name, b.name)
	})
	for len(lives) >= m.maxPending {
		bad = append(bad, lives[0].name)
		lives = lives[1:]
	}
	slices.Sort(bad)
	for _, n := range bad {
		m.expireCookie(w, n)
	}
	return m.setCookie(w, name, value, m.pendingTTL)
}

func (m *Manager) takePendingCookie(w http.ResponseWriter, r *http.Request, handle string) ([]byte, bool) {
	name := m.pendingCookieName(handle)
	view := cookieView(w, r, func(n string) bool { return n == name }, 1)
	v, ok := view[name]
	if !ok {
		return nil, false
	}
	m.expireCookie(w, name)
	now := m.now()
	p, _, _, err := m.sealer.Decode(cookiePurposeFor(name), v, now, m.pendingTTL)
	if err != nil {
		return nil, false
	}
	data, ok := parsePending(p, handle)
	// The cookie travels with every parallel request of the browser: the
	// first take in this process wins (a store's take is atomic by itself).
	if !ok || !m.taken.take(handle, now, m.pendingTTL) {
		return nil, false
	}
	return data, true
}

// Store mode.

const (
	bindingIDLen = randutil.IDBytes
	entryLen     = sha256.Size + 8
)

// binding is the content of the browser-binding cookie: the binding id and
// this browser's live pending logins (store key hash and time put).
type binding struct {
	id      []byte
	entries []bindingEntry
}

type bindingEntry struct {
	key    [sha256.Size]byte
	issued int64 // UnixNano
}

func (b *binding) marshal() []byte {
	out := make([]byte, 0, bindingIDLen+1+len(b.entries)*entryLen)
	out = append(out, b.id...)
	out = append(out, byte(len(b.entries)))
	for _, e := range b.entries {
		out = append(out, e.key[:]...)
		out = binary.BigEndian.AppendUint64(out, uint64(e.issued))
	}
	return out
}

func parseBinding(p []byte) (binding, bool) {
	if len(p) < bindingIDLen+1 {
		return binding{}, false
	}
	b := binding{id: p[:bindingIDLen]}
	n := int(p[bindingIDLen])
	rest := p[bindingIDLen+1:]
	if n > MaxMaxPending || len(rest) != n*entryLen {
		return binding{}, false
	}
	for i := 0; i < n; i++ {
		var e bindingEntry
		copy(e.key[:], rest[i*entryLen:])
		e.issued = int64(binary.BigEndian.Uint64(rest[i*entryLen+sha256.Size:]))
		b.entries = append(b.entries, e)
	}
	return b, true
}

func (m *Manager) loadBinding(w http.ResponseWriter, r *http.Request, now time.Time) (binding, bool) {
	view := cookieView(w, r, func(n string) bool { return n == m.bindName }, 1)
	v, ok := view[m.bindName]
	if !ok {
		return binding{}, false
	}
	p, _, _, err := m.sealer.Decode(cookiePurposeFor(m.bindName), v, now, m.pendingTTL)
	if err != nil {
		return binding{}, false
	}
	return parseBinding(p)
}

func (m *Manager) saveBinding(w http.ResponseWriter, b binding, now time.Time) error {
	if len(b.entries) == 0 {
		m.expireCookie(w, m.bindName)
		return nil
	}
	value, err := m.sealer.Encode(cookiePurposeFor(m.bindName), b.marshal(), now)
	if err != nil {
		return fmt.Errorf("session: sealing binding cookie: %w", err)
	}
	return m.setCookie(w, m.bindName, value, m.pendingTTL)
}

func pendingKeyHash(bindingID []byte, handle string) [sha256.Size]byte {
	h := sha256.New()
	h.Write([]byte("mwoauth pending\x00"))
	h.Write(bindingID)
	h.Write([]byte(handle))
	var k [sha256.Size]byte
	h.Sum(k[:0])
	return k
}

func (m *Manager) putPendingStore(ctx context.Context, w http.ResponseWriter, r *http.Request, handle string, data []byte) error {
	now := m.now()
	b, ok := m.loadBinding(w, r, now)
	if !ok {
		id, err := m.rand.Bytes(bindingIDLen)
		if err != nil {
			return fmt.Errorf("session: new binding id: %w", err)
		}
		b = binding{id: id}
	}
	kh := pendingKeyHash(b.id, handle)
	// Keep the live entries other than this handle's, oldest first.
	live := b.entries[:0:0]
	for _, e := range b.entries {
		if e.key != kh && now.Sub(time.Unix(0, e.issued)) <= m.pendingTTL {
			live = append(live, e)
		}
	}
	slices.SortStableFunc(live, func(a, b bindingEntry) int { return cmp.Compare(a.issued, b.issued) })
	for len(live) >= m.maxPending {
		if err := m.store.DeletePending(ctx, hex.EncodeToString(live[0].key[:])); err != nil {
			return fmt.Errorf("session: evicting pending login: %w", err)
		}
		live = live[1:]
	}
	key := hex.EncodeToString(kh[:])
	rec, err := m.sealer.Seal(pendingPurpose(key), pendingPayload(handle, data), now)
	if err != nil {
		return fmt.Errorf("session: sealing pending login: %w", err)
	}
	if err := m.store.PutPending(ctx, key, rec, now.Add(m.pendingTTL)); err != nil {
		return fmt.Errorf("session: storing pending login: %w", err)
	}
	b.entries = append(live, bindingEntry{key: kh, issued: now.UnixNano()})
	return m.saveBinding(w, b, now)
}

func (m *Manager) takePendingStore(ctx context.Context, w http.ResponseWriter, r *http.Request, handle string) ([]byte, bool, error) {
	now := m.now()
	b, ok := m.loadBinding(w, r, now)
	if !ok {
		return nil, false, nil
	}
	kh := pendingKeyHash(b.id, handle)
	key := hex.EncodeToString(kh[:])
	rec, found, err := m.store.TakePending(ctx, key)
	if err != nil {
		return nil, false, fmt.Errorf("session: taking pending login: %w", err)
	}
	// The entry may be missing from the list (two tabs racing to write the
	// binding cookie); the record is taken all the same.
	if i := slices.IndexFunc(b.entries, func(e bindingEntry) bool { return e.key == kh }); i >= 0 {
		b.entries = slices.Delete(b.entries, i, i+1)
		if err := m.saveBinding(w, b, now); err != nil {
			return nil, false, err
		}
	}
	if !found {
		return nil, false, nil
	}
	p, _, _, err := m.sealer.Open(pendingPurpose(key), rec, now, m.pendingTTL)
	if err != nil {
		return nil, false, nil
	}
	data, ok := parsePending(p, handle)
	return data, ok, nil
}

// discard is a ResponseWriter used to check a cookie's size without
// writing it.
type discard struct{}

func (discard) Header() http.Header         { return http.Header{} }
func (discard) Write(b []byte) (int, error) { return len(b), nil }
func (discard) WriteHeader(int)             {}
