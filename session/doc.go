// Package session keeps browser sessions for mwoauth: opaque, sealed bytes in
// an encrypted cookie (the default) or in a server-side [Store].
//
// The package knows nothing of users or tokens; the mwoauth package decides
// what a session holds. A [Manager] does what every mode shares: 256-bit
// random session ids, hashing ids before any store sees them, sealing values
// with the application's keys (newest first, for rotation), expiry, cookie
// attributes, and a new id at login against session fixation.
//
// # Use
//
// Per request: [Manager.Load] the session, read or change it with
// [Session.Data] and [Session.SetData], call [Session.Renew] at login and
// [Session.Destroy] at logout, and [Manager.Save] it before the response
// headers are written. Load never fails for bad input: a missing, tampered,
// expired, renamed or foreign cookie gives a new, empty session, and Save
// then clears that cookie. Save writes only what changed.
//
// Pending logins (the OAuth 1 request token secret, or the OAuth 2 PKCE
// verifier, and the return path) are kept apart from the session:
// [Manager.PutPending] at /login and [Manager.TakePending] at the callback,
// keyed by the request token or the OAuth 2 state. They are bound to the
// browser, single-use, live at most 10 minutes, and a browser holds at most
// a few (the oldest is evicted).
//
// # Modes
//
// Client-side (Config.Store nil): the whole session is sealed with
// AES-256-GCM into one cookie, whose Set-Cookie line is kept within 4096
// bytes ([ErrTooLarge] otherwise; the cookie is never dropped silently), so
// a session holds about 3 KB of data. Each pending login is its own small
// sealed cookie. Logging out expires the cookie, but a copy of the cookie
// taken before stays valid until the session's absolute lifetime (MaxAge)
// ends, and a copied pending-login cookie can be presented again within its
// 10 minutes (MediaWiki's request tokens and codes are single-use, which
// stops a second exchange).
//
// Store mode: the cookie holds only a sealed random id; the session is
// stored under SHA-256(id) (hex), sealed with the same keys so that whoever
// can read the store (other tenants of a shared Redis) learns nothing
// useful. Saves are compare-and-set on a version: a concurrent change fails
// with [ErrConflict], and [Manager.Reload] re-reads the session. Destroy
// deletes the record, so a copied cookie dies with it. Pending logins live
// in the store too (a callback may reach another instance), under
// SHA-256(browser binding id, handle), and are taken atomically.
//
// # Cookies
//
// Every cookie is HttpOnly, SameSite=Lax (Strict would drop the cookie on
// the cross-site callback from the wiki), Path=/, without Domain, with an
// explicit Max-Age; with Config.Secure it is Secure and named with the
// "__Host-" prefix. Responses that set one also get Cache-Control: no-store
// and Vary: Cookie. The pending-login cookies are named
// <CookieName>.p.<hash of the handle> and the store mode's browser binding
// <CookieName>.b.
//
// # Keys
//
// Config.Keys are 32 random bytes each, newest first. To rotate, prepend a
// new key: sessions sealed with an older key keep working and are re-sealed
// with the newest at their next Save; drop the old key once MaxAge has
// passed. Keys must survive restarts (read them from a secret file):
// random keys per start log everybody out.
package session
