package mwapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"sort"
	"strconv"
)

// Continue runs a continued query: it sends continue= with params, yields
// each batch (the whole JSON response), and merges the returned "continue"
// object into the original params for the next request, until the answer
// has no "continue". It stops at the first error (yielded once), at
// WithMaxBatches batches (ErrContinueLoop), on a continue object repeated
// unchanged (ErrContinueLoop), or when the caller breaks the loop.
func (c *Client) Continue(ctx context.Context, params url.Values) iter.Seq2[json.RawMessage, error] {
	return func(yield func(json.RawMessage, error) bool) {
		base := make(url.Values, len(params)+1)
		for k, v := range params {
			base[k] = v
		}
		if _, ok := base["continue"]; !ok {
			base.Set("continue", "")
		}
		cur := base
		prev := ""
		for batch := 0; batch < c.cfg.maxBatches; batch++ {
			resp, err := c.do(ctx, &request{method: http.MethodGet, params: cur, read: true})
			if err != nil {
				yield(nil, err)
				return
			}
			if !yield(resp.Body, nil) {
				return
			}
			cont, err := continueParams(resp.Body)
			if err != nil {
				yield(nil, err)
				return
			}
			if cont == nil {
				return
			}
			key := cont.Encode()
			if key == prev {
				yield(nil, fmt.Errorf("%w: continue %s returned twice", ErrContinueLoop, key))
				return
			}
			prev = key
			next := make(url.Values, len(base)+len(cont))
			for k, v := range base {
				next[k] = v
			}
			for k, v := range cont {
				next[k] = v
			}
			cur = next
		}
		yield(nil, fmt.Errorf("%w: more than %d batches", ErrContinueLoop, c.cfg.maxBatches))
	}
}

// continueParams returns the "continue" object of a response as parameters,
// nil when there is none.
func continueParams(body []byte) (url.Values, error) {
	var env struct {
		Continue map[string]json.RawMessage `json:"continue"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, fmt.Errorf("%w: continue: %w", ErrBadResponse, err)
	}
	if len(env.Continue) == 0 {
		return nil, nil
	}
	v := make(url.Values, len(env.Continue))
	for k, raw := range env.Continue {
		s, err := scalarString(raw)
		if err != nil {
			return nil, fmt.Errorf("%w: continue.%s: %w", ErrBadResponse, k, err)
		}
		v.Set(k, s)
	}
	return v, nil
}

func scalarString(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "", fmt.Errorf("empty value")
	}
	switch raw[0] {
	case '"':
		var s string
		err := json.Unmarshal(raw, &s)
		return s, err
	case 't', 'f':
		var b bool
		if err := json.Unmarshal(raw, &b); err != nil {
			return "", err
		}
		if b {
			return "1", nil
		}
		return "", nil
	case '{', '[', 'n':
		return "", fmt.Errorf("not a scalar")
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err != nil {
		return "", err
	}
	if _, err := strconv.ParseFloat(string(n), 64); err != nil {
		return "", err
	}
	return string(n), nil
}

// Pages runs a continued prop or generator query (formatversion=2) and
// yields each page once, with the parts that came in several batches
// merged: arrays (revisions, categories, links, ...) appended, objects
// merged, other values replaced. A page is complete when its batch is
// ("batchcomplete"), so pages are yielded batch-group by batch-group, in the
// order the wiki listed them.
func (c *Client) Pages(ctx context.Context, params url.Values) iter.Seq2[map[string]any, error] {
	return func(yield func(map[string]any, error) bool) {
		var order []string
		pending := map[string]map[string]any{}
		flush := func() bool {
			for _, k := range order {
				if !yield(pending[k], nil) {
					return false
				}
			}
			order = order[:0]
			clear(pending)
			return true
		}
		for body, err := range c.Continue(ctx, params) {
			if err != nil {
				yield(nil, err)
				return
			}
			var res struct {
				BatchComplete any `json:"batchcomplete"`
				Continue      any `json:"continue"`
				Query         struct {
					Pages json.RawMessage `json:"pages"`
				} `json:"query"`
			}
			if err := json.Unmarshal(body, &res); err != nil {
				yield(nil, fmt.Errorf("%w: pages: %w", ErrBadResponse, err))
				return
			}
			pages, err := pageList(res.Query.Pages)
			if err != nil {
				yield(nil, err)
				return
			}
			for _, p := range pages {
				k := pageKey(p)
				if old, ok := pending[k]; ok {
					mergeInto(old, p)
				} else {
					pending[k] = p
					order = append(order, k)
				}
			}
			if res.BatchComplete != nil || res.Continue == nil {
				if !flush() {
					return
				}
			}
		}
		flush()
	}
}

// pageList accepts formatversion=2's array and formatversion=1's object
// keyed by page id (sorted by key then).
func pageList(raw json.RawMessage) ([]map[string]any, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, nil
	}
	if raw[0] == '[' {
		var list []map[string]any
		if err := json.Unmarshal(raw, &list); err != nil {
			return nil, fmt.Errorf("%w: query.pages: %w", ErrBadResponse, err)
		}
		return list, nil
	}
	var m map[string]map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("%w: query.pages: %w", ErrBadResponse, err)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	list := make([]map[string]any, 0, len(m))
	for _, k := range keys {
		list = append(list, m[k])
	}
	return list, nil
}

func pageKey(p map[string]any) string {
	if t, ok := p["title"].(string); ok && t != "" {
		return "t:" + t
	}
	if id, ok := p["pageid"].(float64); ok {
		return "i:" + strconv.FormatFloat(id, 'f', -1, 64)
	}
	b, _ := json.Marshal(p)
	return "j:" + string(b)
}

// mergeInto merges src into dst: arrays appended, objects merged
// recursively, other values replaced.
func mergeInto(dst, src map[string]any) {
	for k, v := range src {
		old, ok := dst[k]
		if !ok {
			dst[k] = v
			continue
		}
		switch ov := old.(type) {
		case []any:
			if nv, ok := v.([]any); ok {
				dst[k] = append(ov, nv...)
				continue
			}
		case map[string]any:
			if nv, ok := v.(map[string]any); ok {
				mergeInto(ov, nv)
				continue
			}
		}
		dst[k] = v
	}
}
