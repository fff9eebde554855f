package mwoauthtest

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// OAuth 2 lifetimes (Extension:OAuth defaults).
const (
	authCodeTTL     = 10 * time.Minute
	accessTokenTTL  = time.Hour
	refreshTokenTTL = 30 * 24 * time.Hour
	ownerOnlyTTL    = 200 * 365 * 24 * time.Hour // "never expires"
	maxOAuth2Tokens = 100000
)

// WithRSAKey sets the key that signs OAuth 2 access tokens (default: a
// 2048-bit key made once per process).
func WithRSAKey(k *rsa.PrivateKey) Option { return func(s *Server) { s.rsaKey = k } }

// oauth2State holds the OAuth 2 side of the wiki.
type oauth2State struct {
	codes     map[string]*authCode
	access    map[string]*o2access // by jti
	refresh   map[string]*o2refresh
	approvals map[string][]string // client|user → approved scopes
}

type authCode struct {
	client, user, redirectURI, state string
	scopes                           []string
	challenge, method                string
	expires                          time.Time
	used                             bool
}

type o2access struct {
	jti, client, user string
	scopes            []string
	notBefore         time.Time
	expires           time.Time
	revoked           bool
}

type o2refresh struct {
	client, user string
	scopes       []string
	accessJTI    string
	expires      time.Time
	revokedAt    time.Time
}

func (s *Server) o2() *oauth2State {
	if s.oauth2 == nil {
		s.oauth2 = &oauth2State{codes: map[string]*authCode{}, access: map[string]*o2access{},
			refresh: map[string]*o2refresh{}, approvals: map[string][]string{}}
	}
	return s.oauth2
}

// sharedKey is the default signing key, made once per process and then
// never changed: generating a 2048-bit key for every test server would
// make test suites slow (seconds under -race). Tokens of one server are
// still unknown to another (each keeps its own token table).
var sharedKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic("mwoauthtest: generating the RSA key: " + err.Error())
	}
	return k
})

func (s *Server) key() *rsa.PrivateKey {
	if s.rsaKey == nil {
		s.rsaKey = sharedKey()
	}
	return s.rsaKey
}

// OAuth2PublicKey returns the public key that verifies the fake's OAuth 2
// access tokens (RS256).
func (s *Server) OAuth2PublicKey() *rsa.PublicKey {
	s.mu.Lock()
	defer s.mu.Unlock()
	return &s.key().PublicKey
}

// addOAuth2ClientLocked gives an owner-only client its fixed token.
func (s *Server) addOAuth2ClientLocked(c *Consumer) {
	if c.OAuth2GrantTypes == nil {
		if c.OwnerOnly {
			c.OAuth2GrantTypes = []string{"client_credentials"}
		} else {
			c.OAuth2GrantTypes = []string{"authorization_code", "refresh_token"}
		}
	}
	if c.OwnerOnly && c.AccessToken == "" {
		c.AccessToken = s.issueAccess(c, c.Owner, clone(c.Grants), ownerOnlyTTL).token
	}
}

func (s *Server) revokeOAuth2Locked(user, clientID string) {
	o := s.o2()
	for _, a := range o.access {
		if a.client == clientID && a.user == user {
			a.revoked = true
		}
	}
	for _, r := range o.refresh {
		if r.client == clientID && r.user == user && r.revokedAt.IsZero() {
			r.revokedAt = s.now()
		}
	}
	delete(o.approvals, clientID+"|"+user)
}

type issued struct {
	token string
	jti   string
}

// phpFloat is a PHP microtime float as Extension:OAuth puts it in iat, nbf
// and exp.
func phpFloat(t time.Time) rawJSON {
	return rawJSON(strconv.FormatFloat(float64(t.UnixMicro())/1e6, 'f', -1, 64))
}

// issueAccess makes an RS256 access token as Extension:OAuth does.
// Callers hold s.mu.
func (s *Server) issueAccess(c *Consumer, user string, scopes []string, ttl time.Duration) issued {
	o := s.o2()
	s.pruneOAuth2()
	u := s.users[user]
	sub := "0"
	if u != nil {
		sub = strconv.Itoa(u.ID)
	}
	now := s.now()
	jti := randHex(80)
	claims := obj{
		{"aud", c.Key}, {"jti", jti}, {"iat", phpFloat(now)}, {"nbf", phpFloat(now.Add(time.Microsecond))},
		{"exp", phpFloat(now.Add(ttl))}, {"sub", sub}, {"iss", s.canonicalServer()}, {"scopes", clone(scopes)},
	}
	enc := base64.RawURLEncoding
	signing := enc.EncodeToString([]byte(`{"typ":"JWT","alg":"RS256"}`)) + "." + enc.EncodeToString(phpJSON(claims, jsonOpts{}))
	h := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(rand.Reader, s.key(), crypto.SHA256, h[:])
	if err != nil {
		panic("mwoauthtest: RS256 signing: " + err.Error())
	}
	o.access[jti] = &o2access{jti: jti, client: c.Key, user: user, scopes: clone(scopes), notBefore: now, expires: now.Add(ttl)}
	return issued{token: signing + "." + enc.EncodeToString(sig), jti: jti}
}

// pruneOAuth2 forgets expired codes and tokens once there are many.
func (s *Server) pruneOAuth2() {
	o := s.o2()
	if len(o.access)+len(o.refresh)+len(o.codes) < maxOAuth2Tokens {
		return
	}
	now := s.now()
	for k, v := range o.codes {
		if now.After(v.expires) {
			delete(o.codes, k)
		}
	}
	for k, v := range o.access {
		if now.After(v.expires) {
			delete(o.access, k)
		}
	}
	for k, v := range o.refresh {
		if now.After(v.expires) {
			delete(o.refresh, k)
		}
	}
}

// bearerError is the hint of a refused bearer token.
func (s *Server) checkBearer(tok string) (*o2access, string) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return nil, "The JWT string must have two dots"
	}
	enc := base64.RawURLEncoding
	head, err1 := enc.DecodeString(parts[0])
	body, err2 := enc.DecodeString(parts[1])
	sig, err3 := enc.DecodeString(parts[2])
	var claims struct {
		JTI string `json:"jti"`
	}
	if err1 != nil || err2 != nil || err3 != nil || !json.Valid(head) || json.Unmarshal(body, &claims) != nil {
		return nil, "Error while decoding from Base64Url, invalid base64 characters detected"
	}
	h := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if string(head) != `{"typ":"JWT","alg":"RS256"}` || rsa.VerifyPKCS1v15(&s.key().PublicKey, crypto.SHA256, h[:], sig) != nil {
		return nil, "Access token could not be verified"
	}
	a := s.o2().access[claims.JTI]
	if a == nil {
		return nil, "Access token has been revoked"
	}
	// League checks the time constraints (exp, nbf) before revocation.
	if now := s.now(); !now.Before(a.expires) || now.Before(a.notBefore) {
		return nil, "Access token could not be verified"
	}
	if a.revoked {
		return nil, "Access token has been revoked"
	}
	return a, ""
}

// verifyBearer checks an OAuth 2 access token for api.php. Callers hold
// s.mu. text is the error ("" when valid).
func (s *Server) verifyBearer(tok string) (u *User, c *Consumer, scope []string, key, text string) {
	a, hint := s.checkBearer(tok)
	if hint != "" {
		return nil, nil, nil, "", "Invalid access token"
	}
	u, c = s.users[a.user], s.consumers[a.client]
	if u == nil || c == nil {
		return nil, nil, nil, "", "Invalid access token"
	}
	return u, c, a.scopes, a.jti, ""
}

// --- rest.php routing ---

func (s *Server) routeREST(r *http.Request, path string, body []byte) (Endpoint, http.HandlerFunc) {
	switch path {
	case "/oauth2/authorize":
		return EndpointOAuth2Authorize, s.handleOAuth2Authorize
	case "/oauth2/access_token":
		return EndpointOAuth2Token, func(w http.ResponseWriter, r *http.Request) { s.handleOAuth2Token(w, r, body) }
	case "/oauth2/resource/profile":
		return EndpointOAuth2Profile, func(w http.ResponseWriter, r *http.Request) { s.handleOAuth2Resource(w, r, "profile") }
	case "/oauth2/resource/scopes":
		return EndpointOAuth2Scopes, func(w http.ResponseWriter, r *http.Request) { s.handleOAuth2Resource(w, r, "scopes") }
	}
	if strings.HasPrefix(path, "/v1/page/") {
		return EndpointREST, func(w http.ResponseWriter, r *http.Request) {
			s.handleRESTPage(w, r, strings.TrimPrefix(path, "/v1/page/"))
		}
	}
	return EndpointREST, func(w http.ResponseWriter, r *http.Request) {
		restHeaders(w.Header(), s.version)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		w.Write(phpJSON(obj{{"messageTranslations", obj{{"en", "The requested relative path (" + path + ") did not match any known handler"}}}, {"httpCode", 404}, {"httpReason", "Not Found"}}, jsonOpts{utf8: true}))
	}
}

func restHeaders(h http.Header, v Version) {
	if v != MW139 {
		h.Set("Vary", "x-restbase-compat")
	}
}

// oauth2Err is a League OAuth2 server exception.
type oauth2Err struct {
	status             int
	code, desc, hint   string
	noHintInHTMLPage   bool
	messageForHTMLPage string
}

const (
	descInvalidRequest = "The request is missing a required parameter, includes an invalid parameter value, includes a parameter more than once, or is otherwise malformed."
	descInvalidClient  = "Client authentication failed"
	descInvalidGrant   = "The provided authorization grant (e.g., authorization code, resource owner credentials) or refresh token is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client."
	descAccessDenied   = "The resource owner or authorization server denied the request."
	descRefreshInvalid = "The refresh token is invalid."
	descUnsupported    = "The authorization grant type is not supported by the authorization server."
)

func invalidRequest(param, hint string) *oauth2Err {
	if hint == "" {
		hint = "Check the `" + param + "` parameter"
	}
	return &oauth2Err{status: 400, code: "invalid_request", desc: descInvalidRequest, hint: hint}
}

var errInvalidClient = &oauth2Err{status: 401, code: "invalid_client", desc: descInvalidClient}

func invalidRefresh(hint string) *oauth2Err {
	return &oauth2Err{status: 401, code: "invalid_request", desc: descRefreshInvalid, hint: hint}
}

func (e *oauth2Err) json() []byte {
	o := obj{{"error", e.code}, {"error_description", e.desc}}
	if e.hint != "" {
		o = append(o, kv{"hint", e.hint})
	}
	return phpJSON(append(o, kv{"message", e.desc}), jsonOpts{utf8: true})
}

func (s *Server) writeOAuth2JSONError(w http.ResponseWriter, e *oauth2Err, cache bool) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	if cache && s.version != MW139 {
		h.Set("Cache-Control", "private,no-cache,s-maxage=0")
	}
	restHeaders(h, s.version)
	w.WriteHeader(e.status)
	w.Write(e.json())
}

// writeOAuth2ErrorPage is the authorize endpoint's HTML error page.
func (s *Server) writeOAuth2ErrorPage(w http.ResponseWriter, e *oauth2Err) {
	msg := e.desc
	if e.code == "invalid_client" {
		msg = "Client authentication failed (e.g., unknown client, no client authentication included, or unsupported authentication method)"
	}
	content := "<p>" + html.EscapeString(msg) + "\n</p>"
	status := http.StatusOK
	h := w.Header()
	h.Set("Content-Type", "text/html;charset=UTF-8")
	if s.version == MW139 {
		h.Set("Cache-Control", "no-cache, no-store, max-age=0, must-revalidate")
	} else {
		status = e.status
		h.Set("Cache-Control", "private,must-revalidate,s-maxage=0")
		h.Set("Vary", "x-restbase-compat")
		if e.code != "invalid_client" && e.hint != "" {
			content += "<p>Additional debug information: " + html.EscapeString(e.hint) + "\n</p>"
		}
	}
	s.writePage(w, status, "Application Connection Error", content+returnToMain+"\n")
}

var pkceRe = regexp.MustCompile(`^[A-Za-z0-9\-._~]{43,128}$`)

// authRequest is a validated authorization request.
type authRequest struct {
	client      *Consumer
	redirectURI string
	scopes      []string
	state       string
	challenge   string
	method      string
}

// validateAuthRequest is AuthCodeGrant::validateAuthorizationRequest.
// Callers hold s.mu.
func (s *Server) validateAuthRequest(q url.Values) (*authRequest, *oauth2Err) {
	if q.Get("response_type") != "code" {
		return nil, invalidRequest("response_type", "")
	}
	id := q.Get("client_id")
	if id == "" {
		return nil, invalidRequest("client_id", "")
	}
	c := s.consumers[id]
	if c == nil || c.Version != 2 || !slices.Contains(c.OAuth2GrantTypes, "authorization_code") {
		return nil, errInvalidClient
	}
	ar := &authRequest{client: c, redirectURI: q.Get("redirect_uri"), state: q.Get("state")}
	if ar.redirectURI != "" && ar.redirectURI != c.Callback {
		return nil, errInvalidClient
	}
	if ar.redirectURI == "" {
		ar.redirectURI = c.Callback
	}
	if sc := strings.Fields(q.Get("scope")); len(sc) > 0 {
		for _, g := range sc {
			if slices.Contains(c.Grants, g) && !slices.Contains(ar.scopes, g) {
				ar.scopes = append(ar.scopes, g)
			}
		}
	}
	if len(ar.scopes) == 0 {
		ar.scopes = clone(c.Grants)
	}
	ar.challenge = q.Get("code_challenge")
	if ar.challenge == "" {
		if !c.Confidential {
			return nil, invalidRequest("code_challenge", "Code challenge must be provided for public clients")
		}
		return ar, nil
	}
	ar.method = q.Get("code_challenge_method")
	if ar.method == "" {
		ar.method = "plain"
	}
	if ar.method != "plain" && ar.method != "S256" {
		return nil, invalidRequest("code_challenge_method", "Code challenge method must be one of `plain` or `S256`")
	}
	if !pkceRe.MatchString(ar.challenge) {
		return nil, invalidRequest("code_challenge", "Code challenge must follow the specifications of RFC-7636.")
	}
	return ar, nil
}

// write307 is rest.php's redirect: 307 with a small HTML body.
func (s *Server) write307(w http.ResponseWriter, loc string, private bool) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Location", loc)
	if private && s.version != MW139 {
		h.Set("Cache-Control", "private,must-revalidate,s-maxage=0")
	}
	restHeaders(h, s.version)
	w.WriteHeader(http.StatusTemporaryRedirect)
	e := html.EscapeString(loc)
	w.Write([]byte(`<!doctype html><title>Redirect</title><a href="` + e + `">` + e + `</a>`))
}

func (s *Server) write302(w http.ResponseWriter, loc string) {
	h := w.Header()
	h.Set("Location", loc)
	if s.version != MW139 {
		h.Set("Cache-Control", "private,must-revalidate,s-maxage=0")
	}
	restHeaders(h, s.version)
	h.Set("Content-Type", "text/html; charset=UTF-8")
	w.WriteHeader(http.StatusFound)
}

// rawQueryWithout returns the request's raw query without the named keys.
func rawQueryWithout(raw string, drop ...string) string {
	var keep []string
	for i, part := range strings.Split(raw, "&") {
		if i >= maxParams {
			break
		}
		k, _, _ := strings.Cut(part, "=")
		if part == "" || slices.Contains(drop, k) {
			continue
		}
		keep = append(keep, part)
	}
	return strings.Join(keep, "&")
}

func (s *Server) handleOAuth2Authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.mu.Lock()
	ar, e := s.validateAuthRequest(q)
	if e != nil {
		s.mu.Unlock()
		s.writeOAuth2ErrorPage(w, e)
		return
	}
	se := s.session(w, r, false)
	if se == nil || se.user == "" {
		s.mu.Unlock()
		restURL := "/w/rest.php/oauth2/authorize?" + rawQueryWithout(r.URL.RawQuery, "approval_pass", "approval_cancel")
		loc := s.URL + localURL("Special:UserLogin", "returnto="+url.QueryEscape("Special:OAuth/rest redirect")+
			"&returntoquery="+url.QueryEscape("rest_url="+url.QueryEscape(restURL)))
		s.write307(w, loc, false)
		return
	}
	user := se.user
	base := rawQueryWithout(r.URL.RawQuery, "approval_pass", "approval_cancel")
	if q.Get("approval_cancel") != "" {
		s.mu.Unlock()
		s.write302(w, appendQuery(ar.redirectURI, "error=unauthorized_client&error_description=User+has+rejected+the+request+from+client+application&message=User+has+rejected+the+request+from+client+application"))
		return
	}
	approved := s.o2().approvals[ar.client.Key+"|"+user]
	if q.Get("approval_pass") == "" || approved == nil {
		s.mu.Unlock()
		loc := s.URL + localURL("Special:OAuth/approve", "returnto="+url.QueryEscape("/w/rest.php/oauth2/authorize")+
			"&returntoquery="+url.QueryEscape(base)+"&client_id="+url.QueryEscape(ar.client.Key)+
			"&oauth_version=2&scope="+url.QueryEscape(strings.Join(ar.scopes, " ")))
		s.write307(w, loc, true)
		return
	}
	code := "def50200" + randHex(512)
	s.pruneOAuth2()
	s.o2().codes[code] = &authCode{client: ar.client.Key, user: user, redirectURI: q.Get("redirect_uri"), state: ar.state,
		scopes: ar.scopes, challenge: ar.challenge, method: ar.method, expires: s.now().Add(authCodeTTL)}
	s.mu.Unlock()
	v := "code=" + url.QueryEscape(code)
	if ar.state != "" {
		v += "&state=" + url.QueryEscape(ar.state)
	}
	s.write302(w, appendQuery(ar.redirectURI, v))
}

func appendQuery(u, q string) string {
	if strings.Contains(u, "?") {
		return u + "&" + q
	}
	return u + "?" + q
}

// handleApprove is Special:OAuth/approve: the OAuth 2 consent form.
func (s *Server) handleApprove(w http.ResponseWriter, r *http.Request) {
	returnTo, returnToQuery := r.FormValue("returnto"), r.FormValue("returntoquery")
	clientID := r.FormValue("client_id")
	s.mu.Lock()
	se := s.session(w, r, false)
	if se == nil || se.user == "" {
		s.mu.Unlock()
		s.loginRedirect(w, r, "Special:OAuth/approve", []string{"returnto", "returntoquery", "client_id", "oauth_version", "scope"})
		return
	}
	u := s.users[se.user]
	c := s.consumers[clientID]
	if c == nil || c.Version != 2 || u == nil || returnTo != "/w/rest.php/oauth2/authorize" {
		s.mu.Unlock()
		s.writeErrorPage(w, http.StatusOK, "The connected application you are trying to use is not registered.")
		return
	}
	if c.Proposed && c.Owner != u.Name {
		msg := s.unapprovedPage(c)
		s.mu.Unlock()
		s.writeErrorPage(w, http.StatusOK, msg)
		return
	}
	var scopes []string
	for _, g := range strings.Fields(r.FormValue("scope")) {
		if slices.Contains(c.Grants, g) {
			scopes = append(scopes, g)
		}
	}
	sk := se.id + "|" + se.salt
	editTok := s.editToken(sk, s.now())
	existing := s.o2().approvals[c.Key+"|"+u.Name] != nil
	if r.Method != http.MethodPost {
		form := s.approveForm(c, scopes, u.Name, editTok, existing, returnTo, returnToQuery, "")
		s.mu.Unlock()
		s.writePage(w, http.StatusOK, "OAuth", form)
		return
	}
	if !s.checkEditToken(sk, r.PostFormValue("wpEditToken")) {
		form := s.approveForm(c, scopes, u.Name, editTok, existing, returnTo, returnToQuery,
			"There seems to be a problem with your login session; this action has been canceled as a precaution against session hijacking. Please resubmit the form.")
		s.mu.Unlock()
		s.writePage(w, http.StatusOK, "OAuth", form)
		return
	}
	flag := "approval_pass=1"
	if r.PostForm.Has("cancel") {
		flag = "approval_cancel=1"
	} else if r.PostForm.Has("accept") {
		s.o2().approvals[c.Key+"|"+u.Name] = scopes
	} else {
		s.mu.Unlock()
		s.writePage(w, http.StatusOK, "OAuth", s.approveForm(c, scopes, u.Name, editTok, existing, returnTo, returnToQuery, "The request is not valid."))
		return
	}
	s.mu.Unlock()
	h := w.Header()
	h.Set("Location", s.URL+returnTo+"?"+appendFlag(returnToQuery, flag))
	h.Set("Content-Type", "text/html; charset=UTF-8")
	w.WriteHeader(http.StatusFound)
}

func appendFlag(q, flag string) string {
	if q == "" {
		return flag
	}
	return q + "&" + flag
}

func (s *Server) approveForm(c *Consumer, scopes []string, userName, editToken string, update bool, returnTo, returnToQuery, errMsg string) string {
	shown := *c
	shown.Grants = scopes
	f := s.authorizeForm("approve", &shown, "", userName, editToken, update, errMsg)
	// Swap OAuth 1's fields for OAuth 2's (oauth2-05).
	f = strings.Replace(f, `<input id="mw-input-oauth_version" name="oauth_version" type="hidden" value="1">`, `<input id="mw-input-oauth_version" name="oauth_version" type="hidden" value="2">`, 1)
	i := strings.Index(f, `<input id="mw-input-consumerKey"`)
	j := strings.Index(f, `<div class="mw-htmlform-submit-buttons">`)
	if i >= 0 && j > i {
		f = f[:i] + `<input id="mw-input-client_id" name="client_id" type="hidden" value="` + html.EscapeString(c.Key) + `">
<input id="mw-input-scope" name="scope" type="hidden" value="` + html.EscapeString(strings.Join(scopes, " ")) + `">
<input id="mw-input-returnto" name="returnto" type="hidden" value="` + html.EscapeString(returnTo) + `">
<input id="mw-input-returntoquery" name="returntoquery" type="hidden" value="` + html.EscapeString(returnToQuery) + `">
` + f[j:]
	}
	return f
}

// handleRestRedirect is Special:OAuth/rest_redirect, where the login form
// returns an anonymous OAuth 2 authorize to.
func (s *Server) handleRestRedirect(w http.ResponseWriter, r *http.Request) {
	target := r.FormValue("rest_url")
	if !strings.HasPrefix(target, "/w/rest.php/") {
		s.writeErrorPage(w, http.StatusOK, "Invalid rest_url.")
		return
	}
	writeFound(w, s.URL+target)
}

// --- rest.php/oauth2/access_token ---

func (s *Server) handleOAuth2Token(w http.ResponseWriter, r *http.Request, body []byte) {
	if r.Method != http.MethodPost {
		restHeaders(w.Header(), s.version)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusMethodNotAllowed)
		w.Write(phpJSON(obj{{"messageTranslations", obj{{"en", "Only POST requests are allowed"}}}, {"httpCode", 405}, {"httpReason", "Method Not Allowed"}}, jsonOpts{utf8: true}))
		return
	}
	ct := r.Header.Get("Content-Type")
	if !strings.HasPrefix(ct, "application/x-www-form-urlencoded") && !strings.HasPrefix(ct, "multipart/form-data") {
		if s.version == MW139 {
			s.writeOAuth2JSONError(w, invalidRequest("grant_type", ""), true)
			return
		}
		mt, _, _ := strings.Cut(ct, ";")
		restHeaders(w.Header(), s.version)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnsupportedMediaType)
		w.Write(phpJSON(obj{{"errorKey", "rest-unsupported-content-type"}, {"messageTranslations", obj{{"en", "Unsupported Content-Type: " + strings.TrimSpace(mt)}}},
			{"httpCode", 415}, {"httpReason", "Unsupported Media Type"}}, jsonOpts{utf8: true}))
		return
	}
	form, _ := url.ParseQuery(string(body))
	if strings.HasPrefix(ct, "multipart/form-data") && r.ParseMultipartForm(maxBody) == nil {
		form = url.Values(r.MultipartForm.Value)
	}
	s.mu.Lock()
	res, e := s.token2(r, form)
	s.mu.Unlock()
	if e != nil {
		s.writeOAuth2JSONError(w, e, true)
		return
	}
	h := w.Header()
	h.Set("Pragma", "no-cache")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Type", "application/json; charset=UTF-8")
	restHeaders(h, s.version)
	w.WriteHeader(http.StatusOK)
	w.Write(phpJSON(res, jsonOpts{}))
}

// clientAuth is AbstractGrant::validateClient: credentials from the body or
// HTTP Basic, the secret for confidential clients, the grant type allowed,
// and the redirect_uri against the registered one.
func (s *Server) clientAuth(r *http.Request, form url.Values, grant string) (*Consumer, *oauth2Err) {
	id, secret := form.Get("client_id"), form.Get("client_secret")
	if bu, bp, ok := r.BasicAuth(); ok {
		if id == "" {
			id = bu
		}
		if secret == "" {
			secret = bp
		}
	}
	if id == "" {
		return nil, invalidRequest("client_id", "")
	}
	c := s.consumers[id]
	if c == nil || c.Version != 2 {
		return nil, errInvalidClient
	}
	if c.Confidential || c.OwnerOnly {
		if subtle.ConstantTimeCompare([]byte(secret), []byte(c.Secret)) != 1 {
			return nil, errInvalidClient
		}
	}
	if !slices.Contains(c.OAuth2GrantTypes, grant) {
		return nil, errInvalidClient
	}
	if ru := form.Get("redirect_uri"); ru != "" && ru != c.Callback {
		return nil, errInvalidClient
	}
	return c, nil
}

func (s *Server) token2(r *http.Request, form url.Values) (obj, *oauth2Err) {
	grant := form.Get("grant_type")
	switch grant {
	case "":
		return nil, invalidRequest("grant_type", "")
	case "authorization_code", "refresh_token", "client_credentials":
	default:
		return nil, &oauth2Err{status: 400, code: "unsupported_grant_type", desc: descUnsupported, hint: "Check that all required parameters have been provided"}
	}
	c, e := s.clientAuth(r, form, grant)
	if e != nil {
		return nil, e
	}
	o := s.o2()
	now := s.now()
	switch grant {
	case "client_credentials":
		a := s.issueAccess(c, c.Owner, clone(c.Grants), accessTokenTTL)
		return obj{{"token_type", "Bearer"}, {"expires_in", int(accessTokenTTL / time.Second)}, {"access_token", a.token}}, nil
	case "authorization_code":
		code := form.Get("code")
		if code == "" {
			return nil, invalidRequest("code", "")
		}
		ac := o.codes[code]
		if ac == nil {
			return nil, invalidRequest("code", "Cannot decrypt the authorization code")
		}
		if !now.Before(ac.expires) {
			return nil, invalidRequest("code", "Authorization code has expired")
		}
		if ac.used {
			return nil, invalidRequest("code", "Authorization code has been revoked")
		}
		if ac.client != c.Key {
			return nil, invalidRequest("code", "Authorization code was not issued to this client")
		}
		if ac.redirectURI != "" {
			if form.Get("redirect_uri") == "" {
				return nil, invalidRequest("redirect_uri", "")
			}
			if form.Get("redirect_uri") != ac.redirectURI {
				return nil, invalidRequest("redirect_uri", "Invalid redirect URI")
			}
		}
		if ac.challenge != "" {
			v := form.Get("code_verifier")
			if v == "" {
				return nil, invalidRequest("code_verifier", "")
			}
			if !pkceRe.MatchString(v) {
				return nil, invalidRequest("code_verifier", "Code Verifier must follow the specifications of RFC-7636.")
			}
			want := v
			if ac.method == "S256" {
				h := sha256.Sum256([]byte(v))
				want = base64.RawURLEncoding.EncodeToString(h[:])
			}
			if subtle.ConstantTimeCompare([]byte(want), []byte(ac.challenge)) != 1 {
				return nil, &oauth2Err{status: 400, code: "invalid_grant", desc: descInvalidGrant, hint: "Failed to verify `code_verifier`."}
			}
		}
		ac.used = true
		return s.issuePair(c, ac.user, ac.scopes), nil
	default: // refresh_token
		rt := form.Get("refresh_token")
		if rt == "" {
			return nil, invalidRequest("refresh_token", "")
		}
		old := o.refresh[rt]
		if old == nil {
			return nil, invalidRequest("refresh_token", "Cannot decrypt the refresh token")
		}
		if old.client != c.Key {
			return nil, invalidRefresh("Token is not linked to client")
		}
		if !now.Before(old.expires) {
			return nil, invalidRefresh("Token has expired")
		}
		if !old.revokedAt.IsZero() && (s.refreshGrace <= 0 || now.Sub(old.revokedAt) >= s.refreshGrace) {
			return nil, invalidRefresh("Token has been revoked")
		}
		if a := o.access[old.accessJTI]; a != nil {
			a.revoked = true
		}
		if old.revokedAt.IsZero() {
			old.revokedAt = now
		}
		return s.issuePair(c, old.user, old.scopes), nil
	}
}

// issuePair issues an access token and a refresh token. Callers hold s.mu.
func (s *Server) issuePair(c *Consumer, user string, scopes []string) obj {
	a := s.issueAccess(c, user, scopes, accessTokenTTL)
	rt := "def50200" + randHex(512)
	s.o2().refresh[rt] = &o2refresh{client: c.Key, user: user, scopes: clone(scopes), accessJTI: a.jti, expires: s.now().Add(refreshTokenTTL)}
	return obj{{"token_type", "Bearer"}, {"expires_in", int(accessTokenTTL / time.Second)}, {"access_token", a.token}, {"refresh_token", rt}}
}

// --- rest.php/oauth2/resource/{profile,scopes} ---

func (s *Server) handleOAuth2Resource(w http.ResponseWriter, r *http.Request, what string) {
	auth := r.Header.Get("Authorization")
	if auth == "" && s.version == MW139 {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusInternalServerError)
		w.Write([]byte(`{"message":"Error: exception of type InvalidArgumentException: Header value can not be an empty array.","exception":{"id":"` + randHex(24) + `","type":"InvalidArgumentException","file":"<mediawiki>/vendor/guzzlehttp/psr7/src/MessageTrait.php","line":176,"message":"Header value can not be an empty array.","code":0,"url":"/w/rest.php/oauth2/resource/` + what + `","caught_by":"other"}}`))
		return
	}
	tok := strings.TrimPrefix(auth, "Bearer ")
	if !strings.HasPrefix(auth, "Bearer ") {
		tok = ""
	}
	s.mu.Lock()
	a, hint := s.checkBearer(tok)
	var body []byte
	if hint == "" {
		u, c := s.users[a.user], s.consumers[a.client]
		switch {
		case u == nil || c == nil:
			hint = "Access token has been revoked"
		case what == "scopes":
			body = phpJSON(obj{{"scopes", clone(c.Grants)}}, jsonOpts{utf8: true})
		default:
			p := obj{{"sub", strconv.Itoa(u.ID)}}
			if u.Hidden {
				p = append(p, kv{"blocked", true})
			} else {
				p = append(p, s.profile(u, c, a.scopes)...)
			}
			body = phpJSON(p, jsonOpts{utf8: true})
		}
	}
	s.mu.Unlock()
	if hint != "" {
		e := &oauth2Err{status: 401, code: "access_denied", desc: descAccessDenied, hint: hint}
		s.writeOAuth2JSONError(w, e, false)
		return
	}
	h := w.Header()
	if s.version == MW139 {
		h.Set("Content-Type", "text/html; charset=UTF-8")
	} else {
		h.Set("Content-Type", "application/json")
		h.Set("Cache-Control", "private,must-revalidate,s-maxage=0")
	}
	restHeaders(h, s.version)
	w.WriteHeader(http.StatusOK)
	w.Write(body)
}

// handleRESTPage is GET rest.php/v1/page/{title} (oauth2-16), with or
// without a bearer token (a bad one is refused).
func (s *Server) handleRESTPage(w http.ResponseWriter, r *http.Request, title string) {
	if t, err := url.PathUnescape(title); err == nil {
		title = t
	}
	s.mu.Lock()
	if auth := r.Header.Get("Authorization"); strings.HasPrefix(auth, "Bearer ") {
		if _, hint := s.checkBearer(strings.TrimPrefix(auth, "Bearer ")); hint != "" {
			s.mu.Unlock()
			s.writeOAuth2JSONError(w, &oauth2Err{status: 401, code: "access_denied", desc: descAccessDenied, hint: hint}, false)
			return
		}
	}
	p := s.pages[dbKey(title)]
	var body []byte
	var modified time.Time
	if p != nil {
		modified = p.modified
		body = phpJSON(obj{{"id", p.id}, {"key", dbKey(p.title)}, {"title", p.title},
			{"latest", obj{{"id", p.rev}, {"timestamp", p.modified.Format("2006-01-02T15:04:05Z")}}},
			{"content_model", "wikitext"}, {"license", obj{{"url", ""}, {"title", ""}}}, {"source", p.text}}, jsonOpts{utf8: true})
	}
	s.mu.Unlock()
	h := w.Header()
	h.Set("Content-Type", "application/json")
	restHeaders(h, s.version)
	if p == nil {
		w.WriteHeader(http.StatusNotFound)
		w.Write(phpJSON(obj{{"messageTranslations", obj{{"en", "The specified page (" + normalizeTitle(title) + ") does not exist"}}}, {"httpCode", 404}, {"httpReason", "Not Found"}}, jsonOpts{utf8: true}))
		return
	}
	if s.version != MW139 {
		h.Set("Cache-Control", "private,must-revalidate,s-maxage=0")
	}
	h.Set("Last-Modified", modified.Format(http.TimeFormat))
	w.WriteHeader(http.StatusOK)
	w.Write(body)
}
