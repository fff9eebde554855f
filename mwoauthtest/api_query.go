package mwoauthtest

import (
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// action=query with a page set (titles= or generator=allpages) and prop
// modules whose results continue across batches: the continue object then
// keeps the generator where it was and adds the prop module's continuation,
// and "batchcomplete" is only sent once every prop module has finished the
// batch's pages (ApiContinuationManager). Calls without a page set are
// answered by api.go's apiQueryAction unchanged.

// queryPage is one page of the page set.
type queryPage struct {
	p     *page  // nil when missing
	title string // normalized
	extra obj    // members added by prop modules
}

// propModule adds its data to the pages and returns its continuation
// value ("" when done).
type propModule struct {
	contParam string
	run       func(c *apiCall, pages []*queryPage, cont string) (next string, e *apiError)
}

var apiPropModules = map[string]propModule{
	"categories": {contParam: "clcontinue", run: propCategories},
}

// apiQueryWithPages is action=query.
func apiQueryWithPages(c *apiCall) (obj, *apiError) {
	gen := c.params.Get("generator")
	_, hasTitles := c.params["titles"]
	if gen == "" && !hasTitles {
		return apiQueryAction(c)
	}
	done := map[string]bool{} // modules finished in an earlier batch
	if v := c.params.Get("continue"); v != "" {
		if _, mods, ok := strings.Cut(v, "||"); ok {
			for _, m := range strings.Split(mods, "|") {
				done[m] = true
			}
		}
	}
	q := &apiQuery{}
	var completed []string
	for _, p := range []string{"meta", "list"} {
		for _, name := range splitMulti(c.params.Get(p)) {
			if done[name] {
				continue
			}
			m := apiQueryModules[p][name]
			if m == nil {
				c.warn("query", `Unrecognized value for parameter "`+p+`": `+name+".")
				continue
			}
			before := len(q.cont)
			if e := m(c, q); e != nil {
				return nil, e
			}
			if len(q.cont) == before {
				completed = append(completed, name)
			}
		}
	}

	var pages []*queryPage
	genNext := ""
	switch gen {
	case "":
		for _, t := range splitMulti(c.params.Get("titles")) {
			title := normalizeTitle(t)
			if title == "" {
				continue
			}
			pages = append(pages, &queryPage{p: c.s.pages[dbKey(title)], title: title})
		}
	case "allpages":
		lim, e := c.limit("allpages", "gaplimit", 10)
		if e != nil {
			return nil, e
		}
		from := dbKey(c.params.Get("gapfrom"))
		if v := c.params.Get("gapcontinue"); v != "" {
			from = dbKey(v)
		}
		prefix := dbKey(c.params.Get("gapprefix"))
		for _, k := range c.s.sortedPageKeys() {
			if (from != "" && k < from) || !strings.HasPrefix(k, prefix) {
				continue
			}
			if len(pages) == lim {
				genNext = k
				break
			}
			p := c.s.pages[k]
			pages = append(pages, &queryPage{p: p, title: p.title})
		}
	default:
		return nil, newAPIError("badvalue", `Unrecognized value for parameter "generator": `+gen+".")
	}

	var propCont obj
	var propsDone []string
	for _, name := range splitMulti(c.params.Get("prop")) {
		if done[name] {
			continue
		}
		m, ok := apiPropModules[name]
		if !ok {
			c.warn("query", `Unrecognized value for parameter "prop": `+name+".")
			continue
		}
		next, e := m.run(c, pages, c.params.Get(m.contParam))
		if e != nil {
			return nil, e
		}
		if next != "" {
			propCont = append(propCont, kv{m.contParam, next})
		} else {
			propsDone = append(propsDone, name)
		}
	}

	out := obj{}
	cont := obj{}
	genPart := "-"
	if len(propCont) == 0 {
		out = append(out, kv{"batchcomplete", c.flag()})
		if genNext != "" {
			cont = append(cont, kv{"gapcontinue", genNext})
			genPart = "gapcontinue"
			// a new generator batch runs the prop modules again
		}
	} else {
		completed = append(completed, propsDone...)
		if v := c.params.Get("gapcontinue"); gen != "" && v != "" {
			cont = append(cont, kv{"gapcontinue", v})
			genPart = "gapcontinue"
		}
		cont = append(cont, propCont...)
	}
	cont = append(cont, q.cont...)
	if len(cont) > 0 {
		cont = append(cont, kv{"continue", genPart + "||" + strings.Join(completed, "|")})
		out = append(out, kv{"continue", cont})
	}
	q.query = q.query.set("pages", c.pagesValue(pages))
	out = append(out, kv{"query", q.query})
	return out, nil
}

// pagesValue renders the page set: an array in formatversion 2, an object
// keyed by page id (negative for missing pages) in formatversion 1.
func (c *apiCall) pagesValue(pages []*queryPage) any {
	list := make([]obj, 0, len(pages))
	keys := make([]string, 0, len(pages))
	missing := 0
	for _, qp := range pages {
		var o obj
		if qp.p != nil {
			o = obj{{"pageid", qp.p.id}, {"ns", 0}, {"title", qp.p.title}}
			keys = append(keys, strconv.Itoa(qp.p.id))
		} else {
			missing--
			o = obj{{"ns", 0}, {"title", qp.title}, {"missing", c.flag()}}
			keys = append(keys, strconv.Itoa(missing))
		}
		list = append(list, append(o, qp.extra...))
	}
	if c.fv2 {
		return list
	}
	o := obj{}
	for i := range list {
		o = append(o, kv{keys[i], list[i]})
	}
	return o
}

var categoryLink = regexp.MustCompile(`\[\[\s*[Cc]ategory\s*:\s*([^\]|]+?)\s*(?:\|[^\]]*)?\]\]`)

// pageCategories are the categories a page's text links to, sorted by key.
func pageCategories(text string) []string {
	var cats []string
	for _, m := range categoryLink.FindAllStringSubmatch(text, 100) {
		k := dbKey(m[1])
		if k != "" && !slices.Contains(cats, k) {
			cats = append(cats, k)
		}
	}
	sort.Strings(cats)
	return cats
}

// propCategories is prop=categories (cllimit, clcontinue "pageid|Category").
func propCategories(c *apiCall, pages []*queryPage, cont string) (string, *apiError) {
	lim, e := c.limit("categories", "cllimit", 10)
	if e != nil {
		return "", e
	}
	contID, contCat := -1, ""
	if cont != "" {
		id, cat, ok := strings.Cut(cont, "|")
		n, err := strconv.Atoi(id)
		if !ok || err != nil {
			return "", newAPIError("badcontinue", "Invalid continue param. You should pass the original value returned by the previous query.")
		}
		contID, contCat = n, cat
	}
	byID := make([]*queryPage, 0, len(pages))
	for _, qp := range pages {
		if qp.p != nil {
			byID = append(byID, qp)
		}
	}
	sort.Slice(byID, func(i, j int) bool { return byID[i].p.id < byID[j].p.id })
	n := 0
	for _, qp := range byID {
		if qp.p.id < contID {
			continue
		}
		var list []obj
		for _, cat := range pageCategories(qp.p.text) {
			if qp.p.id == contID && cat < contCat {
				continue
			}
			if n == lim {
				if len(list) > 0 {
					qp.extra = append(qp.extra, kv{"categories", list})
				}
				return strconv.Itoa(qp.p.id) + "|" + cat, nil
			}
			list = append(list, obj{{"ns", 14}, {"title", "Category:" + strings.ReplaceAll(cat, "_", " ")}})
			n++
		}
		if len(list) > 0 {
			qp.extra = append(qp.extra, kv{"categories", list})
		}
	}
	return "", nil
}

func init() {
	a := apiActions["query"]
	a.run = withFormattedWarnings(apiQueryWithPages)
	apiActions["query"] = a
}
