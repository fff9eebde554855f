package mwoauthtest

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// The wiki's cookie names ($wgCookiePrefix "my_wiki", as in the transcripts).
const (
	sessionCookie  = "my_wiki_session"
	userIDCookie   = "my_wikiUserID"
	userNameCookie = "my_wikiUserName"
	maxSessions    = 10000
)

type session struct {
	id         string
	user       string // "" = anonymous
	loginToken string
	salt       string // for the edit token
	created    time.Time
}

// editToken is MediaWiki's CSRF token shape: 32 hex digits of HMAC, 8 hex
// digits of timestamp, and the suffix "+\".
func (s *Server) editToken(sessionKey string, now time.Time) string {
	if sessionKey == "" {
		return `+\`
	}
	return s.tokenHMAC(sessionKey) + fmt.Sprintf("%08x", now.Unix()) + `+\`
}

func (s *Server) tokenHMAC(sessionKey string) string {
	m := hmac.New(sha1.New, s.secret)
	m.Write([]byte("csrf|" + sessionKey))
	return hex.EncodeToString(m.Sum(nil))[:32]
}

// checkEditToken accepts a token made by editToken for sessionKey.
func (s *Server) checkEditToken(sessionKey, tok string) bool {
	if sessionKey == "" {
		return tok == `+\`
	}
	if !strings.HasSuffix(tok, `+\`) || len(tok) != 32+8+2 {
		return false
	}
	return hmac.Equal([]byte(tok[:32]), []byte(s.tokenHMAC(sessionKey)))
}

// session returns the browser's session, creating one (and setting its
// cookie) when create is true. Callers hold s.mu.
func (s *Server) session(w http.ResponseWriter, r *http.Request, create bool) *session {
	if c, err := r.Cookie(sessionCookie); err == nil {
		if se := s.sessions[c.Value]; se != nil {
			return se
		}
	}
	if !create {
		return nil
	}
	return s.newSession(w, "")
}

// newSession starts a session (a new id: login renews it). Callers hold s.mu.
func (s *Server) newSession(w http.ResponseWriter, user string) *session {
	if len(s.sessions) >= maxSessions {
		for k, se := range s.sessions { // forget the oldest-looking tenth
			if s.now().Sub(se.created) > time.Hour || len(s.sessions) >= maxSessions {
				delete(s.sessions, k)
			}
			if len(s.sessions) < maxSessions*9/10 {
				break
			}
		}
	}
	se := &session{id: randHex(32), user: user, salt: randHex(16), created: s.now()}
	s.sessions[se.id] = se
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: se.id, Path: "/", HttpOnly: true})
	return se
}

// pageHeaders sets the headers of MediaWiki's HTML pages, keeping any
// already set.
func pageHeaders(h http.Header) {
	for _, kv := range [][2]string{
		{"X-Content-Type-Options", "nosniff"},
		{"Content-Language", "en"},
		{"X-Frame-Options", "DENY"},
		{"Content-Type", "text/html; charset=UTF-8"},
		{"Vary", "Accept-Encoding, Cookie, Authorization"},
		{"Expires", "Thu, 01 Jan 1970 00:00:00 GMT"},
		{"Cache-Control", "private, must-revalidate, max-age=0"},
	} {
		if h.Get(kv[0]) == "" {
			h.Set(kv[0], kv[1])
		}
	}
}

// writePage sends an HTML page shaped like MediaWiki's (title,
// #firstHeading, #mw-content-text).
func (s *Server) writePage(w http.ResponseWriter, status int, heading, content string) {
	pageHeaders(w.Header())
	w.WriteHeader(status)
	fmt.Fprintf(w, "<!DOCTYPE html>\n<html class=\"client-nojs\" lang=\"en\" dir=\"ltr\">\n<head>\n<meta charset=\"UTF-8\">\n<title>%s - %s</title>\n</head>\n<body>\n<h1 id=\"firstHeading\" class=\"firstHeading mw-first-heading\">%s</h1>\n<div id=\"mw-content-text\" class=\"mw-body-content\">%s</div>\n</body>\n</html>\n",
		html.EscapeString(heading), html.EscapeString(s.siteName), html.EscapeString(heading), content)
}

const returnToMain = `<p id="mw-returnto">Return to <a href="/w/index.php?title=Main_Page" title="Main Page">Main Page</a>.</p>`

// writeErrorPage is an ErrorPageError: "Application Connection Error".
func (s *Server) writeErrorPage(w http.ResponseWriter, status int, message string) {
	s.writePage(w, status, "Application Connection Error", "<p>"+message+"\n</p>"+returnToMain+"\n")
}

// localURL is a title's URL on this wiki, as Title::getLocalURL builds it.
func localURL(title string, query string) string {
	u := "/w/index.php?title=" + wikiURLEncode(title)
	if query != "" {
		u += "&" + query
	}
	return u
}

// wikiURLEncode is wfUrlencode: like urlencode, but keeps ; @ $ ! * ( ) , / ~ :
// and turns spaces into underscores first (titles).
func wikiURLEncode(title string) string {
	e := url.QueryEscape(strings.ReplaceAll(title, " ", "_"))
	r := strings.NewReplacer("%3B", ";", "%40", "@", "%24", "$", "%21", "!", "%2A", "*",
		"%28", "(", "%29", ")", "%2C", ",", "%2F", "/", "%7E", "~", "%3A", ":")
	return r.Replace(e)
}

// --- Special:UserLogin ---

func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	returnTo, returnToQuery, warning := q.Get("returnto"), q.Get("returntoquery"), q.Get("warning")
	if r.Method != http.MethodPost {
		s.mu.Lock()
		se := s.session(w, r, true)
		se.loginToken = randHex(40) + `+\`
		tok := se.loginToken
		s.mu.Unlock()
		s.writeLoginForm(w, returnTo, returnToQuery, warning, "", tok)
		return
	}
	name := strings.TrimSpace(r.PostFormValue("wpName"))
	if r, n := utf8.DecodeRuneInString(name); n > 0 { // the first letter, not byte
		name = string(unicode.ToUpper(r)) + name[n:]
	}
	name = strings.ReplaceAll(name, "_", " ")
	pass := r.PostFormValue("wpPassword")
	s.mu.Lock()
	se := s.session(w, r, true)
	if se.loginToken == "" || !hmac.Equal([]byte(se.loginToken), []byte(r.PostFormValue("wpLoginToken"))) {
		se.loginToken = randHex(40) + `+\`
		tok := se.loginToken
		s.mu.Unlock()
		s.writeLoginForm(w, returnTo, returnToQuery, "", "There seems to be a problem with your login session; this action has been canceled as a precaution against session hijacking. Please resubmit the form. You may receive this message if you are blocking cookies.", tok)
		return
	}
	u := s.users[name]
	if name == "" || u == nil || !hmac.Equal([]byte(u.Password), []byte(pass)) {
		se.loginToken = randHex(40) + `+\`
		tok := se.loginToken
		s.mu.Unlock()
		msg := "Incorrect username or password entered. Please try again."
		if name == "" {
			msg = "Please enter a username."
		}
		s.writeLoginForm(w, returnTo, returnToQuery, "", msg, tok)
		return
	}
	delete(s.sessions, se.id)
	se = s.newSession(w, u.Name)
	id := u.ID
	s.mu.Unlock()
	exp := time.Now().Add(30 * 24 * time.Hour)
	http.SetCookie(w, &http.Cookie{Name: userIDCookie, Value: fmt.Sprint(id), Path: "/", HttpOnly: true, Expires: exp, MaxAge: 2592000})
	http.SetCookie(w, &http.Cookie{Name: userNameCookie, Value: url.QueryEscape(u.Name), Path: "/", HttpOnly: true, Expires: exp, MaxAge: 2592000})
	target := "Main_Page"
	if returnTo != "" {
		target = returnTo
	}
	loc := s.URL + localURL(target, returnToQuery)
	h := w.Header()
	h.Set("Vary", "Accept-Encoding, Cookie, Authorization")
	h.Set("Expires", "Thu, 01 Jan 1970 00:00:00 GMT")
	h.Set("Cache-Control", "no-cache, no-store, max-age=0, must-revalidate")
	h.Set("Content-Type", "text/html; charset=UTF-8")
	h.Set("Location", loc)
	w.WriteHeader(http.StatusFound)
}

func (s *Server) writeLoginForm(w http.ResponseWriter, returnTo, returnToQuery, warning, errMsg, loginToken string) {
	var pre []string
	if returnTo != "" {
		pre = append(pre, "returnto="+url.QueryEscape(returnTo))
	}
	if returnToQuery != "" {
		pre = append(pre, "returntoquery="+url.QueryEscape(returnToQuery))
	}
	action := localURL("Special:UserLogin", strings.Join(pre, "&"))
	var b strings.Builder
	switch warning {
	case "mwoauth-named-account-required-reason", "mwoauth-login-required-reason":
		b.WriteString(`<div class="cdx-message cdx-message--block cdx-message--warning"><span class="cdx-message__icon"></span><div class="cdx-message__content">Please log in to authorize the connected application.</div></div>`)
	}
	if errMsg != "" {
		b.WriteString(`<div class="cdx-message cdx-message--block cdx-message--error"><span class="cdx-message__icon"></span><div class="cdx-message__content">` + html.EscapeString(errMsg) + `</div></div>`)
	}
	fmt.Fprintf(&b, `<div id="userloginprompt"></div><div class="mw-ui-container"><div id="userloginForm"><form class="mw-htmlform mw-htmlform-codex" action="%s" method="post" name="userlogin"><input type="hidden" value="Special:UserLogin" name="title">
<div class="cdx-field"><label for="wpName1">Username</label><input id="wpName1" name="wpName" size="20" placeholder="Enter your username" required="" autofocus="" autocomplete="username"></div><div class="cdx-field"><label for="wpPassword1">Password</label><input id="wpPassword1" name="wpPassword" size="20" placeholder="Enter your password" required="" autocomplete="current-password" type="password"></div><div class="cdx-field"><input name="wpRemember" type="checkbox" value="1" id="wpRemember"><label for="wpRemember">Keep me logged in</label></div><div class="cdx-field"><button class="mw-htmlform-submit cdx-button" id="wpLoginAttempt" type="submit" name="wploginattempt" value="Log in">Log in</button></div><input id="wpEditToken" type="hidden" value="+\" name="wpEditToken">
<input name="authAction" type="hidden" value="login">
<input name="force" type="hidden">
<input name="wpLoginToken" type="hidden" value="%s">
</form></div></div>`, html.EscapeString(action), html.EscapeString(loginToken))
	pageHeaders(w.Header())
	w.Header().Set("Cache-Control", "no-cache, no-store, max-age=0, must-revalidate")
	s.writePage(w, http.StatusOK, "Log in", b.String())
}

// loginRedirect sends an anonymous user to log in, as UserNotLoggedIn does.
func (s *Server) loginRedirect(w http.ResponseWriter, r *http.Request, title string, keep []string) {
	q := r.URL.Query()
	var parts []string
	for _, k := range keep {
		if v := q.Get(k); v != "" {
			parts = append(parts, url.QueryEscape(k)+"="+url.QueryEscape(v))
		}
	}
	warning := "mwoauth-named-account-required-reason"
	if s.version == MW139 {
		warning = "mwoauth-login-required-reason"
	}
	loc := s.URL + localURL("Special:UserLogin", "returnto="+url.QueryEscape(title)+"&returntoquery="+url.QueryEscape(strings.Join(parts, "&"))+"&warning="+warning)
	pageHeaders(w.Header())
	w.Header().Set("Location", loc)
	w.WriteHeader(http.StatusFound)
}

// --- Special:OAuth/authorize and /authenticate ---

var grantGroups = []struct {
	group  string
	grants []string
}{
	{"Perform high volume activity", []string{"highvolume"}},
	{"Interact with pages", []string{"editpage", "editprotected", "editmycssjs", "editinterface", "createeditmovepage", "patrol", "rollback", "delete", "protect"}},
	{"Upload, replace, and move files", []string{"uploadfile", "uploadeditmovefile"}},
	{"Interact with your watchlist", []string{"viewmywatchlist", "editmywatchlist"}},
	{"Interact with your preferences", []string{"editmyoptions"}},
	{"Access private information", []string{"privateinfo"}},
	{"Send email to other users", []string{"sendemail"}},
	{"Create accounts", []string{"createaccount"}},
	{"Block and unblock users", []string{"blockusers"}},
	{"View deleted files and pages", []string{"viewdeleted"}},
	{"Configure the site", []string{"editsiteconfig"}},
}

var grantNames = map[string]string{
	"highvolume": "High-volume (bot) access", "editpage": "Edit existing pages",
	"createeditmovepage": "Create, edit, and move pages", "editprotected": "Edit protected pages",
	"editmycssjs": "Edit your user CSS/JSON/JavaScript", "editinterface": "Edit the MediaWiki namespace and sitewide/user JSON",
	"uploadfile": "Upload new files", "uploadeditmovefile": "Upload, replace, and move files",
	"patrol": "Patrol changes to pages", "rollback": "Rollback changes to pages", "delete": "Delete pages, revisions, and log entries",
	"protect": "Protect and unprotect pages", "viewmywatchlist": "View your watchlist", "editmywatchlist": "Edit your watchlist",
	"editmyoptions": "Edit your user preferences and JSON configuration", "privateinfo": "Access your private information",
	"sendemail": "Send email to other users", "createaccount": "Create accounts", "blockusers": "Block and unblock users",
	"viewdeleted": "View deleted information", "editsiteconfig": "Edit sitewide and user CSS/JS",
}

// grantsHTML describes the consumer's grants as the consent page does.
func (s *Server) grantsHTML(c *Consumer, userName string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "<p>Hi %s,\n</p>", html.EscapeString(userName))
	name := "<b>" + html.EscapeString(c.Name) + "</b>"
	if c.identityOnly() {
		if c.privateInfo() {
			fmt.Fprintf(&b, "<p>In order to complete your request, %s needs permission to access information about you, including your real name and email address, on all projects of this site. No changes will be made with your account.\n</p>", name)
		} else {
			fmt.Fprintf(&b, "<p>In order to complete your request, %s needs permission to access information about you on all projects of this site. No changes will be made with your account.\n</p>", name)
		}
		return b.String()
	}
	fmt.Fprintf(&b, "<p>In order to complete your request, %s needs permission to perform the following actions on your behalf on all projects of this site:\n</p>", name)
	for _, g := range grantGroups {
		var items []string
		for _, gr := range g.grants {
			if slices.Contains(c.Grants, gr) {
				items = append(items, grantNames[gr]+` <span class="mw-grant mw-grantriskgroup-low"></span>`)
			}
		}
		if len(items) > 0 {
			fmt.Fprintf(&b, "\n<ul><li><span class=\"mw-grantgroup\">%s</span></li></ul>\n<dl><dd>%s</dd></dl>", g.group, strings.Join(items, "; "))
		}
	}
	b.WriteString("\n<p><br />\n</p>")
	return b.String()
}

// authorizeForm is the consent form of oauth1-08 / oauth1-authorize-form.html:
// the same form id, action, hidden fields and buttons.
func (s *Server) authorizeForm(step string, c *Consumer, reqToken, userName, editToken string, update bool, errMsg string) string {
	var b strings.Builder
	title := "Special:OAuth/" + step
	fmt.Fprintf(&b, `<div id='mw-mwoauth-authorize-panel' class='oo-ui-layout oo-ui-panelLayout'><div class='mw-htmlform-ooui-wrapper oo-ui-layout oo-ui-panelLayout'><form id='mw-mwoauth-authorize-form' action='%s' method='post' enctype='application/x-www-form-urlencoded' class='mw-htmlform mw-htmlform-ooui oo-ui-layout oo-ui-formLayout'><input type="hidden" value="%s" name="title">`+"\n", html.EscapeString(localURL(title, "")), title)
	b.WriteString(`<div class='mw-htmlform-ooui-header oo-ui-layout oo-ui-fieldLayout oo-ui-fieldLayout-align-top'>`)
	if errMsg != "" {
		b.WriteString(`<div class='oo-ui-fieldLayout-messages'><div role='alert' class='oo-ui-widget oo-ui-widget-enabled oo-ui-labelElement oo-ui-flaggedElement-error oo-ui-iconElement oo-ui-messageWidget'><span class='oo-ui-labelElement-label'><p>` + errMsg + `</p></span></div></div>`)
	}
	b.WriteString(`<label class='oo-ui-labelElement-label'>` + s.grantsHTML(c, userName) + `</label></div>`)
	if s.version != MW139 {
		b.WriteString(`<span id='mw-input-wpignorewarnings' class='mw-oauth-form-ignorewarnings-hidden'><input type='checkbox' tabindex='0' name='wpignorewarnings' value='1' id='ooui-php-7' class='oo-ui-inputWidget-input' /></span>`)
	}
	fmt.Fprintf(&b, `<input id="wpEditToken" type="hidden" value="%s" name="wpEditToken">`+"\n", html.EscapeString(editToken))
	if s.version != MW139 {
		b.WriteString(`<input name="display" type="hidden">` + "\n")
	}
	confirm := "0"
	if update {
		confirm = "1"
	}
	fmt.Fprintf(&b, `<input id="mw-input-wpaction" name="wpaction" type="hidden" value="accept">
<input id="mw-input-wpconfirmUpdate" name="wpconfirmUpdate" type="hidden" value="%s">
<input id="mw-input-oauth_version" name="oauth_version" type="hidden" value="1">
<input id="mw-input-consumerKey" name="consumerKey" type="hidden" value="%s">
<input id="mw-input-requestToken" name="requestToken" type="hidden" value="%s">
<div class="mw-htmlform-submit-buttons">
<span id='mw-mwoauth-accept' class='mw-mwoauth-authorize-button oo-ui-widget'><button type='submit' tabindex='0' name='accept' value='Allow' class='oo-ui-inputWidget-input oo-ui-buttonElement-button'><span class='oo-ui-labelElement-label'>Allow</span></button></span><span class='mw-mwoauth-authorize-button oo-ui-widget'><button type='submit' tabindex='0' name='cancel' value='Cancel' class='oo-ui-inputWidget-input oo-ui-buttonElement-button'><span class='oo-ui-labelElement-label'>Cancel</span></button></span></div>
</form></div></div>`, confirm, html.EscapeString(c.Key), html.EscapeString(reqToken))
	return b.String()
}

func (s *Server) unapprovedPage(c *Consumer) string {
	detail := "Connected OAuth app not approved."
	if s.version == MW139 {
		detail = "Connected OAuth app not approved, $3"
	}
	return `"` + html.EscapeString(c.Name) + `" is not approved as a Connected App. <a rel="nofollow" class="external text" href="` + s.canonicalServer() + localURL("User talk:"+c.Owner, "") + `">Contact</a> the application author for help.
</p><p><span class="plainlinks mw-mwoautherror-details">` + detail + `</span>`
}

// handleAuthorize serves Special:OAuth/authorize and /authenticate.
func (s *Server) handleAuthorize(w http.ResponseWriter, r *http.Request, step string) {
	posted := r.Method == http.MethodPost
	var tokKey, consumerKey string
	if posted {
		tokKey, consumerKey = r.PostFormValue("requestToken"), r.PostFormValue("consumerKey")
	} else {
		tokKey, consumerKey = r.FormValue("oauth_token"), r.FormValue("oauth_consumer_key")
	}
	s.mu.Lock()
	se := s.session(w, r, false)
	if se == nil || se.user == "" {
		s.mu.Unlock()
		s.loginRedirect(w, r, "Special:OAuth/"+step, []string{"oauth_token", "oauth_consumer_key"})
		return
	}
	u := s.users[se.user]
	if consumerKey == "" {
		if t := s.reqTokens[tokKey]; t != nil {
			consumerKey = t.consumer
		}
	}
	c := s.consumers[consumerKey]
	if c == nil || c.Version == 2 || u == nil {
		s.mu.Unlock()
		s.writeErrorPage(w, http.StatusOK, `The connected application you are trying to use is not registered.`)
		return
	}
	if c.Proposed && c.Owner != u.Name {
		msg := s.unapprovedPage(c)
		s.mu.Unlock()
		s.writeErrorPage(w, http.StatusOK, msg)
		return
	}
	if c.OwnerOnly {
		e := errOwnerOnly(c)
		s.mu.Unlock()
		s.writeErrorPage(w, http.StatusOK, html.EscapeString(e.msg))
		return
	}
	existing := s.grants[c.Key+"|"+u.Name]
	editTok := s.editToken(se.id+"|"+se.salt, s.now())
	t, terr := s.lookupRequestToken(c.Key, tokKey)

	if !posted {
		if terr != nil {
			s.mu.Unlock()
			s.writeErrorPage(w, http.StatusOK, terr.msg)
			return
		}
		// authenticate skips the form for an identity-only consumer the
		// user already approved.
		if step == "authenticate" && existing != nil && c.identityOnly() {
			loc := s.allow(t, c, u)
			s.mu.Unlock()
			writeFound(w, loc)
			return
		}
		form := s.authorizeForm(step, c, tokKey, u.Name, editTok, existing != nil, "")
		s.mu.Unlock()
		s.writePage(w, http.StatusOK, "OAuth", form)
		return
	}
	if !s.checkEditToken(se.id+"|"+se.salt, r.PostFormValue("wpEditToken")) {
		form := s.authorizeForm(step, c, tokKey, u.Name, editTok, existing != nil,
			"There seems to be a problem with your login session; this action has been canceled as a precaution against session hijacking. Please resubmit the form.")
		s.mu.Unlock()
		s.writePage(w, http.StatusOK, "OAuth", form)
		return
	}
	if r.PostForm.Has("cancel") {
		s.mu.Unlock()
		n := html.EscapeString(c.Name)
		s.writePage(w, http.StatusOK, "OAuth", `<p>You have chosen not to allow "`+n+`" to access your account. "`+n+`" will not work unless you allow it access. You can go back to "`+n+`" or <a href="/w/index.php?title=Special:OAuthManageMyGrants" title="Special:OAuthManageMyGrants">manage</a> your connected apps.
</p>`+returnToMain+"\n")
		return
	}
	if terr != nil || !r.PostForm.Has("accept") {
		msg := "The request is not valid."
		if terr != nil {
			msg = terr.msg
		}
		form := s.authorizeForm(step, c, tokKey, u.Name, editTok, existing != nil, msg)
		s.mu.Unlock()
		s.writePage(w, http.StatusOK, "OAuth", form)
		return
	}
	loc := s.allow(t, c, u)
	s.mu.Unlock()
	writeFound(w, loc)
}

// allow records the user's approval: the grant's access token (the same
// one when the user approved before) and the verifier. It returns the
// callback URL. Callers hold s.mu.
func (s *Server) allow(t *requestToken, c *Consumer, u *User) string {
	gk := c.Key + "|" + u.Name
	at := s.grants[gk]
	if at == nil {
		at = &accessToken{key: randHex(32), secret: randHex(40), consumer: c.Key, user: u.Name}
		s.grants[gk] = at
		s.accTokens[at.key] = at
	}
	t.verifier = randHex(32)
	t.user = u.Name
	t.accessKey = at.key
	// OAuth1Consumer::authorize re-saves the token for 600 s more
	// (updateRequestToken): its lifetime runs from the Allow now.
	t.created = s.now()
	cb := t.callback
	if cb == "oob" || cb == "" {
		cb = c.Callback
	}
	if strings.HasPrefix(cb, "/") {
		cb = s.canonicalServer() + cb
	}
	sep := "?"
	if strings.Contains(cb, "?") {
		sep = "&"
	}
	return cb + sep + "oauth_verifier=" + url.QueryEscape(t.verifier) + "&oauth_token=" + url.QueryEscape(t.key)
}

func writeFound(w http.ResponseWriter, loc string) {
	h := w.Header()
	h.Set("Vary", "Accept-Encoding, Cookie, Authorization")
	h.Set("Expires", "Thu, 01 Jan 1970 00:00:00 GMT")
	h.Set("Cache-Control", "private, must-revalidate, max-age=0")
	h.Set("Content-Type", "text/html; charset=UTF-8")
	h.Set("Location", loc)
	w.WriteHeader(http.StatusFound)
}

// --- Special:OAuthManageMyGrants ---

func (s *Server) handleManageGrants(w http.ResponseWriter, r *http.Request, sub string) {
	s.mu.Lock()
	se := s.session(w, r, false)
	if se == nil || se.user == "" {
		s.mu.Unlock()
		s.loginRedirect(w, r, "Special:OAuthManageMyGrants", nil)
		return
	}
	user := se.user
	if strings.HasPrefix(sub, "revoke/") && r.Method == http.MethodPost && r.PostForm.Has("renounce") {
		if !s.checkEditToken(se.id+"|"+se.salt, r.PostFormValue("wpEditToken")) {
			s.mu.Unlock()
			s.writePage(w, http.StatusOK, "Manage connected applications", "<p>There seems to be a problem with your login session.\n</p>")
			return
		}
		key := strings.TrimPrefix(sub, "revoke/")
		s.revokeLocked(user, key)
		s.mu.Unlock()
		s.writePage(w, http.StatusOK, "Manage connected applications", "<p>The application's access to your account has been revoked.\n</p>\n")
		return
	}
	if strings.HasPrefix(sub, "revoke/") {
		key := strings.TrimPrefix(sub, "revoke/")
		c := s.consumers[key]
		tok := s.editToken(se.id+"|"+se.salt, s.now())
		s.mu.Unlock()
		if c == nil {
			s.writePage(w, http.StatusOK, "Manage connected applications", "<p>No such connected application.\n</p>")
			return
		}
		title := "Special:OAuthManageMyGrants/revoke/" + key
		s.writePage(w, http.StatusOK, "Manage connected applications", fmt.Sprintf(`<p>Use the form below to revoke access for an application to act on your behalf.
</p><form action='%s' method='post' enctype='application/x-www-form-urlencoded'><input type="hidden" value="%s" name="title">
<dl class='mw-mwoauth-infotable'><dt>Application name:</dt><dd>%s</dd></dl>
<input id="wpEditToken" type="hidden" value="%s" name="wpEditToken">
<input id="mw-input-wpacceptanceId" name="wpacceptanceId" type="hidden" value="%s">
<button type='submit' name='renounce' value='Deauthorize'>Deauthorize</button></form>`,
			html.EscapeString(localURL(title, "")), html.EscapeString(title), html.EscapeString(c.Name), html.EscapeString(tok), html.EscapeString(key)))
		return
	}
	var items []string
	for _, k := range s.consumerList {
		if s.grants[k+"|"+user] == nil {
			continue
		}
		c := s.consumers[k]
		items = append(items, fmt.Sprintf(`<li class="mw-mwoauthmanagemygrants-list-item"><strong dir='ltr'>%s [1.0]</strong> (<strong><a href="%s">revoke access</a></strong>)<p>Publisher: %s</p></li>`,
			html.EscapeString(c.Name), html.EscapeString(localURL("Special:OAuthManageMyGrants/revoke/"+k, "")), html.EscapeString(c.Owner)))
	}
	s.mu.Unlock()
	s.writePage(w, http.StatusOK, "Manage connected applications", "<p>This page lists any applications that can use your account.\n</p><ul>"+strings.Join(items, "")+"</ul>")
}
