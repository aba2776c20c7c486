//go:build js && wasm

package jsbridge

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/hack-pad/safejs"
	"github.com/pkce-wasm/pkce-wasm/wasm/core"
)

// DPoP at the JS boundary: WebCrypto keys (Node 20 has globalThis.crypto.subtle), the host's key
// store, and auth.fetch's DPoP headers and nonce retry.

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// goVerify checks a JWS ES256 signature with Go's crypto/ecdsa.
func goVerify(t *testing.T, pk core.DPoPPublicKey, input string, sig []byte) bool {
	t.Helper()
	x, err1 := base64.RawURLEncoding.DecodeString(pk.X)
	y, err2 := base64.RawURLEncoding.DecodeString(pk.Y)
	if err1 != nil || err2 != nil || len(x) != 32 || len(y) != 32 || len(sig) != 64 {
		t.Fatalf("bad key or signature sizes: x %d y %d sig %d", len(x), len(y), len(sig))
	}
	pub := &ecdsa.PublicKey{Curve: elliptic.P256(), X: new(big.Int).SetBytes(x), Y: new(big.Int).SetBytes(y)}
	h := sha256.Sum256([]byte(input))
	return ecdsa.Verify(pub, h[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:]))
}

// The WebCrypto signer's output is a JWS ES256 signature (R||S) that Go's crypto/ecdsa verifies,
// and a whole proof verifies too.
func TestDPoPWebCryptoSignerVerifiesInGo(t *testing.T) {
	b := newTestBridge(t)
	ctx := testCtx(t)
	k, err := DPoPKeys{b: b, store: safejs.Undefined()}.Load(ctx)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if k.Public.Crv != "P-256" {
		t.Fatalf("crv %q", k.Public.Crv)
	}
	sig, err := k.Sign(ctx, []byte("header.payload"))
	if err != nil {
		t.Fatal(err)
	}
	if !goVerify(t, k.Public, "header.payload", sig) {
		t.Errorf("WebCrypto signature does not verify with crypto/ecdsa")
	}
	if goVerify(t, k.Public, "header.payload2", sig) {
		t.Errorf("signature verifies for other input")
	}
	proof, err := core.BuildDPoPProof(ctx, k, core.DPoPProofParams{Method: "GET", URL: "https://api.example.com/me", AccessToken: "t", Now: time.Now()}, CryptoRand{B: b})
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(proof, ".")
	ps, _ := base64.RawURLEncoding.DecodeString(parts[2])
	if !goVerify(t, k.Public, parts[0]+"."+parts[1], ps) {
		t.Errorf("proof signature does not verify")
	}
}

// The private key is generated non-extractable: exportKey rejects, in every format.
func TestDPoPPrivateKeyNotExtractable(t *testing.T) {
	b := newTestBridge(t)
	ctx := testCtx(t)
	pair, err := DPoPKeys{b: b}.generate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	priv := prop(t, pair, "privateKey")
	if ext, _ := prop(t, priv, "extractable").Bool(); ext {
		t.Errorf("private key is extractable")
	}
	if u := jsString(t, jsEval(t, `k.usages.join(",")`, []string{"k"}, priv)); u != "sign" {
		t.Errorf("usages %q, want sign", u)
	}
	for _, format := range []string{"jwk", "pkcs8"} {
		p := jsEval(t, `crypto.subtle.exportKey(f, k)`, []string{"f", "k"}, format, priv)
		if _, err := Await(ctx, p); err == nil {
			t.Errorf("exportKey(%q, privateKey) resolved; want a rejection", format)
		}
	}
	// The public half is exportable (a JWK with x and y, no d).
	jwk, err := Await(ctx, jsEval(t, `crypto.subtle.exportKey("jwk", k)`, []string{"k"}, prop(t, pair, "publicKey")))
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := jwk.Get("d"); !d.IsUndefined() {
		t.Errorf("public JWK has d")
	}
	if !usablePair(pair) {
		t.Errorf("a generated pair is not usable")
	}
}

// memKeyStore is a host.keys in JS memory, with Promise-returning methods (like IndexedDB's).
func memKeyStore(t *testing.T) safejs.Value {
	return jsEval(t, `(() => {
		let pair = null;
		const s = {
			puts: 0, deletes: 0,
			get: async () => pair,
			put: async (p) => { s.puts++; if (!pair) pair = p; return pair; },
			delete: async () => { s.deletes++; pair = null; },
			plant: (p) => { pair = p; },
		};
		return s;
	})()`, nil)
}

// The pair goes through host.keys: stored once, loaded again by a new store user, deleted; a
// planted extractable key (a script that kept a copy) is replaced.
func TestDPoPKeysStore(t *testing.T) {
	b := newTestBridge(t)
	ctx := testCtx(t)
	store := memKeyStore(t)
	k1, err := DPoPKeys{b: b, store: store}.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	k2, err := DPoPKeys{b: b, store: store}.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if k1.Public != k2.Public || num(t, store, "puts") != 1 {
		t.Errorf("second Load: key %v vs %v, puts %d; want the stored key, 1 put", k1.Public, k2.Public, num(t, store, "puts"))
	}
	if err := (DPoPKeys{b: b, store: store}).Delete(ctx); err != nil {
		t.Fatal(err)
	}
	k3, err := DPoPKeys{b: b, store: store}.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if k3.Public == k1.Public {
		t.Errorf("same key after delete")
	}
	planted, err := Await(ctx, jsEval(t, `crypto.subtle.generateKey({name: "ECDSA", namedCurve: "P-256"}, true, ["sign"])`, nil))
	if err != nil {
		t.Fatal(err)
	}
	if usablePair(planted) {
		t.Fatalf("an extractable pair counts as usable")
	}
	if _, err := store.Call("plant", planted); err != nil {
		t.Fatal(err)
	}
	k4, err := DPoPKeys{b: b, store: store}.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	plantedJWK, _ := Await(ctx, jsEval(t, `crypto.subtle.exportKey("jwk", p.publicKey)`, []string{"p"}, planted))
	if x := str(t, plantedJWK, "x"); x == k4.Public.X {
		t.Errorf("the planted extractable key was used")
	}
}

// dpopFakeOP is fakeOP speaking DPoP: discovery lists ES256, a token request with a proof gets
// token_type DPoP.
type dpopFakeOP struct{ *fakeOP }

func (f dpopFakeOP) Do(ctx context.Context, r *core.HTTPRequest) (*core.HTTPResponse, error) {
	resp, err := f.fakeOP.Do(ctx, r)
	if err != nil || resp.Status != 200 {
		return resp, err
	}
	var doc map[string]any
	if json.Unmarshal(resp.Body, &doc) != nil {
		return resp, nil
	}
	switch {
	case strings.HasSuffix(r.URL, "/.well-known/openid-configuration"):
		doc["dpop_signing_alg_values_supported"] = []string{"ES256"}
	case strings.HasSuffix(r.URL, "/oauth/token") && r.Header["DPoP"] != "":
		doc["token_type"] = "DPoP"
	}
	resp.Body, _ = json.Marshal(doc)
	return resp, nil
}

func newDPoPTestClient(t *testing.T) (*core.Client, *fakeOP, *core.MemoryTxStore) {
	t.Helper()
	op := &fakeOP{}
	store := &core.MemoryTxStore{}
	b := newTestBridge(t)
	c, err := core.NewClient(core.Config{
		Issuer: testIssuer, ClientID: testClientID, RedirectURI: testRedirectURI, DPoP: true,
		ResourceOrigins: []string{"https://api.example.com"},
	}, core.Deps{HTTP: dpopFakeOP{op}, Store: store, SkipSignatureCheck: true, Rand: CryptoRand{B: b},
		DPoPKeys: DPoPKeys{b: b, store: memKeyStore(t)}})
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	signIn(t, c, op, store)
	return c, op, store
}

func proofClaims(t *testing.T, proof string) map[string]any {
	t.Helper()
	parts := strings.Split(proof, ".")
	if len(parts) != 3 {
		t.Fatalf("proof %q is not a JWS", proof)
	}
	raw, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var c map[string]any
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// auth.fetch with DPoP: "Authorization: DPoP", a fresh proof per send; 401 use_dpop_nonce → one
// retry with the nonce; then 401 invalid_token → one refresh and retry (3 sends in all), the
// POST body replayed each time.
func TestWrappedFetchDPoPNonceThenRefresh(t *testing.T) {
	c, op, _ := newDPoPTestClient(t)
	before := tokenGrants(op)
	fake := fakeFetch(t, `
		const at = (r) => { Object.defineProperty(r, "url", {value: "https://api.example.com/items"}); return r; };
		if (calls.length === 1) return at(new Response("", {status: 401, headers: {"WWW-Authenticate": 'DPoP error="use_dpop_nonce"', "DPoP-Nonce": "rs-n1"}}));
		if (calls.length === 2) return at(new Response("", {status: 401, headers: {"WWW-Authenticate": 'DPoP algs="ES256", error="invalid_token"'}}));
		return at(new Response("ok", {status: 200}));`)
	b := installFetch(t, fake)
	init := jsEval(t, `({method: "POST", body: "payload"})`, nil)
	res, err := callWrapped(t, b, c, "https://api.example.com/items?q=1", init)
	if err != nil {
		t.Fatal(err)
	}
	if st := num(t, res, "status"); st != 200 || calls(t, fake) != 3 {
		t.Fatalf("status %d after %d sends; want 200 after 3", st, calls(t, fake))
	}
	if tokenGrants(op) != before+1 {
		t.Errorf("%d refresh grants, want 1", tokenGrants(op)-before)
	}
	jtis := map[string]bool{}
	for i := 0; i < 3; i++ {
		rec := call(t, fake, i)
		h := prop(t, rec, "headers")
		auth := jsString(t, jsEval(t, `h.get("authorization")`, []string{"h"}, h))
		if !strings.HasPrefix(auth, "DPoP ") {
			t.Errorf("send %d: Authorization %q", i, auth)
		}
		if body := str(t, rec, "body"); body != "payload" {
			t.Errorf("send %d: body %q", i, body)
		}
		cl := proofClaims(t, jsString(t, jsEval(t, `h.get("dpop") || ""`, []string{"h"}, h)))
		if cl["htm"] != "POST" || cl["htu"] != "https://api.example.com/items" {
			t.Errorf("send %d: htm %v htu %v", i, cl["htm"], cl["htu"])
		}
		sum := sha256.Sum256([]byte(strings.TrimPrefix(auth, "DPoP ")))
		if cl["ath"] != base64.RawURLEncoding.EncodeToString(sum[:]) {
			t.Errorf("send %d: ath does not match the token sent", i)
		}
		wantNonce := any(nil)
		if i > 0 {
			wantNonce = "rs-n1"
		}
		if cl["nonce"] != wantNonce {
			t.Errorf("send %d: nonce %v, want %v", i, cl["nonce"], wantNonce)
		}
		jti, _ := cl["jti"].(string)
		if jtis[jti] {
			t.Errorf("send %d reuses a proof (jti %q)", i, jti)
		}
		jtis[jti] = true
	}
}

// A second use_dpop_nonce goes back to the caller as the response: one nonce retry per call.
func TestWrappedFetchDPoPSecondNonceErrorReturned(t *testing.T) {
	c, _, _ := newDPoPTestClient(t)
	fake := fakeFetch(t, `
		const r = new Response("", {status: 401, headers: {"WWW-Authenticate": 'DPoP error="use_dpop_nonce"', "DPoP-Nonce": "n" + calls.length}});
		Object.defineProperty(r, "url", {value: "https://api.example.com/x"});
		return r;`)
	b := installFetch(t, fake)
	res, err := callWrapped(t, b, c, "https://api.example.com/x")
	if err != nil {
		t.Fatal(err)
	}
	if st := num(t, res, "status"); st != 401 || calls(t, fake) != 2 {
		t.Errorf("status %d after %d sends; want 401 after 2", st, calls(t, fake))
	}
}

// A malformed nonce in a use_dpop_nonce answer is refused with invalid_dpop_nonce.
func TestWrappedFetchDPoPMalformedNonce(t *testing.T) {
	c, _, _ := newDPoPTestClient(t)
	fake := fakeFetch(t, `
		const r = new Response("", {status: 401, headers: {"WWW-Authenticate": 'DPoP error="use_dpop_nonce"', "DPoP-Nonce": 'a"b'}});
		Object.defineProperty(r, "url", {value: "https://api.example.com/x"});
		return r;`)
	b := installFetch(t, fake)
	_, err := callWrapped(t, b, c, "https://api.example.com/x")
	if core.ErrorCode(err) != core.CodeInvalidDPoPNonce {
		t.Errorf("err %v, want invalid_dpop_nonce", err)
	}
}

// The dpop option is a boolean.
func TestReadConfigDPoP(t *testing.T) {
	b := newTestBridge(t)
	base := `({issuer: "https://op.example.com", clientId: "c", redirectUri: "https://app.example.com/cb", dpop: %s})`
	c, err := b.ReadConfig(jsEval(t, strings.Replace(base, "%s", "true", 1), nil))
	if err != nil || !c.DPoP {
		t.Errorf("dpop: true → %v, %v", c.DPoP, err)
	}
	if _, err := b.ReadConfig(jsEval(t, strings.Replace(base, "%s", `"yes"`, 1), nil)); core.ErrorCode(err) != core.CodeInvalidConfig {
		t.Errorf("dpop: \"yes\" → %v, want invalid_config", err)
	}
}

func jsString(t *testing.T, v safejs.Value) string {
	t.Helper()
	if v.Type() != safejs.TypeString {
		t.Fatalf("%v is not a string", v.Type())
	}
	s, _ := v.String()
	return s
}
