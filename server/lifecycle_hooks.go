package main

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"strconv"
	"sync"
)

// Test-hook endpoints for the token-lifecycle end-to-end tests (js/test/lifecycle.test.mjs),
// served on the app origin only with -test-hooks:
//
//   - /api/flaky?id=X&fail=N (any method but OPTIONS): a protected resource like /api/me, except
//     that the first N requests of id X are answered 401 with
//     `WWW-Authenticate: Bearer realm=…, error="invalid_token"` whatever their token, so that the
//     client's refresh-and-retry-once (RFC 6750 §3.1) can be observed. Later requests are verified
//     like /api/me: 200 {"sub","id","attempt"} or 401.
//   - /api/forbidden?id=X: verifies the token like /api/me, then answers 403 with
//     `WWW-Authenticate: Bearer realm=…, error="insufficient_scope", scope="admin"` (RFC 6750 §3.1):
//     a valid token without the right scope, which must not make the client refresh. (With a
//     DPoP-bound token the challenge is `DPoP realm=…, algs="ES256", error="insufficient_scope", …`.)
//   - GET /__test/flaky?id=X: what those endpoints received for id X, in order:
//     {"requests":[{"method","contentType","body","token"}]}, where token is the hex SHA-256 of the
//     Bearer token (never the token itself) or "" when there was none.
//
// State is in memory, bounded (maxHookIDs ids, maxHookRequests requests each, bodies cut at
// maxHookBody bytes); ids are chosen by the tests, so they do not collide.
const (
	maxHookIDs      = 1024
	maxHookRequests = 64
	maxHookBody     = 64 << 10
)

type hookRequest struct {
	Method      string `json:"method"`
	ContentType string `json:"contentType"`
	Body        string `json:"body"`
	Token       string `json:"token"` // hex SHA-256 of the access token (Bearer or DPoP); "" without one
}

type lifecycleHooks struct {
	api *protectedAPI

	mu   sync.Mutex
	seen map[string][]hookRequest
}

// registerLifecycleHooks mounts the endpoints above on the app mux (test hooks only).
func registerLifecycleHooks(mux *http.ServeMux, api *protectedAPI) {
	h := &lifecycleHooks{api: api, seen: map[string][]hookRequest{}}
	mux.HandleFunc("/api/flaky", h.flaky)
	mux.HandleFunc("/api/forbidden", h.forbidden)
	mux.HandleFunc("/__test/flaky", h.report)
}

// cors answers like /api/me for the app origin; it reports whether the request was a preflight
// (already answered).
func (h *lifecycleHooks) cors(w http.ResponseWriter, r *http.Request) bool {
	hd := w.Header()
	hd.Add("Vary", "Origin")
	if origin := r.Header.Get("Origin"); origin == h.api.appOrigin {
		hd.Set("Access-Control-Allow-Origin", origin)
		hd.Set("Access-Control-Expose-Headers", apiExposedHeaders)
	}
	if r.Method != http.MethodOptions {
		hd.Set("Cache-Control", "no-store")
		return false
	}
	if hd.Get("Access-Control-Allow-Origin") != "" {
		hd.Set("Access-Control-Allow-Methods", "GET, HEAD, POST, PUT, PATCH, DELETE")
		hd.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, DPoP")
		hd.Set("Access-Control-Max-Age", "600")
	}
	w.WriteHeader(http.StatusNoContent)
	return true
}

// record stores what request r carried under id and returns the request's 1-based number for id
// (0 when the id table is full).
func (h *lifecycleHooks) record(r *http.Request, id string) int {
	body, _ := io.ReadAll(io.LimitReader(r.Body, maxHookBody))
	rec := hookRequest{Method: r.Method, ContentType: r.Header.Get("Content-Type"), Body: string(body)}
	if _, tok, ok := accessToken(r); ok {
		sum := sha256.Sum256([]byte(tok))
		rec.Token = hex.EncodeToString(sum[:])
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	l, ok := h.seen[id]
	if !ok && len(h.seen) >= maxHookIDs {
		return 0
	}
	if len(l) < maxHookRequests {
		l = append(l, rec)
	}
	h.seen[id] = l
	return len(l)
}

// verify checks the access token exactly like /api/me (Bearer, or DPoP with a proof). It writes
// the 401 and returns "" when the token is missing or invalid; otherwise it returns the subject.
func (h *lifecycleHooks) verify(w http.ResponseWriter, r *http.Request) string {
	claims, ok := h.api.authenticate(w, r)
	if !ok {
		return ""
	}
	return claims.Subject
}

func (h *lifecycleHooks) flaky(w http.ResponseWriter, r *http.Request) {
	if h.cors(w, r) {
		return
	}
	q := r.URL.Query()
	id := q.Get("id")
	fail, err := strconv.Atoi(q.Get("fail"))
	if id == "" || err != nil || fail < 0 {
		http.Error(w, "want ?id=<string>&fail=<n>", http.StatusBadRequest)
		return
	}
	n := h.record(r, id)
	if n == 0 {
		http.Error(w, "too many ids", http.StatusTooManyRequests)
		return
	}
	if n <= fail {
		w.Header().Set("WWW-Authenticate", `Bearer realm="`+apiRealm+`", error="invalid_token", error_description="rejected by the flaky test endpoint"`)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token", "error_description": "rejected by the flaky test endpoint"})
		return
	}
	if sub := h.verify(w, r); sub != "" {
		writeJSON(w, http.StatusOK, map[string]any{"sub": sub, "id": id, "attempt": n})
	}
}

func (h *lifecycleHooks) forbidden(w http.ResponseWriter, r *http.Request) {
	if h.cors(w, r) {
		return
	}
	id := r.URL.Query().Get("id")
	if id == "" {
		http.Error(w, "want ?id=<string>", http.StatusBadRequest)
		return
	}
	if h.record(r, id) == 0 {
		http.Error(w, "too many ids", http.StatusTooManyRequests)
		return
	}
	if h.verify(w, r) == "" {
		return
	}
	scheme := `Bearer realm="` + apiRealm + `"`
	if s, _, _ := accessToken(r); s == schemeDPoP { // RFC 9449 §7.1: the challenge of the scheme used
		scheme = `DPoP realm="` + apiRealm + `", algs="` + dpopAlg + `"`
	}
	w.Header().Set("WWW-Authenticate", scheme+`, error="insufficient_scope", error_description="this resource needs the admin scope", scope="admin"`)
	writeJSON(w, http.StatusForbidden, map[string]string{"error": "insufficient_scope", "error_description": "this resource needs the admin scope"})
}

func (h *lifecycleHooks) report(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	id := r.URL.Query().Get("id")
	h.mu.Lock()
	l := append([]hookRequest{}, h.seen[id]...)
	h.mu.Unlock()
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{"requests": l})
}
