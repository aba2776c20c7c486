package main

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// DPoP proof verification (RFC 9449, "OAuth 2.0 Demonstrating Proof of Possession"), shared by
// the OP's token endpoint (dpop_op.go) and the demo API (api.go). verify runs the checks of
// §4.3 in order, one function each, plus the resource server's (§7) and the authorization
// code binding's (§10.1) when asked for.

const (
	dpopProofType = "dpop+jwt"
	// dpopAlg is the only proof algorithm accepted (and advertised in discovery).
	dpopAlg = "ES256"
	// dpopIATWindow is how far a proof's iat may be from the server's clock (§4.3, §11.1).
	dpopIATWindow = 60 * time.Second
	// maxDPoPProof bounds the size of a proof (header value).
	maxDPoPProof = 8 << 10
	// dpopErrInvalidProof and dpopErrUseNonce are the error codes of §5 / §7.1 and §8 / §9.
	dpopErrInvalidProof = "invalid_dpop_proof"
	dpopErrUseNonce     = "use_dpop_nonce"
)

// dpopError is a refused proof: code is invalid_dpop_proof or use_dpop_nonce.
type dpopError struct {
	code, description string
}

func (e *dpopError) Error() string { return e.code + ": " + e.description }

// asDPoPError is err as a *dpopError (any other error counts as an invalid proof).
func asDPoPError(err error) *dpopError {
	var de *dpopError
	if errors.As(err, &de) {
		return de
	}
	return &dpopError{code: dpopErrInvalidProof, description: "the proof is invalid"}
}

func invalidProof(format string, args ...any) error {
	return &dpopError{code: dpopErrInvalidProof, description: fmt.Sprintf(format, args...)}
}

// dpopExpect is what the request the proof came with requires of it.
type dpopExpect struct {
	method      string // htm: the request's HTTP method
	url         string // htu: the request's URL (query and fragment are ignored)
	nonce       string // when not empty, the nonce the server currently requires (§8, §9)
	accessToken string // when not empty, the proof must carry ath for it (§7, resource server)
	jkt         string // when not empty, the thumbprint the key must have (§7.1 cnf.jkt, §10.1 dpop_jkt)
}

// dpopProof is a verified proof.
type dpopProof struct {
	jkt    string // RFC 7638 SHA-256 thumbprint of the proof's key, base64url
	claims dpopClaims
}

// dpopClaims are the proof's claims (§4.2).
type dpopClaims struct {
	JTI   string          `json:"jti"`
	HTM   string          `json:"htm"`
	HTU   string          `json:"htu"`
	IAT   json.RawMessage `json:"iat"`
	ATH   string          `json:"ath"`
	Nonce string          `json:"nonce"`
}

// dpopHeader is the proof's JOSE header (§4.2).
type dpopHeader struct {
	Typ string          `json:"typ"`
	Alg string          `json:"alg"`
	JWK json.RawMessage `json:"jwk"`
}

// dpopVerifier checks proofs; it remembers the jti of each accepted proof for the replay check.
type dpopVerifier struct {
	window time.Duration
	now    func() time.Time

	mu   sync.Mutex
	seen map[string]time.Time // jti → when it may be forgotten
}

func newDPoPVerifier() *dpopVerifier {
	return &dpopVerifier{window: dpopIATWindow, now: time.Now, seen: map[string]time.Time{}}
}

// verify checks the DPoP header values of a request against want (RFC 9449 §4.3, and §7.1 / §10.1
// when want.accessToken / want.jkt are set). The error is a *dpopError.
func (v *dpopVerifier) verify(values []string, want dpopExpect) (*dpopProof, error) {
	raw, err := dpopSingleHeader(values)
	if err != nil {
		return nil, err
	}
	parts, err := dpopSplitJWS(raw)
	if err != nil {
		return nil, err
	}
	var hdr dpopHeader
	if err := dpopDecodeSegment(parts[0], "header", &hdr); err != nil {
		return nil, err
	}
	var claims dpopClaims
	if err := dpopDecodeSegment(parts[1], "payload", &claims); err != nil {
		return nil, err
	}
	if err := dpopCheckTyp(hdr); err != nil {
		return nil, err
	}
	if err := dpopCheckAlg(hdr); err != nil {
		return nil, err
	}
	key, err := dpopPublicKey(hdr)
	if err != nil {
		return nil, err
	}
	if err := dpopCheckSignature(parts, key); err != nil {
		return nil, err
	}
	if err := dpopCheckRequiredClaims(claims); err != nil {
		return nil, err
	}
	if err := dpopCheckHTM(claims, want.method); err != nil {
		return nil, err
	}
	if err := dpopCheckHTU(claims, want.url); err != nil {
		return nil, err
	}
	if err := dpopCheckIAT(claims, v.now(), v.window); err != nil {
		return nil, err
	}
	if want.accessToken != "" {
		if err := dpopCheckATH(claims, want.accessToken); err != nil {
			return nil, err
		}
	}
	jkt, err := dpopThumbprint(key)
	if err != nil {
		return nil, err
	}
	if want.jkt != "" {
		if err := dpopCheckJKT(jkt, want.jkt); err != nil {
			return nil, err
		}
	}
	// The nonce is checked late: a client told to use one has otherwise sent a good proof.
	if err := dpopCheckNonce(claims, want.nonce); err != nil {
		return nil, err
	}
	if err := v.checkReplay(claims.JTI); err != nil {
		return nil, err
	}
	return &dpopProof{jkt: jkt, claims: claims}, nil
}

// dpopSingleHeader: RFC 9449 §4.3, there is not more than one DPoP request header field (and,
// since verify is only called for a proof, exactly one), and its value is a single JWT.
func dpopSingleHeader(values []string) (string, error) {
	if len(values) != 1 {
		return "", invalidProof("want exactly one DPoP header, got %d", len(values))
	}
	raw := values[0]
	if raw == "" || len(raw) > maxDPoPProof || strings.ContainsAny(raw, " \t,") {
		return "", invalidProof("the DPoP header is not a single JWT")
	}
	return raw, nil
}

// dpopSplitJWS: §4.3, the value is a well-formed JWT: a JWS in compact serialization
// (RFC 7515 §7.1), three base64url segments; no JWE (five segments), no unsigned JWT.
func dpopSplitJWS(raw string) ([3]string, error) {
	p := strings.Split(raw, ".")
	if len(p) != 3 || p[0] == "" || p[1] == "" || p[2] == "" {
		return [3]string{}, invalidProof("the proof is not a signed JWT in compact serialization")
	}
	return [3]string{p[0], p[1], p[2]}, nil
}

// dpopDecodeSegment: §4.3 (a well-formed JWT) and §4.2, the header and the payload are
// base64url-encoded JSON objects (the claims are typed: a jti that is not a string is refused).
func dpopDecodeSegment(seg, what string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return invalidProof("the proof %s is not base64url", what)
	}
	if !bytes.HasPrefix(bytes.TrimSpace(b), []byte("{")) {
		return invalidProof("the proof %s is not a JSON object", what)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return invalidProof("the proof %s is malformed", what)
	}
	return nil
}

// dpopCheckTyp: §4.3, the typ header is "dpop+jwt" (§4.2).
func dpopCheckTyp(h dpopHeader) error {
	if h.Typ != dpopProofType {
		return invalidProof("typ must be %s", dpopProofType)
	}
	return nil
}

// dpopCheckAlg: §4.3, alg is an asymmetric algorithm the server supports, not "none" nor a
// MAC (§4.2); here only ES256.
func dpopCheckAlg(h dpopHeader) error {
	if h.Alg != dpopAlg {
		return invalidProof("alg must be %s", dpopAlg)
	}
	return nil
}

// dpopPrivateMembers are the JWK members of private or symmetric keys (RFC 7518 §6.2.2, §6.3.2,
// §6.4.1).
var dpopPrivateMembers = []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"}

// dpopPublicKey: §4.3, the jwk header is a public key (no private members, §4.2) that
// fits the alg: an EC P-256 key for ES256.
func dpopPublicKey(h dpopHeader) (*ecdsa.PublicKey, error) {
	if len(h.JWK) == 0 {
		return nil, invalidProof("the jwk header is missing")
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(h.JWK, &members); err != nil {
		return nil, invalidProof("the jwk header is not a JSON object")
	}
	for _, m := range dpopPrivateMembers {
		if _, ok := members[m]; ok {
			return nil, invalidProof("the jwk header contains a private key member (%s)", m)
		}
	}
	var jwk jose.JSONWebKey
	if err := jwk.UnmarshalJSON(h.JWK); err != nil || !jwk.Valid() || !jwk.IsPublic() {
		return nil, invalidProof("the jwk header is not a valid public key")
	}
	key, ok := jwk.Key.(*ecdsa.PublicKey)
	if !ok || key.Curve != elliptic.P256() {
		return nil, invalidProof("the jwk header must be an EC P-256 key for %s", dpopAlg)
	}
	return key, nil
}

// dpopCheckSignature: §4.3, the signature verifies with the jwk header's key: ES256 is
// ECDSA P-256 over SHA-256 of "header.payload", signature R||S of 32 bytes each (RFC 7518 §3.4).
func dpopCheckSignature(parts [3]string, key *ecdsa.PublicKey) error {
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || len(sig) != 64 {
		return invalidProof("the proof signature is malformed")
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
	if !ecdsa.Verify(key, digest[:], r, s) {
		return invalidProof("the proof signature is invalid")
	}
	return nil
}

// dpopCheckRequiredClaims: §4.3, all claims §4.2 requires are present: jti, htm, htu and iat are present.
func dpopCheckRequiredClaims(c dpopClaims) error {
	switch {
	case c.JTI == "":
		return invalidProof("the jti claim is missing")
	case c.HTM == "":
		return invalidProof("the htm claim is missing")
	case c.HTU == "":
		return invalidProof("the htu claim is missing")
	case len(c.IAT) == 0:
		return invalidProof("the iat claim is missing")
	}
	return nil
}

// dpopCheckHTM: §4.3, htm is the method of the request.
func dpopCheckHTM(c dpopClaims, method string) error {
	if c.HTM != method {
		return invalidProof("htm does not match the request method")
	}
	return nil
}

// dpopCheckHTU: §4.3, htu is the request URI without query and fragment, compared after
// syntax-based and scheme-based normalization (RFC 3986 §6.2.2, §6.2.3).
func dpopCheckHTU(c dpopClaims, requestURL string) error {
	got, err := dpopNormalizeURL(c.HTU)
	if err != nil {
		return invalidProof("htu is not an absolute URL")
	}
	want, err := dpopNormalizeURL(requestURL)
	if err != nil || got != want {
		return invalidProof("htu does not match the request URL")
	}
	return nil
}

// dpopNormalizeURL lower-cases scheme and host, drops the default port, query and fragment, and
// makes an empty path "/".
func dpopNormalizeURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") || u.User != nil {
		return "", errors.New("not an absolute http(s) URL")
	}
	scheme, host := strings.ToLower(u.Scheme), strings.ToLower(u.Hostname())
	port := u.Port()
	if (scheme == "http" && port == "80") || (scheme == "https" && port == "443") {
		port = ""
	}
	switch {
	case port != "":
		host = net.JoinHostPort(host, port)
	case strings.Contains(host, ":"): // IPv6 literal
		host = "[" + host + "]"
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	return scheme + "://" + host + path, nil
}

// dpopCheckIAT: §4.3 (and §11.1), iat is a number within window of now.
func dpopCheckIAT(c dpopClaims, now time.Time, window time.Duration) error {
	var iat float64
	if err := json.Unmarshal(c.IAT, &iat); err != nil {
		return invalidProof("iat is not a number")
	}
	t := time.Unix(int64(iat), 0)
	if t.Before(now.Add(-window)) || t.After(now.Add(window)) {
		return invalidProof("iat is too far from the server time")
	}
	return nil
}

// dpopCheckATH: §4.3 and §7.1 (resource server), ath is the base64url SHA-256 of the
// access token sent with the proof (§4.2).
func dpopCheckATH(c dpopClaims, accessToken string) error {
	if c.ATH == "" {
		return invalidProof("the ath claim is missing")
	}
	sum := sha256.Sum256([]byte(accessToken))
	if subtle.ConstantTimeCompare([]byte(c.ATH), []byte(base64.RawURLEncoding.EncodeToString(sum[:]))) != 1 {
		return invalidProof("ath does not match the access token")
	}
	return nil
}

// dpopThumbprint is the RFC 7638 SHA-256 JWK thumbprint of key, base64url (§6.1).
func dpopThumbprint(key *ecdsa.PublicKey) (string, error) {
	tp, err := (&jose.JSONWebKey{Key: key}).Thumbprint(crypto.SHA256)
	if err != nil {
		return "", invalidProof("cannot compute the key thumbprint")
	}
	return base64.RawURLEncoding.EncodeToString(tp), nil
}

// dpopCheckJKT: §4.3 and §7.1 (the key is the one the token is bound to, cnf.jkt of §6.1, checked
// by the resource server, §7.1) and §10.1 (the key is the one dpop_jkt named at the
// authorization endpoint).
func dpopCheckJKT(got, want string) error {
	if subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		return invalidProof("the proof key is not the key the token or code is bound to")
	}
	return nil
}

// dpopCheckNonce: §4.3, when the server requires a nonce the proof carries the one it
// provided; otherwise use_dpop_nonce (§8 authorization server, §9 resource server).
func dpopCheckNonce(c dpopClaims, want string) error {
	if want == "" {
		return nil
	}
	if c.Nonce == "" || subtle.ConstantTimeCompare([]byte(c.Nonce), []byte(want)) != 1 {
		return &dpopError{code: dpopErrUseNonce, description: "the proof must carry the server-provided nonce"}
	}
	return nil
}

// checkReplay: §11.1, a proof (jti) is accepted once. jtis are kept twice the iat window: a
// proof older than that fails the iat check anyway.
func (v *dpopVerifier) checkReplay(jti string) error {
	now := v.now()
	v.mu.Lock()
	defer v.mu.Unlock()
	for k, until := range v.seen {
		if now.After(until) {
			delete(v.seen, k)
		}
	}
	if _, ok := v.seen[jti]; ok {
		return invalidProof("the proof (jti) has already been used")
	}
	v.seen[jti] = now.Add(2 * v.window)
	return nil
}

// validJKT reports whether s looks like a SHA-256 thumbprint: 32 bytes base64url (dpop_jkt, §10).
func validJKT(s string) bool {
	b, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil && len(b) == sha256.Size
}

// dpopNonce is the nonce a server currently requires (§8, §9): "" when nonce mode is off.
type dpopNonce struct {
	mu    sync.Mutex
	value string
}

func (n *dpopNonce) current() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.value
}

// set turns nonce mode on (with a fresh nonce) or off.
func (n *dpopNonce) set(on bool) (string, error) {
	v := ""
	if on {
		var err error
		if v, err = randomString(); err != nil {
			return "", err
		}
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.value = v
	return v, nil
}
