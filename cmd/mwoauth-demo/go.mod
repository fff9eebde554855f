module github.com/wikiauth/mwoauth/cmd/mwoauth-demo

go 1.25.0

require github.com/wikiauth/mwoauth v0.0.0

require (
	filippo.io/edwards25519 v1.2.0 // indirect
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/dustin/go-humanize v1.0.1 // indirect
	github.com/go-sql-driver/mysql v1.10.2 // indirect
	github.com/google/uuid v1.6.0 // indirect
	github.com/jackc/pgpassfile v1.0.0 // indirect
	github.com/jackc/pgservicefile v0.0.0-20240606120523-5a60cdf6a761 // indirect
	github.com/jackc/pgx/v5 v5.13.0 // indirect
	github.com/jackc/puddle/v2 v2.2.3 // indirect
	github.com/mattn/go-isatty v0.0.24 // indirect
	github.com/ncruces/go-strftime v1.0.0 // indirect
	github.com/redis/go-redis/v9 v9.22.0 // indirect
	github.com/remyoudompheng/bigfft v0.0.0-20230129092748-24d4a6f8daec // indirect
	go.uber.org/atomic v1.11.0 // indirect
	golang.org/x/sync v0.22.0 // indirect
	golang.org/x/sys v0.47.0 // indirect
	golang.org/x/text v0.41.0 // indirect
	modernc.org/libc v1.75.7 // indirect
	modernc.org/mathutil v1.7.1 // indirect
	modernc.org/memory v1.12.1 // indirect
	modernc.org/sqlite v1.59.0 // indirect
)

require (
	github.com/wikiauth/mwoauth/stores/mysqlstore v0.0.0
	github.com/wikiauth/mwoauth/stores/postgresstore v0.0.0
	github.com/wikiauth/mwoauth/stores/redisstore v0.0.0
	github.com/wikiauth/mwoauth/stores/sqlitestore v0.0.0
	golang.org/x/oauth2 v0.36.0 // indirect
)

replace github.com/wikiauth/mwoauth => ../..

replace (
	github.com/wikiauth/mwoauth/stores/mysqlstore => ../../stores/mysqlstore
	github.com/wikiauth/mwoauth/stores/postgresstore => ../../stores/postgresstore
	github.com/wikiauth/mwoauth/stores/redisstore => ../../stores/redisstore
	github.com/wikiauth/mwoauth/stores/sqlitestore => ../../stores/sqlitestore
)
