//go:build js && wasm

package jsbridge

import (
	"context"
	"time"

	"github.com/hack-pad/safejs"
)

// TxStore is core.TxStore on the store the loader hands over: sessionStorage when the client runs
// in the page, IndexedDB when it runs in a worker (workers have no sessionStorage). Only the
// single-use login transaction goes there, never a token. Its methods may return Promises.
type TxStore struct {
	b     *Bridge
	store safejs.Value // {put(key, value), take(key) → string | null}
}

// txStoreTimeout bounds one storage operation (IndexedDB can stall when the disk is busy).
const txStoreTimeout = 10 * time.Second

func (s TxStore) call(method string, args ...any) (safejs.Value, error) {
	v, err := s.store.Call(method, args...)
	if err != nil {
		return safejs.Undefined(), err
	}
	p, err := s.b.promiseCtor.Call("resolve", v)
	if err != nil {
		return safejs.Undefined(), err
	}
	ctx, cancel := context.WithTimeout(context.Background(), txStoreTimeout)
	defer cancel()
	return Await(ctx, p)
}

func (s TxStore) Put(key, value string) error {
	_, err := s.call("put", key, value)
	return err
}

// Take returns and deletes the value in one step: a transaction is used at most once.
func (s TxStore) Take(key string) (string, bool, error) {
	v, err := s.call("take", key)
	if err != nil {
		return "", false, err
	}
	if v.Type() != safejs.TypeString {
		return "", false, nil
	}
	str, err := v.String()
	return str, err == nil, err
}
