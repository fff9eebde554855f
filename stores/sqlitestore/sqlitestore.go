// Package sqlitestore is a [session.Store] in one SQLite database file, for
// an app that runs on one host (several processes on that host may share the
// file). It uses the pure-Go driver modernc.org/sqlite, so it needs no cgo.
//
// The database is opened in WAL mode with a busy timeout, and the tables are
// created if they are missing:
//
//	CREATE TABLE mwoauth_sessions (
//		store_key  BLOB PRIMARY KEY,  -- the key as given (the Manager's hash of the id)
//		data       BLOB NOT NULL,     -- sealed by the Manager
//		version    INTEGER NOT NULL,  -- compare-and-set version
//		expires_at INTEGER NOT NULL   -- Unix time in milliseconds
//	) WITHOUT ROWID;
//	CREATE TABLE mwoauth_pending (
//		store_key  BLOB PRIMARY KEY,
//		data       BLOB NOT NULL,
//		expires_at INTEGER NOT NULL
//	) WITHOUT ROWID;
//
// with an index on expires_at of each. Expiry is enforced on every read
// against the clock of this process; expired rows are removed by
// [Store.Cleanup], which a goroutine calls periodically when the store is
// made with [WithCleanup].
package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/wikiauth/mwoauth/session"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// DefaultTimeout bounds every call of a Store whose timeout is not set with
// [WithTimeout], on top of the caller's context.
const DefaultTimeout = 5 * time.Second

// Store is a [session.Store] and [session.Cleaner] in a SQLite file. It is
// safe for concurrent use. Close it when done.
type Store struct {
	db       *sql.DB
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

// An Option configures a Store in [New].
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
			c.err = fmt.Errorf("sqlitestore: timeout %v is not positive", d)
		}
		c.timeout = d
	})
}

// WithCleanup starts a goroutine that deletes expired records every
// interval, until [Store.Close].
func WithCleanup(interval time.Duration) Option {
	return optionFunc(func(c *config) {
		if interval <= 0 {
			c.err = fmt.Errorf("sqlitestore: cleanup interval %v is not positive", interval)
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
// (default "mwoauth_"). The prefix is letters, digits and underscores,
// starting with a letter.
func WithTablePrefix(prefix string) Option {
	return optionFunc(func(c *config) {
		if !identifier.MatchString(prefix) {
			c.err = fmt.Errorf("sqlitestore: table prefix %q is not letters, digits and underscores", prefix)
		}
		c.prefix = prefix
	})
}

var identifier = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,40}$`)

// New opens (or creates) the SQLite database at path, a file name, and
// creates the tables if they are missing.
func New(path string, opts ...Option) (*Store, error) {
	cfg := config{timeout: DefaultTimeout, prefix: "mwoauth_"}
	for _, o := range opts {
		o.apply(&cfg)
	}
	if cfg.err != nil {
		return nil, cfg.err
	}
	if path == "" || strings.ContainsAny(path, "?#") || strings.HasPrefix(path, ":memory:") || strings.HasPrefix(path, "file:") {
		return nil, fmt.Errorf("sqlitestore: path %q is not a plain file name", path)
	}
	if cfg.logger == nil {
		cfg.logger = slog.Default()
	}
	busy := cfg.timeout.Milliseconds()
	dsn := path + fmt.Sprintf("?_pragma=busy_timeout(%d)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)", busy)
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: open %s: %w", path, err)
	}
	s := &Store{
		db:       db,
		timeout:  cfg.timeout,
		logger:   cfg.logger,
		sessions: cfg.prefix + "sessions",
		pending:  cfg.prefix + "pending",
		stop:     make(chan struct{}),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*cfg.timeout)
	defer cancel()
	if err := s.createTables(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlitestore: create tables in %s: %w", path, err)
	}
	if cfg.cleanup > 0 {
		s.wg.Add(1)
		go s.cleanupLoop(cfg.cleanup)
	}
	return s, nil
}

func (s *Store) createTables(ctx context.Context) error {
	_, err := s.db.ExecContext(ctx, `
CREATE TABLE IF NOT EXISTS `+s.sessions+` (
	store_key  BLOB PRIMARY KEY,
	data       BLOB NOT NULL,
	version    INTEGER NOT NULL,
	expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS `+s.sessions+`_expires_at ON `+s.sessions+` (expires_at);
CREATE TABLE IF NOT EXISTS `+s.pending+` (
	store_key  BLOB PRIMARY KEY,
	data       BLOB NOT NULL,
	expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS `+s.pending+`_expires_at ON `+s.pending+` (expires_at);`)
	return err
}

// Close stops the cleanup goroutine, if any, and closes the database.
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
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("sqlitestore: close: %w", err)
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
				s.logger.Warn("sqlitestore: cleanup failed", slog.Any("error", err))
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
		return fmt.Errorf("sqlitestore: key of %d bytes (want 1 to %d)", len(key), session.MaxKeyLen)
	}
	if len(data) > session.MaxValueLen {
		return fmt.Errorf("sqlitestore: value of %d bytes (at most %d): %w", len(data), session.MaxValueLen, session.ErrTooLarge)
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
	err := s.db.QueryRowContext(ctx,
		`SELECT data, version FROM `+s.sessions+` WHERE store_key = ? AND expires_at > ?`,
		[]byte(key), nowMillis()).Scan(&data, &version)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, 0, false, nil
	}
	if err != nil {
		return nil, 0, false, fmt.Errorf("sqlitestore: find: %w", err)
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
	var (
		res sql.Result
		err error
	)
	if version == 0 {
		// Insert, or replace a row that has expired.
		res, err = s.db.ExecContext(ctx, `
INSERT INTO `+s.sessions+` (store_key, data, version, expires_at) VALUES (?, ?, ?, ?)
ON CONFLICT (store_key) DO UPDATE SET
	data = excluded.data, version = excluded.version, expires_at = excluded.expires_at
WHERE `+s.sessions+`.expires_at <= ?`,
			[]byte(key), nonNil(data), next, expiry.UnixMilli(), nowMillis())
	} else {
		res, err = s.db.ExecContext(ctx, `
UPDATE `+s.sessions+` SET data = ?, version = ?, expires_at = ?
WHERE store_key = ? AND version = ? AND expires_at > ?`,
			nonNil(data), next, expiry.UnixMilli(), []byte(key), version, nowMillis())
	}
	if err != nil {
		return 0, fmt.Errorf("sqlitestore: save: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("sqlitestore: save: %w", err)
	}
	if n != 1 {
		return 0, session.ErrConflict
	}
	return next, nil
}

// Delete removes the session stored under key, if any.
func (s *Store) Delete(ctx context.Context, key string) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	if _, err := s.db.ExecContext(ctx, `DELETE FROM `+s.sessions+` WHERE store_key = ?`, []byte(key)); err != nil {
		return fmt.Errorf("sqlitestore: delete: %w", err)
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
	_, err := s.db.ExecContext(ctx, `
INSERT INTO `+s.pending+` (store_key, data, expires_at) VALUES (?, ?, ?)
ON CONFLICT (store_key) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at`,
		[]byte(key), nonNil(data), expiry.UnixMilli())
	if err != nil {
		return fmt.Errorf("sqlitestore: put pending: %w", err)
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
	err := s.db.QueryRowContext(ctx,
		`DELETE FROM `+s.pending+` WHERE store_key = ? RETURNING data, expires_at`,
		[]byte(key)).Scan(&data, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("sqlitestore: take pending: %w", err)
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
	if _, err := s.db.ExecContext(ctx, `DELETE FROM `+s.pending+` WHERE store_key = ?`, []byte(key)); err != nil {
		return fmt.Errorf("sqlitestore: delete pending: %w", err)
	}
	return nil
}

// Cleanup deletes every expired session and pending login.
func (s *Store) Cleanup(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	now := nowMillis()
	for _, table := range []string{s.sessions, s.pending} {
		if _, err := s.db.ExecContext(ctx, `DELETE FROM `+table+` WHERE expires_at <= ?`, now); err != nil {
			return fmt.Errorf("sqlitestore: cleanup %s: %w", table, err)
		}
	}
	return nil
}
