package core

import (
	"encoding/json"
	"math"
	"strings"
	"time"
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

// tokenResponse is the wire form of RFC 6749 §5.1 / §5.2. Fields are raw so that a wrong JSON type
// is reported as such instead of being silently zeroed.
type tokenResponse struct {
	AccessToken      json.RawMessage `json:"access_token"`
	TokenType        json.RawMessage `json:"token_type"`
	ExpiresIn        json.RawMessage `json:"expires_in"`
	RefreshToken     json.RawMessage `json:"refresh_token"`
	IDToken          json.RawMessage `json:"id_token"`
	Scope            json.RawMessage `json:"scope"`
	Error            json.RawMessage `json:"error"`
	ErrorDescription json.RawMessage `json:"error_description"`
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
	var r tokenResponse
	jsonErr := decodeJSONObject(body, &r)
	if status != 200 {
		if jsonErr == nil && len(r.Error) > 0 {
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
	if len(r.Error) > 0 {
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
	if len(r.ExpiresIn) > 0 && string(r.ExpiresIn) != "null" {
		var secs float64
		if err := json.Unmarshal(r.ExpiresIn, &secs); err != nil || secs < 0 || math.IsInf(secs, 0) || secs > 1e9 {
			return nil, newError(CodeInvalidTokenResponse, "expires_in must be a non-negative number")
		}
		if secs > 0 { // 0 carries no usable lifetime: treat it as unknown, as golang.org/x/oauth2 does
			t.Expiry = now.Add(time.Duration(secs * float64(time.Second)))
		}
	}
	for _, f := range []struct {
		raw  json.RawMessage
		dst  *string
		name string
	}{{r.RefreshToken, &t.RefreshToken, "refresh_token"}, {r.IDToken, &t.IDToken, "id_token"}, {r.Scope, &t.Scope, "scope"}} {
		if len(f.raw) == 0 || string(f.raw) == "null" {
			continue
		}
		if *f.dst, ok = jsonString(f.raw); !ok {
			return nil, newError(CodeInvalidTokenResponse, "%s must be a string", f.name)
		}
	}
	return t, nil
}

// jsonString decodes a raw JSON value that must be a string. Absent or null gives ("", false).
func jsonString(raw json.RawMessage) (string, bool) {
	if len(raw) == 0 || raw[0] != '"' {
		return "", false
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false
	}
	return s, true
}
