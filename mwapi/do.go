package mwapi

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// maxGETQuery is the longest query string sent with GET; longer reads are
// POSTed (as mwn does), keeping their read semantics for retries.
const maxGETQuery = 4096

// request is one logical API call (possibly several HTTP attempts).
type request struct {
	method string
	params url.Values
	read   bool // idempotent: retried on network errors, 429 and 5xx
	// multipart, when set, builds the body of a file upload; the
	// fields are not form-encoded and so not part of an OAuth 1 signature.
	multipart func() (body []byte, contentType string, err error)
}

// Get sends a read request (HTTP GET; POST when the query would be very
// long) and decodes the result into out: a *map[string]any, a
// *json.RawMessage, a struct pointer, or nil to discard it.
// format=json&formatversion=2 are added, and assert/maxlag per the options.
// API errors come back as *APIError, matching the package's sentinels.
func (c *Client) Get(ctx context.Context, params url.Values, out any) error {
	resp, err := c.do(ctx, &request{method: http.MethodGet, params: params, read: true})
	if err != nil {
		return err
	}
	return decodeInto(resp.Body, out)
}

// Post sends a write request (HTTP POST, form-encoded, any token parameter
// last) and decodes the result into out like Get. Writes are retried only
// on server-declared transient errors (maxlag, ratelimited, readonly, the
// OAuth 1 nonce collision). A badtoken answer forgets the cached token that
// was sent, so the next Token call fetches a new one; PostWithToken does
// that retry by itself.
func (c *Client) Post(ctx context.Context, params url.Values, out any) error {
	resp, err := c.do(ctx, &request{method: http.MethodPost, params: params})
	if err != nil {
		if errors.Is(err, ErrBadToken) {
			c.forgetToken(params.Get("token"))
		}
		return err
	}
	return decodeInto(resp.Body, out)
}

// Do sends one call with the given method (GET is treated as a read, POST
// as a write) and returns the whole decoded response, with its warnings.
func (c *Client) Do(ctx context.Context, method string, params url.Values) (*Response, error) {
	switch method {
	case http.MethodGet:
		return c.do(ctx, &request{method: method, params: params, read: true})
	case http.MethodPost:
		return c.do(ctx, &request{method: method, params: params})
	}
	return nil, fmt.Errorf("mwapi: method %q: want GET or POST", method)
}

func decodeInto(body json.RawMessage, out any) error {
	switch o := out.(type) {
	case nil:
		return nil
	case *json.RawMessage:
		*o = append((*o)[:0], body...)
		return nil
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("mwapi: decoding result: %w", err)
	}
	return nil
}

// prepare copies params and adds the client's standard parameters.
func (c *Client) prepare(params url.Values) url.Values {
	p := make(url.Values, len(params)+4)
	for k, v := range params {
		p[k] = append([]string(nil), v...)
	}
	p.Set("format", "json")
	if p.Get("formatversion") == "" {
		p.Set("formatversion", "2")
	}
	if _, ok := p["assert"]; !ok {
		if _, ok := p["assertuser"]; !ok {
			if c.cfg.assertUsername != "" {
				p.Set("assertuser", c.cfg.assertUsername)
			} else if *c.cfg.assertUser {
				p.Set("assert", "user")
			}
		}
	}
	if c.cfg.maxLag > 0 && p.Get("maxlag") == "" {
		p.Set("maxlag", strconv.Itoa(c.cfg.maxLag))
	}
	return p
}

// isTokenKey reports the parameters that carry a token; they are sent last
// so that a truncated body can never carry a valid token.
func isTokenKey(k string) bool { return k == "token" || strings.HasSuffix(k, "token") }

// encodeParams form-encodes v with sorted keys, token parameters last.
func encodeParams(v url.Values) string {
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		ti, tj := isTokenKey(keys[i]), isTokenKey(keys[j])
		if ti != tj {
			return tj
		}
		return keys[i] < keys[j]
	})
	var b strings.Builder
	for _, k := range keys {
		ek := url.QueryEscape(k)
		for _, val := range v[k] {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(ek)
			b.WriteByte('=')
			b.WriteString(url.QueryEscape(val))
		}
	}
	return b.String()
}

func (c *Client) do(ctx context.Context, r *request) (*Response, error) {
	if ctx == nil {
		return nil, errors.New("mwapi: nil context")
	}
	r.params = c.prepare(r.params)
	start := time.Now()
	nonceRetried := false
	for attempt := 1; ; attempt++ {
		resp, err := c.attempt(ctx, r)
		if err == nil {
			c.reportWarnings(ctx, r, resp.Warnings)
			return resp, nil
		}
		if ctx.Err() != nil {
			return nil, err
		}
		var apiErr *APIError
		if errors.As(err, &apiErr) && isNonceUsed(apiErr) {
			// The signer makes a new nonce per attempt: retry once at once.
			if nonceRetried {
				return nil, err
			}
			nonceRetried = true
			attempt--
			c.log.LogAttrs(ctx, slog.LevelInfo, "mwapi: retrying after nonce collision",
				slog.String("action", r.params.Get("action")))
			continue
		}
		wait, ok := c.retryable(err, r.read, attempt)
		if !ok || attempt >= c.cfg.maxAttempts {
			return nil, err
		}
		if time.Since(start)+wait > c.cfg.maxRetryTime {
			return nil, err
		}
		c.log.LogAttrs(ctx, slog.LevelInfo, "mwapi: retrying",
			slog.String("action", r.params.Get("action")), slog.Int("attempt", attempt),
			slog.Duration("wait", wait), slog.String("error", err.Error()))
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("mwapi: waiting to retry: %w (after %w)", ctx.Err(), err)
		}
	}
}

// retryable decides whether err is worth another attempt and how long to
// wait first.
func (c *Client) retryable(err error, read bool, attempt int) (time.Duration, bool) {
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		switch apiErr.Code {
		case "maxlag":
			if apiErr.RetryAfter > 0 {
				return apiErr.RetryAfter, true
			}
			return 5 * time.Second, true
		case "ratelimited", "readonly":
			if apiErr.RetryAfter > 0 {
				return apiErr.RetryAfter, true
			}
			return c.backoff(attempt), true
		}
		if apiErr.HTTPStatus >= 500 && read {
			return c.backoff(attempt), true
		}
		return 0, false
	}
	if !read {
		return 0, false
	}
	var httpErr *HTTPError
	if errors.As(err, &httpErr) {
		if httpErr.StatusCode == http.StatusTooManyRequests || httpErr.StatusCode >= 500 {
			if httpErr.RetryAfter > 0 {
				return httpErr.RetryAfter, true
			}
			return c.backoff(attempt), true
		}
		return 0, false
	}
	if errors.Is(err, ErrResponseTooLarge) {
		return 0, false
	}
	var te *transportError
	if (errors.As(err, &te) && isNetworkError(te.err)) || errors.Is(err, ErrBadResponse) {
		return c.backoff(attempt), true
	}
	return 0, false
}

// isNetworkError reports failures of the connection itself (refused, reset,
// closed early, timed out), not of the request's preparation: a signing
// transport that refuses to sign is not retried.
func isNetworkError(err error) bool {
	if ue, ok := err.(*url.Error); ok {
		err = ue.Err
	}
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EPIPE)
}

func (c *Client) backoff(attempt int) time.Duration {
	d := c.cfg.backoffBase
	for i := 1; i < attempt && d < 2*time.Minute; i++ {
		d *= 2
	}
	if d > 2*time.Minute {
		d = 2 * time.Minute
	}
	// ±20 % jitter.
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}

// transportError marks a failure to get a response at all.
type transportError struct{ err error }

func (e *transportError) Error() string { return "mwapi: " + e.err.Error() }
func (e *transportError) Unwrap() error { return e.err }

func (c *Client) attempt(ctx context.Context, r *request) (*Response, error) {
	release, err := acquire(ctx, c.limitKey, c.cfg.concurrency)
	if err != nil {
		return nil, fmt.Errorf("mwapi: waiting for a request slot: %w", err)
	}
	defer release()
	if d := c.cfg.timeout; d > 0 {
		if r.multipart != nil {
			d = max(d, 2*time.Minute)
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d)
		defer cancel()
	}
	req, err := c.newHTTPRequest(ctx, r)
	if err != nil {
		return nil, err
	}
	if c.log.Enabled(ctx, slog.LevelDebug) {
		c.log.LogAttrs(ctx, slog.LevelDebug, "mwapi: request",
			slog.String("method", req.Method), slog.String("endpoint", c.endpoint.String()),
			slog.String("params", redactParams(r.params)))
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, &transportError{err}
	}
	defer resp.Body.Close()
	body, err := readBody(resp, c.cfg.maxBytes)
	if err != nil {
		return nil, err
	}
	return decodeResponse(resp.StatusCode, resp.Header, body)
}

func (c *Client) newHTTPRequest(ctx context.Context, r *request) (*http.Request, error) {
	u := *c.endpoint
	var (
		body        []byte
		contentType string
		method      = r.method
	)
	switch {
	case r.multipart != nil:
		var err error
		body, contentType, err = r.multipart()
		if err != nil {
			return nil, err
		}
		method = http.MethodPost
	case method == http.MethodGet:
		q := encodeParams(r.params)
		if len(q) > maxGETQuery {
			method = http.MethodPost
			body, contentType = []byte(q), "application/x-www-form-urlencoded"
		} else {
			u.RawQuery = q
		}
	default:
		body, contentType = []byte(encodeParams(r.params)), "application/x-www-form-urlencoded"
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return nil, fmt.Errorf("mwapi: %w", err)
	}
	req.Header.Set("User-Agent", c.ua)
	req.Header.Set("Accept", "application/json")
	// Set explicitly, so the transport leaves decompression to readBody.
	req.Header.Set("Accept-Encoding", "gzip")
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return req, nil
}

// readBody reads at most max bytes of the (decompressed) body.
func readBody(resp *http.Response, max int64) ([]byte, error) {
	var r io.Reader = resp.Body
	if enc := strings.TrimSpace(resp.Header.Get("Content-Encoding")); enc != "" && !resp.Uncompressed {
		switch strings.ToLower(enc) {
		case "gzip", "x-gzip":
			gz, err := gzip.NewReader(io.LimitReader(resp.Body, max+1))
			if err != nil {
				return nil, fmt.Errorf("%w: gzip: %w", ErrBadResponse, err)
			}
			defer gz.Close()
			r = gz
		case "identity":
		default:
			return nil, fmt.Errorf("%w: unsupported Content-Encoding %q", ErrBadResponse, enc)
		}
	}
	b, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, fmt.Errorf("%w: reading body: %w", ErrBadResponse, err)
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrResponseTooLarge, max)
	}
	return b, nil
}

// redactParams renders params for a log line without secrets or bulk:
// tokens and passwords are replaced, long values cut.
func redactParams(p url.Values) string {
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		for _, v := range p[k] {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(k)
			b.WriteByte('=')
			lk := strings.ToLower(k)
			switch {
			case isTokenKey(lk) || strings.Contains(lk, "password") || strings.Contains(lk, "secret"):
				b.WriteString("REDACTED")
			case len(v) > 64:
				b.WriteString(strings.ToValidUTF8(v[:61], "") + "...")
			default:
				b.WriteString(v)
			}
		}
	}
	return b.String()
}

func (c *Client) reportWarnings(ctx context.Context, r *request, w []Warning) {
	if len(w) == 0 {
		return
	}
	for _, x := range w {
		c.log.LogAttrs(ctx, slog.LevelWarn, "mwapi: API warning",
			slog.String("action", r.params.Get("action")), slog.String("module", x.Module),
			slog.String("code", x.Code), slog.String("text", x.Text))
	}
	if c.cfg.warnings != nil {
		c.cfg.warnings(ctx, w)
	}
}
