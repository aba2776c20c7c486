package main

import (
	"net/http"
	"strings"
	"testing"
)

func TestStatic(t *testing.T) {
	e := startServer(t, nil)
	for _, tc := range []struct {
		path, contentType, body string
	}{
		{"/", "text/html; charset=utf-8", "demo index"},
		{"/callback", "text/html; charset=utf-8", "demo index"},
		{"/callback?code=abc&state=xyz", "text/html; charset=utf-8", "demo index"},
		{"/app.js", "text/javascript", "console.log"},
		{"/style.css", "text/css; charset=utf-8", "body{}"},
		{"/pkce/pkce-wasm.js", "text/javascript", "export const x"},
		{"/pkce/pkce-wasm.mjs", "text/javascript", "export const y"},
		{"/pkce/pkce.wasm", "application/wasm", "\x00asm"},
		{"/pkce/pkce-wasm.d.ts", "text/plain; charset=utf-8", "export {}"},
	} {
		res := e.get(t, e.cfg.AppOrigin+tc.path, nil)
		body := readBody(t, res)
		if res.StatusCode != http.StatusOK {
			t.Errorf("%s: status %d", tc.path, res.StatusCode)
			continue
		}
		if got := res.Header.Get("Content-Type"); got != tc.contentType {
			t.Errorf("%s: Content-Type %q, want %q", tc.path, got, tc.contentType)
		}
		if got := res.Header.Get("Cache-Control"); got != "no-cache" {
			t.Errorf("%s: Cache-Control %q", tc.path, got)
		}
		if !strings.Contains(body, tc.body) {
			t.Errorf("%s: body %q", tc.path, body)
		}
	}
	for _, p := range []string{"/nope.js", "/pkce/nope.wasm", "/pkce/../go.mod"} {
		if res := e.get(t, e.cfg.AppOrigin+p, nil); res.StatusCode == http.StatusOK {
			t.Errorf("%s: status 200", p)
		}
	}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, e.cfg.AppOrigin+"/", nil)
	if res := e.do(t, req); res.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /: status %d", res.StatusCode)
	}
}

func TestTestHooksOff(t *testing.T) {
	e := startServer(t, func(c *Config) { c.TestHooks = false })
	if res := e.get(t, e.cfg.AppOrigin+"/__test/stats", nil); res.StatusCode != http.StatusNotFound {
		t.Errorf("/__test/stats without -test-hooks: status %d, want 404", res.StatusCode)
	}
	// The flow still works without the counting middleware.
	if res := e.callAPI(t, e.login(t).AccessToken); res.StatusCode != http.StatusOK {
		t.Errorf("/api/me: status %d", res.StatusCode)
	}
}
