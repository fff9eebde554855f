package mwoauth

import (
	"errors"
	"strings"
	"testing"
)

func testKey() []byte { return []byte(strings.Repeat("k", 32)) }

func validConfig() Config {
	return Config{
		Wiki:           "https://meta.wikimedia.org/w",
		ConsumerKey:    "ck",
		ConsumerSecret: "cs",
		CallbackURL:    "https://tool.example/oauth-callback",
		UserAgent:      "Test/1.0 (test@example.org)",
		SessionKeys:    [][]byte{testKey()},
	}
}

func TestConfigValidation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		edit func(*Config)
		want string // substring of the error; "" = valid
	}{
		{"valid", func(c *Config) {}, ""},
		{"no wiki", func(c *Config) { c.Wiki = "" }, "Wiki is required"},
		{"http wiki", func(c *Config) { c.Wiki = "http://meta.wikimedia.org/w" }, "must use https"},
		{"loopback http wiki", func(c *Config) { c.Wiki = "http://127.0.0.1:8080/w" }, ""},
		{"wiki with userinfo", func(c *Config) { c.Wiki = "https://u:p@meta.wikimedia.org/w" }, "user name"},
		{"missing secret", func(c *Config) { c.ConsumerSecret = "" }, "ConsumerSecret is required"},
		{"missing key", func(c *Config) { c.ConsumerKey = "" }, "ConsumerKey is required"},
		{"no user agent", func(c *Config) { c.UserAgent = " " }, "UserAgent is required"},
		{"no session key", func(c *Config) { c.SessionKeys = nil }, "SessionKeys is required"},
		{"short key", func(c *Config) { c.SessionKeys = [][]byte{make([]byte, 16)} }, "has 16 bytes"},
		{"http callback", func(c *Config) { c.CallbackURL = "http://tool.example/cb" }, "must use https"},
		{"loopback callback", func(c *Config) { c.CallbackURL = "http://127.0.0.1:5000/oauth-callback" }, ""},
		{"oob without origin", func(c *Config) { c.CallbackURL = "" }, "PublicOrigin is required"},
		{"oob with origin", func(c *Config) { c.CallbackURL = ""; c.PublicOrigin = "https://tool.example" }, ""},
		{"callback off origin", func(c *Config) { c.PublicOrigin = "https://other.example" }, "not on PublicOrigin"},
		{"origin with path", func(c *Config) { c.PublicOrigin = "https://tool.example/x" }, "without a path"},
		{"bad base path", func(c *Config) { c.BasePath = "auth" }, "BasePath"},
		{"bad default next", func(c *Config) { c.DefaultNext = "//evil.com" }, "DefaultNext"},
		{"both protocols", func(c *Config) { c.ClientID = "x" }, "both ConsumerKey"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConfig()
			tt.edit(&c)
			_, err := New(c)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("New() = %v; want no error", err)
				}
				return
			}
			if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New() = %v; want ErrConfig containing %q", err, tt.want)
			}
		})
	}
}

func TestConfigNotMutated(t *testing.T) {
	t.Parallel()
	c := validConfig()
	c.BasePath = "/auth/"
	before := c.BasePath
	a, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	if c.BasePath != before || c.Logger != nil || c.HTTPClient != nil {
		t.Fatal("New changed the caller's Config")
	}
	if a.LoginPath() != "/auth/login" || a.LogoutPath() != "/auth/logout" || a.CallbackPath() != "/oauth-callback" {
		t.Fatalf("paths = %q %q %q", a.LoginPath(), a.LogoutPath(), a.CallbackPath())
	}
}
