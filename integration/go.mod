module github.com/wikiauth/mwoauth/integration

go 1.25.0

require github.com/wikiauth/mwoauth v0.0.0

require github.com/go-chi/chi/v5 v5.5.0

require golang.org/x/oauth2 v0.36.0 // indirect

replace github.com/wikiauth/mwoauth => ..
