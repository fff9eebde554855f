package mwoauth

// newOAuth2Flow returns the OAuth 2.0 side of the login.
func newOAuth2Flow(a *Auth) (flow, error) {
	return nil, configErr("OAuth 2.0 is not available yet in this version; use OAuth 1.0a (ConsumerKey/ConsumerSecret)")
}
