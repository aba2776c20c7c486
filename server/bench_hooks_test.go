package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func benchTestServer(t *testing.T) *httptest.Server {
	t.Helper()
	root := t.TempDir()
	// One timestamp for all files: written in map order, a variant could otherwise be nanoseconds
	// older than its original and rightly be ignored as stale, making the test flaky.
	now := time.Now()
	for name, body := range map[string]string{
		"js/bench/pages/callback.html":     "<!doctype html><title>bench callback</title>",
		"js/bench/pages/bench.js":          "export {};",
		"bin/bench/hello/hello.wasm":       "\x00asm\x01\x00\x00\x00",
		"bin/bench/hello/hello.wasm.br":    "brotli bytes",
		"bin/bench/vendor/oidc.min.js":     "var oidc = {};",
		"bin/bench/vendor/oidc.min.js.gz":  "gzip bytes",
		"bin/bench/vendor/stale.js":        "new",
		"bin/bench/vendor/stale.js.br":     "old variant",
		"bin/bench/vendor/only-plain.json": "{}",
	} {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, now, now); err != nil {
			t.Fatal(err)
		}
	}
	old := now.Add(-time.Hour)
	if err := os.Chtimes(filepath.Join(root, "bin/bench/vendor/stale.js.br"), old, old); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	registerBenchHooks(mux, Config{AppOrigin: "http://localhost:1", Root: root})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func benchGet(t *testing.T, url string, header ...string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	// A Transport that leaves Accept-Encoding and the body alone.
	res, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(b)
}

func TestBenchBlob(t *testing.T) {
	srv := benchTestServer(t)
	const size = 3<<20 + 17
	start := time.Now()
	res, body := benchGet(t, srv.URL+"/api/blob?size=3145745&pauseMs=50")
	if res.StatusCode != 200 || len(body) != size || res.Header.Get("Content-Length") != "3145745" ||
		res.Header.Get("Content-Type") != "application/octet-stream" {
		t.Fatalf("status %d, %d bytes, headers %v", res.StatusCode, len(body), res.Header)
	}
	if time.Since(start) < 50*time.Millisecond {
		t.Error("pauseMs=50 did not pause")
	}
	for _, j := range []int{0, 1, 250, 251, 65535, 65536, 1 << 20, size - 1} {
		if want := byte(j*7 + j/251); body[j] != want {
			t.Fatalf("byte %d = %d, want %d", j, body[j], want)
		}
	}
	for _, q := range []string{"", "size=-1", "size=x", "size=67108865", "size=1&pauseMs=2001", "size=1&pauseMs=x"} {
		if res, _ := benchGet(t, srv.URL+"/api/blob?"+q); res.StatusCode != http.StatusBadRequest {
			t.Errorf("?%s: status %d, want 400", q, res.StatusCode)
		}
	}
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/blob?size=1", nil)
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: %v %v", res, err)
	}
}

func TestBenchStatic(t *testing.T) {
	srv := benchTestServer(t)
	for _, c := range []struct {
		path, accept, wantBody, wantEnc, wantType string
	}{
		{"/bench/callback", "", "<!doctype html><title>bench callback</title>", "", "text/html; charset=utf-8"},
		{"/bench/bench.js", "", "export {};", "", "text/javascript"},
		{"/bench/hello/hello.wasm", "gzip, br", "brotli bytes", "br", "application/wasm"},
		{"/bench/hello/hello.wasm", "gzip", "\x00asm\x01\x00\x00\x00", "", "application/wasm"},
		{"/bench/hello/hello.wasm", "br;q=0", "\x00asm\x01\x00\x00\x00", "", "application/wasm"},
		{"/bench/vendor/oidc.min.js", "gzip, deflate, br", "gzip bytes", "gzip", "text/javascript"},
		{"/bench/vendor/stale.js", "br", "new", "", "text/javascript"},
		{"/bench/vendor/only-plain.json", "br", "{}", "", "application/json"},
	} {
		res, body := benchGet(t, srv.URL+c.path, "Accept-Encoding", c.accept)
		if res.StatusCode != 200 || body != c.wantBody || res.Header.Get("Content-Encoding") != c.wantEnc ||
			res.Header.Get("Content-Type") != c.wantType || res.Header.Get("Cache-Control") != "no-cache" {
			t.Errorf("%s (Accept-Encoding %q): %d %q, headers %v", c.path, c.accept, res.StatusCode, body, res.Header)
		}
	}
	if res, _ := benchGet(t, srv.URL+"/bench/hello/missing.wasm"); res.StatusCode != 404 {
		t.Errorf("missing file: %d", res.StatusCode)
	}
	res, _ := benchGet(t, srv.URL+"/bench/hello/hello.wasm")
	if res2, _ := benchGet(t, srv.URL+"/bench/hello/hello.wasm", "If-Modified-Since", res.Header.Get("Last-Modified")); res2.StatusCode != http.StatusNotModified {
		t.Errorf("revalidation: %d, want 304", res2.StatusCode)
	}
}

func TestBenchRedirectURIOnlyWithTestHooks(t *testing.T) {
	c := Config{AppOrigin: "http://localhost:8080", Issuer: "http://localhost:9090", AccessTokenTTL: time.Minute}
	if slices.Contains(newDevClient(c).RedirectURIs(), c.benchRedirectURI()) {
		t.Error("bench redirect URI registered without test hooks")
	}
	c.TestHooks = true
	uris := newDevClient(c).RedirectURIs()
	if !slices.Contains(uris, "http://localhost:8080/bench/callback") || uris[0] != c.RedirectURI() {
		t.Errorf("redirect URIs with test hooks: %v", uris)
	}
}
