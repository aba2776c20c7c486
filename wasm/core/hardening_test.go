package core

import (
	"context"
	"strings"
	"testing"
	"time"
)

// A provider that quotes our refresh token back in error_description must not get it into the
// error JS sees (found by review of the fuzz invariants).
type echoingOP struct{ *tabsOP }

func (op echoingOP) Do(ctx context.Context, r *HTTPRequest) (*HTTPResponse, error) {
	if strings.Contains(r.Body, "grant_type=refresh_token") {
		rt := strings.TrimPrefix(r.Body[strings.Index(r.Body, "refresh_token=rt"):], "refresh_token=")
		rt = strings.SplitN(rt, "&", 2)[0]
		return &HTTPResponse{Status: 400, Body: []byte(`{"error":"invalid_request","error_description":"refresh token ` + rt + ` is malformed"}`)}, nil
	}
	return op.tabsOP.Do(ctx, r)
}

func TestTokenErrorDescriptionRedactsWhatWeSent(t *testing.T) {
	w := newTabsWorld(t, 1)
	w.login(t, 0)
	c := w.tabs[0]
	c.deps.HTTP = echoingOP{w.op}
	w.op.mu.Lock()
	w.op.validRT = "rt-secret-value-1234"
	w.op.mu.Unlock()
	c.sess.mu.Lock()
	c.sess.tokens.RefreshToken = "rt-secret-value-1234"
	c.sess.mu.Unlock()
	w.clock.Add(2 * time.Hour)
	_, err := c.AccessToken(context.Background())
	if err == nil {
		t.Fatal("want an error")
	}
	if ErrorCode(err) != "invalid_request" {
		t.Fatalf("code = %q, want invalid_request", ErrorCode(err))
	}
	if strings.Contains(err.Error(), "rt-secret-value-1234") {
		t.Fatalf("error leaks the refresh token: %v", err)
	}
	if !strings.Contains(err.Error(), "[redacted]") {
		t.Fatalf("error description lost its context: %v", err)
	}
}

func TestDuplicateJSONMembersRejected(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	for _, body := range []string{
		`{"access_token":"a","access_token":"b","token_type":"Bearer"}`,
		`{"access_token":"a","token_type":"Bearer","token_type":"Bearer"}`,
	} {
		if _, err := ParseTokenResponse(200, []byte(body), now); ErrorCode(err) != CodeInvalidTokenResponse {
			t.Errorf("%s: err = %v, want invalid_token_response", body, err)
		}
	}
	meta := `{"issuer":"https://op.example.com","issuer":"https://evil.example.com","authorization_endpoint":"https://op.example.com/a","token_endpoint":"https://op.example.com/t"}`
	if _, err := ParseMetadata([]byte(meta), "https://op.example.com"); ErrorCode(err) != CodeDiscoveryFailed {
		t.Errorf("duplicate issuer in discovery: err = %v, want discovery_failed", err)
	}
	// Nested objects may repeat names across levels: only siblings count.
	ok := `{"access_token":"a","token_type":"Bearer","x":{"access_token":1},"y":{"access_token":2}}`
	if _, err := ParseTokenResponse(200, []byte(ok), now); err != nil {
		t.Errorf("nested repeats rejected: %v", err)
	}
}

// Prefetch loads discovery and the keys once; a following callback makes no second request for them.
func TestPrefetchThenCallbackNoDuplicateRequests(t *testing.T) {
	w := newTabsWorld(t, 1)
	var disc, keys int
	w.tabs[0].deps.HTTP = countingDoer{w.op, func(u string) {
		if strings.HasSuffix(u, "/.well-known/openid-configuration") {
			disc++
		}
		if strings.HasSuffix(u, "/keys") {
			keys++
		}
	}}
	w.tabs[0].Prefetch(context.Background())
	w.tabs[0].Prefetch(context.Background())
	if disc != 1 || keys != 1 {
		t.Fatalf("prefetch: %d discovery and %d JWKS requests, want 1 and 1", disc, keys)
	}
	w.login(t, 0)
	if disc != 1 {
		t.Fatalf("callback after prefetch fetched discovery again (%d)", disc)
	}
}

type countingDoer struct {
	next HTTPDoer
	see  func(url string)
}

func (d countingDoer) Do(ctx context.Context, r *HTTPRequest) (*HTTPResponse, error) {
	d.see(r.URL)
	return d.next.Do(ctx, r)
}
