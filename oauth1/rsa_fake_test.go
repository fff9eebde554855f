package oauth1_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sync"
	"testing"

	"github.com/wikiauth/mwoauth/mwoauthtest"
	"github.com/wikiauth/mwoauth/oauth1"
)

const fakeUA = "oauth1-tests/1.0 (https://example.org; test@example.org)"

var (
	rsaOnce sync.Once
	rsaKey  *rsa.PrivateKey
)

func consumerKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	rsaOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		rsaKey = k
	})
	return rsaKey
}

// rsaHandshake runs initiate, the browser's Allow and token for cfg.
func rsaHandshake(t *testing.T, s *mwoauthtest.Server, cfg *oauth1.Config) *oauth1.Token {
	t.Helper()
	ctx := t.Context()
	rt, err := cfg.RequestToken(ctx)
	if err != nil {
		t.Fatalf("RequestToken: %v", err)
	}
	cb, err := s.Authorize(ctx, cfg.AuthorizationURL(rt), "Alice", mwoauthtest.DefaultPassword)
	if err != nil {
		t.Fatalf("Authorize: %v", err)
	}
	q := cb.Query()
	at, err := cfg.AccessToken(ctx, rt, q.Get("oauth_token"), q.Get("oauth_verifier"))
	if err != nil {
		t.Fatalf("AccessToken: %v", err)
	}
	return at
}

// userinfo calls api.php meta=userinfo with at and returns the user name,
// or the API error code.
func userinfo(t *testing.T, ctx context.Context, cfg *oauth1.Config, wiki string, at *oauth1.Token) (name, code string) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, wiki+"/api.php?action=query&meta=userinfo&format=json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := cfg.Client(at).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Error struct{ Code string }
		Query struct {
			Userinfo struct {
				Name string
				Anon *string
			}
		}
	}
	body, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatalf("api.php: %v: %.200s", err, body)
	}
	return out.Query.Userinfo.Name, out.Error.Code
}

// TestRSAHandshakeAgainstFake: a consumer registered with only a public
// key, as mwoauthtest registers it (no secret), logs a user in with
// RSA-SHA1: initiate, Allow, token (secret "__unused__"), and signed API
// calls as the user; the fake verifies every RSA-SHA1 signature (a request
// signed with another key is refused). Identify cannot run: MediaWiki signs
// the identify JWT with the consumer secret, which this registration lacks.
func TestRSAHandshakeAgainstFake(t *testing.T) {
	s := mwoauthtest.Start(t)
	key := consumerKey(t)
	c := s.AddConsumer(mwoauthtest.Consumer{
		Name: "rsa-app", RSAPublicKey: &key.PublicKey,
		Callback: mwoauthtest.DefaultCallback, CallbackIsPrefix: true,
		Grants: []string{"basic", "editpage"},
	})
	cfg := &oauth1.Config{Wiki: s.ScriptPath(), ConsumerKey: c.Key, ConsumerSecret: c.Secret,
		Signer: oauth1.RSASHA1{Key: key}, UserAgent: fakeUA, HTTPClient: s.Client()}
	at := rsaHandshake(t, s, cfg)
	if at.Secret != "__unused__" {
		t.Errorf("access token secret = %q; want __unused__", at.Secret)
	}
	if name, code := userinfo(t, t.Context(), cfg, s.ScriptPath(), at); name != "Alice" || code != "" {
		t.Errorf("userinfo = %q (error %q); want Alice", name, code)
	}
	if c.Secret == "" {
		if _, err := cfg.Identify(t.Context(), at); !errors.Is(err, oauth1.ErrInvalidConfig) {
			t.Errorf("Identify without a consumer secret = %v; want ErrInvalidConfig", err)
		}
		if n := s.Requests(mwoauthtest.EndpointIdentify); n != 0 {
			t.Errorf("Requests(identify) = %d; want 0", n)
		}
	}

	// Another key: the fake refuses the signature, at initiate and on the API.
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	bad := *cfg
	bad.Signer = oauth1.RSASHA1{Key: other}
	if _, err := bad.RequestToken(t.Context()); !errors.Is(err, oauth1.ErrInvalidSignature) {
		t.Errorf("RequestToken with another key = %v; want ErrInvalidSignature", err)
	}
	if _, code := userinfo(t, t.Context(), &bad, s.ScriptPath(), at); code != "mwoauth-invalid-authorization" {
		t.Errorf("API call with another key: error %q; want mwoauth-invalid-authorization", code)
	}
	// HMAC-SHA1 with the "__unused__" secret is not a way around it.
	hmacCfg := *cfg
	hmacCfg.Signer, hmacCfg.ConsumerSecret = nil, "x"
	if _, code := userinfo(t, t.Context(), &hmacCfg, s.ScriptPath(), at); code != "mwoauth-invalid-authorization" {
		t.Errorf("HMAC call for the RSA consumer: error %q; want mwoauth-invalid-authorization", code)
	}
}

// TestRSAIdentifyAgainstFake: a whole handshake of an RSA-SHA1 consumer
// that also holds the consumer secret MediaWiki issues to every consumer
// at registration (ConsumerSubmitControl: secretKey for all, RSA or not),
// ending with Identify, whose JWT MediaWiki signs HS256 with that secret
// (SpecialMWOAuth::outputJWT: JWT::encode($statement, $consumer->secret)).
func TestRSAIdentifyAgainstFake(t *testing.T) {
	s := mwoauthtest.Start(t)
	key := consumerKey(t)
	c := s.AddConsumer(mwoauthtest.Consumer{
		Name: "rsa-app-with-secret", RSAPublicKey: &key.PublicKey, Secret: "5f2b1c0e8d7a69483726150f4e3d2c1b",
		Callback: mwoauthtest.DefaultCallback, CallbackIsPrefix: true,
		Grants: []string{"basic", "editpage"},
	})
	cfg := &oauth1.Config{Wiki: s.ScriptPath(), ConsumerKey: c.Key, ConsumerSecret: c.Secret,
		Signer: oauth1.RSASHA1{Key: key}, UserAgent: fakeUA, HTTPClient: s.Client()}
	at := rsaHandshake(t, s, cfg)
	// MediaWiki answers "__unused__" to every RSA-SHA1 token request,
	// secret or not; the client signs on with RSA and never uses it.
	if at.Secret != "__unused__" {
		t.Errorf("token step answered secret %q; want __unused__", redact(at.Secret))
	}
	id, err := cfg.Identify(t.Context(), at)
	if err != nil {
		t.Fatalf("Identify: %v", err)
	}
	if id.Username != "Alice" || id.Subject != "3" {
		t.Errorf("Identify = %q/%q; want Alice/3", id.Username, id.Subject)
	}
	if name, code := userinfo(t, t.Context(), cfg, s.ScriptPath(), at); name != "Alice" || code != "" {
		t.Errorf("userinfo = %q (error %q); want Alice", name, code)
	}
	// The identify JWT is checked against the secret: a wrong one fails.
	wrong := *cfg
	wrong.ConsumerSecret = "another-secret"
	if _, err := wrong.Identify(t.Context(), at); !errors.Is(err, oauth1.ErrIdentityInvalid) {
		t.Errorf("Identify with a wrong secret = %v; want ErrIdentityInvalid", err)
	}
}

// redact shows "__unused__" as is and any real secret as "…".
func redact(s string) string {
	if s == "__unused__" {
		return s
	}
	return "…"
}
