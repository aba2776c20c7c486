package core

import (
	"net/url"
	"strconv"
	"time"
)

// AuthParams are the parameters of one authorization request (RFC 6749 §4.1.1, RFC 7636 §4.3,
// OIDC Core §3.1.2.1).
type AuthParams struct {
	ClientID      string
	RedirectURI   string
	Scope         string
	State         string
	Nonce         string
	CodeChallenge string         // S256 of the verifier
	Prompt        string         // optional, e.g. "login", "none"
	LoginHint     string         // optional
	Audience      string         // optional, Auth0 "audience"
	Resource      []string       // optional, RFC 8707 "resource", one parameter each
	MaxAge        *time.Duration // optional, OIDC Core max_age in seconds
	ACRValues     string         // optional, OIDC Core acr_values
	DPoPJKT       string         // optional, RFC 9449 §10 dpop_jkt: thumbprint of the DPoP key
	// Extra are provider-specific parameters. They never replace one of the above (callers refuse
	// reserved names; should one slip through, ours are set after and win).
	Extra map[string]string
}

// BuildAuthURL adds the parameters to the authorization endpoint. Query parameters the endpoint
// already has are kept (RFC 6749 §3.1: "MUST be retained"); ours replace any of the same name.
func BuildAuthURL(endpoint string, p AuthParams) (string, error) {
	u, err := url.Parse(endpoint)
	if err != nil {
		return "", wrapError(CodeDiscoveryFailed, err, "authorization_endpoint is not a URL")
	}
	q := u.Query()
	for k, v := range p.Extra {
		q.Set(k, v)
	}
	q.Set("response_type", "code")
	q.Set("client_id", p.ClientID)
	q.Set("redirect_uri", p.RedirectURI)
	q.Set("scope", p.Scope)
	q.Set("state", p.State)
	q.Set("nonce", p.Nonce)
	q.Set("code_challenge", p.CodeChallenge)
	q.Set("code_challenge_method", "S256")
	setIf(q, "prompt", p.Prompt)
	setIf(q, "login_hint", p.LoginHint)
	setIf(q, "audience", p.Audience)
	setIf(q, "acr_values", p.ACRValues)
	setIf(q, "dpop_jkt", p.DPoPJKT)
	if p.MaxAge != nil {
		q.Set("max_age", strconv.FormatInt(int64(*p.MaxAge/time.Second), 10))
	}
	if len(p.Resource) > 0 {
		q["resource"] = append([]string(nil), p.Resource...)
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

func setIf(q url.Values, k, v string) {
	if v != "" {
		q.Set(k, v)
	}
}
