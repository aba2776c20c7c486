package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// withJar is e with a cookie jar: the browser of the SSO tests.
func (e *testEnv) withJar(t *testing.T) *testEnv {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := *e.noRedirect
	c.Jar = jar
	return &testEnv{cfg: e.cfg, srv: e.srv, noRedirect: &c}
}

// authorizeWith sends an authorization request with the given extra parameters and follows the
// OP's redirects. It returns the query of the redirect to the client, or nil and the login form
// page's URL when the OP showed the form.
func (e *testEnv) authorizeWith(t *testing.T, extra url.Values) (url.Values, *url.URL, *authFlow) {
	t.Helper()
	f := &authFlow{verifier: oauth2.GenerateVerifier(), state: "st-" + oauth2.GenerateVerifier()[:10]}
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(f.verifier), oauth2.SetAuthURLParam("nonce", "n-sso")}
	for k := range extra {
		opts = append(opts, oauth2.SetAuthURLParam(k, extra.Get(k)))
	}
	next := e.oauth2Config().AuthCodeURL(f.state, opts...)
	for range 5 {
		res := e.get(t, next, nil)
		if res.StatusCode == http.StatusOK {
			body := readBody(t, res)
			if !strings.Contains(body, `id="username"`) {
				t.Fatalf("%s: 200 without the login form", res.Request.URL.Path)
			}
			return nil, res.Request.URL, f
		}
		loc := location(t, res, http.StatusFound)
		if loc.Scheme+"://"+loc.Host+loc.Path == e.cfg.RedirectURI() {
			q := loc.Query()
			if q.Get("state") != f.state {
				t.Fatalf("state %q, want %q", q.Get("state"), f.state)
			}
			return q, nil, f
		}
		next = loc.String()
	}
	t.Fatal("too many redirects")
	return nil, nil, nil
}

func ssoCookie(t *testing.T, res *http.Response) *http.Cookie {
	t.Helper()
	for _, c := range res.Cookies() {
		if c.Name == ssoCookieName {
			return c
		}
	}
	return nil
}

func TestSSOSession(t *testing.T) {
	e := startServer(t, nil)
	b := e.withJar(t) // the browser

	// Without a session: prompt=none → login_required (OIDC Core §3.1.2.6); otherwise the form.
	if q, _, _ := b.authorizeWith(t, url.Values{"prompt": {"none"}}); q == nil || q.Get("error") != "login_required" {
		t.Fatalf("prompt=none without a session: %v, want error=login_required", q)
	}
	if q, form, _ := b.authorizeWith(t, nil); q != nil || form == nil {
		t.Fatalf("no session: got %v, want the login form", q)
	}

	// Sign in: the login POST sets the session cookie.
	f := b.authorize(t)
	res := b.submitLogin(t, f, "sign-in", demoUser, demoPassword)
	c := ssoCookie(t, res)
	if c == nil {
		t.Fatal("sign-in set no SSO cookie")
	}
	if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.MaxAge != int(defaultSSOTTL/time.Second) || c.Value == "" {
		t.Errorf("SSO cookie %s: want HttpOnly, SameSite=Lax, Path=/, Max-Age=%d", c, int(defaultSSOTTL/time.Second))
	}
	cb := location(t, res, http.StatusFound)
	first := location(t, b.get(t, cb.String(), nil), http.StatusFound).Query()
	tok1, err := e.oauth2Config().Exchange(e.ctx(t), first.Get("code"), oauth2.VerifierOption(f.verifier))
	if err != nil {
		t.Fatal(err)
	}
	sub := jwtClaims(t, tok1.AccessToken)["sub"]

	// With the session: prompt=none and no prompt complete without the form, and the codes work.
	for _, extra := range []url.Values{{"prompt": {"none"}}, nil} {
		q, form, af := b.authorizeWith(t, extra)
		if q == nil || q.Get("code") == "" {
			t.Fatalf("%v with a session: form %v, query %v; want a code", extra, form, q)
		}
		tok, err := e.oauth2Config().Exchange(e.ctx(t), q.Get("code"), oauth2.VerifierOption(af.verifier))
		if err != nil {
			t.Fatalf("%v: exchange: %v", extra, err)
		}
		if got := jwtClaims(t, tok.AccessToken)["sub"]; got != sub {
			t.Errorf("%v: sub %v, want %v", extra, got, sub)
		}
		id, _ := tok.Extra("id_token").(string)
		if jwtClaims(t, id)["nonce"] != "n-sso" {
			t.Errorf("%v: ID token nonce lost", extra)
		}
	}
	// prompt=login always shows the form; max_age=0 too.
	for _, extra := range []url.Values{{"prompt": {"login"}}, {"max_age": {"0"}}} {
		if q, form, _ := b.authorizeWith(t, extra); q != nil || form == nil {
			t.Errorf("%v with a session: %v, want the login form", extra, q)
		}
	}
	// Another browser (no cookie) does not share the session.
	if q, _, _ := e.withJar(t).authorizeWith(t, url.Values{"prompt": {"none"}}); q == nil || q.Get("error") != "login_required" {
		t.Errorf("prompt=none from another browser: %v, want login_required", q)
	}

	// RP-initiated logout WITHOUT id_token_hint: client_id + registered post_logout_redirect_uri.
	if e.srv.sso.len() != 1 {
		t.Fatalf("%d SSO sessions stored, want 1", e.srv.sso.len())
	}
	var before struct {
		Sessions int `json:"sessions"`
	}
	decodeJSON(t, e.get(t, e.cfg.Issuer+"/__test/sso", nil), &before)
	if before.Sessions != 1 {
		t.Errorf("/__test/sso reports %d sessions, want 1", before.Sessions)
	}
	lq := url.Values{"client_id": {clientID}, "post_logout_redirect_uri": {e.cfg.PostLogoutRedirectURI()}, "state": {"bye"}}
	res = b.get(t, e.cfg.Issuer+"/end_session?"+lq.Encode(), nil)
	if loc := location(t, res, http.StatusFound); loc.String() != e.cfg.PostLogoutRedirectURI()+"?state=bye" {
		t.Errorf("end_session redirected to %s", loc)
	}
	if c := ssoCookie(t, res); c == nil || c.MaxAge >= 0 {
		t.Errorf("end_session did not clear the SSO cookie: %v", c)
	}
	if n := e.srv.sso.len(); n != 0 {
		t.Errorf("%d SSO sessions stored after logout, want 0", n)
	}
	var hook struct {
		Sessions int `json:"sessions"`
	}
	decodeJSON(t, e.get(t, e.cfg.Issuer+"/__test/sso", nil), &hook)
	if hook.Sessions != 0 {
		t.Errorf("/__test/sso reports %d sessions after logout", hook.Sessions)
	}
	// The user's tokens for the client are gone too.
	if _, err := e.oauth2Config().TokenSource(e.ctx(t), &oauth2.Token{RefreshToken: tok1.RefreshToken, Expiry: time.Now().Add(-time.Hour)}).Token(); err == nil {
		t.Error("refresh after logout without id_token_hint succeeded")
	}
	if q, _, _ := b.authorizeWith(t, url.Values{"prompt": {"none"}}); q == nil || q.Get("error") != "login_required" {
		t.Errorf("prompt=none after logout: %v, want login_required", q)
	}
	// Even a replayed cookie value is dead (the server-side entry is gone).
	replay := &http.Cookie{Name: ssoCookieName, Value: c.Value}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, e.oauth2Config().AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()), oauth2.SetAuthURLParam("prompt", "none")), nil)
	req.AddCookie(replay)
	if loc := location(t, e.do(t, req), http.StatusFound); loc.Query().Get("error") != "login_required" {
		t.Errorf("prompt=none with the old cookie value: %s, want login_required", loc.Redacted())
	}
}

func TestSSOSessionLogoutRefusedKeepsSession(t *testing.T) {
	e := startServer(t, nil)
	b := e.withJar(t)
	b.signIn(t)
	lq := url.Values{"client_id": {clientID}, "post_logout_redirect_uri": {"https://evil.example/"}}
	if res := b.get(t, e.cfg.Issuer+"/end_session?"+lq.Encode(), nil); res.StatusCode/100 == 3 || ssoCookie(t, res) != nil {
		t.Fatalf("refused end_session: status %d, cookie %v", res.StatusCode, ssoCookie(t, res))
	}
	if q, _, _ := b.authorizeWith(t, url.Values{"prompt": {"none"}}); q == nil || q.Get("code") == "" {
		t.Errorf("prompt=none after a refused logout: %v, want a code", q)
	}
}

func TestSSOSessionExpires(t *testing.T) {
	e := startServer(t, func(c *Config) { c.SSOTTL = time.Second })
	b := e.withJar(t)
	b.signIn(t)
	if q, _, _ := b.authorizeWith(t, url.Values{"prompt": {"none"}}); q == nil || q.Get("code") == "" {
		t.Fatalf("prompt=none right after sign-in: %v, want a code", q)
	}
	// The cookie's Max-Age would also end it in a browser; here the server-side expiry is tested
	// by sending the cookie after it.
	u, _ := url.Parse(e.cfg.Issuer)
	cookies := b.noRedirect.Jar.Cookies(u)
	time.Sleep(1100 * time.Millisecond)
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, e.oauth2Config().AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()), oauth2.SetAuthURLParam("prompt", "none")), nil)
	for _, c := range cookies {
		req.AddCookie(c)
	}
	if len(cookies) == 0 {
		t.Fatal("no cookie in the jar")
	}
	if loc := location(t, e.do(t, req), http.StatusFound); loc.Query().Get("error") != "login_required" {
		t.Errorf("prompt=none after the SSO TTL: %s, want login_required", loc.Redacted())
	}
}

func TestParseFlagsSSOAndDPoP(t *testing.T) {
	f, err := parseFlags([]string{"-sso-ttl", "90s", "-dpop-nonce"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if f.ssoTTL != 90*time.Second || !f.dpopNonce {
		t.Errorf("flags not parsed: %+v", f)
	}
	if f, _ := parseFlags(nil, io.Discard); f.ssoTTL != defaultSSOTTL || f.dpopNonce {
		t.Errorf("defaults: sso-ttl %s, dpop-nonce %v", f.ssoTTL, f.dpopNonce)
	}
	if _, err := parseFlags([]string{"-sso-ttl", "0s"}, io.Discard); err == nil {
		t.Error("zero -sso-ttl accepted")
	}
}

func TestDPoPNonceFlag(t *testing.T) {
	e := startServer(t, func(c *Config) { c.DPoPNonce = true })
	for _, origin := range []string{e.cfg.Issuer, e.cfg.AppOrigin} {
		var st struct {
			On    bool   `json:"on"`
			Nonce string `json:"nonce"`
		}
		decodeJSON(t, e.get(t, origin+"/__test/dpop-nonce", nil), &st)
		if !st.On || st.Nonce == "" {
			t.Errorf("%s: nonce mode %+v, want on", origin, st)
		}
	}
}

func TestResetEndsSSOAndDPoPNonces(t *testing.T) {
	e := startServer(t, nil)
	b := e.withJar(t)
	b.signIn(t)
	for _, origin := range []string{e.cfg.Issuer, e.cfg.AppOrigin} {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, origin+"/__test/dpop-nonce?on=1", nil)
		if res := e.do(t, req); res.StatusCode != http.StatusOK {
			t.Fatalf("%s nonce on: %d", origin, res.StatusCode)
		}
	}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, e.cfg.AppOrigin+"/__test/reset", nil)
	if res := e.do(t, req); res.StatusCode != http.StatusOK {
		t.Fatalf("reset: %d", res.StatusCode)
	}
	if n := e.srv.sso.len(); n != 0 {
		t.Errorf("%d SSO sessions after /__test/reset", n)
	}
	// POST /__test/sso/reset on the OP origin does the same.
	b.signIn(t)
	req, _ = http.NewRequestWithContext(t.Context(), http.MethodPost, e.cfg.Issuer+"/__test/sso/reset", nil)
	if res := e.do(t, req); res.StatusCode != http.StatusOK {
		t.Fatalf("sso reset: %d", res.StatusCode)
	}
	if q, _, _ := b.authorizeWith(t, url.Values{"prompt": {"none"}}); q == nil || q.Get("error") != "login_required" {
		t.Errorf("prompt=none after /__test/reset: %v, want login_required", q)
	}
	for _, origin := range []string{e.cfg.Issuer, e.cfg.AppOrigin} {
		var st struct {
			On bool `json:"on"`
		}
		decodeJSON(t, e.get(t, origin+"/__test/dpop-nonce", nil), &st)
		if st.On {
			t.Errorf("%s: nonce mode still on after /__test/reset", origin)
		}
	}
}
