package oauth1_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"time"

	"github.com/wikiauth/mwoauth/oauth1"
)

// newFakeWiki is a tiny stand-in for a MediaWiki with Extension:OAuth (the
// mwoauthtest package is the real fake); it does not check signatures.
func newFakeWiki() *httptest.Server {
	nonceRE := regexp.MustCompile(`oauth_nonce="([^"]+)"`)
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		switch {
		case r.URL.Path == "/skewed/index.php":
			// What MediaWiki answers when our clock is an hour behind.
			fmt.Fprint(w, "Error: An error occurred in the OAuth protocol: Expired timestamp, yours 1796387829, ours 1796391429")
		case r.URL.Path == "/w/api.php" && strings.Contains(auth, `oauth_token="access-key"`):
			fmt.Fprint(w, `{"query":{"userinfo":{"id":3,"name":"Alice"}}}`)
		case r.URL.Query().Get("title") == "Special:OAuth/initiate":
			fmt.Fprint(w, `{"key":"request-key","secret":"request-secret","oauth_callback_confirmed":"true"}`)
		case r.URL.Query().Get("title") == "Special:OAuth/token":
			fmt.Fprint(w, `{"key":"access-key","secret":"access-secret"}`)
		case r.URL.Query().Get("title") == "Special:OAuth/identify":
			m := nonceRE.FindStringSubmatch(auth)
			if m == nil {
				fmt.Fprint(w, `{"error":"mwoauth-oauth-exception","message":"An error occurred in the OAuth protocol: Invalid consumer key"}`)
				return
			}
			now := time.Now().Unix()
			claims, _ := json.Marshal(map[string]any{
				"iss": srv.URL, "aud": "consumer-key", "iat": now, "exp": now + 100, "nonce": m[1],
				"sub": "3", "username": "Alice", "editcount": 4, "confirmed_email": true, "blocked": false,
				"registered": "20261204133131", "groups": []string{"*", "user"}, "rights": []string{"read", "edit"},
				"grants": []string{"basic"},
			})
			in := base64.RawURLEncoding.EncodeToString([]byte(`{"typ":"JWT","alg":"HS256"}`)) + "." +
				base64.RawURLEncoding.EncodeToString(claims)
			mac := hmac.New(sha256.New, []byte("consumer-secret"))
			mac.Write([]byte(in))
			fmt.Fprint(w, in+"."+base64.RawURLEncoding.EncodeToString(mac.Sum(nil)))
		default:
			http.NotFound(w, r)
		}
	}))
	return srv
}

// Example runs the whole handshake against a fake wiki: request token,
// authorization URL, access token, verified identity, signed API call.
func Example() {
	wiki := newFakeWiki()
	defer wiki.Close()

	cfg := &oauth1.Config{
		Wiki:           wiki.URL + "/w", // e.g. https://meta.wikimedia.org/w
		ConsumerKey:    "consumer-key",
		ConsumerSecret: "consumer-secret",
		UserAgent:      "ExampleTool/1.0 (https://example.org; me@example.org)",
	}
	ctx := context.Background()

	rt, err := cfg.RequestToken(ctx)
	if err != nil {
		log.Fatal(err)
	}
	// Keep rt bound to the user's browser, then redirect it:
	fmt.Println(strings.TrimPrefix(cfg.AuthorizationURL(rt), wiki.URL))

	// The wiki redirects back with oauth_token and oauth_verifier.
	callbackToken, verifier := "request-key", "verifier-from-callback"
	at, err := cfg.AccessToken(ctx, rt, callbackToken, verifier)
	if err != nil {
		log.Fatal(err)
	}
	id, err := cfg.Identify(ctx, at)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("user:", id.Username, "sub:", id.Subject, "groups:", id.Groups)

	resp, err := cfg.Client(at).Get(wiki.URL + "/w/api.php?action=query&meta=userinfo&format=json")
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(string(body))
	fmt.Println(at) // tokens redact themselves
	// Output:
	// /w/index.php?title=Special:OAuth/authorize&oauth_token=request-key&oauth_consumer_key=consumer-key
	// user: Alice sub: 3 groups: [* user]
	// {"query":{"userinfo":{"id":3,"name":"Alice"}}}
	// oauth1.Token{Key:"access…", Secret:REDACTED}
}

// ExampleConfig_AuthorizationURL shows the authorize and authenticate URLs.
func ExampleConfig_AuthorizationURL() {
	cfg := &oauth1.Config{
		Wiki:           "https://meta.wikimedia.org/w",
		ConsumerKey:    "4bedc5eb6c7343cf08460b5c9a7735fc",
		ConsumerSecret: "secret",
		UserAgent:      "ExampleTool/1.0 (me@example.org)",
	}
	rt := &oauth1.Token{Key: "4f49d7e1f55b47f09e996bb96d4a13a1", Secret: "e23f5cc72a5b724f37404ba0d2d472c6"}
	fmt.Println(cfg.AuthorizationURL(rt))
	cfg.Authenticate = true
	fmt.Println(cfg.AuthorizationURL(rt))
	// Output:
	// https://meta.wikimedia.org/w/index.php?title=Special:OAuth/authorize&oauth_token=4f49d7e1f55b47f09e996bb96d4a13a1&oauth_consumer_key=4bedc5eb6c7343cf08460b5c9a7735fc
	// https://meta.wikimedia.org/w/index.php?title=Special:OAuth/authenticate&oauth_token=4f49d7e1f55b47f09e996bb96d4a13a1&oauth_consumer_key=4bedc5eb6c7343cf08460b5c9a7735fc
}

// ExampleConfig_Sign signs one request with a fixed clock and nonce (as in
// the recorded identify call of MediaWiki 1.39, oauth1-11).
func ExampleConfig_Sign() {
	cfg := &oauth1.Config{
		ConsumerKey:    "4bedc5eb6c7343cf08460b5c9a7735fc",
		ConsumerSecret: "8b3ec4c52a39e6c5700cc34253045063b8d5c2f4",
		UserAgent:      "ExampleTool/1.0 (me@example.org)",
		Now:            func() time.Time { return time.Unix(1796391428, 0) },
		Nonce:          func() (string, error) { return "fca12c79d4f4af4b13efcdc0e7830482", nil },
	}
	req, _ := http.NewRequest("GET", "http://127.0.0.1:8080/w/index.php?title=Special:OAuth/identify&format=json", nil)
	at := &oauth1.Token{Key: "875f4057e976c271efdfaf59411055df", Secret: "7d6a5459f1aa9232dad8fe0f25c8ef686d008de6"}
	if err := cfg.Sign(req, at); err != nil {
		log.Fatal(err)
	}
	h := req.Header.Get("Authorization")
	fmt.Println(h[strings.Index(h, "oauth_signature="):])

	// A name repeated in query and body is refused: MediaWiki would merge it.
	req, _ = http.NewRequest("POST", "http://127.0.0.1:8080/w/api.php?action=edit", strings.NewReader("action=edit&title=X"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	fmt.Println(errors.Is(cfg.Sign(req, at), oauth1.ErrDuplicateParam))
	// Output:
	// oauth_signature="Wy6b9KRgW4BcwxvFzHRO8rcEzJs%3D"
	// true
}

// ExampleError shows how to branch on an error the wiki reported.
func ExampleError() {
	wiki := newFakeWiki()
	defer wiki.Close()
	cfg := &oauth1.Config{
		Wiki: wiki.URL + "/w", ConsumerKey: "consumer-key", ConsumerSecret: "consumer-secret",
		UserAgent: "ExampleTool/1.0 (me@example.org)",
	}
	// The callback's oauth_token must be the request token: checked before
	// any request is sent.
	rt := &oauth1.Token{Key: "request-key", Secret: "request-secret"}
	_, err := cfg.AccessToken(context.Background(), rt, "forged-key", "v")
	fmt.Println(errors.Is(err, oauth1.ErrTokenMismatch))

	cfg.Wiki = wiki.URL + "/skewed" // this script path answers "Expired timestamp"
	_, err = cfg.RequestToken(context.Background())
	var skew *oauth1.ClockSkewError
	if errors.Is(err, oauth1.ErrClockSkew) && errors.As(err, &skew) {
		fmt.Println("clock skew:", skew.Offset)
	}
	var werr *oauth1.Error
	if errors.As(err, &werr) {
		fmt.Printf("op=%s key=%q\n", werr.Op, werr.Key)
	}
	// Output:
	// true
	// clock skew: 1h0m0s
	// op=initiate key=""
}
