package main

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"mime"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// contentTypes pins the media types the browser is strict about: module scripts need a
// JavaScript MIME type (HTML standard, module scripts) and WebAssembly.instantiateStreaming needs
// application/wasm. The system mime tables are not trusted for these.
var contentTypes = map[string]string{
	".wasm": "application/wasm",
	".js":   "text/javascript",
	".mjs":  "text/javascript",
	".map":  "application/json",
	".json": "application/json",
	".css":  "text/css; charset=utf-8",
	".html": "text/html; charset=utf-8",
	".ts":   "text/plain; charset=utf-8", // pkce-wasm.d.ts (not MPEG transport stream)
}

// staticFiles serves dir with pinned content types and "Cache-Control: no-cache" (revalidate
// every time: the bundle is rebuilt while the server runs).
func staticFiles(dir string) http.Handler {
	files := http.FileServer(http.Dir(dir))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		if ct, ok := contentTypes[strings.ToLower(path.Ext(r.URL.Path))]; ok {
			w.Header().Set("Content-Type", ct)
		}
		files.ServeHTTP(w, r)
	})
}

// spaIndex serves one file (demo/index.html) for an SPA route such as /callback.
func spaIndex(file string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		http.ServeFile(w, r, file)
	})
}

// registerStatic mounts <root>/demo at /, /callback → demo/index.html and <root>/js/dist at /pkce/
// (with precompressed variants and ETags, see assetFiles).
// The patterns carry no method (a "GET /" pattern would conflict with the method-less /api/*
// routes in net/http's ServeMux); getOnly checks it instead.
func registerStatic(mux *http.ServeMux, root string) {
	demo := filepath.Join(root, "demo")
	mux.Handle("/", getOnly(staticFiles(demo)))
	mux.Handle("/callback", getOnly(spaIndex(filepath.Join(demo, "index.html"))))
	mux.Handle("/go/callback", getOnly(spaIndex(filepath.Join(demo, "go", "index.html")))) // Go-WASM demo (godemo.go)
	mux.Handle("/pkce/", getOnly(http.StripPrefix("/pkce", newAssetFiles(filepath.Join(root, "js", "dist")))))
}

func getOnly(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// assetFiles serves the bundle (<root>/js/dist at /pkce/). For a regular file it picks the
// precompressed variant that `make bundle` wrote beside it (name.br from brotli -q 11, name.gz from
// gzip -9) when the request's Accept-Encoding allows it (RFC 9110 §12.5.3), and answers with:
//   - Content-Type of the original name (application/wasm, text/javascript, …), never of .br/.gz;
//   - Content-Encoding: br | gzip for a variant; Vary: Accept-Encoding always;
//   - a strong ETag, the SHA-256 of the bytes sent (each variant has its own), and 304 for a
//     matching If-None-Match (http.ServeContent);
//   - Cache-Control: no-cache. The names are fixed (pkce-wasm.js imports ./wasm_exec.js and loads
//     ./pkce.wasm by name) and the bundle is rebuilt while the server runs, so a long-lived
//     "immutable" would pin stale code; revalidation costs a body-less 304. Content-hashed names
//     are what an app's bundler (Vite, webpack) emits; immutable caching belongs there.
//
// A variant older than its original (the bundle was rebuilt, the variants not yet) is ignored.
// The variants themselves are not served under their own names (404). Directories and missing
// files go to staticFiles.
type assetFiles struct {
	dir      string
	fallback http.Handler

	mu    sync.Mutex
	etags map[string]etagEntry // by file path
}

type etagEntry struct {
	size    int64
	modTime time.Time
	etag    string
}

// encodings are the precompressed variants, in server preference order (smallest first).
var encodings = []struct{ coding, suffix string }{{"br", ".br"}, {"gzip", ".gz"}}

func newAssetFiles(dir string) *assetFiles {
	return &assetFiles{dir: dir, fallback: staticFiles(dir), etags: map[string]etagEntry{}}
}

func (a *assetFiles) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := path.Clean("/" + r.URL.Path)
	if ext := strings.ToLower(path.Ext(name)); ext == ".br" || ext == ".gz" {
		http.NotFound(w, r)
		return
	}
	orig, origInfo, err := a.open(name)
	if err != nil || !origInfo.Mode().IsRegular() {
		if orig != nil {
			orig.Close()
		}
		a.fallback.ServeHTTP(w, r)
		return
	}
	defer orig.Close()

	h := w.Header()
	h.Set("Vary", "Accept-Encoding")
	h.Set("Cache-Control", "no-cache")
	h.Set("Content-Type", contentTypeOf(name))

	// The highest qvalue wins; on a tie br beats gzip beats identity.
	accept := parseAcceptEncoding(r.Header.Values("Accept-Encoding"))
	f, info, coding, suffix := orig, origInfo, "", ""
	best := accept.quality("identity")
	for _, enc := range encodings {
		q := accept.quality(enc.coding)
		if q <= 0 || q < best || (q == best && coding != "") {
			continue
		}
		vf, vinfo, err := a.open(name + enc.suffix)
		if err != nil {
			continue
		}
		if !vinfo.Mode().IsRegular() || vinfo.ModTime().Before(origInfo.ModTime()) {
			vf.Close() // stale: the original was rebuilt after the variant was written
			continue
		}
		if f != orig {
			f.Close()
		}
		f, info, coding, suffix, best = vf, vinfo, enc.coding, enc.suffix, q
	}
	if f != orig {
		defer f.Close()
	}
	if best <= 0 {
		// identity;q=0 (or *;q=0) and no acceptable variant (RFC 9110 §12.5.3).
		h.Del("Content-Type")
		http.Error(w, "406 not acceptable: no acceptable content coding", http.StatusNotAcceptable)
		return
	}
	if coding != "" {
		h.Set("Content-Encoding", coding)
	}
	etag, err := a.etag(name+suffix, f, info)
	if err != nil {
		http.Error(w, "500 internal server error", http.StatusInternalServerError)
		return
	}
	h.Set("ETag", etag)
	http.ServeContent(w, r, name, info.ModTime(), f)
}

func (a *assetFiles) open(name string) (http.File, os.FileInfo, error) {
	f, err := http.Dir(a.dir).Open(name)
	if err != nil {
		return nil, nil, err
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, info, nil
}

// etag is the strong validator of the open file f: a quoted hex SHA-256 prefix of its content,
// cached while size and modification time stay the same. f is left at offset 0.
func (a *assetFiles) etag(key string, f http.File, info os.FileInfo) (string, error) {
	a.mu.Lock()
	e, ok := a.etags[key]
	a.mu.Unlock()
	if ok && e.size == info.Size() && e.modTime.Equal(info.ModTime()) {
		return e.etag, nil
	}
	sum := sha256.New()
	if _, err := io.Copy(sum, f); err != nil {
		return "", err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", err
	}
	etag := `"` + hex.EncodeToString(sum.Sum(nil)[:16]) + `"`
	a.mu.Lock()
	a.etags[key] = etagEntry{size: info.Size(), modTime: info.ModTime(), etag: etag}
	a.mu.Unlock()
	return etag, nil
}

// contentTypeOf is the media type of a file name: pinned (contentTypes), else the system table,
// else application/octet-stream. Never sniffed: the bytes sent may be compressed.
func contentTypeOf(name string) string {
	ext := strings.ToLower(path.Ext(name))
	if ct, ok := contentTypes[ext]; ok {
		return ct
	}
	if ct := mime.TypeByExtension(ext); ct != "" {
		return ct
	}
	return "application/octet-stream"
}

// acceptEncoding is a parsed Accept-Encoding header (RFC 9110 §12.5.3): coding → qvalue.
type acceptEncoding struct {
	present bool               // the header was sent (possibly empty)
	q       map[string]float64 // lower-case codings; "x-gzip" counted as "gzip" (§8.4.1.3)
}

func parseAcceptEncoding(values []string) acceptEncoding {
	a := acceptEncoding{present: len(values) > 0, q: map[string]float64{}}
	for _, v := range values {
		for _, member := range strings.Split(v, ",") {
			params := strings.Split(member, ";")
			coding := strings.ToLower(strings.TrimSpace(params[0]))
			if coding == "" {
				continue
			}
			if coding == "x-gzip" {
				coding = "gzip"
			}
			q, ok := 1.0, true
			for _, p := range params[1:] {
				k, val, _ := strings.Cut(strings.TrimSpace(p), "=")
				if strings.EqualFold(strings.TrimSpace(k), "q") {
					q, ok = parseQValue(strings.TrimSpace(val))
				}
			}
			if !ok {
				continue // malformed qvalue: ignore the member
			}
			if old, dup := a.q[coding]; !dup || q > old {
				a.q[coding] = q
			}
		}
	}
	return a
}

// parseQValue accepts RFC 9110 §12.4.2 qvalues: 0, 0.5, 1, 1.000 (at most three decimals).
func parseQValue(s string) (float64, bool) {
	if s == "" || len(s) > 5 || (s[0] != '0' && s[0] != '1') {
		return 0, false
	}
	q, err := strconv.ParseFloat(s, 64)
	if err != nil || q < 0 || q > 1 {
		return 0, false
	}
	return q, true
}

// quality of a coding: its own entry, else "*", else 0, except identity, which stays acceptable
// (at a lowest non-zero preference, so that any listed coding wins) unless excluded explicitly.
// Without the header the client stated nothing: only identity is sent.
func (a acceptEncoding) quality(coding string) float64 {
	if !a.present {
		if coding == "identity" {
			return 1
		}
		return 0
	}
	if q, ok := a.q[coding]; ok {
		return q
	}
	if q, ok := a.q["*"]; ok {
		return q
	}
	if coding == "identity" {
		return 0.001
	}
	return 0
}
