package core

import (
	"context"
	"sync"
	"time"

	"github.com/pkce-wasm/pkce-wasm/wasm/internal/strictjson"
)

// JWK is a public key from the provider's JWK Set (RFC 7517 §4), with its raw JSON kept for the
// verifier (WebCrypto imports JWK JSON directly).
type JWK struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	Crv string `json:"crv"`
	Raw []byte // the key's JSON text exactly as the JWK Set had it
}

// VerifyFunc checks a JWS signature (RFC 7515 §5.2) with one key. In the browser it is WebCrypto
// (crypto.subtle.verify); natively, tests use Go's crypto.
type VerifyFunc func(ctx context.Context, alg string, key *JWK, signingInput string, sig []byte) error

// ParseJWKS parses a JWK Set document (RFC 7517 §5). Keys that are not for signatures are dropped.
func ParseJWKS(body []byte) ([]*JWK, error) {
	if len(body) > maxMetadataBytes {
		return nil, newError(CodeInvalidIDToken, "JWK Set is too large")
	}
	doc, err := parseJSONObject(body)
	set := (&members{obj: doc}).get("keys")
	if err != nil || set.Kind() != strictjson.Array {
		return nil, newError(CodeInvalidIDToken, "JWK Set is not a JSON object with a keys array")
	}
	keys := []*JWK{} // non-nil even when empty: an empty set is cached like any other
	for _, raw := range set.Elems() {
		if raw.Kind() != strictjson.Object {
			continue // RFC 7517 §5: ignore keys we cannot understand
		}
		m := members{obj: raw}
		k := &JWK{Kty: m.str("kty"), Kid: m.str("kid"), Use: m.str("use"), Alg: m.str("alg"), Crv: m.str("crv"),
			Raw: []byte(raw.Raw())}
		if m.err != nil {
			continue
		}
		if k.Use != "" && k.Use != "sig" {
			continue
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// ktyFor returns the key type and curve an algorithm needs (RFC 7518 §3.1).
func ktyFor(alg string) (kty, crv string) {
	switch alg {
	case "RS256", "RS384", "RS512", "PS256", "PS384", "PS512":
		return "RSA", ""
	case "ES256":
		return "EC", "P-256"
	case "ES384":
		return "EC", "P-384"
	case "ES512":
		return "EC", "P-521"
	}
	return "", ""
}

// SelectKey picks the key for a JWS header: the one with its kid if there is a kid, else the only
// key of the right type. A key whose own alg differs from the header's is never used (RFC 7517 §4.4).
func SelectKey(keys []*JWK, h JOSEHeader) *JWK {
	kty, crv := ktyFor(h.Alg)
	if kty == "" {
		return nil
	}
	var match []*JWK
	for _, k := range keys {
		if k.Kty != kty || (crv != "" && k.Crv != crv) || (k.Alg != "" && k.Alg != h.Alg) {
			continue
		}
		if h.Kid != "" && k.Kid != h.Kid {
			continue
		}
		match = append(match, k)
	}
	if len(match) != 1 {
		return nil
	}
	return match[0]
}

// keySet caches the provider's JWK Set. A kid that is not in the cached set triggers a refetch,
// since the provider may have rotated its keys (OIDC Core §10.1.1: "the RP ... SHOULD re-fetch the
// JWK Set when it sees an unknown kid"). Only those refetches are rate-limited, to one per
// jwksRefetchInterval, so that a stream of forged kids cannot make us hammer the provider; the
// first fetch and Prefetch do not count, so a rotation seen right after them is still picked up.
type keySet struct {
	mu        sync.Mutex
	keys      []*JWK
	refetched time.Time // when an unknown kid last caused a refetch; zero: never
}

const jwksRefetchInterval = 60 * time.Second

func (c *Client) keyFor(ctx context.Context, m *Metadata, h JOSEHeader) (*JWK, error) {
	if m.JWKSURI == "" {
		return nil, newError(CodeInvalidIDToken, "provider metadata has no jwks_uri to verify ID tokens with")
	}
	ks := &c.keys
	ks.mu.Lock()
	defer ks.mu.Unlock()
	now := c.deps.Now()
	if ks.keys != nil {
		if k := SelectKey(ks.keys, h); k != nil {
			return k, nil
		}
		if !ks.refetched.IsZero() && now.Sub(ks.refetched) < jwksRefetchInterval {
			return nil, noKeyError(h)
		}
		ks.refetched = now
	}
	resp, err := c.deps.HTTP.Do(ctx, &HTTPRequest{Method: "GET", URL: m.JWKSURI, Header: map[string]string{"Accept": "application/json"}})
	if err != nil {
		return nil, wrapError(CodeNetworkError, err, "cannot fetch the provider's keys: %v", err)
	}
	if resp.Status != 200 {
		return nil, newError(CodeInvalidIDToken, "jwks_uri answered HTTP %d", resp.Status)
	}
	keys, err := ParseJWKS(resp.Body)
	if err != nil {
		return nil, err
	}
	ks.keys = keys
	if k := SelectKey(keys, h); k != nil {
		return k, nil
	}
	return nil, noKeyError(h)
}

func noKeyError(h JOSEHeader) *Error {
	return &Error{Code: CodeInvalidIDToken, Description: "no provider key matches the ID token (kid " + quote(h.Kid) + ")"}
}

func quote(s string) string { return "\"" + trimForMessage(s) + "\"" }

// verifySignature applies OIDC Core §3.1.3.7 step 6: the ID token must be signed by the provider.
func (c *Client) verifySignature(ctx context.Context, m *Metadata, j *JWT) error {
	if c.deps.Verify == nil {
		return newError(CodeInternal, "no signature verifier configured")
	}
	k, err := c.keyFor(ctx, m, j.Header)
	if err != nil {
		return err
	}
	if err := c.deps.Verify(ctx, j.Header.Alg, k, j.SigningInput, j.Signature); err != nil {
		return wrapError(CodeInvalidIDToken, err, "ID token signature is invalid")
	}
	return nil
}

// Prefetch loads the provider metadata and, when there is none cached yet, its JWK Set, so that a
// callback that follows does not wait for them. Errors are ignored: the callback reports them.
func (c *Client) Prefetch(ctx context.Context) {
	m, err := c.Discover(ctx)
	if err != nil || m.JWKSURI == "" {
		return
	}
	ks := &c.keys
	ks.mu.Lock()
	have := ks.keys != nil
	ks.mu.Unlock()
	if !have {
		_, _ = c.keyFor(ctx, m, JOSEHeader{Alg: "RS256", Kid: "\x00prefetch"})
	}
}
