// Package mwapi is a client for the MediaWiki Action API (api.php) with the
// etiquette of the best bot frameworks (mwn, pywikibot), over any
// *http.Client: one already authorised by an OAuth 1 signing transport or an
// OAuth 2 bearer transport, or an anonymous one.
//
// # Quick start
//
//	c, err := mwapi.New("https://en.wikipedia.org/w",
//		mwapi.WithHTTPClient(signedClient),
//		mwapi.WithUserAgent("MyTool/1.0 (https://example.org; me@example.org)"),
//		mwapi.WithCredentialID(tokenHash))
//	var res struct {
//		Query struct{ Userinfo struct{ Name string } }
//	}
//	err = c.Get(ctx, url.Values{"action": {"query"}, "meta": {"userinfo"}}, &res)
//	err = c.PostWithToken(ctx, "csrf", url.Values{"action": {"edit"}, "title": {"Sandbox"}, "appendtext": {"x"}}, nil)
//
// # What every call does
//
//   - sends format=json&formatversion=2, the required descriptive User-Agent
//     with "mwoauth-go/VERSION" appended, Accept-Encoding: gzip, assert=user
//     for authenticated clients and maxlag when configured;
//   - returns API errors, which MediaWiki sends with HTTP 200 and a
//     MediaWiki-API-Error header, as *[APIError] from both the legacy
//     "error" object and the "errors" array of errorformat=; they match the
//     sentinels ([ErrNotLoggedIn], [ErrTokenRevoked], [ErrBadToken],
//     [ErrMaxLag], [ErrRateLimited], [ErrReadDenied], ...) with errors.Is;
//   - logs warnings and hands them to the WithWarnings hook ([Client.Do]
//     returns them too);
//   - reads at most WithMaxResponseBytes, never follows redirects, and
//     honours the context everywhere, also while waiting to retry;
//   - retries within a bound of attempts and total time (WithRetry): reads
//     on maxlag (waiting Retry-After), ratelimited, readonly, HTTP 429/5xx
//     and network errors with back-off; writes only on the server-declared
//     transient maxlag, ratelimited and readonly; the OAuth 1 "Nonce already
//     used" once more with a fresh nonce;
//   - runs one request at a time per credential and wiki (WithConcurrency,
//     WithCredentialID), shared by all Clients of the process, so users
//     are not serialized behind each other but each user is.
//
// # Continuation, tokens, uploads, farms
//
// [Client.Continue] iterates over the batches of a continued query;
// [Client.Pages] merges prop/generator results page by page.
// [Client.Token] caches tokens; [Client.PostWithToken] refetches once on
// badtoken. [Client.Upload] sends small files in one multipart POST and large
// ones in chunks with a progress callback. [Client.ForWiki] reuses the
// credentials on another wiki of the farm.
//
// See https://www.mediawiki.org/wiki/API:Etiquette and
// https://www.mediawiki.org/wiki/API:Continue.
package mwapi
