//go:build js && wasm

// Command pkce-wasm is the WebAssembly module the JS loader (js/src/pkce-wasm.js) instantiates.
//
// It runs where the loader starts it: in a worker (the default: js/src/pkce-wasm.worker.js), or in
// the page (isolation "page": js/src/pkce-wasm.js).
//
// Handshake: before go.run the loader sets globalThis.__pkceWasmBridge = {ErrorClass, ready, fail}.
// main installs bridge.create(options, host) → Promise<client> (see jsbridge.Host) and calls
// bridge.ready(); the loader then removes the global. The program keeps running to serve callbacks.
package main

import (
	"context"

	"github.com/hack-pad/safejs"
	"github.com/pkce-wasm/pkce-wasm/wasm/jsbridge"
)

func main() {
	handshake, err := safejs.Global().Get("__pkceWasmBridge")
	if err != nil || handshake.IsUndefined() {
		println("pkce-wasm: start this module through the pkce-wasm loader")
		return
	}
	errorClass, err := handshake.Get("ErrorClass")
	if err != nil {
		println("pkce-wasm: loader handshake lacks ErrorClass")
		return
	}
	b, err := jsbridge.NewBridge(errorClass)
	if err != nil {
		_, _ = handshake.Call("fail", err.Error())
		return
	}
	create, err := b.Func(func(args []safejs.Value) any {
		opts, host := safejs.Undefined(), safejs.Undefined()
		if len(args) > 0 {
			opts = args[0]
		}
		if len(args) > 1 {
			host = args[1]
		}
		return b.NewPromise(func(context.Context) (any, error) { return b.Create(opts, host) })
	})
	if err != nil {
		_, _ = handshake.Call("fail", err.Error())
		return
	}
	if err := handshake.Set("create", create); err != nil {
		return
	}
	if _, err := handshake.Call("ready"); err != nil {
		return
	}
	select {} // serve JS callbacks for the life of the page
}
