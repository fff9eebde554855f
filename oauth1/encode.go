package oauth1

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"net/url"
	"sort"
	"strings"
)

// Param is one name/value pair of a request. A slice of Params keeps order and
// repeated names, as RFC 5849 §3.4.1.3 requires.
type Param struct {
	Key, Value string
}

// PercentEncode encodes s as RFC 5849 §3.6 prescribes: every byte of its UTF-8
// form except the unreserved characters A–Z a–z 0–9 - . _ ~ becomes %XX with
// uppercase hex digits.
func PercentEncode(s string) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if !unreserved(s[i]) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s) + 2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

func unreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

// NormalizeParameters returns the normalized request parameters of RFC 5849
// §3.4.1.3.2: each name and value percent-encoded, the pairs sorted by encoded
// name and then by encoded value (byte order), joined as name=value with "&".
// Repeated names are kept. Callers leave out oauth_signature and realm.
func NormalizeParameters(params []Param) string {
	enc := make([]Param, len(params))
	for i, p := range params {
		enc[i] = Param{PercentEncode(p.Key), PercentEncode(p.Value)}
	}
	sort.Slice(enc, func(i, j int) bool {
		if enc[i].Key != enc[j].Key {
			return enc[i].Key < enc[j].Key
		}
		return enc[i].Value < enc[j].Value
	})
	var b strings.Builder
	for i, p := range enc {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.Key)
		b.WriteByte('=')
		b.WriteString(p.Value)
	}
	return b.String()
}

// BaseStringURI returns the base string URI of RFC 5849 §3.4.1.2: scheme and
// host in lower case, the port left out only when it is the scheme's default
// (80 for http, 443 for https), the path as sent (escaped; "/" when empty), and
// no query or fragment.
func BaseStringURI(u *url.URL) string {
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Hostname())
	if strings.Contains(host, ":") { // IPv6 literal
		host = "[" + host + "]"
	}
	port := u.Port()
	if port != "" && !(scheme == "http" && port == "80") && !(scheme == "https" && port == "443") {
		host += ":" + port
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	return scheme + "://" + host + path
}

// SignatureBaseString returns the signature base string of RFC 5849 §3.4.1:
// the upper-case method, the base string URI and the normalized parameters,
// each percent-encoded and joined with "&". params must already hold every
// parameter that is signed: the query, a form-encoded body and the oauth_*
// protocol parameters (without oauth_signature).
func SignatureBaseString(method string, u *url.URL, params []Param) string {
	return strings.ToUpper(method) + "&" + PercentEncode(BaseStringURI(u)) + "&" +
		PercentEncode(NormalizeParameters(params))
}

// Signer computes oauth_signature values. Implementations must be safe for
// concurrent use.
type Signer interface {
	// Method is the oauth_signature_method value, e.g. "HMAC-SHA1".
	Method() string
	// Sign signs the signature base string with the client's shared secret
	// and the token secret ("" when there is no token yet). It returns the
	// signature before percent-encoding (base64 for HMAC-SHA1 and RSA-SHA1).
	Sign(base, consumerSecret, tokenSecret string) (string, error)
}

// HMACSHA1 is the HMAC-SHA1 signature method of RFC 5849 §3.4.2. Its zero
// value is ready to use.
type HMACSHA1 struct{}

// Method returns "HMAC-SHA1".
func (HMACSHA1) Method() string { return "HMAC-SHA1" }

// Sign returns base64(HMAC-SHA1(key, base)) where key is
// PercentEncode(consumerSecret) + "&" + PercentEncode(tokenSecret).
func (HMACSHA1) Sign(base, consumerSecret, tokenSecret string) (string, error) {
	mac := hmac.New(sha1.New, []byte(HMACKey(consumerSecret, tokenSecret)))
	mac.Write([]byte(base))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil)), nil
}

// HMACKey returns the HMAC-SHA1 key of RFC 5849 §3.4.2: the encoded client
// secret, "&", and the encoded token secret (the "&" is kept when the token
// secret is empty).
func HMACKey(consumerSecret, tokenSecret string) string {
	return PercentEncode(consumerSecret) + "&" + PercentEncode(tokenSecret)
}
