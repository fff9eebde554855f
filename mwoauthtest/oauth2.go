package mwoauthtest

import "net/http"

// oauth2State holds the OAuth 2 side of the wiki (issue 6).
type oauth2State struct{}

func (s *Server) addOAuth2ClientLocked(c *Consumer) {}

func (s *Server) revokeOAuth2Locked(user, consumerKey string) {}

func (s *Server) routeREST(r *http.Request, path string, body []byte) (Endpoint, http.HandlerFunc) {
	return EndpointREST, http.NotFound
}

func (s *Server) handleApprove(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) }

// verifyBearer checks an OAuth 2 access token. Callers hold s.mu. text is
// the error ("" when valid).
func (s *Server) verifyBearer(tok string) (u *User, c *Consumer, scope []string, key, text string) {
	return nil, nil, nil, "", "Invalid access token"
}
