package mwapi_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/wikiauth/mwoauth/mwapi"
)

// uploadStub answers action=upload as MediaWiki does, for plain and
// chunked uploads, and records what it saw.
type uploadStub struct {
	mu       sync.Mutex
	stash    map[string][]byte
	files    map[string][]byte
	requests int
	chunks   int
	fieldErr []string
}

func (s *uploadStub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests++
	if r.Method == http.MethodGet || r.URL.Query().Get("meta") == "tokens" {
		io.WriteString(w, `{"batchcomplete":true,"query":{"tokens":{"csrftoken":"up+\\"}}}`)
		return
	}
	if len(r.URL.RawQuery) > 0 {
		s.fieldErr = append(s.fieldErr, "query string on upload: "+r.URL.RawQuery)
	}
	var file []byte
	ct := r.Header.Get("Content-Type")
	if strings.HasPrefix(ct, "multipart/form-data") {
		mr, err := r.MultipartReader()
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		r.Form = map[string][]string{}
		var order []string
		for {
			p, err := mr.NextPart()
			if err != nil {
				break
			}
			b, _ := io.ReadAll(p)
			order = append(order, p.FormName())
			if p.FileName() != "" {
				file = b
				continue
			}
			r.Form.Add(p.FormName(), string(b))
		}
		if order[len(order)-1] != "token" {
			s.fieldErr = append(s.fieldErr, fmt.Sprint("multipart order ", order, ": token not last"))
		}
	} else {
		r.ParseForm()
	}
	f := r.Form
	if f.Get("token") != `up+\` {
		w.Header().Set("MediaWiki-API-Error", "badtoken")
		io.WriteString(w, `{"error":{"code":"badtoken","info":"Invalid CSRF token."}}`)
		return
	}
	if s.stash == nil {
		s.stash, s.files = map[string][]byte{}, map[string][]byte{}
	}
	switch {
	case f.Get("stash") == "1": // a chunk
		s.chunks++
		size, _ := strconv.Atoi(f.Get("filesize"))
		off, _ := strconv.Atoi(f.Get("offset"))
		key := f.Get("filekey")
		if off == 0 {
			key = fmt.Sprintf("abc%d.stash", len(s.stash)+1)
		}
		if len(s.stash[key]) != off {
			w.Header().Set("MediaWiki-API-Error", "stashfailed")
			fmt.Fprintf(w, `{"error":{"code":"stashfailed","info":"Invalid chunk offset"}}`)
			return
		}
		s.stash[key] = append(s.stash[key], file...)
		if got := len(s.stash[key]); got < size {
			fmt.Fprintf(w, `{"upload":{"result":"Continue","offset":%d,"filekey":%q}}`, got, key)
			return
		}
		fmt.Fprintf(w, `{"upload":{"result":"Success","filekey":%q,"imageinfo":{"size":%d}}}`, key, size)
	case f.Get("filekey") != "":
		data, ok := s.stash[f.Get("filekey")]
		if !ok {
			io.WriteString(w, `{"error":{"code":"missingresult","info":"No such filekey."}}`)
			return
		}
		s.files[f.Get("filename")] = data
		fmt.Fprintf(w, `{"upload":{"result":"Success","filename":%q,"imageinfo":{"size":%d}}}`, f.Get("filename"), len(data))
	default:
		if _, exists := s.files[f.Get("filename")]; exists && f.Get("ignorewarnings") == "" {
			s.stash["warn.stash"] = file
			fmt.Fprintf(w, `{"upload":{"result":"Warning","warnings":{"exists":%q},"filekey":"warn.stash","sessionkey":"warn.stash"}}`, f.Get("filename"))
			return
		}
		s.files[f.Get("filename")] = file
		fmt.Fprintf(w, `{"upload":{"result":"Success","filename":%q,"imageinfo":{"size":%d}}}`, f.Get("filename"), len(file))
	}
}

func TestUploadSmall(t *testing.T) {
	stub := &uploadStub{}
	srv := httptest.NewServer(stub)
	defer srv.Close()
	c := newClient(t, srv)
	content := []byte("GIF89a small file")
	res, err := c.Upload(context.Background(), mwapi.UploadRequest{
		Filename: "Small.gif", Content: bytes.NewReader(content), Size: int64(len(content)),
		Comment: "test", Text: "== Summary ==",
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Result != "Success" || res.Filename != "Small.gif" || !bytes.Equal(stub.files["Small.gif"], content) {
		t.Errorf("result %+v, stored %q", res, stub.files["Small.gif"])
	}
	if stub.chunks != 0 {
		t.Errorf("small file sent in %d chunks", stub.chunks)
	}
	for _, e := range stub.fieldErr {
		t.Error(e)
	}
	// Same name again: warning, then finish with the filekey.
	_, err = c.Upload(context.Background(), mwapi.UploadRequest{Filename: "Small.gif", Content: bytes.NewReader(content), Size: int64(len(content))})
	if !errors.Is(err, mwapi.ErrUploadWarning) {
		t.Fatalf("err = %v; want ErrUploadWarning", err)
	}
}

func TestUploadChunked(t *testing.T) {
	stub := &uploadStub{}
	srv := httptest.NewServer(stub)
	defer srv.Close()
	c := newClient(t, srv, mwapi.WithChunkSize(1000))
	content := bytes.Repeat([]byte("0123456789"), 350) // 3500 bytes: 4 chunks
	var progress []int64
	res, err := c.Upload(context.Background(), mwapi.UploadRequest{
		Filename: "Big.bin", Content: bytes.NewReader(content), Size: int64(len(content)),
		Comment: "chunked", Progress: func(sent, total int64) {
			if total != int64(len(content)) {
				t.Errorf("progress total = %d", total)
			}
			progress = append(progress, sent)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Result != "Success" || !bytes.Equal(stub.files["Big.bin"], content) {
		t.Errorf("result %+v, stored %d bytes", res, len(stub.files["Big.bin"]))
	}
	if stub.chunks != 4 || fmt.Sprint(progress) != "[1000 2000 3000 3500]" {
		t.Errorf("chunks %d, progress %v; want 4, [1000 2000 3000 3500]", stub.chunks, progress)
	}
	for _, e := range stub.fieldErr {
		t.Error(e)
	}
}
