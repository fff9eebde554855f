package mwapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Response is one decoded API answer.
type Response struct {
	// Body is the JSON object as received (decompressed).
	Body json.RawMessage
	// Warnings of the response, in module order.
	Warnings []Warning
	// Header is the HTTP response header.
	Header http.Header
	// StatusCode is the HTTP status.
	StatusCode int
}

// envelope holds the members of a response the client itself interprets.
type envelope struct {
	Error    json.RawMessage   `json:"error"`
	Errors   []json.RawMessage `json:"errors"`
	Warnings json.RawMessage   `json:"warnings"`
	Continue json.RawMessage   `json:"continue"`
}

// legacyError is {"error":{"code","info","*"|"docref",...}}; errorformat
// entries are {"code","text"|"html"|"key","module",...}.
type errorObject struct {
	Code   string `json:"code"`
	Info   string `json:"info"`
	Text   string `json:"text"`
	HTML   string `json:"html"`
	Key    string `json:"key"`
	Module string `json:"module"`
	Lag    any    `json:"lag"`
}

// decodeResponse turns one HTTP answer into a Response or an error: an
// *APIError for {"error":…} or "errors":[…] (whatever the status), an
// *HTTPError for a non-200 status without an API error, ErrBadResponse for a
// body that is not a JSON object. It never panics, whatever the input.
func decodeResponse(status int, h http.Header, body []byte) (*Response, error) {
	if h == nil {
		h = http.Header{}
	}
	if status >= 300 && status < 400 {
		return nil, &HTTPError{StatusCode: status, Location: h.Get("Location"), Body: snippet(body)}
	}
	trimmed := bytes.TrimSpace(body)
	var env envelope
	jsonErr := error(nil)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		jsonErr = fmt.Errorf("%w: not a JSON object", ErrBadResponse)
	} else if err := json.Unmarshal(trimmed, &env); err != nil {
		jsonErr = fmt.Errorf("%w: %w", ErrBadResponse, err)
	}
	headerCode := h.Get("MediaWiki-API-Error")
	if jsonErr == nil {
		if apiErr := apiErrorFrom(&env); apiErr != nil {
			apiErr.HTTPStatus = status
			apiErr.Header = headerCode
			apiErr.RetryAfter = retryAfter(h)
			if lag, ok := databaseLag(h); ok {
				apiErr.Lag = lag
			}
			return nil, apiErr
		}
	}
	if status != http.StatusOK {
		if headerCode != "" {
			return nil, &APIError{Code: headerCode, HTTPStatus: status, Header: headerCode, RetryAfter: retryAfter(h)}
		}
		return nil, &HTTPError{StatusCode: status, RetryAfter: retryAfter(h), Body: snippet(body)}
	}
	if jsonErr != nil {
		if headerCode != "" {
			return nil, &APIError{Code: headerCode, HTTPStatus: status, Header: headerCode, RetryAfter: retryAfter(h)}
		}
		return nil, jsonErr
	}
	if headerCode != "" {
		// The header says error but the body has none: do not report success.
		return nil, &APIError{Code: headerCode, HTTPStatus: status, Header: headerCode, RetryAfter: retryAfter(h)}
	}
	return &Response{Body: json.RawMessage(trimmed), Warnings: parseWarnings(env.Warnings), Header: h, StatusCode: status}, nil
}

func apiErrorFrom(env *envelope) *APIError {
	if len(env.Error) > 0 && !bytes.Equal(env.Error, []byte("null")) {
		e := errorFromObject(env.Error)
		if e == nil {
			e = &APIError{Code: "unknown", Details: env.Error}
		}
		return e
	}
	if len(env.Errors) == 0 {
		return nil
	}
	var first *APIError
	for _, raw := range env.Errors {
		e := errorFromObject(raw)
		if e == nil {
			continue
		}
		if first == nil {
			first = e
		} else {
			first.More = append(first.More, e)
		}
	}
	if first == nil {
		first = &APIError{Code: "unknown", Details: env.Errors[0]}
	}
	return first
}

func errorFromObject(raw json.RawMessage) *APIError {
	var o errorObject
	if err := json.Unmarshal(raw, &o); err != nil {
		// e.g. {"error":"some string"}: keep it, as a code.
		var s string
		if json.Unmarshal(raw, &s) == nil && s != "" {
			return &APIError{Code: s, Details: raw}
		}
		return nil
	}
	e := &APIError{Code: o.Code, Module: o.Module, Details: raw}
	switch {
	case o.Info != "":
		e.Info = o.Info
	case o.Text != "":
		e.Info = o.Text
	case o.HTML != "":
		e.Info = o.HTML
	case o.Key != "":
		e.Info = o.Key
	}
	if e.Code == "" {
		e.Code = "unknown"
	}
	if f, ok := toFloat(o.Lag); ok && f >= 0 && f < 1e9 {
		e.Lag = time.Duration(f * float64(time.Second))
	}
	return e
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case string:
		f, err := strconv.ParseFloat(x, 64)
		return f, err == nil
	}
	return 0, false
}

// parseWarnings reads the three shapes MediaWiki uses:
// errorformat: [{"code","text"|"html"|"key","module"}];
// legacy formatversion=2: {"main":{"warnings":"a\nb"}};
// legacy formatversion=1: {"main":{"*":"a\nb"}}.
func parseWarnings(raw json.RawMessage) []Warning {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil
	}
	switch raw[0] {
	case '[':
		var list []errorObject
		if json.Unmarshal(raw, &list) != nil {
			return []Warning{{Module: "main", Text: string(snippet(raw))}}
		}
		out := make([]Warning, 0, len(list))
		for _, o := range list {
			w := Warning{Module: o.Module, Code: o.Code}
			switch {
			case o.Text != "":
				w.Text = o.Text
			case o.HTML != "":
				w.Text = o.HTML
			default:
				w.Text = o.Key
			}
			out = append(out, w)
		}
		return out
	case '{':
		var m map[string]json.RawMessage
		if json.Unmarshal(raw, &m) != nil {
			return []Warning{{Module: "main", Text: string(snippet(raw))}}
		}
		modules := make([]string, 0, len(m))
		for k := range m {
			modules = append(modules, k)
		}
		sort.Strings(modules)
		var out []Warning
		for _, mod := range modules {
			var inner map[string]any
			if json.Unmarshal(m[mod], &inner) != nil {
				out = append(out, Warning{Module: mod, Text: string(snippet(m[mod]))})
				continue
			}
			text, _ := inner["warnings"].(string)
			if text == "" {
				text, _ = inner["*"].(string)
			}
			for _, line := range strings.Split(text, "\n") {
				if line != "" {
					out = append(out, Warning{Module: mod, Text: line})
				}
			}
		}
		return out
	}
	return []Warning{{Module: "main", Text: string(snippet(raw))}}
}

// retryAfter reads Retry-After as seconds (what MediaWiki sends) or an
// HTTP date; 0 when absent or unparsable. Capped at one hour.
func retryAfter(h http.Header) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	var d time.Duration
	if n, err := strconv.ParseFloat(v, 64); err == nil {
		if n <= 0 || n != n {
			return 0
		}
		if n > 3600 {
			n = 3600
		}
		d = time.Duration(n * float64(time.Second))
	} else if t, err := http.ParseTime(v); err == nil {
		d = time.Until(t)
	}
	if d < 0 {
		return 0
	}
	if d > time.Hour {
		d = time.Hour
	}
	return d
}

func databaseLag(h http.Header) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get("X-Database-Lag"))
	if v == "" {
		return 0, false
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 0 || f > 1e9 {
		return 0, false
	}
	return time.Duration(f * float64(time.Second)), true
}

// snippet returns at most 512 bytes of b, cut at a rune boundary, for error
// messages and logs.
func snippet(b []byte) []byte {
	const n = 512
	if len(b) <= n {
		return bytes.Clone(b)
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(b[cut]) {
		cut--
	}
	return bytes.Clone(b[:cut])
}
