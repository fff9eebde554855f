package oauth1

import (
	"fmt"
	"log/slog"
)

// Token is an OAuth 1.0a token: a request token (temporary credentials) or
// an access token (token credentials). Its String, GoString and LogValue
// methods never show the secret and show only a short prefix of the key, so
// a Token can be logged or printed with %v, %+v or %#v safely.
type Token struct {
	Key    string
	Secret string
}

// String returns a redacted form, e.g. `oauth1.Token{Key:"4f49d7…", Secret:REDACTED}`.
func (t Token) String() string {
	return fmt.Sprintf("oauth1.Token{Key:%q, Secret:REDACTED}", keyPrefix(t.Key))
}

// GoString is String, so that %#v redacts too.
func (t Token) GoString() string { return t.String() }

// Format makes every verb (%v, %+v, %s, %q, %#v…) print the redacted form.
func (t Token) Format(f fmt.State, verb rune) { fmt.Fprint(f, t.String()) }

// LogValue implements slog.LogValuer: a group with the key prefix only.
func (t Token) LogValue() slog.Value {
	return slog.GroupValue(slog.String("key", keyPrefix(t.Key)), slog.String("secret", "REDACTED"))
}

// keyPrefix returns at most the first 6 bytes of key followed by "…".
func keyPrefix(key string) string {
	const n = 6
	if key == "" {
		return ""
	}
	if len(key) <= n {
		return key[:len(key)/2] + "…"
	}
	return key[:n] + "…"
}
