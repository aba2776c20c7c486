package core

import (
	"context"
	"strings"
)

// UserInfo calls the provider's UserInfo endpoint with the access token (OIDC Core §5.3.1) and
// returns its JSON claims after the §5.3.2 check: "sub" must be exactly the ID token's sub, or the
// response is not about our user (token substitution) and is rejected. Signed or encrypted
// UserInfo responses (application/jwt) are not supported and rejected.
func (c *Client) UserInfo(ctx context.Context) ([]byte, error) {
	m, err := c.Discover(ctx)
	if err != nil {
		return nil, err
	}
	if m.UserinfoEndpoint == "" {
		return nil, newError(CodeDiscoveryFailed, "the provider has no userinfo_endpoint")
	}
	_, idt := c.sess.current()
	if idt == nil {
		return nil, newError(CodeLoginRequired, "not signed in")
	}
	tok, err := c.AccessToken(ctx)
	if err != nil {
		return nil, err
	}
	resp, err := c.resourceGet(ctx, m.UserinfoEndpoint, tok) // Bearer, or DPoP with a proof
	if err != nil {
		return nil, err
	}
	switch {
	case resp.Status == 401:
		return nil, newError(CodeLoginRequired, "the provider rejected the access token at userinfo")
	case resp.Status != 200:
		return nil, newError(CodeServerError, "userinfo answered HTTP %d", resp.Status)
	case !strings.HasPrefix(strings.ToLower(resp.ContentType), "application/json"):
		return nil, newError(CodeInvalidUserInfo, "userinfo response is not application/json")
	}
	u, err := parseJSONObject(resp.Body)
	if err != nil {
		return nil, newError(CodeInvalidUserInfo, "userinfo response is not a JSON object")
	}
	if sub, ok := jsonString((&members{obj: u}).get("sub")); !ok || sub != idt.Claims.Sub {
		return nil, newError(CodeInvalidUserInfo, "userinfo sub does not match the ID token's sub (OIDC Core §5.3.2)")
	}
	return resp.Body, nil
}
