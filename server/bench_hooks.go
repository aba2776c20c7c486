package main

import (
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Benchmark endpoints (`make bench`, js/bench/bench.mjs), served on the app origin only with
// -test-hooks:
//
//   - /bench/…          <root>/js/bench/pages: the benchmark pages (static, Cache-Control: no-cache);
//     /bench/callback   → callback.html, the redirect URI benchRedirectURI registered for the client;
//     /bench/hello/…    <root>/bin/bench/hello: a hello-world Go WASM and its wasm_exec.js;
//     /bench/vendor/…   <root>/bin/bench/vendor: oidc-client-ts's browser bundle (the peer).
//     The last two are prepared by bench.mjs, with name.br / name.gz variants beside them; those
//     are sent (Content-Encoding br/gzip) when the request accepts them, as the bundle at /pkce/ is.
//   - GET /api/blob?size=N[&pauseMs=M]: N bytes (at most maxBlobSize) of application/octet-stream,
//     byte i = i*7+i/251 mod 256, with Content-Length; with pauseMs the server stops for M ms (at
//     most 2 s) after the first MiB, so that a client that buffered the body could not see its
//     first chunk before that. Same-origin; no authentication (a Bearer token is ignored).
const (
	maxBlobSize  = 64 << 20
	maxBlobPause = 2 * time.Second
	blobChunk    = 64 << 10
)

// benchRedirectURI is the extra redirect URI of the client for the benchmark pages (test hooks).
func (c Config) benchRedirectURI() string { return c.AppOrigin + "/bench/callback" }

// registerBenchHooks mounts the endpoints above on the app mux.
func registerBenchHooks(mux *http.ServeMux, c Config) {
	pages := filepath.Join(c.Root, "js", "bench", "pages")
	out := filepath.Join(c.Root, "bin", "bench")
	mux.Handle("/bench/", getOnly(http.StripPrefix("/bench", staticFiles(pages))))
	mux.Handle("/bench/callback", getOnly(spaIndex(filepath.Join(pages, "callback.html"))))
	mux.Handle("/bench/hello/", getOnly(http.StripPrefix("/bench/hello", precompressed(filepath.Join(out, "hello")))))
	mux.Handle("/bench/vendor/", getOnly(http.StripPrefix("/bench/vendor", precompressed(filepath.Join(out, "vendor")))))
	mux.Handle("/api/blob", getOnly(http.HandlerFunc(blob)))
}

// precompressed serves the regular files of dir, preferring a fresh name.br, then name.gz, when
// Accept-Encoding lists that coding; revalidation through Last-Modified (http.ServeContent).
func precompressed(dir string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := path.Clean("/" + r.URL.Path)
		orig, err := os.Stat(filepath.Join(dir, filepath.FromSlash(name)))
		if err != nil || !orig.Mode().IsRegular() {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		h.Set("Cache-Control", "no-cache")
		h.Set("Vary", "Accept-Encoding")
		if ct, ok := contentTypes[strings.ToLower(path.Ext(name))]; ok {
			h.Set("Content-Type", ct)
		}
		accept := strings.ToLower(strings.Join(r.Header.Values("Accept-Encoding"), ","))
		file := name
		for _, enc := range []struct{ coding, suffix string }{{"br", ".br"}, {"gzip", ".gz"}} {
			v, err := os.Stat(filepath.Join(dir, filepath.FromSlash(name+enc.suffix)))
			if err == nil && v.Mode().IsRegular() && !v.ModTime().Before(orig.ModTime()) && acceptsCoding(accept, enc.coding) {
				h.Set("Content-Encoding", enc.coding)
				file = name + enc.suffix
				break
			}
		}
		f, err := os.Open(filepath.Join(dir, filepath.FromSlash(file)))
		if err != nil {
			http.NotFound(w, r)
			return
		}
		defer f.Close()
		http.ServeContent(w, r, name, orig.ModTime(), f)
	})
}

// acceptsCoding: coding is listed in the (lower-cased) Accept-Encoding value with a qvalue above 0.
func acceptsCoding(accept, coding string) bool {
	for _, m := range strings.Split(accept, ",") {
		params := strings.Split(m, ";")
		if strings.TrimSpace(params[0]) != coding {
			continue
		}
		for _, p := range params[1:] {
			if k, v, _ := strings.Cut(strings.TrimSpace(p), "="); k == "q" {
				q, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
				return err == nil && q > 0
			}
		}
		return true
	}
	return false
}

// blob serves GET /api/blob (see above).
func blob(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	size, err := strconv.Atoi(q.Get("size"))
	if err != nil || size < 0 || size > maxBlobSize {
		http.Error(w, "want ?size=<bytes, at most 64 MiB>[&pauseMs=<ms>]", http.StatusBadRequest)
		return
	}
	var pause time.Duration
	if s := q.Get("pauseMs"); s != "" {
		ms, err := strconv.Atoi(s)
		if err != nil || ms < 0 || time.Duration(ms)*time.Millisecond > maxBlobPause {
			http.Error(w, "pauseMs: 0-2000", http.StatusBadRequest)
			return
		}
		pause = time.Duration(ms) * time.Millisecond
	}
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Length", strconv.Itoa(size))
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	buf := make([]byte, blobChunk)
	paused := pause == 0
	for off := 0; off < size; {
		n := min(blobChunk, size-off)
		for i := range n {
			j := off + i
			buf[i] = byte(j*7 + j/251)
		}
		if _, err := w.Write(buf[:n]); err != nil {
			return
		}
		off += n
		if !paused && off >= 1<<20 {
			paused = true
			_ = http.NewResponseController(w).Flush()
			select {
			case <-time.After(pause):
			case <-r.Context().Done():
				return
			}
		}
	}
	_, _ = io.Copy(io.Discard, r.Body)
}
