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
	method, _ := getString(req, "method")
	// A body can be sent only once and we may retry, so a request that may have a body is cloned
	// before the first send, and each retry sends a clone of that spare. Request.body tells only
	// where the browser has it (Firefox has not): the method decides. GET and HEAD (most API
	// calls) cannot have one: no clone on the hot path, the same Request is sent again.
	var spare safejs.Value
	hasBody := method != "GET" && method != "HEAD"
	if hasBody {
		if spare, err = req.Call("clone"); err != nil {
			return nil, err
		}
	}
	again := func() (safejs.Value, error) {
		if !hasBody {
			return req, nil
		}
		return spare.Call("clone")
	}
	res, err := b.sendAuthorized(ctx, c, req, method, u, tok)
	if err != nil {
		return nil, err
	}
	// RFC 6750 §3.1 (and RFC 9449 §7.1 for DPoP): 401 with error="invalid_token" means this
	// token is no good (expired early, revoked): refresh once and retry once. With DPoP, a 401
	// with error="use_dpop_nonce" and a DPoP-Nonce (RFC 9449 §9) is retried once with a fresh
	// proof carrying the nonce. Other 401s, 403 insufficient_scope and further 401s go back to
	// the caller. WWW-Authenticate and DPoP-Nonce are readable cross-origin only when the resource
	// server lists them in Access-Control-Expose-Headers.
	// The answer must come from an allow-listed origin: after a redirect elsewhere (an open
	// redirect on the API) it says nothing about our token, must not spend a refresh grant, and
	// its nonce is not that server's.
	nonceRetried, refreshed := false, false
	for {
		final, err := getString(res, "url")
		if err != nil || !c.AllowsOrigin(final) {
			return res, nil
		}
		st, _ := getInt(res, "status")
		h, _ := res.Get("headers")
		if c.DPoP() {
			retry, err := c.ResourceNonceRetry(final, st, headerString(h, "dpop-nonce"), headerString(h, "www-authenticate"))
			if err != nil {
				return nil, err
			}
			if retry && !nonceRetried {
				nonceRetried = true
				r, err := again()
				if err != nil {
					return nil, err
				}
				if res, err = b.sendAuthorized(ctx, c, r, method, u, tok); err != nil {
					return nil, err
				}
				continue
			}
		}
		if st != 401 || refreshed || !isInvalidToken(c, h) {
			return res, nil
		}
		refreshed = true
		fresh, err := c.RefreshAfterRejection(ctx, tok)
		if err != nil {
			return nil, err
		}
		tok = fresh
		r, err := again()
		if err != nil {
			return nil, err
		}
		if res, err = b.sendAuthorized(ctx, c, r, method, u, tok); err != nil {
			return nil, err
		}
	}
}

// sendAuthorized sets the Authorization header (Bearer, or DPoP with a fresh proof: never reused,
// also not on a retry) on req and sends it.
func (b *Bridge) sendAuthorized(ctx context.Context, c *core.Client, req safejs.Value, method, u, tok string) (safejs.Value, error) {
	hdrs, err := c.AuthorizationHeaders(ctx, method, u, tok)
	if err != nil {
		return safejs.Undefined(), err
	}
	h, err := req.Get("headers")
	if err != nil {
		return safejs.Undefined(), err
	}
	for k, v := range hdrs {
		if _, err := h.Call("set", k, v); err != nil {
			return safejs.Undefined(), err
		}
	}
	return b.send(ctx, req)
}

// isInvalidToken: the 401's challenge says error="invalid_token" (Bearer, RFC 6750 §3.1; with
// DPoP also a DPoP challenge, RFC 9449 §7.1).
func isInvalidToken(c *core.Client, h safejs.Value) bool {
	www := headerString(h, "www-authenticate")
	if c.DPoP() {
		return core.InvalidTokenChallenge(www)
	}
	return core.BearerError(www) == "invalid_token"
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
