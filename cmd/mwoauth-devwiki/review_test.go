package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"testing"
	"time"
)

// TestReviewUserFlagReplacesDefault: -user Alice:pw replaces the default
// Alice (mwoauthtest's AddUser replaces a user of the same name), so the
// startup line must list Alice once, with the password that works, not
// also the default's random one, which no longer does.
func TestReviewUserFlagReplacesDefault(t *testing.T) {
	line := startupLine(t, "-user", "Alice:review-pass")
	var info startup
	if err := json.Unmarshal([]byte(line), &info); err != nil {
		t.Fatalf("startup line %q: %v", line, err)
	}
	var alice []string
	for _, u := range info.Users {
		if u.Name == "Alice" {
			alice = append(alice, u.Password)
		}
	}
	if len(alice) != 1 || alice[0] != "review-pass" {
		t.Errorf("Alice listed with passwords %q; want once, with review-pass", alice)
	}
}

// TestReviewEmptyListsAreArrays: with -no-defaults and no -user or
// -consumer, "consumers" and "users" are empty arrays, as the documented
// shape says, not null (which apps in other languages cannot iterate).
func TestReviewEmptyListsAreArrays(t *testing.T) {
	line := startupLine(t, "-no-defaults")
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(line), &raw); err != nil {
		t.Fatalf("startup line %q: %v", line, err)
	}
	for _, k := range []string{"consumers", "users"} {
		if string(raw[k]) != "[]" {
			t.Errorf("%s = %s; want []", k, raw[k])
		}
	}
}

// startupLine runs the command on a free loopback port with -json and the
// given flags, and returns its first stdout line once it has stopped.
func startupLine(t *testing.T, flags ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"-addr", "127.0.0.1:0", "-json"}, flags...), pw, io.Discard)
		pw.Close()
	}()
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		if sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		io.Copy(io.Discard, pr)
	}()
	var line string
	select {
	case line = <-lines:
	case <-time.After(10 * time.Second):
		t.Fatal("no startup line within 10 s")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}
	return line
}
