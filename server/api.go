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
	dpop      *dpopVerifier // DPoP proofs of bound tokens (RFC 9449 §7)
	nonce     *dpopNonce    // nonce mode (§9), switched by /__test/dpop-nonce
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
		dpop:      newDPoPVerifier(),
		nonce:     &dpopNonce{},
	}
}

type meResponse struct {
	Sub     string `json:"sub"`
	Scope   string `json:"scope"`
	Message string `json:"message"`
	Time    string `json:"time"`
	// Scheme is the Authorization scheme the request used: "Bearer" or "DPoP" (never the token).
	Scheme string `json:"scheme"`
}

// me serves GET /api/me: the caller's identity, from a valid access token: Bearer (RFC 6750),
// or DPoP-bound (RFC 9449 §7) with the DPoP scheme and a proof. CORS allows the app origin only,
// with the Authorization and DPoP headers.
func (a *protectedAPI) me(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Add("Vary", "Origin")
	if origin := r.Header.Get("Origin"); origin == a.appOrigin {
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Expose-Headers", apiExposedHeaders)
	}
	switch r.Method {
	case http.MethodOptions: // CORS preflight (Fetch standard, CORS protocol)
		if h.Get("Access-Control-Allow-Origin") != "" {
			h.Set("Access-Control-Allow-Methods", "GET, HEAD")
			h.Set("Access-Control-Allow-Headers", "Authorization, DPoP")
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
	claims, ok := a.authenticate(w, r)
	if !ok {
		return
	}
	scheme, _, _ := accessToken(r)
	writeJSON(w, http.StatusOK, meResponse{
		Scheme:  scheme,
		Sub:     claims.Subject,
		Scope:   strings.Join(claims.Scopes, " "),
		Message: "Hello from the pkce-wasm demo API: your access token is valid.",
		Time:    a.now().UTC().Format(time.RFC3339),
	})
}

// apiExposedHeaders are the response headers the app origin's scripts may read.
const apiExposedHeaders = "WWW-Authenticate, DPoP-Nonce"

// authenticate checks the request's access token. On failure it writes the 401 and returns false.
//
//   - "Authorization: Bearer <token>" (RFC 6750 §2.1): a JWT from the OP without cnf;
//   - "Authorization: DPoP <token>" plus a DPoP proof (RFC 9449 §7.1): a JWT with cnf.jkt, and a
//     proof for this request (htm, htu = app origin + path, ath, iat, jti, nonce in nonce mode)
//     by the key cnf.jkt names. A bound token sent as Bearer is refused (§7.2).
func (a *protectedAPI) authenticate(w http.ResponseWriter, r *http.Request) (*oidc.AccessTokenClaims, bool) {
	h := w.Header()
	nonce := a.nonce.current()
	if nonce != "" {
		h.Set("DPoP-Nonce", nonce) // §9: the nonce to use next
	}
	scheme, token, ok := accessToken(r)
	if !ok {
		// RFC 6750 §3.1: no error code when the request has no authentication information.
		h.Set("WWW-Authenticate", `Bearer realm="`+apiRealm+`"`)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "unauthorized", "error_description": "no access token"})
		return nil, false
	}
	claims, err := op.VerifyAccessToken[*oidc.AccessTokenClaims](r.Context(), token, a.verifier)
	if err == nil {
		err = oidc.CheckAudience(claims, a.clientID)
	}
	if err == nil && claims.Subject == "" {
		err = oidc.ErrSubjectMissing
	}
	if err != nil {
		// Log the reason, never the token.
		slog.InfoContext(r.Context(), "api: access token rejected", "path", r.URL.Path, "reason", err.Error())
		a.unauthorized(w, scheme, "invalid_token", tokenErrorDescription(err))
		return nil, false
	}
	jkt := cnfJKT(claims)
	switch {
	case jkt == "" && scheme == schemeBearer:
		return claims, true
	case jkt == "":
		a.unauthorized(w, scheme, "invalid_token", "the access token is not DPoP-bound: send it with the Bearer scheme")
		return nil, false
	case scheme == schemeBearer:
		a.unauthorized(w, schemeDPoP, "invalid_token", "the access token is DPoP-bound: send it with the DPoP scheme and a DPoP proof")
		return nil, false
	}
	_, err = a.dpop.verify(r.Header.Values("DPoP"), dpopExpect{
		method:      r.Method,
		url:         a.appOrigin + r.URL.Path,
		nonce:       nonce,
		accessToken: token,
		jkt:         jkt,
	})
	if err != nil {
		de := asDPoPError(err)
		slog.InfoContext(r.Context(), "api: DPoP proof rejected", "path", r.URL.Path, "reason", de.description)
		a.unauthorized(w, schemeDPoP, de.code, de.description)
		return nil, false
	}
	return claims, true
}

const (
	schemeBearer = "Bearer"
	schemeDPoP   = "DPoP"
)

// unauthorized writes a 401 with a challenge of the given scheme (RFC 6750 §3, RFC 9449 §7.1).
// description must not contain a double quote or a backslash.
func (a *protectedAPI) unauthorized(w http.ResponseWriter, scheme, code, description string) {
	if scheme == schemeDPoP {
		writeDPoPChallenge(w, apiRealm, code, description)
		return
	}
	w.Header().Set("WWW-Authenticate", `Bearer realm="`+apiRealm+`", error="`+code+`", error_description="`+description+`"`)
	writeJSON(w, http.StatusUnauthorized, map[string]string{"error": code, "error_description": description})
}

// writeDPoPChallenge writes a 401 with a DPoP challenge (RFC 9449 §7.1); realm may be empty.
func writeDPoPChallenge(w http.ResponseWriter, realm, code, description string) {
	challenge := `DPoP `
	if realm != "" {
		challenge += `realm="` + realm + `", `
	}
	challenge += `algs="` + dpopAlg + `", error="` + code + `", error_description="` + description + `"`
	w.Header().Set("WWW-Authenticate", challenge)
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusUnauthorized, map[string]string{"error": code, "error_description": description})
}

// cnfJKT is the cnf.jkt claim of an access token (RFC 9449 §6.1), "" without one.
func cnfJKT(claims *oidc.AccessTokenClaims) string {
	cnf, _ := claims.Claims["cnf"].(map[string]any)
	jkt, _ := cnf["jkt"].(string)
	return jkt
}

// accessToken extracts the scheme (Bearer or DPoP) and token of the Authorization header
// (RFC 6750 §2.1, RFC 9449 §7.1; the scheme is case-insensitive, RFC 9110 §11.1).
func accessToken(r *http.Request) (scheme, token string, ok bool) {
	s, t, found := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	t = strings.TrimSpace(t)
	if !found || t == "" {
		return "", "", false
	}
	switch {
	case strings.EqualFold(s, schemeBearer):
		return schemeBearer, t, true
	case strings.EqualFold(s, schemeDPoP):
		return schemeDPoP, t, true
	}
	return "", "", false
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
