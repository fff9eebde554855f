package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/wikiauth/mwoauth/session"
	"github.com/wikiauth/mwoauth/stores/mysqlstore"
	"github.com/wikiauth/mwoauth/stores/postgresstore"
	"github.com/wikiauth/mwoauth/stores/redisstore"
	"github.com/wikiauth/mwoauth/stores/sqlitestore"
)

// openSessions opens the session store the -sessions flag names:
// "" (the encrypted cookie, no store), "memory", "sqlite:PATH",
// "redis://…", "mysql://…" or "postgres://…". The returned closer releases
// the store's connections.
func openSessions(ctx context.Context, spec string) (session.Store, io.Closer, error) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	switch {
	case spec == "" || spec == "cookie":
		return nil, nopCloser{}, nil
	case spec == "memory":
		return session.NewMemoryStore(), nopCloser{}, nil
	case strings.HasPrefix(spec, "sqlite:"):
		path := strings.TrimPrefix(spec, "sqlite:")
		if path == "" {
			return nil, nil, fmt.Errorf("-sessions sqlite:PATH needs a file path")
		}
		s, err := sqlitestore.New(path)
		return s, s, err
	case strings.HasPrefix(spec, "redis://"), strings.HasPrefix(spec, "rediss://"):
		s, err := redisstore.Open(spec)
		return s, s, err
	case strings.HasPrefix(spec, "mysql://"):
		s, err := mysqlstore.Open(ctx, spec)
		return s, s, err
	case strings.HasPrefix(spec, "postgres://"), strings.HasPrefix(spec, "postgresql://"):
		s, err := postgresstore.Open(ctx, spec)
		return s, s, err
	}
	return nil, nil, fmt.Errorf("-sessions %q: want sqlite:PATH, redis://…, mysql://…, postgres://…, memory, or nothing for the encrypted cookie", redactURL(spec))
}

// redactURL hides a password in a store URL for error messages.
func redactURL(s string) string {
	if i := strings.Index(s, "://"); i >= 0 {
		if at := strings.LastIndex(s, "@"); at > i {
			rest := s[i+3 : at]
			if c := strings.Index(rest, ":"); c >= 0 {
				return s[:i+3] + rest[:c] + ":REDACTED" + s[at:]
			}
		}
	}
	return s
}

type nopCloser struct{}

func (nopCloser) Close() error { return nil }
