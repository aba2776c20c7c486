package pkce

import (
	"context"
	"encoding/json"
	"net/url"

	"github.com/pkce-wasm/pkce-wasm/wasm/core"
)

// Config is the client configuration, the same one the JS API's PkceWasm.create takes (see
// core.Config for the fields, their defaults and the checks New applies).
type Config = core.Config

// Error is the one error type the client returns; Code is stable (core.CodeLoginRequired,
// "access_denied", ...). Errors from an http.Client made by HTTPClient wrap it.
type Error = core.Error

// ErrorCode returns the stable code of err (errors.As on *Error), or core.CodeInternal when err
// does not come from this package.
func ErrorCode(err error) string { return core.ErrorCode(err) }

// LoginOptions tune one sign-in (Client.Login).
type LoginOptions struct {
	ReturnTo  string // same-origin path HandleCallback returns after the sign-in; default "/"
	Prompt    string // OIDC Core §3.1.2.1 prompt, e.g. "login"; "" for none
	LoginHint string // OIDC Core §3.1.2.1 login_hint
}

// LogoutOptions tune a sign-out (Client.Logout).
type LogoutOptions struct {
	// ReturnTo is where the page goes when the provider session is not ended (LocalOnly, or no
	// end_session_endpoint); "" stays on the page. The provider's logout returns to
	// Config.PostLogoutRedirectURI instead.
	ReturnTo string
	// LocalOnly forgets the tokens here and in the origin's other tabs but leaves the session at
	// the provider alone.
	LocalOnly bool
}

// Client is a signed-in (or not yet) browser session: a core.Client wired to the page. All
// methods are safe for concurrent use. Create it with New.
type Client struct {
	core *core.Client
	page page
}

// page is the browser window the client drives; in the browser it is jsbridge (browser_js.go).
type page interface {
	Href() (string, error)                             // location.href
	ReplaceURL(u string) error                         // history.replaceState
	Navigate(u string) error                           // location.assign
	PostForm(endpoint string, params url.Values) error // navigation by hidden form POST
}

// New validates cfg and returns a client wired to the browser (jsbridge.NewCoreClient): JS fetch
// for the provider, sessionStorage for the login transaction, WebCrypto for ID-token signatures,
// and a token-free logout signal to the origin's other tabs (the JS bundle's clients of the same
// issuer and client id included). No token ever crosses between tabs: each tab signs in on its
// own. It does no network I/O; discovery happens on first use.
//
// New works only in a browser (GOOS=js GOARCH=wasm); elsewhere it returns an error.
func New(cfg Config) (*Client, error) { return newInBrowser(cfg) }

func newClient(cfg Config, deps core.Deps, p page) (*Client, error) {
	c, err := core.NewClient(cfg, deps)
	if err != nil {
		return nil, err
	}
	return &Client{core: c, page: p}, nil
}

// Config returns the validated configuration, defaults filled in.
func (c *Client) Config() Config { return c.core.Config() }

// Login starts a sign-in: it stores a fresh single-use transaction (state, nonce, PKCE verifier)
// in sessionStorage and sends the page to the provider's authorization endpoint. On success the
// page navigates away, so nothing after Login runs for long; the sign-in completes when the
// provider redirects back to Config.RedirectURI and the program there calls HandleCallback.
func (c *Client) Login(ctx context.Context, o LoginOptions) error {
	u, err := c.core.BeginLogin(ctx, core.LoginOptions{ReturnTo: o.ReturnTo, Prompt: o.Prompt, LoginHint: o.LoginHint})
	if err != nil {
		return err
	}
	if err := c.page.Navigate(u); err != nil {
		return &Error{Code: core.CodeInternal, Description: "cannot navigate to the provider", Err: err}
	}
	return nil
}

// IsCallback reports whether the page's URL looks like an authorization response (state plus
// code or error). It validates nothing; HandleCallback does.
func (c *Client) IsCallback() bool {
	href, err := c.page.Href()
	return err == nil && core.IsCallbackURL(href)
}

// HandleCallback completes the sign-in on the redirect URI page: it takes the page's URL
// (location.href), removes the authorization response parameters from the address bar at once
// (history.replaceState, whatever the outcome: a reload must not replay the code, and it must not
// leak through history or Referer), checks the response against the pending transaction
// (RFC 6749 §4.1.2, RFC 9207), exchanges the code with its PKCE verifier, validates the tokens
// and the ID token, and keeps them in memory. It returns the path given as LoginOptions.ReturnTo,
// which the caller may put into the address bar (history.replaceState) or route to.
//
// Only top-level redirect logins are handled: a popup or silent login started by the JS API is
// finished by the window that started it.
func (c *Client) HandleCallback(ctx context.Context) (returnTo string, err error) {
	href, err := c.page.Href()
	if err != nil {
		return "", &Error{Code: core.CodeInternal, Description: "cannot read location.href", Err: err}
	}
	_ = c.page.ReplaceURL(core.CleanCallbackURL(href))
	r, err := c.core.Callback(ctx, href)
	if err != nil {
		return "", err
	}
	return r.ReturnTo, nil
}

// Logout forgets the tokens, in this tab and the origin's other tabs, revokes the refresh token
// where the provider supports RFC 7009 (best effort), and, unless o.LocalOnly, ends the session at
// the provider with RP-initiated logout: the page navigates to its end_session_endpoint by a form
// POST, so that the ID token sent as id_token_hint never appears in a URL. Without an
// end_session_endpoint (or with LocalOnly) the page goes to o.ReturnTo, if set.
func (c *Client) Logout(ctx context.Context, o LogoutOptions) error {
	if !o.LocalOnly {
		// Learn the end_session_endpoint if nothing did yet (a session handed over by another
		// tab); without it the logout is local only.
		_, _ = c.core.Discover(ctx)
	}
	req := c.core.Logout(ctx)
	var err error
	switch {
	case !o.LocalOnly && req.Endpoint != "":
		err = c.page.PostForm(req.Endpoint, req.Params)
	case o.ReturnTo != "":
		err = c.page.Navigate(o.ReturnTo)
	}
	if err != nil {
		return &Error{Code: core.CodeInternal, Description: "cannot navigate after logout", Err: err}
	}
	return nil
}

// Authenticated reports whether the client holds tokens. It does not check them with the
// provider; a request through HTTPClient or TokenSource refreshes them when they are due.
func (c *Client) Authenticated() bool {
	return c.core.Authenticated()
}

// User returns the claims of the validated ID token (sub, name, email, ...; numbers are float64),
// or nil when signed out.
func (c *Client) User() map[string]any {
	b := c.core.UserClaims()
	if b == nil {
		return nil
	}
	var claims map[string]any
	if err := json.Unmarshal(b, &claims); err != nil { // the core parsed it already: cannot fail
		return nil
	}
	return claims
}
