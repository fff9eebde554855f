package mwapi_test

import (
	"bufio"
	"bytes"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/wikiauth/mwoauth/mwapi"
)

const testUA = "mwapi-test/1.0 (https://example.org; test@example.org)"

var discard = slog.New(slog.DiscardHandler)

// transcriptDir returns the shared transcripts of one MediaWiki version,
// skipping the test when they are missing (failing under CI=true).
func transcriptDir(t testing.TB, version string) string {
	t.Helper()
	dir := filepath.Join("..", "..", "shared", "transcripts", "mediawiki-"+version)
	if _, err := os.Stat(dir); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("transcripts missing at %s: %v", dir, err)
		}
		t.Skipf("transcripts not found at %s (CI copies shared/ beside the clone)", dir)
	}
	return dir
}

// recorded is the first response of a transcript file.
type recorded struct {
	status int
	header http.Header
	body   []byte
}

// readTranscript parses the "<<<<<<<< RESPONSE 1" part of a transcript.
func readTranscript(t testing.TB, version, name string) recorded {
	t.Helper()
	dir := transcriptDir(t, version)
	matches, _ := filepath.Glob(filepath.Join(dir, name+"*.txt"))
	if len(matches) != 1 {
		t.Fatalf("transcript %s/%s: %d matches", version, name, len(matches))
	}
	raw, err := os.ReadFile(matches[0])
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(raw, []byte("<<<<<<<< RESPONSE 1\n"))
	if i < 0 {
		t.Fatalf("%s: no response", matches[0])
	}
	rest := raw[i+len("<<<<<<<< RESPONSE 1\n"):]
	if j := bytes.Index(rest, []byte("\n>>>>>>>> REQUEST")); j >= 0 {
		rest = rest[:j]
	}
	tp := textproto.NewReader(bufio.NewReader(bytes.NewReader(rest)))
	line, err := tp.ReadLine()
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(line)
	status, _ := strconv.Atoi(f[1])
	mh, err := tp.ReadMIMEHeader()
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(tp.R)
	return recorded{status: status, header: http.Header(mh), body: bytes.TrimRight(body, "\n")}
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
