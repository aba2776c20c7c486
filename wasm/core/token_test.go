package core

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// Secret token values that must never show up in an error message.
const (
	secretAT = "SECRET-ACCESS-TOKEN-3f9a2c"
	secretRT = "SECRET-REFRESH-TOKEN-77b1e0"
)

var tokenNow = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func TestParseTokenResponseValid(t *testing.T) {
	tests := []struct {
		name       string
		body       string
		want       TokenSet
		wantExpiry time.Duration // 0: no expiry
	}{
		{"full", `{"access_token":"` + secretAT + `","token_type":"Bearer","expires_in":3600,"refresh_token":"` + secretRT + `","id_token":"a.b.c","scope":"openid profile"}`,
			TokenSet{AccessToken: secretAT, TokenType: "Bearer", RefreshToken: secretRT, IDToken: "a.b.c", Scope: "openid profile"}, time.Hour},
		{"minimal", `{"access_token":"at","token_type":"Bearer"}`,
			TokenSet{AccessToken: "at", TokenType: "Bearer"}, 0},
		{"bearer lower-case", `{"access_token":"at","token_type":"bearer","expires_in":60}`,
			TokenSet{AccessToken: "at", TokenType: "bearer"}, time.Minute},
		{"BEARER upper-case", `{"access_token":"at","token_type":"BEARER"}`,
			TokenSet{AccessToken: "at", TokenType: "BEARER"}, 0},
		{"expires_in float", `{"access_token":"at","token_type":"Bearer","expires_in":299.5}`,
			TokenSet{AccessToken: "at", TokenType: "Bearer"}, 299500 * time.Millisecond},
		{"expires_in exponent", `{"access_token":"at","token_type":"Bearer","expires_in":3.6e3}`,
			TokenSet{AccessToken: "at", TokenType: "Bearer"}, time.Hour},
		{"nulls are absent", `{"access_token":"at","token_type":"Bearer","expires_in":null,"refresh_token":null,"id_token":null,"scope":null}`,
			TokenSet{AccessToken: "at", TokenType: "Bearer"}, 0},
		{"unknown members ignored", `{"access_token":"at","token_type":"Bearer","x_ext":{"a":[1,2]},"not-before-policy":0}`,
			TokenSet{AccessToken: "at", TokenType: "Bearer"}, 0},
		{"leading whitespace", "\n\t {\"access_token\":\"at\",\"token_type\":\"Bearer\"}\n",
			TokenSet{AccessToken: "at", TokenType: "Bearer"}, 0},
		{"escaped token", `{"access_token":"a\u002fb","token_type":"Bearer"}`,
			TokenSet{AccessToken: "a/b", TokenType: "Bearer"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts, err := ParseTokenResponse(200, []byte(tt.body), tokenNow)
			if err != nil {
				t.Fatalf("ParseTokenResponse: %v", err)
			}
			want := tt.want
			want.IssuedAt = tokenNow
			if tt.wantExpiry > 0 {
				want.Expiry = tokenNow.Add(tt.wantExpiry)
			}
			if *ts != want {
				t.Errorf("got  %+v\nwant %+v", *ts, want)
			}
		})
	}
}

func TestParseTokenResponseErrors(t *testing.T) {
	ok := func(extra string) string {
		return `{"access_token":"` + secretAT + `","token_type":"Bearer","refresh_token":"` + secretRT + `"` + extra + `}`
	}
	tests := []struct {
		name     string
		status   int
		body     string
		wantCode string
		wantDesc string // exact Description when non-empty
	}{
		// RFC 6749 §5.1 violations in a 200 response.
		{"missing access_token", 200, `{"token_type":"Bearer","refresh_token":"` + secretRT + `"}`, CodeInvalidTokenResponse, ""},
		{"access_token number", 200, `{"access_token":12345,"token_type":"Bearer"}`, CodeInvalidTokenResponse, ""},
		{"access_token object", 200, `{"access_token":{"v":"` + secretAT + `"},"token_type":"Bearer"}`, CodeInvalidTokenResponse, ""},
		{"access_token null", 200, `{"access_token":null,"token_type":"Bearer"}`, CodeInvalidTokenResponse, ""},
		{"access_token empty", 200, `{"access_token":"","token_type":"Bearer"}`, CodeInvalidTokenResponse, ""},
		{"empty body", 200, ``, CodeInvalidTokenResponse, ""},
		{"empty object", 200, `{}`, CodeInvalidTokenResponse, ""},
		{"token_type missing", 200, `{"access_token":"` + secretAT + `","refresh_token":"` + secretRT + `"}`, CodeInvalidTokenResponse, ""},
		{"token_type mac", 200, `{"access_token":"` + secretAT + `","token_type":"mac","refresh_token":"` + secretRT + `"}`, CodeInvalidTokenResponse, ""},
		{"token_type DPoP", 200, `{"access_token":"` + secretAT + `","token_type":"DPoP"}`, CodeInvalidTokenResponse, ""},
		{"token_type number", 200, `{"access_token":"` + secretAT + `","token_type":1}`, CodeInvalidTokenResponse, ""},
		{"expires_in string", 200, ok(`,"expires_in":"3600"`), CodeInvalidTokenResponse, ""},
		{"expires_in negative", 200, ok(`,"expires_in":-1`), CodeInvalidTokenResponse, ""},
		{"expires_in bool", 200, ok(`,"expires_in":true`), CodeInvalidTokenResponse, ""},
		{"expires_in huge", 200, ok(`,"expires_in":1e300`), CodeInvalidTokenResponse, ""},
		{"refresh_token number", 200, `{"access_token":"` + secretAT + `","token_type":"Bearer","refresh_token":42}`, CodeInvalidTokenResponse, ""},
		{"refresh_token array", 200, `{"access_token":"` + secretAT + `","token_type":"Bearer","refresh_token":["` + secretRT + `"]}`, CodeInvalidTokenResponse, ""},
		{"id_token number", 200, ok(`,"id_token":1`), CodeInvalidTokenResponse, ""},
		{"scope array", 200, ok(`,"scope":["openid"]`), CodeInvalidTokenResponse, ""},
		{"200 with error member", 200, ok(`,"error":"invalid_grant"`), CodeInvalidTokenResponse, ""},
		{"200 HTML", 200, `<!doctype html><html><body>` + secretAT + `</body></html>`, CodeInvalidTokenResponse, ""},
		{"200 JSON array", 200, `[` + ok("") + `]`, CodeInvalidTokenResponse, ""},
		{"200 JSON string", 200, `"` + secretAT + `"`, CodeInvalidTokenResponse, ""},
		{"truncated JSON", 200, ok("")[:40], CodeInvalidTokenResponse, ""},
		{"trailing garbage", 200, ok("") + `x`, CodeInvalidTokenResponse, ""},
		{"two objects", 200, ok("") + ok(""), CodeInvalidTokenResponse, ""},
		{"trailing close brace", 200, ok("") + `}`, CodeInvalidTokenResponse, ""},
		{"oversized", 200, ok(`,"pad":"` + strings.Repeat("a", 1<<20) + `"`), CodeInvalidTokenResponse, ""},

		// RFC 6749 §5.2 error responses are passed through with their code.
		{"invalid_grant with description", 400, `{"error":"invalid_grant","error_description":"Code expired"}`, CodeInvalidGrant, "Code expired"},
		{"invalid_request", 400, `{"error":"invalid_request"}`, "invalid_request", ""},
		{"invalid_client 401", 401, `{"error":"invalid_client","error_description":"Client authentication failed"}`, "invalid_client", "Client authentication failed"},
		{"invalid_client 400", 400, `{"error":"invalid_client"}`, "invalid_client", ""},
		{"unauthorized_client", 400, `{"error":"unauthorized_client"}`, "unauthorized_client", ""},
		{"unsupported_grant_type", 400, `{"error":"unsupported_grant_type"}`, "unsupported_grant_type", ""},
		{"invalid_scope", 400, `{"error":"invalid_scope"}`, "invalid_scope", ""},
		{"error with uri", 400, `{"error":"invalid_grant","error_uri":"https://op.example.com/docs"}`, CodeInvalidGrant, ""},
		{"error description not a string", 400, `{"error":"invalid_grant","error_description":{"x":1}}`, CodeInvalidGrant, ""},
		{"description control characters", 400, "{\"error\":\"invalid_grant\",\"error_description\":\"bad\\u001b[31m\\r\\nSet-Cookie: x=1\\u0000\\u2028end\"}", CodeInvalidGrant, "bad[31mSet-Cookie: x=1end"},
		{"description too long", 400, `{"error":"invalid_grant","error_description":"` + strings.Repeat("d", 5000) + `"}`, CodeInvalidGrant, strings.Repeat("d", 300)},

		// Malformed error codes must not be passed to callers as a code.
		{"error code with spaces", 400, `{"error":"invalid grant"}`, CodeInvalidTokenResponse, ""},
		{"error code with HTML", 400, `{"error":"<script>alert(1)</script>"}`, CodeInvalidTokenResponse, ""},
		{"error code upper-case", 400, `{"error":"INVALID_GRANT"}`, CodeInvalidTokenResponse, ""},
		{"error code empty", 400, `{"error":""}`, CodeInvalidTokenResponse, ""},
		{"error code too long", 400, `{"error":"` + strings.Repeat("a", 65) + `"}`, CodeInvalidTokenResponse, ""},
		{"error code number", 400, `{"error":400}`, CodeInvalidTokenResponse, ""},
		{"error code object", 400, `{"error":{"code":"invalid_grant"}}`, CodeInvalidTokenResponse, ""},
		{"error code with newline", 400, `{"error":"invalid_grant\n"}`, CodeInvalidTokenResponse, ""},

		// Not OAuth at all.
		{"400 HTML", 400, `<html><body>Bad Request</body></html>`, CodeInvalidTokenResponse, ""},
		{"400 JSON without error", 400, `{"message":"bad"}`, CodeInvalidTokenResponse, ""},
		{"400 empty", 400, ``, CodeInvalidTokenResponse, ""},
		{"302", 302, ``, CodeInvalidTokenResponse, ""},
		{"201 with tokens", 201, ok(""), CodeInvalidTokenResponse, ""},
		{"500 empty", 500, ``, CodeServerError, ""},
		{"500 HTML", 500, `<html><body>Internal Server Error</body></html>`, CodeServerError, ""},
		{"502 HTML", 502, `<html><body>Bad Gateway</body></html>`, CodeServerError, ""},
		{"503 JSON without error", 503, `{"status":"down"}`, CodeServerError, ""},
		{"500 with tokens", 500, ok(""), CodeServerError, ""},
		{"500 truncated JSON", 500, `{"error":"serv`, CodeServerError, ""},
		{"oversized 400", 400, `{"error":"invalid_grant","pad":"` + strings.Repeat("a", 1<<20) + `"}`, CodeInvalidTokenResponse, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts, err := ParseTokenResponse(tt.status, []byte(tt.body), tokenNow)
			if err == nil {
				t.Fatalf("ParseTokenResponse(%d, %.60q) = %+v, want error %q", tt.status, tt.body, *ts, tt.wantCode)
			}
			if ts != nil {
				t.Errorf("token set returned along with the error")
			}
			e := wantCode(t, err, tt.wantCode)
			if tt.wantDesc != "" && e.Description != tt.wantDesc {
				t.Errorf("Description = %q, want %q", e.Description, tt.wantDesc)
			}
			for _, c := range e.Description {
				if c < 0x20 || c > 0x7e {
					t.Errorf("Description %q contains %q", e.Description, c)
					break
				}
			}
			assertNoSecret(t, err, secretAT, secretRT)
		})
	}
}

// assertNoSecret fails when err, its description or anything it wraps mentions one of secrets.
func assertNoSecret(t *testing.T, err error, secrets ...string) {
	t.Helper()
	for e := err; e != nil; e = errors.Unwrap(e) {
		for _, s := range secrets {
			if strings.Contains(e.Error(), s) {
				t.Errorf("error message %q leaks a token value", e.Error())
			}
		}
	}
}

func TestErrorFormatting(t *testing.T) {
	e := &Error{Code: CodeInvalidGrant}
	if e.Error() != "pkce-wasm: invalid_grant" {
		t.Errorf("Error() = %q", e.Error())
	}
	e.Description = "Code expired"
	if e.Error() != "pkce-wasm: invalid_grant: Code expired" {
		t.Errorf("Error() = %q", e.Error())
	}
	cause := errors.New("cause")
	w := &Error{Code: CodeNetworkError, Err: cause}
	if !errors.Is(w, cause) {
		t.Errorf("Unwrap does not reach the cause")
	}
	if ErrorCode(w) != CodeNetworkError || ErrorCode(errors.New("x")) != CodeInternal {
		t.Errorf("ErrorCode mapping wrong")
	}
}
