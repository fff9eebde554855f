package mwoauth

import (
	"crypto/sha256"
	"sync"
	"time"
)

// takenHandles remembers, within this process, the pending logins whose
// callback has been served, so that with cookie sessions (where the pending
// login travels in the browser's cookie and two parallel requests both
// carry it) a callback is still exchanged only once. Server-side stores
// make the take atomic across instances by themselves.
type takenHandles struct {
	mu  sync.Mutex
	m   map[[32]byte]time.Time // handle hash → forget after
	max int
}

func newTakenHandles() *takenHandles {
	return &takenHandles{m: make(map[[32]byte]time.Time), max: 100000}
}

// take reports whether handle was not taken before, and marks it taken
// until ttl from now.
func (t *takenHandles) take(handle string, now time.Time, ttl time.Duration) bool {
	h := sha256.Sum256([]byte(handle))
	t.mu.Lock()
	defer t.mu.Unlock()
	if until, ok := t.m[h]; ok && now.Before(until) {
		return false
	}
	if len(t.m) >= t.max {
		for k, until := range t.m {
			if !now.Before(until) {
				delete(t.m, k)
			}
		}
		if len(t.m) >= t.max {
			// Still full of live entries: forget the whole set rather
			// than grow without bound; the wiki's single-use tokens
			// still refuse a second exchange.
			clear(t.m)
		}
	}
	t.m[h] = now.Add(ttl)
	return true
}

// everyMinute allows one event per minute.
type everyMinute struct {
	mu   sync.Mutex
	last time.Time
}

func (e *everyMinute) allow(now time.Time) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.last.IsZero() && now.Sub(e.last) < time.Minute {
		return false
	}
	e.last = now
	return true
}
