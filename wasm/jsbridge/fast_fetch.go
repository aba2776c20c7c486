//go:build js && wasm

package jsbridge

import (
	"context"

	"github.com/hack-pad/safejs"
	"github.com/pkce-wasm/pkce-wasm/wasm/core"
)

// The wrapped fetch's fast path, for a host that sends requests itself (Host.FastFetch: the
// worker script). wrappedFetch costs a Promise, a goroutine, a Request built through syscall/js
// and an Await per call; here the common case is one synchronous call that returns the token,
// and the host's JS builds the Request, sets the header and calls fetch:
//
//	fetchToken(url) → null       send without a token (origin not allow-listed, or signed out)
//	                → "<token>"  send with "Authorization: Bearer <token>"
//	                → undefined  use fetch(input, init) (the slow path: a refresh is due, or
//	                             DPoP, whose proofs wrappedFetch builds)
//	rejectedToken(token, finalURL, wwwAuthenticate) → Promise<string | null>
//	                after a 401: the token to retry with once, or null to hand back the 401
//
// The same rules as wrappedFetch: the token only for allow-listed origins (RFC 6750 §5.3); after
// a 401 with error="invalid_token" from an allow-listed origin, one refresh and one retry.
func (b *Bridge) addFastFetch(obj safejs.Value, c *core.Client) error {
	token, err := b.Func(func(args []safejs.Value) any {
		u, err := arg(args, 0).String()
		if err != nil || !c.AllowsOrigin(u) || !c.Authenticated() {
			return nil
		}
		if c.DPoP() {
			// Each request needs a proof signed for its method and URL (and maybe a nonce
			// retry): Go's wrappedFetch does that.
			return safejs.Undefined()
		}
		if tok, ok := c.CurrentAccessToken(); ok {
			return tok
		}
		return safejs.Undefined()
	})
	if err != nil {
		return err
	}
	if err := obj.Set("fetchToken", token); err != nil {
		return err
	}
	rejected, err := b.Func(func(args []safejs.Value) any {
		tok, _ := arg(args, 0).String()
		final, _ := arg(args, 1).String()
		www, _ := arg(args, 2).String()
		return b.NewPromise(func(ctx context.Context) (any, error) {
			if tok == "" || core.BearerError(www) != "invalid_token" || !c.AllowsOrigin(final) {
				return nil, nil
			}
			return c.RefreshAfterRejection(ctx, tok)
		})
	})
	if err != nil {
		return err
	}
	return obj.Set("rejectedToken", rejected)
}
