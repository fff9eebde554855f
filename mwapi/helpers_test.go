package mwapi_test

import (
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/wikiauth/mwoauth/internal/transcript"
	"github.com/wikiauth/mwoauth/mwapi"
)

const testUA = "mwapi-test/1.0 (https://example.org; test@example.org)"

var discard = slog.New(slog.DiscardHandler)

// recorded is the first response of a transcript file.
type recorded struct {
	status int
	header http.Header
	body   []byte
}

// readTranscript reads the first response of the transcript of a version
// whose name starts with name.
func readTranscript(t testing.TB, version, name string) recorded {
	t.Helper()
	matches, _ := filepath.Glob(transcript.Path(t, version, name+"*.txt"))
	if len(matches) != 1 {
		t.Fatalf("transcript %s/%s: %d matches", version, name, len(matches))
	}
	resp := transcript.Read(t, version, filepath.Base(matches[0]))[0].Response
	return recorded{status: resp.Status, header: resp.Header, body: []byte(resp.Body)}
}

// serve writes a recorded response, leaving out the transport headers of
// PHP's built-in server.
func (rec recorded) serve(w http.ResponseWriter) {
	for k, v := range rec.header {
		switch k {
		case "Connection", "Host", "Date", "Content-Length", "X-Powered-By":
			continue
		}
		w.Header()[k] = v
	}
	w.WriteHeader(rec.status)
	w.Write(rec.body)
}

// newClient returns a client for srv with fast retries.
func newClient(t testing.TB, srv *httptest.Server, opts ...mwapi.Option) *mwapi.Client {
	t.Helper()
	base := []mwapi.Option{
		mwapi.WithUserAgent(testUA),
		mwapi.WithHTTPClient(srv.Client()),
		mwapi.WithLogger(discard),
		mwapi.WithBackoff(5 * 1e6), // 5 ms
	}
	c, err := mwapi.New(srv.URL+"/w", append(base, opts...)...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

// countingListener counts accepted connections.
type countingListener struct {
	net.Listener
	n atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.n.Add(1)
	}
	return c, err
}

// newCountingServer starts h on loopback and counts its TCP connections.
func newCountingServer(t testing.TB, h http.Handler) (*httptest.Server, *countingListener) {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	cl := &countingListener{Listener: srv.Listener}
	srv.Listener = cl
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, cl
}

// hits counts requests per action.
type hits struct {
	mu sync.Mutex
	m  map[string]int
}

func (h *hits) add(k string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.m == nil {
		h.m = map[string]int{}
	}
	h.m[k]++
	return h.m[k]
}

func (h *hits) get(k string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.m[k]
}
