// Command mwoauth-devwiki runs the fake MediaWiki of package mwoauthtest
// standalone, so that apps in any language can test an OAuth login
// against it offline.
//
//	mwoauth-devwiki [-addr 127.0.0.1:8090] [-json] [-version 1.43|1.39]
//	                [-user Name[:password]]... [-consumer key=value,...]... [-no-defaults]
//
// By default the wiki has a user Alice (and Admin) with random passwords,
// an approved consumer with the grants basic, highvolume, editpage and
// createeditmovepage whose callback http://127.0.0.1:5000/oauth-callback is
// a prefix, and an owner-only consumer of Alice's. Keys, secrets and
// passwords are random on every run unless given by flags.
//
// A -consumer value is a comma-separated list of key=value pairs: name,
// key, secret, callback, prefix (true/false), grants (separated by |),
// owner, owner-only (true/false), proposed (true/false), access-key,
// access-secret, version (1 or 2), confidential (true/false; OAuth 2).
// The defaults also include a confidential and a public OAuth 2 client
// (redirect URI http://127.0.0.1:5000/oauth-callback), listed with
// oauth_version 2, client_id, client_secret and confidential.
//
// With -json the first line on stdout, printed once the port is bound, is
// one JSON object: {"url": script path, "consumers": [...], "users": [...]}.
// SIGINT or SIGTERM stops the wiki after the requests in flight.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/wikiauth/mwoauth/mwoauthtest"
)

// listFlag collects a repeated flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, " ") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

type consumerJSON struct {
	Name             string   `json:"name"`
	OAuthVersion     int      `json:"oauth_version"`
	Key              string   `json:"key"`
	Secret           string   `json:"secret"`
	Callback         string   `json:"callback"`
	CallbackIsPrefix bool     `json:"callback_is_prefix"`
	Grants           []string `json:"grants"`
	OwnerOnly        bool     `json:"owner_only"`
	AccessKey        string   `json:"access_key"`
	AccessSecret     string   `json:"access_secret"`
	// OAuth 2 clients.
	ClientID     string `json:"client_id,omitempty"`
	ClientSecret string `json:"client_secret,omitempty"`
	Confidential *bool  `json:"confidential,omitempty"`
	AccessToken  string `json:"access_token,omitempty"`
}

type userJSON struct {
	Name     string `json:"name"`
	Password string `json:"password"`
}

type startup struct {
	URL       string         `json:"url"`
	Consumers []consumerJSON `json:"consumers"`
	Users     []userJSON     `json:"users"`
}

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "mwoauth-devwiki:", err)
		os.Exit(1)
	}
}

func randomHex(n int) (string, error) {
	b := make([]byte, n/2)
	if _, err := io.ReadFull(rand.Reader, b); err != nil {
		return "", fmt.Errorf("random: %w", err)
	}
	return hex.EncodeToString(b), nil
}

func parseBool(k, v string) (bool, error) {
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("-consumer: %s=%q: not a boolean", k, v)
	}
	return b, nil
}

func parseConsumer(spec string) (mwoauthtest.Consumer, error) {
	var c mwoauthtest.Consumer
	for _, part := range strings.Split(spec, ",") {
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			return c, fmt.Errorf("-consumer: %q is not key=value", part)
		}
		var err error
		switch strings.TrimSpace(k) {
		case "name":
			c.Name = v
		case "key":
			c.Key = v
		case "secret":
			c.Secret = v
		case "callback":
			c.Callback = v
		case "prefix":
			c.CallbackIsPrefix, err = parseBool(k, v)
		case "grants":
			c.Grants = strings.Split(v, "|")
		case "owner":
			c.Owner = v
		case "owner-only":
			c.OwnerOnly, err = parseBool(k, v)
		case "proposed":
			c.Proposed, err = parseBool(k, v)
		case "access-key":
			c.AccessKey = v
		case "access-secret":
			c.AccessSecret = v
		case "confidential":
			c.Confidential, err = parseBool(k, v)
		case "version":
			c.Version, err = strconv.Atoi(v)
			if err == nil && c.Version != 1 && c.Version != 2 {
				err = fmt.Errorf("-consumer: version=%s: want 1 or 2", v)
			}
		default:
			return c, fmt.Errorf("-consumer: unknown key %q", k)
		}
		if err != nil {
			return c, err
		}
	}
	return c, nil
}

func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("mwoauth-devwiki", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8090", "loopback address to listen on (port 0: any free port)")
	asJSON := fs.Bool("json", false, "print one JSON line (url, consumers, users) once the port is bound")
	version := fs.String("version", "1.43", "MediaWiki release to imitate: 1.43 or 1.39")
	noDefaults := fs.Bool("no-defaults", false, "start without the default users and consumers")
	var users, consumers listFlag
	fs.Var(&users, "user", "add a user Name[:password] (repeatable; random password if none)")
	fs.Var(&consumers, "consumer", "add a consumer: name=..,key=..,secret=..,callback=..,prefix=true,grants=basic|editpage,owner-only=true,owner=Alice (repeatable)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if !isLoopback(*addr) {
		return fmt.Errorf("-addr %s: only loopback addresses are allowed (the dev wiki is not secure)", *addr)
	}
	opts := []mwoauthtest.Option{mwoauthtest.WithoutDefaults()}
	switch *version {
	case "1.43":
	case "1.39":
		opts = append(opts, mwoauthtest.WithVersion(mwoauthtest.MW139))
	default:
		return fmt.Errorf("-version %q: want 1.43 or 1.39", *version)
	}
	for _, u := range users {
		if name, _, _ := strings.Cut(u, ":"); name == "" {
			return fmt.Errorf("-user %q: no name", u)
		}
	}
	var specs []mwoauthtest.Consumer
	for _, c := range consumers {
		spec, err := parseConsumer(c)
		if err != nil {
			return err
		}
		specs = append(specs, spec)
	}

	l, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	s := mwoauthtest.NewUnstartedServer(append(opts, mwoauthtest.WithListener(l))...)
	started := false
	defer func() {
		if !started {
			l.Close()
		}
	}()

	out := startup{Consumers: []consumerJSON{}, Users: []userJSON{}} // [] rather than null when empty
	addUser := func(name, password string) error {
		if password == "" {
			p, err := randomHex(20)
			if err != nil {
				return err
			}
			password = p
		}
		u := s.AddUser(mwoauthtest.User{Name: name, Password: password, Email: strings.ToLower(name) + "@example.org"})
		// AddUser replaces a user of the same name (-user Alice:pw
		// replaces the default Alice): list the one that works.
		for i := range out.Users {
			if out.Users[i].Name == u.Name {
				out.Users[i].Password = u.Password
				return nil
			}
		}
		out.Users = append(out.Users, userJSON{u.Name, u.Password})
		return nil
	}
	var added []*mwoauthtest.Consumer
	if !*noDefaults {
		if err := addUser("Admin", ""); err != nil {
			return err
		}
		s.AddUser(mwoauthtest.User{Name: "Admin", Password: out.Users[0].Password, Groups: []string{"sysop", "bureaucrat", "interface-admin"}, Email: "admin@example.org"})
		if err := addUser("Alice", ""); err != nil {
			return err
		}
		added = append(added,
			s.AddConsumer(mwoauthtest.Consumer{Name: "devwiki-app", Callback: mwoauthtest.DefaultCallback, CallbackIsPrefix: true,
				Grants: []string{"basic", "highvolume", "editpage", "createeditmovepage"}}),
			s.AddConsumer(mwoauthtest.Consumer{Name: "devwiki-bot", OwnerOnly: true, Owner: "Alice",
				Callback: "/w/index.php?title=Special:OAuth/verified",
				Grants:   []string{"basic", "highvolume", "editpage", "createeditmovepage"}}),
		)
		added = append(added, defaultOAuth2Clients(s)...)
	}
	for _, u := range users {
		name, password, _ := strings.Cut(u, ":")
		if err := addUser(name, password); err != nil {
			return err
		}
	}
	for _, spec := range specs {
		added = append(added, s.AddConsumer(spec))
	}
	s.Start()
	started = true
	defer s.Close()

	out.URL = s.ScriptPath()
	for _, c := range added {
		out.Consumers = append(out.Consumers, describe(c))
	}
	if *asJSON {
		b, err := json.Marshal(out)
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(stdout, "%s\n", b); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(stdout, "mwoauth-devwiki: MediaWiki %s at %s (Config.Wiki)\n", *version, out.URL)
		for _, u := range out.Users {
			fmt.Fprintf(stdout, "  user %s, password %s\n", u.Name, u.Password)
		}
		for _, c := range out.Consumers {
			if c.OAuthVersion == 2 {
				fmt.Fprintf(stdout, "  OAuth 2 client %q: client id %s, secret %s, redirect %s\n", c.Name, c.ClientID, c.ClientSecret, c.Callback)
				continue
			}
			fmt.Fprintf(stdout, "  consumer %q: key %s, secret %s, callback %s (prefix: %v), grants %s\n", c.Name, c.Key, c.Secret, c.Callback, c.CallbackIsPrefix, strings.Join(c.Grants, " "))
			if c.OwnerOnly {
				fmt.Fprintf(stdout, "    owner-only access token %s, secret %s\n", c.AccessKey, c.AccessSecret)
			}
		}
	}

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	if !errors.Is(ctx.Err(), context.Canceled) {
		return ctx.Err()
	}
	fmt.Fprintln(stderr, "mwoauth-devwiki: shutting down")
	return nil
}

func describe(c *mwoauthtest.Consumer) consumerJSON {
	j := consumerJSON{
		Name: c.Name, OAuthVersion: c.Version, Key: c.Key, Secret: c.Secret, Callback: c.Callback,
		CallbackIsPrefix: c.CallbackIsPrefix, Grants: c.Grants, OwnerOnly: c.OwnerOnly,
		AccessKey: c.AccessKey, AccessSecret: c.AccessSecret,
	}
	if c.Version == 2 {
		conf := c.Confidential
		j.ClientID, j.ClientSecret, j.Confidential, j.AccessToken = c.Key, c.Secret, &conf, c.AccessToken
		j.AccessKey, j.AccessSecret = "", ""
	}
	return j
}
