package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// misbehave selects a case through POST /__test/misbehave.
func (e *testEnv) misbehave(t *testing.T, name string) misbehaveState {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"case": name})
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, e.cfg.AppOrigin+"/__test/misbehave", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	res := e.do(t, req)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("POST /__test/misbehave %q: status %d: %s", name, res.StatusCode, readBody(t, res))
	}
	var st misbehaveState
	decodeJSON(t, res, &st)
	if st.Case != name {
		t.Fatalf("active case %q, want %q", st.Case, name)
	}
	return st
}

func (e *testEnv) misbehaveState(t *testing.T) misbehaveState {
	t.Helper()
	var st misbehaveState
	decodeJSON(t, e.get(t, e.cfg.AppOrigin+"/__test/misbehave", nil), &st)
	return st
}

// exchange posts the authorization_code grant of flow f for code and returns the raw response.
// It sends an Origin header, as the browser does, to check that CORS headers survive a rewrite.
func (e *testEnv) exchange(t *testing.T, f *authFlow, code string) *http.Response {
	t.Helper()
	form := url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {code},
		"redirect_uri":  {e.cfg.RedirectURI()},
		"client_id":     {clientID},
		"code_verifier": {f.verifier},
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, e.cfg.Issuer+"/oauth/token", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", e.cfg.AppOrigin)
	return e.do(t, req)
}

// tokenResponseUnder signs in and exchanges the code with case name active, and returns the raw
// token response.
func (e *testEnv) tokenResponseUnder(t *testing.T, name string) *http.Response {
	t.Helper()
	e.misbehave(t, name)
	f, q := e.signIn(t) // the front channel is untouched by token-response cases
	return e.exchange(t, f, q.Get("code"))
}

// idTokenUnder returns the ID token of a token response produced with case name active.
func (e *testEnv) idTokenUnder(t *testing.T, name string) string {
	t.Helper()
	res := e.tokenResponseUnder(t, name)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("token response: status %d: %s", res.StatusCode, readBody(t, res))
	}
	var body map[string]any
	decodeJSON(t, res, &body)
	for _, k := range []string{"access_token", "token_type", "id_token", "refresh_token", "expires_in"} {
		if body[k] == nil {
			t.Errorf("token response lost %s", k)
		}
	}
	idt, _ := body["id_token"].(string)
	if idt == "" {
		t.Fatal("no id_token")
	}
	return idt
}

// jwks fetches the OP's JWK Set (this counts as a JWKS request).
func (e *testEnv) jwks(t *testing.T) jose.JSONWebKeySet {
	t.Helper()
	res := e.get(t, e.cfg.Issuer+"/keys", nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("/keys: status %d", res.StatusCode)
	}
	var set jose.JSONWebKeySet
	decodeJSON(t, res, &set)
	return set
}

func jwsHeader(t *testing.T, jwt string) map[string]any {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(strings.Split(jwt, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	var h map[string]any
	if err := json.Unmarshal(raw, &h); err != nil {
		t.Fatal(err)
	}
	return h
}

// verifyWith reports whether jwt's RS256 signature verifies with the key of kid in set.
func verifyWith(t *testing.T, jwt string, set jose.JSONWebKeySet, kid string) bool {
	t.Helper()
	keys := set.Key(kid)
	if len(keys) != 1 {
		t.Fatalf("%d keys with kid %q in the JWKS", len(keys), kid)
	}
	jws, err := jose.ParseSigned(jwt, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatalf("parse JWS: %v", err)
	}
	_, err = jws.Verify(keys[0].Key)
	return err == nil
}

// checkIntactClaims checks the ID token claims that no case except the named one changes.
func checkIntactClaims(t *testing.T, e *testEnv, claims map[string]any, except string) {
	t.Helper()
	if claims["iss"] != e.cfg.Issuer {
		t.Errorf("iss %v", claims["iss"])
	}
	if except != caseMissingSub && claims["sub"] == nil {
		t.Errorf("sub lost")
	}
	if except != caseWrongNonce && claims["nonce"] != "n-0S6_WzA2Mj" {
		t.Errorf("nonce %v", claims["nonce"])
	}
	if aud, _ := claims["aud"].([]any); except != caseWrongAud && !slices.Contains(aud, any(clientID)) {
		t.Errorf("aud %v", claims["aud"])
	}
	now := float64(time.Now().Unix())
	if exp, _ := claims["exp"].(float64); except != caseExpired && exp < now {
		t.Errorf("exp %v is in the past", claims["exp"])
	}
	if claims["preferred_username"] != demoUser {
		t.Errorf("preferred_username %v", claims["preferred_username"])
	}
}

func TestMisbehaveControl(t *testing.T) {
	e := startServer(t, nil)
	st := e.misbehaveState(t)
	if st.Case != "" || st.Applied != 0 || len(st.Cases) != len(misbehaveCases) {
		t.Fatalf("initial state %+v", st)
	}
	for _, body := range []string{`{"case":"nope"}`, `{}`, `not json`, `{"case":"wrong_state","x":1}`, `{"case":3}`} {
		res := e.do(t, mustRequest(t, http.MethodPost, e.cfg.AppOrigin+"/__test/misbehave", body))
		if res.StatusCode != http.StatusBadRequest {
			t.Errorf("POST %s: status %d, want 400", body, res.StatusCode)
		}
	}
	if res := e.do(t, mustRequest(t, http.MethodDelete, e.cfg.AppOrigin+"/__test/misbehave", "")); res.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("DELETE: status %d", res.StatusCode)
	}
	for _, name := range misbehaveCases {
		e.misbehave(t, name)
	}
	e.misbehave(t, "")
	e.misbehave(t, caseWrongState)
	e.jwks(t)
	// POST /__test/reset ends the case and restarts the JWKS count, and still answers the stats.
	res := e.do(t, mustRequest(t, http.MethodPost, e.cfg.AppOrigin+"/__test/reset", ""))
	var stats statsJSON
	decodeJSON(t, res, &stats)
	if res.StatusCode != http.StatusOK || len(stats.Requests) != 0 {
		t.Errorf("reset: status %d, stats %+v", res.StatusCode, stats)
	}
	if st := e.misbehaveState(t); st.Case != "" || st.KeysRequests != 0 {
		t.Errorf("after reset: %+v", st)
	}
	if res := e.get(t, e.cfg.AppOrigin+"/__test/reset", nil); res.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET /__test/reset: status %d", res.StatusCode)
	}
	// After a reset the OP behaves: a normal login works.
	f, q := e.signIn(t)
	if res := e.exchange(t, f, q.Get("code")); res.StatusCode != http.StatusOK {
		t.Errorf("exchange after reset: status %d", res.StatusCode)
	}
}

func mustRequest(t *testing.T, method, u, body string) *http.Request {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func TestMisbehaveOffWithoutTestHooks(t *testing.T) {
	e := startServer(t, func(c *Config) { c.TestHooks = false })
	for _, p := range []string{"/__test/misbehave", "/api/redirect"} {
		if res := e.get(t, e.cfg.AppOrigin+p, nil); res.StatusCode != http.StatusNotFound {
			t.Errorf("%s without -test-hooks: status %d, want 404", p, res.StatusCode)
		}
	}
}

func TestMisbehaveAuthorizationRedirect(t *testing.T) {
	e := startServer(t, nil)
	for _, name := range []string{caseWrongState, caseMissingState, caseWrongIss} {
		t.Run(name, func(t *testing.T) {
			e.misbehave(t, name)
			f := e.authorize(t)
			cb := location(t, e.submitLogin(t, f, "sign-in", demoUser, demoPassword), http.StatusFound)
			res := e.get(t, cb.String(), nil)
			redirect := location(t, res, http.StatusFound)
			if body := readBody(t, res); body != "" {
				t.Errorf("redirect body %q, want none (it would repeat the original URL)", body)
			}
			if got := redirect.Scheme + "://" + redirect.Host + redirect.Path; got != e.cfg.RedirectURI() {
				t.Fatalf("redirected to %s", got)
			}
			q := redirect.Query()
			if q.Get("code") == "" {
				t.Errorf("code lost: %v", q)
			}
			switch name {
			case caseWrongState:
				if s := q.Get("state"); s == "" || s == f.state {
					t.Errorf("state %q, want another non-empty value than %q", s, f.state)
				}
			case caseMissingState:
				if _, ok := q["state"]; ok {
					t.Errorf("state still present: %q", q.Get("state"))
				}
			case caseWrongIss:
				if q.Get("state") != f.state || q.Get("iss") != misbehaveOtherIssuer {
					t.Errorf("state %q iss %q, want state %q and iss %q", q.Get("state"), q.Get("iss"), f.state, misbehaveOtherIssuer)
				}
			}
			if st := e.misbehaveState(t); st.Applied != 1 {
				t.Errorf("applied %d, want 1 (only the redirect to the client)", st.Applied)
			}
		})
	}
}

func TestMisbehaveTokenResponse(t *testing.T) {
	e := startServer(t, nil)
	for _, tc := range []struct {
		name        string
		status      int
		contentType string
		check       func(t *testing.T, body string)
	}{
		{caseToken500, http.StatusInternalServerError, "text/plain", nil},
		{caseHTMLTokenResponse, http.StatusOK, "text/html", func(t *testing.T, body string) {
			if !strings.HasPrefix(body, "<!doctype html>") {
				t.Errorf("body %q", body)
			}
		}},
		{caseInvalidGrant, http.StatusBadRequest, "application/json", func(t *testing.T, body string) {
			var v map[string]string
			if err := json.Unmarshal([]byte(body), &v); err != nil || v["error"] != "invalid_grant" || v["error_description"] != misbehaveGrantDescription {
				t.Errorf("body %q (%v)", body, err)
			}
		}},
		{caseNoAccessToken, http.StatusOK, "application/json", func(t *testing.T, body string) {
			var v map[string]any
			if err := json.Unmarshal([]byte(body), &v); err != nil {
				t.Fatal(err)
			}
			if _, ok := v["access_token"]; ok {
				t.Error("access_token still present")
			}
			for _, k := range []string{"token_type", "id_token", "refresh_token", "expires_in"} {
				if v[k] == nil {
					t.Errorf("%s lost", k)
				}
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := e.tokenResponseUnder(t, tc.name)
			body := readBody(t, res)
			if res.StatusCode != tc.status || !strings.HasPrefix(res.Header.Get("Content-Type"), tc.contentType) {
				t.Errorf("status %d, Content-Type %q; want %d, %s", res.StatusCode, res.Header.Get("Content-Type"), tc.status, tc.contentType)
			}
			if got := res.Header.Get("Access-Control-Allow-Origin"); got != e.cfg.AppOrigin {
				t.Errorf("Access-Control-Allow-Origin %q lost in the rewrite", got)
			}
			if tc.check != nil {
				tc.check(t, body)
			}
			if st := e.misbehaveState(t); st.Applied != 1 {
				t.Errorf("applied %d, want 1", st.Applied)
			}
		})
	}
}

func TestMisbehaveIDToken(t *testing.T) {
	e := startServer(t, nil)
	set := e.jwks(t)
	if len(set.Keys) != 1 {
		t.Fatalf("JWKS has %d keys", len(set.Keys))
	}
	opKid := set.Keys[0].KeyID
	sk, err := e.srv.misbehave.opKey.SigningKey(t.Context())
	if err != nil || sk.ID() != opKid {
		t.Fatalf("OP signing key %v (%v), JWKS kid %q", sk, err, opKid)
	}

	t.Run(caseTamperedSignature, func(t *testing.T) {
		idt := e.idTokenUnder(t, caseTamperedSignature)
		if h := jwsHeader(t, idt); h["alg"] != "RS256" || h["kid"] != opKid {
			t.Errorf("header %v changed", h)
		}
		if verifyWith(t, idt, set, opKid) {
			t.Error("a tampered signature verifies")
		}
		checkIntactClaims(t, e, jwtClaims(t, idt), "")
	})

	t.Run(caseAlgNone, func(t *testing.T) {
		idt := e.idTokenUnder(t, caseAlgNone)
		parts := strings.Split(idt, ".")
		if len(parts) != 3 || parts[2] != "" {
			t.Fatalf("want header.payload. with an empty signature, got %d parts", len(parts))
		}
		if h := jwsHeader(t, idt); len(h) != 1 || h["alg"] != "none" {
			t.Errorf("header %v, want exactly {\"alg\":\"none\"}", h)
		}
		checkIntactClaims(t, e, jwtClaims(t, idt), "")
	})

	// Only the claim is wrong: the token still verifies with the OP's published key.
	for _, name := range []string{caseWrongAud, caseExpired, caseWrongNonce, caseMissingSub} {
		t.Run(name, func(t *testing.T) {
			idt := e.idTokenUnder(t, name)
			if h := jwsHeader(t, idt); h["alg"] != "RS256" || h["kid"] != opKid || h["typ"] != "JWT" {
				t.Errorf("header %v, want the OP's (RS256, kid %s, typ JWT)", h, opKid)
			}
			if !verifyWith(t, idt, set, opKid) {
				t.Fatal("the re-signed token does not verify with the OP's published key")
			}
			c := jwtClaims(t, idt)
			checkIntactClaims(t, e, c, name)
			now := time.Now()
			switch name {
			case caseWrongAud:
				if aud, _ := c["aud"].([]any); len(aud) != 1 || aud[0] != misbehaveOtherClient {
					t.Errorf("aud %v", c["aud"])
				}
			case caseExpired:
				exp, iat := int64(c["exp"].(float64)), int64(c["iat"].(float64))
				if d := now.Unix() - exp; d < 590 || d > 610 {
					t.Errorf("exp %d s ago, want 600", d)
				}
				if iat >= exp {
					t.Errorf("iat %d not before exp %d", iat, exp)
				}
				if at, ok := c["auth_time"].(float64); ok && int64(at) > iat {
					t.Errorf("auth_time %v after iat %d", at, iat)
				}
			case caseWrongNonce:
				if n, _ := c["nonce"].(string); n == "" || n == "n-0S6_WzA2Mj" {
					t.Errorf("nonce %q", n)
				}
			case caseMissingSub:
				if _, ok := c["sub"]; ok {
					t.Errorf("sub %v still present", c["sub"])
				}
			}
		})
	}

	t.Run(caseUnknownKid, func(t *testing.T) {
		idt := e.idTokenUnder(t, caseUnknownKid)
		kid, _ := jwsHeader(t, idt)["kid"].(string)
		if kid == "" || kid == opKid {
			t.Fatalf("kid %q", kid)
		}
		for range 3 { // never published
			if got := e.jwks(t); len(got.Key(kid)) != 0 || len(got.Keys) != 1 {
				t.Fatalf("the unknown kid %s is published: %d keys", kid, len(got.Keys))
			}
		}
		if err := e.srv.misbehave.makeExtraKeys(); err != nil { // (a no-op that orders the read below)
			t.Fatal(err)
		}
		pub := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &e.srv.misbehave.unknownKey.key.PublicKey, KeyID: kid}}}
		if !verifyWith(t, idt, pub, kid) {
			t.Error("the token does not verify with the unknown key")
		}
		checkIntactClaims(t, e, jwtClaims(t, idt), "")
	})

	t.Run(caseRotatedKey, func(t *testing.T) {
		e.do(t, mustRequest(t, http.MethodPost, e.cfg.AppOrigin+"/__test/reset", "")) // restart the JWKS count
		idt := e.idTokenUnder(t, caseRotatedKey)
		kid, _ := jwsHeader(t, idt)["kid"].(string)
		if kid == "" || kid == opKid {
			t.Fatalf("kid %q", kid)
		}
		first := e.jwks(t)
		if len(first.Key(kid)) != 0 || len(first.Keys) != 1 {
			t.Fatalf("JWKS request 1 already has the rotated key (%d keys)", len(first.Keys))
		}
		for i := 2; i <= 3; i++ {
			got := e.jwks(t)
			if len(got.Keys) != 2 || len(got.Key(opKid)) != 1 {
				t.Fatalf("JWKS request %d: %d keys, want the OP key and the rotated one", i, len(got.Keys))
			}
			if k := got.Key(kid)[0]; k.Use != "sig" || k.Algorithm != "RS256" || !k.IsPublic() {
				t.Errorf("rotated JWK %+v", k)
			}
			if !verifyWith(t, idt, got, kid) {
				t.Errorf("JWKS request %d: the token does not verify with the published rotated key", i)
			}
		}
		if st := e.misbehaveState(t); st.KeysRequests != 3 {
			t.Errorf("keysRequests %d, want 3", st.KeysRequests)
		}
		checkIntactClaims(t, e, jwtClaims(t, idt), "")
	})
}

func TestMisbehaveDiscovery(t *testing.T) {
	e := startServer(t, nil)
	var want map[string]any
	decodeJSON(t, e.get(t, e.cfg.Issuer+"/.well-known/openid-configuration", nil), &want)
	e.misbehave(t, caseDiscoveryIssuerMismatch)
	var got map[string]any
	decodeJSON(t, e.get(t, e.cfg.Issuer+"/.well-known/openid-configuration", nil), &got)
	if got["issuer"] != misbehaveOtherIssuer {
		t.Errorf("issuer %v, want %s", got["issuer"], misbehaveOtherIssuer)
	}
	delete(got, "issuer")
	delete(want, "issuer")
	a, _ := json.Marshal(got)
	b, _ := json.Marshal(want)
	if !bytes.Equal(a, b) {
		t.Errorf("other members changed:\n got %s\nwant %s", a, b)
	}
	// The authorization endpoint itself is untouched.
	e.authorize(t)
	if st := e.misbehaveState(t); st.Applied != 1 {
		t.Errorf("applied %d, want 1", st.Applied)
	}
}

func TestCrossOriginRedirect(t *testing.T) {
	e := startServer(t, nil)
	res := e.get(t, e.cfg.AppOrigin+"/api/redirect", http.Header{"Authorization": {"Bearer x"}})
	loc := location(t, res, http.StatusTemporaryRedirect)
	app, _ := url.Parse(e.cfg.AppOrigin)
	if want := "http://127.0.0.1:" + app.Port() + "/api/echo"; loc.String() != want {
		t.Errorf("Location %s, want %s", loc, want)
	}
	if res := e.do(t, mustRequest(t, http.MethodPost, e.cfg.AppOrigin+"/api/redirect", "")); res.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: status %d", res.StatusCode)
	}
}
