module github.com/wikiauth/mwoauth/stores/mysqlstore

go 1.25.0

require (
	github.com/go-sql-driver/mysql v1.10.2
	github.com/wikiauth/mwoauth v0.0.0
)

require (
	filippo.io/edwards25519 v1.2.0 // indirect
	golang.org/x/oauth2 v0.36.0 // indirect
)

replace github.com/wikiauth/mwoauth => ../..
