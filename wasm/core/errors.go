package core

import (
	"errors"
	"fmt"
)

// Every error code pkce-wasm can produce is declared here, and nowhere else. Codes are stable:
// JavaScript callers branch on them (PkceWasmError.code), and the TypeScript union and the README
// table are checked against LibraryCodes and ProviderCodes.
//
// Two kinds of code exist. Library codes say what went wrong on our side of the wire (a bad
// option, a check that failed, a network failure). Provider codes are the OAuth "error" values a
// provider may answer with at the endpoints we call; they are passed through as Error.Code, and
// Error.OAuthError always holds the provider's raw value, so an app can tell the provider's words
// from ours. A well-formed provider code outside that closed list becomes CodeProviderError.
// Two values are both: server_error and login_required (see each).

// Library codes: the client's own.
const (
	// Configuration and arguments.
	CodeInvalidConfig = "invalid_config" // bad options given to create, login or another method

	// Provider metadata and keys.
	CodeDiscoveryFailed = "discovery_failed" // metadata could not be fetched or is invalid (also: missing endpoint)

	// Transport.
	CodeNetworkError = "network_error" // fetch rejected (offline, CORS, DNS, ...)
	CodeServerError  = "server_error"  // 5xx or unexpected status; also RFC 6749 §4.1.2.1 provider code
	CodeTimeout      = "timeout"       // a popup, iframe or other wait ran out of time

	// Authorization response (the callback).
	CodeInvalidCallback = "invalid_callback" // callback URL malformed (no code, duplicated params, tokens in it, ...)
	CodeStateMismatch   = "state_mismatch"   // no pending transaction for this state (forged or replayed)
	CodeIssuerMismatch  = "issuer_mismatch"  // RFC 9207 iss parameter wrong or missing

	// Token and ID token validation.
	CodeInvalidTokenResponse = "invalid_token_response" // token endpoint answer violates RFC 6749 §5.1/§5.2
	CodeInvalidIDToken       = "invalid_id_token"       // ID token fails OIDC Core §3.1.3.7 (or the JWK Set is unusable)
	CodeInvalidUserInfo      = "invalid_userinfo"       // UserInfo response fails OIDC Core §5.3.2

	// Session.
	CodeLoginRequired = "login_required" // no usable tokens: the user must sign in; also OIDC Core §3.1.2.6 provider code

	// Provider answers outside the registered list.
	CodeProviderError = "provider_error" // a well-formed provider error code not in ProviderCodes (raw value in OAuthError)

	// DPoP (RFC 9449).
	CodeDPoPUnsupported  = "dpop_unsupported"   // DPoP asked for, but the browser or provider cannot do it
	CodeInvalidDPoPNonce = "invalid_dpop_nonce" // a DPoP-Nonce header the provider sent is malformed

	// Browser environment (raised by the JavaScript boundary).
	CodePopupBlocked = "popup_blocked" // the browser blocked the login popup (call it from a click handler)
	CodeLoadFailed   = "load_failed"   // the WASM module could not be fetched, compiled or started
	CodeWorkerFailed = "worker_failed" // the worker script is missing, blocked (CSP) or cannot start
	CodeWorkerLost   = "worker_lost"   // the worker died or stopped answering
	CodeStorageError = "storage_error" // the transaction could not be stored or read (sessionStorage)

	// Bugs.
	CodeInternal = "internal_error" // a bug in pkce-wasm: please report it
)

// Provider codes: the OAuth "error" values registered for the endpoints we call, passed through
// as Error.Code. Note that invalid_request is the provider's word only: a bad argument given to
// the library is CodeInvalidConfig.
const (
	// RFC 6749 §4.1.2.1 (authorization endpoint) and §5.2 (token endpoint).
	CodeInvalidRequest          = "invalid_request"
	CodeUnauthorizedClient      = "unauthorized_client"
	CodeAccessDenied            = "access_denied"
	CodeUnsupportedResponseType = "unsupported_response_type"
	CodeInvalidScope            = "invalid_scope"
	CodeTemporarilyUnavailable  = "temporarily_unavailable"
	CodeInvalidClient           = "invalid_client"
	CodeInvalidGrant            = "invalid_grant"
	CodeUnsupportedGrantType    = "unsupported_grant_type"
	// (server_error: CodeServerError above.)

	// OIDC Core §3.1.2.6 (authentication error response). (login_required: CodeLoginRequired.)
	CodeInteractionRequired      = "interaction_required"
	CodeAccountSelectionRequired = "account_selection_required"
	CodeConsentRequired          = "consent_required"
	CodeInvalidRequestURI        = "invalid_request_uri"
	CodeInvalidRequestObject     = "invalid_request_object"
	CodeRequestNotSupported      = "request_not_supported"
	CodeRequestURINotSupported   = "request_uri_not_supported"
	CodeRegistrationNotSupported = "registration_not_supported"

	// RFC 6750 §3.1 (resource servers and UserInfo).
	CodeInvalidToken      = "invalid_token"
	CodeInsufficientScope = "insufficient_scope"

	// RFC 9449 §7.1, §8 (DPoP).
	CodeInvalidDPoPProof = "invalid_dpop_proof"
	CodeUseDPoPNonce     = "use_dpop_nonce"

	// RFC 8707 §2 (resource indicators).
	CodeInvalidTarget = "invalid_target"
)

// LibraryCodes lists every code the library raises itself.
var LibraryCodes = []string{
	CodeInvalidConfig, CodeDiscoveryFailed, CodeNetworkError, CodeServerError, CodeTimeout,
	CodeInvalidCallback, CodeStateMismatch, CodeIssuerMismatch, CodeInvalidTokenResponse,
	CodeInvalidIDToken, CodeInvalidUserInfo, CodeLoginRequired, CodeProviderError,
	CodeDPoPUnsupported, CodeInvalidDPoPNonce, CodePopupBlocked, CodeLoadFailed, CodeWorkerFailed,
	CodeWorkerLost, CodeStorageError, CodeInternal,
}

// ProviderCodes is the closed list of provider error codes passed through as Error.Code.
var ProviderCodes = []string{
	CodeInvalidRequest, CodeUnauthorizedClient, CodeAccessDenied, CodeUnsupportedResponseType,
	CodeInvalidScope, CodeServerError, CodeTemporarilyUnavailable, CodeInvalidClient,
	CodeInvalidGrant, CodeUnsupportedGrantType,
	CodeInteractionRequired, CodeLoginRequired, CodeAccountSelectionRequired, CodeConsentRequired,
	CodeInvalidRequestURI, CodeInvalidRequestObject, CodeRequestNotSupported,
	CodeRequestURINotSupported, CodeRegistrationNotSupported,
	CodeInvalidToken, CodeInsufficientScope,
	CodeInvalidDPoPProof, CodeUseDPoPNonce,
	CodeInvalidTarget,
}

// Error is the one error type the core returns. Code is stable; Description is for people and never
// contains a token or other secret.
type Error struct {
	Code        string
	Description string
	// OAuthError is the provider's raw "error" value when the error is the provider's answer
	// (RFC 6749 §4.1.2.1, §5.2); "" when the library raised it. Code is the same value when it is
	// in ProviderCodes, CodeProviderError otherwise.
	OAuthError string
	// Status is the HTTP status of the provider's answer; 0 when it did not come over HTTP (an
	// authorization response) or the library raised the error.
	Status int
	Err    error // underlying cause, if any; never exposed to JS verbatim when it could hold secrets
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

// providerError turns a provider's error answer into an *Error: Code is raw when raw is a
// registered code (ProviderCodes), CodeProviderError otherwise; OAuthError keeps raw and Status the
// HTTP status (0 for an authorization response). raw must have passed validOAuthErrorCode.
func providerError(raw, description string, status int) *Error {
	e := &Error{Code: CodeProviderError, Description: sanitizeDescription(description), OAuthError: raw, Status: status}
	if contains(ProviderCodes, raw) {
		e.Code = raw
	} else if e.Description == "" {
		e.Description = "the provider answered " + raw
	}
	return e
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
