//go:build !js

package pkce

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/pkce-wasm/pkce-wasm/wasm/core"
)

func TestLoginCallbackUserLogout(t *testing.T) {
	e := newEnv(t)
	if e.c.Authenticated() || e.c.User() != nil {
		t.Fatal("signed in before login")
	}
	if e.c.IsCallback() {
		t.Fatal("IsCallback on a plain page")
	}

	ctx := context.Background()
	if err := e.c.Login(ctx, LoginOptions{ReturnTo: "/go/account", Prompt: "login", LoginHint: "someone"}); err != nil {
		t.Fatal(err)
	}
	authURL, err := url.Parse(e.page.lastNavigation())
	if err != nil {
		t.Fatal(err)
	}
	q := authURL.Query()
	for k, want := range map[string]string{"prompt": "login", "login_hint": "someone", "redirect_uri": testRedirect,
		"code_challenge_method": "S256", "client_id": testClientID} {
		if q.Get(k) != want {
			t.Errorf("authorization request %s = %q, want %q", k, q.Get(k), want)
		}
	}

	cb := e.op.authorize(authURL.String())
	e.page.setHref(cb + "&session_state=x")
	returnTo, err := e.c.HandleCallback(ctx)
	if err != nil {
		t.Fatalf("HandleCallback: %v", err)
	}
	if returnTo != "/go/account" {
		t.Errorf("returnTo = %q", returnTo)
	}
	if len(e.page.replaced) != 1 || e.page.replaced[0] != testRedirect {
		t.Errorf("address bar replaced with %q, want [%s]", e.page.replaced, testRedirect)
	}
	if !e.c.Authenticated() {
		t.Fatal("not signed in after the callback")
	}
	if u := e.c.User(); u["sub"] != "user-1" || u["name"] != "Test User" {
		t.Errorf("User() = %v", u)
	}

	// Replaying the callback fails: the transaction was single-use.
	e.page.setHref(cb)
	_, err = e.c.HandleCallback(ctx)
	wantCode(t, err, core.CodeStateMismatch)

	if err := e.c.Logout(ctx, LogoutOptions{ReturnTo: "/go/"}); err != nil {
		t.Fatal(err)
	}
	if e.c.Authenticated() || e.c.User() != nil {
		t.Error("still signed in after Logout")
	}
	if len(e.page.posts) != 1 {
		t.Fatalf("%d form posts, want 1 to end_session", len(e.page.posts))
	}
	p := e.page.posts[0]
	if p.endpoint != testEndSess || p.params.Get("id_token_hint") == "" ||
		p.params.Get("post_logout_redirect_uri") != testPostOut || p.params.Get("client_id") != testClientID {
		t.Errorf("logout post %s %v", p.endpoint, p.params)
	}
	if strings.Contains(e.page.lastNavigation(), "id_token_hint") {
		t.Errorf("ID token in a navigated URL")
	}
}

func TestLogoutLocalOnly(t *testing.T) {
	e := newEnv(t)
	e.signIn()
	if err := e.c.Logout(context.Background(), LogoutOptions{ReturnTo: "/go/", LocalOnly: true}); err != nil {
		t.Fatal(err)
	}
	if e.c.Authenticated() {
		t.Error("still signed in")
	}
	if len(e.page.posts) != 0 || e.page.lastNavigation() != "/go/" {
		t.Errorf("posts %v, last navigation %q; want none and /go/", e.page.posts, e.page.lastNavigation())
	}
}

func TestHandleCallbackStripsURLOnError(t *testing.T) {
	e := newEnv(t)
	e.page.setHref(testRedirect + "?code=forged&state=unknown")
	_, err := e.c.HandleCallback(context.Background())
	wantCode(t, err, core.CodeStateMismatch)
	if len(e.page.replaced) != 1 || strings.Contains(e.page.replaced[0], "code=") || strings.Contains(e.page.replaced[0], "state=") {
		t.Errorf("address bar replaced with %q: code/state must go whatever the outcome", e.page.replaced)
	}
	if e.c.Authenticated() {
		t.Error("signed in by a forged callback")
	}
}

func TestLoginRejectsForeignReturnTo(t *testing.T) {
	e := newEnv(t)
	err := e.c.Login(context.Background(), LoginOptions{ReturnTo: "https://evil.example/"})
	wantCode(t, err, core.CodeInvalidConfig)
	if e.page.lastNavigation() != "" {
		t.Errorf("navigated to %s", e.page.lastNavigation())
	}
}

func TestNewOutsideTheBrowser(t *testing.T) {
	_, err := New(Config{Issuer: testIssuer, ClientID: testClientID, RedirectURI: testRedirect})
	if err == nil {
		t.Fatal("New succeeded without a browser")
	}
}
