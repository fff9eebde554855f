package mwoauth

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/wikiauth/mwoauth/mwapi"
)

// RequestOption changes one call of [Auth.Request]. Options are sealed.
type RequestOption interface{ applyRequest(*requestConfig) }

type requestConfig struct {
	wiki      string
	method    string
	tokenType string
}

type requestOptionFunc func(*requestConfig)

func (f requestOptionFunc) applyRequest(c *requestConfig) { f(c) }

// OnWiki sends the request to another wiki of the same farm with the same
// tokens (a consumer registered for all wikis, "*", on the central wiki), as
// the seed's url= argument did. Both forms are accepted:
// "https://en.wikipedia.org/w" and "https://en.wikipedia.org/w/api.php".
func OnWiki(scriptPathOrAPI string) RequestOption {
	return requestOptionFunc(func(c *requestConfig) { c.wiki = scriptPathOrAPI })
}

// WithMethod forces GET or POST. By default reads (action=query, parse,
// … without a token) use GET and everything else uses POST.
func WithMethod(method string) RequestOption {
	return requestOptionFunc(func(c *requestConfig) { c.method = strings.ToUpper(method) })
}

// WithToken adds a token of type typ ("csrf" for edits; also "watch",
// "patrol", "rollback", …) as the request's token parameter, fetched from
// meta=tokens, and POSTs the request; when the wiki answers badtoken, a new
// token is fetched and the request sent once more.
func WithToken(typ string) RequestOption {
	return requestOptionFunc(func(c *requestConfig) { c.tokenType = typ })
}

// readActions are the API modules that only read, sent with GET.
var readActions = map[string]bool{
	"query": true, "parse": true, "opensearch": true, "help": true, "paraminfo": true,
	"compare": true, "expandtemplates": true, "sitematrix": true, "feedcontributions": true,
	"feedrecentchanges": true, "feedwatchlist": true, "languagesearch": true, "wbgetentities": true,
	"wbsearchentities": true, "wbgetclaims": true, "tokens": true, "cirrus-config-dump": true,
}

// Request calls the wiki's Action API (api.php) as the request's user and
// returns the decoded JSON result. format=json and formatversion=2 are added;
// reads go out as GET, writes as POST (see [WithMethod]), with assert=user.
// An API error, which MediaWiki sends with HTTP 200, is returned as an error
// wrapping *mwapi.APIError with the wiki's code and info. With OAuth 2.0
// an access token that is about to expire, or that the wiki refuses, is
// refreshed first (once, shared by the session's concurrent requests) and
// the rotated tokens are stored in the session. When the wiki no longer
// accepts the user's tokens (or refuses the refresh), the session ends and
// the error matches [ErrTokenRevoked]. Call it before writing the response.
func (a *Auth) Request(r *http.Request, params url.Values, opts ...RequestOption) (map[string]any, error) {
	var out map[string]any
	if err := a.RequestInto(r, params, &out, opts...); err != nil {
		return nil, err
	}
	return out, nil
}

// RequestInto is [Auth.Request] decoding the result into out, a pointer to a
// struct, a map or a json.RawMessage.
func (a *Auth) RequestInto(r *http.Request, params url.Values, out any, opts ...RequestOption) error {
	st, err := a.state(r)
	if err != nil {
		return err
	}
	if !st.snapshot().loggedIn() {
		return ErrNotLoggedIn
	}
	if err := a.freshen(r.Context(), st); err != nil {
		return err
	}
	d := st.snapshot()
	var rc requestConfig
	for _, o := range opts {
		o.applyRequest(&rc)
	}
	hc, err := a.flow.client(st, &d)
	if err != nil {
		return err
	}
	endpoint := a.cfg.wiki.String()
	if rc.wiki != "" {
		endpoint = rc.wiki
	}
	c, err := mwapi.New(endpoint,
		mwapi.WithHTTPClient(hc),
		mwapi.WithUserAgent(a.cfg.UserAgent),
		mwapi.WithAssertUser(true),
		mwapi.WithCredentialID(a.flow.credentialID(&d)),
		mwapi.WithLogger(a.log),
	)
	if err != nil {
		return fmt.Errorf("mwoauth: request: %w", err)
	}
	method := rc.method
	if method == "" {
		method = http.MethodPost
		if readActions[params.Get("action")] && params.Get("token") == "" {
			method = http.MethodGet
		}
	}
	switch {
	case rc.tokenType != "":
		if rc.method == http.MethodGet {
			return fmt.Errorf("mwoauth: request: WithToken needs POST")
		}
		err = c.PostWithToken(r.Context(), rc.tokenType, params, out)
	case method == http.MethodGet:
		err = c.Get(r.Context(), params, out)
	case method == http.MethodPost:
		err = c.Post(r.Context(), params, out)
	default:
		return fmt.Errorf("mwoauth: request: method %q is neither GET nor POST", method)
	}
	if err != nil && (errors.Is(err, mwapi.ErrTokenRevoked) || errors.Is(err, mwapi.ErrNotLoggedIn)) {
		st.end()
		return fmt.Errorf("%w: %w", ErrTokenRevoked, err)
	}
	if err != nil && errors.Is(err, ErrTokenRevoked) {
		// The OAuth 2 transport's refresh was refused (the session ended).
		st.end()
	}
	return err
}
