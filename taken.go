package mwoauth

import (
	"sync"
	"time"
)

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
