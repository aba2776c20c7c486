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
		return nil, &core.Error{Code: core.CodeInvalidConfig, Description: "fetch arguments are not a valid request: " + err.Error()}
	}
	u, err := getString(req, "url")
	if err != nil {
		return nil, err
	}
	if !c.AllowsOrigin(u) || !c.Authenticated() {
		return b.send(ctx, req)
	}
	tok, err := c.AccessToken(ctx)
	if err != nil {
		return nil, err
	}
	// A body can be sent only once and we may retry, so a request that may have a body is cloned
	// before the first send. Request.body tells only where the browser has it (Firefox has not):
	// the method decides. GET and HEAD (most API calls) cannot have one: no clone on the hot path.
	retry := req
	if m, _ := getString(req, "method"); m != "GET" && m != "HEAD" {
		if retry, err = req.Call("clone"); err != nil {
			return nil, err
		}
	}
	if err := setBearer(req, tok); err != nil {
		return nil, err
	}
	res, err := b.send(ctx, req)
	if err != nil {
		return nil, err
	}
	// RFC 6750 §3.1: 401 with error="invalid_token" means this token is no good (expired early,
	// revoked): refresh once and retry once. Other 401s, 403 insufficient_scope and a second 401
	// go back to the caller. WWW-Authenticate is readable cross-origin only when the resource
	// server lists it in Access-Control-Expose-Headers.
	// The 401 must come from an allow-listed origin: after a redirect elsewhere (an open redirect
	// on the API) a 401 says nothing about our token and must not spend a refresh grant.
	if st, _ := getInt(res, "status"); st != 401 || !isInvalidToken(res) {
		return res, nil
	}
	if final, err := getString(res, "url"); err != nil || !c.AllowsOrigin(final) {
		return res, nil
	}
	fresh, err := c.RefreshAfterRejection(ctx, tok)
	if err != nil {
		return nil, err
	}
	if err := setBearer(retry, fresh); err != nil {
		return nil, err
	}
	return b.send(ctx, retry)
}

func setBearer(req safejs.Value, tok string) error {
	h, err := req.Get("headers")
	if err != nil {
		return err
	}
	_, err = h.Call("set", "Authorization", "Bearer "+tok)
	return err
}

func isInvalidToken(res safejs.Value) bool {
	h, err := res.Get("headers")
	if err != nil {
		return false
	}
	v, err := h.Call("get", "www-authenticate")
	if err != nil || v.Type() != safejs.TypeString {
		return false
	}
	s, _ := v.String()
	return core.BearerError(s) == "invalid_token"
}

func (b *Bridge) send(ctx context.Context, req safejs.Value) (safejs.Value, error) {
	p, err := b.fetch(req)
	if err != nil {
		return safejs.Undefined(), err
	}
	res, err := Await(ctx, p)
	if err != nil {
		return safejs.Undefined(), &core.Error{Code: core.CodeNetworkError, Description: "fetch failed: " + err.Error(), Err: err}
	}
	return res, nil
}
