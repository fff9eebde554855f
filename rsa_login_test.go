package mwoauth_test

import (
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"strings"
	"testing"

	"github.com/wikiauth/mwoauth"
	"github.com/wikiauth/mwoauth/mwoauthtest"
)

// A consumer registered with an RSA public key logs in and calls the API
// through the login layer (the token step answers "__unused__"; identify is
// verified with the consumer secret MediaWiki issues to every consumer).
func TestRSAConsumerLogin(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, mwoauth.OAuth1)
	c := e.wiki.AddConsumer(mwoauthtest.Consumer{
		Name:             "e2e-rsa",
		RSAPublicKey:     &key.PublicKey,
		Callback:         e.consumer.Callback,
		CallbackIsPrefix: true,
		Grants:           []string{"basic"},
	})
	e.cfg.ConsumerKey, e.cfg.ConsumerSecret, e.cfg.ConsumerRSAKey = c.Key, c.Secret, key
	e.restart()
	b := e.browser()
	e.mustLogin(b)
	if r := b.get(e.app.URL + "/"); !strings.Contains(r.body, "Logged in as Alice") {
		t.Fatalf("/ = %q", r.body)
	}
	if r := b.get(e.app.URL + "/userinfo"); !strings.Contains(r.body, `"name":"Alice"`) {
		t.Fatalf("/userinfo = %d %q", r.StatusCode, r.body)
	}

	// A wrong key: the wiki refuses the consumer at initiate.
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	e.cfg.ConsumerRSAKey = other
	e.restart()
	if r := e.browser().get(e.app.URL + "/login"); r.StatusCode != 502 || !strings.Contains(r.body, "misconfigured") {
		t.Fatalf("/login with the wrong RSA key = %d %q", r.StatusCode, r.body)
	}

	cfg := e.cfg
	cfg.ConsumerRSAKey = &rsa.PrivateKey{}
	if _, err := mwoauth.New(cfg); !errors.Is(err, mwoauth.ErrConfig) {
		t.Fatalf("New with an invalid RSA key = %v; want ErrConfig", err)
	}
}
