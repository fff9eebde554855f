package mwapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// UploadRequest describes a file upload (action=upload).
type UploadRequest struct {
	// Filename is the target name on the wiki, without "File:".
	Filename string
	// Content is read with ReadAt, so that a chunk or a retried request can
	// be sent again (bytes.Reader, strings.Reader and *os.File fit); nil
	// with FileKey set finishes a stashed upload.
	Content io.ReaderAt
	// Size is the number of bytes of Content.
	Size int64
	// Comment is the upload summary; Text the initial page text.
	Comment, Text string
	// IgnoreWarnings uploads despite warnings (duplicate, exists, ...).
	IgnoreWarnings bool
	// FileKey finishes an upload that was stashed earlier (e.g. after
	// ErrUploadWarning) instead of sending Content.
	FileKey string
	// ChunkSize overrides WithChunkSize for this upload. Files larger than
	// it are sent in chunks (stash=1, offset, filekey), then committed.
	ChunkSize int64
	// Progress, if set, is called after each chunk with the bytes sent so
	// far and Size.
	Progress func(sent, total int64)
	// Params are extra parameters (e.g. "watchlist", "tags").
	Params url.Values
}

// UploadResult is the "upload" object of the final answer.
type UploadResult struct {
	Result    string          `json:"result"` // "Success" or "Warning"
	Filename  string          `json:"filename"`
	FileKey   string          `json:"filekey"`
	Warnings  json.RawMessage `json:"warnings"`
	ImageInfo json.RawMessage `json:"imageinfo"`
	// Raw is the whole "upload" object.
	Raw json.RawMessage `json:"-"`
}

type uploadAnswer struct {
	Upload json.RawMessage `json:"upload"`
}

type uploadObject struct {
	UploadResult
	Offset any `json:"offset"`
}

// Upload uploads a file with a csrf token (fetched and cached; refetched
// once on badtoken). Files up to the chunk size go in one multipart POST;
// larger ones in chunks to the upload stash, reporting progress, and are
// then committed with their filekey. Multipart fields are not
// form-encoded, so an OAuth 1 transport signs the request without them, as
// MediaWiki expects. Warnings stop the upload with ErrUploadWarning and a
// result whose FileKey lets a second call (IgnoreWarnings) finish it.
func (c *Client) Upload(ctx context.Context, u UploadRequest) (*UploadResult, error) {
	if u.Filename == "" {
		return nil, errors.New("mwapi: upload: no filename")
	}
	if u.FileKey == "" && u.Content == nil {
		return nil, errors.New("mwapi: upload: no content and no filekey")
	}
	if u.Size < 0 {
		return nil, errors.New("mwapi: upload: negative size")
	}
	final := url.Values{}
	for k, v := range u.Params {
		final[k] = v
	}
	final.Set("action", "upload")
	final.Set("filename", u.Filename)
	if u.Comment != "" {
		final.Set("comment", u.Comment)
	}
	if u.Text != "" {
		final.Set("text", u.Text)
	}
	if u.IgnoreWarnings {
		final.Set("ignorewarnings", "1")
	}
	if u.FileKey != "" {
		final.Set("filekey", u.FileKey)
		return c.finishUpload(ctx, final)
	}
	chunk := u.ChunkSize
	if chunk <= 0 {
		chunk = c.cfg.chunkSize
	}
	if u.Size <= chunk {
		part := io.NewSectionReader(u.Content, 0, u.Size)
		resp, err := c.postWithToken(ctx, "csrf", final, func(p url.Values) (*Response, error) {
			return c.do(ctx, &request{method: http.MethodPost, params: p, multipart: multipartBody(c.prepare(p), "file", u.Filename, part)})
		})
		if err != nil {
			return nil, err
		}
		if u.Progress != nil {
			u.Progress(u.Size, u.Size)
		}
		return uploadResult(resp.Body)
	}
	// Chunked: stash the chunks, then commit by filekey.
	var filekey string
	var offset int64
	for n := 0; offset < u.Size; n++ {
		if n > int(u.Size/chunk)+2 {
			return nil, fmt.Errorf("%w: upload: the wiki's offsets do not advance", ErrBadResponse)
		}
		end := min(offset+chunk, u.Size)
		p := url.Values{
			"action":   {"upload"},
			"stash":    {"1"},
			"filename": {u.Filename},
			"filesize": {strconv.FormatInt(u.Size, 10)},
			"offset":   {strconv.FormatInt(offset, 10)},
		}
		if u.IgnoreWarnings {
			p.Set("ignorewarnings", "1")
		}
		if filekey != "" {
			p.Set("filekey", filekey)
		}
		part := io.NewSectionReader(u.Content, offset, end-offset)
		resp, err := c.postWithToken(ctx, "csrf", p, func(p url.Values) (*Response, error) {
			return c.do(ctx, &request{method: http.MethodPost, params: p, multipart: multipartBody(c.prepare(p), "chunk", u.Filename, part)})
		})
		if err != nil {
			return nil, fmt.Errorf("mwapi: upload chunk at offset %d: %w", offset, err)
		}
		var a uploadAnswer
		var o uploadObject
		if err := json.Unmarshal(resp.Body, &a); err != nil || len(a.Upload) == 0 || json.Unmarshal(a.Upload, &o) != nil {
			return nil, fmt.Errorf("%w: upload chunk: no upload object", ErrBadResponse)
		}
		if o.FileKey != "" {
			filekey = o.FileKey
		}
		switch o.Result {
		case "Continue":
			next, err := offsetValue(o.Offset)
			if err != nil || next <= offset || next > u.Size {
				return nil, fmt.Errorf("%w: upload chunk: bad offset %v after %d", ErrBadResponse, o.Offset, offset)
			}
			offset = next
		case "Success":
			offset = u.Size
		case "Warning":
			o.Raw = a.Upload
			return &o.UploadResult, fmt.Errorf("%w: %s", ErrUploadWarning, o.Warnings)
		default:
			return nil, fmt.Errorf("%w: upload chunk: result %q", ErrBadResponse, o.Result)
		}
		if u.Progress != nil {
			u.Progress(offset, u.Size)
		}
	}
	if filekey == "" {
		return nil, fmt.Errorf("%w: upload: no filekey after the last chunk", ErrBadResponse)
	}
	final.Set("filekey", filekey)
	return c.finishUpload(ctx, final)
}

func (c *Client) finishUpload(ctx context.Context, params url.Values) (*UploadResult, error) {
	resp, err := c.postWithToken(ctx, "csrf", params, func(p url.Values) (*Response, error) {
		return c.do(ctx, &request{method: http.MethodPost, params: p})
	})
	if err != nil {
		return nil, err
	}
	return uploadResult(resp.Body)
}

func uploadResult(body []byte) (*UploadResult, error) {
	var a uploadAnswer
	if err := json.Unmarshal(body, &a); err != nil || len(a.Upload) == 0 {
		return nil, fmt.Errorf("%w: upload: no upload object", ErrBadResponse)
	}
	var r UploadResult
	if err := json.Unmarshal(a.Upload, &r); err != nil {
		return nil, fmt.Errorf("%w: upload: %w", ErrBadResponse, err)
	}
	r.Raw = a.Upload
	switch r.Result {
	case "Success":
		return &r, nil
	case "Warning":
		return &r, fmt.Errorf("%w: %s", ErrUploadWarning, r.Warnings)
	}
	return &r, fmt.Errorf("%w: upload: result %q", ErrBadResponse, r.Result)
}

func offsetValue(v any) (int64, error) {
	switch x := v.(type) {
	case float64:
		if x < 0 || x > 1<<53 {
			return 0, errors.New("out of range")
		}
		return int64(x), nil
	case string:
		return strconv.ParseInt(x, 10, 64)
	}
	return 0, errors.New("missing")
}

// multipartBody returns a builder of a multipart/form-data body: the
// parameters (sorted, token last, after the file) and the file part. It is
// called once per attempt, so retries resend the same bytes.
func multipartBody(params url.Values, field, filename string, content *io.SectionReader) func() ([]byte, string, error) {
	return func() ([]byte, string, error) {
		var buf bytes.Buffer
		buf.Grow(int(content.Size()) + 1024)
		w := multipart.NewWriter(&buf)
		keys := make([]string, 0, len(params))
		for k := range params {
			if !isTokenKey(k) {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		writeFields := func(keys []string) error {
			for _, k := range keys {
				for _, v := range params[k] {
					if err := w.WriteField(k, v); err != nil {
						return err
					}
				}
			}
			return nil
		}
		if err := writeFields(keys); err != nil {
			return nil, "", fmt.Errorf("mwapi: multipart: %w", err)
		}
		h := make(textproto.MIMEHeader)
		h.Set("Content-Disposition", `form-data; name="`+field+`"; filename="`+escapeQuotes(filename)+`"`)
		h.Set("Content-Type", "application/octet-stream")
		pw, err := w.CreatePart(h)
		if err != nil {
			return nil, "", fmt.Errorf("mwapi: multipart: %w", err)
		}
		if _, err := io.Copy(pw, io.NewSectionReader(content, 0, content.Size())); err != nil {
			return nil, "", fmt.Errorf("mwapi: upload: reading content: %w", err)
		}
		var tokenKeys []string
		for k := range params {
			if isTokenKey(k) {
				tokenKeys = append(tokenKeys, k)
			}
		}
		sort.Strings(tokenKeys)
		if err := writeFields(tokenKeys); err != nil {
			return nil, "", fmt.Errorf("mwapi: multipart: %w", err)
		}
		if err := w.Close(); err != nil {
			return nil, "", fmt.Errorf("mwapi: multipart: %w", err)
		}
		return buf.Bytes(), w.FormDataContentType(), nil
	}
}

func escapeQuotes(s string) string {
	return strings.NewReplacer("\\", "\\\\", `"`, "\\\"", "\r", "", "\n", "").Replace(s)
}
