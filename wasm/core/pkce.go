package core

import (
	"encoding/base64"
	"io"

	"github.com/pkce-wasm/pkce-wasm/wasm/internal/sha256"
)

// PKCE (RFC 7636). Only the S256 method is implemented: "plain" offers no protection against an
// attacker who can read the authorization request (RFC 7636 §7.2, RFC 9700 §2.1.1).

const (
	verifierMinLen = 43  // RFC 7636 §4.1
	verifierMaxLen = 128 // RFC 7636 §4.1
)

// GenerateVerifier returns a fresh code verifier: 32 random bytes, base64url, 43 characters
// (RFC 7636 §4.1 and §7.1). r is the randomness source; nil means crypto/rand.
func GenerateVerifier(r io.Reader) (string, error) {
	return randomToken(r, 32)
}

// S256Challenge returns BASE64URL(SHA256(ASCII(verifier))) (RFC 7636 §4.2).
func S256Challenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// ValidVerifier reports whether v has the length and alphabet RFC 7636 §4.1 requires:
// 43-128 characters of [A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~".
func ValidVerifier(v string) bool {
	if len(v) < verifierMinLen || len(v) > verifierMaxLen {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~') {
			return false
		}
	}
	return true
}
