//go:build js && wasm

package jsbridge

import (
	"context"
	"fmt"

	"github.com/hack-pad/safejs"
)

// NewPromise returns a JS Promise settled by work, which runs in a new goroutine. A returned error
// rejects the Promise with a PkceWasmError (see toJSError); a panic is recovered and rejects it
// with code internal_error, so one bad call cannot wedge the runtime.
func (b *Bridge) NewPromise(work func(ctx context.Context) (any, error)) safejs.Value {
	var resolve, reject safejs.Value
	executor, err := safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any {
		if len(args) >= 2 {
			resolve, reject = args[0], args[1]
		}
		return nil
	})
	if err != nil {
		return safejs.Undefined()
	}
	// The executor runs synchronously inside the Promise constructor, so it can go right after.
	p, err := b.promiseCtor.New(executor)
	executor.Release()
	if err != nil || resolve.IsUndefined() {
		return safejs.Undefined()
	}
	go func() {
		defer func() {
			if r := recover(); r != nil {
				_, _ = reject.Invoke(b.toJSError(fmt.Errorf("panic: %v", r)))
			}
		}()
		v, err := work(context.Background())
		if err != nil {
			_, _ = reject.Invoke(b.toJSError(err))
			return
		}
		if _, err := resolve.Invoke(v); err != nil { // v not convertible to JS: settle anyway
			_, _ = reject.Invoke(b.toJSError(err))
		}
	}()
	return p
}

// Await waits for a JS thenable to settle. It must be called from a goroutine, never from a
// FuncOf callback (that would block the event loop the Promise needs to settle).
func Await(ctx context.Context, p safejs.Value) (safejs.Value, error) {
	type result struct {
		v   safejs.Value
		err error
	}
	ch := make(chan result, 1)
	onFulfilled, err := safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any {
		v := safejs.Undefined()
		if len(args) > 0 {
			v = args[0]
		}
		ch <- result{v: v}
		return nil
	})
	if err != nil {
		return safejs.Undefined(), err
	}
	defer onFulfilled.Release()
	onRejected, err := safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any {
		v := safejs.Undefined()
		if len(args) > 0 {
			v = args[0]
		}
		ch <- result{err: newRejection(v)}
		return nil
	})
	if err != nil {
		return safejs.Undefined(), err
	}
	defer onRejected.Release()
	if _, err := p.Call("then", onFulfilled, onRejected); err != nil {
		return safejs.Undefined(), err
	}
	select {
	case r := <-ch:
		return r.v, r.err
	case <-ctx.Done():
		// The callbacks are released on return; a late settlement then calls a released Func,
		// which the runtime reports but survives. Callers abort the underlying work first.
		return safejs.Undefined(), ctx.Err()
	}
}
