package mwoauthtest

import (
	"crypto/rsa"
	"log/slog"
	"slices"
	"time"
)

// User is an account on the fake wiki.
type User struct {
	// Name is the user name, e.g. "Alice". Required.
	Name string
	// Password is what the login form accepts. Empty means a random one,
	// readable from the *User that AddUser returns.
	Password string
	// ID is the central user id (the JWT's sub). Zero means the next free one.
	ID int
	// Groups are the explicit groups, e.g. "sysop"; the implicit "*",
	// "user" and "autoconfirmed" are always added.
	Groups []string
	// Rights, when not nil, replaces the rights that follow from the groups
	// (in identify's order).
	Rights []string
	// Blocked marks the user as blocked (identify: "blocked": true).
	Blocked bool
	// Hidden marks a suppressed user: identify shows only sub and blocked.
	Hidden bool
	// Email and RealName are shown with the private-info grant.
	Email    string
	RealName string
	// EmailUnconfirmed clears confirmed_email and email_verified.
	EmailUnconfirmed bool
	// EditCount is the starting edit count; each API edit adds one.
	EditCount int
	// Registered is the registration time; zero means the server's time
	// when the user is added.
	Registered time.Time
}

// String keeps the password out of logs and %v.
func (u User) String() string { return "mwoauthtest.User{" + u.Name + "}" }

// LogValue keeps the password out of slog output.
func (u User) LogValue() slog.Value { return slog.StringValue(u.String()) }

// Consumer is a registered OAuth application ("consumer" in Extension:OAuth).
// OAuth 1 consumers use Key and Secret; OAuth 2 clients (Version 2) use the
// same values as ClientID and ClientSecret, as MediaWiki does.
type Consumer struct {
	// Name is the application name shown on the consent page.
	Name string
	// Version is the OAuth version: 1 (the zero value means 1) or 2.
	Version int
	// Key is the consumer key (OAuth 2: the client id). Empty means random.
	Key string
	// Secret is the consumer secret (OAuth 2: the client secret). Empty
	// means random; every OAuth 1 consumer has one, RSA or not, as
	// MediaWiki issues one at registration (it signs the identify JWT).
	// A public OAuth 2 client has none.
	Secret string
	// RSAPublicKey, when set, makes this an RSA-SHA1 OAuth 1 consumer: its
	// RSA-SHA1 signatures are verified with this key and the token step
	// answers the token secret "__unused__".
	RSAPublicKey *rsa.PublicKey
	// Callback is the registered callback URL (OAuth 2: the redirect URI).
	Callback string
	// CallbackIsPrefix accepts any callback under Callback (OAuth 1).
	CallbackIsPrefix bool
	// Grants are the grants the consumer may use, e.g. "basic", "editpage",
	// or "mwoauth-authonly" / "mwoauth-authonlyprivate" for identity only.
	Grants []string
	// OwnerOnly makes an owner-only consumer: no handshake, a fixed access
	// token for Owner (OAuth 1: AccessKey and AccessSecret; OAuth 2:
	// AccessToken).
	OwnerOnly bool
	// Owner is the user who registered the consumer ("Admin" if empty).
	Owner string
	// Proposed leaves the consumer in the "proposed" stage (not approved):
	// it works for its owner only. The zero value is an approved consumer.
	Proposed bool
	// AccessKey and AccessSecret are an owner-only OAuth 1 consumer's
	// access token (random if empty).
	AccessKey, AccessSecret string

	// OAuth 2 (issue 6).

	// Confidential marks an OAuth 2 client that has a secret; public
	// clients must use PKCE.
	Confidential bool
	// OAuth2GrantTypes are the OAuth 2 grant types allowed; nil means
	// authorization_code and refresh_token (client_credentials for an
	// owner-only client).
	OAuth2GrantTypes []string
	// AccessToken is an owner-only OAuth 2 client's bearer token (set by
	// AddConsumer).
	AccessToken string
}

// String keeps the secrets out of logs.
func (c Consumer) String() string { return "mwoauthtest.Consumer{" + c.Name + " " + c.Key + "}" }

// LogValue keeps the secrets out of slog output.
func (c Consumer) LogValue() slog.Value { return slog.StringValue(c.String()) }

// ClientID returns the OAuth 2 client id (the consumer key).
func (c *Consumer) ClientID() string { return c.Key }

// ClientSecret returns the OAuth 2 client secret (the consumer secret).
func (c *Consumer) ClientSecret() string { return c.Secret }

// RedirectURI returns the OAuth 2 redirect URI (the callback).
func (c *Consumer) RedirectURI() string { return c.Callback }

func (c *Consumer) identityOnly() bool {
	for _, g := range c.Grants {
		if g != "mwoauth-authonly" && g != "mwoauth-authonlyprivate" {
			return false
		}
	}
	return true
}

func (c *Consumer) privateInfo() bool {
	return slices.Contains(c.Grants, "mwoauth-authonlyprivate")
}

func clone[T any](s []T) []T {
	if s == nil {
		return nil
	}
	return append([]T(nil), s...)
}

func (u *User) clone() *User {
	c := *u
	c.Groups = clone(u.Groups)
	c.Rights = clone(u.Rights)
	return &c
}

func (c *Consumer) clone() *Consumer {
	d := *c
	d.Grants = clone(c.Grants)
	d.OAuth2GrantTypes = clone(c.OAuth2GrantTypes)
	return &d
}

// Version selects which MediaWiki release the fake imitates where 1.39 and
// 1.43 differ (PROTOCOL.md "1.39 and 1.43").
type Version int

const (
	// MW143 is MediaWiki 1.43 (the default).
	MW143 Version = iota
	// MW139 is MediaWiki 1.39.
	MW139
)

// userRights is the rights list of a plain user (groups *, user,
// autoconfirmed) in the order identify lists them (oauth1-11).
func userRights(v Version) []string {
	if v == MW139 {
		return []string{"createaccount", "read", "edit", "createpage", "createtalk", "writeapi",
			"viewmywatchlist", "editmywatchlist", "viewmyprivateinfo", "editmyprivateinfo",
			"editmyoptions", "move", "move-subpages", "move-rootuserpages", "move-categorypages",
			"movefile", "upload", "reupload", "reupload-shared", "minoredit", "editmyusercss",
			"editmyuserjson", "editmyuserjs", "editmyuserjsredirect", "purge", "sendemail",
			"applychangetags", "changetags", "editcontentmodel", "mwoauthproposeconsumer",
			"mwoauthupdateownconsumer", "mwoauthmanagemygrants", "autoconfirmed", "editsemiprotected"}
	}
	return []string{"createaccount", "read", "edit", "createpage", "createtalk",
		"viewmyprivateinfo", "editmyprivateinfo", "editmyoptions", "move", "move-subpages",
		"move-rootuserpages", "move-categorypages", "movefile", "upload", "reupload",
		"reupload-shared", "minoredit", "editmyusercss", "editmyuserjson", "editmyuserjs",
		"editmyuserjsredirect", "sendemail", "applychangetags", "changetags", "editcontentmodel",
		"viewmywatchlist", "editmywatchlist", "mwoauthproposeconsumer", "mwoauthupdateownconsumer",
		"mwoauthmanagemygrants", "autoconfirmed", "editsemiprotected"}
}

// groupRights are the extra rights of some explicit groups.
var groupRights = map[string][]string{
	"sysop": {"block", "delete", "deletedhistory", "undelete", "editinterface", "editprotected",
		"import", "move-subpages", "patrol", "autopatrol", "protect", "rollback", "suppressredirect",
		"apihighlimits", "noratelimit", "markbotedits", "unwatchedpages", "ipblock-exempt",
		"mwoauthmanageconsumer"},
	"bot":             {"bot", "autopatrol", "apihighlimits", "noratelimit", "markbotedits", "nominornewtalk"},
	"bureaucrat":      {"userrights", "noratelimit"},
	"interface-admin": {"editsitecss", "editsitejson", "editsitejs", "editusercss", "edituserjson", "edituserjs"},
}

// anonRights are what anonymous API users have.
var anonRights = []string{"createaccount", "read", "edit", "createpage", "createtalk", "writeapi", "editmyusercss", "editmyuserjs"}

// grantRights maps a grant to the rights it allows ($wgGrantPermissions).
// A consumer's rights are the user's rights that some grant allows.
var grantRights = map[string][]string{
	"basic": {"autocreateaccount", "autoconfirmed", "autopatrol", "editsemiprotected",
		"ipblock-exempt", "nominornewtalk", "patrolmarks", "purge", "read", "unwatchedpages", "writeapi"},
	"highvolume":         {"bot", "apihighlimits", "noratelimit", "markbotedits"},
	"editpage":           {"edit", "minoredit", "applychangetags", "changetags", "editcontentmodel"},
	"editprotected":      {"edit", "minoredit", "applychangetags", "changetags", "editprotected"},
	"editmycssjs":        {"edit", "minoredit", "applychangetags", "changetags", "editmyusercss", "editmyuserjson", "editmyuserjs", "editmyuserjsredirect"},
	"editmyoptions":      {"editmyoptions", "editmyuserjson"},
	"editinterface":      {"edit", "minoredit", "applychangetags", "changetags", "editinterface", "editsitejson", "edituserjson"},
	"createeditmovepage": {"edit", "minoredit", "applychangetags", "changetags", "createpage", "createtalk", "writeapi", "move", "move-rootuserpages", "move-subpages", "move-categorypages", "suppressredirect"},
	"uploadfile":         {"upload", "reupload-own"},
	"uploadeditmovefile": {"upload", "reupload-own", "reupload", "reupload-shared", "upload_by_url", "movefile", "suppressredirect"},
	"patrol":             {"patrol"},
	"rollback":           {"rollback"},
	"blockusers":         {"block", "blockemail"},
	"viewdeleted":        {"browsearchive", "deletedhistory", "deletedtext"},
	"delete":             {"delete", "bigdelete", "deletelogentry", "deleterevision", "undelete"},
	"protect":            {"protect", "editprotected", "edit", "minoredit", "applychangetags", "changetags"},
	"viewmywatchlist":    {"viewmywatchlist"},
	"editmywatchlist":    {"editmywatchlist"},
	"sendemail":          {"sendemail"},
	"createaccount":      {"createaccount"},
	"privateinfo":        {"viewmyprivateinfo"},
	"editsiteconfig":     {"editinterface", "editsitecss", "editsitejson", "editsitejs"},
}

// rightsFor lists the user's rights in identify's order.
func rightsFor(u *User, v Version) []string {
	if u.Rights != nil {
		return clone(u.Rights)
	}
	r := userRights(v)
	for _, g := range u.Groups {
		for _, x := range groupRights[g] {
			if !slices.Contains(r, x) {
				r = append(r, x)
			}
		}
	}
	return r
}

// groupsFor lists the user's groups as identify does.
func groupsFor(u *User) []string {
	g := []string{"*", "user", "autoconfirmed"}
	for _, x := range u.Groups {
		if !slices.Contains(g, x) {
			g = append(g, x)
		}
	}
	return g
}

// filterRights keeps the rights that one of the grants allows.
func filterRights(rights, grants []string) []string {
	allowed := map[string]bool{}
	for _, g := range grants {
		for _, r := range grantRights[g] {
			allowed[r] = true
		}
	}
	out := []string{}
	for _, r := range rights {
		if allowed[r] {
			out = append(out, r)
		}
	}
	return out
}
