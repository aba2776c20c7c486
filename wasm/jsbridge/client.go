//go:build js && wasm

package jsbridge

import (
	"context"
	"time"

	"github.com/hack-pad/safejs"
	"github.com/pkce-wasm/pkce-wasm/wasm/core"
)

// configKeys are the options create accepts; anything else is a typo we report.
var configKeys = []string{"issuer", "clientId", "redirectUri", "scope", "resourceOrigins",
	"postLogoutRedirectUri", "clockSkewSeconds", "refreshMarginSeconds", "tabHandoffMs", "autoRefresh", "wasmUrl"}

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

// defaultTabHandoff is how long a new page waits for another tab to hand over its session.
const defaultTabHandoff = 100 * time.Millisecond

// Create builds a client from JS options and returns its JS face: an object whose methods all
// return Promises. emit(name, detail) receives lifecycle events. It does no network I/O; discovery
// happens on first use.
func (b *Bridge) Create(opts, emit safejs.Value) (safejs.Value, error) {
	cfg, err := b.ReadConfig(opts)
	if err != nil {
		return safejs.Undefined(), err
	}
	handoff := defaultTabHandoff
	if v, err := opts.Get("tabHandoffMs"); err == nil && !v.IsUndefined() {
		ms, err := v.Float()
		if err != nil || !(ms >= 0 && ms <= 10000) {
			return safejs.Undefined(), &core.Error{Code: core.CodeInvalidConfig, Description: "tabHandoffMs must be a number of milliseconds (0-10000)"}
		}
		handoff = time.Duration(ms * float64(time.Millisecond))
	}
	store, err := NewSessionStore()
	if err != nil {
		return safejs.Undefined(), &core.Error{Code: core.CodeStorageError, Description: "sessionStorage is not available: " + err.Error()}
	}
	deps := core.Deps{HTTP: FetchDoer{b}, Store: store, Verify: b.WebCryptoVerify, Rand: CryptoRand{B: b}}
	if emit.Type() == safejs.TypeFunction {
		deps.Emit = func(event string, detail map[string]any) {
			d, err := safejs.ValueOf(detail)
			if err != nil {
				d = safejs.Undefined()
			}
			_, _ = emit.Invoke(event, d)
		}
	}
	var c *core.Client
	ready := make(chan struct{})
	tabs := b.NewTabs(cfg.Issuer+"|"+cfg.ClientID, func(msg string) {
		<-ready
		c.HandleTabMessage(msg)
	})
	if tabs != nil {
		deps.Tabs = tabs
	}
	if c, err = core.NewClient(cfg, deps); err != nil {
		return safejs.Undefined(), err
	}
	close(ready)
	if href, err := b.currentHref(); err == nil && core.IsCallbackURL(href) {
		// On the redirect URI page the exchange needs discovery and the JWKS: fetch them while
		// the app is still starting up.
		go c.Prefetch(context.Background())
	}
	// No session crosses tabs any more (core/tabs.go carries only the logout signal), so there
	// is no start-up handoff to wait for; tabHandoffMs is still validated, then ignored.
	_ = handoff
	restored := make(chan struct{})
	close(restored)
	return b.clientObject(&jsClient{c: c, restored: restored})
}

// jsClient is one client as JS sees it.
type jsClient struct {
	c        *core.Client
	restored chan struct{} // closed when the start-up handoff from other tabs is over
}

func (j *jsClient) waitRestored(ctx context.Context) {
	select {
	case <-j.restored:
	case <-ctx.Done():
	}
}

// clientObject exposes c to JS. Each method returns a Promise (so the client could move into a
// Worker without an API change).
func (b *Bridge) clientObject(j *jsClient) (safejs.Value, error) {
	c := j.c
	obj := b.newObject()
	methods := map[string]func(ctx context.Context, args []safejs.Value, popup safejs.Value) (any, error){
		"login": func(ctx context.Context, a []safejs.Value, _ safejs.Value) (any, error) {
			return b.login(ctx, c, arg(a, 0))
		},
		"loginPopup": func(ctx context.Context, a []safejs.Value, p safejs.Value) (any, error) {
			return b.loginPopup(ctx, c, arg(a, 0), p)
		},
		"signInSilently": func(ctx context.Context, a []safejs.Value, _ safejs.Value) (any, error) {
			return b.signInSilently(ctx, c, arg(a, 0))
		},
		"handleCallback": func(ctx context.Context, a []safejs.Value, _ safejs.Value) (any, error) {
			return b.handleCallback(ctx, c, arg(a, 0))
		},
		"isAuthenticated": func(ctx context.Context, _ []safejs.Value, _ safejs.Value) (any, error) {
			j.waitRestored(ctx)
			return c.Authenticated(), nil
		},
		"getUser": func(ctx context.Context, _ []safejs.Value, _ safejs.Value) (any, error) {
			j.waitRestored(ctx)
			return b.user(c)
		},
		"getUserInfo": func(ctx context.Context, _ []safejs.Value, _ safejs.Value) (any, error) {
			j.waitRestored(ctx)
			p, err := c.UserInfo(ctx)
			if err != nil {
				return nil, err
			}
			return b.json.Call("parse", string(p))
		},
		"fetch": func(ctx context.Context, a []safejs.Value, _ safejs.Value) (any, error) {
			j.waitRestored(ctx)
			return b.wrappedFetch(ctx, c, a)
		},
		"logout": func(ctx context.Context, a []safejs.Value, _ safejs.Value) (any, error) {
			return b.logout(ctx, c, arg(a, 0))
		},
	}
	for name, m := range methods {
		m, name := m, name
		f, err := b.Func(func(args []safejs.Value) any {
			popup := safejs.Undefined()
			if name == "loginPopup" {
				// window.open must run now, while the click's user activation is certain; the
				// popup is pointed at the provider once the authorization URL is ready.
				popup = b.openPopup()
			}
			return b.NewPromise(func(ctx context.Context) (any, error) { return m(ctx, args, popup) })
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

func (b *Bridge) login(ctx context.Context, c *core.Client, o safejs.Value) (any, error) {
	var lo core.LoginOptions
	var err error
	for _, f := range []struct {
		name string
		dst  *string
	}{{"returnTo", &lo.ReturnTo}, {"prompt", &lo.Prompt}, {"loginHint", &lo.LoginHint}} {
		if *f.dst, err = optString(o, f.name); err != nil {
			return nil, err
		}
	}
	u, err := c.BeginLogin(ctx, lo)
	if err != nil {
		return nil, err
	}
	return nil, b.navigate(u)
}

func (b *Bridge) navigate(u string) error {
	loc, err := b.global.Get("location")
	if err != nil {
		return err
	}
	_, err = loc.Call("assign", u)
	return err
}

func (b *Bridge) handleCallback(ctx context.Context, c *core.Client, urlArg safejs.Value) (any, error) {
	if forwarded, err := b.forwardCallback(urlArg); forwarded || err != nil {
		if err != nil {
			return nil, err
		}
		out := b.newObject()
		_ = out.Set("returnTo", "/")
		_ = out.Set("forwarded", true)
		return out, nil
	}
	loc, err := b.global.Get("location")
	if err != nil {
		return nil, err
	}
	href, err := getString(loc, "href")
	if err != nil {
		return nil, err
	}
	target := href
	if urlArg.Type() == safejs.TypeString {
		target, _ = urlArg.String()
	}
	if target == href {
		// Whatever the outcome, the code and state leave the address bar now: a reload must not
		// replay them, and they must not leak through history or Referer.
		if h, err := b.global.Get("history"); err == nil {
			st, _ := h.Get("state")
			_, _ = h.Call("replaceState", st, "", core.CleanCallbackURL(href))
		}
	}
	r, err := c.Callback(ctx, target)
	if err != nil {
		return nil, err
	}
	return b.callbackResult(r), nil
}

func (b *Bridge) user(c *core.Client) (any, error) {
	p := c.UserClaims()
	if p == nil {
		return nil, nil
	}
	return b.json.Call("parse", string(p))
}

func (b *Bridge) logout(ctx context.Context, c *core.Client, o safejs.Value) (any, error) {
	returnTo, err := optString(o, "returnTo")
	if err != nil {
		return nil, err
	}
	req := c.Logout(ctx)
	if optBool(o, "localOnly") || req.Endpoint == "" {
		if returnTo != "" {
			return nil, b.navigate(returnTo)
		}
		return nil, nil
	}
	return nil, b.postForm(req.Endpoint, req.Params)
}

// postForm navigates to endpoint with a form POST, keeping the parameters (here the ID token used
// as id_token_hint) out of the URL (OIDC RP-Initiated Logout §2 requires OPs to accept POST).
func (b *Bridge) postForm(endpoint string, params map[string][]string) error {
	doc, err := b.global.Get("document")
	if err != nil {
		return err
	}
	form, err := doc.Call("createElement", "form")
	if err != nil {
		return err
	}
	_ = form.Set("method", "post")
	_ = form.Set("action", endpoint)
	_ = form.Set("hidden", true)
	for k, vs := range params {
		for _, v := range vs {
			in, err := doc.Call("createElement", "input")
			if err != nil {
				return err
			}
			_ = in.Set("type", "hidden")
			_ = in.Set("name", k)
			_ = in.Set("value", v)
			if _, err := form.Call("appendChild", in); err != nil {
				return err
			}
		}
	}
	body, err := doc.Get("body")
	if err != nil {
		return err
	}
	if _, err := body.Call("appendChild", form); err != nil {
		return err
	}
	_, err = form.Call("submit")
	return err
}

func containsString(l []string, s string) bool {
	for _, v := range l {
		if v == s {
			return true
		}
	}
	return false
}
