package oauth1

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// maxSignedBody caps a form body that Sign reads to sign it (32 MiB).
const maxSignedBody = 32 << 20

// Sign signs req for MediaWiki with the consumer and tok (nil for no token)
// and sets its Authorization header (RFC 5849 §3.5.1). The signed parameters
// are the query, the form body of a POST (Content-Type starting with
// application/x-www-form-urlencoded, as MediaWiki matches it: lower case,
// parameters such as charset ignored) and the oauth_* protocol parameters;
// other bodies (JSON, multipart uploads, any body of another method) are
// not signed, as MediaWiki does not sign them. A form body is read
// and put back (Body, GetBody, ContentLength), so the request can still be
// sent. It sets User-Agent from Config.UserAgent when req has none.
//
// Sign refuses, with ErrDuplicateParam, a parameter name that appears twice
// in the query, in the body, in both, or that is also an oauth_* parameter
// of the Authorization header: MediaWiki merges repeated names, so its
// signature would differ (the RFC allows repeats; NormalizeParameters keeps
// them). The MediaWiki API joins multiple values with "|" instead.
func (c *Config) Sign(req *http.Request, tok *Token) error {
	_, err := c.sign(req, tok, nil)
	return err
}

// sign is Sign with extra protocol parameters (oauth_callback,
// oauth_verifier); it returns the oauth_nonce it used.
func (c *Config) sign(req *http.Request, tok *Token, extra []Param) (string, error) {
	if err := c.checkCredentials(); err != nil {
		return "", err
	}
	if req == nil || req.URL == nil {
		return "", errors.New("oauth1: sign: request without URL")
	}
	if req.Header == nil {
		req.Header = make(http.Header)
	}
	params, err := requestParams(req)
	if err != nil {
		return "", err
	}
	nonce, err := c.nonce()
	if err != nil {
		return "", err
	}
	signer := c.signer()
	proto := make([]Param, 0, 8)
	proto = append(proto, Param{"oauth_consumer_key", c.ConsumerKey})
	tokenSecret := ""
	if tok != nil {
		proto = append(proto, Param{"oauth_token", tok.Key})
		tokenSecret = tok.Secret
	}
	proto = append(proto,
		Param{"oauth_signature_method", signer.Method()},
		Param{"oauth_timestamp", strconv.FormatInt(c.now().Unix(), 10)},
		Param{"oauth_nonce", nonce},
		Param{"oauth_version", "1.0"},
	)
	proto = append(proto, extra...)
	if err := unique(params, proto); err != nil {
		return "", err
	}
	all := append(params, proto...)
	base := SignatureBaseString(methodOf(req), req.URL, all)
	sig, err := signer.Sign(base, c.ConsumerSecret, tokenSecret)
	if err != nil {
		return "", fmt.Errorf("oauth1: sign: %w", err)
	}
	req.Header.Set("Authorization", authorizationHeader(append(proto, Param{"oauth_signature", sig})))
	if req.Header.Get("User-Agent") == "" && c.UserAgent != "" {
		req.Header.Set("User-Agent", c.UserAgent)
	}
	return nonce, nil
}

func methodOf(req *http.Request) string {
	if req.Method == "" {
		return http.MethodGet
	}
	return req.Method
}

// authorizationHeader formats `OAuth k="v", …` with percent-encoded values
// (RFC 5849 §3.5.1), in the given order, without realm.
func authorizationHeader(params []Param) string {
	var b strings.Builder
	b.WriteString("OAuth ")
	for i, p := range params {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(PercentEncode(p.Key))
		b.WriteString(`="`)
		b.WriteString(PercentEncode(p.Value))
		b.WriteByte('"')
	}
	return b.String()
}

// unique refuses a name used twice among params and protocol parameters
// (oauth_signature included, since the header adds it).
func unique(params, proto []Param) error {
	seen := make(map[string]bool, len(params)+len(proto)+1)
	seen["oauth_signature"] = true
	for _, p := range proto {
		seen[p.Key] = true
	}
	local := make(map[string]bool, len(params))
	for _, p := range params {
		if seen[p.Key] || local[p.Key] {
			return fmt.Errorf("%w: %q", ErrDuplicateParam, p.Key)
		}
		local[p.Key] = true
	}
	return nil
}

// requestParams collects the query parameters and, for a form body, the
// body parameters of req (RFC 5849 §3.4.1.3.1), restoring the body.
func requestParams(req *http.Request) ([]Param, error) {
	query, err := parseForm(req.URL.RawQuery)
	if err != nil {
		return nil, fmt.Errorf("oauth1: sign: query: %w", err)
	}
	// PHP's $_GET, which MediaWiki signs, drops a pair without a name.
	params := query[:0]
	for _, p := range query {
		if p.Key != "" {
			params = append(params, p)
		}
	}
	// MediaWiki reads a body for the signature only from a POST
	// (WebRequest::wasPosted, case-sensitive).
	if req.Body == nil || req.Body == http.NoBody || req.Method != http.MethodPost || !isForm(req.Header.Get("Content-Type")) {
		return params, nil
	}
	body, err := io.ReadAll(io.LimitReader(req.Body, maxSignedBody+1))
	req.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("oauth1: sign: reading body: %w", err)
	}
	if len(body) > maxSignedBody {
		return nil, fmt.Errorf("oauth1: sign: form body over %d bytes", maxSignedBody)
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	req.ContentLength = int64(len(body))
	bp, err := parseBody(string(body))
	if err != nil {
		return nil, fmt.Errorf("oauth1: sign: body: %w", err)
	}
	return append(params, bp...), nil
}

// parseBody splits a form body as MediaWiki does to sign it
// (OAuthUtil::parse_parameters): every piece between "&"s is a parameter,
// so an empty piece (a trailing "&", or "&&") is the parameter "" with the
// value "", which the wiki signs; an empty body (or PHP's falsy "0") has
// none. A bad %-escape is an error.
func parseBody(s string) ([]Param, error) {
	if s == "" || s == "0" {
		return nil, nil
	}
	var out []Param
	for {
		pair, rest, more := strings.Cut(s, "&")
		p, err := decodePair(pair)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
		if !more {
			return out, nil
		}
		s = rest
	}
}

// isForm reports whether a Content-Type is one MediaWiki reads as a form
// (MWOAuthRequest::fromRequest: a case-sensitive prefix match, so
// parameters such as charset are ignored).
func isForm(contentType string) bool {
	return strings.HasPrefix(strings.TrimLeft(contentType, " \t"), "application/x-www-form-urlencoded")
}

// parseForm splits an application/x-www-form-urlencoded string into
// parameters in order, keeping repeats; "+" is a space; a pair without "="
// has an empty value; empty pairs are skipped. A bad %-escape is an error.
func parseForm(s string) ([]Param, error) {
	var out []Param
	for s != "" {
		var pair string
		pair, s, _ = strings.Cut(s, "&")
		if pair == "" {
			continue
		}
		p, err := decodePair(pair)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// decodePair decodes one name=value pair of a form or query ("+" is a
// space; no "=" means an empty value).
func decodePair(pair string) (Param, error) {
	k, v, _ := strings.Cut(pair, "=")
	key, err := url.QueryUnescape(k)
	if err != nil {
		return Param{}, errors.New("bad percent-encoding")
	}
	val, err := url.QueryUnescape(v)
	if err != nil {
		return Param{}, errors.New("bad percent-encoding")
	}
	return Param{key, val}, nil
}
