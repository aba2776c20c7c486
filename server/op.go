package main

import (
	"crypto/rand"
	"fmt"
	"net/http"

	"github.com/zitadel/oidc/v3/pkg/op"
)

// newProvider creates the OpenID Provider for issuer c.Issuer on top of st.
//
// The op package mounts, relative to the issuer (see NewProvider's doc):
// /.well-known/openid-configuration (OIDC Discovery §4), /authorize (RFC 6749 §3.1),
// /authorize/callback (back from the login page), /oauth/token (RFC 6749 §3.2), /keys
// (JWKS, RFC 7517 §5), /userinfo (OIDC Core §5.3), /end_session (OIDC RP-Initiated Logout),
// /revoke (RFC 7009), /oauth/introspect (RFC 7662), /device_authorization, /healthz and /ready.
// It wraps them in rs/cors, which answers preflights and echoes any Origin (credentials allowed),
// so the app origin can call discovery, /keys, /oauth/token and /userinfo from the browser.
func newProvider(c Config, st op.Storage, opts ...op.Option) (*op.Provider, error) {
	// Key for the op package's encrypted opaque tokens (not used: the client gets JWT access
	// tokens); fresh per run like the signing key, so tokens of an earlier run are invalid.
	var cryptoKey [32]byte
	if _, err := rand.Read(cryptoKey[:]); err != nil {
		return nil, err
	}
	config := &op.Config{
		CryptoKey:   cryptoKey,
		CryptoKeyId: "dev",
		// end_session without a (valid) post_logout_redirect_uri goes back to the app.
		DefaultLogoutRedirectURI: c.PostLogoutRedirectURI(),
		CodeMethodS256:           true, // advertise and accept PKCE S256 (RFC 7636)
		GrantTypeRefreshToken:    true, // RFC 6749 §6, with offline_access (OIDC Core §11)
	}
	opts = append([]op.Option{
		op.WithAllowInsecure(), // http:// issuer on localhost
		withDPoPCORS,
	}, opts...)
	p, err := op.NewProvider(config, st, op.StaticIssuer(c.Issuer), opts...)
	if err != nil {
		return nil, fmt.Errorf("OpenID Provider for issuer %q: %w", c.Issuer, err)
	}
	return p, nil
}

// opHandler is everything served on the issuer origin: the login page and the provider.
func opHandler(p *op.Provider, login http.Handler) http.Handler {
	mux := http.NewServeMux()
	// The login page needs the issuer in its request context to build the callback URL.
	mux.Handle(loginPath, op.NewIssuerInterceptor(p.IssuerFromRequest).Handler(login))
	mux.Handle("/", p)
	return mux
}

// withDPoPCORS lets browsers send the DPoP header to the OP and read DPoP-Nonce (RFC 9449 §8).
func withDPoPCORS(p *op.Provider) error {
	o := p.CORSOptions()
	o.AllowedHeaders = append(o.AllowedHeaders, "DPoP")
	o.ExposedHeaders = append(o.ExposedHeaders, "DPoP-Nonce", "WWW-Authenticate")
	return nil
}
