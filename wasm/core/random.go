package core

import (
	"encoding/base64"
	"io"
)

// randomToken returns n bytes from r, base64url-encoded without padding. With n = 32 that is 256
// bits of entropy in 43 characters, the size RFC 7636 §7.1 recommends for a code verifier and more
// than enough for state and nonce (RFC 6749 §10.10). r nil means the platform default
// (crypto/rand natively; in the browser the bridge passes crypto.getRandomValues, which keeps
// crypto/rand and the math/big it drags in out of the bundle).
func randomToken(r io.Reader, n int) (string, error) {
	if r == nil {
		r = defaultRand
	}
	if r == nil {
		return "", newError(CodeInternal, "no randomness source configured")
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", wrapError(CodeInternal, err, "no randomness available")
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
