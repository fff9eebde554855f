module github.com/wikiauth/mwoauth/cmd/mwoauth-demo

go 1.25

require github.com/wikiauth/mwoauth v0.0.0

replace github.com/wikiauth/mwoauth => ../..
