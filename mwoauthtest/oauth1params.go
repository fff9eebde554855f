package mwoauthtest

import (
	"crypto"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha1"
	"encoding/base64"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/wikiauth/mwoauth/oauth1"
)

// maxHeaderParams bounds how many parameters ParseAuthorizationHeader
// returns (every loop of the fake is bounded).
const maxHeaderParams = 256

// ParseAuthorizationHeader parses an "Authorization: OAuth ..." header the
// way Extension:OAuth's OAuthUtil::split_header does: it finds every
// oauth_[a-z_-]*=value, where the value is "quoted" or runs up to the next
// comma, and URL-decodes it (+ is a space). A later duplicate replaces an
// earlier one. realm and anything that is not oauth_* are ignored. PHP's
// quirk is kept: an empty or "0" quoted value counts as empty. ok is false
// when the header does not start with "OAuth " (case-sensitive).
func ParseAuthorizationHeader(h string) (params map[string]string, ok bool) {
	if !strings.HasPrefix(h, "OAuth ") {
		return nil, false
	}
	params = map[string]string{}
	s := h
	for len(params) < maxHeaderParams {
		i := strings.Index(s, "oauth_")
		if i < 0 {
			break
		}
		j := i + len("oauth_")
		for j < len(s) && (s[j] >= 'a' && s[j] <= 'z' || s[j] == '_' || s[j] == '-') {
			j++
		}
		if j >= len(s) || s[j] != '=' {
			// No match starting here; the regex would retry one byte on.
			s = s[i+1:]
			continue
		}
		name := s[i:j]
		rest := s[j+1:]
		var val string
		quoted := false
		// (:?"([^"]*)"|([^,]*)) — an optional ':' before the quote.
		q := rest
		if strings.HasPrefix(q, ":") {
			q = q[1:]
		}
		if strings.HasPrefix(q, `"`) {
			if k := strings.IndexByte(q[1:], '"'); k >= 0 {
				inner := q[1 : 1+k]
				consumed := len(rest) - len(q) + k + 2
				quoted = true
				if inner == "" || inner == "0" {
					val = "" // PHP's empty() on the quoted group
				} else {
					val = inner
				}
				s = rest[consumed:]
			}
		}
		if !quoted {
			k := strings.IndexByte(rest, ',')
			if k < 0 {
				k = len(rest)
			}
			val = rest[:k]
			s = rest[k:]
		}
		params[name] = phpURLDecode(val)
	}
	return params, true
}

// phpURLDecode is PHP's urldecode: + is a space, %XX is a byte, and a bad
// escape is kept as it is.
func phpURLDecode(s string) string {
	if !strings.ContainsAny(s, "%+") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '+':
			b.WriteByte(' ')
		case c == '%' && i+2 < len(s) && ishex(s[i+1]) && ishex(s[i+2]):
			b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
			i += 2
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func ishex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// oauthRequest is a request's parameters merged as MWOAuthRequest::fromRequest
// merges them: the query (PHP's $_GET: the last duplicate wins), then a
// form body when Content-Type starts with application/x-www-form-urlencoded
// (OAuthUtil::parse_parameters: duplicates become lists), then the
// Authorization header; each later source overrides the earlier by key.
type oauthRequest struct {
	method  string
	baseURI string
	params  map[string][]string
	order   []string
	header  bool // an "OAuth " Authorization header was present
}

func (o *oauthRequest) get(k string) string {
	v := o.params[k]
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

func (o *oauthRequest) has(k string) bool { _, ok := o.params[k]; return ok }

func (o *oauthRequest) set(k string, v []string) {
	if _, ok := o.params[k]; !ok {
		o.order = append(o.order, k)
	}
	o.params[k] = v
}

// maxParams bounds the number of parameters of one request.
const maxParams = 1000

// parsePHPQuery parses a query string as PHP fills $_GET: pairs split on &,
// names and values urldecoded, '.' and ' ' in names become '_', the last
// duplicate wins.
func parsePHPQuery(raw string, into func(k, v string)) {
	n := 0
	for raw != "" && n < maxParams {
		n++
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		k = phpURLDecode(k)
		if k == "" {
			continue
		}
		k = strings.Map(func(r rune) rune {
			if r == '.' || r == ' ' {
				return '_'
			}
			return r
		}, k)
		into(k, phpURLDecode(v))
	}
}

// parseBodyParams is OAuthUtil::parse_parameters: duplicates are kept, and
// every piece of explode('&') counts, so an empty one (a trailing "&", or
// "&&") is the parameter "" with the value ""; an empty body (or PHP's
// falsy "0") has none.
func parseBodyParams(raw string, into func(k, v string)) {
	if raw == "" || raw == "0" {
		return
	}
	for n := 0; n < maxParams; n++ {
		pair, rest, more := strings.Cut(raw, "&")
		k, v, _ := strings.Cut(pair, "=")
		into(phpURLDecode(k), phpURLDecode(v))
		if !more {
			return
		}
		raw = rest
	}
}

// newOAuthRequest merges the request's parameters. body is the raw request
// body (already read).
func newOAuthRequest(r *http.Request, canonical string, body []byte) *oauthRequest {
	o := &oauthRequest{method: strings.ToUpper(r.Method), params: map[string][]string{}}
	path := r.RequestURI
	rawQuery := ""
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path, rawQuery = path[:i], path[i+1:]
	}
	if u, err := url.Parse(canonical + path); err == nil {
		o.baseURI = oauth1.BaseStringURI(u)
	} else {
		o.baseURI = canonical + path
	}
	parsePHPQuery(rawQuery, func(k, v string) { o.set(k, []string{v}) })
	if r.Method == http.MethodPost && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		post := map[string][]string{}
		var order []string
		parseBodyParams(string(body), func(k, v string) {
			if _, ok := post[k]; !ok {
				order = append(order, k)
			}
			post[k] = append(post[k], v)
		})
		for _, k := range order {
			o.set(k, post[k])
		}
	}
	if hp, ok := ParseAuthorizationHeader(r.Header.Get("Authorization")); ok {
		o.header = true
		keys := make([]string, 0, len(hp))
		for k := range hp {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			o.set(k, []string{hp[k]})
		}
	}
	return o
}

// baseString is the signature base string the server computes:
// every merged parameter except oauth_signature.
func (o *oauthRequest) baseString() string {
	var ps []oauth1.Param
	for _, k := range o.order {
		if k == "oauth_signature" {
			continue
		}
		for _, v := range o.params[k] {
			ps = append(ps, oauth1.Param{Key: k, Value: v})
		}
	}
	return o.method + "&" + oauth1.PercentEncode(o.baseURI) + "&" + oauth1.PercentEncode(oauth1.NormalizeParameters(ps))
}

// checkSignature verifies oauth_signature with the consumer's secret (or
// RSA key) and the token secret.
func (o *oauthRequest) checkSignature(c *Consumer, tokenSecret string) bool {
	sig := o.get("oauth_signature")
	base := o.baseString()
	switch o.get("oauth_signature_method") {
	case "HMAC-SHA1":
		mac := hmac.New(sha1.New, []byte(oauth1.HMACKey(c.Secret, tokenSecret)))
		mac.Write([]byte(base))
		want := base64.StdEncoding.EncodeToString(mac.Sum(nil))
		return hmac.Equal([]byte(want), []byte(sig))
	case "RSA-SHA1":
		if c.RSAPublicKey == nil {
			return false
		}
		raw, err := base64.StdEncoding.DecodeString(sig)
		if err != nil {
			return false
		}
		h := sha1.Sum([]byte(base))
		return rsa.VerifyPKCS1v15(c.RSAPublicKey, crypto.SHA1, h[:], raw) == nil
	}
	return false
}
