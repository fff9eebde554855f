// Package postgresstore is a [session.Store] in PostgreSQL, through
// github.com/jackc/pgx/v5 and its connection pool.
//
// The tables are created if they are missing:
//
//	CREATE TABLE mwoauth_sessions (
//		store_key  BYTEA PRIMARY KEY, -- the key as given (the Manager's hash of the id)
//		data       BYTEA NOT NULL,    -- sealed by the Manager
//		version    BIGINT NOT NULL,   -- compare-and-set version
//		expires_at BIGINT NOT NULL    -- Unix time in milliseconds
//	);
//	CREATE TABLE mwoauth_pending (
//		store_key  BYTEA PRIMARY KEY,
//		data       BYTEA NOT NULL,
//		expires_at BIGINT NOT NULL
//	);
//
// with an index on expires_at of each. Keys are bytes, so any key (even one
// that is not UTF-8) is stored as given and compared byte for byte. Every
// statement is parameterized. Expiry is enforced on every read against this
// process's clock; expired rows are removed by [Store.Cleanup], which a
// goroutine calls periodically when the store is made with [WithCleanup].
// Save is an INSERT ... ON CONFLICT (version 0) or an UPDATE on the version;
// TakePending is DELETE ... RETURNING.
package postgresstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"regexp"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/wikiauth/mwoauth/session"
)

// DefaultTimeout bounds every call of a Store whose timeout is not set with
// [WithTimeout], on top of the caller's context.
const DefaultTimeout = 5 * time.Second

// Store is a [session.Store] and [session.Cleaner] in PostgreSQL. It is safe
// for concurrent use. Close it when done.
type Store struct {
	pool     *pgxpool.Pool
	owned    bool // Close closes pool
	timeout  time.Duration
	logger   *slog.Logger
	sessions string // table names, checked identifiers
	pending  string

	stop     chan struct{}
	wg       sync.WaitGroup
	closeMu  sync.Mutex
	isClosed bool
}

var (
	_ session.Store   = (*Store)(nil)
	_ session.Cleaner = (*Store)(nil)
)

// An Option configures a Store in [New] or [Open].
type Option interface{ apply(*config) }

type config struct {
	timeout time.Duration
	cleanup time.Duration
	logger  *slog.Logger
	prefix  string
	err     error
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// WithTimeout sets the time limit of every call (default [DefaultTimeout]).
func WithTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) {
		if d <= 0 {
			c.err = fmt.Errorf("postgresstore: timeout %v is not positive", d)
		}
		c.timeout = d
	})
}

// WithCleanup starts a goroutine that deletes expired records every
// interval, until [Store.Close].
func WithCleanup(interval time.Duration) Option {
	return optionFunc(func(c *config) {
		if interval <= 0 {
			c.err = fmt.Errorf("postgresstore: cleanup interval %v is not positive", interval)
		}
		c.cleanup = interval
	})
}

// WithLogger sets the logger for failures of the cleanup goroutine (default
// [slog.Default]).
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(c *config) { c.logger = l })
}

// WithTablePrefix names the tables prefix+"sessions" and prefix+"pending"
// (default "mwoauth_"). The prefix is lower-case letters, digits and
// underscores, starting with a letter.
func WithTablePrefix(prefix string) Option {
	return optionFunc(func(c *config) {
		if !identifier.MatchString(prefix) {
			c.err = fmt.Errorf("postgresstore: table prefix %q is not lower-case letters, digits and underscores", prefix)
		}
		c.prefix = prefix
	})
}

var identifier = regexp.MustCompile(`^[a-z][a-z0-9_]{0,40}$`)

// New returns a Store that uses pool, which the caller keeps and closes, and
// creates the tables if they are missing.
func New(ctx context.Context, pool *pgxpool.Pool, opts ...Option) (*Store, error) {
	if pool == nil {
		return nil, errors.New("postgresstore: nil pool")
	}
	cfg := config{timeout: DefaultTimeout, prefix: "mwoauth_"}
	for _, o := range opts {
		o.apply(&cfg)
	}
	if cfg.err != nil {
		return nil, cfg.err
	}
	if cfg.logger == nil {
		cfg.logger = slog.Default()
	}
	s := &Store{
		pool:     pool,
		timeout:  cfg.timeout,
		logger:   cfg.logger,
		sessions: cfg.prefix + "sessions",
		pending:  cfg.prefix + "pending",
		stop:     make(chan struct{}),
	}
	if err := s.createTables(ctx); err != nil {
		return nil, err
	}
	if cfg.cleanup > 0 {
		s.wg.Add(1)
		go s.cleanupLoop(cfg.cleanup)
	}
	return s, nil
}

// Open connects a pool to the database at url, in the form
// postgres://user:password@host:port/dbname?sslmode=... (see
// [pgxpool.ParseConfig]), and returns a Store on it as [New] does;
// [Store.Close] closes the pool.
func Open(ctx context.Context, url string, opts ...Option) (*Store, error) {
	pc, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgresstore: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("postgresstore: %w", err)
	}
	s, err := New(ctx, pool, opts...)
	if err != nil {
		pool.Close()
		return nil, err
	}
	s.owned = true
	return s, nil
}

func (s *Store) createTables(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*s.timeout)
	defer cancel()
	// Concurrent CREATE TABLE IF NOT EXISTS can fail on PostgreSQL's
	// catalogue; an advisory lock held for the transaction orders them.
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext($1))`, "mwoauth-postgresstore-schema"); err != nil {
			return err
		}
		for _, q := range []string{
			`CREATE TABLE IF NOT EXISTS ` + s.sessions + ` (
	store_key  BYTEA PRIMARY KEY,
	data       BYTEA NOT NULL,
	version    BIGINT NOT NULL,
	expires_at BIGINT NOT NULL
)`,
			`CREATE INDEX IF NOT EXISTS ` + s.sessions + `_expires_at ON ` + s.sessions + ` (expires_at)`,
			`CREATE TABLE IF NOT EXISTS ` + s.pending + ` (
	store_key  BYTEA PRIMARY KEY,
	data       BYTEA NOT NULL,
	expires_at BIGINT NOT NULL
)`,
			`CREATE INDEX IF NOT EXISTS ` + s.pending + `_expires_at ON ` + s.pending + ` (expires_at)`,
		} {
			if _, err := tx.Exec(ctx, q); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("postgresstore: create tables: %w", err)
	}
	return nil
}

// Close stops the cleanup goroutine, if any, and closes the pool if the
// store opened it ([Open]).
func (s *Store) Close() error {
	s.closeMu.Lock()
	if s.isClosed {
		s.closeMu.Unlock()
		return nil
	}
	s.isClosed = true
	close(s.stop)
	s.closeMu.Unlock()
	s.wg.Wait()
	if s.owned {
		s.pool.Close()
	}
	return nil
}

func (s *Store) cleanupLoop(interval time.Duration) {
	defer s.wg.Done()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			if err := s.Cleanup(context.Background()); err != nil {
				s.logger.Warn("postgresstore: cleanup failed", slog.Any("error", err))
			}
		}
	}
}

func nowMillis() int64 { return time.Now().UnixMilli() }

// nextVersion is the version a save after version v stores: a random start
// for a new record (so that a record created anew under the same key does
// not repeat the versions of an older one), else one more.
func nextVersion(v int64) int64 {
	if v == 0 || v == math.MaxInt64 {
		return 1 + rand.Int64N(math.MaxInt64/2)
	}
	return v + 1
}

// nonNil keeps a nil value from becoming an SQL NULL.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// checkWrite refuses what the Store contract does not allow: keys of 1 to
// [session.MaxKeyLen] bytes, values of at most [session.MaxValueLen].
func checkWrite(key string, data []byte) error {
	if key == "" || len(key) > session.MaxKeyLen {
		return fmt.Errorf("postgresstore: key of %d bytes (want 1 to %d)", len(key), session.MaxKeyLen)
	}
	if len(data) > session.MaxValueLen {
		return fmt.Errorf("postgresstore: value of %d bytes (at most %d): %w", len(data), session.MaxValueLen, session.ErrTooLarge)
	}
	return nil
}

// Find returns the session stored under key, unless it has expired.
func (s *Store) Find(ctx context.Context, key string) ([]byte, int64, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	var (
		data    []byte
		version int64
	)
	err := s.pool.QueryRow(ctx,
		`SELECT data, version FROM `+s.sessions+` WHERE store_key = $1 AND expires_at > $2`,
		[]byte(key), nowMillis()).Scan(&data, &version)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, 0, false, nil
	}
	if err != nil {
		return nil, 0, false, fmt.Errorf("postgresstore: find: %w", err)
	}
	return nonNil(data), version, true, nil
}

// Save stores data under key until expiry, if the stored version is version
// (0: if no live session is stored under key). Otherwise it returns
// [session.ErrConflict].
func (s *Store) Save(ctx context.Context, key string, data []byte, version int64, expiry time.Time) (int64, error) {
	if err := checkWrite(key, data); err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	next := nextVersion(version)
	var q string
	var args []any
	if version == 0 {
		// Insert, or replace a row that has expired.
		q = `INSERT INTO ` + s.sessions + ` AS t (store_key, data, version, expires_at) VALUES ($1, $2, $3, $4)
ON CONFLICT (store_key) DO UPDATE SET
	data = EXCLUDED.data, version = EXCLUDED.version, expires_at = EXCLUDED.expires_at
WHERE t.expires_at <= $5`
		args = []any{[]byte(key), nonNil(data), next, expiry.UnixMilli(), nowMillis()}
	} else {
		q = `UPDATE ` + s.sessions + ` SET data = $1, version = $2, expires_at = $3
WHERE store_key = $4 AND version = $5 AND expires_at > $6`
		args = []any{nonNil(data), next, expiry.UnixMilli(), []byte(key), version, nowMillis()}
	}
	tag, err := s.pool.Exec(ctx, q, args...)
	if err != nil {
		return 0, fmt.Errorf("postgresstore: save: %w", err)
	}
	if tag.RowsAffected() != 1 {
		return 0, session.ErrConflict
	}
	return next, nil
}

// Delete removes the session stored under key, if any.
func (s *Store) Delete(ctx context.Context, key string) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	if _, err := s.pool.Exec(ctx, `DELETE FROM `+s.sessions+` WHERE store_key = $1`, []byte(key)); err != nil {
		return fmt.Errorf("postgresstore: delete: %w", err)
	}
	return nil
}

// PutPending stores a pending login under key until expiry, replacing any
// stored under key.
func (s *Store) PutPending(ctx context.Context, key string, data []byte, expiry time.Time) error {
	if err := checkWrite(key, data); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	_, err := s.pool.Exec(ctx, `INSERT INTO `+s.pending+` (store_key, data, expires_at) VALUES ($1, $2, $3)
ON CONFLICT (store_key) DO UPDATE SET data = EXCLUDED.data, expires_at = EXCLUDED.expires_at`,
		[]byte(key), nonNil(data), expiry.UnixMilli())
	if err != nil {
		return fmt.Errorf("postgresstore: put pending: %w", err)
	}
	return nil
}

// TakePending deletes the pending login stored under key and returns it,
// unless it has expired, in one statement: of concurrent takes of one key,
// one gets the data.
func (s *Store) TakePending(ctx context.Context, key string) ([]byte, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	var (
		data    []byte
		expires int64
	)
	err := s.pool.QueryRow(ctx,
		`DELETE FROM `+s.pending+` WHERE store_key = $1 RETURNING data, expires_at`,
		[]byte(key)).Scan(&data, &expires)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("postgresstore: take pending: %w", err)
	}
	if expires <= nowMillis() {
		return nil, false, nil
	}
	return nonNil(data), true, nil
}

// DeletePending removes the pending login stored under key, if any.
func (s *Store) DeletePending(ctx context.Context, key string) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	if _, err := s.pool.Exec(ctx, `DELETE FROM `+s.pending+` WHERE store_key = $1`, []byte(key)); err != nil {
		return fmt.Errorf("postgresstore: delete pending: %w", err)
	}
	return nil
}

// Cleanup deletes every expired session and pending login.
func (s *Store) Cleanup(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	now := nowMillis()
	for _, table := range []string{s.sessions, s.pending} {
		if _, err := s.pool.Exec(ctx, `DELETE FROM `+table+` WHERE expires_at <= $1`, now); err != nil {
			return fmt.Errorf("postgresstore: cleanup %s: %w", table, err)
		}
	}
	return nil
}
