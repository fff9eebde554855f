package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wikiauth/mwoauth/oauth1"
)

// TestDevwiki builds the command, starts it on a free loopback port with
// -json, reads the startup line, makes one signed request (initiate with
// the default consumer) and an owner-only identify, and stops it with
// SIGINT; it must exit 0.
func TestDevwiki(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary")
	}
	bin := filepath.Join(t.TempDir(), "mwoauth-devwiki")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "-addr", "127.0.0.1:0", "-json", "-user", "Bob:bobpass")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })

	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		if sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var line string
	select {
	case line = <-lines:
	case <-time.After(20 * time.Second):
		t.Fatal("no startup line within 20 s")
	}
	var info startup
	if err := json.Unmarshal([]byte(line), &info); err != nil {
		t.Fatalf("startup line %q: %v", line, err)
	}
	if !strings.HasPrefix(info.URL, "http://127.0.0.1:") || !strings.HasSuffix(info.URL, "/w") {
		t.Errorf("url = %q", info.URL)
	}
	names := map[string]string{}
	for _, u := range info.Users {
		names[u.Name] = u.Password
	}
	if names["Alice"] == "" || names["Bob"] != "bobpass" {
		t.Errorf("users = %+v; want Alice (random password) and Bob", info.Users)
	}
	if len(info.Consumers) < 2 {
		t.Fatalf("consumers = %+v", info.Consumers)
	}
	app, bot := info.Consumers[0], info.Consumers[1]
	if !app.CallbackIsPrefix || app.Callback != "http://127.0.0.1:5000/oauth-callback" || strings.Join(app.Grants, " ") != "basic highvolume editpage createeditmovepage" {
		t.Errorf("default consumer = %+v", app)
	}
	if !bot.OwnerOnly || bot.AccessKey == "" || bot.AccessSecret == "" {
		t.Errorf("owner-only consumer = %+v", bot)
	}

	var o2 []consumerJSON
	for _, c := range info.Consumers {
		if c.OAuthVersion == 2 {
			o2 = append(o2, c)
		}
	}
	if len(o2) != 2 || o2[0].ClientID == "" || o2[0].ClientSecret == "" || o2[0].Confidential == nil || !*o2[0].Confidential ||
		o2[1].ClientSecret != "" || o2[1].Confidential == nil || *o2[1].Confidential || o2[1].Callback != "http://127.0.0.1:5000/oauth-callback" {
		t.Errorf("OAuth 2 clients = %+v; want a confidential and a public one", o2)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cfg := &oauth1.Config{Wiki: info.URL, ConsumerKey: app.Key, ConsumerSecret: app.Secret, UserAgent: "devwiki-test/1.0 (test@example.org)"}
	if _, err := cfg.RequestToken(ctx); err != nil {
		t.Errorf("RequestToken: %v", err)
	}
	botCfg := &oauth1.Config{Wiki: info.URL, ConsumerKey: bot.Key, ConsumerSecret: bot.Secret, UserAgent: "devwiki-test/1.0 (test@example.org)"}
	id, err := botCfg.Identify(ctx, &oauth1.Token{Key: bot.AccessKey, Secret: bot.AccessSecret})
	if err != nil || id.Username != "Alice" {
		t.Errorf("owner-only Identify = %v, %v; want Alice", id, err)
	}

	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		var ee *exec.ExitError
		if errors.As(err, &ee) || err != nil {
			t.Errorf("exit after SIGINT: %v; want status 0", err)
		}
	case <-time.After(10 * time.Second):
		t.Error("still running 10 s after SIGINT")
	}
}

// TestFlags: bad flags are errors, never a wiki on a public address.
func TestFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-addr", "0.0.0.0:0"},
		{"-version", "1.40"},
		{"-consumer", "name=x,prefix=maybe"},
		{"-consumer", "bogus"},
		{"-user", ":pw"},
		{"extra"},
	} {
		var out, errOut strings.Builder
		if err := run(context.Background(), args, &out, &errOut); err == nil {
			t.Errorf("run(%q) = nil; want an error", args)
		}
	}
}
