package session_test

import (
	"testing"

	"github.com/wikiauth/mwoauth/session"
	"github.com/wikiauth/mwoauth/session/sessiontest"
)

func TestMemoryStoreConformance(t *testing.T) {
	sessiontest.TestStore(t, func(t *testing.T) session.Store { return session.NewMemoryStore() })
}
