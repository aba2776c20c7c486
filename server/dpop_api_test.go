package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// boundToken logs in with a DPoP proof by k and returns the DPoP-bound access token.
func (e *testEnv) boundToken(t *testing.T, k *dpopTestKey) string {
	t.Helper()
	f, code := e.signInWith(t, url.Values{"dpop_jkt": {k.jkt}})
	r := e.tokenRequest(t, codeForm(f, code, e), e.tokenProof(t, k, ""))
	if r.status != http.StatusOK || r.str("token_type") != "DPoP" {
		t.Fatalf("DPoP exchange: %d %v", r.status, r.body)
	}
	return r.str("access_token")
}

// callAPIWith GETs path on the app origin with Authorization "<scheme> <token>" and the proofs.
func (e *testEnv) callAPIWith(t *testing.T, path, scheme, token string, proofs ...string) *http.Response {
	t.Helper()
	h := http.Header{"Authorization": {scheme + " " + token}}
	for _, p := range proofs {
		h.Add("DPoP", p)
	}
	return e.get(t, e.cfg.AppOrigin+path, h)
}

func (e *testEnv) apiProof(t *testing.T, k *dpopTestKey, token, nonce string) string {
	return k.proof(t, proofSpec{htm: "GET", htu: e.cfg.AppOrigin + "/api/me", accessToken: token, nonce: nonce})
}

func wantDPoPChallenge(t *testing.T, res *http.Response, code string) {
	t.Helper()
	if res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("status %d, want 401: %s", res.StatusCode, readBody(t, res))
	}
	got := res.Header.Get("WWW-Authenticate")
	if !strings.HasPrefix(got, "DPoP ") || !strings.Contains(got, `error="`+code+`"`) || !strings.Contains(got, `algs="ES256"`) {
		t.Fatalf("WWW-Authenticate %q, want a DPoP challenge with error=%q", got, code)
	}
}

func TestDPoPAPI(t *testing.T) {
	e := startServer(t, nil)
	a, b := newDPoPTestKey(t), newDPoPTestKey(t)
	at := e.boundToken(t, a)

	// The good case: DPoP scheme, proof by the bound key for this request.
	res := e.callAPIWith(t, "/api/me", "DPoP", at, e.apiProof(t, a, at, ""))
	if res.StatusCode != http.StatusOK {
		t.Fatalf("DPoP request: %d %s", res.StatusCode, readBody(t, res))
	}
	var me meResponse
	decodeJSON(t, res, &me)
	if me.Sub == "" {
		t.Error("no sub")
	}
	// The scheme is case-insensitive; htu ignores the query.
	res = e.get(t, e.cfg.AppOrigin+"/api/me?x=1", http.Header{"Authorization": {"dpop " + at}, "DPoP": {e.apiProof(t, a, at, "")}})
	if res.StatusCode != http.StatusOK {
		t.Errorf("lower-case scheme, query: %d", res.StatusCode)
	}

	replayed := e.apiProof(t, a, at, "")
	e.callAPIWith(t, "/api/me", "DPoP", at, replayed)
	for _, tc := range []struct {
		name string
		res  func() *http.Response
		code string
	}{
		{"bound token as Bearer", func() *http.Response { return e.callAPIWith(t, "/api/me", "Bearer", at) }, "invalid_token"},
		{"bound token as Bearer with a proof", func() *http.Response {
			return e.callAPIWith(t, "/api/me", "Bearer", at, e.apiProof(t, a, at, ""))
		}, "invalid_token"},
		{"no proof", func() *http.Response { return e.callAPIWith(t, "/api/me", "DPoP", at) }, dpopErrInvalidProof},
		{"proof by another key", func() *http.Response {
			return e.callAPIWith(t, "/api/me", "DPoP", at, e.apiProof(t, b, at, ""))
		}, dpopErrInvalidProof},
		{"replayed proof", func() *http.Response { return e.callAPIWith(t, "/api/me", "DPoP", at, replayed) }, dpopErrInvalidProof},
		{"proof without ath", func() *http.Response {
			return e.callAPIWith(t, "/api/me", "DPoP", at, a.proof(t, proofSpec{htm: "GET", htu: e.cfg.AppOrigin + "/api/me"}))
		}, dpopErrInvalidProof},
		{"proof for another token", func() *http.Response {
			return e.callAPIWith(t, "/api/me", "DPoP", at, e.apiProof(t, a, at+"x", ""))
		}, dpopErrInvalidProof},
		{"proof for POST", func() *http.Response {
			return e.callAPIWith(t, "/api/me", "DPoP", at, a.proof(t, proofSpec{htm: "POST", htu: e.cfg.AppOrigin + "/api/me", accessToken: at}))
		}, dpopErrInvalidProof},
		{"proof for another URL", func() *http.Response {
			return e.callAPIWith(t, "/api/me", "DPoP", at, a.proof(t, proofSpec{htm: "GET", htu: e.cfg.AppOrigin + "/api/echo", accessToken: at}))
		}, dpopErrInvalidProof},
		{"proof for the token endpoint", func() *http.Response {
			return e.callAPIWith(t, "/api/me", "DPoP", at, e.tokenProof(t, a, ""))
		}, dpopErrInvalidProof},
		{"two proofs", func() *http.Response {
			return e.callAPIWith(t, "/api/me", "DPoP", at, e.apiProof(t, a, at, ""), e.apiProof(t, a, at, ""))
		}, dpopErrInvalidProof},
	} {
		t.Run(tc.name, func(t *testing.T) { wantDPoPChallenge(t, tc.res(), tc.code) })
	}

	// A Bearer token (no cnf) keeps working as Bearer, and is refused under the DPoP scheme.
	bearer := e.login(t).AccessToken
	if res := e.callAPI(t, bearer); res.StatusCode != http.StatusOK {
		t.Errorf("Bearer token: %d", res.StatusCode)
	}
	wantDPoPChallenge(t, e.callAPIWith(t, "/api/me", "DPoP", bearer, e.apiProof(t, a, bearer, "")), "invalid_token")

	// The lifecycle test endpoints check DPoP the same way.
	if res := e.callAPIWith(t, "/api/flaky?id=dpop&fail=0", "DPoP", at, a.proof(t, proofSpec{htm: "GET", htu: e.cfg.AppOrigin + "/api/flaky", accessToken: at})); res.StatusCode != http.StatusOK {
		t.Errorf("/api/flaky with DPoP: %d", res.StatusCode)
	}
	wantDPoPChallenge(t, e.callAPIWith(t, "/api/flaky?id=dpop2&fail=0", "Bearer", at), "invalid_token")
	res = e.callAPIWith(t, "/api/forbidden?id=dpop3", "DPoP", at, a.proof(t, proofSpec{htm: "GET", htu: e.cfg.AppOrigin + "/api/forbidden", accessToken: at}))
	if got := res.Header.Get("WWW-Authenticate"); res.StatusCode != http.StatusForbidden || !strings.HasPrefix(got, "DPoP ") || !strings.Contains(got, `error="insufficient_scope"`) {
		t.Errorf("/api/forbidden with DPoP: %d, WWW-Authenticate %q", res.StatusCode, got)
	}

	// CORS: the app origin may send DPoP and read DPoP-Nonce and WWW-Authenticate.
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodOptions, e.cfg.AppOrigin+"/api/me", nil)
	req.Header.Set("Origin", e.cfg.AppOrigin)
	req.Header.Set("Access-Control-Request-Method", "GET")
	req.Header.Set("Access-Control-Request-Headers", "authorization,dpop")
	res = e.do(t, req)
	if !strings.Contains(res.Header.Get("Access-Control-Allow-Headers"), "DPoP") {
		t.Errorf("preflight Allow-Headers %q lacks DPoP", res.Header.Get("Access-Control-Allow-Headers"))
	}
	res = e.get(t, e.cfg.AppOrigin+"/api/me", http.Header{"Origin": {e.cfg.AppOrigin}})
	if exp := res.Header.Get("Access-Control-Expose-Headers"); !strings.Contains(exp, "DPoP-Nonce") || !strings.Contains(exp, "WWW-Authenticate") {
		t.Errorf("Expose-Headers %q", exp)
	}
}

func TestDPoPAPINonce(t *testing.T) {
	e := startServer(t, nil)
	a := newDPoPTestKey(t)
	at := e.boundToken(t, a)
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, e.cfg.AppOrigin+"/__test/dpop-nonce?on=1", nil)
	var st struct {
		On    bool   `json:"on"`
		Nonce string `json:"nonce"`
	}
	decodeJSON(t, e.do(t, req), &st)
	if !st.On || st.Nonce == "" {
		t.Fatalf("nonce hook: %+v", st)
	}
	// The OP's nonce is separate: the token endpoint still takes proofs without one.
	var opState struct {
		On bool `json:"on"`
	}
	decodeJSON(t, e.get(t, e.cfg.Issuer+"/__test/dpop-nonce", nil), &opState)
	if opState.On {
		t.Error("turning the API's nonce on turned the OP's on")
	}

	res := e.callAPIWith(t, "/api/me", "DPoP", at, e.apiProof(t, a, at, ""))
	wantDPoPChallenge(t, res, dpopErrUseNonce)
	if res.Header.Get("DPoP-Nonce") != st.Nonce {
		t.Fatalf("DPoP-Nonce %q, want %q", res.Header.Get("DPoP-Nonce"), st.Nonce)
	}
	if res := e.callAPIWith(t, "/api/me", "DPoP", at, e.apiProof(t, a, at, st.Nonce)); res.StatusCode != http.StatusOK {
		t.Fatalf("with the nonce: %d %s", res.StatusCode, readBody(t, res))
	}
}

func TestDPoPUserinfo(t *testing.T) {
	e := startServer(t, nil)
	a, b := newDPoPTestKey(t), newDPoPTestKey(t)
	at := e.boundToken(t, a)
	userinfo := e.cfg.Issuer + "/userinfo"
	proof := func(k *dpopTestKey) string {
		return k.proof(t, proofSpec{htm: "GET", htu: userinfo, accessToken: at})
	}
	res := e.get(t, userinfo, http.Header{"Authorization": {"DPoP " + at}, "DPoP": {proof(a)}})
	if res.StatusCode != http.StatusOK {
		t.Fatalf("userinfo with DPoP: %d %s", res.StatusCode, readBody(t, res))
	}
	var ui map[string]any
	decodeJSON(t, res, &ui)
	if ui["sub"] == nil || ui["email"] == nil {
		t.Errorf("userinfo = %v", ui)
	}
	wantDPoPChallenge(t, e.get(t, userinfo, http.Header{"Authorization": {"Bearer " + at}}), "invalid_token")
	wantDPoPChallenge(t, e.get(t, userinfo, http.Header{"Authorization": {"DPoP " + at}}), dpopErrInvalidProof)
	wantDPoPChallenge(t, e.get(t, userinfo, http.Header{"Authorization": {"DPoP " + at}, "DPoP": {proof(b)}}), dpopErrInvalidProof)
	// As a form parameter (RFC 6750 §2.2) it is refused too.
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, userinfo, strings.NewReader(url.Values{"access_token": {at}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	wantDPoPChallenge(t, e.do(t, req), "invalid_token")
	// A Bearer token still works as Bearer.
	bearer := e.login(t).AccessToken
	if res := e.get(t, userinfo, http.Header{"Authorization": {"Bearer " + bearer}}); res.StatusCode != http.StatusOK {
		t.Errorf("Bearer token at userinfo: %d", res.StatusCode)
	}
}
