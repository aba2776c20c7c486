//go:build js && wasm

package jsbridge

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/hack-pad/safejs"
	"github.com/pkce-wasm/pkce-wasm/wasm/core"
)

const (
	testIssuer      = "https://op.example.com"
	testClientID    = "client-1"
	testRedirectURI = "https://app.example.com/callback"
	testAccessToken = "at-0123456789"
)

// fakeOP is a core.HTTPDoer playing the provider: discovery and the token endpoint.
type fakeOP struct {
	mu       sync.Mutex
	nonce    string // nonce to put in the ID token
	requests []*core.HTTPRequest
}

func (f *fakeOP) Do(_ context.Context, r *core.HTTPRequest) (*core.HTTPResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, r)
	switch {
	case r.Method == "GET" && r.URL == testIssuer+"/.well-known/openid-configuration":
		body, _ := json.Marshal(map[string]any{
			"issuer":                                testIssuer,
			"authorization_endpoint":                testIssuer + "/authorize",
			"token_endpoint":                        testIssuer + "/oauth/token",
			"jwks_uri":                              testIssuer + "/keys",
			"response_types_supported":              []string{"code"},
			"code_challenge_methods_supported":      []string{"S256"},
			"id_token_signing_alg_values_supported": []string{"RS256"},
		})
		return &core.HTTPResponse{Status: 200, ContentType: "application/json", Body: body}, nil
	case r.Method == "POST" && r.URL == testIssuer+"/oauth/token":
		now := time.Now().Unix()
		idt := unsignedJWT(map[string]any{"alg": "RS256", "typ": "JWT", "kid": "k1"}, map[string]any{
			"iss": testIssuer, "aud": testClientID, "sub": "user-42", "name": "Test User",
			"iat": now, "exp": now + 3600, "nonce": f.nonce,
		})
		body, _ := json.Marshal(map[string]any{
			"access_token": testAccessToken, "token_type": "Bearer", "expires_in": 3600,
			"refresh_token": "rt-1", "id_token": idt, "scope": "openid",
		})
		return &core.HTTPResponse{Status: 200, ContentType: "application/json", Body: body}, nil
	}
	return &core.HTTPResponse{Status: 404, Body: []byte("not found")}, nil
}

// unsignedJWT builds a compact JWS with a dummy signature (the clients in these tests set
// core.Deps.SkipSignatureCheck, so only the claims are checked).
func unsignedJWT(header, claims map[string]any) string {
	enc := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	return enc(header) + "." + enc(claims) + "." + base64.RawURLEncoding.EncodeToString([]byte("not-a-signature"))
}

// newTestClient returns a client on the fake provider with two allow-listed origins.
func newTestClient(t *testing.T) (*core.Client, *fakeOP, *core.MemoryTxStore) {
	t.Helper()
	op := &fakeOP{}
	store := &core.MemoryTxStore{}
	c, err := core.NewClient(core.Config{
		Issuer: testIssuer, ClientID: testClientID, RedirectURI: testRedirectURI,
		ResourceOrigins: []string{"https://api.example.com", "http://localhost:8080"},
	}, core.Deps{HTTP: op, Store: store, SkipSignatureCheck: true, Rand: CryptoRand{B: newTestBridge(t)}})
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return c, op, store
}

// signIn drives BeginLogin and HandleCallback against the fake provider.
func signIn(t *testing.T, c *core.Client, op *fakeOP, store *core.MemoryTxStore) {
	t.Helper()
	ctx := context.Background()
	authURL, err := c.BeginLogin(ctx, core.LoginOptions{ReturnTo: "/after"})
	if err != nil {
		t.Fatalf("BeginLogin: %v", err)
	}
	u, err := url.Parse(authURL)
	if err != nil {
		t.Fatalf("auth URL %q: %v", authURL, err)
	}
	state := u.Query().Get("state")
	// The nonce comes from the stored transaction (put back for HandleCallback to take).
	key := "pkce-wasm.tx." + state
	enc, ok, err := store.Take(key)
	if err != nil || !ok {
		t.Fatalf("no stored transaction for state %q (ok=%v, err=%v)", state, ok, err)
	}
	var tx core.Transaction
	if err := json.Unmarshal([]byte(enc), &tx); err != nil {
		t.Fatalf("stored transaction: %v", err)
	}
	if tx.Nonce == "" || tx.Nonce != u.Query().Get("nonce") {
		t.Fatalf("stored nonce %q does not match the auth URL's %q", tx.Nonce, u.Query().Get("nonce"))
	}
	if err := store.Put(key, enc); err != nil {
		t.Fatal(err)
	}
	op.mu.Lock()
	op.nonce = tx.Nonce
	op.mu.Unlock()
	returnTo, err := c.HandleCallback(ctx, testRedirectURI+"?code=code-1&state="+url.QueryEscape(state))
	if err != nil {
		t.Fatalf("HandleCallback: %v", err)
	}
	if returnTo != "/after" || !c.Authenticated() {
		t.Fatalf("after HandleCallback: returnTo %q, authenticated %v", returnTo, c.Authenticated())
	}
	if tok, err := c.AccessToken(ctx); err != nil || tok != testAccessToken {
		t.Fatalf("AccessToken = %q, %v", tok, err)
	}
}

// okFetch is a fake fetch answering every request with a fresh 200 Response.
func okFetch(t *testing.T) safejs.Value {
	return fakeFetch(t, `return new Response("ok", {status: 200});`)
}

func callWrapped(t *testing.T, b *Bridge, c *core.Client, args ...any) (safejs.Value, error) {
	t.Helper()
	vals := make([]safejs.Value, len(args))
	for i, a := range args {
		if v, ok := a.(safejs.Value); ok {
			vals[i] = v
			continue
		}
		v, err := safejs.ValueOf(a)
		if err != nil {
			t.Fatalf("ValueOf(%v): %v", a, err)
		}
		vals[i] = v
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res, err := b.wrappedFetch(ctx, c, vals)
	if err != nil {
		return safejs.Undefined(), err
	}
	v, ok := res.(safejs.Value)
	if !ok {
		t.Fatalf("wrappedFetch returned %T, want a safejs.Value", res)
	}
	return v, nil
}

func lastResponse(t *testing.T, fake safejs.Value) safejs.Value {
	t.Helper()
	n := num(t, fake, "responses.length")
	v, err := prop(t, fake, "responses").Index(n - 1)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestWrappedFetchBearerOnlyForAllowListedOrigins(t *testing.T) {
	c, op, store := newTestClient(t)
	signIn(t, c, op, store)
	fake := okFetch(t)
	b := installFetch(t, fake)

	for _, tc := range []struct {
		url    string
		bearer bool
	}{
		{"https://api.example.com/data", true},
		{"https://api.example.com:443/data?x=1", true}, // default port is the same origin
		{"HTTPS://API.EXAMPLE.COM/upper", true},        // URL parsing lower-cases scheme and host
		{"http://localhost:8080/api/me", true},
		{"https://api.example.com:8443/data", false},               // other port
		{"http://api.example.com/data", false},                     // other scheme
		{"https://other.example.com/data", false},                  // other host
		{"https://api.example.com.evil.example/data", false},       // suffix trick
		{"https://evil.example/?u=https://api.example.com", false}, // allow-listed origin in the query
		{"http://127.0.0.1:8080/api/echo", false},                  // same server, other origin
		{"http://localhost:8081/api/me", false},                    // other port
		{"https://op.example.com/userinfo", false},                 // the issuer is not a resource origin
		{"data:text/plain,https://api.example.com", false},         // not http(s)
	} {
		t.Run(tc.url, func(t *testing.T) {
			before := calls(t, fake)
			res, err := callWrapped(t, b, c, tc.url)
			if err != nil {
				t.Fatalf("wrapped fetch(%q): %v", tc.url, err)
			}
			if calls(t, fake) != before+1 {
				t.Fatalf("fetch called %d times, want once", calls(t, fake)-before)
			}
			rec := call(t, fake, before)
			if ok, _ := prop(t, rec, "input").InstanceOf(prop(t, safejs.Global(), "Request")); !ok {
				t.Errorf("fetch was not given a Request")
			}
			got, has := header(t, rec, "authorization")
			switch {
			case tc.bearer && got != "Bearer "+testAccessToken:
				t.Errorf("Authorization = %q (present %v), want \"Bearer %s\"", got, has, testAccessToken)
			case !tc.bearer && has:
				t.Errorf("token leaked to %s: Authorization = %q", tc.url, got)
			}
			if !res.Equal(lastResponse(t, fake)) {
				t.Errorf("wrapped fetch returned another object than the Response fetch produced")
			}
		})
	}
}

func TestWrappedFetchKeepsRequestObject(t *testing.T) {
	c, op, store := newTestClient(t)
	signIn(t, c, op, store)
	fake := okFetch(t)
	b := installFetch(t, fake)

	req := jsEval(t, `new Request("https://api.example.com/items", {method: "POST", body: "payload-1", headers: {"Content-Type": "text/plain", "X-Trace": "t1"}})`, nil)
	if _, err := callWrapped(t, b, c, req); err != nil {
		t.Fatalf("wrapped fetch(Request): %v", err)
	}
	rec := call(t, fake, 0)
	if got := str(t, rec, "method"); got != "POST" {
		t.Errorf("method = %q, want POST", got)
	}
	if got := str(t, rec, "url"); got != "https://api.example.com/items" {
		t.Errorf("url = %q", got)
	}
	if got := str(t, rec, "body"); got != "payload-1" {
		t.Errorf("body = %q, want payload-1", got)
	}
	for name, want := range map[string]string{"x-trace": "t1", "content-type": "text/plain", "authorization": "Bearer " + testAccessToken} {
		if got, _ := header(t, rec, name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
}

func TestWrappedFetchURLWithInit(t *testing.T) {
	c, op, store := newTestClient(t)
	signIn(t, c, op, store)
	fake := okFetch(t)
	b := installFetch(t, fake)

	init := jsEval(t, `{method: "PUT", body: JSON.stringify({a: 1}), headers: {"Content-Type": "application/json"}}`, nil)
	if _, err := callWrapped(t, b, c, "https://api.example.com/things/1", init); err != nil {
		t.Fatalf("wrapped fetch(url, init): %v", err)
	}
	rec := call(t, fake, 0)
	if got := str(t, rec, "method"); got != "PUT" {
		t.Errorf("method = %q, want PUT", got)
	}
	if got := str(t, rec, "body"); got != `{"a":1}` {
		t.Errorf("body = %q", got)
	}
	if got, _ := header(t, rec, "content-type"); got != "application/json" {
		t.Errorf("Content-Type = %q", got)
	}
	if got, _ := header(t, rec, "authorization"); got != "Bearer "+testAccessToken {
		t.Errorf("Authorization = %q", got)
	}
	// init is not modified.
	if h := prop(t, init, "headers"); truthy(t, h, "Authorization") {
		t.Errorf("the caller's init.headers got the token")
	}
}

// The caller's own Authorization header goes to other origins untouched; for allow-listed
// origins ours replaces it.
func TestWrappedFetchCallerAuthorization(t *testing.T) {
	c, op, store := newTestClient(t)
	signIn(t, c, op, store)
	fake := okFetch(t)
	b := installFetch(t, fake)
	init := jsEval(t, `{headers: {Authorization: "Basic abc"}}`, nil)
	if _, err := callWrapped(t, b, c, "https://other.example.com/x", init); err != nil {
		t.Fatal(err)
	}
	if got, _ := header(t, call(t, fake, 0), "authorization"); got != "Basic abc" {
		t.Errorf("other origin: Authorization = %q, want the caller's", got)
	}
	if _, err := callWrapped(t, b, c, "https://api.example.com/x", init); err != nil {
		t.Fatal(err)
	}
	if got, _ := header(t, call(t, fake, 1), "authorization"); got != "Bearer "+testAccessToken {
		t.Errorf("allow-listed origin: Authorization = %q, want ours", got)
	}
}

func TestWrappedFetchSignedOut(t *testing.T) {
	c, _, _ := newTestClient(t)
	fake := okFetch(t)
	b := installFetch(t, fake)

	// Signed out, an allow-listed request goes out anonymously (the API decides: public endpoints
	// work, protected ones answer 401) and, of course, without any Authorization header.
	if _, err := callWrapped(t, b, c, "https://api.example.com/data"); err != nil {
		t.Fatalf("signed-out fetch to an allow-listed origin: %v", err)
	}
	if n := calls(t, fake); n != 1 {
		t.Fatalf("fetch called %d times, want 1", n)
	}
	if got, ok := header(t, call(t, fake, 0), "authorization"); ok {
		t.Fatalf("signed-out request carried Authorization %q", got)
	}

	res, err := callWrapped(t, b, c, "https://other.example.com/public")
	if err != nil {
		t.Fatalf("signed-out fetch to another origin: %v", err)
	}
	if !res.Equal(lastResponse(t, fake)) {
		t.Errorf("wrapped fetch returned another object than the Response fetch produced")
	}
	if _, has := header(t, call(t, fake, 0), "authorization"); has {
		t.Errorf("signed-out request carries an Authorization header")
	}
}

func TestWrappedFetchInvalidArguments(t *testing.T) {
	c, op, store := newTestClient(t)
	signIn(t, c, op, store)
	fake := okFetch(t)
	b := installFetch(t, fake)
	for name, args := range map[string][]any{
		"credentials in URL": {"https://user:pw@api.example.com/x"},
		"unparsable URL":     {"http://[::1"},
		"GET with body":      {"https://api.example.com/x", jsEval(t, `{method: "GET", body: "x"}`, nil)},
		"no arguments":       {},
	} {
		t.Run(name, func(t *testing.T) {
			before := calls(t, fake)
			if _, err := callWrapped(t, b, c, args...); err == nil {
				t.Fatal("accepted")
			} else {
				wantCode(t, err, core.CodeInvalidConfig)
			}
			if calls(t, fake) != before {
				t.Fatal("fetch called for invalid arguments")
			}
		})
	}
}

func TestWrappedFetchRejected(t *testing.T) {
	c, _, _ := newTestClient(t)
	fake := fakeFetch(t, `throw new TypeError("Failed to fetch");`)
	b := installFetch(t, fake)
	_, err := callWrapped(t, b, c, "https://other.example.com/x")
	if err == nil {
		t.Fatal("rejected fetch reported success")
	}
	wantCode(t, err, core.CodeNetworkError)
	rejection(t, err) // the JS reason stays reachable (becomes the error's cause in JS)
}

// End to end through the JS face: client.fetch(...) returns a Promise of the very Response.
func TestClientObjectFetchAndState(t *testing.T) {
	c, op, store := newTestClient(t)
	fake := okFetch(t)
	b := installFetch(t, fake)
	obj, err := b.clientObject(c, false)
	if err != nil {
		t.Fatalf("clientObject: %v", err)
	}
	callJS := func(method string, args ...any) (safejs.Value, error) {
		t.Helper()
		p, err := obj.Call(method, args...)
		if err != nil {
			t.Fatalf("client.%s threw: %v", method, err)
		}
		return await(t, p)
	}

	if v, err := callJS("isAuthenticated"); err != nil || mustBool(t, v) {
		t.Fatalf("isAuthenticated before sign-in = %v, %v", mustBool(t, v), err)
	}
	if v, err := callJS("getUser"); err != nil || !v.IsNull() {
		t.Fatalf("getUser before sign-in = %v, %v; want null", v.Type(), err)
	}
	if _, err = callJS("fetch", "https://api.example.com/data"); err != nil {
		t.Fatalf("client.fetch signed out: %v", err)
	}
	if got, ok := header(t, call(t, fake, calls(t, fake)-1), "authorization"); ok {
		t.Fatalf("client.fetch signed out sent Authorization %q", got)
	}

	signIn(t, c, op, store)
	if v, err := callJS("isAuthenticated"); err != nil || !mustBool(t, v) {
		t.Fatalf("isAuthenticated after sign-in = %v, %v", mustBool(t, v), err)
	}
	user, err := callJS("getUser")
	if err != nil {
		t.Fatalf("getUser: %v", err)
	}
	if got := str(t, user, "sub"); got != "user-42" {
		t.Errorf("getUser().sub = %q", got)
	}
	if got := str(t, user, "name"); got != "Test User" {
		t.Errorf("getUser().name = %q", got)
	}
	res, err := callJS("fetch", "https://api.example.com/data", jsEval(t, `{method: "DELETE"}`, nil))
	if err != nil {
		t.Fatalf("client.fetch: %v", err)
	}
	if !res.Equal(lastResponse(t, fake)) {
		t.Fatalf("client.fetch resolved with another object than fetch's Response")
	}
	rec := call(t, fake, num(t, fake, "calls.length")-1)
	if got, _ := header(t, rec, "authorization"); got != "Bearer "+testAccessToken || str(t, rec, "method") != "DELETE" {
		t.Errorf("client.fetch sent %s with Authorization %q", str(t, rec, "method"), got)
	}
	// The body is still readable in JS: nothing consumed it on the way.
	text, err := await(t, jsEval(t, `r.text()`, []string{"r"}, res))
	if s, _ := text.String(); err != nil || s != "ok" {
		t.Errorf("Response.text() = %q, %v", s, err)
	}
}

func mustBool(t *testing.T, v safejs.Value) bool {
	t.Helper()
	b, err := v.Bool()
	if err != nil {
		t.Fatalf("%v is not a boolean", v.Type())
	}
	return b
}
