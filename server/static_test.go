package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
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

// assetRoot is a repo root whose js/dist holds originals and precompressed variants with marker
// contents, so that a test can tell from the body which one was served. Variants are written after
// the originals and dated a second later (fresh).
func assetRoot(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	dist := filepath.Join(root, "js", "dist")
	if err := os.MkdirAll(dist, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(root, "demo"), 0o755); err != nil {
		t.Fatal(err)
	}
	now := time.Now().Add(-time.Hour)
	for name, body := range map[string]string{
		"pkce.wasm":         "\x00asm identity",
		"pkce.wasm.br":      "BR pkce.wasm",
		"pkce.wasm.gz":      "GZ pkce.wasm",
		"pkce-wasm.js":      "export const identity = 1;",
		"pkce-wasm.js.br":   "BR pkce-wasm.js",
		"pkce-wasm.js.gz":   "GZ pkce-wasm.js",
		"wasm_exec.js":      "globalThis.Go = class {};",
		"wasm_exec.js.gz":   "GZ wasm_exec.js", // no .br
		"pkce-wasm.d.ts":    "export {};",      // no variants
		"pkce-wasm.iife.js": "(function(){})();",
	} {
		p := filepath.Join(dist, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		mt := now
		if strings.HasSuffix(name, ".br") || strings.HasSuffix(name, ".gz") {
			mt = now.Add(time.Second)
		}
		if err := os.Chtimes(p, mt, mt); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// assetClient never adds or strips Accept-Encoding (unlike http.DefaultTransport, which asks for
// gzip and decompresses transparently).
func assetClient(t *testing.T) *http.Client {
	tr := &http.Transport{DisableCompression: true}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

// assetGet requests path with the given headers; "Accept-Encoding" absent from hdr means none is sent.
func assetGet(t *testing.T, c *http.Client, method, url string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(body)
}

func sha256ETag(body string) string {
	sum := sha256.Sum256([]byte(body))
	return `"` + hex.EncodeToString(sum[:16]) + `"`
}

func TestAssetNegotiation(t *testing.T) {
	e := startServer(t, func(c *Config) { c.Root = assetRoot(t) })
	c := assetClient(t)
	const none = "\x00none" // sentinel: send no Accept-Encoding header at all
	for _, tc := range []struct {
		file, accept string
		status       int
		encoding     string // Content-Encoding
		body         string // prefix of the body
	}{
		{"pkce.wasm", "gzip, deflate, br, zstd", 200, "br", "BR "}, // Chromium's header
		{"pkce.wasm", "br", 200, "br", "BR "},
		{"pkce.wasm", "BR", 200, "br", "BR "},
		{"pkce.wasm", "gzip", 200, "gzip", "GZ "},
		{"pkce.wasm", "x-gzip", 200, "gzip", "GZ "},
		{"pkce.wasm", "gzip;q=1.0, br;q=0.9", 200, "gzip", "GZ "},
		{"pkce.wasm", "br;q=0.5, gzip;q=0.8", 200, "gzip", "GZ "},
		{"pkce.wasm", "br;q=0, gzip", 200, "gzip", "GZ "},
		{"pkce.wasm", "br;q=0, gzip;q=0", 200, "", "\x00asm"},
		{"pkce.wasm", "br ; Q=0 , gzip", 200, "gzip", "GZ "},
		{"pkce.wasm", "br;q=abc, gzip", 200, "gzip", "GZ "}, // malformed qvalue: member ignored
		{"pkce.wasm", "br;q=1.5, gzip", 200, "gzip", "GZ "},
		{"pkce.wasm", "identity", 200, "", "\x00asm"},
		{"pkce.wasm", "identity;q=1, br;q=0.5", 200, "", "\x00asm"},
		{"pkce.wasm", "identity, br", 200, "br", "BR "}, // tie: the smaller representation
		{"pkce.wasm", "", 200, "", "\x00asm"},           // empty: no content coding wanted
		{"pkce.wasm", none, 200, "", "\x00asm"},
		{"pkce.wasm", "*", 200, "br", "BR "},
		{"pkce.wasm", "*;q=0.5, br;q=0", 200, "gzip", "GZ "},
		{"pkce.wasm", "deflate, zstd", 200, "", "\x00asm"}, // identity acceptable by default
		{"pkce.wasm", "identity;q=0, gzip", 200, "gzip", "GZ "},
		{"pkce.wasm", "identity;q=0, deflate", 406, "", ""},
		{"pkce.wasm", "*;q=0", 406, "", ""},
		{"pkce.wasm", "*;q=0, identity", 200, "", "\x00asm"},
		{"pkce-wasm.js", "gzip, deflate, br", 200, "br", "BR "},
		{"wasm_exec.js", "gzip, deflate, br", 200, "gzip", "GZ "}, // no .br: the next best
		{"wasm_exec.js", "br", 200, "", "globalThis.Go"},
		{"pkce-wasm.d.ts", "gzip, br", 200, "", "export {}"},
		{"pkce-wasm.d.ts", "*;q=0", 406, "", ""},
	} {
		name := fmt.Sprintf("%s Accept-Encoding %q", tc.file, tc.accept)
		hdr := map[string]string{"Accept-Encoding": tc.accept}
		if tc.accept == none {
			hdr = nil
			name = tc.file + " without Accept-Encoding"
		}
		for _, method := range []string{http.MethodGet, http.MethodHead} {
			res, body := assetGet(t, c, method, e.cfg.AppOrigin+"/pkce/"+tc.file, hdr)
			if res.StatusCode != tc.status {
				t.Errorf("%s %s: status %d, want %d", method, name, res.StatusCode, tc.status)
				continue
			}
			if got := res.Header.Get("Vary"); got != "Accept-Encoding" {
				t.Errorf("%s %s: Vary %q", method, name, got)
			}
			if tc.status != 200 {
				continue
			}
			if got := res.Header.Get("Content-Encoding"); got != tc.encoding {
				t.Errorf("%s %s: Content-Encoding %q, want %q", method, name, got, tc.encoding)
			}
			wantType := map[string]string{".wasm": "application/wasm", ".js": "text/javascript", ".ts": "text/plain; charset=utf-8"}[filepath.Ext(tc.file)]
			if got := res.Header.Get("Content-Type"); got != wantType {
				t.Errorf("%s %s: Content-Type %q, want %q", method, name, got, wantType)
			}
			if got := res.Header.Get("Cache-Control"); got != "no-cache" {
				t.Errorf("%s %s: Cache-Control %q, want no-cache (fixed names are revalidated)", method, name, got)
			}
			if method == http.MethodHead {
				if body != "" {
					t.Errorf("HEAD %s: body %q", name, body)
				}
				continue
			}
			if !strings.HasPrefix(body, tc.body) {
				t.Errorf("%s %s: body %q, want prefix %q", method, name, body, tc.body)
			}
			if got, want := res.Header.Get("ETag"), sha256ETag(body); got != want {
				t.Errorf("%s %s: ETag %s, want %s (SHA-256 of the bytes sent)", method, name, got, want)
			}
			if res.ContentLength != int64(len(body)) {
				t.Errorf("%s %s: Content-Length %d, body %d bytes", method, name, res.ContentLength, len(body))
			}
		}
	}
}

func TestAssetETagRevalidation(t *testing.T) {
	root := assetRoot(t)
	e := startServer(t, func(c *Config) { c.Root = root })
	c := assetClient(t)
	url := e.cfg.AppOrigin + "/pkce/pkce.wasm"
	br, brBody := assetGet(t, c, http.MethodGet, url, map[string]string{"Accept-Encoding": "br"})
	gz, _ := assetGet(t, c, http.MethodGet, url, map[string]string{"Accept-Encoding": "gzip"})
	id, _ := assetGet(t, c, http.MethodGet, url, map[string]string{"Accept-Encoding": "identity"})
	brTag, gzTag, idTag := br.Header.Get("ETag"), gz.Header.Get("ETag"), id.Header.Get("ETag")
	if brBody != "BR pkce.wasm" || brTag != sha256ETag(brBody) {
		t.Fatalf("br: body %q ETag %s", brBody, brTag)
	}
	if brTag == gzTag || brTag == idTag || gzTag == idTag {
		t.Fatalf("each representation needs its own strong ETag: br %s gzip %s identity %s", brTag, gzTag, idTag)
	}
	for _, tag := range []string{brTag, gzTag, idTag} {
		if !strings.HasPrefix(tag, `"`) || !strings.HasSuffix(tag, `"`) || len(tag) != 34 {
			t.Errorf("ETag %s: want a strong quoted 128-bit hex hash", tag)
		}
	}

	for _, tc := range []struct {
		inm, accept string
		status      int
	}{
		{brTag, "gzip, deflate, br, zstd", 304},
		{"W/" + brTag, "br", 304}, // If-None-Match uses the weak comparison (RFC 9110 §13.1.2)
		{`"other", ` + brTag, "br", 304},
		{"*", "br", 304},
		{gzTag, "br", 200}, // the gzip variant's tag does not validate the br one
		{brTag, "gzip", 200},
		{idTag, "identity", 304},
		{`"stale"`, "br", 200},
	} {
		for _, method := range []string{http.MethodGet, http.MethodHead} {
			res, body := assetGet(t, c, method, url, map[string]string{"Accept-Encoding": tc.accept, "If-None-Match": tc.inm})
			name := fmt.Sprintf("%s If-None-Match %s, Accept-Encoding %q", method, tc.inm, tc.accept)
			if res.StatusCode != tc.status {
				t.Errorf("%s: status %d, want %d", name, res.StatusCode, tc.status)
				continue
			}
			if tc.status != 304 {
				continue
			}
			if body != "" {
				t.Errorf("%s: 304 with a body %q", name, body)
			}
			if res.Header.Get("ETag") == "" || res.Header.Get("Vary") != "Accept-Encoding" || res.Header.Get("Cache-Control") != "no-cache" {
				t.Errorf("%s: 304 must repeat ETag, Vary, Cache-Control; got %v", name, res.Header)
			}
		}
	}

	// A rebuild changes the ETag. The rebuilt original is newer than its variants, which are
	// then stale and not served.
	dist := filepath.Join(root, "js", "dist")
	if err := os.WriteFile(filepath.Join(dist, "pkce.wasm"), []byte("\x00asm rebuilt"), 0o644); err != nil {
		t.Fatal(err)
	}
	res, body := assetGet(t, c, http.MethodGet, url, map[string]string{"Accept-Encoding": "gzip, br", "If-None-Match": brTag})
	if res.StatusCode != 200 || body != "\x00asm rebuilt" || res.Header.Get("Content-Encoding") != "" {
		t.Errorf("after a rebuild without fresh variants: status %d, Content-Encoding %q, body %q; want 200 identity with the new content",
			res.StatusCode, res.Header.Get("Content-Encoding"), body)
	}
	if got := res.Header.Get("ETag"); got != sha256ETag("\x00asm rebuilt") || got == idTag {
		t.Errorf("after a rebuild: ETag %s, want %s", got, sha256ETag("\x00asm rebuilt"))
	}
	if err := os.WriteFile(filepath.Join(dist, "pkce.wasm.br"), []byte("BR rebuilt"), 0o644); err != nil {
		t.Fatal(err)
	}
	res, body = assetGet(t, c, http.MethodGet, url, map[string]string{"Accept-Encoding": "gzip, br"})
	if body != "BR rebuilt" || res.Header.Get("ETag") != sha256ETag("BR rebuilt") {
		t.Errorf("fresh br variant: body %q, ETag %s", body, res.Header.Get("ETag"))
	}
}

func TestAssetVariantsNotServedByName(t *testing.T) {
	e := startServer(t, func(c *Config) { c.Root = assetRoot(t) })
	c := assetClient(t)
	for _, p := range []string{"/pkce/pkce.wasm.br", "/pkce/pkce.wasm.gz", "/pkce/PKCE.WASM.GZ", "/pkce/nope.wasm", "/pkce/../go.mod"} {
		if res, _ := assetGet(t, c, http.MethodGet, e.cfg.AppOrigin+p, map[string]string{"Accept-Encoding": "br, gzip"}); res.StatusCode != http.StatusNotFound {
			t.Errorf("%s: status %d, want 404", p, res.StatusCode)
		}
	}
}
