package randutil

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"regexp"
	"testing"
)

type failReader struct{ err error }

func (f failReader) Read([]byte) (int, error) { return 0, f.err }

func TestFormats(t *testing.T) {
	t.Parallel()
	b64 := regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)
	hex32 := regexp.MustCompile(`^[0-9a-f]{32}$`)
	tests := []struct {
		name string
		fn   func() (string, error)
		re   *regexp.Regexp
	}{
		{"ID", ID, b64},
		{"State", State, b64},
		{"Verifier", Verifier, b64},
		{"Nonce", Nonce, hex32},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seen := make(map[string]bool)
			for i := 0; i < 1000; i++ {
				v, err := tt.fn()
				if err != nil {
					t.Fatalf("%s() error: %v", tt.name, err)
				}
				if !tt.re.MatchString(v) {
					t.Fatalf("%s() = %q; want match %s", tt.name, v, tt.re)
				}
				if seen[v] {
					t.Fatalf("%s() repeated %q", tt.name, v)
				}
				seen[v] = true
			}
		})
	}
}

func TestReadErrorReturned(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	s := Source{R: failReader{boom}}
	fns := map[string]func() (string, error){
		"ID": s.ID, "State": s.State, "Verifier": s.Verifier, "Nonce": s.Nonce,
		"Hex": func() (string, error) { return s.Hex(8) },
	}
	for name, fn := range fns {
		v, err := fn()
		if !errors.Is(err, boom) {
			t.Errorf("%s() error = %v; want %v", name, err, boom)
		}
		if v != "" {
			t.Errorf("%s() = %q on error; want empty", name, v)
		}
	}
	if _, err := s.Bytes(0); err == nil {
		t.Error("Bytes(0) error = nil; want error")
	}
	if _, err := s.Bytes(1 << 20); err == nil {
		t.Error("Bytes(1<<20) error = nil; want error")
	}
}

func TestS256Challenge(t *testing.T) {
	t.Parallel()
	// RFC 7636 Appendix B.
	const verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	const want = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
	if got := S256Challenge(verifier); got != want {
		t.Errorf("S256Challenge(%q) = %q; want %q", verifier, got, want)
	}
	v, err := Verifier()
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(v))
	if got, want := S256Challenge(v), base64.RawURLEncoding.EncodeToString(sum[:]); got != want || len(got) != 43 {
		t.Errorf("S256Challenge(%q) = %q; want %q (43 chars)", v, got, want)
	}
}

func TestEqual(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b string
		want bool
	}{
		{"", "", true},
		{"abc", "abc", true},
		{"abc", "abd", false},
		{"abc", "ab", false},
		{"", "a", false},
	}
	for _, tt := range tests {
		if got := Equal(tt.a, tt.b); got != tt.want {
			t.Errorf("Equal(%q, %q) = %v; want %v", tt.a, tt.b, got, tt.want)
		}
	}
}
