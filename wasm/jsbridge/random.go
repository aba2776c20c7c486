//go:build js && wasm

package jsbridge

import (
	"github.com/hack-pad/safejs"
)

// CryptoRand is an io.Reader on crypto.getRandomValues, the browser's CSPRNG (the same source Go's
// crypto/rand uses under js/wasm, without linking crypto/rand and math/big into the bundle).
type CryptoRand struct{ B *Bridge }

// maxRandomChunk is getRandomValues' per-call limit (65536 bytes).
const maxRandomChunk = 65536

func (r CryptoRand) Read(p []byte) (int, error) {
	if r.B.getRandomValuesFn.IsUndefined() {
		return 0, constError("crypto.getRandomValues is not available")
	}
	n := 0
	for n < len(p) {
		k := min(len(p)-n, maxRandomChunk)
		a, err := r.B.uint8ArrayCtor.New(k)
		if err != nil {
			return n, err
		}
		if _, err := r.B.getRandomValuesFn.Invoke(a); err != nil {
			return n, err
		}
		if _, err := safejs.CopyBytesToGo(p[n:n+k], a); err != nil {
			return n, err
		}
		n += k
	}
	return n, nil
}
