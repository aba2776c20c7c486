//go:build js && wasm

package jsbridge

import (
	"context"
	"net/url"
	"time"

	"github.com/hack-pad/safejs"
	"github.com/pkce-wasm/pkce-wasm/wasm/core"
)

// Popup and silent (hidden iframe) logins. The provider redirects the popup or iframe to the
// redirect URI; the page there calls handleCallback, which sees the mode in the state prefix and
// hands the callback URL to the window that started the login — by postMessage to its opener or
// parent (target origin: our own) and on a BroadcastChannel, which still works when the provider
// sets Cross-Origin-Opener-Policy and the popup has lost its opener. That window owns the
// transaction and does the exchange; the code alone is useless without its PKCE verifier.

const callbackChannel = "pkce-wasm:callback"

const (
	popupTimeout  = 10 * time.Minute
	silentTimeout = 10 * time.Second
)

// openPopup opens an empty popup synchronously (inside the user's click).
func (b *Bridge) openPopup() safejs.Value {
	w, err := b.global.Call("open", "", "pkce-wasm-login", "popup,width=520,height=680")
	if err != nil {
		return safejs.Undefined()
	}
	return w
}

func (b *Bridge) loginPopup(ctx context.Context, c *core.Client, o safejs.Value, popup safejs.Value) (any, error) {
	if popup.IsUndefined() || popup.IsNull() {
		return nil, &core.Error{Code: "popup_blocked", Description: "the browser blocked the login popup; call loginPopup from a click handler"}
	}
	returnTo, err := optString(o, "returnTo")
	if err != nil {
		return nil, err
	}
	authURL, err := c.BeginLogin(ctx, core.LoginOptions{ReturnTo: returnTo, Mode: core.ModePopup})
	if err != nil {
		_, _ = popup.Call("close")
		return nil, err
	}
	wait, stop, err := b.listenCallbacks()
	if err != nil {
		return nil, err
	}
	defer stop()
	loc, err := popup.Get("location")
	if err == nil {
		err = loc.Set("href", authURL)
	}
	if err != nil {
		return nil, err
	}
	r, err := b.finishForwarded(ctx, c, authURL, wait, popupTimeout)
	if err != nil {
		return nil, err
	}
	return b.callbackResult(r), nil
}

// callbackResult is the JS face of a core.CallbackResult: {returnTo, signedIn}.
func (b *Bridge) callbackResult(r *core.CallbackResult) safejs.Value {
	out := b.newObject()
	_ = out.Set("returnTo", r.ReturnTo)
	_ = out.Set("signedIn", !r.NoSession)
	return out
}

// signInSilently tries prompt=none: in a hidden iframe (mode "iframe", default; needs the provider
// to be same-site or its cookies to reach third-party frames) or with a top-level redirect (mode
// "redirect"). "No session at the provider" resolves to false, not an error.
func (b *Bridge) signInSilently(ctx context.Context, c *core.Client, o safejs.Value) (any, error) {
	mode, err := optString(o, "mode")
	if err != nil {
		return nil, err
	}
	returnTo, err := optString(o, "returnTo")
	if err != nil {
		return nil, err
	}
	switch mode {
	case "redirect":
		u, err := c.BeginLogin(ctx, core.LoginOptions{ReturnTo: returnTo, Prompt: "none"})
		if err != nil {
			return nil, err
		}
		return nil, b.navigate(u)
	case "", "iframe":
	default:
		return nil, &core.Error{Code: core.CodeInvalidConfig, Description: "mode must be \"iframe\" or \"redirect\""}
	}
	authURL, err := c.BeginLogin(ctx, core.LoginOptions{ReturnTo: returnTo, Prompt: "none", Mode: core.ModeSilent})
	if err != nil {
		return nil, err
	}
	wait, stop, err := b.listenCallbacks()
	if err != nil {
		return nil, err
	}
	defer stop()
	doc, err := b.global.Get("document")
	if err != nil {
		return nil, err
	}
	frame, err := doc.Call("createElement", "iframe")
	if err != nil {
		return nil, err
	}
	_ = frame.Set("hidden", true)
	_ = frame.Set("title", "pkce-wasm silent sign-in")
	_ = frame.Set("src", authURL)
	body, err := doc.Get("body")
	if err != nil {
		return nil, err
	}
	if _, err := body.Call("appendChild", frame); err != nil {
		return nil, err
	}
	defer frame.Call("remove")
	r, err := b.finishForwarded(ctx, c, authURL, wait, silentTimeout)
	if err != nil {
		return nil, err
	}
	return r != nil && !r.NoSession, nil
}

// finishForwarded waits for the callback of the request authURL and processes it here.
func (b *Bridge) finishForwarded(ctx context.Context, c *core.Client, authURL string, wait <-chan string, timeout time.Duration) (*core.CallbackResult, error) {
	au, _ := url.Parse(authURL)
	state := au.Query().Get("state")
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		select {
		case cb := <-wait:
			u, err := url.Parse(cb)
			if err != nil || u.Query().Get("state") != state {
				continue // another login's callback
			}
			return c.Callback(ctx, cb)
		case <-timer.C:
			return nil, &core.Error{Code: "timeout", Description: "no answer from the provider in time (was the window closed?)"}
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// listenCallbacks collects callback URLs forwarded by a popup or iframe: postMessage events from
// our own origin, and the callback BroadcastChannel.
func (b *Bridge) listenCallbacks() (<-chan string, func(), error) {
	ch := make(chan string, 4)
	origin, err := b.ownOrigin()
	if err != nil {
		return nil, nil, err
	}
	take := func(data safejs.Value) {
		if data.Type() != safejs.TypeObject || data.IsNull() {
			return
		}
		if t, _ := getString(data, "type"); t != callbackChannel {
			return
		}
		if u, err := getString(data, "url"); err == nil {
			select {
			case ch <- u:
			default:
			}
		}
	}
	onMessage, err := b.Func(func(args []safejs.Value) any {
		if len(args) == 0 {
			return nil
		}
		if o, _ := getString(args[0], "origin"); o != origin { // only our own pages may answer
			return nil
		}
		d, _ := args[0].Get("data")
		take(d)
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	if _, err := b.global.Call("addEventListener", "message", onMessage); err != nil {
		onMessage.Release()
		return nil, nil, err
	}
	var bc safejs.Value
	if ctor, err := b.global.Get("BroadcastChannel"); err == nil && !ctor.IsUndefined() {
		bc, _ = ctor.New(callbackChannel)
	}
	onBC, _ := b.Func(func(args []safejs.Value) any {
		if len(args) > 0 {
			d, _ := args[0].Get("data")
			take(d)
		}
		return nil
	})
	if !bc.IsUndefined() {
		_, _ = bc.Call("addEventListener", "message", onBC)
	}
	stop := func() {
		_, _ = b.global.Call("removeEventListener", "message", onMessage)
		onMessage.Release()
		if !bc.IsUndefined() {
			_, _ = bc.Call("close")
		}
		onBC.Release()
	}
	return ch, stop, nil
}

// forwardCallback runs in the popup or iframe: if the callback URL belongs to a popup or silent
// login, hand it to the window that started it and (popup) close this one.
func (b *Bridge) forwardCallback(urlArg safejs.Value) (bool, error) {
	href, err := b.currentHref()
	if err != nil {
		return false, err
	}
	if urlArg.Type() == safejs.TypeString {
		href, _ = urlArg.String()
	}
	mode := core.CallbackMode(href)
	if mode == "" {
		return false, nil
	}
	origin, err := b.ownOrigin()
	if err != nil {
		return false, err
	}
	msg := b.newObject()
	_ = msg.Set("type", callbackChannel)
	_ = msg.Set("url", href)
	if h, err := b.global.Get("history"); err == nil {
		st, _ := h.Get("state")
		_, _ = h.Call("replaceState", st, "", core.CleanCallbackURL(href))
	}
	target := "opener"
	if mode == core.ModeSilent {
		target = "parent"
	}
	if w, err := b.global.Get(target); err == nil && !w.IsNull() && !w.IsUndefined() {
		_, _ = w.Call("postMessage", msg, origin)
	}
	if ctor, err := b.global.Get("BroadcastChannel"); err == nil && !ctor.IsUndefined() {
		if bc, err := ctor.New(callbackChannel); err == nil {
			_, _ = bc.Call("postMessage", msg)
			_, _ = bc.Call("close")
		}
	}
	if mode == core.ModePopup {
		_, _ = b.global.Call("close")
	}
	return true, nil
}

func (b *Bridge) currentHref() (string, error) {
	loc, err := b.global.Get("location")
	if err != nil {
		return "", err
	}
	return getString(loc, "href")
}

func (b *Bridge) ownOrigin() (string, error) {
	loc, err := b.global.Get("location")
	if err != nil {
		return "", err
	}
	return getString(loc, "origin")
}
