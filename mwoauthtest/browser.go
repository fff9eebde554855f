package mwoauthtest

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// ErrBrowse is wrapped by the errors of Authorize and LoginApp.
var ErrBrowse = errors.New("mwoauthtest: browsing the login pages failed")

// maxHops bounds the redirects and pages one Authorize or LoginApp follows.
const maxHops = 20

// Authorize plays the user's browser at the wiki: it opens authorizeURL
// (Special:OAuth/authorize or /authenticate) with its own cookie jar and
// manual redirects, logs in on Special:UserLogin as user with password when
// asked, presses Allow on the consent form, and returns the callback URL
// the wiki redirected to (with oauth_verifier and oauth_token). It stops at
// the first redirect that leaves the wiki.
func (s *Server) Authorize(ctx context.Context, authorizeURL, user, password string) (*url.URL, error) {
	c := s.browserClient()
	u, err := url.Parse(authorizeURL)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBrowse, err)
	}
	cb, _, err := s.browse(ctx, c, u, user, password, false)
	return cb, err
}

// LoginApp logs user in to an app that uses this wiki: it GETs appLoginURL
// (the app's /login) with a new cookie jar and follows every redirect by
// hand: app → wiki (login form, consent form with Allow) → the app's
// callback → wherever the app sends the user next, until an answer that is
// not a redirect, which must be a 2xx. It returns the client, whose jar now
// holds the app's session cookie; the client follows no redirects.
func (s *Server) LoginApp(ctx context.Context, appLoginURL, user, password string) (*http.Client, error) {
	c := s.browserClient()
	u, err := url.Parse(appLoginURL)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBrowse, err)
	}
	if _, _, err := s.browse(ctx, c, u, user, password, true); err != nil {
		return nil, err
	}
	return c, nil
}

func (s *Server) browserClient() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{
		Transport:     s.ts.Client().Transport,
		Jar:           jar,
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

func (s *Server) onWiki(u *url.URL) bool {
	w, err := url.Parse(s.URL)
	return err == nil && strings.EqualFold(u.Host, w.Host)
}

// browse follows pages from start. With throughApp false it returns the
// first redirect target off the wiki; with it true it keeps going (into
// the app) until a final answer.
func (s *Server) browse(ctx context.Context, c *http.Client, start *url.URL, user, password string, throughApp bool) (*url.URL, int, error) {
	method, target, form := http.MethodGet, start, url.Values(nil)
	for hop := 0; hop < maxHops; hop++ {
		if !throughApp && !s.onWiki(target) {
			return target, 0, nil
		}
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req, err := http.NewRequestWithContext(ctx, method, target.String(), body)
		if err != nil {
			return nil, 0, fmt.Errorf("%w: %v", ErrBrowse, err)
		}
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		req.Header.Set("User-Agent", "mwoauthtest-browser/1.0")
		resp, err := c.Do(req)
		if err != nil {
			return nil, 0, fmt.Errorf("%w: %s %s: %v", ErrBrowse, method, target.Redacted(), err)
		}
		page, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if err != nil {
			return nil, 0, fmt.Errorf("%w: reading %s: %v", ErrBrowse, target.Redacted(), err)
		}
		if resp.StatusCode >= 300 && resp.StatusCode < 400 {
			loc, err := target.Parse(resp.Header.Get("Location"))
			if err != nil || resp.Header.Get("Location") == "" {
				return nil, 0, fmt.Errorf("%w: bad redirect from %s", ErrBrowse, target.Redacted())
			}
			method, target, form = http.MethodGet, loc, nil
			continue
		}
		if !s.onWiki(target) {
			if resp.StatusCode/100 != 2 {
				return nil, resp.StatusCode, fmt.Errorf("%w: %s answered %d", ErrBrowse, target.Redacted(), resp.StatusCode)
			}
			return target, resp.StatusCode, nil
		}
		text := string(page)
		switch {
		case strings.Contains(text, `name="userlogin"`):
			f, ok := findForm(text, `name="userlogin"`)
			if !ok {
				return nil, 0, fmt.Errorf("%w: no login form", ErrBrowse)
			}
			if strings.Contains(text, "cdx-message--error") && hop > 0 && form != nil && form.Has("wpPassword") {
				return nil, 0, fmt.Errorf("%w: login as %q refused: %s", ErrBrowse, user, pageMessage(text))
			}
			f.values.Set("wpName", user)
			f.values.Set("wpPassword", password)
			f.values.Set("wploginattempt", "Log in")
			method, form = http.MethodPost, f.values
			target, err = target.Parse(f.action)
		case strings.Contains(text, "mw-mwoauth-authorize-form"):
			f, ok := findForm(text, `id='mw-mwoauth-authorize-form'`)
			if !ok {
				return nil, 0, fmt.Errorf("%w: no consent form", ErrBrowse)
			}
			if form != nil && form.Has("accept") {
				return nil, 0, fmt.Errorf("%w: Allow refused: %s", ErrBrowse, pageMessage(text))
			}
			f.values.Set("accept", "Allow")
			method, form = http.MethodPost, f.values
			target, err = target.Parse(f.action)
		default:
			return nil, 0, fmt.Errorf("%w: the wiki showed %q (HTTP %d): %s", ErrBrowse, pageHeading(text), resp.StatusCode, pageMessage(text))
		}
		if err != nil {
			return nil, 0, fmt.Errorf("%w: bad form action: %v", ErrBrowse, err)
		}
	}
	return nil, 0, fmt.Errorf("%w: more than %d hops", ErrBrowse, maxHops)
}

type htmlForm struct {
	action string
	values url.Values
}

var (
	formRe  = regexp.MustCompile(`(?s)<form\b([^>]*)>(.*?)</form>`)
	inputRe = regexp.MustCompile(`<input\b([^>]*)>`)
	attrRe  = regexp.MustCompile(`([a-zA-Z_:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')`)
	tagRe   = regexp.MustCompile(`<[^>]*>`)
	h1Re    = regexp.MustCompile(`(?s)<h1[^>]*>(.*?)</h1>`)
	bodyRe  = regexp.MustCompile(`(?s)<div id="mw-content-text"[^>]*>(.*)</div>`)
)

func attrs(s string) map[string]string {
	m := map[string]string{}
	for _, a := range attrRe.FindAllStringSubmatch(s, 50) {
		v := a[2]
		if v == "" {
			v = a[3]
		}
		m[strings.ToLower(a[1])] = html.UnescapeString(v)
	}
	return m
}

// findForm returns the form whose attributes contain marker, with its
// inputs (checkboxes only when checked, buttons left out).
func findForm(page, marker string) (htmlForm, bool) {
	for _, m := range formRe.FindAllStringSubmatch(page, 20) {
		if !strings.Contains(m[1], marker) {
			continue
		}
		f := htmlForm{action: attrs(m[1])["action"], values: url.Values{}}
		for _, in := range inputRe.FindAllStringSubmatch(m[2], 200) {
			a := attrs(in[1])
			name := a["name"]
			if name == "" {
				continue
			}
			if t := strings.ToLower(a["type"]); (t == "checkbox" || t == "radio") && !strings.Contains(in[1], "checked") {
				continue
			}
			f.values.Add(name, a["value"])
		}
		return f, true
	}
	return htmlForm{}, false
}

func pageHeading(page string) string {
	if m := h1Re.FindStringSubmatch(page); m != nil {
		return html.UnescapeString(tagRe.ReplaceAllString(m[1], ""))
	}
	return ""
}

func pageMessage(page string) string {
	t := page
	if m := bodyRe.FindStringSubmatch(page); m != nil {
		t = m[1]
	}
	t = strings.Join(strings.Fields(html.UnescapeString(tagRe.ReplaceAllString(t, " "))), " ")
	if len(t) > 300 {
		t = t[:300] + "…"
	}
	return t
}
