package mwoauthtest_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/wikiauth/mwoauth/internal/transcript"
	"github.com/wikiauth/mwoauth/mwoauthtest"
)

// replayCase is a real request of the transcripts that the real wiki
// accepted (or answered with a non-OAuth error).
type replayCase struct {
	file string
	// want matches the body when it holds random values; "" = the
	// transcript's body byte for byte.
	want string
	// param is the signed parameter whose value TestReplay changes ("" =
	// none besides the OAuth ones).
	param string
	// editCount is Alice's edit count at the time (identify shows it).
	editCount int
	api       bool
}

var replayCases = []replayCase{
	{file: "oauth1-01-initiate.txt", want: `^\{"key":"[0-9a-f]{32}","secret":"[0-9a-f]{32}","oauth_callback_confirmed":"true"\}$`, param: "oauth_callback"},
	{file: "oauth1-02-initiate-raw-post.txt", want: `^oauth_token=[0-9a-f]{32}&oauth_token_secret=[0-9a-f]{32}&oauth_callback_confirmed=true$`, param: "oauth_callback"},
	{file: "oauth1-03-initiate-callback-in-query.txt", want: `^\{"key":"[0-9a-f]{32}","secret":"[0-9a-f]{32}","oauth_callback_confirmed":"true"\}$`, param: "oauth_callback"},
	{file: "oauth1-05-initiate-prefixed-callback.txt", want: `^\{"key":"[0-9a-f]{32}","secret":"[0-9a-f]{32}","oauth_callback_confirmed":"true"\}$`, param: "oauth_callback"},
	{file: "oauth1-26-err-initiate-unapproved-consumer.txt", want: `^\{"key":"[0-9a-f]{32}","secret":"[0-9a-f]{32}","oauth_callback_confirmed":"true"\}$`, param: "oauth_callback"},
	{file: "oauth1-identify-only-01-initiate.txt", want: `^\{"key":"[0-9a-f]{32}","secret":"[0-9a-f]{32}","oauth_callback_confirmed":"true"\}$`, param: "oauth_callback"},
	{file: "oauth1-11-identify.txt", param: "format", editCount: -1},
	{file: "oauth1-12-identify-post.txt", editCount: -1},
	{file: "oauth1-46-owner-only-identify.txt", param: "format", editCount: -1},
	{file: "oauth1-identify-only-05-identify.txt", param: "format", editCount: -1},
	{file: "oauth1-13-api-userinfo.txt", param: "uiprop", api: true},
	{file: "oauth1-14-api-csrf.txt", want: `^\{"batchcomplete":"","query":\{"tokens":\{"csrftoken":"[0-9a-f]{40}\+\\\\"\}\}\}$`, param: "type", api: true},
	{file: "oauth1-16-err-api-edit-no-token.txt", param: "text", api: true},
	{file: "oauth1-17-err-api-edit-bad-csrf.txt", param: "text", api: true},
	{file: "oauth1-45-owner-only-api-userinfo.txt", param: "meta", api: true},
	{file: "oauth1-identify-only-06-api-userinfo.txt", param: "meta", api: true},
}

// TestReplayAccepted: the fake, set to a transcript's time, consumers and
// access tokens, answers the real requests as the real wiki did: status,
// Content-Type, MediaWiki-API-Error, and the body byte for byte (identify
// JWTs included) or, where the real body holds random tokens, its shape.
func TestReplayAccepted(t *testing.T) {
	for _, v := range transcript.Releases {
		transcript.Dir(t) // without the transcripts, skip (fail under CI) before the subtests
		for _, rc := range replayCases {
			t.Run(v+"/"+rc.file, func(t *testing.T) {
				x := loadExchange(t, v, rc.file)
				s := replayWiki(t, v, x)
				if rc.editCount < 0 { // identify: Alice's edit count then
					setEditCount(t, s, int(jwtClaims(t, x.respBody)["editcount"].(float64)))
				}
				resp, body := send(t, s, x)
				if resp.StatusCode != x.status {
					t.Errorf("status = %d; want %d", resp.StatusCode, x.status)
				}
				for _, h := range []string{"Content-Type", "MediaWiki-API-Error", "Cache-Control"} {
					if got, want := resp.Header.Get(h), x.respHeader.Get(h); got != want {
						t.Errorf("%s = %q; want %q", h, got, want)
					}
				}
				if rc.want != "" {
					if !regexp.MustCompile(rc.want).MatchString(body) {
						t.Errorf("body = %s; want it to match %s", body, rc.want)
					}
				} else if body != x.respBody {
					t.Errorf("body =\n%s\nwant\n%s", body, x.respBody)
				}
			})
		}
	}
}

func setEditCount(t *testing.T, s *mwoauthtest.Server, n int) {
	u := s.User("Alice")
	u.EditCount = n
	s.AddUser(*u)
}

// TestReplayTampered: each accepted request is refused when one character
// is changed in the signature, the nonce, the timestamp, a signed
// parameter's value or the consumer key, with the real wiki's error text
// in the request's format (Special:OAuth: JSON or "Error: …"; api.php:
// mwoauth-invalid-authorization with MediaWiki-API-Error).
func TestReplayTampered(t *testing.T) {
	for _, v := range transcript.Releases {
		docref := strings.ReplaceAll(loadExchange(t, v, "oauth1-42-err-api-bad-signature.txt").respBody, "Invalid signature", "%s")
		for _, rc := range replayCases {
			muts := []struct {
				what, where, param, reason string
			}{
				{"signature", "header", "oauth_signature", "Invalid signature"},
				{"nonce", "header", "oauth_nonce", "Invalid signature"},
				{"timestamp", "header", "oauth_timestamp", "Invalid signature"},
				{"consumer key", "header", "oauth_consumer_key", "Invalid consumer"},
			}
			if rc.param != "" {
				muts = append(muts, struct{ what, where, param, reason string }{"parameter " + rc.param, "any", rc.param, "Invalid signature"})
			}
			for _, m := range muts {
				t.Run(v+"/"+rc.file+"/"+m.what, func(t *testing.T) {
					x := loadExchange(t, v, rc.file)
					if !mutate(x, m.param) {
						t.Fatalf("%s not found in the request", m.param)
					}
					s := replayWiki(t, v, x)
					resp, body := send(t, s, x)
					if resp.StatusCode != 200 {
						t.Errorf("status = %d; want 200", resp.StatusCode)
					}
					var want, ctype string
					switch {
					case rc.api:
						want = strings.Replace(docref, "%s", m.reason, 1)
						ctype = "application/json; charset=utf-8"
						if got := resp.Header.Get("MediaWiki-API-Error"); got != "mwoauth-invalid-authorization" {
							t.Errorf("MediaWiki-API-Error = %q; want mwoauth-invalid-authorization", got)
						}
					case strings.Contains(x.target+x.reqBody, "format=json"):
						want = `{"error":"mwoauth-oauth-exception","message":"An error occurred in the OAuth protocol: ` + m.reason + `"}`
						ctype = "application/json"
					default:
						want = "Error: An error occurred in the OAuth protocol: " + m.reason
						ctype = "text/plain;charset=UTF-8"
					}
					if body != want {
						t.Errorf("body =\n%s\nwant\n%s", body, want)
					}
					if got := resp.Header.Get("Content-Type"); got != ctype {
						t.Errorf("Content-Type = %q; want %q", got, ctype)
					}
				})
			}
		}
	}
}

// nextChar changes one character to another of the same kind.
func nextChar(c byte) byte {
	switch {
	case c == '9':
		return '0'
	case c == 'z':
		return 'a'
	case c == 'Z':
		return 'A'
	case c >= '0' && c < '9', c >= 'a' && c < 'z', c >= 'A' && c < 'Z':
		return c + 1
	}
	return 'x'
}

// mutate changes one character of param's value: the first character of
// oauth_signature, the last of any other value; in the Authorization
// header for oauth_* names, else in the query or the body.
func mutate(x *exchange, param string) bool {
	change := func(v string) string {
		if v == "" {
			return "x"
		}
		i := len(v) - 1
		if param == "oauth_signature" {
			i = 0
		}
		return v[:i] + string(nextChar(v[i])) + v[i+1:]
	}
	if h := x.reqHeader.Get("Authorization"); strings.HasPrefix(param, "oauth_") {
		if i := strings.Index(h, param+`="`); i >= 0 {
			start := i + len(param) + 2
			end := start + strings.IndexByte(h[start:], '"')
			x.reqHeader.Set("Authorization", h[:start]+change(h[start:end])+h[end:])
			return true
		}
	}
	replaceIn := func(s string) (string, bool) {
		for _, sep := range []string{"?", "&", ""} {
			key := sep + param + "="
			i := strings.Index(s, key)
			if i < 0 || (sep == "" && i != 0) {
				continue
			}
			start := i + len(key)
			end := strings.IndexByte(s[start:], '&')
			if end < 0 {
				end = len(s)
			} else {
				end += start
			}
			return s[:start] + change(s[start:end]) + s[end:], true
		}
		return s, false
	}
	if s, ok := replaceIn(x.target); ok {
		x.target = s
		return true
	}
	if s, ok := replaceIn(x.reqBody); ok {
		x.reqBody = s
		return true
	}
	return false
}

// TestReplayErrors: the real requests that the real wiki refused are
// refused by the fake with the same status, Content-Type and body, byte
// for byte (the nonce replay is sent twice: the first is accepted).
func TestReplayErrors(t *testing.T) {
	files := []string{
		"oauth1-04-err-initiate-callback-in-query-and-header.txt",
		"oauth1-18-err-initiate-bad-signature.txt",
		"oauth1-19-err-initiate-bad-signature-raw.txt",
		"oauth1-20-err-initiate-wrong-consumer-key.txt",
		"oauth1-21-err-initiate-unsigned.txt",
		"oauth1-22-err-initiate-callback-not-prefix.txt",
		"oauth1-23-err-initiate-no-callback.txt",
		"oauth1-24-err-initiate-nonce-replay.txt",
		"oauth1-25-err-initiate-stale-timestamp.txt",
		"oauth1-28-err-initiate-callback-on-noprefix-consumer.txt",
		"oauth1-41-err-api-bad-access-token.txt",
		"oauth1-42-err-api-bad-signature.txt",
		"oauth1-44-err-identify-bad-token.txt",
		"oauth1-47-err-owner-only-initiate.txt",
		"oauth1-identify-only-11-api-userinfo.txt",
	}
	for _, v := range transcript.Releases {
		transcript.Dir(t) // without the transcripts, skip (fail under CI) before the subtests
		for _, f := range files {
			t.Run(v+"/"+f, func(t *testing.T) {
				x := loadExchange(t, v, f)
				s := replayWiki(t, v, x)
				if strings.Contains(f, "nonce-replay") {
					if _, body := send(t, s, x); strings.Contains(body, "error") {
						t.Fatalf("first use refused: %s", body)
					}
				}
				resp, body := send(t, s, x)
				if resp.StatusCode != x.status || resp.Header.Get("Content-Type") != x.respHeader.Get("Content-Type") {
					t.Errorf("status %d, Content-Type %q; want %d, %q", resp.StatusCode, resp.Header.Get("Content-Type"), x.status, x.respHeader.Get("Content-Type"))
				}
				if got, want := resp.Header.Get("MediaWiki-API-Error"), x.respHeader.Get("MediaWiki-API-Error"); got != want {
					t.Errorf("MediaWiki-API-Error = %q; want %q", got, want)
				}
				if body != x.respBody {
					t.Errorf("body =\n%s\nwant\n%s", body, x.respBody)
				}
			})
		}
	}
}
