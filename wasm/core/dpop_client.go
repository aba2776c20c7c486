package core

import (
	"context"
	"net/url"
	"sync"
	"time"
)

// The Client's DPoP (RFC 9449) state and steps: the proof key (loaded once, forgotten at logout),
// the latest nonce of each server origin (§8, §9), and the proof-carrying token and resource
// requests. All of it is inert unless Config.DPoP is set.

// dpopState is a Client's DPoP state.
type dpopState struct {
	keyMu sync.Mutex // held while the key is loaded or generated (I/O)
	key   *DPoPKey
	jkt   string // RFC 7638 thumbprint of key

	mu     sync.Mutex
	nonces map[string]string // origin → the nonce its server gave last
}

// maxDPoPNonceOrigins bounds the nonces remembered (one per server origin we talk to).
const maxDPoPNonceOrigins = 64

// dpopDeleteTimeout bounds forgetting the key at logout.
const dpopDeleteTimeout = 3 * time.Second

// DPoP reports whether the client binds its tokens with DPoP (Config.DPoP).
func (c *Client) DPoP() bool { return c.cfg.DPoP }

// requireDPoP: with DPoP on, the provider must list ES256 in dpop_signing_alg_values_supported
// (RFC 9449 §5.1); otherwise tokens would silently come back as Bearer tokens.
func (c *Client) requireDPoP(m *Metadata) error {
	if !contains(m.DPoPSigningAlgValuesSupported, DPoPAlg) {
		return newError(CodeDPoPUnsupported, "the provider does not list ES256 in dpop_signing_alg_values_supported (RFC 9449 §5.1)")
	}
	return nil
}

// dpopKey returns the proof key and its thumbprint, loading (or generating) it on first use.
func (c *Client) dpopKey(ctx context.Context) (*DPoPKey, string, error) {
	d := &c.dpop
	d.keyMu.Lock()
	defer d.keyMu.Unlock()
	if d.key != nil {
		return d.key, d.jkt, nil
	}
	if c.deps.DPoPKeys == nil {
		return nil, "", newError(CodeDPoPUnsupported, "no DPoP key store (WebCrypto unavailable?)")
	}
	k, err := c.deps.DPoPKeys.Load(ctx)
	if err != nil {
		if e, ok := err.(*Error); ok {
			return nil, "", e
		}
		return nil, "", wrapError(CodeDPoPUnsupported, err, "cannot load or create the DPoP key: %v", err)
	}
	if k == nil || k.Sign == nil {
		return nil, "", newError(CodeDPoPUnsupported, "the DPoP key store returned no key")
	}
	if err := checkDPoPPublicKey(k.Public); err != nil {
		return nil, "", err
	}
	jkt, err := k.Public.Thumbprint()
	if err != nil {
		return nil, "", err
	}
	d.key, d.jkt = k, jkt
	return k, jkt, nil
}

// DPoPThumbprint is the RFC 7638 thumbprint of the current proof key (loading or generating it):
// the dpop_jkt of the next authorization request and the cnf.jkt of tokens bound to it.
func (c *Client) DPoPThumbprint(ctx context.Context) (string, error) {
	_, jkt, err := c.dpopKey(ctx)
	return jkt, err
}

// dropDPoPKey forgets the key in memory (another tab signed out and deleted it from storage).
func (c *Client) dropDPoPKey() {
	c.dpop.keyMu.Lock()
	c.dpop.key, c.dpop.jkt = nil, ""
	c.dpop.keyMu.Unlock()
}

// forgetDPoPKey forgets the key in memory and in storage (logout): the next sign-in uses a new
// key, so tokens and proofs of this session cannot be tied to the next one.
func (c *Client) forgetDPoPKey(ctx context.Context) {
	if !c.cfg.DPoP {
		return
	}
	c.dropDPoPKey()
	if c.deps.DPoPKeys == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, dpopDeleteTimeout)
	defer cancel()
	if err := c.deps.DPoPKeys.Delete(ctx); err != nil {
		c.emit(EventError, map[string]any{"code": CodeStorageError, "during": "dpop_key_delete"})
	}
}

// nonceFor is the latest nonce the server at origin gave ("" when none).
func (c *Client) nonceFor(origin string) string {
	c.dpop.mu.Lock()
	defer c.dpop.mu.Unlock()
	return c.dpop.nonces[origin]
}

// NoteDPoPNonce remembers nonce, from a DPoP-Nonce response header of a request to rawURL
// (RFC 9449 §8.2: a server may send a new nonce with any response), for the next proof to that
// origin. It reports false, and remembers nothing, for a malformed nonce (§8.1); "" is ignored.
func (c *Client) NoteDPoPNonce(rawURL, nonce string) bool {
	if nonce == "" || !c.cfg.DPoP {
		return true
	}
	if !ValidDPoPNonce(nonce) {
		return false
	}
	origin, err := OriginOf(rawURL)
	if err != nil {
		return false
	}
	c.dpop.mu.Lock()
	defer c.dpop.mu.Unlock()
	if c.dpop.nonces == nil {
		c.dpop.nonces = map[string]string{}
	}
	if _, ok := c.dpop.nonces[origin]; !ok && len(c.dpop.nonces) >= maxDPoPNonceOrigins {
		for k := range c.dpop.nonces {
			delete(c.dpop.nonces, k)
			break
		}
	}
	c.dpop.nonces[origin] = nonce
	return true
}

// DPoPProof builds a fresh proof (new jti) for a request: method and URL, the access token's ath
// when accessToken is set, and the latest nonce of the URL's origin.
func (c *Client) DPoPProof(ctx context.Context, method, rawURL, accessToken string) (string, error) {
	key, _, err := c.dpopKey(ctx)
	if err != nil {
		return "", err
	}
	origin, err := OriginOf(rawURL)
	if err != nil {
		return "", err
	}
	return BuildDPoPProof(ctx, key, DPoPProofParams{Method: method, URL: rawURL, AccessToken: accessToken,
		Nonce: c.nonceFor(origin), Now: c.deps.Now()}, c.deps.Rand)
}

// AuthorizationHeaders returns the headers that present access token tok with a request:
// "Authorization: Bearer <tok>" (RFC 6750 §2.1), or with DPoP "Authorization: DPoP <tok>" and a
// fresh "DPoP" proof bound to method, URL, token and the origin's nonce (RFC 9449 §7.1).
func (c *Client) AuthorizationHeaders(ctx context.Context, method, rawURL, tok string) (map[string]string, error) {
	if !c.cfg.DPoP {
		return map[string]string{"Authorization": "Bearer " + tok}, nil
	}
	proof, err := c.DPoPProof(ctx, method, rawURL, tok)
	if err != nil {
		return nil, err
	}
	return map[string]string{"Authorization": "DPoP " + tok, "DPoP": proof}, nil
}

// ResourceNonceRetry looks at a resource server's answer to a DPoP request to rawURL: it
// remembers a DPoP-Nonce the server sent, and reports whether the request should be sent once
// more with it — a 401 whose DPoP challenge says error="use_dpop_nonce" (RFC 9449 §9) and that
// came with a usable nonce. A malformed nonce in such a 401 is CodeInvalidDPoPNonce.
func (c *Client) ResourceNonceRetry(rawURL string, status int, nonce string, wwwAuthenticate ...string) (bool, error) {
	if !c.cfg.DPoP {
		return false, nil
	}
	ok := c.NoteDPoPNonce(rawURL, nonce)
	if status != 401 || !DPoPNonceChallenge(wwwAuthenticate...) || nonce == "" {
		return false, nil
	}
	if !ok {
		return false, newError(CodeInvalidDPoPNonce, "the resource server sent a malformed DPoP-Nonce (RFC 9449 §8.1)")
	}
	return true, nil
}

// tokenType is the token_type a token response must have: DPoP when proofs are sent (RFC 9449
// §5), Bearer otherwise.
func (c *Client) tokenType() string {
	if c.cfg.DPoP {
		return "DPoP"
	}
	return "Bearer"
}

// postToken sends a token request (code exchange or refresh). With DPoP it carries a proof
// (RFC 9449 §5), the server's nonce is remembered, and a use_dpop_nonce error with a DPoP-Nonce
// (§8) is retried once with a fresh proof carrying it; a second one goes back to the caller.
func (c *Client) postToken(ctx context.Context, m *Metadata, form url.Values) (*TokenSet, error) {
	for attempt := 0; ; attempt++ {
		req := formPost(m.TokenEndpoint, form)
		if c.cfg.DPoP {
			if err := c.requireDPoP(m); err != nil {
				return nil, err
			}
			proof, err := c.DPoPProof(ctx, "POST", m.TokenEndpoint, "")
			if err != nil {
				return nil, err
			}
			req.Header["DPoP"] = proof
		}
		resp, err := c.deps.HTTP.Do(ctx, req)
		if err != nil {
			return nil, wrapError(CodeNetworkError, err, "token request failed: %v", err)
		}
		nonceOK := c.NoteDPoPNonce(m.TokenEndpoint, resp.DPoPNonce)
		t, err := parseTokenResponse(resp.Status, resp.Body, c.deps.Now(), c.tokenType())
		if c.cfg.DPoP && attempt == 0 && ErrorCode(err) == CodeUseDPoPNonce && resp.DPoPNonce != "" {
			if !nonceOK {
				return nil, newError(CodeInvalidDPoPNonce, "the token endpoint sent a malformed DPoP-Nonce (RFC 9449 §8.1)")
			}
			continue
		}
		return t, err
	}
}

// resourceGet sends GET rawURL with access token tok (Bearer, or DPoP with a proof; one retry
// with the server's nonce on use_dpop_nonce). Used for UserInfo.
func (c *Client) resourceGet(ctx context.Context, rawURL, tok string) (*HTTPResponse, error) {
	for attempt := 0; ; attempt++ {
		h, err := c.AuthorizationHeaders(ctx, "GET", rawURL, tok)
		if err != nil {
			return nil, err
		}
		h["Accept"] = "application/json"
		resp, err := c.deps.HTTP.Do(ctx, &HTTPRequest{Method: "GET", URL: rawURL, Header: h})
		if err != nil {
			return nil, wrapError(CodeNetworkError, err, "request to %s failed: %v", trimForMessage(rawURL), err)
		}
		retry, err := c.ResourceNonceRetry(rawURL, resp.Status, resp.DPoPNonce, resp.WWWAuthenticate)
		if err != nil {
			return nil, err
		}
		if !retry || attempt > 0 {
			return resp, nil
		}
	}
}
