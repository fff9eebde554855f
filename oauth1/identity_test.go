package oauth1

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

const idNow = 1796391428

func b64json(v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

func makeJWT(header, claims any, key string) string {
	in := b64json(header) + "." + b64json(claims)
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(in))
	return in + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// identifyServer answers identify with a JWT built by claims from the
// request's own oauth_nonce, signed with key.
func identifyServer(t *testing.T, key string, claims func(iss, nonce string) map[string]any) (*replay, *Config) {
	t.Helper()
	var iss string
	srv := serveFunc(t, func(w http.ResponseWriter, r *http.Request) {
		p := authParams(t, r.Header.Get("Authorization"))
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(makeJWT(map[string]string{"typ": "JWT", "alg": "HS256"}, claims(iss, p["oauth_nonce"]), key)))
	})
	iss = srv.URL
	c := against(srv, consumerCreds{"ck-identify", key})
	c.Now = func() time.Time { return time.Unix(idNow, 0) }
	return srv, c
}

func baseClaims(iss, nonce string) map[string]any {
	return map[string]any{
		"iss": iss, "aud": "ck-identify", "exp": idNow + 100, "iat": idNow, "sub": "42", "nonce": nonce,
		"username": "Alice", "editcount": 7, "confirmed_email": true, "blocked": false,
		"registered": "20261204133131", "groups": []string{"*", "user"}, "rights": []string{"read"},
		"grants": []string{"basic"},
	}
}

func TestIdentifyClaims(t *testing.T) {
	cases := []struct {
		name   string
		mod    func(m map[string]any)
		check  func(t *testing.T, id *Identity)
		reason string
		skew   bool
	}{
		{name: "full", check: func(t *testing.T, id *Identity) {
			if id.Subject != "42" || id.Username != "Alice" || id.EditCount != 7 || !id.ConfirmedEmail || id.Registered != "20261204133131" || id.EmailVerified != nil {
				t.Errorf("identity = %+v", id)
			}
		}},
		{name: "grants object", mod: func(m map[string]any) {
			m["grants"] = map[string]string{"1": "editpage", "0": "basic", "10": "x", "2": "highvolume"}
		},
			check: func(t *testing.T, id *Identity) {
				if strings.Join(id.Grants, ",") != "basic,editpage,highvolume,x" {
					t.Errorf("Grants = %v", id.Grants)
				}
			}},
		{name: "registered null", mod: func(m map[string]any) { m["registered"] = nil },
			check: func(t *testing.T, id *Identity) {
				if id.Registered != "" {
					t.Errorf("Registered = %q", id.Registered)
				}
			}},
		{name: "hidden user", mod: func(m map[string]any) {
			for _, k := range []string{"username", "editcount", "confirmed_email", "registered", "groups", "rights", "grants"} {
				delete(m, k)
			}
			m["sub"], m["blocked"] = "7", true
		}, check: func(t *testing.T, id *Identity) {
			if id.Subject != "7" || id.Username != "" || !id.Blocked {
				t.Errorf("identity = %+v", id)
			}
		}},
		{name: "sub number", mod: func(m map[string]any) { m["sub"] = 42 }, check: func(t *testing.T, id *Identity) {
			if id.Subject != "42" {
				t.Errorf("Subject = %q", id.Subject)
			}
		}},
		{name: "1.43 and unknown claims", mod: func(m map[string]any) { m["email_verified"] = false; m["x-new"] = []int{1} },
			check: func(t *testing.T, id *Identity) {
				if id.EmailVerified == nil || *id.EmailVerified || string(id.Extra["x-new"]) != "[1]" || len(id.Extra) != 1 {
					t.Errorf("EmailVerified = %v, Extra = %v", id.EmailVerified, id.Extra)
				}
			}},
		{name: "private info", mod: func(m map[string]any) { m["email"] = "a@example.org"; m["realname"] = "A" },
			check: func(t *testing.T, id *Identity) {
				if id.Email != "a@example.org" || id.RealName != "A" {
					t.Errorf("identity = %+v", id)
				}
			}},
		{name: "replayed nonce", mod: func(m map[string]any) { m["nonce"] = "fca12c79d4f4af4b13efcdc0e7830482" }, reason: "nonce"},
		{name: "wrong issuer", mod: func(m map[string]any) { m["iss"] = "https://evil.example" }, reason: "iss"},
		{name: "wrong audience", mod: func(m map[string]any) { m["aud"] = "other" }, reason: "aud"},
		{name: "expired", mod: func(m map[string]any) { m["exp"] = idNow - 200 }, reason: "exp"},
		{name: "future iat", mod: func(m map[string]any) { m["iat"] = idNow + 600; m["exp"] = idNow + 700 }, reason: "iat", skew: true},
		{name: "sub zero", mod: func(m map[string]any) { m["sub"] = "0" }, reason: "sub"},
		{name: "editcount string", mod: func(m map[string]any) { m["editcount"] = "7" }, reason: "claims"},
		{name: "groups not list", mod: func(m map[string]any) { m["groups"] = "user" }, reason: "claims"},
		{name: "grants bad object", mod: func(m map[string]any) { m["grants"] = map[string]string{"a": "basic"} }, reason: "claims"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, c := identifyServer(t, "consumer-secret", func(iss, nonce string) map[string]any {
				m := baseClaims(iss, nonce)
				if tc.mod != nil {
					tc.mod(m)
				}
				return m
			})
			id, err := c.Identify(t.Context(), &Token{"ak", "as"})
			if tc.reason == "" {
				if err != nil {
					t.Fatalf("Identify = %v", err)
				}
				tc.check(t, id)
				return
			}
			var ie *IdentityError
			if !errors.As(err, &ie) || !errors.Is(err, ErrIdentityInvalid) || ie.Reason != tc.reason {
				t.Fatalf("Identify = %v; want reason %q", err, tc.reason)
			}
			if errors.Is(err, ErrClockSkew) != tc.skew {
				t.Errorf("ErrClockSkew match = %v; want %v", !tc.skew, tc.skew)
			}
			if tc.skew {
				var cse *ClockSkewError
				if !errors.As(err, &cse) || cse.Offset != 600*time.Second {
					t.Errorf("ClockSkewError = %v", cse)
				}
			}
		})
	}
}

func TestIdentifyKeyAndLeeway(t *testing.T) {
	_, c := identifyServer(t, "right-secret", baseClaims)
	c.ConsumerSecret = "wrong-secret"
	var ie *IdentityError
	if _, err := c.Identify(t.Context(), &Token{"ak", "as"}); !errors.As(err, &ie) || ie.Reason != "signature" {
		t.Errorf("wrong secret: %v", err)
	}
	late := func(iss, nonce string) map[string]any {
		m := baseClaims(iss, nonce)
		m["exp"] = idNow - 90
		return m
	}
	_, c = identifyServer(t, "s", late)
	if _, err := c.Identify(t.Context(), &Token{"ak", "as"}); !errors.As(err, &ie) || ie.Reason != "exp" {
		t.Errorf("default leeway: %v; want exp", err)
	}
	c.Leeway = 120 * time.Second
	if _, err := c.Identify(t.Context(), &Token{"ak", "as"}); err != nil {
		t.Errorf("leeway 120s: %v", err)
	}
	c.Issuer = "https://meta.wikimedia.org"
	if _, err := c.Identify(t.Context(), &Token{"ak", "as"}); !errors.As(err, &ie) || ie.Reason != "iss" {
		t.Errorf("issuer override: %v; want iss", err)
	}
	if _, err := c.Identify(t.Context(), nil); !errors.Is(err, ErrAccessTokenNotFound) {
		t.Errorf("nil token: %v", err)
	}
}
