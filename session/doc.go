// Package session keeps browser sessions for mwoauth: opaque, sealed bytes in
// an encrypted cookie (the default) or in a server-side [Store].
//
// The package knows nothing of users or tokens; the mwoauth package decides
// what a session holds. A [Manager] does what every mode shares: 256-bit
// random session ids, hashing ids before any store sees them, sealing values
// with the application's keys (newest first, for rotation), expiry, cookie
// attributes, and a new id at login against session fixation.
package session
