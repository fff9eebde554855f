package mwoauthtest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Lifetimes, as in Extension:OAuth.
const (
	requestTokenTTL    = 600 * time.Second // MWOAuthDataStore::new_request_token
	timestampThreshold = 300               // OAuthServer::$timestamp_threshold, seconds
	jwtLifetime        = 100               // identify: exp = iat + 100
	maxNonces          = 100000            // the nonce cache is pruned beyond this
)

type requestToken struct {
	key, secret string
	consumer    string
	callback    string
	created     time.Time // saved at initiate, saved again at the Allow (600 s TTL from then)
	verifier    string    // set when the user allows
	user        string
	accessKey   string
	usedAt      time.Time // set by the token step: "**USED**"
}

type accessToken struct {
	key, secret string
	consumer    string
	user        string
}

// oauthErr is an error Special:OAuth reports: key and message text.
type oauthErr struct {
	key, msg string
	// raw is the bare OAuthException message (e.g. "Invalid signature"),
	// which api.php puts after "The authorization headers in your request
	// are not valid: ". Empty for MWOAuthException messages.
	raw string
}

func oauthException(msg string) *oauthErr {
	return &oauthErr{key: "mwoauth-oauth-exception", msg: "An error occurred in the OAuth protocol: " + msg, raw: msg}
}

func helpLink(code string) string {
	return `<a class="external" href="https://www.mediawiki.org/wiki/Help:OAuth/Errors#` + code + `">` + code + `</a>`
}

var (
	errRequestTokenUsed = &oauthErr{key: "mwoauthdatastore-request-token-already-used",
		msg: "This request has already been completed and cannot be resubmitted.\nGo back to the application and try to connect your account again, or contact the application author.\n\n<span class=\"plainlinks mw-mwoautherror-details\">OAuth token already used, " + helpLink("E009") + "</span>"}
	errRequestTokenNotFound = &oauthErr{key: "mwoauthdatastore-request-token-not-found",
		msg: "Sorry, something went wrong connecting this application.\nGo back and try to connect your account again, or contact the application author.\n\n<span class=\"plainlinks mw-mwoautherror-details\">OAuth token not found, " + helpLink("E004") + "</span>"}
	errBadVerifier   = &oauthErr{key: "mwoauthdatastore-bad-verifier", msg: "The verification code provided was not valid."}
	errBadToken      = &oauthErr{key: "mwoauthdatastore-bad-token", msg: "No token was found matching your request."}
	errAccessMissing = &oauthErr{key: "mwoauthdatastore-access-token-not-found", msg: "No approved grant was found for that authorization token."}
	errNotOOB        = &oauthErr{key: "mwoauth-callback-not-oob", msg: `oauth_callback must be set, and must be set to "oob" (case-sensitive)`}
	errNotOOBPrefix  = &oauthErr{key: "mwoauth-callback-not-oob-or-prefix", msg: `oauth_callback must be set, and must be set to "oob" (case-sensitive), or the configured callback must be a prefix of the supplied callback.`}
)

func errOwnerOnly(c *Consumer) *oauthErr {
	return &oauthErr{key: "mwoauthserver-consumer-owner-only",
		msg: `"` + c.Name + `" is an owner-only Connected App. To fetch the access token, see [[Special:OAuthConsumerRegistration/update/` + c.Key + "]].\n\n<span class=\"plainlinks mw-mwoautherror-details\">Consumer is owner-only, " + helpLink("E010") + "</span>"}
}

// oauthFormat is Special:OAuth's format parameter: "json" or "raw".
func oauthFormat(r *http.Request) string {
	if r.FormValue("format") == "json" {
		return "json"
	}
	return "raw"
}

// setNoCache adds the headers SpecialMWOAuth::showResponse sends.
func setNoCache(h http.Header) {
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Expires", "Thu, 01 Jan 1970 00:00:00 GMT")
	h.Set("Cache-Control", "no-cache, no-store, max-age=0, must-revalidate")
	h.Set("Pragma", "no-cache")
}

func writeOAuthBody(w http.ResponseWriter, format string, body []byte) {
	setNoCache(w.Header())
	if format == "json" {
		w.Header().Set("Content-Type", "application/json")
	} else {
		w.Header().Set("Content-Type", "text/plain;charset=UTF-8")
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	w.Write(body)
}

// writeOAuthError answers as SpecialMWOAuth::showError does: HTTP 200,
// {"error","message"} or "Error: message".
func writeOAuthError(w http.ResponseWriter, format string, e *oauthErr) {
	if format == "json" {
		writeOAuthBody(w, format, phpJSON(obj{{"error", e.key}, {"message", e.msg}}, jsonOpts{htmlSafe: true}))
		return
	}
	writeOAuthBody(w, format, []byte("Error: "+e.msg))
}

// checkRequest runs OAuthServer's common checks: version, consumer, and
// (via checkSignature) timestamp, nonce and signature. Callers hold s.mu.
func (s *Server) getConsumer(o *oauthRequest) (*Consumer, *oauthErr) {
	if v := o.get("oauth_version"); v != "" && v != "1.0" {
		return nil, oauthException("OAuth version '" + v + "' not supported") // OAuthServer::get_version
	}
	key := o.get("oauth_consumer_key")
	if key == "" {
		return nil, oauthException("Invalid consumer key")
	}
	c := s.consumers[key]
	if c == nil || c.Version == 2 {
		return nil, oauthException("Invalid consumer")
	}
	return c, nil
}

// checkSignature is OAuthServer::check_signature: the timestamp window,
// the nonce cache (the nonce is recorded before the signature is checked,
// as MediaWiki does), the signature method and the signature.
func (s *Server) checkSignature(o *oauthRequest, c *Consumer, tokenKey, tokenSecret string) *oauthErr {
	ts := o.get("oauth_timestamp")
	if ts == "" {
		return oauthException("Missing timestamp parameter. The parameter is required")
	}
	now := s.now().Unix()
	n, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || n-now > timestampThreshold || now-n > timestampThreshold {
		return oauthException("Expired timestamp, yours " + ts + ", ours " + strconv.FormatInt(now, 10))
	}
	nonce := o.get("oauth_nonce")
	if nonce == "" {
		return oauthException("Missing nonce parameter. The parameter is required")
	}
	nk := c.Key + "|" + tokenKey + "|" + nonce
	if exp, ok := s.nonces[nk]; ok && s.now().Before(exp) {
		return oauthException("Nonce already used: " + nonce)
	}
	s.pruneNonces()
	s.nonces[nk] = time.Unix(n+timestampThreshold, 0)
	switch m := o.get("oauth_signature_method"); m {
	case "":
		return oauthException("No signature method parameter. This parameter is required")
	case "HMAC-SHA1", "RSA-SHA1":
	default:
		return oauthException("Signature method '" + m + "' not supported try one of the following: HMAC-SHA1, RSA-SHA1")
	}
	if !o.checkSignature(c, tokenSecret) {
		return oauthException("Invalid signature")
	}
	return nil
}

// pruneNonces drops expired nonces once the cache is large. Callers hold s.mu.
func (s *Server) pruneNonces() {
	if len(s.nonces) < maxNonces {
		return
	}
	now := s.now()
	for k, exp := range s.nonces {
		if !now.Before(exp) {
			delete(s.nonces, k)
		}
	}
	if len(s.nonces) >= maxNonces { // all fresh: forget the oldest half
		i := 0
		for k := range s.nonces {
			if i%2 == 0 {
				delete(s.nonces, k)
			}
			i++
		}
	}
}

// callbackMatches is MWOAuthServer::checkCallback's prefix rule: http may
// become https, exact host, ports as parsed (missing from both or equal;
// registered port 1 = any), path prefix (exact path when the registered
// callback has a query), query prefix, no user info.
func callbackMatches(registered, got string) bool {
	if registered == got {
		return true
	}
	reg, err1 := url.Parse(registered)
	cb, err2 := url.Parse(got)
	if err1 != nil || err2 != nil || cb.User != nil || cb.Host == "" || reg.Host == "" {
		return false
	}
	if reg.Scheme != cb.Scheme && !(reg.Scheme == "http" && cb.Scheme == "https") {
		return false
	}
	if !strings.EqualFold(reg.Hostname(), cb.Hostname()) {
		return false
	}
	if reg.Port() != "1" && reg.Port() != cb.Port() {
		return false
	}
	if reg.RawQuery != "" || reg.ForceQuery {
		if cb.EscapedPath() != reg.EscapedPath() {
			return false
		}
	} else if !strings.HasPrefix(cb.EscapedPath(), reg.EscapedPath()) {
		return false
	}
	return strings.HasPrefix(cb.RawQuery, reg.RawQuery)
}

func (s *Server) readOAuth(r *http.Request, body []byte) *oauthRequest {
	return newOAuthRequest(r, s.canonicalServer(), body)
}

func (s *Server) handleInitiate(w http.ResponseWriter, r *http.Request, body []byte) {
	format := oauthFormat(r)
	o := s.readOAuth(r, body)
	s.mu.Lock()
	tok, e := s.initiate(o)
	s.mu.Unlock()
	if e != nil {
		writeOAuthError(w, format, e)
		return
	}
	if format == "json" {
		writeOAuthBody(w, format, phpJSON(obj{{"key", tok.key}, {"secret", tok.secret}, {"oauth_callback_confirmed", "true"}}, jsonOpts{htmlSafe: true}))
		return
	}
	writeOAuthBody(w, format, []byte("oauth_token="+tok.key+"&oauth_token_secret="+tok.secret+"&oauth_callback_confirmed=true"))
}

func (s *Server) initiate(o *oauthRequest) (*requestToken, *oauthErr) {
	c, e := s.getConsumer(o)
	if e != nil {
		return nil, e
	}
	if c.OwnerOnly {
		return nil, errOwnerOnly(c)
	}
	if e := s.checkSignature(o, c, "", ""); e != nil {
		return nil, e
	}
	cb := o.get("oauth_callback")
	if !c.CallbackIsPrefix {
		if cb != "oob" {
			return nil, errNotOOB
		}
	} else if cb != "oob" && (cb == "" || !callbackMatches(c.Callback, cb)) {
		return nil, errNotOOBPrefix
	}
	t := &requestToken{key: randHex(32), secret: randHex(32), consumer: c.Key, callback: cb, created: s.now()}
	s.pruneRequestTokens()
	s.reqTokens[t.key] = t
	return t, nil
}

// pruneRequestTokens drops request tokens older than twice their lifetime
// once there are many. Callers hold s.mu.
func (s *Server) pruneRequestTokens() {
	if len(s.reqTokens) < 10000 {
		return
	}
	for k, t := range s.reqTokens {
		if s.now().Sub(t.created) > 2*requestTokenTTL {
			delete(s.reqTokens, k)
		}
	}
}

// lookupRequestToken is MWOAuthDataStore::lookup_token for request tokens.
// Callers hold s.mu.
func (s *Server) lookupRequestToken(consumer, key string) (*requestToken, *oauthErr) {
	t := s.reqTokens[key]
	now := s.now()
	if t == nil || t.consumer != consumer {
		return nil, errRequestTokenNotFound
	}
	if !t.usedAt.IsZero() {
		if now.Sub(t.usedAt) < requestTokenTTL {
			return nil, errRequestTokenUsed
		}
		return nil, errRequestTokenNotFound
	}
	if now.Sub(t.created) >= requestTokenTTL {
		return nil, errRequestTokenNotFound
	}
	return t, nil
}

func (s *Server) handleToken(w http.ResponseWriter, r *http.Request, body []byte) {
	format := oauthFormat(r)
	o := s.readOAuth(r, body)
	s.mu.Lock()
	at, rsa, e := s.token(o)
	s.mu.Unlock()
	if e != nil {
		writeOAuthError(w, format, e)
		return
	}
	secret := at.secret
	if rsa {
		secret = "__unused__"
	}
	if format == "json" {
		writeOAuthBody(w, format, phpJSON(obj{{"key", at.key}, {"secret", secret}}, jsonOpts{htmlSafe: true}))
		return
	}
	writeOAuthBody(w, format, []byte("oauth_token="+at.key+"&oauth_token_secret="+secret))
}

func (s *Server) token(o *oauthRequest) (*accessToken, bool, *oauthErr) {
	c, e := s.getConsumer(o)
	if e != nil {
		return nil, false, e
	}
	if c.OwnerOnly { // MWOAuthServer::fetch_access_token, before the token lookup
		return nil, false, errOwnerOnly(c)
	}
	t, e := s.lookupRequestToken(c.Key, o.get("oauth_token"))
	if e != nil {
		return nil, false, e
	}
	if e := s.checkSignature(o, c, t.key, t.secret); e != nil {
		return nil, false, e
	}
	if t.verifier == "" || t.accessKey == "" {
		return nil, false, errBadToken
	}
	if !hmac.Equal([]byte(t.verifier), []byte(o.get("oauth_verifier"))) {
		return nil, false, errBadVerifier
	}
	at := s.accTokens[t.accessKey]
	if at == nil { // revoked between authorize and token
		return nil, false, errAccessMissing
	}
	t.usedAt = s.now()
	// MediaWiki answers "__unused__" whenever the token request itself is
	// signed with RSA-SHA1 (SpecialMWOAuth: $isRsa).
	return at, o.get("oauth_signature_method") == "RSA-SHA1", nil
}

// verifyAccess is OAuthServer::verify_request with an access token.
// Callers hold s.mu.
func (s *Server) verifyAccess(o *oauthRequest) (*Consumer, *accessToken, *oauthErr) {
	c, e := s.getConsumer(o)
	if e != nil {
		return nil, nil, e
	}
	at := s.accTokens[o.get("oauth_token")]
	if at == nil || at.consumer != c.Key {
		return nil, nil, errAccessMissing
	}
	if e := s.checkSignature(o, c, at.key, at.secret); e != nil {
		return nil, nil, e
	}
	return c, at, nil
}

func (s *Server) handleIdentify(w http.ResponseWriter, r *http.Request, body []byte) {
	format := oauthFormat(r)
	o := s.readOAuth(r, body)
	s.mu.Lock()
	jwt, e := s.identify(o)
	s.mu.Unlock()
	if e != nil {
		writeOAuthError(w, format, e)
		return
	}
	// The JWT is sent bare, labelled application/json, whatever the format.
	writeOAuthBody(w, "json", []byte(jwt))
}

func (s *Server) identify(o *oauthRequest) (string, *oauthErr) {
	c, at, e := s.verifyAccess(o)
	if e != nil {
		return "", e
	}
	u := s.users[at.user]
	if u == nil {
		return "", &oauthErr{key: "mwoauth-invalid-authorization-invalid-user", msg: "The authorization headers in your request are for a user that does not exist here"}
	}
	now := s.now().Unix()
	claims := obj{
		{"iss", s.canonicalServer()},
		{"aud", c.Key},
		{"exp", now + jwtLifetime},
		{"iat", now},
		{"sub", strconv.Itoa(u.ID)},
	}
	if u.Hidden {
		claims = append(claims, kv{"blocked", true})
	} else {
		claims = append(claims, s.profile(u, c, nil)...)
	}
	claims = append(claims, kv{"nonce", o.get("oauth_nonce")})
	return signHS256(claims, c.Secret), nil
}

// profile is UserStatementProvider::getUserProfile (without sub): the
// claims identify and the OAuth 2 profile share. scope, when not nil,
// narrows the rights and replaces the grants (OAuth 2).
func (s *Server) profile(u *User, c *Consumer, scope []string) obj {
	grants := c.Grants
	rights := rightsFor(u, s.version)
	if scope != nil {
		grants = scope
		rights = filterRights(rights, scope)
	}
	p := obj{{"username", u.Name}, {"editcount", u.EditCount}}
	if s.version != MW139 {
		p = append(p, kv{"email_verified", u.Email != "" && !u.EmailUnconfirmed})
	}
	p = append(p,
		kv{"confirmed_email", u.Email != "" && !u.EmailUnconfirmed},
		kv{"blocked", u.Blocked},
		kv{"registered", u.Registered.UTC().Format("20060102150405")},
		kv{"groups", groupsFor(u)},
		kv{"rights", rights},
		kv{"grants", clone(grants)},
	)
	private := c.privateInfo()
	for _, g := range grants {
		if g == "mwoauth-authonlyprivate" {
			private = true
		}
	}
	if private {
		p = append(p, kv{"realname", u.RealName}, kv{"email", u.Email})
	}
	return p
}

// signHS256 makes the identify JWT as firebase/php-jwt does: header
// {"typ":"JWT","alg":"HS256"}, claims in order, key = the consumer secret.
func signHS256(claims obj, secret string) string {
	enc := base64.RawURLEncoding
	head := enc.EncodeToString([]byte(`{"typ":"JWT","alg":"HS256"}`))
	body := enc.EncodeToString(phpJSON(claims, jsonOpts{}))
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(head + "." + body))
	return head + "." + body + "." + enc.EncodeToString(mac.Sum(nil))
}
