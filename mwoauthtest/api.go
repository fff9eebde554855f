package mwoauthtest

import (
	"html"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// api.php. The dispatch is table-driven so that other files (api_*.go) can
// add actions, query submodules, pre-module checks and error formats from
// an init function without editing this one:
//
//	apiActions["upload"] = apiAction{run: ..., mustPost: true, needsToken: true, write: true}
//	apiQueryModules["meta"]["siteinfo"] = func(c *apiCall, q *apiQuery) *apiError { ... }
//	apiChecks = append(apiChecks, checkMaxlag)
//	apiErrorFormats["plaintext"] = func(c *apiCall, e *apiError) obj { ... }
//
// Everything in an apiCall runs with the Server's mutex held.

// apiError is an API error: HTTP 200 with MediaWiki-API-Error: code.
type apiError struct {
	code, info string
	// data are extra members of the error object (after info), e.g.
	// maxlag's host, lag and type.
	data obj
	// header are extra response headers (Retry-After, X-Database-Lag).
	header http.Header
	// status, when not 0, replaces HTTP 200.
	status int
}

func newAPIError(code, info string) *apiError { return &apiError{code: code, info: info} }

// apiCall is one api.php request being answered.
type apiCall struct {
	s      *Server
	r      *http.Request
	params url.Values // query and POST body, POST winning (WebRequest)
	posted url.Values // the POST body alone
	format string     // "json" or "jsonfm"
	fv2    bool       // formatversion=2

	user       *User     // nil when anonymous
	consumer   *Consumer // the OAuth consumer, if any
	rights     []string  // after grants and scopes
	sessionKey string    // CSRF tokens are bound to it ("" = anonymous)

	warnings obj // module name → list of warning texts
}

func (c *apiCall) has(right string) bool { return slices.Contains(c.rights, right) }

// warn adds a warning for module.
func (c *apiCall) warn(module, text string) {
	for i := range c.warnings {
		if c.warnings[i].k == module {
			c.warnings[i].v = append(c.warnings[i].v.([]string), text)
			return
		}
	}
	c.warnings = append(c.warnings, kv{module, []string{text}})
}

// flag is "" in formatversion 1 and true in 2 (MediaWiki's booleans).
func (c *apiCall) flag() any {
	if c.fv2 {
		return true
	}
	return ""
}

// apiAction describes an api.php action.
type apiAction struct {
	run        func(c *apiCall) (obj, *apiError)
	mustPost   bool
	needsToken bool   // a csrf token in the POST body
	tokenType  string // "" = csrf
	read       bool   // needs the read right (readapidenied)
	write      bool   // a write module
}

var apiActions = map[string]apiAction{
	"query": {run: apiQueryAction, read: true},
	"edit":  {run: apiEdit, mustPost: true, needsToken: true, read: true, write: true},
}

// apiQuery collects the result of action=query.
type apiQuery struct {
	query obj // the "query" object
	cont  obj // the "continue" object
}

// apiQueryModules are action=query's submodules by parameter (meta, list, prop).
var apiQueryModules = map[string]map[string]func(c *apiCall, q *apiQuery) *apiError{
	"meta": {"userinfo": apiUserinfo, "tokens": apiTokens},
	"list": {"allpages": apiAllpages},
	"prop": {},
}

// apiChecks run after authentication and the module's permission checks,
// before the module (maxlag, asserts...).
var apiChecks = []func(c *apiCall, a apiAction) *apiError{apiAssert}

// apiErrorFormats render an error for an errorformat value other than
// "bc" (the default, built in).
var apiErrorFormats = map[string]func(c *apiCall, e *apiError) obj{}

func (s *Server) docref() string {
	return "See " + s.canonicalServer() + "/w/api.php for API usage. Subscribe to the mediawiki-api-announce mailing list at &lt;https://lists.wikimedia.org/postorius/lists/mediawiki-api-announce.lists.wikimedia.org/&gt; for notice of API deprecations and breaking changes."
}

func (s *Server) handleAPI(w http.ResponseWriter, r *http.Request, body []byte) {
	c := &apiCall{s: s, r: r, params: url.Values{}, posted: url.Values{}}
	for k, v := range r.URL.Query() {
		c.params[k] = v
	}
	if r.Method == http.MethodPost {
		if err := r.ParseMultipartForm(maxBody); err == nil && r.MultipartForm != nil {
			for k, v := range r.MultipartForm.Value {
				c.posted[k] = v
			}
		} else if strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
			// As PHP fills $_POST: ";" is no separator, a bad escape stays
			// as it is, the last duplicate wins (url.ParseQuery would
			// refuse the whole body for one such pair).
			parsePHPQuery(string(body), func(k, v string) { c.posted[k] = []string{v} })
		}
		for k, v := range c.posted {
			c.params[k] = v
		}
	}
	c.format = c.params.Get("format")
	if c.format == "" {
		c.format = "jsonfm"
	}
	c.fv2 = c.params.Get("formatversion") == "2" || c.params.Get("formatversion") == "latest"

	s.mu.Lock()
	res, e := c.execute(body)
	s.mu.Unlock()
	c.write(w, res, e)
}

// execute authenticates and runs the action. Callers hold s.mu.
func (c *apiCall) execute(body []byte) (obj, *apiError) {
	s := c.s
	if e := c.authenticate(body); e != nil {
		return nil, e
	}
	switch c.format {
	case "json", "jsonfm":
	default:
		c.format = "json"
		return nil, newAPIError("badvalue", `Unrecognized value for parameter "format": `+c.params.Get("format")+".")
	}
	name := c.params.Get("action")
	if name == "" {
		name = "help"
	}
	a, ok := apiActions[name]
	if !ok {
		if name == "help" {
			return obj{{"help", obj{{"mime", "text/html"}, {"help", "MediaWiki API (mwoauthtest)"}}}}, nil
		}
		return nil, newAPIError("badvalue", `Unrecognized value for parameter "action": `+name+".")
	}
	// ApiMain::setupModule: the token.
	if a.needsToken {
		tok, inBody := c.posted["token"]
		if _, inQuery := c.r.URL.Query()["token"]; !inBody && !inQuery {
			return nil, newAPIError("missingparam", `The "token" parameter must be set.`)
		} else if !inBody {
			return nil, newAPIError("mustpostparams", "The following parameter was found in the query string, but must be in the POST body: token.")
		}
		if !c.checkToken(a.tokenType, tok[0]) {
			return nil, newAPIError("badtoken", "Invalid CSRF token.")
		}
	}
	// ApiMain::checkExecutePermissions.
	if a.read && !c.has("read") {
		return nil, newAPIError("readapidenied", "You need read permission to use this module.")
	}
	if a.write && s.version == MW139 && !c.has("writeapi") {
		return nil, newAPIError("writeapidenied", "You're not allowed to edit this wiki through the API.")
	}
	if a.mustPost && c.r.Method != http.MethodPost {
		return nil, newAPIError("mustbeposted", `The "`+name+`" module requires a POST request.`)
	}
	for _, check := range apiChecks {
		if e := check(c, a); e != nil {
			return nil, e
		}
	}
	return a.run(c)
}

// authenticate finds who is calling: an OAuth 1 signature, an OAuth 2
// bearer token, a wiki session cookie, or nobody.
func (c *apiCall) authenticate(body []byte) *apiError {
	s := c.s
	auth := c.r.Header.Get("Authorization")
	invalid := func(text string) *apiError {
		return newAPIError("mwoauth-invalid-authorization", "The authorization headers in your request are not valid: "+text)
	}
	switch {
	case strings.HasPrefix(auth, "OAuth "):
		o := s.readOAuth(c.r, body)
		cons, at, e := s.verifyAccess(o)
		if e != nil {
			if e.raw != "" {
				return invalid(e.raw)
			}
			return invalid(e.msg)
		}
		u := s.users[at.user]
		if u == nil {
			return invalid("The authorization headers in your request are for a user that does not exist here")
		}
		c.user, c.consumer = u, cons
		c.rights = filterRights(rightsFor(u, s.version), cons.Grants)
		c.sessionKey = "oauth1|" + at.key
		return nil
	case strings.HasPrefix(auth, "Bearer "):
		u, cons, scope, key, text := s.verifyBearer(strings.TrimPrefix(auth, "Bearer "))
		if text != "" {
			return invalid(text)
		}
		c.user, c.consumer = u, cons
		c.rights = filterRights(rightsFor(u, s.version), scope)
		c.sessionKey = "oauth2|" + key
		return nil
	}
	if ck, err := c.r.Cookie(sessionCookie); err == nil {
		if se := s.sessions[ck.Value]; se != nil && se.user != "" {
			if u := s.users[se.user]; u != nil {
				c.user = u
				c.rights = rightsFor(u, s.version)
				c.sessionKey = se.id + "|" + se.salt
				return nil
			}
		}
	}
	c.rights = clone(anonRights)
	return nil
}

func (c *apiCall) checkToken(typ, tok string) bool {
	if typ == "" || typ == "csrf" {
		return c.s.checkEditToken(c.sessionKey, tok)
	}
	return c.s.checkEditToken(typ+"|"+c.sessionKey, tok)
}

func (c *apiCall) token(typ string) string {
	if c.sessionKey == "" {
		return `+\`
	}
	if typ == "csrf" {
		return c.s.editToken(c.sessionKey, c.s.now())
	}
	return c.s.editToken(typ+"|"+c.sessionKey, c.s.now())
}

// write sends the result or the error as api.php does.
func (c *apiCall) write(w http.ResponseWriter, res obj, e *apiError) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	status := http.StatusOK
	var out obj
	if e != nil {
		h.Set("MediaWiki-API-Error", e.code)
		for k, v := range e.header {
			h[k] = v
		}
		if e.status != 0 {
			status = e.status
		}
		if f := apiErrorFormats[c.params.Get("errorformat")]; f != nil {
			out = f(c, e)
		} else {
			eo := obj{{"code", e.code}, {"info", e.info}}
			eo = append(eo, e.data...)
			if c.fv2 {
				eo = append(eo, kv{"docref", c.s.docref()})
			} else {
				eo = append(eo, kv{"*", c.s.docref()})
			}
			out = obj{{"error", eo}}
		}
		if len(c.warnings) > 0 {
			out = append(obj{{"warnings", c.warningsObj()}}, out...)
		}
	} else {
		if len(c.warnings) > 0 {
			out = append(out, kv{"warnings", c.warningsObj()})
		}
		out = append(out, res...)
	}
	body := phpJSON(out, jsonOpts{utf8: c.fv2 || c.params.Get("utf8") != ""})
	if c.format == "jsonfm" {
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cache-Control", "private, must-revalidate, max-age=0")
		w.WriteHeader(status)
		w.Write([]byte("<!DOCTYPE html>\n<html><head><title>MediaWiki API result</title></head><body>\n<div class=\"mw-datatable\">This is the HTML representation of the JSON format. HTML is good for debugging, but is unsuitable for application use.</div>\n<pre class=\"api-pretty-content\">" + html.EscapeString(string(body)) + "</pre>\n</body></html>\n"))
		return
	}
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Disposition", "inline; filename=api-result.json")
	h.Set("Cache-Control", "private, must-revalidate, max-age=0")
	w.WriteHeader(status)
	w.Write(body)
}

func (c *apiCall) warningsObj() obj {
	var o obj
	for _, m := range c.warnings {
		texts := strings.Join(m.v.([]string), "\n")
		if c.fv2 {
			o = append(o, kv{m.k, obj{{"warnings", texts}}})
		} else {
			o = append(o, kv{m.k, obj{{"*", texts}}})
		}
	}
	return o
}

// splitMulti splits a multi-value parameter on "|" (or on U+001F when it
// starts with it), bounded.
func splitMulti(v string) []string {
	if v == "" {
		return nil
	}
	sep := "|"
	if strings.HasPrefix(v, "\x1f") {
		v, sep = v[1:], "\x1f"
	}
	parts := strings.SplitN(v, sep, 501)
	if len(parts) > 500 {
		parts = parts[:500]
	}
	return parts
}

// apiAssert is ApiMain::checkAsserts.
func apiAssert(c *apiCall, _ apiAction) *apiError {
	switch c.params.Get("assert") {
	case "user":
		if c.user == nil {
			return newAPIError("assertuserfailed", "You are no longer logged in, so the action could not be completed.")
		}
	case "bot":
		if !c.has("bot") {
			return newAPIError("assertbotfailed", `You do not have the "bot" right, so the action could not be completed.`)
		}
	case "anon":
		if c.user != nil {
			return newAPIError("assertanonfailed", "You are no longer logged out, so the action could not be completed.")
		}
	}
	if n := c.params.Get("assertuser"); n != "" && (c.user == nil || c.user.Name != normalizeTitle(n)) {
		return newAPIError("assertnameduserfailed", `You are no longer logged in as "`+n+`", so the action could not be completed.`)
	}
	return nil
}

func apiQueryAction(c *apiCall) (obj, *apiError) {
	q := &apiQuery{}
	for _, p := range []string{"meta", "list", "prop"} {
		for _, name := range splitMulti(c.params.Get(p)) {
			m := apiQueryModules[p][name]
			if m == nil {
				c.warn("query", `Unrecognized value for parameter "`+p+`": `+name+".")
				continue
			}
			if e := m(c, q); e != nil {
				return nil, e
			}
		}
	}
	out := obj{{"batchcomplete", c.flag()}}
	if len(q.cont) > 0 {
		out = append(out, kv{"continue", append(q.cont, kv{"continue", "-||"})})
	}
	if len(q.query) > 0 {
		out = append(out, kv{"query", q.query})
	}
	return out, nil
}

func apiUserinfo(c *apiCall, q *apiQuery) *apiError {
	props := splitMulti(c.params.Get("uiprop"))
	want := func(p string) bool { return slices.Contains(props, p) }
	var ui obj
	if c.user == nil {
		ui = obj{{"id", 0}, {"name", remoteIP(c.r)}, {"anon", c.flag()}}
	} else {
		ui = obj{{"id", c.user.ID}, {"name", c.user.Name}}
	}
	if want("blockinfo") && c.user != nil && c.user.Blocked {
		ui = append(ui, kv{"blockid", 1}, kv{"blockedby", "Admin"}, kv{"blockedbyid", 1},
			kv{"blockreason", "Blocked by mwoauthtest"}, kv{"blockedtimestamp", c.s.now().UTC().Format("2006-01-02T15:04:05Z")},
			kv{"blockexpiry", "infinite"}, kv{"blockpartial", false})
	}
	if want("groups") {
		if c.user == nil {
			ui = append(ui, kv{"groups", []string{"*"}})
		} else {
			ui = append(ui, kv{"groups", groupsFor(c.user)})
		}
	}
	if want("rights") {
		ui = append(ui, kv{"rights", clone(c.rights)})
	}
	if want("editcount") && c.user != nil {
		ui = append(ui, kv{"editcount", c.user.EditCount})
	}
	if want("email") && c.user != nil && c.has("viewmyprivateinfo") {
		ui = append(ui, kv{"email", c.user.Email})
	}
	if want("realname") && c.user != nil && c.has("viewmyprivateinfo") {
		ui = append(ui, kv{"realname", c.user.RealName})
	}
	if want("registrationdate") && c.user != nil {
		ui = append(ui, kv{"registrationdate", c.user.Registered.UTC().Format("2006-01-02T15:04:05Z")})
	}
	q.query = q.query.set("userinfo", ui)
	return nil
}

var tokenTypes = []string{"createaccount", "csrf", "login", "patrol", "rollback", "userrights", "watch"}

func apiTokens(c *apiCall, q *apiQuery) *apiError {
	types := splitMulti(c.params.Get("type"))
	if len(types) == 0 {
		types = []string{"csrf"}
	}
	var t obj
	for _, typ := range types {
		if !slices.Contains(tokenTypes, typ) {
			c.warn("tokens", `Unrecognized value for parameter "type": `+typ+".")
			continue
		}
		t = append(t, kv{typ + "token", c.token(typ)})
	}
	q.query = q.query.set("tokens", t)
	return nil
}

func remoteIP(r *http.Request) string {
	host := r.RemoteAddr
	if i := strings.LastIndexByte(host, ':'); i >= 0 {
		host = host[:i]
	}
	return strings.Trim(host, "[]")
}

// limit reads a limit parameter as ApiBase does: default def, "max", and
// clamping to 1..max (5000 with apihighlimits) with a warning.
func (c *apiCall) limit(module, name string, def int) (int, *apiError) {
	max := 500
	if c.has("apihighlimits") {
		max = 5000
	}
	v := c.params.Get(name)
	switch v {
	case "":
		return def, nil
	case "max":
		return max, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, newAPIError("badinteger", `Invalid value "`+v+`" for integer parameter "`+name+`".`)
	}
	if n > max {
		c.warn(module, `"`+name+`" may not be over `+strconv.Itoa(max)+` (set to `+strconv.Itoa(max)+`) for users.`)
		n = max
	}
	if n < 1 {
		c.warn(module, `"`+name+`" may not be less than 1 (set to 1).`)
		n = 1
	}
	return n, nil
}

func apiAllpages(c *apiCall, q *apiQuery) *apiError {
	lim, e := c.limit("allpages", "aplimit", 10)
	if e != nil {
		return e
	}
	from := dbKey(c.params.Get("apfrom"))
	if cont := c.params.Get("apcontinue"); cont != "" {
		from = dbKey(cont)
	}
	to := dbKey(c.params.Get("apto"))
	prefix := dbKey(c.params.Get("apprefix"))
	if ns := c.params.Get("apnamespace"); ns != "" && ns != "0" {
		q.query = q.query.set("allpages", []obj{})
		return nil
	}
	keys := c.s.sortedPageKeys()
	if c.params.Get("apdir") == "descending" {
		slices.Reverse(keys)
	}
	list := []obj{}
	desc := c.params.Get("apdir") == "descending"
	for _, k := range keys {
		if from != "" && ((!desc && k < from) || (desc && k > from)) {
			continue
		}
		if to != "" && ((!desc && k > to) || (desc && k < to)) {
			continue
		}
		if !strings.HasPrefix(k, prefix) {
			continue
		}
		if len(list) == lim {
			q.cont = obj{{"apcontinue", k}}
			break
		}
		p := c.s.pages[k]
		list = append(list, obj{{"pageid", p.id}, {"ns", 0}, {"title", p.title}})
	}
	q.query = q.query.set("allpages", list)
	return nil
}

func apiEdit(c *apiCall) (obj, *apiError) {
	s := c.s
	title := normalizeTitle(c.params.Get("title"))
	var p *page
	if id := c.params.Get("pageid"); id != "" && title == "" {
		n, _ := strconv.Atoi(id)
		for _, pg := range s.pages {
			if pg.id == n {
				p = pg
			}
		}
		if p == nil {
			return nil, newAPIError("nosuchpageid", "There is no page with ID "+id+".")
		}
		title = p.title
	}
	if title == "" {
		return nil, newAPIError("missingparam", `One of the parameters "title" and "pageid" is required.`)
	}
	text, hasText := c.params["text"]
	appendText, hasAppend := c.params["appendtext"]
	prependText, hasPrepend := c.params["prependtext"]
	if !hasText && !hasAppend && !hasPrepend && c.params.Get("undo") == "" {
		return nil, newAPIError("missingparam", `At least one of the parameters "text", "appendtext", "prependtext" and "undo" is required.`)
	}
	if p == nil {
		p = s.pages[dbKey(title)]
	}
	if !c.has("edit") {
		return nil, newAPIError("permissiondenied", "You do not have permission to edit this page.")
	}
	if c.user != nil && c.user.Blocked {
		return nil, newAPIError("blocked", "You have been blocked from editing.")
	}
	if p == nil {
		if _, ok := c.params["nocreate"]; ok {
			return nil, newAPIError("missingtitle", "The page you specified doesn't exist.")
		}
		if !c.has("createpage") {
			return nil, newAPIError("cantcreate", "You do not have permission to create new pages.")
		}
	} else if _, ok := c.params["createonly"]; ok {
		return nil, newAPIError("articleexists", "The article you tried to create has been created already.")
	}
	newText := ""
	if p != nil {
		newText = p.text
	}
	if hasText {
		newText = text[0]
	}
	if hasPrepend {
		newText = prependText[0] + newText
	}
	if hasAppend {
		newText += appendText[0]
	}
	ts := s.now().UTC().Format("2006-01-02T15:04:05Z")
	res := obj{}
	changed := true
	if p == nil {
		p = s.addPageLocked(title, "")
		p.text = newText
		res = append(res, kv{"new", c.flag()}, kv{"result", "Success"}, kv{"pageid", p.id}, kv{"title", p.title},
			kv{"contentmodel", "wikitext"}, kv{"oldrevid", 0}, kv{"newrevid", p.rev}, kv{"newtimestamp", ts})
	} else if p.text == newText {
		res = append(res, kv{"result", "Success"}, kv{"pageid", p.id}, kv{"title", p.title}, kv{"contentmodel", "wikitext"}, kv{"nochange", c.flag()})
		changed = false
	} else {
		old := p.rev
		p.rev = s.nextRevID
		s.nextRevID++
		p.text = newText
		p.modified = s.now().UTC().Truncate(time.Second)
		res = append(res, kv{"result", "Success"}, kv{"pageid", p.id}, kv{"title", p.title},
			kv{"contentmodel", "wikitext"}, kv{"oldrevid", old}, kv{"newrevid", p.rev}, kv{"newtimestamp", ts})
	}
	if c.user != nil {
		if changed {
			c.user.EditCount++
		}
		res = append(res, kv{"watched", c.flag()})
	}
	return obj{{"edit", res}}, nil
}
