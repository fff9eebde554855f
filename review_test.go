package mwoauth_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/wikiauth/mwoauth"
	"github.com/wikiauth/mwoauth/session"
)

// reviewAuth is an Auth that never calls its wiki (the tests below use only
// the session side).
func reviewAuth(t *testing.T, store session.Store) *mwoauth.Auth {
	t.Helper()
	a, err := mwoauth.New(mwoauth.Config{
		Wiki:           "http://127.0.0.1:1/w",
		ConsumerKey:    "k",
		ConsumerSecret: "s",
		CallbackURL:    "http://127.0.0.1:2/oauth-callback",
		UserAgent:      testUA,
		SessionKeys:    [][]byte{bytes.Repeat([]byte{9}, 32)},
		SessionStore:   store,
		Logger:         slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// The application-value methods may be called from several goroutines of
// one request (the session's state is guarded by a mutex): a Value or
// DeleteValue running beside a SetValue must not touch the map SetValue
// writes. Run with -race.
func TestReviewValuesConcurrentUse(t *testing.T) {
	a := reviewAuth(t, nil)
	h := a.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := a.SetValue(r, "seed", 0); err != nil {
			t.Error(err)
			return
		}
		var wg sync.WaitGroup
		for g := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 200 {
					switch g {
					case 0:
						_ = a.SetValue(r, fmt.Sprint("k", i%8), i)
					case 1:
						_ = a.DeleteValue(r, fmt.Sprint("k", i%8))
					default:
						var v int
						_, _ = a.Value(r, fmt.Sprint("k", i%8), &v)
						_, _ = a.Value(r, "seed", &v)
					}
				}
			}()
		}
		wg.Wait()
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "http://127.0.0.1:2/", nil))
}
