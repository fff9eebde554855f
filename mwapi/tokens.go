package mwapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
)

// legacyTokenTypes are the pre-1.24 token names that are all the csrf
// token now.
var legacyTokenTypes = map[string]bool{
	"edit": true, "delete": true, "protect": true, "move": true, "block": true,
	"unblock": true, "email": true, "import": true, "options": true,
}

// Token returns a token of the given type ("csrf", "watch", "patrol",
// "rollback", "userrights", "login", "createaccount", ...; the old names
// "edit", "delete", ... mean "csrf"), from action=query&meta=tokens. Tokens
// are cached per wiki and credential until a badtoken answer or
// ForgetTokens: per Client, and, for Clients made WithCredentialID, shared
// by every Client of the process with the same wiki and credential id (so a
// web app that makes a Client per request fetches a user's token once).
func (c *Client) Token(ctx context.Context, typ string) (string, error) {
	if typ == "" {
		typ = "csrf"
	}
	if legacyTokenTypes[typ] {
		typ = "csrf"
	}
	c.tokens.mu.Lock()
	tok, ok := c.tokens.m[typ]
	c.tokens.mu.Unlock()
	if ok {
		return tok, nil
	}
	var res struct {
		Query struct {
			Tokens map[string]any `json:"tokens"`
		} `json:"query"`
	}
	params := url.Values{"action": {"query"}, "meta": {"tokens"}, "type": {typ}}
	resp, err := c.do(ctx, &request{method: http.MethodGet, params: params, read: true})
	if err != nil {
		return "", err
	}
	if err := decodeInto(resp.Body, &res); err != nil {
		return "", err
	}
	tok, _ = res.Query.Tokens[typ+"token"].(string)
	if tok == "" {
		return "", fmt.Errorf("%w: no %s token in the answer", ErrBadResponse, typ)
	}
	c.tokens.mu.Lock()
	c.tokens.m[typ] = tok
	c.tokens.mu.Unlock()
	return tok, nil
}

// ForgetTokens drops every cached token.
func (c *Client) ForgetTokens() {
	c.tokens.mu.Lock()
	clear(c.tokens.m)
	c.tokens.mu.Unlock()
}

func (c *Client) forgetToken(value string) {
	if value == "" {
		return
	}
	c.tokens.mu.Lock()
	for k, v := range c.tokens.m {
		if v == value {
			delete(c.tokens.m, k)
		}
	}
	c.tokens.mu.Unlock()
}

// PostWithToken sets params' "token" to a token of type typ and posts
// them like Post. On badtoken it fetches a new token and retries once.
func (c *Client) PostWithToken(ctx context.Context, typ string, params url.Values, out any) error {
	resp, err := c.postWithToken(ctx, typ, params, func(p url.Values) (*Response, error) {
		return c.do(ctx, &request{method: http.MethodPost, params: p})
	})
	if err != nil {
		return err
	}
	return decodeInto(resp.Body, out)
}

// postWithToken runs send with a token of typ set, retrying once with a
// fresh one on badtoken; the response body is decoded by the caller.
func (c *Client) postWithToken(ctx context.Context, typ string, params url.Values, send func(url.Values) (*Response, error)) (*Response, error) {
	for try := 0; ; try++ {
		tok, err := c.Token(ctx, typ)
		if err != nil {
			return nil, err
		}
		p := make(url.Values, len(params)+1)
		for k, v := range params {
			p[k] = v
		}
		p.Set("token", tok)
		resp, err := send(p)
		if err == nil {
			return resp, nil
		}
		if errors.Is(err, ErrNotLoggedIn) {
			c.ForgetTokens()
		}
		if !errors.Is(err, ErrBadToken) || try > 0 {
			return nil, err
		}
		c.forgetToken(tok)
		c.log.LogAttrs(ctx, slog.LevelInfo, "mwapi: badtoken, fetching a new token", slog.String("type", typ))
	}
}

// tokenCache holds the tokens of one (wiki, credential).
type tokenCache struct {
	mu sync.Mutex
	m  map[string]string
}

// maxSharedTokenCaches bounds the process-wide caches; when it is reached
// they are all dropped (tokens are fetched again, nothing else is lost).
const maxSharedTokenCaches = 10000

var sharedTokens = struct {
	mu sync.Mutex
	m  map[slotKey]*tokenCache
}{m: map[slotKey]*tokenCache{}}

// tokensFor returns the token cache of key: shared by the process when
// shared is set (a credential id was given), else a new one.
func tokensFor(key slotKey, shared bool) *tokenCache {
	if !shared {
		return &tokenCache{m: map[string]string{}}
	}
	sharedTokens.mu.Lock()
	defer sharedTokens.mu.Unlock()
	if tc := sharedTokens.m[key]; tc != nil {
		return tc
	}
	if len(sharedTokens.m) >= maxSharedTokenCaches {
		clear(sharedTokens.m)
	}
	tc := &tokenCache{m: map[string]string{}}
	sharedTokens.m[key] = tc
	return tc
}
