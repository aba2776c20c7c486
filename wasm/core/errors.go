package core

import (
	"errors"
	"fmt"
)

// Error codes. They are stable: JavaScript callers branch on them (PkceWasmError.code).
// OAuth error codes returned by a server (RFC 6749 §4.1.2.1, §5.2) are passed through as they are.
const (
	CodeInvalidConfig        = "invalid_config"         // bad options given to create
	CodeDiscoveryFailed      = "discovery_failed"       // metadata could not be fetched or is invalid
	CodeNetworkError         = "network_error"          // fetch rejected (offline, CORS, DNS, ...)
	CodeInvalidCallback      = "invalid_callback"       // callback URL malformed (no code, duplicated params, ...)
	CodeStateMismatch        = "state_mismatch"         // no pending transaction for this state (forged or replayed)
	CodeIssuerMismatch       = "issuer_mismatch"        // RFC 9207 iss parameter wrong or missing
	CodeInvalidTokenResponse = "invalid_token_response" // token endpoint answer violates RFC 6749 §5.1
	CodeServerError          = "server_error"           // 5xx or unexpected status from the server
	CodeInvalidIDToken       = "invalid_id_token"       // ID token fails OIDC Core §3.1.3.7
	CodeInvalidUserInfo      = "invalid_userinfo"       // UserInfo response fails OIDC Core §5.3.2
	CodeLoginRequired        = "login_required"         // no usable tokens: the user must sign in
	CodeInvalidGrant         = "invalid_grant"          // code or refresh token rejected (RFC 6749 §5.2)
	CodeAccessDenied         = "access_denied"          // the user or the server refused (RFC 6749 §4.1.2.1)
	CodeStorageError         = "storage_error"          // the transaction could not be stored or read
	CodeInternal             = "internal_error"         // a bug in pkce-wasm: please report it
)

// Error is the one error type the core returns. Code is stable; Description is for people and never
// contains a token or other secret.
type Error struct {
	Code        string
	Description string
	Err         error // underlying cause, if any; never exposed to JS verbatim when it could hold secrets
}

func (e *Error) Error() string {
	if e.Description == "" {
		return "pkce-wasm: " + e.Code
	}
	return "pkce-wasm: " + e.Code + ": " + e.Description
}

func (e *Error) Unwrap() error { return e.Err }

func newError(code, format string, args ...any) *Error {
	return &Error{Code: code, Description: fmt.Sprintf(format, args...)}
}

func wrapError(code string, err error, format string, args ...any) *Error {
	return &Error{Code: code, Description: fmt.Sprintf(format, args...), Err: err}
}

// ErrorCode returns the stable code of err, or CodeInternal when err is not a *Error.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// validOAuthErrorCode reports whether s is a well-formed OAuth "error" value (RFC 6749 §4.1.2.1,
// §5.2: %x20-21 / %x23-5B / %x5D-7E) short enough to pass to callers. We accept the narrower
// [a-z0-9_] set that every registered code uses, so a hostile server cannot inject text.
func validOAuthErrorCode(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// sanitizeDescription keeps a server-supplied error_description printable and short
// (RFC 6749 §5.2 limits it to %x20-21 / %x23-5B / %x5D-7E).
func sanitizeDescription(s string) string {
	const max = 300
	b := make([]byte, 0, min(len(s), max))
	for i := 0; i < len(s) && len(b) < max; i++ {
		c := s[i]
		if c >= 0x20 && c <= 0x7e {
			b = append(b, c)
		}
	}
	return string(b)
}
