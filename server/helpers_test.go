package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// testEnv is a dev server on two real loopback listeners (127.0.0.1:0), with the issuer and
// app origin set to the URLs they are really reached at.
type testEnv struct {
	cfg        Config
	srv        *devServer
	noRedirect *http.Client // does not follow redirects: the tests walk them
}

func startServer(t *testing.T, mutate func(*Config)) *testEnv {
	t.Helper()
	appLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	opLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{
		AppOrigin:      "http://" + appLn.Addr().String(),
		Issuer:         "http://" + opLn.Addr().String(),
		AccessTokenTTL: 5 * time.Minute,
		TestHooks:      true,
		Root:           testRoot(t),
	}
	if mutate != nil {
		mutate(&cfg)
	}
	srv, err := newDevServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	go srv.app.Serve(appLn)
	go srv.op.Serve(opLn)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return &testEnv{
		cfg: srv.cfg,
		srv: srv,
		noRedirect: &http.Client{
			Timeout:       10 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
}

// testRoot is a repo root with a small demo/ and js/dist/.
func testRoot(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	files := map[string]string{
		"demo/index.html":        "<!doctype html><title>demo index</title>",
		"demo/app.js":            "console.log('app');",
		"demo/style.css":         "body{}",
		"js/dist/pkce-wasm.js":   "export const x = 1;",
		"js/dist/pkce-wasm.mjs":  "export const y = 2;",
		"js/dist/pkce.wasm":      "\x00asm\x01\x00\x00\x00",
		"js/dist/pkce-wasm.d.ts": "export {};",
	}
	for name, body := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func (e *testEnv) oauth2Config() *oauth2.Config {
	return &oauth2.Config{
		ClientID: clientID,
		Endpoint: oauth2.Endpoint{
			AuthURL:   e.cfg.Issuer + "/authorize",
			TokenURL:  e.cfg.Issuer + "/oauth/token",
			AuthStyle: oauth2.AuthStyleInParams, // public client: client_id in the body, no Basic auth
		},
		RedirectURL: e.cfg.RedirectURI(),
		Scopes:      strings.Fields(demoScope),
	}
}

// ctx carries the HTTP client golang.org/x/oauth2 uses.
func (e *testEnv) ctx(t *testing.T) context.Context {
	return context.WithValue(t.Context(), oauth2.HTTPClient, &http.Client{Timeout: 10 * time.Second})
}

func (e *testEnv) get(t *testing.T, rawURL string, header http.Header) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	return e.do(t, req)
}

func (e *testEnv) do(t *testing.T, req *http.Request) *http.Response {
	t.Helper()
	res, err := e.noRedirect.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	t.Cleanup(func() { res.Body.Close() })
	return res
}

func readBody(t *testing.T, res *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func decodeJSON(t *testing.T, res *http.Response, v any) {
	t.Helper()
	if err := json.NewDecoder(res.Body).Decode(v); err != nil {
		t.Fatalf("decode JSON of %s: %v", res.Request.URL.Path, err)
	}
}

// location resolves the Location of a redirect response, which must have the given status.
func location(t *testing.T, res *http.Response, want int) *url.URL {
	t.Helper()
	if res.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d; body: %.300s", res.Request.Method, res.Request.URL.Path, res.StatusCode, want, readBody(t, res))
	}
	loc, err := res.Location()
	if err != nil {
		t.Fatalf("%s: %v", res.Request.URL.Path, err)
	}
	return loc
}

// authFlow is one authorization request in progress.
type authFlow struct {
	verifier, state string
	loginURL        *url.URL // the OP's login page for this request
}

// authorize sends the authorization request with PKCE S256 and follows the redirect to the
// login page.
func (e *testEnv) authorize(t *testing.T) *authFlow {
	t.Helper()
	f := &authFlow{verifier: oauth2.GenerateVerifier(), state: "st-" + oauth2.GenerateVerifier()[:10]}
	authURL := e.oauth2Config().AuthCodeURL(f.state, oauth2.S256ChallengeOption(f.verifier),
		oauth2.SetAuthURLParam("nonce", "n-0S6_WzA2Mj"))
	f.loginURL = location(t, e.get(t, authURL, nil), http.StatusFound)
	if f.loginURL.Path != loginPath || f.loginURL.Query().Get(loginRequestParam) == "" {
		t.Fatalf("authorize redirected to %s, want the login page", f.loginURL.Redacted())
	}
	return f
}

// submitLogin GETs the login page (checking the form's element ids) and POSTs it.
func (e *testEnv) submitLogin(t *testing.T, f *authFlow, action, username, password string) *http.Response {
	t.Helper()
	page := e.get(t, f.loginURL.String(), nil)
	body := readBody(t, page)
	if page.StatusCode != http.StatusOK {
		t.Fatalf("login page: status %d: %.300s", page.StatusCode, body)
	}
	for _, want := range []string{
		`id="username" name="username"`, `id="password" name="password" type="password"`,
		`<button id="sign-in"`, `<button id="deny"`, "pkce-wasm dev OpenID Provider",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("login page lacks %q", want)
		}
	}
	form := url.Values{
		"id":       {f.loginURL.Query().Get(loginRequestParam)},
		"username": {username},
		"password": {password},
		"action":   {action},
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, f.loginURL.ResolveReference(&url.URL{Path: loginPath}).String(), strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return e.do(t, req)
}

// signIn runs the front channel: authorize, sign in, follow the OP's callback to the client's
// redirect URI. It returns the callback URL's query.
func (e *testEnv) signIn(t *testing.T) (*authFlow, url.Values) {
	t.Helper()
	f := e.authorize(t)
	cb := location(t, e.submitLogin(t, f, "sign-in", demoUser, demoPassword), http.StatusFound)
	redirect := location(t, e.get(t, cb.String(), nil), http.StatusFound)
	if got := redirect.Scheme + "://" + redirect.Host + redirect.Path; got != e.cfg.RedirectURI() {
		t.Fatalf("OP redirected to %s, want %s", got, e.cfg.RedirectURI())
	}
	q := redirect.Query()
	if q.Get("state") != f.state {
		t.Fatalf("callback state %q, want %q", q.Get("state"), f.state)
	}
	if q.Get("code") == "" {
		t.Fatalf("callback without code: error=%q %q", q.Get("error"), q.Get("error_description"))
	}
	return f, q
}

// login is signIn plus the code exchange (with PKCE, via golang.org/x/oauth2).
func (e *testEnv) login(t *testing.T) *oauth2.Token {
	t.Helper()
	f, q := e.signIn(t)
	tok, err := e.oauth2Config().Exchange(e.ctx(t), q.Get("code"), oauth2.VerifierOption(f.verifier))
	if err != nil {
		t.Fatalf("code exchange: %v", err)
	}
	return tok
}

// callAPI GETs /api/me with the access token (none if empty).
func (e *testEnv) callAPI(t *testing.T, accessToken string) *http.Response {
	t.Helper()
	h := http.Header{}
	if accessToken != "" {
		h.Set("Authorization", "Bearer "+accessToken)
	}
	return e.get(t, e.cfg.AppOrigin+"/api/me", h)
}

func (e *testEnv) stats(t *testing.T) statsJSON {
	t.Helper()
	return getJSON[statsJSON](t, e, e.cfg.AppOrigin+"/__test/stats")
}

// getJSON GETs rawURL, requires 200 and decodes the JSON body into a T.
func getJSON[T any](t *testing.T, e *testEnv, rawURL string) T {
	t.Helper()
	res := e.get(t, rawURL, nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status %d", res.Request.URL.Path, res.StatusCode)
	}
	var v T
	decodeJSON(t, res, &v)
	return v
}

// jwtClaims decodes a JWT's payload without verifying it.
func jwtClaims(t *testing.T, jwt string) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a compact JWS: %d parts", len(parts))
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	return claims
}

func retrieveErrorCode(t *testing.T, err error) string {
	t.Helper()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		t.Fatalf("want *oauth2.RetrieveError, got %T: %v", err, err)
	}
	return re.ErrorCode
}
