//go:build js && wasm

package jsbridge

import (
	"errors"

	"github.com/hack-pad/safejs"
	"github.com/pkce-wasm/pkce-wasm/wasm/core"
)

// Rejection is a JS value a Promise was rejected with (or a JS exception), kept so it can be
// passed back to JS as the cause of our error.
type Rejection struct {
	Value   safejs.Value
	Message string
}

func (r *Rejection) Error() string { return r.Message }

func newRejection(v safejs.Value) *Rejection {
	msg := "rejected"
	if m, err := v.Get("message"); err == nil && m.Type() == safejs.TypeString {
		msg, _ = m.String()
	} else if s, err := v.String(); err == nil {
		msg = s
	}
	return &Rejection{Value: v, Message: msg}
}

// toJSError turns a Go error into `new PkceWasmError(code, description)`, the error class the
// loader hands over. Non-core errors become internal_error. A JS cause is attached as `cause`.
func (b *Bridge) toJSError(err error) safejs.Value {
	code, desc := core.ErrorCode(err), err.Error()
	var ce *core.Error
	if errors.As(err, &ce) {
		desc = ce.Description
	}
	v, jsErr := b.errorCtor.New(code, desc)
	if jsErr != nil {
		v, _ = safejs.ValueOf(code + ": " + desc)
		return v
	}
	// The provider's own words, kept apart from our code (core.Error.OAuthError, Status).
	if ce != nil && ce.OAuthError != "" {
		_ = v.Set("oauthError", ce.OAuthError)
	}
	if ce != nil && ce.Status != 0 {
		_ = v.Set("status", ce.Status)
	}
	var rej *Rejection
	if errors.As(err, &rej) {
		_ = v.Set("cause", rej.Value)
	}
	return v
}
