package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// A deliberately misbehaving OpenID Provider, for end-to-end tests that prove the client rejects
// it (-test-hooks only).
//
// POST /__test/misbehave {"case": "<name>"} selects one corruption; "" (or POST /__test/reset)
// makes the OP behave again. While a case is active, misbehaver.middleware, wrapped around the
// whole issuer-origin handler, rewrites the OP's own responses: it never issues a token itself.
// Claim corruptions are re-signed with the OP's real signing key, so that only the claim is wrong.
// GET /__test/misbehave reports the active case, how many responses it has corrupted so far
// ("applied") and the number of JWKS requests since the last reset ("keysRequests").
//
// With test hooks the app origin also serves GET /api/redirect: a 307 to /api/echo on the other
// loopback origin (http://127.0.0.1:<app port>), to check that a redirect does not carry the
// Bearer token to an origin outside resourceOrigins.

// Misbehaviour cases: each corrupts ONE thing in the OP's responses.
const (
	// The OP's redirect to the client's redirect_uri (RFC 6749 §4.1.2, RFC 9207).
	caseWrongState   = "wrong_state"   // state replaced by another value
	caseMissingState = "missing_state" // state removed
	caseWrongIss     = "wrong_iss"     // iss added (or replaced) with another issuer

	// The ID token in a successful token response (OIDC Core §3.1.3.7).
	caseTamperedSignature = "tampered_signature" // bits of the signature flipped
	caseAlgNone           = "alg_none"           // header {"alg":"none"}, empty signature
	caseWrongAud          = "wrong_aud"          // aud another client; re-signed with the OP key
	caseExpired           = "expired"            // exp 10 min ago, iat before it; re-signed
	caseWrongNonce        = "wrong_nonce"        // nonce another value; re-signed
	caseMissingSub        = "missing_sub"        // sub removed; re-signed
	caseUnknownKid        = "unknown_kid"        // re-signed with a key that is never published
	caseRotatedKey        = "rotated_key"        // re-signed with a new key, in the JWKS from its 2nd request on

	// The token response itself (RFC 6749 §5.1, §5.2).
	caseNoAccessToken     = "no_access_token"     // access_token member removed
	caseHTMLTokenResponse = "html_token_response" // 200 with an HTML page
	caseToken500          = "token_500"           // 500 with a plain-text body
	caseInvalidGrant      = "invalid_grant"       // 400 {"error":"invalid_grant",...}

	// The discovery document (OIDC Discovery §4.3).
	caseDiscoveryIssuerMismatch = "discovery_issuer_mismatch" // issuer member changed
)

// misbehaveCases lists the case names POST /__test/misbehave accepts ("" is "behave").
var misbehaveCases = []string{
	caseWrongState, caseMissingState, caseWrongIss,
	caseTamperedSignature, caseAlgNone, caseWrongAud, caseExpired, caseWrongNonce, caseMissingSub,
	caseUnknownKid, caseRotatedKey,
	caseNoAccessToken, caseHTMLTokenResponse, caseToken500, caseInvalidGrant,
	caseDiscoveryIssuerMismatch,
}

const (
	// misbehaveOtherIssuer is the issuer of a different provider (mix-up attack, RFC 9207 §1).
	misbehaveOtherIssuer = "https://mix-up.example.com"
	// misbehaveOtherClient is an audience that is not our client.
	misbehaveOtherClient = "another-client"
	// misbehaveGrantDescription is the error_description of the invalid_grant case.
	misbehaveGrantDescription = "misbehave: the authorization code is invalid or was already used"
	// rotatedKeyFromRequest is the first JWKS request (counted since the last reset) whose answer
	// includes the rotated key: the key appears "later", as after a key rotation at the OP.
	rotatedKeyFromRequest = 2
	// maxMisbehaveBody bounds the bodies read here (OP responses, the control request).
	maxMisbehaveBody = 1 << 20
)

// signingKeySource is where the OP's current signing key comes from (op.Storage has it).
type signingKeySource interface {
	SigningKey(ctx context.Context) (op.SigningKey, error)
}

// misbehaver holds the active case and rewrites the OP's responses accordingly.
type misbehaver struct {
	redirectURI   *url.URL
	discoveryPath string
	tokenPath     string
	keysPath      string
	opKey         signingKeySource
	now           func() time.Time

	extraKeysOnce sync.Once // the two foreign keys, made on first use
	extraKeysErr  error
	unknownKey    *extraKey // signs, never published
	rotatedKey    *extraKey // signs, published from the rotatedKeyFromRequest-th JWKS request

	mu           sync.Mutex
	active       string
	applied      int // responses corrupted since the case was set
	keysRequests int // JWKS requests since the last reset
}

// extraKey is an RSA signing key that is not the OP's.
type extraKey struct {
	kid string
	alg jose.SignatureAlgorithm
	key *rsa.PrivateKey
}

func newMisbehaver(c Config, p *op.Provider, keys signingKeySource) (*misbehaver, error) {
	redirectURI, err := url.Parse(c.RedirectURI())
	if err != nil {
		return nil, err
	}
	return &misbehaver{
		redirectURI:   redirectURI,
		discoveryPath: "/.well-known/openid-configuration", // op.NewProvider mounts it here
		tokenPath:     p.TokenEndpoint().Relative(),
		keysPath:      p.KeysEndpoint().Relative(),
		opKey:         keys,
		now:           time.Now,
	}, nil
}

// misbehaveState is the body of GET/POST /__test/misbehave.
type misbehaveState struct {
	Case         string   `json:"case"`
	Applied      int      `json:"applied"`
	KeysRequests int      `json:"keysRequests"`
	Cases        []string `json:"cases"`
}

func (m *misbehaver) snapshot() misbehaveState {
	m.mu.Lock()
	defer m.mu.Unlock()
	return misbehaveState{Case: m.active, Applied: m.applied, KeysRequests: m.keysRequests, Cases: misbehaveCases}
}

func (m *misbehaver) set(name string) error {
	if name != "" && !slices.Contains(misbehaveCases, name) {
		return fmt.Errorf("unknown misbehave case %q", name)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.active, m.applied = name, 0
	return nil
}

// reset makes the OP behave and restarts the JWKS request count.
func (m *misbehaver) reset() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.active, m.applied, m.keysRequests = "", 0, 0
}

// middleware applies the active case to the responses of next (the issuer-origin handler).
// Without an active case, requests pass straight through (the JWKS ones are still counted).
func (m *misbehaver) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodOptions { // CORS preflights are the browser's business
			next.ServeHTTP(w, r)
			return
		}
		m.mu.Lock()
		active := m.active
		keysRequest := 0
		if r.Method == http.MethodGet && r.URL.Path == m.keysPath {
			m.keysRequests++
			keysRequest = m.keysRequests
		}
		m.mu.Unlock()
		if active == "" {
			next.ServeHTTP(w, r)
			return
		}
		buf := &responseBuffer{header: http.Header{}, status: http.StatusOK}
		next.ServeHTTP(buf, r)
		changed, err := m.rewrite(r, active, keysRequest, buf)
		if err != nil {
			// Tests rely on the corruption happening: fail loudly rather than behave.
			slog.ErrorContext(r.Context(), "misbehave: rewrite failed", "case", active, "path", r.URL.Path, "error", err)
			http.Error(w, "misbehave: rewrite failed: "+err.Error(), http.StatusInternalServerError)
			return
		}
		if changed {
			m.mu.Lock()
			if m.active == active {
				m.applied++
			}
			m.mu.Unlock()
			slog.InfoContext(r.Context(), "misbehave: response corrupted", "case", active, "path", r.URL.Path)
		}
		buf.writeTo(w)
	})
}

// rewrite applies case c to the buffered response of r. It reports whether it changed anything.
func (m *misbehaver) rewrite(r *http.Request, c string, keysRequest int, b *responseBuffer) (bool, error) {
	switch c {
	case caseWrongState, caseMissingState, caseWrongIss:
		return m.rewriteRedirect(c, b)
	case caseDiscoveryIssuerMismatch:
		if r.Method != http.MethodGet || r.URL.Path != m.discoveryPath || b.status != http.StatusOK {
			return false, nil
		}
		return true, b.editJSON(func(doc map[string]json.RawMessage) error {
			doc["issuer"] = jsonString(misbehaveOtherIssuer)
			return nil
		})
	}
	if c == caseRotatedKey && keysRequest >= rotatedKeyFromRequest && b.status == http.StatusOK {
		return m.publishRotatedKey(b)
	}
	if r.Method == http.MethodPost && r.URL.Path == m.tokenPath && b.status == http.StatusOK {
		return true, m.rewriteTokenResponse(r.Context(), c, b)
	}
	return false, nil
}

// rewriteRedirect changes the OP's redirect to the client's redirect URI (the authorization
// response, RFC 6749 §4.1.2 / §4.1.2.1).
func (m *misbehaver) rewriteRedirect(c string, b *responseBuffer) (bool, error) {
	if b.status < 300 || b.status > 399 {
		return false, nil
	}
	loc, err := url.Parse(b.header.Get("Location"))
	if err != nil || loc.Scheme != m.redirectURI.Scheme || loc.Host != m.redirectURI.Host || loc.Path != m.redirectURI.Path {
		return false, nil
	}
	q := loc.Query()
	switch c {
	case caseWrongState:
		other, err := randomString()
		if err != nil {
			return false, err
		}
		q.Set("state", other)
	case caseMissingState:
		q.Del("state")
	case caseWrongIss:
		q.Set("iss", misbehaveOtherIssuer)
	}
	loc.RawQuery = q.Encode()
	b.header.Set("Location", loc.String())
	// http.Redirect's little HTML body repeats the original URL.
	b.body.Reset()
	b.header.Del("Content-Type")
	return true, nil
}

// rewriteTokenResponse corrupts a successful token response (RFC 6749 §5.1).
func (m *misbehaver) rewriteTokenResponse(ctx context.Context, c string, b *responseBuffer) error {
	switch c {
	case caseToken500:
		b.replace(http.StatusInternalServerError, "text/plain; charset=utf-8", "misbehave: internal server error\n")
		return nil
	case caseHTMLTokenResponse:
		b.replace(http.StatusOK, "text/html; charset=utf-8",
			"<!doctype html>\n<html><head><title>Sign in</title></head><body><h1>Please sign in</h1></body></html>\n")
		return nil
	case caseInvalidGrant:
		body, err := json.Marshal(map[string]string{"error": "invalid_grant", "error_description": misbehaveGrantDescription})
		if err != nil {
			return err
		}
		b.replace(http.StatusBadRequest, "application/json", string(body))
		return nil
	}
	return b.editJSON(func(doc map[string]json.RawMessage) error {
		if c == caseNoAccessToken {
			if _, ok := doc["access_token"]; !ok {
				return errors.New("the token response has no access_token to remove")
			}
			delete(doc, "access_token")
			return nil
		}
		var idToken string
		if err := json.Unmarshal(doc["id_token"], &idToken); err != nil || idToken == "" {
			return errors.New("the token response has no id_token to corrupt")
		}
		corrupted, err := m.corruptIDToken(ctx, c, idToken)
		if err != nil {
			return err
		}
		doc["id_token"] = jsonString(corrupted)
		return nil
	})
}

// corruptIDToken applies case c to a compact JWS ID token signed by the OP.
func (m *misbehaver) corruptIDToken(ctx context.Context, c, raw string) (string, error) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return "", errors.New("the ID token is not a compact JWS")
	}
	b64 := base64.RawURLEncoding
	switch c {
	case caseTamperedSignature:
		sig, err := b64.DecodeString(parts[2])
		if err != nil || len(sig) == 0 {
			return "", errors.New("the ID token signature is not base64url")
		}
		for _, i := range []int{0, len(sig) / 2, len(sig) - 1} {
			sig[i] ^= 0x5a
		}
		return parts[0] + "." + parts[1] + "." + b64.EncodeToString(sig), nil
	case caseAlgNone:
		return b64.EncodeToString([]byte(`{"alg":"none"}`)) + "." + parts[1] + ".", nil
	}

	header, err := decodeSegment(parts[0])
	if err != nil {
		return "", fmt.Errorf("ID token header: %w", err)
	}
	claims, err := decodeSegment(parts[1])
	if err != nil {
		return "", fmt.Errorf("ID token claims: %w", err)
	}
	var (
		alg jose.SignatureAlgorithm
		key any
		kid string
	)
	switch c {
	case caseUnknownKid, caseRotatedKey:
		if err := m.makeExtraKeys(); err != nil {
			return "", err
		}
		k := m.unknownKey
		if c == caseRotatedKey {
			k = m.rotatedKey
		}
		alg, key, kid = k.alg, k.key, k.kid
	default:
		sk, err := m.opKey.SigningKey(ctx)
		if err != nil {
			return "", fmt.Errorf("the OP's signing key: %w", err)
		}
		alg, key, kid = sk.SignatureAlgorithm(), sk.Key(), sk.ID()
		if err := m.corruptClaims(c, claims); err != nil {
			return "", err
		}
	}
	header["kid"] = kid
	return signJWS(alg, key, header, claims)
}

// corruptClaims makes exactly one claim wrong.
func (m *misbehaver) corruptClaims(c string, claims map[string]any) error {
	switch c {
	case caseWrongAud:
		claims["aud"] = []string{misbehaveOtherClient}
	case caseExpired:
		lifetime := 5 * time.Minute
		exp, errExp := numericDate(claims["exp"])
		iat, errIat := numericDate(claims["iat"])
		if errExp == nil && errIat == nil && exp > iat {
			lifetime = time.Duration(exp-iat) * time.Second
		}
		newExp := m.now().Add(-10 * time.Minute).Unix()
		newIat := newExp - int64(lifetime/time.Second)
		claims["exp"], claims["iat"] = newExp, newIat
		// Keep the other times consistent with the new iat.
		for _, name := range []string{"auth_time", "nbf"} {
			if v, err := numericDate(claims[name]); err == nil && v > newIat {
				claims[name] = newIat
			}
		}
	case caseWrongNonce:
		other, err := randomString()
		if err != nil {
			return err
		}
		claims["nonce"] = "misbehave-" + other
	case caseMissingSub:
		if _, ok := claims["sub"]; !ok {
			return errors.New("the ID token has no sub to remove")
		}
		delete(claims, "sub")
	default:
		return fmt.Errorf("case %q does not corrupt ID token claims", c)
	}
	return nil
}

// signJWS signs claims as a compact JWS whose header has header's members (alg set from alg).
func signJWS(alg jose.SignatureAlgorithm, key any, header, claims map[string]any) (string, error) {
	opts := &jose.SignerOptions{}
	for k, v := range header {
		if k != "alg" {
			opts = opts.WithHeader(jose.HeaderKey(k), v)
		}
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		return "", err
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", err
	}
	return jws.CompactSerialize()
}

// makeExtraKeys creates the unknown and the rotated key once.
func (m *misbehaver) makeExtraKeys() error {
	m.extraKeysOnce.Do(func() {
		newKey := func(name string) (*extraKey, error) {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				return nil, err
			}
			id, err := randomString()
			if err != nil {
				return nil, err
			}
			return &extraKey{kid: "misbehave-" + name + "-" + id[:12], alg: jose.RS256, key: k}, nil
		}
		if m.unknownKey, m.extraKeysErr = newKey("unknown"); m.extraKeysErr != nil {
			return
		}
		m.rotatedKey, m.extraKeysErr = newKey("rotated")
	})
	return m.extraKeysErr
}

// publishRotatedKey adds the rotated key's public JWK to a JWKS response (RFC 7517 §5).
func (m *misbehaver) publishRotatedKey(b *responseBuffer) (bool, error) {
	if err := m.makeExtraKeys(); err != nil {
		return false, err
	}
	jwk, err := json.Marshal(jose.JSONWebKey{Key: &m.rotatedKey.key.PublicKey, KeyID: m.rotatedKey.kid, Algorithm: string(m.rotatedKey.alg), Use: "sig"})
	if err != nil {
		return false, err
	}
	return true, b.editJSON(func(doc map[string]json.RawMessage) error {
		var keys []json.RawMessage
		if err := json.Unmarshal(doc["keys"], &keys); err != nil {
			return fmt.Errorf("JWKS keys: %w", err)
		}
		doc["keys"] = mustJSON(append(keys, jwk))
		return nil
	})
}

// handler serves GET (state) and POST {"case": name} (select a case) on /__test/misbehave.
func (m *misbehaver) handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		switch r.Method {
		case http.MethodGet, http.MethodHead:
		case http.MethodPost:
			var req struct {
				Case *string `json:"case"`
			}
			dec := json.NewDecoder(io.LimitReader(r.Body, maxMisbehaveBody))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&req); err != nil || req.Case == nil {
				writeJSON(w, http.StatusBadRequest, map[string]any{"error": `want a JSON body {"case": "<name>"} ("" to behave)`, "cases": misbehaveCases})
				return
			}
			if err := m.set(*req.Case); err != nil {
				writeJSON(w, http.StatusBadRequest, map[string]any{"error": err.Error(), "cases": misbehaveCases})
				return
			}
		default:
			w.Header().Set("Allow", "GET, HEAD, POST")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		writeJSON(w, http.StatusOK, m.snapshot())
	})
}

// withReset makes POST /__test/reset (served by reset) also end the active case.
func (m *misbehaver) withReset(reset http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			m.reset()
		}
		reset.ServeHTTP(w, r)
	})
}

// crossOriginRedirect serves GET /api/redirect: 307 to /api/echo on http://127.0.0.1 at the port
// the app listener accepted this request on, an origin outside resourceOrigins.
func crossOriginRedirect(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	port := ""
	if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		if tcp, ok := a.(*net.TCPAddr); ok {
			port = strconv.Itoa(tcp.Port)
		}
	}
	if port == "" {
		_, port, _ = net.SplitHostPort(r.Host)
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Location", "http://"+net.JoinHostPort("127.0.0.1", port)+"/api/echo")
	w.WriteHeader(http.StatusTemporaryRedirect)
}

// responseBuffer is an http.ResponseWriter that keeps the whole response for rewriting.
type responseBuffer struct {
	header      http.Header
	status      int
	wroteHeader bool
	body        bytes.Buffer
}

func (b *responseBuffer) Header() http.Header { return b.header }

func (b *responseBuffer) WriteHeader(code int) {
	if !b.wroteHeader {
		b.status, b.wroteHeader = code, true
	}
}

func (b *responseBuffer) Write(p []byte) (int, error) {
	b.WriteHeader(http.StatusOK)
	if b.body.Len()+len(p) > maxMisbehaveBody {
		return 0, errors.New("misbehave: response too large to buffer")
	}
	return b.body.Write(p)
}

// replace swaps status, Content-Type and body, keeping the other headers (CORS ones included).
func (b *responseBuffer) replace(status int, contentType, body string) {
	b.status = status
	b.header.Set("Content-Type", contentType)
	b.body.Reset()
	b.body.WriteString(body)
}

// editJSON decodes the body as a JSON object, lets edit change its members, and re-encodes it.
func (b *responseBuffer) editJSON(edit func(map[string]json.RawMessage) error) error {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(b.body.Bytes(), &doc); err != nil {
		return fmt.Errorf("response body is not a JSON object: %w", err)
	}
	if err := edit(doc); err != nil {
		return err
	}
	out, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	b.body.Reset()
	b.body.Write(out)
	return nil
}

func (b *responseBuffer) writeTo(w http.ResponseWriter) {
	h := w.Header()
	for k, v := range b.header {
		h[k] = v
	}
	h.Del("Content-Length")
	if b.body.Len() > 0 {
		h.Set("Content-Length", strconv.Itoa(b.body.Len()))
	}
	w.WriteHeader(b.status)
	w.Write(b.body.Bytes())
}

// decodeSegment decodes a base64url JSON object segment of a compact JWS, keeping numbers exact.
func decodeSegment(seg string) (map[string]any, error) {
	raw, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v map[string]any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if v == nil {
		return nil, errors.New("not a JSON object")
	}
	return v, nil
}

// numericDate reads a JWT NumericDate decoded with UseNumber (or already an int64).
func numericDate(v any) (int64, error) {
	switch n := v.(type) {
	case json.Number:
		if i, err := n.Int64(); err == nil {
			return i, nil
		}
		f, err := n.Float64()
		return int64(f), err
	case int64:
		return n, nil
	}
	return 0, errors.New("not a number")
}

func randomString() (string, error) {
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

func jsonString(s string) json.RawMessage { return mustJSON(s) }

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // strings and raw messages always marshal
	}
	return b
}
