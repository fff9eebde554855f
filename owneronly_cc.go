package mwoauth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/wikiauth/mwoauth/mwapi"
)

// ccTokenTimeout bounds one request to the token endpoint.
const ccTokenTimeout = 30 * time.Second

// ClientCredentials returns an Action API client for an owner-only OAuth 2.0
// client that gets its access tokens with the client_credentials grant
// (rest.php/oauth2/access_token, client_id and client_secret in the form
// body): the tokens act as the client's owner. It fetches the first token
// with ctx, so that a client the wiki refuses fails here, with an error
// matching ErrMisconfigured (ErrWikiUnavailable when the wiki cannot be
// reached); later tokens are fetched, one at a time, within the context of
// the API call that needs one: ahead of expiry (from expires_in), and once
// more when the wiki refuses a token before then (HTTP 401 or api.php's
// mwoauth-invalid-authorization), resending that request once. wiki and
// userAgent are as for OwnerOnlyOAuth1; bad input fails with ErrConfig.
//
// Only owner-only clients may use the grant: others are refused with
// invalid_client. The fixed token an owner-only client also receives at
// registration needs no grant at all: see OwnerOnlyOAuth2.
func ClientCredentials(ctx context.Context, wiki, clientID, clientSecret, userAgent string, opts ...mwapi.Option) (*mwapi.Client, error) {
	const op = "client credentials"
	if ctx == nil {
		return nil, configErr("%s: nil context", op)
	}
	script, err := ownerOnlyWiki(op, wiki)
	if err != nil {
		return nil, err
	}
	if err := checkCredential(op, "client id", clientID); err != nil {
		return nil, err
	}
	if err := checkCredential(op, "client secret", clientSecret); err != nil {
		return nil, err
	}
	if err := checkUserAgent(op, userAgent); err != nil {
		return nil, err
	}
	src := newCCSource(script.String(), clientID, clientSecret, userAgent)
	if _, err := src.token(ctx, ""); err != nil {
		return nil, err
	}
	hc := &http.Client{
		Transport:     &ccBearer{src: src, base: ownerOnlyTransport()},
		Timeout:       ownerOnlyTimeout,
		CheckRedirect: noRedirect,
	}
	h := sha256.Sum256([]byte("oauth2-cc\x00" + clientID))
	return newOwnerOnlyClient(op, script.String(), userAgent, hc, hex.EncodeToString(h[:12]), opts)
}

func newCCSource(script, clientID, clientSecret, userAgent string) *ccSource {
	return &ccSource{
		cfg: &clientcredentials.Config{
			ClientID:     clientID,
			ClientSecret: clientSecret,
			TokenURL:     script + "/rest.php/oauth2/access_token",
			AuthStyle:    oauth2.AuthStyleInParams,
		},
		hc: &http.Client{
			Transport:     &ccUserAgent{ua: userAgent, base: ownerOnlyTransport()},
			Timeout:       ccTokenTimeout,
			CheckRedirect: noRedirect,
		},
		sem: make(chan struct{}, 1),
	}
}

// ccSource holds the current client_credentials token and fetches a new one
// when it has expired or was refused, one fetch at a time.
type ccSource struct {
	cfg *clientcredentials.Config
	hc  *http.Client  // for the token endpoint
	sem chan struct{} // held while reading or fetching tok
	tok *oauth2.Token
}

// token returns a valid access token. stale, when not "", is a token the
// wiki refused: a new one is fetched unless another caller already did.
func (s *ccSource) token(ctx context.Context, stale string) (string, error) {
	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		return "", fmt.Errorf("mwoauth: client credentials: waiting for a token: %w", ctx.Err())
	}
	defer func() { <-s.sem }()
	if s.tok != nil && s.tok.Valid() && (stale == "" || subtle.ConstantTimeCompare([]byte(s.tok.AccessToken), []byte(stale)) == 0) {
		return s.tok.AccessToken, nil
	}
	t, err := s.cfg.Token(context.WithValue(ctx, oauth2.HTTPClient, s.hc))
	if err != nil {
		return "", ccError(err)
	}
	if t.TokenType != "" && !strings.EqualFold(t.TokenType, "Bearer") {
		return "", &ownerOnlyError{msg: fmt.Sprintf("mwoauth: client credentials: token type %q is not Bearer", t.TokenType), errs: []error{ErrWikiUnavailable}}
	}
	if err := checkCredential("client credentials", "access token from the wiki", t.AccessToken); err != nil {
		return "", &ownerOnlyError{msg: "mwoauth: client credentials: the wiki answered an unusable access token", errs: []error{ErrWikiUnavailable}}
	}
	s.tok = t
	return t.AccessToken, nil
}

// ownerOnlyError has its own message (no response body, no secret) and
// matches a sentinel and the cause.
type ownerOnlyError struct {
	msg  string
	errs []error
}

func (e *ownerOnlyError) Error() string   { return e.msg }
func (e *ownerOnlyError) Unwrap() []error { return e.errs }

// ccError classifies a failure of the token endpoint: a refusal (4xx with
// an OAuth error) is ErrMisconfigured, anything else ErrWikiUnavailable.
// The *oauth2.RetrieveError stays reachable with errors.As.
func ccError(err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		status := 0
		if re.Response != nil {
			status = re.Response.StatusCode
		}
		desc := re.ErrorDescription
		if len(desc) > 200 {
			desc = desc[:200] + "…"
		}
		kind := ErrMisconfigured
		if status >= 500 || status == http.StatusTooManyRequests || re.ErrorCode == "" {
			kind = ErrWikiUnavailable
		}
		msg := fmt.Sprintf("mwoauth: client credentials: %s: HTTP %d", strings.TrimPrefix(kind.Error(), "mwoauth: "), status)
		if re.ErrorCode != "" {
			msg += " " + re.ErrorCode
		}
		if desc != "" {
			msg += ": " + desc
		}
		return &ownerOnlyError{msg: msg, errs: []error{kind, re}}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("mwoauth: client credentials: %w: %w", ErrWikiUnavailable, err)
	}
	return &ownerOnlyError{msg: "mwoauth: client credentials: wiki unavailable: " + err.Error(), errs: []error{ErrWikiUnavailable, err}}
}

// ccUserAgent sets the User-Agent on token requests (Wikimedia refuses
// generic agents).
type ccUserAgent struct {
	ua   string
	base http.RoundTripper
}

func (t *ccUserAgent) RoundTrip(req *http.Request) (*http.Response, error) {
	r2 := req.Clone(req.Context())
	r2.Header.Set("User-Agent", t.ua+" mwoauth-go/"+mwapi.Version)
	return t.base.RoundTrip(r2)
}

// ccBearer authorises each request with the source's token and, when the
// wiki refuses a token, gets a new one and sends the request once more.
type ccBearer struct {
	src  *ccSource
	base http.RoundTripper
}

func (t *ccBearer) RoundTrip(req *http.Request) (*http.Response, error) {
	var sent string
	send := &ownerOnlyBearer{base: t.base, token: func(r *http.Request) (string, error) {
		tok, err := t.src.token(r.Context(), sent)
		sent = tok
		return tok, err
	}}
	replayable := req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
	first := req
	if replayable && req.GetBody != nil {
		// Keep the caller's body for a second attempt.
		b, err := req.GetBody()
		if err != nil {
			if req.Body != nil {
				req.Body.Close()
			}
			return nil, err
		}
		first = req.Clone(req.Context())
		first.Body = b
	}
	resp, err := send.RoundTrip(first)
	if err != nil || !replayable || !ccRefused(resp) {
		if first != req && req.Body != nil {
			req.Body.Close() // unused: the attempt sent a copy
		}
		return resp, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	return send.RoundTrip(req)
}

// ccRefused reports a refused bearer token: HTTP 401 (rest.php) or
// api.php's mwoauth-invalid-authorization.
func ccRefused(resp *http.Response) bool {
	return resp.StatusCode == http.StatusUnauthorized ||
		resp.Header.Get("MediaWiki-API-Error") == "mwoauth-invalid-authorization"
}
