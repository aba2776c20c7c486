package main

import (
	"bytes"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
)

// Injected-script hook (-test-hooks only), on the app origin, for the injected-script suite
// (js/test/isolation.test.mjs). A browser-neutral stand-in for a driver's init scripts, which
// classic WebDriver lacks: it puts a hostile script into every HTML page of the app, before the
// page's own code, and keeps what that script reports across navigations.
//
//   - POST /__test/inject (body: a JavaScript source, at most maxInjectScript bytes) arms it: from
//     then on every HTML page of the app origin (the demo at /, /callback, …) is served with
//     <script src="/__test/inject.js"></script> as the first element of its <head>, so it runs
//     before any other script of the page, on every navigation. Conditional request headers are
//     dropped and the page is sent no-store, so that no cached page without the script is used.
//   - GET /__test/inject.js: that script (404 when not armed).
//   - POST /__test/inject/seen (body: {"page": "<id of one page load>", "lines": ["…", …]}): what
//     the script saw, appended to the record (the script sends it with a fetch it captured before
//     hooking anything, so that it does not record itself).
//   - GET /__test/inject/seen: {"armed", "lines", "pages": {id: lines received}, "truncated",
//     "rejected": reports that were not valid JSON or too large}: a test checks it lost nothing.
//   - POST /__test/inject/reset, and POST /__test/reset: disarm and empty the record.
//
// Nothing of this exists without -test-hooks (newDevServer mounts it only then), so `make demo`
// never injects anything.
const (
	maxInjectScript = 1 << 20
	maxInjectBatch  = 8 << 20
	maxInjectBytes  = 64 << 20 // the record; beyond it lines are dropped and "truncated" is set
	maxInjectPage   = 1 << 20  // an HTML page rewritten
	injectTag       = `<script src="/__test/inject.js"></script>`
)

type injector struct {
	mu        sync.Mutex
	script    []byte // nil: not armed
	lines     []string
	bytes     int
	pages     map[string]int
	truncated bool
	rejected  int // reports that could not be read
}

func newInjector() *injector {
	return &injector{pages: map[string]int{}}
}

func (in *injector) reset() {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.script, in.lines, in.bytes, in.pages, in.truncated, in.rejected = nil, nil, 0, map[string]int{}, false, 0
}

func (in *injector) armed() bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.script != nil
}

type injectSeenJSON struct {
	Armed     bool           `json:"armed"`
	Lines     []string       `json:"lines"`
	Pages     map[string]int `json:"pages"`
	Truncated bool           `json:"truncated"`
	Rejected  int            `json:"rejected"`
}

type injectBatch struct {
	Page  string   `json:"page"`
	Lines []string `json:"lines"`
}

func (in *injector) register(mux *http.ServeMux) {
	mux.Handle("/__test/inject", testHook("POST", func(w http.ResponseWriter, r *http.Request) {
		src, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxInjectScript))
		if err != nil || len(src) == 0 {
			http.Error(w, "want a JavaScript source of at most "+strconv.Itoa(maxInjectScript)+" bytes", http.StatusBadRequest)
			return
		}
		in.mu.Lock()
		in.script = src
		in.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	mux.Handle("/__test/inject.js", testHook("GET, HEAD", func(w http.ResponseWriter, r *http.Request) {
		in.mu.Lock()
		src := in.script
		in.mu.Unlock()
		if src == nil {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/javascript")
		_, _ = w.Write(src)
	}))
	mux.Handle("/__test/inject/seen", testHook("GET, HEAD, POST", func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			var b injectBatch
			if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxInjectBatch)).Decode(&b); err != nil {
				in.mu.Lock()
				in.rejected++
				in.mu.Unlock()
				http.Error(w, "want {page, lines}", http.StatusBadRequest)
				return
			}
			in.add(b)
			w.WriteHeader(http.StatusNoContent)
			return
		}
		in.mu.Lock()
		out := injectSeenJSON{Armed: in.script != nil, Lines: append([]string{}, in.lines...), Pages: maps.Clone(in.pages), Truncated: in.truncated, Rejected: in.rejected}
		in.mu.Unlock()
		writeJSON(w, http.StatusOK, out)
	}))
	mux.Handle("/__test/inject/reset", testHook("POST", func(w http.ResponseWriter, _ *http.Request) {
		in.reset()
		w.WriteHeader(http.StatusNoContent)
	}))
}

func (in *injector) add(b injectBatch) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.script == nil {
		return // a page of an earlier test, still reporting after the reset
	}
	for _, l := range b.Lines {
		if in.bytes+len(l) > maxInjectBytes {
			in.truncated = true
			return
		}
		in.bytes += len(l)
		in.lines = append(in.lines, l)
		in.pages[b.Page]++
	}
}

// middleware adds the script tag to the app's HTML pages while armed. Only GETs of paths that can
// be a page (no extension, or .html) outside /api/, /pkce/ and /__test/ are buffered and looked at.
func (in *injector) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || !maybePage(r.URL.Path) || !in.armed() {
			next.ServeHTTP(w, r)
			return
		}
		r = r.Clone(r.Context())
		for _, h := range []string{"If-Modified-Since", "If-None-Match", "If-Range", "Range"} {
			r.Header.Del(h)
		}
		buf := &bufferedResponse{header: http.Header{}, status: http.StatusOK}
		next.ServeHTTP(buf, r)
		body := buf.body.Bytes()
		if buf.status == http.StatusOK && strings.HasPrefix(buf.header.Get("Content-Type"), "text/html") && !buf.overflow {
			body = injectScriptTag(body)
			buf.header.Del("Content-Length")
			buf.header.Del("ETag")
			buf.header.Del("Last-Modified")
			buf.header.Set("Cache-Control", "no-store")
		}
		maps.Copy(w.Header(), buf.header)
		if buf.overflow {
			http.Error(w, "page too large to inject into", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(buf.status)
		_, _ = w.Write(body)
	})
}

func maybePage(p string) bool {
	for _, prefix := range []string{"/api/", "/pkce/", "/__test/"} {
		if strings.HasPrefix(p, prefix) {
			return false
		}
	}
	ext := strings.ToLower(path.Ext(p))
	return ext == "" || ext == ".html"
}

// injectScriptTag puts injectTag right after the opening <head …> tag (or at the start of the
// document when it has none; after a doctype).
func injectScriptTag(page []byte) []byte {
	lower := bytes.ToLower(page)
	at := -1
	for i := 0; ; {
		j := bytes.Index(lower[i:], []byte("<head"))
		if j < 0 {
			break
		}
		k := i + j + len("<head")
		if k < len(lower) && (lower[k] == '>' || lower[k] == ' ' || lower[k] == '\t' || lower[k] == '\n' || lower[k] == '\r') {
			if end := bytes.IndexByte(lower[k:], '>'); end >= 0 {
				at = k + end + 1
			}
			break
		}
		i = k
	}
	if at < 0 {
		at = 0
		if bytes.HasPrefix(bytes.TrimSpace(lower), []byte("<!doctype")) {
			if end := bytes.IndexByte(lower, '>'); end >= 0 {
				at = end + 1
			}
		}
	}
	out := make([]byte, 0, len(page)+len(injectTag))
	out = append(out, page[:at]...)
	out = append(out, injectTag...)
	return append(out, page[at:]...)
}

// bufferedResponse keeps a whole response (up to maxInjectPage bytes) for the middleware.
type bufferedResponse struct {
	header      http.Header
	status      int
	wroteHeader bool
	body        bytes.Buffer
	overflow    bool
}

func (b *bufferedResponse) Header() http.Header { return b.header }

func (b *bufferedResponse) WriteHeader(code int) {
	if !b.wroteHeader {
		b.status, b.wroteHeader = code, true
	}
}

func (b *bufferedResponse) Write(p []byte) (int, error) {
	b.wroteHeader = true
	if b.body.Len()+len(p) > maxInjectPage {
		b.overflow = true
		return len(p), nil
	}
	return b.body.Write(p)
}
