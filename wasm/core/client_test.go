package core

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/big"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const (
	testIssuer     = "https://op.example.com"
	testClientID   = "spa-client"
	testRedirect   = "https://app.example.com/callback"
	testPostLogout = "https://app.example.com/"
	testAuthz      = testIssuer + "/authorize"
	testTokenEP    = testIssuer + "/oauth/token"
	testJWKS       = testIssuer + "/keys"
	testEndSession = testIssuer + "/end_session"
	testRevoke     = testIssuer + "/revoke"
)

// doerFunc is a func-based HTTPDoer.
type doerFunc func(ctx context.Context, req *HTTPRequest) (*HTTPResponse, error)

func (f doerFunc) Do(ctx context.Context, req *HTTPRequest) (*HTTPResponse, error) {
	return f(ctx, req)
}

// recordingDoer records a copy of every request, then lets fn answer it.
type recordingDoer struct {
	mu   sync.Mutex
	reqs []HTTPRequest
	fn   doerFunc
}

func (d *recordingDoer) Do(ctx context.Context, req *HTTPRequest) (*HTTPResponse, error) {
	cp := *req
	cp.Header = maps.Clone(req.Header)
	d.mu.Lock()
	d.reqs = append(d.reqs, cp)
	d.mu.Unlock()
	return d.fn(ctx, req)
}

func (d *recordingDoer) requests() []HTTPRequest {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.reqs)
}

// tokenRequests returns the requests to the token endpoint.
func (d *recordingDoer) tokenRequests() []HTTPRequest {
	var out []HTTPRequest
	for _, r := range d.requests() {
		if r.URL == testTokenEP {
			out = append(out, r)
		}
	}
	return out
}

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// grant is an authorization code the fake OP has handed out.
type grant struct {
	code, nonce, challenge, redirect, clientID string
	used                                       bool
}

// harness is a Client wired to a fake OpenID Provider that behaves like a real one: it serves
// discovery and a JWK Set, hands out single-use codes bound to the PKCE challenge, redirect URI
// and nonce, and verifies the code_verifier at the token endpoint (RFC 7636 §4.6).
type harness struct {
	t      *testing.T
	clock  *fakeClock
	store  *MemoryTxStore
	doer   *recordingDoer
	client *Client

	mu        sync.Mutex
	meta      map[string]any
	discovery func() (*HTTPResponse, error) // override; (nil, nil) means the normal document
	grants    map[string]*grant
	seq       int
	sub       string
	jwks      []byte
	sign      func(signingInput string) []byte // nil: dummy signature
	kid       string
	// codeResponse, when set, answers the authorization_code grant after the OP's own checks.
	codeResponse func(form url.Values, g *grant) (*HTTPResponse, error)
	// refreshResponse, when set, answers the refresh_token grant.
	refreshResponse func(form url.Values) (*HTTPResponse, error)
	// revokeResponse, when set, answers the revocation endpoint (default 200).
	revokeResponse func() (*HTTPResponse, error)
}

func newHarness(t *testing.T, cfgMod func(*Config)) *harness {
	return newHarnessWith(t, cfgMod, nil)
}

func newHarnessWith(t *testing.T, cfgMod func(*Config), depsMod func(*Deps)) *harness {
	t.Helper()
	h := &harness{
		t:      t,
		clock:  &fakeClock{t: time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)},
		store:  &MemoryTxStore{},
		grants: map[string]*grant{},
		sub:    "user-1",
		kid:    "k1",
		meta: map[string]any{
			"issuer":                                testIssuer,
			"authorization_endpoint":                testAuthz,
			"token_endpoint":                        testTokenEP,
			"jwks_uri":                              testJWKS,
			"end_session_endpoint":                  testEndSession,
			"response_types_supported":              []string{"code"},
			"code_challenge_methods_supported":      []string{"S256"},
			"id_token_signing_alg_values_supported": []string{"RS256"},
		},
	}
	h.doer = &recordingDoer{fn: h.serve}
	cfg := Config{
		Issuer:                testIssuer,
		ClientID:              testClientID,
		RedirectURI:           testRedirect,
		Scope:                 "openid profile offline_access",
		PostLogoutRedirectURI: testPostLogout,
		ResourceOrigins:       []string{"https://api.example.com", "http://localhost:8080"},
	}
	if cfgMod != nil {
		cfgMod(&cfg)
	}
	deps := Deps{HTTP: h.doer, Store: h.store, Now: h.clock.Now, SkipSignatureCheck: true}
	if depsMod != nil {
		depsMod(&deps)
	}
	c, err := NewClient(cfg, deps)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	h.client = c
	// Stop the client's proactive refresh timer when the test ends.
	t.Cleanup(func() { c.Logout(context.Background()) })
	return h
}

func jsonResponse(t testing.TB, status int, v any) *HTTPResponse {
	return &HTTPResponse{Status: status, ContentType: "application/json", Body: mustJSON(t, v)}
}

func oauthError(t testing.TB, status int, code, desc string) *HTTPResponse {
	return jsonResponse(t, status, map[string]string{"error": code, "error_description": desc})
}

func (h *harness) serve(ctx context.Context, req *HTTPRequest) (*HTTPResponse, error) {
	switch req.URL {
	case DiscoveryURL(testIssuer):
		h.mu.Lock()
		d := h.discovery
		h.mu.Unlock()
		if d != nil {
			if r, err := d(); r != nil || err != nil {
				return r, err
			}
		}
		h.mu.Lock()
		defer h.mu.Unlock()
		return jsonResponse(h.t, 200, h.meta), nil
	case testJWKS:
		h.mu.Lock()
		defer h.mu.Unlock()
		if h.jwks == nil {
			return &HTTPResponse{Status: 404}, nil
		}
		return &HTTPResponse{Status: 200, ContentType: "application/json", Body: h.jwks}, nil
	case testRevoke:
		h.mu.Lock()
		rr := h.revokeResponse
		h.mu.Unlock()
		if rr != nil {
			return rr()
		}
		return &HTTPResponse{Status: 200}, nil
	case testTokenEP:
		if req.Method != "POST" {
			return &HTTPResponse{Status: 405}, nil
		}
		form, err := url.ParseQuery(req.Body)
		if err != nil {
			return oauthError(h.t, 400, "invalid_request", "bad form"), nil
		}
		switch form.Get("grant_type") {
		case "authorization_code":
			return h.codeGrant(form)
		case "refresh_token":
			h.mu.Lock()
			rr := h.refreshResponse
			h.mu.Unlock()
			if rr != nil {
				return rr(form)
			}
			return h.issue(issueOpts{}), nil
		}
		return oauthError(h.t, 400, "unsupported_grant_type", ""), nil
	}
	return &HTTPResponse{Status: 404, Body: []byte("not found")}, nil
}

func (h *harness) codeGrant(form url.Values) (*HTTPResponse, error) {
	h.mu.Lock()
	g := h.grants[form.Get("code")]
	ok := g != nil && !g.used
	if ok {
		g.used = true
	}
	cr := h.codeResponse
	h.mu.Unlock()
	switch {
	case !ok:
		return oauthError(h.t, 400, "invalid_grant", "unknown or used code"), nil
	case form.Get("client_id") != g.clientID:
		return oauthError(h.t, 400, "invalid_grant", "client mismatch"), nil
	case form.Get("redirect_uri") != g.redirect:
		return oauthError(h.t, 400, "invalid_grant", "redirect_uri mismatch"), nil
	case S256Challenge(form.Get("code_verifier")) != g.challenge:
		return oauthError(h.t, 400, "invalid_grant", "PKCE verification failed"), nil
	}
	if cr != nil {
		return cr(form, g)
	}
	return h.issue(issueOpts{nonce: g.nonce}), nil
}

type issueOpts struct {
	nonce     string
	sub       string // "" means h.sub
	noRefresh bool
	noIDToken bool
	claims    func(c map[string]any)
	header    func(h map[string]any)
	expiresIn any // nil: 3600
}

// issue returns a successful token response with fresh, numbered secret-looking tokens.
func (h *harness) issue(o issueOpts) *HTTPResponse {
	h.mu.Lock()
	h.seq++
	n := h.seq
	sub := h.sub
	h.mu.Unlock()
	if o.sub != "" {
		sub = o.sub
	}
	body := map[string]any{
		"access_token": fmt.Sprintf("%s-%d", secretAT, n),
		"token_type":   "Bearer",
		"expires_in":   3600,
		"scope":        "openid profile offline_access",
	}
	if o.expiresIn != nil {
		body["expires_in"] = o.expiresIn
	}
	if !o.noRefresh {
		body["refresh_token"] = fmt.Sprintf("%s-%d", secretRT, n)
	}
	if !o.noIDToken {
		body["id_token"] = h.idToken(sub, o.nonce, o.header, o.claims)
	}
	return jsonResponse(h.t, 200, body)
}

func (h *harness) idToken(sub, nonce string, hmod, cmod func(map[string]any)) string {
	now := h.clock.Now()
	claims := map[string]any{
		"iss": testIssuer, "sub": sub, "aud": testClientID,
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "name": "Test User",
	}
	if nonce != "" {
		claims["nonce"] = nonce
	}
	if cmod != nil {
		cmod(claims)
	}
	hdr := map[string]any{"alg": "RS256", "typ": "JWT", "kid": h.kid}
	if hmod != nil {
		hmod(hdr)
	}
	input := b64url(mustJSON(h.t, hdr)) + "." + b64url(mustJSON(h.t, claims))
	sig := []byte("dummy-signature")
	if h.sign != nil {
		sig = h.sign(input)
	}
	return input + "." + b64url(sig)
}

// authorize plays the OP's authorization endpoint for authURL: it checks the request and returns
// the URL the browser is redirected back to.
func (h *harness) authorize(authURL string, extra ...string) string {
	h.t.Helper()
	u, err := url.Parse(authURL)
	if err != nil {
		h.t.Fatalf("auth URL %q: %v", authURL, err)
	}
	q := u.Query()
	if q.Get("response_type") != "code" || q.Get("code_challenge_method") != "S256" || q.Get("client_id") != testClientID {
		h.t.Fatalf("bad authorization request %s", authURL)
	}
	h.mu.Lock()
	h.seq++
	code := fmt.Sprintf("code-%d", h.seq)
	h.grants[code] = &grant{code: code, nonce: q.Get("nonce"), challenge: q.Get("code_challenge"),
		redirect: q.Get("redirect_uri"), clientID: q.Get("client_id")}
	h.mu.Unlock()
	cb := url.Values{"code": {code}, "state": {q.Get("state")}}
	for i := 0; i+1 < len(extra); i += 2 {
		cb.Set(extra[i], extra[i+1])
	}
	return q.Get("redirect_uri") + "?" + cb.Encode()
}

// begin starts a login and returns the authorization URL's parameters.
func (h *harness) begin(o LoginOptions) (authURL string, q url.Values) {
	h.t.Helper()
	authURL, err := h.client.BeginLogin(context.Background(), o)
	if err != nil {
		h.t.Fatalf("BeginLogin: %v", err)
	}
	return authURL, parseURLOrFatal(h.t, authURL).Query()
}

// login runs a complete successful login.
func (h *harness) login() {
	h.t.Helper()
	authURL, _ := h.begin(LoginOptions{})
	if _, err := h.client.HandleCallback(context.Background(), h.authorize(authURL)); err != nil {
		h.t.Fatalf("HandleCallback: %v", err)
	}
	if !h.client.Authenticated() {
		h.t.Fatalf("not authenticated after login")
	}
}

func (h *harness) accessToken() string {
	h.t.Helper()
	at, err := h.client.AccessToken(context.Background())
	if err != nil {
		h.t.Fatalf("AccessToken: %v", err)
	}
	return at
}

func (h *harness) userSub() string {
	h.t.Helper()
	b := h.client.UserClaims()
	if b == nil {
		return ""
	}
	var c struct {
		Sub string `json:"sub"`
	}
	if err := json.Unmarshal(b, &c); err != nil {
		h.t.Fatalf("UserClaims %s: %v", b, err)
	}
	return c.Sub
}

func formOf(t *testing.T, r HTTPRequest) url.Values {
	t.Helper()
	f, err := url.ParseQuery(r.Body)
	if err != nil {
		t.Fatalf("request body %q is not a form: %v", r.Body, err)
	}
	return f
}

func header(r HTTPRequest, name string) (string, bool) {
	for k, v := range r.Header {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return "", false
}

// countingReader yields 0, 1, 2, ... so every value drawn from it is predictable.
type countingReader struct{ n byte }

func (r *countingReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = r.n
		r.n++
	}
	return len(p), nil
}

func TestClientBeginLogin(t *testing.T) {
	h := newHarnessWith(t, nil, func(d *Deps) { d.Rand = &countingReader{} })
	authURL, q := h.begin(LoginOptions{ReturnTo: "/account?tab=1"})

	u := parseURLOrFatal(t, authURL)
	if got := u.Scheme + "://" + u.Host + u.Path; got != testAuthz {
		t.Errorf("auth URL endpoint = %q, want %q", got, testAuthz)
	}
	if h.store.Len() != 1 {
		t.Fatalf("%d transactions stored, want exactly 1", h.store.Len())
	}
	state := q.Get("state")
	enc, ok, err := h.store.Take(txKey(state))
	if err != nil || !ok {
		t.Fatalf("no transaction stored under the URL's state %q", state)
	}
	tx, err := decodeTransaction(enc)
	if err != nil {
		t.Fatalf("stored transaction %q: %v", enc, err)
	}
	if strings.Contains(enc, secretAT) || strings.Contains(enc, "access_token") {
		t.Errorf("transaction holds a token: %s", enc)
	}
	if tx.State != state || tx.Nonce != q.Get("nonce") || tx.RedirectURI != testRedirect || tx.Issuer != testIssuer ||
		tx.ReturnTo != "/account?tab=1" || !tx.CreatedAt.Equal(h.clock.Now()) {
		t.Errorf("transaction = %+v", tx)
	}
	if !ValidVerifier(tx.Verifier) || len(tx.Verifier) != 43 {
		t.Errorf("stored verifier %q is not a 43-character RFC 7636 verifier", tx.Verifier)
	}
	if q.Get("code_challenge") != S256Challenge(tx.Verifier) {
		t.Errorf("code_challenge %q is not S256 of the stored verifier (%q)", q.Get("code_challenge"), S256Challenge(tx.Verifier))
	}
	want := url.Values{
		"response_type": {"code"}, "client_id": {testClientID}, "redirect_uri": {testRedirect},
		"scope": {"openid profile offline_access"}, "state": {tx.State}, "nonce": {tx.Nonce},
		"code_challenge": {S256Challenge(tx.Verifier)}, "code_challenge_method": {"S256"},
	}
	diffValues(t, q, want)
	// State, nonce and verifier come from the injected reader (which yields 0, 1, 2, ...): each is
	// 32 consecutive bytes of it, and they differ.
	for name, v := range map[string]string{"state": tx.State, "nonce": tx.Nonce, "verifier": tx.Verifier} {
		b, err := base64.RawURLEncoding.DecodeString(v)
		if err != nil || len(b) != 32 {
			t.Errorf("%s %q is not 32 base64url bytes", name, v)
			continue
		}
		for i := 1; i < len(b); i++ {
			if b[i] != b[i-1]+1 {
				t.Errorf("%s %q (% x) does not come from the injected reader", name, v, b)
				break
			}
		}
	}
	if tx.State == tx.Nonce || tx.Nonce == tx.Verifier || tx.State == tx.Verifier {
		t.Errorf("state, nonce and verifier are not distinct: %+v", tx)
	}
	if reqs := h.doer.requests(); len(reqs) != 1 || reqs[0].URL != DiscoveryURL(testIssuer) {
		t.Errorf("BeginLogin made requests %+v, want only discovery", reqs)
	}
}

func TestClientBeginLoginFreshTransactions(t *testing.T) {
	h := newHarness(t, nil) // crypto/rand
	seen := map[string]bool{}
	for i := 0; i < 5; i++ {
		_, q := h.begin(LoginOptions{Prompt: "login", LoginHint: "ada@example.com"})
		for _, k := range []string{"state", "nonce", "code_challenge"} {
			if seen[q.Get(k)] {
				t.Fatalf("%s %q repeated", k, q.Get(k))
			}
			seen[q.Get(k)] = true
		}
		if q.Get("prompt") != "login" || q.Get("login_hint") != "ada@example.com" {
			t.Errorf("prompt/login_hint = %q/%q", q.Get("prompt"), q.Get("login_hint"))
		}
	}
	if h.store.Len() != 5 {
		t.Errorf("%d pending transactions, want 5", h.store.Len())
	}
	if n := len(h.doer.requests()); n != 1 {
		t.Errorf("%d requests, want 1 (discovery is cached)", n)
	}
}

func TestClientBeginLoginRejects(t *testing.T) {
	tests := []LoginOptions{
		{ReturnTo: "https://evil.example.com/"},
		{ReturnTo: "//evil.example.com/"},
		{ReturnTo: "/\\evil.example.com"},
		{ReturnTo: "evil"},
		{ReturnTo: "/a\r\nSet-Cookie: x"},
		{ReturnTo: "javascript:alert(1)"},
		{Prompt: "bogus"},
		{Prompt: "login consent"},
	}
	for _, o := range tests {
		t.Run(fmt.Sprintf("%+v", o), func(t *testing.T) {
			h := newHarness(t, nil)
			_, err := h.client.BeginLogin(context.Background(), o)
			wantCode(t, err, CodeInvalidConfig)
			if h.store.Len() != 0 {
				t.Errorf("transaction stored for rejected options")
			}
		})
	}
}

func TestClientBeginLoginStorageError(t *testing.T) {
	h := newHarness(t, nil)
	h.client.deps.Store = failingStore{}
	_, err := h.client.BeginLogin(context.Background(), LoginOptions{})
	wantCode(t, err, CodeStorageError)
}

type failingStore struct{}

func (failingStore) Put(string, string) error { return errors.New("quota exceeded") }
func (failingStore) Take(string) (string, bool, error) {
	return "", false, errors.New("storage disabled")
}

func TestClientHandleCallbackExchangesCode(t *testing.T) {
	h := newHarness(t, nil)
	authURL, q := h.begin(LoginOptions{ReturnTo: "/after"})
	enc, _, _ := h.store.Take(txKey(q.Get("state")))
	h.store.Put(txKey(q.Get("state")), enc)
	tx, err := decodeTransaction(enc)
	if err != nil {
		t.Fatal(err)
	}

	cb := h.authorize(authURL)
	returnTo, err := h.client.HandleCallback(context.Background(), cb)
	if err != nil {
		t.Fatalf("HandleCallback: %v", err)
	}
	if returnTo != "/after" {
		t.Errorf("returnTo = %q, want /after", returnTo)
	}
	trs := h.doer.tokenRequests()
	if len(trs) != 1 {
		t.Fatalf("%d token requests, want 1", len(trs))
	}
	r := trs[0]
	if r.Method != "POST" {
		t.Errorf("method = %s, want POST", r.Method)
	}
	if ct, _ := header(r, "Content-Type"); !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		t.Errorf("Content-Type = %q, want application/x-www-form-urlencoded", ct)
	}
	if v, ok := header(r, "Authorization"); ok {
		t.Errorf("public client sent Authorization: %q", v)
	}
	form := formOf(t, r)
	wantForm := url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {parseURLOrFatal(t, cb).Query().Get("code")},
		"redirect_uri":  {testRedirect},
		"client_id":     {testClientID},
		"code_verifier": {tx.Verifier},
	}
	diffValues(t, form, wantForm) // exactly these: no client_secret, no extras
	if h.store.Len() != 0 {
		t.Errorf("%d transactions left after the callback, want 0", h.store.Len())
	}
	if !h.client.Authenticated() {
		t.Fatal("not authenticated")
	}
	if at := h.accessToken(); at != secretAT+"-2" {
		t.Errorf("access token = %q", at)
	}
	if h.userSub() != "user-1" {
		t.Errorf("user sub = %q", h.userSub())
	}
}

func TestClientHandleCallbackReplay(t *testing.T) {
	h := newHarness(t, nil)
	authURL, _ := h.begin(LoginOptions{})
	cb := h.authorize(authURL)
	if _, err := h.client.HandleCallback(context.Background(), cb); err != nil {
		t.Fatal(err)
	}
	_, err := h.client.HandleCallback(context.Background(), cb)
	wantCode(t, err, CodeStateMismatch)
	if n := len(h.doer.tokenRequests()); n != 1 {
		t.Errorf("%d token requests, want 1: a replayed callback must not reach the token endpoint", n)
	}
	if !h.client.Authenticated() {
		t.Errorf("replay signed the user out")
	}
}

func TestClientHandleCallbackWrongState(t *testing.T) {
	h := newHarness(t, nil)
	authA, _ := h.begin(LoginOptions{ReturnTo: "/a"})
	authB, _ := h.begin(LoginOptions{ReturnTo: "/b"})
	cbA := h.authorize(authA)
	forged := strings.Replace(cbA, "state=", "state=forged", 1)
	_, err := h.client.HandleCallback(context.Background(), forged)
	wantCode(t, err, CodeStateMismatch)
	if h.store.Len() != 2 {
		t.Errorf("%d transactions pending after a forged state, want 2 (none may be consumed)", h.store.Len())
	}
	if n := len(h.doer.tokenRequests()); n != 0 {
		t.Errorf("%d token requests for a forged state", n)
	}
	if h.client.Authenticated() {
		t.Errorf("authenticated by a forged callback")
	}
	// The other pending login still completes.
	ret, err := h.client.HandleCallback(context.Background(), h.authorize(authB))
	if err != nil || ret != "/b" {
		t.Fatalf("other login: %q, %v", ret, err)
	}
	if h.store.Len() != 1 {
		t.Errorf("%d pending, want 1 (login A)", h.store.Len())
	}
}

func TestClientHandleCallbackErrorResponse(t *testing.T) {
	tests := []struct {
		name, errCode, desc string
		wantCode, wantDesc  string
	}{
		{"access_denied", "access_denied", "The user denied the request", CodeAccessDenied, "The user denied the request"},
		{"login_required", "login_required", "", CodeLoginRequired, ""},
		{"custom code", "temporarily_unavailable", "try later", "temporarily_unavailable", "try later"},
		{"control characters in description", "access_denied", "no\x1b[31m\r\nway", CodeAccessDenied, "no[31mway"},
		{"malformed code", "<b>pwned</b>", "x", CodeInvalidCallback, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, nil)
			_, q := h.begin(LoginOptions{})
			cb := testRedirect + "?" + url.Values{"error": {tt.errCode}, "error_description": {tt.desc}, "state": {q.Get("state")}}.Encode()
			_, err := h.client.HandleCallback(context.Background(), cb)
			e := wantCode(t, err, tt.wantCode)
			if tt.wantDesc != "" && e.Description != tt.wantDesc {
				t.Errorf("Description = %q, want %q", e.Description, tt.wantDesc)
			}
			if n := len(h.doer.tokenRequests()); n != 0 {
				t.Errorf("%d token requests after an error response", n)
			}
			if h.store.Len() != 0 {
				t.Errorf("transaction not consumed by the error response")
			}
			if h.client.Authenticated() {
				t.Errorf("authenticated after an error response")
			}
		})
	}
}

func TestClientHandleCallbackErrorWithForgedState(t *testing.T) {
	// An error response is trusted only after its state matched (RFC 6749 §10.12): with a forged
	// state the answer is state_mismatch, never the attacker's error code.
	h := newHarness(t, nil)
	h.begin(LoginOptions{})
	cb := testRedirect + "?error=access_denied&error_description=phish&state=forged"
	_, err := h.client.HandleCallback(context.Background(), cb)
	wantCode(t, err, CodeStateMismatch)
	if h.store.Len() != 1 {
		t.Errorf("pending transaction consumed by a forged error response")
	}
}

func TestClientHandleCallbackIssuerParam(t *testing.T) {
	tests := []struct {
		name      string
		supported bool
		iss       *string
		wantCode  string // "" = success
	}{
		{"advertised, present and right", true, ptr(testIssuer), ""},
		{"advertised, present and wrong", true, ptr("https://evil.example.com"), CodeIssuerMismatch},
		{"advertised, missing", true, nil, CodeIssuerMismatch},
		{"not advertised, present and wrong", false, ptr("https://evil.example.com"), CodeIssuerMismatch},
		{"not advertised, present with trailing slash", false, ptr(testIssuer + "/"), CodeIssuerMismatch},
		{"not advertised, present and right", false, ptr(testIssuer), ""},
		{"not advertised, missing", false, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, nil)
			h.meta["authorization_response_iss_parameter_supported"] = tt.supported
			authURL, _ := h.begin(LoginOptions{})
			var extra []string
			if tt.iss != nil {
				extra = []string{"iss", *tt.iss}
			}
			_, err := h.client.HandleCallback(context.Background(), h.authorize(authURL, extra...))
			if tt.wantCode == "" {
				if err != nil {
					t.Fatalf("HandleCallback: %v", err)
				}
				return
			}
			wantCode(t, err, tt.wantCode)
			if n := len(h.doer.tokenRequests()); n != 0 {
				t.Errorf("%d token requests despite issuer mismatch", n)
			}
			if h.client.Authenticated() {
				t.Errorf("authenticated despite issuer mismatch")
			}
		})
	}
	// The iss check applies to error responses too (mix-up: RFC 9207 §2.4).
	h := newHarness(t, nil)
	_, q := h.begin(LoginOptions{})
	cb := testRedirect + "?" + url.Values{"error": {"access_denied"}, "state": {q.Get("state")}, "iss": {"https://evil.example.com"}}.Encode()
	_, err := h.client.HandleCallback(context.Background(), cb)
	wantCode(t, err, CodeIssuerMismatch)
}

func ptr[T any](v T) *T { return &v }

// Failures of the code exchange and of the ID token: the client stays signed out, and no error
// message carries a token from the response.
func TestClientHandleCallbackTokenFailures(t *testing.T) {
	tests := []struct {
		name     string
		respond  func(h *harness, g *grant) (*HTTPResponse, error)
		wantCode string
	}{
		{"no id_token", func(h *harness, g *grant) (*HTTPResponse, error) {
			return h.issue(issueOpts{nonce: g.nonce, noIDToken: true}), nil
		}, CodeInvalidTokenResponse},
		{"nonce mismatch", func(h *harness, g *grant) (*HTTPResponse, error) {
			return h.issue(issueOpts{nonce: "attacker-nonce"}), nil
		}, CodeInvalidIDToken},
		{"nonce missing", func(h *harness, g *grant) (*HTTPResponse, error) {
			return h.issue(issueOpts{}), nil
		}, CodeInvalidIDToken},
		{"id token for another client", func(h *harness, g *grant) (*HTTPResponse, error) {
			return h.issue(issueOpts{nonce: g.nonce, claims: func(c map[string]any) { c["aud"] = "other-client" }}), nil
		}, CodeInvalidIDToken},
		{"id token from another issuer", func(h *harness, g *grant) (*HTTPResponse, error) {
			return h.issue(issueOpts{nonce: g.nonce, claims: func(c map[string]any) { c["iss"] = "https://evil.example.com" }}), nil
		}, CodeInvalidIDToken},
		{"id token expired", func(h *harness, g *grant) (*HTTPResponse, error) {
			return h.issue(issueOpts{nonce: g.nonce, claims: func(c map[string]any) {
				c["exp"] = h.clock.Now().Add(-time.Hour).Unix()
				c["iat"] = h.clock.Now().Add(-2 * time.Hour).Unix()
			}}), nil
		}, CodeInvalidIDToken},
		{"id token alg none", func(h *harness, g *grant) (*HTTPResponse, error) {
			return h.issue(issueOpts{nonce: g.nonce, header: func(hd map[string]any) { hd["alg"] = "none" }}), nil
		}, CodeInvalidIDToken},
		{"id token alg not advertised", func(h *harness, g *grant) (*HTTPResponse, error) {
			return h.issue(issueOpts{nonce: g.nonce, header: func(hd map[string]any) { hd["alg"] = "ES256" }}), nil
		}, CodeInvalidIDToken},
		{"id token garbage", func(h *harness, g *grant) (*HTTPResponse, error) {
			return jsonResponse(h.t, 200, map[string]any{"access_token": secretAT, "token_type": "Bearer", "refresh_token": secretRT, "id_token": "not.a.jwt"}), nil
		}, CodeInvalidIDToken},
		{"token_type mac", func(h *harness, g *grant) (*HTTPResponse, error) {
			return jsonResponse(h.t, 200, map[string]any{"access_token": secretAT, "token_type": "mac", "refresh_token": secretRT}), nil
		}, CodeInvalidTokenResponse},
		{"invalid_grant", func(h *harness, g *grant) (*HTTPResponse, error) {
			return oauthError(h.t, 400, "invalid_grant", "code expired"), nil
		}, CodeInvalidGrant},
		{"server error", func(h *harness, g *grant) (*HTTPResponse, error) {
			return &HTTPResponse{Status: 502, Body: []byte("<html>bad gateway</html>")}, nil
		}, CodeServerError},
		{"network error", func(h *harness, g *grant) (*HTTPResponse, error) {
			return nil, errors.New("TypeError: Failed to fetch")
		}, CodeNetworkError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, nil)
			h.codeResponse = func(form url.Values, g *grant) (*HTTPResponse, error) { return tt.respond(h, g) }
			authURL, _ := h.begin(LoginOptions{})
			_, err := h.client.HandleCallback(context.Background(), h.authorize(authURL))
			wantCode(t, err, tt.wantCode)
			assertNoSecret(t, err, secretAT, secretRT)
			if h.client.Authenticated() || h.client.UserClaims() != nil {
				t.Errorf("signed in after a failed exchange")
			}
			_, err = h.client.AccessToken(context.Background())
			wantCode(t, err, CodeLoginRequired)
			if n := len(h.doer.tokenRequests()); n != 1 {
				t.Errorf("%d token requests, want 1", n)
			}
		})
	}
}

func TestClientFailedCallbackKeepsPreviousTokens(t *testing.T) {
	tests := []struct {
		name string
		run  func(h *harness) error
	}{
		{"state mismatch", func(h *harness) error {
			h.begin(LoginOptions{})
			_, err := h.client.HandleCallback(context.Background(), testRedirect+"?code=c&state=forged")
			return err
		}},
		{"access denied", func(h *harness) error {
			_, q := h.begin(LoginOptions{})
			_, err := h.client.HandleCallback(context.Background(), testRedirect+"?error=access_denied&state="+q.Get("state"))
			return err
		}},
		{"issuer mismatch", func(h *harness) error {
			a, _ := h.begin(LoginOptions{})
			_, err := h.client.HandleCallback(context.Background(), h.authorize(a, "iss", "https://evil.example.com"))
			return err
		}},
		{"invalid_grant", func(h *harness) error {
			h.codeResponse = func(url.Values, *grant) (*HTTPResponse, error) { return oauthError(h.t, 400, "invalid_grant", ""), nil }
			a, _ := h.begin(LoginOptions{})
			_, err := h.client.HandleCallback(context.Background(), h.authorize(a))
			return err
		}},
		{"nonce mismatch", func(h *harness) error {
			h.codeResponse = func(url.Values, *grant) (*HTTPResponse, error) {
				return h.issue(issueOpts{nonce: "x", sub: "mallory"}), nil
			}
			a, _ := h.begin(LoginOptions{})
			_, err := h.client.HandleCallback(context.Background(), h.authorize(a))
			return err
		}},
		{"no id_token", func(h *harness) error {
			h.codeResponse = func(url.Values, *grant) (*HTTPResponse, error) { return h.issue(issueOpts{noIDToken: true}), nil }
			a, _ := h.begin(LoginOptions{})
			_, err := h.client.HandleCallback(context.Background(), h.authorize(a))
			return err
		}},
		{"network error", func(h *harness) error {
			h.codeResponse = func(url.Values, *grant) (*HTTPResponse, error) { return nil, errors.New("offline") }
			a, _ := h.begin(LoginOptions{})
			_, err := h.client.HandleCallback(context.Background(), h.authorize(a))
			return err
		}},
		{"malformed callback", func(h *harness) error {
			h.begin(LoginOptions{})
			_, err := h.client.HandleCallback(context.Background(), testRedirect+"?code=a&code=b&state=s")
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, nil)
			h.login()
			before := h.accessToken()
			claims := h.client.UserClaims()
			if err := tt.run(h); err == nil {
				t.Fatal("second login unexpectedly succeeded")
			}
			if !h.client.Authenticated() {
				t.Fatal("failed callback signed the user out")
			}
			if at := h.accessToken(); at != before {
				t.Errorf("access token changed from %q to %q", before, at)
			}
			if !bytes.Equal(h.client.UserClaims(), claims) {
				t.Errorf("user claims changed to %s", h.client.UserClaims())
			}
		})
	}
}

func TestClientHandleCallbackTransactionLifetime(t *testing.T) {
	for _, tt := range []struct {
		after time.Duration
		ok    bool
	}{{29 * time.Minute, true}, {31 * time.Minute, false}, {24 * time.Hour, false}} {
		t.Run(tt.after.String(), func(t *testing.T) {
			h := newHarness(t, nil)
			authURL, _ := h.begin(LoginOptions{})
			cb := h.authorize(authURL)
			h.clock.Advance(tt.after)
			_, err := h.client.HandleCallback(context.Background(), cb)
			if tt.ok {
				if err != nil {
					t.Fatalf("HandleCallback after %v: %v", tt.after, err)
				}
				return
			}
			wantCode(t, err, CodeStateMismatch)
			if n := len(h.doer.tokenRequests()); n != 0 {
				t.Errorf("%d token requests for an expired transaction", n)
			}
		})
	}
}

func TestClientHandleCallbackBadStoredTransaction(t *testing.T) {
	good := Transaction{State: "s1", Nonce: "n", Verifier: rfc7636Verifier, RedirectURI: testRedirect, Issuer: testIssuer, ReturnTo: "/"}
	enc := func(mod func(*Transaction)) string {
		tx := good
		tx.CreatedAt = time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
		mod(&tx)
		s, err := tx.encode()
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	for name, v := range map[string]string{
		"garbage":          "}{",
		"JSON array":       "[]",
		"no verifier":      enc(func(tx *Transaction) { tx.Verifier = "" }),
		"short verifier":   enc(func(tx *Transaction) { tx.Verifier = "abc" }),
		"no nonce":         enc(func(tx *Transaction) { tx.Nonce = "" }),
		"other state":      enc(func(tx *Transaction) { tx.State = "s2" }),
		"other issuer":     enc(func(tx *Transaction) { tx.Issuer = "https://evil.example.com" }),
		"other redirect":   enc(func(tx *Transaction) { tx.RedirectURI = "https://app.example.com/other" }),
		"no redirect":      enc(func(tx *Transaction) { tx.RedirectURI = "" }),
		"created long ago": enc(func(tx *Transaction) { tx.CreatedAt = tx.CreatedAt.Add(-time.Hour) }),
	} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, nil)
			h.store.Put(txKey("s1"), v)
			_, err := h.client.HandleCallback(context.Background(), testRedirect+"?code=c&state=s1")
			wantCode(t, err, CodeStateMismatch)
			if n := len(h.doer.tokenRequests()); n != 0 {
				t.Errorf("%d token requests", n)
			}
		})
	}
	t.Run("store failure", func(t *testing.T) {
		h := newHarness(t, nil)
		h.client.deps.Store = failingStore{}
		_, err := h.client.HandleCallback(context.Background(), testRedirect+"?code=c&state=s1")
		wantCode(t, err, CodeStorageError)
	})
}

func TestClientUnauthenticated(t *testing.T) {
	h := newHarness(t, nil)
	if h.client.Authenticated() || h.client.UserClaims() != nil {
		t.Fatal("new client is signed in")
	}
	_, err := h.client.AccessToken(context.Background())
	wantCode(t, err, CodeLoginRequired)
	_, err = h.client.Refresh(context.Background())
	wantCode(t, err, CodeLoginRequired)
	if n := len(h.doer.requests()); n != 0 {
		t.Errorf("%d requests while signed out", n)
	}
}

func TestClientAccessTokenNoRefreshWhileValid(t *testing.T) {
	h := newHarness(t, nil)
	h.login()
	at := h.accessToken()
	h.clock.Advance(50 * time.Minute) // expires_in 3600, well before the end
	if got := h.accessToken(); got != at {
		t.Errorf("token changed to %q while still valid", got)
	}
	if n := len(h.doer.tokenRequests()); n != 1 {
		t.Errorf("%d token requests, want 1 (no refresh)", n)
	}
}

func TestClientAccessTokenWithoutExpiry(t *testing.T) {
	h := newHarness(t, nil)
	h.codeResponse = func(form url.Values, g *grant) (*HTTPResponse, error) {
		return jsonResponse(h.t, 200, map[string]any{"access_token": "no-expiry", "token_type": "Bearer",
			"id_token": h.idToken(h.sub, g.nonce, nil, nil)}), nil
	}
	h.login()
	h.clock.Advance(1000 * time.Hour)
	if at := h.accessToken(); at != "no-expiry" {
		t.Errorf("access token = %q", at)
	}
	if n := len(h.doer.tokenRequests()); n != 1 {
		t.Errorf("%d token requests, want 1", n)
	}
}

func TestClientAccessTokenRefreshes(t *testing.T) {
	h := newHarness(t, nil)
	h.login() // at-2, rt-2
	h.clock.Advance(time.Hour)
	at := h.accessToken()
	if at == secretAT+"-2" || !strings.HasPrefix(at, secretAT) {
		t.Fatalf("access token after expiry = %q, want a refreshed one", at)
	}
	trs := h.doer.tokenRequests()
	if len(trs) != 2 {
		t.Fatalf("%d token requests, want 2 (code + one refresh)", len(trs))
	}
	r := trs[1]
	if r.Method != "POST" || r.URL != testTokenEP {
		t.Errorf("refresh request %s %s", r.Method, r.URL)
	}
	if ct, _ := header(r, "Content-Type"); !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		t.Errorf("Content-Type = %q", ct)
	}
	if _, ok := header(r, "Authorization"); ok {
		t.Errorf("refresh sent an Authorization header")
	}
	diffValues(t, formOf(t, r), url.Values{
		"grant_type":    {"refresh_token"},
		"refresh_token": {secretRT + "-2"},
		"client_id":     {testClientID},
	})
	// The new token is used until it expires in turn.
	if again := h.accessToken(); again != at {
		t.Errorf("second call = %q, want %q", again, at)
	}
	if n := len(h.doer.tokenRequests()); n != 2 {
		t.Errorf("%d token requests, want 2", n)
	}
	if h.userSub() != "user-1" {
		t.Errorf("sub after refresh = %q", h.userSub())
	}
}

func TestClientAccessTokenHonorsRefreshMargin(t *testing.T) {
	// Config.RefreshMargin: "refresh this long before expiry; default 60 s".
	for _, tt := range []struct {
		margin time.Duration // 0: default 60 s
		before time.Duration // how long before expiry AccessToken is called
	}{{0, 30 * time.Second}, {5 * time.Minute, 4 * time.Minute}} {
		t.Run(fmt.Sprintf("margin %v, %v before expiry", tt.margin, tt.before), func(t *testing.T) {
			h := newHarness(t, func(c *Config) { c.RefreshMargin = tt.margin })
			h.login()
			old := h.accessToken()
			h.clock.Advance(time.Hour - tt.before)
			if at := h.accessToken(); at == old {
				t.Errorf("AccessToken returned the old token %v before expiry although RefreshMargin is %v", tt.before, h.client.Config().RefreshMargin)
			}
			if n := len(h.doer.tokenRequests()); n != 2 {
				t.Errorf("%d token requests, want 2 (code + refresh within the margin)", n)
			}
		})
	}
}

func TestClientAccessTokenConcurrentRefreshSingleFlight(t *testing.T) {
	h := newHarness(t, nil)
	h.login()
	h.clock.Advance(2 * time.Hour)

	release := make(chan struct{})
	var refreshes atomic.Int32
	h.refreshResponse = func(form url.Values) (*HTTPResponse, error) {
		refreshes.Add(1)
		<-release
		return h.issue(issueOpts{}), nil
	}
	const n = 200
	results := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			results[i], errs[i] = h.client.AccessToken(context.Background())
		}()
	}
	close(start)
	deadline := time.Now().Add(5 * time.Second)
	for refreshes.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // let every caller reach the refresh in flight
	close(release)
	wg.Wait()

	if got := refreshes.Load(); got != 1 {
		t.Fatalf("%d refresh requests for %d concurrent AccessToken calls, want exactly 1", got, n)
	}
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("caller %d: %v", i, errs[i])
		}
		if results[i] != results[0] || results[i] == secretAT+"-2" {
			t.Fatalf("caller %d got %q, caller 0 got %q", i, results[i], results[0])
		}
	}
}

// With a provider that answers at once, callers that saw the expired token just before the
// shared refresh finished must not start a second one: AccessToken has to decide "expired" and
// join (or start) the refresh in one step. The race window is narrow, so the test runs many
// rounds; it cannot fail on a correct implementation and fails reliably under -race otherwise.
func TestClientAccessTokenConcurrentFastRefreshSingleFlight(t *testing.T) {
	const rounds, callers = 100, 200
	bad := 0
	for round := 0; round < rounds; round++ {
		h := newHarness(t, nil)
		h.login()
		h.clock.Advance(2 * time.Hour)
		var refreshes atomic.Int32
		h.refreshResponse = func(url.Values) (*HTTPResponse, error) {
			refreshes.Add(1)
			return h.issue(issueOpts{}), nil
		}
		var wg sync.WaitGroup
		var failed atomic.Int32
		start := make(chan struct{})
		for i := 0; i < callers; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				if _, err := h.client.AccessToken(context.Background()); err != nil {
					failed.Add(1)
				}
			}()
		}
		close(start)
		wg.Wait()
		if failed.Load() != 0 {
			t.Fatalf("round %d: %d callers failed", round, failed.Load())
		}
		if n := refreshes.Load(); n != 1 {
			bad++
			if bad <= 3 {
				t.Errorf("round %d: %d refresh requests for %d concurrent AccessToken calls, want 1", round, n, callers)
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d rounds made more than one refresh request", bad, rounds)
	}
}

func TestClientRefreshTokenRotation(t *testing.T) {
	h := newHarness(t, nil)
	h.login() // rt-2
	var mode atomic.Int32
	h.refreshResponse = func(form url.Values) (*HTTPResponse, error) {
		return h.issue(issueOpts{noRefresh: mode.Load() == 0}), nil
	}

	// 1: the response has no refresh_token: the old one is kept (RFC 6749 §6).
	h.clock.Advance(time.Hour)
	h.accessToken()
	// 2: the response rotates the refresh token.
	h.clock.Advance(time.Hour)
	mode.Store(1)
	h.accessToken()
	// 3: the rotated one is used.
	h.clock.Advance(time.Hour)
	h.accessToken()

	trs := h.doer.tokenRequests()
	if len(trs) != 4 {
		t.Fatalf("%d token requests, want 4", len(trs))
	}
	var used []string
	for _, r := range trs[1:] {
		used = append(used, formOf(t, r).Get("refresh_token"))
	}
	want := []string{secretRT + "-2", secretRT + "-2", secretRT + "-4"}
	if !slices.Equal(used, want) {
		t.Errorf("refresh tokens sent = %q, want %q", used, want)
	}
}

func TestClientRefreshInvalidGrantSignsOut(t *testing.T) {
	h := newHarness(t, nil)
	h.login()
	h.refreshResponse = func(url.Values) (*HTTPResponse, error) {
		return oauthError(h.t, 400, "invalid_grant", "refresh token revoked"), nil
	}
	h.clock.Advance(time.Hour)
	_, err := h.client.AccessToken(context.Background())
	if e := wantCode(t, err, CodeLoginRequired); e.OAuthError != CodeInvalidGrant || e.Status != 400 {
		t.Errorf("OAuthError = %q, Status = %d; want the provider's invalid_grant, 400", e.OAuthError, e.Status)
	}
	assertNoSecret(t, err, secretAT, secretRT)
	if h.client.Authenticated() || h.client.UserClaims() != nil {
		t.Errorf("still signed in after invalid_grant on refresh")
	}
	_, err = h.client.AccessToken(context.Background())
	wantCode(t, err, CodeLoginRequired)
	if n := len(h.doer.tokenRequests()); n != 2 {
		t.Errorf("%d token requests, want 2 (no retry once signed out)", n)
	}
}

func TestClientRefreshTransientFailureKeepsTokens(t *testing.T) {
	for _, tt := range []struct {
		name     string
		resp     func(h *harness) (*HTTPResponse, error)
		wantCode string
	}{
		{"network error", func(*harness) (*HTTPResponse, error) { return nil, errors.New("TypeError: Failed to fetch") }, CodeNetworkError},
		{"server error", func(*harness) (*HTTPResponse, error) { return &HTTPResponse{Status: 503}, nil }, CodeServerError},
		{"garbage", func(*harness) (*HTTPResponse, error) { return &HTTPResponse{Status: 200, Body: []byte("<html>")}, nil }, CodeInvalidTokenResponse},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, nil)
			h.login()
			claims := h.client.UserClaims()
			var fail atomic.Bool
			fail.Store(true)
			h.refreshResponse = func(url.Values) (*HTTPResponse, error) {
				if fail.Load() {
					return tt.resp(h)
				}
				return h.issue(issueOpts{}), nil
			}
			h.clock.Advance(time.Hour)
			_, err := h.client.AccessToken(context.Background())
			wantCode(t, err, tt.wantCode)
			assertNoSecret(t, err, secretAT, secretRT)
			if !h.client.Authenticated() || !bytes.Equal(h.client.UserClaims(), claims) {
				t.Fatalf("tokens dropped after a transient refresh failure")
			}
			// The same refresh token is tried again, and works.
			fail.Store(false)
			if _, err := h.client.AccessToken(context.Background()); err != nil {
				t.Fatalf("retry: %v", err)
			}
			trs := h.doer.tokenRequests()
			if len(trs) != 3 {
				t.Fatalf("%d token requests, want 3", len(trs))
			}
			for _, r := range trs[1:] {
				if got := formOf(t, r).Get("refresh_token"); got != secretRT+"-2" {
					t.Errorf("refresh_token sent = %q, want the unchanged %q", got, secretRT+"-2")
				}
			}
		})
	}
}

func TestClientRefreshIDTokenChecks(t *testing.T) {
	for _, tt := range []struct {
		name string
		opts func(h *harness) issueOpts
	}{
		{"other sub", func(*harness) issueOpts { return issueOpts{sub: "mallory"} }},
		{"other issuer", func(*harness) issueOpts {
			return issueOpts{claims: func(c map[string]any) { c["iss"] = "https://evil.example.com" }}
		}},
		{"other audience", func(*harness) issueOpts {
			return issueOpts{claims: func(c map[string]any) { c["aud"] = "other-client" }}
		}},
		{"expired", func(h *harness) issueOpts {
			return issueOpts{claims: func(c map[string]any) {
				c["exp"] = h.clock.Now().Add(-48 * time.Hour).Unix()
				c["iat"] = h.clock.Now().Add(-49 * time.Hour).Unix()
			}}
		}},
		{"alg none", func(*harness) issueOpts {
			return issueOpts{header: func(hd map[string]any) { hd["alg"] = "none" }}
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, nil)
			h.login()
			claims := h.client.UserClaims()
			h.refreshResponse = func(url.Values) (*HTTPResponse, error) { return h.issue(tt.opts(h)), nil }
			h.clock.Advance(time.Hour)
			at, err := h.client.AccessToken(context.Background())
			if err == nil {
				t.Fatalf("refresh with a bad ID token returned access token %q", at)
			}
			wantCode(t, err, CodeInvalidIDToken)
			assertNoSecret(t, err, secretAT, secretRT)
			if !bytes.Equal(h.client.UserClaims(), claims) {
				t.Errorf("user claims replaced by a rejected ID token: %s", h.client.UserClaims())
			}
			if h.userSub() != "user-1" {
				t.Errorf("sub = %q", h.userSub())
			}
		})
	}
}

func TestClientRefreshWithoutIDTokenKeepsClaims(t *testing.T) {
	h := newHarness(t, nil)
	h.login()
	claims := h.client.UserClaims()
	h.refreshResponse = func(url.Values) (*HTTPResponse, error) { return h.issue(issueOpts{noIDToken: true}), nil }
	h.clock.Advance(time.Hour)
	h.accessToken()
	if !bytes.Equal(h.client.UserClaims(), claims) {
		t.Errorf("claims changed after a refresh without ID token")
	}
	lr := h.client.Logout(context.Background())
	hint := lr.Params.Get("id_token_hint")
	j, err := ParseJWT(hint)
	if err != nil || !bytes.Equal(j.Payload, claims) {
		t.Errorf("id_token_hint after refresh is not the original ID token: %q (%v)", hint, err)
	}
}

func TestClientRefreshWithoutRefreshToken(t *testing.T) {
	h := newHarness(t, nil)
	h.codeResponse = func(form url.Values, g *grant) (*HTTPResponse, error) {
		return h.issue(issueOpts{nonce: g.nonce, noRefresh: true}), nil
	}
	h.login()
	h.clock.Advance(time.Hour)
	_, err := h.client.AccessToken(context.Background())
	wantCode(t, err, CodeLoginRequired)
	if n := len(h.doer.tokenRequests()); n != 1 {
		t.Errorf("%d token requests, want 1 (nothing to refresh with)", n)
	}
}

func TestClientLogoutDuringRefresh(t *testing.T) {
	h := newHarness(t, nil)
	h.login()
	entered, release := make(chan struct{}), make(chan struct{})
	h.refreshResponse = func(url.Values) (*HTTPResponse, error) {
		close(entered)
		<-release
		return h.issue(issueOpts{}), nil
	}
	h.clock.Advance(time.Hour)
	done := make(chan error, 1)
	go func() {
		_, err := h.client.AccessToken(context.Background())
		done <- err
	}()
	<-entered
	h.client.Logout(context.Background())
	close(release)
	err := <-done
	wantCode(t, err, CodeLoginRequired)
	if h.client.Authenticated() {
		t.Errorf("a refresh that finished after logout signed the user back in")
	}
}

func TestClientAccessTokenContextCancelled(t *testing.T) {
	h := newHarness(t, nil)
	h.login()
	release := make(chan struct{})
	defer close(release)
	h.refreshResponse = func(url.Values) (*HTTPResponse, error) {
		<-release
		return h.issue(issueOpts{}), nil
	}
	h.clock.Advance(time.Hour)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err := h.client.AccessToken(ctx)
	if err == nil {
		t.Fatal("AccessToken returned without error although the refresh is still blocked")
	}
	if !h.client.Authenticated() {
		t.Errorf("giving up on a refresh signed the user out")
	}
}

func TestClientLogout(t *testing.T) {
	h := newHarness(t, nil)
	h.login()
	claims := h.client.UserClaims()
	lr := h.client.Logout(context.Background())
	if lr.Endpoint != testEndSession {
		t.Errorf("Endpoint = %q, want %q", lr.Endpoint, testEndSession)
	}
	// id_token_hint is the session's ID token (the one whose payload UserClaims returned).
	idToken := lr.Params.Get("id_token_hint")
	j, err := ParseJWT(idToken)
	if err != nil {
		t.Fatalf("id_token_hint %q: %v", idToken, err)
	}
	if !bytes.Equal(j.Payload, claims) {
		t.Errorf("id_token_hint is not the session's ID token")
	}
	diffValues(t, lr.Params, url.Values{
		"id_token_hint":            {idToken},
		"client_id":                {testClientID},
		"post_logout_redirect_uri": {testPostLogout},
	})
	if h.client.Authenticated() || h.client.UserClaims() != nil {
		t.Errorf("still signed in after Logout")
	}
	_, err = h.client.AccessToken(context.Background())
	wantCode(t, err, CodeLoginRequired)
	if n := len(h.doer.tokenRequests()); n != 1 {
		t.Errorf("Logout made token requests")
	}

	// A second logout has no ID token to hint with.
	lr = h.client.Logout(context.Background())
	if lr.Params.Has("id_token_hint") {
		t.Errorf("second Logout still has id_token_hint")
	}
}

func TestClientLogoutVariants(t *testing.T) {
	t.Run("no end_session_endpoint", func(t *testing.T) {
		h := newHarness(t, nil)
		delete(h.meta, "end_session_endpoint")
		h.login()
		lr := h.client.Logout(context.Background())
		if lr.Endpoint != "" || len(lr.Params) != 0 {
			t.Errorf("Logout = %+v, want empty", lr)
		}
		if h.client.Authenticated() {
			t.Errorf("still signed in")
		}
	})
	t.Run("no post logout redirect", func(t *testing.T) {
		h := newHarness(t, func(c *Config) { c.PostLogoutRedirectURI = "" })
		h.login()
		lr := h.client.Logout(context.Background())
		if lr.Params.Has("post_logout_redirect_uri") {
			t.Errorf("post_logout_redirect_uri = %q", lr.Params.Get("post_logout_redirect_uri"))
		}
		if lr.Params.Get("client_id") != testClientID || !lr.Params.Has("id_token_hint") {
			t.Errorf("params = %v", lr.Params)
		}
	})
}

func TestClientAllowsOrigin(t *testing.T) {
	h := newHarness(t, nil) // ResourceOrigins: https://api.example.com, http://localhost:8080
	for raw, want := range map[string]bool{
		"https://api.example.com/v1/me":               true,
		"https://api.example.com":                     true,
		"https://api.example.com:443/v1/me":           true,
		"https://API.Example.COM/v1/me":               true,
		"https://api.example.com/?q=1#frag":           true,
		"http://localhost:8080/api/me":                true,
		"https://api.example.com:8443/v1/me":          false,
		"https://api.example.com:80/":                 false,
		"http://api.example.com/v1/me":                false,
		"wss://api.example.com/":                      false,
		"https://sub.api.example.com/":                false,
		"https://example.com/":                        false,
		"https://api.example.com.evil.com/":           false,
		"https://evilapi.example.com/":                false,
		"https://api.example.com@evil.com/":           false,
		"https://api.example.com:443@evil.com/":       false,
		"https://evil.com/https://api.example.com":    false,
		"https://evil.com/?u=https://api.example.com": false,
		"http://localhost:8081/api":                   false,
		"http://127.0.0.1:8080/api":                   false,
		"https://localhost:8080/api":                  false,
		"http://localhost/api":                        false,
		"/api/me":                                     false,
		"":                                            false,
		"api.example.com":                             false,
		"//api.example.com/x":                         false,
		"javascript:fetch('https://api.example.com')": false,
	} {
		if got := h.client.AllowsOrigin(raw); got != want {
			t.Errorf("AllowsOrigin(%q) = %v, want %v", raw, got, want)
		}
	}
	empty := newHarness(t, func(c *Config) { c.ResourceOrigins = nil })
	if empty.client.AllowsOrigin("https://api.example.com/") || empty.client.AllowsOrigin(testIssuer+"/userinfo") {
		t.Errorf("a client without resource origins allows sending its token")
	}
}

// rsaJWK is the public JWK (RFC 7518 §6.3.1) of k.
func rsaJWK(k *rsa.PublicKey, kid string) map[string]any {
	return map[string]any{
		"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
		"n": b64url(k.N.Bytes()), "e": b64url(big.NewInt(int64(k.E)).Bytes()),
	}
}

// verifyRS256 is a VerifyFunc with Go's crypto, standing in for WebCrypto.
func verifyRS256(_ context.Context, alg string, key *JWK, input string, sig []byte) error {
	if alg != "RS256" || key == nil || key.Kty != "RSA" {
		return fmt.Errorf("unsupported alg %q / key %+v", alg, key)
	}
	var raw struct{ N, E string }
	if err := json.Unmarshal(key.Raw, &raw); err != nil {
		return err
	}
	n, err := base64.RawURLEncoding.DecodeString(raw.N)
	if err != nil {
		return err
	}
	e, err := base64.RawURLEncoding.DecodeString(raw.E)
	if err != nil {
		return err
	}
	pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
	sum := sha256.Sum256([]byte(input))
	return rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig)
}

func TestClientVerifiesIDTokenSignature(t *testing.T) {
	opKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	otherKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	signer := func(k *rsa.PrivateKey) func(string) []byte {
		return func(input string) []byte {
			sum := sha256.Sum256([]byte(input))
			s, err := rsa.SignPKCS1v15(nil, k, crypto.SHA256, sum[:])
			if err != nil {
				panic(err)
			}
			return s
		}
	}
	setup := func(t *testing.T) *harness {
		h := newHarnessWith(t, nil, func(d *Deps) { d.SkipSignatureCheck = false; d.Verify = verifyRS256 })
		h.jwks = mustJSON(t, map[string]any{"keys": []any{rsaJWK(&opKey.PublicKey, "k1")}})
		h.sign = signer(opKey)
		return h
	}
	countJWKS := func(h *harness) (n int) {
		for _, r := range h.doer.requests() {
			if r.URL == testJWKS {
				n++
			}
		}
		return n
	}

	t.Run("valid signature", func(t *testing.T) {
		h := setup(t)
		h.login()
		h.client.Logout(context.Background())
		h.login()
		if n := countJWKS(h); n != 1 {
			t.Errorf("JWK Set fetched %d times, want 1 (cached)", n)
		}
	})
	t.Run("signed by another key", func(t *testing.T) {
		h := setup(t)
		h.sign = signer(otherKey)
		a, _ := h.begin(LoginOptions{})
		_, err := h.client.HandleCallback(context.Background(), h.authorize(a))
		wantCode(t, err, CodeInvalidIDToken)
		if h.client.Authenticated() {
			t.Errorf("signed in with a forged ID token")
		}
	})
	t.Run("claims altered after signing", func(t *testing.T) {
		h := setup(t)
		h.codeResponse = func(form url.Values, g *grant) (*HTTPResponse, error) {
			tok := h.idToken("user-1", g.nonce, nil, nil)
			parts := strings.Split(tok, ".")
			var c map[string]any
			p, _ := base64.RawURLEncoding.DecodeString(parts[1])
			json.Unmarshal(p, &c)
			c["sub"] = "admin"
			parts[1] = b64url(mustJSON(h.t, c))
			return jsonResponse(h.t, 200, map[string]any{"access_token": secretAT, "token_type": "Bearer",
				"id_token": strings.Join(parts, ".")}), nil
		}
		a, _ := h.begin(LoginOptions{})
		_, err := h.client.HandleCallback(context.Background(), h.authorize(a))
		wantCode(t, err, CodeInvalidIDToken)
		assertNoSecret(t, err, secretAT)
	})
	t.Run("unknown kid", func(t *testing.T) {
		h := setup(t)
		h.kid = "rotated-away"
		a, _ := h.begin(LoginOptions{})
		_, err := h.client.HandleCallback(context.Background(), h.authorize(a))
		wantCode(t, err, CodeInvalidIDToken)
	})
	t.Run("signature stripped", func(t *testing.T) {
		h := setup(t)
		h.sign = func(string) []byte { return nil }
		a, _ := h.begin(LoginOptions{})
		_, err := h.client.HandleCallback(context.Background(), h.authorize(a))
		wantCode(t, err, CodeInvalidIDToken)
	})
}

// waitUntil polls cond for up to d of real time.
func waitUntil(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(2 * time.Millisecond)
	}
	return true
}

func TestClientAccessTokenWithinMarginFallsBack(t *testing.T) {
	// Within the refresh margin but not yet expired: a transient refresh failure still yields the
	// current token; invalid_grant does not.
	t.Run("network error", func(t *testing.T) {
		h := newHarness(t, nil)
		h.login()
		old := h.accessToken()
		h.refreshResponse = func(url.Values) (*HTTPResponse, error) { return nil, errors.New("offline") }
		h.clock.Advance(time.Hour - 30*time.Second)
		at, err := h.client.AccessToken(context.Background())
		if err != nil || at != old {
			t.Fatalf("AccessToken = %q, %v; want the still-valid %q", at, err, old)
		}
		if n := len(h.doer.tokenRequests()); n != 2 {
			t.Errorf("%d token requests, want 2 (code + attempted refresh)", n)
		}
	})
	t.Run("invalid_grant", func(t *testing.T) {
		h := newHarness(t, nil)
		h.login()
		h.refreshResponse = func(url.Values) (*HTTPResponse, error) { return oauthError(h.t, 400, "invalid_grant", ""), nil }
		h.clock.Advance(time.Hour - 30*time.Second)
		_, err := h.client.AccessToken(context.Background())
		wantCode(t, err, CodeLoginRequired)
		if h.client.Authenticated() {
			t.Errorf("still signed in after invalid_grant")
		}
	})
}

func TestClientProactiveRefresh(t *testing.T) {
	// The access token lives 0.4 s: half of that (0.2 s) is the effective margin, so the client
	// refreshes by itself after about 0.2 s of real time, without anyone asking for a token.
	h := newHarness(t, nil)
	h.codeResponse = func(form url.Values, g *grant) (*HTTPResponse, error) {
		return h.issue(issueOpts{nonce: g.nonce, expiresIn: 0.4}), nil
	}
	var refreshes atomic.Int32
	h.refreshResponse = func(url.Values) (*HTTPResponse, error) {
		refreshes.Add(1)
		return h.issue(issueOpts{}), nil // 3600 s: no further proactive refresh soon
	}
	h.login()
	if !waitUntil(3*time.Second, func() bool { return refreshes.Load() > 0 }) {
		t.Fatal("no proactive refresh within 3 s for a token that expires in 0.4 s")
	}
	time.Sleep(100 * time.Millisecond)
	if n := refreshes.Load(); n != 1 {
		t.Fatalf("%d proactive refreshes, want 1", n)
	}
	if !waitUntil(time.Second, func() bool { return h.accessToken() != secretAT+"-2" }) {
		t.Fatalf("AccessToken still returns the old token after the proactive refresh")
	}
	if n := len(h.doer.tokenRequests()); n != 2 {
		t.Errorf("%d token requests, want 2", n)
	}
}

func TestClientNoAutoRefresh(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.NoAutoRefresh = true })
	h.codeResponse = func(form url.Values, g *grant) (*HTTPResponse, error) {
		return h.issue(issueOpts{nonce: g.nonce, expiresIn: 0.2}), nil
	}
	h.login()
	time.Sleep(400 * time.Millisecond)
	if n := len(h.doer.tokenRequests()); n != 1 {
		t.Errorf("%d token requests with NoAutoRefresh, want 1 (no proactive refresh)", n)
	}
}

// A provider that answers expires_in 0 (or a lifetime that is already over) must not drive the
// client into an unbounded refresh loop: each refresh yields another zero-lifetime token, and the
// proactive refresh must not fire again at once, forever. Whether one round loops depends on
// scheduling, so the test runs several; it cannot fail when refreshes are bounded.
func TestClientZeroLifetimeTokensDoNotRefreshInALoop(t *testing.T) {
	const rounds = 10
	worst := int32(0)
	for round := 0; round < rounds; round++ {
		h := newHarness(t, nil)
		h.codeResponse = func(form url.Values, g *grant) (*HTTPResponse, error) {
			return h.issue(issueOpts{nonce: g.nonce, expiresIn: 0}), nil
		}
		var refreshes atomic.Int32
		h.refreshResponse = func(url.Values) (*HTTPResponse, error) {
			refreshes.Add(1)
			return h.issue(issueOpts{expiresIn: 0}), nil
		}
		h.login()
		time.Sleep(100 * time.Millisecond)
		h.client.Logout(context.Background()) // stops any loop
		worst = max(worst, refreshes.Load())
	}
	if worst > 3 {
		t.Errorf("up to %d refresh requests within 100 ms of a login whose tokens have expires_in 0: the client refreshes in a loop", worst)
	}
}

func TestClientLogoutRevokesRefreshToken(t *testing.T) {
	t.Run("refresh token revoked", func(t *testing.T) {
		h := newHarness(t, nil)
		h.meta["revocation_endpoint"] = testRevoke
		h.login()
		lr := h.client.Logout(context.Background())
		if lr.Endpoint != testEndSession || h.client.Authenticated() {
			t.Errorf("Logout = %+v, authenticated %v", lr, h.client.Authenticated())
		}
		var revs []HTTPRequest
		for _, r := range h.doer.requests() {
			if r.URL == testRevoke {
				revs = append(revs, r)
			}
		}
		if len(revs) != 1 {
			t.Fatalf("%d revocation requests, want 1", len(revs))
		}
		r := revs[0]
		if r.Method != "POST" {
			t.Errorf("revocation method %s", r.Method)
		}
		if _, ok := header(r, "Authorization"); ok {
			t.Errorf("revocation sent an Authorization header")
		}
		diffValues(t, formOf(t, r), url.Values{
			"token": {secretRT + "-2"}, "token_type_hint": {"refresh_token"}, "client_id": {testClientID},
		})
	})
	t.Run("failed revocation still signs out", func(t *testing.T) {
		h := newHarness(t, nil)
		h.meta["revocation_endpoint"] = testRevoke
		h.revokeResponse = func() (*HTTPResponse, error) { return nil, errors.New("offline") }
		h.login()
		lr := h.client.Logout(context.Background())
		if h.client.Authenticated() || lr.Endpoint != testEndSession {
			t.Errorf("failed revocation kept the session or lost the logout request")
		}
	})
	t.Run("no revocation endpoint", func(t *testing.T) {
		h := newHarness(t, nil)
		h.login()
		h.client.Logout(context.Background())
		for _, r := range h.doer.requests() {
			if r.URL == testRevoke {
				t.Errorf("revocation request without a revocation_endpoint")
			}
		}
	})
}

func TestClientEventsNeverCarryTokens(t *testing.T) {
	type event struct {
		name   string
		detail map[string]any
	}
	var mu sync.Mutex
	var events []event
	h := newHarnessWith(t, nil, func(d *Deps) {
		d.Emit = func(name string, detail map[string]any) {
			mu.Lock()
			events = append(events, event{name, maps.Clone(detail)})
			mu.Unlock()
		}
	})
	h.meta["revocation_endpoint"] = testRevoke
	h.login()
	h.clock.Advance(time.Hour)
	h.accessToken() // refresh
	h.refreshResponse = func(url.Values) (*HTTPResponse, error) { return oauthError(h.t, 400, "invalid_grant", ""), nil }
	h.clock.Advance(time.Hour)
	h.client.AccessToken(context.Background()) // invalid_grant: signed out
	h.refreshResponse = nil
	h.login()
	h.client.Logout(context.Background())

	mu.Lock()
	defer mu.Unlock()
	var names []string
	for _, e := range events {
		names = append(names, fmt.Sprintf("%s%v", e.name, e.detail["reason"]))
		s := fmt.Sprint(e.detail)
		for _, secret := range []string{secretAT, secretRT, "eyJ"} {
			if strings.Contains(s, secret) {
				t.Errorf("event %s detail %s carries a token", e.name, s)
			}
		}
	}
	for _, want := range []string{EventTokenRefreshed + "<nil>", EventSignedOut + "invalid_grant", EventSignedOut + "logout"} {
		if !slices.Contains(names, want) {
			t.Errorf("events %q lack %q", names, want)
		}
	}
}
