package oauth1

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
)

// The real wire transcripts live in shared/transcripts beside the
// repository. Tests that read them skip when it is missing, except under
// CI=true, where they fail.

var releases = []string{"1.39", "1.43"}

func transcriptDir(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 8; i++ {
		p := filepath.Join(dir, "shared", "transcripts")
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			return p
		}
		dir = filepath.Dir(dir)
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("shared/transcripts not found beside the repository")
	}
	t.Skip("shared/transcripts not found beside the repository; skipping transcript tests")
	return ""
}

// recorded is the first response of a transcript file (and, for
// convenience, the nonce of the first request's Authorization header).
type recorded struct {
	Status      int
	ContentType string
	Body        []byte
	ReqNonce    string
}

var (
	reStatus = regexp.MustCompile(`^HTTP/1\.[01] (\d{3})`)
	reNonce  = regexp.MustCompile(`oauth_nonce="([^"]*)"`)
)

// readTranscript parses mediawiki-<release>/<name>: the response's status,
// Content-Type and body (cut to its Content-Length when it has one).
func readTranscript(t testing.TB, release, name string) *recorded {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(transcriptDir(t), "mediawiki-"+release, name))
	if err != nil {
		t.Fatal(err)
	}
	s := strings.ReplaceAll(string(b), "\r\n", "\n")
	rec := &recorded{}
	if m := reNonce.FindStringSubmatch(s); m != nil {
		rec.ReqNonce = m[1]
	}
	_, resp, ok := strings.Cut(s, "<<<<<<<< RESPONSE 1\n")
	if !ok {
		t.Fatalf("%s: no response", name)
	}
	resp, _, _ = strings.Cut(resp, "\n>>>>>>>> REQUEST")
	head, body, ok := strings.Cut(resp, "\n\n")
	if !ok {
		t.Fatalf("%s: no blank line after the response headers", name)
	}
	lines := strings.Split(head, "\n")
	m := reStatus.FindStringSubmatch(lines[0])
	if m == nil {
		t.Fatalf("%s: bad status line %q", name, lines[0])
	}
	rec.Status, _ = strconv.Atoi(m[1])
	length := -1
	for _, l := range lines[1:] {
		k, v, _ := strings.Cut(l, ":")
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "content-type":
			rec.ContentType = strings.TrimSpace(v)
		case "content-length":
			length, _ = strconv.Atoi(strings.TrimSpace(v))
		}
	}
	if length >= 0 && length <= len(body) {
		body = body[:length]
	} else {
		body = strings.TrimSuffix(body, "\n")
	}
	rec.Body = []byte(body)
	return rec
}

type consumerCreds struct {
	Key    string `json:"consumer_key"`
	Secret string `json:"consumer_secret"`
}

func consumers(t testing.TB, release string) map[string]consumerCreds {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(transcriptDir(t), "mediawiki-"+release, "consumers.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Consumers map[string]consumerCreds `json:"consumers"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	return doc.Consumers
}

type vector struct {
	Transcript   string            `json:"transcript"`
	Method       string            `json:"method"`
	URL          string            `json:"url"`
	ContentType  *string           `json:"content_type"`
	Body         *string           `json:"body"`
	OAuthParams  map[string]string `json:"oauth_params"`
	ConsumerSec  string            `json:"consumer_secret"`
	TokenSecret  string            `json:"token_secret"`
	BaseString   string            `json:"signature_base_string"`
	Signature    string            `json:"oauth_signature"`
	ServerStatus int               `json:"server_status"`
	ServerAnswer string            `json:"server_answer"`
}

func vectors(t testing.TB, release string) []vector {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(transcriptDir(t), "mediawiki-"+release, "signatures.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Vectors []vector `json:"vectors"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	return doc.Vectors
}

// replay serves one recorded response for every request and counts them.
type replay struct {
	*httptest.Server
	hits atomic.Int32
	last atomic.Pointer[http.Request]
}

func serve(t testing.TB, status int, contentType string, body []byte) *replay {
	t.Helper()
	r := &replay{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.hits.Add(1)
		r.last.Store(req.Clone(req.Context()))
		if contentType != "" {
			w.Header().Set("Content-Type", contentType)
		}
		w.WriteHeader(status)
		w.Write(body)
	}))
	t.Cleanup(r.Close)
	return r
}

func serveRecorded(t testing.TB, rec *recorded) *replay {
	return serve(t, rec.Status, rec.ContentType, rec.Body)
}

var reAuthParam = regexp.MustCompile(`(oauth_[a-z_-]*)="([^"]*)"`)

// authParams parses an Authorization header the way MediaWiki's
// OAuthUtil::split_header does (a regex over oauth_*="…"), decoding values.
func authParams(t testing.TB, h string) map[string]string {
	t.Helper()
	if !strings.HasPrefix(h, "OAuth ") {
		t.Fatalf("Authorization = %q; want OAuth scheme", h)
	}
	out := map[string]string{}
	for _, m := range reAuthParam.FindAllStringSubmatch(h, -1) {
		v, err := url.PathUnescape(m[2])
		if err != nil {
			t.Fatalf("bad value in %q", h)
		}
		if _, dup := out[m[1]]; dup {
			t.Fatalf("repeated %s in %q", m[1], h)
		}
		out[m[1]] = v
	}
	return out
}
