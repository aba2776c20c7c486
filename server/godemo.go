package main

// The Go-WASM demo (demo/go/main.go, page demo/go/index.html at /go/) is a second app on the
// app origin using the same client id. It has its own redirect and post-logout URIs, so that
// /callback stays the JS demo's; the OP accepts both sets (client.go), /go/callback serves the Go
// page (static.go).

// GoDemoRedirectURI is the Go demo's redirect URI.
func (c Config) GoDemoRedirectURI() string { return c.AppOrigin + "/go/callback" }

// GoDemoPostLogoutRedirectURI is the Go demo's post-logout redirect URI.
func (c Config) GoDemoPostLogoutRedirectURI() string { return c.AppOrigin + "/go/" }
