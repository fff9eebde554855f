package mwapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"testing"
)

// FuzzDecodeResponse checks the response/error decoder on arbitrary
// bodies, statuses and MediaWiki-API-Error headers: it never panics, a
// success is a JSON object with no error in it and status 200, and every
// *APIError has a code.
func FuzzDecodeResponse(f *testing.F) {
	seeds := []string{
		`{"batchcomplete":"","query":{"userinfo":{"id":3,"name":"Alice"}}}`,
		`{"error":{"code":"badtoken","info":"Invalid CSRF token.","*":"See http://127.0.0.1:8081/w/api.php"}}`,
		`{"error":{"code":"maxlag","info":"Waiting for 10.64.0.1: 7 seconds lagged.","host":"10.64.0.1","lag":7,"type":"db"}}`,
		`{"errors":[{"code":"badtoken","text":"Invalid CSRF token.","module":"main"}],"docref":"x"}`,
		`{"errors":[{"code":"a","html":"<b>x</b>","module":"main"},{"code":"b","key":"k","params":[1]}]}`,
		`{"warnings":{"main":{"warnings":"a\nb"}},"continue":{"apcontinue":"B","continue":"-||"}}`,
		`{"warnings":[{"code":"w","text":"t","module":"query"}]}`,
		`{"error":"mwoauth-oauth-exception","message":"Nonce already used"}`,
		`{"error":null}`, `{"errors":[]}`, `{"errors":[1,"x",null]}`, `[]`, `<html>`, ``, `{"warnings":5}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s), 200, "", "")
	}
	f.Add([]byte(`{"error":{"code":"maxlag"}}`), 200, "maxlag", "5")
	f.Add([]byte(`<html>Too many</html>`), 429, "", "Wed, 21 Oct 2015 07:28:00 GMT")
	f.Add([]byte(``), 503, "", "x")
	f.Fuzz(func(t *testing.T, body []byte, status int, headerCode, retry string) {
		h := http.Header{}
		if headerCode != "" {
			h.Set("MediaWiki-API-Error", headerCode)
		}
		h.Set("Retry-After", retry)
		h.Set("X-Database-Lag", retry)
		resp, err := decodeResponse(status, h, body)
		if err == nil {
			if status != 200 {
				t.Fatalf("success with status %d", status)
			}
			var env map[string]json.RawMessage
			if json.Unmarshal(resp.Body, &env) != nil {
				t.Fatalf("success with a body that is not a JSON object: %q", resp.Body)
			}
			if e, ok := env["error"]; ok && string(e) != "null" {
				t.Fatalf("success with an error member: %s", e)
			}
			var list []json.RawMessage
			if json.Unmarshal(env["errors"], &list) == nil && len(list) > 0 {
				t.Fatalf("success with errors: %s", env["errors"])
			}
			for _, w := range resp.Warnings {
				_ = w.String()
			}
			if _, err := continueParams(resp.Body); err != nil && !errors.Is(err, ErrBadResponse) {
				t.Fatalf("continueParams: %v", err)
			}
			return
		}
		if resp != nil {
			t.Fatal("both a response and an error")
		}
		var apiErr *APIError
		if errors.As(err, &apiErr) {
			if apiErr.Code == "" {
				t.Fatalf("APIError without code: %#v", apiErr)
			}
			if apiErr.RetryAfter < 0 || apiErr.Lag < 0 {
				t.Fatalf("negative durations: %#v", apiErr)
			}
			_ = apiErr.Error()
			for _, s := range []error{ErrNotLoggedIn, ErrTokenRevoked, ErrBadToken, ErrMaxLag} {
				_ = errors.Is(err, s)
			}
			return
		}
		var he *HTTPError
		if errors.As(err, &he) {
			if len(he.Body) > 512 || he.RetryAfter < 0 {
				t.Fatalf("HTTPError %#v", he)
			}
			return
		}
		if !errors.Is(err, ErrBadResponse) {
			t.Fatalf("unexpected error type: %v", err)
		}
	})
}
