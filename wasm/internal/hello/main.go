//go:build js && wasm

// Command hello is the size floor for `make size`: the smallest Go WASM program, built with the same
// flags as the bundle, so the ratio shows what pkce-wasm adds on top of the Go runtime.
package main

func main() { println("hello") }
