package oauth1

import (
	"net/http"
)

// Transport returns an http.RoundTripper that signs every request with the
// consumer and the access token at (for api.php calls) and sends it with
// base (nil means http.DefaultTransport). It clones each request and never
// modifies the caller's; a request it cannot sign (ErrDuplicateParam, a
// nonce failure) is not sent, and its body is closed. The Config and token
// are copied: later changes to them do not affect the transport.
func (c *Config) Transport(at *Token, base http.RoundTripper) http.RoundTripper {
	t := &transport{cfg: *c, base: base}
	if at != nil {
		tok := *at
		t.tok = &tok
	}
	return t
}

// Client returns an *http.Client whose Transport signs every request with at
// (see Transport), built on the Transport, Jar and Timeout of
// Config.HTTPClient (or DefaultTimeout), and that follows no redirects: a 3xx
// is returned to the caller as is.
func (c *Config) Client(at *Token) *http.Client {
	var base http.RoundTripper
	cl := &http.Client{Timeout: DefaultTimeout}
	if c.HTTPClient != nil {
		base = c.HTTPClient.Transport
		cl.Timeout = c.HTTPClient.Timeout
		cl.Jar = c.HTTPClient.Jar
	}
	cl.Transport = c.Transport(at, base)
	cl.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return cl
}

type transport struct {
	cfg  Config
	tok  *Token
	base http.RoundTripper
}

// RoundTrip implements http.RoundTripper.
func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	r2 := req.Clone(req.Context())
	if _, err := t.cfg.sign(r2, t.tok, nil); err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, err
	}
	base := t.base
	if base == nil {
		base = http.DefaultTransport
	}
	return base.RoundTrip(r2)
}
