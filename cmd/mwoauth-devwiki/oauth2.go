package main

import "github.com/wikiauth/mwoauth/mwoauthtest"

// defaultOAuth2Clients adds the default OAuth 2 clients: a confidential and
// a public one, both redirecting to the demo's default callback.
func defaultOAuth2Clients(s *mwoauthtest.Server) []*mwoauthtest.Consumer {
	grants := []string{"basic", "highvolume", "editpage", "createeditmovepage"}
	return []*mwoauthtest.Consumer{
		s.AddConsumer(mwoauthtest.Consumer{Name: "devwiki-oauth2", Version: 2, Confidential: true,
			Callback: mwoauthtest.DefaultCallback, Grants: grants}),
		s.AddConsumer(mwoauthtest.Consumer{Name: "devwiki-oauth2-public", Version: 2,
			Callback: mwoauthtest.DefaultCallback, Grants: grants}),
	}
}
