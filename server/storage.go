package main

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// devStorage is the OP's op.Storage: zitadel's in-memory example storage (users, auth requests,
// codes, refresh tokens with rotation, signing key) with these changes:
//
//   - the only client is devClient (the example's global client map is not used);
//   - PKCE with S256 is required at the authorization endpoint (RFC 7636 §4.3, RFC 9700 §2.1.1);
//     the op package alone only insists on PKCE at the token endpoint and also accepts "plain";
//   - access tokens live AccessTokenTTL (the example hard-codes 5 minutes);
//   - JWT access tokens carry a "scope" claim (RFC 9068 §2.2.3), which /api/me reports;
//   - userinfo answers from this type's own record of access tokens, so that it honours the TTL;
//   - no secrets or client keys: the JWT-profile grant and private_key_jwt are refused.
type devStorage struct {
	// op.Storage, not *storage.Storage, is embedded: only the op.Storage methods are promoted, so
	// the example's optional extras (client_credentials for its service user, token exchange,
	// device flow) stay off. inner is the same value, for the few extra methods we use.
	op.Storage
	inner  *storage.Storage
	users  storage.UserStore
	client op.Client
	ttl    time.Duration
	now    func() time.Time

	mu              sync.Mutex
	accessTokens    map[string]accessTokenRecord // by token ID (the JWT's jti)
	authDPoPJKT     map[string]jktRecord         // auth request ID → its dpop_jkt (RFC 9449 §10)
	refreshToAccess map[string]string            // refresh token → access token ID issued with it
}

// accessTokenRecord is what userinfo needs to know about an issued access token.
type accessTokenRecord struct {
	subject  string
	clientID string
	scopes   []string
	expires  time.Time
}

// accessTokenRecord implements op.IDTokenRequest for storage.SetUserinfoFromRequest.
func (r accessTokenRecord) GetAMR() []string       { return nil }
func (r accessTokenRecord) GetAudience() []string  { return []string{r.clientID} }
func (r accessTokenRecord) GetAuthTime() time.Time { return time.Time{} }
func (r accessTokenRecord) GetClientID() string    { return r.clientID }
func (r accessTokenRecord) GetScopes() []string    { return r.scopes }
func (r accessTokenRecord) GetSubject() string     { return r.subject }

var (
	_ op.Storage                        = (*devStorage)(nil)
	_ op.CanGetPrivateClaimsFromRequest = (*devStorage)(nil)
	_ op.CanSetUserinfoFromRequest      = (*devStorage)(nil)
)

func newDevStorage(c Config) *devStorage {
	// The user names derive from the host of the URL given here: "test-user@localhost" whatever
	// the issuer is. The example store also has "test-user2" (same password).
	users := storage.NewUserStore("http://localhost")
	inner := storage.NewStorageWithClients(users, map[string]*storage.Client{})
	return &devStorage{
		Storage:         inner,
		inner:           inner,
		users:           users,
		client:          newDevClient(c),
		ttl:             c.AccessTokenTTL,
		now:             time.Now,
		accessTokens:    map[string]accessTokenRecord{},
		authDPoPJKT:     map[string]jktRecord{},
		refreshToAccess: map[string]string{},
	}
}

var errClientNotFound = errors.New("client not found")

// GetClientByClientID implements op.Storage.
func (s *devStorage) GetClientByClientID(_ context.Context, id string) (op.Client, error) {
	if id != s.client.GetID() {
		return nil, errClientNotFound
	}
	return s.client, nil
}

// AuthorizeClientIDSecret implements op.Storage. The only client is public: there is no secret
// to check, and a client that sends one is refused (RFC 6749 §2.3).
func (s *devStorage) AuthorizeClientIDSecret(context.Context, string, string) error {
	return errors.New("no confidential clients are registered")
}

// GetKeyByIDAndClientID implements op.Storage: no client has a registered key, so JWT
// assertions (RFC 7523 grant, private_key_jwt) are refused. The example storage would accept
// its demo service key, whose private half is published.
func (s *devStorage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errors.New("no client keys are registered")
}

// SetUserinfoFromRequest implements op.CanSetUserinfoFromRequest: the user claims of ID tokens.
func (s *devStorage) SetUserinfoFromRequest(ctx context.Context, userinfo *oidc.UserInfo, req op.IDTokenRequest, scopes []string) error {
	return s.inner.SetUserinfoFromRequest(ctx, userinfo, req, scopes)
}

// CreateAuthRequest implements op.Storage; it refuses requests without an S256 code challenge.
// The op package turns the returned oidc.Error into an error redirect to the (already validated)
// redirect_uri, with the request's state (RFC 6749 §4.1.2.1).
func (s *devStorage) CreateAuthRequest(ctx context.Context, req *oidc.AuthRequest, userID string) (op.AuthRequest, error) {
	if req.CodeChallenge == "" {
		return nil, oidc.ErrInvalidRequest().WithDescription("PKCE is required: send code_challenge with code_challenge_method S256")
	}
	if req.CodeChallengeMethod != oidc.CodeChallengeMethodS256 {
		return nil, oidc.ErrInvalidRequest().WithDescription("code_challenge_method must be S256")
	}
	jkt, hasJKT := dpopAuthorizeJKTFromContext(ctx)
	if hasJKT && !validJKT(jkt) {
		return nil, oidc.ErrInvalidRequest().WithDescription("dpop_jkt must be a base64url SHA-256 JWK thumbprint")
	}
	var (
		ar  op.AuthRequest
		err error
	)
	if sess, ok := s.ssoSessionFor(ctx, req, userID); ok {
		ar, err = s.createAuthenticatedRequest(ctx, req, userID, sess)
	} else {
		// The example storage answers prompt=none with login_required (OIDC Core §3.1.2.6).
		ar, err = s.inner.CreateAuthRequest(ctx, req, userID)
	}
	if err == nil && hasJKT {
		s.bindDPoPJKT(ar.GetID(), jkt)
	}
	return ar, err
}

// jktRecord is a dpop_jkt remembered for an auth request.
type jktRecord struct {
	jkt     string
	created time.Time
}

// authRequestMaxAge bounds how long a dpop_jkt binding is kept (the code is long used by then).
const authRequestMaxAge = 30 * time.Minute

func (s *devStorage) bindDPoPJKT(authRequestID, jkt string) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, v := range s.authDPoPJKT {
		if now.Sub(v.created) > authRequestMaxAge {
			delete(s.authDPoPJKT, k)
		}
	}
	s.authDPoPJKT[authRequestID] = jktRecord{jkt: jkt, created: now}
}

// dpopJKTForCode is the dpop_jkt of the authorization request code belongs to ("" if none, or if
// the code is unknown: the OP refuses it then anyway).
func (s *devStorage) dpopJKTForCode(ctx context.Context, code string) string {
	if code == "" {
		return ""
	}
	ar, err := s.inner.AuthRequestByCode(ctx, code)
	if err != nil {
		return ""
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.authDPoPJKT[ar.GetID()].jkt
}

// ssoSessionFor returns the request's SSO session (sso.go) if it may stand in for a sign-in:
// not with prompt=login, not older than max_age, not for another user than id_token_hint's.
func (s *devStorage) ssoSessionFor(ctx context.Context, req *oidc.AuthRequest, hintUserID string) (ssoSession, bool) {
	sess, ok := ssoFromContext(ctx)
	if !ok || slices.Contains(req.Prompt, oidc.PromptLogin) {
		return ssoSession{}, false
	}
	if hintUserID != "" && hintUserID != sess.userID {
		return ssoSession{}, false
	}
	if req.MaxAge != nil && s.now().Sub(sess.authTime) > time.Duration(*req.MaxAge)*time.Second {
		return ssoSession{}, false
	}
	return sess, true
}

// createAuthenticatedRequest stores req as already authenticated by sess's user, so that the
// login page passes it straight to the OP's callback.
func (s *devStorage) createAuthenticatedRequest(ctx context.Context, req *oidc.AuthRequest, userID string, sess ssoSession) (op.AuthRequest, error) {
	user := s.users.GetUserByID(sess.userID)
	if user == nil {
		return nil, oidc.ErrLoginRequired()
	}
	stored := *req
	stored.Prompt = nil // the example storage refuses prompt=none outright
	ar, err := s.inner.CreateAuthRequest(ctx, &stored, userID)
	if err != nil {
		return nil, err
	}
	// The example storage marks a request done only through its password check. (Its auth_time
	// becomes now rather than the session's sign-in time: fine for a dev OP.)
	if err := s.inner.CheckUsernamePassword(user.Username, user.Password, ar.GetID()); err != nil {
		return nil, err
	}
	return ar, nil
}

// CreateAccessToken implements op.Storage (no refresh token: offline_access not requested).
func (s *devStorage) CreateAccessToken(ctx context.Context, req op.TokenRequest) (string, time.Time, error) {
	id, _, err := s.inner.CreateAccessToken(ctx, req)
	if err != nil {
		return "", time.Time{}, err
	}
	return id, s.remember(id, "", req), nil
}

// CreateAccessAndRefreshTokens implements op.Storage: the code grant with offline_access and the
// refresh_token grant (which rotates the refresh token, RFC 9700 §4.14.2).
func (s *devStorage) CreateAccessAndRefreshTokens(ctx context.Context, req op.TokenRequest, currentRefreshToken string) (string, string, time.Time, error) {
	id, refreshToken, _, err := s.inner.CreateAccessAndRefreshTokens(ctx, req, currentRefreshToken)
	if err != nil {
		return "", "", time.Time{}, err
	}
	if currentRefreshToken != "" {
		// The example storage deletes the access token issued with the rotated refresh token.
		s.forgetRefreshToken(currentRefreshToken)
	}
	return id, refreshToken, s.remember(id, refreshToken, req), nil
}

// remember records access token id (issued with refreshToken, if any) and returns its expiry.
func (s *devStorage) remember(id, refreshToken string, req op.TokenRequest) time.Time {
	now := s.now()
	rec := accessTokenRecord{
		subject:  req.GetSubject(),
		clientID: s.client.GetID(),
		scopes:   slices.Clone(req.GetScopes()),
		expires:  now.Add(s.ttl),
	}
	if c, ok := req.(interface{ GetClientID() string }); ok {
		rec.clientID = c.GetClientID()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, r := range s.accessTokens { // keep the maps small
		if now.After(r.expires) {
			delete(s.accessTokens, k)
		}
	}
	for rt, id := range s.refreshToAccess {
		if _, ok := s.accessTokens[id]; !ok {
			delete(s.refreshToAccess, rt)
		}
	}
	s.accessTokens[id] = rec
	if refreshToken != "" {
		s.refreshToAccess[refreshToken] = id
	}
	return rec.expires
}

func (s *devStorage) forgetRefreshToken(refreshToken string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id, ok := s.refreshToAccess[refreshToken]; ok {
		delete(s.accessTokens, id)
		delete(s.refreshToAccess, refreshToken)
	}
}

// GetPrivateClaimsFromRequest implements op.CanGetPrivateClaimsFromRequest: the extra claims of a
// JWT access token. Adds "scope", space-delimited (RFC 9068 §2.2.3, RFC 8693 §4.2).
func (s *devStorage) GetPrivateClaimsFromRequest(ctx context.Context, req op.TokenRequest, restrictedScopes []string) (map[string]any, error) {
	claims, err := s.inner.GetPrivateClaimsFromScopes(ctx, req.GetSubject(), s.client.GetID(), restrictedScopes)
	if err != nil {
		return nil, err
	}
	if claims == nil {
		claims = map[string]any{}
	}
	claims["scope"] = strings.Join(req.GetScopes(), " ")
	if jkt := dpopJKTFromContext(ctx); jkt != "" {
		// The token is bound to the DPoP proof's key (RFC 9449 §6.1).
		claims["cnf"] = map[string]any{"jkt": jkt}
	}
	return claims, nil
}

// SetUserinfoFromToken implements op.Storage for the userinfo endpoint (OIDC Core §5.3). The op
// package has already verified the JWT (signature, issuer, exp) and passes its jti and sub.
func (s *devStorage) SetUserinfoFromToken(ctx context.Context, userinfo *oidc.UserInfo, tokenID, subject, _ string) error {
	s.mu.Lock()
	rec, ok := s.accessTokens[tokenID]
	s.mu.Unlock()
	if !ok || rec.subject != subject || !s.now().Before(rec.expires) {
		return errors.New("token is invalid or has expired")
	}
	return s.inner.SetUserinfoFromRequest(ctx, userinfo, rec, rec.scopes)
}

// RevokeToken implements op.Storage (RFC 7009).
func (s *devStorage) RevokeToken(ctx context.Context, tokenIDOrToken, userID, clientID string) *oidc.Error {
	s.mu.Lock()
	delete(s.accessTokens, tokenIDOrToken)
	s.mu.Unlock()
	s.forgetRefreshToken(tokenIDOrToken)
	return s.inner.RevokeToken(ctx, tokenIDOrToken, userID, clientID)
}

// TerminateSession implements op.Storage (end_session): the user's tokens for the client go.
// Without an id_token_hint the user is the one of the browser's SSO session, if any (the session
// itself is ended by ssoStore.middleware).
func (s *devStorage) TerminateSession(ctx context.Context, userID, clientID string) error {
	if sess, ok := ssoFromContext(ctx); ok && userID == "" {
		userID = sess.userID
	}
	s.mu.Lock()
	for id, rec := range s.accessTokens {
		if rec.subject == userID && rec.clientID == clientID {
			delete(s.accessTokens, id)
		}
	}
	for rt, id := range s.refreshToAccess {
		if _, ok := s.accessTokens[id]; !ok {
			delete(s.refreshToAccess, rt)
		}
	}
	s.mu.Unlock()
	return s.inner.TerminateSession(ctx, userID, clientID)
}
