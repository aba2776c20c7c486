package core

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/pkce-wasm/pkce-wasm/wasm/internal/sha256"
)

// DPoP proofs (RFC 9449 §4), built here in pure Go; the private key never enters Go: signing is
// an injected function (WebCrypto ECDSA P-256 in the browser, with a non-extractable key).

// DPoPAlg is the one proof algorithm the client uses (RFC 9449 §4.2, RFC 7518 §3.4: ECDSA P-256
// with SHA-256, signature R||S).
const DPoPAlg = "ES256"

// DPoPPublicKey is the public half of an ES256 proof key: the members of an EC JWK
// (RFC 7518 §6.2.1) that a proof header carries, and nothing else (no "d", no "key_ops").
type DPoPPublicKey struct {
	Crv string // "P-256"
	X   string // base64url, 32 bytes
	Y   string // base64url, 32 bytes
}

// DPoPKey is the client's proof-of-possession key: its public JWK and a signer for the private
// half, which stays where it was generated.
type DPoPKey struct {
	Public DPoPPublicKey
	// Sign returns the JWS signature of signingInput (RFC 7515 §5.1): for ES256 the 64-byte
	// R||S of ECDSA P-256 over SHA-256(signingInput) (RFC 7518 §3.4). WebCrypto's ECDSA sign
	// produces exactly that.
	Sign func(ctx context.Context, signingInput []byte) ([]byte, error)
}

// DPoPKeyStore keeps the proof key across page loads and redirects (the code is bound to the key
// at the authorization request, RFC 9449 §10, and exchanged after the redirect).
type DPoPKeyStore interface {
	// Load returns the stored key, generating and storing one when there is none.
	Load(ctx context.Context) (*DPoPKey, error)
	// Delete forgets the key (logout): the next Load generates a new one.
	Delete(ctx context.Context) error
}

// checkDPoPPublicKey: the key must be a P-256 key with 32-byte coordinates.
func checkDPoPPublicKey(k DPoPPublicKey) error {
	if k.Crv != "P-256" {
		return newError(CodeDPoPUnsupported, "the DPoP key is not a P-256 key")
	}
	for _, c := range []string{k.X, k.Y} {
		b, err := base64.RawURLEncoding.DecodeString(c)
		if err != nil || len(b) != 32 {
			return newError(CodeDPoPUnsupported, "the DPoP key's coordinates are not 32-byte base64url values")
		}
	}
	return nil
}

// JWKThumbprint is the RFC 7638 SHA-256 thumbprint of a public JWK, base64url-encoded (§3): the
// JSON object of the key type's required members only (§3.2: EC crv, kty, x, y; RSA e, kty, n;
// OKP crv, kty, x), in lexicographic order, without whitespace, hashed with SHA-256. It is the
// dpop_jkt of an authorization request (RFC 9449 §10) and the cnf.jkt of a bound token (§6.1).
func JWKThumbprint(jwk map[string]string) (string, error) {
	var names []string
	switch jwk["kty"] {
	case "EC":
		names = []string{"crv", "kty", "x", "y"}
	case "RSA":
		names = []string{"e", "kty", "n"}
	case "OKP":
		names = []string{"crv", "kty", "x"}
	default:
		return "", newError(CodeInternal, "no thumbprint for key type %q", trimForMessage(jwk["kty"]))
	}
	var b strings.Builder
	b.WriteByte('{')
	for i, n := range names {
		v, ok := jwk[n]
		if !ok || v == "" {
			return "", newError(CodeInternal, "JWK lacks the required member %q", n)
		}
		if i > 0 {
			b.WriteByte(',')
		}
		nj, _ := json.Marshal(n)
		vj, _ := json.Marshal(v)
		b.Write(nj)
		b.WriteByte(':')
		b.Write(vj)
	}
	b.WriteByte('}')
	sum := sha256.Sum256([]byte(b.String()))
	return base64.RawURLEncoding.EncodeToString(sum[:]), nil
}

// Thumbprint is the RFC 7638 thumbprint of k (see JWKThumbprint).
func (k DPoPPublicKey) Thumbprint() (string, error) {
	return JWKThumbprint(map[string]string{"kty": "EC", "crv": k.Crv, "x": k.X, "y": k.Y})
}

// DPoPHTU is the htu claim for a request to rawURL (RFC 9449 §4.2: "The HTTP target URI, without
// query and fragment parts"): an absolute http(s) URL, scheme and host lower-cased, the default
// port dropped, an empty path made "/" (RFC 3986 §6.2.2, §6.2.3 — how a server compares it,
// §4.3 step 10). URLs with user info are refused: they are never a request target.
func DPoPHTU(rawURL string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" || u.User != nil || u.Opaque != "" {
		return "", newError(CodeInvalidConfig, "a DPoP proof needs an absolute http(s) URL without user info")
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return "", newError(CodeInvalidConfig, "a DPoP proof needs an absolute http(s) URL")
	}
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if (scheme == "http" && port == "80") || (scheme == "https" && port == "443") {
		port = ""
	}
	if strings.Contains(host, ":") { // IPv6 literal
		host = "[" + host + "]"
	}
	if port != "" {
		host += ":" + port
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	return scheme + "://" + host + path, nil
}

// DPoPAth is the ath claim (RFC 9449 §4.2): base64url(SHA-256(ASCII access token)).
func DPoPAth(accessToken string) string {
	sum := sha256.Sum256([]byte(accessToken))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// maxDPoPNonce bounds a server nonce we accept and echo back.
const maxDPoPNonce = 1024

// ValidDPoPNonce reports whether s is a syntactically valid DPoP nonce (RFC 9449 §8.1:
// nonce = 1*NQCHAR, NQCHAR = %x21 / %x23-5B / %x5D-7E), at most 1 KiB.
func ValidDPoPNonce(s string) bool {
	if s == "" || len(s) > maxDPoPNonce {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == 0x21 || c >= 0x23 && c <= 0x5b || c >= 0x5d && c <= 0x7e) {
			return false
		}
	}
	return true
}

// DPoPProofParams are the request-specific inputs of one proof.
type DPoPProofParams struct {
	Method      string    // htm: the request's method, e.g. "POST"
	URL         string    // the request URL; htu is derived from it (DPoPHTU)
	AccessToken string    // when set (resource requests, §7), the proof carries ath
	Nonce       string    // when set (§8, §9), the server-provided nonce
	Now         time.Time // iat
}

type dpopHeader struct {
	Typ string        `json:"typ"`
	Alg string        `json:"alg"`
	JWK dpopHeaderJWK `json:"jwk"`
}

type dpopHeaderJWK struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
}

type dpopClaims struct {
	JTI   string `json:"jti"`
	HTM   string `json:"htm"`
	HTU   string `json:"htu"`
	IAT   int64  `json:"iat"`
	ATH   string `json:"ath,omitempty"`
	Nonce string `json:"nonce,omitempty"`
}

// dpopJTIBytes is the randomness of a jti: 128 bits, so that two proofs never share one (§11.1).
const dpopJTIBytes = 16

// BuildDPoPProof returns a DPoP proof JWT (RFC 9449 §4.2) for one request, signed by key:
// header typ "dpop+jwt", alg "ES256", jwk the public key (kty, crv, x, y only); claims a fresh
// random jti, htm, htu (no query or fragment), iat, and ath and nonce when given. rnd nil means
// the platform's randomness.
func BuildDPoPProof(ctx context.Context, key *DPoPKey, p DPoPProofParams, rnd io.Reader) (string, error) {
	if key == nil || key.Sign == nil {
		return "", newError(CodeDPoPUnsupported, "no DPoP key")
	}
	if err := checkDPoPPublicKey(key.Public); err != nil {
		return "", err
	}
	if !isHTTPMethod(p.Method) {
		return "", newError(CodeInvalidConfig, "a DPoP proof needs an HTTP method")
	}
	htu, err := DPoPHTU(p.URL)
	if err != nil {
		return "", err
	}
	if p.Nonce != "" && !ValidDPoPNonce(p.Nonce) {
		return "", newError(CodeInvalidDPoPNonce, "the DPoP nonce is malformed (RFC 9449 §8.1)")
	}
	jti, err := randomToken(rnd, dpopJTIBytes)
	if err != nil {
		return "", err
	}
	claims := dpopClaims{JTI: jti, HTM: p.Method, HTU: htu, IAT: p.Now.Unix(), Nonce: p.Nonce}
	if p.AccessToken != "" {
		claims.ATH = DPoPAth(p.AccessToken)
	}
	hdr := dpopHeader{Typ: "dpop+jwt", Alg: DPoPAlg,
		JWK: dpopHeaderJWK{Kty: "EC", Crv: key.Public.Crv, X: key.Public.X, Y: key.Public.Y}}
	hb, err := json.Marshal(hdr)
	if err != nil {
		return "", wrapError(CodeInternal, err, "cannot encode the DPoP header")
	}
	cb, err := json.Marshal(claims)
	if err != nil {
		return "", wrapError(CodeInternal, err, "cannot encode the DPoP claims")
	}
	input := base64.RawURLEncoding.EncodeToString(hb) + "." + base64.RawURLEncoding.EncodeToString(cb)
	sig, err := key.Sign(ctx, []byte(input))
	if err != nil {
		return "", wrapError(CodeDPoPUnsupported, err, "cannot sign the DPoP proof: %v", err)
	}
	if len(sig) != 64 {
		return "", newError(CodeDPoPUnsupported, "the DPoP signer returned %d bytes, not a 64-byte ES256 signature", len(sig))
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

// isHTTPMethod: a method is an RFC 9110 §9.1 token; we accept the upper-case letters every
// registered method uses.
func isHTTPMethod(m string) bool {
	if m == "" || len(m) > 32 {
		return false
	}
	for i := 0; i < len(m); i++ {
		if m[i] < 'A' || m[i] > 'Z' {
			return false
		}
	}
	return true
}

// DPoPNonceChallenge reports whether a resource server's 401 asks for a (new) nonce: a DPoP
// challenge with error="use_dpop_nonce" (RFC 9449 §9) in one of the WWW-Authenticate values.
func DPoPNonceChallenge(headers ...string) bool {
	return schemeError("DPoP", headers...) == CodeUseDPoPNonce
}

// InvalidTokenChallenge reports whether a 401 says the access token is no good
// (error="invalid_token" in a Bearer, RFC 6750 §3.1, or DPoP, RFC 9449 §7.1, challenge).
func InvalidTokenChallenge(headers ...string) bool {
	return schemeError("Bearer", headers...) == CodeInvalidToken || schemeError("DPoP", headers...) == CodeInvalidToken
}

// schemeError is the error parameter of the first challenge of scheme, as BearerError does for
// Bearer.
func schemeError(scheme string, headers ...string) string {
	for _, h := range headers {
		cs, err := ParseWWWAuthenticate(h)
		if err != nil {
			continue
		}
		for _, c := range cs {
			if strings.EqualFold(c.Scheme, scheme) {
				if e := c.Params["error"]; validOAuthErrorCode(e) {
					return e
				}
				return ""
			}
		}
	}
	return ""
}
