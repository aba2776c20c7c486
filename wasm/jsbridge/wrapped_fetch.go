//go:build js && wasm

package jsbridge

import (
	"context"

	"github.com/hack-pad/safejs"
	"github.com/pkce-wasm/pkce-wasm/wasm/core"
)

// wrappedFetch is auth.fetch(input, init): window.fetch plus the access token. The arguments go
// through `new Request(input, init)`, so it accepts exactly what fetch accepts and resolves
// relative URLs the same way. The token is attached only when the request's origin is allow-listed
// (RFC 6750 §5.3). Signed out, requests go out without a token (public endpoints keep working and
// protected ones answer 401); signed in but unable to get a token (refresh failed), the call
// rejects with that typed error instead of silently sending an anonymous request.
// The native Response is returned untouched: bodies never enter WASM memory.
func (b *Bridge) wrappedFetch(ctx context.Context, c *core.Client, args []safejs.Value) (any, error) {
	jsArgs := make([]any, len(args))
	for i, a := range args {
		jsArgs[i] = a
	}
	req, err := b.requestCtor.New(jsArgs...)
	if err != nil {
		return nil, &core.Error{Code: "invalid_request", Description: "fetch arguments are not a valid request: " + err.Error()}
	}
	u, err := getString(req, "url")
	if err != nil {
		return nil, err
	}
	if c.AllowsOrigin(u) && c.Authenticated() {
		tok, err := c.AccessToken(ctx)
		if err != nil {
			return nil, err
		}
		h, err := req.Get("headers")
		if err != nil {
			return nil, err
		}
		if _, err := h.Call("set", "Authorization", "Bearer "+tok); err != nil {
			return nil, err
		}
	}
	p, err := b.fetch(req)
	if err != nil {
		return nil, err
	}
	res, err := Await(ctx, p)
	if err != nil {
		return nil, &core.Error{Code: core.CodeNetworkError, Description: "fetch failed: " + err.Error(), Err: err}
	}
	return res, nil
}
