package mwoauthtest

import (
	"strings"
	"time"
)

// aliceRegistered is Alice's registration time in the 1.43 transcripts.
var aliceRegistered = time.Date(2026, 12, 4, 14, 21, 23, 0, time.UTC)

// seed adds the default users, consumers and pages.
func (s *Server) seed() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addPageLocked("Main Page", "MediaWiki has been installed.")
	for i := 1; i <= 24; i++ {
		s.addPageLocked("Test page "+twoDigits(i), "Test page.")
	}
	if s.noDefaults {
		return
	}
	s.addUserLocked(User{Name: "Admin", ID: 1, Password: "AdminPass-12345", Groups: []string{"sysop", "bureaucrat", "interface-admin"}, Email: "admin@example.org", Registered: aliceRegistered})
	s.addUserLocked(User{Name: "Alice", ID: 3, Password: DefaultPassword, Email: "alice@example.org", Registered: aliceRegistered})
	c := s.addConsumerLocked(Consumer{
		Name:             "mwoauthtest",
		Callback:         DefaultCallback,
		CallbackIsPrefix: true,
		Grants:           []string{"basic", "highvolume", "editpage", "createeditmovepage"},
	})
	s.defaultKey = c.Key
	grants := []string{"basic", "highvolume", "editpage", "createeditmovepage"}
	s.default2 = s.addConsumerLocked(Consumer{Name: "mwoauthtest-oauth2", Version: 2, Confidential: true, Callback: DefaultCallback, Grants: grants}).Key
	s.default2Public = s.addConsumerLocked(Consumer{Name: "mwoauthtest-oauth2-public", Version: 2, Callback: DefaultCallback, Grants: grants}).Key
}

// OAuth2Client returns a copy of a default OAuth 2 client: confidential
// (with a secret) or public (none, PKCE required), redirect URI
// DefaultCallback, grants basic, highvolume, editpage, createeditmovepage.
// It is nil with WithoutDefaults.
func (s *Server) OAuth2Client(confidential bool) *Consumer {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := s.default2Public
	if confidential {
		k = s.default2
	}
	if c := s.consumers[k]; c != nil {
		return c.clone()
	}
	return nil
}

func twoDigits(i int) string {
	return string([]byte{byte('0' + i/10%10), byte('0' + i%10)})
}

// AddUser adds u (replacing a user of the same name) and returns a copy
// with its defaults filled in: ID, Password (random if empty), Registered.
func (s *Server) AddUser(u User) *User {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addUserLocked(u).clone()
}

func (s *Server) addUserLocked(u User) *User {
	nu := u.clone()
	if nu.Name == "" {
		nu.Name = "User" + randHex(6)
	}
	nu.Name = strings.ReplaceAll(nu.Name, "_", " ")
	if old := s.users[nu.Name]; old != nil && nu.ID == 0 {
		nu.ID = old.ID
	}
	if nu.ID == 0 {
		nu.ID = s.nextUserID
	}
	if nu.ID >= s.nextUserID {
		s.nextUserID = nu.ID + 1
	}
	if nu.Password == "" {
		nu.Password = randHex(20)
	}
	if nu.Registered.IsZero() {
		nu.Registered = s.now().UTC().Truncate(time.Second)
	}
	s.users[nu.Name] = nu
	return nu
}

// User returns a copy of the named user, or nil.
func (s *Server) User(name string) *User {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u := s.users[name]; u != nil {
		return u.clone()
	}
	return nil
}

// AddConsumer registers c (replacing one with the same key) and returns a
// copy with its defaults filled in: Key and Secret (random if empty),
// Owner ("Admin"), Version (1), and for an owner-only consumer its access
// token (OAuth 1: AccessKey/AccessSecret; OAuth 2: AccessToken).
func (s *Server) AddConsumer(c Consumer) *Consumer {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addConsumerLocked(c).clone()
}

func (s *Server) addConsumerLocked(c Consumer) *Consumer {
	nc := c.clone()
	if nc.Version == 0 {
		nc.Version = 1
	}
	if nc.Name == "" {
		nc.Name = "consumer-" + randHex(8)
	}
	if nc.Key == "" {
		nc.Key = randHex(32)
	}
	if nc.Secret == "" && (nc.Version == 1 || nc.Confidential || nc.OwnerOnly) {
		nc.Secret = randHex(40)
	}
	if nc.Owner == "" {
		nc.Owner = "Admin"
	}
	if nc.Grants == nil {
		nc.Grants = []string{"basic"}
	}
	if nc.OwnerOnly && nc.Version == 1 {
		if nc.AccessKey == "" {
			nc.AccessKey = randHex(32)
		}
		if nc.AccessSecret == "" {
			nc.AccessSecret = randHex(40)
		}
		at := &accessToken{key: nc.AccessKey, secret: nc.AccessSecret, consumer: nc.Key, user: nc.Owner}
		s.accTokens[at.key] = at
		s.grants[nc.Key+"|"+nc.Owner] = at
	}
	if _, ok := s.consumers[nc.Key]; !ok {
		s.consumerList = append(s.consumerList, nc.Key)
	}
	s.consumers[nc.Key] = nc
	if nc.Version == 2 {
		s.addOAuth2ClientLocked(nc)
	}
	return nc
}

// Consumer returns a copy of the default consumer: approved, callback
// DefaultCallback as a prefix, grants basic, highvolume, editpage,
// createeditmovepage. It is nil with WithoutDefaults.
func (s *Server) Consumer() *Consumer {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.consumers[s.defaultKey]; c != nil {
		return c.clone()
	}
	return nil
}

// LookupConsumer returns a copy of the consumer with the given key, or nil.
func (s *Server) LookupConsumer(key string) *Consumer {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.consumers[key]; c != nil {
		return c.clone()
	}
	return nil
}

// Consumers returns copies of all consumers in the order they were added.
func (s *Server) Consumers() []*Consumer {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*Consumer, 0, len(s.consumerList))
	for _, k := range s.consumerList {
		out = append(out, s.consumers[k].clone())
	}
	return out
}

// Users returns copies of all users, sorted by id.
func (s *Server) Users() []*User {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*User, 0, len(s.users))
	for _, u := range s.users {
		out = append(out, u.clone())
	}
	for i := 1; i < len(out); i++ { // insertion sort: few users
		for j := i; j > 0 && out[j].ID < out[j-1].ID; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// AddAccessToken records that user approved the consumer, with the given
// OAuth 1 access token (for replaying transcripts, or skipping the
// handshake in a test).
func (s *Server) AddAccessToken(user, consumerKey, key, secret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	at := &accessToken{key: key, secret: secret, consumer: consumerKey, user: user}
	if old := s.grants[consumerKey+"|"+user]; old != nil {
		delete(s.accTokens, old.key)
	}
	s.accTokens[key] = at
	s.grants[consumerKey+"|"+user] = at
}

// Revoke withdraws the user's grant to the consumer, as the user does on
// Special:OAuthManageMyGrants: its OAuth 1 access token and OAuth 2 tokens
// stop working.
func (s *Server) Revoke(user, consumerKey string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.revokeLocked(user, consumerKey)
}

func (s *Server) revokeLocked(user, consumerKey string) {
	gk := consumerKey + "|" + user
	if at := s.grants[gk]; at != nil {
		delete(s.accTokens, at.key)
		delete(s.grants, gk)
	}
	s.revokeOAuth2Locked(user, consumerKey)
}
