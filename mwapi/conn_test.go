package mwapi_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/wikiauth/mwoauth/mwapi"
)

func okHandler(w http.ResponseWriter, r *http.Request) {
	io.WriteString(w, `{"batchcomplete":true,"query":{"userinfo":{"id":3,"name":"Alice"}}}`)
}

// TestSequentialCallsOneConnection: 1000 sequential calls with the default
// client are served by one keep-alive TCP connection.
func TestSequentialCallsOneConnection(t *testing.T) {
	srv, cl := newCountingServer(t, http.HandlerFunc(okHandler))
	c, err := mwapi.New(srv.URL+"/w", mwapi.WithUserAgent(testUA), mwapi.WithLogger(discard), mwapi.WithTimeout(5*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	params := url.Values{"action": {"query"}, "meta": {"userinfo"}}
	for i := range 1000 {
		if err := c.Get(ctx, params, nil); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	if n := cl.n.Load(); n != 1 {
		t.Errorf("1000 sequential calls used %d connections; want 1", n)
	}
}

// TestConcurrentCallersPool: 16 concurrent callers (16 users) making 1000
// calls in total with the default client use at most 16 connections.
func TestConcurrentCallersPool(t *testing.T) {
	srv, cl := newCountingServer(t, http.HandlerFunc(okHandler))
	const callers, total = 16, 1000
	var wg sync.WaitGroup
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// A generous per-call timeout: on a loaded machine a call that
			// timed out would close its connection and open another, and
			// the count would measure the load, not the pool.
			c, err := mwapi.New(srv.URL+"/w", mwapi.WithUserAgent(testUA), mwapi.WithLogger(discard),
				mwapi.WithCredentialID(fmt.Sprint("user", i)), mwapi.WithTimeout(5*time.Minute))
			if err != nil {
				t.Error(err)
				return
			}
			for j := i; j < total; j += callers {
				if err := c.Get(context.Background(), url.Values{"action": {"query"}}, nil); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if n := cl.n.Load(); n > callers {
		t.Errorf("%d concurrent callers used %d connections for %d calls; want at most %d", callers, n, total, callers)
	}
	t.Logf("%d callers, %d calls: %d connections", callers, total, cl.n.Load())
}

// TestConcurrentCallersStdlibPool documents why the default transport is
// not Go's: with 2 idle connections per host, 16 callers churn connections.
// It only logs.
func TestConcurrentCallersStdlibPool(t *testing.T) {
	if testing.Short() {
		t.Skip("informational")
	}
	srv, cl := newCountingServer(t, http.HandlerFunc(okHandler))
	tr := http.DefaultTransport.(*http.Transport).Clone()
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, _ := mwapi.New(srv.URL+"/w", mwapi.WithUserAgent(testUA), mwapi.WithLogger(discard),
				mwapi.WithHTTPClient(hc), mwapi.WithCredentialID(fmt.Sprint("u", i)))
			for j := i; j < 1000; j += 16 {
				c.Get(context.Background(), url.Values{"action": {"query"}}, nil)
			}
		}()
	}
	wg.Wait()
	t.Logf("Go's default transport: 16 callers, 1000 calls: %d connections", cl.n.Load())
}
