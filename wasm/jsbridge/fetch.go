//go:build js && wasm

package jsbridge

import (
	"context"

	"github.com/hack-pad/safejs"
	"github.com/pkce-wasm/pkce-wasm/wasm/core"
)

// FetchDoer is core.HTTPDoer over the host's fetch. Requests to the provider carry no cookies
// (credentials "omit"), bypass the HTTP cache, and refuse redirects: a token endpoint that
// redirects is misconfigured or hostile, and following would resend the code or refresh token.
type FetchDoer struct{ b *Bridge }

func (d FetchDoer) Do(ctx context.Context, r *core.HTTPRequest) (*core.HTTPResponse, error) {
	b := d.b
	init, err := b.objectCtor.New()
	if err != nil {
		return nil, err
	}
	headers, err := b.objectCtor.New()
	if err != nil {
		return nil, err
	}
	for k, v := range r.Header {
		if err := headers.Set(k, v); err != nil {
			return nil, err
		}
	}
	abort, err := b.abortCtor.New()
	if err != nil {
		return nil, err
	}
	signal, err := abort.Get("signal")
	if err != nil {
		return nil, err
	}
	for k, v := range map[string]any{"method": r.Method, "credentials": "omit", "cache": "no-store", "redirect": "error", "mode": "cors"} {
		if err := init.Set(k, v); err != nil {
			return nil, err
		}
	}
	if err := init.Set("headers", headers); err != nil {
		return nil, err
	}
	if err := init.Set("signal", signal); err != nil {
		return nil, err
	}
	if r.Body != "" {
		if err := init.Set("body", r.Body); err != nil {
			return nil, err
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		<-ctx.Done()
		_, _ = abort.Call("abort")
	}()
	p, err := b.fetch(r.URL, init)
	if err != nil {
		return nil, err
	}
	res, err := Await(ctx, p)
	if err != nil {
		return nil, err
	}
	out := &core.HTTPResponse{}
	if out.Status, err = getInt(res, "status"); err != nil {
		return nil, err
	}
	if h, err := res.Get("headers"); err == nil {
		if ct, err := h.Call("get", "content-type"); err == nil && !ct.IsNull() {
			out.ContentType, _ = ct.String()
		}
		out.DPoPNonce = headerString(h, "dpop-nonce")
		out.WWWAuthenticate = headerString(h, "www-authenticate")
	}
	if out.Body, err = b.readCapped(ctx, res, core.MaxResponseBytes); err != nil {
		return nil, err
	}
	return out, nil
}

// readCapped reads res.body through its stream reader and stops at max bytes: a hostile endpoint
// cannot make us buffer more than that (the stream is cancelled, the rest never downloaded). The
// body is cut at max; parsers treat a body of max bytes as oversized (core.MaxResponseBytes).
func (b *Bridge) readCapped(ctx context.Context, res safejs.Value, max int) ([]byte, error) {
	body, err := res.Get("body")
	if err != nil {
		return nil, err
	}
	if body.IsNull() || body.IsUndefined() {
		return nil, nil // no body (204, HEAD) or a Response without one
	}
	reader, err := body.Call("getReader")
	if err != nil {
		return nil, err
	}
	var out []byte
	for len(out) < max {
		p, err := reader.Call("read")
		if err != nil {
			return nil, err
		}
		chunk, err := Await(ctx, p)
		if err != nil {
			return nil, err
		}
		if done, _ := chunk.Get("done"); isTruthy(done) {
			return out, nil
		}
		v, err := chunk.Get("value")
		if err != nil {
			return nil, err
		}
		n, err := getInt(v, "length")
		if err != nil {
			return nil, err
		}
		take := min(n, max-len(out))
		if take < n {
			if v, err = v.Call("subarray", 0, take); err != nil {
				return nil, err
			}
		}
		buf := make([]byte, take)
		if _, err := safejs.CopyBytesToGo(buf, v); err != nil {
			return nil, err
		}
		out = append(out, buf...)
	}
	_, _ = reader.Call("cancel") // at the cap: stop the download
	return out, nil
}

func getInt(v safejs.Value, prop string) (int, error) {
	p, err := v.Get(prop)
	if err != nil {
		return 0, err
	}
	return p.Int()
}

func getString(v safejs.Value, prop string) (string, error) {
	p, err := v.Get(prop)
	if err != nil {
		return "", err
	}
	return p.String()
}

func isTruthy(v safejs.Value) bool {
	t, _ := v.Truthy()
	return t
}
