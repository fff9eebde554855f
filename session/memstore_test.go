package session

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestMemoryStoreCAS(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newClock()
	s := NewMemoryStoreClock(c.Now)
	exp := t0.Add(time.Hour)
	v1, err := s.Save(ctx, "k", []byte("a"), 0, exp)
	if err != nil || v1 == 0 {
		t.Fatalf("Save(new) = %d, %v; want a non-zero version", v1, err)
	}
	tests := []struct {
		name    string
		version int64
		wantErr error
	}{
		{"create existing", 0, ErrConflict},
		{"wrong version", v1 + 100, ErrConflict},
		{"right version", v1, nil},
		{"stale version", v1, ErrConflict},
	}
	for _, tt := range tests {
		v, err := s.Save(ctx, "k", []byte(tt.name), tt.version, exp)
		if !errors.Is(err, tt.wantErr) {
			t.Fatalf("%s: Save error = %v; want %v", tt.name, err, tt.wantErr)
		}
		if err == nil && (v == 0 || v == tt.version) {
			t.Errorf("%s: new version %d; want non-zero and different from %d", tt.name, v, tt.version)
		}
	}
	data, _, found, err := s.Find(ctx, "k")
	if err != nil || !found || string(data) != "right version" {
		t.Errorf("Find = %q, %v, %v", data, found, err)
	}
	// Updating a missing record is a conflict, not a create.
	if _, err := s.Save(ctx, "missing", []byte("x"), 7, exp); !errors.Is(err, ErrConflict) {
		t.Errorf("Save(missing, version 7) error = %v; want ErrConflict", err)
	}
	// Expired: not found, and version 0 may create it again.
	c.Advance(2 * time.Hour)
	if _, _, found, _ := s.Find(ctx, "k"); found {
		t.Error("Find returned an expired record")
	}
	if _, err := s.Save(ctx, "k", []byte("new"), 0, c.Now().Add(time.Hour)); err != nil {
		t.Errorf("Save(0) over an expired record: %v", err)
	}
	// Limits.
	if _, err := s.Save(ctx, strings.Repeat("k", MaxKeyLen+1), nil, 0, exp); err == nil {
		t.Error("Save(129-byte key) error = nil")
	}
	if _, err := s.Save(ctx, "big", make([]byte, MaxValueLen+1), 0, exp); !errors.Is(err, ErrTooLarge) {
		t.Errorf("Save(1 MiB + 1) error = %v; want ErrTooLarge", err)
	}
}

func TestMemoryStoreCopies(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := NewMemoryStore()
	b := []byte("abc")
	if _, err := s.Save(ctx, "k", b, 0, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	b[0] = 'X'
	got, _, _, _ := s.Find(ctx, "k")
	got[1] = 'Y'
	if again, _, _, _ := s.Find(ctx, "k"); string(again) != "abc" {
		t.Errorf("Find = %q; want %q (the store aliases caller bytes)", again, "abc")
	}
}

func TestMemoryStoreConcurrentTakes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := NewMemoryStore()
	for round := range 20 {
		if err := s.PutPending(ctx, "p", []byte("verifier"), time.Now().Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		var wins atomic.Int32
		var wg sync.WaitGroup
		for range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				data, found, err := s.TakePending(ctx, "p")
				if err != nil {
					t.Error(err)
				}
				if found {
					wins.Add(1)
					if string(data) != "verifier" {
						t.Errorf("TakePending = %q", data)
					}
				}
			}()
		}
		wg.Wait()
		if n := wins.Load(); n != 1 {
			t.Fatalf("round %d: %d takes won; want exactly 1", round, n)
		}
	}
}

func TestMemoryStoreConcurrentSaves(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := NewMemoryStore()
	v, err := s.Save(ctx, "k", []byte("0"), 0, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var wins atomic.Int32
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.Save(ctx, "k", []byte("x"), v, time.Now().Add(time.Hour))
			switch {
			case err == nil:
				wins.Add(1)
			case !errors.Is(err, ErrConflict):
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := wins.Load(); n != 1 {
		t.Errorf("%d saves on one version won; want exactly 1", n)
	}
}

// Concurrent callbacks through the Manager: exactly one TakePending wins.
func TestManagerConcurrentTakes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true, nil)
	b := newBrowser()
	e.put(b, "tok", "verifier")
	var wins atomic.Int32
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, found, err := e.m.TakePending(context.Background(), discardRecorder(), b.request(), "tok")
			if err != nil {
				t.Error(err)
			}
			if found {
				wins.Add(1)
			}
		}()
	}
	wg.Wait()
	if n := wins.Load(); n != 1 {
		t.Errorf("%d concurrent takes won; want exactly 1", n)
	}
}

func discardRecorder() discard { return discard{} }

func TestMemoryStoreCleanupAndContext(t *testing.T) {
	t.Parallel()
	c := newClock()
	s := NewMemoryStoreClock(c.Now)
	ctx := context.Background()
	if _, err := s.Save(ctx, "old", nil, 0, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Save(ctx, "new", nil, 0, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.PutPending(ctx, "p-old", nil, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	c.Advance(2 * time.Minute)
	if _, found, _ := s.TakePending(ctx, "p-old"); found {
		t.Error("TakePending returned an expired pending login")
	}
	if err := s.Cleanup(ctx); err != nil {
		t.Fatal(err)
	}
	if n, p := s.Len(); n != 1 || p != 0 {
		t.Errorf("after Cleanup: %d sessions, %d pending; want 1, 0", n, p)
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if _, _, _, err := s.Find(canceled, "new"); !errors.Is(err, context.Canceled) {
		t.Errorf("Find(canceled) error = %v", err)
	}
	if _, err := s.Save(canceled, "x", nil, 0, t0.Add(time.Hour)); !errors.Is(err, context.Canceled) {
		t.Errorf("Save(canceled) error = %v", err)
	}
	if _, _, err := s.TakePending(canceled, "x"); !errors.Is(err, context.Canceled) {
		t.Errorf("TakePending(canceled) error = %v", err)
	}
}

func TestParsePending(t *testing.T) {
	t.Parallel()
	p := pendingPayload("handle-1", []byte("data"))
	tests := []struct {
		name   string
		p      []byte
		handle string
		want   string
		ok     bool
	}{
		{"match", p, "handle-1", "data", true},
		{"other handle", p, "handle-2", "", false},
		{"prefix handle", p, "handle-", "", false},
		{"empty payload", nil, "handle-1", "", false},
		{"length past end", []byte{200, 'a'}, "a", "", false},
		{"bad varint", []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, "a", "", false},
	}
	for _, tt := range tests {
		got, ok := parsePending(tt.p, tt.handle)
		if ok != tt.ok || string(got) != tt.want {
			t.Errorf("%s: parsePending = %q, %v; want %q, %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
	if _, ok := parseBinding([]byte("short")); ok {
		t.Error("parseBinding(short) ok")
	}
}
