package oauth1

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// testCasesKey is the private key of the OAuth Core 1.0 test cases
// (wiki.oauth.net/TestCases §9.3 "RSA-SHA1"), the published RSA-SHA1
// vector (RFC 5849 has none for RSA); Extension:OAuth's own unit tests use
// the same vector. Test data only.
const testCasesKey = `-----BEGIN PRIVATE KEY-----
MIICdgIBADANBgkqhkiG9w0BAQEFAASCAmAwggJcAgEAAoGBALRiMLAh9iimur8V
A7qVvdqxevEuUkW4K+2KdMXmnQbG9Aa7k7eBjK1S+0LYmVjPKlJGNXHDGuy5Fw/d
7rjVJ0BLB+ubPK8iA/Tw3hLQgXMRRGRXXCn8ikfuQfjUS1uZSatdLB81mydBETlJ
hI6GH4twrbDJCR2Bwy/XWXgqgGRzAgMBAAECgYBYWVtleUzavkbrPjy0T5FMou8H
X9u2AC2ry8vD/l7cqedtwMPp9k7TubgNFo+NGvKsl2ynyprOZR1xjQ7WgrgVB+mm
uScOM/5HVceFuGRDhYTCObE+y1kxRloNYXnx3ei1zbeYLPCHdhxRYW7T0qcynNmw
rn05/KO2RLjgQNalsQJBANeA3Q4Nugqy4QBUCEC09SqylT2K9FrrItqL2QKc9v0Z
zO2uwllCbg0dwpVuYPYXYvikNHHg+aCWF+VXsb9rpPsCQQDWR9TT4ORdzoj+Nccn
qkMsDmzt0EfNaAOwHOmVJ2RVBspPcxt5iN4HI7HNeG6U5YsFBb+/GZbgfBT3kpNG
WPTpAkBI+gFhjfJvRw38n3g/+UeAkwMI2TJQS4n8+hid0uus3/zOjDySH3XHCUno
cn1xOJAyZODBo47E+67R4jV1/gzbAkEAklJaspRPXP877NssM5nAZMU0/O/NGCZ+
3jPgDUno6WbJn5cqm8MqWhW1xGkImgRk+fkDBquiq4gPiT898jusgQJAd5Zrr6Q8
AO/0isr/3aa6O6NLQxISLKcPDk2NOccAfS/xOtfOz4sJYM3+Bs4Io9+dZGSDCA54
Lw03eHTNQghS0A==
-----END PRIVATE KEY-----
`

const (
	testCasesBase = "GET&http%3A%2F%2Fphotos.example.net%2Fphotos&file%3Dvacaction.jpg%26oauth_consumer_key%3Ddpf43f3p2l4k3l03%26oauth_nonce%3D13917289812797014437%26oauth_signature_method%3DRSA-SHA1%26oauth_timestamp%3D1196666512%26oauth_version%3D1.0%26size%3Doriginal"
	testCasesSig  = "jvTp/wX1TYtByB1m+Pbyo0lnCOLIsyGCH7wke8AUs3BpnwZJtAuEJkvQL2/9n4s5wUmUl4aCI4BwpraNx4RtEXMe5qg5T1LVTGliMRpKasKsW//e+RinhejgCuzoH26dyF8iY2ZZ/5D1ilgeijhV/vBka5twt399mXwaYdCwFYE="
)

func parseTestKey(t testing.TB, p string) *rsa.PrivateKey {
	t.Helper()
	b, _ := pem.Decode([]byte(p))
	if b == nil {
		t.Fatal("no PEM block")
	}
	k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return k.(*rsa.PrivateKey)
}

var (
	genOnce sync.Once
	genKey  *rsa.PrivateKey
)

// testKey returns a 2048-bit key generated once per test binary.
func testKey(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	genOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		genKey = k
	})
	return genKey
}

// TestRSASHA1KnownAnswer reproduces the published RSA-SHA1 vector exactly:
// the signer on the given base string, and Config.Sign on the request with
// the vector's clock and nonce (RSA PKCS#1 v1.5 is deterministic).
func TestRSASHA1KnownAnswer(t *testing.T) {
	key := parseTestKey(t, testCasesKey)
	s := RSASHA1{Key: key}
	if m := s.Method(); m != "RSA-SHA1" {
		t.Errorf("Method() = %q; want RSA-SHA1", m)
	}
	got, err := s.Sign(testCasesBase, "ignored", "ignored too")
	if err != nil {
		t.Fatal(err)
	}
	if got != testCasesSig {
		t.Errorf("Sign = %s; want %s", got, testCasesSig)
	}

	c := fixed("dpf43f3p2l4k3l03", "", 1196666512, "13917289812797014437")
	c.Signer = RSASHA1{Key: key}
	req, _ := http.NewRequest(http.MethodGet, "http://photos.example.net/photos?file=vacaction.jpg&size=original", nil)
	if err := c.Sign(req, nil); err != nil {
		t.Fatal(err)
	}
	p := authParams(t, req.Header.Get("Authorization"))
	if p["oauth_signature_method"] != "RSA-SHA1" || p["oauth_signature"] != testCasesSig {
		t.Errorf("Authorization = %s; want RSA-SHA1 with signature %s", req.Header.Get("Authorization"), testCasesSig)
	}
	// The same through a pointer signer and with a token: the token secret
	// ("__unused__", as MediaWiki's token step answers) changes nothing but
	// the token parameter.
	c.Signer = &RSASHA1{Key: key}
	req2, _ := http.NewRequest(http.MethodGet, "http://photos.example.net/photos?file=vacaction.jpg&size=original", nil)
	if err := c.Sign(req2, &Token{Key: "nnch734d00sl2jdk", Secret: "__unused__"}); err != nil {
		t.Fatal(err)
	}
	p2 := authParams(t, req2.Header.Get("Authorization"))
	if p2["oauth_token"] != "nnch734d00sl2jdk" {
		t.Errorf("oauth_token = %q", p2["oauth_token"])
	}
	params := []Param{{"file", "vacaction.jpg"}, {"size", "original"}}
	for k, v := range p2 {
		if k != "oauth_signature" {
			params = append(params, Param{k, v})
		}
	}
	base := SignatureBaseString("GET", req2.URL, params)
	if err := verifyRSA(&key.PublicKey, base, p2["oauth_signature"]); err != nil {
		t.Errorf("signature with token does not verify: %v", err)
	}
}

func verifyRSA(pub *rsa.PublicKey, base, sig string) error {
	raw, err := base64.StdEncoding.DecodeString(sig)
	if err != nil {
		return err
	}
	h := sha1.Sum([]byte(base))
	return rsa.VerifyPKCS1v15(pub, crypto.SHA1, h[:], raw)
}

// TestRSASHA1SignVerify: signatures of a 2048-bit key verify with
// rsa.VerifyPKCS1v15 over SHA-1 of the base string, and fail for another
// base string or another key.
func TestRSASHA1SignVerify(t *testing.T) {
	key := testKey(t)
	other := parseTestKey(t, testCasesKey)
	s := RSASHA1{Key: key}
	for _, base := range []string{"", "GET&x&y", testCasesBase, strings.Repeat("ä&", 5000)} {
		sig, err := s.Sign(base, "", "")
		if err != nil {
			t.Fatal(err)
		}
		if err := verifyRSA(&key.PublicKey, base, sig); err != nil {
			t.Errorf("Sign(%.20q) does not verify: %v", base, err)
		}
		if verifyRSA(&key.PublicKey, base+"x", sig) == nil {
			t.Errorf("Sign(%.20q) verifies for another base string", base)
		}
		if verifyRSA(&other.PublicKey, base, sig) == nil {
			t.Errorf("Sign(%.20q) verifies with another key", base)
		}
		// The secrets do not take part.
		sig2, _ := s.Sign(base, "cs", "ts")
		if sig2 != sig {
			t.Errorf("Sign(%.20q) depends on the secrets", base)
		}
	}
}

// rsaVerifyingServer checks RSA-SHA1 signatures like MediaWiki (query +
// form body + header parameters) and answers like initiate / token, or
// "ok" for other paths.
func rsaVerifyingServer(t *testing.T, pub *rsa.PublicKey, answer string) *replay {
	return serveFunc(t, func(w http.ResponseWriter, r *http.Request) {
		p := authParams(t, r.Header.Get("Authorization"))
		params, err := requestParams(r)
		if err != nil || p["oauth_signature_method"] != "RSA-SHA1" {
			http.Error(w, "bad request", 400)
			return
		}
		for k, v := range p {
			if k != "oauth_signature" {
				params = append(params, Param{k, v})
			}
		}
		u := *r.URL
		u.Scheme, u.Host = "http", r.Host
		if err := verifyRSA(pub, SignatureBaseString(r.Method, &u, params), p["oauth_signature"]); err != nil {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"error":"mwoauth-oauth-exception","message":"An error occurred in the OAuth protocol: Invalid signature"}`)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, answer)
	})
}

// TestRSAConsumerWithoutSecret: an RSA-SHA1 Config needs no ConsumerSecret
// to initiate, exchange and sign API calls (the "__unused__" token secret
// included), but Identify refuses to run without it, before sending.
func TestRSAConsumerWithoutSecret(t *testing.T) {
	key := testKey(t)
	srv := rsaVerifyingServer(t, &key.PublicKey, `{"key":"rk","secret":"__unused__","oauth_callback_confirmed":"true"}`)
	c := &Config{Wiki: srv.URL + "/w", ConsumerKey: "ck", Signer: RSASHA1{Key: key}, UserAgent: testUA}
	rt, err := c.RequestToken(t.Context())
	if err != nil {
		t.Fatalf("RequestToken = %v", err)
	}
	at, err := c.AccessToken(t.Context(), rt, "rk", "verifier")
	if err != nil {
		t.Fatalf("AccessToken = %v", err)
	}
	if at.Secret != "__unused__" {
		t.Errorf("access secret = %q; want __unused__", at.Secret)
	}
	resp, err := c.Client(at).Post(srv.URL+"/w/api.php", "application/x-www-form-urlencoded", strings.NewReader("action=edit&title=A+B&text=%C3%A4"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if bytes.Contains(body, []byte("Invalid signature")) {
		t.Errorf("API call signed with the __unused__ token refused: %s", body)
	}
	hits := srv.hits.Load()
	if _, err := c.Identify(t.Context(), at); !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), "ConsumerSecret") {
		t.Errorf("Identify without ConsumerSecret = %v; want ErrInvalidConfig naming ConsumerSecret", err)
	}
	if srv.hits.Load() != hits {
		t.Error("Identify sent a request without ConsumerSecret")
	}
	// A signature from another key is refused by the server: the test
	// server really checks.
	bad := *c
	bad.Signer = RSASHA1{Key: parseTestKey(t, testCasesKey)}
	if _, err := bad.RequestToken(t.Context()); !errors.Is(err, ErrInvalidSignature) {
		t.Errorf("RequestToken with the wrong key = %v; want ErrInvalidSignature", err)
	}
}

// TestRSAConfigValidation: an RSASHA1 without a key, or HMAC-SHA1 without a
// secret, fails before any request.
func TestRSAConfigValidation(t *testing.T) {
	srv := serve(t, 200, "application/json", []byte(`{"key":"a","secret":"b","oauth_callback_confirmed":"true"}`))
	for name, s := range map[string]Signer{
		"nil key":         RSASHA1{},
		"nil pointer":     (*RSASHA1)(nil),
		"pointer nil key": &RSASHA1{},
		"zero key":        RSASHA1{Key: &rsa.PrivateKey{}},
		"hmac no secret":  HMACSHA1{},
	} {
		t.Run(name, func(t *testing.T) {
			c := &Config{Wiki: srv.URL + "/w", ConsumerKey: "ck", Signer: s, UserAgent: testUA}
			if _, err := c.RequestToken(t.Context()); !errors.Is(err, ErrInvalidConfig) {
				t.Errorf("RequestToken = %v; want ErrInvalidConfig", err)
			}
			req, _ := http.NewRequest("GET", srv.URL, nil)
			if err := c.Sign(req, nil); !errors.Is(err, ErrInvalidConfig) {
				t.Errorf("Sign = %v; want ErrInvalidConfig", err)
			}
		})
	}
	if n := srv.hits.Load(); n != 0 {
		t.Errorf("%d requests sent", n)
	}
	if _, err := (RSASHA1{}).Sign("base", "", ""); err == nil {
		t.Error("RSASHA1{}.Sign succeeded")
	}
}

// TestRSASHA1Redacted: the signer never prints its key.
func TestRSASHA1Redacted(t *testing.T) {
	key := testKey(t)
	s := RSASHA1{Key: key}
	d := key.D.String()
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("x", "signer", s)
	for _, out := range []string{
		fmt.Sprint(s), fmt.Sprintf("%v %+v %#v %s %q", s, s, s, s, s),
		fmt.Sprintf("%+v", &Config{Signer: s}), logged.String(),
	} {
		if strings.Contains(out, d) || strings.Contains(out, key.Primes[0].String()) {
			t.Fatalf("key material printed: %.80s…", out)
		}
		if !strings.Contains(out, "REDACTED") {
			t.Errorf("output %q does not say REDACTED", out)
		}
	}
}
