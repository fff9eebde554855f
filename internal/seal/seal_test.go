package seal

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

func key(b byte) []byte { return bytes.Repeat([]byte{b}, KeySize) }

var t0 = time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)

func mustNew(t testing.TB, keys ...[]byte) *Sealer {
	t.Helper()
	s, err := New(keys)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

func TestNewKeys(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		keys    [][]byte
		wantErr error
	}{
		{"one", [][]byte{key(1)}, nil},
		{"three", [][]byte{key(1), key(2), key(3)}, nil},
		{"none", nil, ErrKey},
		{"short", [][]byte{make([]byte, 16)}, ErrKey},
		{"long", [][]byte{make([]byte, 33)}, ErrKey},
		{"second short", [][]byte{key(1), make([]byte, 31)}, ErrKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.keys)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("New() error = %v; want %v", err, tt.wantErr)
			}
		})
	}
	_, err := New([][]byte{make([]byte, 16)})
	if err == nil || !strings.Contains(err.Error(), "16 bytes") {
		t.Errorf("New(16-byte key) error = %v; want it to name the length", err)
	}
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	s := mustNew(t, key(1))
	for _, payload := range [][]byte{nil, {}, []byte("x"), bytes.Repeat([]byte("ab"), 2000)} {
		v, err := s.Encode("cookie:a", payload, t0)
		if err != nil {
			t.Fatal(err)
		}
		if len(v) != EncodedLen(len(payload)) {
			t.Errorf("len(Encode) = %d; want EncodedLen = %d", len(v), EncodedLen(len(payload)))
		}
		if len(v) > MaxEncoded {
			continue
		}
		got, issued, k, err := s.Decode("cookie:a", v, t0.Add(time.Hour), 2*time.Hour)
		if err != nil {
			t.Fatalf("Decode: %v", err)
		}
		if !bytes.Equal(got, payload) || !issued.Equal(t0) || k != 0 {
			t.Errorf("Decode = %q, %v, %d; want %q, %v, 0", got, issued, k, payload, t0)
		}
	}
	// Two seals of the same payload differ (random nonce).
	a, _ := s.Encode("p", []byte("same"), t0)
	b, _ := s.Encode("p", []byte("same"), t0)
	if a == b {
		t.Error("two Encodes of one payload are equal; want distinct nonces")
	}
}

func TestOpenRejects(t *testing.T) {
	t.Parallel()
	s := mustNew(t, key(1))
	good, err := s.Encode("cookie:a", []byte("payload"), t0)
	if err != nil {
		t.Fatal(err)
	}
	other := mustNew(t, key(2))
	foreign, _ := other.Encode("cookie:a", []byte("payload"), t0)
	future, _ := s.Encode("cookie:a", []byte("payload"), t0.Add(2*time.Minute))
	tests := []struct {
		name    string
		purpose string
		value   string
		now     time.Time
		maxAge  time.Duration
	}{
		{"other purpose", "cookie:b", good, t0, time.Hour},
		{"other key", "cookie:a", foreign, t0, time.Hour},
		{"expired", "cookie:a", good, t0.Add(time.Hour + time.Second), time.Hour},
		{"future", "cookie:a", future, t0, time.Hour},
		{"empty", "cookie:a", "", t0, time.Hour},
		{"padding", "cookie:a", good + "=", t0, time.Hour},
		{"bad base64", "cookie:a", "!!!!" + good[4:], t0, time.Hour},
		{"truncated", "cookie:a", good[:len(good)-1], t0, time.Hour},
		{"too long", "cookie:a", strings.Repeat("A", MaxEncoded+1), t0, time.Hour},
		{"short", "cookie:a", "AQ", t0, time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, _, k, err := s.Decode(tt.purpose, tt.value, tt.now, tt.maxAge)
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Decode() error = %v; want ErrInvalid", err)
			}
			if p != nil || k != -1 {
				t.Errorf("Decode() = %q, key %d on error; want nil, -1", p, k)
			}
		})
	}
	// Without a max age, an old value still opens.
	if _, _, _, err := s.Decode("cookie:a", good, t0.Add(1000*time.Hour), 0); err != nil {
		t.Errorf("Decode(maxAge 0) error = %v; want nil", err)
	}
}

func TestTamperEveryByte(t *testing.T) {
	t.Parallel()
	s := mustNew(t, key(1), key(2))
	sealed, err := s.Seal("p", []byte("some session bytes"), t0)
	if err != nil {
		t.Fatal(err)
	}
	for i := range sealed {
		for _, bit := range []byte{0x01, 0x80} {
			m := bytes.Clone(sealed)
			m[i] ^= bit
			if _, _, _, err := s.Open("p", m, t0, time.Hour); !errors.Is(err, ErrInvalid) {
				t.Fatalf("Open(byte %d ^ %#x) error = %v; want ErrInvalid", i, bit, err)
			}
		}
	}
	if _, _, _, err := s.Open("p", append(bytes.Clone(sealed), 0), t0, time.Hour); !errors.Is(err, ErrInvalid) {
		t.Errorf("Open(extended) error = %v; want ErrInvalid", err)
	}
}

func TestRotation(t *testing.T) {
	t.Parallel()
	k1, k2, k3 := key(1), key(2), key(3)
	old := mustNew(t, k1)
	v, _ := old.Encode("p", []byte("x"), t0)
	tests := []struct {
		name    string
		keys    [][]byte
		wantKey int
		wantErr error
	}{
		{"old alone", [][]byte{k1}, 0, nil},
		{"new, old", [][]byte{k2, k1}, 1, nil},
		{"three keys", [][]byte{k3, k2, k1}, 2, nil},
		{"new alone", [][]byte{k2}, -1, ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustNew(t, tt.keys...)
			p, _, k, err := s.Decode("p", v, t0, time.Hour)
			if !errors.Is(err, tt.wantErr) || k != tt.wantKey {
				t.Fatalf("Decode() = key %d, %v; want key %d, %v", k, err, tt.wantKey, tt.wantErr)
			}
			if err == nil && string(p) != "x" {
				t.Errorf("Decode() payload = %q; want %q", p, "x")
			}
			if err != nil {
				return
			}
			// Re-sealed under the newest key, it opens with that key alone.
			re, err := s.Encode("p", p, t0)
			if err != nil {
				t.Fatal(err)
			}
			if _, _, k, err := mustNew(t, tt.keys[0]).Decode("p", re, t0, time.Hour); err != nil || k != 0 {
				t.Errorf("re-sealed Decode() = key %d, %v; want 0, nil", k, err)
			}
		})
	}
}

func TestSealLimits(t *testing.T) {
	t.Parallel()
	s := mustNew(t, key(1))
	if _, err := s.Seal("p", make([]byte, MaxPayload+1), t0); !errors.Is(err, ErrTooLarge) {
		t.Errorf("Seal(MaxPayload+1) error = %v; want ErrTooLarge", err)
	}
	if _, err := s.Seal("p", nil, time.Time{}); err == nil {
		t.Error("Seal(zero time) error = nil; want error")
	}
	if _, _, _, err := s.Open("p", make([]byte, MaxSealed+1), t0, 0); !errors.Is(err, ErrInvalid) {
		t.Errorf("Open(MaxSealed+1) error = %v; want ErrInvalid", err)
	}
}

// FuzzOpen checks that a value that is not exactly a sealed value never
// opens, and that nothing panics.
func FuzzOpen(f *testing.F) {
	s := mustNew(f, key(1), key(2))
	// A fixed nonce, so that every fuzz worker seals the same original.
	s.rand = bytes.NewReader(make([]byte, nonceSize))
	good, err := s.Encode("p", []byte("fuzz payload"), t0)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:len(good)-2])
	f.Add("")
	f.Add("AQ" + good[2:])
	f.Add(strings.Repeat("A", 100))
	f.Fuzz(func(t *testing.T, v string) {
		p, _, _, err := s.Decode("p", v, t0, time.Hour)
		if v == good {
			if err != nil || string(p) != "fuzz payload" {
				t.Fatalf("Decode(original) = %q, %v", p, err)
			}
			return
		}
		if err == nil {
			t.Fatalf("Decode(%q) opened a modified value: %q", v, p)
		}
		if !errors.Is(err, ErrInvalid) {
			t.Fatalf("Decode(%q) error = %v; want ErrInvalid", v, err)
		}
	})
}
