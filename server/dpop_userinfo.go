package main

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
)

// DPoP at the OP's UserInfo endpoint (RFC 9449 §7: UserInfo is a protected resource). zitadel's
// /userinfo reads only "Authorization: Bearer <token>", so without this a DPoP client could not
// call it (it must present a bound token with the DPoP scheme, §7.1), and a bound token replayed
// as Bearer was accepted there (§7.2 forbids it). userinfo, run by dpopOP.interceptor:
//
//   - "DPoP <token>" plus a proof: the proof is verified for this request (htm, htu = the
//     UserInfo URL, ath, iat, jti, nonce in nonce mode) by the key the token's cnf.jkt names;
//     the request then goes on to zitadel as "Bearer <token>", which verifies the token itself
//     (signature, expiry, record). cnf.jkt is read from the JWT before that verification: a forged
//     token fails there, so it gains nothing.
//   - "Bearer <token>" (or an access_token form parameter) with a cnf.jkt: refused, 401
//     invalid_token with a DPoP challenge.
//   - anything else: unchanged.
//
// Errors are 401 with `WWW-Authenticate: DPoP …, error="…"` (and DPoP-Nonce in nonce mode, §9).
func (d *dpopOP) userinfo(w http.ResponseWriter, r *http.Request, next http.Handler) {
	nonce := d.nonce.current()
	if nonce != "" {
		w.Header().Set("DPoP-Nonce", nonce) // §9: the nonce to use next
	}
	scheme, token, ok := accessToken(r)
	if !ok {
		// zitadel also takes access_token as a form parameter (RFC 6750 §2.2): not for bound ones.
		if err := r.ParseForm(); err == nil && unverifiedCNFJKT(r.Form.Get("access_token")) != "" {
			userinfoChallenge(w, "invalid_token", "the access token is DPoP-bound: send it with the DPoP scheme and a DPoP proof")
			return
		}
		next.ServeHTTP(w, r)
		return
	}
	jkt := unverifiedCNFJKT(token)
	switch {
	case scheme == schemeBearer && jkt == "":
		next.ServeHTTP(w, r)
		return
	case scheme == schemeBearer:
		userinfoChallenge(w, "invalid_token", "the access token is DPoP-bound: send it with the DPoP scheme and a DPoP proof")
		return
	case jkt == "":
		userinfoChallenge(w, "invalid_token", "the access token is not DPoP-bound: send it with the Bearer scheme")
		return
	}
	if _, err := d.verifier.verify(r.Header.Values("DPoP"), dpopExpect{
		method: r.Method, url: d.userinfoURL, nonce: nonce, accessToken: token, jkt: jkt,
	}); err != nil {
		de := err.(*dpopError)
		userinfoChallenge(w, de.code, de.description)
		return
	}
	r2 := r.Clone(r.Context())
	r2.Header.Set("Authorization", "Bearer "+token)
	r2.Header.Del("DPoP")
	next.ServeHTTP(w, r2)
}

// userinfoChallenge writes a 401 with a DPoP challenge (RFC 9449 §7.1). description must not
// contain '"' or '\'.
func userinfoChallenge(w http.ResponseWriter, code, description string) {
	w.Header().Set("WWW-Authenticate", `DPoP algs="`+dpopAlg+`", error="`+code+`", error_description="`+description+`"`)
	writeJSON(w, http.StatusUnauthorized, map[string]string{"error": code, "error_description": description})
}

// unverifiedCNFJKT is cnf.jkt of a JWT's payload, read without verifying the JWT ("" when the
// token is not a JWT or has none).
func unverifiedCNFJKT(token string) string {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return ""
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	var c struct {
		CNF struct {
			JKT string `json:"jkt"`
		} `json:"cnf"`
	}
	if json.Unmarshal(b, &c) != nil {
		return ""
	}
	return c.CNF.JKT
}
