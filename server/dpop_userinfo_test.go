package main

import (
	"net/http"
	"strings"
	"testing"
)

// RFC 9449 §7 at the OP's UserInfo endpoint: a bound token with the DPoP scheme and a proof for
// the UserInfo URL works; the same token as Bearer, without a proof, or with another key's proof
// does not; nonce mode (§9) asks for the OP's nonce; unbound tokens stay Bearer.
func TestDPoPUserInfo(t *testing.T) {
	e := startServer(t, nil)
	a, b := newDPoPTestKey(t), newDPoPTestKey(t)
	at := e.boundToken(t, a)
	ui := e.cfg.Issuer + "/userinfo"
	call := func(scheme, token string, proofs ...string) *http.Response {
		h := http.Header{"Authorization": {scheme + " " + token}}
		for _, p := range proofs {
			h.Add("DPoP", p)
		}
		return e.get(t, ui, h)
	}
	proof := func(k *dpopTestKey, nonce string) string {
		return k.proof(t, proofSpec{htm: "GET", htu: ui, accessToken: at, nonce: nonce})
	}

	res := call("DPoP", at, proof(a, ""))
	if res.StatusCode != http.StatusOK {
		t.Fatalf("DPoP userinfo: %d %s", res.StatusCode, readBody(t, res))
	}
	var claims map[string]any
	decodeJSON(t, res, &claims)
	if claims["sub"] == "" || claims["sub"] == nil {
		t.Errorf("userinfo without sub: %v", claims)
	}
	wantDPoPChallenge(t, call("Bearer", at), "invalid_token")
	form, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, ui, strings.NewReader("access_token="+at))
	form.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	wantDPoPChallenge(t, e.do(t, form), "invalid_token")
	wantDPoPChallenge(t, call("DPoP", at), dpopErrInvalidProof)
	wantDPoPChallenge(t, call("DPoP", at, proof(b, "")), dpopErrInvalidProof)
	wantDPoPChallenge(t, call("DPoP", at, b.proof(t, proofSpec{htm: "GET", htu: e.cfg.AppOrigin + "/api/me", accessToken: at})), dpopErrInvalidProof)

	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, e.cfg.Issuer+"/__test/dpop-nonce?on=1", nil)
	var st struct {
		Nonce string `json:"nonce"`
	}
	decodeJSON(t, e.do(t, req), &st)
	res = call("DPoP", at, proof(a, ""))
	wantDPoPChallenge(t, res, dpopErrUseNonce)
	if res.Header.Get("DPoP-Nonce") != st.Nonce || st.Nonce == "" {
		t.Fatalf("DPoP-Nonce %q, want %q", res.Header.Get("DPoP-Nonce"), st.Nonce)
	}
	if res := call("DPoP", at, proof(a, st.Nonce)); res.StatusCode != http.StatusOK {
		t.Fatalf("with the nonce: %d %s", res.StatusCode, readBody(t, res))
	}

	// An unbound token is unchanged: Bearer works.
	tok := e.login(t)
	if res := call("Bearer", tok.AccessToken); res.StatusCode != http.StatusOK {
		t.Fatalf("Bearer userinfo with an unbound token: %d %s", res.StatusCode, readBody(t, res))
	}
}
