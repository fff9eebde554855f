package mwoauth

import (
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxNextLen caps the return path a login or logout may carry (SECURITY.md §A5).
const maxNextLen = 1024

// safeNext reports whether next is a path on the application's own origin
// that is safe to redirect a browser to after login or logout, and returns it.
// Only a path is accepted: it must start with a single "/", and must not
// become protocol-relative ("//host") through a browser's normalization
// (backslashes, control characters and white space, which browsers strip or
// turn into "/") or through one more round of percent-decoding. Everything
// else — absolute URLs, schemes, userinfo, "\", spaces, non-ASCII, anything
// longer than 1024 bytes — is refused, and the caller falls back to the
// configured default (SECURITY.md §A, items 1–5).
func safeNext(next string) (string, bool) {
	if next == "" || len(next) > maxNextLen {
		return "", false
	}
	if !cleanPathChars(next) {
		return "", false
	}
	if next[0] != '/' || strings.HasPrefix(next, "//") {
		return "", false
	}
	// One more decode must not reveal a backslash, control character or a
	// protocol-relative start ("/%2F/evil.com", "/%5Cevil.com").
	dec, err := url.PathUnescape(next)
	if err != nil {
		return "", false
	}
	if strings.HasPrefix(dec, "//") || strings.ContainsRune(dec, '\\') || !utf8.ValidString(dec) {
		return "", false
	}
	// Encoded control characters and exotic white space are refused; an
	// encoded plain space ("/a%20b") is an ordinary path character, but not
	// right after the leading slash.
	for i, r := range dec {
		if r < 0x20 || r == 0x7f || (unicode.IsSpace(r) && (r != ' ' || i == 1)) {
			return "", false
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return "", false
	}
	base := &url.URL{Scheme: "https", Host: "app.invalid"}
	if res := base.ResolveReference(u); res.Host != base.Host || res.User != nil {
		return "", false
	}
	return next, true
}

// cleanPathChars reports whether s holds only the printable ASCII characters
// RFC 3986 allows in a path, query and fragment (with '%' escapes), and in
// particular no backslash, quote, angle bracket, space or control byte.
func cleanPathChars(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("-._~!$&'()*+,;=:@/?#%[]", c) >= 0:
		default:
			return false
		}
	}
	return true
}
