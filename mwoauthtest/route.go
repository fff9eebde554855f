package mwoauthtest

import (
	"html"
	"net/http"
	"sort"
	"strings"
	"time"
)

type page struct {
	id, rev  int
	title    string
	text     string
	modified time.Time
}

// normalizeTitle is a (main namespace) title as MediaWiki normalizes it:
// underscores become spaces, spaces collapse, the first letter is upper case.
func normalizeTitle(t string) string {
	t = strings.Join(strings.Fields(strings.ReplaceAll(t, "_", " ")), " ")
	if t == "" {
		return ""
	}
	r := []rune(t)
	if r[0] < 128 {
		r[0] = []rune(strings.ToUpper(string(r[0])))[0]
	}
	return string(r)
}

// dbKey is a title's database key (underscores).
func dbKey(t string) string { return strings.ReplaceAll(normalizeTitle(t), " ", "_") }

// AddPage creates or replaces a page in the main namespace.
func (s *Server) AddPage(title, text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p := s.pages[dbKey(title)]; p != nil {
		p.text = text
		p.rev = s.nextRevID
		p.modified = s.now().UTC().Truncate(time.Second)
		s.nextRevID++
		return
	}
	s.addPageLocked(title, text)
}

// PageText returns a page's text and whether it exists.
func (s *Server) PageText(title string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p := s.pages[dbKey(title)]; p != nil {
		return p.text, true
	}
	return "", false
}

func (s *Server) addPageLocked(title, text string) *page {
	p := &page{id: s.nextPageID, rev: s.nextRevID, title: normalizeTitle(title), text: text, modified: s.now().UTC().Truncate(time.Second)}
	s.nextPageID++
	s.nextRevID++
	s.pages[dbKey(title)] = p
	return p
}

func (s *Server) sortedPageKeys() []string {
	keys := make([]string, 0, len(s.pages))
	for k := range s.pages {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// route picks the endpoint and handler of a request.
func (s *Server) route(r *http.Request, body []byte) (Endpoint, http.HandlerFunc) {
	path := r.URL.Path
	switch {
	case path == "/w/api.php":
		return EndpointAPI, func(w http.ResponseWriter, r *http.Request) { s.handleAPI(w, r, body) }
	case strings.HasPrefix(path, "/w/rest.php/"):
		return s.routeREST(r, strings.TrimPrefix(path, "/w/rest.php"), body)
	case path == "/w/index.php" || path == "/w/" || path == "/" || strings.HasPrefix(path, "/wiki/"):
	default:
		return EndpointIndex, http.NotFound
	}
	r.ParseForm()
	title := r.Form.Get("title")
	if strings.HasPrefix(path, "/wiki/") {
		title = strings.TrimPrefix(path, "/wiki/")
	}
	if title == "" {
		title = "Main Page"
	}
	t := strings.ReplaceAll(title, "_", " ")
	special, sub, _ := strings.Cut(t, "/")
	switch strings.ToLower(special) {
	case "special:oauth":
		switch sub {
		case "initiate":
			return EndpointInitiate, func(w http.ResponseWriter, r *http.Request) { s.handleInitiate(w, r, body) }
		case "token":
			return EndpointToken, func(w http.ResponseWriter, r *http.Request) { s.handleToken(w, r, body) }
		case "identify":
			return EndpointIdentify, func(w http.ResponseWriter, r *http.Request) { s.handleIdentify(w, r, body) }
		case "authorize":
			return EndpointAuthorize, func(w http.ResponseWriter, r *http.Request) { s.handleAuthorize(w, r, "authorize") }
		case "authenticate":
			return EndpointAuthenticate, func(w http.ResponseWriter, r *http.Request) { s.handleAuthorize(w, r, "authenticate") }
		case "approve":
			return EndpointOAuth2Approve, s.handleApprove
		case "rest redirect":
			return EndpointIndex, s.handleRestRedirect
		case "verified":
			return EndpointIndex, s.handleVerified
		}
	case "special:userlogin":
		return EndpointLogin, s.handleLogin
	case "special:oauthmanagemygrants":
		return EndpointManageGrants, func(w http.ResponseWriter, r *http.Request) { s.handleManageGrants(w, r, sub) }
	}
	return EndpointIndex, func(w http.ResponseWriter, r *http.Request) { s.handleView(w, r, title) }
}

// handleView shows a page (or the wiki's "no such page" text).
func (s *Server) handleView(w http.ResponseWriter, r *http.Request, title string) {
	s.mu.Lock()
	p := s.pages[dbKey(title)]
	var text string
	if p != nil {
		text = p.text
	}
	s.mu.Unlock()
	t := normalizeTitle(title)
	if p == nil {
		s.writePage(w, http.StatusNotFound, t, "<p>There is currently no text in this page.\n</p>")
		return
	}
	s.writePage(w, http.StatusOK, t, "<p>"+html.EscapeString(text)+"\n</p>")
}

// handleVerified is Special:OAuth/verified, where an "oob" consumer without
// a callback URL sends the user: it shows the verification code.
func (s *Server) handleVerified(w http.ResponseWriter, r *http.Request) {
	v := r.FormValue("oauth_verifier")
	if v == "" {
		s.writeErrorPage(w, http.StatusOK, "No verification code was given.")
		return
	}
	s.writePage(w, http.StatusOK, "OAuth", "<p>To complete the process, provide this verification value to the application: <span id=\"mw-mwoauth-verifier\">"+html.EscapeString(v)+"</span>\n</p>")
}
