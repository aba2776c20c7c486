package core

import (
	"context"
	"net/url"
	"time"
)

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
