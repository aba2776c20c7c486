package main

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/client/rp"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// protectedAPI is the demo resource server on the app origin. It trusts nothing but the OP's
// published keys: access tokens are JWTs (RFC 9068) checked against the JWKS fetched over HTTP
// from the issuer, exactly as a separate API service would.
type protectedAPI struct {
	appOrigin string
	clientID  string
	verifier  *op.AccessTokenVerifier
	now       func() time.Time
}

// newProtectedAPI verifies tokens from issuer with the keys at jwksURL (fetched on first use,
// cached, re-fetched on an unknown key id).
func newProtectedAPI(c Config, jwksURL string) *protectedAPI {
	keys := rp.NewRemoteKeySet(&http.Client{Timeout: 10 * time.Second}, jwksURL)
	return &protectedAPI{
		appOrigin: c.AppOrigin,
		clientID:  clientID,
		verifier:  op.NewAccessTokenVerifier(c.Issuer, keys),
		now:       time.Now,
	}
}

type meResponse struct {
	Sub     string `json:"sub"`
	Scope   string `json:"scope"`
	Message string `json:"message"`
	Time    string `json:"time"`
}

// me serves GET /api/me: the caller's identity, from a valid Bearer access token (RFC 6750).
// CORS allows the app origin only, with the Authorization header.
func (a *protectedAPI) me(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Add("Vary", "Origin")
	if origin := r.Header.Get("Origin"); origin == a.appOrigin {
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Expose-Headers", "WWW-Authenticate")
	}
	switch r.Method {
	case http.MethodOptions: // CORS preflight (Fetch standard, CORS protocol)
		if h.Get("Access-Control-Allow-Origin") != "" {
			h.Set("Access-Control-Allow-Methods", "GET, HEAD")
			h.Set("Access-Control-Allow-Headers", "Authorization")
			h.Set("Access-Control-Max-Age", "600")
		}
		w.WriteHeader(http.StatusNoContent)
		return
	case http.MethodGet, http.MethodHead:
	default:
		h.Set("Allow", "GET, HEAD, OPTIONS")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	h.Set("Cache-Control", "no-store")

	token, ok := bearerToken(r)
	if !ok {
		// RFC 6750 §3.1: no error code when the request has no authentication information.
		h.Set("WWW-Authenticate", `Bearer realm="`+apiRealm+`"`)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "unauthorized", "error_description": "no access token"})
		return
	}
	claims, err := op.VerifyAccessToken[*oidc.AccessTokenClaims](r.Context(), token, a.verifier)
	if err == nil {
		err = oidc.CheckAudience(claims, a.clientID)
	}
	if err == nil && claims.Subject == "" {
		err = oidc.ErrSubjectMissing
	}
	if err != nil {
		desc := tokenErrorDescription(err)
		// Log the reason, never the token.
		slog.InfoContext(r.Context(), "api: access token rejected", "path", r.URL.Path, "reason", err.Error())
		h.Set("WWW-Authenticate", `Bearer realm="`+apiRealm+`", error="invalid_token", error_description="`+desc+`"`)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token", "error_description": desc})
		return
	}
	writeJSON(w, http.StatusOK, meResponse{
		Sub:     claims.Subject,
		Scope:   strings.Join(claims.Scopes, " "),
		Message: "Hello from the pkce-wasm demo API: your access token is valid.",
		Time:    a.now().UTC().Format(time.RFC3339),
	})
}

// bearerToken extracts the token of an "Authorization: Bearer <token>" header (RFC 6750 §2.1;
// the scheme is case-insensitive, RFC 9110 §11.1).
func bearerToken(r *http.Request) (string, bool) {
	scheme, token, found := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	if !found || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// tokenErrorDescription maps a verification error to a fixed error_description. RFC 6750 §3
// restricts its characters (no '"' or '\'), and the library's messages may quote claim values.
func tokenErrorDescription(err error) string {
	switch {
	case errors.Is(err, oidc.ErrExpired):
		return "the access token has expired"
	case errors.Is(err, oidc.ErrIssuerInvalid):
		return "the access token was issued by another issuer"
	case errors.Is(err, oidc.ErrAudience):
		return "the access token is not meant for this client"
	case errors.Is(err, oidc.ErrSignatureInvalid), errors.Is(err, oidc.ErrSignatureInvalidPayload),
		errors.Is(err, oidc.ErrSignatureMissing), errors.Is(err, oidc.ErrSignatureMultiple):
		return "the access token signature is invalid"
	case errors.Is(err, oidc.ErrSignatureUnsupportedAlg):
		return "the access token signature algorithm is not accepted"
	case errors.Is(err, oidc.ErrParse):
		return "the access token is malformed"
	default:
		return "the access token is invalid"
	}
}

// echo serves GET /api/echo: it reports whether an Authorization header arrived, and from which
// Origin, so tests can prove the client sends no token to origins outside resourceOrigins. Any
// origin may read it (Access-Control-Allow-Origin: *), and a preflight is answered too, so a
// wrongly attached Authorization header would be observable rather than blocked.
func echo(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	switch r.Method {
	case http.MethodOptions:
		h.Set("Access-Control-Allow-Methods", "GET, HEAD")
		if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
			h.Set("Access-Control-Allow-Headers", req)
		}
		h.Set("Access-Control-Max-Age", "600")
		w.WriteHeader(http.StatusNoContent)
		return
	case http.MethodGet, http.MethodHead:
	default:
		h.Set("Allow", "GET, HEAD, OPTIONS")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	h.Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{
		"authorization": len(r.Header.Values("Authorization")) > 0,
		"origin":        r.Header.Get("Origin"),
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		slog.Warn("write JSON response", "error", err)
	}
}
