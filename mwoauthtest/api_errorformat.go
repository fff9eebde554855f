package mwoauthtest

import (
	"html"
	"strings"
)

// errorformat=plaintext|wikitext|html|raw|none: errors and warnings as
// arrays of {"code", "text"|"html"|"key"+"params", "module"} (ApiErrorFormatter),
// instead of the default "bc" {"error":{"code","info"}} and
// {"warnings":{"module":{"warnings":"..."}}}.

var apiFormattedErrors = []string{"plaintext", "wikitext", "html", "raw", "none"}

// formattedMessage renders one message in errorformat f.
func formattedMessage(f, code, text, module string) obj {
	o := obj{{"code", code}}
	switch f {
	case "plaintext", "wikitext":
		o = append(o, kv{"text", text})
	case "html":
		o = append(o, kv{"html", html.EscapeString(text)})
	case "raw":
		o = append(o, kv{"key", "apierror-" + code}, kv{"params", []any{}})
	}
	return append(o, kv{"module", module})
}

// warningCode guesses the code of a warning the fake recorded as text.
func warningCode(text string) string {
	switch {
	case strings.HasPrefix(text, "Unrecognized value for parameter"):
		return "unrecognizedvalues"
	case strings.HasPrefix(text, "Unrecognized parameter"):
		return "unrecognizedparams"
	case strings.Contains(text, "may not be over"), strings.Contains(text, "may not be less than"):
		return "integeroutofrange"
	case strings.Contains(text, "deprecated"):
		return "deprecation"
	}
	return "warning"
}

// formattedWarnings renders c.warnings as errorformat's array and clears
// them, so that api.go's bc rendering does not add them again.
func formattedWarnings(c *apiCall, f string) []obj {
	var list []obj
	for _, m := range c.warnings {
		for _, text := range m.v.([]string) {
			list = append(list, formattedMessage(f, warningCode(text), text, m.k))
		}
	}
	c.warnings = nil
	return list
}

// errorFormat returns the errorformat of the call, "" for bc.
func errorFormat(c *apiCall) string {
	f := c.params.Get("errorformat")
	for _, x := range apiFormattedErrors {
		if f == x {
			return f
		}
	}
	return ""
}

// withFormattedWarnings wraps an action so that its warnings come out in the
// call's errorformat.
func withFormattedWarnings(run func(c *apiCall) (obj, *apiError)) func(c *apiCall) (obj, *apiError) {
	return func(c *apiCall) (obj, *apiError) {
		res, e := run(c)
		if e != nil {
			return res, e // the error renderer handles the warnings
		}
		if f := errorFormat(c); f != "" && len(c.warnings) > 0 {
			res = append(obj{{"warnings", formattedWarnings(c, f)}}, res...)
		}
		return res, nil
	}
}

func init() {
	for _, f := range apiFormattedErrors {
		apiErrorFormats[f] = func(c *apiCall, e *apiError) obj {
			eo := formattedMessage(f, e.code, e.info, "main")
			if len(e.data) > 0 {
				eo = append(eo, kv{"data", e.data})
			}
			out := obj{}
			if len(c.warnings) > 0 {
				out = append(out, kv{"warnings", formattedWarnings(c, f)})
			}
			out = append(out, kv{"errors", []obj{eo}}, kv{"docref", c.s.docref()})
			return out
		}
	}
	for _, name := range []string{"edit"} {
		if a, ok := apiActions[name]; ok {
			a.run = withFormattedWarnings(a.run)
			apiActions[name] = a
		}
	}
}
