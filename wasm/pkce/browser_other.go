//go:build !(js && wasm)

package pkce

import "github.com/pkce-wasm/pkce-wasm/wasm/core"

func newInBrowser(Config) (*Client, error) {
	return nil, &Error{Code: core.CodeInternal, Description: "pkce.New needs a browser: build with GOOS=js GOARCH=wasm"}
}
