//go:build js && wasm

package jsbridge

import (
	"github.com/hack-pad/safejs"
)

// Bridge holds the JS globals the boundary uses, looked up once, and the error class the loader
// supplies.
type Bridge struct {
	global         safejs.Value
	objectCtor     safejs.Value
	promiseCtor    safejs.Value
	abortCtor      safejs.Value
	uint8ArrayCtor safejs.Value
	requestCtor    safejs.Value
	urlCtor        safejs.Value
	json           safejs.Value
	errorCtor      safejs.Value

	// Captured once, bound to their objects: a script that later replaces globalThis.fetch or
	// crypto.subtle.verify in the page does not see or steer our calls (isolation "page"; in a
	// worker no page script can reach them anyway).
	fetchFn           safejs.Value // fetch.bind(globalThis)
	getRandomValuesFn safejs.Value // crypto.getRandomValues.bind(crypto); undefined if missing
	importKeyFn       safejs.Value // crypto.subtle.importKey.bind(crypto.subtle); undefined if missing
	verifyFn          safejs.Value // crypto.subtle.verify.bind(crypto.subtle); undefined if missing
	// DPoP (dpop.go): crypto.subtle.generateKey, exportKey and sign, bound; undefined if missing.
	generateKeyFn, exportKeyFn, signFn safejs.Value
}

// NewBridge looks up the globals. errorCtor is the PkceWasmError class: new errorCtor(code, description).
func NewBridge(errorCtor safejs.Value) (*Bridge, error) {
	g := safejs.Global()
	b := &Bridge{global: g, errorCtor: errorCtor}
	for _, x := range []struct {
		name string
		dst  *safejs.Value
	}{
		{"Object", &b.objectCtor}, {"Promise", &b.promiseCtor}, {"AbortController", &b.abortCtor},
		{"Uint8Array", &b.uint8ArrayCtor}, {"Request", &b.requestCtor}, {"URL", &b.urlCtor},
		{"JSON", &b.json},
	} {
		v, err := g.Get(x.name)
		if err != nil {
			return nil, err
		}
		if v.IsUndefined() {
			return nil, constError("this JavaScript environment lacks " + x.name)
		}
		*x.dst = v
	}
	b.fetchFn = bindMethod(g, "fetch")
	b.getRandomValuesFn, b.importKeyFn, b.verifyFn = safejs.Undefined(), safejs.Undefined(), safejs.Undefined()
	b.generateKeyFn, b.exportKeyFn, b.signFn = safejs.Undefined(), safejs.Undefined(), safejs.Undefined()
	if c, err := g.Get("crypto"); err == nil && c.Type() == safejs.TypeObject {
		b.getRandomValuesFn = bindMethod(c, "getRandomValues")
		if s, err := c.Get("subtle"); err == nil && s.Type() == safejs.TypeObject {
			b.importKeyFn, b.verifyFn = bindMethod(s, "importKey"), bindMethod(s, "verify")
			b.generateKeyFn, b.exportKeyFn, b.signFn = bindMethod(s, "generateKey"), bindMethod(s, "exportKey"), bindMethod(s, "sign")
		}
	}
	return b, nil
}

// bindMethod returns obj[name].bind(obj), or undefined when obj has no such function.
func bindMethod(obj safejs.Value, name string) safejs.Value {
	f, err := obj.Get(name)
	if err != nil || f.Type() != safejs.TypeFunction {
		return safejs.Undefined()
	}
	bound, err := f.Call("bind", obj)
	if err != nil {
		return safejs.Undefined()
	}
	return bound
}

// fetch calls the fetch captured at start-up (see Bridge).
func (b *Bridge) fetch(args ...any) (safejs.Value, error) {
	if b.fetchFn.IsUndefined() {
		return safejs.Undefined(), constError("this JavaScript environment lacks fetch")
	}
	return b.fetchFn.Invoke(args...)
}

// Func wraps fn as a JS function that recovers panics (safejs does not), so a bug surfaces as a
// thrown error instead of wedging the runtime. The Func is meant to live as long as the page.
func (b *Bridge) Func(fn func(args []safejs.Value) any) (safejs.Func, error) {
	return safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) (out any) {
		defer func() {
			if r := recover(); r != nil {
				out = b.rejected(constError("panic in pkce-wasm"))
			}
		}()
		return fn(args)
	})
}

// rejected returns Promise.reject(toJSError(err)).
func (b *Bridge) rejected(err error) safejs.Value {
	p, callErr := b.promiseCtor.Call("reject", b.toJSError(err))
	if callErr != nil {
		return safejs.Undefined()
	}
	return p
}

// newObject returns a fresh {} or panics (recovered by Func): only fails if the runtime is broken.
func (b *Bridge) newObject() safejs.Value {
	o, err := b.objectCtor.New()
	if err != nil {
		panic(err)
	}
	return o
}
