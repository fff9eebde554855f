// Package integration holds tests that put mwoauth together with other
// software (routers such as chi), kept in a module of its own so that their
// dependencies stay out of the core go.mod.
package integration
