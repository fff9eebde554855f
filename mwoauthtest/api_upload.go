package mwoauthtest

import (
	"crypto/sha1"
	"encoding/hex"
	"io"
	"strconv"
	"strings"
)

// action=upload (ApiUpload): a file sent whole (multipart "file"), in
// chunks to the upload stash (stash=1, filesize, offset, "chunk", filekey),
// or committed from the stash by filekey; warnings (exists, duplicate)
// stash the file and answer result "Warning" with its filekey, unless
// ignorewarnings is set. Multipart fields are not part of the OAuth 1
// signature (only form-urlencoded bodies are), as in MediaWiki.

type stashedFile struct {
	data     []byte
	filename string
	size     int64 // declared filesize for chunked uploads
	user     string
	complete bool
}

type uploadedFile struct {
	data    []byte
	sha1    string
	user    string
	comment string
}

// fileKeyName is a file's key: "File:" and namespace variants removed,
// database form.
func fileKeyName(name string) string {
	t := strings.TrimSpace(strings.ReplaceAll(name, "_", " "))
	if i := strings.IndexByte(t, ':'); i >= 0 {
		switch strings.ToLower(strings.TrimSpace(t[:i])) {
		case "file", "image":
			t = t[i+1:]
		}
	}
	return dbKey(t)
}

// uploadPart reads a multipart file field, nil when absent.
func uploadPart(c *apiCall, field string) ([]byte, bool, *apiError) {
	mf := c.r.MultipartForm
	if mf == nil || len(mf.File[field]) == 0 {
		return nil, false, nil
	}
	fh := mf.File[field][0]
	f, err := fh.Open()
	if err != nil {
		return nil, false, newAPIError("uploaddisabled", "Could not read the upload.")
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxBody+1))
	if err != nil || len(b) > maxBody {
		return nil, false, newAPIError("file-too-large", "The file you submitted was too large.")
	}
	return b, true, nil
}

func sha1Hex(b []byte) string {
	h := sha1.Sum(b)
	return hex.EncodeToString(h[:])
}

func (c *apiCall) newFileKey(e *apiExt, filename string) string {
	e.nextStash++
	ext := ""
	if i := strings.LastIndexByte(filename, '.'); i >= 0 {
		ext = strings.ToLower(filename[i:])
	}
	return randHex(12) + "." + strconv.Itoa(e.nextStash) + ext
}

func (c *apiCall) imageinfo(name string, data []byte, comment string) obj {
	user := ""
	if c.user != nil {
		user = c.user.Name
	}
	return obj{
		{"timestamp", c.s.now().UTC().Format("2006-01-02T15:04:05Z")},
		{"user", user},
		{"size", len(data)},
		{"comment", comment},
		{"canonicaltitle", "File:" + strings.ReplaceAll(name, "_", " ")},
		{"url", c.s.canonicalServer() + "/images/" + name},
		{"descriptionurl", c.s.canonicalServer() + "/wiki/File:" + name},
		{"sha1", sha1Hex(data)},
		{"mime", "application/octet-stream"},
	}
}

func apiUpload(c *apiCall) (obj, *apiError) {
	if !c.has("upload") {
		return nil, newAPIError("permissiondenied", "You do not have permission to upload files.")
	}
	e := c.s.ext()
	user := ""
	if c.user != nil {
		user = c.user.Name
	}
	p := c.params
	filename := fileKeyName(p.Get("filename"))
	filekey := p.Get("filekey")
	if filekey == "" {
		filekey = p.Get("sessionkey")
	}
	file, hasFile, ae := uploadPart(c, "file")
	if ae != nil {
		return nil, ae
	}
	chunk, hasChunk, ae := uploadPart(c, "chunk")
	if ae != nil {
		return nil, ae
	}
	_, ignore := p["ignorewarnings"]
	if p.Get("ignorewarnings") == "0" || p.Get("ignorewarnings") == "false" {
		ignore = false
	}

	if hasChunk {
		if filename == "" {
			return nil, newAPIError("missingparam", `The "filename" parameter must be set.`)
		}
		size, err1 := strconv.ParseInt(p.Get("filesize"), 10, 64)
		offset, err2 := strconv.ParseInt(p.Get("offset"), 10, 64)
		if err1 != nil || err2 != nil || size <= 0 || size > 1<<30 || offset < 0 {
			return nil, newAPIError("missingparam", `The "filesize" and "offset" parameters must be set for a chunked upload.`)
		}
		var st *stashedFile
		if offset == 0 {
			filekey = c.newFileKey(e, filename)
			st = &stashedFile{filename: filename, size: size, user: user}
			e.stash[filekey] = st
		} else {
			if filekey == "" {
				return nil, newAPIError("filekeyneeded", "Must supply a filekey when offset is non-zero.")
			}
			st = e.stash[filekey]
			if st == nil || st.user != user {
				return nil, newAPIError("stashnosuchfilekey", "No such filekey: "+filekey+".")
			}
		}
		if int64(len(st.data)) != offset {
			return nil, &apiError{code: "badupload", info: "Invalid chunk offset.", data: obj{{"offset", len(st.data)}}}
		}
		if offset+int64(len(chunk)) > st.size {
			return nil, newAPIError("chunk-too-big", "The chunk exceeds the declared file size.")
		}
		st.data = append(st.data, chunk...)
		if int64(len(st.data)) < st.size {
			return obj{{"upload", obj{{"result", "Continue"}, {"offset", len(st.data)}, {"filekey", filekey}}}}, nil
		}
		st.complete = true
		return obj{{"upload", obj{{"result", "Success"}, {"filekey", filekey}, {"imageinfo", c.imageinfo(filename, st.data, "")}}}}, nil
	}

	var data []byte
	switch {
	case filekey != "":
		st := e.stash[filekey]
		if st == nil || st.user != user || !st.complete {
			return nil, newAPIError("stashnosuchfilekey", "No such filekey: "+filekey+".")
		}
		data = st.data
		if filename == "" {
			filename = st.filename
		}
	case hasFile:
		data = file
	default:
		return nil, newAPIError("missingparam", `One of the parameters "filekey", "file" and "url" is required.`)
	}
	if filename == "" {
		return nil, newAPIError("missingparam", `The "filename" parameter must be set.`)
	}
	if _, ok := p["stash"]; ok && hasFile {
		key := c.newFileKey(e, filename)
		e.stash[key] = &stashedFile{data: data, filename: filename, size: int64(len(data)), user: user, complete: true}
		return obj{{"upload", obj{{"result", "Success"}, {"filekey", key}, {"imageinfo", c.imageinfo(filename, data, "")}}}}, nil
	}
	if !ignore {
		var warnings obj
		if old := e.files[filename]; old != nil {
			warnings = append(warnings, kv{"exists", filename})
			if old.sha1 == sha1Hex(data) {
				warnings = append(warnings, kv{"nochange", obj{{"timestamp", c.s.now().UTC().Format("2006-01-02T15:04:05Z")}}})
			}
		}
		var dups []string
		for name, f := range e.files {
			if name != filename && f.sha1 == sha1Hex(data) {
				dups = append(dups, name)
			}
		}
		if len(dups) > 0 {
			warnings = append(warnings, kv{"duplicate", dups})
		}
		if len(warnings) > 0 {
			key := filekey
			if key == "" {
				key = c.newFileKey(e, filename)
				e.stash[key] = &stashedFile{data: data, filename: filename, size: int64(len(data)), user: user, complete: true}
			}
			return obj{{"upload", obj{{"result", "Warning"}, {"warnings", warnings}, {"filekey", key}, {"sessionkey", key}}}}, nil
		}
	}
	comment := p.Get("comment")
	e.files[filename] = &uploadedFile{data: data, sha1: sha1Hex(data), user: user, comment: comment}
	if filekey != "" {
		delete(e.stash, filekey)
	}
	return obj{{"upload", obj{{"result", "Success"}, {"filename", filename}, {"imageinfo", c.imageinfo(filename, data, comment)}}}}, nil
}

func init() {
	apiActions["upload"] = apiAction{run: withFormattedWarnings(apiUpload), mustPost: true, needsToken: true, read: true, write: true}
}
