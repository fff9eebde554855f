module github.com/wikiauth/mwoauth

go 1.25
