package mwoauthtest_test

import (
	"strings"
	"testing"

	"github.com/wikiauth/mwoauth/mwoauthtest"
)

// TestParseAuthorizationHeader: split_header's behaviour, quirks included.
func TestParseAuthorizationHeader(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want map[string]string
		ok   bool
	}{
		{`OAuth oauth_nonce="a%20b", oauth_token="", oauth_version="1.0"`, map[string]string{"oauth_nonce": "a b", "oauth_token": "", "oauth_version": "1.0"}, true},
		{`OAuth realm="x", oauth_callback="http%3A%2F%2Fa%2Fb%3Fc%3D1"`, map[string]string{"oauth_callback": "http://a/b?c=1"}, true},
		{`OAuth oauth_a=plain,oauth_b="q+u"`, map[string]string{"oauth_a": "plain", "oauth_b": "q u"}, true},
		{`OAuth oauth_x="0"`, map[string]string{"oauth_x": ""}, true}, // PHP's empty("0")
		{`OAuth oauth_x="1", oauth_x="2"`, map[string]string{"oauth_x": "2"}, true},
		{`OAuth Oauth_X="1", foo="2"`, map[string]string{}, true},
		{`oauth oauth_x="1"`, nil, false},
		{`Bearer abc`, nil, false},
	} {
		got, ok := mwoauthtest.ParseAuthorizationHeader(tc.in)
		if ok != tc.ok || len(got) != len(tc.want) {
			t.Errorf("ParseAuthorizationHeader(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
			continue
		}
		for k, v := range tc.want {
			if got[k] != v {
				t.Errorf("ParseAuthorizationHeader(%q)[%q] = %q; want %q", tc.in, k, got[k], v)
			}
		}
	}
}

// FuzzParseAuthorizationHeader: the header parser never panics, returns
// only oauth_ names (lower case, _ and -), a bounded number of them, and
// finds every parameter of a header built from them again.
func FuzzParseAuthorizationHeader(f *testing.F) {
	f.Add(`OAuth oauth_nonce="77644bf21191ca20bdc92ce7b526aead", oauth_timestamp="1796394137", oauth_version="1.0", oauth_signature_method="HMAC-SHA1", oauth_consumer_key="a88e684b481c8855c057ce4d016b5527", oauth_callback="oob", oauth_signature="dqOIUTK5NmZclikuMOvhDKMmdc8%3D"`)
	f.Add(`OAuth oauth_a=,oauth_b=:"x"`)
	f.Add(`OAuth oauth_="`)
	f.Add("OAuth oauth_x=%zz%4")
	f.Fuzz(func(t *testing.T, h string) {
		params, ok := mwoauthtest.ParseAuthorizationHeader(h)
		if ok != strings.HasPrefix(h, "OAuth ") {
			t.Fatalf("ok = %v for %q", ok, h)
		}
		if len(params) > 256 {
			t.Fatalf("%d parameters", len(params))
		}
		for k := range params {
			if !strings.HasPrefix(k, "oauth_") || strings.Trim(k[6:], "abcdefghijklmnopqrstuvwxyz_-") != "" {
				t.Fatalf("name %q", k)
			}
		}
		// Rebuild a canonical header from what was found: it parses to
		// the same parameters.
		var parts []string
		for k, v := range params {
			if strings.ContainsAny(v, `"`) || v == "0" {
				continue
			}
			parts = append(parts, k+`="`+pctEncode(v)+`"`)
		}
		again, _ := mwoauthtest.ParseAuthorizationHeader("OAuth " + strings.Join(parts, ", "))
		for k, v := range params {
			if strings.ContainsAny(v, `"`) || v == "0" {
				continue
			}
			if again[k] != v {
				t.Fatalf("%q: %q became %q", k, v, again[k])
			}
		}
	})
}

func pctEncode(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
		} else {
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}
