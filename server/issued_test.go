package main

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

func (e *testEnv) issued(t *testing.T) issuedJSON {
	t.Helper()
	res := e.get(t, e.cfg.Issuer+"/__test/issued", http.Header{"Origin": {"http://elsewhere.example"}})
	if res.StatusCode != http.StatusOK {
		t.Fatalf("/__test/issued: status %d", res.StatusCode)
	}
	if got := res.Header.Get("Access-Control-Allow-Origin"); got != "*" {
		t.Errorf("/__test/issued: Access-Control-Allow-Origin %q, want *", got)
	}
	var v issuedJSON
	decodeJSON(t, res, &v)
	return v
}

func issuedValues(v issuedJSON, kind string) []string {
	var out []string
	for _, tk := range v.Tokens {
		if tk.Kind == kind {
			out = append(out, tk.Value)
		}
	}
	return out
}

func TestIssuedTokenLog(t *testing.T) {
	e := startServer(t, nil)
	if got := e.issued(t); len(got.Tokens) != 0 {
		t.Fatalf("fresh log = %+v", got)
	}
	before := time.Now().Add(-time.Second)
	tok := e.login(t)
	idToken, _ := tok.Extra("id_token").(string)
	log := e.issued(t)
	if len(log.Tokens) != 3 {
		t.Fatalf("log after the code grant has %d tokens, want 3: %+v", len(log.Tokens), log)
	}
	for kind, want := range map[string]string{"access_token": tok.AccessToken, "refresh_token": tok.RefreshToken, "id_token": idToken} {
		if got := issuedValues(log, kind); len(got) != 1 || got[0] != want {
			t.Errorf("%s logged as %q, want [%q]", kind, got, want)
		}
	}
	for _, tk := range log.Tokens {
		if tk.At.Before(before) || tk.At.After(time.Now().Add(time.Second)) {
			t.Errorf("%s at %s: not now", tk.Kind, tk.At)
		}
	}

	// A refresh adds the new tokens; a failed grant adds none.
	ts := e.oauth2Config().TokenSource(e.ctx(t), &oauth2.Token{RefreshToken: tok.RefreshToken, Expiry: time.Now().Add(-time.Hour)})
	tok2, err := ts.Token()
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if _, err := e.oauth2Config().Exchange(e.ctx(t), "no-such-code", oauth2.VerifierOption(oauth2.GenerateVerifier())); err == nil {
		t.Fatal("exchange of a bogus code succeeded")
	}
	log = e.issued(t)
	if got := issuedValues(log, "access_token"); !slices.Equal(got, []string{tok.AccessToken, tok2.AccessToken}) {
		t.Errorf("access tokens logged: %d, want the two issued", len(got))
	}
	if got := issuedValues(log, "refresh_token"); !slices.Equal(got, []string{tok.RefreshToken, tok2.RefreshToken}) {
		t.Errorf("refresh tokens logged: %d, want the two issued", len(got))
	}

	// POST /__test/issued/reset empties it; so does the app origin's /__test/reset.
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, e.cfg.Issuer+"/__test/issued/reset", nil)
	if res := e.do(t, req); res.StatusCode != http.StatusOK {
		t.Fatalf("issued reset: status %d", res.StatusCode)
	}
	if got := e.issued(t); len(got.Tokens) != 0 {
		t.Fatalf("log after reset = %+v", got)
	}
	e.login(t)
	if got := e.issued(t); len(got.Tokens) != 3 {
		t.Fatalf("log after a second login has %d tokens, want 3", len(got.Tokens))
	}
	req, _ = http.NewRequestWithContext(t.Context(), http.MethodPost, e.cfg.AppOrigin+"/__test/reset", nil)
	if res := e.do(t, req); res.StatusCode != http.StatusOK {
		t.Fatalf("/__test/reset: status %d", res.StatusCode)
	}
	if got := e.issued(t); len(got.Tokens) != 0 {
		t.Fatalf("log after /__test/reset = %+v", got)
	}
	// The hook's own requests are not counted in the OP stats.
	if n := e.stats(t).Requests["/__test/issued"]; n != 0 {
		t.Errorf("stats count /__test/issued %d times", n)
	}
}

func TestIssuedTokenLogOffWithoutHooks(t *testing.T) {
	e := startServer(t, func(c *Config) { c.TestHooks = false })
	if res := e.get(t, e.cfg.Issuer+"/__test/issued", nil); res.StatusCode == http.StatusOK {
		t.Fatalf("/__test/issued answered 200 without test hooks")
	}
}
