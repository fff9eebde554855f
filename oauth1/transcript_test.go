package oauth1

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/wikiauth/mwoauth/internal/transcript"
)

// recorded is the first response of a transcript file.
type recorded struct {
	Status      int
	ContentType string
	Body        []byte
}

// readTranscript reads the first response of mediawiki-<release>/<name>
// (its body cut to its Content-Length when it has one).
func readTranscript(t testing.TB, release, name string) *recorded {
	t.Helper()
	resp := transcript.Read(t, release, name)[0].Response
	return &recorded{Status: resp.Status, ContentType: resp.Header.Get("Content-Type"), Body: []byte(resp.Body)}
}

type consumerCreds struct {
	Key    string
	Secret string
}

// consumers returns the key and secret of each consumer of a release.
func consumers(t testing.TB, release string) map[string]consumerCreds {
	t.Helper()
	out := map[string]consumerCreds{}
	for role, c := range transcript.Consumers(t, release) {
		out[role] = consumerCreds{c.Key, c.Secret}
	}
	return out
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
	b, err := os.ReadFile(transcript.Path(t, release, "signatures.json"))
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
