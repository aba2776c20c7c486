//go:build js && wasm

package jsbridge

import (
	"context"
	"testing"
	"time"

	"github.com/hack-pad/safejs"
	"github.com/pkce-wasm/pkce-wasm/wasm/core"
)

// tokenGrants counts the token endpoint requests the fake provider has seen.
func tokenGrants(op *fakeOP) int {
	op.mu.Lock()
	defer op.mu.Unlock()
	n := 0
	for _, r := range op.requests {
		if r.Method == "POST" {
			n++
		}
	}
	return n
}

// answer401From is a fake fetch whose first answer is a 401 invalid_token with the given final
// URL (as after a redirect), and 200 after.
func answer401From(t *testing.T, finalURL string) safejs.Value {
	return fakeFetch(t, `
		if (calls.length > 1) return new Response("ok", {status: 200});
		const r = new Response("no", {status: 401, headers: {"WWW-Authenticate": 'Bearer error="invalid_token"'}});
		Object.defineProperty(r, "url", {value: `+"`"+finalURL+"`"+`});
		return r;`)
}

// A 401 is trusted (refresh and retry) only when the final response URL is allow-listed: an open
// redirect on the API to another origin must not make every call spend a refresh grant.
func TestWrappedFetch401TrustedOnlyFromAllowListedOrigin(t *testing.T) {
	for _, tc := range []struct {
		final   string
		refresh bool
	}{
		{"https://api.example.com/data", true},
		{"https://evil.example.com/data", false},
		{"", false},
	} {
		c, op, store := newTestClient(t)
		signIn(t, c, op, store)
		before := tokenGrants(op)
		b := installFetch(t, answer401From(t, tc.final))
		res, err := callWrapped(t, b, c, "https://api.example.com/data")
		if err != nil {
			t.Fatalf("final %q: %v", tc.final, err)
		}
		refreshed := tokenGrants(op) > before
		if refreshed != tc.refresh {
			t.Errorf("final URL %q: refreshed = %v, want %v", tc.final, refreshed, tc.refresh)
		}
		st := num(t, res, "status")
		if tc.refresh && st != 200 || !tc.refresh && st != 401 {
			t.Errorf("final URL %q: status %d", tc.final, st)
		}
	}
}

// Firefox has no Request.body: a POST must still be cloned before the first send, so that the
// retry after a 401 carries the same body (it used to fail with network_error there).
func TestWrappedFetchReplaysPOSTWithoutRequestBody(t *testing.T) {
	restore := jsEval(t, `(() => {
		const d = Object.getOwnPropertyDescriptor(Request.prototype, "body");
		Object.defineProperty(Request.prototype, "body", {get() { return undefined; }, configurable: true});
		return () => Object.defineProperty(Request.prototype, "body", d);
	})()`, nil)
	defer restore.Invoke()
	c, op, store := newTestClient(t)
	signIn(t, c, op, store)
	fake := fakeFetch(t, `
		if (calls.length > 1) return new Response("ok", {status: 200});
		const r = new Response("no", {status: 401, headers: {"WWW-Authenticate": 'Bearer error="invalid_token"'}});
		Object.defineProperty(r, "url", {value: "https://api.example.com/items"});
		return r;`)
	b := installFetch(t, fake)
	res, err := callWrapped(t, b, c, "https://api.example.com/items", jsEval(t, `{method: "POST", body: "payload-1"}`, nil))
	if err != nil {
		t.Fatalf("wrapped POST: %v", err)
	}
	if st := num(t, res, "status"); st != 200 {
		t.Fatalf("status %d after the retry, want 200", st)
	}
	if n := calls(t, fake); n != 2 {
		t.Fatalf("fetch called %d times, want 2", n)
	}
	// The fake reads bodies only through Request.body, which is hidden here: read the recorded
	// Requests themselves.
	for i := 0; i < 2; i++ {
		body, err := await(t, jsEval(t, `r.input.text()`, []string{"r"}, call(t, fake, i)))
		if s, _ := body.String(); err != nil || s != "payload-1" {
			t.Errorf("request %d body = %q, %v; want payload-1", i, s, err)
		}
	}
}

// Bodies are read through the stream and reading stops at the cap: a hostile endpoint cannot
// make us buffer more than core.MaxResponseBytes (the rest is never pulled).
func TestFetchDoerStopsReadingAtTheCap(t *testing.T) {
	fake := fakeFetch(t, `
		let pulled = 0;
		const chunk = new Uint8Array(64 * 1024).fill(0x41);
		globalThis.__pulled = () => pulled;
		return new Response(new ReadableStream({
			pull(c) { pulled += chunk.length; c.enqueue(chunk.slice()); if (pulled > 64 * 1024 * 1024) c.close(); },
		}), {status: 200});`)
	b := installFetch(t, fake)
	defer setGlobal(t, "__pulled", safejs.Undefined())
	resp, err := FetchDoer{b}.Do(context.Background(), &core.HTTPRequest{Method: "GET", URL: "https://op.example.com/keys"})
	if err != nil {
		t.Fatalf("Do: %v", err)
	}
	if len(resp.Body) != core.MaxResponseBytes {
		t.Errorf("body %d bytes, want the cap %d", len(resp.Body), core.MaxResponseBytes)
	}
	pulled := jsEval(t, `globalThis.__pulled()`, nil)
	if n, _ := pulled.Int(); n > core.MaxResponseBytes+4*64*1024 {
		t.Errorf("pulled %d bytes from the stream; reading should stop near the cap %d", n, core.MaxResponseBytes)
	}
}

// TxStore works over a store whose methods return Promises (IndexedDB in the worker) and takes a
// value only once.
func TestTxStoreOverPromises(t *testing.T) {
	b := newTestBridge(t)
	js := jsEval(t, `(() => {
		const m = new Map();
		return {
			put: (k, v) => new Promise((res) => setTimeout(() => { m.set(k, v); res(); }, 1)),
			take: async (k) => { const v = m.has(k) ? m.get(k) : null; m.delete(k); return v; },
		};
	})()`, nil)
	s := TxStore{b: b, store: js}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := s.Put("k", "v1"); err != nil {
			t.Errorf("Put: %v", err)
			return
		}
		v, ok, err := s.Take("k")
		if err != nil || !ok || v != "v1" {
			t.Errorf("Take = %q, %v, %v; want v1", v, ok, err)
		}
		if _, ok, err := s.Take("k"); ok || err != nil {
			t.Errorf("second Take = %v, %v; want nothing (single use)", ok, err)
		}
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("TxStore operations did not finish")
	}
}
