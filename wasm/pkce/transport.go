package pkce

import (
	"context"
	"io"
	"net/http"
	"sync"

	"github.com/pkce-wasm/pkce-wasm/wasm/core"
	"golang.org/x/oauth2"
)

// TokenSource returns an oauth2.TokenSource for the signed-in session. Every Token call goes
// through the core client, which returns its current access token while that is valid and
// otherwise refreshes it: one refresh request however many callers (and tabs) need it. The
// Token carries AccessToken, TokenType "Bearer" and Expiry; signed out, Token fails with code
// core.CodeLoginRequired.
//
// Use it as it is: wrapping it in oauth2.ReuseTokenSource (or oauth2.NewClient, which does that)
// would add a second cache that keeps handing out a token after Logout or after the core client
// replaced it. HTTPClient builds the right client.
func (c *Client) TokenSource() oauth2.TokenSource {
	return &tokenSource{c: c, ctx: context.Background()}
}

// tokenSource asks the core client on every call; ctx bounds the wait for a refresh.
type tokenSource struct {
	c   *Client
	ctx context.Context

	mu   sync.Mutex
	last string // the last access token handed out (for RefreshAfterRejection)
}

func (s *tokenSource) Token() (*oauth2.Token, error) {
	at, exp, err := core.AccessTokenWithExpiry(s.ctx, s.c.core)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.last = at
	s.mu.Unlock()
	return &oauth2.Token{AccessToken: at, TokenType: "Bearer", Expiry: exp}, nil
}

func (s *tokenSource) lastToken() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

// HTTPClient returns an *http.Client that sends the access token — only to the origins in
// Config.ResourceOrigins (RFC 6750 §5.3: a bearer token must not reach an unintended recipient).
// Requests to those origins go through an oauth2.Transport whose Source is the client's token
// source (see TokenSource; the request's context bounds a wait for a refresh); every other
// request, and every request while signed out, goes straight to the base transport without an
// Authorization header. A redirect is a new request and is checked again.
//
// When an allow-listed origin answers 401 with error="invalid_token" (RFC 6750 §3.1: the token
// expired early or was revoked), the client refreshes once (shared with every other request
// rejected with the same token) and retries the request once, if its body can be replayed
// (http.NewRequest sets GetBody for in-memory bodies). If the refresh fails, the 401 is returned.
//
// The base transport is http.DefaultTransport (JS fetch under GOOS=js), or, like
// oauth2.NewClient, the Transport of an *http.Client stored in ctx under oauth2.HTTPClient. ctx is
// used for nothing else: the returned client stays valid after ctx ends.
func (c *Client) HTTPClient(ctx context.Context) *http.Client {
	base := http.DefaultTransport
	if hc, ok := ctx.Value(oauth2.HTTPClient).(*http.Client); ok && hc != nil && hc.Transport != nil {
		base = hc.Transport
	}
	return &http.Client{Transport: &originTransport{c: c, base: base}}
}

// originTransport attaches the token (through oauth2.Transport) only for allow-listed origins.
type originTransport struct {
	c    *Client
	base http.RoundTripper
}

func (t *originTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL == nil || !t.c.core.AllowsOrigin(req.URL.String()) {
		return t.base.RoundTrip(req)
	}
	if !t.c.core.Authenticated() {
		// Signed out: public endpoints keep working and protected ones answer 401.
		return t.base.RoundTrip(req)
	}
	// GetBody for the retry must be called before the first attempt consumes req.Body.
	replayable := req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
	ts := &tokenSource{c: t.c, ctx: req.Context()}
	res, err := (&oauth2.Transport{Source: ts, Base: t.base}).RoundTrip(req)
	if err != nil || res.StatusCode != http.StatusUnauthorized || !replayable ||
		core.BearerError(res.Header.Values("WWW-Authenticate")...) != "invalid_token" {
		return res, err
	}
	if _, err := t.c.core.RefreshAfterRejection(req.Context(), ts.lastToken()); err != nil {
		return res, nil
	}
	retry := req.Clone(req.Context())
	if req.GetBody != nil {
		body, err := req.GetBody()
		if err != nil {
			return res, nil
		}
		retry.Body = body
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	res.Body.Close()
	return (&oauth2.Transport{Source: &tokenSource{c: t.c, ctx: req.Context()}, Base: t.base}).RoundTrip(retry)
}
