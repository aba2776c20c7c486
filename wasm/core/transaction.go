package core

import (
	"time"

	"github.com/pkce-wasm/pkce-wasm/wasm/internal/strictjson"
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

// encode writes t as the JSON object its struct tags describe, members in field order, empty
// optional ones left out; created_at is RFC 3339 with nanoseconds, as time.Time's MarshalJSON
// writes it.
func (t *Transaction) encode() (string, error) {
	if y := t.CreatedAt.Year(); y < 0 || y > 9999 {
		return "", constError("transaction time outside of years 0-9999")
	}
	var w strictjson.ObjectWriter
	w.String("state", t.State)
	w.String("nonce", t.Nonce)
	w.String("code_verifier", t.Verifier)
	w.String("redirect_uri", t.RedirectURI)
	w.String("return_to", t.ReturnTo)
	w.String("issuer", t.Issuer)
	if t.Prompt != "" {
		w.String("prompt", t.Prompt)
	}
	if t.Mode != "" {
		w.String("mode", t.Mode)
	}
	if t.MaxAge != nil {
		w.Int("max_age", *t.MaxAge)
	}
	w.String("created_at", t.CreatedAt.Format(time.RFC3339Nano))
	return string(w.Bytes()), nil
}

func decodeTransaction(s string) (*Transaction, error) {
	obj, err := parseJSONObject([]byte(s))
	if err != nil {
		return nil, err
	}
	m := members{obj: obj}
	t := Transaction{State: m.str("state"), Nonce: m.str("nonce"), Verifier: m.str("code_verifier"),
		RedirectURI: m.str("redirect_uri"), ReturnTo: m.str("return_to"), Issuer: m.str("issuer"),
		Prompt: m.str("prompt"), Mode: m.str("mode")}
	if v := m.get("max_age"); v.Exists() && !v.IsNull() {
		n, ok := v.Int64()
		if !ok {
			return nil, errMemberType
		}
		t.MaxAge = &n
	}
	if v := m.get("created_at"); v.Exists() && !v.IsNull() {
		ts, ok := v.Str()
		if !ok {
			return nil, errMemberType
		}
		if t.CreatedAt, err = time.Parse(time.RFC3339, ts); err != nil {
			return nil, err
		}
	}
	if m.err != nil {
		return nil, m.err
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
