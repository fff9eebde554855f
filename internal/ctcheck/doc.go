// Package ctcheck holds a static check, run as a test, that secrets are
// never compared with == or != (SECURITY.md §I "Timing"): state, nonces,
// pending tokens, verifiers, MACs and signatures go through
// crypto/subtle or hmac.Equal.
package ctcheck
