// Package seal encrypts and authenticates small values (cookies, session
// records) with AES-256-GCM under a list of application keys, newest first.
//
// Each 32-byte application key is stretched with HKDF-SHA256 into an AES-256
// subkey, so the raw key is never used directly. A sealed value is
//
//	version (1 byte) || nonce (12 bytes) || AES-GCM(issued-at || payload)
//
// with additional data binding the format version and a purpose string (for
// cookies: the cookie name), so a value sealed for one purpose never opens
// for another. The issued-at time travels inside the ciphertext and [Sealer.Open]
// enforces a maximum age. Values are sealed with Keys[0] and opened by trying
// every key in turn; Open reports which key worked, so that a caller can
// re-seal a value opened with an older key under the newest one.
//
// Every way a value can fail to open (too long, bad encoding, wrong key,
// wrong purpose, tampered, expired) is ordinary input: it returns an error
// matching [ErrInvalid] and never panics.
//
// Nonces are random (96 bits) from crypto/rand; keep the number of values
// sealed under one key well below 2^32 (rotate keys).
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"
)

// KeySize is the required length of every application key: 32 bytes.
const KeySize = 32

// Version is the format version written as the first byte of every sealed
// value and bound into the additional data.
const Version byte = 1

const (
	nonceSize  = 12
	tagSize    = 16
	issuedSize = 8
	// Overhead is the number of bytes sealing adds to a payload.
	Overhead = 1 + nonceSize + issuedSize + tagSize
)

// MaxPayload is the largest payload [Sealer.Seal] accepts: 1 MiB.
const MaxPayload = 1 << 20

// MaxSealed is the longest sealed value [Sealer.Open] looks at.
const MaxSealed = MaxPayload + Overhead

// MaxEncoded is the longest encoded value [Sealer.Decode] looks at: 4096
// bytes, the size of a cookie. Longer values are rejected before base64
// decoding.
const MaxEncoded = 4096

// hkdfInfo names the subkey, so the same application key used elsewhere
// (or by a later format) gives an unrelated AES key.
const hkdfInfo = "mwoauth seal v1 AES-256-GCM"

// aadPrefix starts the additional data of every sealed value.
const aadPrefix = "mwoauth/seal\x00"

// ErrInvalid is returned (wrapped, with a reason) for every value that does
// not open: over-long, badly encoded, sealed with an unknown key or for
// another purpose, modified, or older than the maximum age. Callers treat it
// as "no value", never as a server error.
var ErrInvalid = errors.New("seal: invalid or expired value")

// ErrTooLarge is returned by [Sealer.Seal] for a payload over [MaxPayload].
var ErrTooLarge = errors.New("seal: payload too large")

// ErrKey is returned (wrapped) by [New] for a missing or wrong-sized key.
var ErrKey = errors.New("seal: bad key")

// Sealer seals and opens values under a fixed list of keys. It is safe for
// concurrent use.
type Sealer struct {
	aeads []cipher.AEAD
	rand  io.Reader
}

// New returns a Sealer for keys, newest first. There must be at least one
// key, and every key must be exactly [KeySize] bytes. The keys are not
// retained: only the derived subkeys are.
func New(keys [][]byte) (*Sealer, error) {
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w: no keys given", ErrKey)
	}
	s := &Sealer{rand: rand.Reader}
	for i, k := range keys {
		if len(k) != KeySize {
			return nil, fmt.Errorf("%w: key %d is %d bytes; want exactly %d", ErrKey, i, len(k), KeySize)
		}
		sub, err := hkdf.Key(sha256.New, k, nil, hkdfInfo, KeySize)
		if err != nil {
			return nil, fmt.Errorf("seal: deriving subkey %d: %w", i, err)
		}
		block, err := aes.NewCipher(sub)
		if err != nil {
			return nil, fmt.Errorf("seal: key %d: %w", i, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("seal: key %d: %w", i, err)
		}
		s.aeads = append(s.aeads, aead)
	}
	return s, nil
}

// Keys returns the number of keys the Sealer tries.
func (s *Sealer) Keys() int { return len(s.aeads) }

func aad(purpose string) []byte {
	b := make([]byte, 0, len(aadPrefix)+1+len(purpose))
	b = append(b, aadPrefix...)
	b = append(b, Version)
	return append(b, purpose...)
}

// Seal encrypts payload for purpose under the newest key, recording issued
// as its issue time (nanosecond precision; it must lie between the years
// 1678 and 2262).
func (s *Sealer) Seal(purpose string, payload []byte, issued time.Time) ([]byte, error) {
	if len(payload) > MaxPayload {
		return nil, fmt.Errorf("%w: %d bytes, at most %d", ErrTooLarge, len(payload), MaxPayload)
	}
	ns := issued.UnixNano()
	if time.Unix(0, ns).Compare(issued) != 0 || ns <= 0 {
		return nil, fmt.Errorf("seal: issue time %v out of range", issued)
	}
	out := make([]byte, 1+nonceSize, Overhead+len(payload))
	out[0] = Version
	if _, err := io.ReadFull(s.rand, out[1:]); err != nil {
		return nil, fmt.Errorf("seal: reading nonce: %w", err)
	}
	plain := make([]byte, issuedSize, issuedSize+len(payload))
	binary.BigEndian.PutUint64(plain, uint64(ns))
	plain = append(plain, payload...)
	return s.aeads[0].Seal(out, out[1:1+nonceSize], plain, aad(purpose)), nil
}

// Open decrypts a value sealed for purpose, trying each key in turn. It
// returns the payload, its issue time and the index of the key that opened
// it (0 is the newest; anything else means the value should be re-sealed).
// maxAge > 0 rejects a value issued more than maxAge before now, or more than
// a minute after now (clock skew between instances is tolerated up to that).
// Every failure matches [ErrInvalid].
func (s *Sealer) Open(purpose string, sealed []byte, now time.Time, maxAge time.Duration) (payload []byte, issued time.Time, key int, err error) {
	if len(sealed) > MaxSealed {
		return nil, time.Time{}, -1, fmt.Errorf("%w: %d bytes is too long", ErrInvalid, len(sealed))
	}
	if len(sealed) < Overhead {
		return nil, time.Time{}, -1, fmt.Errorf("%w: too short", ErrInvalid)
	}
	if sealed[0] != Version {
		return nil, time.Time{}, -1, fmt.Errorf("%w: unknown format version %d", ErrInvalid, sealed[0])
	}
	nonce, ct := sealed[1:1+nonceSize], sealed[1+nonceSize:]
	ad := aad(purpose)
	for i, a := range s.aeads {
		plain, oerr := a.Open(nil, nonce, ct, ad)
		if oerr != nil {
			continue
		}
		if len(plain) < issuedSize {
			break
		}
		ns := int64(binary.BigEndian.Uint64(plain[:issuedSize]))
		issued = time.Unix(0, ns)
		if maxAge > 0 {
			if now.Sub(issued) > maxAge {
				return nil, time.Time{}, -1, fmt.Errorf("%w: expired (issued %v, max age %v)", ErrInvalid, issued.UTC(), maxAge)
			}
			if issued.Sub(now) > time.Minute {
				return nil, time.Time{}, -1, fmt.Errorf("%w: issued in the future (%v)", ErrInvalid, issued.UTC())
			}
		}
		return plain[issuedSize:], issued, i, nil
	}
	return nil, time.Time{}, -1, fmt.Errorf("%w: authentication failed", ErrInvalid)
}

var encoding = base64.RawURLEncoding.Strict()

// Encode seals payload like [Sealer.Seal] and returns it base64url-encoded
// without padding, ready for a cookie value.
func (s *Sealer) Encode(purpose string, payload []byte, issued time.Time) (string, error) {
	b, err := s.Seal(purpose, payload, issued)
	if err != nil {
		return "", err
	}
	return encoding.EncodeToString(b), nil
}

// EncodedLen returns the length of the value [Sealer.Encode] returns for a
// payload of n bytes.
func EncodedLen(n int) int { return encoding.EncodedLen(Overhead + n) }

// Decode opens a value made by [Sealer.Encode]. A value longer than
// [MaxEncoded] is rejected before it is decoded. Decoding is strict (no
// padding, no stray bits), so a changed character never yields the same
// bytes. See [Sealer.Open] for the results.
func (s *Sealer) Decode(purpose, value string, now time.Time, maxAge time.Duration) (payload []byte, issued time.Time, key int, err error) {
	if len(value) > MaxEncoded {
		return nil, time.Time{}, -1, fmt.Errorf("%w: encoded value of %d bytes is too long", ErrInvalid, len(value))
	}
	b, err := encoding.DecodeString(value)
	if err != nil {
		return nil, time.Time{}, -1, fmt.Errorf("%w: bad encoding", ErrInvalid)
	}
	return s.Open(purpose, b, now, maxAge)
}
