package jwths

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wikiauth/mwoauth/internal/transcript"
)

var reNonce = regexp.MustCompile(`oauth_nonce="([^"]*)"`)

// recordedJWT returns the Authorization header nonce of the first request
// and the body of the first response of a transcript file.
func recordedJWT(t testing.TB, release, name string) (nonce, body string) {
	t.Helper()
	x := transcript.Read(t, release, name)[0]
	m := reNonce.FindStringSubmatch(x.Request.Header.Get("Authorization"))
	if m == nil {
		t.Fatalf("%s: no oauth_nonce", name)
	}
	return m[1], strings.TrimSpace(x.Response.Body)
}

func TestVerifyRealTokens(t *testing.T) {
	cases := []struct {
		release, file, consumer, issuer string
		editcount                       int
		wantEmail                       bool
	}{
		{"1.39", "oauth1-11-identify.txt", "oauth1", "http://127.0.0.1:8080", 4, false},
		{"1.39", "oauth1-identify-only-05-identify.txt", "oauth1_identify_only", "http://127.0.0.1:8080", 6, true},
		{"1.43", "oauth1-11-identify.txt", "oauth1", "http://127.0.0.1:8081", 0, false},
		{"1.43", "oauth1-identify-only-05-identify.txt", "oauth1_identify_only", "http://127.0.0.1:8081", 2, true},
	}
	for _, tc := range cases {
		t.Run(tc.release+"/"+tc.file, func(t *testing.T) {
			nonce, jwt := recordedJWT(t, tc.release, tc.file)
			c := transcript.Consumers(t, tc.release)[tc.consumer]
			// The JWT's own iat is the time of the recorded request.
			iat := peekInt(t, jwt, "iat")
			o := Options{Key: []byte(c.Secret), Issuer: tc.issuer, Audience: c.Key, Nonce: nonce, Now: time.Unix(iat, 0)}
			cl, err := Verify(jwt, o)
			if err != nil {
				t.Fatalf("Verify = %v; want ok", err)
			}
			if cl.Subject != "3" || cl.Issuer != tc.issuer || cl.Nonce != nonce || cl.Expiry.Sub(cl.IssuedAt) != 100*time.Second {
				t.Errorf("claims = %+v", cl)
			}
			var ec int
			if err := json.Unmarshal(cl.Raw["editcount"], &ec); err != nil || ec != tc.editcount {
				t.Errorf("editcount = %s; want %d", cl.Raw["editcount"], tc.editcount)
			}
			if _, ok := cl.Raw["email"]; ok != tc.wantEmail {
				t.Errorf("email present = %v; want %v", ok, tc.wantEmail)
			}
			if _, ok := cl.Raw["email_verified"]; ok != (tc.release == "1.43") {
				t.Errorf("email_verified present = %v in %s", ok, tc.release)
			}
			// The same token at other times, with another nonce or key.
			later := o
			later.Now = time.Unix(iat+100+61, 0)
			if _, err := Verify(jwt, later); reason(err) != ReasonExp {
				t.Errorf("161 s later: %v; want exp", err)
			}
			replay := o
			replay.Nonce = "00000000000000000000000000000000"
			if _, err := Verify(jwt, replay); reason(err) != ReasonNonce {
				t.Errorf("other nonce: %v; want nonce", err)
			}
			oauthKey := o
			oauthKey.Key = []byte(c.Secret + "&")
			if _, err := Verify(jwt, oauthKey); reason(err) != ReasonSignature {
				t.Errorf("key secret&: %v; want signature", err)
			}
		})
	}
}

func peekInt(t testing.TB, jwt, claim string) int64 {
	t.Helper()
	parts := strings.Split(jwt, ".")
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	var n int64
	if err := json.Unmarshal(m[claim], &n); err != nil {
		t.Fatal(err)
	}
	return n
}

func reason(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ""
}

const (
	testKey    = "sekrit-consumer-secret"
	testIss    = "https://wiki.example"
	testAud    = "ck"
	testNonce  = "0123456789abcdef0123456789abcdef"
	testNowSec = 1796391428
)

var testNow = time.Unix(testNowSec, 0)

func seg(v any) string {
	var b []byte
	switch v := v.(type) {
	case string:
		b = []byte(v)
	default:
		b, _ = json.Marshal(v)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func sign(key, signingInput string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(signingInput))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// mk builds header.payload.signature, signing with key.
func mk(header, payload any, key string) string {
	in := seg(header) + "." + seg(payload)
	return in + "." + sign(key, in)
}

func goodClaims() map[string]any {
	return map[string]any{
		"iss": testIss, "aud": testAud, "iat": testNowSec, "exp": testNowSec + 100,
		"nonce": testNonce, "sub": "42", "username": "Alice",
	}
}

func with(kv ...any) map[string]any {
	c := goodClaims()
	for i := 0; i+1 < len(kv); i += 2 {
		k := kv[i].(string)
		if kv[i+1] == deleteClaim {
			delete(c, k)
			continue
		}
		c[k] = kv[i+1]
	}
	return c
}

type del struct{}

var deleteClaim = del{}

var hs256 = map[string]any{"typ": "JWT", "alg": "HS256"}

func opts() Options {
	return Options{Key: []byte(testKey), Issuer: testIss, Audience: testAud, Nonce: testNonce, Now: testNow}
}

// TestVerifyTable is SECURITY.md §F items 34-41 as a table.
func TestVerifyTable(t *testing.T) {
	good := mk(hs256, goodClaims(), testKey)
	flipped := []byte(good)
	// Flip one bit of the last signature character's decoded value: replace the
	// first signature character with another base64url letter.
	sigStart := strings.LastIndexByte(good, '.') + 1
	if flipped[sigStart] == 'A' {
		flipped[sigStart] = 'B'
	} else {
		flipped[sigStart] = 'A'
	}
	noneTok := seg(map[string]any{"alg": "none"}) + "." + seg(goodClaims()) + "."
	cases := []struct {
		name   string
		token  string
		opts   func(*Options)
		reason string // "" => valid
		skew   bool
		sub    string
	}{
		{name: "valid", token: good, sub: "42"},
		// 34: algorithm confusion.
		{name: "34 alg none empty sig", token: noneTok, reason: ReasonMalformed},
		{name: "34 alg none with sig", token: mk(map[string]any{"alg": "none"}, goodClaims(), testKey), reason: ReasonAlg},
		{name: "34 alg HS512", token: hs512(goodClaims()), reason: ReasonAlg},
		{name: "34 alg hs256 lowercase", token: mk(map[string]any{"alg": "hs256"}, goodClaims(), testKey), reason: ReasonAlg},
		{name: "34 alg RS256", token: mk(map[string]any{"alg": "RS256"}, goodClaims(), testKey), reason: ReasonAlg},
		{name: "34 alg missing", token: mk(map[string]any{"typ": "JWT"}, goodClaims(), testKey), reason: ReasonAlg},
		{name: "34 alg not a string", token: mk(map[string]any{"alg": 256}, goodClaims(), testKey), reason: ReasonAlg},
		{name: "34 crit", token: mk(map[string]any{"alg": "HS256", "crit": []string{"x"}, "x": 1}, goodClaims(), testKey), reason: ReasonCrit},
		{name: "34 kid ignored", token: mk(map[string]any{"alg": "HS256", "kid": "other", "jku": "https://evil.example/k"}, goodClaims(), testKey), sub: "42"},
		// 35: signature and structure.
		{name: "35 signature flipped", token: string(flipped), reason: ReasonSignature},
		{name: "35 key secret&", token: mk(hs256, goodClaims(), testKey+"&"), reason: ReasonSignature},
		{name: "35 hex-decoded key differs", token: mk(hs256, goodClaims(), "other"), reason: ReasonSignature},
		{name: "35 padding", token: good + "=", reason: ReasonMalformed},
		{name: "35 padded header", token: padded(goodClaims()), reason: ReasonMalformed},
		{name: "35 std base64 chars", token: strings.Replace(good, good[:1], "+", 1), reason: ReasonMalformed},
		{name: "35 two segments", token: "a.b", reason: ReasonMalformed},
		{name: "35 four segments", token: "a.b.c.d", reason: ReasonMalformed},
		{name: "35 empty", token: "", reason: ReasonMalformed},
		{name: "35 dots", token: "...", reason: ReasonMalformed},
		{name: "35 header array", token: mk("[1]", goodClaims(), testKey), reason: ReasonMalformed},
		{name: "35 payload array", token: mk(hs256, "[1]", testKey), reason: ReasonMalformed},
		{name: "35 payload null", token: mk(hs256, "null", testKey), reason: ReasonMalformed},
		{name: "35 payload trailing", token: mk(hs256, `{"a":1}{"b":2}`, testKey), reason: ReasonMalformed},
		{name: "35 payload not json", token: mk(hs256, "nope", testKey), reason: ReasonMalformed},
		// 36: issuer.
		{name: "36 iss evil", token: mk(hs256, with("iss", "https://evil.example"), testKey), reason: ReasonIss},
		{name: "36 iss downgrade", token: mk(hs256, with("iss", "http://wiki.example"), testKey), reason: ReasonIss},
		{name: "36 iss suffix", token: mk(hs256, with("iss", "https://wiki.example.evil.com"), testKey), reason: ReasonIss},
		{name: "36 iss missing", token: mk(hs256, with("iss", deleteClaim), testKey), reason: ReasonIss},
		{name: "36 iss number", token: mk(hs256, with("iss", 1), testKey), reason: ReasonIss},
		// 37: audience.
		{name: "37 aud other", token: mk(hs256, with("aud", "other"), testKey), reason: ReasonAud},
		{name: "37 aud empty array", token: mk(hs256, with("aud", []string{}), testKey), reason: ReasonAud},
		{name: "37 aud other array", token: mk(hs256, with("aud", []string{"other"}), testKey), reason: ReasonAud},
		{name: "37 aud missing", token: mk(hs256, with("aud", deleteClaim), testKey), reason: ReasonAud},
		{name: "37 aud number", token: mk(hs256, with("aud", 123), testKey), reason: ReasonAud},
		{name: "37 aud array ok", token: mk(hs256, with("aud", []string{"x", testAud}), testKey), sub: "42"},
		// 38: exp / iat.
		{name: "38 expired", token: mk(hs256, with("exp", testNowSec-200), testKey), reason: ReasonExp},
		{name: "38 exp within leeway", token: mk(hs256, with("exp", testNowSec-30), testKey), sub: "42"},
		{name: "38 iat future", token: mk(hs256, with("iat", testNowSec+600, "exp", testNowSec+700), testKey), reason: ReasonIat, skew: true},
		{name: "38 iat future 120 leeway 60", token: mk(hs256, with("iat", testNowSec+120, "exp", testNowSec+220), testKey), reason: ReasonIat, skew: true},
		{name: "38 iat slightly future", token: mk(hs256, with("iat", testNowSec+30), testKey), sub: "42"},
		{name: "38 exp missing", token: mk(hs256, with("exp", deleteClaim), testKey), reason: ReasonExp},
		{name: "38 iat missing", token: mk(hs256, with("iat", deleteClaim), testKey), reason: ReasonIat},
		{name: "38 exp string", token: mk(hs256, with("exp", "1796391528"), testKey), reason: ReasonExp},
		{name: "38 expired and forged", token: mk(hs256, with("exp", testNowSec-200), "wrong"), reason: ReasonSignature},
		{name: "38 leeway capped at 300", token: mk(hs256, with("exp", testNowSec-400), testKey), opts: func(o *Options) { o.Leeway = time.Hour }, reason: ReasonExp},
		{name: "38 leeway 300 allowed", token: mk(hs256, with("exp", testNowSec-250), testKey), opts: func(o *Options) { o.Leeway = 300 * time.Second }, sub: "42"},
		{name: "38 fractional exp", token: mk(hs256, with("exp", float64(testNowSec)+100.5), testKey), sub: "42"},
		// 39: nonce.
		{name: "39 other nonce", token: mk(hs256, with("nonce", "ffffffffffffffffffffffffffffffff"), testKey), reason: ReasonNonce},
		{name: "39 nonce missing", token: mk(hs256, with("nonce", deleteClaim), testKey), reason: ReasonNonce},
		{name: "39 nonce prefix", token: mk(hs256, with("nonce", testNonce[:8]), testKey), reason: ReasonNonce},
		{name: "39 no expected nonce", token: good, opts: func(o *Options) { o.Nonce = "" }, reason: ReasonConfig},
		// 40: subject.
		{name: "40 sub number", token: mk(hs256, with("sub", 42), testKey), sub: "42"},
		{name: "40 sub string", token: mk(hs256, with("sub", "42"), testKey), sub: "42"},
		{name: "40 sub missing", token: mk(hs256, with("sub", deleteClaim), testKey), reason: ReasonSub},
		{name: "40 sub empty", token: mk(hs256, with("sub", ""), testKey), reason: ReasonSub},
		{name: "40 sub zero string", token: mk(hs256, with("sub", "0"), testKey), reason: ReasonSub},
		{name: "40 sub zero", token: mk(hs256, with("sub", 0), testKey), reason: ReasonSub},
		{name: "40 sub negative", token: mk(hs256, with("sub", -3), testKey), reason: ReasonSub},
		{name: "40 sub fraction", token: mk(hs256, with("sub", 4.5), testKey), reason: ReasonSub},
		{name: "40 sub name", token: mk(hs256, with("sub", "Alice"), testKey), reason: ReasonSub},
		{name: "40 hidden user", token: mk(hs256, with("username", deleteClaim, "blocked", true, "sub", "7"), testKey), sub: "7"},
		{name: "40 unknown claims kept", token: mk(hs256, with("registered", nil, "x-new", map[string]int{"a": 1}), testKey), sub: "42"},
		// 41: size.
		{name: "41 too large", token: strings.Repeat("a", MaxTokenSize+1), reason: ReasonTooLarge},
		{name: "41 many dots", token: strings.Repeat(".", 1000), reason: ReasonMalformed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := opts()
			if tc.opts != nil {
				tc.opts(&o)
			}
			cl, err := Verify(tc.token, o)
			if tc.reason == "" {
				if err != nil {
					t.Fatalf("Verify = %v; want ok", err)
				}
				if cl.Subject != tc.sub {
					t.Errorf("Subject = %q; want %q", cl.Subject, tc.sub)
				}
				return
			}
			if cl != nil || !errors.Is(err, ErrInvalid) {
				t.Fatalf("Verify = %v, %v; want ErrInvalid", cl, err)
			}
			if got := reason(err); got != tc.reason {
				t.Errorf("reason = %q (%v); want %q", got, err, tc.reason)
			}
			if errors.Is(err, ErrClockSkew) != tc.skew {
				t.Errorf("errors.Is(err, ErrClockSkew) = %v; want %v", !tc.skew, tc.skew)
			}
			if strings.Contains(err.Error(), testKey) {
				t.Errorf("error %q holds the key", err)
			}
		})
	}
}

func TestVerifyKeepsUnknownClaims(t *testing.T) {
	cl, err := Verify(mk(hs256, with("email_verified", true, "grants", map[string]string{"0": "basic"}), testKey), opts())
	if err != nil {
		t.Fatal(err)
	}
	if string(cl.Raw["email_verified"]) != "true" || string(cl.Raw["grants"]) != `{"0":"basic"}` {
		t.Errorf("Raw = %v", cl.Raw)
	}
}

func TestVerifySkewValue(t *testing.T) {
	_, err := Verify(mk(hs256, with("iat", testNowSec+600, "exp", testNowSec+700), testKey), opts())
	var e *Error
	if !errors.As(err, &e) || e.Skew != 600*time.Second {
		t.Fatalf("err = %v; want Skew 600s", err)
	}
}

// TestVerifyBoundedWork: a huge body is refused before any parsing or MAC,
// and a body of many dots costs a constant number of allocations.
func TestVerifyBoundedWork(t *testing.T) {
	huge := strings.Repeat(".", 1_000_000)
	allocs := testing.AllocsPerRun(10, func() { _, _ = Verify(huge, opts()) })
	if allocs > 5 {
		t.Errorf("1e6 dots: %v allocations; want a small constant", allocs)
	}
	big := mk(hs256, with("pad", strings.Repeat("x", 2<<20)), testKey)
	if _, err := Verify(big, opts()); reason(err) != ReasonTooLarge {
		t.Errorf("2 MiB payload: %v; want too-large", err)
	}
	dots := strings.Repeat(".", MaxTokenSize)
	allocs = testing.AllocsPerRun(10, func() { _, _ = Verify(dots, opts()) })
	if allocs > 5 {
		t.Errorf("64 KiB of dots: %v allocations; want a small constant", allocs)
	}
}

func hs512(claims any) string {
	in := seg(map[string]any{"alg": "HS512"}) + "." + seg(claims)
	return in + "." + sign(testKey, in) // any MAC: the alg check comes first
}

func padded(claims any) string {
	h := base64.URLEncoding.EncodeToString([]byte(`{"alg":"HS256"} `)) // 16 bytes: "==" padding
	in := h + "." + seg(claims)
	return in + "." + sign(testKey, in)
}

func FuzzVerify(f *testing.F) {
	f.Add(mk(hs256, goodClaims(), testKey))
	f.Add(mk(hs256, with("sub", 42, "aud", []string{testAud}), testKey))
	f.Add(mk(map[string]any{"alg": "none"}, goodClaims(), testKey))
	f.Add("a.b.c")
	f.Add("...")
	f.Add("")
	f.Add(mk(hs256, "null", testKey))
	f.Fuzz(func(t *testing.T, token string) {
		cl, err := Verify(token, opts())
		if err != nil {
			if cl != nil || !errors.Is(err, ErrInvalid) {
				t.Fatalf("Verify = %v, %v", cl, err)
			}
			return
		}
		// Success implies a correct MAC and the expected claims.
		i := strings.LastIndexByte(token, '.')
		if sign(testKey, token[:i]) != token[i+1:] {
			t.Fatalf("accepted a token whose MAC is wrong")
		}
		if cl.Issuer != testIss || cl.Nonce != testNonce || cl.Subject == "" || cl.Subject == "0" {
			t.Fatalf("accepted claims %+v", cl)
		}
	})
}
