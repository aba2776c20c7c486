package main

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

const (
	wantNoToken     = `Bearer realm="pkce-wasm-demo"`
	wantInvalidPref = `Bearer realm="pkce-wasm-demo", error="invalid_token", error_description="`
)

func assertInvalidToken(t *testing.T, res *http.Response, wantDesc string) {
	t.Helper()
	if res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("status %d, want 401", res.StatusCode)
	}
	got := res.Header.Get("WWW-Authenticate")
	if !strings.HasPrefix(got, wantInvalidPref) || !strings.HasSuffix(got, `"`) {
		t.Fatalf("WWW-Authenticate %q, want prefix %q", got, wantInvalidPref)
	}
	desc := strings.TrimSuffix(strings.TrimPrefix(got, wantInvalidPref), `"`)
	if strings.ContainsAny(desc, "\"\\") || desc == "" {
		t.Errorf("error_description %q is empty or has characters RFC 6750 §3 forbids", desc)
	}
	if wantDesc != "" && !strings.Contains(desc, wantDesc) {
		t.Errorf("error_description %q, want it to mention %q", desc, wantDesc)
	}
}

func TestAPIMeRejects(t *testing.T) {
	e := startServer(t, nil)

	t.Run("no token", func(t *testing.T) {
		for _, h := range []http.Header{nil, {"Authorization": {"Basic dXNlcjpwYXNz"}}, {"Authorization": {"Bearer "}}} {
			res := e.get(t, e.cfg.AppOrigin+"/api/me", h)
			if res.StatusCode != http.StatusUnauthorized {
				t.Errorf("%v: status %d, want 401", h, res.StatusCode)
			}
			if got := res.Header.Get("WWW-Authenticate"); got != wantNoToken {
				t.Errorf("%v: WWW-Authenticate %q, want %q", h, got, wantNoToken)
			}
		}
	})

	t.Run("garbage", func(t *testing.T) {
		assertInvalidToken(t, e.callAPI(t, "not-a-jwt"), "")
		assertInvalidToken(t, e.callAPI(t, "abc.def.ghi"), "")
	})

	t.Run("signed by another key", func(t *testing.T) {
		// Claims the OP would issue, but signed with a key the OP never published.
		key, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: "attacker"}},
			(&jose.SignerOptions{}).WithType("JWT"))
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		payload, _ := json.Marshal(map[string]any{
			"iss": e.cfg.Issuer, "sub": "id1", "aud": []string{clientID}, "client_id": clientID,
			"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix(), "jti": "forged",
			"scope": "openid",
		})
		jws, err := signer.Sign(payload)
		if err != nil {
			t.Fatal(err)
		}
		forged, err := jws.CompactSerialize()
		if err != nil {
			t.Fatal(err)
		}
		assertInvalidToken(t, e.callAPI(t, forged), "signature")
	})

	t.Run("real token, wrong issuer origin", func(t *testing.T) {
		// A token of this OP presented to an API that trusts another issuer.
		other := startServer(t, nil)
		tok := other.login(t)
		assertInvalidToken(t, e.callAPI(t, tok.AccessToken), "issuer")
	})

	t.Run("CORS", func(t *testing.T) {
		res := e.get(t, e.cfg.AppOrigin+"/api/me", http.Header{"Origin": {e.cfg.AppOrigin}})
		if res.Header.Get("Access-Control-Allow-Origin") != e.cfg.AppOrigin {
			t.Errorf("app origin not allowed: %v", res.Header)
		}
		res = e.get(t, e.cfg.AppOrigin+"/api/me", http.Header{"Origin": {"http://evil.example"}})
		if got := res.Header.Get("Access-Control-Allow-Origin"); got != "" {
			t.Errorf("foreign origin allowed: %q", got)
		}
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodOptions, e.cfg.AppOrigin+"/api/me", nil)
		req.Header.Set("Origin", e.cfg.AppOrigin)
		req.Header.Set("Access-Control-Request-Method", "GET")
		req.Header.Set("Access-Control-Request-Headers", "authorization")
		res = e.do(t, req)
		if res.StatusCode != http.StatusNoContent || res.Header.Get("Access-Control-Allow-Headers") != "Authorization, DPoP" ||
			res.Header.Get("Access-Control-Allow-Origin") != e.cfg.AppOrigin {
			t.Errorf("preflight: status %d, headers %v", res.StatusCode, res.Header)
		}
	})
}

func TestAPIMeExpiredToken(t *testing.T) {
	e := startServer(t, func(c *Config) { c.AccessTokenTTL = 2 * time.Second })
	tok := e.login(t)
	if res := e.callAPI(t, tok.AccessToken); res.StatusCode != http.StatusOK {
		t.Fatalf("fresh token: status %d", res.StatusCode)
	}
	time.Sleep(time.Until(tok.Expiry) + 1100*time.Millisecond)
	assertInvalidToken(t, e.callAPI(t, tok.AccessToken), "expired")
}

func TestEcho(t *testing.T) {
	e := startServer(t, nil)
	for _, tc := range []struct {
		header http.Header
		auth   bool
		origin string
	}{
		{nil, false, ""},
		{http.Header{"Authorization": {"Bearer x"}, "Origin": {"http://localhost:1"}}, true, "http://localhost:1"},
	} {
		res := e.get(t, e.cfg.AppOrigin+"/api/echo", tc.header)
		if res.Header.Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("echo Access-Control-Allow-Origin %q", res.Header.Get("Access-Control-Allow-Origin"))
		}
		var body map[string]any
		decodeJSON(t, res, &body)
		if body["authorization"] != tc.auth || body["origin"] != tc.origin || len(body) != 2 {
			t.Errorf("echo %v = %v", tc.header, body)
		}
	}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodOptions, e.cfg.AppOrigin+"/api/echo", nil)
	req.Header.Set("Origin", "http://localhost:1")
	req.Header.Set("Access-Control-Request-Method", "GET")
	req.Header.Set("Access-Control-Request-Headers", "authorization")
	res := e.do(t, req)
	if res.StatusCode != http.StatusNoContent || res.Header.Get("Access-Control-Allow-Origin") != "*" ||
		res.Header.Get("Access-Control-Allow-Headers") != "authorization" {
		t.Errorf("echo preflight: status %d, headers %v", res.StatusCode, res.Header)
	}
}

func TestConfigJSON(t *testing.T) {
	e := startServer(t, nil)
	res := e.get(t, e.cfg.AppOrigin+"/config.json", nil)
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("status %d, content type %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	var got map[string]any
	decodeJSON(t, res, &got)
	want := map[string]any{
		"issuer":                e.cfg.Issuer,
		"clientId":              "pkce-demo",
		"redirectUri":           e.cfg.AppOrigin + "/callback",
		"postLogoutRedirectUri": e.cfg.AppOrigin + "/",
		"scope":                 "openid profile email offline_access",
		"resourceOrigins":       []any{e.cfg.AppOrigin},
	}
	gotJSON, _ := json.Marshal(got)
	wantJSON, _ := json.Marshal(want)
	if string(gotJSON) != string(wantJSON) {
		t.Errorf("config.json = %s, want %s", gotJSON, wantJSON)
	}
}

// TestAPIMeClaimChecks drives the API's verifier with tokens signed by a key published on a
// separate JWKS endpoint (httptest), to cover claims the OP itself never gets wrong.
func TestAPIMeClaimChecks(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	jwks, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	keysSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(jwks)
	}))
	defer keysSrv.Close()
	cfg := Config{AppOrigin: "http://app.test", Issuer: keysSrv.URL, AccessTokenTTL: time.Minute}
	api := newProtectedAPI(cfg, keysSrv.URL+"/keys")

	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: "k1"}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	sign := func(edit func(map[string]any)) string {
		now := time.Now()
		c := map[string]any{"iss": keysSrv.URL, "sub": "u1", "aud": []string{clientID}, "iat": now.Unix(),
			"exp": now.Add(time.Minute).Unix(), "scope": "openid email"}
		edit(c)
		payload, _ := json.Marshal(c)
		jws, err := signer.Sign(payload)
		if err != nil {
			t.Fatal(err)
		}
		s, _ := jws.CompactSerialize()
		return s
	}
	call := func(token string) *http.Response {
		req := httptest.NewRequest(http.MethodGet, "/api/me", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		api.me(rec, req)
		return rec.Result()
	}

	res := call(sign(func(map[string]any) {}))
	if res.StatusCode != http.StatusOK {
		t.Fatalf("valid token: status %d, %s", res.StatusCode, res.Header.Get("WWW-Authenticate"))
	}
	var me meResponse
	json.NewDecoder(res.Body).Decode(&me)
	if me.Sub != "u1" || me.Scope != "openid email" || me.Scheme != "Bearer" {
		t.Errorf("me = %+v", me)
	}
	for name, tc := range map[string]struct {
		edit func(map[string]any)
		desc string
	}{
		"wrong aud":   {func(c map[string]any) { c["aud"] = []string{"other-client"} }, "not meant for this client"},
		"no aud":      {func(c map[string]any) { delete(c, "aud") }, "not meant for this client"},
		"wrong iss":   {func(c map[string]any) { c["iss"] = "http://evil.example" }, "another issuer"},
		"expired":     {func(c map[string]any) { c["exp"] = time.Now().Add(-time.Second).Unix() }, "expired"},
		"no sub":      {func(c map[string]any) { delete(c, "sub") }, ""},
		"aud as text": {func(c map[string]any) { c["aud"] = "other-client" }, "not meant for this client"},
	} {
		t.Run(name, func(t *testing.T) { assertInvalidToken(t, call(sign(tc.edit)), tc.desc) })
	}
	t.Run("alg none", func(t *testing.T) {
		good := strings.Split(sign(func(map[string]any) {}), ".")
		unsigned := "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0." + good[1] + "."
		assertInvalidToken(t, call(unsigned), "")
	})
}
