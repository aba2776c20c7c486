package core

import (
	"strings"
)

// Metadata is the subset of OpenID Provider metadata (OIDC Discovery §3, RFC 8414 §2) the client uses.
type Metadata struct {
	Issuer                            string   `json:"issuer"`
	AuthorizationEndpoint             string   `json:"authorization_endpoint"`
	TokenEndpoint                     string   `json:"token_endpoint"`
	JWKSURI                           string   `json:"jwks_uri"`
	UserinfoEndpoint                  string   `json:"userinfo_endpoint"`
	EndSessionEndpoint                string   `json:"end_session_endpoint"`
	RevocationEndpoint                string   `json:"revocation_endpoint"`
	ResponseTypesSupported            []string `json:"response_types_supported"`
	CodeChallengeMethodsSupported     []string `json:"code_challenge_methods_supported"`
	IDTokenSigningAlgValuesSupported  []string `json:"id_token_signing_alg_values_supported"`
	AuthorizationResponseIssSupported bool     `json:"authorization_response_iss_parameter_supported"`
	DPoPSigningAlgValuesSupported     []string `json:"dpop_signing_alg_values_supported"` // RFC 9449 §5.1
}

// DiscoveryURL returns where the metadata of issuer lives (OIDC Discovery §4.1): the issuer with
// any trailing "/" removed, followed by "/.well-known/openid-configuration".
func DiscoveryURL(issuer string) string {
	return strings.TrimSuffix(issuer, "/") + "/.well-known/openid-configuration"
}

// maxMetadataBytes bounds what we parse: real documents are 1-10 KB.
const maxMetadataBytes = 256 << 10

// ParseMetadata parses and validates a discovery document for the configured issuer.
//   - issuer must be identical to the configured one (OIDC Discovery §4.3, RFC 8414 §3.3), which
//     defeats mix-up attacks through a forged document;
//   - authorization and token endpoints are required, and every endpoint must be https
//     (http only on loopback);
//   - if code_challenge_methods_supported is present it must list S256 (RFC 7636 §4.2, RFC 8414 §2);
//   - if response_types_supported is present it must list "code".
func ParseMetadata(body []byte, issuer string) (*Metadata, error) {
	if len(body) > maxMetadataBytes {
		return nil, newError(CodeDiscoveryFailed, "discovery document is larger than %d bytes", maxMetadataBytes)
	}
	m, err := readMetadata(body)
	if err != nil {
		return nil, wrapError(CodeDiscoveryFailed, err, "discovery document is not a JSON object")
	}
	if m.Issuer != issuer {
		return nil, newError(CodeDiscoveryFailed, "discovery issuer %q does not match the configured issuer %q", trimForMessage(m.Issuer), issuer)
	}
	if m.AuthorizationEndpoint == "" || m.TokenEndpoint == "" {
		return nil, newError(CodeDiscoveryFailed, "discovery document lacks authorization_endpoint or token_endpoint")
	}
	for _, ep := range []struct{ name, v string }{
		{"authorization_endpoint", m.AuthorizationEndpoint},
		{"token_endpoint", m.TokenEndpoint},
		{"jwks_uri", m.JWKSURI},
		{"userinfo_endpoint", m.UserinfoEndpoint},
		{"end_session_endpoint", m.EndSessionEndpoint},
		{"revocation_endpoint", m.RevocationEndpoint},
	} {
		if ep.v == "" {
			continue
		}
		if _, err := secureURL(ep.v, ep.name); err != nil {
			return nil, newError(CodeDiscoveryFailed, "%s must be an https URL (http only for localhost)", ep.name)
		}
	}
	if m.CodeChallengeMethodsSupported != nil && !contains(m.CodeChallengeMethodsSupported, "S256") {
		return nil, newError(CodeDiscoveryFailed, "provider does not support PKCE S256 (code_challenge_methods_supported)")
	}
	if m.ResponseTypesSupported != nil && !contains(m.ResponseTypesSupported, "code") {
		return nil, newError(CodeDiscoveryFailed, "provider does not support response_type=code")
	}
	return &m, nil
}

// readMetadata parses a discovery document into Metadata; names match case-insensitively and a
// member of the wrong type is an error (see members).
func readMetadata(body []byte) (Metadata, error) {
	obj, err := parseJSONObject(body)
	if err != nil {
		return Metadata{}, err
	}
	r := members{obj: obj}
	m := Metadata{
		Issuer:                            r.str("issuer"),
		AuthorizationEndpoint:             r.str("authorization_endpoint"),
		TokenEndpoint:                     r.str("token_endpoint"),
		JWKSURI:                           r.str("jwks_uri"),
		UserinfoEndpoint:                  r.str("userinfo_endpoint"),
		EndSessionEndpoint:                r.str("end_session_endpoint"),
		RevocationEndpoint:                r.str("revocation_endpoint"),
		ResponseTypesSupported:            r.strs("response_types_supported"),
		CodeChallengeMethodsSupported:     r.strs("code_challenge_methods_supported"),
		IDTokenSigningAlgValuesSupported:  r.strs("id_token_signing_alg_values_supported"),
		AuthorizationResponseIssSupported: r.boolean("authorization_response_iss_parameter_supported"),
		DPoPSigningAlgValuesSupported:     r.strs("dpop_signing_alg_values_supported"),
	}
	return m, r.err
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// trimForMessage shortens server-supplied text quoted in an error message.
func trimForMessage(s string) string {
	s = sanitizeDescription(s)
	if len(s) > 120 {
		return s[:120] + "…"
	}
	return s
}
