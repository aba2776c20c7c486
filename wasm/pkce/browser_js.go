//go:build js && wasm

package pkce

import (
	"net/url"

	"github.com/pkce-wasm/pkce-wasm/wasm/core"
	"github.com/pkce-wasm/pkce-wasm/wasm/jsbridge"
)

func newInBrowser(cfg Config) (*Client, error) {
	b, err := jsbridge.NewGoBridge()
	if err != nil {
		return nil, &Error{Code: core.CodeInternal, Description: "this JavaScript environment lacks what pkce needs: " + err.Error(), Err: err}
	}
	store, err := jsbridge.NewSessionStore()
	if err != nil {
		return nil, &Error{Code: core.CodeStorageError, Description: "sessionStorage is not available: " + err.Error(), Err: err}
	}
	deps := core.Deps{HTTP: jsbridge.NewFetchDoer(b), Store: store, Verify: b.WebCryptoVerify, Rand: jsbridge.CryptoRand{B: b}}
	// Messages from other tabs wait until the client exists. The channel name is the JS bundle's,
	// so Go and JS clients of one issuer and client id on one origin share the logout signal.
	var cc *core.Client
	ready := make(chan struct{})
	tabs := b.NewTabs(cfg.Issuer+"|"+cfg.ClientID, func(msg string) {
		<-ready
		if cc != nil {
			cc.HandleTabMessage(msg)
		}
	})
	if tabs != nil {
		deps.Tabs = tabs
	}
	restored := make(chan struct{})
	c, err := newClient(cfg, deps, jsPage{jsbridge.NewPage(b)}, restored)
	if err == nil {
		cc = c.core
	}
	close(ready)
	if err != nil {
		return nil, err
	}
	close(restored) // no session crosses tabs any more: no start-up handoff to wait for
	return c, nil
}

// jsPage is the page through jsbridge (location, history, navigation).
type jsPage struct{ jsbridge.Page }

func (p jsPage) PostForm(endpoint string, params url.Values) error {
	return p.Page.PostForm(endpoint, params)
}
