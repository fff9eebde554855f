package mwoauth_test

import (
	"context"
	"fmt"
	"log"
	"net/url"

	"github.com/wikiauth/mwoauth"
	"github.com/wikiauth/mwoauth/mwapi"
	"github.com/wikiauth/mwoauth/mwoauthtest"
)

// botUA is the descriptive User-Agent Wikimedia asks bots for.
const botUA = "AliceBot/1.0 (https://example.org/alicebot; alice@example.org)"

// runBot is what a bot does with its client, whichever the protocol: read
// who it is, then append a line to a page with a CSRF token.
func runBot(ctx context.Context, client *mwapi.Client, page string) error {
	var who struct {
		Query struct {
			Userinfo struct{ Name string }
		}
	}
	if err := client.Get(ctx, url.Values{"action": {"query"}, "meta": {"userinfo"}}, &who); err != nil {
		return err
	}
	fmt.Println("logged in as", who.Query.Userinfo.Name)

	var res struct {
		Edit struct{ Result, Title string }
	}
	err := client.PostWithToken(ctx, "csrf", url.Values{
		"action":     {"edit"},
		"title":      {page},
		"appendtext": {"\n* checked by AliceBot"},
		"summary":    {"bot: add a check mark"},
		"bot":        {"1"},
	}, &res)
	if err != nil {
		return err
	}
	fmt.Println("edit:", res.Edit.Result, res.Edit.Title)
	return nil
}

// An owner-only OAuth 1.0a consumer is a bot's login: the four values shown
// once at registration, no handshake, no browser. Here the fake wiki plays
// the wiki; on Wikimedia, wiki is e.g. "https://meta.wikimedia.org/w" and the
// values come from the environment or a secret file.
func Example_ownerOnlyBot() {
	wiki := mwoauthtest.NewServer()
	defer wiki.Close()
	c := wiki.AddConsumer(mwoauthtest.Consumer{
		Name: "AliceBot", OwnerOnly: true, Owner: "Alice",
		Grants: []string{"basic", "editpage"},
	})

	client, err := mwoauth.OwnerOnlyOAuth1(wiki.ScriptPath(),
		c.Key, c.Secret, c.AccessKey, c.AccessSecret, botUA,
		mwapi.WithMaxLag(5))
	if err != nil {
		log.Fatal(err)
	}
	if err := runBot(context.Background(), client, "Test page 01"); err != nil {
		log.Fatal(err)
	}
	text, _ := wiki.PageText("Test page 01")
	fmt.Printf("%q\n", text)
	// Output:
	// logged in as Alice
	// edit: Success Test page 01
	// "Test page.\n* checked by AliceBot"
}

// An owner-only OAuth 2.0 client is a bot's login too: one bearer token,
// shown once at registration, that never expires.
func Example_ownerOnlyBotOAuth2() {
	wiki := mwoauthtest.NewServer()
	defer wiki.Close()
	c := wiki.AddConsumer(mwoauthtest.Consumer{
		Name: "AliceBot2", Version: 2, OwnerOnly: true, Owner: "Alice",
		Grants: []string{"basic", "editpage"},
	})

	client, err := mwoauth.OwnerOnlyOAuth2(wiki.ScriptPath(), c.AccessToken, botUA)
	if err != nil {
		log.Fatal(err)
	}
	if err := runBot(context.Background(), client, "Test page 02"); err != nil {
		log.Fatal(err)
	}
	// Output:
	// logged in as Alice
	// edit: Success Test page 02
}

// ClientCredentials gets short-lived tokens for an owner-only OAuth 2.0
// client with its id and secret (the client_credentials grant), renewing
// them as they expire.
func ExampleClientCredentials() {
	wiki := mwoauthtest.NewServer()
	defer wiki.Close()
	c := wiki.AddConsumer(mwoauthtest.Consumer{
		Name: "AliceBot3", Version: 2, OwnerOnly: true, Owner: "Alice",
		Grants: []string{"basic", "editpage"},
	})

	ctx := context.Background()
	client, err := mwoauth.ClientCredentials(ctx, wiki.ScriptPath(), c.ClientID(), c.ClientSecret(), botUA)
	if err != nil {
		log.Fatal(err)
	}
	if err := runBot(ctx, client, "Test page 03"); err != nil {
		log.Fatal(err)
	}
	// Output:
	// logged in as Alice
	// edit: Success Test page 03
}
