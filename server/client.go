package main

import (
	"net/url"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// devClient is the one registered client, "pkce-demo": a public browser client (RFC 6749 §2.1,
// "user-agent-based application") that authenticates with PKCE instead of a secret
// (auth method "none", RFC 7636), uses the authorization code flow with refresh tokens and gets
// JWT access tokens (RFC 9068) so that the demo API can verify them against the OP's JWKS.
//
// The example storage's Client registers no post-logout redirect URIs and only opaque access
// tokens, hence this type.
type devClient struct {
	redirectURIs           []string
	postLogoutRedirectURIs []string
	tokenTTL               time.Duration
}

var _ op.Client = (*devClient)(nil)

func newDevClient(c Config) *devClient {
	d := newDevClientBase(c)
	if c.TestHooks { // the benchmark pages' redirect URI (bench_hooks.go)
		d.redirectURIs = append(d.redirectURIs, c.benchRedirectURI())
	}
	return d
}

func newDevClientBase(c Config) *devClient {
	return &devClient{
		redirectURIs:           []string{c.RedirectURI(), c.GoDemoRedirectURI()},
		postLogoutRedirectURIs: []string{c.PostLogoutRedirectURI(), c.GoDemoPostLogoutRedirectURI()},
		tokenTTL:               c.AccessTokenTTL,
	}
}

func (c *devClient) GetID() string                    { return clientID }
func (c *devClient) RedirectURIs() []string           { return c.redirectURIs }
func (c *devClient) PostLogoutRedirectURIs() []string { return c.postLogoutRedirectURIs }
func (c *devClient) ApplicationType() op.ApplicationType {
	return op.ApplicationTypeUserAgent
}
func (c *devClient) AuthMethod() oidc.AuthMethod { return oidc.AuthMethodNone }
func (c *devClient) ResponseTypes() []oidc.ResponseType {
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}
func (c *devClient) GrantTypes() []oidc.GrantType {
	return []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken}
}

// LoginURL is where the OP sends the browser to authenticate auth request id (see login.go).
func (c *devClient) LoginURL(id string) string {
	return loginPath + "?" + url.Values{loginRequestParam: {id}}.Encode()
}

func (c *devClient) AccessTokenType() op.AccessTokenType { return op.AccessTokenTypeJWT }
func (c *devClient) IDTokenLifetime() time.Duration      { return c.tokenTTL }

// DevMode lets a user-agent client use http:// redirect URIs (the local app origin); the op
// package refuses them otherwise. Redirect URIs still have to match exactly.
func (c *devClient) DevMode() bool {
	return strings.HasPrefix(c.redirectURIs[0], "http://")
}

func (c *devClient) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}

func (c *devClient) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}

// IsScopeAllowed allows no scopes beyond the standard OIDC ones (openid, profile, email, phone,
// address, offline_access), which the op package always accepts.
func (c *devClient) IsScopeAllowed(string) bool { return false }

// IDTokenUserinfoClaimsAssertion puts the profile/email claims into the ID token even though an
// access token is issued too (OIDC Core §5.4 would only return them from userinfo), so that the
// demo can show the user's name from the ID token alone.
func (c *devClient) IDTokenUserinfoClaimsAssertion() bool { return true }

func (c *devClient) ClockSkew() time.Duration { return 0 }
