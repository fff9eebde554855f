package main

import "github.com/wikiauth/mwoauth/mwoauthtest"

// defaultOAuth2Clients adds the default OAuth 2 clients (issue 6).
func defaultOAuth2Clients(s *mwoauthtest.Server) []*mwoauthtest.Consumer { return nil }
