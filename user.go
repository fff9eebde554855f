package mwoauth

import (
	"context"
	"time"
)

// User is the wiki account of a logged-in user, as the wiki's identify
// endpoint (OAuth 1.0a) or profile endpoint (OAuth 2.0) describes it.
//
// Users are identified by (Issuer, ID), never by Username: user names can be
// renamed, the central user id cannot.
type User struct {
	// ID is the central user id ("sub"), as a decimal string.
	ID string `json:"id"`
	// Issuer is the wiki's canonical server that vouched for the identity.
	Issuer string `json:"issuer"`
	// Username is the user's current name.
	Username string `json:"username"`
	// Groups are the user's groups (e.g. "*", "user", "autoconfirmed").
	Groups []string `json:"groups,omitempty"`
	// Rights are the user's rights as identify lists them. With the default
	// cookie sessions the cached user (UserFromContext, CurrentUser(r, true))
	// has no Rights, to keep the cookie small; CurrentUser(r, false) always
	// has them.
	Rights []string `json:"rights,omitempty"`
	// Grants are the grants the user gave this consumer.
	Grants []string `json:"grants,omitempty"`
	// Blocked reports whether the user is blocked on the wiki.
	Blocked bool `json:"blocked"`
	// EditCount is the user's edit count.
	EditCount int `json:"editcount"`
	// Registered is when the account was registered (zero if unknown).
	Registered time.Time `json:"registered,omitzero"`
	// EmailConfirmed reports whether the user's e-mail address is confirmed.
	EmailConfirmed bool `json:"confirmed_email"`
	// Email and RealName are set only with the private-info grant
	// (mwoauth-authonlyprivate).
	Email    string `json:"email,omitempty"`
	RealName string `json:"realname,omitempty"`
	// Fetched is when the wiki last confirmed this identity.
	Fetched time.Time `json:"fetched,omitzero"`
}

// userKey is the context key of the user [Auth.Wrap] found in the session.
type userKey struct{}

// UserFromContext returns the logged-in user of a request that passed through
// [Auth.Wrap], as cached in the session (no wiki call). ok is false for
// anonymous requests and for requests that did not pass through Wrap.
func UserFromContext(ctx context.Context) (u *User, ok bool) {
	u, ok = ctx.Value(userKey{}).(*User)
	return u, ok && u != nil
}

func (u *User) clone() *User {
	if u == nil {
		return nil
	}
	c := *u
	c.Groups = append([]string(nil), u.Groups...)
	c.Rights = append([]string(nil), u.Rights...)
	c.Grants = append([]string(nil), u.Grants...)
	return &c
}

// minimal returns the part of u kept in a cookie session.
func (u *User) minimal() *User {
	c := u.clone()
	c.Rights = nil
	return c
}
