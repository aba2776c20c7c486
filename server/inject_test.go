package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

func (e *testEnv) post(t *testing.T, path, contentType, body string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, e.cfg.AppOrigin+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	return e.do(t, req)
}

func (e *testEnv) injectSeen(t *testing.T) injectSeenJSON {
	t.Helper()
	return getJSON[injectSeenJSON](t, e, e.cfg.AppOrigin+"/__test/inject/seen")
}

func TestInjectHook(t *testing.T) {
	e := startServer(t, nil)
	page := func(path string, header http.Header) (int, string, http.Header) {
		res := e.get(t, e.cfg.AppOrigin+path, header)
		return res.StatusCode, readBody(t, res), res.Header
	}

	// Not armed: pages as they are, no script.
	if _, body, _ := page("/", nil); strings.Contains(body, injectTag) {
		t.Fatalf("an unarmed server injected: %q", body)
	}
	if res := e.get(t, e.cfg.AppOrigin+"/__test/inject.js", nil); res.StatusCode != http.StatusNotFound {
		t.Errorf("inject.js before arming: status %d, want 404", res.StatusCode)
	}

	const src = "window.__hooked = true;"
	if res := e.post(t, "/__test/inject", "text/javascript", src); res.StatusCode != http.StatusNoContent {
		t.Fatalf("POST /__test/inject: status %d", res.StatusCode)
	}
	// Every HTML page, revalidation or not, starts with the script; other resources are untouched.
	for _, p := range []string{"/", "/callback", "/callback?code=x&state=y"} {
		status, body, h := page(p, http.Header{"If-Modified-Since": {"Mon, 01 Jan 2125 00:00:00 GMT"}})
		if status != http.StatusOK || !strings.HasPrefix(body, "<!doctype html>"+injectTag+"<title>") {
			t.Errorf("GET %s: status %d, body %q: want the script first", p, status, body)
		}
		if h.Get("Cache-Control") != "no-store" || h.Get("ETag") != "" || h.Get("Last-Modified") != "" {
			t.Errorf("GET %s: cache headers %v", p, h)
		}
	}
	if _, body, _ := page("/app.js", nil); strings.Contains(body, injectTag) {
		t.Errorf("a script was rewritten: %q", body)
	}
	if _, body, _ := page("/config.json", nil); strings.Contains(body, injectTag) {
		t.Errorf("config.json was rewritten: %q", body)
	}
	res := e.get(t, e.cfg.AppOrigin+"/__test/inject.js", nil)
	if got := readBody(t, res); res.StatusCode != http.StatusOK || got != src || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/javascript") {
		t.Errorf("inject.js: status %d, %q, %q", res.StatusCode, res.Header.Get("Content-Type"), got)
	}

	// The record: lines per page load, in order.
	for _, b := range []injectBatch{{Page: "a", Lines: []string{"fetch url: /x", "one"}}, {Page: "b", Lines: []string{"two"}}} {
		raw, _ := json.Marshal(b)
		if res := e.post(t, "/__test/inject/seen", "text/plain", string(raw)); res.StatusCode != http.StatusNoContent {
			t.Fatalf("POST seen: status %d", res.StatusCode)
		}
	}
	if res := e.post(t, "/__test/inject/seen", "text/plain", "not json"); res.StatusCode != http.StatusBadRequest {
		t.Errorf("POST seen with a bad body: status %d, want 400", res.StatusCode)
	}
	got := e.injectSeen(t)
	if !got.Armed || strings.Join(got.Lines, "|") != "fetch url: /x|one|two" || got.Pages["a"] != 2 || got.Pages["b"] != 1 || got.Truncated || got.Rejected != 1 {
		t.Errorf("record = %+v", got)
	}

	// POST /__test/reset disarms and empties it; a late report of an earlier page is dropped.
	if res := e.post(t, "/__test/reset", "text/plain", ""); res.StatusCode != http.StatusOK {
		t.Fatalf("POST /__test/reset: status %d", res.StatusCode)
	}
	raw, _ := json.Marshal(injectBatch{Page: "late", Lines: []string{"late"}})
	e.post(t, "/__test/inject/seen", "text/plain", string(raw))
	if got := e.injectSeen(t); got.Armed || len(got.Lines) != 0 || len(got.Pages) != 0 {
		t.Errorf("after reset: %+v", got)
	}
	if _, body, _ := page("/", nil); strings.Contains(body, injectTag) {
		t.Errorf("injected after reset: %q", body)
	}
}

func TestInjectOffWithoutTestHooks(t *testing.T) {
	e := startServer(t, func(c *Config) { c.TestHooks = false })
	if res := e.post(t, "/__test/inject", "text/javascript", "alert(1)"); res.StatusCode == http.StatusNoContent {
		t.Fatal("POST /__test/inject armed a server without -test-hooks")
	}
	if res := e.get(t, e.cfg.AppOrigin+"/", nil); strings.Contains(readBody(t, res), injectTag) {
		t.Fatal("a server without -test-hooks injected a script")
	}
}

func TestInjectScriptTag(t *testing.T) {
	for in, want := range map[string]string{
		"<!doctype html><html><head><meta charset=utf-8></head>": "<!doctype html><html><head>" + injectTag + "<meta charset=utf-8></head>",
		"<HTML><HEAD lang=en>x</HEAD>":                           "<HTML><HEAD lang=en>" + injectTag + "x</HEAD>",
		"<header></header><head>x":                               "<header></header><head>" + injectTag + "x",
		"<!DOCTYPE html><p>no head":                              "<!DOCTYPE html>" + injectTag + "<p>no head",
		"<p>bare":                                                injectTag + "<p>bare",
	} {
		if got := string(injectScriptTag([]byte(in))); got != want {
			t.Errorf("injectScriptTag(%q) = %q, want %q", in, got, want)
		}
	}
}
