package core

import (
	"encoding/base64"
	"math"
	"strings"
	"time"

	"github.com/pkce-wasm/pkce-wasm/wasm/internal/strictjson"
)

// JWT is a decoded compact JWS (RFC 7515 §7.1). Nothing in it is trusted until the signature and
// the claims have been checked.
type JWT struct {
	Header       JOSEHeader
	Claims       IDClaims
	Payload      []byte // the decoded payload JSON, handed to JS as the user's claims
	SigningInput string // ASCII(BASE64URL(header) || "." || BASE64URL(payload))
	Signature    []byte
}

// JOSEHeader holds the JOSE header members we act on (RFC 7515 §4.1).
type JOSEHeader struct {
	Alg string `json:"alg"`
	Kid string `json:"kid"`
	Typ string `json:"typ"`
	// Crit is the crit member's JSON text when present and not null; any value is refused.
	Crit any `json:"crit"`
}

// IDClaims are the ID token claims of OIDC Core §2 that validation needs.
type IDClaims struct {
	Iss   string   `json:"iss"`
	Sub   string   `json:"sub"`
	Aud   audience `json:"aud"`
	Azp   string   `json:"azp"`
	Nonce string   `json:"nonce"`
	Exp   *numDate `json:"exp"`
	Iat   *numDate `json:"iat"`
	Nbf   *numDate `json:"nbf"`
	// AuthTime is when the user authenticated; REQUIRED when max_age was requested (§3.1.2.1).
	AuthTime *numDate `json:"auth_time"`
	Acr      string   `json:"acr"` // authentication context class satisfied (acr_values)
}

// maxJWTBytes bounds what we decode.
const maxJWTBytes = 64 << 10

// ParseJWT splits and decodes a compact JWS without verifying it.
func ParseJWT(token string) (*JWT, error) {
	if len(token) > maxJWTBytes {
		return nil, newError(CodeInvalidIDToken, "ID token is too large")
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, newError(CodeInvalidIDToken, "ID token is not a compact JWS (three parts)")
	}
	hdr, err1 := base64.RawURLEncoding.DecodeString(parts[0])
	payload, err2 := base64.RawURLEncoding.DecodeString(parts[1])
	sig, err3 := base64.RawURLEncoding.DecodeString(parts[2])
	if err1 != nil || err2 != nil || err3 != nil {
		return nil, newError(CodeInvalidIDToken, "ID token is not base64url")
	}
	j := &JWT{Payload: payload, SigningInput: parts[0] + "." + parts[1], Signature: sig}
	var err error
	if j.Header, err = readJOSEHeader(hdr); err != nil {
		return nil, newError(CodeInvalidIDToken, "ID token header is not a JSON object")
	}
	if j.Claims, err = readIDClaims(payload); err != nil {
		return nil, newError(CodeInvalidIDToken, "ID token claims are not a JSON object with the expected types")
	}
	return j, nil
}

// readJOSEHeader parses a JOSE header; names match case-insensitively (see members).
func readJOSEHeader(b []byte) (JOSEHeader, error) {
	obj, err := parseJSONObject(b)
	if err != nil {
		return JOSEHeader{}, err
	}
	m := members{obj: obj}
	h := JOSEHeader{Alg: m.str("alg"), Kid: m.str("kid"), Typ: m.str("typ")}
	if c := m.get("crit"); c.Exists() && !c.IsNull() {
		h.Crit = c.Raw()
	}
	return h, m.err
}

// readIDClaims parses ID token claims; names match case-insensitively (see members).
func readIDClaims(b []byte) (IDClaims, error) {
	obj, err := parseJSONObject(b)
	if err != nil {
		return IDClaims{}, err
	}
	m := members{obj: obj}
	c := IDClaims{Iss: m.str("iss"), Sub: m.str("sub"), Azp: m.str("azp"), Nonce: m.str("nonce"), Acr: m.str("acr")}
	var errs [5]error
	c.Aud, errs[0] = parseAudience(m.get("aud"))
	c.Exp, errs[1] = parseNumDate(m.get("exp"))
	c.Iat, errs[2] = parseNumDate(m.get("iat"))
	c.Nbf, errs[3] = parseNumDate(m.get("nbf"))
	c.AuthTime, errs[4] = parseNumDate(m.get("auth_time"))
	for _, e := range errs {
		if e != nil {
			return IDClaims{}, e
		}
	}
	return c, m.err
}

// IDTokenCheck is what an ID token is validated against.
type IDTokenCheck struct {
	Issuer   string
	ClientID string
	Nonce    string // expected nonce; "" for a refresh response without one
	Now      time.Time
	Skew     time.Duration
	// AllowedAlgs lists acceptable "alg" values; nil means the asymmetric algorithms we support.
	AllowedAlgs []string
	// MaxAge is the max_age the authorization request carried; nil when none (step 13).
	MaxAge *time.Duration
}

// SupportedAlgs are the JWS algorithms a public client can verify (RFC 7518 §3): no "none", and no
// HMAC, whose key would be the client secret a public client does not have.
var SupportedAlgs = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"}

// ValidateClaims applies OIDC Core §3.1.3.7 steps 2-3, 6 (alg), 9-11, 13 (auth_time against
// max_age) and the sub requirement of §2.
// The signature (step 6 proper) is verified separately against the provider's keys.
func (j *JWT) ValidateClaims(c IDTokenCheck) error {
	algs := c.AllowedAlgs
	if algs == nil {
		algs = SupportedAlgs
	}
	if !contains(SupportedAlgs, j.Header.Alg) || !contains(algs, j.Header.Alg) {
		return newError(CodeInvalidIDToken, "ID token alg %q is not allowed", trimForMessage(j.Header.Alg))
	}
	if j.Header.Crit != nil {
		return newError(CodeInvalidIDToken, "ID token has critical header parameters we do not understand (RFC 7515 §4.1.11)")
	}
	cl := j.Claims
	if cl.Iss != c.Issuer {
		return newError(CodeInvalidIDToken, "ID token iss does not match the issuer")
	}
	if !contains(cl.Aud, c.ClientID) {
		return newError(CodeInvalidIDToken, "ID token aud does not contain the client id")
	}
	if len(cl.Aud) > 1 && cl.Azp == "" {
		return newError(CodeInvalidIDToken, "ID token has several audiences but no azp")
	}
	if cl.Azp != "" && cl.Azp != c.ClientID {
		return newError(CodeInvalidIDToken, "ID token azp is not the client id")
	}
	if cl.Sub == "" {
		return newError(CodeInvalidIDToken, "ID token has no sub")
	}
	if cl.Exp == nil || cl.Iat == nil {
		return newError(CodeInvalidIDToken, "ID token lacks exp or iat")
	}
	if !c.Now.Before(cl.Exp.Time().Add(c.Skew)) {
		return newError(CodeInvalidIDToken, "ID token has expired")
	}
	if cl.Iat.Time().After(c.Now.Add(c.Skew)) {
		return newError(CodeInvalidIDToken, "ID token was issued in the future (check the clock)")
	}
	if cl.Nbf != nil && cl.Nbf.Time().After(c.Now.Add(c.Skew)) {
		return newError(CodeInvalidIDToken, "ID token is not valid yet (nbf)")
	}
	if c.Nonce != "" && cl.Nonce != c.Nonce {
		return newError(CodeInvalidIDToken, "ID token nonce does not match the one sent")
	}
	return checkMaxAge(&cl, c.MaxAge, c.Now, c.Skew)
}

// audience is "aud", a string or an array of strings (RFC 7519 §4.1.3).
type audience []string

// parseAudience reads aud: absent or null gives nil, a string a list of one, an array of strings
// (a null element reading as "") the list.
func parseAudience(v strictjson.Value) (audience, error) {
	if !v.Exists() || v.IsNull() {
		return nil, nil
	}
	if s, ok := v.Str(); ok {
		return audience{s}, nil
	}
	l, ok := v.Strings()
	if !ok {
		return nil, errMemberType
	}
	return l, nil
}

// numDate is a JWT NumericDate (RFC 7519 §2): seconds since the epoch, possibly fractional.
type numDate float64

// parseNumDate reads a NumericDate: absent or null gives nil; otherwise a number from 0 to 1e11.
func parseNumDate(v strictjson.Value) (*numDate, error) {
	if !v.Exists() || v.IsNull() {
		return nil, nil
	}
	f, ok := v.Float64()
	if !ok {
		return nil, errMemberType
	}
	if math.IsNaN(f) || math.IsInf(f, 0) || f < 0 || f > 1e11 {
		return nil, constError("NumericDate out of range")
	}
	n := numDate(f)
	return &n, nil
}

func (n numDate) Time() time.Time {
	sec, frac := math.Modf(float64(n))
	return time.Unix(int64(sec), int64(frac*1e9))
}
