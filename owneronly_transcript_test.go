package mwoauth_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/wikiauth/mwoauth"
	"github.com/wikiauth/mwoauth/internal/transcript"
	"github.com/wikiauth/mwoauth/mwapi"
	"github.com/wikiauth/mwoauth/mwoauthtest"
	"github.com/wikiauth/mwoauth/oauth1"
)

// The owner-only constructors against what MediaWiki 1.39 and 1.43 really
// answered (shared/transcripts): requests checked the way the wiki checks
// them, answers replayed byte for byte with their MediaWiki headers.

// answer is the first response of a transcript: status, the headers a
// fake copies (Content-Type and MediaWiki's own), and the body.
type answer struct {
	status  int
	header  http.Header
	body    []byte
	reqBody string // the first request's body
}

// readAnswer reads the first exchange of a transcript file.
func readAnswer(t *testing.T, release, name string) *answer {
	t.Helper()
	x := transcript.Read(t, release, name)[0]
	a := &answer{status: x.Response.Status, header: http.Header{}, body: []byte(x.Response.Body), reqBody: x.Request.Body}
	for k, v := range x.Response.Header {
		if k == "Content-Type" || strings.HasPrefix(k, "Mediawiki-") || k == "Retry-After" {
			a.header.Set(k, v[len(v)-1])
		}
	}
	return a
}

func (a *answer) write(w http.ResponseWriter) {
	for k, v := range a.header {
		w.Header()[k] = v
	}
	w.WriteHeader(a.status)
	w.Write(a.body)
}

// verifiesHMAC checks an OAuth 1 request as MediaWiki does: the header
// parsed like OAuthUtil::split_header, query and form body merged, the
// HMAC-SHA1 signature recomputed with the consumer and token secrets.
func verifiesHMAC(t *testing.T, r *http.Request, body []byte, c transcript.Consumer) bool {
	hp, ok := mwoauthtest.ParseAuthorizationHeader(r.Header.Get("Authorization"))
	if !ok || hp["oauth_consumer_key"] != c.Key || hp["oauth_token"] != c.AccessToken || hp["oauth_signature_method"] != "HMAC-SHA1" {
		return false
	}
	var params []oauth1.Param
	add := func(v url.Values) {
		for k, vs := range v {
			for _, x := range vs {
				params = append(params, oauth1.Param{Key: k, Value: x})
			}
		}
	}
	add(r.URL.Query())
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		v, err := url.ParseQuery(string(body))
		if err != nil {
			return false
		}
		add(v)
	}
	for k, v := range hp {
		if k != "oauth_signature" {
			params = append(params, oauth1.Param{Key: k, Value: v})
		}
	}
	u := *r.URL
	u.Scheme, u.Host = "http", r.Host
	want, _ := oauth1.HMACSHA1{}.Sign(oauth1.SignatureBaseString(r.Method, &u, params), c.Secret, c.AccessSecret)
	return hp["oauth_signature"] == want
}

// TestOwnerOnlyOAuth1Transcripts: OwnerOnlyOAuth1 with the recorded
// owner-only consumer's four values signs requests the wiki accepts and
// reads the recorded answer (oauth1-45: Alice); a wrong access secret gets
// the recorded refusal (oauth1-42), mwapi.ErrTokenRevoked.
func TestOwnerOnlyOAuth1Transcripts(t *testing.T) {
	for _, rel := range transcript.Releases {
		t.Run(rel, func(t *testing.T) {
			c := transcript.Consumers(t, rel)["oauth1_owner_only_alice"]
			ok := readAnswer(t, rel, "oauth1-45-owner-only-api-userinfo.txt")
			refused := readAnswer(t, rel, "oauth1-42-err-api-bad-signature.txt")
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				if r.URL.Path != "/w/api.php" || !verifiesHMAC(t, r, body, c) {
					refused.write(w)
					return
				}
				ok.write(w)
			}))
			t.Cleanup(srv.Close)
			client, err := mwoauth.OwnerOnlyOAuth1(srv.URL+"/w", c.Key, c.Secret, c.AccessToken, c.AccessSecret, botUA)
			if err != nil {
				t.Fatal(err)
			}
			if name, err := whoAmI(t.Context(), client); err != nil || name != "Alice" {
				t.Fatalf("userinfo = %q, %v; want Alice", name, err)
			}
			bad, err := mwoauth.OwnerOnlyOAuth1(srv.URL+"/w", c.Key, c.Secret, c.AccessToken, "0"+c.AccessSecret[1:], botUA)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := whoAmI(t.Context(), bad); !errors.Is(err, mwapi.ErrTokenRevoked) {
				t.Errorf("userinfo with a wrong access secret = %v; want mwapi.ErrTokenRevoked", err)
			}
		})
	}
}

// TestClientCredentialsTranscripts: ClientCredentials sends exactly the
// recorded form (oauth2-50: grant_type, client_id, client_secret in the
// body), accepts the recorded token answer and sends that token as the
// bearer on api.php; a client not allowed the grant gets the recorded 401
// invalid_client (oauth2-51) as ErrMisconfigured. The fixed owner-only
// token (OwnerOnlyOAuth2) goes out the same way, and a refused bearer
// (oauth2-22) is mwapi.ErrTokenRevoked.
func TestClientCredentialsTranscripts(t *testing.T) {
	for _, rel := range transcript.Releases {
		t.Run(rel, func(t *testing.T) {
			cons := transcript.Consumers(t, rel)
			owner, other := cons["oauth2_owner_only_alice"], cons["oauth2_confidential"]
			granted := readAnswer(t, rel, "oauth2-50-owner-only-client-credentials.txt")
			notAllowed := readAnswer(t, rel, "oauth2-51-err-client-credentials-not-allowed.txt")
			userinfo := readAnswer(t, rel, "oauth2-12-api-userinfo-bearer.txt")
			badBearer := readAnswer(t, rel, "oauth2-22-err-api-bad-bearer.txt")
			var tok struct {
				AccessToken string `json:"access_token"`
			}
			if err := json.Unmarshal(granted.body, &tok); err != nil || tok.AccessToken == "" {
				t.Fatalf("oauth2-50 body: %v", err)
			}
			wantForm, _ := url.ParseQuery(granted.reqBody)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				switch r.URL.Path {
				case "/w/rest.php/oauth2/access_token":
					body, _ := io.ReadAll(r.Body)
					form, _ := url.ParseQuery(string(body))
					if r.Method != http.MethodPost || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
						t.Errorf("token request %s %s", r.Method, r.Header.Get("Content-Type"))
					}
					if form.Get("client_id") == owner.Key && form.Get("client_secret") == owner.Secret {
						if form.Encode() != wantForm.Encode() {
							t.Errorf("token request form %q; want the recorded %q", form.Encode(), wantForm.Encode())
						}
						granted.write(w)
						return
					}
					notAllowed.write(w)
				case "/w/api.php":
					if got := r.Header.Get("Authorization"); got == "Bearer "+tok.AccessToken || got == "Bearer "+owner.AccessToken {
						userinfo.write(w)
						return
					}
					badBearer.write(w)
				default:
					http.NotFound(w, r)
				}
			}))
			t.Cleanup(srv.Close)

			client, err := mwoauth.ClientCredentials(t.Context(), srv.URL+"/w", owner.Key, owner.Secret, botUA)
			if err != nil {
				t.Fatalf("ClientCredentials = %v", err)
			}
			if name, err := whoAmI(t.Context(), client); err != nil || name != "Alice" {
				t.Fatalf("userinfo = %q, %v; want Alice", name, err)
			}
			_, err = mwoauth.ClientCredentials(t.Context(), srv.URL+"/w", other.Key, other.Secret, botUA)
			var re *oauth2.RetrieveError
			if !errors.Is(err, mwoauth.ErrMisconfigured) || !errors.As(err, &re) || re.ErrorCode != "invalid_client" {
				t.Errorf("ClientCredentials for a client without the grant = %v; want ErrMisconfigured (invalid_client)", err)
			}

			fixed, err := mwoauth.OwnerOnlyOAuth2(srv.URL+"/w", owner.AccessToken, botUA)
			if err != nil {
				t.Fatal(err)
			}
			if name, err := whoAmI(t.Context(), fixed); err != nil || name != "Alice" {
				t.Fatalf("userinfo with the fixed token = %q, %v; want Alice", name, err)
			}
			wrong, err := mwoauth.OwnerOnlyOAuth2(srv.URL+"/w", "x"+owner.AccessToken[1:], botUA)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := whoAmI(t.Context(), wrong); !errors.Is(err, mwapi.ErrTokenRevoked) {
				t.Errorf("userinfo with a wrong token = %v; want mwapi.ErrTokenRevoked", err)
			}
		})
	}
}
