//go:build js && wasm

package jsbridge

import (
	"context"

	"github.com/hack-pad/safejs"
	"github.com/pkce-wasm/pkce-wasm/wasm/core"
)

// webCryptoAlgs maps JWS "alg" (RFC 7518 §3.1) to WebCrypto import and verify parameters.
var webCryptoAlgs = map[string]struct {
	name, hash, curve string
	saltLength        int
}{
	"RS256": {"RSASSA-PKCS1-v1_5", "SHA-256", "", 0},
	"RS384": {"RSASSA-PKCS1-v1_5", "SHA-384", "", 0},
	"RS512": {"RSASSA-PKCS1-v1_5", "SHA-512", "", 0},
	"PS256": {"RSA-PSS", "SHA-256", "", 32},
	"PS384": {"RSA-PSS", "SHA-384", "", 48},
	"PS512": {"RSA-PSS", "SHA-512", "", 64},
	"ES256": {"ECDSA", "SHA-256", "P-256", 0},
	"ES384": {"ECDSA", "SHA-384", "P-384", 0},
	"ES512": {"ECDSA", "SHA-512", "P-521", 0},
}

// WebCryptoVerify is a core.VerifyFunc on crypto.subtle: importKey("jwk", …) then verify. JWS
// ECDSA signatures are R||S, the format WebCrypto expects, so no conversion is needed.
func (b *Bridge) WebCryptoVerify(ctx context.Context, alg string, key *core.JWK, signingInput string, sig []byte) error {
	p, ok := webCryptoAlgs[alg]
	if !ok {
		return constError("unsupported alg " + alg)
	}
	if b.importKeyFn.IsUndefined() || b.verifyFn.IsUndefined() {
		return constError("crypto.subtle is not available (a secure context is required)")
	}
	jwk, err := b.json.Call("parse", string(key.Raw))
	if err != nil {
		return err
	}
	importAlg := b.newObject()
	_ = importAlg.Set("name", p.name)
	verifyAlg := b.newObject()
	_ = verifyAlg.Set("name", p.name)
	if p.curve != "" {
		_ = importAlg.Set("namedCurve", p.curve)
		_ = verifyAlg.Set("hash", p.hash)
	} else {
		_ = importAlg.Set("hash", p.hash)
	}
	if p.saltLength != 0 {
		_ = verifyAlg.Set("saltLength", p.saltLength)
	}
	usages, err := safejs.ValueOf([]any{"verify"})
	if err != nil {
		return err
	}
	keyP, err := b.importKeyFn.Invoke("jwk", jwk, importAlg, false, usages)
	if err != nil {
		return err
	}
	cryptoKey, err := Await(ctx, keyP)
	if err != nil {
		return err
	}
	sigJS, err := b.bytesToJS(sig)
	if err != nil {
		return err
	}
	dataJS, err := b.bytesToJS([]byte(signingInput))
	if err != nil {
		return err
	}
	okP, err := b.verifyFn.Invoke(verifyAlg, cryptoKey, sigJS, dataJS)
	if err != nil {
		return err
	}
	res, err := Await(ctx, okP)
	if err != nil {
		return err
	}
	if valid, _ := res.Bool(); !valid {
		return constError("signature does not verify")
	}
	return nil
}

func (b *Bridge) bytesToJS(p []byte) (safejs.Value, error) {
	a, err := b.uint8ArrayCtor.New(len(p))
	if err != nil {
		return a, err
	}
	_, err = safejs.CopyBytesToJS(a, p)
	return a, err
}
