//go:build js && wasm

package jsbridge

import (
	"context"
	"testing"
	"time"

	"github.com/hack-pad/safejs"
)

func TestFastFetchToken(t *testing.T) {
	c, op, store := newTestClient(t)
	b := newTestBridge(t)
	obj := b.newObject()
	if err := b.addFastFetch(obj, c); err != nil {
		t.Fatal(err)
	}
	token := func(u string) safejs.Value {
		t.Helper()
		v, err := obj.Call("fetchToken", u)
		if err != nil {
			t.Fatalf("fetchToken(%q): %v", u, err)
		}
		return v
	}
	if v := token("https://api.example.com/data"); !v.IsNull() {
		t.Errorf("signed out: fetchToken = %v, want null (send without a token)", v)
	}
	signIn(t, c, op, store)
	if v := token("https://api.example.com/data"); v.Type() != safejs.TypeString {
		t.Errorf("signed in, allow-listed: fetchToken is not a string")
	} else if s, _ := v.String(); s != testAccessToken {
		t.Errorf("fetchToken = %q, want the access token", s)
	}
	for _, u := range []string{"https://other.example.com/x", "https://api.example.com.evil.test/", "not a url", ""} {
		if v := token(u); !v.IsNull() {
			t.Errorf("fetchToken(%q) = %v, want null (no token for this origin)", u, v)
		}
	}

	rejected := func(tok, final, www string) safejs.Value {
		t.Helper()
		p, err := obj.Call("rejectedToken", tok, final, www)
		if err != nil {
			t.Fatalf("rejectedToken: %v", err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		v, err := Await(ctx, p)
		if err != nil {
			t.Fatalf("rejectedToken(%q, %q, %q): %v", tok, final, www, err)
		}
		return v
	}
	posts := func() int { return tokenGrants(op) }
	before := posts()
	if v := rejected(testAccessToken, "https://api.example.com/data", `Bearer error="insufficient_scope"`); !v.IsNull() {
		t.Errorf("insufficient_scope: rejectedToken = %v, want null (hand back the 401)", v)
	}
	if v := rejected(testAccessToken, "https://other.example.com/data", `Bearer error="invalid_token"`); !v.IsNull() {
		t.Errorf("401 from another origin: rejectedToken = %v, want null", v)
	}
	if posts() != before {
		t.Fatalf("a refresh was requested for a 401 that does not call for one")
	}
	if v := rejected(testAccessToken, "https://api.example.com/data", `Bearer error="invalid_token"`); v.Type() != safejs.TypeString {
		t.Errorf("invalid_token: rejectedToken = %v, want a fresh token", v)
	}
	if posts() != before+1 {
		t.Errorf("invalid_token: %d refresh requests, want 1", posts()-before)
	}
}

// A DPoP client never takes the fast path: each request needs a proof for its own method and URL
// (and maybe a nonce retry), which only wrappedFetch builds. fetchToken answers undefined.
func TestFastFetchTokenDPoPUsesTheSlowPath(t *testing.T) {
	c, _, _ := newDPoPTestClient(t)
	if !c.Authenticated() || !c.DPoP() {
		t.Fatal("premise: a signed-in DPoP client")
	}
	b := newTestBridge(t)
	obj := b.newObject()
	if err := b.addFastFetch(obj, c); err != nil {
		t.Fatal(err)
	}
	v, err := obj.Call("fetchToken", "https://api.example.com/data")
	if err != nil {
		t.Fatal(err)
	}
	if !v.IsUndefined() {
		t.Errorf("DPoP client: fetchToken = %v, want undefined (the slow path, with a proof)", v.Type())
	}
	// Not allow-listed: still no token at all.
	if v, _ := obj.Call("fetchToken", "https://other.example.com/x"); !v.IsNull() {
		t.Errorf("DPoP client, other origin: fetchToken = %v, want null", v.Type())
	}
}
