package main

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

func TestGoDemoPageRoutes(t *testing.T) {
	e := startServer(t, func(c *Config) {
		dir := filepath.Join(c.Root, "demo", "go")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "index.html"), []byte("<!doctype html><title>go demo</title>"), 0o644); err != nil {
			t.Fatal(err)
		}
	})
	for _, p := range []string{"/go/", "/go/callback", "/go/callback?code=abc&state=xyz"} {
		res := e.get(t, e.cfg.AppOrigin+p, nil)
		body := readBody(t, res)
		if res.StatusCode != http.StatusOK || !strings.Contains(body, "go demo") {
			t.Errorf("%s: status %d, body %q; want the Go demo page", p, res.StatusCode, body)
		}
		if ct := res.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
			t.Errorf("%s: Content-Type %q", p, ct)
		}
	}
	// The JS demo keeps /callback.
	if body := readBody(t, e.get(t, e.cfg.AppOrigin+"/callback", nil)); !strings.Contains(body, "demo index") {
		t.Errorf("/callback: body %q, want the JS demo page", body)
	}
}

// The OP accepts the Go demo's redirect and post-logout URIs for the same client.
func TestGoDemoRedirectURIsRegistered(t *testing.T) {
	e := startServer(t, nil)
	cfg := e.oauth2Config()
	cfg.RedirectURL = e.cfg.GoDemoRedirectURI()
	f := &authFlow{verifier: oauth2.GenerateVerifier(), state: "go-" + oauth2.GenerateVerifier()[:10]}
	authURL := cfg.AuthCodeURL(f.state, oauth2.S256ChallengeOption(f.verifier), oauth2.SetAuthURLParam("nonce", "n-go-demo"))
	f.loginURL = location(t, e.get(t, authURL, nil), http.StatusFound)
	if f.loginURL.Path != loginPath {
		t.Fatalf("authorize with the Go demo's redirect URI went to %s, want the login page", f.loginURL.Redacted())
	}
	cb := location(t, e.submitLogin(t, f, "sign-in", demoUser, demoPassword), http.StatusFound)
	redirect := location(t, e.get(t, cb.String(), nil), http.StatusFound)
	if got := redirect.Scheme + "://" + redirect.Host + redirect.Path; got != e.cfg.GoDemoRedirectURI() {
		t.Fatalf("OP redirected to %s, want %s", got, e.cfg.GoDemoRedirectURI())
	}
	q := redirect.Query()
	if q.Get("state") != f.state || q.Get("code") == "" {
		t.Fatalf("callback state %q code present %v", q.Get("state"), q.Get("code") != "")
	}
	tok, err := cfg.Exchange(e.ctx(t), q.Get("code"), oauth2.VerifierOption(f.verifier))
	if err != nil {
		t.Fatalf("code exchange with the Go demo's redirect URI: %v", err)
	}
	if res := e.callAPI(t, tok.AccessToken); res.StatusCode != http.StatusOK {
		t.Errorf("/api/me: status %d", res.StatusCode)
	}
	idToken, _ := tok.Extra("id_token").(string)
	lq := url.Values{"id_token_hint": {idToken}, "post_logout_redirect_uri": {e.cfg.GoDemoPostLogoutRedirectURI()}, "state": {"bye"}}
	loc := location(t, e.get(t, e.cfg.Issuer+"/end_session?"+lq.Encode(), nil), http.StatusFound)
	if want := e.cfg.GoDemoPostLogoutRedirectURI() + "?state=bye"; loc.String() != want {
		t.Errorf("end_session redirected to %s, want %s", loc, want)
	}
}
