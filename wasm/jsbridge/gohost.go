//go:build js && wasm

package jsbridge

import (
	"github.com/hack-pad/safejs"
)

// Helpers for Go programs that drive a core.Client from Go instead of through the JS loader
// (package wasm/pkce). They only expose what the JS-facing client already does.
//
// They are functions and a type of their own, not methods on Bridge, on purpose: the linker keeps
// the name and type of every exported method of a type the program uses, called or not, and the
// JS bundle (wasm/cmd/pkce-wasm), which uses none of this, is measured byte for byte (make size).

// NewGoBridge is NewBridge for a Go program started without the pkce-wasm loader, which is where
// the PkceWasmError class comes from: errors handed to JS (only a panic in a Func or a rejected
// NewPromise does that) become plain Error objects whose message is the error code.
func NewGoBridge() (*Bridge, error) {
	errorCtor, err := safejs.Global().Get("Error")
	if err != nil {
		return nil, err
	}
	return NewBridge(errorCtor)
}

// NewFetchDoer returns the core.HTTPDoer over JS fetch (see FetchDoer).
func NewFetchDoer(b *Bridge) FetchDoer { return FetchDoer{b} }

// Page is the window's location and history, for a Go program.
type Page struct{ b *Bridge }

// NewPage returns the page b runs in.
func NewPage(b *Bridge) Page { return Page{b} }

// Href returns location.href.
func (p Page) Href() (string, error) {
	loc, err := p.b.global.Get("location")
	if err != nil {
		return "", err
	}
	return getString(loc, "href")
}

// ReplaceURL replaces the current history entry's URL (history.replaceState, keeping its state):
// no navigation, no new history entry.
func (p Page) ReplaceURL(u string) error {
	h, err := p.b.global.Get("history")
	if err != nil {
		return err
	}
	st, err := h.Get("state")
	if err != nil {
		return err
	}
	_, err = h.Call("replaceState", st, "", u)
	return err
}

// Navigate sends the page to u (location.assign).
func (p Page) Navigate(u string) error {
	loc, err := p.b.global.Get("location")
	if err != nil {
		return err
	}
	_, err = loc.Call("assign", u)
	return err
}

// PostForm navigates with a hidden form POST of params to endpoint (OIDC RP-Initiated Logout 1.0
// §2 requires OPs to accept POST), so that the parameters never appear in a URL.
func (p Page) PostForm(endpoint string, params map[string][]string) error {
	doc, err := p.b.global.Get("document")
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
