package main

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

func TestDiscovery(t *testing.T) {
	e := startServer(t, nil)
	res := e.get(t, e.cfg.Issuer+"/.well-known/openid-configuration", nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("discovery: status %d", res.StatusCode)
	}
	var d map[string]any
	decodeJSON(t, res, &d)
	if d["issuer"] != e.cfg.Issuer {
		t.Errorf("issuer %v, want %s", d["issuer"], e.cfg.Issuer)
	}
	for key, path := range map[string]string{
		"authorization_endpoint": "/authorize",
		"token_endpoint":         "/oauth/token",
		"end_session_endpoint":   "/end_session",
		"jwks_uri":               "/keys",
		"userinfo_endpoint":      "/userinfo",
	} {
		if d[key] != e.cfg.Issuer+path {
			t.Errorf("%s = %v, want %s", key, d[key], e.cfg.Issuer+path)
		}
	}
	if m, _ := d["code_challenge_methods_supported"].([]any); !slices.Contains(m, any("S256")) {
		t.Errorf("code_challenge_methods_supported = %v, want S256", d["code_challenge_methods_supported"])
	}
}

func TestCodeFlowAPIRefreshLogout(t *testing.T) {
	e := startServer(t, func(c *Config) { c.AccessTokenTTL = 90 * time.Second })
	if got := e.stats(t); got.Grants["authorization_code"] != 0 || len(got.Requests) != 0 {
		t.Fatalf("fresh stats = %+v", got)
	}
	tok := e.login(t)

	// Token response (RFC 6749 §5.1, OIDC Core §3.1.3.3).
	if tok.TokenType != "Bearer" {
		t.Errorf("token_type %q", tok.TokenType)
	}
	if tok.RefreshToken == "" {
		t.Error("no refresh token although offline_access was requested")
	}
	if left := time.Until(tok.Expiry); left < 80*time.Second || left > 91*time.Second {
		t.Errorf("access token expires in %s, want about the 90s TTL", left)
	}
	idToken, _ := tok.Extra("id_token").(string)
	if idToken == "" {
		t.Fatal("no id_token")
	}
	id := jwtClaims(t, idToken)
	at := jwtClaims(t, tok.AccessToken) // a JWT access token (RFC 9068)
	sub, _ := id["sub"].(string)
	if sub == "" || at["sub"] != sub {
		t.Fatalf("ID token sub %q, access token sub %v", sub, at["sub"])
	}
	if at["iss"] != e.cfg.Issuer || id["iss"] != e.cfg.Issuer {
		t.Errorf("iss: access %v, id %v, want %s", at["iss"], id["iss"], e.cfg.Issuer)
	}
	if aud, _ := at["aud"].([]any); !slices.Contains(aud, any(clientID)) {
		t.Errorf("access token aud %v lacks %s", at["aud"], clientID)
	}
	if id["nonce"] != "n-0S6_WzA2Mj" {
		t.Errorf("ID token nonce %v", id["nonce"])
	}
	if id["preferred_username"] != demoUser || id["name"] == nil {
		t.Errorf("ID token lacks the profile claims: %v", id)
	}
	if exp, iat := id["exp"].(float64), id["iat"].(float64); exp-iat < 85 || exp-iat > 95 {
		t.Errorf("ID token lifetime %vs, want the 90s TTL", exp-iat)
	}

	// The protected API accepts it.
	res := e.callAPI(t, tok.AccessToken)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("/api/me: status %d: %s", res.StatusCode, readBody(t, res))
	}
	var me meResponse
	decodeJSON(t, res, &me)
	if me.Sub != sub {
		t.Errorf("/api/me sub %q, want %q", me.Sub, sub)
	}
	if got := strings.Fields(me.Scope); !slices.Contains(got, "openid") || !slices.Contains(got, "offline_access") {
		t.Errorf("/api/me scope %q", me.Scope)
	}
	if _, err := time.Parse(time.RFC3339, me.Time); err != nil || me.Message == "" {
		t.Errorf("/api/me time %q (%v), message %q", me.Time, err, me.Message)
	}

	// userinfo (OIDC Core §5.3) with the same token.
	res = e.get(t, e.cfg.Issuer+"/userinfo", http.Header{"Authorization": {"Bearer " + tok.AccessToken}})
	if res.StatusCode != http.StatusOK {
		t.Fatalf("userinfo: status %d: %s", res.StatusCode, readBody(t, res))
	}
	var ui map[string]any
	decodeJSON(t, res, &ui)
	if ui["sub"] != sub || ui["email"] == nil {
		t.Errorf("userinfo = %v", ui)
	}

	// Refresh (RFC 6749 §6): a new access token, a rotated refresh token.
	ts := e.oauth2Config().TokenSource(e.ctx(t), &oauth2.Token{RefreshToken: tok.RefreshToken, Expiry: time.Now().Add(-time.Hour)})
	tok2, err := ts.Token()
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if tok2.AccessToken == tok.AccessToken || tok2.RefreshToken == "" || tok2.RefreshToken == tok.RefreshToken {
		t.Errorf("refresh did not issue a new access token and a rotated refresh token")
	}
	if res := e.callAPI(t, tok2.AccessToken); res.StatusCode != http.StatusOK {
		t.Errorf("/api/me with the refreshed token: status %d", res.StatusCode)
	}
	// The rotated-out refresh token is dead.
	_, err = e.oauth2Config().TokenSource(e.ctx(t), &oauth2.Token{RefreshToken: tok.RefreshToken, Expiry: time.Now().Add(-time.Hour)}).Token()
	if err == nil || retrieveErrorCode(t, err) != "invalid_grant" {
		t.Errorf("reusing a rotated refresh token: err %v, want invalid_grant", err)
	}

	// The test hooks saw all of it.
	s := e.stats(t)
	if s.Grants["authorization_code"] != 1 || s.Grants["refresh_token"] != 2 {
		t.Errorf("grants = %v, want authorization_code 1, refresh_token 2", s.Grants)
	}
	for path, want := range map[string]int{"/authorize": 1, loginPath: 2, "/authorize/callback": 1, "/oauth/token": 3, "/userinfo": 1} {
		if s.Requests[path] != want {
			t.Errorf("requests[%s] = %d, want %d (all: %v)", path, s.Requests[path], want, s.Requests)
		}
	}

	// RP-initiated logout: back to the app, and the session's refresh token is gone.
	q := url.Values{
		"id_token_hint":            {idToken},
		"post_logout_redirect_uri": {e.cfg.PostLogoutRedirectURI()},
		"state":                    {"bye"},
	}
	loc := location(t, e.get(t, e.cfg.Issuer+"/end_session?"+q.Encode(), nil), http.StatusFound)
	if want := e.cfg.PostLogoutRedirectURI() + "?state=bye"; loc.String() != want {
		t.Errorf("end_session redirected to %s, want %s", loc, want)
	}
	_, err = e.oauth2Config().TokenSource(e.ctx(t), &oauth2.Token{RefreshToken: tok2.RefreshToken, Expiry: time.Now().Add(-time.Hour)}).Token()
	if err == nil || retrieveErrorCode(t, err) != "invalid_grant" {
		t.Errorf("refresh after logout: err %v, want invalid_grant", err)
	}

	// A foreign post_logout_redirect_uri is refused, not followed.
	q.Set("post_logout_redirect_uri", "https://evil.example/")
	if res := e.get(t, e.cfg.Issuer+"/end_session?"+q.Encode(), nil); res.StatusCode/100 == 3 {
		t.Errorf("end_session with an unregistered post_logout_redirect_uri redirected to %s", res.Header.Get("Location"))
	}

	// Reset zeroes the counters.
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, e.cfg.AppOrigin+"/__test/reset", nil)
	if res := e.do(t, req); res.StatusCode != http.StatusOK {
		t.Fatalf("reset: status %d", res.StatusCode)
	}
	if s := e.stats(t); len(s.Requests) != 0 || s.Grants["authorization_code"] != 0 || s.Grants["refresh_token"] != 0 {
		t.Errorf("after reset: %+v", s)
	}
}

func TestNoRefreshTokenWithoutOfflineAccess(t *testing.T) {
	e := startServer(t, nil)
	conf := e.oauth2Config()
	conf.Scopes = []string{"openid"}
	verifier := oauth2.GenerateVerifier()
	f := &authFlow{verifier: verifier, state: "s1"}
	f.loginURL = location(t, e.get(t, conf.AuthCodeURL(f.state, oauth2.S256ChallengeOption(verifier)), nil), http.StatusFound)
	cb := location(t, e.submitLogin(t, f, "sign-in", demoUser, demoPassword), http.StatusFound)
	code := location(t, e.get(t, cb.String(), nil), http.StatusFound).Query().Get("code")
	tok, err := conf.Exchange(e.ctx(t), code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	if tok.RefreshToken != "" {
		t.Error("refresh token issued without offline_access")
	}
	if res := e.callAPI(t, tok.AccessToken); res.StatusCode != http.StatusOK {
		t.Errorf("/api/me: status %d", res.StatusCode)
	}
}

func TestWrongCodeVerifier(t *testing.T) {
	e := startServer(t, nil)
	_, q := e.signIn(t)
	_, err := e.oauth2Config().Exchange(e.ctx(t), q.Get("code"), oauth2.VerifierOption(oauth2.GenerateVerifier()))
	if err == nil {
		t.Fatal("exchange with a wrong code_verifier succeeded")
	}
	if code := retrieveErrorCode(t, err); code != "invalid_grant" {
		t.Errorf("error %q, want invalid_grant (RFC 7636 §4.6)", code)
	}
	// Without a verifier at all.
	_, err = e.oauth2Config().Exchange(e.ctx(t), q.Get("code"))
	if err == nil {
		t.Error("exchange without code_verifier succeeded")
	}
}

func TestCodeIsSingleUse(t *testing.T) {
	e := startServer(t, nil)
	f, q := e.signIn(t)
	if _, err := e.oauth2Config().Exchange(e.ctx(t), q.Get("code"), oauth2.VerifierOption(f.verifier)); err != nil {
		t.Fatal(err)
	}
	_, err := e.oauth2Config().Exchange(e.ctx(t), q.Get("code"), oauth2.VerifierOption(f.verifier))
	if err == nil || retrieveErrorCode(t, err) != "invalid_grant" {
		t.Errorf("second exchange of a code: %v, want invalid_grant", err)
	}
}

func TestDeny(t *testing.T) {
	e := startServer(t, nil)
	f := e.authorize(t)
	loc := location(t, e.submitLogin(t, f, "deny", "", ""), http.StatusFound)
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != e.cfg.RedirectURI() {
		t.Fatalf("deny redirected to %s, want %s", got, e.cfg.RedirectURI())
	}
	q := loc.Query()
	if q.Get("error") != "access_denied" || q.Get("state") != f.state || q.Has("code") {
		t.Errorf("deny redirect query = %v, want error=access_denied, state=%s, no code", q, f.state)
	}
	// The request is gone: the login page no longer knows it.
	if res := e.get(t, f.loginURL.String(), nil); res.StatusCode != http.StatusBadRequest {
		t.Errorf("login page after deny: status %d, want 400", res.StatusCode)
	}
}

func TestWrongPassword(t *testing.T) {
	e := startServer(t, nil)
	f := e.authorize(t)
	res := e.submitLogin(t, f, "sign-in", demoUser, "wrong")
	body := readBody(t, res)
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "Wrong username or password") ||
		!strings.Contains(body, `id="username" name="username" type="text" value="`+demoUser+`"`) {
		t.Fatalf("wrong password: status %d, body %.500s", res.StatusCode, body)
	}
	// The request survives: the right password still works.
	cb := location(t, e.submitLogin(t, f, "sign-in", demoUser, demoPassword), http.StatusFound)
	if q := location(t, e.get(t, cb.String(), nil), http.StatusFound).Query(); q.Get("code") == "" {
		t.Errorf("no code after a retry with the right password: %v", q)
	}
}

func TestPKCERequiredAtAuthorize(t *testing.T) {
	e := startServer(t, nil)
	conf := e.oauth2Config()
	for name, opts := range map[string][]oauth2.AuthCodeOption{
		"none":      nil,
		"plain":     {oauth2.SetAuthURLParam("code_challenge", oauth2.GenerateVerifier()), oauth2.SetAuthURLParam("code_challenge_method", "plain")},
		"no method": {oauth2.SetAuthURLParam("code_challenge", oauth2.GenerateVerifier())},
	} {
		t.Run(name, func(t *testing.T) {
			loc := location(t, e.get(t, conf.AuthCodeURL("s-"+name, opts...), nil), http.StatusFound)
			q := loc.Query()
			if q.Get("error") != "invalid_request" || q.Get("state") != "s-"+name {
				t.Errorf("redirect %s, want error=invalid_request with the state", loc.Redacted())
			}
		})
	}
	// An unregistered redirect_uri gets no redirect at all (RFC 6749 §4.1.2.1).
	conf.RedirectURL = "http://evil.example/callback"
	res := e.get(t, conf.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())), nil)
	if res.StatusCode/100 == 3 {
		t.Errorf("unregistered redirect_uri: redirected to %s", res.Header.Get("Location"))
	}
}

func TestTokenEndpointCORS(t *testing.T) {
	e := startServer(t, nil)
	form := url.Values{"grant_type": {"authorization_code"}, "code": {"nope"}, "client_id": {clientID},
		"code_verifier": {oauth2.GenerateVerifier()}, "redirect_uri": {e.cfg.RedirectURI()}}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, e.cfg.Issuer+"/oauth/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", e.cfg.AppOrigin)
	res := e.do(t, req)
	if got := res.Header.Get("Access-Control-Allow-Origin"); got != e.cfg.AppOrigin {
		t.Errorf("token endpoint Access-Control-Allow-Origin %q, want %q", got, e.cfg.AppOrigin)
	}
	var body map[string]string
	decodeJSON(t, res, &body)
	if res.StatusCode != http.StatusBadRequest || body["error"] != "invalid_grant" {
		t.Errorf("bogus code: status %d, body %v", res.StatusCode, body)
	}

	for _, path := range []string{"/.well-known/openid-configuration", "/keys"} {
		res := e.get(t, e.cfg.Issuer+path, http.Header{"Origin": {e.cfg.AppOrigin}})
		if got := res.Header.Get("Access-Control-Allow-Origin"); got != e.cfg.AppOrigin {
			t.Errorf("%s Access-Control-Allow-Origin %q", path, got)
		}
	}
	// Preflight for userinfo with Authorization.
	req, _ = http.NewRequestWithContext(t.Context(), http.MethodOptions, e.cfg.Issuer+"/userinfo", nil)
	req.Header.Set("Origin", e.cfg.AppOrigin)
	req.Header.Set("Access-Control-Request-Method", "GET")
	req.Header.Set("Access-Control-Request-Headers", "authorization")
	res = e.do(t, req)
	if res.Header.Get("Access-Control-Allow-Origin") != e.cfg.AppOrigin ||
		!strings.Contains(strings.ToLower(res.Header.Get("Access-Control-Allow-Headers")), "authorization") {
		t.Errorf("userinfo preflight: status %d, headers %v", res.StatusCode, res.Header)
	}
	if s := e.stats(t); s.Requests["/userinfo"] != 0 {
		t.Errorf("a preflight was counted: %v", s.Requests)
	}
	if s := e.stats(t); s.Grants["authorization_code"] != 1 {
		t.Errorf("grants = %v, want one authorization_code attempt", s.Grants)
	}
}
