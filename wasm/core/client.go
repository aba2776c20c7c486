package core

import (
	"context"
	"io"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Deps are the client's connections to the outside world.
type Deps struct {
	HTTP  HTTPDoer
	Store TxStore
	Now   func() time.Time // nil: time.Now
	Rand  io.Reader        // nil: crypto/rand
	// Verify checks JWS signatures (OIDC Core §3.1.3.7 step 6); in the browser it is WebCrypto.
	// It is required unless SkipSignatureCheck is set (tests of claim rules only).
	Verify             VerifyFunc
	SkipSignatureCheck bool
	// Emit delivers lifecycle events (EventTokenRefreshed, ...). Details never hold a token.
	Emit func(event string, detail map[string]any)
	// Tabs carries the logout signal to the other tabs of the origin (tabs.go); nil: none.
	Tabs Tabs
	// DPoPKeys keeps the DPoP proof key (dpop.go); used only with Config.DPoP.
	DPoPKeys DPoPKeyStore
}

// Client runs the authorization code flow with PKCE for one public client and holds its tokens in
// memory. All methods are safe for concurrent use.
type Client struct {
	cfg  Config
	deps Deps

	discoverMu sync.Mutex
	meta       *Metadata

	keys keySet // provider's JWK Set cache

	sess  session   // tokens and refresh state (session.go)
	dpop  dpopState // DPoP key and nonces (dpop_client.go)
	tabID string    // names this tab's logout signals, so that it ignores its own
}

// NewClient validates cfg and returns a client. It does no I/O.
func NewClient(cfg Config, deps Deps) (*Client, error) {
	cfg.ResourceOrigins = append([]string(nil), cfg.ResourceOrigins...)
	cfg.Resource = append([]string(nil), cfg.Resource...)
	if cfg.ExtraParams != nil {
		extra := make(map[string]string, len(cfg.ExtraParams))
		for k, v := range cfg.ExtraParams {
			extra[k] = v
		}
		cfg.ExtraParams = extra
	}
	if cfg.MaxAge != nil {
		d := *cfg.MaxAge
		cfg.MaxAge = &d
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if deps.HTTP == nil || deps.Store == nil || (deps.Verify == nil && !deps.SkipSignatureCheck) {
		return nil, newError(CodeInternal, "client needs an HTTP doer, a transaction store and a signature verifier")
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	tabID, err := randomToken(deps.Rand, 12)
	if err != nil {
		return nil, err
	}
	return &Client{cfg: cfg, deps: deps, tabID: tabID}, nil
}

// Config returns the validated configuration.
func (c *Client) Config() Config { return c.cfg }

// Discover fetches and validates the provider metadata once; later calls return the cached copy.
// A failure is not cached, so the next call tries again.
func (c *Client) Discover(ctx context.Context) (*Metadata, error) {
	c.discoverMu.Lock()
	defer c.discoverMu.Unlock()
	if c.meta != nil {
		return c.meta, nil
	}
	resp, err := c.deps.HTTP.Do(ctx, &HTTPRequest{Method: "GET", URL: DiscoveryURL(c.cfg.Issuer), Header: map[string]string{"Accept": "application/json"}})
	if err != nil {
		return nil, wrapError(CodeDiscoveryFailed, err, "cannot reach the provider's discovery document: %v", err)
	}
	if resp.Status != 200 {
		return nil, newError(CodeDiscoveryFailed, "discovery document answered HTTP %d", resp.Status)
	}
	m, err := ParseMetadata(resp.Body, c.cfg.Issuer)
	if err != nil {
		return nil, err
	}
	c.meta = m
	return m, nil
}

// LoginOptions tune one authorization request.
type LoginOptions struct {
	ReturnTo  string // same-origin path to come back to after the callback; default "/"
	Mode      string // "" (top-level redirect), ModePopup or ModeSilent (hidden iframe)
	Prompt    string // OIDC Core §3.1.2.1 prompt, e.g. "login" or "none"
	LoginHint string

	// These override the Config fields of the same name for this login (ExtraParams are merged
	// over the configured ones, name by name).
	Audience    string
	Resource    []string
	MaxAge      *time.Duration
	ACRValues   string
	ExtraParams map[string]string
}

// BeginLogin creates and stores a fresh transaction and returns the authorization URL to navigate
// to (RFC 6749 §4.1.1 with RFC 7636 §4.3 and OIDC Core §3.1.2.1).
func (c *Client) BeginLogin(ctx context.Context, o LoginOptions) (string, error) {
	returnTo, err := checkReturnTo(o.ReturnTo)
	if err != nil {
		return "", err
	}
	if o.Prompt != "" && !contains([]string{"none", "login", "consent", "select_account", "create"}, o.Prompt) {
		return "", newError(CodeInvalidConfig, "prompt %q is not an OIDC prompt value", trimForMessage(o.Prompt))
	}
	m, err := c.Discover(ctx)
	if err != nil {
		return "", err
	}
	if o.Mode != "" && o.Mode != ModePopup && o.Mode != ModeSilent {
		return "", newError(CodeInvalidConfig, "unknown login mode")
	}
	login := AuthOptions{Audience: o.Audience, Resource: o.Resource, MaxAge: o.MaxAge, ACRValues: o.ACRValues, ExtraParams: o.ExtraParams}
	if err := login.validate("login"); err != nil {
		return "", err
	}
	ao := c.cfg.AuthOptions().override(login)
	var dpopJKT string // RFC 9449 §10: bind the code to the proof key
	if c.cfg.DPoP {
		if err := c.requireDPoP(m); err != nil {
			return "", err
		}
		if dpopJKT, err = c.DPoPThumbprint(ctx); err != nil {
			return "", err
		}
	}
	tx := &Transaction{RedirectURI: c.cfg.RedirectURI, ReturnTo: returnTo, Issuer: c.cfg.Issuer,
		CreatedAt: c.deps.Now(), Prompt: o.Prompt, Mode: o.Mode}
	if ao.MaxAge != nil {
		secs := int64(*ao.MaxAge / time.Second)
		tx.MaxAge = &secs
	}
	for _, p := range []*string{&tx.State, &tx.Nonce, &tx.Verifier} {
		if *p, err = randomToken(c.deps.Rand, 32); err != nil {
			return "", err
		}
	}
	tx.State = statePrefix(o.Mode) + tx.State
	authURL, err := BuildAuthURL(m.AuthorizationEndpoint, AuthParams{
		ClientID: c.cfg.ClientID, RedirectURI: c.cfg.RedirectURI, Scope: c.cfg.Scope,
		State: tx.State, Nonce: tx.Nonce, CodeChallenge: S256Challenge(tx.Verifier),
		Prompt: o.Prompt, LoginHint: o.LoginHint,
		Audience: ao.Audience, Resource: ao.Resource, MaxAge: ao.MaxAge, ACRValues: ao.ACRValues, Extra: ao.ExtraParams,
		DPoPJKT: dpopJKT,
	})
	if err != nil {
		return "", err
	}
	enc, err := tx.encode()
	if err != nil {
		return "", wrapError(CodeInternal, err, "cannot encode the transaction")
	}
	if err := c.deps.Store.Put(txKey(tx.State), enc); err != nil {
		return "", wrapError(CodeStorageError, err, "cannot store the login transaction: %v", err)
	}
	return authURL, nil
}

// checkReturnTo accepts only a same-origin absolute path, so the callback cannot be turned into an
// open redirector.
func checkReturnTo(p string) (string, error) {
	if p == "" {
		return "/", nil
	}
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.ContainsAny(p, "\\\r\n\t") {
		return "", newError(CodeInvalidConfig, "returnTo must be a path on this origin, like \"/account\"")
	}
	return p, nil
}

// Login modes. The mode is visible in the state value's prefix so that the page loaded in a popup
// or iframe knows to hand the response to its opener or parent instead of handling it itself (the
// transaction is in the opener's sessionStorage, not its own).
const (
	ModePopup  = "popup"
	ModeSilent = "silent"
)

func statePrefix(mode string) string {
	switch mode {
	case ModePopup:
		return "p."
	case ModeSilent:
		return "s."
	}
	return ""
}

// CallbackMode returns the login mode a callback URL belongs to, from its state prefix.
func CallbackMode(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return ""
	}
	switch st := u.Query().Get("state"); {
	case strings.HasPrefix(st, "p."):
		return ModePopup
	case strings.HasPrefix(st, "s."):
		return ModeSilent
	}
	return ""
}

// CallbackResult describes a processed callback.
type CallbackResult struct {
	ReturnTo string
	Mode     string
	// NoSession is true when a prompt=none request came back with login_required or a
	// similar answer (OIDC Core §3.1.2.6): a clean signed-out state, not a failure.
	NoSession bool
}

// silentErrors are the answers to prompt=none that mean "no session at the provider".
var silentErrors = []string{"login_required", "interaction_required", "consent_required", "account_selection_required"}

// HandleCallback is Callback returning only the returnTo path.
func (c *Client) HandleCallback(ctx context.Context, rawURL string) (string, error) {
	r, err := c.Callback(ctx, rawURL)
	if err != nil {
		return "", err
	}
	return r.ReturnTo, nil
}

// Callback processes the authorization response at rawURL: it takes (and so deletes) the
// pending transaction for its state, checks the response (RFC 6749 §4.1.2, RFC 9207), exchanges
// the code (RFC 6749 §4.1.3, RFC 7636 §4.5), validates the token response (§5.1) and ID token (OIDC
// Core §3.1.3.7), and keeps the tokens in memory. It returns the transaction's returnTo path.
// On any error the tokens the client already held are left as they were.
func (c *Client) Callback(ctx context.Context, rawURL string) (*CallbackResult, error) {
	p, err := ParseCallback(rawURL, c.cfg.RedirectURI)
	if err != nil {
		return nil, err
	}
	enc, ok, err := c.deps.Store.Take(txKey(p.State))
	if err != nil {
		return nil, wrapError(CodeStorageError, err, "cannot read the login transaction: %v", err)
	}
	if !ok {
		return nil, newError(CodeStateMismatch, "no login is pending for this state: the callback was forged, replayed or opened in another tab")
	}
	tx, err := decodeTransaction(enc)
	if err != nil {
		return nil, newError(CodeStateMismatch, "the stored login transaction is corrupt")
	}
	now := c.deps.Now()
	if tx.State != p.State || tx.Issuer != c.cfg.Issuer || tx.RedirectURI != c.cfg.RedirectURI {
		return nil, newError(CodeStateMismatch, "the login transaction belongs to another configuration")
	}
	if now.Sub(tx.CreatedAt) > transactionTTL {
		return nil, newError(CodeStateMismatch, "the login transaction expired; please sign in again")
	}
	m, err := c.Discover(ctx)
	if err != nil {
		return nil, err
	}
	// State and iss check out: only now is an error response trusted (RFC 9207 §2.4).
	if err := checkIssuerParam(p, m); err != nil {
		return nil, err
	}
	if p.Error != "" {
		code := p.Error
		if !validOAuthErrorCode(code) {
			return nil, newError(CodeInvalidCallback, "authorization server returned a malformed error code")
		}
		if tx.Prompt == "none" && contains(silentErrors, code) {
			return &CallbackResult{ReturnTo: tx.ReturnTo, Mode: tx.Mode, NoSession: true}, nil
		}
		return nil, providerError(code, p.ErrorDescription, 0)
	}
	form := url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {p.Code},
		"redirect_uri":  {tx.RedirectURI},
		"client_id":     {c.cfg.ClientID},
		"code_verifier": {tx.Verifier},
	}
	tokens, err := c.tokenRequest(ctx, m, form)
	if err != nil {
		return nil, err
	}
	if tokens.IDToken == "" {
		return nil, newError(CodeInvalidTokenResponse, "token response has no id_token although scope includes openid (OIDC Core §3.1.3.3)")
	}
	var maxAge *time.Duration
	if tx.MaxAge != nil {
		d := time.Duration(*tx.MaxAge) * time.Second
		maxAge = &d
	}
	idt, err := c.validateIDToken(ctx, m, tokens.IDToken, tx.Nonce, maxAge, now)
	if err != nil {
		return nil, err
	}
	c.sess.set(tokens, idt, c.armRefresh(tokens))
	return &CallbackResult{ReturnTo: tx.ReturnTo, Mode: tx.Mode}, nil
}

func (c *Client) tokenRequest(ctx context.Context, m *Metadata, form url.Values) (*TokenSet, error) {
	t, err := c.postToken(ctx, m, form) // with DPoP: proof, nonce retry (dpop_client.go)
	if e, ok := err.(*Error); ok {
		// A server may quote what we sent ("refresh token XYZ is expired"): the description goes
		// to JS and maybe to logs, so no secret of ours may survive in it.
		for _, k := range []string{"code", "refresh_token", "code_verifier"} {
			if v := form.Get(k); len(v) >= 8 {
				e.Description = strings.ReplaceAll(e.Description, v, "[redacted]")
			}
		}
	}
	return t, err
}

func (c *Client) validateIDToken(ctx context.Context, m *Metadata, raw, nonce string, maxAge *time.Duration, now time.Time) (*JWT, error) {
	j, err := ParseJWT(raw)
	if err != nil {
		return nil, err
	}
	if err := j.ValidateClaims(IDTokenCheck{
		Issuer: m.Issuer, ClientID: c.cfg.ClientID, Nonce: nonce, Now: now, Skew: c.cfg.ClockSkew,
		AllowedAlgs: m.IDTokenSigningAlgValuesSupported, MaxAge: maxAge,
	}); err != nil {
		return nil, err
	}
	if !c.deps.SkipSignatureCheck {
		if err := c.verifySignature(ctx, m, j); err != nil {
			return nil, err
		}
	}
	return j, nil
}

// Authenticated reports whether the client holds tokens.
func (c *Client) Authenticated() bool {
	t, _ := c.sess.current()
	return t != nil
}

// UserClaims returns the JSON payload of the validated ID token, or nil when signed out.
func (c *Client) UserClaims() []byte {
	_, idt := c.sess.current()
	if idt == nil {
		return nil
	}
	return append([]byte(nil), idt.Payload...)
}

// expiryDelta: an access token this close to expiry is treated as expired, so that it does not
// expire in flight (the same 10 s golang.org/x/oauth2 uses).
const expiryDelta = 10 * time.Second

// AccessToken returns a usable access token, refreshing it first when it has expired and a refresh
// token is held. Concurrent callers share one refresh request.
func (c *Client) AccessToken(ctx context.Context) (string, error) {
	t, _ := c.sess.current()
	if t == nil {
		return "", newError(CodeLoginRequired, "not signed in")
	}
	now := c.deps.Now()
	if t.Expiry.IsZero() || now.Before(t.Expiry.Add(-c.refreshMargin(t))) {
		return t.AccessToken, nil
	}
	// Within the refresh margin (the proactive timer may not have run: background tabs throttle
	// timers) or expired: refresh. If that fails for a passing reason while the current token is
	// still good, use it; the next call tries again.
	tok, err := c.refreshFrom(ctx, t)
	if err != nil && ErrorCode(err) != CodeLoginRequired && now.Add(expiryDelta).Before(t.Expiry) {
		return t.AccessToken, nil
	}
	return tok, err
}

// CurrentAccessToken returns the access token when it is usable as it is (signed in, not within
// the refresh margin): the synchronous fast path of the wrapped fetch. ok is false when a call to
// AccessToken is needed (signed out, or a refresh is due).
func (c *Client) CurrentAccessToken() (tok string, ok bool) {
	t, _ := c.sess.current()
	if t == nil {
		return "", false
	}
	if t.Expiry.IsZero() || c.deps.Now().Before(t.Expiry.Add(-c.refreshMargin(t))) {
		return t.AccessToken, true
	}
	return "", false
}

// refreshMargin is how long before t's expiry a refresh is due: Config.RefreshMargin, but never
// more than half the token's lifetime, so that short-lived tokens do not refresh in a loop.
func (c *Client) refreshMargin(t *TokenSet) time.Duration {
	m := c.cfg.RefreshMargin
	if half := t.Expiry.Sub(t.IssuedAt) / 2; m > half {
		m = half
	}
	return m
}

// Refresh obtains a new access token with the refresh token (RFC 6749 §6), whatever the current
// one's expiry. Callers arriving while a refresh is under way share it.
func (c *Client) Refresh(ctx context.Context) (string, error) {
	t, _ := c.sess.current()
	if t == nil {
		return "", newError(CodeLoginRequired, "not signed in")
	}
	if t.RefreshToken == "" {
		return "", newError(CodeLoginRequired, "no refresh token")
	}
	return c.refreshFrom(ctx, t)
}

// RefreshAfterRejection is for a resource server's 401 invalid_token (RFC 6750 §3.1): it refreshes
// unless the rejected access token has already been replaced, in which case it returns the current
// one. Exactly one refresh happens however many requests were rejected with the same token.
func (c *Client) RefreshAfterRejection(ctx context.Context, rejected string) (string, error) {
	t, _ := c.sess.current()
	if t == nil {
		return "", newError(CodeLoginRequired, "not signed in")
	}
	if t.AccessToken != rejected {
		return t.AccessToken, nil
	}
	return c.refreshFrom(ctx, t)
}

// refreshFrom refreshes the token set stale, which the caller found unusable. If the tokens have
// changed since (another caller refreshed), it returns the current access token without a request;
// if a refresh of stale is under way, it waits for that one (single flight). invalid_grant
// (revoked, reused or expired refresh token) signs the client out and returns CodeLoginRequired; a
// network failure leaves the tokens as they were, so the next call tries again.
func (c *Client) refreshFrom(ctx context.Context, stale *TokenSet) (string, error) {
	f, tok, err := c.sess.join(stale, func(f *flight) { go c.runRefresh(f, stale) })
	if f == nil {
		return tok, err
	}
	select {
	case <-f.done:
		return f.token, f.err
	case <-ctx.Done():
		return "", wrapError(CodeNetworkError, ctx.Err(), "gave up waiting for the token refresh")
	}
}

// refreshTimeout bounds one refresh; it runs detached from any one caller's context.
const refreshTimeout = 30 * time.Second

func (c *Client) runRefresh(f *flight, old *TokenSet) {
	ctx, cancel := context.WithTimeout(context.Background(), refreshTimeout)
	defer cancel()
	f.token, f.err = c.refresh(ctx, old)
	c.sess.land(f)
	close(f.done)
	if f.err != nil {
		c.emit(EventError, map[string]any{"code": ErrorCode(f.err), "during": "refresh"})
	}
}

func (c *Client) refresh(ctx context.Context, old *TokenSet) (string, error) {
	m, err := c.Discover(ctx)
	if err != nil {
		return "", err
	}
	form := url.Values{
		"grant_type":    {"refresh_token"},
		"refresh_token": {old.RefreshToken},
		"client_id":     {c.cfg.ClientID},
	}
	nt, err := c.tokenRequest(ctx, m, form)
	if err != nil {
		if ErrorCode(err) == CodeInvalidGrant {
			c.clearIf(old, "invalid_grant")
			e := wrapError(CodeLoginRequired, err, "the session ended at the provider (invalid_grant); please sign in again")
			if pe, ok := err.(*Error); ok { // the provider's words stay visible
				e.OAuthError, e.Status = pe.OAuthError, pe.Status
			}
			return "", e
		}
		return "", err
	}
	if nt.RefreshToken == "" {
		nt.RefreshToken = old.RefreshToken // RFC 6749 §6: the server may keep the old one valid
	}
	if nt.Scope == "" {
		nt.Scope = old.Scope // RFC 6749 §6: the scope stays the one originally granted
	}
	_, prev := c.sess.current()
	idt := prev
	if nt.IDToken != "" {
		if idt, err = c.validateIDToken(ctx, m, nt.IDToken, "", nil, c.deps.Now()); err != nil {
			return "", err
		}
		// OIDC Core §12.2: iss and sub must be those of the original ID token.
		if prev != nil && (idt.Claims.Sub != prev.Claims.Sub || idt.Claims.Iss != prev.Claims.Iss) {
			return "", newError(CodeInvalidIDToken, "refreshed ID token is for another subject or issuer (OIDC Core §12.2)")
		}
	} else {
		nt.IDToken = old.IDToken
	}
	if !c.sess.replace(old, nt, idt, c.armRefresh(nt)) { // signed out (or in again) meanwhile: drop this result
		return "", newError(CodeLoginRequired, "signed out during the token refresh")
	}
	c.emit(EventTokenRefreshed, map[string]any{"expiresAt": unixOrNil(nt.Expiry)})
	return nt.AccessToken, nil
}

// clearIf signs out if the session is still old, and says so (signedOut event). Other tabs hold
// sessions of their own and are not told.
func (c *Client) clearIf(old *TokenSet, reason string) {
	if !c.sess.clearIf(old) {
		return
	}
	c.emit(EventSignedOut, map[string]any{"reason": reason})
}

// LogoutRequest says where to send the browser to end the session at the provider
// (OIDC RP-Initiated Logout 1.0 §2). Params go in a form POST so that the ID token used as
// id_token_hint never appears in a URL, browser history or server access log.
type LogoutRequest struct {
	Endpoint string     // end_session_endpoint; "" when the provider has none
	Params   url.Values // id_token_hint, client_id, post_logout_redirect_uri
}

// Logout forgets the tokens (in every tab), revokes the refresh token when the provider offers
// RFC 7009 revocation (best effort, bounded), and returns the provider logout request, if the
// provider supports RP-initiated logout.
func (c *Client) Logout(ctx context.Context) *LogoutRequest {
	t := c.sess.clear()
	if t != nil {
		c.emit(EventSignedOut, map[string]any{"reason": "logout"})
		c.postLogout()
		c.revoke(ctx, t)
	}
	c.forgetDPoPKey(ctx) // a new key for the next sign-in (RFC 9449 §2: keys need not outlive sessions)
	c.discoverMu.Lock()
	m := c.meta
	c.discoverMu.Unlock()
	if m == nil || m.EndSessionEndpoint == "" {
		return &LogoutRequest{}
	}
	p := url.Values{"client_id": {c.cfg.ClientID}}
	if t != nil && t.IDToken != "" {
		p.Set("id_token_hint", t.IDToken)
	}
	if c.cfg.PostLogoutRedirectURI != "" {
		p.Set("post_logout_redirect_uri", c.cfg.PostLogoutRedirectURI)
	}
	return &LogoutRequest{Endpoint: m.EndSessionEndpoint, Params: p}
}

// AllowsOrigin reports whether the access token may be sent to a request for rawURL: its origin
// must be one of Config.ResourceOrigins exactly (RFC 6750 §5.3: never send a bearer token to an
// unintended recipient).
func (c *Client) AllowsOrigin(rawURL string) bool {
	o, err := OriginOf(rawURL)
	if err != nil {
		return false
	}
	return contains(c.cfg.ResourceOrigins, o)
}
