package oauth1

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
)

// RSASHA1 is the RSA-SHA1 signature method of RFC 5849 §3.4.3: RSASSA-PKCS1-v1_5
// (RFC 3447 §8.2) over the SHA-1 digest of the signature base string, with
// the consumer's private key, base64-encoded. It is for consumers registered
// on the wiki with the matching public key ("Public RSA key" on
// Special:OAuthConsumerRegistration). Use it as Config.Signer:
//
//	cfg := &oauth1.Config{Wiki: wiki, ConsumerKey: key, ConsumerSecret: secret,
//		Signer: oauth1.RSASHA1{Key: privateKey}, UserAgent: ua}
//
// The consumer and token secrets take no part in RSA-SHA1 signatures: the
// token step answers the secret "__unused__" for such requests, and a Token
// with that secret signs as well as any other. MediaWiki still gives every
// consumer a secret at registration and signs the identify JWT with it (HS256,
// for RSA consumers too), so Config.ConsumerSecret is needed for
// Config.Identify; signing alone works without it.
//
// RSASHA1 is safe for concurrent use. Its String, GoString and LogValue never
// show the key.
type RSASHA1 struct {
	// Key is the consumer's RSA private key. Required.
	Key *rsa.PrivateKey
}

// errNoRSAKey is returned by RSASHA1.Sign without a key.
var errNoRSAKey = errors.New("oauth1: RSA-SHA1: no private key")

// Method returns "RSA-SHA1".
func (RSASHA1) Method() string { return "RSA-SHA1" }

// Sign returns base64(RSASSA-PKCS1-v1_5-SIGN(Key, SHA-1(base))). The
// consumer and token secrets are ignored (RFC 5849 §3.4.3).
func (s RSASHA1) Sign(base, _, _ string) (string, error) {
	if s.Key == nil || s.Key.N == nil {
		return "", errNoRSAKey
	}
	h := sha1.Sum([]byte(base))
	sig, err := rsa.SignPKCS1v15(rand.Reader, s.Key, crypto.SHA1, h[:])
	if err != nil {
		return "", fmt.Errorf("oauth1: RSA-SHA1: %w", err)
	}
	return base64.StdEncoding.EncodeToString(sig), nil
}

// String returns a redacted form with the key size only.
func (s RSASHA1) String() string {
	if s.Key == nil || s.Key.N == nil {
		return "oauth1.RSASHA1{Key:nil}"
	}
	return fmt.Sprintf("oauth1.RSASHA1{Key:REDACTED (%d-bit)}", s.Key.N.BitLen())
}

// GoString is String, so that %#v redacts too.
func (s RSASHA1) GoString() string { return s.String() }

// Format makes every verb print the redacted form.
func (s RSASHA1) Format(f fmt.State, verb rune) { fmt.Fprint(f, s.String()) }

// LogValue implements slog.LogValuer: the redacted form.
func (s RSASHA1) LogValue() slog.Value { return slog.StringValue(s.String()) }

// needsSecret reports whether signing with s needs the consumer secret:
// every method but RSA-SHA1 does (HMAC-SHA1's key is made of the secrets).
func needsSecret(s Signer) bool { return s.Method() != "RSA-SHA1" }

// checkSigner refuses an RSASHA1 signer without a key.
func checkSigner(s Signer) error {
	var k *rsa.PrivateKey
	switch r := s.(type) {
	case RSASHA1:
		k = r.Key
	case *RSASHA1:
		if r == nil {
			return fmt.Errorf("%w: Signer is a nil *RSASHA1", ErrInvalidConfig)
		}
		k = r.Key
	default:
		return nil
	}
	if k == nil || k.N == nil {
		return fmt.Errorf("%w: RSASHA1 signer without a private key", ErrInvalidConfig)
	}
	return nil
}
