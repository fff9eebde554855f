package mwoauth

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/wikiauth/mwoauth/internal/transcript"
)

// The OAuth 2 side against what MediaWiki 1.39 and 1.43 really answered
// (shared/transcripts): each recorded answer of the token endpoint and the
// profile is replayed, and the library must read it as the real client
// would have to.

type recorded struct {
	status int
	header http.Header
	body   string
}

// readResponse returns the first response of a transcript file.
func readResponse(t *testing.T, release, name string) recorded {
	t.Helper()
	resp := transcript.Read(t, release, name)[0].Response
	return recorded{status: resp.Status, header: resp.Header, body: resp.Body}
}

func replay(t *testing.T, rec recorded) *oauth2Flow {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, k := range []string{"Content-Type", "Cache-Control", "Pragma", "Location"} {
			if v := rec.header.Get(k); v != "" {
				w.Header().Set(k, v)
			}
		}
		w.WriteHeader(rec.status)
		io.WriteString(w, rec.body)
	}))
	t.Cleanup(srv.Close)
	return (&scriptedWiki{srv: srv}).flow(t, time.Now())
}

func TestOAuth2Transcripts(t *testing.T) {
	type outcome struct {
		kind string // "exchange", "refresh", "profile"
		want error  // nil: success
	}
	cases := map[string]outcome{
		"oauth2-08-access-token.txt":                                {"exchange", nil},
		"oauth2-30-access-token-basic-auth.txt":                     {"exchange", nil},
		"oauth2-48-public-access-token.txt":                         {"exchange", nil},
		"oauth2-09-err-access-token-code-reuse.txt":                 {"exchange", ErrNoPendingLogin},
		"oauth2-27-err-access-token-bad-secret.txt":                 {"exchange", ErrMisconfigured},
		"oauth2-28-err-access-token-bad-pkce.txt":                   {"exchange", ErrNoPendingLogin},
		"oauth2-29-err-access-token-bad-redirect.txt":               {"exchange", ErrMisconfigured},
		"oauth2-17-refresh-token.txt":                               {"refresh", nil},
		"oauth2-18-err-refresh-token-reuse.txt":                     {"refresh", ErrTokenRevoked},
		"oauth2-extra-12-refresh-reuse-immediate.txt":               {"refresh", ErrTokenRevoked},
		"oauth2-extra-17-err-refresh-other-client.txt":              {"refresh", ErrTokenRevoked},
		"oauth2-10-resource-profile.txt":                            {"profile", nil},
		"oauth2-19-profile-with-old-access-token-after-refresh.txt": {"profile", ErrTokenRevoked},
		"oauth2-20-err-profile-bad-bearer.txt":                      {"profile", ErrTokenRevoked},
	}
	for _, release := range transcript.Releases {
		for name, oc := range cases {
			if _, err := os.Stat(transcript.Path(t, release, name)); err != nil {
				continue // not recorded for this release
			}
			t.Run(release+"/"+name, func(t *testing.T) {
				rec := readResponse(t, release, name)
				f := replay(t, rec)
				var err error
				switch oc.kind {
				case "exchange":
					var tok *oauth2.Token
					tok, err = f.conf.Exchange(f.tokenContext(context.Background()), "code", oauth2.VerifierOption("v"))
					if err != nil {
						err = tokenError("token", err)
					} else {
						var t2 *token2
						t2, err = f.checkToken(tok, "")
						if err == nil && (t2.Access == "" || time.Until(time.Unix(t2.Expiry, 0)) < 59*time.Minute) {
							t.Fatalf("token %d bytes, expiry %v", len(t2.Access), time.Unix(t2.Expiry, 0))
						}
					}
				case "refresh":
					var t2 *token2
					t2, err = f.ref.do(context.Background(), &token2{Access: "a0", Refresh: "r0"})
					if err == nil && (t2.Refresh == "r0" || t2.Refresh == "" || t2.Access == "") {
						t.Fatalf("refresh kept the old refresh token or lost one: %+v", t2)
					}
				case "profile":
					var u *User
					u, err = f.fetchProfile(context.Background(), f.hc, "tok")
					if err == nil && (u.ID != "3" || u.Username != "Alice" || len(u.Rights) == 0 || len(u.Grants) == 0) {
						t.Fatalf("profile %+v", u)
					}
				}
				switch {
				case oc.want == nil && err != nil:
					t.Fatalf("%s: %v", oc.kind, err)
				case oc.want != nil && !errors.Is(err, oc.want):
					t.Fatalf("%s: %v; want %v", oc.kind, err, oc.want)
				}
			})
		}
	}
	// Profile without Authorization: 1.39 answers 500 (an error, never a
	// profile), 1.43 401.
	for release, want := range map[string]error{"1.39": ErrWikiUnavailable, "1.43": ErrTokenRevoked} {
		f := replay(t, readResponse(t, release, "oauth2-21-err-profile-no-auth.txt"))
		if u, err := f.fetchProfile(context.Background(), f.hc, ""); !errors.Is(err, want) || u != nil {
			t.Errorf("%s profile without Authorization: %+v, %v; want %v", release, u, err, want)
		}
	}
}
