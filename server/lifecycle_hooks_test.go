package main

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"
)

func hookFingerprint(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(sum[:])
}

func (e *testEnv) hookReport(t *testing.T, id string) []hookRequest {
	t.Helper()
	res := e.get(t, e.cfg.AppOrigin+"/__test/flaky?id="+id, nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("/__test/flaky: status %d", res.StatusCode)
	}
	var got struct {
		Requests []hookRequest `json:"requests"`
	}
	decodeJSON(t, res, &got)
	return got.Requests
}

func (e *testEnv) hookSend(t *testing.T, method, path, token, contentType, body string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, e.cfg.AppOrigin+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return e.do(t, req)
}

func TestFlakyEndpoint(t *testing.T) {
	e := startServer(t, nil)
	tok := e.login(t)

	// The first two requests of id "a" are rejected with invalid_token whatever the token.
	for i := 1; i <= 2; i++ {
		res := e.hookSend(t, http.MethodPost, "/api/flaky?id=a&fail=2", tok.AccessToken, "application/json", `{"n":1}`)
		assertInvalidToken(t, res, "flaky")
	}
	res := e.hookSend(t, http.MethodPost, "/api/flaky?id=a&fail=2", tok.AccessToken, "application/json", `{"n":1}`)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("third request: status %d: %s", res.StatusCode, readBody(t, res))
	}
	var ok struct {
		Sub     string `json:"sub"`
		ID      string `json:"id"`
		Attempt int    `json:"attempt"`
	}
	decodeJSON(t, res, &ok)
	if ok.Sub == "" || ok.ID != "a" || ok.Attempt != 3 {
		t.Errorf("body %+v", ok)
	}

	// After the forced failures the token is really verified.
	assertInvalidToken(t, e.hookSend(t, http.MethodGet, "/api/flaky?id=a&fail=2", "garbage", "", ""), "")
	if res := e.hookSend(t, http.MethodGet, "/api/flaky?id=a&fail=2", "", "", ""); res.StatusCode != http.StatusUnauthorized ||
		res.Header.Get("WWW-Authenticate") != wantNoToken {
		t.Errorf("no token: status %d, WWW-Authenticate %q", res.StatusCode, res.Header.Get("WWW-Authenticate"))
	}

	got := e.hookReport(t, "a")
	if len(got) != 5 {
		t.Fatalf("recorded %d requests, want 5: %+v", len(got), got)
	}
	fp := hookFingerprint(tok.AccessToken)
	for i, r := range got[:3] {
		if r.Method != http.MethodPost || r.Body != `{"n":1}` || r.ContentType != "application/json" || r.Token != fp {
			t.Errorf("request %d recorded as %+v", i, r)
		}
	}
	if got[3].Token != hookFingerprint("garbage") || got[4].Token != "" || got[4].Method != http.MethodGet {
		t.Errorf("requests 3, 4 recorded as %+v", got[3:])
	}
	for _, r := range got {
		if strings.Contains(r.Token, tok.AccessToken) {
			t.Fatal("the report contains the token itself")
		}
	}
	if other := e.hookReport(t, "b"); len(other) != 0 {
		t.Errorf("unknown id: %+v", other)
	}

	// fail=0: a plain protected endpoint.
	if res := e.hookSend(t, http.MethodGet, "/api/flaky?id=c&fail=0", tok.AccessToken, "", ""); res.StatusCode != http.StatusOK {
		t.Errorf("fail=0: status %d", res.StatusCode)
	}
	for _, q := range []string{"", "?id=x", "?fail=1", "?id=x&fail=-1", "?id=x&fail=z"} {
		if res := e.hookSend(t, http.MethodGet, "/api/flaky"+q, tok.AccessToken, "", ""); res.StatusCode != http.StatusBadRequest {
			t.Errorf("%q: status %d, want 400", q, res.StatusCode)
		}
	}
}

func TestForbiddenEndpoint(t *testing.T) {
	e := startServer(t, nil)
	tok := e.login(t)
	res := e.hookSend(t, http.MethodGet, "/api/forbidden?id=f", tok.AccessToken, "", "")
	if res.StatusCode != http.StatusForbidden {
		t.Fatalf("status %d, want 403", res.StatusCode)
	}
	if h := res.Header.Get("WWW-Authenticate"); !strings.HasPrefix(h, `Bearer realm="pkce-wasm-demo", error="insufficient_scope"`) {
		t.Errorf("WWW-Authenticate %q", h)
	}
	assertInvalidToken(t, e.hookSend(t, http.MethodGet, "/api/forbidden?id=f", "garbage", "", ""), "")
	if got := e.hookReport(t, "f"); len(got) != 2 || got[0].Token != hookFingerprint(tok.AccessToken) {
		t.Errorf("recorded %+v", got)
	}
}

func TestLifecycleHooksCORSAndOff(t *testing.T) {
	e := startServer(t, nil)
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodOptions, e.cfg.AppOrigin+"/api/flaky?id=p&fail=1", nil)
	req.Header.Set("Origin", e.cfg.AppOrigin)
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "authorization, content-type")
	res := e.do(t, req)
	if res.StatusCode != http.StatusNoContent || res.Header.Get("Access-Control-Allow-Origin") != e.cfg.AppOrigin ||
		!strings.Contains(res.Header.Get("Access-Control-Allow-Headers"), "Authorization") {
		t.Errorf("preflight: status %d, headers %v", res.StatusCode, res.Header)
	}
	if got := e.hookReport(t, "p"); len(got) != 0 {
		t.Errorf("a preflight was recorded: %+v", got)
	}

	off := startServer(t, func(c *Config) { c.TestHooks = false })
	for _, p := range []string{"/api/flaky?id=a&fail=1", "/api/forbidden?id=a", "/__test/flaky?id=a"} {
		if res := off.get(t, off.cfg.AppOrigin+p, nil); res.StatusCode != http.StatusNotFound {
			t.Errorf("without test hooks %s: status %d, want 404", p, res.StatusCode)
		}
	}
}
