package mwoauth

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
)

// ccBearer closes the request body also when it fails before sending
// (http.RoundTripper: "RoundTrip must always close the body, including on
// errors"), here when GetBody fails.
func TestReviewCCBearerClosesBodyOnGetBodyError(t *testing.T) {
	body := &closeTracker{Reader: strings.NewReader("action=edit")}
	req, err := http.NewRequest(http.MethodPost, "https://wiki.example/w/api.php", body)
	if err != nil {
		t.Fatal(err)
	}
	req.GetBody = func() (io.ReadCloser, error) { return nil, errors.New("no second body") }
	rt := &recordingRT{}
	tr := &ccBearer{base: rt}
	if _, err := tr.RoundTrip(req); err == nil {
		t.Fatal("RoundTrip succeeded without a body")
	}
	if len(rt.got) != 0 {
		t.Fatalf("%d requests sent", len(rt.got))
	}
	if !body.closed.Load() {
		t.Fatal("the request body was left open")
	}
}
