package core

import (
	"encoding/json"
	"time"
)

// Transaction is the single-use state of one authorization request. It is the only thing that
// crosses the redirect (in IndexedDB from the worker, sessionStorage in the page): no token ever does. It is keyed by its state and
// deleted when the callback takes it, so a replayed callback finds nothing (RFC 9700 §4.5.3.1).
type Transaction struct {
	State       string `json:"state"`
	Nonce       string `json:"nonce"`
	Verifier    string `json:"code_verifier"`
	RedirectURI string `json:"redirect_uri"`
	ReturnTo    string `json:"return_to"`
	Issuer      string `json:"issuer"`
	Prompt      string `json:"prompt,omitempty"`
	Mode        string `json:"mode,omitempty"` // "", ModePopup or ModeSilent
	// MaxAge is the max_age sent, in seconds; the ID token's auth_time is checked against it.
	MaxAge    *int64    `json:"max_age,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// transactionTTL bounds how long a pending login is honoured.
const transactionTTL = 30 * time.Minute

// TxStore keeps pending transactions across the redirect. Take must return and delete in one
// step; it returns ok=false when there is no entry.
type TxStore interface {
	Put(key, value string) error
	Take(key string) (value string, ok bool, err error)
}

const txKeyPrefix = "pkce-wasm.tx."

func txKey(state string) string { return txKeyPrefix + state }

func (t *Transaction) encode() (string, error) {
	b, err := json.Marshal(t)
	return string(b), err
}

func decodeTransaction(s string) (*Transaction, error) {
	var t Transaction
	if err := decodeJSONObject([]byte(s), &t); err != nil {
		return nil, err
	}
	if t.State == "" || t.Nonce == "" || !ValidVerifier(t.Verifier) || t.RedirectURI == "" {
		return nil, errNotObject
	}
	return &t, nil
}

// MemoryTxStore is a TxStore in memory, for tests and for environments without sessionStorage.
type MemoryTxStore struct{ m map[string]string }

func (s *MemoryTxStore) Put(k, v string) error {
	if s.m == nil {
		s.m = map[string]string{}
	}
	s.m[k] = v
	return nil
}

func (s *MemoryTxStore) Take(k string) (string, bool, error) {
	v, ok := s.m[k]
	delete(s.m, k)
	return v, ok, nil
}

// Len reports how many transactions are pending.
func (s *MemoryTxStore) Len() int { return len(s.m) }
