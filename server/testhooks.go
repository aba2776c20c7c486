package main

import (
	"bytes"
	"io"
	"maps"
	"net/http"
	"net/url"
	"sync"
)

// maxGrantPeek bounds how much of a token request body is read to find its grant_type.
const maxGrantPeek = 64 << 10

// opStats counts the requests that reach the OP listener (-test-hooks), so that end-to-end tests
// can assert what the browser sent to the OP, e.g. "no second authorization_code grant".
// CORS preflights (OPTIONS) are not counted: they are the browser's, not the client's.
type opStats struct {
	tokenPath string

	mu       sync.Mutex
	requests map[string]int // by URL path
	grants   map[string]int // token endpoint requests by grant_type (RFC 6749 §4.1.3, §6)
}

func newOPStats(tokenPath string) *opStats {
	s := &opStats{tokenPath: tokenPath}
	s.reset()
	return s
}

// statsJSON is the body of GET /__test/stats.
type statsJSON struct {
	Requests map[string]int `json:"requests"`
	Grants   map[string]int `json:"grants"`
}

func (s *opStats) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = map[string]int{}
	s.grants = map[string]int{"authorization_code": 0, "refresh_token": 0}
}

func (s *opStats) snapshot() statsJSON {
	s.mu.Lock()
	defer s.mu.Unlock()
	return statsJSON{Requests: maps.Clone(s.requests), Grants: maps.Clone(s.grants)}
}

// middleware counts each request before passing it on. For POSTs to the token endpoint it reads
// grant_type from the form body and puts the body back, unconsumed, for the OP.
func (s *opStats) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodOptions {
			next.ServeHTTP(w, r)
			return
		}
		grant := ""
		if r.Method == http.MethodPost && r.URL.Path == s.tokenPath {
			grant = peekGrantType(r)
		}
		s.mu.Lock()
		s.requests[r.URL.Path]++
		if grant != "" {
			s.grants[grant]++
		}
		s.mu.Unlock()
		next.ServeHTTP(w, r)
	})
}

// peekGrantType returns the grant_type of a form-encoded request and restores r.Body so that
// the handler reads exactly the bytes the client sent.
func peekGrantType(r *http.Request) string {
	if r.Body == nil {
		return r.URL.Query().Get("grant_type")
	}
	head, err := io.ReadAll(io.LimitReader(r.Body, maxGrantPeek))
	orig := r.Body
	r.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(head), orig), orig}
	if err != nil {
		return ""
	}
	vals, err := url.ParseQuery(string(head))
	if err != nil || vals.Get("grant_type") == "" {
		return r.URL.Query().Get("grant_type")
	}
	return vals.Get("grant_type")
}

// handler serves GET /__test/stats and POST /__test/reset (which answers the zeroed stats).
func (s *opStats) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/__test/stats", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Access-Control-Allow-Origin", "*")
		writeJSON(w, http.StatusOK, s.snapshot())
	})
	mux.HandleFunc("/__test/reset", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", "POST")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		s.reset()
		w.Header().Set("Cache-Control", "no-store")
		writeJSON(w, http.StatusOK, s.snapshot())
	})
	return mux
}
