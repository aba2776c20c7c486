package core

import (
	"net/url"
	"strings"
	"time"
)

// AuthOptions are the optional parameters of an authorization request that both Config (every
// login) and LoginOptions (one login) can set. A login's value replaces the configured one; its
// ExtraParams are merged over the configured ones, name by name.
type AuthOptions struct {
	Audience    string
	Resource    []string
	MaxAge      *time.Duration
	ACRValues   string
	ExtraParams map[string]string
}

// reservedParams are the authorization request parameters the library sets or controls itself:
// ExtraParams may not name them (compared case-insensitively, since some providers do), so that
// provider-specific extras can never override PKCE, state, nonce, the redirect or the response
// type, nor smuggle in a request object, a response mode or a DPoP key binding.
var reservedParams = []string{
	"response_type", "client_id", "redirect_uri", "scope", "state", "nonce", "code_challenge",
	"code_challenge_method", "prompt", "login_hint", "max_age", "acr_values", "audience", "resource",
	"dpop_jkt", "request", "request_uri", "response_mode",
}

// validate checks o, whose fields came from where (for messages), with CodeInvalidConfig.
//   - Resource: each an absolute URI without a fragment (RFC 8707 §2).
//   - MaxAge: a non-negative whole number of seconds (OIDC Core §3.1.2.1 max_age).
//   - ExtraParams: no empty or reserved name, no control characters.
func (o *AuthOptions) validate(where string) error {
	for i, r := range o.Resource {
		u, err := url.Parse(r)
		if err != nil || !u.IsAbs() || strings.Contains(r, "#") {
			return newError(CodeInvalidConfig, "%s resource[%d] must be an absolute URI without a fragment (RFC 8707 §2)", where, i)
		}
	}
	if o.MaxAge != nil && (*o.MaxAge < 0 || *o.MaxAge%time.Second != 0) {
		return newError(CodeInvalidConfig, "%s maxAge must be a non-negative whole number of seconds", where)
	}
	for _, s := range []struct{ name, v string }{{"audience", o.Audience}, {"acrValues", o.ACRValues}} {
		if hasControl(s.v) {
			return newError(CodeInvalidConfig, "%s %s must not contain control characters", where, s.name)
		}
	}
	for k, v := range o.ExtraParams {
		if k == "" || hasControl(k) || hasControl(v) {
			return newError(CodeInvalidConfig, "%s extraParams has an empty name or control characters", where)
		}
		for _, r := range reservedParams {
			if strings.EqualFold(k, r) {
				return newError(CodeInvalidConfig, "%s extraParams may not set %q: pkce-wasm sets it (use the matching option)", where, trimForMessage(k))
			}
		}
	}
	return nil
}

// override returns o with the values login sets replacing its own.
func (o AuthOptions) override(login AuthOptions) AuthOptions {
	if login.Audience != "" {
		o.Audience = login.Audience
	}
	if login.Resource != nil {
		o.Resource = login.Resource
	}
	if login.MaxAge != nil {
		o.MaxAge = login.MaxAge
	}
	if login.ACRValues != "" {
		o.ACRValues = login.ACRValues
	}
	if len(login.ExtraParams) > 0 {
		m := make(map[string]string, len(o.ExtraParams)+len(login.ExtraParams))
		for k, v := range o.ExtraParams {
			m[k] = v
		}
		for k, v := range login.ExtraParams {
			m[k] = v
		}
		o.ExtraParams = m
	}
	return o
}

func hasControl(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return true
		}
	}
	return false
}

// checkMaxAge applies OIDC Core §3.1.3.7 step 13 when the request carried max_age: auth_time is
// then REQUIRED (§2, §3.1.2.1), and the authentication must be recent enough:
// auth_time + max_age + skew >= now.
func checkMaxAge(cl *IDClaims, maxAge *time.Duration, now time.Time, skew time.Duration) error {
	if maxAge == nil {
		return nil
	}
	if cl.AuthTime == nil {
		return newError(CodeInvalidIDToken, "ID token lacks auth_time although max_age was requested (OIDC Core §3.1.2.1)")
	}
	if cl.AuthTime.Time().Add(*maxAge + skew).Before(now) {
		return newError(CodeInvalidIDToken, "the user authenticated longer ago than max_age allows (OIDC Core §3.1.3.7)")
	}
	return nil
}
