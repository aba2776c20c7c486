package main

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// requestLog records what reached the app origin's API (-test-hooks only), so that browser tests
// can assert what the client sent — the Authorization header included — from the server's side:
// the client runs in a worker, whose requests a page-level browser driver does not see, and
// classic WebDriver sees no network at all.
type requestLog struct {
	mu      sync.Mutex
	entries []requestEntry
}

// requestEntry is one request as GET /__test/requests reports it.
type requestEntry struct {
	Method        string `json:"method"`
	Path          string `json:"path"`
	Host          string `json:"host"`
	Authorization string `json:"authorization"`
	DPoP          string `json:"dpop"`
}

// maxLoggedRequests bounds the log; a test resets it (POST /__test/requests/reset) before use.
const maxLoggedRequests = 10_000

func (l *requestLog) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/") && r.Method != http.MethodOptions {
			l.mu.Lock()
			if len(l.entries) < maxLoggedRequests {
				l.entries = append(l.entries, requestEntry{
					Method: r.Method, Path: r.URL.Path, Host: r.Host,
					Authorization: r.Header.Get("Authorization"), DPoP: r.Header.Get("DPoP"),
				})
			}
			l.mu.Unlock()
		}
		next.ServeHTTP(w, r)
	})
}

func (l *requestLog) register(mux *http.ServeMux) {
	mux.HandleFunc("GET /__test/requests", func(w http.ResponseWriter, r *http.Request) {
		l.mu.Lock()
		out := slices.Clone(l.entries)
		l.mu.Unlock()
		if out == nil {
			out = []requestEntry{}
		}
		w.Header().Set("Cache-Control", "no-store")
		writeJSON(w, http.StatusOK, map[string]any{"requests": out})
	})
	mux.HandleFunc("POST /__test/requests/reset", func(w http.ResponseWriter, r *http.Request) {
		l.mu.Lock()
		l.entries = nil
		l.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("/api/upload", upload)
	mux.HandleFunc("GET /api/stream", stream)
}

// upload answers {bytes, sha256} of the request body (any method with a body), for the tests
// that send large bodies through auth.fetch.
func upload(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodOptions {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	h := sha256.New()
	n, err := io.Copy(h, http.MaxBytesReader(w, r.Body, 64<<20))
	if err != nil {
		http.Error(w, "body: "+err.Error(), http.StatusRequestEntityTooLarge)
		return
	}
	var ct string
	if v := r.Header.Get("Content-Type"); v != "" {
		ct = v
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{
		"bytes": n, "sha256": hex.EncodeToString(h.Sum(nil)), "contentType": ct,
		"authorization": r.Header.Get("Authorization") != "",
	})
}

// stream sends ?bytes=N bytes (default 10 MB) in 64 KiB chunks, pausing ?pauseMs=M before the
// last chunk, so a test can see the first bytes arrive before the last are sent.
// The body is a deterministic pattern: byte i is i*7 mod 251.
func stream(w http.ResponseWriter, r *http.Request) {
	total, _ := strconv.Atoi(r.URL.Query().Get("bytes"))
	if total <= 0 || total > 64<<20 {
		total = 10 << 20
	}
	pause, _ := strconv.Atoi(r.URL.Query().Get("pauseMs"))
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Length", strconv.Itoa(total))
	flusher, _ := w.(http.Flusher)
	buf := make([]byte, 64<<10)
	for sent := 0; sent < total; {
		n := min(len(buf), total-sent)
		if sent+n == total && pause > 0 {
			if flusher != nil {
				flusher.Flush()
			}
			time.Sleep(time.Duration(min(pause, 10_000)) * time.Millisecond)
		}
		for i := 0; i < n; i++ {
			buf[i] = byte((sent + i) * 7 % 251)
		}
		if _, err := w.Write(buf[:n]); err != nil {
			return
		}
		sent += n
	}
}
