// Package mwoauth logs the users of a Go web application in with their
// MediaWiki account, through Extension:OAuth (Wikipedia, Wikimedia Commons,
// Wikidata, Toolforge tools, any MediaWiki with the extension), and calls the
// wiki's Action API as them.
//
// # Quick start
//
//	auth, err := mwoauth.New(mwoauth.Config{
//		Wiki:           "https://meta.wikimedia.org/w",
//		ConsumerKey:    os.Getenv("MWOAUTH_CONSUMER_KEY"),
//		ConsumerSecret: os.Getenv("MWOAUTH_CONSUMER_SECRET"),
//		CallbackURL:    "https://mytool.toolforge.org/oauth-callback",
//		UserAgent:      "MyTool/1.0 (https://mytool.toolforge.org; me@example.org)",
//		SessionKeys:    [][]byte{key}, // 32 random bytes, kept secret and stable
//	})
//	if err != nil {
//		log.Fatal(err)
//	}
//	mux := http.NewServeMux()
//	mux.Handle("/edit", auth.RequireLogin(editHandler))
//	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
//		if u, ok := mwoauth.UserFromContext(r.Context()); ok {
//			fmt.Fprintf(w, "Hello, %s!", u.Username)
//			return
//		}
//		fmt.Fprintf(w, `<a href="/login?next=/">Log in</a>`)
//	})
//	log.Fatal(http.ListenAndServe(":8000", auth.Wrap(mux)))
//
// [Auth.Wrap] serves /login (?next=/path returns there), /logout and
// /oauth-callback, and loads the session for every other request. In a
// handler, [UserFromContext] and [Auth.CurrentUser] say who is logged in, and
// [Auth.Request] calls api.php as that user.
//
// # OAuth 2.0
//
// Set ClientID (and ClientSecret for a confidential client; none for a
// public one) instead of ConsumerKey, and CallbackURL to the client's
// registered redirect URI. Logins use rest.php/oauth2/authorize with a
// random single-use state bound to the browser and PKCE S256 always; the
// identity comes from rest.php/oauth2/resource/profile. Access tokens are
// refreshed shortly before they expire and once after the wiki refuses one,
// one refresh per session at a time; every rotated refresh token is written
// back to the session. MediaWiki revokes the old tokens at each refresh, so an
// app that runs on several instances with OAuth 2.0 needs a server-side
// session store (New logs a warning with the cookie store). A refresh the wiki
// refuses ends the session: RequireLogin sends the user to log in again.
//
// # Bots and scripts
//
// Owner-only consumers need no handshake: [OwnerOnlyOAuth1] (four values),
// [OwnerOnlyOAuth2] (a fixed bearer token) and [ClientCredentials] return a
// ready [mwapi.Client].
//
// # Sessions
//
// By default the session (the user's access token and identity) lives in an
// AES-GCM encrypted, authenticated cookie, sealed with Config.SessionKeys.
// Apps that run on several machines, or whose sessions outgrow a 4 KB cookie,
// use a server-side [session.Store]. Changes to the session made while a
// handler runs (a revoked token ending the session) are saved just before the
// response headers go out: call CurrentUser and Request before writing the
// response. A copied cookie stays valid until its Max-Age even after logout;
// logout does not revoke the grant at the wiki (users do that at
// Special:OAuthManageMyGrants).
//
// # Security
//
// The next parameter is accepted only as a path on the application's own
// origin; anything else falls back to Config.DefaultNext. Every login is bound
// to the browser that started it (a sealed, single-use, 10-minute pending
// login) and its callback is compared in constant time. The identify JWT is
// verified in full (HS256 pinned, iss, aud, iat, exp, nonce). Logging in
// renews the session id. /logout acts at once only on same-origin requests
// and shows a confirmation form otherwise. Error pages show a generic message;
// details go to Config.Logger, never with tokens or secrets. The request's
// Host and X-Forwarded-* headers are never used.
//
// The package mwoauthtest is a fake wiki for tests, shaped like
// net/http/httptest.
package mwoauth
