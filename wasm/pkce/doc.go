// Package pkce is pkce-wasm for Go programs compiled to WebAssembly (GOOS=js GOARCH=wasm): the
// same OAuth 2.0 authorization code flow with PKCE and OpenID Connect client as the JS bundle
// (package wasm/core does the protocol, package wasm/jsbridge reaches the browser), with a Go API
// built on golang.org/x/oauth2 and net/http.
//
//	c, err := pkce.New(pkce.Config{Issuer: ..., ClientID: ..., RedirectURI: ...,
//		ResourceOrigins: []string{"https://api.example.com"}})
//	if c.IsCallback() {
//		returnTo, err := c.HandleCallback(ctx) // validates, exchanges the code, strips code/state from the URL
//		...
//	}
//	if !c.Authenticated() {
//		err = c.Login(ctx, pkce.LoginOptions{ReturnTo: "/"}) // navigates to the provider
//	}
//	res, err := c.HTTPClient(ctx).Get("https://api.example.com/me") // Bearer attached for that origin only
//
// Tokens live in the core client's memory only, as in the JS bundle. TokenSource is an
// oauth2.TokenSource whose every Token call asks the core client, so the single-flight
// refresh stays the only refresh path and a sign-out takes effect at once: there is
// no second token cache.
//
// # Why a separate package
//
// The JS bundle (wasm/cmd/pkce-wasm) deliberately never links net/http: HTTP goes through JS
// fetch, and net/http's package initialisation alone (TLS, x509, FIPS crypto) would about
// double the download. A Go program built for js/wasm usually pays for net/http already, and
// for such a program golang.org/x/oauth2 is the natural API. This package imports both, so it
// must stay out of the bundle's import graph; a test (importgraph_test.go) checks that
// `GOOS=js GOARCH=wasm go list -deps ./wasm/cmd/pkce-wasm` lists neither net/http nor
// golang.org/x/oauth2.
//
// New works only in a browser (GOOS=js GOARCH=wasm); everything else is plain Go and is tested
// natively.
package pkce
