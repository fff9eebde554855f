package mwoauthtest

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// obj is a JSON object whose keys keep their order, as PHP arrays do. The
// real server's bodies are compared byte for byte, so the fake cannot use
// encoding/json's sorted maps.
type obj []kv

type kv struct {
	k string
	v any
}

// set replaces the value of k or appends it.
func (o obj) set(k string, v any) obj {
	for i := range o {
		if o[i].k == k {
			o[i].v = v
			return o
		}
	}
	return append(o, kv{k, v})
}

// jsonOpts says how strings are escaped, after the PHP encoder in use.
type jsonOpts struct {
	// htmlSafe escapes <, > and & as \u003C, \u003E, \u0026 (FormatJson
	// without XMLMETA_OK, as Special:OAuth answers).
	htmlSafe bool
	// utf8 leaves non-ASCII characters as they are; otherwise they become
	// \uXXXX escapes (PHP's json_encode default).
	utf8 bool
}

// phpJSON encodes v the way PHP's json_encode with JSON_UNESCAPED_SLASHES
// does. It accepts obj, []any, []string, []obj, string, bool, int, int64,
// float64, rawJSON and nil.
func phpJSON(v any, o jsonOpts) []byte {
	var b strings.Builder
	writeJSON(&b, v, o, 0)
	return []byte(b.String())
}

// rawJSON is inserted verbatim.
type rawJSON string

// maxJSONDepth bounds recursion; the fake never builds deeper values.
const maxJSONDepth = 32

func writeJSON(b *strings.Builder, v any, o jsonOpts, depth int) {
	if depth > maxJSONDepth {
		b.WriteString("null")
		return
	}
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case rawJSON:
		b.WriteString(string(x))
	case obj:
		if len(x) == 0 {
			// PHP encodes an empty array as [], but the fake only
			// uses obj for objects: {} is what MediaWiki emits for
			// its (object) casts.
			b.WriteString("{}")
			return
		}
		b.WriteByte('{')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSONString(b, e.k, o)
			b.WriteByte(':')
			writeJSON(b, e.v, o, depth+1)
		}
		b.WriteByte('}')
	case []obj:
		writeJSONArray(b, x, func(e obj) { writeJSON(b, e, o, depth+1) })
	case []any:
		writeJSONArray(b, x, func(e any) { writeJSON(b, e, o, depth+1) })
	case []string:
		writeJSONArray(b, x, func(e string) { writeJSONString(b, e, o) })
	case string:
		writeJSONString(b, x, o)
	case bool:
		if x {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case int:
		b.WriteString(strconv.Itoa(x))
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case float64:
		b.WriteString(strconv.FormatFloat(x, 'f', -1, 64))
	default:
		b.WriteString("null")
	}
}

func writeJSONString(b *strings.Builder, s string, o jsonOpts) {
	const hex = "0123456789abcdef"
	b.WriteByte('"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			switch {
			case c == '"':
				b.WriteString(`\"`)
			case c == '\\':
				b.WriteString(`\\`)
			case c == '\n':
				b.WriteString(`\n`)
			case c == '\r':
				b.WriteString(`\r`)
			case c == '\t':
				b.WriteString(`\t`)
			case c == '\b':
				b.WriteString(`\b`)
			case c == '\f':
				b.WriteString(`\f`)
			case c < 0x20:
				b.WriteString(`\u00`)
				b.WriteByte(hex[c>>4])
				b.WriteByte(hex[c&15])
			case o.htmlSafe && c == '<':
				b.WriteString(`\u003C`)
			case o.htmlSafe && c == '>':
				b.WriteString(`\u003E`)
			case o.htmlSafe && c == '&':
				b.WriteString(`\u0026`)
			default:
				b.WriteByte(c)
			}
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		if o.utf8 && r != utf8.RuneError {
			b.WriteRune(r)
			continue
		}
		if r == utf8.RuneError {
			r = 0xFFFD
		}
		writeU := func(u rune) {
			b.WriteString(`\u`)
			b.WriteByte(hex[(u>>12)&15])
			b.WriteByte(hex[(u>>8)&15])
			b.WriteByte(hex[(u>>4)&15])
			b.WriteByte(hex[u&15])
		}
		if r >= 0x10000 {
			r -= 0x10000
			writeU(0xD800 + (r >> 10))
			writeU(0xDC00 + (r & 0x3FF))
		} else {
			writeU(r)
		}
	}
	b.WriteByte('"')
}

// writeJSONArray writes xs as a JSON array, each element with elem.
func writeJSONArray[T any](b *strings.Builder, xs []T, elem func(T)) {
	b.WriteByte('[')
	for i, e := range xs {
		if i > 0 {
			b.WriteByte(',')
		}
		elem(e)
	}
	b.WriteByte(']')
}
