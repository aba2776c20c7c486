package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Issued-token log (-test-hooks only), on the issuer origin:
//
//   - GET /__test/issued: every token the OP has sent in a successful token endpoint response
//     since the last reset, in order: {"tokens":[{"kind":"access_token"|"refresh_token"|"id_token",
//     "value":"<the token>","at":"<RFC 3339 time>"}]}.
//   - POST /__test/issued/reset: empties the log (POST /__test/reset on the app origin does too).
//
// Both answer any origin (Access-Control-Allow-Origin: *), like the other hooks. The tokens are
// taken from the response bytes as they leave the server (after the misbehave and DPoP layers),
// so that end-to-end tests can check that no page script ever saw one of them.
const (
	maxIssuedTokens = 4096
	maxTokenBody    = 1 << 20
)

// tokenKinds are the members of a token response (RFC 6749 §5.1, OIDC Core §3.1.3.3) logged.
var tokenKinds = []string{"access_token", "refresh_token", "id_token"}

type issuedToken struct {
	Kind  string    `json:"kind"`
	Value string    `json:"value"`
	At    time.Time `json:"at"`
}

type issuedJSON struct {
	Tokens []issuedToken `json:"tokens"`
}

type issuedLog struct {
	tokenPath string
	now       func() time.Time

	mu     sync.Mutex
	tokens []issuedToken
}

func newIssuedLog(tokenPath string) *issuedLog {
	return &issuedLog{tokenPath: tokenPath, now: time.Now}
}

func (l *issuedLog) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.tokens = nil
}

func (l *issuedLog) snapshot() issuedJSON {
	l.mu.Lock()
	defer l.mu.Unlock()
	return issuedJSON{Tokens: append([]issuedToken{}, l.tokens...)}
}

// record logs the tokens of a token response body.
func (l *issuedLog) record(body []byte) {
	var doc map[string]json.RawMessage
	if json.Unmarshal(body, &doc) != nil {
		return
	}
	at := l.now().UTC()
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, kind := range tokenKinds {
		var v string
		if json.Unmarshal(doc[kind], &v) != nil || v == "" {
			continue
		}
		if len(l.tokens) >= maxIssuedTokens {
			l.tokens = l.tokens[1:]
		}
		l.tokens = append(l.tokens, issuedToken{Kind: kind, Value: v, At: at})
	}
}

// middleware copies the body of each 200 response to a POST on the token endpoint into the log.
func (l *issuedLog) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != l.tokenPath {
			next.ServeHTTP(w, r)
			return
		}
		tw := &teeWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(tw, r)
		if tw.status == http.StatusOK && !tw.overflow {
			l.record(tw.body.Bytes())
		}
	})
}

// handler serves GET /__test/issued and POST /__test/issued/reset.
func (l *issuedLog) handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/__test/issued", testHook("GET, HEAD", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, l.snapshot())
	}))
	mux.Handle("/__test/issued/reset", testHook("POST", func(w http.ResponseWriter, _ *http.Request) {
		l.reset()
		writeJSON(w, http.StatusOK, l.snapshot())
	}))
	return mux
}

// testHook serves a test hook any origin may call, for the given methods ("GET, HEAD" or "POST"):
// preflights and other methods are answered here, the rest by serve.
func testHook(methods string, serve http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if openCORS(w, r, methods) {
			return
		}
		if !strings.Contains(methods, r.Method) {
			w.Header().Set("Allow", methods)
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		serve(w, r)
	})
}

// openCORS sets the headers of a test hook any origin may call; it answers a preflight and
// reports whether it did.
func openCORS(w http.ResponseWriter, r *http.Request, methods string) bool {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Cache-Control", "no-store")
	if r.Method != http.MethodOptions {
		return false
	}
	h.Set("Access-Control-Allow-Methods", methods)
	if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
		h.Set("Access-Control-Allow-Headers", req)
	}
	h.Set("Access-Control-Max-Age", "600")
	w.WriteHeader(http.StatusNoContent)
	return true
}

// teeWriter passes a response through and keeps a copy of its status and (bounded) body.
type teeWriter struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
	body        bytes.Buffer
	overflow    bool
}

func (t *teeWriter) WriteHeader(code int) {
	if !t.wroteHeader {
		t.status, t.wroteHeader = code, true
	}
	t.ResponseWriter.WriteHeader(code)
}

func (t *teeWriter) Write(p []byte) (int, error) {
	t.wroteHeader = true
	if t.body.Len()+len(p) > maxTokenBody {
		t.overflow = true
	} else {
		t.body.Write(p)
	}
	return t.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (t *teeWriter) Unwrap() http.ResponseWriter { return t.ResponseWriter }

// alsoOnReset makes POST /__test/reset (served by reset) also run each of fns: it empties the
// issued-token log, ends all SSO sessions and turns DPoP nonce mode off on both origins, so that
// one end-to-end test does not leak into the next.
func alsoOnReset(reset http.Handler, fns ...func()) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			for _, f := range fns {
				f()
			}
		}
		reset.ServeHTTP(w, r)
	})
}
