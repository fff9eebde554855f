// Package oauth1 is an OAuth 1.0a client ([RFC 5849]) for MediaWiki's
// Extension:OAuth: the three-legged handshake, identity verification and
// signing of Action API calls. It uses only the standard library.
//
// # The handshake
//
// A [Config] describes one consumer of one wiki. The login takes four steps:
//
//  1. [Config.RequestToken] calls Special:OAuth/initiate and returns a
//     request token; keep it (key and secret) bound to the user's browser.
//  2. Send the browser to [Config.AuthorizationURL].
//  3. The wiki redirects to the callback with oauth_token and
//     oauth_verifier; [Config.AccessToken] checks that oauth_token is the
//     request token (constant time) and exchanges it for an access token.
//  4. [Config.Identify] calls Special:OAuth/identify and verifies the HS256
//     JWT it returns (algorithm pinned, MAC with the consumer secret, iss,
//     aud, iat/exp with a small leeway, the request's own nonce, sub).
//
// Then [Config.Client] or [Config.Transport] sign every API request with
// the access token.
//
// # RSA-SHA1
//
// A consumer registered with a public RSA key signs with [RSASHA1] as
// Config.Signer (RFC 5849 §3.4.3). Its signatures use neither the consumer
// secret nor token secrets, and the token step answers the token secret
// "__unused__", which works as any other. Identify still needs
// ConsumerSecret: MediaWiki gives every consumer a secret at registration
// and signs the identify JWT (HS256) with it, RSA or not.
//
// All endpoints are addressed as index.php?title=Special:OAuth/<step>, the
// only form MediaWiki signs reliably, and requests ask for format=json.
//
// # Errors
//
// MediaWiki reports OAuth errors with HTTP 200, as JSON
// {"error":KEY,"message":TEXT} or as text "Error: TEXT". Both become an
// [*Error] whose Message is plain text (HTML removed, capped) and which
// matches a sentinel with errors.Is: [ErrConsumerRejected],
// [ErrInvalidSignature], [ErrCallbackNotAllowed], [ErrRequestTokenUsed],
// [ErrRequestTokenNotFound], [ErrBadVerifier], [ErrBadToken],
// [ErrClockSkew] (with a [*ClockSkewError] holding the offset),
// [ErrNonceReused], [ErrAccessTokenNotFound], [ErrOwnerOnly]. Transport and
// server failures are [*HTTPError] values ([ErrWikiUnavailable],
// [ErrUnexpectedRedirect]); a refused identity is an [*IdentityError]
// ([ErrIdentityInvalid]).
//
// # Security notes
//
//   - Signed requests never follow redirects: a 3xx is an error that names
//     the Location (without its query), and nothing is sent there.
//   - Responses are read through a limit (1 MiB; 64 KiB for identify).
//   - Error strings never contain secrets, verifiers or tokens; [Token]
//     redacts itself in fmt and log/slog output.
//   - Nonces are 16 bytes from crypto/rand; if that fails, nothing is sent.
//   - [Config.Sign] refuses a request that repeats a parameter name
//     ([ErrDuplicateParam]), because MediaWiki merges repeated names and
//     the signature would fail. The lower-level [NormalizeParameters]
//     follows the RFC and keeps repeats.
//   - The Wiki URL must use https, except on loopback hosts.
//
// [RFC 5849]: https://www.rfc-editor.org/rfc/rfc5849
package oauth1
