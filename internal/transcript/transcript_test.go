package transcript

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	t.Parallel()
	text := "# comment line\n\n" +
		">>>>>>>> REQUEST 1\nPOST /w/api.php HTTP/1.1\nHost: 127.0.0.1\nContent-Length: 5\n\naction=x\n\n" +
		"<<<<<<<< RESPONSE 1\nHTTP/1.1 200 OK\nContent-Type: application/json\nContent-Length: 2\n\n{}trailing\n" +
		">>>>>>>> REQUEST 2\nGET /w/index.php?title=X HTTP/1.1\n\n" +
		"<<<<<<<< RESPONSE 2\nHTTP/1.1 302 Found\nLocation:  /next \n\nbody without length\n"
	xs, err := parse([]byte(strings.ReplaceAll(text, "\n", "\r\n")))
	if err != nil {
		t.Fatal(err)
	}
	if len(xs) != 2 {
		t.Fatalf("parse found %d exchanges; want 2", len(xs))
	}
	r1, w1 := xs[0].Request, xs[0].Response
	if r1.Method != "POST" || r1.Target != "/w/api.php" || r1.Body != "actio" || r1.Header.Get("Host") != "127.0.0.1" {
		t.Errorf("request 1 = %+v", r1)
	}
	if w1.Status != 200 || w1.Body != "{}" || w1.Header.Get("Content-Type") != "application/json" {
		t.Errorf("response 1 = %+v", w1)
	}
	if w2 := xs[1].Response; w2.Status != 302 || w2.Header.Get("Location") != "/next" || w2.Body != "body without length" {
		t.Errorf("response 2 = %+v", w2)
	}
	for _, bad := range []string{
		"",
		">>>>>>>> REQUEST 1\nGET / HTTP/1.1\n\n", // no response
		"<<<<<<<< RESPONSE 1\nHTTP/1.1 200 OK\n\n>>>>>>>> REQUEST 1\nGET / HTTP/1.1\n\n", // out of order
		">>>>>>>> REQUEST 1\nGET /\n\n<<<<<<<< RESPONSE 1\nHTTP/1.1 200 OK\n\n",          // bad request line
		">>>>>>>> REQUEST 1\nGET / HTTP/1.1\n\n<<<<<<<< RESPONSE 1\nHTTP/1.1 2x0 OK\n\n", // bad status
		">>>>>>>> REQUEST 1\nGET / HTTP/1.1\nno colon\n\n<<<<<<<< RESPONSE 1\nHTTP/1.1 200 OK\n\n",
		">>>>>>>> REQUEST x\nGET / HTTP/1.1\n\n<<<<<<<< RESPONSE 1\nHTTP/1.1 200 OK\n\n",
	} {
		if _, err := parse([]byte(bad)); err == nil {
			t.Errorf("parse(%q) = nil error", bad)
		}
	}
}

// The real files parse: every transcript of both releases.
func TestReadRealTranscripts(t *testing.T) {
	t.Parallel()
	for _, rel := range Releases {
		xs := Read(t, rel, "oauth1-01-initiate.txt")
		if xs[0].Response.Status != 200 || !strings.HasPrefix(xs[0].Response.Body, `{"key":`) {
			t.Errorf("%s oauth1-01: %+v", rel, xs[0].Response)
		}
		if c := Consumers(t, rel); c["oauth1"].Key == "" {
			t.Errorf("%s consumers.json: no oauth1 consumer key", rel)
		}
	}
}
