package core

import (
	"context"
	"net/url"
)

// HTTPRequest is the little HTTP the core needs: GET discovery and POST forms to the token endpoint.
type HTTPRequest struct {
	Method string
	URL    string
	Header map[string]string
	Body   string
}

// HTTPResponse is a fully read response. Body is at most MaxResponseBytes long.
type HTTPResponse struct {
	Status      int
	ContentType string
	Body        []byte
	// DPoPNonce and WWWAuthenticate are those response headers ("" when absent): a server's DPoP
	// nonce (RFC 9449 §8, §9) and its challenge (RFC 9110 §11.6.1), several values comma-joined.
	DPoPNonce       string
	WWWAuthenticate string
}

// MaxResponseBytes is the largest body an HTTPDoer needs to deliver; a larger one may be cut, which
// then fails validation.
const MaxResponseBytes = maxTokenResponseBytes + 1

// HTTPDoer performs one request. In the browser it is JS fetch (package jsbridge); in native tests
// it is net/http. It must not follow redirects to another origin with the body, and must return an
// error only when no HTTP response was received.
type HTTPDoer interface {
	Do(ctx context.Context, req *HTTPRequest) (*HTTPResponse, error)
}

func formPost(endpoint string, form url.Values) *HTTPRequest {
	return &HTTPRequest{
		Method: "POST",
		URL:    endpoint,
		Header: map[string]string{
			"Content-Type": "application/x-www-form-urlencoded",
			"Accept":       "application/json",
		},
		Body: form.Encode(),
	}
}
