// Package core is the pure-Go protocol core of pkce-wasm: the OAuth 2.0 authorization code flow
// with PKCE (RFC 6749, RFC 7636) and OpenID Connect (OIDC Core 1.0) as a public client.
//
// It has no syscall/js dependency so that every rule is tested natively with go test -race. It
// reaches the network only through HTTPDoer and the browser's storage only through TxStore; the
// JS boundary (package jsbridge) implements both with fetch and sessionStorage.
//
// Tokens live only in a Client's memory. The only state that crosses the authorization redirect is
// the single-use Transaction (state, nonce, PKCE verifier, return path).
package core
