// Package mysqlstore is a [session.Store] in MariaDB or MySQL (such as
// Toolforge's ToolsDB), through github.com/go-sql-driver/mysql.
//
// The tables are created if they are missing:
//
//	CREATE TABLE mwoauth_sessions (
//		store_key  VARBINARY(128) NOT NULL PRIMARY KEY, -- the key as given (the Manager's hash of the id)
//		data       MEDIUMBLOB NOT NULL,                 -- sealed by the Manager
//		version    BIGINT NOT NULL,                     -- compare-and-set version
//		expires_at BIGINT NOT NULL,                     -- Unix time in milliseconds
//		KEY mwoauth_sessions_expires_at (expires_at)
//	) ENGINE=InnoDB;
//	CREATE TABLE mwoauth_pending (
//		store_key  VARBINARY(128) NOT NULL PRIMARY KEY,
//		data       MEDIUMBLOB NOT NULL,
//		expires_at BIGINT NOT NULL,
//		KEY mwoauth_pending_expires_at (expires_at)
//	) ENGINE=InnoDB;
//
// Keys are binary strings, so they compare byte for byte, whatever the
// collation of the database. Every statement is parameterized. Expiry is
// enforced on every read against this process's clock; expired rows are
// removed by [Store.Cleanup], which a goroutine calls periodically when the
// store is made with [WithCleanup]. Save is an UPDATE on the version (or an
// INSERT for version 0); TakePending is a transaction with SELECT ... FOR
// UPDATE and DELETE.
package mysqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/wikiauth/mwoauth/session"
)

// DefaultTimeout bounds every call of a Store whose timeout is not set with
// [WithTimeout], on top of the caller's context.
const DefaultTimeout = 5 * time.Second

// Store is a [session.Store] and [session.Cleaner] in MariaDB or MySQL. It is
// safe for concurrent use. Close it when done.
type Store struct {
	db       *sql.DB
	owned    bool // Close closes db
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
			c.err = fmt.Errorf("mysqlstore: timeout %v is not positive", d)
		}
		c.timeout = d
	})
}

// WithCleanup starts a goroutine that deletes expired records every
// interval, until [Store.Close].
func WithCleanup(interval time.Duration) Option {
	return optionFunc(func(c *config) {
		if interval <= 0 {
			c.err = fmt.Errorf("mysqlstore: cleanup interval %v is not positive", interval)
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
			c.err = fmt.Errorf("mysqlstore: table prefix %q is not letters, digits and underscores", prefix)
		}
		c.prefix = prefix
	})
}

var identifier = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,40}$`)

// New returns a Store that uses db, a database/sql handle of the "mysql"
// driver that the caller keeps and closes, and creates the tables if they
// are missing.
func New(ctx context.Context, db *sql.DB, opts ...Option) (*Store, error) {
	if db == nil {
		return nil, errors.New("mysqlstore: nil db")
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
		db:       db,
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

// Open connects to the database named by dsn, in go-sql-driver's form
// user:password@tcp(host:port)/dbname (see [mysql.ParseDSN]) or as a URL
// mysql://user:password@host:port/dbname, and returns a Store on it as
// [New] does; [Store.Close] closes the connections.
func Open(ctx context.Context, dsn string, opts ...Option) (*Store, error) {
	cfg, err := parseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("mysqlstore: %w", err)
	}
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, fmt.Errorf("mysqlstore: %w", err)
	}
	db := sql.OpenDB(conn)
	// Servers such as ToolsDB close idle connections; don't keep them long.
	db.SetConnMaxLifetime(3 * time.Minute)
	db.SetMaxIdleConns(8)
	s, err := New(ctx, db, opts...)
	if err != nil {
		db.Close()
		return nil, err
	}
	s.owned = true
	return s, nil
}

// parseDSN reads a go-sql-driver DSN or a mysql:// URL.
func parseDSN(dsn string) (*mysql.Config, error) {
	if !strings.HasPrefix(dsn, "mysql://") {
		return mysql.ParseDSN(dsn)
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return nil, err
	}
	if u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, errors.New("mysql:// URL needs a host, and takes no query or fragment")
	}
	cfg := mysql.NewConfig()
	cfg.Net = "tcp"
	cfg.Addr = u.Host
	if u.Port() == "" {
		cfg.Addr = net.JoinHostPort(u.Hostname(), "3306")
	}
	cfg.User = u.User.Username()
	cfg.Passwd, _ = u.User.Password()
	cfg.DBName = strings.TrimPrefix(u.Path, "/")
	return cfg, nil
}

func (s *Store) createTables(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*s.timeout)
	defer cancel()
	for _, q := range []string{`
CREATE TABLE IF NOT EXISTS ` + s.sessions + ` (
	store_key  VARBINARY(128) NOT NULL PRIMARY KEY,
	data       MEDIUMBLOB NOT NULL,
	version    BIGINT NOT NULL,
	expires_at BIGINT NOT NULL,
	KEY ` + s.sessions + `_expires_at (expires_at)
) ENGINE=InnoDB`, `
CREATE TABLE IF NOT EXISTS ` + s.pending + ` (
	store_key  VARBINARY(128) NOT NULL PRIMARY KEY,
	data       MEDIUMBLOB NOT NULL,
	expires_at BIGINT NOT NULL,
	KEY ` + s.pending + `_expires_at (expires_at)
) ENGINE=InnoDB`} {
		if _, err := s.db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("mysqlstore: create tables: %w", err)
		}
	}
	return nil
}

// Close stops the cleanup goroutine, if any, and closes the database if the
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
		if err := s.db.Close(); err != nil {
			return fmt.Errorf("mysqlstore: close: %w", err)
		}
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
				s.logger.Warn("mysqlstore: cleanup failed", slog.Any("error", err))
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

// errDuplicateKey is MySQL's ER_DUP_ENTRY.
const errDuplicateKey = 1062

// checkWrite refuses what the Store contract does not allow: keys of 1 to
// [session.MaxKeyLen] bytes, values of at most [session.MaxValueLen].
func checkWrite(key string, data []byte) error {
	if key == "" || len(key) > session.MaxKeyLen {
		return fmt.Errorf("mysqlstore: key of %d bytes (want 1 to %d)", len(key), session.MaxKeyLen)
	}
	if len(data) > session.MaxValueLen {
		return fmt.Errorf("mysqlstore: value of %d bytes (at most %d): %w", len(data), session.MaxValueLen, session.ErrTooLarge)
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
		return nil, 0, false, fmt.Errorf("mysqlstore: find: %w", err)
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
	if version == 0 {
		// An expired row does not stand in the way; a live one makes the
		// INSERT fail on the primary key.
		if _, err := s.db.ExecContext(ctx,
			`DELETE FROM `+s.sessions+` WHERE store_key = ? AND expires_at <= ?`,
			[]byte(key), nowMillis()); err != nil {
			return 0, fmt.Errorf("mysqlstore: save: %w", err)
		}
		_, err := s.db.ExecContext(ctx,
			`INSERT INTO `+s.sessions+` (store_key, data, version, expires_at) VALUES (?, ?, ?, ?)`,
			[]byte(key), nonNil(data), next, expiry.UnixMilli())
		var me *mysql.MySQLError
		if errors.As(err, &me) && me.Number == errDuplicateKey {
			return 0, session.ErrConflict
		}
		if err != nil {
			return 0, fmt.Errorf("mysqlstore: save: %w", err)
		}
		return next, nil
	}
	res, err := s.db.ExecContext(ctx, `
UPDATE `+s.sessions+` SET data = ?, version = ?, expires_at = ?
WHERE store_key = ? AND version = ? AND expires_at > ?`,
		nonNil(data), next, expiry.UnixMilli(), []byte(key), version, nowMillis())
	if err != nil {
		return 0, fmt.Errorf("mysqlstore: save: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("mysqlstore: save: %w", err)
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
		return fmt.Errorf("mysqlstore: delete: %w", err)
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
	_, err := s.db.ExecContext(ctx,
		`REPLACE INTO `+s.pending+` (store_key, data, expires_at) VALUES (?, ?, ?)`,
		[]byte(key), nonNil(data), expiry.UnixMilli())
	if err != nil {
		return fmt.Errorf("mysqlstore: put pending: %w", err)
	}
	return nil
}

// TakePending returns the pending login stored under key and deletes it, in
// one transaction that locks the row: of concurrent takes of one key, one
// gets the data.
func (s *Store) TakePending(ctx context.Context, key string) (data []byte, found bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	// READ COMMITTED: a locking read of a missing key takes no gap lock.
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelReadCommitted})
	if err != nil {
		return nil, false, fmt.Errorf("mysqlstore: take pending: %w", err)
	}
	defer func() {
		if err != nil || !found {
			tx.Rollback()
		}
	}()
	var expires int64
	err = tx.QueryRowContext(ctx,
		`SELECT data, expires_at FROM `+s.pending+` WHERE store_key = ? FOR UPDATE`,
		[]byte(key)).Scan(&data, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("mysqlstore: take pending: %w", err)
	}
	if _, err = tx.ExecContext(ctx, `DELETE FROM `+s.pending+` WHERE store_key = ?`, []byte(key)); err != nil {
		return nil, false, fmt.Errorf("mysqlstore: take pending: %w", err)
	}
	if err = tx.Commit(); err != nil {
		return nil, false, fmt.Errorf("mysqlstore: take pending: %w", err)
	}
	if expires <= nowMillis() {
		return nil, false, nil // deleted, as it had expired
	}
	return nonNil(data), true, nil
}

// DeletePending removes the pending login stored under key, if any.
func (s *Store) DeletePending(ctx context.Context, key string) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	if _, err := s.db.ExecContext(ctx, `DELETE FROM `+s.pending+` WHERE store_key = ?`, []byte(key)); err != nil {
		return fmt.Errorf("mysqlstore: delete pending: %w", err)
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
			return fmt.Errorf("mysqlstore: cleanup %s: %w", table, err)
		}
	}
	return nil
}
