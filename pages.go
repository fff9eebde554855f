package mwoauth

import (
	"bytes"
	"html/template"
	"net/http"
	"strconv"
)

// pageData fills the library's own small pages. No field ever holds request
// input except Next, which has passed safeNext and is escaped by html/template.
type pageData struct {
	Title         string
	Message       string
	Retry         string // login path to try again, or ""
	ConfirmLogout bool
	Action        string
	Next          string
}

var pageTmpl = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="{{if .ConfirmLogout}}same-origin{{else}}no-referrer{{end}}"><title>{{.Title}}</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;line-height:1.5}button{font-size:1rem;padding:.4rem 1rem}</style>
</head><body>
{{if .ConfirmLogout}}<h1>Log out?</h1>
<form method="post" action="{{.Action}}">{{if .Next}}<input type="hidden" name="next" value="{{.Next}}">{{end}}<button type="submit">Log out</button></form>
{{else}}<h1>{{.Title}}</h1><p>{{.Message}}</p>{{if .Retry}}<p><a href="{{.Retry}}">Try again</a></p>{{end}}{{end}}
</body></html>
`))

// setPageHeaders sets the headers of every response of the login routes.
func setPageHeaders(h http.Header) {
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
}

func renderPage(w http.ResponseWriter, status int, d pageData) {
	var buf bytes.Buffer
	if err := pageTmpl.Execute(&buf, d); err != nil {
		http.Error(w, http.StatusText(status), status)
		return
	}
	h := w.Header()
	setPageHeaders(h)
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'")
	if d.ConfirmLogout {
		// Under no-referrer, browsers send "Origin: null" with the form's
		// POST, and one without Sec-Fetch-Site could never prove the
		// logout same-origin; same-origin keeps the Origin for us only.
		h.Set("Referrer-Policy", "same-origin")
	}
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}
