package oauth1

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

func FuzzPercentEncode(f *testing.F) {
	for _, s := range []string{"", "abcABC123", "-._~", "%", "+", " ", "\n", "\x7f", "*", "!", "é", "☃", "\xff\x00", "a=b&c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		enc := PercentEncode(s)
		for i := 0; i < len(enc); i++ {
			c := enc[i]
			if c == '%' {
				if i+2 >= len(enc) || !isUpperHex(enc[i+1]) || !isUpperHex(enc[i+2]) {
					t.Fatalf("PercentEncode(%q) = %q: bad escape at %d", s, enc, i)
				}
				i += 2
				continue
			}
			if !unreserved(c) {
				t.Fatalf("PercentEncode(%q) = %q: unescaped %q", s, enc, c)
			}
		}
		dec, err := url.PathUnescape(enc)
		if err != nil || dec != s {
			t.Fatalf("PathUnescape(PercentEncode(%q)) = %q, %v", s, dec, err)
		}
		// Only reserved bytes are escaped: the output grows by 2 per escape.
		if strings.Count(enc, "%")*2+len(s) != len(enc) {
			t.Fatalf("PercentEncode(%q) = %q: length", s, enc)
		}
	})
}

func isUpperHex(c byte) bool { return '0' <= c && c <= '9' || 'A' <= c && c <= 'F' }

func FuzzParseTokenResponse(f *testing.F) {
	for _, s := range []string{
		`{"key":"4f49d7e1f55b47f09e996bb96d4a13a1","secret":"e23f5cc72a5b724f37404ba0d2d472c6","oauth_callback_confirmed":"true"}`,
		`{"key":"875f4057e976c271efdfaf59411055df","secret":"7d6a5459f1aa9232dad8fe0f25c8ef686d008de6"}`,
		"oauth_token=fbe6e85dfcabe00f991a31fb100cd70a&oauth_token_secret=5dfff9df3b3a9d15300abebbe7da04de&oauth_callback_confirmed=true",
		"oauth_token=abc", "", "{}", "null", `{"key":1}`, "a=%zz", "oauth_token=a&oauth_token=b",
		`{"key":"a","secret":"b","oauth_callback_confirmed":true}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		tok, _, err := parseTokenResponse(body)
		if err != nil {
			if tok != nil || !errors.Is(err, ErrMalformedResponse) {
				t.Fatalf("parseTokenResponse = %v, %v", tok, err)
			}
			return
		}
		if !validToken(tok.Key) || !validToken(tok.Secret) {
			t.Fatalf("accepted token %q/%q", tok.Key, tok.Secret)
		}
		// Never echo a secret into an error built from the same body.
		if werr := parseWikiError("token", body, 200, []string{tok.Secret}); werr != nil && len(tok.Secret) >= 4 && strings.Contains(werr.Error(), tok.Secret) {
			t.Fatalf("wiki error %q holds the secret", werr)
		}
	})
}
