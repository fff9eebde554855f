// Package transcript reads the real MediaWiki wire transcripts for this
// module's tests. It is a helper for _test.go files only: nothing outside
// the tests imports it.
//
// The transcripts live in shared/transcripts beside the repository (CI
// copies shared/ beside the clone), one folder per release:
// mediawiki-<release>/ holds the transcript files (*.txt), consumers.json
// (the recorded wiki, its users and consumers with their secrets) and, for
// OAuth 1, signatures.json.
//
// A transcript file is a few comment lines followed by numbered blocks:
//
//	>>>>>>>> REQUEST 1
//	GET /w/index.php?title=Special:OAuth/initiate HTTP/1.1
//	Header: value
//
//	body (if any)
//	<<<<<<<< RESPONSE 1
//	HTTP/1.1 200 OK
//	Header: value
//
//	body
//
// Every helper that takes a testing.TB skips the test when the transcripts
// are missing, except under CI=true, where it fails it.
package transcript

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Releases are the MediaWiki releases the transcripts were recorded with.
var Releases = []string{"1.39", "1.43"}

// Dir returns the shared/transcripts folder, looked for in the working
// directory and its parents (8 folders in all). When it is missing, Dir
// skips the test, or fails it under CI=true.
func Dir(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatalf("transcript: %v", err)
	}
	for range 8 {
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

// Path returns the path of a file of one release's transcripts, such as
// Path(t, "1.43", "oauth1-10-token.txt"). The file need not exist.
func Path(t testing.TB, release, name string) string {
	t.Helper()
	return filepath.Join(Dir(t), "mediawiki-"+release, name)
}

// Request is a recorded request.
type Request struct {
	Method string
	Target string // the request target as sent: path?query
	Header http.Header
	Body   string // cut to its Content-Length when it has one
}

// Response is a recorded response.
type Response struct {
	Status int
	Header http.Header
	Body   string // cut to its Content-Length when it has one
}

// Exchange is one request of a transcript and the response to it.
type Exchange struct {
	Request  Request
	Response Response
}

// Read parses a transcript file of a release. It fails the test when the
// file cannot be read or parsed, so the result has at least one exchange.
func Read(t testing.TB, release, name string) []Exchange {
	t.Helper()
	b, err := os.ReadFile(Path(t, release, name))
	if err != nil {
		t.Fatalf("transcript: %v", err)
	}
	xs, err := parse(b)
	if err != nil {
		t.Fatalf("transcript: %s/%s: %v", release, name, err)
	}
	return xs
}

const (
	requestMark  = ">>>>>>>> REQUEST "
	responseMark = "<<<<<<<< RESPONSE "
)

// parse parses the text of a transcript file: its REQUEST n and RESPONSE n
// blocks, numbered from 1, each request followed by its response. Header
// names are canonical; a header's value is trimmed of spaces; a body with
// a Content-Length is cut to it, one without loses its final newline.
func parse(data []byte) ([]Exchange, error) {
	text := strings.ReplaceAll(string(data), "\r\n", "\n")
	type block struct {
		mark        string // requestMark or responseMark
		n           int
		start, stop int // the block's text, after its marker line
	}
	var blocks []block
	for off := 0; off < len(text); {
		line, next := text[off:], len(text)
		if i := strings.IndexByte(line, '\n'); i >= 0 {
			line, next = line[:i], off+i+1
		}
		for _, mark := range []string{requestMark, responseMark} {
			num, ok := strings.CutPrefix(line, mark)
			if !ok {
				continue
			}
			n, err := strconv.Atoi(num)
			if err != nil || n < 1 {
				return nil, fmt.Errorf("bad block marker %q", line)
			}
			if len(blocks) > 0 {
				blocks[len(blocks)-1].stop = off
			}
			blocks = append(blocks, block{mark: mark, n: n, start: next, stop: len(text)})
		}
		off = next
	}
	if len(blocks) == 0 || len(blocks)%2 == 1 {
		return nil, fmt.Errorf("%d blocks; want a response after each request", len(blocks))
	}
	out := make([]Exchange, len(blocks)/2)
	for i, b := range blocks {
		x := &out[i/2]
		want := requestMark
		if i%2 == 1 {
			want = responseMark
		}
		if b.mark != want || b.n != i/2+1 {
			return nil, fmt.Errorf("block %d is %s%d; want %s%d", i+1, b.mark, b.n, want, i/2+1)
		}
		first, h, body, err := parseMessage(text[b.start:b.stop])
		if err != nil {
			return nil, fmt.Errorf("%s%d: %w", b.mark, b.n, err)
		}
		f := strings.Fields(first)
		if b.mark == requestMark {
			if len(f) != 3 || !strings.HasPrefix(f[2], "HTTP/") {
				return nil, fmt.Errorf("%s%d: bad request line %q", b.mark, b.n, first)
			}
			x.Request = Request{Method: f[0], Target: f[1], Header: h, Body: body}
			continue
		}
		if len(f) < 2 || !strings.HasPrefix(f[0], "HTTP/") || len(f[1]) != 3 {
			return nil, fmt.Errorf("%s%d: bad status line %q", b.mark, b.n, first)
		}
		status, err := strconv.Atoi(f[1])
		if err != nil || status < 100 {
			return nil, fmt.Errorf("%s%d: bad status line %q", b.mark, b.n, first)
		}
		x.Response = Response{Status: status, Header: h, Body: body}
	}
	return out, nil
}

// parseMessage splits a request or response into its first line, headers
// and body.
func parseMessage(s string) (first string, h http.Header, body string, err error) {
	head, body, _ := strings.Cut(s, "\n\n")
	lines := strings.Split(head, "\n")
	h = http.Header{}
	for _, l := range lines[1:] {
		if l == "" {
			continue
		}
		k, v, ok := strings.Cut(l, ":")
		if !ok || strings.TrimSpace(k) == "" {
			return "", nil, "", fmt.Errorf("bad header line %q", l)
		}
		h.Add(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	if n, err := strconv.Atoi(h.Get("Content-Length")); err == nil && n >= 0 && n <= len(body) {
		body = body[:n]
	} else {
		body = strings.TrimSuffix(body, "\n")
	}
	return lines[0], h, body, nil
}

// Setup is the part of a release's consumers.json the tests use: the
// recorded wiki and its consumers by role ("oauth1", "oauth2_confidential",
// "oauth1_owner_only_alice", ...).
type Setup struct {
	Wiki      Wiki                `json:"wiki"`
	Consumers map[string]Consumer `json:"consumers"`
}

// Wiki is the wiki that produced the transcripts.
type Wiki struct {
	Server  string `json:"server"` // e.g. http://127.0.0.1:8081
	Version string `json:"version"`
}

// Consumer is a registered OAuth 1 consumer or OAuth 2 client of the
// recorded wiki. Its String and LogValue leave the secrets out.
type Consumer struct {
	Name             string   `json:"name"`
	OAuthVersion     int      `json:"oauth_version"`
	Owner            string   `json:"owner"`
	Key              string   `json:"consumer_key"`
	Secret           string   `json:"consumer_secret"`
	Callback         string   `json:"callback_url"`
	CallbackIsPrefix bool     `json:"callback_is_prefix"`
	OwnerOnly        bool     `json:"owner_only"`
	Grants           []string `json:"grants"`
	AccessToken      string   `json:"access_token"`  // owner-only consumers
	AccessSecret     string   `json:"access_secret"` // owner-only OAuth 1 consumers
	Stage            string   `json:"stage"`
	Confidential     bool     `json:"confidential"`
	GrantTypes       []string `json:"oauth2_grant_types"`
}

// String returns the consumer's name and key, without its secrets.
func (c Consumer) String() string {
	return fmt.Sprintf("transcript.Consumer{%s %s}", c.Name, c.Key)
}

// LogValue logs the consumer's name and key, without its secrets.
func (c Consumer) LogValue() slog.Value {
	return slog.GroupValue(slog.String("name", c.Name), slog.String("key", c.Key))
}

// ReadSetup reads consumers.json of a release, failing the test when it
// cannot be read or parsed.
func ReadSetup(t testing.TB, release string) *Setup {
	t.Helper()
	b, err := os.ReadFile(Path(t, release, "consumers.json"))
	if err != nil {
		t.Fatalf("transcript: %v", err)
	}
	var s Setup
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("transcript: %s/consumers.json: %v", release, err)
	}
	return &s
}

// Consumers returns the consumers of a release's consumers.json by role.
func Consumers(t testing.TB, release string) map[string]Consumer {
	t.Helper()
	return ReadSetup(t, release).Consumers
}
