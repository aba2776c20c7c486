package core

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"strings"
	"sync"
	"testing"
)

// Client flows with DPoP (RFC 9449): the authorization request's dpop_jkt (§10), proofs on the
// token endpoint (§5) with nonces (§8), token_type DPoP, resource requests (§7, §9), the key's
// lifetime.

const testUserinfo = testIssuer + "/userinfo"

// memDPoPKeys is a DPoPKeyStore in memory with Go ECDSA keys.
type memDPoPKeys struct {
	mu                     sync.Mutex
	priv                   *ecdsa.PrivateKey
	loads, creates, delete int
}

func (s *memDPoPKeys) Load(context.Context) (*DPoPKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.loads++
	if s.priv == nil {
		p, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, err
		}
		s.priv = p
		s.creates++
	}
	return dpopKeyOf(s.priv), nil
}

func (s *memDPoPKeys) Delete(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.priv = nil
	s.delete++
	return nil
}

func (s *memDPoPKeys) jkt(t *testing.T) string {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.priv == nil {
		return ""
	}
	j, err := dpopKeyOf(s.priv).Public.Thumbprint()
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// dpopOP makes the harness's fake OP speak DPoP at its token and UserInfo endpoints.
type dpopOP struct {
	h    *harness
	keys *memDPoPKeys

	mu sync.Mutex
	// nonce, when set, is required in proofs to the token endpoint (use_dpop_nonce otherwise)
	// and sent as DPoP-Nonce with every token response.
	nonce string
	// nextNonce, when set, computes the nonce to require after each use_dpop_nonce answer.
	nextNonce func() string
	// bearer makes the token endpoint answer token_type Bearer despite the proof.
	bearer bool
	// nonceAlways answers every proof with use_dpop_nonce (and a new nonce each time).
	nonceAlways bool
	// uiNonce is what UserInfo requires (401 use_dpop_nonce otherwise).
	uiNonce string
	proofs  []parsedProof // of every token and UserInfo request, in order
	nProofs int
}

func newDPoPHarness(t *testing.T, cfgMod func(*Config)) (*harness, *dpopOP) {
	t.Helper()
	keys := &memDPoPKeys{}
	h := newHarnessWith(t, func(c *Config) {
		c.DPoP = true
		if cfgMod != nil {
			cfgMod(c)
		}
	}, func(d *Deps) { d.DPoPKeys = keys })
	h.meta["dpop_signing_alg_values_supported"] = []string{"RS256", "ES256"}
	h.meta["userinfo_endpoint"] = testUserinfo
	h.meta["revocation_endpoint"] = testRevoke
	op := &dpopOP{h: h, keys: keys}
	inner := h.doer.fn
	h.doer.fn = func(ctx context.Context, req *HTTPRequest) (*HTTPResponse, error) {
		switch req.URL {
		case testTokenEP:
			return op.token(ctx, req, inner)
		case testUserinfo:
			return op.userinfo(req)
		}
		return inner(ctx, req)
	}
	return h, op
}

func (op *dpopOP) record(req *HTTPRequest) (parsedProof, bool) {
	proof, ok := header(*req, "DPoP")
	if !ok {
		return parsedProof{}, false
	}
	p := parseProof(op.h.t, proof)
	op.mu.Lock()
	op.proofs = append(op.proofs, p)
	op.mu.Unlock()
	return p, true
}

func (op *dpopOP) token(ctx context.Context, req *HTTPRequest, inner doerFunc) (*HTTPResponse, error) {
	p, ok := op.record(req)
	op.mu.Lock()
	nonce, bearer := op.nonce, op.bearer
	op.mu.Unlock()
	if ok && nonce != "" && (p.claimsStr["nonce"] != nonce || op.nonceAlways) {
		op.mu.Lock()
		if op.nextNonce != nil {
			op.nonce = op.nextNonce()
		}
		nonce = op.nonce
		op.mu.Unlock()
		r := oauthError(op.h.t, 400, "use_dpop_nonce", "Authorization server requires nonce in DPoP proof")
		r.DPoPNonce = nonce
		return r, nil
	}
	resp, err := inner(ctx, req)
	if err != nil || resp.Status != 200 {
		return resp, err
	}
	if ok && !bearer {
		var body map[string]any
		if err := json.Unmarshal(resp.Body, &body); err != nil {
			op.h.t.Fatal(err)
		}
		body["token_type"] = "DPoP"
		resp = jsonResponse(op.h.t, 200, body)
	}
	resp.DPoPNonce = nonce
	return resp, nil
}

func (op *dpopOP) userinfo(req *HTTPRequest) (*HTTPResponse, error) {
	p, ok := op.record(req)
	auth, _ := header(*req, "Authorization")
	op.mu.Lock()
	nonce := op.uiNonce
	op.mu.Unlock()
	switch {
	case !ok || !strings.HasPrefix(auth, "DPoP "):
		return &HTTPResponse{Status: 401, WWWAuthenticate: `DPoP algs="ES256", error="invalid_token"`}, nil
	case p.claimsStr["ath"] != DPoPAth(strings.TrimPrefix(auth, "DPoP ")):
		return &HTTPResponse{Status: 401, WWWAuthenticate: `DPoP error="invalid_dpop_proof"`}, nil
	case nonce != "" && p.claimsStr["nonce"] != nonce:
		return &HTTPResponse{Status: 401, DPoPNonce: nonce, WWWAuthenticate: `DPoP error="use_dpop_nonce", error_description="nonce"`}, nil
	}
	return jsonResponse(op.h.t, 200, map[string]any{"sub": op.h.sub, "name": "Test User"}), nil
}

func (op *dpopOP) allProofs() []parsedProof {
	op.mu.Lock()
	defer op.mu.Unlock()
	return append([]parsedProof(nil), op.proofs...)
}

// RFC 9449 §10: the authorization request carries dpop_jkt, the thumbprint of the key whose
// proof then comes with the code exchange (§5), answered with token_type DPoP.
func TestDPoPLoginBindsCodeAndTokens(t *testing.T) {
	h, op := newDPoPHarness(t, nil)
	_, q := h.begin(LoginOptions{})
	jkt := op.keys.jkt(t)
	if jkt == "" || q.Get("dpop_jkt") != jkt {
		t.Fatalf("dpop_jkt = %q, want the key's thumbprint %q", q.Get("dpop_jkt"), jkt)
	}
	h.login()
	reqs := h.doer.tokenRequests()
	last := reqs[len(reqs)-1]
	proof, ok := header(last, "DPoP")
	if !ok {
		t.Fatal("the code exchange carries no DPoP proof")
	}
	p := parseProof(t, proof)
	if p.claimsStr["htm"] != "POST" || p.claimsStr["htu"] != testTokenEP {
		t.Errorf("htm %q htu %q, want POST %s", p.claimsStr["htm"], p.claimsStr["htu"], testTokenEP)
	}
	if _, has := p.claims["ath"]; has {
		t.Errorf("a token request proof carries ath")
	}
	if tp, _ := JWKThumbprint(p.jwk); tp != jkt {
		t.Errorf("proof key thumbprint %q, want dpop_jkt %q", tp, jkt)
	}
	if p.iat != h.clock.Now().Unix() {
		t.Errorf("iat %d, want the client's clock %d", p.iat, h.clock.Now().Unix())
	}
	if got := h.accessToken(); !strings.HasPrefix(got, secretAT) {
		t.Errorf("access token %q", got)
	}
}

// A provider that does not list ES256 gets no login at all: never silently Bearer tokens.
func TestDPoPUnsupportedProvider(t *testing.T) {
	for name, algs := range map[string]any{"absent": nil, "RS256 only": []string{"RS256"}, "lower case": []string{"es256"}} {
		t.Run(name, func(t *testing.T) {
			h, op := newDPoPHarness(t, nil)
			if algs == nil {
				delete(h.meta, "dpop_signing_alg_values_supported")
			} else {
				h.meta["dpop_signing_alg_values_supported"] = algs
			}
			_, err := h.client.BeginLogin(context.Background(), LoginOptions{})
			if ErrorCode(err) != CodeDPoPUnsupported {
				t.Fatalf("BeginLogin err %v, want dpop_unsupported", err)
			}
			if op.keys.creates != 0 {
				t.Errorf("a key was generated for a provider without DPoP")
			}
		})
	}
	t.Run("token request", func(t *testing.T) {
		h, _ := newDPoPHarness(t, nil)
		authURL, _ := h.begin(LoginOptions{})
		cb := h.authorize(authURL)
		h.mu.Lock()
		h.meta["dpop_signing_alg_values_supported"] = []string{"PS256"}
		h.mu.Unlock()
		h.client.meta = nil // a fresh worker after the redirect discovers again
		if _, err := h.client.Callback(context.Background(), cb); ErrorCode(err) != CodeDPoPUnsupported {
			t.Fatalf("Callback err %v, want dpop_unsupported", err)
		}
		if n := len(h.doer.tokenRequests()); n != 0 {
			t.Errorf("%d token requests, want none", n)
		}
	})
	t.Run("no key store", func(t *testing.T) {
		h := newHarnessWith(t, func(c *Config) { c.DPoP = true }, nil)
		h.meta["dpop_signing_alg_values_supported"] = []string{"ES256"}
		if _, err := h.client.BeginLogin(context.Background(), LoginOptions{}); ErrorCode(err) != CodeDPoPUnsupported {
			t.Fatalf("BeginLogin err %v, want dpop_unsupported", err)
		}
	})
}

// RFC 9449 §5: a proof was sent, so token_type must be DPoP; a Bearer answer is refused.
func TestDPoPBearerAnswerRefused(t *testing.T) {
	h, op := newDPoPHarness(t, nil)
	op.bearer = true
	authURL, _ := h.begin(LoginOptions{})
	_, err := h.client.Callback(context.Background(), h.authorize(authURL))
	if ErrorCode(err) != CodeInvalidTokenResponse {
		t.Fatalf("err %v, want invalid_token_response", err)
	}
	if h.client.Authenticated() {
		t.Errorf("signed in with Bearer tokens although DPoP was asked for")
	}
}

// Without DPoP nothing changes: no dpop_jkt, no proof, Bearer required.
func TestDPoPOffSendsNothing(t *testing.T) {
	h := newHarness(t, nil)
	_, q := h.begin(LoginOptions{})
	if q.Has("dpop_jkt") {
		t.Errorf("dpop_jkt sent without DPoP")
	}
	h.login()
	for _, r := range h.doer.requests() {
		if _, ok := header(r, "DPoP"); ok {
			t.Errorf("DPoP header sent to %s without DPoP", r.URL)
		}
	}
	hdr, err := h.client.AuthorizationHeaders(context.Background(), "GET", "https://api.example.com/x", "tok")
	if err != nil || len(hdr) != 1 || hdr["Authorization"] != "Bearer tok" {
		t.Errorf("headers %v, %v", hdr, err)
	}
}

// RFC 9449 §8: use_dpop_nonce with a DPoP-Nonce → one retry with a fresh proof carrying it; the
// nonce is remembered for the next request (refresh), and a rotated one is picked up again.
func TestDPoPTokenNonceRetryOnce(t *testing.T) {
	h, op := newDPoPHarness(t, nil)
	op.nonce = "n-1"
	h.login()
	ps := op.allProofs()
	if len(ps) != 2 {
		t.Fatalf("%d token requests, want 2 (one nonce retry)", len(ps))
	}
	if _, has := ps[0].claims["nonce"]; has {
		t.Errorf("first proof carries a nonce before the server gave one")
	}
	if ps[1].claimsStr["nonce"] != "n-1" {
		t.Errorf("retry nonce %q, want n-1", ps[1].claimsStr["nonce"])
	}
	if ps[0].claimsStr["jti"] == ps[1].claimsStr["jti"] {
		t.Errorf("the retry reused the proof's jti")
	}
	// Refresh: the remembered nonce goes out at once.
	if _, err := h.client.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if ps = op.allProofs(); len(ps) != 3 || ps[2].claimsStr["nonce"] != "n-1" {
		t.Fatalf("refresh: %d proofs, last nonce %q; want 3, n-1", len(ps), ps[len(ps)-1].claimsStr["nonce"])
	}
	// Rotation: the server wants a new one; one retry again.
	op.mu.Lock()
	op.nonce = "n-2"
	op.mu.Unlock()
	if _, err := h.client.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if ps = op.allProofs(); len(ps) != 5 || ps[4].claimsStr["nonce"] != "n-2" {
		t.Fatalf("rotation: %d proofs, want 5 with nonce n-2", len(ps))
	}
}

// A second use_dpop_nonce goes back to the caller: no loop.
func TestDPoPTokenSecondNonceErrorReturned(t *testing.T) {
	h, op := newDPoPHarness(t, nil)
	n := 0
	op.nonce = "first"
	op.nonceAlways = true
	op.nextNonce = func() string { n++; return "rotated-" + string(rune('a'+n)) }
	authURL, _ := h.begin(LoginOptions{})
	_, err := h.client.Callback(context.Background(), h.authorize(authURL))
	if ErrorCode(err) != CodeUseDPoPNonce {
		t.Fatalf("err %v, want use_dpop_nonce", err)
	}
	var e *Error
	if !errorsAs(err, &e) || e.OAuthError != "use_dpop_nonce" || e.Status != 400 {
		t.Errorf("error %#v: want the provider's use_dpop_nonce with status 400", err)
	}
	if got := len(h.doer.tokenRequests()); got != 2 {
		t.Errorf("%d token requests, want 2", got)
	}
}

// RFC 9449 §8.1: a malformed nonce is refused, never echoed.
func TestDPoPMalformedNonce(t *testing.T) {
	h, op := newDPoPHarness(t, nil)
	op.nonce = "has space"
	authURL, _ := h.begin(LoginOptions{})
	_, err := h.client.Callback(context.Background(), h.authorize(authURL))
	if ErrorCode(err) != CodeInvalidDPoPNonce {
		t.Fatalf("err %v, want invalid_dpop_nonce", err)
	}
	if got := len(h.doer.tokenRequests()); got != 1 {
		t.Errorf("%d token requests, want 1", got)
	}
	// On a successful answer a malformed nonce is ignored (not remembered).
	if h.client.NoteDPoPNonce(testTokenEP, "bad\"nonce") {
		t.Errorf("malformed nonce accepted")
	}
	if got := h.client.nonceFor(testIssuer); got != "" {
		t.Errorf("remembered nonce %q", got)
	}
}

// The refresh grant carries a proof (§5); revocation (RFC 7009) does not; logout deletes the key
// and the next login binds a new one.
func TestDPoPRefreshRevokeAndKeyLifetime(t *testing.T) {
	h, op := newDPoPHarness(t, nil)
	h.login()
	first := op.keys.jkt(t)
	if _, err := h.client.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	reqs := h.doer.tokenRequests()
	if f := formOf(t, reqs[len(reqs)-1]); f.Get("grant_type") != "refresh_token" {
		t.Fatalf("last token request is %q", f.Get("grant_type"))
	}
	proof, ok := header(reqs[len(reqs)-1], "DPoP")
	if !ok {
		t.Fatal("refresh without a proof")
	}
	if tp, _ := JWKThumbprint(parseProof(t, proof).jwk); tp != first {
		t.Errorf("refresh proof by another key")
	}
	h.client.Logout(context.Background())
	for _, r := range h.doer.requests() {
		if r.URL == testRevoke {
			if _, ok := header(r, "DPoP"); ok {
				t.Errorf("revocation request carries a DPoP proof")
			}
		}
	}
	if op.keys.delete != 1 || op.keys.jkt(t) != "" {
		t.Errorf("logout did not delete the key (deletes %d)", op.keys.delete)
	}
	_, q := h.begin(LoginOptions{})
	if second := q.Get("dpop_jkt"); second == "" || second == first {
		t.Errorf("dpop_jkt after logout %q, want a new key's (old %q)", second, first)
	}
}

// The key is loaded once, not per proof; a fresh client (a new worker after the redirect) loads
// the stored key and finishes the login the old one started.
func TestDPoPKeySurvivesNewClient(t *testing.T) {
	h, op := newDPoPHarness(t, nil)
	authURL, q := h.begin(LoginOptions{})
	c2, err := NewClient(h.client.Config(), Deps{HTTP: h.doer, Store: h.store, Now: h.clock.Now, SkipSignatureCheck: true, DPoPKeys: op.keys})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c2.sess.clear() })
	if _, err := c2.Callback(context.Background(), h.authorize(authURL)); err != nil {
		t.Fatalf("callback in a new client: %v", err)
	}
	ps := op.allProofs()
	if tp, _ := JWKThumbprint(ps[len(ps)-1].jwk); tp != q.Get("dpop_jkt") {
		t.Errorf("exchange proof key %q, want dpop_jkt %q", tp, q.Get("dpop_jkt"))
	}
	for i := 0; i < 5; i++ {
		if _, err := c2.AuthorizationHeaders(context.Background(), "GET", "https://api.example.com/x", "t"); err != nil {
			t.Fatal(err)
		}
	}
	if op.keys.creates != 1 || op.keys.loads != 2 {
		t.Errorf("creates %d loads %d, want 1 and 2 (once per client)", op.keys.creates, op.keys.loads)
	}
}

// RFC 9449 §7.1: a resource request presents "DPoP <token>" and a fresh proof with ath; §9: a 401
// use_dpop_nonce with DPoP-Nonce asks for one retry.
func TestDPoPResourceRequests(t *testing.T) {
	h, _ := newDPoPHarness(t, nil)
	h.login()
	const api = "https://api.example.com/v1/me?x=1"
	hdr, err := h.client.AuthorizationHeaders(context.Background(), "PATCH", api, "the-token")
	if err != nil {
		t.Fatal(err)
	}
	if hdr["Authorization"] != "DPoP the-token" {
		t.Errorf("Authorization %q", hdr["Authorization"])
	}
	p := parseProof(t, hdr["DPoP"])
	if p.claimsStr["htm"] != "PATCH" || p.claimsStr["htu"] != "https://api.example.com/v1/me" || p.claimsStr["ath"] != DPoPAth("the-token") {
		t.Errorf("claims %v", p.claimsStr)
	}
	hdr2, _ := h.client.AuthorizationHeaders(context.Background(), "PATCH", api, "the-token")
	if hdr2["DPoP"] == hdr["DPoP"] {
		t.Errorf("a proof was reused")
	}
	for _, c := range []struct {
		name   string
		status int
		nonce  string
		www    string
		retry  bool
		code   string
	}{
		{"nonce challenge", 401, "rs-nonce", `DPoP error="use_dpop_nonce"`, true, ""},
		{"nonce challenge without a nonce", 401, "", `DPoP error="use_dpop_nonce"`, false, ""},
		{"malformed nonce", 401, "a b", `DPoP error="use_dpop_nonce"`, false, CodeInvalidDPoPNonce},
		{"invalid_token", 401, "rs-nonce-2", `DPoP error="invalid_token"`, false, ""},
		{"success with a new nonce", 200, "rs-nonce-3", "", false, ""},
		{"Bearer use_dpop_nonce", 401, "x", `Bearer error="use_dpop_nonce"`, false, ""},
	} {
		retry, err := h.client.ResourceNonceRetry(api, c.status, c.nonce, c.www)
		if retry != c.retry || (err == nil) != (c.code == "") || (err != nil && ErrorCode(err) != c.code) {
			t.Errorf("%s: retry %v err %v; want %v %q", c.name, retry, err, c.retry, c.code)
		}
	}
	// The last valid nonce seen for the origin is in the next proof.
	hdr3, _ := h.client.AuthorizationHeaders(context.Background(), "GET", "https://api.example.com/other", "t")
	if n := parseProof(t, hdr3["DPoP"]).claimsStr["nonce"]; n != "x" {
		t.Errorf("next proof nonce %q, want the latest one, x", n)
	}
	// Nonces are per origin.
	hdr4, _ := h.client.AuthorizationHeaders(context.Background(), "GET", "http://localhost:8080/api", "t")
	if _, has := parseProof(t, hdr4["DPoP"]).claims["nonce"]; has {
		t.Errorf("another origin's nonce was sent")
	}
}

// UserInfo with a DPoP-bound token: DPoP scheme, proof with ath, one nonce retry.
func TestDPoPUserInfo(t *testing.T) {
	h, op := newDPoPHarness(t, nil)
	h.login()
	op.mu.Lock()
	op.uiNonce = "ui-nonce"
	op.mu.Unlock()
	before := len(op.allProofs())
	if _, err := h.client.UserInfo(context.Background()); err != nil {
		t.Fatalf("UserInfo: %v", err)
	}
	ps := op.allProofs()[before:]
	if len(ps) != 2 || ps[1].claimsStr["nonce"] != "ui-nonce" || ps[0].claimsStr["htm"] != "GET" || ps[0].claimsStr["htu"] != testUserinfo {
		t.Errorf("userinfo proofs %+v, want 2: without and with the nonce", ps)
	}
}

func errorsAs(err error, e **Error) bool {
	x, ok := err.(*Error)
	if ok {
		*e = x
	}
	return ok
}
