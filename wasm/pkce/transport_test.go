//go:build !js

package pkce

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pkce-wasm/pkce-wasm/wasm/core"
	"golang.org/x/oauth2"
)

func TestTokenSource(t *testing.T) {
	e := newEnv(t)
	ts := e.c.TokenSource()
	_, err := ts.Token()
	wantCode(t, err, core.CodeLoginRequired)

	e.signIn()
	signedInAt := e.clock.Now()
	tok, err := ts.Token()
	if err != nil {
		t.Fatal(err)
	}
	at, err := e.c.core.AccessToken(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken != at || tok.TokenType != "Bearer" || tok.Type() != "Bearer" {
		t.Errorf("token %q type %q; core has %q", tok.AccessToken, tok.TokenType, at)
	}
	if want := signedInAt.Add(time.Hour); !tok.Expiry.Equal(want) {
		t.Errorf("expiry %v, want %v", tok.Expiry, want)
	}

	// No second cache: a refresh in the core shows at once, and so does a sign-out.
	fresh, err := e.c.core.Refresh(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if tok2, err := ts.Token(); err != nil || tok2.AccessToken != fresh {
		t.Errorf("after a core refresh Token() = %v, %v; want %q", tok2, err, fresh)
	}
	e.c.core.Logout(context.Background())
	_, err = ts.Token()
	wantCode(t, err, core.CodeLoginRequired)
}

func TestTokenSourceExpiredTokenRefreshesOnceForAll(t *testing.T) {
	api := newResource(t)
	e := newEnv(t, api.URL)
	e.signIn()
	first, _ := e.c.TokenSource().Token()
	e.clock.Advance(2 * time.Hour)

	release := make(chan struct{})
	e.op.mu.Lock()
	e.op.onRefresh = func() { <-release }
	e.op.mu.Unlock()

	const n = 40
	var wg sync.WaitGroup
	toks := make([]string, n)
	errs := make([]error, n)
	hc := e.c.HTTPClient(context.Background())
	for i := range n {
		wg.Go(func() {
			if i%2 == 0 { // half through the TokenSource, half through requests
				tok, err := e.c.TokenSource().Token()
				if err == nil {
					toks[i] = tok.AccessToken
				}
				errs[i] = err
				return
			}
			res, err := hc.Get(api.URL + "/me")
			if err == nil {
				res.Body.Close()
			}
			errs[i] = err
		})
	}
	deadline := time.Now().Add(5 * time.Second)
	for e.op.refreshCount() == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	close(release)
	wg.Wait()

	if got := e.op.refreshCount(); got != 1 {
		t.Fatalf("%d refresh grants for %d concurrent callers, want 1", got, n)
	}
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("caller %d: %v", i, errs[i])
		}
	}
	for i := 0; i < n; i += 2 {
		if toks[i] == first.AccessToken || toks[i] != toks[0] {
			t.Fatalf("caller %d got %q (stale %q, caller 0 %q)", i, toks[i], first.AccessToken, toks[0])
		}
	}
	for _, h := range api.authHeaders() {
		if h != "Bearer "+toks[0] {
			t.Fatalf("API saw %q, want the refreshed token", h)
		}
	}
}

// resource is a test API that records the Authorization header of every request.
type resource struct {
	*httptest.Server
	mu   sync.Mutex
	auth []string
	// handle, when set, answers instead of 200 "ok".
	handle func(w http.ResponseWriter, r *http.Request)
}

func newResource(t *testing.T) *resource {
	r := &resource{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.auth = append(r.auth, req.Header.Get("Authorization"))
		h := r.handle
		r.mu.Unlock()
		if h != nil {
			h(w, req)
			return
		}
		io.WriteString(w, "ok")
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *resource) authHeaders() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.auth...)
}

func (r *resource) setHandle(h func(w http.ResponseWriter, r *http.Request)) {
	r.mu.Lock()
	r.handle = h
	r.mu.Unlock()
}

func get(t *testing.T, hc *http.Client, u string) *http.Response {
	t.Helper()
	res, err := hc.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res
}

func TestHTTPClientSendsTokenOnlyToResourceOrigins(t *testing.T) {
	api, other := newResource(t), newResource(t)
	e := newEnv(t, api.URL)
	hc := e.c.HTTPClient(context.Background())

	// Signed out: no token anywhere, and no error either.
	get(t, hc, api.URL+"/me")
	e.signIn()
	tok, _ := e.c.TokenSource().Token()
	get(t, hc, api.URL+"/me")
	get(t, hc, other.URL+"/echo")
	// A redirect from the API to another origin is a new request, checked again.
	api.setHandle(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hop" {
			http.Redirect(w, r, other.URL+"/landed", http.StatusFound)
			return
		}
		io.WriteString(w, "ok")
	})
	if res := get(t, hc, api.URL+"/hop"); res.Request.URL.Path != "/landed" {
		t.Fatalf("redirect not followed: %s", res.Request.URL)
	}

	if got, want := api.authHeaders(), []string{"", "Bearer " + tok.AccessToken, "Bearer " + tok.AccessToken}; strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("API saw Authorization %q, want %q", got, want)
	}
	if got := other.authHeaders(); strings.Join(got, "") != "" || len(got) != 2 {
		t.Errorf("non-allow-listed origin saw Authorization %q", got)
	}

	// Signed out again: requests go out without a token.
	e.c.core.Logout(context.Background())
	get(t, hc, api.URL+"/me")
	if got := api.authHeaders(); got[len(got)-1] != "" {
		t.Errorf("token sent after sign-out: %q", got[len(got)-1])
	}
}

func TestHTTPClientRetriesOnceAfterInvalidToken(t *testing.T) {
	api := newResource(t)
	e := newEnv(t, api.URL)
	e.signIn()
	first, _ := e.c.TokenSource().Token()
	var mu sync.Mutex
	var bodies []string
	api.setHandle(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, string(b))
		mu.Unlock()
		if r.Header.Get("Authorization") == "Bearer "+first.AccessToken {
			w.Header().Set("WWW-Authenticate", `Bearer realm="x", error="invalid_token", error_description="revoked"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		io.WriteString(w, "ok")
	})
	hc := e.c.HTTPClient(context.Background())
	res, err := hc.Post(api.URL+"/items", "text/plain", strings.NewReader("payload"))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("status %d after retry, want 200", res.StatusCode)
	}
	if got := e.op.refreshCount(); got != 1 {
		t.Errorf("%d refreshes, want 1", got)
	}
	auth := api.authHeaders()
	if len(auth) != 2 || auth[0] != "Bearer "+first.AccessToken || auth[1] == auth[0] || !strings.HasPrefix(auth[1], "Bearer ") {
		t.Errorf("Authorization headers %q: want the rejected token, then a fresh one", auth)
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(bodies, "|") != "payload|payload" {
		t.Errorf("bodies %q: the retry must resend the body", bodies)
	}

	// A 401 without invalid_token is the caller's business: no refresh, no retry.
	api.setHandle(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("WWW-Authenticate", `Bearer error="insufficient_scope"`)
		w.WriteHeader(http.StatusUnauthorized)
	})
	if res := get(t, hc, api.URL+"/admin"); res.StatusCode != 401 {
		t.Errorf("status %d", res.StatusCode)
	}
	if got := e.op.refreshCount(); got != 1 {
		t.Errorf("%d refreshes after insufficient_scope, want still 1", got)
	}
}

func TestHTTPClientNoRetryWithUnreplayableBody(t *testing.T) {
	api := newResource(t)
	e := newEnv(t, api.URL)
	e.signIn()
	api.setHandle(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		w.WriteHeader(http.StatusUnauthorized)
	})
	hc := e.c.HTTPClient(context.Background())
	req, _ := http.NewRequest("POST", api.URL+"/items", io.NopCloser(strings.NewReader("once")))
	res, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 401 || len(api.authHeaders()) != 1 {
		t.Errorf("status %d after %d requests; want the 401 and no retry", res.StatusCode, len(api.authHeaders()))
	}
}

type countingTransport struct {
	mu sync.Mutex
	n  int
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.mu.Lock()
	c.n++
	c.mu.Unlock()
	return http.DefaultTransport.RoundTrip(r)
}

func TestHTTPClientBaseTransportFromContext(t *testing.T) {
	api, other := newResource(t), newResource(t)
	e := newEnv(t, api.URL)
	e.signIn()
	base := &countingTransport{}
	ctx, cancel := context.WithCancel(context.WithValue(context.Background(), oauth2.HTTPClient, &http.Client{Transport: base}))
	hc := e.c.HTTPClient(ctx)
	cancel() // the client outlives ctx
	get(t, hc, api.URL+"/me")
	get(t, hc, other.URL+"/x")
	base.mu.Lock()
	defer base.mu.Unlock()
	if base.n != 2 {
		t.Errorf("base transport used %d times, want 2 (allow-listed and not)", base.n)
	}
	if got := api.authHeaders(); len(got) != 1 || !strings.HasPrefix(got[0], "Bearer ") {
		t.Errorf("API saw %q", got)
	}
}

func TestHTTPClientRequestContextBoundsRefreshWait(t *testing.T) {
	api := newResource(t)
	e := newEnv(t, api.URL)
	e.signIn()
	e.clock.Advance(2 * time.Hour)
	release := make(chan struct{})
	defer close(release)
	e.op.mu.Lock()
	e.op.onRefresh = func() { <-release }
	e.op.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", api.URL+"/me", nil)
	_, err := e.c.HTTPClient(context.Background()).Do(req)
	if err == nil {
		t.Fatal("request went out while the refresh hung")
	}
	if len(api.authHeaders()) != 0 {
		t.Errorf("API reached %d times", len(api.authHeaders()))
	}
}
