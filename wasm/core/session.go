package core

import (
	"context"
	"net/url"
	"time"
)

// Lifecycle events (Deps.Emit). Their details never contain a token.
const (
	EventTokenRefreshed = "tokenRefreshed" // new tokens from a refresh; detail: expiresAt
	EventTokenExpiring  = "tokenExpiring"  // the access token is within the refresh margin; detail: expiresAt
	EventSignedOut      = "signedOut"      // tokens dropped; detail: reason (logout, invalid_grant, other_tab)
	EventError          = "error"          // a background operation failed; detail: code, during
)

func (c *Client) emit(event string, detail map[string]any) {
	if c.deps.Emit != nil {
		c.deps.Emit(event, detail)
	}
}

func unixOrNil(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return float64(t.Unix())
}

// setSessionLocked installs a new session and (re)arms the proactive refresh. c.mu must be held.
func (c *Client) setSessionLocked(t *TokenSet, idt *JWT) {
	c.tokens, c.idToken = t, idt
	if c.timer != nil {
		c.timer.Stop()
		c.timer = nil
	}
	if t.Expiry.IsZero() || c.cfg.NoAutoRefresh {
		return
	}
	// A floor on the delay: a token that is (nearly) expired on arrival must not make the timer
	// refresh in a loop; lazy refresh in AccessToken still covers requests in between.
	d := t.Expiry.Add(-c.refreshMargin(t)).Sub(c.deps.Now())
	if d < minProactiveDelay {
		d = minProactiveDelay
	}
	c.timer = time.AfterFunc(d, func() { c.onExpiring(t) })
}

// clearLocked drops the session. c.mu must be held.
func (c *Client) clearLocked() {
	c.tokens, c.idToken = nil, nil
	if c.timer != nil {
		c.timer.Stop()
		c.timer = nil
	}
}

const minProactiveDelay = time.Second

// onExpiring is the proactive refresh (RFC 6749 §6), run RefreshMargin before expiry.
func (c *Client) onExpiring(t *TokenSet) {
	c.mu.Lock()
	current := c.tokens == t
	c.mu.Unlock()
	if !current {
		return
	}
	c.emit(EventTokenExpiring, map[string]any{"expiresAt": unixOrNil(t.Expiry)})
	if t.RefreshToken != "" {
		_, _ = c.refreshFrom(context.Background(), t) // failures are emitted as EventError
	}
}

// revokeTimeout bounds the best-effort revocation at logout.
const revokeTimeout = 3 * time.Second

// revoke asks the provider to revoke the refresh token (RFC 7009 §2.1), or the access token when
// there is none. Best effort: a failure must not keep the user signed in, so it is only emitted.
func (c *Client) revoke(ctx context.Context, t *TokenSet) {
	c.discoverMu.Lock()
	m := c.meta
	c.discoverMu.Unlock()
	if m == nil || m.RevocationEndpoint == "" {
		return
	}
	form := url.Values{"client_id": {c.cfg.ClientID}}
	if t.RefreshToken != "" {
		form.Set("token", t.RefreshToken)
		form.Set("token_type_hint", "refresh_token")
	} else {
		form.Set("token", t.AccessToken)
		form.Set("token_type_hint", "access_token")
	}
	ctx, cancel := context.WithTimeout(ctx, revokeTimeout)
	defer cancel()
	resp, err := c.deps.HTTP.Do(ctx, formPost(m.RevocationEndpoint, form))
	if err != nil || resp.Status != 200 {
		c.emit(EventError, map[string]any{"code": CodeNetworkError, "during": "revocation"})
	}
}
