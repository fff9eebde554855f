package mwapi_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/wikiauth/mwoauth/mwapi"
	"github.com/wikiauth/mwoauth/mwoauthtest"
	"github.com/wikiauth/mwoauth/oauth1"
)

// exampleSignedClient returns a Client for the fake wiki that signs as
// Alice with an owner-only OAuth 1 consumer.
func exampleSignedClient(wiki *mwoauthtest.Server, opts ...mwapi.Option) *mwapi.Client {
	cons := wiki.AddConsumer(mwoauthtest.Consumer{
		Name: "example", OwnerOnly: true, Owner: "Alice",
		Grants: []string{"basic", "editpage", "createeditmovepage", "uploadfile"},
	})
	cfg := &oauth1.Config{
		Wiki: wiki.ScriptPath(), ConsumerKey: cons.Key, ConsumerSecret: cons.Secret,
		UserAgent:  "ExampleTool/1.0 (me@example.org)",
		HTTPClient: &http.Client{Transport: mwapi.NewTransport(0)},
	}
	hc := cfg.Client(&oauth1.Token{Key: cons.AccessKey, Secret: cons.AccessSecret})
	c, err := mwapi.New(wiki.ScriptPath(), append([]mwapi.Option{
		mwapi.WithHTTPClient(hc),
		mwapi.WithUserAgent("ExampleTool/1.0 (me@example.org)"),
		mwapi.WithCredentialID("example-credential"),
		mwapi.WithLogger(slog.New(slog.DiscardHandler)),
	}, opts...)...)
	if err != nil {
		panic(err)
	}
	return c
}

func ExampleClient_Upload() {
	wiki := mwoauthtest.NewServer()
	defer wiki.Close()
	c := exampleSignedClient(wiki, mwapi.WithChunkSize(1000))

	content := strings.Repeat("x", 2500) // more than one chunk: uploaded in 3
	res, err := c.Upload(context.Background(), mwapi.UploadRequest{
		Filename: "Example file.txt",
		Content:  strings.NewReader(content),
		Size:     int64(len(content)),
		Comment:  "An example",
		Progress: func(sent, total int64) { fmt.Printf("%d/%d\n", sent, total) },
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.Result, res.Filename)
	// Output:
	// 1000/2500
	// 2000/2500
	// 2500/2500
	// Success Example_file.txt
}

func ExampleClient_Pages() {
	wiki := mwoauthtest.NewServer()
	defer wiki.Close()
	wiki.AddPage("Fruit apple", "[[Category:Fruit]] [[Category:Red]] [[Category:Round]]")
	wiki.AddPage("Fruit banana", "[[Category:Fruit]] [[Category:Yellow]]")
	c := exampleSignedClient(wiki)

	// cllimit=2 makes the categories arrive over several batches; Pages
	// yields each page once, merged.
	params := url.Values{
		"action": {"query"}, "generator": {"allpages"}, "gapprefix": {"Fruit"},
		"prop": {"categories"}, "cllimit": {"2"},
	}
	for page, err := range c.Pages(context.Background(), params) {
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Print(page["title"], ":")
		for _, cat := range page["categories"].([]any) {
			fmt.Print(" ", strings.TrimPrefix(cat.(map[string]any)["title"].(string), "Category:"))
		}
		fmt.Println()
	}
	// Output:
	// Fruit apple: Fruit Red Round
	// Fruit banana: Fruit Yellow
}
