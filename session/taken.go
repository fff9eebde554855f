package session

import (
	"crypto/sha256"
	"sync"
	"time"
)

// takenSet remembers, within this process, the pending logins taken in
// client-side mode, so that two parallel requests carrying the same pending
// cookie take it once. Server-side stores make the take atomic across
// instances by themselves.
type takenSet struct {
	mu  sync.Mutex
	m   map[[32]byte]time.Time // handle hash → forget after
	max int
}

func newTakenSet() *takenSet {
	return &takenSet{m: make(map[[32]byte]time.Time), max: 100000}
}

// take reports whether handle was not taken before, and marks it taken
// until ttl from now.
func (t *takenSet) take(handle string, now time.Time, ttl time.Duration) bool {
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
