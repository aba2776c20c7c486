//go:build js && wasm

package jsbridge

import (
	"context"
	"net/url"
	"time"

	"github.com/hack-pad/safejs"
	"github.com/pkce-wasm/pkce-wasm/wasm/core"
)

// configKeys are the options create accepts; anything else is a typo we report.
// Page-only options (isolation, workerUrl, wasmUrl) are taken out by the loader before this.
var configKeys = append([]string{"issuer", "clientId", "redirectUri", "scope", "resourceOrigins",
	"postLogoutRedirectUri", "clockSkewSeconds", "refreshMarginSeconds", "autoRefresh", "exposeAccessToken",
	"dpop"},
	authOptionKeys...)

// ReadConfig converts the options object given to PkceWasm.create into a core.Config, type-checking
// every member so that mistakes fail at create with invalid_config.
func (b *Bridge) ReadConfig(o safejs.Value) (core.Config, error) {
	var c core.Config
	if o.Type() != safejs.TypeObject || o.IsNull() {
		return c, &core.Error{Code: core.CodeInvalidConfig, Description: "create needs an options object"}
	}
	keys, err := b.objectCtor.Call("keys", o)
	if err != nil {
		return c, err
	}
	n, _ := keys.Length()
	for i := 0; i < n; i++ {
		k, _ := keys.Index(i)
		ks, _ := k.String()
		if !containsString(configKeys, ks) {
			return c, &core.Error{Code: core.CodeInvalidConfig, Description: "unknown option \"" + ks + "\""}
		}
	}
	str := func(name string, dst *string) error {
		v, err := o.Get(name)
		if err != nil || v.IsUndefined() {
			return err
		}
		if v.Type() != safejs.TypeString {
			return &core.Error{Code: core.CodeInvalidConfig, Description: name + " must be a string"}
		}
		*dst, err = v.String()
		return err
	}
	seconds := func(name string, dst *time.Duration) error {
		v, err := o.Get(name)
		if err != nil || v.IsUndefined() {
			return err
		}
		f, err := v.Float()
		if err != nil || !(f >= 0 && f <= 86400) { // also rejects NaN
			return &core.Error{Code: core.CodeInvalidConfig, Description: name + " must be a number of seconds (0-86400)"}
		}
		*dst = time.Duration(f * float64(time.Second))
		return nil
	}
	for _, e := range []error{
		str("issuer", &c.Issuer), str("clientId", &c.ClientID), str("redirectUri", &c.RedirectURI),
		str("scope", &c.Scope), str("postLogoutRedirectUri", &c.PostLogoutRedirectURI),
		seconds("clockSkewSeconds", &c.ClockSkew), seconds("refreshMarginSeconds", &c.RefreshMargin),
	} {
		if e != nil {
			return c, e
		}
	}
	if v, err := o.Get("autoRefresh"); err == nil && !v.IsUndefined() {
		if v.Type() != safejs.TypeBoolean {
			return c, &core.Error{Code: core.CodeInvalidConfig, Description: "autoRefresh must be a boolean"}
		}
		on, _ := v.Bool()
		c.NoAutoRefresh = !on
	}
	if v, err := o.Get("dpop"); err == nil && !v.IsUndefined() {
		if v.Type() != safejs.TypeBoolean {
			return c, &core.Error{Code: core.CodeInvalidConfig, Description: "dpop must be a boolean"}
		}
		c.DPoP, _ = v.Bool()
	}
	ao, err := b.readAuthOptions(o)
	if err != nil {
		return c, err
	}
	c.Audience, c.Resource, c.MaxAge, c.ACRValues, c.ExtraParams = ao.Audience, ao.Resource, ao.MaxAge, ao.ACRValues, ao.ExtraParams
	ro, err := o.Get("resourceOrigins")
	if err != nil {
		return c, err
	}
	if !ro.IsUndefined() {
		isArray, _ := b.global.Get("Array")
		ok, _ := isArray.Call("isArray", ro)
		if t, _ := ok.Bool(); !t {
			return c, &core.Error{Code: core.CodeInvalidConfig, Description: "resourceOrigins must be an array of origin strings"}
		}
		n, _ := ro.Length()
		for i := 0; i < n; i++ {
			v, _ := ro.Index(i)
			if v.Type() != safejs.TypeString {
				return c, &core.Error{Code: core.CodeInvalidConfig, Description: "resourceOrigins must be an array of origin strings"}
			}
			s, _ := v.String()
			c.ResourceOrigins = append(c.ResourceOrigins, s)
		}
	}
	return c, nil
}

// Host is what the JS side hands to Create: where the login transaction is kept, where events
// go, and whether this client is the one shared by every tab (a SharedWorker).
//
//	host.store.put(key, value) and host.store.take(key) → value or null (may return Promises)
//	host.emit(name, detail)
//	host.shared: true in a SharedWorker (no cross-tab signals needed: every tab talks to it)
//	host.keys: the DPoP key pair's store (see DPoPKeys); used with the dpop option
type Host struct {
	Store  TxStore
	Emit   safejs.Value
	Shared bool
	Keys   safejs.Value
	// FastFetch: the host (the worker script) builds and sends the wrapped fetch's requests itself
	// and asks Go only for the token: the client object gets fetchToken and rejectedToken
	// (fast_fetch.go). Only a host whose JS no page script can reach may ask for it.
	FastFetch bool
}

// Create builds a client from JS options and returns its JS face (clientObject). It does no
// network I/O; discovery happens on first use.
func (b *Bridge) Create(opts, host safejs.Value) (safejs.Value, error) {
	cfg, err := b.ReadConfig(opts)
	if err != nil {
		return safejs.Undefined(), err
	}
	h, err := b.readHost(host)
	if err != nil {
		return safejs.Undefined(), err
	}
	o := ClientOptions{Shared: h.Shared}
	if cfg.DPoP {
		o.DPoPKeys = DPoPKeys{b: b, store: h.Keys}
	}
	if h.Emit.Type() == safejs.TypeFunction {
		o.Emit = func(event string, detail map[string]any) {
			d, err := safejs.ValueOf(detail)
			if err != nil {
				d = safejs.Undefined()
			}
			_, _ = h.Emit.Invoke(event, d)
		}
	}
	c, err := b.NewCoreClient(cfg, h.Store, o)
	if err != nil {
		return safejs.Undefined(), err
	}
	expose := optBool(opts, "exposeAccessToken")
	obj, err := b.clientObject(c, expose)
	if err != nil || !h.FastFetch {
		return obj, err
	}
	return obj, b.addFastFetch(obj, c)
}

// ClientOptions are what differs between the browser clients NewCoreClient builds.
type ClientOptions struct {
	Emit     func(event string, detail map[string]any) // lifecycle events; nil: none
	Shared   bool                                      // a SharedWorker's client: no cross-tab signal needed
	DPoPKeys core.DPoPKeyStore                         // with Config.DPoP
}

// NewCoreClient is the one place a core.Client is assembled in a browser (the JS bundle's Create
// and the Go API, wasm/pkce): JS fetch, WebCrypto, crypto.getRandomValues, the given transaction
// store and, for a client of one tab (a dedicated worker, or the page itself), the token-free
// logout signal between tabs. No token ever crosses between tabs.
func (b *Bridge) NewCoreClient(cfg core.Config, store core.TxStore, o ClientOptions) (*core.Client, error) {
	deps := core.Deps{HTTP: FetchDoer{b}, Store: store, Verify: b.WebCryptoVerify, Rand: CryptoRand{B: b},
		Emit: o.Emit, DPoPKeys: o.DPoPKeys}
	// Messages from other tabs wait until the client exists.
	var c *core.Client
	ready := make(chan struct{})
	if !o.Shared {
		if tabs := b.NewTabs(cfg.Issuer+"|"+cfg.ClientID, func(msg string) {
			<-ready
			if c != nil {
				c.HandleTabMessage(msg)
			}
		}); tabs != nil {
			deps.Tabs = tabs
		}
	}
	c, err := core.NewClient(cfg, deps)
	close(ready)
	return c, err
}

func (b *Bridge) readHost(host safejs.Value) (Host, error) {
	var h Host
	if host.Type() != safejs.TypeObject || host.IsNull() {
		return h, &core.Error{Code: core.CodeInternal, Description: "create needs a host object from the loader"}
	}
	store, err := host.Get("store")
	if err != nil || store.Type() != safejs.TypeObject || store.IsNull() {
		return h, &core.Error{Code: core.CodeStorageError, Description: "no storage for the login transaction"}
	}
	h.Store = TxStore{b: b, store: store}
	h.Emit, _ = host.Get("emit")
	h.Shared = optBool(host, "shared")
	h.Keys, _ = host.Get("keys")
	h.FastFetch = optBool(host, "fastFetch")
	return h, nil
}

// clientObject exposes c to JS: the protocol steps, each returning a Promise. Page plumbing
// (navigation, popups, iframes, forms) is the loader's (js/src/pkce-wasm.js), so the same object
// serves a page and a worker.
func (b *Bridge) clientObject(c *core.Client, exposeAccessToken bool) (safejs.Value, error) {
	obj := b.newObject()
	methods := map[string]func(ctx context.Context, args []safejs.Value) (any, error){
		"beginLogin": func(ctx context.Context, a []safejs.Value) (any, error) {
			return b.beginLogin(ctx, c, arg(a, 0))
		},
		"callback": func(ctx context.Context, a []safejs.Value) (any, error) {
			if arg(a, 0).Type() != safejs.TypeString {
				return nil, &core.Error{Code: core.CodeInvalidCallback, Description: "callback needs the callback URL"}
			}
			u, _ := arg(a, 0).String()
			r, err := c.Callback(ctx, u)
			if err != nil {
				return nil, err
			}
			return b.callbackResult(r), nil
		},
		"prefetch": func(ctx context.Context, _ []safejs.Value) (any, error) {
			c.Prefetch(ctx)
			return nil, nil
		},
		"isAuthenticated": func(ctx context.Context, _ []safejs.Value) (any, error) {
			return c.Authenticated(), nil
		},
		"getUser": func(ctx context.Context, _ []safejs.Value) (any, error) {
			return b.user(c)
		},
		"getUserInfo": func(ctx context.Context, _ []safejs.Value) (any, error) {
			p, err := c.UserInfo(ctx)
			if err != nil {
				return nil, err
			}
			return b.json.Call("parse", string(p))
		},
		"fetch": func(ctx context.Context, a []safejs.Value) (any, error) {
			return b.wrappedFetch(ctx, c, a)
		},
		"logout": func(ctx context.Context, a []safejs.Value) (any, error) {
			return b.logout(ctx, c, arg(a, 0))
		},
		// getSession({refresh: true}) is auth.refresh(): the new token stays here, the caller gets
		// the session's token-free description (one method: each closure costs module bytes).
		"getSession": func(ctx context.Context, a []safejs.Value) (any, error) {
			if optBool(arg(a, 0), "refresh") {
				if _, err := c.Refresh(ctx); err != nil {
					return nil, err
				}
			}
			return b.session(c), nil
		},
	}
	if exposeAccessToken {
		// Opt-in escape hatch: gives up isolation for the access token (never the refresh token).
		methods["getAccessToken"] = func(ctx context.Context, _ []safejs.Value) (any, error) {
			return c.AccessToken(ctx)
		}
	}
	for name, m := range methods {
		f, err := b.Func(func(args []safejs.Value) any {
			return b.NewPromise(func(ctx context.Context) (any, error) { return m(ctx, args) })
		})
		if err != nil {
			return safejs.Undefined(), err
		}
		if err := obj.Set(name, f); err != nil {
			return safejs.Undefined(), err
		}
	}
	return obj, nil
}

func arg(a []safejs.Value, i int) safejs.Value {
	if i < len(a) {
		return a[i]
	}
	return safejs.Undefined()
}

// optString reads o[name] when o is an object and the member a string.
func optString(o safejs.Value, name string) (string, error) {
	if o.Type() != safejs.TypeObject || o.IsNull() {
		return "", nil
	}
	v, err := o.Get(name)
	if err != nil || v.IsUndefined() || v.IsNull() {
		return "", err
	}
	if v.Type() != safejs.TypeString {
		return "", &core.Error{Code: core.CodeInvalidConfig, Description: name + " must be a string"}
	}
	return v.String()
}

func optBool(o safejs.Value, name string) bool {
	if o.Type() != safejs.TypeObject || o.IsNull() {
		return false
	}
	v, err := o.Get(name)
	if err != nil {
		return false
	}
	t, _ := v.Truthy()
	return t
}

// beginLogin stores a fresh transaction and returns {url, state}: the loader navigates (redirect),
// points a popup or a hidden iframe at url, and waits for the callback of state.
func (b *Bridge) beginLogin(ctx context.Context, c *core.Client, o safejs.Value) (any, error) {
	var lo core.LoginOptions
	var err error
	for _, f := range []struct {
		name string
		dst  *string
	}{{"returnTo", &lo.ReturnTo}, {"prompt", &lo.Prompt}, {"loginHint", &lo.LoginHint}, {"mode", &lo.Mode}} {
		if *f.dst, err = optString(o, f.name); err != nil {
			return nil, err
		}
	}
	ao, err := b.readAuthOptions(o)
	if err != nil {
		return nil, err
	}
	lo.Audience, lo.Resource, lo.MaxAge, lo.ACRValues, lo.ExtraParams = ao.Audience, ao.Resource, ao.MaxAge, ao.ACRValues, ao.ExtraParams
	u, err := c.BeginLogin(ctx, lo)
	if err != nil {
		return nil, err
	}
	out := b.newObject()
	_ = out.Set("url", u)
	if pu, err := url.Parse(u); err == nil {
		_ = out.Set("state", pu.Query().Get("state"))
	}
	return out, nil
}

// callbackResult is the JS face of a core.CallbackResult: {returnTo, signedIn, mode}.
func (b *Bridge) callbackResult(r *core.CallbackResult) safejs.Value {
	out := b.newObject()
	_ = out.Set("returnTo", r.ReturnTo)
	_ = out.Set("signedIn", !r.NoSession)
	_ = out.Set("mode", r.Mode)
	return out
}

// session is the JS face of core.Client.SessionInfo: null when signed out, else
// {expiresAt: unix seconds or null, scope: string or null, refreshable}. Never a token.
func (b *Bridge) session(c *core.Client) any {
	si := c.SessionInfo()
	if si == nil {
		return nil
	}
	out := b.newObject()
	var exp, scope any
	if !si.ExpiresAt.IsZero() {
		exp = float64(si.ExpiresAt.Unix())
	}
	if si.Scope != "" {
		scope = si.Scope
	}
	_ = out.Set("expiresAt", exp)
	_ = out.Set("scope", scope)
	_ = out.Set("refreshable", si.Refreshable)
	return out
}

func (b *Bridge) user(c *core.Client) (any, error) {
	p := c.UserClaims()
	if p == nil {
		return nil, nil
	}
	return b.json.Call("parse", string(p))
}

// logout forgets the tokens (core.Client.Logout) and answers {navigate}: where the loader sends
// the browser next — the provider's end_session_endpoint (OIDC RP-Initiated Logout 1.0 §2, with
// client_id and post_logout_redirect_uri), the caller's returnTo path, or null (stay).
// The ID token is not sent as id_token_hint: it would pass through page JavaScript.
func (b *Bridge) logout(ctx context.Context, c *core.Client, o safejs.Value) (any, error) {
	returnTo, err := optString(o, "returnTo")
	if err != nil {
		return nil, err
	}
	if returnTo != "" {
		// The same rule as login's returnTo: a same-origin path, never a javascript: URL.
		if returnTo, err = core.CheckReturnTo(returnTo); err != nil {
			return nil, err
		}
	}
	req := c.Logout(ctx)
	out := b.newObject()
	_ = out.Set("navigate", nil)
	switch {
	case !optBool(o, "localOnly") && req.Endpoint != "":
		p := url.Values{}
		for k, v := range req.Params {
			if k != "id_token_hint" {
				p[k] = v
			}
		}
		u, err := url.Parse(req.Endpoint)
		if err != nil {
			return nil, &core.Error{Code: core.CodeDiscoveryFailed, Description: "end_session_endpoint cannot be parsed"}
		}
		q := u.Query()
		for k, v := range p {
			q[k] = v
		}
		u.RawQuery = q.Encode()
		_ = out.Set("navigate", u.String())
	case returnTo != "":
		_ = out.Set("navigate", returnTo)
	}
	return out, nil
}

func containsString(l []string, s string) bool {
	for _, v := range l {
		if v == s {
			return true
		}
	}
	return false
}
