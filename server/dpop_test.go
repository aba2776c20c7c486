package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"
)

// dpopTestKey is a client's DPoP key pair.
type dpopTestKey struct {
	priv *ecdsa.PrivateKey
	jkt  string
}

func newDPoPTestKey(t *testing.T) *dpopTestKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	// The thumbprint computed independently of dpop.go: RFC 7638 §3.2 members in order.
	x, y := k.PublicKey.X.FillBytes(make([]byte, 32)), k.PublicKey.Y.FillBytes(make([]byte, 32))
	b64 := base64.RawURLEncoding.EncodeToString
	sum := sha256.Sum256([]byte(`{"crv":"P-256","kty":"EC","x":"` + b64(x) + `","y":"` + b64(y) + `"}`))
	return &dpopTestKey{priv: k, jkt: b64(sum[:])}
}

func (k *dpopTestKey) publicJWK() map[string]any {
	b64 := base64.RawURLEncoding.EncodeToString
	return map[string]any{
		"kty": "EC", "crv": "P-256",
		"x": b64(k.priv.PublicKey.X.FillBytes(make([]byte, 32))),
		"y": b64(k.priv.PublicKey.Y.FillBytes(make([]byte, 32))),
	}
}

// proofSpec describes a proof; the zero values of the overrides give a good proof.
type proofSpec struct {
	htm, htu, nonce, accessToken string
	iat                          time.Time
	jti                          string
	header                       func(map[string]any) // edits the JOSE header
	claims                       func(map[string]any) // edits the claims
	signer                       *ecdsa.PrivateKey    // signs instead of the key in the header
}

// proof builds a DPoP proof JWT by hand (RFC 9449 §4.2).
func (k *dpopTestKey) proof(t *testing.T, s proofSpec) string {
	t.Helper()
	if s.iat.IsZero() {
		s.iat = time.Now()
	}
	if s.jti == "" {
		s.jti = oauth2.GenerateVerifier()
	}
	header := map[string]any{"typ": "dpop+jwt", "alg": "ES256", "jwk": k.publicJWK()}
	claims := map[string]any{"jti": s.jti, "htm": s.htm, "htu": s.htu, "iat": s.iat.Unix()}
	if s.nonce != "" {
		claims["nonce"] = s.nonce
	}
	if s.accessToken != "" {
		sum := sha256.Sum256([]byte(s.accessToken))
		claims["ath"] = base64.RawURLEncoding.EncodeToString(sum[:])
	}
	if s.header != nil {
		s.header(header)
	}
	if s.claims != nil {
		s.claims(claims)
	}
	hb, _ := json.Marshal(header)
	cb, _ := json.Marshal(claims)
	input := base64.RawURLEncoding.EncodeToString(hb) + "." + base64.RawURLEncoding.EncodeToString(cb)
	signer := k.priv
	if s.signer != nil {
		signer = s.signer
	}
	digest := sha256.Sum256([]byte(input))
	r, ss, err := ecdsa.Sign(rand.Reader, signer, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	sig := append(r.FillBytes(make([]byte, 32)), ss.FillBytes(make([]byte, 32))...)
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

const testHTU = "https://as.example/oauth/token"

func TestDPoPVerifierRules(t *testing.T) {
	k := newDPoPTestKey(t)
	other := newDPoPTestKey(t)
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rsaJWK, _ := json.Marshal(jose.JSONWebKey{Key: &rsaKey.PublicKey})
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	p384JWK, _ := json.Marshal(jose.JSONWebKey{Key: &p384.PublicKey})
	good := func() proofSpec { return proofSpec{htm: "POST", htu: testHTU} }
	expect := dpopExpect{method: "POST", url: testHTU}

	type tc struct {
		name   string
		values func() []string
		want   dpopExpect
		code   string // "" = accepted
	}
	one := func(s proofSpec) func() []string { return func() []string { return []string{k.proof(t, s)} } }
	with := func(edit func(*proofSpec)) func() []string {
		s := good()
		edit(&s)
		return one(s)
	}
	bad := dpopErrInvalidProof
	cases := []tc{
		{"good", one(good()), expect, ""},
		{"htu with query and fragment, other case host, default port", with(func(s *proofSpec) { s.htu = "HTTPS://AS.example:443/oauth/token?x=1#f" }), expect, ""},
		{"no header", func() []string { return nil }, expect, bad},
		{"two headers", func() []string { return []string{k.proof(t, good()), k.proof(t, good())} }, expect, bad},
		{"not a JWT", func() []string { return []string{"abc.def"} }, expect, bad},
		{"JWE-like five parts", func() []string { return []string{"a.b.c.d.e"} }, expect, bad},
		{"header not base64url", func() []string {
			p := strings.Split(k.proof(t, good()), ".")
			return []string{"!!" + "." + p[1] + "." + p[2]}
		}, expect, bad},
		{"header not an object", func() []string {
			p := strings.Split(k.proof(t, good()), ".")
			return []string{base64.RawURLEncoding.EncodeToString([]byte(`"x"`)) + "." + p[1] + "." + p[2]}
		}, expect, bad},
		{"typ JWT", with(func(s *proofSpec) { s.header = func(h map[string]any) { h["typ"] = "JWT" } }), expect, bad},
		{"typ missing", with(func(s *proofSpec) { s.header = func(h map[string]any) { delete(h, "typ") } }), expect, bad},
		{"alg none", with(func(s *proofSpec) { s.header = func(h map[string]any) { h["alg"] = "none" } }), expect, bad},
		{"alg HS256", with(func(s *proofSpec) { s.header = func(h map[string]any) { h["alg"] = "HS256" } }), expect, bad},
		{"alg RS256 with an RSA jwk", with(func(s *proofSpec) {
			s.header = func(h map[string]any) { h["alg"] = "RS256"; h["jwk"] = json.RawMessage(rsaJWK) }
		}), expect, bad},
		{"jwk missing", with(func(s *proofSpec) { s.header = func(h map[string]any) { delete(h, "jwk") } }), expect, bad},
		{"jwk with private d", with(func(s *proofSpec) {
			s.header = func(h map[string]any) {
				h["jwk"].(map[string]any)["d"] = base64.RawURLEncoding.EncodeToString(k.priv.D.FillBytes(make([]byte, 32)))
			}
		}), expect, bad},
		{"jwk symmetric", with(func(s *proofSpec) {
			s.header = func(h map[string]any) { h["jwk"] = map[string]any{"kty": "oct", "k": "c2VjcmV0"} }
		}), expect, bad},
		{"jwk RSA under ES256", with(func(s *proofSpec) { s.header = func(h map[string]any) { h["jwk"] = json.RawMessage(rsaJWK) } }), expect, bad},
		{"jwk P-384 under ES256", with(func(s *proofSpec) { s.header = func(h map[string]any) { h["jwk"] = json.RawMessage(p384JWK) } }), expect, bad},
		{"jwk not a point on the curve", with(func(s *proofSpec) {
			s.header = func(h map[string]any) { h["jwk"].(map[string]any)["y"] = h["jwk"].(map[string]any)["x"] }
		}), expect, bad},
		{"signed by another key", with(func(s *proofSpec) { s.signer = other.priv }), expect, bad},
		{"payload changed after signing", func() []string {
			p := strings.Split(k.proof(t, good()), ".")
			cb, _ := json.Marshal(map[string]any{"jti": "x", "htm": "POST", "htu": testHTU, "iat": time.Now().Unix()})
			return []string{p[0] + "." + base64.RawURLEncoding.EncodeToString(cb) + "." + p[2]}
		}, expect, bad},
		{"signature truncated", func() []string { p := k.proof(t, good()); return []string{p[:len(p)-4]} }, expect, bad},
		{"jti missing", with(func(s *proofSpec) { s.claims = func(c map[string]any) { delete(c, "jti") } }), expect, bad},
		{"jti not a string", with(func(s *proofSpec) { s.claims = func(c map[string]any) { c["jti"] = 7 } }), expect, bad},
		{"htm missing", with(func(s *proofSpec) { s.claims = func(c map[string]any) { delete(c, "htm") } }), expect, bad},
		{"htu missing", with(func(s *proofSpec) { s.claims = func(c map[string]any) { delete(c, "htu") } }), expect, bad},
		{"iat missing", with(func(s *proofSpec) { s.claims = func(c map[string]any) { delete(c, "iat") } }), expect, bad},
		{"iat a string", with(func(s *proofSpec) { s.claims = func(c map[string]any) { c["iat"] = "now" } }), expect, bad},
		{"htm GET", with(func(s *proofSpec) { s.htm = "GET" }), expect, bad},
		{"htm lower case", with(func(s *proofSpec) { s.htm = "post" }), expect, bad},
		{"htu other path", with(func(s *proofSpec) { s.htu = "https://as.example/oauth/token2" }), expect, bad},
		{"htu other host", with(func(s *proofSpec) { s.htu = "https://rs.example/oauth/token" }), expect, bad},
		{"htu other port", with(func(s *proofSpec) { s.htu = "https://as.example:8443/oauth/token" }), expect, bad},
		{"htu other scheme", with(func(s *proofSpec) { s.htu = "http://as.example/oauth/token" }), expect, bad},
		{"htu relative", with(func(s *proofSpec) { s.htu = "/oauth/token" }), expect, bad},
		{"iat 2 minutes old", with(func(s *proofSpec) { s.iat = time.Now().Add(-2 * time.Minute) }), expect, bad},
		{"iat 2 minutes ahead", with(func(s *proofSpec) { s.iat = time.Now().Add(2 * time.Minute) }), expect, bad},
		{"iat 30 seconds old", with(func(s *proofSpec) { s.iat = time.Now().Add(-30 * time.Second) }), expect, ""},
		{"nonce required, missing", one(good()), dpopExpect{method: "POST", url: testHTU, nonce: "n1"}, dpopErrUseNonce},
		{"nonce required, wrong", with(func(s *proofSpec) { s.nonce = "n0" }), dpopExpect{method: "POST", url: testHTU, nonce: "n1"}, dpopErrUseNonce},
		{"nonce required, right", with(func(s *proofSpec) { s.nonce = "n1" }), dpopExpect{method: "POST", url: testHTU, nonce: "n1"}, ""},
		{"ath required, missing", one(good()), dpopExpect{method: "POST", url: testHTU, accessToken: "at1"}, bad},
		{"ath for another token", with(func(s *proofSpec) { s.accessToken = "at0" }), dpopExpect{method: "POST", url: testHTU, accessToken: "at1"}, bad},
		{"ath right", with(func(s *proofSpec) { s.accessToken = "at1" }), dpopExpect{method: "POST", url: testHTU, accessToken: "at1"}, ""},
		{"jkt of another key", one(good()), dpopExpect{method: "POST", url: testHTU, jkt: other.jkt}, bad},
		{"jkt right", one(good()), dpopExpect{method: "POST", url: testHTU, jkt: k.jkt}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := newDPoPVerifier()
			proof, err := v.verify(c.values(), c.want)
			if c.code == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if proof.jkt != k.jkt {
					t.Errorf("jkt %q, want %q", proof.jkt, k.jkt)
				}
				return
			}
			var de *dpopError
			if !errors.As(err, &de) || de.code != c.code {
				t.Fatalf("err %v, want %s", err, c.code)
			}
			if strings.ContainsAny(de.description, "\"\\") {
				t.Errorf("description %q cannot go into a WWW-Authenticate quoted string", de.description)
			}
		})
	}

	t.Run("replay", func(t *testing.T) {
		v := newDPoPVerifier()
		p := k.proof(t, good())
		if _, err := v.verify([]string{p}, expect); err != nil {
			t.Fatal(err)
		}
		if _, err := v.verify([]string{p}, expect); err == nil {
			t.Fatal("the same proof was accepted twice")
		}
		// Another proof with the same jti is a replay too.
		if _, err := v.verify([]string{k.proof(t, proofSpec{htm: "POST", htu: testHTU, jti: jtiOf(t, p)})}, expect); err == nil {
			t.Fatal("a second proof with the same jti was accepted")
		}
	})
	t.Run("replay cache expires", func(t *testing.T) {
		v := newDPoPVerifier()
		now := time.Now()
		v.now = func() time.Time { return now }
		if err := v.checkReplay("j"); err != nil {
			t.Fatal(err)
		}
		now = now.Add(2*dpopIATWindow + time.Second)
		if err := v.checkReplay("j"); err != nil {
			t.Fatalf("jti not forgotten after twice the iat window: %v", err)
		}
		if len(v.seen) != 1 {
			t.Errorf("%d jtis kept, want 1", len(v.seen))
		}
	})
}

func jtiOf(t *testing.T, proof string) string {
	t.Helper()
	var c dpopClaims
	if err := dpopDecodeSegment(strings.Split(proof, ".")[1], "payload", &c); err != nil {
		t.Fatal(err)
	}
	return c.JTI
}

// signInWith runs the front channel with extra authorization parameters and returns the code.
func (e *testEnv) signInWith(t *testing.T, extra url.Values) (*authFlow, string) {
	t.Helper()
	f := &authFlow{verifier: oauth2.GenerateVerifier(), state: "st-" + oauth2.GenerateVerifier()[:10]}
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(f.verifier)}
	for k := range extra {
		opts = append(opts, oauth2.SetAuthURLParam(k, extra.Get(k)))
	}
	f.loginURL = location(t, e.get(t, e.oauth2Config().AuthCodeURL(f.state, opts...), nil), http.StatusFound)
	if f.loginURL.Path != loginPath {
		t.Fatalf("authorize redirected to %s, want the login page", f.loginURL.Redacted())
	}
	cb := location(t, e.submitLogin(t, f, "sign-in", demoUser, demoPassword), http.StatusFound)
	q := location(t, e.get(t, cb.String(), nil), http.StatusFound).Query()
	if q.Get("code") == "" {
		t.Fatalf("no code: %v", q)
	}
	return f, q.Get("code")
}

// tokenResponse is the outcome of a raw token request.
type tokenResponse struct {
	status int
	header http.Header
	body   map[string]any
}

func (r tokenResponse) str(k string) string { s, _ := r.body[k].(string); return s }

// tokenRequest POSTs form to the token endpoint with the DPoP header values given.
func (e *testEnv) tokenRequest(t *testing.T, form url.Values, proofs ...string) tokenResponse {
	t.Helper()
	form.Set("client_id", clientID)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, e.cfg.Issuer+"/oauth/token", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", e.cfg.AppOrigin)
	for _, p := range proofs {
		req.Header.Add("DPoP", p)
	}
	res := e.do(t, req)
	out := tokenResponse{status: res.StatusCode, header: res.Header}
	decodeJSON(t, res, &out.body)
	return out
}

func (e *testEnv) tokenProof(t *testing.T, k *dpopTestKey, nonce string) string {
	return k.proof(t, proofSpec{htm: "POST", htu: e.cfg.Issuer + "/oauth/token", nonce: nonce})
}

func codeForm(f *authFlow, code string, e *testEnv) url.Values {
	return url.Values{"grant_type": {"authorization_code"}, "code": {code}, "code_verifier": {f.verifier}, "redirect_uri": {e.cfg.RedirectURI()}}
}

func refreshForm(rt string) url.Values {
	return url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}
}

func wantTokenError(t *testing.T, r tokenResponse, code string) {
	t.Helper()
	if r.status != http.StatusBadRequest || r.str("error") != code {
		t.Fatalf("status %d, body %v; want 400 %s", r.status, r.body, code)
	}
}

func TestDPoPDiscovery(t *testing.T) {
	e := startServer(t, nil)
	res := e.get(t, e.cfg.Issuer+"/.well-known/openid-configuration", nil)
	var d map[string]any
	decodeJSON(t, res, &d)
	algs, _ := d["dpop_signing_alg_values_supported"].([]any)
	if len(algs) != 1 || algs[0] != "ES256" {
		t.Errorf("dpop_signing_alg_values_supported = %v, want [ES256]", d["dpop_signing_alg_values_supported"])
	}
	if d["issuer"] != e.cfg.Issuer || d["token_endpoint"] != e.cfg.Issuer+"/oauth/token" {
		t.Errorf("discovery lost members: %v", d)
	}
	// CORS: a browser may send DPoP to the token endpoint and read DPoP-Nonce.
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodOptions, e.cfg.Issuer+"/oauth/token", nil)
	req.Header.Set("Origin", e.cfg.AppOrigin)
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "content-type,dpop")
	res = e.do(t, req)
	if res.StatusCode/100 != 2 || !strings.Contains(strings.ToLower(res.Header.Get("Access-Control-Allow-Headers")), "dpop") {
		t.Errorf("token preflight with DPoP: status %d, headers %v", res.StatusCode, res.Header)
	}
}

func TestDPoPTokenEndpoint(t *testing.T) {
	e := startServer(t, nil)
	a, b := newDPoPTestKey(t), newDPoPTestKey(t)

	// dpop_jkt (§10): only a proof by key a redeems the code.
	f, code := e.signInWith(t, url.Values{"dpop_jkt": {a.jkt}})
	wantTokenError(t, e.tokenRequest(t, codeForm(f, code, e)), dpopErrInvalidProof)
	wantTokenError(t, e.tokenRequest(t, codeForm(f, code, e), e.tokenProof(t, b, "")), dpopErrInvalidProof)
	wantTokenError(t, e.tokenRequest(t, codeForm(f, code, e), e.tokenProof(t, a, ""), e.tokenProof(t, a, "")), dpopErrInvalidProof)
	wantTokenError(t, e.tokenRequest(t, codeForm(f, code, e), a.proof(t, proofSpec{htm: "POST", htu: e.cfg.Issuer + "/token"})), dpopErrInvalidProof)
	tok := e.tokenRequest(t, codeForm(f, code, e), e.tokenProof(t, a, ""))
	if tok.status != http.StatusOK {
		t.Fatalf("exchange with key a: %d %v", tok.status, tok.body)
	}
	if tok.str("token_type") != "DPoP" {
		t.Errorf("token_type %q, want DPoP", tok.str("token_type"))
	}
	if got := tok.header.Get("Access-Control-Allow-Origin"); got != e.cfg.AppOrigin {
		t.Errorf("token response CORS origin %q", got)
	}
	cnf, _ := jwtClaims(t, tok.str("access_token"))["cnf"].(map[string]any)
	if cnf["jkt"] != a.jkt {
		t.Errorf("access token cnf = %v, want jkt %s", cnf, a.jkt)
	}
	if _, ok := jwtClaims(t, tok.str("id_token"))["cnf"]; ok {
		t.Error("the ID token got a cnf claim")
	}
	rt := tok.str("refresh_token")

	// The refresh token is bound to key a (§5).
	wantTokenError(t, e.tokenRequest(t, refreshForm(rt)), dpopErrInvalidProof)
	wantTokenError(t, e.tokenRequest(t, refreshForm(rt), e.tokenProof(t, b, "")), "invalid_grant")
	tok2 := e.tokenRequest(t, refreshForm(rt), e.tokenProof(t, a, ""))
	if tok2.status != http.StatusOK || tok2.str("token_type") != "DPoP" {
		t.Fatalf("refresh with key a: %d %v", tok2.status, tok2.body)
	}
	if cnf, _ := jwtClaims(t, tok2.str("access_token"))["cnf"].(map[string]any); cnf["jkt"] != a.jkt {
		t.Errorf("refreshed access token cnf = %v", cnf)
	}
	// ... and so is the rotated one.
	wantTokenError(t, e.tokenRequest(t, refreshForm(tok2.str("refresh_token"))), dpopErrInvalidProof)
	wantTokenError(t, e.tokenRequest(t, refreshForm(tok2.str("refresh_token")), e.tokenProof(t, b, "")), "invalid_grant")

	// Without dpop_jkt, a proof at the token endpoint binds the tokens to its key; a bad one is refused.
	f, code = e.signInWith(t, nil)
	wantTokenError(t, e.tokenRequest(t, codeForm(f, code, e), a.proof(t, proofSpec{htm: "GET", htu: e.cfg.Issuer + "/oauth/token"})), dpopErrInvalidProof)
	tok3 := e.tokenRequest(t, codeForm(f, code, e), e.tokenProof(t, b, ""))
	if cnf, _ := jwtClaims(t, tok3.str("access_token"))["cnf"].(map[string]any); tok3.status != http.StatusOK || cnf["jkt"] != b.jkt {
		t.Fatalf("exchange with a proof by b: %d, cnf %v", tok3.status, cnf)
	}
	// Without any proof: Bearer, no cnf, as before.
	f, code = e.signInWith(t, nil)
	tok4 := e.tokenRequest(t, codeForm(f, code, e))
	if tok4.status != http.StatusOK || tok4.str("token_type") != "Bearer" {
		t.Fatalf("plain exchange: %d %v", tok4.status, tok4.body)
	}
	if _, ok := jwtClaims(t, tok4.str("access_token"))["cnf"]; ok {
		t.Error("a Bearer access token got cnf")
	}
	if tok5 := e.tokenRequest(t, refreshForm(tok4.str("refresh_token"))); tok5.status != http.StatusOK {
		t.Errorf("refresh of an unbound token without proof: %d %v", tok5.status, tok5.body)
	}

	// A malformed dpop_jkt is refused at the authorization endpoint (error redirect).
	authURL := e.oauth2Config().AuthCodeURL("s1", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()), oauth2.SetAuthURLParam("dpop_jkt", "not-a-thumbprint"))
	if q := location(t, e.get(t, authURL, nil), http.StatusFound).Query(); q.Get("error") != "invalid_request" || q.Get("state") != "s1" {
		t.Errorf("malformed dpop_jkt: %v, want error=invalid_request", q)
	}
}

func TestDPoPTokenEndpointNonce(t *testing.T) {
	e := startServer(t, nil)
	a := newDPoPTestKey(t)
	setNonce := func(origin string, on bool) string {
		t.Helper()
		v := "0"
		if on {
			v = "1"
		}
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, origin+"/__test/dpop-nonce?on="+v, nil)
		res := e.do(t, req)
		var st struct {
			On    bool   `json:"on"`
			Nonce string `json:"nonce"`
		}
		decodeJSON(t, res, &st)
		if res.StatusCode != http.StatusOK || st.On != on || (st.Nonce != "") != on {
			t.Fatalf("dpop-nonce hook: %d %+v", res.StatusCode, st)
		}
		return st.Nonce
	}
	nonce := setNonce(e.cfg.Issuer, true)
	f, code := e.signInWith(t, url.Values{"dpop_jkt": {a.jkt}})
	r := e.tokenRequest(t, codeForm(f, code, e), e.tokenProof(t, a, ""))
	wantTokenError(t, r, dpopErrUseNonce)
	if r.header.Get("DPoP-Nonce") != nonce {
		t.Errorf("DPoP-Nonce %q, want %q", r.header.Get("DPoP-Nonce"), nonce)
	}
	if !strings.Contains(r.header.Get("Access-Control-Expose-Headers"), "Dpop-Nonce") && !strings.Contains(r.header.Get("Access-Control-Expose-Headers"), "DPoP-Nonce") {
		t.Errorf("DPoP-Nonce not exposed to scripts: %q", r.header.Get("Access-Control-Expose-Headers"))
	}
	wantTokenError(t, e.tokenRequest(t, codeForm(f, code, e), e.tokenProof(t, a, "stale")), dpopErrUseNonce)
	if r := e.tokenRequest(t, codeForm(f, code, e), e.tokenProof(t, a, nonce)); r.status != http.StatusOK || r.str("token_type") != "DPoP" {
		t.Fatalf("with the nonce: %d %v", r.status, r.body)
	}
	// Off again: proofs without nonce pass.
	setNonce(e.cfg.Issuer, false)
	f, code = e.signInWith(t, nil)
	if r := e.tokenRequest(t, codeForm(f, code, e), e.tokenProof(t, a, "")); r.status != http.StatusOK {
		t.Fatalf("nonce off: %d %v", r.status, r.body)
	}
}
