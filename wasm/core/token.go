package core

import (
	"math"
	"strings"
	"time"

	"github.com/pkce-wasm/pkce-wasm/wasm/internal/strictjson"
)

// TokenSet is what a successful token response gives. It lives only in a Client's memory.
type TokenSet struct {
	AccessToken  string
	TokenType    string
	RefreshToken string
	IDToken      string
	Scope        string
	IssuedAt     time.Time
	Expiry       time.Time // zero when the server sent no expires_in
}

// maxTokenResponseBytes bounds a token response; real ones are 1-10 KB.
const maxTokenResponseBytes = 1 << 20

// tokenResponse is the wire form of RFC 6749 §5.1 / §5.2. Fields are parsed values, not Go
// strings, so that a wrong JSON type is reported as such instead of being silently zeroed.
type tokenResponse struct {
	AccessToken, TokenType, ExpiresIn, RefreshToken, IDToken, Scope, Error, ErrorDescription strictjson.Value
}

// readTokenResponse parses body; names match case-insensitively (see members).
func readTokenResponse(body []byte) (tokenResponse, error) {
	obj, err := parseJSONObject(body)
	if err != nil {
		return tokenResponse{}, err
	}
	m := members{obj: obj}
	return tokenResponse{
		AccessToken: m.get("access_token"), TokenType: m.get("token_type"), ExpiresIn: m.get("expires_in"),
		RefreshToken: m.get("refresh_token"), IDToken: m.get("id_token"), Scope: m.get("scope"),
		Error: m.get("error"), ErrorDescription: m.get("error_description"),
	}, nil
}

// ParseTokenResponse validates a token endpoint response.
//   - 200: RFC 6749 §5.1. A JSON object with a non-empty string access_token, token_type "Bearer"
//     (case-insensitive, §7.1), expires_in a non-negative number when present, and string
//     refresh_token, id_token and scope when present.
//   - any other status with a JSON "error": RFC 6749 §5.2, returned by providerError: Code is the
//     OAuth error code when registered (invalid_grant, invalid_client, ...), else provider_error;
//     OAuthError and Status keep the raw code and the HTTP status.
//   - 5xx: CodeServerError. Anything else, non-JSON or oversized: CodeInvalidTokenResponse.
func ParseTokenResponse(status int, body []byte, now time.Time) (*TokenSet, error) {
	return parseTokenResponse(status, body, now, "Bearer")
}

// parseTokenResponse is ParseTokenResponse with the token_type required: "Bearer", or "DPoP"
// when the request carried a DPoP proof (RFC 9449 §5; a Bearer answer to it is refused).
func parseTokenResponse(status int, body []byte, now time.Time, tokenType string) (*TokenSet, error) {
	if len(body) > maxTokenResponseBytes {
		return nil, newError(CodeInvalidTokenResponse, "token response is larger than %d bytes", maxTokenResponseBytes)
	}
	r, jsonErr := readTokenResponse(body)
	if status != 200 {
		if jsonErr == nil && r.Error.Exists() {
			code, ok := jsonString(r.Error)
			if !ok || !validOAuthErrorCode(code) {
				return nil, newError(CodeInvalidTokenResponse, "token endpoint answered %d with a malformed error", status)
			}
			desc, _ := jsonString(r.ErrorDescription)
			return nil, providerError(code, desc, status)
		}
		if status >= 500 {
			return nil, newError(CodeServerError, "token endpoint answered %d", status)
		}
		return nil, newError(CodeInvalidTokenResponse, "token endpoint answered %d without an OAuth error", status)
	}
	if jsonErr != nil {
		return nil, newError(CodeInvalidTokenResponse, "token response is not a JSON object")
	}
	if r.Error.Exists() {
		return nil, newError(CodeInvalidTokenResponse, "token response has status 200 and an error member")
	}
	t := &TokenSet{IssuedAt: now}
	var ok bool
	if t.AccessToken, ok = jsonString(r.AccessToken); !ok || t.AccessToken == "" {
		return nil, newError(CodeInvalidTokenResponse, "token response lacks a string access_token")
	}
	if t.TokenType, ok = jsonString(r.TokenType); !ok || !strings.EqualFold(t.TokenType, tokenType) {
		return nil, newError(CodeInvalidTokenResponse, "token_type must be %s", tokenType)
	}
	if r.ExpiresIn.Exists() && !r.ExpiresIn.IsNull() {
		secs, ok := r.ExpiresIn.Float64()
		if !ok || secs < 0 || math.IsInf(secs, 0) || secs > 1e9 {
			return nil, newError(CodeInvalidTokenResponse, "expires_in must be a non-negative number")
		}
		if secs > 0 { // 0 carries no usable lifetime: treat it as unknown, as golang.org/x/oauth2 does
			t.Expiry = now.Add(time.Duration(secs * float64(time.Second)))
		}
	}
	for _, f := range []struct {
		raw  strictjson.Value
		dst  *string
		name string
	}{{r.RefreshToken, &t.RefreshToken, "refresh_token"}, {r.IDToken, &t.IDToken, "id_token"}, {r.Scope, &t.Scope, "scope"}} {
		if !f.raw.Exists() || f.raw.IsNull() {
			continue
		}
		if *f.dst, ok = jsonString(f.raw); !ok {
			return nil, newError(CodeInvalidTokenResponse, "%s must be a string", f.name)
		}
	}
	return t, nil
}
