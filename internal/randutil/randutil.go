// Package randutil makes the random values mwoauth needs: 256-bit ids,
// hex nonces, OAuth 2 state strings and PKCE verifiers, all from
// crypto/rand (or an injected reader in tests), and a constant-time string
// comparison for checking them.
//
// A failed read is returned as an error, never ignored and never replaced by
// weaker randomness.
package randutil

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
)

// IDBytes is the number of random bytes in an id, a state string and a PKCE
// verifier: 256 bits.
const IDBytes = 32

// NonceBytes is the number of random bytes in a nonce from [Nonce].
const NonceBytes = 16

// maxBytes bounds a single request, so that a bad argument cannot ask for an
// unbounded allocation.
const maxBytes = 1024

// Source produces random values from R. The zero Source reads from
// crypto/rand.Reader; tests inject a reader (for example one that fails).
type Source struct {
	R io.Reader
}

func (s Source) reader() io.Reader {
	if s.R == nil {
		return rand.Reader
	}
	return s.R
}

// Bytes returns n random bytes (0 < n <= 1024).
func (s Source) Bytes(n int) ([]byte, error) {
	if n <= 0 || n > maxBytes {
		return nil, fmt.Errorf("randutil: invalid length %d", n)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(s.reader(), b); err != nil {
		return nil, fmt.Errorf("randutil: reading random bytes: %w", err)
	}
	return b, nil
}

// ID returns a 256-bit random id, base64url-encoded without padding (43
// characters).
func (s Source) ID() (string, error) {
	b, err := s.Bytes(IDBytes)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// Hex returns n random bytes as 2n lowercase hex digits.
func (s Source) Hex(n int) (string, error) {
	b, err := s.Bytes(n)
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// Nonce returns a 128-bit random nonce as 32 lowercase hex digits (no
// characters that percent-encoding could mangle).
func (s Source) Nonce() (string, error) { return s.Hex(NonceBytes) }

// State returns an OAuth 2 state string: 256 random bits, base64url.
func (s Source) State() (string, error) { return s.ID() }

// Verifier returns a PKCE code verifier (RFC 7636 §4.1): 32 random bytes,
// base64url without padding, 43 characters.
func (s Source) Verifier() (string, error) { return s.ID() }

// ID returns a 256-bit random id from crypto/rand; see [Source.ID].
func ID() (string, error) { return Source{}.ID() }

// Bytes returns n random bytes from crypto/rand; see [Source.Bytes].
func Bytes(n int) ([]byte, error) { return Source{}.Bytes(n) }

// Hex returns n random bytes from crypto/rand as hex; see [Source.Hex].
func Hex(n int) (string, error) { return Source{}.Hex(n) }

// Nonce returns a random hex nonce from crypto/rand; see [Source.Nonce].
func Nonce() (string, error) { return Source{}.Nonce() }

// State returns an OAuth 2 state string from crypto/rand; see [Source.State].
func State() (string, error) { return Source{}.State() }

// Verifier returns a PKCE verifier from crypto/rand; see [Source.Verifier].
func Verifier() (string, error) { return Source{}.Verifier() }

// S256Challenge returns the PKCE S256 code challenge of verifier:
// BASE64URL(SHA256(ASCII(verifier))) without padding (RFC 7636 §4.2).
func S256Challenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// Equal reports whether a and b are equal, in time that depends only on
// their lengths, not on their contents. Use it for states, tokens, nonces
// and anything else an attacker may guess byte by byte.
func Equal(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
