//go:build js && wasm

package jsbridge

import (
	"github.com/hack-pad/safejs"
)

// SessionStore keeps the login transaction in window.sessionStorage: it survives the redirect to
// the provider and back, is per tab, and is cleared when the tab closes. Only transactions go
// here, never tokens (see core.Transaction).
type SessionStore struct{ storage safejs.Value }

// NewSessionStore returns a store on globalThis.sessionStorage, or an error where there is none
// (or where reading it throws, as in a sandboxed iframe).
func NewSessionStore() (*SessionStore, error) {
	// Reflect.get, not Get: wasm_exec.js catches exceptions thrown by calls but not by property
	// reads, and the sessionStorage getter throws SecurityError in sandboxed or storage-blocked
	// contexts, which would otherwise kill the runtime.
	reflect, err := safejs.Global().Get("Reflect")
	if err != nil {
		return nil, err
	}
	s, err := reflect.Call("get", safejs.Global(), "sessionStorage")
	if err != nil {
		return nil, err
	}
	if s.IsUndefined() || s.IsNull() {
		return nil, errNoSessionStorage
	}
	return &SessionStore{storage: s}, nil
}

type constError string

func (e constError) Error() string { return string(e) }

const errNoSessionStorage = constError("sessionStorage is not available")

func (s *SessionStore) Put(key, value string) error {
	_, err := s.storage.Call("setItem", key, value)
	return err
}

func (s *SessionStore) Take(key string) (string, bool, error) {
	v, err := s.storage.Call("getItem", key)
	if err != nil {
		return "", false, err
	}
	if v.IsNull() || v.IsUndefined() {
		return "", false, nil
	}
	if _, err := s.storage.Call("removeItem", key); err != nil {
		return "", false, err
	}
	str, err := v.String()
	return str, err == nil, err
}
