package mwoauthtest_test

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/wikiauth/mwoauth/mwoauthtest"
)

// rawAPI sends an anonymous api.php request and returns status, the
// MediaWiki-API-Error header, the response headers and the decoded body.
func rawAPI(t *testing.T, s *mwoauthtest.Server, method string, params url.Values) (int, http.Header, map[string]any) {
	t.Helper()
	var resp *http.Response
	var err error
	if method == http.MethodGet {
		resp, err = s.Client().Get(s.ScriptPath() + "/api.php?" + params.Encode())
	} else {
		resp, err = s.Client().PostForm(s.ScriptPath()+"/api.php", params)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("body %q: %v", b, err)
	}
	return resp.StatusCode, resp.Header, m
}

func TestAPIMaxlagShape(t *testing.T) {
	s := mwoauthtest.Start(t)
	s.SetLag(mwoauthtest.Lag{Lag: 7 * time.Second, Requests: 1})
	status, h, body := rawAPI(t, s, http.MethodGet, url.Values{"action": {"query"}, "format": {"json"}, "formatversion": {"2"}, "maxlag": {"1"}})
	if status != 200 || h.Get("MediaWiki-API-Error") != "maxlag" || h.Get("Retry-After") != "5" || h.Get("X-Database-Lag") != "7" {
		t.Errorf("status %d, headers %v", status, h)
	}
	e, _ := body["error"].(map[string]any)
	if e["code"] != "maxlag" || e["lag"] != 7.0 || e["type"] != "db" || e["host"] == nil || e["docref"] == nil {
		t.Errorf("error = %v", e)
	}
	// Used up: the next request passes; requests without maxlag never count.
	if _, h, _ := rawAPI(t, s, http.MethodGet, url.Values{"action": {"query"}, "format": {"json"}, "maxlag": {"1"}}); h.Get("MediaWiki-API-Error") != "" {
		t.Errorf("second request failed with %s", h.Get("MediaWiki-API-Error"))
	}
	s.SetLag(mwoauthtest.Lag{Lag: 7 * time.Second, Requests: 1})
	if _, h, _ := rawAPI(t, s, http.MethodGet, url.Values{"action": {"query"}, "format": {"json"}, "maxlag": {"10"}}); h.Get("MediaWiki-API-Error") != "" {
		t.Errorf("maxlag=10 with 7 s lag failed with %s", h.Get("MediaWiki-API-Error"))
	}
}

func TestAPIErrorFormatShape(t *testing.T) {
	s := mwoauthtest.Start(t)
	s.RateLimit("query", 1)
	_, h, body := rawAPI(t, s, http.MethodGet, url.Values{"action": {"query"}, "format": {"json"}, "formatversion": {"2"}, "errorformat": {"plaintext"}, "list": {"bogus"}})
	errs, _ := body["errors"].([]any)
	if h.Get("MediaWiki-API-Error") != "ratelimited" || len(errs) != 1 || body["docref"] == nil || body["error"] != nil {
		t.Fatalf("header %q, body %v", h.Get("MediaWiki-API-Error"), body)
	}
	e := errs[0].(map[string]any)
	if e["code"] != "ratelimited" || e["module"] != "main" || !strings.HasPrefix(e["text"].(string), "As an anti-abuse measure") {
		t.Errorf("errors[0] = %v", e)
	}
	// Warnings of a successful call, in the same format.
	_, _, body = rawAPI(t, s, http.MethodGet, url.Values{"action": {"query"}, "format": {"json"}, "formatversion": {"2"}, "errorformat": {"html"}, "list": {"bogus"}})
	warns, _ := body["warnings"].([]any)
	if len(warns) != 1 {
		t.Fatalf("warnings = %v", body["warnings"])
	}
	if w := warns[0].(map[string]any); w["code"] != "unrecognizedvalues" || w["module"] != "query" || w["html"] == nil {
		t.Errorf("warnings[0] = %v", w)
	}
	// The default (bc) format is unchanged.
	_, _, body = rawAPI(t, s, http.MethodGet, url.Values{"action": {"query"}, "format": {"json"}, "formatversion": {"2"}, "list": {"bogus"}})
	if w, _ := body["warnings"].(map[string]any); w["query"] == nil {
		t.Errorf("bc warnings = %v", body["warnings"])
	}
}

func TestAPIUploadErrors(t *testing.T) {
	s := mwoauthtest.Start(t)
	// Anonymous: the token is "+\", and uploading needs the upload right.
	send := func(fields map[string]string, file []byte, field string) map[string]any {
		var buf bytes.Buffer
		w := multipart.NewWriter(&buf)
		for k, v := range fields {
			w.WriteField(k, v)
		}
		if file != nil {
			fw, _ := w.CreateFormFile(field, "x.bin")
			fw.Write(file)
		}
		w.WriteField("token", `+\`)
		w.Close()
		resp, err := s.Client().Post(s.ScriptPath()+"/api.php", w.FormDataContentType(), &buf)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		json.NewDecoder(resp.Body).Decode(&m)
		return m
	}
	m := send(map[string]string{"action": "upload", "format": "json", "filename": "X.bin"}, []byte("abc"), "file")
	if e, _ := m["error"].(map[string]any); e["code"] != "permissiondenied" {
		t.Errorf("anonymous upload: %v", m)
	}
	_, _, body := rawAPI(t, s, http.MethodGet, url.Values{"action": {"upload"}, "format": {"json"}, "token": {`+\`}})
	if e, _ := body["error"].(map[string]any); e["code"] == nil {
		t.Errorf("GET upload: %v", body)
	}
}
