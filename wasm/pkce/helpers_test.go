//go:build !js

package pkce

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/pkce-wasm/pkce-wasm/wasm/core"
)

const (
	testIssuer   = "https://op.example.com"
	testClientID = "go-spa"
	testRedirect = "https://app.example.com/go/callback"
	testPostOut  = "https://app.example.com/go/"
	testTokenEP  = testIssuer + "/oauth/token"
	testAuthzEP  = testIssuer + "/authorize"
	testEndSess  = testIssuer + "/end_session"
)

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

// fakeOP is an OpenID Provider behind core.HTTPDoer: discovery, single-use codes bound to the
// PKCE challenge, refresh with rotation. ID tokens carry a dummy signature (Deps.SkipSignatureCheck).
type fakeOP struct {
	t     *testing.T
	clock *fakeClock

	mu        sync.Mutex
	seq       int
	codes     map[string]url.Values // code -> authorization request
	refreshes int
	// onRefresh, when set, runs at the start of each refresh_token grant (outside mu).
	onRefresh func()
}

func (op *fakeOP) Do(_ context.Context, r *core.HTTPRequest) (*core.HTTPResponse, error) {
	switch r.URL {
	case core.DiscoveryURL(testIssuer):
		return op.json(200, map[string]any{
			"issuer": testIssuer, "authorization_endpoint": testAuthzEP, "token_endpoint": testTokenEP,
			"jwks_uri": testIssuer + "/keys", "end_session_endpoint": testEndSess,
			"response_types_supported": []string{"code"}, "code_challenge_methods_supported": []string{"S256"},
			"id_token_signing_alg_values_supported": []string{"RS256"},
		}), nil
	case testTokenEP:
		form, err := url.ParseQuery(r.Body)
		if err != nil || r.Method != "POST" {
			return op.json(400, map[string]any{"error": "invalid_request"}), nil
		}
		switch form.Get("grant_type") {
		case "authorization_code":
			op.mu.Lock()
			areq, ok := op.codes[form.Get("code")]
			delete(op.codes, form.Get("code"))
			op.mu.Unlock()
			if !ok || core.S256Challenge(form.Get("code_verifier")) != areq.Get("code_challenge") ||
				form.Get("redirect_uri") != areq.Get("redirect_uri") || form.Get("client_id") != testClientID {
				return op.json(400, map[string]any{"error": "invalid_grant"}), nil
			}
			return op.issue(areq.Get("nonce")), nil
		case "refresh_token":
			op.mu.Lock()
			op.refreshes++
			hook := op.onRefresh
			op.mu.Unlock()
			if hook != nil {
				hook()
			}
			return op.issue(""), nil
		}
		return op.json(400, map[string]any{"error": "unsupported_grant_type"}), nil
	}
	return &core.HTTPResponse{Status: 404}, nil
}

func (op *fakeOP) refreshCount() int {
	op.mu.Lock()
	defer op.mu.Unlock()
	return op.refreshes
}

func (op *fakeOP) json(status int, v any) *core.HTTPResponse {
	b, err := json.Marshal(v)
	if err != nil {
		op.t.Fatal(err)
	}
	return &core.HTTPResponse{Status: status, ContentType: "application/json", Body: b}
}

func (op *fakeOP) issue(nonce string) *core.HTTPResponse {
	op.mu.Lock()
	op.seq++
	n := op.seq
	op.mu.Unlock()
	now := op.clock.Now()
	claims := map[string]any{"iss": testIssuer, "sub": "user-1", "aud": testClientID, "name": "Test User",
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
	if nonce != "" {
		claims["nonce"] = nonce
	}
	b64 := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	idt := b64(map[string]any{"alg": "RS256", "kid": "k1"}) + "." + b64(claims) + "." +
		base64.RawURLEncoding.EncodeToString([]byte("sig"))
	return op.json(200, map[string]any{
		"access_token": fmt.Sprintf("at-%d", n), "token_type": "Bearer", "expires_in": 3600,
		"refresh_token": fmt.Sprintf("rt-%d", n), "id_token": idt, "scope": "openid offline_access",
	})
}

// authorize plays the authorization endpoint (the user signs in) and returns the callback URL.
func (op *fakeOP) authorize(authURL string) string {
	op.t.Helper()
	u, err := url.Parse(authURL)
	if err != nil || u.Scheme+"://"+u.Host+u.Path != testAuthzEP {
		op.t.Fatalf("not an authorization request: %s", authURL)
	}
	q := u.Query()
	if q.Get("code_challenge_method") != "S256" || q.Get("client_id") != testClientID {
		op.t.Fatalf("bad authorization request %s", authURL)
	}
	op.mu.Lock()
	op.seq++
	code := fmt.Sprintf("code-%d", op.seq)
	op.codes[code] = q
	op.mu.Unlock()
	return q.Get("redirect_uri") + "?" + url.Values{"code": {code}, "state": {q.Get("state")}}.Encode()
}

// fakePage records what the client does to the page.
type fakePage struct {
	mu        sync.Mutex
	href      string
	replaced  []string
	navigated []string
	posts     []post
}

type post struct {
	endpoint string
	params   url.Values
}

func (p *fakePage) Href() (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.href, nil
}

func (p *fakePage) ReplaceURL(u string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.replaced = append(p.replaced, u)
	p.href = u
	return nil
}

func (p *fakePage) Navigate(u string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.navigated = append(p.navigated, u)
	return nil
}

func (p *fakePage) PostForm(endpoint string, params url.Values) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.posts = append(p.posts, post{endpoint, params})
	return nil
}

func (p *fakePage) setHref(u string) {
	p.mu.Lock()
	p.href = u
	p.mu.Unlock()
}

func (p *fakePage) lastNavigation() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.navigated) == 0 {
		return ""
	}
	return p.navigated[len(p.navigated)-1]
}

type env struct {
	t     *testing.T
	clock *fakeClock
	op    *fakeOP
	page  *fakePage
	c     *Client
}

func newEnv(t *testing.T, resourceOrigins ...string) *env {
	t.Helper()
	clock := &fakeClock{t: time.Now()}
	op := &fakeOP{t: t, clock: clock, codes: map[string]url.Values{}}
	p := &fakePage{href: "https://app.example.com/go/"}
	c, err := newClient(Config{
		Issuer: testIssuer, ClientID: testClientID, RedirectURI: testRedirect,
		PostLogoutRedirectURI: testPostOut, Scope: "openid offline_access",
		ResourceOrigins: resourceOrigins, NoAutoRefresh: true,
	}, core.Deps{HTTP: op, Store: &core.MemoryTxStore{}, Now: clock.Now, SkipSignatureCheck: true}, p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.core.Logout(context.Background()) })
	return &env{t: t, clock: clock, op: op, page: p, c: c}
}

// signIn runs Login, the provider, and HandleCallback.
func (e *env) signIn() {
	e.t.Helper()
	ctx := context.Background()
	if err := e.c.Login(ctx, LoginOptions{ReturnTo: "/go/"}); err != nil {
		e.t.Fatalf("Login: %v", err)
	}
	e.page.setHref(e.op.authorize(e.page.lastNavigation()))
	if !e.c.IsCallback() {
		e.t.Fatalf("IsCallback false on %s", e.page.href)
	}
	if _, err := e.c.HandleCallback(ctx); err != nil {
		e.t.Fatalf("HandleCallback: %v", err)
	}
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want code %q", code)
	}
	if got := ErrorCode(err); got != code {
		t.Fatalf("error %v has code %q, want %q", err, got, code)
	}
}
