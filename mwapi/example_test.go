package mwapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"

	"github.com/wikiauth/mwoauth/mwapi"
)

// exampleWiki is a tiny stand-in for api.php (the examples run offline).
func exampleWiki() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		switch {
		case r.Form.Get("meta") == "userinfo":
			io.WriteString(w, `{"batchcomplete":true,"query":{"userinfo":{"id":3,"name":"Alice"}}}`)
		case r.Form.Get("meta") == "tokens":
			io.WriteString(w, `{"batchcomplete":true,"query":{"tokens":{"csrftoken":"343814fe3bae7cf8777b09d2aae44e646b12cc99+\\"}}}`)
		case r.Form.Get("action") == "edit":
			io.WriteString(w, `{"edit":{"result":"Success","pageid":2,"title":"Sandbox","newrevid":3}}`)
		case r.Form.Get("list") == "allpages":
			switch r.Form.Get("apcontinue") {
			case "":
				io.WriteString(w, `{"continue":{"apcontinue":"Banana","continue":"-||"},"query":{"allpages":[{"title":"Apple"}]}}`)
			case "Banana":
				io.WriteString(w, `{"continue":{"apcontinue":"Cherry","continue":"-||"},"query":{"allpages":[{"title":"Banana"}]}}`)
			default:
				io.WriteString(w, `{"batchcomplete":true,"query":{"allpages":[{"title":"Cherry"}]}}`)
			}
		default:
			w.Header().Set("MediaWiki-API-Error", "mwoauth-invalid-authorization")
			io.WriteString(w, `{"error":{"code":"mwoauth-invalid-authorization","info":"The authorization headers in your request are not valid: No approved grant was found for that authorization token."}}`)
		}
	}))
}

func Example() {
	wiki := exampleWiki()
	defer wiki.Close()

	// In an app, WithHTTPClient gets the OAuth-signing client and
	// WithCredentialID a hash of the user's access token.
	c, err := mwapi.New(wiki.URL+"/w",
		mwapi.WithUserAgent("ExampleTool/1.0 (https://example.org; me@example.org)"),
		mwapi.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		fmt.Println(err)
		return
	}
	var res struct {
		Query struct {
			Userinfo struct {
				ID   int
				Name string
			}
		}
	}
	err = c.Get(context.Background(), url.Values{"action": {"query"}, "meta": {"userinfo"}}, &res)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.Query.Userinfo.Name, res.Query.Userinfo.ID)
	// Output: Alice 3
}

func ExampleClient_PostWithToken() {
	wiki := exampleWiki()
	defer wiki.Close()
	c, _ := mwapi.New(wiki.URL+"/w", mwapi.WithUserAgent("ExampleTool/1.0 (me@example.org)"),
		mwapi.WithLogger(slog.New(slog.DiscardHandler)))

	var res struct {
		Edit struct {
			Result   string
			NewRevID int
		}
	}
	err := c.PostWithToken(context.Background(), "csrf", url.Values{
		"action": {"edit"}, "title": {"Sandbox"}, "appendtext": {"Hello"}, "summary": {"test"},
	}, &res)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.Edit.Result, res.Edit.NewRevID)
	// Output: Success 3
}

func ExampleClient_Continue() {
	wiki := exampleWiki()
	defer wiki.Close()
	c, _ := mwapi.New(wiki.URL+"/w", mwapi.WithUserAgent("ExampleTool/1.0 (me@example.org)"),
		mwapi.WithLogger(slog.New(slog.DiscardHandler)))

	params := url.Values{"action": {"query"}, "list": {"allpages"}, "aplimit": {"1"}}
	for batch, err := range c.Continue(context.Background(), params) {
		if err != nil {
			fmt.Println(err)
			return
		}
		var b struct {
			Query struct{ Allpages []struct{ Title string } }
		}
		if err := json.Unmarshal(batch, &b); err != nil {
			fmt.Println(err)
			return
		}
		for _, p := range b.Query.Allpages {
			fmt.Println(p.Title)
		}
	}
	// Output:
	// Apple
	// Banana
	// Cherry
}

func ExampleAPIError() {
	wiki := exampleWiki()
	defer wiki.Close()
	c, _ := mwapi.New(wiki.URL+"/w", mwapi.WithUserAgent("ExampleTool/1.0 (me@example.org)"),
		mwapi.WithLogger(slog.New(slog.DiscardHandler)))

	err := c.Get(context.Background(), url.Values{"action": {"parse"}, "page": {"Sandbox"}}, nil)
	switch {
	case errors.Is(err, mwapi.ErrTokenRevoked), errors.Is(err, mwapi.ErrNotLoggedIn):
		fmt.Println("log the user out and ask them to log in again")
	case err != nil:
		fmt.Println("other error:", err)
	}
	var apiErr *mwapi.APIError
	if errors.As(err, &apiErr) {
		fmt.Println(apiErr.Code, apiErr.HTTPStatus)
	}
	// Output:
	// log the user out and ask them to log in again
	// mwoauth-invalid-authorization 200
}
