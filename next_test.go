package mwoauth

import (
	"net/url"
	"strings"
	"testing"
)

func TestSafeNext(t *testing.T) {
	t.Parallel()
	accept := []string{
		"/", "/wiki/Foo?x=1#f", "/a//b", "/?next=//evil.com", "/userinfo", "/a%20b", "/path;x=1",
		"/" + strings.Repeat("a", maxNextLen-1),
	}
	for _, next := range accept {
		if got, ok := safeNext(next); !ok || got != next {
			t.Errorf("safeNext(%q) = %q, %v; want it kept", next, got, ok)
		}
	}
	// SECURITY.md §A items 1-5, and a few more of the same families.
	refuse := []string{
		"", "https://evil.com", "http://evil.com", "//evil.com", "///evil.com", "////evil.com",
		"/\\evil.com", "/\\/evil.com", "\\\\evil.com", "/%5Cevil.com", "/%2F/evil.com", "%2F%2Fevil.com",
		"%2F%5Cevil.com", "/%09/evil.com", "/%0a/evil.com", "/%0d/evil.com", "/%0b/evil.com", " //evil.com",
		"%20//evil.com", "/%00/x", "/\t/evil.com", "/\n/evil.com", "javascript:alert(1)", "JaVaScRiPt:alert(1)",
		"data:text/html,x", "http:evil.com", "https://app.example@evil.com", "//app.example@evil.com",
		"/\"><script>alert(1)</script>", "/é", "/%E3%80%80/evil.com", "/%zz",
		"/" + strings.Repeat("a", maxNextLen),
	}
	for _, next := range refuse {
		if got, ok := safeNext(next); ok {
			t.Errorf("safeNext(%q) = %q, true; want refused", next, got)
		}
		// The query-decoded form must be refused as well.
		if dec, err := url.QueryUnescape(next); err == nil {
			if got, ok := safeNext(dec); ok && dec != got {
				t.Errorf("safeNext(%q) = %q", dec, got)
			}
		}
	}
}

// FuzzSafeNext checks the property of SECURITY.md [T8]: an accepted value is
// a path that stays on our host even after a browser's normalization.
func FuzzSafeNext(f *testing.F) {
	for _, s := range []string{"/", "/a?b#c", "//evil.com", "/\\evil.com", "/%2F/x", "/%09/x", "https://x"} {
		f.Add(s)
	}
	base, _ := url.Parse("https://app.example/")
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := safeNext(s)
		if !ok {
			return
		}
		if got != s {
			t.Fatalf("safeNext(%q) changed it to %q", s, got)
		}
		browser := strings.NewReplacer("\\", "/", "\t", "", "\r", "", "\n", "").Replace(s)
		if strings.HasPrefix(browser, "//") || strings.ContainsAny(s, "\\\x00\x7f ") {
			t.Fatalf("safeNext(%q) accepted a value a browser reads as protocol-relative", s)
		}
		u, err := url.Parse(browser)
		if err != nil {
			t.Fatalf("accepted %q does not parse: %v", s, err)
		}
		if res := base.ResolveReference(u); res.Host != base.Host {
			t.Fatalf("accepted %q resolves to host %q", s, res.Host)
		}
	})
}
