package core

import (
	"context"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestAccessTokenWithExpirySignedOut(t *testing.T) {
	h := newHarness(t, nil)
	_, exp, err := AccessTokenWithExpiry(context.Background(), h.client)
	wantCode(t, err, CodeLoginRequired)
	if !exp.IsZero() {
		t.Errorf("expiry %v for no token", exp)
	}
}

func TestAccessTokenWithExpiry(t *testing.T) {
	h := newHarness(t, nil)
	h.login()
	loggedInAt := h.clock.Now()
	tok, exp, err := AccessTokenWithExpiry(context.Background(), h.client)
	if err != nil {
		t.Fatal(err)
	}
	if tok != h.accessToken() {
		t.Errorf("token %q, AccessToken says %q", tok, h.accessToken())
	}
	if want := loggedInAt.Add(time.Hour); !exp.Equal(want) { // expires_in 3600
		t.Errorf("expiry %v, want %v", exp, want)
	}

	// Past expiry it refreshes, through the same path as AccessToken, and reports the new expiry.
	h.clock.Advance(2 * time.Hour)
	tok2, exp2, err := AccessTokenWithExpiry(context.Background(), h.client)
	if err != nil {
		t.Fatal(err)
	}
	if tok2 == tok {
		t.Errorf("stale token returned after expiry")
	}
	if want := h.clock.Now().Add(time.Hour); !exp2.Equal(want) {
		t.Errorf("expiry after refresh %v, want %v", exp2, want)
	}
	if n := len(h.doer.tokenRequests()); n != 2 {
		t.Errorf("%d token requests, want 2 (code + one refresh)", n)
	}
}

func TestAccessTokenWithExpiryNoExpiresIn(t *testing.T) {
	h := newHarness(t, nil)
	h.codeResponse = func(form url.Values, g *grant) (*HTTPResponse, error) {
		return jsonResponse(h.t, 200, map[string]any{"access_token": "no-expiry", "token_type": "Bearer",
			"id_token": h.idToken(h.sub, g.nonce, nil, nil)}), nil
	}
	h.login()
	tok, exp, err := AccessTokenWithExpiry(context.Background(), h.client)
	if err != nil || tok != "no-expiry" || !exp.IsZero() {
		t.Errorf("got %q, %v, %v; want no-expiry, zero time, nil", tok, exp, err)
	}
}

func TestAccessTokenWithExpirySingleFlight(t *testing.T) {
	h := newHarness(t, nil)
	h.login()
	h.clock.Advance(2 * time.Hour)
	release := make(chan struct{})
	var refreshes atomic.Int32
	h.refreshResponse = func(url.Values) (*HTTPResponse, error) {
		refreshes.Add(1)
		<-release
		return h.issue(issueOpts{}), nil
	}
	const n = 50
	toks := make([]string, n)
	exps := make([]time.Time, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { toks[i], exps[i], errs[i] = AccessTokenWithExpiry(context.Background(), h.client) })
	}
	waitUntil(5*time.Second, func() bool { return refreshes.Load() > 0 })
	time.Sleep(50 * time.Millisecond)
	close(release)
	wg.Wait()
	if got := refreshes.Load(); got != 1 {
		t.Fatalf("%d refreshes for %d concurrent callers, want 1", got, n)
	}
	for i := range n {
		if errs[i] != nil || toks[i] != toks[0] || !exps[i].Equal(exps[0]) {
			t.Fatalf("caller %d: %q %v %v; caller 0: %q %v", i, toks[i], exps[i], errs[i], toks[0], exps[0])
		}
	}
}
