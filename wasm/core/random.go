package core

import (
	"crypto/rand"
	"encoding/base64"
	"io"
)

// randomToken returns n bytes from r, base64url-encoded without padding. With n = 32 that is 256
// bits of entropy in 43 characters, the size RFC 7636 §7.1 recommends for a code verifier and more
// than enough for state and nonce (RFC 6749 §10.10).
func randomToken(r io.Reader, n int) (string, error) {
	if r == nil {
		r = rand.Reader
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", wrapError(CodeInternal, err, "no randomness available")
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
