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
	// The channel name of the logout signal is the JS bundle's, so Go and JS clients of one issuer
	// and client id on one origin sign out together.
	cc, err := b.NewCoreClient(cfg, store, jsbridge.ClientOptions{})
	if err != nil {
		return nil, err
	}
	return &Client{core: cc, page: jsPage{jsbridge.NewPage(b)}}, nil
}

// jsPage is the page through jsbridge (location, history, navigation).
type jsPage struct{ jsbridge.Page }

func (p jsPage) PostForm(endpoint string, params url.Values) error {
	return p.Page.PostForm(endpoint, params)
}
