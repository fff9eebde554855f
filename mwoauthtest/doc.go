// Package mwoauthtest is a fake MediaWiki with Extension:OAuth for tests,
// shaped like net/http/httptest and as strict as the real server.
//
// A Server listens on a loopback port and implements what a login library
// and its users' apps talk to:
//
//   - index.php?title=Special:OAuth/initiate, /authorize, /authenticate,
//     /token and /identify, with real HMAC-SHA1 (and RSA-SHA1) signature
//     checks over the query, a form body and the Authorization header,
//     merged as MediaWiki merges them; the ±300 s window, the nonce cache,
//     the oob and prefix callback rules, single-use request tokens that
//     live 600 s, the same access token on re-authorization, the identify
//     JWT exactly as MediaWiki builds it, and every error with HTTP 200 in
//     the real key and text, as JSON (format=json) or "Error: …".
//   - Special:UserLogin and the consent form with the real wiki's field and
//     button names (wpName, wpPassword, wpLoginToken; wpEditToken,
//     requestToken, consumerKey, accept=Allow, cancel=Cancel), so tools
//     that fill the real pages work on the fake; Special:OAuthManageMyGrants.
//   - api.php: meta=userinfo (rights narrowed by the consumer's grants),
//     meta=tokens, action=edit with CSRF checks, list=allpages with
//     continuation, the OAuth errors (mwoauth-invalid-authorization,
//     readapidenied) with HTTP 200 and MediaWiki-API-Error; anonymous
//     calls work as anonymous.
//   - OAuth 2 (rest.php): /oauth2/authorize (307 to Special:OAuth/approve,
//     or to the login form when anonymous; 302 back with code and state;
//     a declined consent redirects with error=unauthorized_client and no
//     state; bad clients, redirect URIs and response types get the real
//     HTML error page), /oauth2/access_token (authorization_code with PKCE
//     plain or S256, refresh_token with rotation that revokes the old
//     access and refresh tokens at once, client_credentials for owner-only
//     clients; credentials in the body or HTTP Basic; the transcripts'
//     error bodies and statuses), RS256 access tokens with fractional
//     iat/nbf/exp, /oauth2/resource/profile and /scopes, /v1/page, and
//     bearer tokens on api.php. WithRefreshGracePeriod adds the newest
//     development versions' grace period.
//
// Where MediaWiki 1.39 and 1.43 differ, the fake behaves as 1.43 unless
// WithVersion(MW139) is given. Its bodies were checked byte for byte
// against transcripts of both releases.
//
// # Quick start
//
//	func TestLogin(t *testing.T) {
//		wiki := mwoauthtest.Start(t)            // closed when the test ends
//		c := wiki.Consumer()                    // approved, callback prefix http://127.0.0.1:5000/oauth-callback
//		cfg := &oauth1.Config{Wiki: wiki.ScriptPath(), ConsumerKey: c.Key,
//			ConsumerSecret: c.Secret, UserAgent: "test/1.0", HTTPClient: wiki.Client()}
//		rt, _ := cfg.RequestToken(ctx)
//		cb, _ := wiki.Authorize(ctx, cfg.AuthorizationURL(rt), "Alice", mwoauthtest.DefaultPassword)
//		at, _ := cfg.AccessToken(ctx, rt, cb.Query().Get("oauth_token"), cb.Query().Get("oauth_verifier"))
//		id, _ := cfg.Identify(ctx, at)          // id.Username == "Alice"
//	}
//
// For an app's own end-to-end test, LoginApp logs a user in through the
// app's /login and the wiki's pages and returns a client with the app's
// session cookie.
//
// # Defaults
//
// Users Admin (id 1, sysop, password "AdminPass-12345") and Alice (id 3,
// password DefaultPassword, email alice@example.org); one approved
// consumer (Consumer) with the grants basic, highvolume, editpage and
// createeditmovepage and the callback DefaultCallback as a prefix, with a
// random key and secret; a confidential and a public OAuth 2 client
// (OAuth2Client) with the same grants and DefaultCallback as redirect URI;
// 25 pages ("Main Page" and "Test page 01" to 24).
// WithoutDefaults starts empty (but for the pages).
//
// # Scripting
//
// AddUser, AddConsumer (prefix, non-prefix, identity-only,
// owner-only, Proposed), AddAccessToken, Revoke, AddPage, Advance/SetTime/
// WithTime (the fake's clock), FailNext (latency, 5xx HTML, truncated or
// oversized bodies, redirects, connection resets) and Requests (a counter
// per Endpoint, to assert that the wiki was or was not called). All methods
// are safe for concurrent use.
package mwoauthtest
