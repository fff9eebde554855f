package oauth1

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/wikiauth/mwoauth/internal/jwths"
)

// Identity is the verified content of the identify JWT.
type Identity struct {
	Issuer         string // the wiki's canonical server
	Subject        string // central user id, as a decimal string; key accounts by (Issuer, Subject)
	Username       string // "" for a hidden user; may change on rename
	EditCount      int
	ConfirmedEmail bool
	Blocked        bool
	EmailVerified  *bool  // sent by MediaWiki 1.43 and later only
	Registered     string // YYYYMMDDhhmmss as sent ("" if null or absent)
	Groups         []string
	Rights         []string
	Grants         []string
	Email          string // only with the private-info grant
	RealName       string // only with the private-info grant
	IssuedAt       time.Time
	Expiry         time.Time
	// Extra holds the claims not listed above, as sent.
	Extra map[string]json.RawMessage
}

// known are the claims mapped to Identity fields (or checked and dropped).
var known = map[string]bool{
	"iss": true, "aud": true, "exp": true, "iat": true, "nonce": true, "sub": true,
	"username": true, "editcount": true, "confirmed_email": true, "blocked": true,
	"email_verified": true, "registered": true, "groups": true, "rights": true,
	"grants": true, "email": true, "realname": true,
}

func (c *Config) verifyIdentity(jwt, nonce string, e *endpoints) (*Identity, error) {
	cl, err := jwths.Verify(jwt, jwths.Options{
		Key:      []byte(c.ConsumerSecret),
		Issuer:   c.issuer(e),
		Audience: c.ConsumerKey,
		Nonce:    nonce,
		Now:      c.now(),
		Leeway:   c.Leeway,
	})
	if err != nil {
		var je *jwths.Error
		if !errors.As(err, &je) {
			return nil, &IdentityError{Reason: "malformed", Err: err}
		}
		if je.Skew > 0 {
			return nil, &IdentityError{Reason: je.Reason, Err: &ClockSkewError{Offset: je.Skew}}
		}
		return nil, &IdentityError{Reason: je.Reason, Err: err}
	}
	id := &Identity{Issuer: cl.Issuer, Subject: cl.Subject, IssuedAt: cl.IssuedAt, Expiry: cl.Expiry}
	bad := func(claim string) error {
		return &IdentityError{Reason: "claims", Err: fmt.Errorf("oauth1: claim %q has an unexpected type", claim)}
	}
	fields := []struct {
		name string
		dst  any
	}{
		{"username", &id.Username}, {"editcount", &id.EditCount},
		{"confirmed_email", &id.ConfirmedEmail}, {"blocked", &id.Blocked},
		{"email_verified", &id.EmailVerified}, {"registered", &id.Registered},
		{"groups", &id.Groups}, {"rights", &id.Rights},
		{"email", &id.Email}, {"realname", &id.RealName},
	}
	for _, f := range fields {
		raw, ok := cl.Raw[f.name]
		if !ok || string(raw) == "null" {
			continue
		}
		if json.Unmarshal(raw, f.dst) != nil {
			return nil, bad(f.name)
		}
	}
	if raw, ok := cl.Raw["grants"]; ok && string(raw) != "null" {
		g, err := grants(raw)
		if err != nil {
			return nil, bad("grants")
		}
		id.Grants = g
	}
	for k, v := range cl.Raw {
		if !known[k] {
			if id.Extra == nil {
				id.Extra = map[string]json.RawMessage{}
			}
			id.Extra[k] = v
		}
	}
	return id, nil
}

// grants accepts a JSON list of strings, or an object with numeric keys
// (seen in one configuration), ordered by key.
func grants(raw json.RawMessage) ([]string, error) {
	var list []string
	if err := json.Unmarshal(raw, &list); err == nil {
		return list, nil
	}
	var obj map[string]string
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, err
	}
	type kv struct {
		n int
		v string
	}
	items := make([]kv, 0, len(obj))
	for k, v := range obj {
		n, err := strconv.Atoi(k)
		if err != nil || n < 0 {
			return nil, errors.New("grants: non-numeric key")
		}
		items = append(items, kv{n, v})
	}
	sort.Slice(items, func(i, j int) bool { return items[i].n < items[j].n })
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.v
	}
	return out, nil
}
