package core

import (
	"net/netip"
	"net/url"
	"strings"
	"time"
)

// Config is what an application passes to create a client. Validate checks it before anything
// touches the network, so a mistake fails at create time with CodeInvalidConfig.
type Config struct {
	Issuer                string        // OpenID Provider issuer URL (OIDC Discovery §2)
	ClientID              string        // public client id (RFC 6749 §2.2)
	RedirectURI           string        // absolute URL registered at the provider (RFC 6749 §3.1.2)
	Scope                 string        // space-separated; must include "openid"; default "openid"
	ResourceOrigins       []string      // origins that receive the access token, e.g. "https://api.example.com"
	PostLogoutRedirectURI string        // where end_session returns to (OIDC RP-Initiated Logout §3); optional
	ClockSkew             time.Duration // tolerance for exp/iat/nbf; default 30 s
	RefreshMargin         time.Duration // refresh this long before expiry; default 60 s
	NoAutoRefresh         bool          // no proactive refresh: only lazily, when a token is needed
	DPoP                  bool          // bind tokens to a key with DPoP (RFC 9449); the provider must support ES256

	// Optional authorization request parameters sent with every login; LoginOptions override them.
	Audience    string            // Auth0-style "audience" (the API the access token is for)
	Resource    []string          // RFC 8707 §2 resource indicators: absolute URIs without fragment
	MaxAge      *time.Duration    // OIDC Core §3.1.2.1 max_age (whole seconds); nil: not sent
	ACRValues   string            // OIDC Core §3.1.2.1 acr_values, space-separated; the ID token's acr is in the claims
	ExtraParams map[string]string // provider-specific parameters; names the library sets are refused
}

func (c *Config) AuthOptions() AuthOptions {
	return AuthOptions{Audience: c.Audience, Resource: c.Resource, MaxAge: c.MaxAge, ACRValues: c.ACRValues, ExtraParams: c.ExtraParams}
}

const (
	defaultClockSkew     = 30 * time.Second
	defaultRefreshMargin = 60 * time.Second
)

// Validate checks c and fills in defaults. Origins in ResourceOrigins are normalized
// (lower-case scheme and host, default port dropped).
func (c *Config) Validate() error {
	if c.Issuer == "" {
		return newError(CodeInvalidConfig, "issuer is required")
	}
	iss, err := secureURL(c.Issuer, "issuer")
	if err != nil {
		return err
	}
	if strings.ContainsAny(c.Issuer, "?#") || iss.User != nil {
		return newError(CodeInvalidConfig, "issuer must not contain a query, fragment or user info (OIDC Discovery §2)")
	}
	if c.ClientID == "" {
		return newError(CodeInvalidConfig, "clientId is required")
	}
	if c.RedirectURI == "" {
		return newError(CodeInvalidConfig, "redirectUri is required")
	}
	ru, err := secureURL(c.RedirectURI, "redirectUri")
	if err != nil {
		return err
	}
	if ru.Fragment != "" || strings.Contains(c.RedirectURI, "#") {
		return newError(CodeInvalidConfig, "redirectUri must not contain a fragment (RFC 6749 §3.1.2)")
	}
	if c.PostLogoutRedirectURI != "" {
		if _, err := secureURL(c.PostLogoutRedirectURI, "postLogoutRedirectUri"); err != nil {
			return err
		}
	}
	if c.Scope == "" {
		c.Scope = "openid"
	}
	if !hasScope(c.Scope, "openid") {
		return newError(CodeInvalidConfig, "scope must include \"openid\"")
	}
	for i, o := range c.ResourceOrigins {
		n, err := NormalizeOrigin(o)
		if err != nil {
			return newError(CodeInvalidConfig, "resourceOrigins[%d] %q is not an origin like \"https://api.example.com\"", i, o)
		}
		c.ResourceOrigins[i] = n
	}
	if c.ClockSkew < 0 || c.RefreshMargin < 0 {
		return newError(CodeInvalidConfig, "clockSkew and refreshMargin must not be negative")
	}
	ao := c.AuthOptions()
	if err := ao.validate("config"); err != nil {
		return err
	}
	if c.ClockSkew == 0 {
		c.ClockSkew = defaultClockSkew
	}
	if c.RefreshMargin == 0 {
		c.RefreshMargin = defaultRefreshMargin
	}
	return nil
}

// secureURL parses an absolute URL that must be https, or http on a loopback host
// (RFC 9700 §2.6; RFC 8252 §8.3 for loopback).
func secureURL(raw, what string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" {
		return nil, newError(CodeInvalidConfig, "%s must be an absolute URL", what)
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && IsLoopbackHost(u.Hostname()):
	default:
		return nil, newError(CodeInvalidConfig, "%s must use https (http is allowed only for localhost)", what)
	}
	return u, nil
}

// IsLoopbackHost reports whether host is "localhost" or a loopback IP literal.
func IsLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(host, "["), "]"))
	return err == nil && a.IsLoopback()
}

// NormalizeOrigin returns the serialized origin (RFC 6454 §6.2) of an http(s) URL or origin string:
// lower-case scheme and host, default port removed. A path other than "/" , a query, a fragment
// or user info make it an error: an allow-list entry must be an origin, nothing more.
func NormalizeOrigin(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || (u.Path != "" && u.Path != "/") {
		return "", newError(CodeInvalidConfig, "not an origin")
	}
	return originOf(u)
}

// OriginOf returns the serialized origin of an absolute http(s) URL (any path allowed).
func OriginOf(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "", newError(CodeInvalidConfig, "not an absolute URL")
	}
	return originOf(u)
}

func originOf(u *url.URL) (string, error) {
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return "", newError(CodeInvalidConfig, "not an http(s) URL")
	}
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	if (scheme == "http" && port == "80") || (scheme == "https" && port == "443") {
		port = ""
	}
	if strings.Contains(host, ":") { // IPv6 literal
		host = "[" + host + "]"
	}
	if port != "" {
		return scheme + "://" + host + ":" + port, nil
	}
	return scheme + "://" + host, nil
}

func hasScope(scope, want string) bool {
	for _, s := range strings.Fields(scope) {
		if s == want {
			return true
		}
	}
	return false
}
