//go:build js && wasm

// Package jsbridge is the thin JavaScript boundary of pkce-wasm, built on
// github.com/hack-pad/safejs so that a JS exception becomes a Go error instead of a panic.
//
// It adapts browser facilities to the pure-Go core (JS fetch as core.HTTPDoer, the loader's
// store — IndexedDB in the worker, sessionStorage in the page — as core.TxStore, WebCrypto) and exposes the client to JS. Every exposed function returns a Promise and does its
// work in a goroutine: a FuncOf callback that blocked on fetch would deadlock the Go runtime, which
// shares the JS event loop.
package jsbridge
