// Package sessiontest checks that a [session.Store] keeps the contract
// written on that interface, in the manner of testing/fstest and
// testing/slogtest.
//
// A store module runs the suite against its real server:
//
//	func TestConformance(t *testing.T) {
//		sessiontest.TestStore(t, func(t *testing.T) session.Store {
//			s, err := mystore.New(...)
//			if err != nil {
//				t.Fatal(err)
//			}
//			t.Cleanup(func() { s.Close() })
//			return s
//		})
//	}
//
// Every subtest calls newStore once and uses keys under a random prefix of
// its own, so runs against one shared server (two test processes, or a
// store that newStore returns more than once) do not collide. The suite
// runs in a few seconds: the expiry checks use real expiries 1.5 s ahead
// (or already past) and wait once.
package sessiontest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wikiauth/mwoauth/session"
)

// opTimeout bounds every single store call the suite makes.
const opTimeout = 10 * time.Second

// shortExpiry is how far ahead the expiry tests set their records to expire.
const shortExpiry = 1500 * time.Millisecond

// TestStore runs the conformance suite for a [session.Store] as subtests of
// t. newStore is called once per subtest, with that subtest's t; it should
// register any cleanup with t.Cleanup. If the store also implements
// [session.Cleaner], its Cleanup is checked too.
func TestStore(t *testing.T, newStore func(t *testing.T) session.Store) {
	t.Helper()
	tests := []struct {
		name string
		run  func(t *testing.T, s session.Store, k keys)
	}{
		{"FindMissing", testFindMissing},
		{"SaveNew", testSaveNew},
		{"SaveUpdated", testSaveUpdated},
		{"StaleVersion", testStaleVersion},
		{"CreateExisting", testCreateExisting},
		{"CopiesData", testCopiesData},
		{"Expiry", testExpiry},
		{"Delete", testDelete},
		{"ConcurrentWriters", testConcurrentWriters},
		{"LargeValues", testLargeValues},
		{"Limits", testLimits},
		{"HostileKeys", testHostileKeys},
		{"Pending", testPending},
		{"ConcurrentTakes", testConcurrentTakes},
		{"Namespaces", testNamespaces},
		{"ContextCanceled", testContextCanceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t)
			if s == nil {
				t.Fatal("newStore returned nil")
			}
			tt.run(t, s, newKeys(t))
		})
	}
}

// keys makes the keys of one subtest: a random prefix and a name.
type keys string

func newKeys(t *testing.T) keys {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatalf("rand: %v", err)
	}
	return keys("sessiontest-" + hex.EncodeToString(b[:]) + "-")
}

func (k keys) key(name string) string { return string(k) + name }

func opCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), opTimeout)
	t.Cleanup(cancel)
	return ctx
}

func later() time.Time { return time.Now().Add(time.Hour) }

// mustSave saves and fails the test on any error.
func mustSave(t *testing.T, s session.Store, key string, data []byte, version int64, expiry time.Time) int64 {
	t.Helper()
	v, err := s.Save(opCtx(t), key, data, version, expiry)
	if err != nil {
		t.Fatalf("Save(%q, version %d) error: %v", key, version, err)
	}
	if v == 0 || v == version {
		t.Fatalf("Save(%q, version %d) = version %d; want a new non-zero version", key, version, v)
	}
	return v
}

// wantFound checks that key holds data at version (version 0: any version).
func wantFound(t *testing.T, s session.Store, key string, data []byte, version int64) {
	t.Helper()
	got, v, found, err := s.Find(opCtx(t), key)
	if err != nil || !found {
		t.Fatalf("Find(%q) = found %v, error %v; want found", key, found, err)
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("Find(%q) = %s; want %s", key, short(got), short(data))
	}
	if version != 0 && v != version {
		t.Fatalf("Find(%q) = version %d; want %d", key, v, version)
	}
}

// wantMissing checks that Find reports key as missing, without an error.
func wantMissing(t *testing.T, s session.Store, key string) {
	t.Helper()
	got, _, found, err := s.Find(opCtx(t), key)
	if err != nil || found || got != nil {
		t.Fatalf("Find(%q) = %s, found %v, error %v; want nil, not found, no error", key, short(got), found, err)
	}
}

// wantConflict checks that a save fails with session.ErrConflict.
func wantConflict(t *testing.T, s session.Store, key string, data []byte, version int64, expiry time.Time) {
	t.Helper()
	v, err := s.Save(opCtx(t), key, data, version, expiry)
	if !errors.Is(err, session.ErrConflict) {
		t.Fatalf("Save(%q, version %d) = %d, %v; want error %v", key, version, v, err, session.ErrConflict)
	}
}

func wantTaken(t *testing.T, s session.Store, key string, data []byte) {
	t.Helper()
	got, found, err := s.TakePending(opCtx(t), key)
	if err != nil || !found {
		t.Fatalf("TakePending(%q) = found %v, error %v; want found", key, found, err)
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("TakePending(%q) = %s; want %s", key, short(got), short(data))
	}
}

func wantNoPending(t *testing.T, s session.Store, key string) {
	t.Helper()
	got, found, err := s.TakePending(opCtx(t), key)
	if err != nil || found || got != nil {
		t.Fatalf("TakePending(%q) = %s, found %v, error %v; want nil, not found, no error", key, short(got), found, err)
	}
}

func mustPut(t *testing.T, s session.Store, key string, data []byte, expiry time.Time) {
	t.Helper()
	if err := s.PutPending(opCtx(t), key, data, expiry); err != nil {
		t.Fatalf("PutPending(%q) error: %v", key, err)
	}
}

// short shows at most 40 bytes of a value in a failure message.
func short(b []byte) string {
	if b == nil {
		return "nil"
	}
	if len(b) > 40 {
		return fmt.Sprintf("%q... (%d bytes)", b[:40], len(b))
	}
	return fmt.Sprintf("%q", b)
}

func randomBytes(t *testing.T, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("rand: %v", err)
	}
	return b
}

func testFindMissing(t *testing.T, s session.Store, k keys) {
	wantMissing(t, s, k.key("missing"))
	wantNoPending(t, s, k.key("missing"))
}

func testSaveNew(t *testing.T, s session.Store, k keys) {
	key := k.key("new")
	data := []byte("sealed session bytes \x00\xff")
	v := mustSave(t, s, key, data, 0, later())
	wantFound(t, s, key, data, v)
	// An empty value is a value.
	v = mustSave(t, s, k.key("empty"), []byte{}, 0, later())
	wantFound(t, s, k.key("empty"), nil, v)
}

func testSaveUpdated(t *testing.T, s session.Store, k keys) {
	key := k.key("updated")
	v1 := mustSave(t, s, key, []byte("one"), 0, later())
	v2 := mustSave(t, s, key, []byte("two"), v1, later())
	wantFound(t, s, key, []byte("two"), v2)
	v3 := mustSave(t, s, key, []byte("three"), v2, later())
	if v3 == v1 {
		t.Fatalf("third Save = version %d, the same as the first; want a new version", v3)
	}
	wantFound(t, s, key, []byte("three"), v3)
}

func testStaleVersion(t *testing.T, s session.Store, k keys) {
	key := k.key("stale")
	v1 := mustSave(t, s, key, []byte("one"), 0, later())
	v2 := mustSave(t, s, key, []byte("two"), v1, later())
	wantConflict(t, s, key, []byte("lost"), v1, later())
	wantConflict(t, s, key, []byte("lost"), v2+1000003, later())
	wantConflict(t, s, key, []byte("lost"), -v2, later())
	wantFound(t, s, key, []byte("two"), v2)
	// A version for a record that is not there is stale too: Save never
	// creates a record unless the version is 0.
	gone := k.key("gone")
	wantConflict(t, s, gone, []byte("x"), v2, later())
	wantMissing(t, s, gone)
}

func testCreateExisting(t *testing.T, s session.Store, k keys) {
	key := k.key("create")
	v := mustSave(t, s, key, []byte("first"), 0, later())
	wantConflict(t, s, key, []byte("second"), 0, later())
	wantFound(t, s, key, []byte("first"), v)
}

func testCopiesData(t *testing.T, s session.Store, k keys) {
	key := k.key("copies")
	data := []byte("original")
	v := mustSave(t, s, key, data, 0, later())
	copy(data, "CHANGED!")
	got, _, _, err := s.Find(opCtx(t), key)
	if err != nil {
		t.Fatalf("Find(%q) error: %v", key, err)
	}
	if len(got) > 0 {
		got[0] = 'X'
	}
	wantFound(t, s, key, []byte("original"), v)

	p := []byte("pending")
	mustPut(t, s, key, p, later())
	copy(p, "CHANGED")
	wantTaken(t, s, key, []byte("pending"))
}

// testExpiry checks that expiry is enforced on read, for sessions and
// pending logins, and that an expired session can be neither updated nor
// stand in the way of a new one. If the store is a [session.Cleaner], its
// Cleanup runs once the records have expired.
func testExpiry(t *testing.T, s session.Store, k keys) {
	past := time.Now().Add(-2 * time.Second)
	wantCleanup := false
	if _, ok := s.(session.Cleaner); ok {
		wantCleanup = true
	}

	// Already expired when saved: never readable.
	if _, err := s.Save(opCtx(t), k.key("past"), []byte("x"), 0, past); err != nil {
		t.Fatalf("Save(%q) with a past expiry error: %v", k.key("past"), err)
	}
	wantMissing(t, s, k.key("past"))
	mustPut(t, s, k.key("past"), []byte("x"), past)
	wantNoPending(t, s, k.key("past"))

	// Expiring soon: readable now, missing after the wait.
	soon := time.Now().Add(shortExpiry)
	vs := mustSave(t, s, k.key("soon"), []byte("soon"), 0, soon)
	vu := mustSave(t, s, k.key("updated"), []byte("u1"), 0, later())
	// An update moves the expiry (here: from an hour to soon).
	mustSave(t, s, k.key("updated"), []byte("u2"), vu, soon)
	vx := mustSave(t, s, k.key("extended"), []byte("e1"), 0, soon)
	// ...and from soon to an hour.
	vx = mustSave(t, s, k.key("extended"), []byte("e2"), vx, later())
	vl := mustSave(t, s, k.key("live"), []byte("live"), 0, later())
	mustPut(t, s, k.key("soon"), []byte("soon"), soon)
	mustPut(t, s, k.key("live"), []byte("live"), later())
	wantFound(t, s, k.key("soon"), []byte("soon"), vs)

	time.Sleep(time.Until(soon) + 300*time.Millisecond)

	wantMissing(t, s, k.key("soon"))
	wantMissing(t, s, k.key("updated"))
	wantFound(t, s, k.key("extended"), []byte("e2"), vx)
	// An expired session is gone: saving its old version is a conflict
	// (it would bring the session back), and version 0 may create it anew.
	wantConflict(t, s, k.key("soon"), []byte("again"), vs, later())
	wantMissing(t, s, k.key("soon"))
	v := mustSave(t, s, k.key("updated"), []byte("new"), 0, later())
	wantFound(t, s, k.key("updated"), []byte("new"), v)
	mustSave(t, s, k.key("soon"), []byte("fresh"), 0, later())

	if wantCleanup {
		if err := s.(session.Cleaner).Cleanup(opCtx(t)); err != nil {
			t.Fatalf("Cleanup error: %v", err)
		}
	}
	// A pending login that expired is not taken.
	wantNoPending(t, s, k.key("soon"))
	wantFound(t, s, k.key("live"), []byte("live"), vl)
	wantFound(t, s, k.key("extended"), []byte("e2"), vx)
	wantFound(t, s, k.key("soon"), []byte("fresh"), 0)
	wantTaken(t, s, k.key("live"), []byte("live"))
	if wantCleanup {
		// Cleanup with nothing expired is fine too.
		if err := s.(session.Cleaner).Cleanup(opCtx(t)); err != nil {
			t.Fatalf("second Cleanup error: %v", err)
		}
		wantFound(t, s, k.key("live"), []byte("live"), vl)
	}
}

func testDelete(t *testing.T, s session.Store, k keys) {
	key := k.key("delete")
	mustSave(t, s, key, []byte("bye"), 0, later())
	if err := s.Delete(opCtx(t), key); err != nil {
		t.Fatalf("Delete(%q) error: %v", key, err)
	}
	wantMissing(t, s, key)
	if err := s.Delete(opCtx(t), key); err != nil {
		t.Fatalf("second Delete(%q) = %v; want nil (a no-op)", key, err)
	}
	if err := s.Delete(opCtx(t), k.key("never")); err != nil {
		t.Fatalf("Delete(%q) of a missing key = %v; want nil", k.key("never"), err)
	}
	// Deleted means gone: no update, but a new session.
	wantConflict(t, s, key, []byte("x"), 1, later())
	v := mustSave(t, s, key, []byte("again"), 0, later())
	wantFound(t, s, key, []byte("again"), v)

	if err := s.DeletePending(opCtx(t), k.key("never")); err != nil {
		t.Fatalf("DeletePending(%q) of a missing key = %v; want nil", k.key("never"), err)
	}
}

// testConcurrentWriters runs writers that each update their own field of
// one shared session with read-modify-save loops that retry on
// ErrConflict, as two requests of one user do (one stores a rotated token,
// the other a value of the app). No update may be lost.
func testConcurrentWriters(t *testing.T, s session.Store, k keys) {
	const (
		writers    = 8
		increments = 10
		maxTries   = 2000 // per writer, to bound the loop
	)
	key := k.key("shared")
	mustSave(t, s, key, []byte("{}"), 0, later())

	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	var (
		mu       sync.Mutex
		versions = map[int64]bool{}
		errs     []error
		wg       sync.WaitGroup
	)
	fail := func(err error) {
		mu.Lock()
		errs = append(errs, err)
		mu.Unlock()
		cancel()
	}
	start := make(chan struct{})
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			field := fmt.Sprintf("w%d", w)
			done, tries := 0, 0
			for done < increments {
				if tries++; tries > maxTries {
					fail(fmt.Errorf("writer %d: %d saves after %d tries", w, done, maxTries))
					return
				}
				if ctx.Err() != nil {
					fail(fmt.Errorf("writer %d: %d saves: %w", w, done, ctx.Err()))
					return
				}
				data, v, found, err := s.Find(ctx, key)
				if err != nil || !found {
					fail(fmt.Errorf("writer %d: Find = found %v, error %v", w, found, err))
					return
				}
				m := map[string]int{}
				if err := json.Unmarshal(data, &m); err != nil {
					fail(fmt.Errorf("writer %d: stored data %s: %v", w, short(data), err))
					return
				}
				m[field]++
				next, _ := json.Marshal(m)
				nv, err := s.Save(ctx, key, next, v, later())
				if errors.Is(err, session.ErrConflict) {
					continue
				}
				if err != nil {
					fail(fmt.Errorf("writer %d: Save error: %w", w, err))
					return
				}
				mu.Lock()
				dup := versions[nv]
				versions[nv] = true
				mu.Unlock()
				if dup || nv == 0 || nv == v {
					fail(fmt.Errorf("writer %d: Save returned version %d twice or unchanged (from %d)", w, nv, v))
					return
				}
				done++
			}
		}()
	}
	close(start)
	wg.Wait()
	for _, err := range errs {
		t.Error(err)
	}
	if len(errs) > 0 {
		return
	}
	data, _, found, err := s.Find(opCtx(t), key)
	if err != nil || !found {
		t.Fatalf("Find(%q) = found %v, error %v", key, found, err)
	}
	m := map[string]int{}
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("final data %s: %v", short(data), err)
	}
	for w := range writers {
		if got := m[fmt.Sprintf("w%d", w)]; got != increments {
			t.Errorf("writer %d: field = %d after %d successful saves; want %d (lost update)", w, got, increments, increments)
		}
	}
}

func testLargeValues(t *testing.T, s session.Store, k keys) {
	for _, n := range []int{256 << 10, session.MaxValueLen} {
		key := k.key(fmt.Sprintf("large-%d", n))
		a, b := randomBytes(t, n), randomBytes(t, n)
		v := mustSave(t, s, key, a, 0, later())
		wantFound(t, s, key, a, v)
		v = mustSave(t, s, key, b, v, later())
		wantFound(t, s, key, b, v)
		mustPut(t, s, key, a, later())
		wantTaken(t, s, key, a)
	}
}

// testLimits checks that writes beyond the contract's limits (keys of 1 to
// [session.MaxKeyLen] bytes, values of at most [session.MaxValueLen]) fail
// and store nothing, the same in every store, rather than work in one
// backend and not in another.
func testLimits(t *testing.T, s session.Store, k keys) {
	long := string(k) + strings.Repeat("x", session.MaxKeyLen+1-len(k))
	if v, err := s.Save(opCtx(t), long, []byte("x"), 0, later()); err == nil {
		t.Errorf("Save with a key of %d bytes = version %d, nil error; want an error", len(long), v)
	}
	if err := s.PutPending(opCtx(t), long, []byte("x"), later()); err == nil {
		t.Errorf("PutPending with a key of %d bytes = nil error; want an error", len(long))
	}
	wantMissing(t, s, long)
	wantNoPending(t, s, long)
	if v, err := s.Save(opCtx(t), "", []byte("x"), 0, later()); err == nil {
		t.Errorf("Save with an empty key = version %d, nil error; want an error", v)
	}

	key := k.key("too-large")
	huge := make([]byte, session.MaxValueLen+1)
	if _, err := s.Save(opCtx(t), key, huge, 0, later()); !errors.Is(err, session.ErrTooLarge) {
		t.Errorf("Save of %d bytes = %v; want %v", len(huge), err, session.ErrTooLarge)
	}
	wantMissing(t, s, key)
	if err := s.PutPending(opCtx(t), key, huge, later()); !errors.Is(err, session.ErrTooLarge) {
		t.Errorf("PutPending of %d bytes = %v; want %v", len(huge), err, session.ErrTooLarge)
	}
	wantNoPending(t, s, key)
}

// testHostileKeys checks that keys are data: SQL, glob and LIKE
// metacharacters, unicode, bytes that are not UTF-8 and the longest key
// (128 bytes) are neither found where nothing was stored nor an error, and
// store and load under exactly themselves.
func testHostileKeys(t *testing.T, s session.Store, k keys) {
	// Something to be found by a key that matches too much.
	mustSave(t, s, k.key("target"), []byte("secret"), 0, later())
	mustPut(t, s, k.key("target"), []byte("secret"), later())

	hostile := []string{
		"' OR 1=1 --",
		"' OR '1'='1",
		`"; DROP TABLE sessions; --`,
		"x'); DELETE FROM sessions; --",
		"*", "?", "[a-z]*", "%", "_", string(k) + "%", string(k) + "*", string(k) + "_arget",
		"\\", "\\'", "$1", ":key", "@var", "{key}", "",
		"ключ-🔑-キー-مفتاح",
		"\x00", "a\x00b", "\xff\xfe\xfd", "\r\n", "tab\there",
		strings.Repeat("k", 128),
	}
	for _, h := range hostile {
		wantMissing(t, s, h)
		wantNoPending(t, s, h)
		if err := s.Delete(opCtx(t), h); err != nil {
			t.Fatalf("Delete(%q) error: %v", h, err)
		}
		if err := s.DeletePending(opCtx(t), h); err != nil {
			t.Fatalf("DeletePending(%q) error: %v", h, err)
		}
	}
	wantFound(t, s, k.key("target"), []byte("secret"), 0)

	// Hostile keys store and load as themselves (under this test's prefix).
	long := string(k) + "long-"
	long += strings.Repeat("x", 128-len(long))
	saved := []string{
		k.key("' OR 1=1 --"),
		k.key("ключ-🔑-キー"),
		k.key("%"),
		k.key("*"),
		k.key("a\x00b\xff"),
		long,
	}
	for i, key := range saved {
		data := []byte(fmt.Sprintf("value %d", i))
		v := mustSave(t, s, key, data, 0, later())
		wantFound(t, s, key, data, v)
		mustPut(t, s, key, data, later())
		wantTaken(t, s, key, data)
	}
	// Case and trailing spaces are part of the key (a case-insensitive
	// collation or PAD SPACE comparison would break this).
	upper := k.key("CASE")
	mustSave(t, s, k.key("case"), []byte("lower"), 0, later())
	wantMissing(t, s, upper)
	wantMissing(t, s, k.key("case "))
	wantFound(t, s, k.key("case"), []byte("lower"), 0)
	wantFound(t, s, k.key("target"), []byte("secret"), 0)
	wantTaken(t, s, k.key("target"), []byte("secret"))
}

func testPending(t *testing.T, s session.Store, k keys) {
	key := k.key("pending")
	mustPut(t, s, key, []byte("verifier-1"), later())
	// A second put replaces the first.
	mustPut(t, s, key, []byte("verifier-2"), later())
	wantTaken(t, s, key, []byte("verifier-2"))
	wantNoPending(t, s, key)

	mustPut(t, s, key, []byte("again"), later())
	if err := s.DeletePending(opCtx(t), key); err != nil {
		t.Fatalf("DeletePending(%q) error: %v", key, err)
	}
	wantNoPending(t, s, key)
	if err := s.DeletePending(opCtx(t), key); err != nil {
		t.Fatalf("second DeletePending(%q) = %v; want nil", key, err)
	}
}

// testConcurrentTakes races takers for one pending login: exactly one of
// them gets it, so two parallel callbacks cause one token exchange.
func testConcurrentTakes(t *testing.T, s session.Store, k keys) {
	const (
		rounds = 5
		takers = 8
	)
	for r := range rounds {
		key := k.key(fmt.Sprintf("take-%d", r))
		mustPut(t, s, key, []byte("once"), later())
		var (
			wg       sync.WaitGroup
			mu       sync.Mutex
			winners  int
			failures []error
		)
		start := make(chan struct{})
		for range takers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				ctx, cancel := context.WithTimeout(t.Context(), opTimeout)
				defer cancel()
				data, found, err := s.TakePending(ctx, key)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err != nil:
					failures = append(failures, err)
				case found && !bytes.Equal(data, []byte("once")):
					failures = append(failures, fmt.Errorf("TakePending = %s; want %q", short(data), "once"))
				case found:
					winners++
				}
			}()
		}
		close(start)
		wg.Wait()
		for _, err := range failures {
			t.Errorf("round %d: TakePending error: %v", r, err)
		}
		if winners != 1 {
			t.Fatalf("round %d: %d of %d concurrent TakePending calls found the pending login; want exactly 1", r, winners, takers)
		}
	}
}

func testNamespaces(t *testing.T, s session.Store, k keys) {
	key := k.key("both")
	v := mustSave(t, s, key, []byte("session"), 0, later())
	mustPut(t, s, key, []byte("pending"), later())
	wantFound(t, s, key, []byte("session"), v)
	wantTaken(t, s, key, []byte("pending"))
	wantFound(t, s, key, []byte("session"), v)

	mustPut(t, s, key, []byte("pending2"), later())
	if err := s.Delete(opCtx(t), key); err != nil {
		t.Fatalf("Delete(%q) error: %v", key, err)
	}
	wantMissing(t, s, key)
	wantTaken(t, s, key, []byte("pending2"))

	v = mustSave(t, s, key, []byte("session2"), 0, later())
	mustPut(t, s, key, []byte("pending3"), later())
	if err := s.DeletePending(opCtx(t), key); err != nil {
		t.Fatalf("DeletePending(%q) error: %v", key, err)
	}
	wantFound(t, s, key, []byte("session2"), v)
	wantNoPending(t, s, key)

	// A pending login does not count as a session for version 0.
	only := k.key("pending-only")
	mustPut(t, s, only, []byte("p"), later())
	wantMissing(t, s, only)
	v = mustSave(t, s, only, []byte("s"), 0, later())
	wantFound(t, s, only, []byte("s"), v)
	wantTaken(t, s, only, []byte("p"))
}

// testContextCanceled checks that every method honours a cancelled context
// and an expired deadline by returning an error that wraps the context's.
func testContextCanceled(t *testing.T, s session.Store, k keys) {
	key := k.key("ctx")
	v := mustSave(t, s, key, []byte("kept"), 0, later())
	mustPut(t, s, key, []byte("kept"), later())

	canceled, cancel := context.WithCancel(t.Context())
	cancel()
	expired, cancel2 := context.WithDeadline(t.Context(), time.Now().Add(-time.Second))
	defer cancel2()
	for _, c := range []struct {
		name string
		ctx  context.Context
		want error
	}{
		{"canceled", canceled, context.Canceled},
		{"deadline", expired, context.DeadlineExceeded},
	} {
		ctx := c.ctx
		check := func(op string, err error) {
			t.Helper()
			if err == nil {
				t.Errorf("%s with a %s context = nil error; want an error", op, c.name)
			} else if !errors.Is(err, c.want) {
				t.Errorf("%s with a %s context = %v; want an error wrapping %v", op, c.name, err, c.want)
			}
		}
		data, _, found, err := s.Find(ctx, key)
		check("Find", err)
		if found || data != nil {
			t.Errorf("Find with a %s context = %s, found %v; want nil, not found", c.name, short(data), found)
		}
		_, err = s.Save(ctx, key, []byte("changed"), v, later())
		check("Save", err)
		check("Delete", s.Delete(ctx, key))
		check("PutPending", s.PutPending(ctx, key, []byte("changed"), later()))
		pdata, pfound, err := s.TakePending(ctx, key)
		check("TakePending", err)
		if pfound || pdata != nil {
			t.Errorf("TakePending with a %s context = %s, found %v; want nil, not found", c.name, short(pdata), pfound)
		}
		check("DeletePending", s.DeletePending(ctx, key))
		if cl, ok := s.(session.Cleaner); ok {
			check("Cleanup", cl.Cleanup(ctx))
		}
	}
	// Nothing was changed by the cancelled calls.
	wantFound(t, s, key, []byte("kept"), v)
	wantTaken(t, s, key, []byte("kept"))
}
