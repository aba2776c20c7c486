//go:build js && wasm

package jsbridge

import (
	"strings"
	"testing"

	"github.com/hack-pad/safejs"
	"github.com/pkce-wasm/pkce-wasm/wasm/core"
)

// getSession and refresh (getSession({refresh: true})) on the JS client object: null when signed out, else
// {expiresAt, scope, refreshable} — no member holds a token — and refresh is one refresh grant.
func TestClientObjectGetSessionAndRefresh(t *testing.T) {
	b := newTestBridge(t)
	c, op, store := newTestClient(t)
	obj, err := b.clientObject(c, false)
	if err != nil {
		t.Fatal(err)
	}
	// auth.getSession() is getSession(); auth.refresh() is getSession({refresh: true}).
	invoke := func(method string) (safejs.Value, error) {
		t.Helper()
		f := prop(t, obj, "getSession")
		if f.Type() != safejs.TypeFunction {
			t.Fatalf("client.getSession is %v, want a function", f.Type())
		}
		var args []any
		if method == "refresh" {
			args = append(args, jsEval(t, `{refresh: true}`, nil))
		}
		p, err := f.Invoke(args...)
		if err != nil {
			t.Fatalf("client.%s(): %v", method, err)
		}
		return await(t, p)
	}

	v, err := invoke("getSession")
	if err != nil || !v.IsNull() {
		t.Fatalf("getSession while signed out = %v, %v; want null", v, err)
	}
	_, err = invoke("refresh")
	if code, _ := prop(t, rejection(t, err).Value, "code").String(); code != core.CodeLoginRequired {
		t.Fatalf("refresh while signed out rejected with %q, want login_required", code)
	}

	signIn(t, c, op, store)
	v, err = invoke("getSession")
	if err != nil {
		t.Fatalf("getSession: %v", err)
	}
	exp := num(t, v, "expiresAt")
	if s, _ := prop(t, v, "scope").String(); s != "openid" || !truthy(t, v, "refreshable") || exp <= 0 {
		t.Fatalf("getSession = {expiresAt %d, scope %q, refreshable %v}", exp, s, truthy(t, v, "refreshable"))
	}
	noToken(t, v)

	before := tokenGrants(op)
	v, err = invoke("refresh")
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if n := tokenGrants(op) - before; n != 1 {
		t.Fatalf("refresh made %d token requests, want 1", n)
	}
	if last := op.requests[len(op.requests)-1]; !strings.Contains(last.Body, "grant_type=refresh_token") {
		t.Fatalf("the last token request is not a refresh_token grant")
	}
	if num(t, v, "expiresAt") < exp || !truthy(t, v, "refreshable") {
		t.Fatalf("refresh resolved to expiresAt %d, refreshable %v", num(t, v, "expiresAt"), truthy(t, v, "refreshable"))
	}
	noToken(t, v)
}

// noToken fails when the JSON of v holds one of the fake provider's tokens, or any member beyond
// the three documented ones.
func noToken(t *testing.T, v safejs.Value) {
	t.Helper()
	s, err := jsEval(t, `JSON.stringify(v)`, []string{"v"}, v).String()
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{testAccessToken, "rt-1", "eyJ"} {
		if strings.Contains(s, tok) {
			t.Fatalf("a token in %s", s)
		}
	}
	keys, _ := jsEval(t, `Object.keys(v).sort().join(",")`, []string{"v"}, v).String()
	if keys != "expiresAt,refreshable,scope" {
		t.Fatalf("members %q, want expiresAt,refreshable,scope", keys)
	}
}
