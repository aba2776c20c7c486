//go:build js && wasm

package jsbridge

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hack-pad/safejs"
	"github.com/pkce-wasm/pkce-wasm/wasm/core"
)

// fakeFetch is a recording stand-in for globalThis.fetch. respond(input, init, calls) is the JS
// body that produces the result (a Response, a Promise, or a throw). Every call is recorded in
// fake.calls as {input, init, url, method, headers: Headers, body, signal}.
func fakeFetch(t *testing.T, respond string) safejs.Value {
	t.Helper()
	return jsEval(t, `(() => {
		const calls = [], responses = [];
		const respond = new Function("input", "init", "calls", respondSrc);
		const f = async function(input, init) {
			const isReq = input instanceof Request;
			const rec = {
				input, init,
				url: isReq ? input.url : String(input),
				method: isReq ? input.method : (init && init.method) || "GET",
				headers: new Headers(isReq ? input.headers : init && init.headers),
				signal: isReq ? input.signal : init && init.signal,
				body: null,
			};
			if (isReq && input.body) rec.body = await input.clone().text();
			else if (init && init.body != null) rec.body = init.body;
			calls.push(rec);
			const r = await respond(input, init, calls);
			responses.push(r);
			return r;
		};
		f.calls = calls;
		f.responses = responses;
		return f;
	})()`, []string{"respondSrc"}, respond)
}

func calls(t *testing.T, fake safejs.Value) int {
	t.Helper()
	return num(t, fake, "calls.length")
}

func call(t *testing.T, fake safejs.Value, i int) safejs.Value {
	t.Helper()
	v, err := prop(t, fake, "calls").Index(i)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func header(t *testing.T, rec safejs.Value, name string) (string, bool) {
	t.Helper()
	v, err := prop(t, rec, "headers").Call("get", name)
	if err != nil {
		t.Fatal(err)
	}
	if v.IsNull() {
		return "", false
	}
	s, _ := v.String()
	return s, true
}

// installFetch installs fake as globalThis.fetch and returns a Bridge that uses it.
func installFetch(t *testing.T, fake safejs.Value) *Bridge {
	t.Helper()
	setGlobal(t, "fetch", fake)
	return newTestBridge(t)
}

func TestFetchDoerSendsRequest(t *testing.T) {
	fake := fakeFetch(t, `return new Response('{"access_token":"x"}', {status: 201, headers: {"Content-Type": "application/json; charset=utf-8"}});`)
	b := installFetch(t, fake)
	resp, err := FetchDoer{b}.Do(context.Background(), &core.HTTPRequest{
		Method: "POST",
		URL:    "https://op.example.com/oauth/token",
		Header: map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
		Body:   "grant_type=authorization_code&code=abc",
	})
	if err != nil {
		t.Fatalf("Do: %v", err)
	}
	if n := calls(t, fake); n != 1 {
		t.Fatalf("fetch called %d times, want 1", n)
	}
	rec := call(t, fake, 0)
	if got := str(t, rec, "url"); got != "https://op.example.com/oauth/token" {
		t.Errorf("url = %q", got)
	}
	if got := str(t, rec, "init.method"); got != "POST" {
		t.Errorf("method = %q, want POST", got)
	}
	if got, _ := header(t, rec, "content-type"); got != "application/x-www-form-urlencoded" {
		t.Errorf("Content-Type = %q", got)
	}
	if got, _ := header(t, rec, "accept"); got != "application/json" {
		t.Errorf("Accept = %q", got)
	}
	if got := str(t, rec, "init.body"); got != "grant_type=authorization_code&code=abc" {
		t.Errorf("body = %q", got)
	}
	for k, want := range map[string]string{"credentials": "omit", "redirect": "error", "cache": "no-store"} {
		if got := str(t, rec, "init."+k); got != want {
			t.Errorf("init.%s = %q, want %q", k, got, want)
		}
	}
	if ok, _ := prop(t, rec, "init.signal").InstanceOf(prop(t, safejs.Global(), "AbortSignal")); !ok {
		t.Errorf("init.signal is not an AbortSignal")
	}
	if resp.Status != 201 {
		t.Errorf("Status = %d, want 201", resp.Status)
	}
	if resp.ContentType != "application/json; charset=utf-8" {
		t.Errorf("ContentType = %q", resp.ContentType)
	}
	if string(resp.Body) != `{"access_token":"x"}` {
		t.Errorf("Body = %q", resp.Body)
	}
}

func TestFetchDoerGETHasNoBody(t *testing.T) {
	fake := fakeFetch(t, `return new Response("not found", {status: 404});`)
	b := installFetch(t, fake)
	resp, err := FetchDoer{b}.Do(context.Background(), &core.HTTPRequest{
		Method: "GET", URL: "https://op.example.com/.well-known/openid-configuration",
		Header: map[string]string{"Accept": "application/json"},
	})
	if err != nil {
		t.Fatalf("Do: %v", err)
	}
	rec := call(t, fake, 0)
	if got := str(t, rec, "init.method"); got != "GET" {
		t.Errorf("method = %q, want GET", got)
	}
	if b := prop(t, rec, "init.body"); !b.IsUndefined() {
		t.Errorf("GET carries init.body (%v); fetch rejects a GET with a body", b.Type())
	}
	if _, ok := header(t, rec, "content-type"); ok {
		t.Errorf("GET carries a Content-Type")
	}
	// An HTTP error status is a response, not an error (core.HTTPDoer contract).
	if resp.Status != 404 || string(resp.Body) != "not found" {
		t.Errorf("resp = %d %q, want 404 \"not found\"", resp.Status, resp.Body)
	}
	if resp.ContentType != "text/plain;charset=UTF-8" {
		t.Errorf("ContentType = %q, want the Response's own text/plain;charset=UTF-8", resp.ContentType)
	}
}

func TestFetchDoerNoContentType(t *testing.T) {
	fake := fakeFetch(t, `return new Response(new Uint8Array([0, 1, 2, 255]), {status: 200});`)
	b := installFetch(t, fake)
	resp, err := FetchDoer{b}.Do(context.Background(), &core.HTTPRequest{Method: "GET", URL: "https://op.example.com/x"})
	if err != nil {
		t.Fatalf("Do: %v", err)
	}
	if resp.ContentType != "" {
		t.Errorf("ContentType = %q, want \"\" when the response has none", resp.ContentType)
	}
	if !bytes.Equal(resp.Body, []byte{0, 1, 2, 255}) {
		t.Errorf("Body = %v, want the exact bytes", resp.Body)
	}
}

func TestFetchDoerTruncatesLargeBody(t *testing.T) {
	fake := fakeFetch(t, `return new Response(new Uint8Array(`+strconv.Itoa(core.MaxResponseBytes+1000)+`).fill(120), {status: 200});`)
	b := installFetch(t, fake)
	resp, err := FetchDoer{b}.Do(context.Background(), &core.HTTPRequest{Method: "GET", URL: "https://op.example.com/big"})
	if err != nil {
		t.Fatalf("Do: %v", err)
	}
	if len(resp.Body) != core.MaxResponseBytes {
		t.Fatalf("len(Body) = %d, want core.MaxResponseBytes = %d", len(resp.Body), core.MaxResponseBytes)
	}
	if i := bytes.IndexFunc(resp.Body, func(r rune) bool { return r != 'x' }); i >= 0 {
		t.Fatalf("Body[%d] = %q, want only 'x'", i, resp.Body[i])
	}
}

func TestFetchDoerExactlyMaxBody(t *testing.T) {
	fake := fakeFetch(t, `return new Response(new Uint8Array(`+strconv.Itoa(core.MaxResponseBytes)+`).fill(121), {status: 200});`)
	b := installFetch(t, fake)
	resp, err := FetchDoer{b}.Do(context.Background(), &core.HTTPRequest{Method: "GET", URL: "https://op.example.com/big"})
	if err != nil {
		t.Fatalf("Do: %v", err)
	}
	if len(resp.Body) != core.MaxResponseBytes || resp.Body[len(resp.Body)-1] != 'y' {
		t.Fatalf("len(Body) = %d, want %d intact", len(resp.Body), core.MaxResponseBytes)
	}
}

func TestFetchDoerRejectedFetch(t *testing.T) {
	fake := fakeFetch(t, `throw new TypeError("Failed to fetch");`)
	b := installFetch(t, fake)
	resp, err := FetchDoer{b}.Do(context.Background(), &core.HTTPRequest{Method: "GET", URL: "https://op.example.com/x"})
	if err == nil {
		t.Fatalf("Do = %+v, nil; want an error for a rejected fetch", resp)
	}
	if rej := rejection(t, err); rej.Message != "Failed to fetch" {
		t.Errorf("Rejection.Message = %q, want \"Failed to fetch\"", rej.Message)
	}
}

// A fetch that throws synchronously (not a rejected Promise) is an error too.
func TestFetchDoerSynchronousThrow(t *testing.T) {
	setGlobal(t, "fetch", jsEval(t, `function() { throw new TypeError("Invalid URL") }`, nil))
	b := newTestBridge(t)
	if _, err := (FetchDoer{b}).Do(context.Background(), &core.HTTPRequest{Method: "GET", URL: "::"}); err == nil || !strings.Contains(err.Error(), "Invalid URL") {
		t.Fatalf("Do = %v, want the synchronous TypeError", err)
	}
}

func TestFetchDoerBodyReadFails(t *testing.T) {
	// The response arrives but its body stream errors (connection reset mid-body).
	fake := fakeFetch(t, `return new Response(new ReadableStream({start(c) { c.error(new TypeError("terminated")); }}), {status: 200});`)
	b := installFetch(t, fake)
	if resp, err := (FetchDoer{b}).Do(context.Background(), &core.HTTPRequest{Method: "GET", URL: "https://op.example.com/x"}); err == nil {
		t.Fatalf("Do = %+v, nil; want an error when the body cannot be read", resp)
	}
}

func TestFetchDoerContextCancelAborts(t *testing.T) {
	// The fake never settles and ignores the signal: Do must still return on cancellation, and
	// must have aborted the signal it handed to fetch.
	fake := fakeFetch(t, `return new Promise(() => {});`)
	b := installFetch(t, fake)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := FetchDoer{b}.Do(ctx, &core.HTTPRequest{Method: "GET", URL: "https://op.example.com/slow"})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Do = %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("Do took %v to honour the deadline", d)
	}
	if calls(t, fake) != 1 {
		t.Fatalf("fetch not called")
	}
	rec := call(t, fake, 0)
	waitFor(t, "signal.aborted", func() bool { return truthy(t, rec, "signal.aborted") })
}

func TestFetchDoerCancelRejectsViaSignal(t *testing.T) {
	// A fetch that honours the signal (like the real one) rejects with an AbortError.
	fake := fakeFetch(t, `return new Promise((_, reject) => init.signal.addEventListener("abort", () => reject(init.signal.reason)));`)
	b := installFetch(t, fake)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		time.Sleep(20 * time.Millisecond)
		cancel()
	}()
	_, err := FetchDoer{b}.Do(ctx, &core.HTTPRequest{Method: "GET", URL: "https://op.example.com/slow"})
	if err == nil {
		t.Fatal("Do succeeded after cancellation")
	}
	waitFor(t, "signal.aborted", func() bool { return truthy(t, call(t, fake, 0), "signal.aborted") })
}

// Node's real fetch (undici) with the exact init FetchDoer builds, on a data: URL.
func TestFetchDoerRealFetchDataURL(t *testing.T) {
	b := newTestBridge(t)
	resp, err := FetchDoer{b}.Do(context.Background(), &core.HTTPRequest{
		Method: "GET",
		URL:    "data:application/json,%7B%22issuer%22%3A%22https%3A%2F%2Fop.example.com%22%7D",
		Header: map[string]string{"Accept": "application/json"},
	})
	if err != nil {
		t.Fatalf("Do with the real fetch: %v", err)
	}
	if resp.Status != 200 {
		t.Errorf("Status = %d, want 200", resp.Status)
	}
	if resp.ContentType != "application/json" {
		t.Errorf("ContentType = %q, want application/json", resp.ContentType)
	}
	if string(resp.Body) != `{"issuer":"https://op.example.com"}` {
		t.Errorf("Body = %q", resp.Body)
	}
}
