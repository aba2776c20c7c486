package main

import (
	"net/http"
	"path"
	"path/filepath"
	"strings"
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

// registerStatic mounts <root>/demo at /, /callback → demo/index.html and <root>/js/dist at /pkce/.
// The patterns carry no method (a "GET /" pattern would conflict with the method-less /api/*
// routes in net/http's ServeMux); getOnly checks it instead.
func registerStatic(mux *http.ServeMux, root string) {
	demo := filepath.Join(root, "demo")
	mux.Handle("/", getOnly(staticFiles(demo)))
	mux.Handle("/callback", getOnly(spaIndex(filepath.Join(demo, "index.html"))))
	mux.Handle("/pkce/", getOnly(http.StripPrefix("/pkce", staticFiles(filepath.Join(root, "js", "dist")))))
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
