// Package redisstore is a [session.Store] in Redis (such as Toolforge's
// shared Redis), through github.com/redis/go-redis/v9.
//
// Every key the store writes starts with a configurable prefix (default
// "mwoauth:"), so that several apps can share one Redis database:
//
//	<prefix>s:<key>   a hash: v (version), x (expiry, Unix ms), d (data)
//	<prefix>p:<key>   a string: 8 bytes of expiry (Unix ms, big-endian), then data
//
// where <key> is the key as given: the session.Manager's hash of the session
// id, never the id itself. The values are sealed by the Manager with the
// app's keys, so other tenants of a shared Redis who can read them learn
// nothing useful; pick a prefix that is hard to guess as well on a shared
// server, since anyone who can write to it can delete sessions.
//
// Records expire by Redis TTL (PEXPIREAT), and expiry is checked again on
// every read against this process's clock. Save is a compare-and-set done in
// a Lua script; TakePending is GETDEL (Redis 6.2 or newer). No cleanup is
// needed, so Store does not implement [session.Cleaner].
package redisstore

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/wikiauth/mwoauth/session"
)

// DefaultTimeout bounds every call of a Store whose timeout is not set with
// [WithTimeout], on top of the caller's context.
const DefaultTimeout = 5 * time.Second

// DefaultPrefix starts every key that a Store writes, unless set with
// [WithPrefix].
const DefaultPrefix = "mwoauth:"

// Store is a [session.Store] in Redis. It is safe for concurrent use.
type Store struct {
	client  redis.UniversalClient
	owned   bool // Close closes client
	timeout time.Duration
	prefix  string
}

var _ session.Store = (*Store)(nil)

// An Option configures a Store in [New] or [Open].
type Option interface{ apply(*config) }

type config struct {
	timeout time.Duration
	prefix  string
	err     error
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// WithTimeout sets the time limit of every call (default [DefaultTimeout]).
func WithTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) {
		if d <= 0 {
			c.err = fmt.Errorf("redisstore: timeout %v is not positive", d)
		}
		c.timeout = d
	})
}

// WithPrefix sets the prefix of every key the store writes (default
// [DefaultPrefix]). It may be empty.
func WithPrefix(prefix string) Option {
	return optionFunc(func(c *config) { c.prefix = prefix })
}

func newConfig(opts []Option) (config, error) {
	cfg := config{timeout: DefaultTimeout, prefix: DefaultPrefix}
	for _, o := range opts {
		o.apply(&cfg)
	}
	return cfg, cfg.err
}

// New returns a Store that uses client, which the caller keeps and closes.
// The client should have ContextTimeoutEnabled set, so that the store's
// timeouts and the callers' deadlines bound network reads and writes too.
func New(client redis.UniversalClient, opts ...Option) (*Store, error) {
	if client == nil {
		return nil, errors.New("redisstore: nil client")
	}
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	return &Store{client: client, timeout: cfg.timeout, prefix: cfg.prefix}, nil
}

// Open returns a Store with a client of its own for the server at url, in
// the form redis://[user:password@]host:port/db (see [redis.ParseURL]);
// [Store.Close] closes it. Open does not connect: the first call does.
func Open(url string, opts ...Option) (*Store, error) {
	o, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("redisstore: %w", err)
	}
	o.ContextTimeoutEnabled = true
	s, err := New(redis.NewClient(o), opts...)
	if err != nil {
		return nil, err
	}
	s.owned = true
	return s, nil
}

// Close closes the client if the store opened it ([Open]).
func (s *Store) Close() error {
	if !s.owned {
		return nil
	}
	if err := s.client.Close(); err != nil && !errors.Is(err, redis.ErrClosed) {
		return fmt.Errorf("redisstore: close: %w", err)
	}
	return nil
}

func (s *Store) sessionKey(key string) string { return s.prefix + "s:" + key }
func (s *Store) pendingKey(key string) string { return s.prefix + "p:" + key }

// nextVersion is the version a save after version v stores: a random start
// for a new record (so that a record created anew under the same key does
// not repeat the versions of an older one), else one more.
func nextVersion(v int64) int64 {
	if v == 0 || v == math.MaxInt64 {
		return 1 + rand.Int64N(math.MaxInt64/2)
	}
	return v + 1
}

// saveScript is the compare-and-set: KEYS[1] the session key; ARGV: the
// expected version (0: none live), the new version, the expiry (Unix ms),
// the data and the time now (Unix ms). It returns 1 if it saved, 0 on a
// version conflict. An expiry in the past deletes the record at once.
var saveScript = redis.NewScript(`
local cur = redis.call('HMGET', KEYS[1], 'v', 'x')
local live = cur[1] and cur[2] and tonumber(cur[2]) > tonumber(ARGV[5])
if ARGV[1] == '0' then
  if live then return 0 end
elseif not live or cur[1] ~= ARGV[1] then
  return 0
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'v', ARGV[2], 'x', ARGV[3], 'd', ARGV[4])
redis.call('PEXPIREAT', KEYS[1], ARGV[3])
return 1
`)

// checkWrite refuses what the Store contract does not allow: keys of 1 to
// [session.MaxKeyLen] bytes, values of at most [session.MaxValueLen].
func checkWrite(key string, data []byte) error {
	if key == "" || len(key) > session.MaxKeyLen {
		return fmt.Errorf("redisstore: key of %d bytes (want 1 to %d)", len(key), session.MaxKeyLen)
	}
	if len(data) > session.MaxValueLen {
		return fmt.Errorf("redisstore: value of %d bytes (at most %d): %w", len(data), session.MaxValueLen, session.ErrTooLarge)
	}
	return nil
}

// Find returns the session stored under key, unless it has expired.
func (s *Store) Find(ctx context.Context, key string) ([]byte, int64, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	vals, err := s.client.HMGet(ctx, s.sessionKey(key), "v", "x", "d").Result()
	if err != nil {
		return nil, 0, false, fmt.Errorf("redisstore: find: %w", err)
	}
	if len(vals) != 3 || vals[0] == nil || vals[1] == nil || vals[2] == nil {
		return nil, 0, false, nil
	}
	vs, _ := vals[0].(string)
	xs, _ := vals[1].(string)
	ds, _ := vals[2].(string)
	version, err1 := strconv.ParseInt(vs, 10, 64)
	expiry, err2 := strconv.ParseInt(xs, 10, 64)
	if err1 != nil || err2 != nil || version == 0 {
		return nil, 0, false, nil // not a record of ours
	}
	if expiry <= time.Now().UnixMilli() {
		return nil, 0, false, nil
	}
	return []byte(ds), version, true, nil
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
	ok, err := saveScript.Run(ctx, s.client, []string{s.sessionKey(key)},
		strconv.FormatInt(version, 10), strconv.FormatInt(next, 10),
		strconv.FormatInt(expiry.UnixMilli(), 10), data,
		strconv.FormatInt(time.Now().UnixMilli(), 10)).Int()
	if err != nil {
		return 0, fmt.Errorf("redisstore: save: %w", err)
	}
	if ok != 1 {
		return 0, session.ErrConflict
	}
	return next, nil
}

// Delete removes the session stored under key, if any.
func (s *Store) Delete(ctx context.Context, key string) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	if err := s.client.Del(ctx, s.sessionKey(key)).Err(); err != nil {
		return fmt.Errorf("redisstore: delete: %w", err)
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
	var err error
	if !expiry.After(time.Now()) {
		// Already expired: what replaces the pending login is nothing.
		err = s.client.Del(ctx, s.pendingKey(key)).Err()
	} else {
		v := make([]byte, 8, 8+len(data))
		binary.BigEndian.PutUint64(v, uint64(expiry.UnixMilli()))
		v = append(v, data...)
		// PXAT: to the millisecond (SetArgs.ExpireAt rounds to seconds).
		err = s.client.Do(ctx, "SET", s.pendingKey(key), v, "PXAT", expiry.UnixMilli()).Err()
	}
	if err != nil {
		return fmt.Errorf("redisstore: put pending: %w", err)
	}
	return nil
}

// TakePending returns the pending login stored under key and deletes it, in
// one command (GETDEL): of concurrent takes of one key, one gets the data.
func (s *Store) TakePending(ctx context.Context, key string) ([]byte, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	v, err := s.client.GetDel(ctx, s.pendingKey(key)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("redisstore: take pending: %w", err)
	}
	if len(v) < 8 || int64(binary.BigEndian.Uint64(v)) <= time.Now().UnixMilli() {
		return nil, false, nil
	}
	return v[8:], true, nil
}

// DeletePending removes the pending login stored under key, if any.
func (s *Store) DeletePending(ctx context.Context, key string) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	if err := s.client.Del(ctx, s.pendingKey(key)).Err(); err != nil {
		return fmt.Errorf("redisstore: delete pending: %w", err)
	}
	return nil
}
