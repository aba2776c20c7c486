package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/zitadel/oidc/v3/pkg/op"
)

// DPoP (RFC 9449) at the OP. zitadel's op package has none on its token endpoint, so dpopOP is an
// interceptor inside the provider's router (after its CORS handler, so that its own error
// responses are readable cross-origin too):
//
//   - discovery gets dpop_signing_alg_values_supported: ["ES256"] (§5.1);
//   - /authorize remembers a dpop_jkt parameter (§10) with the auth request (devStorage), and a
//     code from such a request is only exchanged with a proof by that key (§10.1);
//   - /oauth/token with a DPoP header verifies the proof (§4.3, dpop.go), puts
//     cnf {"jkt": thumbprint} into the JWT access token (§6.1, devStorage), answers
//     token_type "DPoP" (§5) and binds the refresh token to the key (§5): refreshing it later
//     needs a proof by the same key. Errors: 400 {"error":"invalid_dpop_proof"}, or
//     {"error":"use_dpop_nonce"} with a DPoP-Nonce header when nonce mode is on (§8);
//   - /userinfo (a resource server too, §7): a DPoP-bound access token needs the DPoP scheme
//     and a proof by its key (then it is handed to the op package as a Bearer token); a bound
//     token sent as Bearer or as a form parameter is refused with 401 and a DPoP challenge;
//   - without a DPoP header (and no binding) everything stays Bearer, as before.
//
// The provider's CORS allows the DPoP request header and exposes DPoP-Nonce (newProvider).
type dpopOP struct {
	verifier *dpopVerifier
	nonce    *dpopNonce
	store    *devStorage

	// Set by init once the provider exists.
	tokenPath, tokenURL, authorizePath, discoveryPath string
	userinfoPath, userinfoURL                         string

	mu         sync.Mutex
	refreshJKT map[string]string // refresh token → the key thumbprint it is bound to
}

// maxDPoPBinding bounds the refresh token bindings kept.
const maxDPoPBinding = 1 << 14

func newDPoPOP(st *devStorage) *dpopOP {
	return &dpopOP{verifier: newDPoPVerifier(), nonce: &dpopNonce{}, store: st, refreshJKT: map[string]string{}}
}

func (d *dpopOP) init(c Config, p *op.Provider) {
	d.tokenPath = p.TokenEndpoint().Relative()
	d.tokenURL = p.TokenEndpoint().Absolute(c.Issuer)
	d.authorizePath = p.AuthorizationEndpoint().Relative()
	d.discoveryPath = "/.well-known/openid-configuration" // op.NewProvider mounts it here
	d.userinfoPath = p.UserinfoEndpoint().Relative()
	d.userinfoURL = p.UserinfoEndpoint().Absolute(c.Issuer)
}

type dpopJKTContextKey struct{}          // the proof key's thumbprint at the token endpoint
type dpopAuthorizeJKTContextKey struct{} // dpop_jkt at the authorization endpoint

// dpopJKTFromContext is the thumbprint of the token request's verified proof ("" without one).
func dpopJKTFromContext(ctx context.Context) string {
	v, _ := ctx.Value(dpopJKTContextKey{}).(string)
	return v
}

// dpopAuthorizeJKTFromContext is the authorization request's dpop_jkt parameter ("" without).
func dpopAuthorizeJKTFromContext(ctx context.Context) (string, bool) {
	v, ok := ctx.Value(dpopAuthorizeJKTContextKey{}).(string)
	return v, ok
}

// interceptor is the op.HttpInterceptor.
func (d *dpopOP) interceptor(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == d.discoveryPath && r.Method == http.MethodGet:
			d.discovery(w, r, next)
		case r.URL.Path == d.authorizePath:
			if err := r.ParseForm(); err == nil && r.Form.Has("dpop_jkt") {
				r = r.WithContext(context.WithValue(r.Context(), dpopAuthorizeJKTContextKey{}, r.Form.Get("dpop_jkt")))
			}
			next.ServeHTTP(w, r)
		case r.URL.Path == d.tokenPath && r.Method == http.MethodPost:
			d.token(w, r, next)
		case r.URL.Path == d.userinfoPath:
			d.userinfo(w, r, next)
		default:
			next.ServeHTTP(w, r)
		}
	})
}

// discovery adds dpop_signing_alg_values_supported (RFC 9449 §5.1) to the discovery document.
func (d *dpopOP) discovery(w http.ResponseWriter, r *http.Request, next http.Handler) {
	buf := &responseBuffer{header: http.Header{}, status: http.StatusOK}
	next.ServeHTTP(buf, r)
	if buf.status == http.StatusOK {
		if err := buf.editJSON(func(doc map[string]json.RawMessage) error {
			doc["dpop_signing_alg_values_supported"] = mustJSON([]string{dpopAlg})
			return nil
		}); err != nil {
			http.Error(w, "discovery: "+err.Error(), http.StatusInternalServerError)
			return
		}
	}
	buf.writeTo(w)
}

// token checks the DPoP proof and the bindings of a token request, then lets the OP answer.
func (d *dpopOP) token(w http.ResponseWriter, r *http.Request, next http.Handler) {
	form, ok := peekForm(r)
	if !ok {
		tokenError(w, "invalid_request", "the token request body is not a form of at most 64 KiB")
		return
	}
	nonce := d.nonce.current()
	if nonce != "" {
		w.Header().Set("DPoP-Nonce", nonce) // §8: the nonce to use next
	}
	jkt := ""
	if proofs := r.Header.Values("DPoP"); len(proofs) > 0 {
		proof, err := d.verifier.verify(proofs, dpopExpect{method: http.MethodPost, url: d.tokenURL, nonce: nonce})
		if err != nil {
			de := asDPoPError(err)
			tokenError(w, de.code, de.description)
			return
		}
		jkt = proof.jkt
	}
	var refreshToken string
	switch form.Get("grant_type") {
	case "authorization_code":
		// §10.1: a code whose authorization request had dpop_jkt needs a proof by that key.
		if want := d.store.dpopJKTForCode(r.Context(), form.Get("code")); want != "" {
			if jkt == "" {
				tokenError(w, dpopErrInvalidProof, "the authorization request had dpop_jkt: a DPoP proof by that key is required")
				return
			}
			if err := dpopCheckJKT(jkt, want); err != nil {
				tokenError(w, dpopErrInvalidProof, "the proof key does not match the authorization request's dpop_jkt")
				return
			}
		}
	case "refresh_token":
		// §5: a refresh token issued with DPoP is bound to the key (public clients).
		refreshToken = form.Get("refresh_token")
		d.mu.Lock()
		bound := d.refreshJKT[refreshToken]
		d.mu.Unlock()
		if bound != "" && jkt == "" {
			tokenError(w, dpopErrInvalidProof, "the refresh token is DPoP-bound: a DPoP proof by its key is required")
			return
		}
		if bound != "" && dpopCheckJKT(jkt, bound) != nil {
			tokenError(w, "invalid_grant", "the refresh token is bound to another DPoP key")
			return
		}
	}
	if jkt == "" {
		next.ServeHTTP(w, r)
		return
	}
	buf := &responseBuffer{header: http.Header{}, status: http.StatusOK}
	next.ServeHTTP(buf, r.WithContext(context.WithValue(r.Context(), dpopJKTContextKey{}, jkt)))
	if buf.status == http.StatusOK {
		var issued string
		if err := buf.editJSON(func(doc map[string]json.RawMessage) error {
			doc["token_type"] = mustJSON("DPoP")
			_ = json.Unmarshal(doc["refresh_token"], &issued)
			return nil
		}); err != nil {
			http.Error(w, "token response: "+err.Error(), http.StatusInternalServerError)
			return
		}
		d.bindRefreshToken(refreshToken, issued, jkt)
	}
	buf.writeTo(w)
}

// userinfo checks DPoP for a bound access token at the userinfo endpoint (RFC 9449 §7.1). The
// op package verifies the token itself afterwards; cnf.jkt is read here from its unverified
// payload, which is enough: a forged token fails that verification anyway.
func (d *dpopOP) userinfo(w http.ResponseWriter, r *http.Request, next http.Handler) {
	nonce := d.nonce.current()
	if nonce != "" {
		w.Header().Set("DPoP-Nonce", nonce)
	}
	scheme, token, ok := accessToken(r)
	if !ok {
		if r.Header.Get("Authorization") != "" || r.ParseForm() != nil {
			next.ServeHTTP(w, r)
			return
		}
		token = r.Form.Get("access_token") // RFC 6750 §2.2
	}
	jkt := unverifiedCNFJKT(token)
	switch {
	case jkt == "" && scheme == schemeDPoP:
		writeDPoPChallenge(w, "", "invalid_token", "the access token is not DPoP-bound: send it with the Bearer scheme")
		return
	case jkt == "":
		next.ServeHTTP(w, r)
		return
	case scheme != schemeDPoP:
		writeDPoPChallenge(w, "", "invalid_token", "the access token is DPoP-bound: send it with the DPoP scheme and a DPoP proof")
		return
	}
	if _, err := d.verifier.verify(r.Header.Values("DPoP"), dpopExpect{
		method: r.Method, url: d.userinfoURL, nonce: nonce, accessToken: token, jkt: jkt,
	}); err != nil {
		de := asDPoPError(err)
		writeDPoPChallenge(w, "", de.code, de.description)
		return
	}
	r.Header.Set("Authorization", schemeBearer+" "+token) // what the op package understands
	next.ServeHTTP(w, r)
}

// unverifiedCNFJKT is cnf.jkt of a JWT's payload, not verified ("" if none or not a JWT).
func unverifiedCNFJKT(token string) string {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return ""
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	var claims struct {
		CNF struct {
			JKT string `json:"jkt"`
		} `json:"cnf"`
	}
	if json.Unmarshal(payload, &claims) != nil {
		return ""
	}
	return claims.CNF.JKT
}

// bindRefreshToken binds the newly issued refresh token to jkt and forgets the rotated one.
func (d *dpopOP) bindRefreshToken(old, issued, jkt string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if old != "" && old != issued {
		delete(d.refreshJKT, old)
	}
	if issued == "" {
		return
	}
	if len(d.refreshJKT) >= maxDPoPBinding {
		for k := range d.refreshJKT { // drop an arbitrary one: a dev server
			delete(d.refreshJKT, k)
			break
		}
	}
	d.refreshJKT[issued] = jkt
}

// tokenError writes an RFC 6749 §5.2 error response (status 400).
func tokenError(w http.ResponseWriter, code, description string) {
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusBadRequest, map[string]string{"error": code, "error_description": description})
}

// peekForm parses a form-encoded request body, plus the query as r.ParseForm would (body values
// first), and restores r.Body unconsumed.
func peekForm(r *http.Request) (url.Values, bool) {
	if r.Body == nil || r.Body == http.NoBody {
		return r.URL.Query(), true
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxGrantPeek+1))
	rest := r.Body
	r.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(body), rest), rest}
	if err != nil || len(body) > maxGrantPeek {
		return nil, false
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, false
	}
	for k, v := range r.URL.Query() {
		form[k] = append(form[k], v...)
	}
	return form, true
}

// nonceHook serves /__test/dpop-nonce (test hooks, on each origin): GET reports
// {"on": bool, "nonce": "<current nonce or empty>"}; POST ?on=1 turns nonce mode on with a fresh
// nonce (every call: a new one, so tests can also rotate it), POST ?on=0 turns it off.
func nonceHook(n *dpopNonce) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if openCORS(w, r, "GET, HEAD, POST") {
			return
		}
		switch r.Method {
		case http.MethodGet, http.MethodHead:
		case http.MethodPost:
			on, err := strconv.ParseBool(r.URL.Query().Get("on"))
			if err != nil {
				writeJSON(w, http.StatusBadRequest, map[string]string{"error": "want ?on=1 or ?on=0"})
				return
			}
			if _, err := n.set(on); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
		default:
			w.Header().Set("Allow", "GET, HEAD, POST")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		v := n.current()
		writeJSON(w, http.StatusOK, map[string]any{"on": v != "", "nonce": v})
	})
}
