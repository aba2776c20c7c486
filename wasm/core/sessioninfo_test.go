package core

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"testing"
	"time"
)

// SessionInfo says when the access token expires, what scope was granted and whether a refresh
// token is held, and never carries a token; Refresh forces a refresh whatever the expiry.
func TestSessionInfoAndForcedRefresh(t *testing.T) {
	h := newHarness(t, nil)
	if h.client.SessionInfo() != nil {
		t.Fatal("SessionInfo while signed out is not nil")
	}
	if _, err := h.client.Refresh(context.Background()); ErrorCode(err) != CodeLoginRequired {
		t.Fatalf("Refresh while signed out: %v, want login_required", err)
	}
	h.login()
	start := h.clock.Now()
	si := h.client.SessionInfo()
	if si == nil || !si.ExpiresAt.Equal(start.Add(time.Hour)) || si.Scope != "openid profile offline_access" || !si.Refreshable {
		t.Fatalf("SessionInfo after login = %+v", si)
	}
	assertNoSecret(t, fmt.Errorf("%+v", *si), secretAT, secretRT)

	// A forced refresh well before expiry: one refresh grant, a later expiry. The response states
	// no scope: the granted one is kept (RFC 6749 §6).
	h.refreshResponse = func(url.Values) (*HTTPResponse, error) {
		r := h.issue(issueOpts{noIDToken: true})
		var body map[string]any
		if err := json.Unmarshal(r.Body, &body); err != nil {
			t.Fatal(err)
		}
		delete(body, "scope")
		return jsonResponse(t, 200, body), nil
	}
	h.clock.Advance(10 * time.Minute)
	if _, err := h.client.Refresh(context.Background()); err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	if n := len(h.doer.tokenRequests()); n != 2 {
		t.Fatalf("%d token requests, want 2 (code + one forced refresh)", n)
	}
	si = h.client.SessionInfo()
	if si == nil || !si.ExpiresAt.Equal(start.Add(10*time.Minute+time.Hour)) || si.Scope != "openid profile offline_access" || !si.Refreshable {
		t.Fatalf("SessionInfo after refresh = %+v", si)
	}

	// Without a refresh token there is nothing to refresh with: login_required, no request.
	h2 := newHarness(t, nil)
	h2.codeResponse = func(form url.Values, g *grant) (*HTTPResponse, error) {
		return h2.issue(issueOpts{nonce: g.nonce, noRefresh: true}), nil
	}
	h2.login()
	if si := h2.client.SessionInfo(); si == nil || si.Refreshable {
		t.Fatalf("SessionInfo without a refresh token = %+v", si)
	}
	if _, err := h2.client.Refresh(context.Background()); ErrorCode(err) != CodeLoginRequired {
		t.Fatalf("Refresh without a refresh token: %v, want login_required", err)
	}
	if n := len(h2.doer.tokenRequests()); n != 1 {
		t.Fatalf("%d token requests, want 1 (no refresh attempt)", n)
	}

	// Signed out: nil again.
	h.client.Logout(context.Background())
	if h.client.SessionInfo() != nil {
		t.Fatal("SessionInfo after logout is not nil")
	}
}
