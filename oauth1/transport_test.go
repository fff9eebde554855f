package oauth1

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wikiauth/mwoauth/internal/transcript"
)

// verifyingServer checks every request's signature the way MediaWiki would
// (query + form body + header parameters, merged) and answers 200 "ok" or
// 401 "bad signature".
func verifyingServer(t *testing.T, consumerSecret, tokenSecret string) *replay {
	return serveFunc(t, func(w http.ResponseWriter, r *http.Request) {
		p := authParams(t, r.Header.Get("Authorization"))
		params, err := requestParams(r)
		if err != nil {
			http.Error(w, "bad request", 400)
			return
		}
		for k, v := range p {
			if k != "oauth_signature" {
				params = append(params, Param{k, v})
			}
		}
		u := *r.URL
		u.Scheme, u.Host = "http", r.Host
		want, _ := HMACSHA1{}.Sign(SignatureBaseString(r.Method, &u, params), consumerSecret, tokenSecret)
		if p["oauth_signature"] != want {
			http.Error(w, "bad signature", 401)
			return
		}
		body, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "ok %s", body)
	})
}

func TestTransportSignsAndKeepsBody(t *testing.T) {
	srv := verifyingServer(t, "cs", "as")
	c := against(srv, consumerCreds{"ck", "cs"})
	cl := c.Client(&Token{"ak", "as"})
	form := url.Values{"action": {"edit"}, "title": {"A B"}, "text": {"x+y & z"}, "token": {"abc+\\"}}
	req, _ := http.NewRequest("POST", srv.URL+"/w/api.php?format=json", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=UTF-8")
	resp, err := cl.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != "ok "+form.Encode() {
		t.Fatalf("%d %q", resp.StatusCode, b)
	}
	if req.Header.Get("Authorization") != "" {
		t.Error("the caller's request was modified")
	}
	if got := srv.last.Load().Header.Get("User-Agent"); got != testUA {
		t.Errorf("User-Agent = %q", got)
	}
	// GET with a query.
	resp, err = cl.Get(srv.URL + "/w/api.php?action=query&meta=userinfo&uiprop=rights%7Cgroups")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("GET: %d", resp.StatusCode)
	}
	// A wrong token secret fails at the verifying server.
	resp, err = c.Client(&Token{"ak", "wrong"}).Get(srv.URL + "/w/api.php")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("wrong secret: %d; want 401", resp.StatusCode)
	}
}

// TestTransportReplaysAPIVectors sends the recorded API calls (GET and form
// POST) of both releases through Transport with the recorded nonce and
// clock: the signature is the recorded one.
func TestTransportReplaysAPIVectors(t *testing.T) {
	for _, rel := range transcript.Releases {
		for _, v := range vectors(t, rel) {
			if !strings.Contains(v.URL, "/api.php") {
				continue
			}
			t.Run(rel+"/"+v.Transcript, func(t *testing.T) {
				ts, _ := strconv.ParseInt(v.OAuthParams["oauth_timestamp"], 10, 64)
				c := fixed(v.OAuthParams["oauth_consumer_key"], v.ConsumerSec, ts, v.OAuthParams["oauth_nonce"])
				var sent *http.Request
				var sentBody []byte
				rt := c.Transport(&Token{v.OAuthParams["oauth_token"], v.TokenSecret}, roundTripFunc(func(r *http.Request) (*http.Response, error) {
					sent = r
					if r.Body != nil {
						sentBody, _ = io.ReadAll(r.Body)
					}
					return textResponse(v.ServerStatus, "application/json", v.ServerAnswer), nil
				}))
				resp, err := rt.RoundTrip(vectorRequest(t, v))
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if p := authParams(t, sent.Header.Get("Authorization")); p["oauth_signature"] != v.Signature {
					t.Errorf("oauth_signature = %s; want %s", p["oauth_signature"], v.Signature)
				}
				if v.Body != nil && string(sentBody) != *v.Body {
					t.Errorf("sent body %q; want %q", sentBody, *v.Body)
				}
			})
		}
	}
}

type trackedBody struct {
	io.Reader
	closed atomic.Bool
}

func (b *trackedBody) Close() error { b.closed.Store(true); return nil }

func TestTransportRefusesAndCloses(t *testing.T) {
	var sent atomic.Int32
	c := fixed("ck", "cs", idNow, "n")
	rt := c.Transport(&Token{"ak", "as"}, roundTripFunc(func(r *http.Request) (*http.Response, error) {
		sent.Add(1)
		return textResponse(200, "", ""), nil
	}))
	body := &trackedBody{Reader: strings.NewReader("action=edit")}
	req, _ := http.NewRequest("POST", "https://wiki.example/w/api.php?action=edit", body)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if _, err := rt.RoundTrip(req); !errors.Is(err, ErrDuplicateParam) {
		t.Fatalf("RoundTrip = %v; want ErrDuplicateParam", err)
	}
	if !body.closed.Load() || sent.Load() != 0 {
		t.Errorf("closed = %v, sent = %d", body.closed.Load(), sent.Load())
	}
	c.Nonce = func() (string, error) { return "", errors.New("no entropy") }
	body = &trackedBody{Reader: strings.NewReader(`{"a":1}`)}
	req, _ = http.NewRequest("POST", "https://wiki.example/w/rest.php/x", body)
	req.Header.Set("Content-Type", "application/json")
	rt = c.Transport(&Token{"ak", "as"}, roundTripFunc(func(r *http.Request) (*http.Response, error) {
		sent.Add(1)
		return textResponse(200, "", ""), nil
	}))
	if _, err := rt.RoundTrip(req); err == nil || !body.closed.Load() || sent.Load() != 0 {
		t.Errorf("nonce failure: err = %v, closed = %v, sent = %d", err, body.closed.Load(), sent.Load())
	}
}

func TestClientNoRedirectAndSettings(t *testing.T) {
	var hits atomic.Int32
	target := serveFunc(t, func(w http.ResponseWriter, r *http.Request) { hits.Add(1) })
	srv := serveFunc(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL+"/elsewhere", http.StatusFound)
	})
	var baseUsed atomic.Bool
	c := against(srv, consumerCreds{"ck", "cs"})
	c.HTTPClient = &http.Client{Timeout: 7 * time.Second, Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		baseUsed.Store(true)
		return http.DefaultTransport.RoundTrip(r)
	})}
	cl := c.Client(&Token{"ak", "as"})
	if cl.Timeout != 7*time.Second {
		t.Errorf("Timeout = %v", cl.Timeout)
	}
	resp, err := cl.Get(srv.URL + "/w/api.php")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || hits.Load() != 0 || !baseUsed.Load() {
		t.Errorf("status %d, target hits %d, base used %v", resp.StatusCode, hits.Load(), baseUsed.Load())
	}
	if (&Config{}).Client(nil).Timeout != DefaultTimeout {
		t.Error("default timeout not set")
	}
}

func TestTransportConcurrent(t *testing.T) {
	srv := verifyingServer(t, "cs", "as")
	c := against(srv, consumerCreds{"ck", "cs"})
	cl := c.Client(&Token{"ak", "as"})
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			resp, err := cl.PostForm(srv.URL+"/w/api.php", url.Values{"n": {strconv.Itoa(i)}})
			if err != nil {
				errs <- err
				return
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				errs <- fmt.Errorf("status %d", resp.StatusCode)
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestTokenRedaction(t *testing.T) {
	tok := Token{Key: "4f49d7e1f55b47f09e996bb96d4a13a1", Secret: "e23f5cc72a5b724f37404ba0d2d472c6"}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "tok", tok, "ptr", &tok)
	outs := []string{
		fmt.Sprint(tok), fmt.Sprintf("%v %+v %#v %s %q", tok, tok, tok, tok, tok),
		fmt.Sprintf("%v %+v %#v", &tok, &tok, &tok), fmt.Sprintf("%+v", struct{ T Token }{tok}),
		tok.String(), tok.GoString(), buf.String(),
	}
	for _, out := range outs {
		if strings.Contains(out, tok.Secret) || strings.Contains(out, tok.Key) || strings.Contains(out, "e23f5c") {
			t.Errorf("leak: %s", out)
		}
		if !strings.Contains(out, "4f49d7") {
			t.Errorf("no key prefix: %s", out)
		}
	}
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(Token{}) != `oauth1.Token{Key:"", Secret:REDACTED}` || keyPrefix("abcd") != "ab…" {
		t.Errorf("short keys: %s %s", Token{}, keyPrefix("abcd"))
	}
}
