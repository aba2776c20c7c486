//go:build js && wasm

package jsbridge

import (
	"context"
	"time"

	"github.com/hack-pad/safejs"
	"github.com/pkce-wasm/pkce-wasm/wasm/core"
)

// DPoPKeys is core.DPoPKeyStore on WebCrypto and the host's key store. The key is an ECDSA P-256
// CryptoKeyPair generated with extractable false: the private key can sign, through
// crypto.subtle.sign, but never be exported — not by us, not by a script that reads the store.
// The pair is structured-clonable, so the host keeps it in IndexedDB (the code is bound to the
// key before the redirect, RFC 9449 §10, and exchanged after it, maybe by a new worker).
//
//	host.keys.get() → CryptoKeyPair | null
//	host.keys.put(pair) → the pair now stored (another tab's, if it stored one first) or undefined
//	host.keys.delete()
//
// Each may return a Promise. Without host.keys the key lives in memory only (and a login does not
// survive a reload of the context that runs the client).
type DPoPKeys struct {
	b     *Bridge
	store safejs.Value // host.keys, or undefined
}

// dpopStoreTimeout bounds one key store operation.
const dpopStoreTimeout = 10 * time.Second

func (k DPoPKeys) hasStore() bool {
	return k.store.Type() == safejs.TypeObject && !k.store.IsNull()
}

func (k DPoPKeys) call(ctx context.Context, method string, args ...any) (safejs.Value, error) {
	v, err := k.store.Call(method, args...)
	if err != nil {
		return safejs.Undefined(), err
	}
	p, err := k.b.promiseCtor.Call("resolve", v)
	if err != nil {
		return safejs.Undefined(), err
	}
	ctx, cancel := context.WithTimeout(ctx, dpopStoreTimeout)
	defer cancel()
	return Await(ctx, p)
}

func (k DPoPKeys) unsupported(what string, err error) error {
	e := &core.Error{Code: core.CodeDPoPUnsupported, Description: what}
	if err != nil {
		e.Description += ": " + err.Error()
		e.Err = err
	}
	return e
}

// Load returns the stored key pair, or generates, stores and returns a new one. A stored value
// that is not a usable pair — not ECDSA P-256, or a private key that is extractable (planted by
// a script that kept a copy) — is replaced.
func (k DPoPKeys) Load(ctx context.Context) (*core.DPoPKey, error) {
	b := k.b
	if b.generateKeyFn.IsUndefined() || b.exportKeyFn.IsUndefined() || b.signFn.IsUndefined() {
		return nil, k.unsupported("crypto.subtle is not available (a secure context is required)", nil)
	}
	pair := safejs.Null()
	if k.hasStore() {
		v, err := k.call(ctx, "get")
		if err != nil {
			return nil, &core.Error{Code: core.CodeStorageError, Description: "cannot read the DPoP key: " + err.Error(), Err: err}
		}
		if usablePair(v) {
			pair = v
		}
	}
	if pair.IsNull() {
		var err error
		if pair, err = k.generate(ctx); err != nil {
			return nil, k.unsupported("cannot generate an ES256 key", err)
		}
		if k.hasStore() {
			stored, err := k.call(ctx, "put", pair)
			if err != nil {
				return nil, &core.Error{Code: core.CodeStorageError, Description: "cannot store the DPoP key: " + err.Error(), Err: err}
			}
			if usablePair(stored) {
				pair = stored
			}
		}
	}
	return k.keyOf(ctx, pair)
}

// Delete forgets the stored pair.
func (k DPoPKeys) Delete(ctx context.Context) error {
	if !k.hasStore() {
		return nil
	}
	_, err := k.call(ctx, "delete")
	return err
}

// usablePair: v is {privateKey, publicKey} of ECDSA P-256, the private key non-extractable and
// able to sign.
func usablePair(v safejs.Value) bool {
	if v.Type() != safejs.TypeObject || v.IsNull() {
		return false
	}
	priv, err1 := v.Get("privateKey")
	pub, err2 := v.Get("publicKey")
	if err1 != nil || err2 != nil || priv.Type() != safejs.TypeObject || pub.Type() != safejs.TypeObject || priv.IsNull() || pub.IsNull() {
		return false
	}
	if ext, err := priv.Get("extractable"); err != nil || ext.Type() != safejs.TypeBoolean || isTruthy(ext) {
		return false
	}
	alg, err := priv.Get("algorithm")
	if err != nil || alg.Type() != safejs.TypeObject {
		return false
	}
	name, _ := getString(alg, "name")
	curve, _ := getString(alg, "namedCurve")
	typ, _ := getString(priv, "type")
	return name == "ECDSA" && curve == "P-256" && typ == "private"
}

// generate is crypto.subtle.generateKey({name: "ECDSA", namedCurve: "P-256"}, false, ["sign"]).
func (k DPoPKeys) generate(ctx context.Context) (safejs.Value, error) {
	b := k.b
	alg := b.newObject()
	_ = alg.Set("name", "ECDSA")
	_ = alg.Set("namedCurve", "P-256")
	usages, err := safejs.ValueOf([]any{"sign"})
	if err != nil {
		return safejs.Undefined(), err
	}
	p, err := b.generateKeyFn.Invoke(alg, false, usages)
	if err != nil {
		return safejs.Undefined(), err
	}
	return Await(ctx, p)
}

// keyOf exports the public JWK (public keys are always extractable, WebCrypto §14.3.9) and wraps
// the private key in a signer.
func (k DPoPKeys) keyOf(ctx context.Context, pair safejs.Value) (*core.DPoPKey, error) {
	b := k.b
	pub, err := pair.Get("publicKey")
	if err != nil {
		return nil, err
	}
	priv, err := pair.Get("privateKey")
	if err != nil {
		return nil, err
	}
	p, err := b.exportKeyFn.Invoke("jwk", pub)
	if err != nil {
		return nil, k.unsupported("cannot export the DPoP public key", err)
	}
	jwk, err := Await(ctx, p)
	if err != nil {
		return nil, k.unsupported("cannot export the DPoP public key", err)
	}
	var pk core.DPoPPublicKey
	for _, f := range []struct {
		name string
		dst  *string
	}{{"crv", &pk.Crv}, {"x", &pk.X}, {"y", &pk.Y}} {
		if *f.dst, err = getString(jwk, f.name); err != nil {
			return nil, k.unsupported("the DPoP public key has no "+f.name, err)
		}
	}
	signAlg := b.newObject()
	_ = signAlg.Set("name", "ECDSA")
	_ = signAlg.Set("hash", "SHA-256")
	return &core.DPoPKey{Public: pk, Sign: func(ctx context.Context, input []byte) ([]byte, error) {
		data, err := b.bytesToJS(input)
		if err != nil {
			return nil, err
		}
		sp, err := b.signFn.Invoke(signAlg, priv, data)
		if err != nil {
			return nil, err
		}
		buf, err := Await(ctx, sp)
		if err != nil {
			return nil, err
		}
		arr, err := b.uint8ArrayCtor.New(buf)
		if err != nil {
			return nil, err
		}
		n, err := arr.Length()
		if err != nil {
			return nil, err
		}
		out := make([]byte, n)
		if _, err := safejs.CopyBytesToGo(out, arr); err != nil {
			return nil, err
		}
		return out, nil
	}}, nil
}

// headerString is headers.get(name) as a string, "" when absent.
func headerString(h safejs.Value, name string) string {
	v, err := h.Call("get", name)
	if err != nil || v.Type() != safejs.TypeString {
		return ""
	}
	s, _ := v.String()
	return s
}

// NewDPoPKeys is DPoPKeys for a Go program other than the client (the Chromium benchmark,
// wasm/internal/dpopbench): store is a host.keys object, or undefined for a memory-only key.
func NewDPoPKeys(b *Bridge, store safejs.Value) DPoPKeys { return DPoPKeys{b: b, store: store} }
